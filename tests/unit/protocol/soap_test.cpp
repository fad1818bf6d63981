// SOAP Autodiscover (protocol spec section 4) against TV-5, byte for byte, and the error codes,
// settings and faults around it.
#include "protocol/soap.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "protocol/pox.hpp"
#include "test_vectors.hpp"

using namespace autodisc;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

std::string envelope(std::string_view operation, std::string_view request, std::string_view version = "Exchange2013") {
  std::string header = "  <soap:Header>\n";
  if (!version.empty())
    header += "    <a:RequestedServerVersion>" + std::string(version) + "</a:RequestedServerVersion>\n";
  header += "    <wsa:Action>http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/" + std::string(operation) +
            "</wsa:Action>\n    <wsa:To>https://autodiscover.contoso.com/autodiscover/autodiscover.svc</wsa:To>\n  </soap:Header>\n";
  return R"(<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:a="http://schemas.microsoft.com/exchange/2010/Autodiscover"
    xmlns:wsa="http://www.w3.org/2005/08/addressing"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
)" + header + "  <soap:Body>\n" +
         std::string(request) + "\n  </soap:Body>\n</soap:Envelope>\n";
}

std::string userSettingsRequest(std::vector<std::string> users, std::vector<std::string> settings) {
  std::string r = "<a:GetUserSettingsRequestMessage><a:Request><a:Users>";
  for (auto& u : users) r += "<a:User><a:Mailbox>" + u + "</a:Mailbox></a:User>";
  r += "</a:Users><a:RequestedSettings>";
  for (auto& s : settings) r += "<a:Setting>" + s + "</a:Setting>";
  return r + "</a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage>";
}

// The response message inside s:Body, moved back to the left margin (the body is two levels in).
std::string bodyMessage(const std::string& envelope) {
  auto start = envelope.find("<s:Body>\n");
  auto end = envelope.find("  </s:Body>");
  if (start == std::string::npos || end == std::string::npos) return "(no body) " + envelope;
  std::string inner = envelope.substr(start + 9, end - start - 9), out;
  std::size_t at = 0;
  while (at < inner.size()) {
    auto nl = inner.find('\n', at);
    auto line = inner.substr(at, nl - at);
    out += (line.starts_with("    ") ? line.substr(4) : line) + "\n";
    at = nl + 1;
  }
  return out;
}

class Soap : public autodisc::testing::TestVectorOrg {
 protected:
  protocol::SoapResponse ask(const std::string& body, protocol::SoapContext ctx = {}) {
    auto req = protocol::parseSoapRequest(body);
    EXPECT_EQ(req.fault, "");
    return protocol::answerSoap(org, req, ctx);
  }
};

TEST_F(Soap, TV5GetUserSettings) {
  auto req = protocol::parseSoapRequest(envelope("GetUserSettings", R"(    <a:GetUserSettingsRequestMessage>
      <a:Request>
        <a:Users>
          <a:User><a:Mailbox>alice@contoso.com</a:Mailbox></a:User>
          <a:User><a:Mailbox>bob@contoso.com</a:Mailbox></a:User>
        </a:Users>
        <a:RequestedSettings>
          <a:Setting>UserDisplayName</a:Setting>
          <a:Setting>ExternalEwsUrl</a:Setting>
          <a:Setting>EwsSupportedSchemas</a:Setting>
          <a:Setting>NoSuchSetting</a:Setting>
        </a:RequestedSettings>
      </a:Request>
    </a:GetUserSettingsRequestMessage>)"));
  ASSERT_EQ(req.fault, "");
  EXPECT_EQ(req.operation, protocol::SoapOperation::GetUserSettings);
  EXPECT_EQ(req.requestedServerVersion, "Exchange2013");
  EXPECT_EQ(req.users, (std::vector<std::string>{"alice@contoso.com", "bob@contoso.com"}));
  auto res = protocol::answerSoap(org, req, {});
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.errorCode, "NoError");
  EXPECT_EQ(bodyMessage(res.body), R"(<GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover">
  <Response xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
    <ErrorCode>NoError</ErrorCode>
    <ErrorMessage />
    <UserResponses>
      <UserResponse>
        <ErrorCode>NoError</ErrorCode>
        <ErrorMessage>No error.</ErrorMessage>
        <RedirectTarget i:nil="true" />
        <UserSettingErrors>
          <UserSettingError>
            <ErrorCode>InvalidSetting</ErrorCode>
            <ErrorMessage>The requested setting is invalid.</ErrorMessage>
            <SettingName>NoSuchSetting</SettingName>
          </UserSettingError>
        </UserSettingErrors>
        <UserSettings>
          <UserSetting i:type="StringSetting"><Name>UserDisplayName</Name><Value>Alice Example</Value></UserSetting>
          <UserSetting i:type="StringSetting"><Name>ExternalEwsUrl</Name><Value>https://mail.contoso.com/EWS/Exchange.asmx</Value></UserSetting>
          <UserSetting i:type="StringSetting"><Name>EwsSupportedSchemas</Name><Value>Exchange2007, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, Exchange2010_SP2, Exchange2013</Value></UserSetting>
        </UserSettings>
      </UserResponse>
      <UserResponse>
        <ErrorCode>RedirectAddress</ErrorCode>
        <ErrorMessage>Redirection address.</ErrorMessage>
        <RedirectTarget>bob@fabrikam.com</RedirectTarget>
        <UserSettingErrors />
        <UserSettings />
      </UserResponse>
    </UserResponses>
  </Response>
</GetUserSettingsResponseMessage>
)");
}

