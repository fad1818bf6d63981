#include "client/test_command.hpp"

#include "client/scp.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>
#include <optional>
#include <set>
#include <sstream>

#include "discovery/planner.hpp"
#include "model/text.hpp"
#include "protocol/json_v2.hpp"
#include "protocol/pox.hpp"
#include "protocol/soap.hpp"

namespace autodisc::client {

using discovery::Planner;
using discovery::PostResult;
using discovery::StepKind;

namespace {

// The value of a string member of a flat JSON object (the v2 answers), unescaped; empty if absent.
std::string jsonValue(std::string_view body, std::string_view name) {
  std::string key = "\"" + std::string(name) + "\"";
  auto at = body.find(key);
  if (at == std::string_view::npos) return {};
  at = body.find(':', at + key.size());
  if (at == std::string_view::npos) return {};
  at = body.find('"', at);
  if (at == std::string_view::npos) return {};
  std::string out;
  for (std::size_t i = at + 1; i < body.size(); ++i) {
    char c = body[i];
    if (c == '"') return out;
    if (c == '\\' && i + 1 < body.size()) {
      char e = body[++i];
      out += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;  // \uXXXX is not used in these answers
      continue;
    }
    out += c;
  }
  return {};
}

// What `--protocol soap` asks for: what an EWS program needs to connect.
const std::vector<std::string> kSoapSettings = {"UserDisplayName", "AutoDiscoverSMTPAddress", "InternalEwsUrl",
                                                "ExternalEwsUrl", "EwsSupportedSchemas", "CasVersion",
                                                "ExternalMailboxServer", "InternalWebClientUrls", "ExternalWebClientUrls"};

using protocol::kMobileRequestNs;
using protocol::kMobileResponseNs;
using protocol::kOutlookRequestNs;
using protocol::kOutlookResponseNs;

std::string requestBody(const std::string& address, bool mobile) {
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"" +
         std::string(mobile ? kMobileRequestNs : kOutlookRequestNs) + "\"><Request><EMailAddress>" +
         protocol::xmlEscape(address) + "</EMailAddress><AcceptableResponseSchema>" +
         std::string(mobile ? kMobileResponseNs : kOutlookResponseNs) + "</AcceptableResponseSchema></Request></Autodiscover>";
}

std::string ms(double seconds) { return std::to_string(static_cast<long>(seconds * 1000 + 0.5)) + " ms"; }

// One step of the report, as text lines and as a JSON object.
struct Report {
  std::vector<std::string> lines;
  std::vector<std::string> json;
  std::vector<std::string> warnings;
};

std::string jsonField(std::string_view name, std::string_view value) {
  return protocol::jsonString(name) + ":" + protocol::jsonString(value);
}

// The options for a connection to `url`: with --dns, to the addresses that server gives (and no
// connection at all when it gives none: never the system's resolver behind its back). Null with the
// DNS error in `dnsError` then.
std::optional<HttpOptions> withDns(const HttpOptions& base, const DnsOptions& dns, const std::string& url, Report& report,
                                   std::string& jsonDns, std::string& dnsError) {
  HttpOptions o = base;
  std::string host = discovery::hostOf(url);
  bool https = text::istartsWith(url, "https://");
  for (auto& r : base.resolve)
    if (text::istartsWith(r, host + ":")) return o;  // --resolve wins
  if (dns.server.empty()) return o;
  auto answer = lookupAddresses(host, dns);
  if (!answer.error.empty()) {
    report.lines.push_back("    DNS " + host + ": " + answer.error);
    jsonDns = jsonField("dnsError", answer.error);
    dnsError = "DNS " + host + " (" + dns.server + "): " + answer.error;
    return std::nullopt;
  }
  report.lines.push_back("    DNS " + host + ": " + text::join(answer.addresses, ", "));
  jsonDns = jsonField("dns", text::join(answer.addresses, ", "));
  for (auto& a : answer.addresses) {
    bool v6 = a.find(':') != std::string::npos;
    o.resolve.push_back(host + ":" + (https ? "443" : "80") + ":" + (v6 ? "[" + a + "]" : a));
  }
  return o;
}

// A request through withDns: the DNS failure is the request's failure.
HttpResult request(const std::string& method, const std::string& url, const std::string& body,
                   const std::string& contentType, const TestOptions& o, bool credentials, Report& report,
                   std::string& jsonDns) {
  std::string dnsError;
  auto http = withDns(o.http, o.dns, url, report, jsonDns, dnsError);
  if (!http) {
    HttpResult r;
    r.error = dnsError;
    return r;
  }
  return httpRequest(method, url, body, contentType, *http, credentials);
}

void describe(const HttpResult& r, const std::string& url, Report& report, std::string& json) {
  std::string host = discovery::hostOf(url);
  if (!r.address.empty()) report.lines.push_back("    connected to " + r.address + (r.tlsVersion.empty() ? "" : ", " + r.tlsVersion));
  if (!r.certificate.subject.empty()) {
    report.lines.push_back("    certificate: " + r.certificate.subject + "; names " + text::join(r.certificate.names, ", ") +
                           "; issuer " + r.certificate.issuer + "; expires " + r.certificate.notAfter + "; " +
                           (r.coversHost ? "covers " + host : "does NOT cover " + host));
  }
  if (!r.error.empty()) report.lines.push_back("    failed: " + r.error + " (" + ms(r.seconds) + ")");
  else
    report.lines.push_back("    HTTP " + std::to_string(r.status) +
                           (r.wwwAuthenticate.empty() ? "" : " (" + r.wwwAuthenticate + ")") +
                           (r.location.empty() ? "" : " Location: " + r.location) + " in " + ms(r.seconds));
  json += "," + jsonField("address", r.address) + "," + jsonField("tls", r.tlsVersion) + "," +
          jsonField("certificateNames", text::join(r.certificate.names, ", ")) + "," +
          jsonField("certificateExpires", r.certificate.notAfter) + ",\"coversHost\":" + (r.coversHost ? "true" : "false") +
          ",\"status\":" + std::to_string(r.status) + "," + jsonField("error", r.error) + ",\"seconds\":" +
          std::to_string(r.seconds);
}

}  // namespace

namespace {

using Summary = Discovery;

int runOnce(const TestOptions& o, std::ostream& out, Summary& summary);

}  // namespace

Discovery discover(const TestOptions& o) {
  TestOptions quiet = o;
  quiet.json = false;
  quiet.watch = false;
  std::ostringstream ignored;
  Discovery d;
  runOnce(quiet, ignored, d);
  return d;
}

int runTest(const TestOptions& o, std::ostream& out) {
  if (!o.watch) {
    Summary ignored;
    return runOnce(o, out, ignored);
  }
  Summary before;
  int status = kNotFound;
  for (int round = 1; o.watchRounds <= 0 || round <= o.watchRounds; ++round) {
    Summary now;
    std::ostringstream text;
    status = runOnce(o, text, now);
    auto t = std::time(nullptr);
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::gmtime(&t));
    out << "== round " << round << " at " << when << " UTC\n";
    if (round == 1) {
      out << text.str();
    } else {
      std::vector<std::string> changes;
      if (before.found != now.found) changes.push_back(now.found ? "now found" : "no longer found");
      if (before.url != now.url) changes.push_back("Autodiscover URL: " + before.url + " -> " + now.url);
      for (auto& [k, v] : now.values) {
        auto it = std::find_if(before.values.begin(), before.values.end(), [&](auto& p) { return p.first == k; });
        if (it == before.values.end()) changes.push_back(k + ": (none) -> " + v);
        else if (it->second != v) changes.push_back(k + ": " + it->second + " -> " + v);
      }
      for (auto& [k, v] : before.values)
        if (std::none_of(now.values.begin(), now.values.end(), [&](auto& p) { return p.first == k; }))
          changes.push_back(k + ": " + v + " -> (none)");
      if (changes.empty()) out << "no change\n";
      for (auto& c : changes) out << "changed: " << c << "\n";
    }
    out.flush();
    before = now;
    if (o.watchRounds > 0 && round == o.watchRounds) break;
    // As Outlook: again after the answer's TTL (0: never) when found, after 5 minutes when not.
    int seconds = o.watchIntervalSeconds > 0 ? o.watchIntervalSeconds : now.found ? now.ttlHours * 3600 : 300;
    if (now.found && now.ttlHours == 0 && o.watchIntervalSeconds <= 0) {
      out << "TTL 0: the answer does not ask to be checked again\n";
      break;
    }
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
  }
  return status;
}

