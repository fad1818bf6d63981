#include "discovery/planner.hpp"

#include <algorithm>

#include "model/text.hpp"
#include "model/validate.hpp"

namespace autodisc::discovery {

namespace {

constexpr std::string_view kUrlMapGuid = kScpUrlKeyword;
constexpr std::string_view kPointerGuid = kScpPointerKeyword;

bool hasKeyword(const ScpEntry& e, std::string_view k) {
  return std::any_of(e.keywords.begin(), e.keywords.end(), [&](auto& x) { return text::iequals(x, k); });
}

// The values of the keywords NAME=value (NAME without regard to case).
std::vector<std::string_view> valuesOf(const ScpEntry& e, std::string_view name) {
  std::vector<std::string_view> out;
  for (auto& k : e.keywords)
    if (k.size() > name.size() && k[name.size()] == '=' && text::iequals(std::string_view(k).substr(0, name.size()), name))
      out.push_back(std::string_view(k).substr(name.size() + 1));
  return out;
}

std::string pathOf(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  auto rest = url.substr(scheme + 3);
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) return "/";
  auto path = rest.substr(slash);
  return std::string(path.substr(0, path.find_first_of("?#")));
}

}  // namespace

std::string_view sourceName(Source s) {
  switch (s) {
    case Source::Cache: return "last known good URL";
    case Source::Scp: return "SCP";
    case Source::RootDomain: return "the domain";
    case Source::AutodiscoverDomain: return "autodiscover.<domain>";
    case Source::HttpRedirect: return "the HTTP redirect";
    case Source::Srv: return "DNS SRV";
    case Source::Redirect: return "a redirect";
  }
  return "?";
}

std::string hostOf(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  auto rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  if (!rest.empty() && rest.front() == '[') return text::toLower(rest.substr(0, rest.find(']') + 1));
  return text::toLower(rest.substr(0, rest.find(':')));
}

bool inDomain(std::string_view host, std::string_view domain) {
  if (domain.empty()) return false;
  if (text::iequals(host, domain)) return true;
  return host.size() > domain.size() && host[host.size() - domain.size() - 1] == '.' &&
         text::iendsWith(host, domain);
}

std::string redirectProblem(std::string_view url, bool soap, bool json) {
  if (!text::istartsWith(url, "https://")) return "it is not https";
  auto rest = url.substr(8);
  auto authority = rest.substr(0, rest.find_first_of("/?#"));
  if (auto colon = authority.rfind(':'); colon != std::string_view::npos && authority.find(']') == std::string_view::npos &&
                                         authority.substr(colon + 1) != "443")
    return "it names a port other than 443";
  if (hostOf(url).empty()) return "it has no host";
  std::string path = text::toLower(pathOf(url));
  if (json) {
    if (path == "/autodiscover/autodiscover.json" || path.starts_with("/autodiscover/autodiscover.json/")) return {};
    return "its path is not /autodiscover/autodiscover.json";
  }
  std::string_view file = soap ? "/autodiscover.svc" : "/autodiscover.xml";
  if (!path.starts_with("/autodiscover/") || !path.ends_with(file))
    return "its path is not /autodiscover/.../autodiscover" + std::string(soap ? ".svc" : ".xml");
  return {};
}

std::string resolveLocation(std::string_view base, std::string_view location) {
  if (location.find("://") != std::string_view::npos) return std::string(location);
  auto scheme = base.find("://");
  if (scheme == std::string_view::npos) return std::string(location);
  auto originEnd = base.find('/', scheme + 3);
  std::string origin(base.substr(0, originEnd));
  if (location.starts_with("/")) return origin + std::string(location);
  // A relative path: beside the base's last segment.
  std::string path = pathOf(base);
  return origin + path.substr(0, path.rfind('/') + 1) + std::string(location);
}

