// Every cmdlet, driven through Session::run() over a real SQLite store, as a person would type it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <iterator>
#include <memory>

#include <set>

#include "cert/x509.hpp"
#include "model/schema.hpp"
#include "shell/cmdlets.hpp"
#include "support/shell_harness.hpp"

using namespace autodisc;
using namespace autodisc::model;
using autodisc::testing::RunResult;
using autodisc::testing::ShellHarness;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

namespace {

class Cmdlets : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = h.open();
    ASSERT_EQ(e, "");
  }

  RunResult run(std::string_view line) { return h.run(line); }

  // Runs a line that must succeed; returns what it printed.
  std::string ok(std::string_view line) {
    auto r = h.run(line);
    EXPECT_TRUE(r.ok) << line << "\n  error: " << r.error;
    return r.out;
  }

  // Runs a line that must fail; returns the error message. A failing line prints nothing.
  std::string fails(std::string_view line) {
    auto r = h.run(line);
    EXPECT_FALSE(r.ok) << line << "\n  succeeded, printing:\n" << r.out << r.err;
    EXPECT_EQ(r.out, "") << line;
    EXPECT_EQ(r.err, "") << line;
    return r.error;
  }

  // Runs a line that must fail and must change nothing: in memory, in the store, or its version.
  std::string failsUnchanged(std::string_view line) {
    auto before = autodisc::testing::dumpOrganization(h.org());
    auto version = h.session().version();
    auto storeVersion = h.storeVersion();
    auto e = fails(line);
    EXPECT_EQ(autodisc::testing::dumpOrganization(h.org()), before) << line;
    EXPECT_EQ(h.session().version(), version) << line;
    EXPECT_EQ(h.storeVersion(), storeVersion) << line;
    EXPECT_EQ(h.dumpFromStore(), before) << line;
    return e;
  }

  // A domain, a server and a database: what most tests start from.
  void basicOrg() {
    ok("New-AcceptedDomain -Name contoso.com -DomainName contoso.com");
    ok("New-ExchangeServer -Name EX01 -Fqdn ex01.contoso.local");
    ok("New-MailboxDatabase -Name DB01 -Server EX01");
  }

  const ExchangeServer* server(std::string_view name) { return h.org().serverByName(name); }
  const MailboxDatabase* database(std::string_view name) {
    for (auto& [id, d] : h.org().all<MailboxDatabase>())
      if (text::iequals(d.name, name)) return &d;
    return nullptr;
  }
  const ClientAccessArray* casArray(std::string_view name) {
    for (auto& [id, a] : h.org().all<ClientAccessArray>())
      if (text::iequals(a.name, name)) return &a;
    return nullptr;
  }
  const AcceptedDomain* domain(std::string_view name) {
    for (auto& [id, d] : h.org().all<AcceptedDomain>())
      if (text::iequals(d.name, name)) return &d;
    return nullptr;
  }
  const OutlookProvider* provider(std::string_view name) {
    for (auto& [id, p] : h.org().all<OutlookProvider>())
      if (p.name == name) return &p;
    return nullptr;
  }
  const Recipient* recipient(std::string_view name) { return h.org().recipientByName(name); }
  const VirtualDirectory* vdir(std::string_view serverName, VdirType t) {
    auto* s = server(serverName);
    return s ? h.org().vdirOf(s->id, t) : nullptr;
  }

  ShellHarness h;
};

std::size_t countOf(std::string_view haystack, std::string_view needle) {
  std::size_t n = 0;
  for (auto p = haystack.find(needle); p != std::string_view::npos; p = haystack.find(needle, p + needle.size())) ++n;
  return n;
}

}  // namespace

// --- the session -------------------------------------------------------------------------------

TEST_F(Cmdlets, ANewStoreStartsAsExchangeSetupLeavesIt) {
  EXPECT_EQ(h.org().all<AdSite>().size(), 1u);
  EXPECT_TRUE(h.org().siteByName("Default-First-Site-Name"));
  EXPECT_TRUE(provider("EXCH"));
  EXPECT_TRUE(provider("EXPR"));
  EXPECT_TRUE(provider("WEB"));
  EXPECT_FALSE(h.org().config().guid.isNull());
  EXPECT_GT(h.session().version(), 0u);
}

TEST_F(Cmdlets, NewGuidsDifferFromLineToLine) {
  basicOrg();
  ok("New-MailboxDatabase -Name DB02 -Server EX01");
  ok("New-Mailbox -Name alice");
  ok("New-Mailbox -Name bob");
  auto dbA = database("DB01")->guid, dbB = database("DB02")->guid;
  auto mbA = recipient("alice")->exchangeGuid, mbB = recipient("bob")->exchangeGuid;
  EXPECT_NE(dbA, dbB);
  EXPECT_NE(mbA, mbB);
  EXPECT_NE(dbA, mbA);
}

TEST_F(Cmdlets, EachSuccessfulChangingLineCommitsOneVersion) {
  auto v0 = h.session().version();
  ok("New-ADReplicationSite -Name Paris");
  EXPECT_EQ(h.session().version(), v0 + 1);
  EXPECT_EQ(h.storeVersion(), v0 + 1);
  ok("Get-ADReplicationSite");  // reading changes nothing
  EXPECT_EQ(h.session().version(), v0 + 1);
  ok("New-ADReplicationSite -Name Lyon; New-ADReplicationSite -Name Nice");  // one line, one transaction
  EXPECT_EQ(h.session().version(), v0 + 2);
  EXPECT_EQ(h.dumpFromStore(), autodisc::testing::dumpOrganization(h.org()));
}

TEST_F(Cmdlets, AFailingLineChangesNothingEvenAfterEarlierPipelinesSucceeded) {
  auto e = failsUnchanged("New-ADReplicationSite -Name Paris; New-ADReplicationSite -Name paris");
  EXPECT_THAT(e, StartsWith("New-ADReplicationSite: "));
  EXPECT_THAT(e, HasSubstr("already exists"));
  EXPECT_FALSE(h.org().siteByName("Paris"));
}

TEST_F(Cmdlets, AFailingLinePrintsOnlyItsError) {
  basicOrg();
  // The first pipeline prints a table and the second fails: nothing of the first is printed.
  auto r = run("Get-ExchangeServer; Set-Mailbox -Identity nobody -Alias x");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
}

TEST_F(Cmdlets, ASecondSessionSeesCommittedChanges) {
  ShellHarness* first = &h;
  ok("New-ADReplicationSite -Name Paris");
  auto s = store::openStore("sqlite:" + first->storePath());
  ASSERT_TRUE(s) << s.error().message;
  shell::Session other(**s, autodisc::testing::counterRandom(500));
  ASSERT_TRUE(other.open());
  EXPECT_TRUE(other.org().siteByName("Paris"));
  std::ostringstream out, err;
  ASSERT_TRUE(other.run("New-ADReplicationSite -Name Lyon", out, err));
  // The first session reloads before its next line.
  auto listed = ok("Get-ADReplicationSite");
  EXPECT_THAT(listed, HasSubstr("Lyon"));
  EXPECT_TRUE(h.org().siteByName("Lyon"));
}

TEST_F(Cmdlets, UnknownCmdlet) {
  auto e = failsUnchanged("Get-Foo -Identity x");
  EXPECT_THAT(e, HasSubstr("Get-Foo"));
  EXPECT_THAT(e, HasSubstr("is not recognized as the name of a cmdlet"));
}

TEST_F(Cmdlets, CmdletNamesAndAliasesAnyCase) {
  basicOrg();
  EXPECT_THAT(ok("get-exchangeserver | FL Name"), HasSubstr("Name : EX01"));
  EXPECT_THAT(ok("GET-EXCHANGESERVER | ft Name,Fqdn"), HasSubstr("ex01.contoso.local"));
}

TEST_F(Cmdlets, SyntaxErrorsAreReported) {
  EXPECT_THAT(failsUnchanged("Get-Mailbox -Identity 'abc"), HasSubstr("unterminated"));
  EXPECT_THAT(failsUnchanged("Get-Mailbox |"), HasSubstr("'|'"));
}

TEST_F(Cmdlets, BinderErrorsNameTheCmdlet) {
  basicOrg();
  auto e = failsUnchanged("New-Mailbox -Name alice -Department Sales");
  EXPECT_THAT(e, StartsWith("New-Mailbox: "));
  EXPECT_THAT(e, HasSubstr("'Department'"));
  e = failsUnchanged("Set-OwaVirtualDirectory -Identity EX01 -ExternalUrl");
  EXPECT_THAT(e, StartsWith("Set-OwaVirtualDirectory: "));
  EXPECT_THAT(e, HasSubstr("missing an argument for parameter 'ExternalUrl'"));
}

TEST_F(Cmdlets, MissingMandatoryParameter) {
  basicOrg();
  auto e = failsUnchanged("New-MailUser -Name bob");
  EXPECT_THAT(e, StartsWith("New-MailUser: "));
  EXPECT_THAT(e, HasSubstr("missing the mandatory parameter -ExternalEmailAddress"));
  e = failsUnchanged("New-MailboxDatabase -Name DB02");
  EXPECT_THAT(e, HasSubstr("-Server"));
}

TEST_F(Cmdlets, CmdletsWithoutPipelineInputRefuseIt) {
  basicOrg();
  auto e = failsUnchanged("Get-ExchangeServer | Get-OrganizationConfig");
  EXPECT_THAT(e, StartsWith("Get-OrganizationConfig: "));
  EXPECT_THAT(e, HasSubstr("does not take input from the pipeline"));
}

TEST_F(Cmdlets, PipingTheWrongKindOfObjectIsRefused) {
  basicOrg();
  auto e = failsUnchanged("Get-AcceptedDomain | Set-Mailbox -Alias x");
  EXPECT_THAT(e, StartsWith("Set-Mailbox: "));
  EXPECT_THAT(e, HasSubstr("does not take AcceptedDomain objects"));
}

TEST_F(Cmdlets, IdentityFromThePipelineAndByNameIsRefused) {
  basicOrg();
  auto e = failsUnchanged("Get-MailboxDatabase | Set-MailboxDatabase -Identity DB01 -Name DB09");
  EXPECT_THAT(e, HasSubstr("-Identity was given, and an object also came from the pipeline"));
}

// --- accepted domains ----------------------------------------------------------------------------

TEST_F(Cmdlets, NewAcceptedDomainFirstIsDefault) {
  auto out = ok("New-AcceptedDomain -Name Contoso -DomainName CONTOSO.com");
  EXPECT_THAT(out, HasSubstr("contoso.com"));
  ok("New-AcceptedDomain -Name Fabrikam -DomainName fabrikam.com -DomainType InternalRelay");
  ASSERT_TRUE(domain("Contoso"));
  EXPECT_EQ(domain("Contoso")->domainName, "contoso.com");  // stored in lower case
  EXPECT_TRUE(domain("Contoso")->isDefault);
  ASSERT_TRUE(domain("Fabrikam"));
  EXPECT_FALSE(domain("Fabrikam")->isDefault);
  EXPECT_EQ(domain("Fabrikam")->domainType, DomainType::InternalRelay);
  EXPECT_EQ(h.org().acceptedDomainFor("FABRIKAM.COM"), domain("Fabrikam"));
}

TEST_F(Cmdlets, AnAcceptedDomainAnsweredElsewhere) {
  ok("New-AcceptedDomain -Name contoso -DomainName contoso.com");
  ok("New-AcceptedDomain -Name hosted -DomainName hosted.example -AutodiscoverRedirectUrl https://autodiscover.hoster.net/Autodiscover/Autodiscover.xml");
  EXPECT_EQ(domain("hosted")->autodiscoverRedirectUrl, "https://autodiscover.hoster.net/Autodiscover/Autodiscover.xml");
  ok("Set-AcceptedDomain contoso -AutodiscoverRedirectUrl https://ad.hoster.net/Autodiscover/Autodiscover.xml");
  EXPECT_THAT(ok("Get-AcceptedDomain contoso | Format-List AutodiscoverRedirectUrl"),
              HasSubstr("https://ad.hoster.net/Autodiscover/Autodiscover.xml"));
  ok("Set-AcceptedDomain contoso -AutodiscoverRedirectUrl $null");
  EXPECT_EQ(domain("contoso")->autodiscoverRedirectUrl, "");
  EXPECT_THAT(failsUnchanged("Set-AcceptedDomain hosted -AutodiscoverRedirectUrl 'not a url'"),
              HasSubstr("-AutodiscoverRedirectUrl 'not a url'"));
}