TEST_F(Soap, TheHeaderCarriesTheResponseActionAndServerVersionInfo) {
  auto res = ask(envelope("GetUserSettings", userSettingsRequest({"alice@contoso.com"}, {"UserDisplayName"})));
  EXPECT_THAT(res.body, ::testing::StartsWith("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<s:Envelope "));
  EXPECT_THAT(res.body, HasSubstr("<a:Action s:mustUnderstand=\"1\">http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettingsResponse</a:Action>"));
  EXPECT_THAT(res.body, HasSubstr("<h:MajorVersion>15</h:MajorVersion>"));
  EXPECT_THAT(res.body, HasSubstr("<h:MinorVersion>1</h:MinorVersion>"));
  EXPECT_THAT(res.body, HasSubstr("<h:MajorBuildNumber>2507</h:MajorBuildNumber>"));
  EXPECT_THAT(res.body, HasSubstr("<h:MinorBuildNumber>6</h:MinorBuildNumber>"));
  EXPECT_THAT(res.body, HasSubstr("<h:Version>Exchange2013_SP1</h:Version>"));
}

// Every setting the POX answer carries has the same value over SOAP: one resolve() for both.
TEST_F(Soap, SettingsAgreeWithThePoxAnswer) {
  auto res = ask(envelope("GetUserSettings", userSettingsRequest({"alice@contoso.com"},
      {"UserDN", "UserDeploymentId", "AutoDiscoverSMTPAddress", "InternalRpcClientServer", "InternalMailboxServerDN",
       "MailboxDN", "InternalEwsUrl", "ExternalEwsUrl", "InternalOABUrl", "ExternalOABUrl", "InternalEcpUrl",
       "ExternalEcpUrl", "InternalEcpPhotoUrl", "EcpPhotoUrlFragment", "ExternalMailboxServer",
       "ExternalMailboxServerRequiresSSL", "ExternalMailboxServerAuthenticationMethods", "CertPrincipalName",
       "EwsPartnerUrl", "InternalWebClientUrls", "ExternalWebClientUrls", "InternalServerExclusiveConnect",
       "ExternalServerExclusiveConnect", "CasVersion", "MailboxVersion", "ExternalEwsVersion", "UserMSOnline",
       "InternalMailboxServer", "MapiHttpEnabled"})));
  autodiscover::Query q;
  q.emailAddress = "alice@contoso.com";
  auto pox = protocol::renderPox(autodiscover::resolve(org, q), autodiscover::Schema::Outlook, {});
  auto value = [&](const std::string& name) {
    auto at = res.body.find("<Name>" + name + "</Name><Value>");
    if (at == std::string::npos) return std::string("(missing)");
    at += name.size() + 20;
    return res.body.substr(at, res.body.find("</Value>", at) - at);
  };
  auto poxValue = [&](const std::string& tag, std::size_t from = 0) {
    auto at = pox.find("<" + tag + ">", from);
    if (at == std::string::npos) return std::string("(missing)");
    at += tag.size() + 2;
    return pox.substr(at, pox.find("</" + tag + ">", at) - at);
  };
  auto expr = pox.find("<Type>EXPR</Type>");
  EXPECT_EQ(value("UserDN"), poxValue("LegacyDN"));
  EXPECT_EQ(value("UserDeploymentId"), poxValue("DeploymentId"));
  EXPECT_EQ(value("AutoDiscoverSMTPAddress"), poxValue("AutoDiscoverSMTPAddress"));
  EXPECT_EQ(value("InternalRpcClientServer"), poxValue("Server"));
  EXPECT_EQ(value("InternalMailboxServerDN"), poxValue("ServerDN"));
  EXPECT_EQ(value("MailboxDN"), poxValue("MdbDN"));
  EXPECT_EQ(value("InternalEwsUrl"), poxValue("EwsUrl"));
  EXPECT_EQ(value("InternalOABUrl"), poxValue("OABUrl"));
  EXPECT_EQ(value("InternalEcpUrl"), poxValue("EcpUrl"));
  EXPECT_EQ(value("EcpPhotoUrlFragment"), poxValue("EcpUrl-photo"));
  EXPECT_EQ(value("InternalEcpPhotoUrl"), poxValue("EcpUrl") + poxValue("EcpUrl-photo"));
  EXPECT_EQ(value("ExternalEwsUrl"), poxValue("EwsUrl", expr));
  EXPECT_EQ(value("ExternalOABUrl"), poxValue("OABUrl", expr));
  EXPECT_EQ(value("ExternalEcpUrl"), poxValue("EcpUrl", expr));
  EXPECT_EQ(value("ExternalMailboxServer"), poxValue("Server", expr));
  EXPECT_EQ(value("ExternalMailboxServerRequiresSSL"), poxValue("SSL", expr) == "On" ? "True" : "False");
  EXPECT_EQ(value("ExternalMailboxServerAuthenticationMethods"), poxValue("AuthPackage", expr));
  EXPECT_EQ(value("CertPrincipalName"), poxValue("CertPrincipalName", expr));
  EXPECT_EQ(value("EwsPartnerUrl"), poxValue("EwsPartnerUrl", expr));
  EXPECT_EQ(value("InternalServerExclusiveConnect"), "Off");
  EXPECT_EQ(value("ExternalServerExclusiveConnect"), "On");
  EXPECT_EQ(value("CasVersion"), "15.01.2507.006");
  EXPECT_EQ(value("MailboxVersion"), "15.01.2507.006");
  EXPECT_EQ(value("ExternalEwsVersion"), "15.01.2507.006");
  EXPECT_EQ(value("UserMSOnline"), "False");
  EXPECT_EQ(value("InternalMailboxServer"), "ex1.int.contoso.com");
  EXPECT_EQ(value("MapiHttpEnabled"), "False");
  EXPECT_THAT(res.body, HasSubstr("<UserSetting i:type=\"WebClientUrlCollectionSetting\"><Name>ExternalWebClientUrls</Name>"
                                  "<WebClientUrls><WebClientUrl><AuthenticationMethods>"));
  EXPECT_THAT(res.body, HasSubstr("<Url>https://mail.contoso.com/owa/</Url></WebClientUrl></WebClientUrls></UserSetting>"));
  EXPECT_THAT(res.body, Not(HasSubstr("<UserSettingError>")));
}

