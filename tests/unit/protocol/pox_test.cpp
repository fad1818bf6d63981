// The POX codec and resolve() against the protocol spec's test vectors TV-1 to TV-4, byte for byte.
#include "protocol/pox.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_vectors.hpp"

using namespace autodisc;
using autodiscover::Query;
using autodiscover::Schema;
using protocol::PoxError;
using ::testing::HasSubstr;

namespace {

const protocol::ErrorStamp kStamp{"10:15:42.1234567", "2417623398"};

std::string outlookRequest(std::string_view address, std::string_view schema = protocol::kOutlookResponseNs) {
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
         "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">\n"
         "  <Request>\n    <EMailAddress>" + std::string(address) + "</EMailAddress>\n"
         "    <AcceptableResponseSchema>" + std::string(schema) + "</AcceptableResponseSchema>\n"
         "  </Request>\n</Autodiscover>\n";
}

std::string mobileRequest(std::string_view address) {
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
         "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006\">\n"
         "  <Request>\n    <EMailAddress>" + std::string(address) + "</EMailAddress>\n"
         "    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006</AcceptableResponseSchema>\n"
         "  </Request>\n</Autodiscover>\n";
}

class TestVectors : public autodisc::testing::TestVectorOrg {
 protected:
  std::string answer(const std::string& body, int mapiHttp = 0, bool exHttp = false) {
    auto req = protocol::parsePoxRequest(body);
    req.query.mapiHttpVersion = mapiHttp;
    req.query.canHandleExHttp = exHttp;
    if (req.error != PoxError::None) return protocol::renderPoxError(req.error, kStamp);
    return protocol::renderPox(autodiscover::resolve(org, req.query), req.query.schema, kStamp);
  }
};

// TV-1, without the <AD> element: autodisc does not model directory servers yet.
TEST_F(TestVectors, TV1OutlookSettings) {
  EXPECT_EQ(answer(outlookRequest("alice@contoso.com")), R"(<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <User>
      <DisplayName>Alice Example</DisplayName>
      <LegacyDN>/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=alice</LegacyDN>
      <AutoDiscoverSMTPAddress>alice@contoso.com</AutoDiscoverSMTPAddress>
      <DeploymentId>9b0e4a7c-6f1d-4d2a-9a51-3c1f2b7e8d10</DeploymentId>
    </User>
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <MicrosoftOnline>False</MicrosoftOnline>
      <Protocol>
        <Type>EXCH</Type>
        <Server>0b8a3f1e-2c4d-4e5f-8a9b-0c1d2e3f4a5b@contoso.com</Server>
        <ServerDN>/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=0b8a3f1e-2c4d-4e5f-8a9b-0c1d2e3f4a5b@contoso.com</ServerDN>
        <ServerVersion>73C189CB</ServerVersion>
        <MdbDN>/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=0b8a3f1e-2c4d-4e5f-8a9b-0c1d2e3f4a5b@contoso.com/cn=Microsoft Private MDB</MdbDN>
        <ASUrl>https://mail.int.contoso.com/EWS/Exchange.asmx</ASUrl>
        <EwsUrl>https://mail.int.contoso.com/EWS/Exchange.asmx</EwsUrl>
        <EmwsUrl>https://mail.int.contoso.com/EWS/Exchange.asmx</EmwsUrl>
        <EcpUrl>https://mail.int.contoso.com/ecp/</EcpUrl>
        <EcpUrl-photo>PersonalSettings/EditAccount.aspx?rfr=olk&amp;chgPhoto=1&amp;exsvurl=1</EcpUrl-photo>
        <OOFUrl>https://mail.int.contoso.com/EWS/Exchange.asmx</OOFUrl>
        <OABUrl>https://mail.int.contoso.com/OAB/5d2f6a1c-3b4e-4f70-9a8b-1c2d3e4f5a6b/</OABUrl>
        <ServerExclusiveConnect>off</ServerExclusiveConnect>
      </Protocol>
      <Protocol>
        <Type>EXPR</Type>
        <Server>mail.contoso.com</Server>
        <SSL>On</SSL>
        <AuthPackage>Basic</AuthPackage>
        <ASUrl>https://mail.contoso.com/EWS/Exchange.asmx</ASUrl>
        <EwsUrl>https://mail.contoso.com/EWS/Exchange.asmx</EwsUrl>
        <EmwsUrl>https://mail.contoso.com/EWS/Exchange.asmx</EmwsUrl>
        <EcpUrl>https://mail.contoso.com/ecp/</EcpUrl>
        <OOFUrl>https://mail.contoso.com/EWS/Exchange.asmx</OOFUrl>
        <OABUrl>https://mail.contoso.com/OAB/5d2f6a1c-3b4e-4f70-9a8b-1c2d3e4f5a6b/</OABUrl>
        <ServerExclusiveConnect>on</ServerExclusiveConnect>
        <CertPrincipalName>None</CertPrincipalName>
        <EwsPartnerUrl>https://mail.contoso.com/EWS/Exchange.asmx</EwsPartnerUrl>
      </Protocol>
      <Protocol>
        <Type>WEB</Type>
        <Internal>
          <OWAUrl AuthenticationMethod="Basic, Fba">https://mail.int.contoso.com/owa/</OWAUrl>
          <Protocol>
            <Type>EXCH</Type>
            <ASUrl>https://mail.int.contoso.com/EWS/Exchange.asmx</ASUrl>
          </Protocol>
        </Internal>
        <External>
          <OWAUrl AuthenticationMethod="Fba">https://mail.contoso.com/owa/</OWAUrl>
          <Protocol>
            <Type>EXPR</Type>
            <ASUrl>https://mail.contoso.com/EWS/Exchange.asmx</ASUrl>
          </Protocol>
        </External>
      </Protocol>
    </Account>
  </Response>
</Autodiscover>
)");
}

TEST_F(TestVectors, TV1ByProxyAddressAnyCaseAndByLegacyDn) {
  auto byPrimary = answer(outlookRequest("alice@contoso.com"));
  EXPECT_EQ(answer(outlookRequest("ALICE@Contoso.COM")), byPrimary);
  std::string byDn = outlookRequest("nobody@contoso.com");
  byDn.replace(byDn.find("<EMailAddress>"), 0,
               "<LegacyDN>/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=alice</LegacyDN>");
  EXPECT_EQ(answer(byDn), byPrimary) << "LegacyDN wins over EMailAddress";
}

TEST_F(TestVectors, TV2RedirectAddrForAMailUser) {
  EXPECT_EQ(answer(outlookRequest("bob@contoso.com")), R"(<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account>
      <Action>redirectAddr</Action>
      <RedirectAddr>bob@fabrikam.com</RedirectAddr>
    </Account>
  </Response>
</Autodiscover>
)");
}

TEST_F(TestVectors, TV3MobileSyncSettingsRedirectAndError) {
  EXPECT_EQ(answer(mobileRequest("alice@contoso.com")), R"(<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006">
    <Culture>en:us</Culture>
    <User>
      <DisplayName>Alice Example</DisplayName>
      <EMailAddress>alice@contoso.com</EMailAddress>
    </User>
    <Action>
      <Settings>
        <Server>
          <Type>MobileSync</Type>
          <Url>https://mail.contoso.com/Microsoft-Server-ActiveSync</Url>
          <Name>https://mail.contoso.com/Microsoft-Server-ActiveSync</Name>
        </Server>
      </Settings>
    </Action>
  </Response>
</Autodiscover>
)");
  auto unknown = answer(mobileRequest("nobody@contoso.com"));
  EXPECT_THAT(unknown, HasSubstr("<EMailAddress>nobody@contoso.com</EMailAddress>"));
  EXPECT_THAT(unknown, HasSubstr("<Error>\n        <Status>2</Status>"));
  EXPECT_THAT(unknown, HasSubstr("<DebugData />"));
  EXPECT_THAT(answer(mobileRequest("bob@contoso.com")), HasSubstr("<Action>\n      <Redirect>bob@fabrikam.com</Redirect>\n    </Action>"));
}

TEST_F(TestVectors, TV4ProtocolErrors) {
  const std::string invalid = R"(<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response>
    <Error Time="10:15:42.1234567" Id="2417623398">
      <ErrorCode>600</ErrorCode>
      <Message>Invalid Request</Message>
      <DebugData />
    </Error>
  </Response>
</Autodiscover>
)";
  EXPECT_EQ(answer("<foo/>"), invalid);
  EXPECT_EQ(answer(""), invalid);
  EXPECT_EQ(answer("not xml at all"), invalid);
  std::string notFound = invalid;
  notFound.replace(notFound.find("600"), 3, "500");
  notFound.replace(notFound.find("Invalid Request"), 15, "The email address can't be found.");
  EXPECT_EQ(answer(outlookRequest("nobody@contoso.com")), notFound);
  EXPECT_EQ(answer(outlookRequest("alice@nowhere.example")), notFound);
  std::string noProvider = invalid;
  noProvider.replace(noProvider.find("600"), 3, "601");
  noProvider.replace(noProvider.find("Invalid Request"), 15, "Provider is not available");
  EXPECT_EQ(answer(outlookRequest("alice@contoso.com", "http://example.invalid/x")), noProvider);
}