TEST_F(Cmdlets, NewAcceptedDomainRefusesDuplicatesAndBadValues) {
  ok("New-AcceptedDomain -Name contoso -DomainName contoso.com");
  EXPECT_THAT(failsUnchanged("New-AcceptedDomain -Name CONTOSO -DomainName other.com"), HasSubstr("already exists"));
  EXPECT_THAT(failsUnchanged("New-AcceptedDomain -Name other -DomainName Contoso.COM"),
              HasSubstr("is already the accepted domain"));
  auto e = failsUnchanged("New-AcceptedDomain -Name bad -DomainName 'not a domain'");
  EXPECT_THAT(e, StartsWith("New-AcceptedDomain: "));
  EXPECT_THAT(e, HasSubstr("-DomainName 'not a domain'"));
  e = failsUnchanged("New-AcceptedDomain -Name x -DomainName x.com -DomainType Sometimes");
  EXPECT_THAT(e, HasSubstr("-DomainType 'Sometimes'"));
  EXPECT_THAT(e, HasSubstr("not a domain type"));
}

TEST_F(Cmdlets, GetAcceptedDomain) {
  ok("New-AcceptedDomain -Name contoso -DomainName contoso.com");
  ok("New-AcceptedDomain -Name fabrikam -DomainName fabrikam.com");
  auto out = ok("Get-AcceptedDomain");
  EXPECT_THAT(out, HasSubstr("DomainName"));
  EXPECT_THAT(out, HasSubstr("contoso.com"));
  EXPECT_THAT(out, HasSubstr("fabrikam.com"));
  auto one = ok("Get-AcceptedDomain -Identity FABRIKAM.COM | ConvertTo-Json");
  EXPECT_THAT(one, HasSubstr("\"Name\": \"fabrikam\""));
  EXPECT_THAT(one, HasSubstr("\"Default\": false"));
  EXPECT_THAT(failsUnchanged("Get-AcceptedDomain -Identity nowhere.com"), HasSubstr("couldn't be found"));
}

TEST_F(Cmdlets, SetAcceptedDomainMakeDefaultChangesWhereNewAddressesGo) {
  basicOrg();
  ok("New-AcceptedDomain -Name fabrikam -DomainName fabrikam.com");
  ok("Set-AcceptedDomain -Identity fabrikam.com -MakeDefault");
  EXPECT_TRUE(domain("fabrikam")->isDefault);
  EXPECT_FALSE(domain("contoso.com")->isDefault);
  ok("New-Mailbox -Name alice");
  ASSERT_TRUE(recipient("alice"));
  EXPECT_EQ(recipient("alice")->primarySmtpAddress(), "alice@fabrikam.com");
  ok("Set-AcceptedDomain fabrikam -DomainType ExternalRelay");
  EXPECT_EQ(domain("fabrikam")->domainType, DomainType::ExternalRelay);
}

TEST_F(Cmdlets, SetWithNoChangeWarnsAndCommitsNothing) {
  ok("New-AcceptedDomain -Name contoso -DomainName contoso.com");
  auto v = h.session().version();
  auto r = run("Set-AcceptedDomain contoso -MakeDefault");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_THAT(r.err, HasSubstr("WARNING: The command completed successfully but no settings of 'contoso' have been modified."));
  EXPECT_EQ(h.session().version(), v);
}

TEST_F(Cmdlets, RemoveAcceptedDomainRefusals) {
  basicOrg();
  ok("New-AcceptedDomain -Name fabrikam -DomainName fabrikam.com");
  auto e = failsUnchanged("Remove-AcceptedDomain -Identity contoso.com");
  EXPECT_THAT(e, StartsWith("Remove-AcceptedDomain: "));
  EXPECT_THAT(e, HasSubstr("is the default domain"));
  ok("New-Mailbox -Name bob -PrimarySmtpAddress bob@fabrikam.com");
  e = failsUnchanged("Remove-AcceptedDomain -Identity fabrikam");
  EXPECT_THAT(e, HasSubstr("primary address domain of 'bob'"));
  ok("Remove-Mailbox bob");
  ok("Remove-AcceptedDomain -Identity fabrikam -Confirm:$false");
  EXPECT_FALSE(domain("fabrikam"));
  EXPECT_FALSE(h.org().acceptedDomainFor("fabrikam.com"));
}

// --- sites and subnets ---------------------------------------------------------------------------

TEST_F(Cmdlets, NewAndGetADReplicationSite) {
  auto out = ok("New-ADReplicationSite -Name Paris");
  EXPECT_THAT(out, HasSubstr("Paris"));
  EXPECT_THAT(failsUnchanged("New-ADReplicationSite PARIS"), HasSubstr("a site named 'PARIS' already exists"));
  EXPECT_THAT(failsUnchanged("New-ADReplicationSite -Name ''"), HasSubstr("-Name ''"));
  auto all = ok("Get-ADReplicationSite -Filter *");
  EXPECT_THAT(all, HasSubstr("Default-First-Site-Name"));
  EXPECT_THAT(all, HasSubstr("Paris"));
  EXPECT_THAT(ok("Get-ADReplicationSite -Identity paris | Format-List Name"), HasSubstr("Name : Paris"));
}

TEST_F(Cmdlets, ADReplicationSubnets) {
  ok("New-ADReplicationSite -Name Paris");
  // With several sites, -Site is required.
  auto e = failsUnchanged("New-ADReplicationSubnet -Name 10.1.0.0/16");
  EXPECT_THAT(e, HasSubstr("-Site is required"));
  EXPECT_THAT(e, HasSubstr("Paris"));
  ok("New-ADReplicationSubnet -Name 10.1.0.0/16 -Site Paris");
  ok("New-ADReplicationSubnet -Name 2001:db8::/32 -Site Default-First-Site-Name");
  e = failsUnchanged("New-ADReplicationSubnet -Name 10.1.2.0/16 -Site Paris");
  EXPECT_THAT(e, HasSubstr("-Name '10.1.2.0/16'"));
  EXPECT_THAT(e, HasSubstr("host bits"));
  EXPECT_THAT(failsUnchanged("New-ADReplicationSubnet -Name 10.1.0.0/16 -Site Paris"), HasSubstr("already exists"));
  EXPECT_THAT(failsUnchanged("New-ADReplicationSubnet -Name 10.2.0.0/16 -Site Berlin"), HasSubstr("-Site 'Berlin'"));
  auto addr = parseIpAddress("10.1.200.3");
  ASSERT_TRUE(addr);
  ASSERT_TRUE(h.org().siteForAddress(*addr));
  EXPECT_EQ(h.org().siteForAddress(*addr)->name, "Paris");
  auto json = ok("Get-ADReplicationSite Paris | ConvertTo-Json -Compress");
  EXPECT_THAT(json, HasSubstr("\"Subnets\":[\"10.1.0.0/16\"]"));
  auto subnets = ok("Get-ADReplicationSubnet -Filter *");
  EXPECT_THAT(subnets, HasSubstr("10.1.0.0/16"));
  EXPECT_THAT(subnets, HasSubstr("2001:db8::/32"));
  ok("Remove-ADReplicationSubnet -Identity 10.1.0.0/16");
  EXPECT_FALSE(h.org().siteForAddress(*addr));
  EXPECT_THAT(ok("Get-ADReplicationSubnet"), Not(HasSubstr("10.1.0.0/16")));
}

TEST_F(Cmdlets, RemoveADReplicationSiteRefusesSitesInUse) {
  ok("New-ADReplicationSite -Name Paris");
  ok("New-ExchangeServer -Name EX02 -Fqdn ex02.contoso.local -Site Paris");
  auto e = failsUnchanged("Remove-ADReplicationSite -Identity Paris");
  EXPECT_THAT(e, StartsWith("Remove-ADReplicationSite: "));
  EXPECT_THAT(e, HasSubstr("the server 'EX02' is in site 'Paris'"));
  ok("Remove-ExchangeServer EX02");
  ok("New-ADReplicationSubnet -Name 10.9.0.0/16 -Site Paris");
  EXPECT_THAT(failsUnchanged("Remove-ADReplicationSite -Identity Paris"), HasSubstr("10.9.0.0/16"));
  ok("Remove-ADReplicationSubnet 10.9.0.0/16");
  ok("New-ClientAccessArray -Name A1 -Fqdn outlook.paris.local -Site Paris");
  EXPECT_THAT(failsUnchanged("Remove-ADReplicationSite -Identity Paris"), HasSubstr("the array 'A1'"));
  ok("Remove-ClientAccessArray A1");
  ok("Remove-ADReplicationSite -Identity Paris");
  EXPECT_FALSE(h.org().siteByName("Paris"));
}

// --- Exchange servers ------------------------------------------------------------------------------

TEST_F(Cmdlets, NewExchangeServerCreatesWhatSetupCreates) {
  ok("New-ExchangeServer -Name EX01 -Fqdn EX01.Contoso.Local");
  auto* s = server("EX01");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->fqdn, "ex01.contoso.local");
  EXPECT_EQ(s->autoDiscoverServiceInternalUri, "https://ex01.contoso.local/Autodiscover/Autodiscover.xml");
  EXPECT_EQ(s->autoDiscoverSiteScope, std::vector<std::string>{"Default-First-Site-Name"});
  EXPECT_TRUE(s->isClientAccess());
  EXPECT_EQ(s->version.major, 15);
  EXPECT_EQ(s->version.minor, 2);
  EXPECT_EQ(h.org().vdirsOf(s->id).size(), 7u);
  struct Expect {
    VdirType type;
    const char* url;
  };
  for (auto [type, url] : {Expect{VdirType::Owa, "https://ex01.contoso.local/owa"},
                           Expect{VdirType::Oab, "https://ex01.contoso.local/OAB"},
                           Expect{VdirType::Ews, "https://ex01.contoso.local/EWS/Exchange.asmx"},
                           Expect{VdirType::ActiveSync, "https://ex01.contoso.local/Microsoft-Server-ActiveSync"},
                           Expect{VdirType::Ecp, "https://ex01.contoso.local/ecp"},
                           Expect{VdirType::Mapi, "https://ex01.contoso.local/mapi"}}) {
    auto* v = vdir("EX01", type);
    ASSERT_TRUE(v) << vdirTypeName(type);
    EXPECT_EQ(v->internalUrl, url) << vdirTypeName(type);
    EXPECT_EQ(v->externalUrl, "") << vdirTypeName(type);
    EXPECT_EQ(v->website, "Default Web Site");
  }
  auto* ad = vdir("EX01", VdirType::Autodiscover);
  ASSERT_TRUE(ad);
  EXPECT_EQ(ad->externalUrl, "");
  auto* oa = h.org().outlookAnywhereOf(s->id);
  ASSERT_TRUE(oa);
  EXPECT_EQ(oa->internalHostname, "ex01.contoso.local");
  EXPECT_EQ(oa->externalHostname, "");
  // The same through the shell.
  auto json = ok("Get-ClientAccessServer -Identity EX01 | ConvertTo-Json");
  EXPECT_THAT(json, HasSubstr("\"AutoDiscoverServiceInternalUri\": \"https://ex01.contoso.local/Autodiscover/Autodiscover.xml\""));
  auto owa = ok("Get-OwaVirtualDirectory -Server EX01 | ConvertTo-Json");
  EXPECT_THAT(owa, HasSubstr("\"InternalUrl\": \"https://ex01.contoso.local/owa\""));
  EXPECT_THAT(owa, HasSubstr("\"ExternalUrl\": \"\""));
}