TEST_F(Soap, EverySettingNameIsAnsweredWithAValueOrNotAvailable) {
  std::vector<std::string> all;
  for (auto n : autodiscover::userSettingNames()) all.emplace_back(n);
  auto res = ask(envelope("GetUserSettings", userSettingsRequest({"alice@contoso.com"}, all)));
  std::size_t values = 0, notAvailable = 0, at = 0;
  while ((at = res.body.find("<UserSetting i:type=", at)) != std::string::npos) ++values, ++at;
  at = 0;
  while ((at = res.body.find("<ErrorCode>SettingIsNotAvailable</ErrorCode>", at)) != std::string::npos) ++notAvailable, ++at;
  EXPECT_EQ(values + notAvailable, all.size());
  EXPECT_THAT(res.body, Not(HasSubstr("InvalidSetting")));
  EXPECT_GT(values, 40u);
  EXPECT_THAT(res.body, HasSubstr("<SettingName>PublicFolderServer</SettingName>"));  // not modelled
}

TEST_F(Soap, UnknownUsersAreInvalidUserAndASettingNewerThanTheRequestedVersionIsInvalid) {
  auto res = ask(envelope("GetUserSettings", userSettingsRequest({"nobody@contoso.com", "alice@contoso.com"},
                                                                 {"MapiHttpEnabled", "UserDisplayName"}),
                          "Exchange2010_SP2"));
  auto first = res.body.find("<UserResponse>"), second = res.body.find("<UserResponse>", first + 1);
  ASSERT_NE(second, std::string::npos);
  EXPECT_THAT(res.body.substr(first, second - first), HasSubstr("<ErrorCode>InvalidUser</ErrorCode>"));
  auto alice = res.body.substr(second);
  EXPECT_THAT(alice, HasSubstr("<ErrorCode>InvalidSetting</ErrorCode>"));
  EXPECT_THAT(alice, HasSubstr("<SettingName>MapiHttpEnabled</SettingName>"));
  EXPECT_THAT(alice, HasSubstr("<Name>UserDisplayName</Name><Value>Alice Example</Value>"));
}

