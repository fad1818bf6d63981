// The doctor's checks on crafted organisations and certificates (no sockets, no files).
#include "doctor/checks.hpp"
#include "doctor/graph.hpp"

#include <gtest/gtest.h>

#include <map>

#include "support/shell_harness.hpp"

namespace autodisc::doctor {
namespace {

using autodisc::testing::ShellHarness;
using namespace std::chrono_literals;

Certificate certFor(std::vector<std::string> names, std::chrono::system_clock::duration left = 24h * 365) {
  Certificate c;
  c.subject = "/CN=" + names.front();
  c.names = std::move(names);
  c.notAfter = std::chrono::system_clock::time_point{} + 24h * 1000 + left;
  return c;
}
auto now() { return std::chrono::system_clock::time_point{} + 24h * 1000; }

std::vector<Finding> withObject(const std::vector<Finding>& all, std::string_view part) {
  std::vector<Finding> out;
  for (auto& f : all)
    if (f.object.find(part) != std::string::npos) out.push_back(f);
  return out;
}

class Doctor : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(h_.open(), "");
    for (auto line : {"New-AcceptedDomain -Name e2010.com -DomainName e2010.com",
                      "New-ExchangeServer -Name X2007SRV -Fqdn x2007srv.e2010.local",
                      "New-MailboxDatabase -Name DB1 -Server X2007SRV"})
      ASSERT_TRUE(h_.run(line).ok) << line;
  }
  void run(std::string_view line) {
    auto r = h_.run(line);
    ASSERT_TRUE(r.ok) << line << ": " << r.error;
  }
  ShellHarness h_;
};

TEST(DoctorNames, CoverageFollowsRfc6125) {
  std::vector<std::string> names = {"mail.e2010.com", "*.e2010.com"};
  EXPECT_TRUE(covers(names, "MAIL.e2010.com"));
  EXPECT_TRUE(covers(names, "autodiscover.e2010.com"));
  EXPECT_FALSE(covers(names, "e2010.com")) << "a wildcard stands for one whole label";
  EXPECT_FALSE(covers(names, "a.b.e2010.com")) << "only one label deep";
  EXPECT_FALSE(covers(names, "x2007srv.e2010.local"));
  EXPECT_FALSE(covers({""}, "")) << "an empty name covers nothing (a fuzz_names finding)";
  EXPECT_FALSE(covers({"."}, "."));
  EXPECT_TRUE(publiclyCertifiable("mail.e2010.com"));
  EXPECT_FALSE(publiclyCertifiable("x2007srv.e2010.local"));
  EXPECT_FALSE(publiclyCertifiable("x2007srv"));
  EXPECT_FALSE(publiclyCertifiable("10.0.0.5"));
  EXPECT_TRUE(publiclyCertifiable("203.0.113.5"));
}

// Check 1, the article's Figure 1: the SCP and the InternalUrls on the internal server name are not
// covered by a certificate for the external names; the fix points them at a covered name.
TEST_F(Doctor, NamesNotCoveredByTheCertificateAreErrorsWithTheirFix) {
  Input in{h_.org(), certFor({"mail.e2010.com", "autodiscover.e2010.com"}), now()};
  auto found = checkCertificateCoverage(in);
  auto scp = withObject(found, "X2007SRV AutoDiscoverServiceInternalUri");
  ASSERT_EQ(scp.size(), 1u);
  EXPECT_EQ(scp[0].severity, Severity::Error);
  EXPECT_EQ(scp[0].evidence, "the certificate for mail.e2010.com, autodiscover.e2010.com does not cover x2007srv.e2010.local");
  EXPECT_EQ(scp[0].fix.substr(0, scp[0].fix.find("   (")),
            "Set-ClientAccessServer -Identity 'X2007SRV' -AutoDiscoverServiceInternalUri "
            "https://mail.e2010.com/Autodiscover/Autodiscover.xml");
  auto owa = withObject(found, "X2007SRV\\owa (Default Web Site) InternalUrl");
  ASSERT_EQ(owa.size(), 1u);
  EXPECT_EQ(owa[0].fix.substr(0, owa[0].fix.find("   (")),
            "Set-OwaVirtualDirectory -Identity 'X2007SRV\\owa (Default Web Site)' -InternalUrl https://mail.e2010.com/owa");
  EXPECT_TRUE(owa[0].fixIsCmdlet);
  // autodiscover.<domain> is covered; the domain root is only a note.
  EXPECT_TRUE(withObject(found, "(https://autodiscover.e2010.com").empty());
  auto root = withObject(found, "(https://e2010.com");
  ASSERT_EQ(root.size(), 1u);
  EXPECT_EQ(root[0].severity, Severity::Info);

  // After the fixes, nothing is left but the note; with no certificate, nothing is checked.
  for (auto& f : found)
    if (f.fixIsCmdlet) run(f.fix.substr(0, f.fix.find("   (")));
  auto after = checkCertificateCoverage(Input{h_.org(), certFor({"mail.e2010.com", "autodiscover.e2010.com"}), now()});
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].severity, Severity::Info);
  EXPECT_TRUE(checkCertificateCoverage(Input{h_.org(), std::nullopt, now()}).empty());
}

