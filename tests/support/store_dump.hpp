#pragma once
// Everything a store holds, as `autodisc shell` prints it (ConvertTo-Json of every Get- cmdlet),
// with the GUIDs (random per store) masked: two stores filled by the same script compare equal.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace autodisc::testing {

// `orderFree`: compare as a set of lines (a directory may list objects, and a CAS array's members,
// in another order than SQLite).
inline std::string storeDump(const std::string& store, bool orderFree = false) {
  std::string script;
  for (auto c : {"Get-AcceptedDomain", "Get-ADReplicationSite", "Get-ADReplicationSubnet", "Get-ExchangeServer",
                 "Get-ClientAccessServer", "Get-OwaVirtualDirectory", "Get-OabVirtualDirectory",
                 "Get-WebServicesVirtualDirectory", "Get-ActiveSyncVirtualDirectory", "Get-EcpVirtualDirectory",
                 "Get-AutodiscoverVirtualDirectory", "Get-MapiVirtualDirectory", "Get-OutlookAnywhere",
                 "Get-ClientAccessArray", "Get-MailboxDatabase", "Get-Mailbox", "Get-MailUser", "Get-OutlookProvider",
                 "Get-OrganizationConfig", "Get-ExchangeCertificate"})
    script += std::string(c) + " | ConvertTo-Json\n";
  auto r = runProcess({env("AUTODISC_BIN"), "shell", "--store", store, "-"}, script);
  EXPECT_EQ(r.exitCode, 0) << r.err;
  static const std::regex guid("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  std::string text = std::regex_replace(r.out, guid, "GUID");
  if (!orderFree) return text;
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (auto at = line.find("\"Members\": ["); at != std::string::npos) {
      std::vector<std::string> members;
      static const std::regex quoted("\"[^\"]*\"");
      std::string list = line.substr(at + 12);
      for (std::sregex_iterator it(list.begin(), list.end(), quoted), end; it != end; ++it) members.push_back(it->str());
      std::sort(members.begin(), members.end());
      line = "Members:";
      for (auto& m : members) line += " " + m;
    }
    lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace autodisc::testing
