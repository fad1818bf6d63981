// Autodiscover v2 (JSON, protocol spec section 5) against TV-6 and the error and redirect forms.
#include "protocol/json_v2.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_vectors.hpp"

using namespace autodisc;
using ::testing::HasSubstr;

namespace {

class JsonV2 : public autodisc::testing::TestVectorOrg {
 protected:
  protocol::JsonResponse get(std::string_view target, bool internal = true, const model::Recipient* caller = nullptr) {
    EXPECT_TRUE(protocol::isJsonPath(target)) << target;
    return protocol::answerJson(org, protocol::parseJsonRequest(target), internal, caller);
  }
};

TEST_F(JsonV2, TV6) {
  auto ews = get("/autodiscover/autodiscover.json/v1.0/alice@contoso.com?Protocol=Ews");
  EXPECT_EQ(ews.status, 200u);
  EXPECT_EQ(ews.body, R"({"Protocol":"Ews","Url":"https://mail.contoso.com/EWS/Exchange.asmx"})");
  auto eas = get("/autodiscover/autodiscover.json/v1.0/alice@contoso.com?Protocol=activesync");
  EXPECT_EQ(eas.body, R"({"Protocol":"ActiveSync","Url":"https://mail.contoso.com/Microsoft-Server-ActiveSync"})");
  auto missing = get("/autodiscover/autodiscover.json/v1.0/alice@contoso.com");
  EXPECT_EQ(missing.status, 400u);
  EXPECT_EQ(missing.body, R"({"ErrorCode":"MissingProtocol","ErrorMessage":"A valid value must be provided for the query parameter 'Protocol'."})");
}

// fuzz_json found that a target shorter than the v2 path threw (std::out_of_range); callers check
// isJsonPath first, but the reader itself must not throw.
TEST(JsonV2Parse, AnyTargetIsReadWithoutThrowing) {
  for (auto target : {"", "/", "/autodiscover", "?Email=a@b.c&Protocol=Ews", "/other/path?Protocol=Ews"}) {
    auto r = protocol::parseJsonRequest(target);
    EXPECT_TRUE(r.email.empty() || std::string_view(target).find("Email=") != std::string_view::npos) << target;
  }
}

TEST_F(JsonV2, TheQueryFormCaseAndEncoding) {
  auto r = get("/AutoDiscover/AutoDiscover.json?email=alice%40contoso.com&protocol=AUTODISCOVERV1&RedirectCount=0");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, R"({"Protocol":"AutodiscoverV1","Url":"https://mail.contoso.com/autodiscover/autodiscover.xml"})");
  EXPECT_EQ(get("/autodiscover/autodiscover.json?Email=alice@contoso.com&Protocol=Ews").body,
            R"({"Protocol":"Ews","Url":"https://mail.contoso.com/EWS/Exchange.asmx"})");
  EXPECT_FALSE(protocol::isJsonPath("/autodiscover/autodiscover.jsonx"));
  EXPECT_FALSE(protocol::isJsonPath("/autodiscover/autodiscover.json/v2.0/a@b"));
}

TEST_F(JsonV2, Errors) {
  auto noAddress = get("/autodiscover/autodiscover.json?Protocol=Ews");
  EXPECT_EQ(noAddress.status, 400u);
  EXPECT_THAT(noAddress.body, HasSubstr(R"("ErrorCode":"MandatoryParameterMissing")"));
  auto rest = get("/autodiscover/autodiscover.json/v1.0/alice@contoso.com?Protocol=Rest");
  EXPECT_EQ(rest.status, 400u);
  EXPECT_EQ(rest.body, R"({"ErrorCode":"ProtocolNotSupported","ErrorMessage":"Protocol: The protocol 'Rest' is not supported. Supported protocols are: 'AutodiscoverV1,Ews,ActiveSync'."})");
  auto foreign = get("/autodiscover/autodiscover.json/v1.0/someone@example.org?Protocol=Ews");
  EXPECT_EQ(foreign.status, 404u);
  EXPECT_THAT(foreign.body, HasSubstr(R"("ErrorCode":"InvalidUser")"));
  // JSON strings are escaped.
  auto odd = get("/autodiscover/autodiscover.json/v1.0/a@contoso.com?Protocol=%22x%5C");
  EXPECT_THAT(odd.body, HasSubstr(R"(The protocol '\"x\\' is not supported)"));
}

TEST_F(JsonV2, AMailUserIsRedirectedWithTheCountRaised) {
  auto r = get("/autodiscover/autodiscover.json?Email=bob%40contoso.com&Protocol=Ews&RedirectCount=2");
  EXPECT_EQ(r.status, 302u);
  EXPECT_EQ(r.location, "https://autodiscover.fabrikam.com/autodiscover/autodiscover.json?Email=bob%40fabrikam.com&Protocol=Ews&RedirectCount=3");
  auto tooMany = get("/autodiscover/autodiscover.json?Email=bob%40contoso.com&Protocol=Ews&RedirectCount=10");
  EXPECT_EQ(tooMany.status, 400u);
  EXPECT_THAT(tooMany.body, HasSubstr("RedirectLimitExceeded"));
}

// An unknown address in an accepted domain looks like a known one: no enumeration through v2.
TEST_F(JsonV2, AnUnknownAddressInAnAcceptedDomainGetsTheDomainsAnswer) {
  auto known = get("/autodiscover/autodiscover.json/v1.0/alice@contoso.com?Protocol=Ews");
  auto unknown = get("/autodiscover/autodiscover.json/v1.0/nobody@contoso.com?Protocol=Ews");
  EXPECT_EQ(unknown.status, known.status);
  EXPECT_EQ(unknown.body, known.body);
  // Basic: asking about someone else is asking about an unknown address.
  auto other = get("/autodiscover/autodiscover.json/v1.0/bob@contoso.com?Protocol=Ews", true, org.recipientByAlias("alice"));
  EXPECT_EQ(other.status, 200u);
  EXPECT_EQ(other.body, known.body);
}

TEST_F(JsonV2, PercentCoding) {
  EXPECT_EQ(protocol::percentDecode("a%40b%2Ec%zz%4"), "a@b.c%zz%4");
  EXPECT_EQ(protocol::percentEncode("bob+x@fabrikam.com"), "bob%2Bx%40fabrikam.com");
  EXPECT_EQ(protocol::jsonString("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
}

}  // namespace

namespace {

TEST_F(JsonV2, ADomainAnsweredElsewhereIsRedirectedThere) {
  auto r = h.run("New-AcceptedDomain -Name hosted -DomainName hosted.example -AutodiscoverRedirectUrl "
                 "https://autodiscover.hoster.net/Autodiscover/Autodiscover.xml");
  ASSERT_TRUE(r.ok) << r.error;
  snapshot();
  auto res = get("/autodiscover/autodiscover.json/v1.0/carol@hosted.example?Protocol=Ews");
  EXPECT_EQ(res.status, 302u);
  EXPECT_EQ(res.location, "https://autodiscover.hoster.net/autodiscover/autodiscover.json?Email=carol%40hosted.example&Protocol=Ews&RedirectCount=1");
}

}  // namespace
