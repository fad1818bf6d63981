// The directory store against a real slapd (Debian's), started by scripts/slapd.sh with the schema
// the project ships: the seed article's cmdlets give the same organisation as on SQLite, the SCP
// query of spec 6.3 finds what Set-ClientAccessServer set, a failed change leaves nothing behind,
// and two services on one directory follow it, keep answering without it and catch up after.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "support/process.hpp"
#include "support/store_dump.hpp"

using namespace autodisc::testing;

namespace {

constexpr const char* kBase = "DC=e2010,DC=test";
constexpr const char* kAdmin = "cn=admin,DC=e2010,DC=test";
constexpr const char* kUrlKeyword = "77378F46-2C66-4aa9-A6A6-3E7A48B19596";

std::string readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class Directory : public ::testing::Test {
 protected:
  void SetUp() override {
    // `autodisc test` keeps its last-known-good cache here, not in the home directory.
    setenv("XDG_CACHE_HOME", dir_.path().c_str(), 1);
    if (access("/usr/sbin/slapd", X_OK) != 0) GTEST_SKIP() << "slapd is not installed (Debian package slapd)";
    // A port below the ephemeral range: a client retrying a stopped server's port must not connect to itself.
    std::mt19937 rng(static_cast<unsigned>(getpid()) ^ static_cast<unsigned>(time(nullptr)));
    for (int attempt = 0; attempt < 5 && port_.empty(); ++attempt) {
      std::string port = std::to_string(20000 + rng() % 10000);
      auto r = slapd({"start", dir_.path() + "/ldap", port, kBase, "secret"});
      if (r.exitCode == 0) port_ = port;
    }
    ASSERT_FALSE(port_.empty()) << "slapd did not start";
    setenv("AUTODISC_LDAP_BIND_DN", kAdmin, 1);
    setenv("AUTODISC_LDAP_PASSWORD", "secret", 1);
    store_ = "ldap://127.0.0.1:" + port_ + "/" + kBase;
  }
  void TearDown() override {
    for (pid_t p : servers_) {
      kill(p, SIGKILL);
      waitpid(p, nullptr, 0);
    }
    if (!port_.empty()) slapd({"stop", dir_.path() + "/ldap"});
    unsetenv("AUTODISC_LDAP_BIND_DN");
    unsetenv("AUTODISC_LDAP_PASSWORD");
  }
  ProcessResult slapd(std::vector<std::string> args) {
    args.insert(args.begin(), {"/bin/bash", env("AUTODISC_SOURCE_DIR") + "/scripts/slapd.sh"});
    return runProcess(args);
  }
  ProcessResult shell(const std::string& store, const std::string& script) {
    return runProcess({env("AUTODISC_BIN"), "shell", "--store", store, "-"}, script);
  }
  ProcessResult ldapsearch(const std::string& base, const std::string& filter, std::vector<std::string> attrs) {
    std::vector<std::string> argv = {"/usr/bin/ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-x", "-H",
                                     "ldap://127.0.0.1:" + port_, "-D", kAdmin, "-w", "secret", "-b", base, filter};
    argv.insert(argv.end(), attrs.begin(), attrs.end());
    return runProcess(argv);
  }
  ProcessResult ldapmodify(const std::string& ldif, bool add = false) {
    return runProcess({add ? "/usr/bin/ldapadd" : "/usr/bin/ldapmodify", "-x", "-H", "ldap://127.0.0.1:" + port_, "-D",
                       kAdmin, "-w", "secret"},
                      ldif);
  }
  std::string dump(const std::string& store) { return storeDump(store); }
  std::string organisation() { return readFile(env("AUTODISC_SOURCE_DIR") + "/examples/e2010-organisation.ps1"); }
  // The organisation with an external EWS URL and Outlook Anywhere host, as a published service has.
  std::string published() {
    return organisation() + setEws("https://mail.e2010.com/EWS/Exchange.asmx") +
           "Get-OutlookAnywhere | Set-OutlookAnywhere -ExternalHostname mail.e2010.com\n";
  }
  static std::string setEws(const std::string& url) {
    return "Get-WebServicesVirtualDirectory | Set-WebServicesVirtualDirectory -ExternalUrl " + url + "\n";
  }
  std::string scps() {
    auto r = ldapsearch(std::string("CN=Configuration,") + kBase,
                        std::string("(&(objectClass=serviceConnectionPoint)(|(keywords=67661D7F-8FC4-4fa7-BFAC-E1D7794C1F68)"
                                    "(keywords=") + kUrlKeyword + ")))",
                        {"serviceBindingInformation", "keywords"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    return r.out;
  }
  // `autodisc serve` on the directory; returns the HTTPS and admin ports.
  std::pair<std::string, std::string> serve(std::vector<std::string> extra = {}) {
    static int n = 0;
    std::string out = dir_.path() + "/serve" + std::to_string(++n) + ".out";
    if (access((dir_.path() + "/server.pem").c_str(), R_OK) != 0) {
      auto certs = runProcess({"/bin/bash", env("AUTODISC_SOURCE_DIR") + "/tests/data/certs/make-certs.sh", dir_.path(),
                               "mail.e2010.com"});
      EXPECT_EQ(certs.exitCode, 0) << certs.err;
    }
    pid_t pid = fork();
    if (pid == 0) {
      freopen(out.c_str(), "w", stdout);
      freopen((out + ".err").c_str(), "w", stderr);
      std::vector<std::string> args = {env("AUTODISC_BIN"), "serve", "--store", store_, "--https", "127.0.0.1:0",
                                       "--admin", "127.0.0.1:0", "--cert", dir_.path() + "/server.pem", "--key",
                                       dir_.path() + "/server.key", "--threads", "1"};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    servers_.push_back(pid);
    lastErr_ = out + ".err";
    std::string https, admin;
    for (int i = 0; i < 200 && (https.empty() || admin.empty()); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::ifstream f(out);
      std::string word, name, where;
      while (f >> word >> name >> where) {
        auto port = where.substr(where.rfind(':') + 1);
        if (name == "https") https = port;
        if (name == "admin") admin = port;
      }
    }
    EXPECT_FALSE(https.empty()) << readFile(out + ".err");
    return {https, admin};
  }
  std::string ewsUrl(const std::string& httpsPort, const std::string& address = "alice@e2010.com") {
    auto r = runProcess({"/usr/bin/curl", "-s", "-k", "--max-time", "5", "-H", "Content-Type: text/xml", "--data-binary",
                         "<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/"
                         "exchange/autodiscover/outlook/requestschema/2006\"><Request><EMailAddress>" + address +
                         "</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/"
                         "outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>",
                         "https://127.0.0.1:" + httpsPort + "/autodiscover/autodiscover.xml"});
    std::smatch m;
    static const std::regex ext("<Type>EXPR</Type>[\\s\\S]*?<EwsUrl>([^<]*)</EwsUrl>");
    return std::regex_search(r.out, m, ext) ? m[1].str() : "(no EXPR EwsUrl in: " + r.out.substr(0, 300) + ")";
  }
  std::string readyz(const std::string& adminPort) {
    auto r = runProcess({"/usr/bin/curl", "-s", "--max-time", "5", "http://127.0.0.1:" + adminPort + "/readyz"});
    return r.out;
  }
  // Waits up to `limit` for `pred`; returns the seconds it took, or -1.
  template <class P>
  double within(std::chrono::milliseconds limit, P pred) {
    auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < limit) {
      if (pred()) return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
  }

  TempDir dir_;
  std::string port_, store_, lastErr_;
  std::vector<pid_t> servers_;
};

// The organisation of examples/ and the article's lines (as the seed article test fills them in),
// run on SQLite and on the directory: every object and property reads back the same.
TEST_F(Directory, TheSeedOrganisationReadsBackAsOnSqlite) {
  std::string script = organisation() +
                       "Get-ClientAccessServer | Set-ClientAccessServer -AutoDiscoverServiceInternalUri "
                       "https://mail.e2010.com/Autodiscover/Autodiscover.xml\n"
                       "Get-OwaVirtualDirectory | Set-OwaVirtualDirectory -ExternalUrl https://mail.e2010.com/owa\n"
                       "New-ClientAccessArray -Name CAS_Array -FQDN outlook.e2010.local -Site Default-First-Site-Name\n"
                       "Set-MailboxDatabase \"Mailbox Database 01\" -RpcClientAccessServer outlook.e2010.local\n"
                       "Set-OrganizationConfig -MapiHttpEnabled $true\n"
                       "New-AcceptedDomain -Name hosted -DomainName hosted.example -AutodiscoverRedirectUrl "
                       "https://autodiscover.hoster.example/autodiscover/autodiscover.xml\n";
  std::string sqlite = "sqlite:" + dir_.path() + "/org.db";
  auto a = shell(sqlite, script);
  ASSERT_EQ(a.exitCode, 0) << a.err;
  auto b = shell(store_, script);
  ASSERT_EQ(b.exitCode, 0) << b.err;
  auto onSqlite = dump(sqlite);
  EXPECT_NE(onSqlite.find("CAS_Array"), std::string::npos);
  EXPECT_NE(onSqlite.find("Jaap Wesselius"), std::string::npos);
  EXPECT_EQ(dump(store_), onSqlite);
  // The organisation's new name moved its whole subtree.
  auto org = ldapsearch(std::string("CN=Microsoft Exchange,CN=Services,CN=Configuration,") + kBase,
                        "(objectClass=msExchOrganizationContainer)", {"cn"});
  EXPECT_NE(org.out.find("cn: E2010"), std::string::npos) << org.out;
  EXPECT_EQ(org.out.find("First Organization"), std::string::npos) << org.out;
  // Recipients under AD's names.
  auto jaap = ldapsearch(kBase, "(proxyAddresses=SMTP:jaap@e2010.com)", {"mail", "mailNickname", "homeMDB", "legacyExchangeDN"});
  EXPECT_NE(jaap.out.find("mailNickname: jaap"), std::string::npos) << jaap.out;
  EXPECT_NE(jaap.out.find("homeMDB: cn=Mailbox Database 01,cn=Databases,"), std::string::npos) << jaap.out;
  auto bob = ldapsearch(kBase, "(objectClass=contact)", {"targetAddress"});
  EXPECT_NE(bob.out.find("targetAddress: SMTP:bob@fabrikam.com"), std::string::npos) << bob.out;
}

// With --snapshot-file, a service that starts while the directory is down answers from its local
// copy (not ready), then takes the directory's state once it is back.
TEST_F(Directory, AServiceStartsFromItsLocalCopyWhenTheDirectoryIsDown) {
  ASSERT_EQ(shell(store_, published())
                .exitCode,
            0);
  std::string copy = dir_.path() + "/last.db";
  auto first = serve({"--snapshot-file", copy});
  ASSERT_GE(within(std::chrono::seconds(3), [&] { return access(copy.c_str(), R_OK) == 0; }), 0) << "the copy is written";
  kill(servers_.back(), SIGTERM);
  waitpid(servers_.back(), nullptr, 0);
  servers_.pop_back();

  slapd({"stop", dir_.path() + "/ldap"});
  auto [https, admin] = serve({"--snapshot-file", copy});
  ASSERT_FALSE(https.empty()) << "it starts without the directory";
  EXPECT_EQ(ewsUrl(https), "https://mail.e2010.com/EWS/Exchange.asmx");
  EXPECT_TRUE(readyz(admin).starts_with("not ready")) << readyz(admin);
  EXPECT_NE(readFile(lastErr_).find("W-STORE-START-FROM-SNAPSHOT"), std::string::npos) << readFile(lastErr_);

  ASSERT_EQ(slapd({"resume", dir_.path() + "/ldap", port_}).exitCode, 0);
  ASSERT_EQ(shell(store_, setEws("https://mail4.e2010.com/EWS/Exchange.asmx")).exitCode, 0);
  double t = within(std::chrono::seconds(10), [&] {
    return ewsUrl(https) == "https://mail4.e2010.com/EWS/Exchange.asmx" && readyz(admin) == "ready\n";
  });
  EXPECT_GE(t, 0) << readyz(admin) << readFile(lastErr_);
}

// RFC 4533: with the version polled only every 10 seconds, a change still reaches the service at
// once, because slapd tells it (refreshAndPersist on the Exchange container).
TEST_F(Directory, ContentSynchronisationBringsAChangeBeforeAnyPoll) {
  ASSERT_EQ(shell(store_, published())
                .exitCode,
            0);
  std::string config = dir_.path() + "/slow-poll.toml";
  std::ofstream(config) << "poll_milliseconds = 10000\n";
  auto [https, admin] = serve({"--config", config});
  ASSERT_FALSE(https.empty());
  ASSERT_GE(within(std::chrono::seconds(3), [&] { return ewsUrl(https) == "https://mail.e2010.com/EWS/Exchange.asmx"; }), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(shell(store_, setEws("https://mail5.e2010.com/EWS/Exchange.asmx")).exitCode, 0);
  double t = within(std::chrono::seconds(2), [&] { return ewsUrl(https) == "https://mail5.e2010.com/EWS/Exchange.asmx"; });
  EXPECT_GE(t, 0) << "the change should arrive well before the next poll";
  EXPECT_LT(t, 1.0);
  // Applied as change sets (autodiscChangeLog), not by reading the whole directory again: a changed
  // URL, a new mailbox, a removed one.
  auto metrics = [&] { return runProcess({"/usr/bin/curl", "-s", "http://127.0.0.1:" + admin + "/metrics"}).out; };
  EXPECT_NE(metrics().find("autodisc_snapshot_change_sets_total 1\n"), std::string::npos) << metrics();
  ASSERT_EQ(shell(store_, "New-Mailbox -Name 'Carol New' -Alias carol\n").exitCode, 0);
  EXPECT_GE(within(std::chrono::seconds(2), [&] { return ewsUrl(https, "carol@e2010.com") == "https://mail5.e2010.com/EWS/Exchange.asmx"; }), 0)
      << ewsUrl(https, "carol@e2010.com");
  ASSERT_EQ(shell(store_, "Remove-Mailbox -Identity carol\n").exitCode, 0);
  EXPECT_GE(within(std::chrono::seconds(2), [&] { return ewsUrl(https, "carol@e2010.com").starts_with("(no EXPR"); }), 0);
  EXPECT_EQ(ewsUrl(https), "https://mail5.e2010.com/EWS/Exchange.asmx");
  auto after = metrics();
  EXPECT_NE(after.find("autodisc_snapshot_loads_total 1\n"), std::string::npos) << after;
  EXPECT_NE(after.find("autodisc_snapshot_change_sets_total 3\n"), std::string::npos) << after;
}

// The directory over TLS (StartTLS and LDAPS, the CA given to libldap as LDAPTLS_CACERT) and the
// password from a file; an untrusted certificate is a clear error.
TEST_F(Directory, StartTlsLdapsAndAPasswordFile) {
  auto certs = runProcess({"/bin/bash", env("AUTODISC_SOURCE_DIR") + "/tests/data/certs/make-certs.sh",
                           dir_.path() + "/tls", "localhost", "127.0.0.1"});
  ASSERT_EQ(certs.exitCode, 0) << certs.err;
  setenv("SLAPD_TLS_CERT", (dir_.path() + "/tls/server.pem").c_str(), 1);
  setenv("SLAPD_TLS_KEY", (dir_.path() + "/tls/server.key").c_str(), 1);
  std::string tlsPort;
  for (int attempt = 0; attempt < 5 && tlsPort.empty(); ++attempt) {
    std::string port = std::to_string(20000 + (std::stoi(port_) - 20000 + 2 + attempt * 11) % 9990);
    if (slapd({"start", dir_.path() + "/ldaptls", port, kBase, "secret"}).exitCode == 0) tlsPort = port;
  }
  unsetenv("SLAPD_TLS_CERT");
  unsetenv("SLAPD_TLS_KEY");
  ASSERT_FALSE(tlsPort.empty());
  std::string ldaps = std::to_string(std::stoi(tlsPort) + 1);
  std::string pw = dir_.path() + "/bind-password";
  std::ofstream(pw) << "secret\n";
  unsetenv("AUTODISC_LDAP_PASSWORD");
  setenv("AUTODISC_LDAP_PASSWORD_FILE", pw.c_str(), 1);
  setenv("LDAPTLS_CACERT", (dir_.path() + "/tls/ca.pem").c_str(), 1);
  auto starttls = shell("ldap://127.0.0.1:" + tlsPort + "/" + kBase + "????starttls", "New-ADReplicationSite -Name Paris\n");
  EXPECT_EQ(starttls.exitCode, 0) << starttls.err;
  auto over = shell("ldaps://127.0.0.1:" + ldaps + "/" + kBase, "Get-ADReplicationSite | Format-List Name\n");
  EXPECT_EQ(over.exitCode, 0) << over.err;
  EXPECT_NE(over.out.find("Name : Paris"), std::string::npos) << over.out;
  unsetenv("LDAPTLS_CACERT");
  auto untrusted = shell("ldaps://127.0.0.1:" + ldaps + "/" + kBase, "Get-ADReplicationSite\n");
  EXPECT_NE(untrusted.exitCode, 0);
  EXPECT_NE(untrusted.err.find("is its certificate trusted"), std::string::npos) << untrusted.err;
  unsetenv("AUTODISC_LDAP_PASSWORD_FILE");
  setenv("AUTODISC_LDAP_PASSWORD", "secret", 1);
  slapd({"stop", dir_.path() + "/ldaptls"});
}

// Several URLs (replicas): the first that answers is used, on every connection.
TEST_F(Directory, AStoreOfSeveralUrlsUsesTheFirstThatAnswers) {
  ASSERT_EQ(shell(store_, organisation()).exitCode, 0);
  std::string replicas = "ldap://127.0.0.1:1/" + std::string(kBase) + " " + store_;
  auto r = shell(replicas, "Get-Mailbox | Measure-Object\n");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("Count    : 2"), std::string::npos) << r.out;
}

// `autodisc store copy` moves an organisation from SQLite into the directory and back, whole; it
// refuses a store that already holds one.
TEST_F(Directory, StoreCopyMovesAnOrganisationBothWays) {
  std::string sqlite = "sqlite:" + dir_.path() + "/org.db", back = "sqlite:" + dir_.path() + "/back.db";
  ASSERT_EQ(shell(sqlite, organisation() + "New-ClientAccessArray -Name CAS_Array -FQDN outlook.e2010.local -Site "
                                           "Default-First-Site-Name\n"
                                           "New-ExchangeCertificate -GenerateRequest -DomainName mail.e2010.com "
                                           "-RequestFile " + dir_.path() + "/mail.csr\n").exitCode,
            0);
  auto in = runProcess({env("AUTODISC_BIN"), "store", "copy", "--from", sqlite, "--to", store_});
  ASSERT_EQ(in.exitCode, 0) << in.err;
  EXPECT_NE(in.out.find("copied "), std::string::npos);
  auto out = runProcess({env("AUTODISC_BIN"), "store", "copy", "--from", store_, "--to", back});
  ASSERT_EQ(out.exitCode, 0) << out.err;
  auto original = dump(sqlite);
  EXPECT_NE(original.find("\"Status\": \"PendingRequest\""), std::string::npos) << original;
  EXPECT_NE(original.find("\"HasPrivateKey\": true"), std::string::npos) << original;
  EXPECT_EQ(dump(store_), original);
  EXPECT_EQ(dump(back), original);
  auto again = runProcess({env("AUTODISC_BIN"), "store", "copy", "--from", sqlite, "--to", store_});
  EXPECT_NE(again.exitCode, 0);
  EXPECT_NE(again.err.find("already holds an organisation"), std::string::npos) << again.err;
}

// The client's SCP step (spec 6.3) against this directory: the SCP of the client's site first, the
// others after; and a pointer SCP for the user's domain followed to another directory.
TEST_F(Directory, TheClientFindsAutodiscoverThroughScpsRankedBySiteAndFollowsAPointer) {
  auto [https, admin] = serve();
  ASSERT_EQ(shell(store_, organisation() +
                              "New-ADReplicationSite -Name Paris\n"
                              "Set-ClientAccessServer 2010CAS -AutoDiscoverSiteScope Paris -AutoDiscoverServiceInternalUri "
                              "https://mail.e2010.com:" + https + "/Autodiscover/Autodiscover.xml\n")
                .exitCode,
            0);
  // The service has the organisation (it follows the directory within a poll).
  ASSERT_GE(within(std::chrono::seconds(3), [&] { return ewsUrl(https).find("no EXPR") != std::string::npos &&
                                                           ewsUrl(https).find("Alice Example") != std::string::npos; }),
            0);
  auto test = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {env("AUTODISC_BIN"), "test", "--no-follow-up", "--ca", dir_.path() + "/ca.pem",
                                     "--timeout", "3000", "--resolve", "mail.e2010.com:" + https + ":127.0.0.1",
                                     // every other name goes to a closed port: refused at once
                                     "--resolve", "x2007srv.e2010.local:443:127.0.0.1", "--https-port", "1",
                                     "--http-port", "1", "--no-cache"};
    if (std::find(extra.begin(), extra.end(), "--dns") == extra.end()) argv.insert(argv.end(), {"--dns", "127.0.0.1:1"});
    argv.insert(argv.end(), extra.begin(), extra.end());
    return runProcess(argv);
  };
  // From Paris: 2010CAS's URL (scoped to Paris) is first, and answers.
  auto paris = test({"alice@e2010.com", "--ldap", "ldap://127.0.0.1:" + port_, "--site", "Paris"});
  EXPECT_EQ(paris.exitCode, 0) << paris.out << paris.err;
  EXPECT_NE(paris.out.find("2 SCP(s)"), std::string::npos) << paris.out;
  auto firstPost = paris.out.find("POST ");
  ASSERT_NE(firstPost, std::string::npos) << paris.out;
  EXPECT_EQ(paris.out.find("POST https://mail.e2010.com:"), firstPost) << paris.out;
  // From the default site: X2007SRV's URL first (it fails: nothing listens there), then 2010CAS's.
  auto home = test({"alice@e2010.com", "--ldap", "ldap://127.0.0.1:" + port_, "--site", "Default-First-Site-Name"});
  EXPECT_EQ(home.exitCode, 0) << home.out;
  auto x = home.out.find("POST https://x2007srv.e2010.local"), cas = home.out.find("POST https://mail.e2010.com");
  ASSERT_NE(x, std::string::npos) << home.out;
  ASSERT_NE(cas, std::string::npos) << home.out;
  EXPECT_LT(x, cas);

  // Without --site: the site whose subnet holds this end's address (127.0.0.1), from the directory.
  ASSERT_EQ(shell(store_, "New-ADReplicationSubnet -Name 127.0.0.0/8 -Site Paris\n").exitCode, 0);
  auto bySubnet = test({"alice@e2010.com", "--ldap", "ldap://127.0.0.1:" + port_});
  EXPECT_NE(bySubnet.out.find("this end is 127.0.0.1: site Paris"), std::string::npos) << bySubnet.out;
  EXPECT_EQ(bySubnet.out.find("POST https://mail.e2010.com:"), bySubnet.out.find("POST ")) << bySubnet.out;

  // --ldap auto: the domain controllers from DNS (_ldap._tcp.dc._msdcs.<domain>), here a dnsmasq.
  std::string dnsPort = std::to_string(20000 + (std::stoi(port_) - 20000 + 5000) % 10000);
  pid_t dns = fork();
  if (dns == 0) {
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    execl("/usr/sbin/dnsmasq", "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
          "--listen-address=127.0.0.1", "--bind-interfaces", ("--port=" + dnsPort).c_str(), "--pid-file=",
          ("--srv-host=_ldap._tcp.dc._msdcs.e2010.com,localhost," + port_ + ",0,100").c_str(), nullptr);
    _exit(127);
  }
  servers_.push_back(dns);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto bySrv = test({"alice@e2010.com", "--ldap", "auto", "--dns", "127.0.0.1:" + dnsPort});
  EXPECT_NE(bySrv.out.find("SRV _ldap._tcp.dc._msdcs.e2010.com"), std::string::npos) << bySrv.out;
  EXPECT_NE(bySrv.out.find("domain controller localhost:" + port_), std::string::npos) << bySrv.out;
  EXPECT_NE(bySrv.out.find("2 SCP(s)"), std::string::npos) << bySrv.out;

  // Another forest's directory, and a pointer to it for fabrikam.com in ours (spec 7.3).
  std::string other;
  for (int attempt = 0; attempt < 5 && other.empty(); ++attempt) {
    std::string port = std::to_string(20000 + (std::stoi(port_) - 20000 + 1 + attempt * 7) % 10000);
    if (slapd({"start", dir_.path() + "/ldap2", port, kBase, "secret"}).exitCode == 0) other = port;
  }
  ASSERT_FALSE(other.empty());
  ASSERT_EQ(shell("ldap://127.0.0.1:" + other + "/" + kBase,
                  "New-ExchangeServer -Name FAB01 -Fqdn fab01.fabrikam.com\n").exitCode, 0);
  ASSERT_EQ(ldapmodify(std::string("dn: CN=Microsoft Exchange Autodiscover,CN=Services,CN=Configuration,") + kBase +
                           "\nobjectClass: container\ncn: Microsoft Exchange Autodiscover\n\n"
                           "dn: CN=fabrikam.test,CN=Microsoft Exchange Autodiscover,CN=Services,CN=Configuration," + kBase +
                           "\nobjectClass: serviceConnectionPoint\ncn: fabrikam.test\n"
                           "keywords: 67661d7F-8FC4-4fa7-BFAC-E1D7794C1F68\nkeywords: Domain=fabrikam.com\n"
                           "serviceBindingInformation: LDAP://127.0.0.1:" + other + "\n",
                       true)
                .exitCode,
            0);
  auto pointed = test({"bob@fabrikam.com", "--ldap", "ldap://127.0.0.1:" + port_});
  EXPECT_NE(pointed.out.find("SCP LDAP://127.0.0.1:" + other), std::string::npos) << pointed.out;
  EXPECT_NE(pointed.out.find("https://fab01.fabrikam.com/Autodiscover/Autodiscover.xml"), std::string::npos) << pointed.out;
  slapd({"stop", dir_.path() + "/ldap2"});
}

// Spec 6.3's query finds one SCP URL per Client Access Server, with its Site keywords; spec 7.2:
// the site scope replaces the keywords, and both set to $null remove the SCP and its container.
TEST_F(Directory, TheScpQueryFindsWhatSetClientAccessServerSet) {
  auto r = shell(store_, organisation() +
                             "Set-ClientAccessServer 2010CAS -AutoDiscoverServiceInternalUri "
                             "https://mail.e2010.com/Autodiscover/Autodiscover.xml\n");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto found = scps();
  EXPECT_NE(found.find("serviceBindingInformation: https://mail.e2010.com/Autodiscover/Autodiscover.xml"), std::string::npos)
      << found;
  EXPECT_NE(found.find("keywords: Site=Default-First-Site-Name"), std::string::npos) << found;
  EXPECT_NE(found.find("dn: cn=2010CAS,cn=Autodiscover,cn=Protocols,cn=2010CAS,cn=Servers,"), std::string::npos) << found;
  // The other server's SCP points at its own name, as setup leaves it.
  EXPECT_NE(found.find("https://x2007srv.e2010.local/Autodiscover/Autodiscover.xml"), std::string::npos) << found;

  r = shell(store_, "New-ADReplicationSite -Name Paris\nSet-ClientAccessServer 2010CAS -AutoDiscoverSiteScope Paris,Default-First-Site-Name\n");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  found = scps();
  EXPECT_NE(found.find("keywords: Site=Paris"), std::string::npos) << found;

  r = shell(store_, "Set-ClientAccessServer 2010CAS -AutoDiscoverServiceInternalUri $null -AutoDiscoverSiteScope $null\n");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  found = scps();
  EXPECT_EQ(found.find("2010CAS"), std::string::npos) << found;
  auto container = ldapsearch(std::string("CN=Configuration,") + kBase, "(cn=Autodiscover)", {"dn"});
  EXPECT_EQ(container.out.find("cn=2010CAS"), std::string::npos) << "the SCP's Autodiscover container goes with it";

  r = shell(store_, "Remove-ExchangeServer X2007SRV\n");
  if (r.exitCode == 0) {
    EXPECT_EQ(scps().find("X2007SRV"), std::string::npos);
    auto gone = ldapsearch(std::string("CN=Configuration,") + kBase, "(cn=X2007SRV)", {"dn"});
    EXPECT_EQ(gone.out, "") << "the server's subtree is gone";
  } else {
    // The article's server holds a database: the shell refuses, and the SCP stays.
    EXPECT_NE(scps().find("x2007srv"), std::string::npos);
  }
}

// A change that fails half-way leaves the directory as it was; the lock is released; a lock held
// by another session is reported; a wrong password and a stopped server are clear errors.
TEST_F(Directory, AFailedChangeLeavesNothingBehindAndErrorsAreClear) {
  ASSERT_EQ(shell(store_, organisation()).exitCode, 0);
  // Something that is not a recipient already sits where the third new mailbox would go.
  auto blocker = ldapmodify(std::string("dn: CN=user3,CN=Users,") + kBase + "\nobjectClass: container\ncn: user3\n", true);
  ASSERT_EQ(blocker.exitCode, 0) << blocker.err;
  std::string csv = dir_.path() + "/users.csv";
  std::ofstream(csv) << "Name\nuser1\nuser2\nuser3\nuser4\n";
  auto before = dump(store_);
  auto r = shell(store_, "Import-Csv " + csv + " | New-Mailbox\n");
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.err.find("CN=user3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Nothing was changed"), std::string::npos) << r.err;
  EXPECT_EQ(dump(store_), before);
  EXPECT_EQ(ldapsearch(kBase, "(cn=user1)", {"dn"}).out, "") << "user1 was written and must have been taken back";
  // The lock went with the failure: the next change goes through.
  EXPECT_EQ(shell(store_, "New-Mailbox -Name user5\n").exitCode, 0);

  // A lock held by another session (fresh): refused with who holds it.
  auto now = std::to_string(time(nullptr));
  ASSERT_EQ(ldapmodify(std::string("dn: CN=Microsoft Exchange,CN=Services,CN=Configuration,") + kBase +
                       "\nchangetype: modify\nadd: autodiscLock\nautodiscLock: " + now + " otherhost 4242\n")
                .exitCode,
            0);
  r = shell(store_, "New-Mailbox -Name user6\n");
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.err.find("another session is changing the directory (lock held by otherhost 4242"), std::string::npos) << r.err;
  // A stale one (older than a minute) is broken.
  ASSERT_EQ(ldapmodify(std::string("dn: CN=Microsoft Exchange,CN=Services,CN=Configuration,") + kBase +
                       "\nchangetype: modify\nreplace: autodiscLock\nautodiscLock: 1000 otherhost 4242\n")
                .exitCode,
            0);
  EXPECT_EQ(shell(store_, "New-Mailbox -Name user6\n").exitCode, 0);

  setenv("AUTODISC_LDAP_PASSWORD", "wrong", 1);
  r = shell(store_, "Get-Mailbox\n");
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.err.find("Invalid credentials"), std::string::npos) << r.err;
  setenv("AUTODISC_LDAP_PASSWORD", "secret", 1);