ScpOrder orderScp(const std::vector<ScpEntry>& entries, std::string_view clientSite, std::string_view userDomain) {
  ScpOrder o;
  std::vector<std::string> tiers[3];
  std::set<std::string> seen;
  for (auto& e : entries) {
    if (hasKeyword(e, kPointerGuid) && text::istartsWith(e.binding, "LDAP://")) {
      auto domains = valuesOf(e, "Domain");
      bool ours = std::any_of(domains.begin(), domains.end(), [&](auto d) { return text::iequals(d, userDomain); });
      if (ours && o.pointer.empty()) o.pointer = e.binding;
      if (domains.empty() && o.fallbackPointer.empty()) o.fallbackPointer = e.binding;
      continue;
    }
    if (!hasKeyword(e, kUrlMapGuid)) continue;
    if (!text::istartsWith(e.binding, "https://") && !text::istartsWith(e.binding, "http://")) continue;
    if (!seen.insert(text::toLower(e.binding)).second) continue;
    auto sites = valuesOf(e, "Site");
    bool mine = !clientSite.empty() &&
                std::any_of(sites.begin(), sites.end(), [&](auto s) { return text::iequals(s, clientSite); });
    tiers[mine ? 0 : sites.empty() ? 1 : 2].push_back(e.binding);
  }
  for (auto& t : tiers) o.urls.insert(o.urls.end(), t.begin(), t.end());
  return o;
}

std::optional<SrvRecord> chooseSrv(const std::vector<SrvRecord>& records,
                                   const std::function<std::uint32_t(std::uint32_t)>& random) {
  std::vector<SrvRecord> usable;
  for (auto& r : records)
    if (r.port == 443 && !r.target.empty() && r.target != ".") usable.push_back(r);
  if (usable.empty()) return std::nullopt;
  auto best = std::min_element(usable.begin(), usable.end(), [](auto& a, auto& b) { return a.priority < b.priority; })->priority;
  std::vector<SrvRecord> tier;
  for (auto& r : usable)
    if (r.priority == best) tier.push_back(r);
  // RFC 2782: zero weights first, then a running sum; the first whose sum reaches a random number in [0, total].
  std::stable_sort(tier.begin(), tier.end(), [](auto& a, auto& b) { return a.weight == 0 && b.weight != 0; });
  std::uint32_t total = 0;
  for (auto& r : tier) total += r.weight;
  std::uint32_t pick = random ? random(total + 1) : 0;
  std::uint32_t sum = 0;
  for (auto& r : tier) {
    sum += r.weight;
    if (sum >= pick) return r;
  }
  return tier.back();
}

Planner::Planner(PlannerOptions o) : o_(std::move(o)) { restart(o_.email); }

std::string Planner::endpoint(std::string_view host) const {
  if (o_.json)
    return "https://" + std::string(host) + "/autodiscover/autodiscover.json/v1.0/" + address_ + "?Protocol=" + o_.jsonProtocol;
  return "https://" + std::string(host) + (o_.soap ? "/autodiscover/autodiscover.svc" : "/autodiscover/autodiscover.xml");
}

void Planner::restart(std::string address) {
  address_ = std::move(address);
  domain_ = text::toLower(domainOf(address_));
  visitedAddresses_.insert(text::toLower(address_));
  candidates_.clear();
  stage_ = Stage::Cache;
}

void Planner::fail(std::string why) {
  log_.push_back("give up: " + why);
  Step s;
  s.kind = StepKind::GiveUp;
  s.address = address_;
  s.why = std::move(why);
  final_ = s;
}

bool Planner::countRedirect(std::string_view what) {
  if (++redirects_ > kMaxRedirects) {
    fail("more than " + std::to_string(kMaxRedirects) + " redirects (the last: " + std::string(what) + ")");
    return false;
  }
  return true;
}

void Planner::addCandidate(std::string url, Source source, bool front) {
  std::string key = text::toLower(url);
  if (visitedUrls_.count(key)) {
    log_.push_back("skip " + url + " (" + std::string(sourceName(source)) + "): already tried");
    return;
  }
  bool outside = !inDomain(hostOf(url), domain_);
  Candidate c{std::move(url), source, outside};
  if (front) candidates_.insert(candidates_.begin(), std::move(c));
  else candidates_.push_back(std::move(c));
}

