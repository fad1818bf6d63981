// `autodisc doctor` on the article's organisation and a certificate for the external names only:
// the SCP and the InternalUrls are reported as not covered, with their fixes; the printed fix
// script, run through the shell, leaves only what a cmdlet cannot fix.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

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

  auto json = runProcess({env("AUTODISC_BIN"), "doctor", "--store", store, "--cert", cert, "--json"});
  EXPECT_EQ(json.exitCode, 2);
  EXPECT_EQ(json.out.rfind("{\"findings\":[{\"severity\":\"error\",\"check\":\"certificate-coverage\"", 0), 0u) << json.out;

  auto script = runProcess({env("AUTODISC_BIN"), "doctor", "--store", store, "--cert", cert, "--fix-script"});
  EXPECT_EQ(script.exitCode, 2);
  auto fixed = runProcess({env("AUTODISC_BIN"), "shell", "--store", store, "-"}, script.out);
  ASSERT_EQ(fixed.exitCode, 0) << fixed.err << script.out;

  auto after = runProcess({env("AUTODISC_BIN"), "doctor", "--store", store, "--cert", cert});
  EXPECT_EQ(after.exitCode, 1) << after.out;  // the test certificate expires within 30 days
  EXPECT_EQ(after.out.find("ERRORS"), std::string::npos) << after.out;
  EXPECT_NE(after.out.find("certificate-expiry"), std::string::npos);

  auto missing = runProcess({env("AUTODISC_BIN"), "doctor", "--store", store, "--cert", dir.path() + "/nope.pem"});
  EXPECT_EQ(missing.exitCode, 3);
  EXPECT_NE(missing.err.find("cannot read the certificate"), std::string::npos) << missing.err;
}

}  // namespace
