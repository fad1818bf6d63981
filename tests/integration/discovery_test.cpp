// `autodisc test` against real processes on loopback: `autodisc serve` with certificates that cover
// some names and not others, its plain-HTTP redirect listener, and a real DNS server (dnsmasq).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <thread>

#include "support/process.hpp"

using namespace autodisc::testing;

namespace {

// A free loopback UDP port (for the DNS server), found by binding port 0.
int freeUdpPort() {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

class Discovery : public ::testing::Test {
 protected:
  void SetUp() override {
    // `autodisc test` keeps its last-known-good cache here, not in the home directory.
    setenv("XDG_CACHE_HOME", dir_.path().c_str(), 1);
    // The certificate covers mail.contoso.com and autodiscover.contoso.com, not contoso.com itself.
    auto certs = runProcess({"/bin/bash", env("AUTODISC_SOURCE_DIR") + "/tests/data/certs/make-certs.sh", dir_.path(),
                             "mail.contoso.com", "autodiscover.contoso.com"});
    ASSERT_EQ(certs.exitCode, 0) << certs.err;
    store_ = "sqlite:" + dir_.path() + "/org.db";
    auto r = runProcess({env("AUTODISC_BIN"), "shell", "--store", store_, "-"},
                        "New-AcceptedDomain -Name contoso.com -DomainName contoso.com\n"
                        "New-AcceptedDomain -Name fabrikam.com -DomainName fabrikam.com\n"
                        "New-ExchangeServer -Name EX1 -Fqdn ex1.int.contoso.com\n"
                        "New-MailboxDatabase -Name DB1 -Server EX1\n"
                        "New-Mailbox -Name 'Alice Example' -Alias alice -Password (ConvertTo-SecureString -String 'Secret-1' -AsPlainText -Force)\n"
                        "New-MailUser -Name Bob -ExternalEmailAddress bob@fabrikam.com -PrimarySmtpAddress bob@contoso.com\n"
                        "New-Mailbox -Name 'Bob at Fabrikam' -Alias bobf -PrimarySmtpAddress bob@fabrikam.com\n"
                        "Get-WebServicesVirtualDirectory | Set-WebServicesVirtualDirectory -ExternalUrl https://mail.contoso.com/EWS/Exchange.asmx\n"
                        "Get-OutlookAnywhere | Set-OutlookAnywhere -ExternalHostname mail.contoso.com\n");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    password_ = dir_.path() + "/password";
    std::ofstream(password_) << "Secret-1\n";
    serve();
  }
  void TearDown() override {
    for (pid_t p : pids_) {
      kill(p, SIGKILL);
      waitpid(p, nullptr, 0);
    }
  }
  pid_t spawn(std::vector<std::string> args, const std::string& out) {
    pid_t pid = fork();
    if (pid == 0) {
      freopen(out.c_str(), "w", stdout);
      freopen((out + ".err").c_str(), "w", stderr);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    pids_.push_back(pid);
    return pid;
  }
  void serve() {
    std::string out = dir_.path() + "/serve.out";
    spawn({env("AUTODISC_BIN"), "serve", "--store", store_, "--https", "127.0.0.1:0", "--http", "127.0.0.1:0",
           "--admin", "127.0.0.1:0", "--cert", dir_.path() + "/server.pem", "--key", dir_.path() + "/server.key",
           "--auth", authMode(), "--threads", "1"},
          out);
    for (int i = 0; i < 200 && (httpsPort_.empty() || httpPort_.empty()); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::ifstream f(out);
      std::string word, name, where;
      while (f >> word >> name >> where) {
        if (name == "https") httpsPort_ = where.substr(where.rfind(':') + 1);
        if (name == "http") httpPort_ = where.substr(where.rfind(':') + 1);
      }
    }
    ASSERT_FALSE(httpsPort_.empty());
  }
  // dnsmasq on a loopback port: all of contoso.com at 127.0.0.1, an SRV record for fabrikam.com
  // pointing at mail.contoso.com; nothing else (fabrikam.com itself is refused).
  std::string dns(std::vector<std::string> records = {"--address=/contoso.com/127.0.0.1",
                                                      "--srv-host=_autodiscover._tcp.fabrikam.com,mail.contoso.com,443,0,100"}) {
    int port = freeUdpPort();
    std::vector<std::string> args = {"/usr/sbin/dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
                                     "--conf-file=/dev/null", "--listen-address=127.0.0.1", "--bind-interfaces",
                                     "--port=" + std::to_string(port), "--pid-file="};
    args.insert(args.end(), records.begin(), records.end());
    spawn(args, dir_.path() + "/dnsmasq-" + std::to_string(port) + ".out");
    // Ready once it holds the port (on a loaded machine that can take a while).
    waitForUdpPort(port);
    return "127.0.0.1:" + std::to_string(port);
  }
  ProcessResult test(std::vector<std::string> extra) {
    std::vector<std::string> args = {env("AUTODISC_BIN"), "test", "--password-file", password_, "--ca",
                                     dir_.path() + "/ca.pem", "--https-port", httpsPort_, "--http-port", httpPort_,
                                     "--timeout", "3000"};
    args.insert(args.end(), extra.begin(), extra.end());
    // Each run on its own, unless a test is about the last-known-good cache.
    if (!useCache_ && std::find(args.begin(), args.end(), "--no-cache") == args.end()) args.push_back("--no-cache");
    return runProcess(args, "", std::chrono::seconds(60));
  }
  virtual std::string authMode() const { return "anonymous"; }
  bool useCache_ = false;
  TempDir dir_;
  std::string store_, password_, httpsPort_, httpPort_;
  std::vector<pid_t> pids_;
};

// The last-known-good cache: what worked is tried first next time; when it fails, it is forgotten
// and discovery goes the whole way again.
TEST_F(Discovery, TheLastKnownGoodUrlIsTriedFirstAndForgottenWhenItFails) {
  useCache_ = true;
  std::vector<std::string> names = {"alice@contoso.com", "--resolve", "contoso.com:443:127.0.0.1", "--resolve",
                                    "autodiscover.contoso.com:443:127.0.0.1", "--resolve", "mail.contoso.com:443:127.0.0.1",
                                    "--resolve", "ex1.int.contoso.com:443:127.0.0.2", "--no-follow-up"};
  auto first = test(names);
  ASSERT_EQ(first.exitCode, 0) << first.out;
  std::string cache = dir_.path() + "/autodisc/last-known-good";
  std::ifstream in(cache);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "contoso.com pox https://autodiscover.contoso.com/autodiscover/autodiscover.xml");

  auto second = test(names);
  ASSERT_EQ(second.exitCode, 0) << second.out;
  EXPECT_NE(second.out.find("last known good for contoso.com: https://autodiscover.contoso.com/autodiscover/autodiscover.xml"),
            std::string::npos) << second.out;
  auto firstPost = second.out.find("POST ");
  EXPECT_EQ(second.out.find("POST https://autodiscover.contoso.com/autodiscover/autodiscover.xml  [last known good URL"),
            firstPost) << second.out;
  EXPECT_EQ(second.out.find("POST https://contoso.com/"), std::string::npos) << "found at once: nothing else is tried";

  // The cached host now leads nowhere: it is tried, fails, and is forgotten.
  std::vector<std::string> broken = {"alice@contoso.com", "--resolve", "autodiscover.contoso.com:443:127.0.0.9",
                                     "--resolve", "contoso.com:443:127.0.0.9", "--dns", "127.0.0.1:1",
                                     "--no-follow-up"};
  auto third = test(broken);
  EXPECT_NE(third.exitCode, 0) << third.out << third.err;
  EXPECT_NE(third.out.find("[last known good URL"), std::string::npos) << third.out;
  std::ifstream again(cache);
  std::string rest((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rest.find("contoso.com pox"), std::string::npos) << rest;
}

// The article's Figure 1 case in miniature: the domain root's certificate does not cover the name;
// autodiscover.<domain> answers.
TEST_F(Discovery, TheDomainRootFailsItsCertificateAndAutodiscoverDomainAnswers) {
  auto r = test({"alice@contoso.com", "--resolve", "contoso.com:443:127.0.0.1", "--resolve",
                 "autodiscover.contoso.com:443:127.0.0.1", "--resolve", "mail.contoso.com:443:127.0.0.1", "--resolve",
                 "ex1.int.contoso.com:443:127.0.0.2"});
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("POST https://contoso.com/autodiscover/autodiscover.xml"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("does NOT cover contoso.com"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the certificate for mail.contoso.com, autodiscover.contoso.com does not cover contoso.com"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("TLSv1."), std::string::npos);
  EXPECT_NE(r.out.find("FOUND at https://autodiscover.contoso.com/autodiscover/autodiscover.xml for alice@contoso.com"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("EwsUrl: https://mail.contoso.com/EWS/Exchange.asmx"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  EWS: inside https://ex1.int.contoso.com/EWS/Exchange.asmx; outside https://mail.contoso.com/EWS/Exchange.asmx\n"),
            std::string::npos) << r.out;
  // --network external shows only what a client outside uses.
  auto outside = test({"alice@contoso.com", "--resolve", "contoso.com:443:127.0.0.1", "--resolve",
                       "autodiscover.contoso.com:443:127.0.0.1", "--no-follow-up", "--network", "external"});
  EXPECT_NE(outside.out.find("  EWS: outside https://mail.contoso.com/EWS/Exchange.asmx\n"), std::string::npos) << outside.out;
  // Exchange 2019 (the default version): the personalised server name inside, Outlook Anywhere outside.
  auto connects = r.out.find("  Outlook connects to: inside ");
  ASSERT_NE(connects, std::string::npos) << r.out;
  auto lineEnd = r.out.find('\n', connects);
  auto line = r.out.substr(connects, lineEnd - connects);
  EXPECT_NE(line.find("@contoso.com; outside mail.contoso.com"), std::string::npos) << line;
  EXPECT_EQ(r.out.find("Secret-1"), std::string::npos) << "the password is never printed";
  // The follow-up check: the external EWS URL answers over a certificate that covers it; the
  // internal name cannot be reached from here (as from outside a split-DNS network).
  EXPECT_NE(r.out.find("  https://mail.contoso.com/EWS/Exchange.asmx  [EXPR ASUrl]\n    HTTP 404, certificate covers the host"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  https://ex1.int.contoso.com/EWS/Exchange.asmx  [EXCH ASUrl]\n    failed: "), std::string::npos) << r.out;

  auto json = test({"alice@contoso.com", "--json", "--no-follow-up", "--resolve", "contoso.com:443:127.0.0.1",
                    "--resolve", "autodiscover.contoso.com:443:127.0.0.1"});
  EXPECT_EQ(json.exitCode, 0);
  EXPECT_NE(json.out.find("\"found\":true"), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"url\":\"https://autodiscover.contoso.com/autodiscover/autodiscover.xml\""), std::string::npos);
  EXPECT_NE(json.out.find("\"coversHost\":false"), std::string::npos);
  EXPECT_NE(json.out.find("\"checks\":[]"), std::string::npos) << json.out;
  EXPECT_EQ(json.out.find("Secret-1"), std::string::npos);
}

class DiscoveryBasic : public Discovery {
 protected:
  std::string authMode() const override { return "basic"; }
};

TEST_F(DiscoveryBasic, TheRightPasswordIsFoundAndAWrongOneIsNot) {
  auto ok = test({"alice@contoso.com", "--resolve", "autodiscover.contoso.com:443:127.0.0.1", "--dns", dns()});
  EXPECT_EQ(ok.exitCode, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("FOUND at https://autodiscover.contoso.com/autodiscover/autodiscover.xml"), std::string::npos) << ok.out;
  // The logon name may differ from the address asked about.
  auto asUser = test({"alice@contoso.com", "--user", "alice", "--resolve", "autodiscover.contoso.com:443:127.0.0.1",
                      "--dns", dns()});
  EXPECT_EQ(asUser.exitCode, 0) << asUser.out;
  // --auth any takes what the server offers (Basic here); NTLM alone is what this server does not take.
  auto any = test({"alice@contoso.com", "--auth", "any", "--resolve", "autodiscover.contoso.com:443:127.0.0.1",
                   "--dns", dns(), "--no-cache"});
  EXPECT_EQ(any.exitCode, 0) << any.out;
  auto ntlm = test({"alice@contoso.com", "--auth", "ntlm", "--resolve", "autodiscover.contoso.com:443:127.0.0.1",
                    "--dns", dns(), "--no-cache"});
  EXPECT_EQ(ntlm.exitCode, 2) << ntlm.out;
  EXPECT_NE(ntlm.out.find("HTTP 401 (Basic realm=\"autodisc\")"), std::string::npos) << ntlm.out;
  std::ofstream(password_) << "Wrong-2\n";
  auto r = test({"alice@contoso.com", "--resolve", "autodiscover.contoso.com:443:127.0.0.1", "--dns", dns(), "--no-cache"});
  EXPECT_EQ(r.exitCode, 2) << r.out << r.err;
  EXPECT_EQ(r.out.find("Wrong-2"), std::string::npos);
  EXPECT_NE(r.out.find("HTTP 401 (Basic realm=\"autodisc\")"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("NOT FOUND"), std::string::npos);
}

// A mail user's address is redirected to another domain; that domain is found through a real DNS
// server's SRV record, on a host outside it: found, with the warning Outlook would show.
TEST_F(Discovery, RedirectAddrAcrossDomainsThenSrvThroughARealDnsServer) {
  auto server = dns();
  auto r = test({"bob@contoso.com", "--dns", server});
  EXPECT_EQ(r.exitCode, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("DNS autodiscover.contoso.com: 127.0.0.1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("redirectAddr from https://autodiscover.contoso.com/autodiscover/autodiscover.xml: "
                       "bob@contoso.com -> bob@fabrikam.com"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SRV _autodiscover._tcp.fabrikam.com"), std::string::npos);
  EXPECT_NE(r.out.find("0 100 443 mail.contoso.com"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FOUND at https://mail.contoso.com/autodiscover/autodiscover.xml for bob@fabrikam.com"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("WARNING: the settings came from mail.contoso.com, outside fabrikam.com"), std::string::npos);
}

// The same discovery for an EWS program: SOAP GetUserSettings at autodiscover.svc, RedirectAddress
// followed across domains.
TEST_F(Discovery, SoapDiscoveryFindsTheEwsUrlAndFollowsRedirectAddress) {
  auto r = test({"alice@contoso.com", "--protocol", "soap", "--no-follow-up", "--resolve", "contoso.com:443:127.0.0.1",
                 "--resolve", "autodiscover.contoso.com:443:127.0.0.1"});
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("POST https://contoso.com/autodiscover/autodiscover.svc"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FOUND at https://autodiscover.contoso.com/autodiscover/autodiscover.svc for alice@contoso.com"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ExternalEwsUrl: https://mail.contoso.com/EWS/Exchange.asmx"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("UserDisplayName: Alice Example"), std::string::npos);

  auto bob = test({"bob@contoso.com", "--protocol", "soap", "--no-follow-up", "--dns", dns()});
  EXPECT_EQ(bob.exitCode, 1) << bob.out << bob.err;
  EXPECT_NE(bob.out.find("answer: RedirectAddress bob@fabrikam.com"), std::string::npos) << bob.out;
  EXPECT_NE(bob.out.find("FOUND at https://mail.contoso.com/autodiscover/autodiscover.svc for bob@fabrikam.com"),
            std::string::npos) << bob.out;
}

// Split DNS: the inside view knows the internal name ex1.int.contoso.com, the outside view only the
// public names. The same discovery from each side, and what each side finds of the internal URL.
TEST_F(Discovery, SplitDnsInsideAndOutsideViews) {
  auto inside = dns({"--address=/autodiscover.contoso.com/127.0.0.1", "--address=/mail.contoso.com/127.0.0.1",
                     "--address=/ex1.int.contoso.com/127.0.0.1"});
  auto outside = dns({"--address=/autodiscover.contoso.com/127.0.0.1", "--address=/mail.contoso.com/127.0.0.1"});
  // Inside, the internal name resolves and the check finds that the certificate does not cover it
  // (the article's certificate warning); outside, it does not resolve at all.
  auto in = test({"alice@contoso.com", "--dns", inside});
  auto out = test({"alice@contoso.com", "--dns", outside});
  EXPECT_EQ(in.exitCode, 0) << in.out;
  EXPECT_EQ(out.exitCode, 0) << out.out;
  EXPECT_NE(in.out.find("  https://ex1.int.contoso.com/EWS/Exchange.asmx  [EXCH ASUrl]\n    failed: the certificate for "
                        "mail.contoso.com, autodiscover.contoso.com does not cover ex1.int.contoso.com"),
            std::string::npos) << in.out;
  EXPECT_NE(out.out.find("  https://ex1.int.contoso.com/EWS/Exchange.asmx  [EXCH ASUrl]\n    failed: DNS ex1.int.contoso.com"),
            std::string::npos) << out.out;
  // The public URL answers from both sides.
  for (auto* r : {&in, &out})
    EXPECT_NE(r->out.find("  https://mail.contoso.com/EWS/Exchange.asmx  [EXPR ASUrl]\n    HTTP 404, certificate covers the host"),
              std::string::npos) << r->out;
}

// Autodiscover v2: GET autodiscover.json; a mail user's 302 to the next hop is validated and followed.
TEST_F(Discovery, JsonV2DiscoveryAndItsRedirect) {
  auto r = test({"alice@contoso.com", "--protocol", "json", "--no-follow-up", "--resolve", "contoso.com:443:127.0.0.1",
                 "--resolve", "autodiscover.contoso.com:443:127.0.0.1"});
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("GET https://autodiscover.contoso.com/autodiscover/autodiscover.json/v1.0/alice@contoso.com?Protocol=Ews"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("    Url: https://mail.contoso.com/EWS/Exchange.asmx"), std::string::npos) << r.out;
  auto bob = test({"bob@contoso.com", "--protocol", "json", "--no-follow-up", "--dns", dns()});
  EXPECT_EQ(bob.exitCode, 2) << bob.out;
  EXPECT_NE(bob.out.find("HTTP 302 from https://autodiscover.contoso.com/autodiscover/autodiscover.json/v1.0/bob@contoso.com"
                         "?Protocol=Ews to https://autodiscover.fabrikam.com/autodiscover/autodiscover.json?"
                         "Email=bob%40fabrikam.com&Protocol=Ews&RedirectCount=1"),
            std::string::npos) << bob.out;
  EXPECT_NE(bob.out.find("GET https://autodiscover.fabrikam.com/autodiscover/autodiscover.json?Email=bob%40fabrikam.com"),
            std::string::npos) << bob.out;
}

// --watch: discovery again after the interval, printing what changed in between.
TEST_F(Discovery, WatchPrintsWhatChanged) {
  std::string out = dir_.path() + "/watch.out";
  pid_t watcher = spawn({env("AUTODISC_BIN"), "test", "alice@contoso.com", "--ca", dir_.path() + "/ca.pem", "--https-port",
                         httpsPort_, "--no-follow-up", "--resolve", "autodiscover.contoso.com:443:127.0.0.1", "--resolve",
                         "contoso.com:443:127.0.0.1", "--watch", "--watch-interval", "3", "--watch-rounds", "2"},
                        out);
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  auto change = runProcess({env("AUTODISC_BIN"), "shell", "--store", store_, "-"},
                           "Get-WebServicesVirtualDirectory | Set-WebServicesVirtualDirectory -ExternalUrl "
                           "https://ews.contoso.com/EWS/Exchange.asmx\n");
  ASSERT_EQ(change.exitCode, 0) << change.err;
  int status = -1;
  for (int i = 0; i < 200; ++i) {  // at most 20 s
    if (waitpid(watcher, &status, WNOHANG) == watcher) {
      std::erase(pids_, watcher);  // reaped: TearDown must not signal the number again
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::ifstream f(out);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(WIFEXITED(status)) << text;
  EXPECT_EQ(WEXITSTATUS(status), 0) << text;
  EXPECT_NE(text.find("== round 1 at "), std::string::npos) << text;
  EXPECT_NE(text.find("== round 2 at "), std::string::npos) << text;
  EXPECT_NE(text.find("changed: EXPR EwsUrl: https://mail.contoso.com/EWS/Exchange.asmx -> "
                      "https://ews.contoso.com/EWS/Exchange.asmx"),
            std::string::npos) << text;
}

// The plain-HTTP redirect method: autodiscover.<domain> on port 80 sends the client on.
TEST_F(Discovery, TheHttpRedirectMethodLeadsToTheService) {
  auto r = runProcess({env("AUTODISC_BIN"), "shell", "--store", store_, "-"},
                      "New-AcceptedDomain -Name customer -DomainName customer.example -AutodiscoverRedirectUrl "
                      "https://mail.contoso.com/Autodiscover/Autodiscover.xml\n"
                      "New-Mailbox -Name Carol -Alias carol -PrimarySmtpAddress carol@customer.example\n");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // the service takes it within a second
  auto t = test({"carol@customer.example", "--resolve", "autodiscover.customer.example:80:127.0.0.1", "--resolve",
                 "mail.contoso.com:443:127.0.0.1", "--resolve", "customer.example:443:127.0.0.1", "--resolve",
                 "autodiscover.customer.example:443:127.0.0.1", "--dns", dns()});
  EXPECT_EQ(t.exitCode, 1) << t.out << t.err;
  EXPECT_NE(t.out.find("GET http://autodiscover.customer.example/autodiscover/autodiscover.xml"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("HTTP 302 Location: https://mail.contoso.com/Autodiscover/Autodiscover.xml"), std::string::npos);
  EXPECT_NE(t.out.find("FOUND at https://mail.contoso.com/Autodiscover/Autodiscover.xml for carol@customer.example"),
            std::string::npos) << t.out;
}

}  // namespace
