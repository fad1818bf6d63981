// PoxCache writes exactly what renderPox(resolve()) writes, for every mailbox and client flag, and
// declines what it does not cover.
#include "protocol/pox_cache.hpp"

#include <gtest/gtest.h>

#include "autodiscover/user_settings.hpp"
#include "protocol/pox.hpp"
#include "protocol/soap.hpp"
#include "support/shell_harness.hpp"

using namespace autodisc;
using autodiscover::Query;
using autodiscover::Schema;

namespace {

class PoxCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(h.open(), "");
    for (auto line : {
             "New-AcceptedDomain -Name contoso.com -DomainName contoso.com",
             "New-AcceptedDomain -Name fabrikam.com -DomainName fabrikam.com",
             "New-ExchangeServer -Name E14 -Fqdn e14.int.contoso.com -AdminDisplayVersion 'Version 14.3 (Build 123.4)'",
             "New-ExchangeServer -Name E16 -Fqdn e16.int.contoso.com -AdminDisplayVersion 'Version 15.1 (Build 2507.6)'",
             "New-ClientAccessArray -Name Arr -Fqdn outlook.int.contoso.com -Site Default-First-Site-Name",
             "New-MailboxDatabase -Name DB14 -Server E14",
             "New-MailboxDatabase -Name DB16 -Server E16",
             "Set-MailboxDatabase DB14 -RpcClientAccessServer outlook.int.contoso.com",
             "Set-OrganizationConfig -MapiHttpEnabled $true",
             "Get-OwaVirtualDirectory | Set-OwaVirtualDirectory -InternalUrl https://mail.int.contoso.com/owa -ExternalUrl https://mail.contoso.com/owa",
             "Get-WebServicesVirtualDirectory | Set-WebServicesVirtualDirectory -InternalUrl https://mail.int.contoso.com/EWS/Exchange.asmx -ExternalUrl https://mail.contoso.com/EWS/Exchange.asmx",
             "Get-EcpVirtualDirectory | Set-EcpVirtualDirectory -InternalUrl https://mail.int.contoso.com/ecp -ExternalUrl https://mail.contoso.com/ecp",
             "Get-OabVirtualDirectory | Set-OabVirtualDirectory -InternalUrl https://mail.int.contoso.com/OAB -ExternalUrl https://mail.contoso.com/OAB",
             "Get-MapiVirtualDirectory | Set-MapiVirtualDirectory -InternalUrl https://mail.int.contoso.com/mapi -ExternalUrl https://mail.contoso.com/mapi",
             "Get-OutlookAnywhere | Set-OutlookAnywhere -ExternalHostname mail.contoso.com -InternalHostname mail.int.contoso.com -ExternalClientAuthenticationMethod Negotiate",
             "New-Mailbox -Name 'Ann <Sales & Co>' -Alias ann -Database DB14",
             "New-Mailbox -Name Ben -Alias ben -Database DB14",
             "New-Mailbox -Name Cat -Alias cat -Database DB16",
             "New-Mailbox -Name Dan -Alias dan -Database DB16 -PrimarySmtpAddress dan@fabrikam.com",
             "New-Mailbox -Name Eve -Alias eve -Database DB16",
             "New-MailUser -Name Ext -ExternalEmailAddress ext@example.org -PrimarySmtpAddress ext@contoso.com",
         }) {
      auto r = h.run(line);
      ASSERT_TRUE(r.ok) << line << ": " << r.error;
    }
    org = std::make_shared<const model::Organization>(h.org());
  }
  autodisc::testing::ShellHarness h;
  std::shared_ptr<const model::Organization> org;
};

TEST_F(PoxCacheTest, WritesWhatRenderPoxOfResolveWritesForEveryMailboxAndFlag) {
  protocol::PoxCache cache;
  int compared = 0;
  for (int round = 0; round < 2; ++round)  // the first round fills the cache, the second reads it
    for (auto address : {"ann@contoso.com", "ben@contoso.com", "cat@contoso.com", "dan@fabrikam.com", "eve@contoso.com"})
      for (int flags = 0; flags < 16; ++flags) {
        Query q;
        q.emailAddress = address;
        q.internalClient = flags & 1;
        q.canHandleNegotiate = flags & 2;
        q.canHandleExHttp = flags & 4;
        q.mapiHttpVersion = (flags & 8) ? 1 : 0;
        std::string cached;
        ASSERT_TRUE(cache.render(org, q, cached)) << address;
        EXPECT_EQ(cached, protocol::renderPox(autodiscover::resolve(*org, q), Schema::Outlook, {}))
            << address << " flags " << flags;
        ++compared;
      }
  EXPECT_EQ(compared, 160);
  // Entries per database, domain and flags, not per mailbox: DB14/contoso, DB16/contoso, DB16/fabrikam.
  EXPECT_EQ(cache.size(), 3u * 16u);
}