TEST(PoxRequest, RejectsDtdsAndEntitiesWithoutReadingAnything) {
  auto xxe = protocol::parsePoxRequest(
      "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
      "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">"
      "<Request><EMailAddress>&x;</EMailAddress><AcceptableResponseSchema>"
      "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>"
      "</Request></Autodiscover>");
  EXPECT_EQ(xxe.error, PoxError::InvalidRequest);
}

TEST(PoxRequest, ToleratesPrefixesHttpsNamespacesAndTwoRequestsAreInvalid) {
  auto prefixed = protocol::parsePoxRequest(
      "<a:Autodiscover xmlns:a=\"https://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">"
      "<a:Request><a:EMailAddress> alice@contoso.com </a:EMailAddress><a:AcceptableResponseSchema>"
      "https://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</a:AcceptableResponseSchema>"
      "</a:Request></a:Autodiscover>");
  EXPECT_EQ(prefixed.error, PoxError::None);
  EXPECT_EQ(prefixed.query.emailAddress, "alice@contoso.com");
  EXPECT_EQ(prefixed.query.schema, Schema::Outlook);
  auto two = protocol::parsePoxRequest(
      "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006\">"
      "<Request><EMailAddress>a@b.c</EMailAddress></Request><Request><EMailAddress>a@b.c</EMailAddress></Request>"
      "</Autodiscover>");
  EXPECT_EQ(two.error, PoxError::InvalidRequest);
}