TEST_F(Cmdlets, NewExchangeServerAutodiscoverDirectoryInternalUrl) {
  // Exchange leaves the Autodiscover directory's URLs empty (the article's Figure 4); the URL
  // that clients find is the server's AutoDiscoverServiceInternalUri.
  ok("New-ExchangeServer -Name EX01 -Fqdn ex01.contoso.local");
  auto* ad = vdir("EX01", VdirType::Autodiscover);
  ASSERT_TRUE(ad);
  EXPECT_EQ(ad->internalUrl, "");
  EXPECT_EQ(ad->externalUrl, "");
  EXPECT_EQ(server("EX01")->autoDiscoverServiceInternalUri, "https://ex01.contoso.local/Autodiscover/Autodiscover.xml");
}

TEST_F(Cmdlets, NewExchangeServerOptionsAndMailboxOnlyServers) {
  ok("New-ADReplicationSite -Name Paris");
  ok("New-ExchangeServer -Name EX14 -Fqdn ex14.contoso.local -Site Paris -ServerRole Mailbox,ClientAccess,HubTransport "
     "-AdminDisplayVersion 'Version 14.3 (Build 123.4)'");
  auto* s = server("EX14");
  ASSERT_TRUE(s);
  EXPECT_EQ(h.org().find<AdSite>(s->site)->name, "Paris");
  EXPECT_EQ(s->version.str(), "Version 14.3 (Build 123.4)");
  EXPECT_EQ(s->autoDiscoverSiteScope, std::vector<std::string>{"Paris"});
  ok("New-ExchangeServer -Name MBX1 -Fqdn mbx1.contoso.local -Site Paris -ServerRole Mailbox");
  auto* m = server("MBX1");
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->isClientAccess());
  EXPECT_EQ(m->autoDiscoverServiceInternalUri, "");
  EXPECT_TRUE(h.org().vdirsOf(m->id).empty());
  EXPECT_FALSE(h.org().outlookAnywhereOf(m->id));
  auto cas = ok("Get-ClientAccessServer");
  EXPECT_THAT(cas, HasSubstr("EX14"));
  EXPECT_THAT(cas, Not(HasSubstr("MBX1")));
  auto all = ok("Get-ExchangeServer");
  EXPECT_THAT(all, HasSubstr("MBX1"));
  EXPECT_THAT(all, HasSubstr("Mailbox, ClientAccess, HubTransport"));
}

TEST_F(Cmdlets, NewExchangeServerRefusesDuplicatesAndBadValues) {
  ok("New-ExchangeServer -Name EX01 -Fqdn ex01.contoso.local");
  auto e = failsUnchanged("New-ExchangeServer -Name ex01 -Fqdn other.contoso.local");
  EXPECT_THAT(e, StartsWith("New-ExchangeServer: "));
  EXPECT_THAT(e, HasSubstr("a server named 'ex01' already exists"));
  e = failsUnchanged("New-ExchangeServer -Name EX02 -Fqdn EX01.CONTOSO.LOCAL");
  EXPECT_THAT(e, HasSubstr("already has the FQDN"));
  e = failsUnchanged("New-ExchangeServer -Name ex02.contoso -Fqdn ex02.contoso.local");
  EXPECT_THAT(e, HasSubstr("-Name 'ex02.contoso'"));
  EXPECT_THAT(e, HasSubstr("not a valid server name"));
  e = failsUnchanged("New-ExchangeServer -Name EX02 -Fqdn 'ex02 contoso'");
  EXPECT_THAT(e, HasSubstr("-Fqdn 'ex02 contoso'"));
  e = failsUnchanged("New-ExchangeServer -Name EX02 -Fqdn ex02.contoso.local -ServerRole Toaster");
  EXPECT_THAT(e, HasSubstr("-ServerRole '"));
  EXPECT_THAT(e, HasSubstr("'Toaster'"));
  EXPECT_THAT(e, HasSubstr("not a server role"));
  e = failsUnchanged("New-ExchangeServer -Name EX02 -Fqdn ex02.contoso.local -AdminDisplayVersion 'Version x'");
  EXPECT_THAT(e, HasSubstr("-AdminDisplayVersion 'Version x'"));
  e = failsUnchanged("New-ExchangeServer -Name EX02 -Fqdn ex02.contoso.local -Site Nowhere");
  EXPECT_THAT(e, HasSubstr("-Site 'Nowhere'"));
}

TEST_F(Cmdlets, NewExchangeServerRefusesTheFqdnOfACasArray) {
  ok("New-ExchangeServer -Name EX01 -Fqdn ex01.contoso.local");
  ok("New-ClientAccessArray -Name CAS_Array -Fqdn outlook.contoso.local");
  auto r = run("New-ExchangeServer -Name EX02 -Fqdn outlook.contoso.local");
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.error, HasSubstr("outlook.contoso.local"));
}

TEST_F(Cmdlets, GetExchangeServer) {
  basicOrg();
  ok("New-ExchangeServer -Name EX02 -Fqdn ex02.contoso.local");
  auto out = ok("Get-ExchangeServer");
  EXPECT_THAT(out, HasSubstr("EX01"));
  EXPECT_THAT(out, HasSubstr("EX02"));
  EXPECT_THAT(out, HasSubstr("AdminDisplayVersion"));
  auto byFqdn = ok("Get-ExchangeServer -Identity EX02.contoso.local | Format-List Name");
  EXPECT_EQ(byFqdn, "\nName : EX02\n\n");
  auto wild = ok("Get-ExchangeServer EX* | Measure-Object");
  EXPECT_THAT(wild, HasSubstr("Count    : 2"));
  EXPECT_THAT(failsUnchanged("Get-ExchangeServer -Identity EX09"), HasSubstr("'EX09' couldn't be found"));
}

TEST_F(Cmdlets, RemoveExchangeServer) {
  basicOrg();
  auto e = failsUnchanged("Remove-ExchangeServer -Identity EX01");
  EXPECT_THAT(e, StartsWith("Remove-ExchangeServer: "));
  EXPECT_THAT(e, HasSubstr("the mailbox database 'DB01' is on 'EX01'"));
  ok("New-ExchangeServer -Name EX02 -Fqdn ex02.contoso.local");
  auto id = server("EX02")->id;
  ok("Remove-ExchangeServer EX02 -Confirm:$false");
  EXPECT_FALSE(server("EX02"));
  EXPECT_TRUE(h.org().vdirsOf(id).empty());  // its directories went with it
  EXPECT_FALSE(h.org().outlookAnywhereOf(id));
  EXPECT_THAT(ok("Get-OwaVirtualDirectory"), Not(HasSubstr("EX02")));
  EXPECT_EQ(h.dumpFromStore(), autodisc::testing::dumpOrganization(h.org()));
}

// --- Client Access ----------------------------------------------------------------------------------

TEST_F(Cmdlets, SetClientAccessServerAndService) {
  basicOrg();
  ok("New-ADReplicationSite -Name Paris");
  ok("Set-ClientAccessServer -Identity EX01 -AutoDiscoverServiceInternalUri https://mail.contoso.com/Autodiscover/Autodiscover.xml");
  EXPECT_EQ(server("EX01")->autoDiscoverServiceInternalUri, "https://mail.contoso.com/Autodiscover/Autodiscover.xml");
  ok("Set-ClientAccessService EX01 -AutoDiscoverSiteScope paris,Default-First-Site-Name");
  EXPECT_EQ(server("EX01")->autoDiscoverSiteScope, (std::vector<std::string>{"Paris", "Default-First-Site-Name"}));
  auto fl = ok("Get-ClientAccessService EX01 | Format-List Name,AutoDiscover*");
  EXPECT_THAT(fl, HasSubstr("AutoDiscoverServiceInternalUri : https://mail.contoso.com/Autodiscover/Autodiscover.xml"));
  EXPECT_THAT(fl, HasSubstr("AutoDiscoverSiteScope          : {Paris, Default-First-Site-Name}"));
  auto e = failsUnchanged("Set-ClientAccessServer -Identity EX01 -AutoDiscoverServiceInternalUri mail.contoso.com");
  EXPECT_THAT(e, StartsWith("Set-ClientAccessServer: "));
  EXPECT_THAT(e, HasSubstr("-AutoDiscoverServiceInternalUri 'mail.contoso.com'"));
  EXPECT_THAT(e, HasSubstr("not a valid URL"));
}

TEST_F(Cmdlets, SetClientAccessServerRefusesMailboxOnlyServers) {
  ok("New-ExchangeServer -Name MBX1 -Fqdn mbx1.contoso.local -ServerRole Mailbox");
  auto e = failsUnchanged("Set-ClientAccessServer -Identity MBX1 -AutoDiscoverServiceInternalUri https://x.contoso.com/a");
  EXPECT_THAT(e, HasSubstr("-Identity 'MBX1'"));
  EXPECT_THAT(e, HasSubstr("couldn't be found"));
}

TEST_F(Cmdlets, GetClientAccessServerOnlyTakesClientAccessServersFromThePipeline) {
  ok("New-ExchangeServer -Name EX01 -Fqdn ex01.contoso.local");
  ok("New-ExchangeServer -Name MBX1 -Fqdn mbx1.contoso.local -ServerRole Mailbox");
  auto r = run("Get-ExchangeServer | Get-ClientAccessServer | Format-Table Name");
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.error, HasSubstr("MBX1"));
  EXPECT_THAT(run("Get-ExchangeServer -Identity EX01 | Get-ClientAccessServer | Format-Table Name").out, HasSubstr("EX01"));
}

TEST_F(Cmdlets, GetMailboxOnlyTakesMailboxesFromThePipeline) {
  basicOrg();
  ok("New-Mailbox -Name alice");
  ok("New-MailUser -Name bob -ExternalEmailAddress bob@fabrikam.com");
  auto r = run("Get-Recipient | Get-Mailbox | Format-Table Name");
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.error, HasSubstr("bob"));
}

// --- virtual directories ----------------------------------------------------------------------------

TEST_F(Cmdlets, EveryVirtualDirectoryCmdletGetsAndSets) {
  basicOrg();
  struct Case {
    const char* noun;
    VdirType type;
    const char* name;
    const char* path;
  };
  const Case cases[] = {
      {"OwaVirtualDirectory", VdirType::Owa, "owa", "/owa"},
      {"OabVirtualDirectory", VdirType::Oab, "OAB", "/OAB"},
      {"WebServicesVirtualDirectory", VdirType::Ews, "EWS", "/EWS/Exchange.asmx"},
      {"ActiveSyncVirtualDirectory", VdirType::ActiveSync, "Microsoft-Server-ActiveSync", "/Microsoft-Server-ActiveSync"},
      {"EcpVirtualDirectory", VdirType::Ecp, "ecp", "/ecp"},
      {"AutodiscoverVirtualDirectory", VdirType::Autodiscover, "Autodiscover", "/Autodiscover/Autodiscover.xml"},
      {"MapiVirtualDirectory", VdirType::Mapi, "mapi", "/mapi"},
  };
  for (auto& c : cases) {
    SCOPED_TRACE(c.noun);
    std::string get = std::string("Get-") + c.noun;
    std::string set = std::string("Set-") + c.noun;
    auto listed = ok(get + " -Server EX01 | Format-List Identity,Server");
    EXPECT_THAT(listed, HasSubstr(std::string("Identity : EX01\\") + c.name + " (Default Web Site)"));
    EXPECT_EQ(countOf(listed, "Identity :"), 1u);  // only this kind of directory
    std::string url = std::string("https://mail.contoso.com") + c.path;
    auto r = run(set + " -Identity \"EX01\\" + c.name + " (Default Web Site)\" -ExternalUrl " + url);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(vdir("EX01", c.type)->externalUrl, url);
    auto json = ok(get + " -Identity 'EX01\\" + c.name + " (Default Web Site)' | ConvertTo-Json");
    EXPECT_THAT(json, HasSubstr("\"ExternalUrl\": \"" + url + "\""));
    // By server name alone, too (one directory of each kind per server).
    ok(set + " EX01 -ExternalUrl $null");
    EXPECT_EQ(vdir("EX01", c.type)->externalUrl, "");
  }
}