// The SOAP side: every setting of every mailbox, read from a cached Answer made for another
// mailbox, is what the mailbox's own Answer says.
TEST_F(PoxCacheTest, AnswerCacheGivesEverySettingOfEveryMailboxAsItsOwnAnswer) {
  autodiscover::AnswerCache cache;
  int compared = 0;
  for (int round = 0; round < 2; ++round)
    for (auto address : {"ann@contoso.com", "ben@contoso.com", "cat@contoso.com", "dan@fabrikam.com", "eve@contoso.com"})
      for (int flags = 0; flags < 8; ++flags) {
        Query q;
        q.emailAddress = address;
        q.internalClient = flags & 1;
        q.canHandleNegotiate = flags & 2;
        q.canHandleExHttp = flags & 4;
        autodiscover::Personal personal;
        auto* cached = cache.find(org, q, personal);
        ASSERT_NE(cached, nullptr) << address;
        auto own = autodiscover::resolve(*org, q);
        for (auto name : autodiscover::userSettingNames()) {
          auto a = autodiscover::lookupUserSetting(name, *cached, autodiscover::ExchangeVersion::Exchange2013_SP1, &personal);
          auto b = autodiscover::lookupUserSetting(name, own, autodiscover::ExchangeVersion::Exchange2013_SP1);
          ASSERT_EQ(a.status, b.status) << address << " " << name;
          EXPECT_EQ(a.setting.value, b.setting.value) << address << " " << name << " flags " << flags;
          EXPECT_EQ(a.setting.urls.size(), b.setting.urls.size()) << name;
          ++compared;
        }
      }
  EXPECT_EQ(compared, 2 * 5 * 8 * static_cast<int>(autodiscover::userSettingNames().size()));
  EXPECT_EQ(cache.size(), 3u * 8u);
  Query q;
  q.emailAddress = "ext@contoso.com";
  autodiscover::Personal personal;
  EXPECT_EQ(cache.find(org, q, personal), nullptr);
}

// SOAP with the per-thread caches (AnswerCache and SoapTemplates) writes the same bytes as without.
TEST_F(PoxCacheTest, SoapWithItsCachesWritesWhatItWritesWithout) {
  autodiscover::AnswerCache answers;
  protocol::SoapTemplates templates;
  std::vector<std::string> all;
  for (auto n : autodiscover::userSettingNames()) all.emplace_back(n);
  std::vector<std::vector<std::string>> lists = {
      all, {"UserDisplayName", "UserDN", "AutoDiscoverSMTPAddress", "InternalRpcClientServer", "MailboxDN", "Nope"}};
  int compared = 0;
  for (int round = 0; round < 2; ++round)
    for (auto& settings : lists)
      for (bool internal : {true, false})
        for (auto version : {"Exchange2010", "Exchange2013"}) {
          protocol::SoapRequest req;
          req.operation = protocol::SoapOperation::GetUserSettings;
          req.requestedServerVersion = version;
          req.users = {"ann@contoso.com", "ben@contoso.com", "cat@contoso.com", "dan@fabrikam.com", "eve@contoso.com",
                       "ext@contoso.com", "nobody@contoso.com"};
          req.settings = settings;
          auto fast = protocol::answerSoap(*org, req, protocol::SoapContext{internal, nullptr, &answers, &templates, &org});
          auto slow = protocol::answerSoap(*org, req, protocol::SoapContext{internal, nullptr});
          std::size_t at = 0;
          while (at < fast.body.size() && at < slow.body.size() && fast.body[at] == slow.body[at]) ++at;
          EXPECT_EQ(at, slow.body.size()) << "internal " << internal << " " << version << " round " << round
                                          << "\nwith caches: ..." << fast.body.substr(at < 200 ? 0 : at - 200, 400)
                                          << "\nwithout:     ..." << slow.body.substr(at < 200 ? 0 : at - 200, 400);
          EXPECT_EQ(fast.body.size(), slow.body.size());
          ++compared;
        }
  EXPECT_EQ(compared, 16);
  EXPECT_GT(templates.size(), 0u);
  EXPECT_NE(protocol::answerSoap(*org, protocol::SoapRequest{"", protocol::SoapOperation::GetUserSettings, "", {"ann@contoso.com"}, {}, {"UserDisplayName"}},
                                 protocol::SoapContext{true, nullptr, &answers, &templates, &org}).body.find("Ann &lt;Sales &amp; Co&gt;"),
            std::string::npos);
}

TEST_F(PoxCacheTest, TheLegacyDnFindsTheSameAnswer) {
  protocol::PoxCache cache;
  Query q;
  q.legacyDn = std::string(org->recipientByAlias("cat")->legacyExchangeDn());
  std::string cached;
  ASSERT_TRUE(cache.render(org, q, cached));
  EXPECT_EQ(cached, protocol::renderPox(autodiscover::resolve(*org, q), Schema::Outlook, {}));
  EXPECT_NE(cached.find("<AutoDiscoverSMTPAddress>cat@contoso.com<"), std::string::npos);
}

TEST_F(PoxCacheTest, DeclinesWhatItDoesNotCover) {
  protocol::PoxCache cache;
  std::string out;
  Query q;
  q.emailAddress = "ext@contoso.com";  // a mail user: redirectAddr
  EXPECT_FALSE(cache.render(org, q, out));
  q.emailAddress = "nobody@contoso.com";
  EXPECT_FALSE(cache.render(org, q, out));
  q.emailAddress = "cat@contoso.com";
  q.schema = Schema::MobileSync;
  EXPECT_FALSE(cache.render(org, q, out));
  q.schema = Schema::Outlook;
  q.explain = true;
  EXPECT_FALSE(cache.render(org, q, out));
  EXPECT_EQ(out, "");
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(PoxCacheTest, ANewSnapshotStartsAgain) {
  protocol::PoxCache cache;
  Query q;
  q.emailAddress = "cat@contoso.com";
  std::string before;
  ASSERT_TRUE(cache.render(org, q, before));
  ASSERT_TRUE(h.run("Get-WebServicesVirtualDirectory -Server E16 | Set-WebServicesVirtualDirectory -InternalUrl https://ews.int.contoso.com/EWS/Exchange.asmx").ok);
  auto next = std::make_shared<const model::Organization>(h.org());
  std::string after;
  ASSERT_TRUE(cache.render(next, q, after));
  EXPECT_NE(after.find("https://ews.int.contoso.com/EWS/Exchange.asmx"), std::string::npos);
  EXPECT_EQ(after, protocol::renderPox(autodiscover::resolve(*next, q), Schema::Outlook, {}));
  EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