Step Planner::next() {
  if (final_) return *final_;
  for (;;) {
    if (!candidates_.empty()) {
      current_ = candidates_.front();
      candidates_.erase(candidates_.begin());
      if (visitedUrls_.count(text::toLower(current_->url))) continue;
      visitedUrls_.insert(text::toLower(current_->url));
      Step s;
      s.kind = awaiting_ = StepKind::Post;
      s.url = current_->url;
      s.address = address_;
      s.source = current_->source;
      s.crossDomain = current_->crossDomain;
      s.why = "post for " + address_ + " to " + s.url + " (" + std::string(sourceName(s.source)) + ")" +
              (s.crossDomain ? "; outside " + domain_ + ": Outlook asks the user before using it" : "");
      return s;
    }
    Step s;
    s.address = address_;
    switch (stage_) {
      case Stage::Cache:
        stage_ = Stage::Scp;
        if (!o_.cachedUrl.empty()) addCandidate(o_.cachedUrl, Source::Cache);
        continue;
      case Stage::Scp:
        stage_ = Stage::RootDomain;
        if (!o_.useScp) continue;
        s.kind = awaiting_ = StepKind::ScpLookup;
        s.ldapUrl = o_.ldapUrl;
        s.source = Source::Scp;
        s.why = "look up Autodiscover SCPs in " + (o_.ldapUrl.empty() ? "the directory of " + domain_ : o_.ldapUrl);
        return s;
      case Stage::RootDomain:
        stage_ = Stage::AutodiscoverDomain;
        addCandidate(endpoint(domain_), Source::RootDomain);
        continue;
      case Stage::AutodiscoverDomain:
        stage_ = Stage::HttpRedirect;
        addCandidate(endpoint("autodiscover." + domain_), Source::AutodiscoverDomain);
        continue;
      case Stage::HttpRedirect:
        stage_ = Stage::Srv;
        if (o_.json) continue;  // the plain-HTTP redirect method is autodiscover.xml's
        s.kind = awaiting_ = StepKind::RedirectProbe;
        s.url = "http://autodiscover." + domain_ + (o_.soap ? "/autodiscover/autodiscover.svc" : "/autodiscover/autodiscover.xml");
        s.source = Source::HttpRedirect;
        s.why = "ask " + s.url + " (plain HTTP, no credentials) where to go";
        return s;
      case Stage::Srv:
        stage_ = Stage::Exhausted;
        s.kind = awaiting_ = StepKind::SrvLookup;
        s.name = "_autodiscover._tcp." + domain_;
        s.source = Source::Srv;
        s.why = "look up SRV " + s.name;
        return s;
      case Stage::Exhausted:
        fail(lastError_.empty() ? "no candidate answered" : lastError_);
        return *final_;
    }
  }
}

void Planner::posted(const PostResult& r) {
  if (awaiting_ != StepKind::Post || !current_) return;
  awaiting_ = StepKind::Done;
  const std::string url = current_->url;
  auto failed = [&](std::string why) {
    lastError_ = url + ": " + why;
    log_.push_back("fail " + lastError_);
    if (current_->source == Source::Cache) cacheFailed_ = true;
  };
  if (!r.transportError.empty()) return failed(r.transportError);
  if (r.status == 301 || r.status == 302 || r.status == 303 || r.status == 307 || r.status == 308) {
    std::string target = resolveLocation(url, r.location);
    if (auto why = redirectProblem(target, o_.soap, o_.json); !why.empty())
      return failed("HTTP " + std::to_string(r.status) + " to " + target + " is not followed: " + why);
    if (!countRedirect(url + " -> " + target)) return;
    log_.push_back("HTTP " + std::to_string(r.status) + " from " + url + " to " + target);
    addCandidate(target, Source::Redirect, true);
    return;
  }
  if (r.status == 401) return failed("401: the credentials were refused here (other candidates are still tried)");
  if (r.status != 200) return failed("HTTP " + std::to_string(r.status));
  switch (r.action) {
    case PostResult::Action::Settings: {
      log_.push_back("settings for " + address_ + " from " + url);
      Step s;
      s.kind = StepKind::Done;
      s.url = url;
      s.address = address_;
      s.source = current_->source;
      s.crossDomain = current_->crossDomain;
      final_ = s;
      return;
    }
    case PostResult::Action::RedirectAddr: {
      if (text::iequals(r.target, address_)) return failed("redirectAddr to the same address");
      if (visitedAddresses_.count(text::toLower(r.target)))
        return fail("circular address redirect: " + r.target + " was asked for before");
      if (!countRedirect(address_ + " -> " + r.target)) return;
      log_.push_back("redirectAddr from " + url + ": " + address_ + " -> " + r.target + " (discovery starts again)");
      restart(r.target);
      return;
    }
    case PostResult::Action::RedirectUrl: {
      if (auto why = redirectProblem(r.target, o_.soap, o_.json); !why.empty())
        return failed("redirectUrl " + r.target + " is not followed: " + why);
      if (visitedUrls_.count(text::toLower(r.target))) return fail("circular URL redirect: " + r.target + " was tried before");
      if (!countRedirect(url + " -> " + r.target)) return;
      log_.push_back("redirectUrl from " + url + " to " + r.target);
      addCandidate(r.target, Source::Redirect, true);
      return;
    }
    case PostResult::Action::Error: return failed("error answer: " + r.error);
    case PostResult::Action::None: return failed("HTTP 200 without an Autodiscover answer");
  }
}