TEST_F(Cmdlets, ArticleIdentityFormWithoutQuotes) {
  basicOrg();
  ok("Set-OwaVirtualDirectory -Identity ex01\\OWA (default web site) -ExternalUrl https://mail.contoso.com/owa");
  EXPECT_EQ(vdir("EX01", VdirType::Owa)->externalUrl, "https://mail.contoso.com/owa");
  ok("Set-OabVirtualDirectory \xE2\x80\x93Identity \xE2\x80\x9C" "EX01\\OAB (Default Web Site)\xE2\x80\x9D "
     "\xE2\x80\x94" "ExternalUrl https://mail.contoso.com/OAB");
  EXPECT_EQ(vdir("EX01", VdirType::Oab)->externalUrl, "https://mail.contoso.com/OAB");
}

TEST_F(Cmdlets, SetAutodiscoverVirtualDirectoryUrlWarns) {
  basicOrg();
  auto r = run("Set-AutodiscoverVirtualDirectory -Identity 'EX01\\Autodiscover (Default Web Site)' "
               "-InternalUrl https://mail.contoso.com/Autodiscover/Autodiscover.xml");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_THAT(r.err, StartsWith("WARNING: "));
  EXPECT_THAT(r.err, HasSubstr("Set-ClientAccessServer -Identity EX01 -AutoDiscoverServiceInternalUri"));
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(vdir("EX01", VdirType::Autodiscover)->internalUrl, "https://mail.contoso.com/Autodiscover/Autodiscover.xml");
  // Changing only the authentication does not warn.
  auto r2 = run("Set-AutodiscoverVirtualDirectory EX01 -BasicAuthentication $true");
  ASSERT_TRUE(r2.ok) << r2.error;
  EXPECT_EQ(r2.err, "");
}

TEST_F(Cmdlets, SetVirtualDirectoryAuthentication) {
  basicOrg();
  ok("Set-WebServicesVirtualDirectory EX01 -BasicAuthentication $true -WindowsAuthentication:$false");
  auto* v = vdir("EX01", VdirType::Ews);
  auto has = [](const std::vector<AuthMethod>& l, AuthMethod m) { return std::find(l.begin(), l.end(), m) != l.end(); };
  EXPECT_TRUE(has(v->internalAuthenticationMethods, AuthMethod::Basic));
  EXPECT_TRUE(has(v->externalAuthenticationMethods, AuthMethod::Basic));
  EXPECT_FALSE(has(v->internalAuthenticationMethods, AuthMethod::WindowsIntegrated));
  ok("Set-WebServicesVirtualDirectory EX01 -ExternalAuthenticationMethods Ntlm,OAuth");
  v = vdir("EX01", VdirType::Ews);
  EXPECT_EQ(v->externalAuthenticationMethods, (std::vector<AuthMethod>{AuthMethod::Ntlm, AuthMethod::OAuth}));
  auto e = failsUnchanged("Set-WebServicesVirtualDirectory EX01 -InternalAuthenticationMethods Ntlm,Magic");
  EXPECT_THAT(e, HasSubstr("-InternalAuthenticationMethods"));
  EXPECT_THAT(e, HasSubstr("'Magic' is not an authentication method"));
}

TEST_F(Cmdlets, SetVirtualDirectoryBadUrlNamesCmdletParameterAndValue) {
  basicOrg();
  auto e = failsUnchanged("Set-OwaVirtualDirectory -Identity 'EX01\\owa (Default Web Site)' -ExternalUrl mail.contoso.com/owa");
  EXPECT_THAT(e, StartsWith("Set-OwaVirtualDirectory: "));
  EXPECT_THAT(e, HasSubstr("-ExternalUrl 'mail.contoso.com/owa'"));
  EXPECT_THAT(e, HasSubstr("not a valid URL"));
  e = failsUnchanged("Set-OwaVirtualDirectory -Identity 'EX01\\owa (Default Web Site)' -InternalUrl ftp://x.contoso.com/owa");
  EXPECT_THAT(e, HasSubstr("-InternalUrl 'ftp://x.contoso.com/owa'"));
  e = failsUnchanged("Set-OwaVirtualDirectory -Identity 'EX09\\owa (Default Web Site)' -ExternalUrl https://a.b/owa");
  EXPECT_THAT(e, HasSubstr("-Identity 'EX09\\owa (Default Web Site)'"));
  EXPECT_THAT(e, HasSubstr("couldn't be found"));
  // The OWA cmdlet does not find the ECP directory.
  e = failsUnchanged("Set-OwaVirtualDirectory -Identity 'EX01\\ecp (Default Web Site)' -ExternalUrl https://a.b/ecp");
  EXPECT_THAT(e, HasSubstr("couldn't be found"));
}

TEST_F(Cmdlets, ServersPipeIntoVirtualDirectoryCmdlets) {
  basicOrg();
  ok("New-ExchangeServer -Name EX02 -Fqdn ex02.contoso.local");
  auto out = ok("Get-ExchangeServer EX02 | Get-OwaVirtualDirectory | Format-List Identity");
  EXPECT_EQ(out, "\nIdentity : EX02\\owa (Default Web Site)\n\n");
  ok("Get-OwaVirtualDirectory | Set-OwaVirtualDirectory -ExternalUrl https://mail.contoso.com/owa");
  EXPECT_EQ(vdir("EX01", VdirType::Owa)->externalUrl, "https://mail.contoso.com/owa");
  EXPECT_EQ(vdir("EX02", VdirType::Owa)->externalUrl, "https://mail.contoso.com/owa");
}

// --- Outlook Anywhere ---------------------------------------------------------------------------

TEST_F(Cmdlets, GetAndSetOutlookAnywhere) {
  basicOrg();
  auto out = ok("Get-OutlookAnywhere -Server EX01 | Format-List *Hostname");
  EXPECT_THAT(out, HasSubstr("InternalHostname : ex01.contoso.local"));
  EXPECT_THAT(out, HasSubstr("ExternalHostname :"));
  ok("Set-OutlookAnywhere -Identity 'EX01\\Rpc (Default Web Site)' -ExternalHostname mail.contoso.com "
     "-ExternalClientsRequireSsl $true -ExternalClientAuthenticationMethod Basic -IISAuthenticationMethods Basic,NTLM");
  auto* oa = h.org().outlookAnywhereOf(server("EX01")->id);
  EXPECT_EQ(oa->externalHostname, "mail.contoso.com");
  EXPECT_EQ(oa->externalClientAuthenticationMethod, AuthMethod::Basic);
  EXPECT_EQ(oa->iisAuthenticationMethods, (std::vector<AuthMethod>{AuthMethod::Basic, AuthMethod::Ntlm}));
  auto json = ok("Get-OutlookAnywhere | ConvertTo-Json");
  EXPECT_THAT(json, HasSubstr("\"ExternalHostname\": \"mail.contoso.com\""));
  EXPECT_THAT(json, HasSubstr("\"ExternalClientAuthenticationMethod\": \"Basic\""));
  auto e = failsUnchanged("Set-OutlookAnywhere EX01 -ExternalClientAuthenticationMethod Magic");
  EXPECT_THAT(e, StartsWith("Set-OutlookAnywhere: "));
  EXPECT_THAT(e, HasSubstr("-ExternalClientAuthenticationMethod 'Magic'"));
  e = failsUnchanged("Set-OutlookAnywhere EX01 -ExternalHostname 'https://mail.contoso.com'");
  EXPECT_THAT(e, HasSubstr("-ExternalHostname 'https://mail.contoso.com'"));
}

// --- CAS arrays and databases ---------------------------------------------------------------------

TEST_F(Cmdlets, NewDatabaseInASiteWithACasArrayUsesTheArray) {
  basicOrg();
  EXPECT_EQ(database("DB01")->rpcClientAccessServer, "ex01.contoso.local");
  ok("New-ClientAccessArray -Fqdn Outlook.Contoso.Local -Name CAS_Array -Site Default-First-Site-Name");
  ASSERT_TRUE(casArray("CAS_Array"));
  EXPECT_EQ(casArray("CAS_Array")->fqdn, "outlook.contoso.local");
  ok("New-MailboxDatabase -Name DB02 -Server EX01");
  EXPECT_EQ(database("DB02")->rpcClientAccessServer, "outlook.contoso.local");
  EXPECT_EQ(database("DB01")->rpcClientAccessServer, "ex01.contoso.local");  // existing ones keep theirs
  // A server in another site, without an array, gets its own FQDN.
  ok("New-ADReplicationSite -Name Paris");
  ok("New-ExchangeServer -Name EX02 -Fqdn ex02.contoso.local -Site Paris");
  ok("New-MailboxDatabase -Name DB03 -Server EX02");
  EXPECT_EQ(database("DB03")->rpcClientAccessServer, "ex02.contoso.local");
  auto table = ok("Get-MailboxDatabase");
  EXPECT_THAT(table, HasSubstr("RpcClientAccessServer"));
  EXPECT_THAT(table, HasSubstr("outlook.contoso.local"));
}

TEST_F(Cmdlets, ClientAccessArrayRules) {
  basicOrg();
  ok("New-ClientAccessArray -Name CAS_Array -Fqdn outlook.contoso.local");
  auto e = failsUnchanged("New-ClientAccessArray -Name Second -Fqdn second.contoso.local");
  EXPECT_THAT(e, StartsWith("New-ClientAccessArray: "));
  EXPECT_THAT(e, HasSubstr("one array per site"));
  ok("New-ADReplicationSite -Name Paris");
  EXPECT_THAT(failsUnchanged("New-ClientAccessArray -Name cas_array -Fqdn paris.contoso.local -Site Paris"),
              HasSubstr("already exists"));
  EXPECT_THAT(failsUnchanged("New-ClientAccessArray -Name P -Fqdn OUTLOOK.contoso.local -Site Paris"),
              HasSubstr("already has the FQDN"));
  e = failsUnchanged("New-ClientAccessArray -Name P -Fqdn ex01.contoso.local -Site Paris");
  EXPECT_THAT(e, HasSubstr("belongs to the server 'EX01'"));
  e = failsUnchanged("New-ClientAccessArray -Name P -Fqdn 'bad name' -Site Paris");
  EXPECT_THAT(e, HasSubstr("-Fqdn 'bad name'"));
}

TEST_F(Cmdlets, GetSetRemoveClientAccessArray) {
  basicOrg();
  ok("New-ClientAccessArray -Name CAS_Array -Fqdn outlook.contoso.local");
  auto out = ok("Get-ClientAccessArray | Format-List Name,Fqdn,Members");
  EXPECT_THAT(out, HasSubstr("Fqdn    : outlook.contoso.local"));
  EXPECT_THAT(out, HasSubstr("Members : {EX01}"));
  ok("Set-ClientAccessArray -Identity CAS_Array -Fqdn outlook2.contoso.local");
  EXPECT_EQ(casArray("CAS_Array")->fqdn, "outlook2.contoso.local");
  ok("New-ADReplicationSite -Name Paris");
  ok("Set-ClientAccessArray outlook2.contoso.local -Site Paris -Name ParisArray");
  ASSERT_TRUE(casArray("ParisArray"));
  EXPECT_EQ(h.org().find<AdSite>(casArray("ParisArray")->site)->name, "Paris");
  ok("Remove-ClientAccessArray -Identity ParisArray");
  EXPECT_TRUE(h.org().all<ClientAccessArray>().empty());
  EXPECT_THAT(failsUnchanged("Remove-ClientAccessArray -Identity ParisArray"), HasSubstr("couldn't be found"));
}

TEST_F(Cmdlets, NewMailboxDatabaseErrors) {
  basicOrg();
  auto e = failsUnchanged("New-MailboxDatabase -Name DB02 -Server EX09");
  EXPECT_THAT(e, StartsWith("New-MailboxDatabase: "));
  EXPECT_THAT(e, HasSubstr("-Server 'EX09'"));
  EXPECT_THAT(failsUnchanged("New-MailboxDatabase -Name db01 -Server EX01"), HasSubstr("already exists"));
}

