// The CAS array at scale (docs/scale-out.md): two OpenLDAP providers replicating each other, three
// `autodisc serve` nodes on them, HAProxy in front in HTTP mode, all on loopback below port 32768
// (scripts/scale-out.sh). Load goes through HAProxy for 20 s while a node is killed (SIGKILL), a
// provider is killed, a URL is changed through the shell on the surviving provider, and the killed
// provider and node are started again: no request fails, every node serves the change within 2 s,
// and the restarted provider and node catch up.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

#include "support/process.hpp"

using namespace autodisc::testing;
using namespace std::chrono_literals;

namespace {

std::string readFile(const std::string& path) {
  std::ifstream f(path);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

const std::string kPox =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/"
    "outlook/requestschema/2006\"><Request><EMailAddress>jaap@e2010.com</EMailAddress><AcceptableResponseSchema>"
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>"
    "</Request></Autodiscover>";

class ScaleOut : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto tool : {"/usr/sbin/haproxy", "/usr/bin/wrk", "/usr/sbin/slapd"})
      if (access(tool, X_OK) != 0) GTEST_SKIP() << tool << " is not installed (scripts/install-deps.sh installs it)";
    base_ = 20000 + static_cast<int>(getpid() % 90) * 100;  // every port of the deployment below 32768
    setenv("AUTODISC_BIN", env("AUTODISC_BIN").c_str(), 0);  // the script's nodes and shells
    setenv("AUTODISC_LDAP_BIND_DN", "cn=admin,DC=e2010,DC=test", 1);
    setenv("AUTODISC_LDAP_PASSWORD", "secret", 1);
    auto up = runProcess({"/bin/bash", script(), "start", dir_.path(), "3", std::to_string(base_)}, {}, 90s);
    ASSERT_EQ(up.exitCode, 0) << up.out << up.err;
    started_ = true;
  }
  void TearDown() override {
    if (wrk_ > 0) {
      kill(wrk_, SIGKILL);
      waitpid(wrk_, nullptr, 0);
    }
    if (started_) runProcess({"/bin/bash", script(), "stop", dir_.path()});
  }
  std::string script() const { return env("AUTODISC_SOURCE_DIR") + "/scripts/scale-out.sh"; }
  pid_t pidOf(const std::string& name) { return static_cast<pid_t>(std::stol(readFile(dir_.path() + "/pids/" + name))); }
  // What node I answers for jaap@e2010.com, asked directly.
  std::string answerOf(int node) {
    return runProcess({"/usr/bin/curl", "-s", "--max-time", "5", "--cacert", dir_.path() + "/ca.pem", "--resolve",
                       "mail.e2010.com:" + std::to_string(base_ + 60 + node) + ":127.0.0.1", "-H",
                       "Content-Type: text/xml", "--data-binary", kPox,
                       "https://mail.e2010.com:" + std::to_string(base_ + 60 + node) + "/autodiscover/autodiscover.xml"})
        .out;
  }
  // Seconds until node I answers with `text`, up to `limit`; -1 when it never did.
  double secondsUntil(int node, const std::string& text, std::chrono::steady_clock::time_point since, double limit) {
    for (;;) {
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
      if (answerOf(node).find(text) != std::string::npos) return s;
      if (s > limit) return -1;
      std::this_thread::sleep_for(50ms);
    }
  }
  TempDir dir_;
  int base_ = 0;
  bool started_ = false;
  pid_t wrk_ = -1;
};

TEST_F(ScaleOut, NoRequestFailsWhileANodeAndAProviderDieAndAChangeReachesEveryNode) {
  std::string lua = dir_.path() + "/pox.lua";
  std::ofstream(lua) << "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"text/xml; charset=utf-8\"\nwrk.body = '"
                     << kPox << "'\n";
  std::string wrkOut = dir_.path() + "/wrk.out";
  wrk_ = startProcess({"/usr/bin/wrk", "-t1", "-c20", "-d20s", "-s", lua,
                       "https://127.0.0.1:" + std::to_string(base_ + 43) + "/autodiscover/autodiscover.xml"},
                      wrkOut, dir_.path() + "/wrk.err");

  std::this_thread::sleep_for(3s);
  kill(pidOf("node-2"), SIGKILL);
  std::this_thread::sleep_for(2s);
  kill(pidOf("provider-1"), SIGKILL);
  std::this_thread::sleep_for(1s);

  // A change through the shell, which finds provider 2 when 1 does not answer.
  auto changed = runProcess({env("AUTODISC_BIN"), "shell", "--store", readFile(dir_.path() + "/store-uri"), "-c",
                             "Get-OwaVirtualDirectory | Set-OwaVirtualDirectory -ExternalUrl https://webmail.e2010.com/owa"});
  auto since = std::chrono::steady_clock::now();
  ASSERT_EQ(changed.exitCode, 0) << changed.err;
  for (int node : {1, 3}) {
    double s = secondsUntil(node, "https://webmail.e2010.com/owa/", since, 2.0);
    EXPECT_GE(s, 0) << "node " << node << " did not serve the change within 2 s";
    std::cout << "node " << node << " served the change after " << s << " s\n";
  }
  // Each surviving node's change stream moved to provider 2 with the cookie provider 1 had handed it.
  std::string resumed = "I-LDAP-SYNC-RESUMED 127.0.0.1:" + std::to_string(base_ + 2) + " with the cookie from 127.0.0.1:" +
                        std::to_string(base_ + 1);
  for (int node : {1, 3}) {
    std::string log = readFile(dir_.path() + "/node-" + std::to_string(node) + ".err");
    EXPECT_NE(log.find(resumed), std::string::npos) << "node " << node << ":\n" << log;
    EXPECT_EQ(log.find("I-LDAP-SYNC-REFRESH"), std::string::npos) << "node " << node << ":\n" << log;
  }

  // The killed provider and node again: both catch up.
  std::this_thread::sleep_for(2s);
  auto provider = runProcess({"/bin/bash", script(), "provider", dir_.path(), "1"});
  ASSERT_EQ(provider.exitCode, 0) << provider.err;
  auto node = runProcess({"/bin/bash", script(), "node", dir_.path(), "2"});
  ASSERT_EQ(node.exitCode, 0) << node.err;
  EXPECT_GE(secondsUntil(2, "https://webmail.e2010.com/owa/", std::chrono::steady_clock::now(), 2.0), 0);
  std::string providerOne = "ldap://127.0.0.1:" + std::to_string(base_ + 1) + "/DC=e2010,DC=test";
  bool caughtUp = false;
  for (int i = 0; i < 50 && !caughtUp; ++i) {
    auto r = runProcess({env("AUTODISC_BIN"), "shell", "--store", providerOne, "-c",
                         "Get-OwaVirtualDirectory | Format-List ExternalUrl"});
    caughtUp = r.out.find("https://webmail.e2010.com/owa") != std::string::npos;
    if (!caughtUp) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(caughtUp) << "the restarted provider did not receive the change";

  int status = 0;
  waitpid(wrk_, &status, 0);
  wrk_ = -1;
  std::string load = readFile(wrkOut);
  std::cout << load;
  EXPECT_NE(load.find(" requests in "), std::string::npos) << load << readFile(dir_.path() + "/wrk.err");
  EXPECT_EQ(load.find("Non-2xx"), std::string::npos) << load;
  EXPECT_EQ(load.find("Socket errors"), std::string::npos) << load;
}

}  // namespace