// Check 2: a .local name in a URL, whatever the certificate says.
TEST_F(Doctor, NamesPublicCasNoLongerCertifyAreWarnedAbout) {
  auto found = checkNonPublicNames(Input{h_.org(), std::nullopt, now()});
  auto ews = withObject(found, "X2007SRV\\EWS (Default Web Site) InternalUrl");
  ASSERT_EQ(ews.size(), 1u);
  EXPECT_EQ(ews[0].severity, Severity::Warning);
  EXPECT_NE(ews[0].fix.find("-InternalUrl https://mail.e2010.com/EWS/Exchange.asmx"), std::string::npos) << ews[0].fix;
  EXPECT_NE(ews[0].fix.find("split DNS"), std::string::npos);
}

// Check 3: one name inside and outside needs an internal address inside and a public one outside;
// an array's name resolves inside and not outside.
TEST_F(Doctor, SplitDnsAndArrayNamesAreCheckedInBothViews) {
  run("Get-OwaVirtualDirectory | Set-OwaVirtualDirectory -InternalUrl https://mail.e2010.com/owa -ExternalUrl "
      "https://mail.e2010.com/owa");
  run("New-ClientAccessArray -Name CAS_Array -Fqdn outlook.e2010.local -Site Default-First-Site-Name");
  std::map<std::pair<std::string, bool>, std::vector<std::string>> zone;
  Resolver resolve = [&](const std::string& host, bool internal) {
    auto it = zone.find({host, internal});
    return it == zone.end() ? Resolved{{}, "NXDOMAIN"} : Resolved{it->second, ""};
  };
  EXPECT_TRUE(checkSplitDns(Input{h_.org(), std::nullopt, now()}).empty()) << "no resolver: not checked";
  auto found = checkSplitDns(Input{h_.org(), std::nullopt, now(), resolve});
  // Inside nothing resolves: the name and the array; outside nothing: the name.
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].problem, "inside, mail.e2010.com does not resolve: clients inside cannot reach what they are handed");
  EXPECT_EQ(found[0].evidence, "inside: NXDOMAIN; outside: NXDOMAIN");
  EXPECT_NE(found[0].fix.find("internal DNS: mail.e2010.com A"), std::string::npos);

  zone[{"mail.e2010.com", true}] = {"203.0.113.5"};
  zone[{"mail.e2010.com", false}] = {"203.0.113.5"};
  zone[{"outlook.e2010.local", true}] = {"10.0.0.20"};
  found = checkSplitDns(Input{h_.org(), std::nullopt, now(), resolve});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].severity, Severity::Warning);
  EXPECT_NE(found[0].problem.find("go out and back in"), std::string::npos);

  zone[{"mail.e2010.com", true}] = {"10.0.0.5"};
  zone[{"outlook.e2010.local", false}] = {"203.0.113.9"};
  found = checkSplitDns(Input{h_.org(), std::nullopt, now(), resolve});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].problem, "its FQDN outlook.e2010.local resolves from outside: an internal name is published");
  zone.erase({"outlook.e2010.local", false});
  EXPECT_TRUE(checkSplitDns(Input{h_.org(), std::nullopt, now(), resolve}).empty());
}