TEST_F(Cmdlets, GetMailboxDatabase) {
  basicOrg();
  ok("New-ExchangeServer -Name EX02 -Fqdn ex02.contoso.local");
  ok("New-MailboxDatabase -Name DB02 -Server ex02.contoso.local");
  auto out = ok("Get-MailboxDatabase -Server EX02 | Format-Table Name,Server");
  EXPECT_THAT(out, HasSubstr("DB02"));
  EXPECT_THAT(out, Not(HasSubstr("DB01")));
  auto guid = database("DB02")->guid.str();
  EXPECT_THAT(ok("Get-MailboxDatabase -Identity " + guid + " | Format-List Name"), HasSubstr("Name : DB02"));
}

TEST_F(Cmdlets, PipelineSetMailboxDatabaseChangesAll) {
  basicOrg();
  ok("New-ExchangeServer -Name EX02 -Fqdn ex02.contoso.local");
  ok("New-MailboxDatabase -Name DB02 -Server EX02");
  ok("Get-MailboxDatabase | Set-MailboxDatabase -RpcClientAccessServer outlook.contoso.local");
  EXPECT_EQ(database("DB01")->rpcClientAccessServer, "outlook.contoso.local");
  EXPECT_EQ(database("DB02")->rpcClientAccessServer, "outlook.contoso.local");
  auto e = failsUnchanged("Get-MailboxDatabase | Set-MailboxDatabase -RpcClientAccessServer 'not valid'");
  EXPECT_THAT(e, HasSubstr("-RpcClientAccessServer 'not valid'"));
}

TEST_F(Cmdlets, APipelineWhoseSecondObjectFailsLeavesTheFirstUnchanged) {
  basicOrg();
  ok("New-ExchangeServer -Name EX02 -Fqdn ex02.contoso.local");
  ok("New-MailboxDatabase -Name DB02 -Server EX02");
  // Renaming both to the same name: the first succeeds, the second is a duplicate.
  auto e = failsUnchanged("Get-MailboxDatabase | Set-MailboxDatabase -Name Same");
  EXPECT_THAT(e, StartsWith("Set-MailboxDatabase: "));
  EXPECT_THAT(e, HasSubstr("already exists"));
  EXPECT_THAT(e, HasSubstr("(pipeline object 2)"));
  EXPECT_TRUE(database("DB01"));
  EXPECT_TRUE(database("DB02"));
  EXPECT_FALSE(database("Same"));
}

TEST_F(Cmdlets, APipelineOfRecipientsRollsBackTheirIndexes) {
  basicOrg();
  ok("New-Mailbox -Name alice");
  ok("New-Mailbox -Name bob");
  auto e = failsUnchanged("Get-Mailbox | Set-Mailbox -Alias same");
  EXPECT_THAT(e, HasSubstr("the alias 'same' is already used by"));
  EXPECT_FALSE(h.org().recipientByAlias("same"));
  ASSERT_TRUE(h.org().recipientByAlias("alice"));
  EXPECT_EQ(h.org().recipientByAlias("ALICE")->name(), "alice");
  ASSERT_TRUE(h.org().recipientByAlias("bob"));
  EXPECT_EQ(h.org().recipientByAlias("bob")->name(), "bob");
  // And the names are free to use as before.
  ok("Set-Mailbox alice -Alias same");
  EXPECT_EQ(recipient("alice")->alias(), "same");
}

TEST_F(Cmdlets, SetMailboxDatabaseByIdentity) {
  basicOrg();
  ok("Set-MailboxDatabase -Identity DB01 -Name 'Mailbox Database 1'");
  EXPECT_TRUE(database("Mailbox Database 1"));
  EXPECT_FALSE(database("DB01"));
}

TEST_F(Cmdlets, RemoveMailboxDatabase) {
  basicOrg();
  ok("New-MailboxDatabase -Name DB02 -Server EX01");
  ok("New-Mailbox -Name alice -Database DB02");
  auto e = failsUnchanged("Remove-MailboxDatabase -Identity DB02");
  EXPECT_THAT(e, StartsWith("Remove-MailboxDatabase: "));
  EXPECT_THAT(e, HasSubstr("still holds the mailbox 'alice'"));
  ok("Remove-Mailbox alice");
  ok("Remove-MailboxDatabase DB02");
  EXPECT_FALSE(database("DB02"));
}

// --- recipients -------------------------------------------------------------------------------------

TEST_F(Cmdlets, NewMailboxDefaults) {
  basicOrg();
  ok("New-Mailbox -Name 'Alice Smith'");
  auto* r = recipient("alice smith");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->alias(), "AliceSmith");
  EXPECT_EQ(r->displayName(), "Alice Smith");
  EXPECT_EQ(r->primarySmtpAddress(), "AliceSmith@contoso.com");
  EXPECT_EQ(r->database, database("DB01")->id);
  EXPECT_EQ(r->type, RecipientType::Mailbox);
  EXPECT_FALSE(r->exchangeGuid.isNull());
  EXPECT_EQ(r->legacyExchangeDn(),
            "/o=First Organization/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=AliceSmith");
  auto json = ok("Get-Mailbox AliceSmith | ConvertTo-Json");
  EXPECT_THAT(json, HasSubstr("\"PrimarySmtpAddress\": \"AliceSmith@contoso.com\""));
  EXPECT_THAT(json, HasSubstr("\"Database\": \"DB01\""));
  EXPECT_THAT(json, HasSubstr("\"RecipientTypeDetails\": \"UserMailbox\""));
  // Lookups by address are case-insensitive.
  EXPECT_EQ(h.org().recipientByAddress("alicesmith@CONTOSO.COM"), r);
}

TEST_F(Cmdlets, NewMailboxExplicitValues) {
  basicOrg();
  ok("New-MailboxDatabase -Name DB02 -Server EX01");
  ok("New-Mailbox -Name alice -Alias asmith -DisplayName 'Alice S.' -PrimarySmtpAddress alice.smith@contoso.com -Database DB02");
  auto* r = recipient("alice");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->alias(), "asmith");
  EXPECT_EQ(r->displayName(), "Alice S.");
  EXPECT_EQ(r->primarySmtpAddress(), "alice.smith@contoso.com");
  EXPECT_EQ(r->database, database("DB02")->id);
  auto out = ok("Get-Mailbox -Database DB02");
  EXPECT_THAT(out, HasSubstr("asmith"));
  EXPECT_THAT(ok("Get-Mailbox -Database DB01"), Not(HasSubstr("asmith")));
}

TEST_F(Cmdlets, NewMailboxRefusesDuplicates) {
  basicOrg();
  ok("New-Mailbox -Name alice -Alias asmith -PrimarySmtpAddress alice@contoso.com");
  auto e = failsUnchanged("New-Mailbox -Name ALICE -Alias other -PrimarySmtpAddress other@contoso.com");
  EXPECT_THAT(e, StartsWith("New-Mailbox: "));
  EXPECT_THAT(e, HasSubstr("a recipient named 'ALICE' already exists"));
  e = failsUnchanged("New-Mailbox -Name alice2 -Alias ASMITH -PrimarySmtpAddress other@contoso.com");
  EXPECT_THAT(e, HasSubstr("the alias 'ASMITH' is already used by 'alice'"));
  e = failsUnchanged("New-Mailbox -Name alice3 -Alias a3 -PrimarySmtpAddress Alice@Contoso.com");
  EXPECT_THAT(e, HasSubstr("is already used by 'alice'"));
  e = failsUnchanged("New-MailUser -Name alice4 -Alias a4 -PrimarySmtpAddress alice@contoso.com -ExternalEmailAddress a@x.com");
  EXPECT_THAT(e, HasSubstr("is already used by 'alice'"));
}

TEST_F(Cmdlets, NewMailboxErrors) {
  ok("New-ExchangeServer -Name EX01 -Fqdn ex01.contoso.local");
  ok("New-MailboxDatabase -Name DB01 -Server EX01");
  EXPECT_THAT(failsUnchanged("New-Mailbox -Name alice"), HasSubstr("no accepted domain"));
  ok("New-AcceptedDomain -Name contoso.com -DomainName contoso.com");
  auto e = failsUnchanged("New-Mailbox -Name alice -PrimarySmtpAddress alice@fabrikam.com");
  EXPECT_THAT(e, HasSubstr("not in an accepted domain"));
  e = failsUnchanged("New-Mailbox -Name alice -PrimarySmtpAddress 'alice at contoso'");
  EXPECT_THAT(e, HasSubstr("-PrimarySmtpAddress 'alice at contoso'"));
  e = failsUnchanged("New-Mailbox -Name alice -Database DB09");
  EXPECT_THAT(e, HasSubstr("-Database 'DB09'"));
  e = failsUnchanged("New-Mailbox -Name alice -Alias 'a b'");
  EXPECT_THAT(e, HasSubstr("-Alias 'a b'"));
  EXPECT_THAT(failsUnchanged("New-Mailbox -Name '(...)'"), HasSubstr("no alias can be made from it; give -Alias"));
}

TEST_F(Cmdlets, NewMailboxNeedsADatabase) {
  ok("New-AcceptedDomain -Name contoso.com -DomainName contoso.com");
  EXPECT_THAT(failsUnchanged("New-Mailbox -Name alice"), HasSubstr("no mailbox database"));
}

TEST_F(Cmdlets, NewAndSetMailUser) {
  basicOrg();
  auto out = ok("New-MailUser -Name bob -ExternalEmailAddress bob@fabrikam.com -PrimarySmtpAddress bob@contoso.com");
  EXPECT_THAT(out, HasSubstr("ExternalEmailAddress"));
  auto* r = recipient("bob");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, RecipientType::MailUser);
  EXPECT_EQ(r->externalEmailAddress(), "SMTP:bob@fabrikam.com");
  EXPECT_EQ(r->database, 0u);
  EXPECT_THAT(ok("Get-MailUser | Format-List ExternalEmailAddress"), HasSubstr("SMTP:bob@fabrikam.com"));
  ok("Set-MailUser -Identity bob -ExternalEmailAddress bob@fabrikam.net");
  EXPECT_EQ(recipient("bob")->externalEmailAddress(), "SMTP:bob@fabrikam.net");
  auto e = failsUnchanged("Set-MailUser bob -ExternalEmailAddress X500:/o=x");
  EXPECT_THAT(e, HasSubstr("-ExternalEmailAddress 'X500:/o=x'"));
  // A mail user is not a mailbox, and the reverse.
  EXPECT_THAT(failsUnchanged("Set-Mailbox bob -DisplayName Bobby"), HasSubstr("couldn't be found"));
  EXPECT_THAT(ok("Get-Mailbox"), Not(HasSubstr("bob")));
  ok("New-Mailbox -Name alice");
  EXPECT_THAT(failsUnchanged("Set-MailUser alice -DisplayName Al"), HasSubstr("couldn't be found"));
  EXPECT_THAT(ok("Get-MailUser"), Not(HasSubstr("alice")));
}

TEST_F(Cmdlets, GetRecipientListsEveryKindWithWildcards) {
  basicOrg();
  ok("New-AcceptedDomain -Name fabrikam -DomainName fabrikam.com");
  ok("New-Mailbox -Name alice");
  ok("New-MailUser -Name bob -ExternalEmailAddress bob@elsewhere.com");
  ok("New-Mailbox -Name carol -PrimarySmtpAddress carol@fabrikam.com");
  auto all = ok("Get-Recipient");
  EXPECT_THAT(all, HasSubstr("UserMailbox"));
  EXPECT_THAT(all, HasSubstr("MailUser"));
  auto contoso = ok("Get-Recipient -Identity *@contoso.com | Measure-Object");
  EXPECT_THAT(contoso, HasSubstr("Count    : 2"));
  EXPECT_THAT(ok("Get-Recipient -Identity *@FABRIKAM.com | Format-List Name"), HasSubstr("Name : carol"));
  EXPECT_THAT(failsUnchanged("Get-Recipient -Identity nobody@contoso.com"), HasSubstr("couldn't be found"));
}

