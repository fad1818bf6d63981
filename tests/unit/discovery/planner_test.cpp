// The discovery planner (protocol spec section 6): the order of the candidates, every redirect
// form, the cap, loops and cross-domain flags; the SCP order (TV-7) and the SRV choice (TV-8).
#include "discovery/planner.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace autodisc::discovery;
using ::testing::HasSubstr;

namespace {

PostResult status(int code, std::string location = {}) {
  PostResult r;
  r.status = code;
  r.location = std::move(location);
  return r;
}
PostResult transport(std::string error) {
  PostResult r;
  r.transportError = std::move(error);
  return r;
}
PostResult answer(PostResult::Action a, std::string target = {}) {
  PostResult r;
  r.status = 200;
  r.action = a;
  r.target = std::move(target);
  return r;
}

PlannerOptions opts(std::string email, const std::function<void(PlannerOptions&)>& set = {}) {
  PlannerOptions o;
  o.email = std::move(email);
  if (set) set(o);
  return o;
}

// Fails every step until `until` is met, and returns the steps seen.
std::vector<Step> failAll(Planner& p, int max = 40) {
  std::vector<Step> seen;
  for (int i = 0; i < max; ++i) {
    auto s = p.next();
    seen.push_back(s);
    switch (s.kind) {
      case StepKind::Post: p.posted(status(404)); break;
      case StepKind::RedirectProbe: p.probed(ProbeResult{"", 404, ""}); break;
      case StepKind::SrvLookup: p.srvFound({}, "NXDOMAIN"); break;
      case StepKind::ScpLookup: p.scpFound({}, "no directory"); break;
      case StepKind::Done:
      case StepKind::GiveUp: return seen;
    }
  }
  return seen;
}

TEST(Planner, TheOrderOfSection62) {
  Planner p(opts("alice@Contoso.com", [](PlannerOptions& o) { o.cachedUrl = "https://cached.contoso.com/autodiscover/autodiscover.xml"; o.useScp = true; }));
  auto steps = failAll(p);
  ASSERT_EQ(steps.size(), 7u);
  EXPECT_EQ(steps[0].kind, StepKind::Post);
  EXPECT_EQ(steps[0].source, Source::Cache);
  EXPECT_EQ(steps[1].kind, StepKind::ScpLookup);
  EXPECT_EQ(steps[2].url, "https://contoso.com/autodiscover/autodiscover.xml");
  EXPECT_EQ(steps[2].source, Source::RootDomain);
  EXPECT_EQ(steps[3].url, "https://autodiscover.contoso.com/autodiscover/autodiscover.xml");
  EXPECT_EQ(steps[4].kind, StepKind::RedirectProbe);
  EXPECT_EQ(steps[4].url, "http://autodiscover.contoso.com/autodiscover/autodiscover.xml");
  EXPECT_EQ(steps[5].kind, StepKind::SrvLookup);
  EXPECT_EQ(steps[5].name, "_autodiscover._tcp.contoso.com");
  EXPECT_EQ(steps[6].kind, StepKind::GiveUp);
  EXPECT_THAT(steps[6].why, HasSubstr("HTTP 404"));
  EXPECT_TRUE(p.cacheFailed());
  for (auto& s : steps) EXPECT_EQ(s.address, "alice@Contoso.com");
}

TEST(Planner, WithoutADirectoryOrCacheItStartsAtTheDomain) {
  Planner p(opts("alice@contoso.com"));
  auto s = p.next();
  EXPECT_EQ(s.url, "https://contoso.com/autodiscover/autodiscover.xml");
  EXPECT_FALSE(s.crossDomain);
  p.posted(transport("certificate for mail.contoso.com does not cover contoso.com"));
  s = p.next();
  EXPECT_EQ(s.source, Source::AutodiscoverDomain);
  p.posted(answer(PostResult::Action::Settings));
  s = p.next();
  EXPECT_EQ(s.kind, StepKind::Done);
  EXPECT_EQ(s.url, "https://autodiscover.contoso.com/autodiscover/autodiscover.xml");
  EXPECT_EQ(p.next().kind, StepKind::Done);  // it stays done
  EXPECT_THAT(p.log()[0], HasSubstr("does not cover"));
}

TEST(Planner, TheHttpRedirectProbeAddsAValidatedCandidateAndFlagsAnotherDomain) {
  Planner p(opts("alice@contoso.com"));
  p.next(), p.posted(status(404));
  p.next(), p.posted(status(404));
  auto probe = p.next();
  ASSERT_EQ(probe.kind, StepKind::RedirectProbe);
  p.probed(ProbeResult{"", 302, "https://autodiscover.hoster.net/Autodiscover/Autodiscover.xml"});
  auto s = p.next();
  EXPECT_EQ(s.kind, StepKind::Post);
  EXPECT_EQ(s.source, Source::HttpRedirect);
  EXPECT_TRUE(s.crossDomain);
  EXPECT_THAT(s.why, HasSubstr("asks the user"));
}

TEST(Planner, AProbeRedirectThatIsNotHttpsOrNotAutodiscoverIsNotFollowed) {
  for (auto location : {"http://autodiscover.hoster.net/autodiscover/autodiscover.xml",
                        "https://evil.example/login", "https://autodiscover.hoster.net:8443/autodiscover/autodiscover.xml"}) {
    Planner p(opts("alice@contoso.com"));
    p.next(), p.posted(status(404));
    p.next(), p.posted(status(404));
    p.next(), p.probed(ProbeResult{"", 302, location});
    EXPECT_EQ(p.next().kind, StepKind::SrvLookup) << location;
    EXPECT_THAT(p.log().back(), HasSubstr("is not followed")) << location;
  }
}

TEST(Planner, SrvGivesACandidateOnPort443) {
  Planner p(opts("alice@contoso.com"));
  p.next(), p.posted(status(404));
  p.next(), p.posted(status(404));
  p.next(), p.probed(ProbeResult{"connection refused", 0, ""});
  ASSERT_EQ(p.next().kind, StepKind::SrvLookup);
  p.srvFound({{0, 0, 443, "mail.Contoso.com"}});
  auto s = p.next();
  EXPECT_EQ(s.url, "https://mail.contoso.com/autodiscover/autodiscover.xml");
  EXPECT_EQ(s.source, Source::Srv);
  EXPECT_FALSE(s.crossDomain);
}

TEST(Planner, Tv8SrvSelection) {
  std::vector<SrvRecord> records = {
      {0, 100, 80, "web.contoso.com"}, {10, 50, 443, "ad1.contoso.com"}, {10, 50, 443, "ad2.contoso.com"},
      {20, 10, 443, "backup.contoso.com"}};
  std::set<std::string> chosen;
  for (std::uint32_t r = 0; r <= 100; ++r)
    chosen.insert(chooseSrv(records, [r](std::uint32_t n) { return r % n; })->target);
  EXPECT_EQ(chosen, (std::set<std::string>{"ad1.contoso.com", "ad2.contoso.com"}));  // never web nor backup
  EXPECT_FALSE(chooseSrv({{0, 0, 80, "web.contoso.com"}}, nullptr));
}

TEST(Planner, Tv7ScpOrder) {
  const std::string url = "77378F46-2C66-4aa9-A6A6-3E7A48B19596", ptr = "67661D7F-8FC4-4fa7-BFAC-E1D7794C1F68";
  std::vector<ScpEntry> entries = {
      {{url, "Site=Paris"}, "https://ex2.contoso.com/Autodiscover/Autodiscover.xml"},
      {{url}, "https://mail.contoso.com/Autodiscover/Autodiscover.xml"},
      {{"77378f46-2c66-4aa9-a6a6-3e7a48b19596", "Site=Redmond"}, "https://ex1.contoso.com/Autodiscover/Autodiscover.xml"},
      {{ptr, "Domain=fabrikam.com"}, "LDAP://dc1.fabrikam.com"},
      {{url, "Site=Redmond"}, "https://EX1.contoso.com/Autodiscover/Autodiscover.xml"},
  };
  auto o = orderScp(entries, "Redmond", "contoso.com");
  EXPECT_EQ(o.urls, (std::vector<std::string>{"https://ex1.contoso.com/Autodiscover/Autodiscover.xml",
                                              "https://mail.contoso.com/Autodiscover/Autodiscover.xml",
                                              "https://ex2.contoso.com/Autodiscover/Autodiscover.xml"}));
  EXPECT_EQ(o.pointer, "");
  EXPECT_EQ(orderScp(entries, "Redmond", "fabrikam.com").pointer, "LDAP://dc1.fabrikam.com");

  // In the planner: the SCP URLs come before the DNS candidates; for carol@fabrikam.com the search
  // starts again at the pointer.
  Planner p(opts("alice@contoso.com", [](PlannerOptions& x) { x.useScp = true; x.clientSite = "Redmond"; }));
  ASSERT_EQ(p.next().kind, StepKind::ScpLookup);
  p.scpFound(entries);
  EXPECT_EQ(p.next().url, "https://ex1.contoso.com/Autodiscover/Autodiscover.xml");
  p.posted(status(503));
  EXPECT_EQ(p.next().url, "https://mail.contoso.com/Autodiscover/Autodiscover.xml");
  Planner q(opts("carol@fabrikam.com", [](PlannerOptions& x) { x.useScp = true; }));
  ASSERT_EQ(q.next().kind, StepKind::ScpLookup);
  q.scpFound(entries);
  auto again = q.next();
  EXPECT_EQ(again.kind, StepKind::ScpLookup);
  EXPECT_EQ(again.ldapUrl, "LDAP://dc1.fabrikam.com");
}

TEST(Planner, HttpRedirectsOnThePostAreValidatedAndFollowed) {
  Planner p(opts("alice@contoso.com"));
  auto s = p.next();
  p.posted(status(302, "/Autodiscover/Autodiscover.xml?x=1"));  // relative: same origin
  s = p.next();
  EXPECT_EQ(s.url, "https://contoso.com/Autodiscover/Autodiscover.xml?x=1");
  EXPECT_EQ(s.source, Source::Redirect);
  p.posted(status(301, "http://contoso.com/autodiscover/autodiscover.xml"));
  EXPECT_THAT(p.log().back(), HasSubstr("it is not https"));
  EXPECT_EQ(p.next().source, Source::AutodiscoverDomain);
  EXPECT_EQ(p.redirects(), 1);
}

TEST(Planner, RedirectAddrStartsAgainForTheNewAddressAndDomain) {
  Planner p(opts("bob@contoso.com"));
  p.next();
  p.posted(answer(PostResult::Action::RedirectAddr, "bob@fabrikam.com"));
  auto s = p.next();
  EXPECT_EQ(s.address, "bob@fabrikam.com");
  EXPECT_EQ(s.url, "https://fabrikam.com/autodiscover/autodiscover.xml");
  // The same address again: that URL is treated as not working.
  p.posted(answer(PostResult::Action::RedirectAddr, "BOB@fabrikam.com"));
  EXPECT_THAT(p.log().back(), HasSubstr("same address"));
  // Back to an address asked for before: a loop.
  p.next();
  p.posted(answer(PostResult::Action::RedirectAddr, "bob@contoso.com"));
  s = p.next();
  EXPECT_EQ(s.kind, StepKind::GiveUp);
  EXPECT_THAT(s.why, HasSubstr("circular address redirect"));
}

TEST(Planner, RedirectUrlIsValidatedAndALoopEnds) {
  Planner p(opts("carol@hosted.example"));
  p.next();
  p.posted(answer(PostResult::Action::RedirectUrl, "https://autodiscover.hoster.net/Autodiscover/Autodiscover.xml"));
  auto s = p.next();
  EXPECT_EQ(s.url, "https://autodiscover.hoster.net/Autodiscover/Autodiscover.xml");
  EXPECT_TRUE(s.crossDomain);
  p.posted(answer(PostResult::Action::RedirectUrl, "https://hosted.example/autodiscover/autodiscover.xml"));
  s = p.next();
  EXPECT_EQ(s.kind, StepKind::GiveUp);
  EXPECT_THAT(s.why, HasSubstr("circular URL redirect"));

  Planner q(opts("carol@hosted.example"));
  q.next();
  q.posted(answer(PostResult::Action::RedirectUrl, "https://hoster.net/owa/"));
  EXPECT_THAT(q.log().back(), HasSubstr("not followed"));
}

TEST(Planner, TenRedirectsAtMost) {
  Planner p(opts("a0@d0.example"));
  Step s;
  for (int i = 1; i <= 11; ++i) {
    s = p.next();
    ASSERT_EQ(s.kind, StepKind::Post) << i;
    p.posted(answer(PostResult::Action::RedirectAddr, "a" + std::to_string(i) + "@d" + std::to_string(i) + ".example"));
  }
  s = p.next();
  EXPECT_EQ(s.kind, StepKind::GiveUp);
  EXPECT_THAT(s.why, HasSubstr("more than 10 redirects"));
  EXPECT_EQ(p.redirects(), 11);
}

TEST(Planner, ErrorsAnd401sMoveOnToTheNextCandidate) {
  Planner p(opts("alice@contoso.com"));
  p.next();
  p.posted(status(401));
  EXPECT_THAT(p.log().back(), HasSubstr("credentials were refused"));
  auto s = p.next();
  EXPECT_EQ(s.source, Source::AutodiscoverDomain);
  PostResult err = answer(PostResult::Action::Error);
  err.error = "The email address can't be found.";
  p.posted(err);
  EXPECT_EQ(p.next().kind, StepKind::RedirectProbe);
}

TEST(Planner, SoapCandidatesEndInSvc) {
  Planner p(opts("alice@contoso.com", [](PlannerOptions& o) { o.soap = true; }));
  EXPECT_EQ(p.next().url, "https://contoso.com/autodiscover/autodiscover.svc");
  EXPECT_EQ(redirectProblem("https://x.example/autodiscover/autodiscover.svc", true), "");
  EXPECT_NE(redirectProblem("https://x.example/autodiscover/autodiscover.xml", true), "");
}

TEST(Planner, JsonCandidatesAndRedirects) {
  Planner p(opts("alice@contoso.com", [](PlannerOptions& x) { x.json = true; }));
  EXPECT_EQ(p.next().url, "https://contoso.com/autodiscover/autodiscover.json/v1.0/alice@contoso.com?Protocol=Ews");
  p.posted(status(302, "https://autodiscover.fabrikam.com/autodiscover/autodiscover.json?Email=a%40fabrikam.com&Protocol=Ews&RedirectCount=1"));
  EXPECT_EQ(p.next().source, Source::Redirect);
  p.posted(status(404));
  EXPECT_EQ(p.next().source, Source::AutodiscoverDomain);
  p.posted(status(404));
  EXPECT_EQ(p.next().kind, StepKind::SrvLookup);  // no plain-HTTP redirect method for v2
  EXPECT_NE(redirectProblem("https://x.example/autodiscover/autodiscover.xml", false, true), "");
}

TEST(Planner, UrlHelpers) {
  EXPECT_EQ(hostOf("https://User@Mail.Contoso.com:443/x"), "mail.contoso.com");
  EXPECT_TRUE(inDomain("autodiscover.contoso.com", "Contoso.com"));
  EXPECT_FALSE(inDomain("evilcontoso.com", "contoso.com"));
  EXPECT_EQ(redirectProblem("https://mail.contoso.com:443/autodiscover/autodiscover.xml"), "");
  EXPECT_EQ(resolveLocation("https://a.example/autodiscover/autodiscover.xml", "other.xml"),
            "https://a.example/autodiscover/other.xml");
}

}  // namespace