TEST_F(Soap, ACallerIsToldOnlyAboutItself) {
  const model::Recipient* alice = org.recipientByAlias("alice");
  auto res = ask(envelope("GetUserSettings", userSettingsRequest({"alice@contoso.com", "bob@contoso.com"}, {"UserDisplayName"})),
                 protocol::SoapContext{true, alice});
  EXPECT_THAT(res.body, HasSubstr("<Value>Alice Example</Value>"));
  EXPECT_THAT(res.body, HasSubstr("<ErrorCode>InvalidUser</ErrorCode>"));
  EXPECT_THAT(res.body, Not(HasSubstr("bob@fabrikam.com")));
}

TEST_F(Soap, OutsideClientsGetNoInternalSettings) {
  auto res = ask(envelope("GetUserSettings", userSettingsRequest({"alice@contoso.com"}, {"InternalEwsUrl", "ExternalEwsUrl"})),
                 protocol::SoapContext{false, nullptr});
  EXPECT_THAT(res.body, HasSubstr("<SettingName>InternalEwsUrl</SettingName>"));
  EXPECT_THAT(res.body, HasSubstr("<ErrorCode>SettingIsNotAvailable</ErrorCode>"));
  EXPECT_THAT(res.body, Not(HasSubstr("int.contoso.com")));
  EXPECT_THAT(res.body, HasSubstr("<Value>https://mail.contoso.com/EWS/Exchange.asmx</Value>"));
}

TEST_F(Soap, ResponseLevelInvalidRequest) {
  for (auto body : {envelope("GetUserSettings", userSettingsRequest({}, {"UserDisplayName"})),
                    envelope("GetUserSettings", userSettingsRequest({"alice@contoso.com"}, {})),
                    envelope("GetUserSettings", userSettingsRequest({"alice@contoso.com"}, {"UserDisplayName"}), "Exchange2099")}) {
    auto res = ask(body);
    EXPECT_EQ(res.errorCode, "InvalidRequest");
    EXPECT_THAT(res.body, HasSubstr("<Response xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
                                    "        <ErrorCode>InvalidRequest</ErrorCode>"));
    EXPECT_THAT(res.body, HasSubstr("<UserResponses />"));
  }
  std::vector<std::string> many(101, "alice@contoso.com");
  EXPECT_EQ(ask(envelope("GetUserSettings", userSettingsRequest(many, {"UserDisplayName"}))).errorCode, "InvalidRequest");
}

