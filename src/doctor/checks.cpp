#include "doctor/checks.hpp"

#include <algorithm>
#include <functional>
#include <set>

#include "discovery/planner.hpp"
#include "model/schema.hpp"
#include "model/text.hpp"

namespace autodisc::doctor {

using namespace autodisc::model;

namespace {

std::string_view setCmdlet(VdirType t) {
  switch (t) {
    case VdirType::Owa: return "Set-OwaVirtualDirectory";
    case VdirType::Oab: return "Set-OabVirtualDirectory";
    case VdirType::Ews: return "Set-WebServicesVirtualDirectory";
    case VdirType::ActiveSync: return "Set-ActiveSyncVirtualDirectory";
    case VdirType::Ecp: return "Set-EcpVirtualDirectory";
    case VdirType::Autodiscover: return "Set-AutodiscoverVirtualDirectory";
    case VdirType::Mapi: return "Set-MapiVirtualDirectory";
  }
  return "";
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

// The path of a URL (from the first '/' after the host), for a fix that keeps it.
std::string pathOf(std::string_view url) {
  auto scheme = url.find("://");
  auto slash = url.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  return slash == std::string_view::npos ? std::string("/") : std::string(url.substr(slash));
}

const AcceptedDomain* defaultDomain(const Organization& org) {
  const AcceptedDomain* first = nullptr;
  for (auto& [id, d] : org.all<AcceptedDomain>()) {
    if (d.isDefault) return &d;
    if (!first) first = &d;
  }
  return first;
}

// The external name to point an internal URL at: the object's own external host where it has one,
// else the first publicly certifiable name of the certificate, else mail.<default domain>.
std::string externalName(const Input& in, std::string_view ownExternalUrl) {
  if (!ownExternalUrl.empty()) return discovery::hostOf(ownExternalUrl);
  if (in.certificate)
    for (auto& n : in.certificate->names)
      if (!n.starts_with("*.") && publiclyCertifiable(n)) return text::toLower(n);
  auto* d = defaultDomain(in.org);
  return d ? "mail." + text::toLower(d->domainName) : std::string("mail.example.com");
}

// A name clients are handed, where it comes from, and the cmdlet that moves it to `to`.
struct HandedName {
  std::string host, object, url;
  std::function<std::string(const std::string& to)> fix;  // empty: no cmdlet sets it
  std::string externalUrl;                                // the object's external URL, if any
  bool rootDomain = false;  // https://<domain>: often another web server's, tried first, then left
};

std::vector<HandedName> handedNames(const Organization& org) {
  std::vector<HandedName> out;
  for (auto& [id, s] : org.all<ExchangeServer>()) {
    if (!s.isClientAccess() || s.autoDiscoverServiceInternalUri.empty()) continue;
    std::string name = s.name;
    out.push_back({discovery::hostOf(s.autoDiscoverServiceInternalUri), name + " AutoDiscoverServiceInternalUri (the SCP)",
                   s.autoDiscoverServiceInternalUri,
                   [name](const std::string& to) {
                     return "Set-ClientAccessServer -Identity " + quoted(name) + " -AutoDiscoverServiceInternalUri https://" +
                            to + "/Autodiscover/Autodiscover.xml";
                   },
                   {}});
  }
  for (auto& [id, v] : org.all<VirtualDirectory>()) {
    if (v.type == VdirType::Autodiscover) continue;  // its URLs are handed to no one (check 4)
    std::string identity = identityOf(org, v), cmdlet(setCmdlet(v.type));
    for (auto [url, which] : {std::pair{&v.internalUrl, "InternalUrl"}, std::pair{&v.externalUrl, "ExternalUrl"}}) {
      if (url->empty()) continue;
      std::string path = pathOf(*url), param = which;
      out.push_back({discovery::hostOf(*url), identity + " " + which, *url,
                     [cmdlet, identity, param, path](const std::string& to) {
                       return cmdlet + " -Identity " + quoted(identity) + " -" + param + " https://" + to + path;
                     },
                     v.externalUrl});
    }
  }
  for (auto& [id, o] : org.all<OutlookAnywhere>()) {
    std::string identity = identityOf(org, o);
    for (auto [host, which] : {std::pair{&o.internalHostname, "InternalHostname"}, std::pair{&o.externalHostname, "ExternalHostname"}}) {
      if (host->empty()) continue;
      std::string param = which;
      out.push_back({text::toLower(*host), identity + " " + which, *host,
                     [identity, param](const std::string& to) {
                       return "Set-OutlookAnywhere -Identity " + quoted(identity) + " -" + param + " " + to;
                     },
                     o.externalHostname.empty() ? std::string() : "https://" + o.externalHostname + "/"});
    }
  }
  for (auto& [id, d] : org.all<AcceptedDomain>()) {
    if (d.domainType != DomainType::Authoritative || !d.autodiscoverRedirectUrl.empty()) continue;
    std::string domain = text::toLower(d.domainName);
    out.push_back({domain, "accepted domain " + d.name + " (https://" + domain + "/autodiscover/...)",
                   "https://" + domain + "/autodiscover/autodiscover.xml", nullptr, {}, true});
    out.push_back({"autodiscover." + domain, "accepted domain " + d.name + " (https://autodiscover." + domain + "/...)",
                   "https://autodiscover." + domain + "/autodiscover/autodiscover.xml", nullptr, {}});
  }
  return out;
}

bool privateAddress(std::string_view host) {
  auto ip = parseIpAddress(host);
  if (!ip) return false;
  for (auto range : {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "100.64.0.0/10",
                     "fc00::/7", "fe80::/10", "::1/128"})
    if (auto r = parseCidr(range); r && r->contains(*ip)) return true;
  return false;
}

}  // namespace

std::string_view severityName(Severity s) {
  switch (s) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Info: return "info";
  }
  return "";
}

bool covers(const std::vector<std::string>& names, std::string_view host) {
  std::string h = text::toLower(host);
  while (!h.empty() && h.back() == '.') h.pop_back();
  if (h.empty()) return false;  // no name covers nothing (found by fuzz_names)
  for (auto& raw : names) {
    std::string n = text::toLower(raw);
    if (n == h) return true;
    if (n.starts_with("*.")) {
      auto dot = h.find('.');
      if (dot != std::string::npos && dot > 0 && h.substr(dot + 1) == n.substr(2)) return true;
    }
  }
  return false;
}

bool publiclyCertifiable(std::string_view host) {
  if (parseIpAddress(host)) return !privateAddress(host);
  std::string h = text::toLower(host);
  if (h.find('.') == std::string::npos) return false;  // a single label
  static const std::set<std::string> internal = {"local", "lan", "internal", "intranet", "corp", "home", "localdomain",
                                                 "private", "test", "example", "invalid", "localhost"};
  auto tld = h.substr(h.rfind('.') + 1);
  return !internal.count(tld);
}

std::vector<std::string> namesToCertify(const Organization& org) {
  std::vector<std::string> out;
  for (auto& n : handedNames(org)) {
    if (n.host.empty() || n.rootDomain) continue;
    if (std::find(out.begin(), out.end(), n.host) == out.end()) out.push_back(n.host);
  }
  // Names a public CA would certify first: the first is the subject's when none is given.
  std::stable_partition(out.begin(), out.end(), [](const std::string& h) { return publiclyCertifiable(h); });
  return out;
}

std::vector<Finding> checkCertificateCoverage(const Input& in) {
  std::vector<Finding> out;
  if (!in.certificate) return out;
  for (auto& n : handedNames(in.org)) {
    if (n.host.empty() || covers(in.certificate->names, n.host)) continue;
    Finding f;
    f.severity = n.rootDomain ? Severity::Info : Severity::Error;
    f.check = "certificate-coverage";
    f.object = n.object;
    f.host = n.host;
    f.problem = n.rootDomain ? "the certificate does not cover " + n.host + ": if this service answers there, Outlook's "
                                   "first try shows a certificate warning (elsewhere, it goes on to autodiscover." + n.host + ")"
                             : "the certificate does not cover " + n.host + ": clients handed " + n.url + " see a certificate warning";
    f.evidence = "the certificate for " + text::join(in.certificate->names, ", ") + " does not cover " + n.host;
    std::string to = externalName(in, n.externalUrl);
    if (n.fix && covers(in.certificate->names, to) && to != n.host) {
      f.fix = n.fix(to);
      f.fixIsCmdlet = true;
      if (!publiclyCertifiable(to) || to == discovery::hostOf(n.externalUrl))
        f.fix += "   (and, inside, split DNS: " + to + " -> the Client Access Server's internal address)";
    } else {
      f.fix = "add " + n.host + " to the certificate's names (New-ExchangeCertificate -GenerateRequest)";
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Finding> checkNonPublicNames(const Input& in) {
  std::vector<Finding> out;
  for (auto& n : handedNames(in.org)) {
    if (n.host.empty() || publiclyCertifiable(n.host)) continue;
    Finding f;
    f.severity = Severity::Warning;
    f.check = "non-public-name";
    f.object = n.object;
    f.host = n.host;
    f.problem = n.host + " is a name public certificate authorities no longer certify";
    f.evidence = n.url;
    std::string to = externalName(in, n.externalUrl);
    if (n.fix && publiclyCertifiable(to)) {
      f.fix = n.fix(to) + "   (and, inside, split DNS: " + to + " -> the Client Access Server's internal address)";
      f.fixIsCmdlet = true;
    } else {
      f.fix = "use a public name of the organisation's, with split DNS inside";
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Finding> checkSplitDns(const Input& in) {
  std::vector<Finding> out;
  if (!in.resolve) return out;
  // Hosts used both as an InternalUrl and as an ExternalUrl (of any directory), and the arrays'.
  std::set<std::string> internalHosts, externalHosts;
  for (auto& [id, v] : in.org.all<VirtualDirectory>()) {
    if (!v.internalUrl.empty()) internalHosts.insert(discovery::hostOf(v.internalUrl));
    if (!v.externalUrl.empty()) externalHosts.insert(discovery::hostOf(v.externalUrl));
  }
  auto joined = [](const std::vector<std::string>& a) { return a.empty() ? std::string("nothing") : text::join(a, ", "); };
  auto anyPrivate = [](const std::vector<std::string>& a) {
    return std::any_of(a.begin(), a.end(), [](auto& x) { return privateAddress(x); });
  };
  auto anyPublic = [](const std::vector<std::string>& a) {
    return std::any_of(a.begin(), a.end(), [](auto& x) { return !privateAddress(x); });
  };
  for (auto& host : internalHosts) {
    if (!externalHosts.count(host)) continue;
    auto inside = in.resolve(host, true), outside = in.resolve(host, false);
    std::string evidence = "inside: " + (inside.error.empty() ? joined(inside.addresses) : inside.error) +
                           "; outside: " + (outside.error.empty() ? joined(outside.addresses) : outside.error);
    auto finding = [&](Severity sev, std::string problem, std::string fix) {
      out.push_back(Finding{sev, "split-dns", host + " (InternalUrl and ExternalUrl)", std::move(problem), evidence,
                            std::move(fix), false, host});
    };
    if (inside.addresses.empty())
      finding(Severity::Error, "inside, " + host + " does not resolve: clients inside cannot reach what they are handed",
              "internal DNS: " + host + " A <the Client Access Server's (or array's load balancer's) internal address>");
    else if (!anyPrivate(inside.addresses))
      finding(Severity::Warning, "inside, " + host + " resolves to a public address: clients inside go out and back in",
              "split DNS: an internal zone for " + host + " with the Client Access Server's internal address");
    if (outside.addresses.empty())
      finding(Severity::Error, "outside, " + host + " does not resolve: clients outside cannot reach what they are handed",
              "public DNS: " + host + " A <the published address>");
    else if (!anyPublic(outside.addresses))
      finding(Severity::Error, "outside, " + host + " resolves only to private addresses", "public DNS: " + host +
                                                                                                 " A <the published address>");
  }
  for (auto& [id, array] : in.org.all<ClientAccessArray>()) {
    auto inside = in.resolve(array.fqdn, true), outside = in.resolve(array.fqdn, false);
    std::string evidence = "inside: " + (inside.error.empty() ? joined(inside.addresses) : inside.error) +
                           "; outside: " + (outside.error.empty() ? joined(outside.addresses) : outside.error);
    if (inside.addresses.empty())
      out.push_back(Finding{Severity::Error, "cas-array", "CAS array " + array.name,
                            "its FQDN " + array.fqdn + " does not resolve inside: Outlook cannot reach the array",
                            evidence, "internal DNS: " + array.fqdn + " A <the array's load-balanced internal address>", false,
                            array.fqdn});
    if (!outside.addresses.empty())
      out.push_back(Finding{Severity::Warning, "cas-array", "CAS array " + array.name,
                            "its FQDN " + array.fqdn + " resolves from outside: an internal name is published",
                            evidence, "public DNS: remove " + array.fqdn, false, array.fqdn});
  }
  return out;
}

std::vector<Finding> checkAutodiscoverVdirUrls(const Input& in) {
  std::vector<Finding> out;
  for (auto& [id, v] : in.org.all<VirtualDirectory>()) {
    if (v.type != VdirType::Autodiscover || (v.internalUrl.empty() && v.externalUrl.empty())) continue;
    std::string identity = identityOf(in.org, v);
    auto* s = in.org.find<ExchangeServer>(v.server);
    Finding f;
    f.severity = Severity::Warning;
    f.check = "autodiscover-vdir-url";
    f.object = identity;
    f.problem = "URLs set on the Autodiscover virtual directory have no effect";
    f.evidence = "InternalUrl " + (v.internalUrl.empty() ? std::string("-") : v.internalUrl) + ", ExternalUrl " +
                 (v.externalUrl.empty() ? std::string("-") : v.externalUrl);
    f.fix = "Set-ClientAccessServer -Identity " + quoted(s ? s->name : "?") + " -AutoDiscoverServiceInternalUri " +
            (v.internalUrl.empty() ? v.externalUrl : v.internalUrl);
    f.fixIsCmdlet = true;
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Finding> checkCasArrays(const Input& in) {
  std::vector<Finding> out;
  for (auto& [id, db] : in.org.all<MailboxDatabase>()) {
    auto* server = in.org.find<ExchangeServer>(db.server);
    if (!server) continue;
    auto* array = in.org.arrayInSite(server->site);
    if (!array || text::iequals(db.rpcClientAccessServer, array->fqdn)) continue;
    Finding f;
    f.severity = Severity::Error;
    f.check = "cas-array";
    f.object = "mailbox database " + db.name;
    f.problem = "its site has the CAS array " + array->name + ", but Outlook is sent to " + db.rpcClientAccessServer;
    f.evidence = "RpcClientAccessServer " + db.rpcClientAccessServer + "; array FQDN " + array->fqdn;
    f.fix = "Get-MailboxDatabase " + quoted(db.name) + " | Set-MailboxDatabase -RpcClientAccessServer " + array->fqdn;
    f.fixIsCmdlet = true;
    out.push_back(std::move(f));
  }
  for (auto& [id, array] : in.org.all<ClientAccessArray>()) {
    bool hasCas = std::any_of(in.org.all<ExchangeServer>().begin(), in.org.all<ExchangeServer>().end(),
                              [&](auto& p) { return p.second.site == array.site && p.second.isClientAccess(); });
    if (hasCas) continue;
    Finding f;
    f.severity = Severity::Warning;
    f.check = "cas-array";
    f.object = "CAS array " + array.name;
    f.problem = "no Client Access Server is in the array's site";
    f.evidence = "FQDN " + array.fqdn;
    f.fix = "add a Client Access Server in that site, or move the array to a site that has one";
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Finding> checkCertificateValidity(const Input& in) {
  std::vector<Finding> out;
  if (!in.certificate) return out;
  const Certificate& c = *in.certificate;
  auto add = [&](Severity sev, std::string problem, std::string evidence, std::string fix) {
    out.push_back(Finding{sev, "certificate", "certificate " + c.subject, std::move(problem), std::move(evidence),
                          std::move(fix), false, {}});
  };
  if (c.chainChecked && !c.chainError.empty()) {
    if (c.missingIntermediate)
      add(Severity::Error, "the chain is missing an intermediate certificate", c.chainError,
          "serve the whole chain: the certificate, then each intermediate (Import-ExchangeCertificate with the full PEM)");
    else
      add(Severity::Error, "the chain does not verify against the trust store", c.chainError,
          "use a certificate from a CA the clients trust; a private CA's root must be installed on every client that is "
          "not a domain member");
  }
  bool weakKey = (c.keyType == "RSA" && c.keyBits > 0 && c.keyBits < 2048) || (c.keyType == "EC" && c.keyBits > 0 && c.keyBits < 256);
  if (weakKey)
    add(Severity::Error, "a weak key: " + c.keyType + " " + std::to_string(c.keyBits) + " bits", c.keyType,
        "a new key of at least RSA 2048 or EC P-256 (New-ExchangeCertificate -GenerateRequest)");
  std::string sig = text::toLower(c.signature);
  if (sig.find("sha1") != std::string::npos || sig.find("md5") != std::string::npos)
    add(Severity::Error, "a weak signature: " + c.signature, c.signature, "a certificate signed with SHA-256 or better");
  // Outlook Anywhere's certificate principal name (msstd:NAME) must be the certificate's subject name.
  for (auto& [id, p] : in.org.all<OutlookProvider>()) {
    if (p.certPrincipalName.empty()) continue;
    std::string name = p.certPrincipalName;
    if (text::istartsWith(name, "msstd:")) name = name.substr(6);
    // The subject's CN, whether written "CN=x, O=y" or "/O=y/CN=x".
    auto at = c.subject.rfind("CN=");
    std::string cn = at == std::string::npos ? std::string() : c.subject.substr(at + 3);
    cn = cn.substr(0, cn.find_first_of(",/+"));
    if (!text::iequals(name, cn))
      out.push_back(Finding{Severity::Error, "certificate", "Outlook provider " + p.name,
                            "its CertPrincipalName " + p.certPrincipalName + " is not the certificate's subject name " + cn,
                            "subject " + c.subject,
                            "Set-OutlookProvider " + p.name + " -CertPrincipalName msstd:" + cn, true, {}});
  }
  auto left = c.notAfter - in.now;
  if (left > std::chrono::hours(24 * 30)) return out;
  Finding f;
  f.check = "certificate-expiry";
  f.object = "certificate " + in.certificate->subject;
  auto days = std::chrono::duration_cast<std::chrono::hours>(left).count() / 24;
  f.severity = left <= std::chrono::seconds(0) ? Severity::Error : Severity::Warning;
  f.problem = left <= std::chrono::seconds(0) ? "the certificate has expired" : "the certificate expires in " + std::to_string(days) + " day(s)";
  f.evidence = "names " + text::join(in.certificate->names, ", ");
  f.fix = "renew it (New-ExchangeCertificate -GenerateRequest with the same names) and serve the new one";
  out.push_back(std::move(f));
  return out;
}

std::vector<Finding> checkConsistency(const Input& in) {
  std::vector<Finding> out;
  for (auto& [id, o] : in.org.all<OutlookAnywhere>()) {
    if (!o.externalHostname.empty()) continue;
    bool published = std::any_of(in.org.all<VirtualDirectory>().begin(), in.org.all<VirtualDirectory>().end(),
                                 [&](auto& p) { return p.second.server == o.server && !p.second.externalUrl.empty(); });
    if (!published) continue;
    std::string identity = identityOf(in.org, o);
    Finding f;
    f.severity = Severity::Warning;
    f.check = "consistency";
    f.object = identity;
    f.problem = "external URLs are published but Outlook Anywhere has no external host name: no EXPR block for Outlook outside";
    f.evidence = "ExternalHostname is empty";
    f.fix = "Set-OutlookAnywhere -Identity " + quoted(identity) + " -ExternalHostname " + externalName(in, {});
    f.fixIsCmdlet = true;
    out.push_back(std::move(f));
  }
  for (auto& [id, v] : in.org.all<VirtualDirectory>()) {
    std::string identity = identityOf(in.org, v);
    for (auto [url, which] : {std::pair{&v.internalUrl, "InternalUrl"}, std::pair{&v.externalUrl, "ExternalUrl"}}) {
      if (url->empty()) continue;
      if (text::istartsWith(*url, "http://")) {
        Finding f;
        f.severity = Severity::Error;
        f.check = "consistency";
        f.object = identity + " " + which;
        f.problem = "an http URL: clients require https";
        f.evidence = *url;
        f.fix = std::string(setCmdlet(v.type)) + " -Identity " + quoted(identity) + " -" + which + " https://" + url->substr(7);
        f.fixIsCmdlet = true;
        out.push_back(std::move(f));
      }
      if (v.type == VdirType::ActiveSync && !text::iequals(pathOf(*url), "/Microsoft-Server-ActiveSync")) {
        Finding f;
        f.severity = Severity::Warning;
        f.check = "consistency";
        f.object = identity + " " + which;
        f.problem = "an ActiveSync URL not of the form https://host/Microsoft-Server-ActiveSync";
        f.evidence = *url;
        f.fix = std::string(setCmdlet(v.type)) + " -Identity " + quoted(identity) + " -" + which + " https://" +
                discovery::hostOf(*url) + "/Microsoft-Server-ActiveSync";
        f.fixIsCmdlet = true;
        out.push_back(std::move(f));
      }
    }
  }
  return out;
}

std::vector<Finding> runAll(const Input& in) {
  std::vector<Finding> all;
  for (auto* check : {&checkCertificateCoverage, &checkNonPublicNames, &checkSplitDns, &checkAutodiscoverVdirUrls, &checkCasArrays,
                      &checkCertificateValidity, &checkConsistency}) {
    auto found = check(in);
    all.insert(all.end(), found.begin(), found.end());
  }
  std::stable_sort(all.begin(), all.end(), [](const Finding& a, const Finding& b) { return a.severity < b.severity; });
  return all;
}

}  // namespace autodisc::doctor
