// The ways of running `autodisc shell`: a terminal (through script(1), which gives it a pty),
// standard input, a script file, -c, and the store named by AUTODISC_STORE.
#include <gtest/gtest.h>

#include <fstream>

#include "support/process.hpp"

using namespace autodisc::testing;

namespace {

TEST(ShellModes, InteractiveReportsAnErrorAndGoesOn) {
  TempDir dir;
  std::string cmd = env("AUTODISC_BIN") + " shell --store sqlite:" + dir.path() + "/t.db";
  // The history file goes to $HOME: keep it in the test's folder.
  std::string home = std::getenv("HOME") ? std::getenv("HOME") : "";
  setenv("HOME", dir.path().c_str(), 1);
  auto r = runProcess({"/usr/bin/script", "-qec", cmd, "/dev/null"},
                      "New-AcceptedDomain -Name a.com -DomainName a.com\nGet-Foo\nGet-AcceptedDomain | fl DomainName\nexit\n");
  if (home.empty()) unsetenv("HOME");
  else setenv("HOME", home.c_str(), 1);
  std::ifstream history(dir.path() + "/.autodisc_history");
  std::string saved((std::istreambuf_iterator<char>(history)), std::istreambuf_iterator<char>());
  EXPECT_NE(saved.find("Get-Foo"), std::string::npos) << "history was not saved";
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("autodisc> "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("error: Get-Foo: the term 'Get-Foo' is not recognized"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("DomainName : a.com"), std::string::npos) << r.out;
}

TEST(ShellModes, ScriptFileWithContinuationLines) {
  TempDir dir;
  std::string script = dir.path() + "/setup.ps1";
  std::ofstream(script) << "# a comment line\n"
                           "New-AcceptedDomain -Name a.com `\n"
                           "  -DomainName a.com\n"
                           "Get-AcceptedDomain |\n"
                           "  Format-List Name\n";
  auto r = runProcess({env("AUTODISC_BIN"), "shell", "--store", "sqlite:" + dir.path() + "/t.db", script});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("\nName : a.com\n"), std::string::npos) << r.out;
}

TEST(ShellModes, StoreFromTheEnvironmentAndMissingScript) {
  TempDir dir;
  std::string db = dir.path() + "/env.db";
  setenv("AUTODISC_STORE", ("sqlite:" + db).c_str(), 1);
  auto r = runProcess({env("AUTODISC_BIN"), "shell", "-c", "New-ADReplicationSite -Name Paris"});
  unsetenv("AUTODISC_STORE");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_TRUE(std::ifstream(db).good()) << "the store named by AUTODISC_STORE was not created";
  auto missing = runProcess({env("AUTODISC_BIN"), "shell", "--store", "sqlite:" + db, dir.path() + "/nope.ps1"});
  EXPECT_EQ(missing.exitCode, 1);
  EXPECT_NE(missing.err.find("cannot open the script"), std::string::npos) << missing.err;
}

TEST(ShellModes, HelpDescribesTheSubcommands) {
  auto top = runProcess({env("AUTODISC_BIN"), "--help"});
  EXPECT_EQ(top.exitCode, 0);
  EXPECT_NE(top.out.find("shell"), std::string::npos);
  auto sub = runProcess({env("AUTODISC_BIN"), "shell", "--help"});
  EXPECT_EQ(sub.exitCode, 0);
  EXPECT_NE(sub.out.find("--store"), std::string::npos);
  auto bad = runProcess({env("AUTODISC_BIN"), "nonsense"});
  EXPECT_NE(bad.exitCode, 0);
}

}  // namespace
