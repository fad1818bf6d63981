// SCP publication and lookup against a real Active Directory: a throwaway Samba AD domain
// controller (Debian's samba-ad-dc) provisioned by scripts/samba-ad.sh on a 127.0.0.x address,
// with the Exchange attributes of schema/ad-exchange-extension*.ldif. Skipped, with a message,
// where Samba is not installed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "support/process.hpp"
#include "support/store_dump.hpp"

using namespace autodisc::testing;

namespace {

constexpr const char* kBase = "DC=e2010,DC=test";
constexpr const char* kAdmin = "Administrator@e2010.test";
constexpr const char* kPassword = "Autodisc-Test-1";

class SambaAd : public ::testing::Test {
 protected:
  void SetUp() override {
    // `autodisc test` keeps its last-known-good cache here, not in the home directory.
    setenv("XDG_CACHE_HOME", dir_.path().c_str(), 1);
    if (access("/usr/bin/samba-tool", X_OK) != 0 || access("/usr/share/samba/setup/ad-schema", R_OK) != 0)
      GTEST_SKIP() << "Samba AD is not installed (Debian packages samba-ad-dc and samba-ad-provision): "
                      "the Active Directory tests did not run";
    std::mt19937 rng(static_cast<unsigned>(getpid()) ^ static_cast<unsigned>(time(nullptr)));
    ip_ = "127.0.0." + std::to_string(2 + rng() % 200);
    auto r = runProcess({"/bin/bash", env("AUTODISC_SOURCE_DIR") + "/scripts/samba-ad.sh", "start", dir_.path() + "/ad", ip_});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    started_ = true;
    setenv("AUTODISC_LDAP_BIND_DN", kAdmin, 1);
    setenv("AUTODISC_LDAP_PASSWORD", kPassword, 1);
    directory_ = "ldap://" + ip_ + "/" + kBase;
    store_ = "sqlite:" + dir_.path() + "/org.db";
  }
  void TearDown() override {
    if (serve_ > 0) {
      kill(serve_, SIGKILL);
      waitpid(serve_, nullptr, 0);
    }
    if (started_) runProcess({"/bin/bash", env("AUTODISC_SOURCE_DIR") + "/scripts/samba-ad.sh", "stop", dir_.path() + "/ad"});
    unsetenv("AUTODISC_LDAP_BIND_DN");
    unsetenv("AUTODISC_LDAP_PASSWORD");
  }
  ProcessResult shell(const std::string& script) {
    return runProcess({env("AUTODISC_BIN"), "shell", "--store", store_, "-"}, script);
  }
  // Spec 6.3's query as a domain client makes it, with the domain-scope control (no reference to
  // the schema partition comes back).
  std::string scps() {
    auto r = runProcess({"/usr/bin/ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-x", "-H", "ldap://" + ip_, "-D", kAdmin,
                         "-w", kPassword, "-E", "1.2.840.113556.1.4.1339", "-b", std::string("CN=Configuration,") + kBase,
                         "(&(objectClass=serviceConnectionPoint)(|(keywords=67661D7F-8FC4-4fa7-BFAC-E1D7794C1F68)"
                         "(keywords=77378F46-2C66-4aa9-A6A6-3E7A48B19596)))",
                         "serviceBindingInformation", "keywords"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    return r.out;
  }
  std::string organisation() {
    std::ifstream f(env("AUTODISC_SOURCE_DIR") + "/examples/e2010-organisation.ps1");
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }

  void publishAndLookUp();
  void recipientAttributes();
  void serviceFollowsChanges();

  TempDir dir_;
  std::string ip_, directory_, store_;
  bool started_ = false;
  pid_t serve_ = -1;
};

// One domain controller for all of it (provisioning one takes seconds):
// * `autodisc scp publish` writes the SCPs where Exchange does; the SCP query finds the URL with its
//   Site keyword; `autodisc test --ldap` finds it through the RootDSE; a removed server's SCP goes;
// * the schema extension makes room for Exchange's recipient attributes on AD's own user objects;
// * `autodisc serve --scp-directory` publishes at start and again after a change made in the shell.
TEST_F(SambaAd, ScpPublicationLookupAndTheExchangeSchemaExtension) {
  publishAndLookUp();
  if (HasFatalFailure()) return;
  recipientAttributes();
  serviceFollowsChanges();
}

void SambaAd::publishAndLookUp() {
  ASSERT_EQ(shell(organisation() +
                  "Set-ClientAccessServer 2010CAS -AutoDiscoverServiceInternalUri "
                  "https://autodiscover.e2010.com/Autodiscover/Autodiscover.xml\n")
                .exitCode,
            0);
  auto pub = runProcess({env("AUTODISC_BIN"), "scp", "publish", "--store", store_, "--to", directory_});
  ASSERT_EQ(pub.exitCode, 0) << pub.err;
  EXPECT_NE(pub.out.find("2 SCP(s) written"), std::string::npos) << pub.out;
  auto found = scps();
  EXPECT_NE(found.find("dn: CN=2010CAS,CN=Autodiscover,CN=Protocols,CN=2010CAS,CN=Servers,CN=Exchange Administrative "
                       "Group (FYDIBOHF23SPDLT),CN=Administrative Groups,CN=E2010,CN=Microsoft Exchange,CN=Services,"
                       "CN=Configuration,DC=e2010,DC=test"),
            std::string::npos)
      << found;
  EXPECT_NE(found.find("serviceBindingInformation: https://autodiscover.e2010.com/Autodiscover/Autodiscover.xml"),
            std::string::npos);
  EXPECT_NE(found.find("keywords: Site=Default-First-Site-Name"), std::string::npos);

  auto client = runProcess({env("AUTODISC_BIN"), "test", "alice@e2010.com", "--ldap", "ldap://" + ip_, "--site",
                            "Default-First-Site-Name", "--dns", "127.0.0.1:1", "--https-port", "1", "--http-port", "1",
                            "--timeout", "1000", "--no-follow-up"});
  EXPECT_NE(client.out.find("searched CN=Configuration,DC=e2010,DC=test: 2 SCP(s)"), std::string::npos) << client.out;
  EXPECT_NE(client.out.find("POST https://autodiscover.e2010.com/Autodiscover/Autodiscover.xml  [SCP"), std::string::npos)
      << client.out;

  ASSERT_EQ(shell("Set-ClientAccessServer 2010CAS -AutoDiscoverServiceInternalUri $null -AutoDiscoverSiteScope $null\n").exitCode, 0);
  pub = runProcess({env("AUTODISC_BIN"), "scp", "publish", "--store", store_, "--to", directory_});
  ASSERT_EQ(pub.exitCode, 0) << pub.err;
  EXPECT_NE(pub.out.find("1 removed"), std::string::npos) << pub.out;
  EXPECT_EQ(scps().find("2010CAS"), std::string::npos);
}

void SambaAd::recipientAttributes() {
  std::string ldif = std::string("dn: CN=Databases,") + kBase +
                     "\nobjectClass: container\n\n"
                     "dn: CN=Mailbox Database 01,CN=Databases," + kBase +
                     "\nobjectClass: container\n\n"
                     "dn: CN=Alice Test,CN=Users," + kBase +
                     "\nobjectClass: user\nsAMAccountName: alice\nmail: alice@e2010.test\n"
                     "proxyAddresses: SMTP:alice@e2010.test\nlegacyExchangeDN: /o=E2010/ou=Exchange Administrative Group "
                     "(FYDIBOHF23SPDLT)/cn=Recipients/cn=alice\nhomeMDB: CN=Mailbox Database 01,CN=Databases," + kBase +
                     "\nmailNickname: alice\nmsExchMailboxGuid:: AAECAwQFBgcICQoLDA0ODw==\n\n"
                     "dn: CN=Bob Partner,CN=Users," + kBase +
                     "\nobjectClass: contact\ntargetAddress: SMTP:bob@fabrikam.com\nmailNickname: bob\n";
  auto add = runProcess({"/usr/bin/ldapadd", "-x", "-H", "ldap://" + ip_, "-D", kAdmin, "-w", kPassword}, ldif);
  ASSERT_EQ(add.exitCode, 0) << add.err;
  auto r = runProcess({"/usr/bin/ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-x", "-H", "ldap://" + ip_, "-D", kAdmin,
                       "-w", kPassword, "-b", std::string("CN=Users,") + kBase, "(proxyAddresses=smtp:alice@e2010.test)",
                       "homeMDB", "mailNickname"});
  EXPECT_NE(r.out.find("homeMDB: CN=Mailbox Database 01,CN=Databases,DC=e2010,DC=test"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mailNickname: alice"), std::string::npos);
}

void SambaAd::serviceFollowsChanges() {
  ASSERT_EQ(shell("Set-ClientAccessServer 2010CAS -AutoDiscoverServiceInternalUri https://2010cas.e2010.local/Autodiscover/Autodiscover.xml\n").exitCode, 0);
  auto certs = runProcess({"/bin/bash", env("AUTODISC_SOURCE_DIR") + "/tests/data/certs/make-certs.sh", dir_.path(),
                           "autodiscover.e2010.com"});
  ASSERT_EQ(certs.exitCode, 0) << certs.err;
  std::string err = dir_.path() + "/serve.err";
  serve_ = fork();
  if (serve_ == 0) {
    freopen((dir_.path() + "/serve.out").c_str(), "w", stdout);
    freopen(err.c_str(), "w", stderr);
    execl(env("AUTODISC_BIN").c_str(), "autodisc", "serve", "--store", store_.c_str(), "--https", "127.0.0.1:0",
          "--cert", (dir_.path() + "/server.pem").c_str(), "--key", (dir_.path() + "/server.key").c_str(),
          "--scp-directory", directory_.c_str(), "--threads", "1", nullptr);
    _exit(127);
  }
  auto waitFor = [&](const std::string& what) {
    for (int i = 0; i < 100; ++i) {
      if (scps().find(what) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  };
  EXPECT_TRUE(waitFor("https://2010cas.e2010.local/Autodiscover/Autodiscover.xml")) << scps();
  ASSERT_EQ(shell("Set-ClientAccessServer 2010CAS -AutoDiscoverServiceInternalUri "
                  "https://autodiscover.e2010.com/Autodiscover/Autodiscover.xml\n")
                .exitCode,
            0);
  EXPECT_TRUE(waitFor("https://autodiscover.e2010.com/Autodiscover/Autodiscover.xml")) << scps();
  std::ifstream log(err);
  std::stringstream ss;
  ss << log.rdbuf();
  EXPECT_NE(ss.str().find("I-SCP-PUBLISHED 2 SCP(s)"), std::string::npos) << ss.str();
}

}  // namespace


// The whole organisation kept in Active Directory (the schema extension of schema/ad-extension.py),
// on a domain controller of its own: the article's organisation, with a new name (written anew: AD
// renames nothing in its configuration), reads back as on SQLite.
TEST_F(SambaAd, TheWholeOrganisationInActiveDirectoryReadsBackAsOnSqlite) {
  std::string script = organisation() +
                       "Get-OwaVirtualDirectory | Set-OwaVirtualDirectory -ExternalUrl https://mail.e2010.com/owa\n"
                       "New-ClientAccessArray -Name CAS_Array -FQDN outlook.e2010.local -Site Default-First-Site-Name\n"
                       "Set-MailboxDatabase \"Mailbox Database 01\" -RpcClientAccessServer outlook.e2010.local\n";
  std::string sqlite = "sqlite:" + dir_.path() + "/same.db";
  auto a = runProcess({env("AUTODISC_BIN"), "shell", "--store", sqlite, "-"}, script);
  ASSERT_EQ(a.exitCode, 0) << a.err;
  auto b = runProcess({env("AUTODISC_BIN"), "shell", "--store", directory_, "-"}, script);
  ASSERT_EQ(b.exitCode, 0) << b.err;
  auto onSqlite = storeDump(sqlite, true);
  EXPECT_NE(onSqlite.find("Jaap Wesselius"), std::string::npos);
  EXPECT_EQ(storeDump(directory_, true), onSqlite);
  auto user = runProcess({"/usr/bin/ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-x", "-H", "ldap://" + ip_, "-D", kAdmin,
                          "-w", kPassword, "-b", std::string("CN=Users,") + kBase, "(mailNickname=jaap)", "homeMDB",
                          "proxyAddresses", "sAMAccountName"});
  EXPECT_NE(user.out.find("homeMDB: CN=Mailbox Database 01,CN=Databases,CN=Exchange Administrative Group"), std::string::npos)
      << user.out;
  // A service on the directory follows a change made there by another tool (uSNChanged).
  auto certs = runProcess({"/bin/bash", env("AUTODISC_SOURCE_DIR") + "/tests/data/certs/make-certs.sh", dir_.path(),
                           "autodiscover.e2010.com"});
  ASSERT_EQ(certs.exitCode, 0) << certs.err;
  std::string out = dir_.path() + "/serve.out";
  serve_ = fork();
  if (serve_ == 0) {
    freopen(out.c_str(), "w", stdout);
    freopen((out + ".err").c_str(), "w", stderr);
    execl(env("AUTODISC_BIN").c_str(), "autodisc", "serve", "--store", directory_.c_str(), "--https", "127.0.0.1:0",
          "--cert", (dir_.path() + "/server.pem").c_str(), "--key", (dir_.path() + "/server.key").c_str(), "--threads",
          "1", nullptr);
    _exit(127);
  }
  std::string port;
  for (int i = 0; i < 100 && port.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::ifstream f(out);
    std::string word, name, where;
    while (f >> word >> name >> where)
      if (name == "https") port = where.substr(where.rfind(':') + 1);
  }
  ASSERT_FALSE(port.empty());
  auto displayName = [&] {
    auto r = runProcess({"/usr/bin/curl", "-s", "-k", "--max-time", "5", "-H", "Content-Type: text/xml", "--data-binary",
                         "<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/"
                         "exchange/autodiscover/outlook/requestschema/2006\"><Request><EMailAddress>jaap@e2010.com"
                         "</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/"
                         "outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>",
                         "https://127.0.0.1:" + port + "/autodiscover/autodiscover.xml"});
    auto at = r.out.find("<DisplayName>");
    return at == std::string::npos ? r.out.substr(0, 200) : r.out.substr(at + 13, r.out.find('<', at + 13) - at - 13);
  };
  EXPECT_EQ(displayName(), "Jaap Wesselius");
  auto edit = runProcess({"/usr/bin/ldapmodify", "-x", "-H", "ldap://" + ip_, "-D", kAdmin, "-w", kPassword},
                         std::string("dn: CN=Jaap Wesselius,CN=Users,") + kBase +
                             "\nchangetype: modify\nreplace: displayName\ndisplayName: Jaap W. (edited in AD)\n");
  ASSERT_EQ(edit.exitCode, 0) << edit.err;
  bool seen = false;
  for (int i = 0; i < 40 && !seen; ++i) {
    seen = displayName() == "Jaap W. (edited in AD)";
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(seen) << "a change made in AD by another tool should reach the service within 4 seconds: " << displayName();

  // As in Exchange, the organisation's name cannot change once mailboxes point into it.
  auto rename = runProcess({env("AUTODISC_BIN"), "shell", "--store", directory_, "-c", "Set-OrganizationConfig -Name Other"});
  EXPECT_NE(rename.exitCode, 0);
  EXPECT_NE(rename.err.find("an organisation's name stays what it was"), std::string::npos) << rename.err;
}