TEST_F(Soap, GetDomainSettings) {
  auto res = ask(envelope("GetDomainSettings",
                          "<a:GetDomainSettingsRequestMessage><a:Request><a:Domains><a:Domain>contoso.com</a:Domain>"
                          "<a:Domain>example.org</a:Domain></a:Domains><a:RequestedSettings><a:Setting>ExternalEwsUrl</a:Setting>"
                          "<a:Setting>ExternalEwsVersion</a:Setting><a:Setting>UserDisplayName</a:Setting>"
                          "</a:RequestedSettings></a:Request></a:GetDomainSettingsRequestMessage>"));
  EXPECT_EQ(res.errorCode, "NoError");
  EXPECT_THAT(res.body, HasSubstr("GetDomainSettingsResponse</a:Action>"));
  EXPECT_THAT(res.body, HasSubstr("<DomainSetting i:type=\"DomainStringSetting\"><Name>ExternalEwsUrl</Name>"
                                  "<Value>https://mail.contoso.com/EWS/Exchange.asmx</Value></DomainSetting>"));
  EXPECT_THAT(res.body, HasSubstr("<Name>ExternalEwsVersion</Name><Value>15.01.2507.006</Value>"));
  EXPECT_THAT(res.body, HasSubstr("<SettingName>UserDisplayName</SettingName>"));
  EXPECT_THAT(res.body, HasSubstr("<ErrorCode>InvalidDomain</ErrorCode>"));
}

TEST_F(Soap, FederationIsAnsweredNotFederated) {
  auto res = ask(envelope("GetFederationInformation",
                          "<a:GetFederationInformationRequestMessage><a:Request><a:Domain>contoso.com</a:Domain></a:Request>"
                          "</a:GetFederationInformationRequestMessage>"));
  EXPECT_EQ(res.errorCode, "NotFederated");
  EXPECT_THAT(res.body, HasSubstr("<ErrorCode>NotFederated</ErrorCode>"));
}

TEST_F(Soap, ResponseLevelServerBusyAndInternalServerError) {
  auto req = protocol::parseSoapRequest(envelope("GetUserSettings", userSettingsRequest({"alice@contoso.com"}, {"UserDN"})));
  for (auto code : {"ServerBusy", "InternalServerError"}) {
    auto res = protocol::soapResponseError(req, code, "try later", protocol::answeringVersion(org));
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(res.errorCode, code);
    EXPECT_THAT(bodyMessage(res.body), HasSubstr(std::string("<Response xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
                                                             "    <ErrorCode>") + code + "</ErrorCode>\n"
                                                 "    <ErrorMessage>try later</ErrorMessage>\n    <UserResponses />"));
  }
}

// The client's side: the request it sends parses, and it reads the answer back.
TEST_F(Soap, AClientsRequestAndItsReadingOfTheAnswer) {
  auto body = protocol::getUserSettingsRequest("alice@contoso.com", {"UserDisplayName", "ExternalEwsUrl", "ExternalWebClientUrls"},
                                               "https://autodiscover.contoso.com/autodiscover/autodiscover.svc");
  auto req = protocol::parseSoapRequest(body);
  ASSERT_EQ(req.fault, "");
  auto res = protocol::parseGetUserSettingsResponse(protocol::answerSoap(org, req, {}).body);
  EXPECT_TRUE(res.soap);
  EXPECT_EQ(res.errorCode, "NoError");
  ASSERT_EQ(res.settings.size(), 3u);
  EXPECT_EQ(res.settings[0], (std::pair<std::string, std::string>{"UserDisplayName", "Alice Example"}));
  EXPECT_EQ(res.settings[1].second, "https://mail.contoso.com/EWS/Exchange.asmx");
  EXPECT_EQ(res.settings[2].second, "https://mail.contoso.com/owa/");
  auto bob = protocol::parseGetUserSettingsResponse(
      protocol::answerSoap(org, protocol::parseSoapRequest(protocol::getUserSettingsRequest("bob@contoso.com", {"UserDN"}, "x")), {}).body);
  EXPECT_EQ(bob.errorCode, "RedirectAddress");
  EXPECT_EQ(bob.redirectTarget, "bob@fabrikam.com");
  auto fault = protocol::parseGetUserSettingsResponse(protocol::renderSoapFault("no"));
  EXPECT_EQ(fault.fault, "no");
  EXPECT_FALSE(protocol::parseGetUserSettingsResponse("<html/>").soap);
}

