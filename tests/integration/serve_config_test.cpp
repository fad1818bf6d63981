// autodisc serve --config FILE [--check]: TOML keys, unknown keys with file and line, flags over keys.
#include <gtest/gtest.h>

#include <fstream>

#include "support/process.hpp"

using namespace autodisc::testing;

namespace {

class ServeConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    auto certs = runProcess({"/bin/bash", env("AUTODISC_SOURCE_DIR") + "/tests/data/certs/make-certs.sh", dir_.path(),
                             "mail.contoso.com"});
    ASSERT_EQ(certs.exitCode, 0) << certs.err;
  }
  std::string write(const std::string& text) {
    std::string f = dir_.path() + "/autodisc.toml";
    std::ofstream(f) << text;
    return f;
  }
  std::string base() const {
    return "store = \"sqlite:" + dir_.path() + "/org.db\"\nhttps = [\"127.0.0.1:0\"]\ncert = \"" + dir_.path() +
           "/server.pem\"\nkey = \"" + dir_.path() + "/server.key\"\nauth = \"basic\"\ninternal_networks = [\"10.0.0.0/8\", \"ad-sites\"]\n";
  }
  ProcessResult check(const std::string& file, std::vector<std::string> more = {}) {
    std::vector<std::string> argv = {env("AUTODISC_BIN"), "serve", "--config", file, "--check"};
    argv.insert(argv.end(), more.begin(), more.end());
    return runProcess(argv);
  }
  TempDir dir_;
};

TEST_F(ServeConfig, AGoodFileChecksOk) {
  auto r = check(write(base()));
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, "configuration OK\n");
}

TEST_F(ServeConfig, AnUnknownKeyIsRefusedWithFileLineAndKey) {
  auto f = write(base() + "theads = 4\n");
  auto r = check(f);
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find(f + ":7: unknown key 'theads'"), std::string::npos) << r.err;
}

TEST_F(ServeConfig, BadValuesAndSyntaxAreNamed) {
  auto r = check(write(base() + "threads = \"many\"\n"));
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find(":7: threads: a whole number is expected"), std::string::npos) << r.err;
  r = check(write(base() + "io_timeout_seconds = 0\n"));
  EXPECT_NE(r.err.find("io_timeout_seconds: the value must be from 1 to 3600"), std::string::npos) << r.err;
  r = check(write("https = [\"127.0.0.1:0\"\n"));
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("autodisc.toml:"), std::string::npos) << r.err;
  r = check(write(base() + "auth = \"kerberos\"\n"));
  EXPECT_EQ(r.exitCode, 1);
}

TEST_F(ServeConfig, AFlagOverridesItsKeyAndTheCertificateIsChecked) {
  auto f = write(base());
  auto r = check(f, {"--key", dir_.path() + "/missing.key"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("cannot read " + dir_.path() + "/missing.key"), std::string::npos) << r.err;
  r = check(f, {"--internal-network", "not-a-range"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("not-a-range"), std::string::npos) << r.err;
}

}  // namespace
