// The directory layout without a directory: DNs as Exchange lays them out, escaping, and an
// organisation written to entries and read back from them (in any order) unchanged.
#include "store/ldap_layout.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <regex>

#include "support/shell_harness.hpp"

namespace autodisc::store::ldap {
namespace {

using namespace autodisc::model;
using autodisc::testing::ShellHarness;

TEST(LdapLayout, EscapesAndSplitsDns) {
  EXPECT_EQ(escapeRdnValue("Smith, John"), "Smith\\, John");
  EXPECT_EQ(escapeRdnValue(" #lead"), "\\ #lead");
  EXPECT_EQ(escapeRdnValue("a=b+c"), "a\\=b\\+c");
  EXPECT_EQ(parentDn("CN=Smith\\, John,CN=Users,DC=x"), "CN=Users,DC=x");
  EXPECT_EQ(parentDn("DC=x"), "");
  EXPECT_EQ(normalizeDn("CN=EX01, cn = Servers ,DC=E2010"), "cn=ex01,cn=servers,dc=e2010");
}

TEST(LdapLayout, PutsObjectsWhereExchangePutsThem) {
  ShellHarness h;
  ASSERT_EQ(h.open(), "");
  ASSERT_TRUE(h.run("Set-OrganizationConfig -Name E2010").ok);
  ASSERT_TRUE(h.run("New-ExchangeServer -Name EX01 -Fqdn ex01.e2010.local").ok);
  Layout l("DC=e2010,DC=test");
  auto& org = h.org();
  Id server = org.all<ExchangeServer>().begin()->first;
  auto entries = l.entriesOf(org, {Kind::ExchangeServer, server});
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].dn,
            "CN=EX01,CN=Servers,CN=Exchange Administrative Group (FYDIBOHF23SPDLT),CN=Administrative Groups,CN=E2010,"
            "CN=Microsoft Exchange,CN=Services,CN=Configuration,DC=e2010,DC=test");
  EXPECT_EQ(entries[0].first("networkAddress"), "ncacn_ip_tcp:ex01.e2010.local");
  EXPECT_EQ(entries[0].first("msExchCurrentServerRoles"), "6");  // Mailbox 2 + ClientAccess 4
  // The SCP of spec 7.1, under the server.
  EXPECT_EQ(entries[1].dn, "CN=EX01,CN=Autodiscover,CN=Protocols," + entries[0].dn);
  EXPECT_TRUE(entries[1].hasClass("serviceConnectionPoint"));
  EXPECT_EQ(entries[1].first("serviceClassName"), "ms-Exchange-AutoDiscover-Service");
  EXPECT_EQ(entries[1].first("serviceBindingInformation"), "https://ex01.e2010.local/Autodiscover/Autodiscover.xml");
  auto* kw = entries[1].get("keywords");
  ASSERT_NE(kw, nullptr);
  EXPECT_EQ(*kw, (std::vector<std::string>{"77378F46-2C66-4aa9-A6A6-3E7A48B19596", "Site=Default-First-Site-Name"}));
  auto above = l.containersAbove(entries[1].dn);
  EXPECT_EQ(above.front(), "CN=Configuration,DC=e2010,DC=test");
  EXPECT_EQ(above.back(), "CN=Autodiscover,CN=Protocols," + entries[0].dn);
}