namespace {

// The last-known-good cache: a line "DOMAIN PROTOCOL URL" for each domain and protocol that worked.
std::map<std::string, std::string> readCache(const std::string& file) {
  std::map<std::string, std::string> out;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    auto a = line.find(' '), b = line.find(' ', a == std::string::npos ? a : a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    out[line.substr(0, b)] = line.substr(b + 1);
  }
  return out;
}
void writeCache(const std::string& file, const std::map<std::string, std::string>& entries) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(file).parent_path(), ec);
  std::string tmp = file + ".tmp";
  {
    std::ofstream outFile(tmp);
    for (auto& [key, url] : entries) outFile << key << ' ' << url << '\n';
    if (!outFile) return;
  }
  std::filesystem::rename(tmp, file, ec);
}

int runOnce(const TestOptions& o, std::ostream& out, Summary& summary) {
  bool mobile = o.protocol == "mobilesync", soap = o.protocol == "soap", v2 = o.protocol == "json";
  std::string domain = text::toLower(o.email.substr(o.email.find('@') + 1));
  std::string cacheKey = domain + " " + o.protocol;
  Report report;
  discovery::PlannerOptions po;
  po.email = o.email;
  po.soap = soap;
  po.json = v2;
  po.cachedUrl = o.lastKnownGood;
  // v2 URLs carry the address: the cache holds POX, MobileSync and SOAP endpoints only.
  bool useCache = !o.cacheFile.empty() && !v2;
  if (po.cachedUrl.empty() && useCache) {
    auto cache = readCache(o.cacheFile);
    if (auto it = cache.find(cacheKey); it != cache.end()) {
      po.cachedUrl = it->second;
      report.lines.push_back("CACHE " + o.cacheFile + ": last known good for " + domain + ": " + it->second);
    }
  }
  po.useScp = !o.ldapUrl.empty();
  po.ldapUrl = o.ldapUrl;
  if (o.ldapUrl == "auto") {
    // A domain member finds its domain controllers in DNS (spec 6.3): the best SRV target.
    std::string adDomain = o.adDomain.empty() ? domain : o.adDomain;
    std::string name = "_ldap._tcp.dc._msdcs." + adDomain;
    auto a = lookupSrv(name, o.dns);
    report.lines.push_back("SRV " + name);
    const discovery::SrvRecord* best = nullptr;
    for (auto& r : a.records)
      if (!best || r.priority < best->priority || (r.priority == best->priority && r.weight > best->weight)) best = &r;
    if (best) {
      po.ldapUrl = "ldap://" + best->target + ":" + std::to_string(best->port);
      report.lines.push_back("    domain controller " + best->target + ":" + std::to_string(best->port));
    } else {
      report.lines.push_back("    " + (a.error.empty() ? std::string("no record") : a.error) + ": no SCP lookup");
      po.useScp = false;
    }
  }
  po.clientSite = o.site;
  Planner planner(po);
  protocol::PoxResponse found;
  discovery::Step last;
  for (int guard = 0; guard < 100; ++guard) {
    auto step = planner.next();
    last = step;
    if (step.kind == StepKind::Done || step.kind == StepKind::GiveUp) break;
    std::string json = "{" + jsonField("step", step.why);
    switch (step.kind) {
      case StepKind::Post: {
        report.lines.push_back(std::string(v2 ? "GET " : "POST ") + step.url + "  [" + std::string(discovery::sourceName(step.source)) + ", for " +
                               step.address + "]");
        if (step.crossDomain) {
          report.lines.push_back("    note: " + discovery::hostOf(step.url) + " is outside the address's domain; Outlook asks the user first");
        }
        std::string dnsJson;
        auto r = v2 ? request("GET", step.url, "", "", o, true, report, dnsJson)
                      : request("POST", step.url,
                                soap ? protocol::getUserSettingsRequest(step.address, kSoapSettings, step.url)
                                     : requestBody(step.address, mobile),
                                "text/xml; charset=utf-8", o, true, report, dnsJson);
        describe(r, step.url, report, json);
        if (!dnsJson.empty()) json += "," + dnsJson;
        summary.seconds = r.seconds;  // the last request made is the one that answered
        PostResult pr;
        pr.transportError = r.error;
        pr.status = r.status;
        pr.location = r.location;
        if (v2 && r.error.empty() && r.status != 301 && r.status != 302 && r.status != 303 && r.status != 307) {
          // {"Protocol":"Ews","Url":"..."}, or {"ErrorCode":...,"ErrorMessage":...}
          auto url = jsonValue(r.body, "Url"), code = jsonValue(r.body, "ErrorCode");
          pr.status = 200;
          if (r.status == 200 && !url.empty()) {
            pr.action = PostResult::Action::Settings;
            found = protocol::PoxResponse{};
            found.kind = protocol::PoxResponse::Kind::Settings;
            found.blocks.push_back({"v2", {{"Protocol", jsonValue(r.body, "Protocol")}, {"Url", url}}});
          } else if (!code.empty()) {
            pr.action = PostResult::Action::Error;
            pr.error = code + " " + jsonValue(r.body, "ErrorMessage");
            report.lines.push_back("    answer: " + pr.error);
          } else {
            pr.status = static_cast<int>(r.status);
          }
        } else if (soap && r.error.empty() && (r.status == 200 || r.status == 500)) {
          auto answer = protocol::parseGetUserSettingsResponse(r.body);
          pr.status = 200;
          if (!answer.soap) {
            pr.status = r.status;
            pr.action = PostResult::Action::None;
          } else if (!answer.fault.empty()) {
            pr.action = PostResult::Action::Error;
            pr.error = "SOAP fault: " + answer.fault;
          } else if (answer.errorCode == "NoError") {
            pr.action = PostResult::Action::Settings;
            found = protocol::PoxResponse{};
            found.kind = protocol::PoxResponse::Kind::Settings;
            found.blocks.push_back({"GetUserSettings", answer.settings});
          } else if (answer.errorCode == "RedirectAddress" || answer.errorCode == "RedirectUrl") {
            pr.action = answer.errorCode == "RedirectAddress" ? PostResult::Action::RedirectAddr : PostResult::Action::RedirectUrl;
            pr.target = answer.redirectTarget;
            report.lines.push_back("    answer: " + answer.errorCode + " " + answer.redirectTarget);
          } else {
            pr.action = PostResult::Action::Error;
            pr.error = answer.errorCode + " " + answer.errorMessage;
            report.lines.push_back("    answer: " + pr.error);
          }
        } else if (r.error.empty() && r.status == 200) {
          auto answer = protocol::parsePoxResponse(r.body);
          using K = protocol::PoxResponse::Kind;
          switch (answer.kind) {
            case K::Settings: pr.action = PostResult::Action::Settings; found = answer; break;
            case K::RedirectAddr: pr.action = PostResult::Action::RedirectAddr; pr.target = answer.target; break;
            case K::RedirectUrl: pr.action = PostResult::Action::RedirectUrl; pr.target = answer.target; break;
            case K::Error: pr.action = PostResult::Action::Error; pr.error = answer.errorCode + " " + answer.message; break;
            case K::NotAutodiscover: pr.action = PostResult::Action::None; break;
          }
          if (answer.kind == K::RedirectAddr || answer.kind == K::RedirectUrl)
            report.lines.push_back("    answer: redirect to " + answer.target);
          if (answer.kind == K::Error) report.lines.push_back("    answer: error " + answer.errorCode + " " + answer.message);
          if (answer.kind == K::NotAutodiscover) report.lines.push_back("    answer: not an Autodiscover answer");
        }
        planner.posted(pr);
        break;
      }
      case StepKind::RedirectProbe: {
        report.lines.push_back("GET " + step.url + "  [the HTTP redirect method, no credentials]");
        std::string dnsJson;
        auto r = request("GET", step.url, "", "", o, false, report, dnsJson);
        describe(r, step.url, report, json);
        planner.probed(discovery::ProbeResult{r.error, static_cast<int>(r.status), r.location});
        break;
      }
      case StepKind::SrvLookup: {
        report.lines.push_back("SRV " + step.name);
        auto a = lookupSrv(step.name, o.dns);
        if (!a.error.empty()) report.lines.push_back("    " + a.error);
        for (auto& r : a.records)
          report.lines.push_back("    " + std::to_string(r.priority) + " " + std::to_string(r.weight) + " " +
                                 std::to_string(r.port) + " " + r.target);
        json += "," + jsonField("error", a.error) + ",\"records\":" + std::to_string(a.records.size());
        planner.srvFound(a.records, a.error);
        break;
      }
      case StepKind::ScpLookup: {
        report.lines.push_back("SCP " + step.ldapUrl + (o.site.empty() ? "" : "  [client site " + o.site + "]"));
        auto a = lookupScp(step.ldapUrl, ScpOptions{o.ldapBindDn, o.ldapPassword});
        if (!a.error.empty()) report.lines.push_back("    " + a.error);
        else report.lines.push_back("    searched " + a.searched + ": " + std::to_string(a.entries.size()) + " SCP(s)");
        if (o.site.empty() && a.error.empty())
          report.lines.push_back("    this end is " + a.localAddress + ": " +
                                 (a.site.empty() ? std::string("in no site's subnet") : "site " + a.site));
        for (auto& e : a.entries)
          report.lines.push_back("    " + (e.binding.empty() ? std::string("(no serviceBindingInformation)") : e.binding) +
                                 "  [" + text::join(e.keywords, ", ") + "]");
        json += "," + jsonField("error", a.error) + ",\"scps\":" + std::to_string(a.entries.size());
        planner.scpFound(a.entries, a.error, a.site);
        break;
      }
      case StepKind::Done:
      case StepKind::GiveUp: break;
    }
    report.json.push_back(json + "}");
  }

  bool ok = last.kind == StepKind::Done;
  // The cache: what worked is tried first next time; what failed from the cache is forgotten.
  if (useCache && o.lastKnownGood.empty()) {
    auto cache = readCache(o.cacheFile);
    bool changed = false;
    if (ok && cache[cacheKey] != last.url) cache[cacheKey] = last.url, changed = true;
    if (!ok && planner.cacheFailed() && cache.erase(cacheKey)) changed = true;
    if (changed) writeCache(o.cacheFile, cache);
  }

  // The follow-up check of every URL the answer gives (spec: what a client will connect to next):
  // DNS, TLS and the certificate's names, and whether the server answers at all (no credentials).
  using Check = UrlCheck;
  std::vector<Check> checks;
  if (ok && o.followUp) {
    std::set<std::string> seen;
    for (auto& b : found.blocks)
      for (auto& [k, v] : b.values) {
        if (!text::istartsWith(v, "https://") && !text::istartsWith(v, "http://")) continue;
        if (!seen.insert(text::toLower(v)).second) continue;
        Report ignored;
        std::string dnsJson;
        bool activeSync = b.type == "MobileSync";
        checks.push_back({b.type + " " + k, v, request(activeSync ? "OPTIONS" : "GET", v, "", "", o, false, ignored, dnsJson)});
      }
  }
  if (ok && last.crossDomain)
    report.warnings.push_back("the settings came from " + discovery::hostOf(last.url) + ", outside " +
                              std::string(domainOf(last.address)) + ": Outlook asks the user before it uses them");
  int status = !ok ? kNotFound : report.warnings.empty() ? kFound : kFoundWithWarnings;
  summary.found = ok;
  summary.url = ok ? last.url : "";
  summary.address = last.address;
  summary.ttlHours = found.ttlHours;
  summary.reason = ok ? "" : last.why;
  summary.checks = checks;
  summary.warnings = report.warnings;
  for (auto& b : found.blocks)
    for (auto& [k, v] : b.values) summary.values.emplace_back(b.type + " " + k, v);

  if (o.json) {
    out << "{" << jsonField("email", o.email) << ",\"found\":" << (ok ? "true" : "false") << ","
        << jsonField("url", ok ? last.url : "") << "," << jsonField("address", last.address) << ","
        << jsonField("reason", ok ? "" : last.why) << ",\"redirects\":" << planner.redirects() << ",\"steps\":[";
    for (std::size_t i = 0; i < report.json.size(); ++i) out << (i ? "," : "") << report.json[i];
    out << "],\"settings\":[";
    for (std::size_t i = 0; i < found.blocks.size(); ++i) {
      out << (i ? "," : "") << "{" << jsonField("type", found.blocks[i].type);
      for (auto& [k, v] : found.blocks[i].values) out << "," << jsonField(k, v);
      out << "}";
    }
    out << "],\"checks\":[";
    for (std::size_t i = 0; i < checks.size(); ++i) {
      auto& c = checks[i];
      out << (i ? "," : "") << "{" << jsonField("setting", c.what) << "," << jsonField("url", c.url) << ",\"status\":"
          << c.result.status << "," << jsonField("error", c.result.error) << ",\"coversHost\":"
          << (c.result.coversHost ? "true" : "false") << "}";
    }
    out << "],\"warnings\":[";
    for (std::size_t i = 0; i < report.warnings.size(); ++i) out << (i ? "," : "") << protocol::jsonString(report.warnings[i]);
    out << "],\"exit\":" << status << "}\n";
    return status;
  }
  out << "Autodiscover for " << o.email << "\n\n";
  for (auto& l : report.lines) out << l << "\n";
  out << "\n";
  for (auto& l : planner.log()) out << "  " << l << "\n";
  out << "\n";
  if (!ok) {
    out << "NOT FOUND: " << last.why << "\n";
    return status;
  }
  out << "FOUND at " << last.url << " for " << last.address << " (" << planner.redirects() << " redirects)\n";
  for (auto& b : found.blocks) {
    out << "  " << b.type << "\n";
    for (auto& [k, v] : b.values) out << "    " << k << ": " << v << "\n";
  }
  if (!found.blocks.empty() && !mobile && !soap && !v2) {
    // Which URLs a client would use (spec 6.8): inside, EXCH's where given (else EXPR's); outside, EXPR's.
    auto value = [&](std::string_view type, std::string_view key) -> std::string {
      for (auto& b : found.blocks)
        if (b.type == type)
          for (auto& [k, v] : b.values)
            if (k == key && !v.empty()) return v;
      return {};
    };
    auto either = [](std::string a, std::string b) { return a.empty() ? b : a; };
    auto line = [&](std::string_view what, const std::string& inside, const std::string& outside) {
      out << "  " << what << ":";
      if (o.network != "external") out << " inside " << (inside.empty() ? "-" : inside) << (o.network == "both" ? ";" : "");
      if (o.network != "internal") out << " outside " << (outside.empty() ? "-" : outside);
      out << "\n";
    };
    out << "Who uses what:\n";
    line("EWS", either(value("EXCH", "EwsUrl"), value("EXPR", "EwsUrl")), value("EXPR", "EwsUrl"));
    line("Outlook connects to", either(value("EXCH", "Server"), value("EXPR", "Server")), value("EXPR", "Server"));
    line("OWA", value("WEB", "Internal/OWAUrl"), value("WEB", "External/OWAUrl"));
    line("Offline address book", either(value("EXCH", "OABUrl"), value("EXPR", "OABUrl")), value("EXPR", "OABUrl"));
    out << "TTL: " << found.ttlHours << " hour(s) before Outlook asks again.\n";
  }
  if (!checks.empty()) out << "Checking each URL (no credentials):\n";
  for (auto& c : checks) {
    auto& r = c.result;
    out << "  " << c.url << "  [" << c.what << "]\n    ";
    if (!r.error.empty()) out << "failed: " << r.error;
    else
      out << "HTTP " << r.status << (r.certificate.names.empty() ? "" : ", certificate covers the host") << " ("
          << ms(r.seconds) << ")";
    out << "\n";
  }
  for (auto& w : report.warnings) out << "WARNING: " << w << "\n";
  return status;
}

}  // namespace

}  // namespace autodisc::client
