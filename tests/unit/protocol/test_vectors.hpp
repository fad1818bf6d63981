#pragma once
// The organisation of the protocol spec's test vectors (section 8), for the codec tests.
#include <gtest/gtest.h>

#include "support/shell_harness.hpp"

namespace autodisc::testing {

// The organisation of the spec's test vectors, made with cmdlets; the GUIDs are then set to the
// vectors' values (the shell makes random ones).
class TestVectorOrg : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(h.open(), "");
    for (auto line : {
             "Set-OrganizationConfig -Name Contoso",
             "New-AcceptedDomain -Name contoso.com -DomainName contoso.com",
             "New-ExchangeServer -Name EX1 -Fqdn ex1.int.contoso.com -AdminDisplayVersion 'Version 15.1 (Build 2507.6)'",
             "New-MailboxDatabase -Name DB1 -Server EX1",
             "New-Mailbox -Name 'Alice Example' -Alias alice",
             "New-MailUser -Name Bob -ExternalEmailAddress bob@fabrikam.com -PrimarySmtpAddress bob@contoso.com",
             "Get-OwaVirtualDirectory | Set-OwaVirtualDirectory -InternalUrl https://mail.int.contoso.com/owa -ExternalUrl https://mail.contoso.com/owa",
             "Get-WebServicesVirtualDirectory | Set-WebServicesVirtualDirectory -InternalUrl https://mail.int.contoso.com/EWS/Exchange.asmx -ExternalUrl https://mail.contoso.com/EWS/Exchange.asmx",
             "Get-EcpVirtualDirectory | Set-EcpVirtualDirectory -InternalUrl https://mail.int.contoso.com/ecp -ExternalUrl https://mail.contoso.com/ecp",
             "Get-OabVirtualDirectory | Set-OabVirtualDirectory -InternalUrl https://mail.int.contoso.com/OAB -ExternalUrl https://mail.contoso.com/OAB",
             "Get-ActiveSyncVirtualDirectory | Set-ActiveSyncVirtualDirectory -ExternalUrl https://mail.contoso.com/Microsoft-Server-ActiveSync",
             "Get-OutlookAnywhere | Set-OutlookAnywhere -ExternalHostname mail.contoso.com -ExternalClientAuthenticationMethod Basic",
             "Set-OutlookProvider EXPR -CertPrincipalName None",
         }) {
      auto r = h.run(line);
      ASSERT_TRUE(r.ok) << line << ": " << r.error;
    }
    snapshot();
  }
  // The organisation as the shell left it, with the vectors' GUIDs.
  void snapshot() {
    org = h.org();
    auto c = org.config();
    c.guid = *parseGuid("9b0e4a7c-6f1d-4d2a-9a51-3c1f2b7e8d10");
    c.offlineAddressBookGuid = *parseGuid("5d2f6a1c-3b4e-4f70-9a8b-1c2d3e4f5a6b");
    org.put(c);
    model::Recipient alice = *org.recipientByAlias("alice");
    alice.exchangeGuid = *parseGuid("0b8a3f1e-2c4d-4e5f-8a9b-0c1d2e3f4a5b");
    org.put(alice);
  }
  autodisc::testing::ShellHarness h;
  model::Organization org;
};

}  // namespace autodisc::testing
