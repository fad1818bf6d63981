// The seed article's cmdlets, run through the real `autodisc shell` on a fresh store: once with the
// values its publishing lost filled in, and once exactly as printed.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "support/process.hpp"

using namespace autodisc::testing;

namespace {

std::string readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Every command line of the article, as printed.
std::vector<std::string> articleLines() {
  std::istringstream in(readFile(env("AUTODISC_SEED") + "/exchange-autodiscover-part2.txt"));
  std::vector<std::string> out;
  std::string line;
  static const std::regex cmdlet("^\\s*(Get|Set|New)-[A-Za-z]+.*");
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (std::regex_match(line, cmdlet)) out.push_back(line);
  }
  return out;
}

// The value each line lost, as the article's text describes it.
std::string fill(const std::string& line) {
  static const std::vector<std::pair<std::string, std::string>> paths = {
      {"\\OWA ", "/owa"}, {"\\OAB ", "/OAB"}, {"\\EWS ", "/EWS/Exchange.asmx"},
      {"\\Microsoft-Server-ActiveSync ", "/Microsoft-Server-ActiveSync"}, {"\\ECP ", "/ecp"}};
  for (auto& [key, path] : paths)
    if (line.find(key) != std::string::npos) return line + " https://mail.e2010.com" + path;
  if (line.find("| Set-ClientAccessServer") != std::string::npos)
    return line + " -AutoDiscoverServiceInternalUri https://mail.e2010.com/Autodiscover/Autodiscover.xml";
  if (line.find("New-ClientAccessArray") != std::string::npos)
    return std::regex_replace(line, std::regex("-FQDN "), "-FQDN outlook.e2010.local ");
  if (line.find("\xE2\x80\x9C\xE2\x80\x9D") != std::string::npos)  // “”
    return std::regex_replace(line, std::regex("\xE2\x80\x9C\xE2\x80\x9D"), "\xE2\x80\x9Coutlook.e2010.local\xE2\x80\x9D");
  return line;
}

class SeedArticle : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = "sqlite:" + dir_.path() + "/org.db";
    auto r = shell({env("AUTODISC_SOURCE_DIR") + "/examples/e2010-organisation.ps1"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
  }
  ProcessResult shell(std::vector<std::string> args, const std::string& input = {}) {
    std::vector<std::string> argv = {env("AUTODISC_BIN"), "shell", "--store", store_};
    argv.insert(argv.end(), args.begin(), args.end());
    return runProcess(argv, input);
  }
  ProcessResult line(const std::string& l) { return shell({"-c", l}); }
  // Everything the store holds, as JSON.
  std::string dump() {
    std::string all;
    for (auto c : {"Get-AcceptedDomain", "Get-ADReplicationSite", "Get-ADReplicationSubnet", "Get-ExchangeServer",
                   "Get-ClientAccessServer", "Get-OwaVirtualDirectory", "Get-OabVirtualDirectory",
                   "Get-WebServicesVirtualDirectory", "Get-ActiveSyncVirtualDirectory", "Get-EcpVirtualDirectory",
                   "Get-AutodiscoverVirtualDirectory", "Get-MapiVirtualDirectory", "Get-OutlookAnywhere",
                   "Get-ClientAccessArray", "Get-MailboxDatabase", "Get-Mailbox", "Get-MailUser",
                   "Get-OutlookProvider", "Get-OrganizationConfig"}) {
      auto r = line(std::string(c) + " | ConvertTo-Json");
      EXPECT_EQ(r.exitCode, 0) << c << ": " << r.err;
      all += r.out;
    }
    return all;
  }
  TempDir dir_;
  std::string store_;
};

TEST_F(SeedArticle, HasTheThirteenCommandLines) {
  auto lines = articleLines();
  ASSERT_EQ(lines.size(), 13u);
  EXPECT_NE(lines[0].find("Set-OWAVirtualDirectory"), std::string::npos);
  EXPECT_NE(lines[12].find("Get-MailboxDatabase | Set-MailboxDatabase"), std::string::npos);
}