void Planner::probed(const ProbeResult& r) {
  if (awaiting_ != StepKind::RedirectProbe) return;
  awaiting_ = StepKind::Done;
  std::string probe = "http://autodiscover." + domain_ + "/...";
  if (!r.transportError.empty()) {
    log_.push_back("HTTP redirect probe " + probe + ": " + r.transportError);
    return;
  }
  if (r.status != 301 && r.status != 302 && r.status != 303 && r.status != 307) {
    log_.push_back("HTTP redirect probe " + probe + ": HTTP " + std::to_string(r.status) + ", no redirect");
    return;
  }
  std::string target = resolveLocation("http://autodiscover." + domain_ + "/autodiscover/autodiscover.xml", r.location);
  if (auto why = redirectProblem(target, o_.soap, o_.json); !why.empty()) {
    log_.push_back("HTTP redirect probe: " + target + " is not followed: " + why);
    return;
  }
  log_.push_back("HTTP redirect probe: " + target + (inDomain(hostOf(target), domain_) ? "" : " (outside " + domain_ + ")"));
  addCandidate(target, Source::HttpRedirect);
}

void Planner::srvFound(const std::vector<SrvRecord>& records, std::string_view error) {
  if (awaiting_ != StepKind::SrvLookup) return;
  awaiting_ = StepKind::Done;
  if (!error.empty()) {
    log_.push_back("SRV _autodiscover._tcp." + domain_ + ": " + std::string(error));
    return;
  }
  auto chosen = chooseSrv(records, o_.random);
  if (!chosen) {
    log_.push_back("SRV _autodiscover._tcp." + domain_ + ": no record on port 443");
    return;
  }
  log_.push_back("SRV _autodiscover._tcp." + domain_ + ": " + chosen->target + " (priority " +
                 std::to_string(chosen->priority) + ", weight " + std::to_string(chosen->weight) + ")");
  addCandidate(endpoint(text::toLower(chosen->target)), Source::Srv);
}

void Planner::scpFound(const std::vector<ScpEntry>& entries, std::string_view error, std::string_view clientSite) {
  if (awaiting_ != StepKind::ScpLookup) return;
  awaiting_ = StepKind::Done;
  if (o_.clientSite.empty() && !clientSite.empty()) {
    o_.clientSite = clientSite;
    log_.push_back("client site " + o_.clientSite + " (from the directory's subnets)");
  }
  if (!error.empty()) {
    log_.push_back("SCP lookup: " + std::string(error));
    return;
  }
  auto order = orderScp(entries, o_.clientSite, domain_);
  if (scpFallback_.empty()) scpFallback_ = order.fallbackPointer;
  if (!order.pointer.empty() || (order.urls.empty() && !scpFallback_.empty())) {
    std::string to = !order.pointer.empty() ? order.pointer : scpFallback_;
    if (order.pointer.empty()) scpFallback_.clear();  // a fallback is followed once
    if (++scpHops_ > kMaxRedirects) {
      log_.push_back("SCP pointers: more than " + std::to_string(kMaxRedirects) + " hops; SCP given up");
      return;
    }
    log_.push_back("SCP pointer for " + domain_ + ": search " + to + " instead");
    o_.ldapUrl = to;
    stage_ = Stage::Scp;
    o_.useScp = true;
    return;
  }
  log_.push_back("SCP: " + std::to_string(order.urls.size()) + " URL(s)");
  for (auto& u : order.urls) addCandidate(u, Source::Scp);
}

}  // namespace autodisc::discovery
