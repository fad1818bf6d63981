// The SQLite store: schema and creation, round trips through independent handles, all-or-nothing
// command lines, optimistic concurrency, readers in other processes, and files it must refuse
// (locked, read-only, garbage, foreign, newer) without changing them.
#include "store/sqlite_store.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "shell/session.hpp"
#include "store/store.hpp"
#include "support/shell_harness.hpp"

namespace fs = std::filesystem;
using autodisc::Result;
using autodisc::shell::Session;
using autodisc::store::SqliteStore;
using ::testing::HasSubstr;
using ::testing::Not;
namespace model = autodisc::model;

namespace {

// --- helpers ---------------------------------------------------------------------------------------

// A fresh directory under the system temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "autodisc-sqlite-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  std::string file(std::string_view name) const { return (path_ / name).string(); }
  // The names of the files in the directory, sorted.
  std::set<std::string> entries() const {
    std::set<std::string> out;
    for (auto& e : fs::directory_iterator(path_)) out.insert(e.path().filename().string());
    return out;
  }

 private:
  fs::path path_;
};

// Deterministic "random" bits for GUIDs.
std::function<std::uint64_t()> fixedRandom(std::uint64_t seed = 1) {
  auto n = std::make_shared<std::uint64_t>(seed);
  return [n] { return ++*n * 0x9E3779B97F4A7C15ULL; };
}

std::string readBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Whether a file still holds exactly `expected`; on a difference, where (not the whole file).
::testing::AssertionResult fileHasBytes(const std::string& path, const std::string& expected) {
  std::string actual = readBytes(path);
  if (actual == expected) return ::testing::AssertionSuccess();
  std::size_t at = 0;
  while (at < actual.size() && at < expected.size() && actual[at] == expected[at]) ++at;
  return ::testing::AssertionFailure() << path << " changed: " << expected.size() << " bytes before, " << actual.size()
                                       << " after, first difference at offset " << at;
}

void writeBytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

template <class T> std::string errorOf(const Result<T>& r) { return r ? std::string() : r.error().message; }

// One store handle and a session on it.
struct Shell {
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<Session> session;
};

Result<Shell> openShell(const std::string& path, std::uint64_t seed = 1) {
  auto s = SqliteStore::open(path);
  if (!s) return std::unexpected(s.error());
  Shell sh;
  sh.store = std::move(*s);
  sh.session = std::make_unique<Session>(*sh.store, fixedRandom(seed));
  if (auto r = sh.session->open(); !r) return std::unexpected(r.error());
  return sh;
}

struct RunResult {
  bool ok = false;
  std::string out, err, error;
};

RunResult run(Session& s, std::string_view line) {
  std::ostringstream out, err;
  auto r = s.run(line, out, err);
  return RunResult{r.has_value(), out.str(), err.str(), errorOf(r)};
}

// Every Get- cmdlet's objects as JSON: what a reader of the store sees.
const char* const kGetters[] = {
    "Get-OrganizationConfig",          "Get-AcceptedDomain",         "Get-ADReplicationSite",
    "Get-ADReplicationSubnet",         "Get-ExchangeServer",         "Get-ClientAccessServer",
    "Get-ClientAccessService",         "Get-OwaVirtualDirectory",    "Get-OabVirtualDirectory",
    "Get-WebServicesVirtualDirectory", "Get-ActiveSyncVirtualDirectory", "Get-EcpVirtualDirectory",
    "Get-AutodiscoverVirtualDirectory", "Get-MapiVirtualDirectory",  "Get-OutlookAnywhere",
    "Get-ClientAccessArray",           "Get-MailboxDatabase",        "Get-Mailbox",
    "Get-MailUser",                    "Get-Recipient",              "Get-OutlookProvider",
};

std::string dumpAll(Session& s) {
  std::string all;
  for (auto* g : kGetters) {
    auto r = run(s, std::string(g) + " | ConvertTo-Json");
    all += "## " + std::string(g) + "\n" + (r.ok ? r.out : "ERROR: " + r.error + "\n");
  }
  return all;
}

// A plain SQLite connection, as another program (or a newer autodisc) would have.
class RawDb {
 public:
  explicit RawDb(const std::string& path, int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
    rc_ = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (db_) sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  // Runs SQL: "" on success, else SQLite's message.
  std::string exec(const std::string& sql) {
    char* msg = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg);
    std::string e = rc == SQLITE_OK ? std::string() : std::string(msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return e;
  }
  // The first column of the first row, as text ("<error: ...>" or "<no row>" otherwise).
  std::string scalar(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
      return "<error: " + std::string(sqlite3_errmsg(db_)) + ">";
    std::string out = "<no row>";
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
      out = p ? p : "";
    } else if (rc != SQLITE_DONE) {
      out = "<error: " + std::string(sqlite3_errmsg(db_)) + ">";
    }
    sqlite3_finalize(st);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
  int rc_ = SQLITE_OK;
};

// A pipe between this process and a child.
struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
    r = fds[0];
    w = fds[1];
  }
  ~Pipe() {
    closeRead();
    closeWrite();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  void closeRead() {
    if (r >= 0) close(r);
    r = -1;
  }
  void closeWrite() {
    if (w >= 0) close(w);
    w = -1;
  }
};

bool sendByte(int fd, char c) { return write(fd, &c, 1) == 1; }

// One byte, or '\0' after `ms` milliseconds or at end of file.
char recvByte(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, ms) != 1) return '\0';
  char c = '\0';
  return read(fd, &c, 1) == 1 ? c : '\0';
}

// Everything until end of file, giving up after `ms` milliseconds of silence.
std::string readAll(int fd, int ms) {
  std::string out;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, ms) != 1) break;
    auto n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