TEST_F(SeedArticle, FilledInLinesConfigureTheOrganisationAsDescribed) {
  std::string script;
  for (auto& l : articleLines()) script += fill(l) + "\n";
  auto r = shell({"-"}, script);
  ASSERT_EQ(r.exitCode, 0) << r.err << "\nscript:\n" << script;

  struct Expect {
    std::string cmdlet, identity, url;
  };
  for (auto& e : std::vector<Expect>{
           {"Get-OwaVirtualDirectory", "X2007SRV\\owa (Default Web Site)", "https://mail.e2010.com/owa"},
           {"Get-OabVirtualDirectory", "X2007SRV\\OAB (Default Web Site)", "https://mail.e2010.com/OAB"},
           {"Get-WebServicesVirtualDirectory", "X2007SRV\\EWS (Default Web Site)", "https://mail.e2010.com/EWS/Exchange.asmx"},
           {"Get-ActiveSyncVirtualDirectory", "X2007SRV\\Microsoft-Server-ActiveSync (Default Web Site)",
            "https://mail.e2010.com/Microsoft-Server-ActiveSync"},
           {"Get-EcpVirtualDirectory", "2010CAS\\ecp (Default Web Site)", "https://mail.e2010.com/ecp"}}) {
    auto g = line(e.cmdlet + " -Identity '" + e.identity + "' | Format-List InternalUrl,ExternalUrl");
    ASSERT_EQ(g.exitCode, 0) << g.err;
    EXPECT_EQ(g.out, "\nInternalUrl : " + e.url + "\nExternalUrl : " + e.url + "\n\n") << e.cmdlet;
  }
  // The servers the article did not touch keep their internal names.
  auto other = line("Get-OwaVirtualDirectory -Server 2010CAS | Format-List InternalUrl,ExternalUrl");
  EXPECT_EQ(other.out, "\nInternalUrl : https://2010cas.e2010.local/owa\nExternalUrl :\n\n");

  auto cas = line("Get-ClientAccessServer | ConvertTo-Json -Compress");
  EXPECT_NE(cas.out.find("{\"Name\":\"X2007SRV\",\"Fqdn\":\"x2007srv.e2010.local\",\"Site\":\"Default-First-Site-Name\","
                         "\"AutoDiscoverServiceInternalUri\":\"https://mail.e2010.com/Autodiscover/Autodiscover.xml\","
                         "\"AutoDiscoverSiteScope\":[\"Default-First-Site-Name\"]}"),
            std::string::npos)
      << cas.out;
  EXPECT_NE(cas.out.find("\"AutoDiscoverServiceInternalUri\":\"https://2010cas.e2010.local/Autodiscover/Autodiscover.xml\""),
            std::string::npos)
      << cas.out;

  auto array = line("Get-ClientAccessArray | Format-List Name,Fqdn,Site,Members");
  EXPECT_EQ(array.out,
            "\nName    : CAS_Arrary\nFqdn    : outlook.e2010.local\nSite    : Default-First-Site-Name\nMembers : "
            "{X2007SRV, 2010CAS}\n\n");
  auto dbs = line("Get-MailboxDatabase | Format-Table Name,RpcClientAccessServer");
  EXPECT_EQ(dbs.out,
            "\nName                RpcClientAccessServer\n----                ---------------------\nMailbox "
            "Database 01 outlook.e2010.local\n\n");
  // A database created now, in the array's site, takes the array's name (the article's rule).
  auto newDb = line("New-MailboxDatabase -Name DB02 -Server X2007SRV | Format-List RpcClientAccessServer");
  EXPECT_EQ(newDb.out, "\nRpcClientAccessServer : outlook.e2010.local\n\n") << newDb.err;
}

TEST_F(SeedArticle, LinesAsPrintedFailNamingTheParameterAndChangeNothing) {
  std::string before = dump();
  int failed = 0;
  for (auto& l : articleLines()) {
    auto r = line(l);
    std::smatch m;
    std::string expectParam;
    if (std::regex_search(l, m, std::regex("-(ExternalURL|InternalURL)$"))) expectParam = m[1] == "ExternalURL" ? "ExternalUrl" : "InternalUrl";
    else if (l.find("New-ClientAccessArray") != std::string::npos) expectParam = "Fqdn";
    else if (l.find("RPCClientAccessServer") != std::string::npos) expectParam = "RpcClientAccessServer";
    if (!expectParam.empty()) {
      ++failed;
      EXPECT_EQ(r.exitCode, 1) << l;
      EXPECT_NE(r.err.find(expectParam), std::string::npos) << l << "\n" << r.err;
      EXPECT_EQ(r.out, "") << l;
    } else {
      // "Get-ClientAccessServer –Identity X2007SRV | Set-ClientAccessServer" lost its whole parameter:
      // it runs, changes nothing, and says so as Exchange does.
      EXPECT_EQ(r.exitCode, 0) << l << r.err;
      EXPECT_NE(r.err.find("no settings of 'X2007SRV' have been modified"), std::string::npos) << r.err;
    }
  }
  EXPECT_EQ(failed, 12);
  EXPECT_EQ(dump(), before);
}

TEST_F(SeedArticle, AScriptStopsAtTheFirstErrorAndKeepsEarlierLines) {
  auto r = shell({"-"}, "New-Mailbox -Name Carol\nSet-OWAVirtualDirectory -Identity X2007SRV\\OWA -ExternalURL\nNew-Mailbox -Name Dave\n");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("stdin:2:"), std::string::npos) << r.err;
  EXPECT_EQ(line("Get-Mailbox -Identity Carol | Format-List Name").out, "\nName : Carol\n\n");
  auto dave = line("Get-Mailbox -Identity Dave");
  EXPECT_EQ(dave.exitCode, 1);
  EXPECT_NE(dave.err.find("'Dave' couldn't be found"), std::string::npos) << dave.err;
}

}  // namespace
