#pragma once
// autodisc test EMAIL: discovery as Outlook does it, each step shown (DNS, connection, TLS and the
// certificate, HTTP status, time), then the settings found and who would use which.
#include <ostream>
#include <string>
#include <vector>

#include "client/dns.hpp"
#include "client/http.hpp"

namespace autodisc::client {

struct TestOptions {
  std::string email;
  std::string protocol = "pox";  // pox, mobilesync, soap or json
  HttpOptions http;              // CA file, --resolve, port mapping, credentials, timeout
  DnsOptions dns;                // --dns
  std::string lastKnownGood;     // a cached Autodiscover URL to try first
  std::string ldapUrl;           // --ldap: look up SCPs there first (spec 6.3); "auto": the domain's DCs
  std::string adDomain;          // --ad-domain: whose DCs "auto" asks DNS for (default: the address's domain)
  std::string cacheFile;         // the last-known-good cache; empty: none (--no-cache)
  std::string site;              // --site: the client's AD site, for the SCP order
  std::string network = "both";  // --network: whose URLs to show: internal, external or both
  std::string ldapBindDn, ldapPassword;
  bool json = false;
  bool followUp = true;          // check every URL of the answer afterwards
  bool watch = false;            // run again when the answer says (TTL; 5 minutes after a failure)
  int watchIntervalSeconds = 0;  // labs and tests: run again after this instead
  int watchRounds = 0;           // stop after this many runs (0: never)
};

// Exit statuses, as `autodisc test --help` documents them.
enum TestExit { kFound = 0, kFoundWithWarnings = 1, kNotFound = 2, kUsage = 64 };

int runTest(const TestOptions& o, std::ostream& out);

// A URL of the answer and what asking it gave (GET; OPTIONS for ActiveSync; no credentials).
struct UrlCheck {
  std::string what;  // "EXCH EwsUrl", ...
  std::string url;
  HttpResult result;
};

// What one discovery found, for callers that report it their own way (Test-OutlookWebServices, and
// --watch's comparison of rounds).
struct Discovery {
  bool found = false;
  std::string url, address, reason;  // where the settings came from, for whom; else why not
  double seconds = 0;                // the Autodiscover request that answered
  std::vector<std::pair<std::string, std::string>> values;  // "BLOCK name" and value
  int ttlHours = 1;
  std::vector<UrlCheck> checks;      // with o.followUp
  std::vector<std::string> warnings;
};
Discovery discover(const TestOptions& o);

}  // namespace autodisc::client