// Check 4: URLs on the Autodiscover virtual directory have no effect.
TEST_F(Doctor, UrlsOnTheAutodiscoverDirectoryAreFlagged) {
  EXPECT_TRUE(checkAutodiscoverVdirUrls(Input{h_.org(), std::nullopt, now()}).empty());
  run("Set-AutodiscoverVirtualDirectory -Identity 'X2007SRV\\Autodiscover (Default Web Site)' -InternalUrl "
      "https://autodiscover.e2010.com/Autodiscover/Autodiscover.xml");
  auto found = checkAutodiscoverVdirUrls(Input{h_.org(), std::nullopt, now()});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].fix,
            "Set-ClientAccessServer -Identity 'X2007SRV' -AutoDiscoverServiceInternalUri "
            "https://autodiscover.e2010.com/Autodiscover/Autodiscover.xml");
}

// Check 5: a database in a site with a CAS array that still sends Outlook to its server.
TEST_F(Doctor, DatabasesNotSentToTheirSitesArrayAreErrors) {
  EXPECT_TRUE(checkCasArrays(Input{h_.org(), std::nullopt, now()}).empty());
  run("New-ClientAccessArray -Name CAS_Array -Fqdn outlook.e2010.local -Site Default-First-Site-Name");
  auto found = checkCasArrays(Input{h_.org(), std::nullopt, now()});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].fix, "Get-MailboxDatabase 'DB1' | Set-MailboxDatabase -RpcClientAccessServer outlook.e2010.local");
  run(found[0].fix);
  EXPECT_TRUE(checkCasArrays(Input{h_.org(), std::nullopt, now()}).empty());
}

// Check 6: expired and expiring certificates.
TEST_F(Doctor, ExpiredAndExpiringCertificates) {
  EXPECT_TRUE(checkCertificateValidity(Input{h_.org(), certFor({"mail.e2010.com"}, 24h * 90), now()}).empty());
  auto soon = checkCertificateValidity(Input{h_.org(), certFor({"mail.e2010.com"}, 24h * 10), now()});
  ASSERT_EQ(soon.size(), 1u);
  EXPECT_EQ(soon[0].severity, Severity::Warning);
  EXPECT_EQ(soon[0].problem, "the certificate expires in 10 day(s)");
  auto gone = checkCertificateValidity(Input{h_.org(), certFor({"mail.e2010.com"}, -24h), now()});
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].severity, Severity::Error);
}

// Check 6: the chain, the key, the signature, and Outlook Anywhere's certificate principal name.
TEST_F(Doctor, ChainKeySignatureAndPrincipalName) {
  Certificate c = certFor({"mail.e2010.com"});
  c.chainChecked = true;
  c.chainError = "unable to get local issuer certificate";
  c.missingIntermediate = true;
  c.keyType = "RSA";
  c.keyBits = 1024;
  c.signature = "sha1WithRSAEncryption";
  run("Set-OutlookProvider EXPR -CertPrincipalName msstd:old.e2010.com");
  auto found = checkCertificateValidity(Input{h_.org(), c, now()});
  ASSERT_EQ(found.size(), 4u);
  EXPECT_EQ(found[0].problem, "the chain is missing an intermediate certificate");
  EXPECT_EQ(found[1].problem, "a weak key: RSA 1024 bits");
  EXPECT_EQ(found[2].problem, "a weak signature: sha1WithRSAEncryption");
  EXPECT_EQ(found[3].fix, "Set-OutlookProvider EXPR -CertPrincipalName msstd:mail.e2010.com");
  run(found[3].fix);
  c = certFor({"mail.e2010.com"});
  c.chainChecked = true;
  c.keyType = "EC";
  c.keyBits = 256;
  c.signature = "ecdsa-with-SHA256";
  EXPECT_TRUE(checkCertificateValidity(Input{h_.org(), c, now()}).empty());
}