TEST_F(Cmdlets, RecipientIdentities) {
  basicOrg();
  ok("New-Mailbox -Name 'Alice Smith' -Alias asmith -PrimarySmtpAddress alice@contoso.com");
  auto* r = recipient("Alice Smith");
  ASSERT_TRUE(r);
  for (std::string id : {std::string("'alice smith'"), std::string("ASMITH"), std::string("Alice@Contoso.com"),
                         r->exchangeGuid.str(), "'" + std::string(r->legacyExchangeDn()) + "'"}) {
    auto out = ok("Get-Mailbox -Identity " + id + " | Format-List Alias");
    EXPECT_EQ(out, "\nAlias : asmith\n\n") << id;
  }
}

TEST_F(Cmdlets, AmbiguousAndUnknownIdentities) {
  basicOrg();
  ok("New-Mailbox -Name john -Alias jsmith");
  ok("New-Mailbox -Name 'John Doe' -Alias john");
  // Get- returns every match; Set- wants exactly one.
  EXPECT_THAT(ok("Get-Mailbox -Identity john | Measure-Object"), HasSubstr("Count    : 2"));
  auto e = failsUnchanged("Set-Mailbox -Identity john -DisplayName J");
  EXPECT_THAT(e, StartsWith("Set-Mailbox: "));
  EXPECT_THAT(e, HasSubstr("-Identity 'john' matches several objects"));
  EXPECT_THAT(e, HasSubstr("John Doe"));
  e = failsUnchanged("Remove-Mailbox -Identity john");
  EXPECT_THAT(e, HasSubstr("matches several objects"));
  e = failsUnchanged("Set-Mailbox -Identity j* -DisplayName J");
  EXPECT_THAT(e, HasSubstr("wildcards are not allowed"));
  e = failsUnchanged("Set-Mailbox -Identity nobody -DisplayName J");
  EXPECT_THAT(e, HasSubstr("-Identity 'nobody'"));
  EXPECT_THAT(e, HasSubstr("couldn't be found"));
  e = failsUnchanged("Remove-Mailbox nobody");
  EXPECT_THAT(e, StartsWith("Remove-Mailbox: "));
}

TEST_F(Cmdlets, SetMailboxAddresses) {
  basicOrg();
  ok("New-Mailbox -Name alice");
  ok("Set-Mailbox -Identity alice -EmailAddresses SMTP:alice@contoso.com,smtp:a.smith@contoso.com");
  auto* r = recipient("alice");
  EXPECT_EQ(r->primarySmtpAddress(), "alice@contoso.com");
  EXPECT_EQ(h.org().recipientByAddress("A.Smith@contoso.com"), r);
  EXPECT_FALSE(h.org().recipientByAddress("alice@contoso.com") == nullptr);
  ok("Set-Mailbox alice -PrimarySmtpAddress a.smith@contoso.com");
  r = recipient("alice");
  EXPECT_EQ(r->primarySmtpAddress(), "a.smith@contoso.com");
  auto addrs = r->emailAddresses();
  EXPECT_EQ(addrs.size(), 2u);
  EXPECT_NE(std::find(addrs.begin(), addrs.end(), "smtp:alice@contoso.com"), addrs.end());
  // The old primary is kept as a secondary address and still finds the mailbox.
  EXPECT_EQ(h.org().recipientByAddress("alice@contoso.com"), r);
  auto e = failsUnchanged("Set-Mailbox alice -EmailAddresses SMTP:a@contoso.com,SMTP:b@contoso.com");
  EXPECT_THAT(e, HasSubstr("only one address can be the primary one"));
  e = failsUnchanged("Set-Mailbox alice -EmailAddresses x@contoso.com,X@CONTOSO.COM");
  EXPECT_THAT(e, HasSubstr("listed twice"));
  ok("New-Mailbox -Name bob");
  e = failsUnchanged("Set-Mailbox bob -EmailAddresses SMTP:bob@contoso.com,smtp:alice@contoso.com");
  EXPECT_THAT(e, HasSubstr("the address 'alice@contoso.com' is already used by 'alice'"));
  ok("Set-Mailbox bob -Name Robert -DisplayName 'Robert B'");
  EXPECT_TRUE(recipient("robert"));
  EXPECT_FALSE(recipient("bob"));
}

TEST_F(Cmdlets, RemoveMailboxAndMailUser) {
  basicOrg();
  ok("New-Mailbox -Name alice");
  ok("New-MailUser -Name bob -ExternalEmailAddress bob@fabrikam.com");
  EXPECT_THAT(failsUnchanged("Remove-Mailbox bob"), HasSubstr("couldn't be found"));
  EXPECT_THAT(failsUnchanged("Remove-MailUser alice"), HasSubstr("couldn't be found"));
  ok("Remove-Mailbox -Identity alice -Confirm:$false");
  ok("Remove-MailUser -Identity bob");
  EXPECT_EQ(h.org().recipientCount(), 0u);
  EXPECT_FALSE(h.org().recipientByAddress("alice@contoso.com"));
  // The name, alias and address are free again.
  ok("New-Mailbox -Name alice");
  EXPECT_TRUE(h.org().recipientByAddress("alice@contoso.com"));
  EXPECT_EQ(h.dumpFromStore(), autodisc::testing::dumpOrganization(h.org()));
}

TEST_F(Cmdlets, GetMailboxDatabasePipesIntoGetMailbox) {
  basicOrg();
  ok("New-MailboxDatabase -Name DB02 -Server EX01");
  ok("New-Mailbox -Name alice -Database DB01");
  ok("New-Mailbox -Name bob -Database DB02");
  auto out = ok("Get-MailboxDatabase DB02 | Get-Mailbox | Format-List Name");
  EXPECT_EQ(out, "\nName : bob\n\n");
}

TEST_F(Cmdlets, GetMailboxResultSize) {
  basicOrg();
  std::string csv = "Name\n";
  for (int i = 1; i <= 1001; ++i) csv += "user" + std::to_string(i) + "\n";
  auto path = h.dir().write("many.csv", csv);
  ok("Import-Csv '" + path + "' | New-Mailbox");
  EXPECT_EQ(h.org().recipientCount(), 1001u);
  auto r = run("Get-Mailbox | Measure-Object");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_THAT(r.out, HasSubstr("Count    : 1000"));
  EXPECT_THAT(r.err, HasSubstr("WARNING: By default, only the first 1000 items are returned."));
  EXPECT_THAT(r.err, HasSubstr("-ResultSize Unlimited"));
  r = run("Get-Mailbox -ResultSize Unlimited | Measure-Object");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_THAT(r.out, HasSubstr("Count    : 1001"));
  EXPECT_EQ(r.err, "");
  r = run("Get-Mailbox -ResultSize 2000 | Measure-Object");
  EXPECT_THAT(r.out, HasSubstr("Count    : 1001"));
  EXPECT_EQ(r.err, "");
  r = run("Get-Recipient -ResultSize 5 | Measure-Object");
  EXPECT_THAT(r.out, HasSubstr("Count    : 5"));
  EXPECT_THAT(failsUnchanged("Get-Mailbox -ResultSize 0"), HasSubstr("-ResultSize '0'"));
  EXPECT_THAT(failsUnchanged("Get-Mailbox -ResultSize lots"), HasSubstr("-ResultSize 'lots'"));
}

TEST_F(Cmdlets, GetMailboxUnderTheLimitDoesNotWarn) {
  basicOrg();
  ok("New-Mailbox -Name alice");
  auto r = run("Get-Mailbox");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(r.out, HasSubstr("alice@contoso.com"));
}

// --- Import-Csv ----------------------------------------------------------------------------------

TEST_F(Cmdlets, ImportCsvBindsColumnsByNameAndIgnoresOthers) {
  basicOrg();
  auto path = h.dir().write("users.csv",
                            "Name,Alias,Department,PrimarySmtpAddress,Database\r\n"
                            "Alice Smith,asmith,Sales,alice@contoso.com,DB01\r\n"
                            "\"Jones, Bob\",,IT,,\r\n");
  auto out = ok("Import-Csv -Path '" + path + "' | New-Mailbox");
  EXPECT_THAT(out, HasSubstr("asmith"));
  auto* a = recipient("Alice Smith");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->alias(), "asmith");
  EXPECT_EQ(a->primarySmtpAddress(), "alice@contoso.com");
  auto* b = recipient("Jones, Bob");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->alias(), "JonesBob");  // empty cells take the defaults
  EXPECT_EQ(b->primarySmtpAddress(), "JonesBob@contoso.com");
}

TEST_F(Cmdlets, ImportCsvShowsRowsAndHonoursDelimiter) {
  auto path = h.dir().write("x.csv", "#TYPE Selected.Object\nName;City\nalice;Paris\n");
  auto out = ok("Import-Csv " + path + " -Delimiter ';' | Format-Table");
  EXPECT_THAT(out, HasSubstr("Name  City"));
  EXPECT_THAT(out, HasSubstr("alice Paris"));
  auto json = ok("Import-Csv " + path + " -Delimiter ';' | ConvertTo-Json -Compress");
  EXPECT_EQ(json, "{\"Name\":\"alice\",\"City\":\"Paris\"}\n");
}

TEST_F(Cmdlets, ImportCsvErrors) {
  basicOrg();
  auto e = failsUnchanged("Import-Csv -Path '" + h.dir().file("missing.csv") + "'");
  EXPECT_THAT(e, StartsWith("Import-Csv: "));
  EXPECT_THAT(e, HasSubstr("cannot open the file"));
  auto bad = h.dir().write("bad.csv", "Name\n\"unterminated\n");
  EXPECT_THAT(failsUnchanged("Import-Csv " + bad), HasSubstr("unterminated quoted field"));
  auto wide = h.dir().write("wide.csv", "Name\na,b\n");
  EXPECT_THAT(failsUnchanged("Import-Csv " + wide), HasSubstr("row 2 has 2 fields"));
  EXPECT_THAT(failsUnchanged("Import-Csv " + wide + " -Delimiter ';;'"), HasSubstr("-Delimiter"));
}

TEST_F(Cmdlets, ImportCsvFailingRowCreatesNothing) {
  basicOrg();
  auto path = h.dir().write("users.csv",
                            "Name,PrimarySmtpAddress\n"
                            "alice,alice@contoso.com\n"
                            "bob,bob at contoso\n");
  auto e = failsUnchanged("Import-Csv " + path + " | New-Mailbox");
  EXPECT_THAT(e, StartsWith("New-Mailbox: "));
  EXPECT_THAT(e, HasSubstr("-PrimarySmtpAddress 'bob at contoso'"));
  EXPECT_THAT(e, HasSubstr("(pipeline object 2)"));
  EXPECT_FALSE(recipient("alice"));
  EXPECT_FALSE(h.org().recipientByAddress("alice@contoso.com"));
  // Rolled back completely: the same file, corrected, imports with the same names.
  auto good = h.dir().write("good.csv", "Name,PrimarySmtpAddress\nalice,alice@contoso.com\nbob,bob@contoso.com\n");
  ok("Import-Csv " + good + " | New-Mailbox");
  EXPECT_TRUE(recipient("alice"));
  EXPECT_TRUE(recipient("bob"));
}

// --- Outlook providers and the organisation --------------------------------------------------------

TEST_F(Cmdlets, GetAndSetOutlookProvider) {
  auto out = ok("Get-OutlookProvider");
  EXPECT_THAT(out, HasSubstr("EXCH"));
  EXPECT_THAT(out, HasSubstr("EXPR"));
  EXPECT_THAT(out, HasSubstr("WEB"));
  ok("Set-OutlookProvider -Identity EXPR -CertPrincipalName msstd:mail.contoso.com -TTL 2");
  EXPECT_EQ(provider("EXPR")->certPrincipalName, "msstd:mail.contoso.com");
  EXPECT_EQ(provider("EXPR")->ttl, 2);
  ok("Set-OutlookProvider EXCH -Server mail.contoso.com -TTL -1");
  EXPECT_EQ(provider("EXCH")->server, "mail.contoso.com");
  EXPECT_EQ(provider("EXCH")->ttl, -1);
  auto json = ok("Get-OutlookProvider EXPR | ConvertTo-Json -Compress");
  EXPECT_THAT(json, HasSubstr("\"TTL\":2"));
  auto e = failsUnchanged("Set-OutlookProvider EXPR -TTL 9999");
  EXPECT_THAT(e, StartsWith("Set-OutlookProvider: "));
  EXPECT_THAT(e, HasSubstr("-TTL '9999'"));
  e = failsUnchanged("Set-OutlookProvider EXPR -CertPrincipalName 'not valid'");
  EXPECT_THAT(e, HasSubstr("-CertPrincipalName 'not valid'"));
  EXPECT_THAT(failsUnchanged("Set-OutlookProvider NOPE -TTL 1"), HasSubstr("couldn't be found"));
}

