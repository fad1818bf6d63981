// `autodisc doctor` on the article's organisation and a certificate for the external names only:
// the SCP and the InternalUrls are reported as not covered, with their fixes; the printed fix
// script, run through the shell, leaves only what a cmdlet cannot fix.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <memory>
#include <iterator>
#include <sstream>
#include <thread>

#include "support/process.hpp"

using namespace autodisc::testing;

namespace {

TEST(DoctorCommand, ReportsTheArticlesFindingsAndItsFixScriptFixesThem) {
  TempDir dir;
  std::string store = "sqlite:" + dir.path() + "/org.db";
  auto org = runProcess({env("AUTODISC_BIN"), "shell", "--store", store, env("AUTODISC_SOURCE_DIR") + "/examples/e2010-organisation.ps1"});
  ASSERT_EQ(org.exitCode, 0) << org.err;
  auto certs = runProcess({"/bin/bash", env("AUTODISC_SOURCE_DIR") + "/tests/data/certs/make-certs.sh", dir.path(),
                           "mail.e2010.com", "autodiscover.e2010.com"});
  ASSERT_EQ(certs.exitCode, 0) << certs.err;
  std::string cert = dir.path() + "/server.pem";

  auto before = runProcess({env("AUTODISC_BIN"), "doctor", "--store", store, "--cert", cert});
  EXPECT_EQ(before.exitCode, 2) << before.out << before.err;
  EXPECT_NE(before.out.find("[certificate-coverage] X2007SRV AutoDiscoverServiceInternalUri (the SCP): the certificate "
                            "does not cover x2007srv.e2010.local"),
            std::string::npos) << before.out;
  EXPECT_NE(before.out.find("evidence: the certificate for mail.e2010.com, autodiscover.e2010.com does not cover "
                            "x2007srv.e2010.local"),
            std::string::npos);
  EXPECT_NE(before.out.find("fix: Set-OwaVirtualDirectory -Identity 'X2007SRV\\owa (Default Web Site)' -InternalUrl "
                            "https://mail.e2010.com/owa"),
            std::string::npos) << before.out;

  // The service's configuration file names the store and the certificate.
  std::string config = dir.path() + "/autodisc.toml";
  std::ofstream(config) << "store = \"" << store << "\"\ncert = \"" << cert << "\"\nkey = \"" << dir.path()
                        << "/server.key\"\nhttps = [\"127.0.0.1:0\"]\n";
  auto fromConfig = runProcess({env("AUTODISC_BIN"), "doctor", "--config", config});
  EXPECT_EQ(fromConfig.exitCode, 2) << fromConfig.err;
  EXPECT_EQ(fromConfig.out, "Certificate: " + cert + before.out.substr(before.out.find('\n')));

  // The topology, drawn by Graphviz with the findings marked.
  std::string svg = dir.path() + "/topology.svg";
  auto graph = runProcess({env("AUTODISC_BIN"), "doctor", "--store", store, "--cert", cert, "--graph", svg});
  EXPECT_EQ(graph.exitCode, 2) << graph.err;
  std::ifstream drawn(svg);
  std::string picture((std::istreambuf_iterator<char>(drawn)), std::istreambuf_iterator<char>());
  EXPECT_NE(picture.find("<svg"), std::string::npos) << graph.err;
  EXPECT_NE(picture.find(">x2007srv.e2010.local</text>"), std::string::npos);
  EXPECT_NE(picture.find(">NOT in the certificate</text>"), std::string::npos);
  EXPECT_NE(picture.find("fill=\"#f4b6b6\""), std::string::npos) << "an error is drawn red";
  auto badGraph = runProcess({env("AUTODISC_BIN"), "doctor", "--store", store, "--graph", dir.path() + "/t.txt"});
  EXPECT_EQ(badGraph.exitCode, 3);
  EXPECT_NE(badGraph.err.find("name a .svg, .png, .pdf or .dot file"), std::string::npos);

  auto json = runProcess({env("AUTODISC_BIN"), "doctor", "--store", store, "--cert", cert, "--json"});
  EXPECT_EQ(json.exitCode, 2);
  EXPECT_EQ(json.out.rfind("{\"findings\":[{\"severity\":\"error\",\"check\":\"certificate-coverage\"", 0), 0u) << json.out;

  auto script = runProcess({env("AUTODISC_BIN"), "doctor", "--store", store, "--cert", cert, "--fix-script"});
  EXPECT_EQ(script.exitCode, 2);
  auto fixed = runProcess({env("AUTODISC_BIN"), "shell", "--store", store, "-"}, script.out);
  ASSERT_EQ(fixed.exitCode, 0) << fixed.err << script.out;

  // Without the test CA, the chain does not verify against the system's store.
  auto untrusted = runProcess({env("AUTODISC_BIN"), "doctor", "--store", store, "--cert", cert});
  EXPECT_EQ(untrusted.exitCode, 2);
  EXPECT_NE(untrusted.out.find("the chain does not verify against the trust store"), std::string::npos) << untrusted.out;
  auto after = runProcess({env("AUTODISC_BIN"), "doctor", "--store", store, "--cert", cert, "--ca", dir.path() + "/ca.pem"});
  EXPECT_EQ(after.exitCode, 1) << after.out;  // the test certificate expires within 30 days
  EXPECT_EQ(after.out.find("ERRORS"), std::string::npos) << after.out;
  EXPECT_NE(after.out.find("certificate-expiry"), std::string::npos);

  // The article's configuration (one name inside and out, a CAS array) against two DNS views.
  auto article = runProcess({env("AUTODISC_BIN"), "shell", "--store", store,
                             env("AUTODISC_SOURCE_DIR") + "/examples/article-configuration.ps1"});
  ASSERT_EQ(article.exitCode, 0) << article.err;
  // Inside, the array's name but not the published one; outside, the published one.
  auto inside = std::make_unique<DnsView>(std::vector<std::string>{"--address=/outlook.e2010.local/10.0.0.20"});
  DnsView outside({"--address=/mail.e2010.com/203.0.113.5", "--address=/autodiscover.e2010.com/203.0.113.5"});
  auto dns = runProcess({env("AUTODISC_BIN"), "doctor", "--store", store, "--internal-dns", inside->address(),
                         "--external-dns", outside.address()});
  EXPECT_EQ(dns.exitCode, 2) << dns.out;
  EXPECT_NE(dns.out.find("[split-dns] mail.e2010.com (InternalUrl and ExternalUrl): inside, mail.e2010.com does not resolve"),
            std::string::npos) << dns.out;
  inside.reset();
  // Split DNS added inside: clean of DNS findings.
  DnsView fixedInside({"--address=/outlook.e2010.local/10.0.0.20", "--address=/mail.e2010.com/10.0.0.5"});
  auto clean = runProcess({env("AUTODISC_BIN"), "doctor", "--store", store, "--internal-dns", fixedInside.address(),
                           "--external-dns", outside.address()});
  EXPECT_EQ(clean.out.find("split-dns"), std::string::npos) << clean.out;
  EXPECT_EQ(clean.out.find("[cas-array]"), std::string::npos) << clean.out;

  auto missing = runProcess({env("AUTODISC_BIN"), "doctor", "--store", store, "--cert", dir.path() + "/nope.pem"});
  EXPECT_EQ(missing.exitCode, 3);
  EXPECT_NE(missing.err.find("cannot read the certificate"), std::string::npos) << missing.err;
}

}  // namespace