TEST_F(TestVectors, ExternalClientsAreNotToldInternalNames) {
  auto req = protocol::parsePoxRequest(outlookRequest("alice@contoso.com"));
  req.query.internalClient = false;
  auto body = protocol::renderPox(autodiscover::resolve(org, req.query), Schema::Outlook, kStamp);
  EXPECT_THAT(body, ::testing::Not(HasSubstr("mail.int.contoso.com")));
  EXPECT_THAT(body, ::testing::Not(HasSubstr("<Type>EXCH</Type>\n        <Server>")));
  EXPECT_THAT(body, HasSubstr("<Type>EXPR</Type>"));
}

TEST_F(TestVectors, Exchange2010ServersGiveTheCasArrayAsServer) {
  ASSERT_TRUE(h.run("New-ExchangeServer -Name EX14 -Fqdn ex14.int.contoso.com -AdminDisplayVersion 'Version 14.3 (Build 123.4)'").ok);
  ASSERT_TRUE(h.run("New-ClientAccessArray -Name CAS_Array -Fqdn outlook.int.contoso.com").ok);
  ASSERT_TRUE(h.run("New-MailboxDatabase -Name DB14 -Server EX14").ok);
  ASSERT_TRUE(h.run("New-Mailbox -Name Carol -Database DB14").ok);
  auto req = protocol::parsePoxRequest(outlookRequest("carol@contoso.com"));
  auto a = autodiscover::resolve(h.org(), req.query);
  ASSERT_TRUE(a.exch);
  EXPECT_EQ(a.exch->server, "outlook.int.contoso.com");
  EXPECT_THAT(a.exch->serverDn, ::testing::EndsWith("/cn=Configuration/cn=Servers/cn=CAS_Array"));
  EXPECT_THAT(a.exch->mdbDn, ::testing::EndsWith("/cn=Servers/cn=EX14/cn=Microsoft Private MDB"));
  EXPECT_EQ(a.exch->serverVersion, "7383807B");  // 14.3.123
  EXPECT_EQ(a.exch->ewsUrl, "https://ex14.int.contoso.com/EWS/Exchange.asmx");
}