TEST_F(Soap, MalformedEnvelopesAreFaults) {
  auto fault = [](std::string_view body) { return protocol::parseSoapRequest(body).fault; };
  EXPECT_THAT(fault(""), HasSubstr("not well-formed"));
  EXPECT_THAT(fault("<x/>"), HasSubstr("not a SOAP 1.1 envelope"));
  EXPECT_THAT(fault("<!DOCTYPE x [<!ENTITY e \"e\">]><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"/>"),
              HasSubstr("DOCTYPE"));
  EXPECT_THAT(fault("<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"></soap:Envelope>"),
              HasSubstr("no Body"));
  EXPECT_THAT(fault(envelope("GetUserSettings", "<a:Nonsense/>")), HasSubstr("does not match"));
  EXPECT_THAT(fault(envelope("DeleteEverything", userSettingsRequest({"a@contoso.com"}, {"UserDN"}))),
              HasSubstr("not supported"));
  auto text = protocol::renderSoapFault("bad <thing>");
  EXPECT_THAT(text, HasSubstr("<faultcode>s:Client</faultcode>"));
  EXPECT_THAT(text, HasSubstr("<faultstring xml:lang=\"en-US\">bad &lt;thing&gt;</faultstring>"));
}

TEST_F(Soap, WithoutAnActionTheBodyNamesTheOperation) {
  auto body = envelope("GetUserSettings", userSettingsRequest({"alice@contoso.com"}, {"UserDisplayName"}));
  auto a = body.find("    <wsa:Action>"), b = body.find("</wsa:Action>\n");
  body.erase(a, b + 14 - a);
  auto req = protocol::parseSoapRequest(body);
  EXPECT_EQ(req.fault, "");
  EXPECT_EQ(req.operation, protocol::SoapOperation::GetUserSettings);
}

}  // namespace

namespace {

// An accepted domain answered elsewhere (a hoster's): its addresses that are not recipients here
// are sent to that Autodiscover URL, in each protocol's own form.
class Hosted : public autodisc::testing::TestVectorOrg {
 protected:
  void SetUp() override {
    TestVectorOrg::SetUp();
    auto r = h.run("New-AcceptedDomain -Name hosted -DomainName hosted.example -AutodiscoverRedirectUrl "
                   "https://autodiscover.hoster.net/Autodiscover/Autodiscover.xml");
    ASSERT_TRUE(r.ok) << r.error;
    snapshot();
  }
};

TEST_F(Hosted, PoxAnswersRedirectUrl) {
  autodiscover::Query q;
  q.emailAddress = "carol@hosted.example";
  auto a = autodiscover::resolve(org, q);
  EXPECT_EQ(a.outcome, autodiscover::Outcome::RedirectUrl);
  EXPECT_EQ(protocol::renderPox(a, autodiscover::Schema::Outlook, {}), R"(<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account>
      <Action>redirectUrl</Action>
      <RedirectUrl>https://autodiscover.hoster.net/Autodiscover/Autodiscover.xml</RedirectUrl>
    </Account>
  </Response>
</Autodiscover>
)");
  q.emailAddress = "nobody@contoso.com";  // a domain answered here: still "can't be found"
  EXPECT_EQ(autodiscover::resolve(org, q).outcome, autodiscover::Outcome::Error);
}

TEST_F(Hosted, SoapAnswersRedirectUrlToTheSvcEndpoint) {
  auto res = protocol::answerSoap(org, protocol::parseSoapRequest(envelope("GetUserSettings",
                                       userSettingsRequest({"carol@hosted.example"}, {"UserDisplayName"}))), {});
  EXPECT_THAT(res.body, HasSubstr("<ErrorCode>RedirectUrl</ErrorCode>"));
  EXPECT_THAT(res.body, HasSubstr("<RedirectTarget>https://autodiscover.hoster.net/Autodiscover/Autodiscover.svc</RedirectTarget>"));
}

}  // namespace