  slapd({"stop", dir_.path() + "/ldap"});
  r = shell(store_, "Get-Mailbox\n");
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.err.find("is the directory server running and reachable?"), std::string::npos) << r.err;
  ASSERT_EQ(slapd({"resume", dir_.path() + "/ldap", port_}).exitCode, 0);
}

// Two services on one directory: a change made in the shell is in both answers within 2 seconds;
// with slapd stopped they keep answering and say they are not ready; when it is back they catch up.
// A shell killed (SIGKILL) in the middle of a bulk import into the directory: the next session finds
// the lock of a process that is gone, undoes what the journal says was written, and the directory is
// as it was before the import; a service that was running never served any of it.
TEST_F(Directory, AShellKilledInTheMiddleOfAnImportIsUndoneByTheNextSession) {
  ASSERT_EQ(shell(store_, published()).exitCode, 0);
  auto mailboxes = [&] {
    auto r = ldapsearch(kBase, "(homeMDB=*)", {"1.1"});
    return static_cast<int>(std::count(r.out.begin(), r.out.end(), '\n') / 2);  // "dn: ..." and a blank line each
  };
  int before = mailboxes();
  auto beforeDump = dump(store_);
  auto ports = serve();
  std::string csv = dir_.path() + "/many.csv";
  {
    std::ofstream out(csv);
    out << "Name\n";
    for (int i = 0; i < 3000; ++i) out << "bulk" << i << "\n";
  }
  pid_t importer = startProcess({env("AUTODISC_BIN"), "shell", "--store", store_, "-c", "Import-Csv " + csv + " | New-Mailbox"},
                                dir_.path() + "/import.out", dir_.path() + "/import.err");
  // Killed once part of the import is in the directory.
  int partial = 0;
  for (int i = 0; i < 200 && partial < 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    partial = mailboxes() - before;
  }
  kill(importer, SIGKILL);
  int status = 0;
  waitpid(importer, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the import ended before it could be killed";
  partial = mailboxes() - before;
  std::cout << partial << " of 3,000 mailboxes were in the directory when the shell was killed\n";
  EXPECT_GT(partial, 0) << "nothing of the import was in the directory when it was killed";
  EXPECT_LT(partial, 3000);
  // The running service never loaded any of it: the version had not moved.
  EXPECT_NE(ewsUrl(ports.first, "bulk0@e2010.com").find("(no EXPR EwsUrl"), std::string::npos);
  EXPECT_EQ(ewsUrl(ports.first), "https://mail.e2010.com/EWS/Exchange.asmx") << "the service stopped answering";
  // The next session undoes it at once (the lock's process is gone), before it reads.
  auto next = shell(store_, "Get-Mailbox -ResultSize Unlimited | Measure-Object | Format-List Count\n");
  ASSERT_EQ(next.exitCode, 0) << next.err;
  EXPECT_NE(next.err.find("W-LDAP-RECOVERED"), std::string::npos) << next.err;
  EXPECT_EQ(mailboxes(), before);
  EXPECT_EQ(dump(store_), beforeDump);
  // And the directory takes the next change.
  auto again = shell(store_, "New-Mailbox -Name bulk0\n");
  ASSERT_EQ(again.exitCode, 0) << again.err;
  EXPECT_EQ(mailboxes(), before + 1);
}

TEST_F(Directory, TwoServicesFollowTheDirectoryAndOutliveItsAbsence) {
  ASSERT_EQ(shell(store_, published()).exitCode, 0);
  auto [https1, admin1] = serve();
  auto [https2, admin2] = serve();
  EXPECT_EQ(ewsUrl(https1), "https://mail.e2010.com/EWS/Exchange.asmx");
  EXPECT_EQ(ewsUrl(https2), "https://mail.e2010.com/EWS/Exchange.asmx");

  ASSERT_EQ(shell(store_, setEws("https://mail2.e2010.com/EWS/Exchange.asmx"))
                .exitCode,
            0);
  const std::string second = "https://mail2.e2010.com/EWS/Exchange.asmx";
  double t = within(std::chrono::seconds(2), [&] { return ewsUrl(https1) == second && ewsUrl(https2) == second; });
  EXPECT_GE(t, 0) << "both services should answer with the new URL within 2 seconds";

  slapd({"stop", dir_.path() + "/ldap"});
  t = within(std::chrono::seconds(5), [&] {
    return readyz(admin1).starts_with("not ready") && readyz(admin2).starts_with("not ready");
  });
  EXPECT_GE(t, 0) << readyz(admin1);
  EXPECT_NE(readyz(admin1).find("the store is unreachable"), std::string::npos);
  EXPECT_EQ(ewsUrl(https1), second) << "the last snapshot keeps serving";
  EXPECT_EQ(ewsUrl(https2), second);

  ASSERT_EQ(slapd({"resume", dir_.path() + "/ldap", port_}).exitCode, 0);
  ASSERT_EQ(shell(store_, setEws("https://mail3.e2010.com/EWS/Exchange.asmx"))
                .exitCode,
            0);
  const std::string third = "https://mail3.e2010.com/EWS/Exchange.asmx";
  t = within(std::chrono::seconds(10), [&] {
    return ewsUrl(https1) == third && ewsUrl(https2) == third && readyz(admin1) == "ready\n" &&
           readyz(admin2) == "ready\n";
  });
  EXPECT_GE(t, 0) << "both should catch up once the directory is back";
  auto metrics = runProcess({"/usr/bin/curl", "-s", "http://127.0.0.1:" + admin1 + "/metrics"}).out;
  EXPECT_NE(metrics.find("autodisc_store_up 1"), std::string::npos);
  EXPECT_EQ(metrics.find("autodisc_store_errors_total 0\n"), std::string::npos) << "the failed looks are counted";
}

}  // namespace