void writeAll(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    auto n = write(fd, s.data() + done, s.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

// A child process that is killed and reaped if the test ends before it does.
class Child {
 public:
  // Runs `body` in a forked child, which exits with its return value.
  explicit Child(const std::function<int()>& body) {
    pid_ = fork();
    if (pid_ == 0) {
      int code = 100;
      try {
        code = body();
      } catch (...) {
      }
      _exit(code);
    }
  }
  // Runs a program with its output in files.
  Child(const std::vector<std::string>& argv, const std::string& outFile, const std::string& errFile) {
    pid_ = fork();
    if (pid_ == 0) {
      int out = open(outFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err = open(errFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int in = open("/dev/null", O_RDONLY);
      if (out < 0 || err < 0 || in < 0) _exit(126);
      dup2(in, 0);
      dup2(out, 1);
      dup2(err, 2);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  bool started() const { return pid_ > 0; }
  // The exit status, or -1 if it did not exit normally within `ms` milliseconds (it is then killed).
  int wait(int ms = 60000) {
    if (pid_ <= 0) return -1;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    int status = 0;
    for (;;) {
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) break;
      if (r < 0 || std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
};

// The built autodisc binary: $AUTODISC_BIN (CTest sets it), else next to this test executable.
std::string autodiscBinary() {
  if (const char* env = std::getenv("AUTODISC_BIN"); env && *env && fs::exists(env)) return env;
  std::error_code ec;
  auto self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto candidate = self.parent_path() / "autodisc";
    if (fs::exists(candidate)) return candidate.string();
  }
  return {};
}

// A store with an organisation in it, all handles closed.
void makeStore(const std::string& path, const std::vector<std::string>& lines) {
  auto sh = openShell(path);
  ASSERT_TRUE(sh) << errorOf(sh);
  for (auto& l : lines) {
    auto r = run(*sh->session, l);
    ASSERT_TRUE(r.ok) << l << ": " << r.error;
  }
}

std::string acceptedDomainsJson(Session& s) {
  auto r = run(s, "Get-AcceptedDomain | ConvertTo-Json -Compress");
  return r.ok ? r.out : "ERROR: " + r.error;
}

// --- a fresh store ---------------------------------------------------------------------------------

TEST(SqliteStore, FreshFileHasTheCurrentSchemaWalModeAndVersionZero) {
  TempDir dir;
  auto path = dir.file("new.db");
  ASSERT_FALSE(fs::exists(path));
  auto s = SqliteStore::open(path);
  ASSERT_TRUE(s) << errorOf(s);
  auto& store = **s;
  EXPECT_TRUE(fs::exists(path));
  EXPECT_EQ(store.describe(), "sqlite:" + path);
  auto v = store.version();
  ASSERT_TRUE(v) << errorOf(v);
  EXPECT_EQ(*v, 0u);
  auto loaded = store.read();
  ASSERT_TRUE(loaded) << errorOf(loaded);
  EXPECT_EQ(loaded->version, 0u);
  EXPECT_TRUE(loaded->org->all<model::AdSite>().empty());
  EXPECT_TRUE(loaded->org->all<model::OutlookProvider>().empty());
  EXPECT_EQ(loaded->org->recipientCount(), 0u);

  RawDb raw(path);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw.scalar("PRAGMA user_version"), std::to_string(SqliteStore::kSchemaVersion));
  EXPECT_EQ(raw.scalar("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.scalar("SELECT value FROM meta WHERE key='version'"), "0");
  EXPECT_EQ(raw.scalar("SELECT value FROM meta WHERE key='application'"), "autodisc");
}

TEST(SqliteStore, SessionOpenCreatesTheDefaultSiteAndOutlookProvidersAndBumpsTheVersion) {
  TempDir dir;
  auto path = dir.file("new.db");
  auto sh = openShell(path);
  ASSERT_TRUE(sh) << errorOf(sh);
  EXPECT_EQ(sh->session->version(), 1u);

  // An independent handle reads what the session wrote.
  auto other = SqliteStore::open(path);
  ASSERT_TRUE(other) << errorOf(other);
  auto v = (*other)->version();
  ASSERT_TRUE(v) << errorOf(v);
  EXPECT_EQ(*v, 1u);
  auto loaded = (*other)->read();
  ASSERT_TRUE(loaded) << errorOf(loaded);
  EXPECT_EQ(loaded->version, 1u);
  std::vector<std::string> sites, providers;
  for (auto& [id, site] : loaded->org->all<model::AdSite>()) sites.push_back(site.name);
  for (auto& [id, p] : loaded->org->all<model::OutlookProvider>()) providers.push_back(p.name);
  EXPECT_EQ(sites, std::vector<std::string>{"Default-First-Site-Name"});
  EXPECT_EQ(providers, (std::vector<std::string>{"EXCH", "EXPR", "WEB"}));
  EXPECT_FALSE(loaded->org->config().guid.isNull());
  EXPECT_EQ(loaded->org->config().guid.str(), sh->session->org().config().guid.str());

  // A second session on the existing store creates nothing more.
  Session again(**other, fixedRandom(7));
  auto r = again.open();
  ASSERT_TRUE(r) << errorOf(r);
  EXPECT_EQ(again.version(), 1u);
  EXPECT_EQ(again.org().all<model::AdSite>().size(), 1u);
  EXPECT_EQ(again.org().all<model::OutlookProvider>().size(), 3u);
  auto v2 = (*other)->version();
  ASSERT_TRUE(v2);
  EXPECT_EQ(*v2, 1u);
}

TEST(SqliteStore, OpenStoreTakesASqliteUriOrABarePath) {
  TempDir dir;
  auto path = dir.file("uri.db");
  auto byUri = autodisc::store::openStore("sqlite:" + path);
  ASSERT_TRUE(byUri) << errorOf(byUri);
  EXPECT_EQ((*byUri)->describe(), "sqlite:" + path);
  auto byPath = autodisc::store::openStore(path);
  ASSERT_TRUE(byPath) << errorOf(byPath);
  EXPECT_EQ((*byPath)->describe(), "sqlite:" + path);
  EXPECT_FALSE(autodisc::store::openStore("postgres://localhost/autodisc"));
  EXPECT_FALSE(autodisc::store::openStore("sqlite:"));
}

TEST(SqliteStore, AFileInAMissingFolderCannotBeOpened) {
  TempDir dir;
  auto path = dir.file("no-such-folder/x.db");
  auto s = SqliteStore::open(path);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message, HasSubstr("cannot open"));
  EXPECT_FALSE(fs::exists(dir.path() / "no-such-folder"));
}

// --- round trips -------------------------------------------------------------------------------------

const std::vector<std::string> kEveryKind = {
    "New-AcceptedDomain -Name contoso.com -DomainName contoso.com",
    "New-AcceptedDomain -Name fabrikam.com -DomainName fabrikam.com -DomainType InternalRelay",
    "New-ADReplicationSite -Name Paris",
    "New-ADReplicationSubnet -Name 10.0.0.0/24 -Site Default-First-Site-Name",
    "New-ADReplicationSubnet -Name 10.1.0.0/16 -Site Paris",
    "New-ExchangeServer -Name EX01 -Fqdn ex01.contoso.local -Site Default-First-Site-Name",
    "New-ExchangeServer -Name EX02 -Fqdn ex02.contoso.local -Site Paris -ServerRole Mailbox "
    "-AdminDisplayVersion \"Version 14.3 (Build 123.4)\"",
    "New-ClientAccessArray -Name A -Fqdn outlook.contoso.local -Site Default-First-Site-Name",
    "New-MailboxDatabase -Name DB01 -Server EX01",
    "New-MailboxDatabase -Name DB02 -Server EX02",
    "Set-MailboxDatabase -Identity DB02 -RpcClientAccessServer casarray.contoso.local",
    "New-Mailbox -Name Alice",
    "New-Mailbox -Name \"Zo\xC3\xAB O'Brien\" -Alias zoe -DisplayName \"Zo\xC3\xAB O'Brien (Sales)\" -Database DB02",
    "Set-Mailbox -Identity zoe -EmailAddresses SMTP:zoe@contoso.com,smtp:z.obrien@fabrikam.com",
    "New-MailUser -Name Bob -ExternalEmailAddress bob@fabrikam.com -PrimarySmtpAddress bob@contoso.com",
    "Set-OutlookProvider -Identity EXPR -TTL 2",
    "Set-OutlookProvider -Identity EXCH -CertPrincipalName msstd:mail.contoso.com -Server mail.contoso.com",
    "Set-OrganizationConfig -MapiHttpEnabled $true",
    "Set-OrganizationConfig -Name Contoso",
    "Set-OwaVirtualDirectory -Identity \"EX01\\owa (Default Web Site)\" -ExternalUrl https://mail.contoso.com/owa",
    "Set-WebServicesVirtualDirectory -Identity \"EX01\\EWS (Default Web Site)\" "
    "-ExternalUrl https://mail.contoso.com/EWS/Exchange.asmx -InternalUrl https://ews.contoso.local/EWS/Exchange.asmx",
    "Set-MapiVirtualDirectory -Identity \"EX01\\mapi (Default Web Site)\" -ExternalUrl https://mail.contoso.com/mapi",
    "Set-EcpVirtualDirectory -Identity \"EX01\\ecp (Default Web Site)\" -ExternalAuthenticationMethods Basic,Fba",
    "Set-OutlookAnywhere -Identity \"EX01\\Rpc (Default Web Site)\" -ExternalHostname mail.contoso.com "
    "-ExternalClientsRequireSsl $true -ExternalClientAuthenticationMethod Basic -IISAuthenticationMethods Basic,NTLM",
    "Set-ClientAccessServer -Identity EX01 -AutoDiscoverServiceInternalUri "
    "https://autodiscover.contoso.com/Autodiscover/Autodiscover.xml -AutoDiscoverSiteScope Default-First-Site-Name,Paris",
};

TEST(SqliteStore, EveryKindOfObjectReadsBackIdenticalThroughAnIndependentHandle) {
  TempDir dir;
  auto path = dir.file("rt.db");
  auto writer = openShell(path, 1);
  ASSERT_TRUE(writer) << errorOf(writer);
  for (auto& l : kEveryKind) {
    auto r = run(*writer->session, l);
    ASSERT_TRUE(r.ok) << l << ": " << r.error;
  }
  std::string written = dumpAll(*writer->session);
  // The dump really holds what was written (it is not equal by being empty).
  for (auto* want : {"\"MapiHttpEnabled\": true", "\"Name\": \"Contoso\"", "\"DomainType\": \"InternalRelay\"",
                     "10.1.0.0/16", "Version 14.3 (Build 123.4)", "outlook.contoso.local", "casarray.contoso.local",
                     "Zo\xC3\xAB O'Brien (Sales)", "smtp:z.obrien@fabrikam.com", "bob@fabrikam.com", "\"TTL\": 2",
                     "msstd:mail.contoso.com", "https://mail.contoso.com/owa", "https://ews.contoso.local/EWS/Exchange.asmx",
                     "https://mail.contoso.com/mapi", "\"ExternalHostname\": \"mail.contoso.com\"",
                     "\"ExternalClientsRequireSsl\": true", "https://autodiscover.contoso.com/Autodiscover/Autodiscover.xml"})
    EXPECT_THAT(written, HasSubstr(want));
  EXPECT_THAT(written, Not(HasSubstr("ERROR:")));

  auto reader = openShell(path, 99);
  ASSERT_TRUE(reader) << errorOf(reader);
  EXPECT_EQ(reader->session->version(), writer->session->version());
  EXPECT_EQ(dumpAll(*reader->session), written);

  // The plain store API agrees on counts.
  auto loaded = reader->store->read();
  ASSERT_TRUE(loaded) << errorOf(loaded);
  EXPECT_EQ(loaded->version, writer->session->version());
  EXPECT_EQ(loaded->org->recipientCount(), 3u);
  EXPECT_EQ(loaded->org->all<model::AcceptedDomain>().size(), 2u);
  EXPECT_EQ(loaded->org->all<model::AdSite>().size(), 2u);
  EXPECT_EQ(loaded->org->all<model::AdSubnet>().size(), 2u);
  EXPECT_EQ(loaded->org->all<model::ExchangeServer>().size(), 2u);
  EXPECT_EQ(loaded->org->all<model::ClientAccessArray>().size(), 1u);
  EXPECT_EQ(loaded->org->all<model::MailboxDatabase>().size(), 2u);
  EXPECT_EQ(loaded->org->all<model::OutlookProvider>().size(), 3u);
  EXPECT_EQ(loaded->org->all<model::OutlookAnywhere>().size(), 1u);
  EXPECT_FALSE(loaded->org->all<model::VirtualDirectory>().empty());
}

TEST(SqliteStore, NewObjectsAfterAReloadGetFreshIdsAndRemovalsReadBack) {
  TempDir dir;
  auto path = dir.file("rt.db");
  makeStore(path, kEveryKind);
  if (HasFatalFailure()) return;

  // A session that loaded the store creates and removes objects; nothing it did not touch changes.
  auto second = openShell(path, 2);
  ASSERT_TRUE(second) << errorOf(second);
  for (std::string l : {"New-Mailbox -Name Carol", "New-AcceptedDomain -Name tailspin.com -DomainName tailspin.com",
                        "New-ExchangeServer -Name EX03 -Fqdn ex03.contoso.local -Site Paris",
                        "New-ADReplicationSubnet -Name 192.168.0.0/16 -Site Paris", "Remove-MailUser -Identity Bob",
                        "Remove-ADReplicationSubnet -Identity 10.0.0.0/24", "Remove-ClientAccessArray -Identity A",
                        "Remove-AcceptedDomain -Identity tailspin.com"}) {
    auto r = run(*second->session, l);
    ASSERT_TRUE(r.ok) << l << ": " << r.error;
  }
  auto third = openShell(path, 3);
  ASSERT_TRUE(third) << errorOf(third);
  std::string seen = dumpAll(*third->session);
  EXPECT_EQ(seen, dumpAll(*second->session));
  EXPECT_THAT(seen, HasSubstr("\"Name\": \"Alice\""));
  EXPECT_THAT(seen, HasSubstr("\"Name\": \"Carol\""));
  EXPECT_THAT(seen, HasSubstr("\"Name\": \"EX03\""));
  EXPECT_THAT(seen, HasSubstr("192.168.0.0/16"));
  EXPECT_THAT(seen, Not(HasSubstr("\"Name\": \"Bob\"")));
  EXPECT_THAT(seen, Not(HasSubstr("10.0.0.0/24")));
  EXPECT_THAT(seen, Not(HasSubstr("tailspin.com")));
  EXPECT_THAT(seen, HasSubstr("## Get-ClientAccessArray\n[\n]\n"));

  // Removing a server removes its virtual directories and Outlook Anywhere from the file too.
  auto before = third->store->read();
  ASSERT_TRUE(before);
  auto vdirsBefore = before->org->all<model::VirtualDirectory>().size();
  auto r = run(*second->session, "Remove-ExchangeServer -Identity EX03");
  ASSERT_TRUE(r.ok) << r.error;
  auto after = third->store->read();
  ASSERT_TRUE(after) << errorOf(after);
  EXPECT_LT(after->org->all<model::VirtualDirectory>().size(), vdirsBefore);
  EXPECT_EQ(after->org->all<model::OutlookAnywhere>().size(), 1u);
  EXPECT_EQ(after->org->all<model::ExchangeServer>().size(), 2u);
  EXPECT_EQ(dumpAll(*third->session), dumpAll(*second->session));
  RawDb raw(path);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM virtual_directory WHERE server NOT IN (SELECT id FROM exchange_server)"),
            "0");
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM outlook_anywhere WHERE server NOT IN (SELECT id FROM exchange_server)"),
            "0");
}

// --- all or nothing ------------------------------------------------------------------------------------

TEST(SqliteStore, ALineWhoseSecondPipelineObjectFailsChangesNothing) {
  TempDir dir;
  auto path = dir.file("atomic.db");
  makeStore(path, {"New-AcceptedDomain -Name contoso.com -DomainName contoso.com",
                   "New-ExchangeServer -Name EX01 -Fqdn ex01.contoso.local",
                   "New-ExchangeServer -Name EX02 -Fqdn ex02.contoso.local"});
  if (HasFatalFailure()) return;
  auto sh = openShell(path);
  ASSERT_TRUE(sh) << errorOf(sh);
  auto observer = openShell(path, 5);
  ASSERT_TRUE(observer) << errorOf(observer);
  const auto version = sh->session->version();
  const std::string state = dumpAll(*observer->session);

  // The first server gets DB01; the second cannot (the name is taken): the line fails as a whole.
  auto r = run(*sh->session, "Get-ExchangeServer | New-MailboxDatabase -Name DB01");
  ASSERT_FALSE(r.ok);
  EXPECT_THAT(r.error, HasSubstr("pipeline object 2"));
  EXPECT_EQ(r.out, "");

  EXPECT_EQ(sh->session->version(), version);
  auto v = observer->store->version();
  ASSERT_TRUE(v) << errorOf(v);
  EXPECT_EQ(*v, version);
  EXPECT_EQ(dumpAll(*observer->session), state);
  EXPECT_EQ(dumpAll(*sh->session), state);  // nor in the failing session's memory
  RawDb raw(path);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM mailbox_database"), "0");
}

TEST(SqliteStore, ALineWhoseSecondCommandFailsRollsBackTheFirst) {
  TempDir dir;
  auto path = dir.file("atomic.db");
  makeStore(path, {"New-AcceptedDomain -Name contoso.com -DomainName contoso.com",
                   "New-ExchangeServer -Name EX01 -Fqdn ex01.contoso.local",
                   "New-MailboxDatabase -Name DB01 -Server EX01"});
  if (HasFatalFailure()) return;
  auto sh = openShell(path);
  ASSERT_TRUE(sh) << errorOf(sh);
  auto observer = openShell(path, 5);
  ASSERT_TRUE(observer) << errorOf(observer);
  const auto version = sh->session->version();
  const std::string state = dumpAll(*observer->session);

  for (std::string line :
       {"New-AcceptedDomain -Name fabrikam.com -DomainName fabrikam.com; New-Mailbox -Name X -Database NoSuchDb",
        "Set-OutlookProvider -Identity EXPR -TTL 5; Set-OutlookProvider -Identity NOPE -TTL 3",
        "New-Mailbox -Name Alice; Set-OrganizationConfig -MapiHttpEnabled $true; New-Mailbox -Name Alice",
        "Remove-MailboxDatabase -Identity DB01; No-Such-Cmdlet"}) {
    SCOPED_TRACE(line);
    auto r = run(*sh->session, line);
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(sh->session->version(), version);
    auto v = observer->store->version();
    ASSERT_TRUE(v) << errorOf(v);
    EXPECT_EQ(*v, version);
    EXPECT_EQ(dumpAll(*observer->session), state);
    EXPECT_EQ(dumpAll(*sh->session), state);
  }

  // The same session can still change the store afterwards.
  auto ok = run(*sh->session, "New-AcceptedDomain -Name fabrikam.com -DomainName fabrikam.com");
  ASSERT_TRUE(ok.ok) << ok.error;
  EXPECT_EQ(sh->session->version(), version + 1);
  EXPECT_THAT(acceptedDomainsJson(*observer->session), HasSubstr("fabrikam.com"));
}

// --- optimistic concurrency ----------------------------------------------------------------------------

TEST(SqliteStore, AChangeByOneSessionIsSeenByAnotherOnItsNextRun) {
  TempDir dir;
  auto path = dir.file("two.db");
  auto a = openShell(path, 1);
  ASSERT_TRUE(a) << errorOf(a);
  auto b = openShell(path, 2);
  ASSERT_TRUE(b) << errorOf(b);
  EXPECT_EQ(a->session->version(), b->session->version());

  auto r = run(*a->session, "New-AcceptedDomain -Name contoso.com -DomainName contoso.com");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_THAT(acceptedDomainsJson(*b->session), HasSubstr("contoso.com"));
  EXPECT_EQ(b->session->version(), a->session->version());

  // B builds on A's change (the domain is the default for the address); A then sees B's.
  r = run(*b->session, "New-ExchangeServer -Name EX01 -Fqdn ex01.contoso.local");
  ASSERT_TRUE(r.ok) << r.error;
  r = run(*b->session, "New-MailboxDatabase -Name DB01 -Server EX01; New-Mailbox -Name Alice");
  ASSERT_TRUE(r.ok) << r.error;
  r = run(*a->session, "Get-Mailbox -Identity Alice | ConvertTo-Json -Compress");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_THAT(r.out, HasSubstr("Alice@contoso.com"));
  r = run(*a->session, "New-Mailbox -Name Carol");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(dumpAll(*a->session), dumpAll(*b->session));
  EXPECT_EQ(a->session->version(), b->session->version());
}

TEST(SqliteStore, ApplyWithAStaleBaseVersionFailsWithAMessageAndChangesNothing) {
  TempDir dir;
  auto path = dir.file("stale.db");
  auto a = openShell(path, 1);
  ASSERT_TRUE(a) << errorOf(a);
  auto other = SqliteStore::open(path);
  ASSERT_TRUE(other) << errorOf(other);
  auto& store = **other;

  auto loaded = store.read();
  ASSERT_TRUE(loaded) << errorOf(loaded);
  const auto base = loaded->version;

  // Someone else commits in between.
  auto r = run(*a->session, "New-AcceptedDomain -Name contoso.com -DomainName contoso.com");
  ASSERT_TRUE(r.ok) << r.error;
  const auto current = a->session->version();
  ASSERT_EQ(current, base + 1);
  const std::string state = dumpAll(*a->session);

  model::Organization& org = *loaded->org;
  org.begin();
  model::AcceptedDomain d;
  d.id = org.allocateId(model::Kind::AcceptedDomain);
  d.name = "stale.com";
  d.domainName = "stale.com";
  org.put(d);
  auto changes = org.pendingChanges();
  ASSERT_FALSE(changes.empty());

  auto stale = store.apply(org, changes, base);
  ASSERT_FALSE(stale);
  EXPECT_THAT(stale.error().message, HasSubstr("another session"));
  EXPECT_THAT(stale.error().message, HasSubstr("Nothing was changed"));
  auto v = store.version();
  ASSERT_TRUE(v) << errorOf(v);
  EXPECT_EQ(*v, current);
  EXPECT_EQ(dumpAll(*a->session), state);
  RawDb raw(path);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM accepted_domain WHERE name='stale.com'"), "0");

  // A base version from the future is just as stale.
  auto future = store.apply(org, changes, current + 5);
  ASSERT_FALSE(future);
  EXPECT_THAT(future.error().message, HasSubstr("another session"));
  v = store.version();
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, current);

  // The handle is still usable: with the current version the same change set commits.
  auto fresh = store.apply(org, changes, current);
  ASSERT_TRUE(fresh) << errorOf(fresh);
  EXPECT_EQ(*fresh, current + 1);
  EXPECT_THAT(acceptedDomainsJson(*a->session), HasSubstr("stale.com"));
}

// --- other processes -------------------------------------------------------------------------------------

// In a child process: holds a write transaction open (version bumped, a domain inserted) until told
// to commit. Talks over pipes: waits for 'B', sends 'R' once the rows are written, waits for 'G',
// commits and sends 'C'. Without 'G' it exits without committing.
int holdWriteTransaction(const std::string& path, int in, int out) {
  if (recvByte(in, 30000) != 'B') return 10;
  RawDb db(path, SQLITE_OPEN_READWRITE);
  if (!db.ok()) return 11;
  if (!db.exec("BEGIN IMMEDIATE").empty()) return 12;
  if (!db.exec("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='version';"
               "INSERT INTO accepted_domain(id, name, domain_name, domain_type, is_default) "
               "VALUES (100, 'fabrikam.com', 'fabrikam.com', 'Authoritative', 0);")
           .empty())
    return 13;
  if (!sendByte(out, 'R')) return 14;
  if (recvByte(in, 30000) != 'G') return 15;
  if (!db.exec("COMMIT").empty()) return 16;
  if (!sendByte(out, 'C')) return 17;
  return 0;
}

// A forked child that, on 'B', opens a write transaction on `path` and answers 'R'; on 'G' commits
// and answers 'C'; if the pipe closes first, it exits with the transaction open.
struct WriteHolder {
  Pipe toChild, toParent;
  Child child;
  explicit WriteHolder(const std::string& path)
      : child([this, path] {
          toChild.closeWrite();
          toParent.closeRead();
          return holdWriteTransaction(path, toChild.r, toParent.w);
        }) {
    toChild.closeRead();
    toParent.closeWrite();
  }
};

TEST(SqliteStoreProcesses, AnotherProcessSeesOnlyCommittedVersions) {
  TempDir dir;
  auto path = dir.file("mp.db");
  makeStore(path, {"New-AcceptedDomain -Name contoso.com -DomainName contoso.com"});
  if (HasFatalFailure()) return;

  // Fork while this process has no connection to the file (SQLite connections must not cross a fork).
  WriteHolder holder(path);
  auto& [toChild, toParent, child] = holder;
  ASSERT_TRUE(child.started());

  auto a = openShell(path, 1);
  ASSERT_TRUE(a) << errorOf(a);
  const auto version = a->session->version();
  const std::string before = dumpAll(*a->session);
  ASSERT_THAT(before, Not(HasSubstr("fabrikam.com")));

  ASSERT_TRUE(sendByte(toChild.w, 'B'));
  ASSERT_EQ(recvByte(toParent.r, 30000), 'R') << "the child could not start its write transaction";

  // While the child's transaction is open: the old version, through the open handle and a new one.
  auto v = a->store->version();
  ASSERT_TRUE(v) << errorOf(v);
  EXPECT_EQ(*v, version);
  EXPECT_EQ(dumpAll(*a->session), before);
  EXPECT_EQ(a->session->version(), version);
  auto b = openShell(path, 2);
  ASSERT_TRUE(b) << errorOf(b);
  EXPECT_EQ(b->session->version(), version);
  EXPECT_EQ(dumpAll(*b->session), before);
  auto loaded = b->store->read();
  ASSERT_TRUE(loaded) << errorOf(loaded);
  EXPECT_EQ(loaded->version, version);
  EXPECT_EQ(loaded->org->all<model::AcceptedDomain>().size(), 1u);

  ASSERT_TRUE(sendByte(toChild.w, 'G'));
  ASSERT_EQ(recvByte(toParent.r, 30000), 'C') << "the child could not commit";
  EXPECT_EQ(child.wait(), 0);

  // After the commit: the new version, on each session's next run.
  v = a->store->version();
  ASSERT_TRUE(v) << errorOf(v);
  EXPECT_EQ(*v, version + 1);
  EXPECT_THAT(acceptedDomainsJson(*a->session), HasSubstr("fabrikam.com"));
  EXPECT_EQ(a->session->version(), version + 1);
  EXPECT_THAT(acceptedDomainsJson(*b->session), HasSubstr("fabrikam.com"));
  EXPECT_EQ(dumpAll(*a->session), dumpAll(*b->session));
}

TEST(SqliteStoreProcesses, AnUncommittedTransactionOfAProcessThatDiesIsNeverSeen) {
  TempDir dir;
  auto path = dir.file("mp.db");
  makeStore(path, {"New-AcceptedDomain -Name contoso.com -DomainName contoso.com"});
  if (HasFatalFailure()) return;
  WriteHolder holder(path);
  auto& [toChild, toParent, child] = holder;
  ASSERT_TRUE(child.started());
  auto a = openShell(path, 1);
  ASSERT_TRUE(a) << errorOf(a);
  const auto version = a->session->version();
  const std::string before = dumpAll(*a->session);
  ASSERT_TRUE(sendByte(toChild.w, 'B'));
  ASSERT_EQ(recvByte(toParent.r, 30000), 'R');
  // Closing the pipe instead of sending 'G' makes the child exit with its transaction open.
  toChild.closeWrite();
  EXPECT_EQ(child.wait(), 15);

  auto v = a->store->version();
  ASSERT_TRUE(v) << errorOf(v);
  EXPECT_EQ(*v, version);
  EXPECT_EQ(dumpAll(*a->session), before);
  // And the lock went with it: this session can write.
  auto r = run(*a->session, "New-AcceptedDomain -Name tailspin.com -DomainName tailspin.com");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(a->session->version(), version + 1);
}

TEST(SqliteStoreProcesses, TheShellBinarySharesTheStoreWithASession) {
  std::string bin = autodiscBinary();
  if (bin.empty()) {
    GTEST_SKIP() << "the autodisc binary was not found (set AUTODISC_BIN; CTest does)";
  }
  TempDir dir;
  auto path = dir.file("bin.db");
  auto a = openShell(path, 1);
  ASSERT_TRUE(a) << errorOf(a);
  auto runBinary = [&](const std::string& line, std::string& err) {
    Child c({bin, "shell", "--store", "sqlite:" + path, "-c", line}, dir.file("out.txt"), dir.file("err.txt"));
    int status = c.wait();
    err = readBytes(dir.file("err.txt"));
    return status;
  };
  std::string err;
  ASSERT_EQ(runBinary("New-AcceptedDomain -Name contoso.com -DomainName contoso.com; "
                      "New-ExchangeServer -Name EX01 -Fqdn ex01.contoso.local; "
                      "New-ExchangeServer -Name EX02 -Fqdn ex02.contoso.local",
                      err),
            0)
      << err;
  EXPECT_THAT(dumpAll(*a->session), HasSubstr("ex02.contoso.local"));
  const auto version = a->session->version();
  const std::string state = dumpAll(*a->session);

  // A line the binary fails on (the second pipeline object) changes nothing for this session either.
  EXPECT_EQ(runBinary("Get-ExchangeServer | New-MailboxDatabase -Name DB01", err), 1);
  EXPECT_THAT(err, HasSubstr("pipeline object 2"));
  EXPECT_EQ(dumpAll(*a->session), state);
  EXPECT_EQ(a->session->version(), version);

  // And what this session writes, the binary reads.
  auto r = run(*a->session, "New-MailboxDatabase -Name DB07 -Server EX02");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(runBinary("Get-MailboxDatabase | ConvertTo-Json", err), 0) << err;
  EXPECT_THAT(readBytes(dir.file("out.txt")), HasSubstr("DB07"));
}

// --- files the store must refuse, or must not change ------------------------------------------------------

TEST(SqliteStoreFiles, AWriteLockMakesAChangeFailWithLockedAndChangesNothing) {
  TempDir dir;
  auto path = dir.file("locked.db");
  makeStore(path, {"New-AcceptedDomain -Name contoso.com -DomainName contoso.com"});
  if (HasFatalFailure()) return;
  auto sh = openShell(path);
  ASSERT_TRUE(sh) << errorOf(sh);
  const auto version = sh->session->version();
  const std::string state = dumpAll(*sh->session);

  {
    RawDb locker(path, SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(locker.ok());
    ASSERT_EQ(locker.exec("BEGIN EXCLUSIVE"), "");
    ASSERT_EQ(locker.exec("INSERT INTO accepted_domain VALUES (100, 'locker.com', 'locker.com', 'Authoritative', 0, '')"),
              "");

    // Reading still works (WAL); changing fails after the busy timeout, with a message.
    EXPECT_EQ(dumpAll(*sh->session), state);
    auto r = run(*sh->session, "New-AcceptedDomain -Name fabrikam.com -DomainName fabrikam.com");
    ASSERT_FALSE(r.ok);
    EXPECT_THAT(r.error, HasSubstr("locked"));
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(sh->session->version(), version);
    EXPECT_EQ(locker.exec("ROLLBACK"), "");
  }

  auto other = openShell(path, 3);
  ASSERT_TRUE(other) << errorOf(other);
  EXPECT_EQ(other->session->version(), version);
  EXPECT_EQ(dumpAll(*other->session), state);
  EXPECT_EQ(dumpAll(*sh->session), state);
  // Once the lock is gone, the same line succeeds.
  auto r = run(*sh->session, "New-AcceptedDomain -Name fabrikam.com -DomainName fabrikam.com");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_THAT(acceptedDomainsJson(*other->session), HasSubstr("fabrikam.com"));
}

// Escapes newlines so that a report is one line per item.
std::string oneLine(std::string s) {
  for (auto& c : s)
    if (c == '\n') c = '|';
  return s;
}

TEST(SqliteStoreFiles, AReadOnlyFileCanBeReadButRefusesChangesAndIsUnchanged) {
  TempDir dir;
  auto path = dir.file("ro.db");
  makeStore(path, {"New-AcceptedDomain -Name contoso.com -DomainName contoso.com"});
  if (HasFatalFailure()) return;
  const std::string bytes = readBytes(path);
  std::uint64_t version = 0;
  {
    auto s = SqliteStore::open(path);
    ASSERT_TRUE(s) << errorOf(s);
    auto v = (*s)->version();
    ASSERT_TRUE(v);
    version = *v;
  }
  ASSERT_TRUE(fileHasBytes(path, bytes));
  fs::permissions(path, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);

  // Root ignores file permissions, so the check runs in a child that drops to "nobody" when run as
  // root; the folder is given to that user so that SQLite can make its -wal and -shm files.
  const bool root = geteuid() == 0;
  if (root) {
    ASSERT_EQ(chown(dir.path().c_str(), 65534, 65534), 0);
  }
  Pipe report;
  Child child([&] {
    report.closeRead();
    std::string out;
    auto say = [&](const std::string& key, const std::string& value) { out += key + " " + oneLine(value) + "\n"; };
    if (geteuid() == 0) {
      if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0 || geteuid() == 0) {
        say("SKIP", "cannot drop root privileges to test a read-only file");
        writeAll(report.w, out);
        return 2;
      }
    }
    {
      auto s = SqliteStore::open(path);
      if (!s) {
        say("OPEN-FAILED", s.error().message);
      } else {
        Session session(**s, fixedRandom());
        if (auto o = session.open(); !o) {
          say("SESSION-FAILED", o.error().message);
        } else {
          auto r1 = run(session, "Get-AcceptedDomain | ConvertTo-Json -Compress");
          say("READ", r1.ok ? r1.out : "ERROR " + r1.error);
          auto r2 = run(session, "New-AcceptedDomain -Name fabrikam.com -DomainName fabrikam.com");
          say("CHANGE", r2.ok ? std::string("succeeded") : r2.error);
          say("CHANGE-OUT", r2.out);
          auto r3 = run(session, "Get-AcceptedDomain | ConvertTo-Json -Compress");
          say("AFTER", r3.ok ? r3.out : "ERROR " + r3.error);
          say("VERSION", std::to_string(session.version()));
        }
      }
    }
    writeAll(report.w, out);
    return 0;
  });
  ASSERT_TRUE(child.started());
  report.closeWrite();
  std::string text = readAll(report.r, 60000);
  int status = child.wait();
  std::map<std::string, std::string> got;
  std::istringstream lines(text);
  for (std::string l; std::getline(lines, l);) {
    auto sp = l.find(' ');
    got[l.substr(0, sp)] = sp == std::string::npos ? "" : l.substr(sp + 1);
  }
  if (got.count("SKIP")) {
    GTEST_SKIP() << got["SKIP"];
  }
  ASSERT_EQ(status, 0) << text;
  ASSERT_FALSE(got.count("OPEN-FAILED")) << got["OPEN-FAILED"];
  ASSERT_FALSE(got.count("SESSION-FAILED")) << got["SESSION-FAILED"];
  EXPECT_THAT(got["READ"], HasSubstr("contoso.com"));
  EXPECT_THAT(got["CHANGE"], HasSubstr("read-only"));
  EXPECT_EQ(got["CHANGE-OUT"], "");
  EXPECT_EQ(got["AFTER"], got["READ"]);
  EXPECT_EQ(got["VERSION"], std::to_string(version));

  EXPECT_TRUE(fileHasBytes(path, bytes));
  if (root) {
    // Reading as root (which could write) is safe now: the child is gone.
    auto s = SqliteStore::open(path);
    ASSERT_TRUE(s) << errorOf(s);
    auto v = (*s)->version();
    ASSERT_TRUE(v) << errorOf(v);
    EXPECT_EQ(*v, version);
    auto loaded = (*s)->read();
    ASSERT_TRUE(loaded) << errorOf(loaded);
    EXPECT_EQ(loaded->org->all<model::AcceptedDomain>().size(), 1u);
  }
}

// Bytes that are not an SQLite database (deterministic).
std::string garbage(std::size_t n) {
  std::string out(n, '\0');
  std::uint32_t x = 12345;
  for (auto& c : out) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  return out;
}

TEST(SqliteStoreFiles, AFileOfGarbageIsRefusedAndUnchangedByteForByte) {
  TempDir dir;
  for (const std::string& content : {garbage(4096), garbage(100000), std::string("hello, this is a text file\n")}) {
    SCOPED_TRACE(content.size());
    auto path = dir.file("garbage.db");
    writeBytes(path, content);
    const auto filesBefore = dir.entries();
    {
      auto s = SqliteStore::open(path);
      ASSERT_FALSE(s);
      EXPECT_THAT(s.error().message, HasSubstr("not an autodisc store or is damaged"));
      auto viaUri = autodisc::store::openStore("sqlite:" + path);
      ASSERT_FALSE(viaUri);
      EXPECT_THAT(viaUri.error().message, HasSubstr("not an autodisc store or is damaged"));
    }
    EXPECT_TRUE(fileHasBytes(path, content));
    EXPECT_EQ(dir.entries(), filesBefore);
  }
}

// An SQLite database of some other program: one table, one row, rollback journal.
void makeForeignDatabase(const std::string& path) {
  RawDb raw(path);
  ASSERT_TRUE(raw.ok());
  ASSERT_EQ(raw.exec("CREATE TABLE invoice(id INTEGER PRIMARY KEY, amount REAL); "
                     "INSERT INTO invoice(amount) VALUES (12.5);"),
            "");
}

TEST(SqliteStoreFiles, AForeignSqliteDatabaseIsRefusedAndItsDataKept) {
  TempDir dir;
  auto path = dir.file("foreign.db");
  makeForeignDatabase(path);
  if (HasFatalFailure()) return;
  {
    auto s = SqliteStore::open(path);
    ASSERT_FALSE(s);
    EXPECT_THAT(s.error().message, HasSubstr("not an autodisc store"));
  }
  RawDb raw(path);
  EXPECT_EQ(raw.scalar("SELECT amount FROM invoice"), "12.5");
  EXPECT_EQ(raw.scalar("PRAGMA user_version"), "0");
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM sqlite_master WHERE name='meta'"), "0");
}

TEST(SqliteStoreFiles, AForeignSqliteDatabaseIsUnchangedByteForByte) {
  TempDir dir;
  auto path = dir.file("foreign.db");
  makeForeignDatabase(path);
  if (HasFatalFailure()) return;
  const std::string bytes = readBytes(path);
  const auto filesBefore = dir.entries();
  {
    auto s = SqliteStore::open(path);
    ASSERT_FALSE(s);
    EXPECT_THAT(s.error().message, HasSubstr("Nothing was changed"));
  }
  EXPECT_TRUE(fileHasBytes(path, bytes));
  EXPECT_EQ(dir.entries(), filesBefore);
  RawDb raw(path);
  EXPECT_EQ(raw.scalar("PRAGMA journal_mode"), "delete");
}

// The message without the file's name (whose random letters may contain digits).
std::string withoutPath(std::string message, const std::string& path) {
  for (auto at = message.find(path); at != std::string::npos; at = message.find(path)) message.erase(at, path.size());
  return message;
}

TEST(SqliteStoreFiles, AStoreWithANewerSchemaIsRefusedNamingBothVersionsAndUnchanged) {
  TempDir dir;
  auto path = dir.file("newer.db");
  makeStore(path, {"New-AcceptedDomain -Name contoso.com -DomainName contoso.com"});
  if (HasFatalFailure()) return;
  {
    RawDb raw(path);
    ASSERT_TRUE(raw.ok());
    ASSERT_EQ(raw.exec("PRAGMA user_version=99"), "");
  }
  const std::string bytes = readBytes(path);
  const auto filesBefore = dir.entries();
  {
    auto s = SqliteStore::open(path);
    ASSERT_FALSE(s);
    std::string msg = withoutPath(s.error().message, path);
    EXPECT_THAT(msg, HasSubstr("99"));
    EXPECT_TRUE(std::regex_search(msg, std::regex("(^|[^0-9])" + std::to_string(SqliteStore::kSchemaVersion) +
                                                  "([^0-9]|$)")))
        << msg;
    EXPECT_THAT(msg, HasSubstr("newer"));
  }
  EXPECT_TRUE(fileHasBytes(path, bytes));
  EXPECT_EQ(dir.entries(), filesBefore);
  RawDb raw(path);
  EXPECT_EQ(raw.scalar("PRAGMA user_version"), "99");
  EXPECT_EQ(raw.scalar("SELECT name FROM accepted_domain"), "contoso.com");
}

TEST(SqliteStoreFiles, AStoreWithANewerSchemaInRollbackJournalModeIsUnchangedByteForByte) {
  TempDir dir;
  auto path = dir.file("newer.db");
  makeStore(path, {"New-AcceptedDomain -Name contoso.com -DomainName contoso.com"});
  if (HasFatalFailure()) return;
  {
    RawDb raw(path);
    ASSERT_TRUE(raw.ok());
    ASSERT_EQ(raw.scalar("PRAGMA journal_mode=DELETE"), "delete");
    ASSERT_EQ(raw.exec("PRAGMA user_version=99"), "");
  }
  const std::string bytes = readBytes(path);
  {
    auto s = SqliteStore::open(path);
    ASSERT_FALSE(s);
    EXPECT_THAT(s.error().message, HasSubstr("99"));
  }
  EXPECT_TRUE(fileHasBytes(path, bytes));
}

TEST(SqliteStoreFiles, AForeignSqliteDatabaseWithUserVersionOneIsRefusedAndItsDataKept) {
  // Other programs set user_version too; one at this autodisc's schema version has no autodisc tables.
  TempDir dir;
  auto path = dir.file("foreign1.db");
  makeForeignDatabase(path);
  if (HasFatalFailure()) return;
  {
    RawDb raw(path);
    ASSERT_EQ(raw.exec("PRAGMA user_version=" + std::to_string(SqliteStore::kSchemaVersion)), "");
  }
  {
    auto sh = openShell(path);
    ASSERT_FALSE(sh);
    EXPECT_THAT(sh.error().message, HasSubstr(path));
  }
  RawDb raw(path);
  EXPECT_EQ(raw.scalar("SELECT amount FROM invoice"), "12.5");
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM sqlite_master WHERE name='meta'"), "0");
}

TEST(SqliteStoreFiles, AForeignSqliteDatabaseWithUserVersionOneIsRefusedAsNotAnAutodiscStore) {
  TempDir dir;
  auto path = dir.file("foreign1.db");
  makeForeignDatabase(path);
  if (HasFatalFailure()) return;
  {
    RawDb raw(path);
    ASSERT_EQ(raw.exec("PRAGMA user_version=" + std::to_string(SqliteStore::kSchemaVersion)), "");
  }
  auto s = SqliteStore::open(path);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message, HasSubstr("not an autodisc store"));
}

TEST(SqliteStoreFiles, AForeignSqliteDatabaseWithANegativeUserVersionIsRefusedAndItsDataKept) {
  TempDir dir;
  auto path = dir.file("negative.db");
  makeForeignDatabase(path);
  if (HasFatalFailure()) return;
  {
    RawDb raw(path);
    ASSERT_EQ(raw.exec("PRAGMA user_version=-5"), "");
  }
  {
    auto s = SqliteStore::open(path);
    ASSERT_FALSE(s);
    EXPECT_THAT(s.error().message, HasSubstr("not an autodisc store"));
  }
  RawDb raw(path);
  EXPECT_EQ(raw.scalar("SELECT amount FROM invoice"), "12.5");
  EXPECT_EQ(raw.scalar("PRAGMA user_version"), "-5");
}

TEST(SqliteStoreFiles, ADamagedVersionCounterIsAnErrorNotAnException) {
  TempDir dir;
  auto path = dir.file("damaged.db");
  makeStore(path, {"New-AcceptedDomain -Name contoso.com -DomainName contoso.com"});
  if (HasFatalFailure()) return;
  {
    RawDb raw(path);
    ASSERT_EQ(raw.exec("UPDATE meta SET value='seven' WHERE key='version'"), "");
  }
  auto s = SqliteStore::open(path);
  ASSERT_TRUE(s) << errorOf(s);
  EXPECT_NO_THROW({
    auto v = (*s)->version();
    EXPECT_FALSE(v);
    if (!v) {
      EXPECT_THAT(v.error().message, HasSubstr("damaged"));
    }
  });
  EXPECT_NO_THROW({
    auto loaded = (*s)->read();
    EXPECT_FALSE(loaded);
  });
}

}  // namespace

namespace {

// Watchers: a writer's own watchers hear of its change at once; another handle hears of it on poll().
TEST(SqliteStoreWatch, WatchersLearnOfNewVersions) {
  char tmpl[] = "/tmp/autodisc-watch-XXXXXX";
  ASSERT_TRUE(mkdtemp(tmpl));
  std::string uri = std::string("sqlite:") + tmpl + "/w.db";
  auto writer = autodisc::store::openStore(uri);
  auto reader = autodisc::store::openStore(uri);
  ASSERT_TRUE(writer && reader);
  std::vector<std::uint64_t> heardByWriter, heardByReader;
  (*writer)->watch([&](std::uint64_t v) { heardByWriter.push_back(v); });
  (*reader)->watch([&](std::uint64_t v) { heardByReader.push_back(v); });
  std::uint64_t n = 1;
  autodisc::shell::Session session(**writer, [&n] { return n++; });
  ASSERT_TRUE(session.open());  // version 1: the defaults of a new organisation
  std::ostringstream out, err;
  ASSERT_TRUE(session.run("New-ADReplicationSite -Name Paris", out, err));  // version 2
  EXPECT_EQ(heardByWriter, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_TRUE(heardByReader.empty());
  auto moved = (*reader)->poll();
  ASSERT_TRUE(moved);
  EXPECT_TRUE(*moved);
  EXPECT_EQ(heardByReader, (std::vector<std::uint64_t>{2}));
  auto again = (*reader)->poll();
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  EXPECT_EQ(heardByReader.size(), 1u);
  // A failing line changes nothing, so nobody hears of anything.
  EXPECT_FALSE(session.run("New-ADReplicationSite -Name Paris", out, err));
  EXPECT_FALSE(*(*reader)->poll());
  EXPECT_EQ(heardByWriter.size(), 2u);
  std::filesystem::remove_all(tmpl);
}

}  // namespace

namespace {

// A store written by schema 1 is upgraded in place: its data kept, an offline address book GUID added.
TEST(SqliteStoreMigration, SchemaOneIsUpgradedKeepingItsData) {
  char tmpl[] = "/tmp/autodisc-migrate-XXXXXX";
  ASSERT_TRUE(mkdtemp(tmpl));
  std::string path = std::string(tmpl) + "/v1.db";
  {
    auto s = autodisc::store::openStore("sqlite:" + path);
    ASSERT_TRUE(s);
    std::uint64_t n = 1;
    autodisc::shell::Session session(**s, [&n] { return n++; });
    ASSERT_TRUE(session.open());
    std::ostringstream out, err;
    ASSERT_TRUE(session.run("Set-OrganizationConfig -Name Contoso", out, err));
    ASSERT_TRUE(session.run("New-AcceptedDomain -Name contoso.com -DomainName contoso.com", out, err));
  }
  {
    // Turn it back into what schema 1 wrote.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "ALTER TABLE organization_config DROP COLUMN oab_guid; "
                           "ALTER TABLE accepted_domain DROP COLUMN autodiscover_redirect_url; DROP TABLE exchange_certificate; "
                           "DROP TABLE change_log; DELETE FROM meta WHERE key='log_from'; PRAGMA user_version=1;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto s = autodisc::store::openStore("sqlite:" + path);
  ASSERT_TRUE(s) << s.error().message;
  auto loaded = (*s)->read();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->org->config().name, "Contoso");
  EXPECT_FALSE(loaded->org->config().offlineAddressBookGuid.isNull());
  EXPECT_NE(loaded->org->config().offlineAddressBookGuid, loaded->org->config().guid);
  // Schema 3 added the accepted domains' Autodiscover redirect target: empty for existing ones.
  ASSERT_NE(loaded->org->acceptedDomainFor("contoso.com"), nullptr);
  EXPECT_EQ(loaded->org->acceptedDomainFor("contoso.com")->autodiscoverRedirectUrl, "");
  std::filesystem::remove_all(tmpl);
}

// A reader with a snapshot applies the store's changes since its version and gets what reading the
// whole store gives; when the store cannot tell (a version older than its log, a change too large to
// log) it says so, and the reader reads it whole.
TEST(SqliteStoreChanges, ChangesSinceAVersionAppliedToItsSnapshotGiveTheWholeStore) {
  TempDir dir;
  auto path = dir.file("changes.db");
  auto writer = openShell(path, 1);
  ASSERT_TRUE(writer) << errorOf(writer);
  std::size_t half = kEveryKind.size() / 2;
  for (std::size_t i = 0; i < half; ++i) ASSERT_TRUE(run(*writer->session, kEveryKind[i]).ok) << kEveryKind[i];
  auto reader = SqliteStore::open(path);
  ASSERT_TRUE(reader);
  auto base = (*reader)->read();
  ASSERT_TRUE(base);
  for (std::size_t i = half; i < kEveryKind.size(); ++i) ASSERT_TRUE(run(*writer->session, kEveryKind[i]).ok) << kEveryKind[i];
  for (auto line : {"Remove-MailUser -Identity Bob", "Set-Mailbox -Identity Alice -DisplayName 'Alice A.'",
                    "Remove-ClientAccessArray -Identity A", "New-Mailbox -Name Carol"})
    ASSERT_TRUE(run(*writer->session, line).ok) << line;

  auto changes = (*reader)->changesSince(base->version);
  ASSERT_TRUE(changes) << errorOf(changes);
  ASSERT_TRUE(*changes) << "the log covers every version since the reader's";
  auto next = autodisc::store::applyChanges(*base->org, **changes);
  auto whole = (*reader)->read();
  ASSERT_TRUE(whole);
  EXPECT_EQ((*changes)->version, whole->version);
  std::string expected = autodisc::testing::dumpOrganization(*whole->org);
  EXPECT_THAT(expected, HasSubstr("Alice A."));
  EXPECT_EQ(autodisc::testing::dumpOrganization(*next), expected);
  EXPECT_EQ(next->recipientByAddress("bob@contoso.com"), nullptr) << "a removal is applied";
  ASSERT_NE(next->recipientByAddress("carol@contoso.com"), nullptr) << "an addition is indexed";
  EXPECT_NE(autodisc::testing::dumpOrganization(*base->org), expected) << "the base snapshot is untouched";

  // Nothing new: an empty change set at the same version.
  auto none = (*reader)->changesSince(whole->version);
  ASSERT_TRUE(none && *none);
  EXPECT_TRUE((*none)->changes.empty());

  // Older than what the log keeps: read it whole.
  RawDb raw(path);
  ASSERT_EQ(raw.exec("UPDATE meta SET value = '1000000' WHERE key='log_from'"), "");
  auto old = (*reader)->changesSince(base->version);
  ASSERT_TRUE(old);
  EXPECT_FALSE(*old);
}

TEST(SqliteStoreChanges, AChangeTooLargeToLogSaysReadItWhole) {
  TempDir dir;
  auto path = dir.file("large.db");
  auto writer = openShell(path, 1);
  ASSERT_TRUE(writer) << errorOf(writer);
  ASSERT_TRUE(run(*writer->session, "New-AcceptedDomain -Name contoso.com -DomainName contoso.com").ok);
  ASSERT_TRUE(run(*writer->session, "New-ExchangeServer -Name EX01 -Fqdn ex01.contoso.local").ok);
  ASSERT_TRUE(run(*writer->session, "New-MailboxDatabase -Name DB01 -Server EX01").ok);
  auto reader = SqliteStore::open(path);
  ASSERT_TRUE(reader);
  auto base = (*reader)->read();
  ASSERT_TRUE(base);
  std::string csv = "Name\n";
  for (int i = 0; i < 10001; ++i) csv += "user" + std::to_string(i) + "\n";
  auto file = dir.file("users.csv");
  writeBytes(file, csv);
  auto imported = run(*writer->session, "Import-Csv " + file + " | New-Mailbox");
  ASSERT_TRUE(imported.ok) << imported.error;
  auto changes = (*reader)->changesSince(base->version);
  ASSERT_TRUE(changes);
  EXPECT_FALSE(*changes);
}

}  // namespace