// Check 7: external URLs without an external Outlook Anywhere host; http; an odd ActiveSync path.
TEST_F(Doctor, InconsistenciesAreFlagged) {
  EXPECT_TRUE(checkConsistency(Input{h_.org(), std::nullopt, now()}).empty());
  run("Get-ActiveSyncVirtualDirectory | Set-ActiveSyncVirtualDirectory -ExternalUrl http://mail.e2010.com/eas");
  auto found = checkConsistency(Input{h_.org(), std::nullopt, now()});
  ASSERT_EQ(found.size(), 3u);
  EXPECT_NE(withObject(found, "Rpc (Default Web Site)")[0].fix.find("-ExternalHostname mail.e2010.com"), std::string::npos);
  auto eas = withObject(found, "Microsoft-Server-ActiveSync (Default Web Site) ExternalUrl");
  ASSERT_EQ(eas.size(), 2u);
  EXPECT_EQ(eas[0].problem, "an http URL: clients require https");
  EXPECT_NE(eas[1].fix.find("https://mail.e2010.com/Microsoft-Server-ActiveSync"), std::string::npos);
  // runAll puts errors first.
  auto all = runAll(Input{h_.org(), certFor({"mail.e2010.com"}), now()});
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front().severity, Severity::Error);
  EXPECT_EQ(all.back().severity, Severity::Info);
}

TEST_F(Doctor, TheGraphMarksWhatTheFindingsAreAbout) {
  run("Get-OwaVirtualDirectory | Set-OwaVirtualDirectory -ExternalUrl https://mail.e2010.com/owa");
  Input in{h_.org(), certFor({"mail.e2010.com", "autodiscover.e2010.com"}), now()};
  in.resolve = [](const std::string& host, bool internal) {
    return host == "mail.e2010.com" ? Resolved{{internal ? "10.0.0.5" : "203.0.113.5"}, ""} : Resolved{{}, "NXDOMAIN"};
  };
  auto findings = runAll(in);
  auto dot = topologyDot(in, findings);
  EXPECT_EQ(dot.rfind("digraph autodisc {", 0), 0u);
  // The internal name is not in the certificate: red; the external one is: green, with each view's answer.
  EXPECT_NE(dot.find("\"name:x2007srv.e2010.local\" [label=\"x2007srv.e2010.local\\ninside: (NXDOMAIN)\\nNOT in the "
                     "certificate\", shape=ellipse, fillcolor=\"#f4b6b6\""),
            std::string::npos) << dot;
  EXPECT_NE(dot.find("\"name:mail.e2010.com\" [label=\"mail.e2010.com\\noutside: 203.0.113.5\\nin the certificate\", "
                     "shape=ellipse, fillcolor=\"#d8efd2\""),
            std::string::npos) << dot;
  // Which object hands each name out, to which clients through which view.
  EXPECT_NE(dot.find("\"name:mail.e2010.com\" -> \"vdir:X2007SRV\\\\owa (Default Web Site)\" [label=\"ExternalUrl\"]"),
            std::string::npos) << dot;
  EXPECT_NE(dot.find("\"dns:external\" -> \"name:autodiscover.e2010.com\""), std::string::npos);
  EXPECT_NE(dot.find("\"dns:internal\" -> \"name:x2007srv.e2010.local\""), std::string::npos);
  EXPECT_NE(dot.find("\"name:x2007srv.e2010.local\" -> \"server:X2007SRV\" [label=\"SCP (AutoDiscoverServiceInternalUri)\"]"),
            std::string::npos);
  // Once the certificate covers it, nothing is red.
  in.certificate = certFor({"mail.e2010.com", "autodiscover.e2010.com", "x2007srv.e2010.local"});
  auto fixedDot = topologyDot(in, withObject(runAll(in), "certificate-never-matches"));
  EXPECT_EQ(fixedDot.find("#f4b6b6\""), std::string::npos) << fixedDot;
}

TEST_F(Doctor, ACertificateRequestAsksForEveryNameClientsAreHandedPublicOnesFirst) {
  run("New-AcceptedDomain -Name fabrikam.com -DomainName fabrikam.com");
  run("Get-OwaVirtualDirectory | Set-OwaVirtualDirectory -ExternalUrl https://mail.e2010.com/owa");
  EXPECT_EQ(namesToCertify(h_.org()),
            (std::vector<std::string>{"mail.e2010.com", "autodiscover.e2010.com", "autodiscover.fabrikam.com",
                                      "x2007srv.e2010.local"}));
}

}  // namespace
}  // namespace autodisc::doctor