// TV-1b: X-MapiHttpCapability with MAPI over HTTP enabled: a mapiHttp block first, no EXCH, no EXPR.
TEST_F(TestVectors, TV1bMapiHttpReplacesExchAndExpr) {
  ASSERT_TRUE(h.run("Get-MapiVirtualDirectory | Set-MapiVirtualDirectory -InternalUrl https://mail.int.contoso.com/mapi -ExternalUrl https://mail.contoso.com/mapi").ok);
  snapshot();
  EXPECT_EQ(answer(outlookRequest("alice@contoso.com"), 1).find("mapiHttp"), std::string::npos)
      << "not offered while the organisation has MapiHttpEnabled $false";
  ASSERT_TRUE(h.run("Set-OrganizationConfig -MapiHttpEnabled $true").ok);
  snapshot();
  auto body = answer(outlookRequest("alice@contoso.com"), 3);
  const std::string id = "?MailboxId=0b8a3f1e-2c4d-4e5f-8a9b-0c1d2e3f4a5b@contoso.com";
  EXPECT_NE(body.find(R"(      <MicrosoftOnline>False</MicrosoftOnline>
      <Protocol Type="mapiHttp" Version="1">
        <MailStore>
          <InternalUrl>https://mail.int.contoso.com/mapi/emsmdb/)" + id + R"(</InternalUrl>
          <ExternalUrl>https://mail.contoso.com/mapi/emsmdb/)" + id + R"(</ExternalUrl>
        </MailStore>
        <AddressBook>
          <InternalUrl>https://mail.int.contoso.com/mapi/nspi/)" + id + R"(</InternalUrl>
          <ExternalUrl>https://mail.contoso.com/mapi/nspi/)" + id + R"(</ExternalUrl>
        </AddressBook>
      </Protocol>
      <Protocol>
        <Type>WEB</Type>)"),
            std::string::npos)
      << body;
  EXPECT_EQ(body.find("<Type>EXCH</Type>\n        <Server>"), std::string::npos);
  EXPECT_EQ(body.find("<Type>EXPR</Type>\n        <Server>"), std::string::npos);
  EXPECT_EQ(answer(outlookRequest("alice@contoso.com"), 0).find("mapiHttp"), std::string::npos);
}

// TV-1c: X-ClientCanHandle: ExHttpInfo: two EXHTTP blocks after WEB, the internal one first; none otherwise.
TEST_F(TestVectors, TV1cExHttpBlocksOnlyWhenAskedFor) {
  ASSERT_TRUE(h.run("Get-OutlookAnywhere | Set-OutlookAnywhere -InternalHostname mail.int.contoso.com -InternalClientsRequireSsl $true").ok);
  snapshot();
  EXPECT_EQ(answer(outlookRequest("alice@contoso.com")).find("EXHTTP"), std::string::npos);
  auto body = answer(outlookRequest("alice@contoso.com"), 0, true);
  auto web = body.find("<Type>WEB</Type>");
  auto first = body.find("<Type>EXHTTP</Type>\n        <Server>mail.int.contoso.com</Server>\n        <SSL>On</SSL>\n        <AuthPackage>Ntlm</AuthPackage>");
  auto second = body.find("<Type>EXHTTP</Type>\n        <Server>mail.contoso.com</Server>\n        <SSL>On</SSL>\n        <AuthPackage>Basic</AuthPackage>");
  ASSERT_NE(first, std::string::npos) << body;
  ASSERT_NE(second, std::string::npos) << body;
  EXPECT_LT(web, first);
  EXPECT_LT(first, second);
  EXPECT_NE(body.find("<EwsUrl>https://mail.int.contoso.com/EWS/Exchange.asmx</EwsUrl>", first), std::string::npos);
}

// What the service writes, a client reads back: the blocks, the redirects and the errors.
TEST_F(TestVectors, AClientReadsTheAnswersBack) {
  auto settings = protocol::parsePoxResponse(answer(outlookRequest("alice@contoso.com")));
  EXPECT_EQ(settings.kind, protocol::PoxResponse::Kind::Settings);
  EXPECT_EQ(settings.smtpAddress, "alice@contoso.com");
  ASSERT_GE(settings.blocks.size(), 3u);
  EXPECT_EQ(settings.blocks[0].type, "EXCH");
  EXPECT_EQ(settings.blocks[1].type, "EXPR");
  bool ews = false;
  for (auto& [k, v] : settings.blocks[1].values) ews |= k == "EwsUrl" && v == "https://mail.contoso.com/EWS/Exchange.asmx";
  EXPECT_TRUE(ews);
  auto redirect = protocol::parsePoxResponse(answer(outlookRequest("bob@contoso.com")));
  EXPECT_EQ(redirect.kind, protocol::PoxResponse::Kind::RedirectAddr);
  EXPECT_EQ(redirect.target, "bob@fabrikam.com");
  auto error = protocol::parsePoxResponse(answer(outlookRequest("nobody@contoso.com")));
  EXPECT_EQ(error.kind, protocol::PoxResponse::Kind::Error);
  EXPECT_EQ(error.errorCode, "500");
  auto mobile = protocol::parsePoxResponse(answer(mobileRequest("alice@contoso.com")));
  EXPECT_EQ(mobile.kind, protocol::PoxResponse::Kind::Settings);
  ASSERT_EQ(mobile.blocks.size(), 1u);
  EXPECT_EQ(mobile.blocks[0].type, "MobileSync");
  EXPECT_EQ(protocol::parsePoxResponse("<html>no</html>").kind, protocol::PoxResponse::Kind::NotAutodiscover);
}

}  // namespace