// Every object of the seed organisation, through entries (shuffled) and back.
TEST(LdapLayout, AnOrganisationSurvivesEntriesAndBack) {
  ShellHarness h;
  ASSERT_EQ(h.open(), "");
  for (auto line : {"Set-OrganizationConfig -Name E2010 -MapiHttpEnabled $true",
                    "New-AcceptedDomain -Name e2010.com -DomainName e2010.com",
                    "New-AcceptedDomain -Name hosted -DomainName hosted.example -DomainType InternalRelay "
                    "-AutodiscoverRedirectUrl https://h.example/autodiscover/autodiscover.xml",
                    "New-ADReplicationSite -Name Paris", "New-ADReplicationSubnet -Name 10.1.0.0/16 -Site Paris",
                    "New-ExchangeServer -Name X2007SRV -Fqdn x2007srv.e2010.local -ServerRole Mailbox,ClientAccess,HubTransport "
                    "-AdminDisplayVersion 'Version 8.3 (Build 83.6)' -Site Default-First-Site-Name",
                    "New-ExchangeServer -Name 2010CAS -Fqdn 2010cas.e2010.local -ServerRole ClientAccess -Site Paris",
                    "Set-ClientAccessServer 2010CAS -AutoDiscoverSiteScope Paris,Default-First-Site-Name",
                    "Get-OwaVirtualDirectory | Set-OwaVirtualDirectory -ExternalUrl https://mail.e2010.com/owa "
                    "-ExternalAuthenticationMethods Basic,Fba",
                    "Get-OutlookAnywhere | Set-OutlookAnywhere -ExternalHostname mail.e2010.com",
                    "New-ClientAccessArray -Name CAS_Array -Fqdn outlook.e2010.local -Site Paris",
                    "New-MailboxDatabase -Name 'Mailbox Database 01' -Server X2007SRV",
                    "Set-MailboxDatabase 'Mailbox Database 01' -RpcClientAccessServer outlook.e2010.local",
                    "New-Mailbox -Name 'Smith, John' -Alias john -Password (ConvertTo-SecureString -String 'x-Secret-1' -AsPlainText -Force)",
                    "New-MailUser -Name Bob -ExternalEmailAddress bob@fabrikam.com -PrimarySmtpAddress bob@e2010.com",
                    "Set-OutlookProvider EXPR -CertPrincipalName msstd:mail.e2010.com -TTL 2"}) {
    auto r = h.run(line);
    ASSERT_TRUE(r.ok) << line << ": " << r.error;
  }
  const Organization& org = h.org();
  Layout l("DC=e2010,DC=test");
  std::vector<Entry> entries;
  auto addAll = [&](Kind k, Id id) {
    for (auto& e : l.entriesOf(org, {k, id}))
      if (!e.attrs.empty()) entries.push_back(e);
  };
  addAll(Kind::OrganizationConfig, 0);
  for (auto& [id, o] : org.all<AcceptedDomain>()) addAll(Kind::AcceptedDomain, id);
  for (auto& [id, o] : org.all<AdSite>()) addAll(Kind::AdSite, id);
  for (auto& [id, o] : org.all<AdSubnet>()) addAll(Kind::AdSubnet, id);
  for (auto& [id, o] : org.all<ExchangeServer>()) addAll(Kind::ExchangeServer, id);
  for (auto& [id, o] : org.all<VirtualDirectory>()) addAll(Kind::VirtualDirectory, id);
  for (auto& [id, o] : org.all<OutlookAnywhere>()) addAll(Kind::OutlookAnywhere, id);
  for (auto& [id, o] : org.all<ClientAccessArray>()) addAll(Kind::ClientAccessArray, id);
  for (auto& [id, o] : org.all<MailboxDatabase>()) addAll(Kind::MailboxDatabase, id);
  for (auto& [id, o] : org.all<OutlookProvider>()) addAll(Kind::OutlookProvider, id);
  org.forEachRecipient([&](const Recipient& r) { addAll(Kind::Recipient, r.id); });
  std::shuffle(entries.begin(), entries.end(), std::mt19937(7));
  auto built = l.build(entries);
  EXPECT_TRUE(built.skipped.empty());
  // Ids are the directory's order, not the shell's: compare without them.
  auto withoutIds = [](const Organization& o) {
    std::string text = autodisc::testing::dumpOrganization(o);
    text = std::regex_replace(text, std::regex("#[0-9]+:"), ":");
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    std::sort(lines.begin(), lines.end());
    return lines;
  };
  EXPECT_EQ(withoutIds(built.org), withoutIds(org));
  EXPECT_EQ(built.dns.size(), entries.size() - org.all<ExchangeServer>().size());  // SCPs are part of their servers
  auto* john = built.org.recipientByAddress("john@e2010.com");
  ASSERT_NE(john, nullptr);
  EXPECT_EQ(built.dns.at({Kind::Recipient, john->id}), "CN=Smith\\, John,CN=Users,DC=e2010,DC=test");
}

}  // namespace
}  // namespace autodisc::store::ldap
