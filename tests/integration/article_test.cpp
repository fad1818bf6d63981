// The article end to end: an organisation as New-ExchangeServer leaves it (every InternalUrl and the
// SCP on the internal server name), a certificate for the external names only, made with the
// certificate cmdlets and served by a running `autodisc serve`. The doctor, checking what that
// service presents, reports the SCP name and the InternalUrls as not covered with their fixes; the
// fixes are run, the split-DNS record is added to the internal view (dnsmasq, one for each view), and
// the doctor is then clean; `autodisc test` through the internal view finds the settings with no
// certificate warning, where before it met the internal name's.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <memory>

#include "support/process.hpp"

using namespace autodisc::testing;

namespace {

TEST(ArticleEndToEnd, TheDoctorsFixesAndSplitDnsLetOutlookInsideDiscoverWithoutCertificateWarnings) {
  TempDir dir;
  std::string bin = env("AUTODISC_BIN"), store = "sqlite:" + dir.path() + "/org.db", ca = dir.path() + "/ca.pem";
  auto shell = [&](const std::string& script) {
    auto r = runProcess({bin, "shell", "--store", store, "-"}, script);
    EXPECT_EQ(r.exitCode, 0) << r.err << "\n" << script;
    return r;
  };
  // The test CA (make-certs.sh also makes a server certificate, which is not used here).
  ASSERT_EQ(runProcess({"/bin/bash", env("AUTODISC_SOURCE_DIR") + "/tests/data/certs/make-certs.sh", dir.path(),
                        "unused.e2010.com"}).exitCode,
            0);

  // The organisation as setup leaves it, published under mail.e2010.com as the article does.
  ASSERT_EQ(runProcess({bin, "shell", "--store", store, env("AUTODISC_SOURCE_DIR") + "/examples/e2010-organisation.ps1"})
                .exitCode,
            0);
  std::string csr = dir.path() + "/mail.csr", crt = dir.path() + "/mail.crt";
  shell("Get-OwaVirtualDirectory | Set-OwaVirtualDirectory -ExternalUrl https://mail.e2010.com/owa\n"
        "Get-WebServicesVirtualDirectory | Set-WebServicesVirtualDirectory -ExternalUrl https://mail.e2010.com/EWS/Exchange.asmx\n"
        "Get-OabVirtualDirectory | Set-OabVirtualDirectory -ExternalUrl https://mail.e2010.com/OAB\n"
        "Get-OutlookAnywhere | Set-OutlookAnywhere -ExternalHostname mail.e2010.com\n"
        "New-ExchangeCertificate -GenerateRequest -SubjectName 'CN=mail.e2010.com' -DomainName "
        "mail.e2010.com,autodiscover.e2010.com -RequestFile " + csr + "\n");
  auto issued = runProcess({"/usr/bin/openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", dir.path() + "/ca.key",
                            "-days", "365", "-copy_extensions", "copy", "-out", crt});
  ASSERT_EQ(issued.exitCode, 0) << issued.err;
  shell("Import-ExchangeCertificate -FileName " + crt + " | Enable-ExchangeCertificate -Services IIS\n");

  // The service serves the store's certificate: no --cert.
  ServeProcess serve(bin, dir.path() + "/serve", {"--store", store, "--https", "127.0.0.1:0", "--http", "127.0.0.1:0",
                                                  "--admin", "127.0.0.1:0", "--threads", "1"});
  std::string https = serve.port("https"), http = serve.port("http");
  ASSERT_FALSE(https.empty()) << "the service did not start";

  auto insideView = std::make_unique<DnsView>(std::vector<std::string>{
      "--address=/x2007srv.e2010.local/127.0.0.1", "--address=/2010cas.e2010.local/127.0.0.1",
      "--address=/autodiscover.e2010.com/127.0.0.1"});
  DnsView outsideView({"--address=/mail.e2010.com/203.0.113.5", "--address=/autodiscover.e2010.com/203.0.113.5"});
  auto doctor = [&](const DnsView& inside, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {bin, "doctor", "--store", store, "--service", "127.0.0.1:" + https, "--sni",
                                     "mail.e2010.com", "--ca", ca, "--internal-dns", inside.address(), "--external-dns",
                                     outsideView.address()};
    args.insert(args.end(), extra.begin(), extra.end());
    return runProcess(args);
  };
  auto discover = [&](const DnsView& inside) {
    return runProcess({bin, "test", "alice@e2010.com", "--dns", inside.address(), "--https-port", https, "--http-port",
                       http, "--ca", ca, "--no-cache"});
  };

  // Before: the SCP and the InternalUrls are on x2007srv.e2010.local, which the certificate does not cover.
  auto before = doctor(*insideView);
  EXPECT_EQ(before.exitCode, 2) << before.out << before.err;
  EXPECT_NE(before.out.find("Certificate: the service at 127.0.0.1:" + https), std::string::npos) << before.out;
  EXPECT_NE(before.out.find("[certificate-coverage] X2007SRV AutoDiscoverServiceInternalUri (the SCP): the certificate "
                            "does not cover x2007srv.e2010.local"),
            std::string::npos) << before.out;
  EXPECT_NE(before.out.find("fix: Set-ClientAccessServer -Identity 'X2007SRV' -AutoDiscoverServiceInternalUri "
                            "https://mail.e2010.com/Autodiscover/Autodiscover.xml"),
            std::string::npos) << before.out;
  EXPECT_NE(before.out.find("fix: Set-WebServicesVirtualDirectory -Identity 'X2007SRV\\EWS (Default Web Site)' "
                            "-InternalUrl https://mail.e2010.com/EWS/Exchange.asmx"),
            std::string::npos) << before.out;
  auto warned = discover(*insideView);
  EXPECT_NE(warned.out.find("does not cover x2007srv.e2010.local"), std::string::npos) << warned.out;

  // The printed fixes, run; then split DNS inside: the published name at the server's internal address.
  auto script = doctor(*insideView, {"--fix-script"});
  auto fixed = runProcess({bin, "shell", "--store", store, "-"}, script.out);
  ASSERT_EQ(fixed.exitCode, 0) << fixed.err << script.out;
  auto withoutSplitDns = doctor(*insideView);
  EXPECT_EQ(withoutSplitDns.exitCode, 2) << withoutSplitDns.out;
  EXPECT_NE(withoutSplitDns.out.find("[split-dns] mail.e2010.com (InternalUrl and ExternalUrl): inside, mail.e2010.com "
                                     "does not resolve"),
            std::string::npos) << withoutSplitDns.out;
  insideView.reset();
  DnsView splitInside({"--address=/x2007srv.e2010.local/127.0.0.1", "--address=/2010cas.e2010.local/127.0.0.1",
                       "--address=/autodiscover.e2010.com/127.0.0.1", "--address=/mail.e2010.com/127.0.0.1"});
  auto after = doctor(splitInside);
  EXPECT_EQ(after.exitCode, 0) << after.out << after.err;
  EXPECT_EQ(after.out.find("ERRORS"), std::string::npos) << after.out;
  EXPECT_EQ(after.out.find("WARNINGS"), std::string::npos) << after.out;

  // Outlook inside now finds its settings, every URL on a name the certificate covers (once the
  // service has taken the change: it polls the store every 250 ms).
  auto found = discover(splitInside);
  for (int i = 0; i < 30 && found.out.find("https://x2007srv.e2010.local") != std::string::npos; ++i) {
    usleep(100000);
    found = discover(splitInside);
  }
  EXPECT_EQ(found.exitCode, 0) << found.out << found.err;
  EXPECT_NE(found.out.find("FOUND at https://autodiscover.e2010.com/autodiscover/autodiscover.xml"), std::string::npos)
      << found.out;
  EXPECT_NE(found.out.find("https://mail.e2010.com/EWS/Exchange.asmx"), std::string::npos) << found.out;
  // (EXCH's Server stays the RPC endpoint, x2007srv.e2010.local: a MAPI connection, no certificate.)
  EXPECT_EQ(found.out.find("https://x2007srv.e2010.local"), std::string::npos) << found.out;
  EXPECT_EQ(found.out.find("does not cover"), std::string::npos) << found.out;
  EXPECT_EQ(found.out.find("WARNING"), std::string::npos) << found.out;
}

}  // namespace