TEST_F(Cmdlets, GetAndSetOrganizationConfig) {
  auto out = ok("Get-OrganizationConfig");  // a list by default
  EXPECT_THAT(out, HasSubstr("Name                   : First Organization"));
  EXPECT_THAT(out, HasSubstr("MapiHttpEnabled        : False"));
  EXPECT_THAT(out, HasSubstr("Guid                   : " + h.org().config().guid.str()));
  EXPECT_THAT(out, HasSubstr("OfflineAddressBookGuid : " + h.org().config().offlineAddressBookGuid.str()));
  EXPECT_NE(h.org().config().offlineAddressBookGuid, h.org().config().guid);
  ok("Set-OrganizationConfig -MapiHttpEnabled $true");
  EXPECT_TRUE(h.org().config().mapiHttpEnabled);
  ok("Set-OrganizationConfig -Name Contoso");
  EXPECT_EQ(h.org().config().name, "Contoso");
  EXPECT_THAT(ok("Get-OrganizationConfig | ConvertTo-Json"), HasSubstr("\"MapiHttpEnabled\": true"));
  auto e = failsUnchanged("Set-OrganizationConfig -Name 'a/b'");
  EXPECT_THAT(e, StartsWith("Set-OrganizationConfig: "));
  EXPECT_THAT(e, HasSubstr("-Name 'a/b'"));
  e = failsUnchanged("Set-OrganizationConfig -MapiHttpEnabled perhaps");
  EXPECT_THAT(e, HasSubstr("-MapiHttpEnabled 'perhaps'"));
  EXPECT_EQ(h.dumpFromStore(), autodisc::testing::dumpOrganization(h.org()));
}

TEST_F(Cmdlets, OrganizationNameAppearsInNewLegacyDns) {
  basicOrg();
  ok("Set-OrganizationConfig -Name Contoso");
  ok("New-Mailbox -Name alice");
  EXPECT_THAT(std::string(recipient("alice")->legacyExchangeDn()), StartsWith("/o=Contoso/ou="));
}

// --- formatting and utilities -------------------------------------------------------------------

TEST_F(Cmdlets, FormatListSelectsPropertiesInTheOrderGiven) {
  basicOrg();
  auto out = ok("Get-ExchangeServer EX01 | Format-List Fqdn,name");
  EXPECT_EQ(out, "\nFqdn : ex01.contoso.local\nName : EX01\n\n");
  auto wild = ok("Get-OwaVirtualDirectory | fl *Url");
  EXPECT_EQ(wild, "\nInternalUrl : https://ex01.contoso.local/owa\nExternalUrl :\n\n");
  // Every property, when none are named.
  auto all = ok("Get-MailboxDatabase DB01 | Format-List");
  EXPECT_THAT(all, HasSubstr("Name                  : DB01"));
  EXPECT_THAT(all, HasSubstr("Guid                  : " + database("DB01")->guid.str()));
  EXPECT_THAT(ok("Get-MailboxDatabase | Format-List -Property Name"), HasSubstr("Name : DB01"));
}

TEST_F(Cmdlets, FormatTableSelectsColumns) {
  basicOrg();
  ok("New-ExchangeServer -Name EX02 -Fqdn ex02.contoso.local");
  auto out = ok("Get-ExchangeServer | Format-Table Name,Fqdn");
  EXPECT_EQ(out,
            "\n"
            "Name Fqdn\n"
            "---- ----\n"
            "EX01 ex01.contoso.local\n"
            "EX02 ex02.contoso.local\n"
            "\n");
  auto wild = ok("Get-OwaVirtualDirectory -Server EX02 | ft Server,*Url -AutoSize");
  EXPECT_THAT(wild, HasSubstr("Server InternalUrl                    ExternalUrl"));
  EXPECT_THAT(wild, HasSubstr("EX02   https://ex02.contoso.local/owa"));
}

TEST_F(Cmdlets, DefaultTableColumns) {
  basicOrg();
  auto out = ok("Get-MailboxDatabase");
  EXPECT_THAT(out, HasSubstr("Name Server RpcClientAccessServer"));
  EXPECT_THAT(out, HasSubstr("DB01 EX01   ex01.contoso.local"));
}

TEST_F(Cmdlets, ConvertToJson) {
  basicOrg();
  ok("New-ExchangeServer -Name EX02 -Fqdn ex02.contoso.local");
  auto one = ok("Get-ExchangeServer EX01 | ConvertTo-Json");
  EXPECT_THAT(one, StartsWith("{\n  \"Name\": \"EX01\",\n"));
  auto many = ok("Get-ExchangeServer | ConvertTo-Json -Depth 3");
  EXPECT_THAT(many, StartsWith("[\n  {\n"));
  EXPECT_EQ(countOf(many, "\"Name\":"), 2u);
  auto compact = ok("Get-ExchangeServer EX01 | ConvertTo-Json -Compress");
  EXPECT_THAT(compact, StartsWith("{\"Name\":\"EX01\",\"Fqdn\":\"ex01.contoso.local\""));
  EXPECT_EQ(countOf(compact, "\n"), 1u);
  // Backslashes in identities are escaped.
  EXPECT_THAT(ok("Get-OwaVirtualDirectory EX01 | ConvertTo-Json"), HasSubstr("\"EX01\\\\owa (Default Web Site)\""));
  // Lists are JSON arrays.
  EXPECT_THAT(ok("Get-ClientAccessServer EX01 | ConvertTo-Json -Compress"),
              HasSubstr("\"AutoDiscoverSiteScope\":[\"Default-First-Site-Name\"]"));
}

TEST_F(Cmdlets, ConvertToJsonOfNothingIsAnEmptyArray) {
  auto out = ok("Get-MailboxDatabase | ConvertTo-Json");
  EXPECT_EQ(out, "[\n]\n");
}

TEST_F(Cmdlets, MeasureObject) {
  basicOrg();
  EXPECT_EQ(ok("Get-ExchangeServer | Measure-Object"), "\nCount    : 1\n\n");
  EXPECT_EQ(ok("Get-Mailbox | measure"), "\nCount    : 0\n\n");
}

TEST_F(Cmdlets, GetCommand) {
  auto all = ok("Get-Command");
  for (auto& c : shell::cmdlets()) EXPECT_THAT(all, HasSubstr(c.name + "\n"));
  auto vd = ok("Get-Command *VirtualDirectory");
  EXPECT_EQ(countOf(vd, "\n"), 14u);
  EXPECT_THAT(vd, HasSubstr("Set-MapiVirtualDirectory\n"));
  EXPECT_THAT(vd, Not(HasSubstr("Get-Mailbox\n")));
}

TEST_F(Cmdlets, GetHelp) {
  auto out = ok("Get-Help Set-ClientAccessServer");
  EXPECT_THAT(out, HasSubstr("NAME\n    Set-ClientAccessServer"));
  EXPECT_THAT(out, HasSubstr("-AutoDiscoverServiceInternalUri"));
  EXPECT_THAT(out, HasSubstr("EXAMPLE"));
  EXPECT_THAT(ok("help fl"), HasSubstr("NAME\n    Format-List"));
  auto e = failsUnchanged("Get-Help Get-Nothing");
  EXPECT_THAT(e, StartsWith("Get-Help: "));
  EXPECT_THAT(e, HasSubstr("-Name 'Get-Nothing'"));
}

TEST_F(Cmdlets, GetWithNothingToShowPrintsNothing) {
  EXPECT_EQ(ok("Get-MailboxDatabase"), "");
  EXPECT_EQ(ok("Get-ClientAccessArray"), "");
}

// Every cmdlet the shell offers is exercised by at least one test above. When a cmdlet is added,
// this test names it until a test for it is written and the name is added here.
TEST(CmdletCoverage, EveryCmdletHasATest) {
  static const std::set<std::string> tested = {
      "New-AcceptedDomain", "Get-AcceptedDomain", "Set-AcceptedDomain", "Remove-AcceptedDomain",
      "New-ADReplicationSite", "Get-ADReplicationSite", "Remove-ADReplicationSite",
      "New-ADReplicationSubnet", "Get-ADReplicationSubnet", "Remove-ADReplicationSubnet",
      "New-ExchangeServer", "Get-ExchangeServer", "Remove-ExchangeServer",
      "Get-ClientAccessServer", "Set-ClientAccessServer", "Get-ClientAccessService", "Set-ClientAccessService",
      "Get-OwaVirtualDirectory", "Set-OwaVirtualDirectory", "Get-OabVirtualDirectory", "Set-OabVirtualDirectory",
      "Get-WebServicesVirtualDirectory", "Set-WebServicesVirtualDirectory",
      "Get-ActiveSyncVirtualDirectory", "Set-ActiveSyncVirtualDirectory",
      "Get-EcpVirtualDirectory", "Set-EcpVirtualDirectory",
      "Get-AutodiscoverVirtualDirectory", "Set-AutodiscoverVirtualDirectory",
      "Get-MapiVirtualDirectory", "Set-MapiVirtualDirectory",
      "Get-OutlookAnywhere", "Set-OutlookAnywhere",
      "New-ClientAccessArray", "Get-ClientAccessArray", "Set-ClientAccessArray", "Remove-ClientAccessArray",
      "New-MailboxDatabase", "Get-MailboxDatabase", "Set-MailboxDatabase", "Remove-MailboxDatabase",
      "New-Mailbox", "New-MailUser", "Get-Mailbox", "Set-Mailbox", "Remove-Mailbox",
      "Get-MailUser", "Set-MailUser", "Remove-MailUser", "Get-Recipient",
      "Get-OutlookProvider", "Set-OutlookProvider", "Get-OrganizationConfig", "Set-OrganizationConfig",
      "Format-List", "Format-Table", "ConvertTo-Json", "Measure-Object", "Import-Csv", "Get-Command", "Get-Help",
      "Get-AutodiscoverResponse", "New-ExchangeCertificate", "Import-ExchangeCertificate", "Enable-ExchangeCertificate",
      "Get-ExchangeCertificate", "Remove-ExchangeCertificate",
      "Test-OutlookWebServices",  // tests/integration/serve_test.cpp: it needs a running service
  };
  std::vector<std::string> untested;
  for (auto& c : shell::cmdlets())
    if (!tested.count(c.name)) untested.push_back(c.name);
  EXPECT_TRUE(untested.empty()) << "cmdlets without tests: " << text::join(untested, ", ");
  for (auto& name : tested) EXPECT_TRUE(shell::findCmdlet(name)) << name << " is no longer a cmdlet";
}

namespace {

TEST_F(Cmdlets, GetAutodiscoverResponseShowsTheAnswerAndHowItWasMade) {
  basicOrg();
  ok("New-Mailbox -Name alice");
  ok("New-ADReplicationSubnet -Name 10.0.0.0/8");
  ok("Get-OwaVirtualDirectory | Set-OwaVirtualDirectory -ExternalUrl https://mail.contoso.com/owa");
  auto inside = ok("Get-AutodiscoverResponse -EmailAddress alice@contoso.com -ClientAddress 10.1.2.3");
  EXPECT_THAT(inside, HasSubstr("Client 10.1.2.3: internal (site Default-First-Site-Name)"));
  EXPECT_THAT(inside, HasSubstr("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Autodiscover"));
  EXPECT_THAT(inside, HasSubstr("<Type>EXCH</Type>"));
  EXPECT_THAT(inside, HasSubstr("  recipient: alice (UserMailbox)\n"));
  EXPECT_THAT(inside, HasSubstr("  database: DB01\n"));
  EXPECT_THAT(inside, HasSubstr("ExternalUrl of EX01\\owa (Default Web Site): https://mail.contoso.com/owa"));
  auto outside = ok("Get-AutodiscoverResponse alice@contoso.com -ClientAddress 203.0.113.7");
  EXPECT_THAT(outside, HasSubstr("external (in no AD site subnet)"));
  EXPECT_THAT(outside, Not(HasSubstr("<Type>EXCH</Type>")));
  EXPECT_THAT(ok("Get-AutodiscoverResponse nobody@contoso.com"), HasSubstr("<ErrorCode>500</ErrorCode>"));
  auto mobile = ok("Get-AutodiscoverResponse alice@contoso.com -Schema MobileSync");
  EXPECT_THAT(mobile, HasSubstr("<Status>1</Status>"));  // no ActiveSync ExternalUrl yet
  EXPECT_THAT(failsUnchanged("Get-AutodiscoverResponse alice@contoso.com -Schema Pox2"), HasSubstr("-Schema 'Pox2'"));
  EXPECT_THAT(failsUnchanged("Get-AutodiscoverResponse alice@contoso.com -Setting UserDN"), HasSubstr("-Setting is for -Schema Soap"));
  EXPECT_THAT(failsUnchanged("Get-AutodiscoverResponse alice@contoso.com -ClientAddress nope"),
              HasSubstr("-ClientAddress 'nope'"));
}

TEST_F(Cmdlets, GetAutodiscoverResponseSpeaksSoapAndJson) {
  basicOrg();
  ok("New-Mailbox -Name alice");
  ok("Get-WebServicesVirtualDirectory | Set-WebServicesVirtualDirectory -ExternalUrl https://mail.contoso.com/EWS/Exchange.asmx");
  auto soap = ok("Get-AutodiscoverResponse alice@contoso.com -Schema Soap -Setting ExternalEwsUrl,UserDisplayName,Nope");
  EXPECT_THAT(soap, HasSubstr("<s:Envelope"));
  EXPECT_THAT(soap, HasSubstr("<Name>ExternalEwsUrl</Name><Value>https://mail.contoso.com/EWS/Exchange.asmx</Value>"));
  EXPECT_THAT(soap, HasSubstr("<Name>UserDisplayName</Name><Value>alice</Value>"));
  EXPECT_THAT(soap, HasSubstr("<SettingName>Nope</SettingName>"));
  EXPECT_THAT(soap, HasSubstr("ExternalUrl of EX01\\EWS (Default Web Site): https://mail.contoso.com/EWS/Exchange.asmx"));
  auto all = ok("Get-AutodiscoverResponse alice@contoso.com -Schema soap");
  EXPECT_THAT(all, HasSubstr("<Name>InternalMailboxServer</Name>"));
  auto json = ok("Get-AutodiscoverResponse alice@contoso.com -Schema Json -Protocol ews");
  EXPECT_THAT(json, HasSubstr("HTTP 200\n{\"Protocol\":\"Ews\",\"Url\":\"https://mail.contoso.com/EWS/Exchange.asmx\"}\n"));
  EXPECT_THAT(ok("Get-AutodiscoverResponse alice@contoso.com -Schema Json -Protocol Rest"), HasSubstr("ProtocolNotSupported"));
  EXPECT_THAT(failsUnchanged("Get-AutodiscoverResponse alice@contoso.com -Protocol Ews"), HasSubstr("-Protocol is for -Schema Json"));
}

}  // namespace

// --- certificates ---------------------------------------------------------------------------------

namespace certs {

template <class T, void (*F)(T*)>
struct Free {
  void operator()(T* p) const { F(p); }
};

// A throwaway CA's answer to a request: the certificate, with the request's names, then the CA's.
std::string answerRequest(const std::string& requestPem, int days) {
  std::unique_ptr<EVP_PKEY, Free<EVP_PKEY, EVP_PKEY_free>> caKey(EVP_RSA_gen(2048));
  std::unique_ptr<X509, Free<X509, X509_free>> ca(X509_new());
  X509_set_version(ca.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(ca.get()), 1);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(ca.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("unit test CA"), -1, -1, 0);
  X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get()));
  X509_gmtime_adj(X509_getm_notBefore(ca.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(ca.get()), 86400L * days);
  X509_set_pubkey(ca.get(), caKey.get());
  X509_sign(ca.get(), caKey.get(), EVP_sha256());

  BIO* in = BIO_new_mem_buf(requestPem.data(), static_cast<int>(requestPem.size()));
  std::unique_ptr<X509_REQ, Free<X509_REQ, X509_REQ_free>> req(PEM_read_bio_X509_REQ(in, nullptr, nullptr, nullptr));
  BIO_free(in);
  if (!req) return {};
  std::unique_ptr<X509, Free<X509, X509_free>> leaf(X509_new());
  X509_set_version(leaf.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(leaf.get()), 2);
  X509_set_subject_name(leaf.get(), X509_REQ_get_subject_name(req.get()));
  X509_set_issuer_name(leaf.get(), X509_get_subject_name(ca.get()));
  X509_gmtime_adj(X509_getm_notBefore(leaf.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(leaf.get()), 86400L * days);
  std::unique_ptr<EVP_PKEY, Free<EVP_PKEY, EVP_PKEY_free>> pub(X509_REQ_get_pubkey(req.get()));
  X509_set_pubkey(leaf.get(), pub.get());
  if (STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req.get())) {
    for (int i = 0; i < sk_X509_EXTENSION_num(exts); ++i) X509_add_ext(leaf.get(), sk_X509_EXTENSION_value(exts, i), -1);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
  X509_sign(leaf.get(), caKey.get(), EVP_sha256());
  BIO* out = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(out, leaf.get());
  PEM_write_bio_X509(out, ca.get());
  char* p = nullptr;
  long n = BIO_get_mem_data(out, &p);
  std::string pem(p, static_cast<std::size_t>(n));
  BIO_free(out);
  return pem;
}

}  // namespace certs

TEST_F(Cmdlets, ACertificateRequestCarriesEveryNameClientsAreHandedAndItsAnswerTakesItsKey) {
  basicOrg();
  ok("Get-WebServicesVirtualDirectory | Set-WebServicesVirtualDirectory -ExternalUrl https://mail.contoso.com/EWS/Exchange.asmx");
  auto csr = h.dir().file("req.csr");
  auto made = h.run("New-ExchangeCertificate -GenerateRequest -SubjectName 'C=US, O=Contoso, CN=mail.contoso.com' "
                    "-RequestFile " + csr);
  ASSERT_TRUE(made.ok) << made.error;
  // The internal server name is in it, with a warning that a public CA will refuse it.
  EXPECT_THAT(made.err, HasSubstr("public certificate authorities no longer certify ex01.contoso.local"));
  auto& pending = h.org().all<ExchangeCertificate>().begin()->second;
  EXPECT_EQ(pending.certificateDomains,
            (std::vector<std::string>{"mail.contoso.com", "autodiscover.contoso.com", "ex01.contoso.local"}));
  EXPECT_THAT(ok("Get-ExchangeCertificate | Format-List Status,HasPrivateKey,Subject"),
              HasSubstr("Status        : PendingRequest\nHasPrivateKey : True\nSubject       : C=US, O=Contoso, CN=mail.contoso.com"));
  std::ifstream f(csr);
  std::string request((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_THAT(request, StartsWith("-----BEGIN CERTIFICATE REQUEST-----"));

  // A pending request cannot serve.
  EXPECT_THAT(failsUnchanged("Enable-ExchangeCertificate -Thumbprint " + pending.thumbprint + " -Services IIS"),
              HasSubstr("is a pending request"));

  auto answer = h.dir().write("answer.pem", certs::answerRequest(request, 365));
  auto imported = h.run("Import-ExchangeCertificate -FileName " + answer);
  ASSERT_TRUE(imported.ok) << imported.error;
  EXPECT_THAT(imported.err, HasSubstr("answers the pending request"));
  ASSERT_EQ(h.org().all<ExchangeCertificate>().size(), 1u);  // the request became the certificate
  auto& c = h.org().all<ExchangeCertificate>().begin()->second;
  EXPECT_FALSE(c.pending());
  EXPECT_EQ(c.issuer, "CN=unit test CA");
  EXPECT_EQ(c.subject, "CN=mail.contoso.com, O=Contoso, C=US");
  std::string thumbprint = c.thumbprint;
  EXPECT_THAT(failsUnchanged("Import-ExchangeCertificate -FileName " + answer), HasSubstr("already imported"));

  ok("Get-ExchangeCertificate -DomainName mail.contoso.com | Enable-ExchangeCertificate -Services IIS,SMTP");
  EXPECT_THAT(ok("Get-ExchangeCertificate " + thumbprint), HasSubstr(thumbprint + " IIS, SMTP"));
  EXPECT_EQ(ok("Get-ExchangeCertificate -DomainName other.example.com"), "");
  EXPECT_THAT(failsUnchanged("Enable-ExchangeCertificate -Thumbprint " + thumbprint + " -Services Web"),
              HasSubstr("'Web' is not a certificate service"));
  // What the store holds reads back the same, key included (never printed).
  EXPECT_EQ(h.dumpFromStore(), autodisc::testing::dumpOrganization(h.org()));
  EXPECT_THAT(ok("Get-ExchangeCertificate | Format-List *"), Not(HasSubstr("PRIVATE KEY")));
  ok("Remove-ExchangeCertificate -Thumbprint " + thumbprint);
  EXPECT_TRUE(h.org().all<ExchangeCertificate>().empty());
}

TEST_F(Cmdlets, CertificateCmdletsRefuseBadInputAndChangeNothing) {
  basicOrg();
  EXPECT_THAT(failsUnchanged("New-ExchangeCertificate -SubjectName CN=x.contoso.com"), HasSubstr("-GenerateRequest"));
  EXPECT_THAT(failsUnchanged("New-ExchangeCertificate -GenerateRequest -KeySize 1024 -DomainName mail.contoso.com"),
              HasSubstr("-KeySize must be 2048, 3072 or 4096"));
  EXPECT_THAT(failsUnchanged("New-ExchangeCertificate -GenerateRequest -SubjectName 'Contoso' -DomainName mail.contoso.com"),
              HasSubstr("is not TYPE=VALUE"));
  EXPECT_THAT(failsUnchanged("New-ExchangeCertificate -GenerateRequest -DomainName 'bad name'"), HasSubstr("-DomainName"));
  auto garbage = h.dir().write("garbage.pem", "not a certificate");
  EXPECT_THAT(failsUnchanged("Import-ExchangeCertificate -FileName " + garbage), HasSubstr("no PEM certificate"));
  EXPECT_THAT(failsUnchanged("Import-ExchangeCertificate -FileName " + h.dir().file("missing.pem")),
              HasSubstr("cannot open the file"));
  // A key that is not the certificate's.
  auto req = cert::generateRequest("CN=mail.contoso.com", {"mail.contoso.com"}, 2048);
  auto other = cert::generateRequest("CN=other.contoso.com", {"other.contoso.com"}, 2048);
  ASSERT_TRUE(req && other);
  auto chain = h.dir().write("chain.pem", certs::answerRequest(req->requestPem, 30));
  auto key = h.dir().write("other.key", other->keyPem);
  EXPECT_THAT(failsUnchanged("Import-ExchangeCertificate -FileName " + chain + " -PrivateKeyFile " + key),
              HasSubstr("does not belong to the certificate"));
  EXPECT_THAT(failsUnchanged("Enable-ExchangeCertificate -Thumbprint ABCDEF -Services IIS"), HasSubstr("couldn't be found"));
  // Imported without any key: listed, but it cannot serve.
  auto bare = h.run("Import-ExchangeCertificate -FileName " + chain);
  ASSERT_TRUE(bare.ok) << bare.error;
  EXPECT_THAT(bare.err, HasSubstr("no private key"));
  EXPECT_THAT(failsUnchanged("Get-ExchangeCertificate | Enable-ExchangeCertificate -Services IIS"),
              HasSubstr("without its private key"));
}
