// clang-format off
#include <utility>  // Boost 1.74's Asio uses std::exchange without including it
// clang-format on
#include "server/server.hpp"

#include <malloc.h>

#include <openssl/ssl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>
#include <algorithm>
#include <array>
#include <variant>
#include <chrono>
#include <condition_variable>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <thread>

#include "auth/password.hpp"
#include "autodiscover/resolve.hpp"
#include "model/text.hpp"
#include "protocol/pox.hpp"
#include "autodiscover/user_settings.hpp"
#include "protocol/json_v2.hpp"
#include "protocol/pox_cache.hpp"
#include "protocol/soap.hpp"
#include "server/http_message.hpp"
#include "server/tls_stream.hpp"
#include "server/shared_slot.hpp"
#include "store/ldap_store.hpp"

namespace autodisc::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

std::string timeOfDay() { return protocol::errorTime(std::chrono::system_clock::now()); }

std::string hostId() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return std::to_string(static_cast<std::uint32_t>(text::ihash(name)));
}

// The path without query, lower case, without a trailing '/'.
std::string routeOf(std::string_view target) {
  auto q = target.find('?');
  std::string p = text::toLower(target.substr(0, q));
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

// Whether the path (without query, trailing '/' ignored) is `route`, without regard to case.
bool routeIs(std::string_view target, std::string_view route) {
  auto path = target.substr(0, target.find('?'));
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return text::iequals(path, route);
}

Result<tcp::endpoint> parseEndpoint(const std::string& s) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos) return fail("'" + s + "' is not ADDR:PORT");
  std::string host = s.substr(0, colon), port = s.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto addr = net::ip::make_address(host, ec);
  if (ec) return fail("'" + s + "': '" + host + "' is not an IP address");
  int p = 0;
  try {
    p = std::stoi(port);
  } catch (...) {
    p = -1;
  }
  if (p < 0 || p > 65535) return fail("'" + s + "': the port must be 0 to 65535");
  return tcp::endpoint(addr, static_cast<unsigned short>(p));
}

std::string base64Decode(std::string_view in) {
  static constexpr std::string_view chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    auto v = chars.find(c);
    if (v == std::string_view::npos) return {};
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

// Failed logins per key (client address or account) in a sliding window; bounded in size.
class Throttle {
 public:
  Throttle(int max, int windowSeconds) : max_(max), window_(std::chrono::seconds(windowSeconds)) {}
  bool blocked(const std::string& key) {
    std::lock_guard lock(m_);
    auto it = failures_.find(key);
    if (it == failures_.end()) return false;
    prune(it->second);
    return static_cast<int>(it->second.size()) >= max_;
  }
  void fail(const std::string& key) {
    std::lock_guard lock(m_);
    if (failures_.size() > 100000) failures_.clear();  // a flood of keys: forget rather than grow
    auto& v = failures_[key];
    prune(v);
    v.push_back(std::chrono::steady_clock::now());
  }

 private:
  void prune(std::vector<std::chrono::steady_clock::time_point>& v) {
    auto cutoff = std::chrono::steady_clock::now() - window_;
    std::erase_if(v, [&](auto t) { return t < cutoff; });
  }
  int max_;
  std::chrono::seconds window_;
  std::mutex m_;
  std::unordered_map<std::string, std::vector<std::chrono::steady_clock::time_point>> failures_;
};

// The access log in W3C extended format, as IIS writes it, plus the Autodiscover outcome.
class AccessLog {
 public:
  Result<void> open(const std::string& path) {
    f_ = std::fopen(path.c_str(), "a");
    if (!f_) return fail("cannot open the access log " + path + ": " + std::strerror(errno));
    std::fprintf(f_, "#Software: autodisc 0.1.0\n#Version: 1.0\n#Fields: date time s-ip cs-method cs-uri-stem s-port "
                     "cs-username c-ip cs(User-Agent) sc-status time-taken x-autodiscover\n");
    std::fflush(f_);
    return {};
  }
  ~AccessLog() {
    if (f_) std::fclose(f_);
  }
  bool enabled() const { return f_ != nullptr; }
  void write(std::string line) {
    line += '\n';
    std::lock_guard lock(m_);
    std::fwrite(line.data(), 1, line.size(), f_);
    std::fflush(f_);
  }
  // W3C fields have no spaces: IIS writes them as '+'; a missing value is '-'.
  static std::string field(std::string_view v) {
    if (v.empty()) return "-";
    std::string out;
    for (char c : v.substr(0, 512)) out += (c == ' ' ? '+' : (static_cast<unsigned char>(c) < 0x20 ? '?' : c));
    return out;
  }

 private:
  std::FILE* f_ = nullptr;
  std::mutex m_;
};

// What a handler tells the access log about a request.
struct LogNote {
  std::string user;     // the authenticated user, never a password
  std::string outcome;  // settings, redirectAddr, error:500, error:600, ...
};

struct Metrics {
  std::atomic<std::uint64_t> settings{0}, redirects{0}, errors{0}, invalid{0}, otherStatus{0}, tooLarge{0};
  std::atomic<std::uint64_t> authFailures{0}, throttled{0}, refusedConnections{0};
  std::atomic<std::int64_t> openConnections{0};
  // SOAP and v2 JSON answers by outcome: answered (NoError / a URL), an error code in a 200, redirected, refused.
  static constexpr std::array<const char*, 4> kOutcomes = {"ok", "error", "redirect", "invalid"};
  std::array<std::atomic<std::uint64_t>, 4> soap{}, json{};
  // Requests by listener and status, and the POX latency histogram (milliseconds).
  static constexpr std::array<double, 10> kBuckets = {0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250};
  std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> latency{};
  std::atomic<std::uint64_t> latencyCount{0}, latencyMicros{0};
  static constexpr std::array<const char*, 3> kListeners = {"https", "http", "admin"};
  static constexpr std::array<unsigned, 16> kStatuses = {200, 302, 400, 401, 403, 404, 405, 408,
                                                         411, 413, 415, 429, 431, 500, 503, 0};
  std::array<std::array<std::atomic<std::uint64_t>, kStatuses.size()>, kListeners.size()> byStatus{};
  void observe(int listener, unsigned status, std::chrono::microseconds took, bool pox) {
    std::size_t s = 0;
    while (s + 1 < kStatuses.size() && kStatuses[s] != status) ++s;  // the last slot: any other status
    byStatus[static_cast<std::size_t>(listener)][s].fetch_add(1, std::memory_order_relaxed);
    if (!pox) return;
    double ms = static_cast<double>(took.count()) / 1000.0;
    std::size_t i = 0;
    while (i < kBuckets.size() && ms > kBuckets[i]) ++i;
    latency[i].fetch_add(1, std::memory_order_relaxed);
    latencyCount.fetch_add(1, std::memory_order_relaxed);
    latencyMicros.fetch_add(static_cast<std::uint64_t>(took.count()), std::memory_order_relaxed);
  }
  // Calls f(listener, status, count) for every count that is not zero; status 0 is "any other".
  template <class F>
  void eachStatus(F&& f) const {
    for (std::size_t l = 0; l < kListeners.size(); ++l)
      for (std::size_t s = 0; s < kStatuses.size(); ++s)
        if (auto n = byStatus[l][s].load(std::memory_order_relaxed)) f(kListeners[l], kStatuses[s], n);
  }
  std::atomic<std::uint64_t> snapshotVersion{0};
  // The store: reachable at the last look, and the looks that failed.
  std::atomic<bool> storeUp{true};
  std::atomic<std::uint64_t> storeErrors{0};
  std::atomic<std::int64_t> snapshotLoadedAt{0};
  // New snapshots: read whole from the store, or made from the previous one and the store's changes.
  std::atomic<std::uint64_t> snapshotLoads{0}, snapshotChangeSets{0};
};

class Service {
 public:
  Service(const Options& o)
      : id_(hostId()), byAddress_(o.maxFailures, o.failureWindowSeconds),
        byAccount_(o.maxFailures, o.failureWindowSeconds) {}

  // The settings that can change while running (SIGHUP), swapped as a whole.
  struct Runtime {
    Options opts;
    std::vector<Cidr> networks;
    bool useSites = false;
  };
  static Result<std::shared_ptr<const Runtime>> makeRuntime(const Options& o) {
    auto rt = std::make_shared<Runtime>();
    rt->opts = o;
    for (auto& n : o.internalNetworks) {
      if (text::iequals(n, "ad-sites")) {
        rt->useSites = true;
        continue;
      }
      auto c = parseCidr(n);
      if (!c) return fail("--internal-network " + c.error().message);
      rt->networks.push_back(*c);
    }
    if (o.auth != "anonymous" && o.auth != "basic") return fail("auth: '" + o.auth + "' is not anonymous or basic");
    return std::shared_ptr<const Runtime>(std::move(rt));
  }

  // What one worker thread answers from: its own references to the current snapshot and settings,
  // taken again only when either has changed (a shared counter read per request, no shared writes).
  struct View {
    std::uint64_t generation = ~std::uint64_t{0};
    std::shared_ptr<const model::Organization> org;
    std::shared_ptr<const Runtime> rt;
    protocol::PoxCache pox;            // this thread's rendered protocol blocks, for v.org
    autodiscover::AnswerCache answers;  // and its settings Answers, for SOAP
    protocol::SoapTemplates soap;       // and its rendered SOAP user parts
  };
  void refresh(View& v) const {
    auto g = generation_.load(std::memory_order_acquire);
    if (g == v.generation) return;
    v.generation = g;
    v.org = snapshot_.load();
    v.rt = runtime_.load();
  }

  std::shared_ptr<const Runtime> runtime() const { return runtime_.load(); }
  void setRuntime(std::shared_ptr<const Runtime> rt) {
    runtime_.store(std::move(rt));
    generation_.fetch_add(1, std::memory_order_release);
  }
  std::shared_ptr<const model::Organization> snapshot() const { return snapshot_.load(); }
  void publish(model::Snapshot s) {
    snapshot_.store(std::move(s.org));
    generation_.fetch_add(1, std::memory_order_release);
    metrics_.snapshotVersion = s.version;
    metrics_.snapshotLoadedAt = std::chrono::duration_cast<std::chrono::seconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
  }
  Metrics& metrics() { return metrics_; }
  AccessLog& log() { return log_; }
  // Password hashes queued or running on the hashing pool; past kMaxPendingHashes a login that
  // needs one is refused at once (401), so that a flood of logins cannot queue without bound.
  static constexpr int kMaxPendingHashes = 256;
  std::atomic<int> pendingHashes{0};
  std::atomic<bool> draining{false};

  // What EWS clients probe for (an unauthenticated GET of autodiscover.xml) before they try SOAP.
  static void soapHeaders(Reply& res) {
    res.extraHeaders.append(
        "X-SOAP-Enabled: True\r\nX-WSSecurity-Enabled: False\r\nX-WSSecurity-For: None\r\nX-OAuth-Enabled: False\r\n");
  }

  static void challenge(Reply& res) {
    res.status = 401;
    res.header("WWW-Authenticate", "Basic realm=\"autodisc\"");
    soapHeaders(res);
    res.body.clear();
  }

  // With --auth basic, in three steps so that the slow part (an argon2id hash, ~30 ms) runs off the
  // I/O threads: prepare() on the connection's thread, verifyPassword() on the hashing pool when
  // prepare() asks for it, finish() back on the connection's thread.
  struct AuthCheck {
    bool challenge = false;                 // answer 401 now (no or malformed credentials, throttled)
    const model::Recipient* user = nullptr;  // the account, if it is a mailbox with a password
    std::string account, password, digest;
    std::string_view hash;                  // to check the password against (a dummy for unknown accounts)
    bool needsHash = false;                 // the credentials were not seen to be right recently
    bool hashOk = false;                    // the hash's verdict, once run
  };
  AuthCheck prepareAuth(const HttpRequest& req, const model::Organization& org, const std::string& client) {
    AuthCheck c;
    std::string_view header = req.header("Authorization");
    if (!text::istartsWith(header, "Basic ")) return c.challenge = true, c;
    auto decoded = base64Decode(text::trim(header.substr(6)));
    auto colon = decoded.find(':');
    if (colon == std::string::npos) return c.challenge = true, c;
    std::string user = decoded.substr(0, colon);
    c.password = decoded.substr(colon + 1);
    if (auto slash = user.find('\\'); slash != std::string::npos) user = user.substr(slash + 1);  // DOMAIN\alias
    c.account = "account:" + text::toLower(user);
    if (byAddress_.blocked("ip:" + client) || byAccount_.blocked(c.account)) {
      metrics_.throttled++;
      return c.challenge = true, c;
    }
    const model::Recipient* r = org.recipientByAddress(user);
    if (!r) r = org.recipientByAlias(user);
    if (r && r->type == model::RecipientType::Mailbox && !r->passwordHash().empty()) {
      c.user = r;
      c.hash = r->passwordHash();
      c.digest = auth::credentialDigest(user, c.password, r->passwordHash());
      std::lock_guard lock(verifiedMutex_);
      c.needsHash = verified_.count(c.digest) == 0;
    } else {
      // As much work for an unknown account as for a wrong password, so that timing tells nothing.
      static const std::string dummy = auth::hashPassword("autodisc-dummy-password").value_or(std::string());
      c.hash = dummy;
      c.needsHash = true;
    }
    return c;
  }
  // The recipient the credentials belong to, or null after writing a 401 to `res`.
  const model::Recipient* finishAuth(AuthCheck& c, const std::string& client, Reply& res) {
    if (c.challenge) return challenge(res), nullptr;
    bool ok = c.user && (!c.needsHash || c.hashOk);
    if (ok && c.needsHash) {
      std::lock_guard lock(verifiedMutex_);
      if (verified_.size() > 100000) verified_.clear();
      verified_.insert(c.digest);
    }
    if (!ok) {
      metrics_.authFailures++;
      byAddress_.fail("ip:" + client);
      byAccount_.fail(c.account);
      return challenge(res), nullptr;
    }
    return c.user;
  }

  // The address in a Basic user name (an address, or an alias made into the primary address), for
  // phones that leave EMailAddress out of a MobileSync request. Empty when there is none.
  static std::string basicUserAddress(const HttpRequest& req, const model::Organization& org) {
    std::string_view header = req.header("Authorization");
    if (!text::istartsWith(header, "Basic ")) return {};
    auto decoded = base64Decode(text::trim(header.substr(6)));
    std::string user = decoded.substr(0, decoded.find(':'));
    if (auto slash = user.find('\\'); slash != std::string::npos) user = user.substr(slash + 1);
    if (user.find('@') != std::string::npos) return user;
    if (auto* r = org.recipientByAlias(user)) return std::string(r->primarySmtpAddress());
    return {};
  }

  enum class Endpoint { Pox, Soap, Json, None };
  static Endpoint endpointOf(std::string_view target) {
    if (routeIs(target, "/autodiscover/autodiscover.xml")) return Endpoint::Pox;
    for (auto svc : {"/autodiscover/autodiscover.svc", "/autodiscover/autodiscover.svc/wssecurity",
                     "/autodiscover/autodiscover.svc/wssecurity/symmetrickey",
                     "/autodiscover/autodiscover.svc/wssecurity/x509cert"})
      if (routeIs(target, svc)) return Endpoint::Soap;
    if (protocol::isJsonPath(target)) return Endpoint::Json;
    return Endpoint::None;
  }

  void handleHttps(const HttpRequest& req, View& v, const std::string& client, AuthCheck* check, Reply& res,
                   LogNote& note) {
    auto endpoint = endpointOf(req.target);
    if (endpoint == Endpoint::None) return plain(res, 404, "not found\n");
    const model::Organization* org = v.org.get();
    const Runtime& rt = *v.rt;
    const model::Recipient* user = nullptr;
    if (rt.opts.auth == "basic" && org) {
      AuthCheck here;
      if (!check) {  // not prepared by the connection: check here (and hash here, if it comes to that)
        here = prepareAuth(req, *org, client);
        if (here.needsHash && !here.challenge) here.hashOk = auth::verifyPassword(here.hash, here.password);
        check = &here;
      }
      user = finishAuth(*check, client, res);
      if (!user) {
        note.outcome = "unauthorized";
        return;
      }
      note.user = std::string(user->primarySmtpAddress());
    }
    bool internal = org && isInternal(rt, *org, client);
    if (endpoint == Endpoint::Soap) return handleSoap(req, v, internal, user, res, note);
    if (endpoint == Endpoint::Json) return handleJson(req, org, internal, user, res, note);
    res.status = 200;
    res.contentType = "text/xml; charset=utf-8";
    soapHeaders(res);
    auto stamp = [this] { return protocol::ErrorStamp{timeOfDay(), id_}; };  // only error answers carry it
    if (req.method != http::verb::post || !org) {
      metrics_.invalid++;
      note.outcome = "error:600";
      protocol::renderPoxError(protocol::PoxError::InvalidRequest, stamp(), res.body);
      return;
    }
    auto parsed = protocol::parsePoxRequest(req.body);
    if (parsed.error != protocol::PoxError::None) {
      metrics_.invalid++;
      note.outcome = parsed.error == protocol::PoxError::ProviderUnavailable ? "error:601" : "error:600";
      protocol::renderPoxError(parsed.error, stamp(), res.body);
      return;
    }
    auto& query = parsed.query;
    query.internalClient = internal;
    if (parsed.addressMissing) query.emailAddress = basicUserAddress(req, *org);
    // What the client says it can handle (MS-OXDSCLI 2.2.2): gated exactly as Exchange gates them.
    for (std::string_view caps = req.header("X-ClientCanHandle"); !caps.empty();) {
      auto comma = std::min(caps.find(','), caps.size());
      auto cap = text::trim(caps.substr(0, comma));
      if (text::iequals(cap, "Negotiate")) query.canHandleNegotiate = true;
      if (text::iequals(cap, "ExHttpInfo")) query.canHandleExHttp = true;
      caps.remove_prefix(std::min(comma + 1, caps.size()));
    }
    std::string_view mapi = text::trim(req.header("X-MapiHttpCapability"));
    if (!mapi.empty() && mapi.size() < 4 && std::all_of(mapi.begin(), mapi.end(), ::isdigit))
      query.mapiHttpVersion = std::stoi(std::string(mapi));
    autodiscover::Answer answer;
    // A user may ask only about its own addresses: anything else is answered as an unknown address.
    bool allowed = !user || user == (query.legacyDn.empty() ? org->recipientByAddress(query.emailAddress)
                                                            : org->recipientByLegacyDn(query.legacyDn));
    if (allowed && v.pox.render(v.org, query, res.body)) {
      metrics_.settings++;
      note.outcome = "settings";
      return;
    }
    if (allowed) {
      answer = autodiscover::resolve(*org, query);
    } else {
      answer.failure = autodiscover::Failure::AddressNotFound;
      answer.requestedAddress = query.emailAddress;
    }
    switch (answer.outcome) {
      case autodiscover::Outcome::Settings: metrics_.settings++; note.outcome = "settings"; break;
      case autodiscover::Outcome::RedirectAddr: metrics_.redirects++; note.outcome = "redirectAddr"; break;
      case autodiscover::Outcome::RedirectUrl: metrics_.redirects++; note.outcome = "redirectUrl"; break;
      case autodiscover::Outcome::Error: metrics_.errors++; note.outcome = "error:500"; break;
    }
    protocol::renderPox(answer, query.schema,
                        answer.outcome == autodiscover::Outcome::Error ? stamp() : protocol::ErrorStamp{}, res.body);
  }

  void handleSoap(const HttpRequest& req, View& v, bool internal, const model::Recipient* user, Reply& res,
                  LogNote& note) {
    const model::Organization* org = v.org.get();
    res.contentType = "text/xml; charset=utf-8";
    if (req.method != http::verb::post) {
      res.status = 405;
      res.header("Allow", "POST");
      res.body = protocol::renderSoapFault("SOAP Autodiscover takes POST.");
      note.outcome = "fault";
      metrics_.soap[3]++;
      return;
    }
    auto parsed = protocol::parseSoapRequest(req.body);
    if (!parsed.fault.empty()) {
      res.status = 500;
      res.body = protocol::renderSoapFault(parsed.fault);
      note.outcome = "fault";
      metrics_.soap[3]++;
      return;
    }
    protocol::SoapResponse answer;
    if (!org) {
      answer = protocol::soapResponseError(parsed, "ServerBusy", "The service is loading its organisation; try again shortly.",
                                           ServerVersion{15, 1, 2507, 6});
    } else {
      try {
        answer = protocol::answerSoap(*org, parsed, protocol::SoapContext{internal, user, &v.answers, &v.soap, &v.org});
      } catch (const std::exception& e) {
        std::cerr << "E-SOAP-ANSWER " << e.what() << std::endl;
        answer = protocol::soapResponseError(parsed, "InternalServerError", "The server could not answer.",
                                             protocol::answeringVersion(*org));
      }
    }
    res.status = answer.status;
    res.body = std::move(answer.body);
    note.outcome = answer.errorCode;
    metrics_.soap[answer.errorCode == "NoError" ? 0 : answer.status == 200 ? 1 : 3]++;
  }

  void handleJson(const HttpRequest& req, const model::Organization* org, bool internal, const model::Recipient* user,
                  Reply& res, LogNote& note) {
    res.contentType = "application/json; charset=utf-8";
    if (req.method != http::verb::get) {
      res.status = 405;
      res.header("Allow", "GET");
      res.body = "{\"ErrorCode\":\"InvalidRequest\",\"ErrorMessage\":\"Autodiscover v2 takes GET.\"}";
      note.outcome = "InvalidRequest";
      metrics_.json[3]++;
      return;
    }
    if (!org) {
      res.status = 503;
      res.body = "{\"ErrorCode\":\"ServerBusy\",\"ErrorMessage\":\"The service has not loaded its organisation yet.\"}";
      note.outcome = "ServerBusy";
      metrics_.json[3]++;
      return;
    }
    auto answer = protocol::answerJson(*org, protocol::parseJsonRequest(req.target), internal, user);
    res.status = answer.status;
    res.body = std::move(answer.body);
    if (!answer.location.empty()) res.header("Location", answer.location);
    note.outcome = answer.outcome;
    metrics_.json[answer.outcome == "settings" ? 0 : answer.outcome == "redirect" ? 2 : 3]++;
  }

  // Plain HTTP serves only the redirect method, and never takes credentials.
  void handleHttp(const HttpRequest& req, const View& v, Reply& res) {
    if (!routeIs(req.target, "/autodiscover/autodiscover.xml")) return plain(res, 404, "not found\n");
    if (req.method != http::verb::get) return plain(res, 405, "only GET is answered over plain HTTP\n");
    std::string host(req.header("Host"));
    if (auto colon = host.rfind(':'); colon != std::string::npos && host.find(']') == std::string::npos)
      host = host.substr(0, colon);
    if (host.empty() || !isHostName(host)) return plain(res, 400, "a Host header is required\n");
    res.status = 302;
    // autodiscover.<domain> (or <domain>) of an accepted domain answered elsewhere: there; else here, over HTTPS.
    host = text::toLower(host);
    std::string_view domain = host;
    if (domain.starts_with("autodiscover.")) domain.remove_prefix(13);
    const model::AcceptedDomain* accepted = v.org ? v.org->acceptedDomainFor(domain) : nullptr;
    if (accepted && !accepted->autodiscoverRedirectUrl.empty()) res.header("Location", accepted->autodiscoverRedirectUrl);
    else res.header("Location", "https://" + host + "/Autodiscover/Autodiscover.xml");
    metrics_.redirects++;
  }

  void handleAdmin(const HttpRequest& req, Reply& res) {
    auto route = routeOf(req.target);
    if (route == "/healthz") return plain(res, 200, "ok\n");
    if (route == "/readyz") {
      if (snapshot() == nullptr || draining) return plain(res, 503, "not ready\n");
      if (!metrics_.storeUp)
        return plain(res, 503, "not ready: the store is unreachable; answering from the snapshot of version " +
                                   std::to_string(metrics_.snapshotVersion.load()) + "\n");
      return plain(res, 200, "ready\n");
    }
    if (route == "/metrics") {
      std::string m;
      auto line = [&](std::string name, std::uint64_t v) { m += name + " " + std::to_string(v) + "\n"; };
      m += "# TYPE autodisc_pox_requests_total counter\n";
      line("autodisc_pox_requests_total{outcome=\"settings\"}", metrics_.settings);
      line("autodisc_pox_requests_total{outcome=\"redirect\"}", metrics_.redirects);
      line("autodisc_pox_requests_total{outcome=\"error\"}", metrics_.errors);
      line("autodisc_pox_requests_total{outcome=\"invalid\"}", metrics_.invalid);
      line("autodisc_requests_too_large_total", metrics_.tooLarge);
      line("autodisc_connections_open", static_cast<std::uint64_t>(std::max<std::int64_t>(0, metrics_.openConnections)));
      line("autodisc_connections_refused_total", metrics_.refusedConnections);
      m += "# TYPE autodisc_soap_requests_total counter\n";
      for (std::size_t i = 0; i < Metrics::kOutcomes.size(); ++i)
        line(std::string("autodisc_soap_requests_total{outcome=\"") + Metrics::kOutcomes[i] + "\"}", metrics_.soap[i]);
      m += "# TYPE autodisc_json_requests_total counter\n";
      for (std::size_t i = 0; i < Metrics::kOutcomes.size(); ++i)
        line(std::string("autodisc_json_requests_total{outcome=\"") + Metrics::kOutcomes[i] + "\"}", metrics_.json[i]);
      m += "# TYPE autodisc_http_responses_total counter\n";
      metrics_.eachStatus([&](const char* listener, unsigned status, std::uint64_t n) {
        line(std::string("autodisc_http_responses_total{listener=\"") + listener + "\",status=\"" + (status ? std::to_string(status) : std::string("other")) + "\"}", n);
      });
      m += "# TYPE autodisc_pox_duration_seconds histogram\n";
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i <= Metrics::kBuckets.size(); ++i) {
        cumulative += metrics_.latency[i];
        std::string le = i < Metrics::kBuckets.size() ? std::to_string(Metrics::kBuckets[i] / 1000.0) : "+Inf";
        line("autodisc_pox_duration_seconds_bucket{le=\"" + le + "\"}", cumulative);
      }
      m += "autodisc_pox_duration_seconds_sum " + std::to_string(metrics_.latencyMicros / 1e6) + "\n";
      line("autodisc_pox_duration_seconds_count", metrics_.latencyCount);
      auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
      line("autodisc_snapshot_age_seconds", static_cast<std::uint64_t>(std::max<std::int64_t>(0, now - metrics_.snapshotLoadedAt)));
      line("autodisc_auth_failures_total", metrics_.authFailures);
      line("autodisc_auth_throttled_total", metrics_.throttled);
      m += "# TYPE autodisc_snapshot_version gauge\n";
      line("autodisc_snapshot_version", metrics_.snapshotVersion);
      line("autodisc_snapshot_loaded_timestamp_seconds", static_cast<std::uint64_t>(metrics_.snapshotLoadedAt.load()));
      m += "# TYPE autodisc_snapshot_loads_total counter\n";
      line("autodisc_snapshot_loads_total", metrics_.snapshotLoads);
      m += "# TYPE autodisc_snapshot_change_sets_total counter\n";
      line("autodisc_snapshot_change_sets_total", metrics_.snapshotChangeSets);
      m += "# TYPE autodisc_store_up gauge\n";
      line("autodisc_store_up", metrics_.storeUp ? 1 : 0);
      m += "# TYPE autodisc_store_errors_total counter\n";
      line("autodisc_store_errors_total", metrics_.storeErrors);
      return plain(res, 200, m);
    }
    return plain(res, 404, "not found\n");
  }

  static bool isInternal(const Runtime& rt, const model::Organization& org, const std::string& client) {
    if (rt.networks.empty() && !rt.useSites) return true;
    auto ip = parseIpAddress(client);
    if (!ip) return false;
    if (ip->v6) {  // an IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d
      static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
      if (std::equal(mapped, mapped + 12, ip->bytes.begin())) {
        Cidr v4;
        std::copy(ip->bytes.begin() + 12, ip->bytes.end(), v4.bytes.begin());
        v4.prefix = 32;
        ip = v4;
      }
    }
    for (auto& n : rt.networks)
      if (n.contains(*ip)) return true;
    return rt.useSites && org.siteForAddress(*ip) != nullptr;
  }

  static void plain(Reply& res, unsigned status, std::string_view body) {
    res.status = status;
    res.contentType = "text/plain; charset=utf-8";
    res.body.assign(body);
  }

 private:
  SharedSlot<const Runtime> runtime_;
  std::string id_;
  SharedSlot<const model::Organization> snapshot_;
  std::atomic<std::uint64_t> generation_{0};
  Metrics metrics_;
  Throttle byAddress_, byAccount_;
  AccessLog log_;
  std::mutex verifiedMutex_;
  std::unordered_set<std::string> verified_;  // digests of credentials checked recently
};

enum class Kind { Https, Http, Admin };

// A connection's deadline, in its worker's list; the worker's sweeper closes the sockets of those
// past it once a second. Cheaper than a timer armed and cancelled around every read and write.
struct Deadline {
  Deadline* prev = nullptr;
  Deadline* next = nullptr;
  std::chrono::steady_clock::time_point at = std::chrono::steady_clock::time_point::max();
  tcp::socket* socket = nullptr;
  void in(std::chrono::seconds s) { at = std::chrono::steady_clock::now() + s; }
};

// One thread: its io_context, its connections' deadlines and its view of the snapshot. Everything
// here is touched only by that thread.
struct Worker {
  Deadline head;  // sentinel of a circular list
  Service::View view;
  net::thread_pool* hashing = nullptr;  // where password hashes run
  net::io_context ioc{1};  // last: destroyed first, with the connections still in it
  Worker() { head.prev = head.next = &head; }
  void link(Deadline& d) {
    d.next = head.next;
    d.prev = &head;
    head.next->prev = &d;
    head.next = &d;
  }
  static void unlink(Deadline& d) {
    d.prev->next = d.next;
    d.next->prev = d.prev;
  }
  void sweep() {
    auto now = std::chrono::steady_clock::now();
    for (Deadline* d = head.next; d != &head; d = d->next)
      if (d->at <= now && d->socket->is_open()) {
        boost::system::error_code ignored;
        d->socket->close(ignored);
      }
  }
};

// A connection's state and buffers, kept across its requests.
struct Connection {
  Worker& worker;
  Service& svc;
  tcp::socket& socket;
  Deadline deadline;
  std::string client;  // the peer's address
  std::string local;   // our address, for the access log
  unsigned short localPort = 0;
  beast::flat_buffer in;
  HttpRequest req;
  Reply reply;
  std::string out;
  Connection(Worker& w, Service& s, tcp::socket& sock) : worker(w), svc(s), socket(sock) {
    deadline.socket = &sock;
    worker.link(deadline);
    boost::system::error_code ec;
    auto peer = sock.remote_endpoint(ec);
    if (!ec) client = peer.address().to_string();
    auto self = sock.local_endpoint(ec);
    if (!ec) local = self.address().to_string(), localPort = self.port();
    svc.metrics().openConnections++;
  }
  ~Connection() {
    Worker::unlink(deadline);
    svc.metrics().openConnections--;
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
};

// A password hash, run where it is spawned (the hashing pool).
net::awaitable<bool> verifyOnPool(std::string hash, std::string password) {
  co_return auth::verifyPassword(hash, password);
}

// One read or one whole write, on a plain socket or a TLS stream.
net::awaitable<std::size_t> readSome(tcp::socket& s, net::mutable_buffer into, boost::system::error_code& ec) {
  co_return co_await s.async_read_some(into, net::redirect_error(net::use_awaitable, ec));
}
net::awaitable<std::size_t> readSome(TlsStream& s, net::mutable_buffer into, boost::system::error_code& ec) {
  return s.readSome(into, ec);
}
net::awaitable<boost::system::error_code> writeAll(tcp::socket& s, net::const_buffer data) {
  boost::system::error_code ec;
  co_await net::async_write(s, data, net::redirect_error(net::use_awaitable, ec));
  co_return ec;
}
net::awaitable<boost::system::error_code> writeAll(TlsStream& s, net::const_buffer data) { return s.writeAll(data); }

// Reads one request into c.req. An error: the peer went away, a limit was passed, or it timed out.
template <class Stream>
net::awaitable<boost::system::error_code> readRequest(Stream& stream, Connection& c, std::size_t maxBody,
                                                      std::chrono::seconds timeout) {
  RequestParser parser(c.req);
  parser.eager(true);
  parser.header_limit(16 * 1024);
  parser.body_limit(maxBody);
  boost::system::error_code ec;
  c.deadline.in(timeout);  // for the whole request: a client that sends a byte at a time gains nothing
  for (;;) {
    if (c.in.size() > 0) {
      auto used = parser.put(c.in.data(), ec);
      c.in.consume(used);
      if (ec == http::error::need_more) ec = {};
      else if (ec) co_return ec;
      if (parser.is_done()) co_return ec;
      if (used > 0 && c.in.size() > 0) continue;
    }
    auto n = co_await readSome(stream, c.in.prepare(16 * 1024), ec);
    c.in.commit(n);
    if (ec) {
      if (ec == net::error::eof && parser.got_some()) {
        boost::system::error_code ignored;
        parser.put_eof(ignored);
        if (parser.is_done()) co_return boost::system::error_code{};
      }
      co_return ec;
    }
  }
}

template <class Stream>
net::awaitable<boost::system::error_code> send(Stream& stream, Connection& c, bool keepAlive, std::chrono::seconds timeout) {
  c.out.clear();
  serialize(c.reply, c.req.version, keepAlive, c.out);
  c.deadline.in(timeout);
  co_return co_await writeAll(stream, net::buffer(c.out));
}

void writeAccessLog(Connection& c, const LogNote& note, std::chrono::steady_clock::time_point started) {
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  std::string_view target = c.req.target;
  c.svc.log().write(std::string(when) + " " + AccessLog::field(c.local) + " " + AccessLog::field(c.req.methodText) + " " +
                    AccessLog::field(target.substr(0, target.find('?'))) + " " +
                    (c.local.empty() ? std::string("-") : std::to_string(c.localPort)) + " " +
                    AccessLog::field(note.user) + " " + AccessLog::field(c.client) + " " +
                    AccessLog::field(c.req.header("User-Agent")) + " " + std::to_string(c.reply.status) + " " +
                    std::to_string(ms) + " " + AccessLog::field(note.outcome));
}

// Serves requests on one connection. Returns true when the peer may still be sending a body that
// was refused unread: the caller then drains the socket briefly so that the answer is not lost to a reset.
template <class Stream>
net::awaitable<bool> exchange(Stream& stream, Connection& c, Kind kind) {
  Service& svc = c.svc;
  for (;;) {
    svc.refresh(c.worker.view);
    const auto& opts = c.worker.view.rt->opts;
    std::chrono::seconds timeout(opts.ioTimeoutSeconds);
    auto ec = co_await readRequest(stream, c, opts.maxBodyBytes, timeout);
    c.reply.clear();
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      bool body = ec == http::error::body_limit;
      if (body) svc.metrics().tooLarge++;
      c.reply.status = body ? 413 : 431;
      c.reply.close = true;
      if (body) c.reply.body = "the request body is larger than " + std::to_string(opts.maxBodyBytes) + " bytes\n";
      co_await send(stream, c, false, timeout);
      co_return true;
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message && ec != http::error::short_read) {
      // A request that is not HTTP/1.1 as written (a bad chunk size or Content-Length, a broken
      // header line): 400, and the connection closed, since where the next request starts is unknown.
      c.reply.status = 400;
      c.reply.close = true;
      c.reply.body = "bad request: " + ec.message() + "\n";
      co_await send(stream, c, false, timeout);
      co_return false;
    }
    if (ec) co_return false;
    svc.refresh(c.worker.view);  // the snapshot may have moved on while the request was read
    auto started = std::chrono::steady_clock::now();
    LogNote note;
    Service::AuthCheck check;
    bool checked = false;
    if (kind == Kind::Https && c.worker.view.rt->opts.auth == "basic" && c.worker.view.org &&
        Service::endpointOf(c.req.target) != Service::Endpoint::None) {
      auto pinned = c.worker.view.org;  // what the check's recipient belongs to, kept while hashing
      check = svc.prepareAuth(c.req, *pinned, c.client);
      if (check.needsHash && !check.challenge && svc.pendingHashes.load() >= Service::kMaxPendingHashes) {
        svc.metrics().throttled++;
        check.challenge = true;
      }
      if (check.needsHash && !check.challenge) {
        // The hash runs on the hashing pool; this connection's thread serves others meanwhile.
        std::string hash(check.hash);
        svc.pendingHashes++;
        struct Done {
          std::atomic<int>& n;
          ~Done() { n--; }
        } done{svc.pendingHashes};
        check.hashOk = co_await net::co_spawn(*c.worker.hashing, verifyOnPool(hash, check.password), net::use_awaitable);
        if (c.worker.view.org != pinned) {
          // The snapshot moved on meanwhile (another connection of this worker took the new one):
          // check against the one the request will be answered from; the verdict stands if the hash did not change.
          bool ok = check.hashOk;
          check = svc.prepareAuth(c.req, *c.worker.view.org, c.client);
          if (check.needsHash && !check.challenge)
            check.hashOk = check.hash == hash ? ok : auth::verifyPassword(check.hash, check.password);
        }
      }
      checked = true;
    }
    switch (kind) {
      case Kind::Https: svc.handleHttps(c.req, c.worker.view, c.client, checked ? &check : nullptr, c.reply, note); break;
      case Kind::Http: svc.handleHttp(c.req, c.worker.view, c.reply); break;
      case Kind::Admin: svc.handleAdmin(c.req, c.reply); break;
    }
    svc.metrics().observe(static_cast<int>(kind), c.reply.status,
                          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started),
                          kind == Kind::Https);
    if (kind != Kind::Admin && svc.log().enabled()) writeAccessLog(c, note, started);
    bool keep = c.req.keepAlive && !c.reply.close && !svc.draining;
    ec = co_await send(stream, c, keep, timeout);
    if (ec || !keep) co_return false;
  }
}

// Closes our side and discards what the peer still sends, for at most a second and 1 MiB.
net::awaitable<void> drain(Connection& c) {
  boost::system::error_code ec;
  c.socket.shutdown(tcp::socket::shutdown_send, ec);
  c.deadline.in(std::chrono::seconds(1));
  std::array<char, 16384> sink;
  for (std::size_t total = 0; total < (1u << 20);) {
    std::size_t n = co_await c.socket.async_read_some(net::buffer(sink), net::redirect_error(net::use_awaitable, ec));
    if (ec) break;
    total += n;
  }
}

struct TlsContexts;
using ContextRef = SharedSlot<TlsContexts>;
ssl::context& defaultContext(TlsContexts& t);

net::awaitable<void> tlsSession(tcp::socket socket, std::shared_ptr<TlsContexts> contexts, Worker& worker, Service& svc) {
  TlsStream stream(std::move(socket), defaultContext(*contexts).native_handle());
  Connection c(worker, svc, stream.socket());
  svc.refresh(worker.view);
  c.deadline.in(std::chrono::seconds(worker.view.rt->opts.ioTimeoutSeconds));
  if (co_await stream.handshake()) co_return;
  if (co_await exchange(stream, c, Kind::Https)) {
    stream.shutdown();
    co_await drain(c);
    co_return;
  }
  stream.shutdown();
}

net::awaitable<void> plainSession(tcp::socket socket, Worker& worker, Service& svc, Kind kind) {
  Connection c(worker, svc, socket);
  if (co_await exchange(socket, c, kind)) {
    co_await drain(c);
    co_return;
  }
  boost::system::error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
}

// Accepts on one listener and hands each connection to the next worker in turn.
net::awaitable<void> listen(tcp::acceptor& acceptor, ContextRef* ctx, Service& svc, Kind kind,
                            std::vector<std::unique_ptr<Worker>>& workers) {
  std::size_t next = 0;
  for (;;) {
    Worker& w = *workers[next++ % workers.size()];
    boost::system::error_code ec;
    auto socket = co_await acceptor.async_accept(w.ioc, net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec == net::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system ||
          ec == net::error::no_buffer_space || ec == net::error::no_memory) {
        // Out of descriptors or memory: waiting connections stay in the backlog until some close,
        // rather than the acceptor spinning on the same error.
        svc.metrics().refusedConnections++;
        net::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
        co_await pause.async_wait(net::redirect_error(net::use_awaitable, ec));
      }
      continue;
    }
    if (svc.metrics().openConnections >= svc.runtime()->opts.maxConnections) {
      svc.metrics().refusedConnections++;
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    if (kind == Kind::Https) net::co_spawn(w.ioc, tlsSession(std::move(socket), ctx->load(), w, svc), net::detached);
    else net::co_spawn(w.ioc, plainSession(std::move(socket), w, svc, kind), net::detached);
  }
}

void configureContext(ssl::context& ctx) {
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  // One TLS 1.3 session ticket per handshake rather than OpenSSL's two: a client resumes with one,
  // and each costs an encryption and a MAC on every new connection.
  SSL_CTX_set_num_tickets(ctx.native_handle(), 1);
}

Result<void> loadCertificate(ssl::context& ctx, const std::string& certFile, const std::string& keyFile) {
  for (auto* f : {&certFile, &keyFile})
    if (std::FILE* fp = std::fopen(f->c_str(), "r")) std::fclose(fp);
    else return fail("cannot read " + *f + ": " + std::strerror(errno));
  boost::system::error_code ec;
  configureContext(ctx);
  ctx.use_certificate_chain_file(certFile, ec);
  if (ec) return fail("cannot use the certificate " + certFile + ": " + ec.message());
  ctx.use_private_key_file(keyFile, ssl::context::pem, ec);
  if (ec) return fail("cannot use the key " + keyFile + ": " + ec.message());
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1)
    return fail("the key " + keyFile + " does not match the certificate " + certFile);
  return {};
}

// Every certificate the service holds; the first is the default, and SNI picks another whose
// certificate covers the name asked for.
struct TlsContexts {
  std::vector<std::shared_ptr<ssl::context>> all;
};

ssl::context& defaultContext(TlsContexts& t) { return *t.all.front(); }

int chooseBySni(SSL* ssl, int*, void* arg) {
  auto* contexts = static_cast<TlsContexts*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_OK;
  for (auto& c : contexts->all) {
    X509* cert = SSL_CTX_get0_certificate(c->native_handle());
    if (cert && X509_check_host(cert, name, 0, 0, nullptr) == 1) {
      if (c.get() != contexts->all.front().get()) SSL_set_SSL_CTX(ssl, c->native_handle());
      break;
    }
  }
  return SSL_TLSEXT_ERR_OK;
}

// The organisation's certificate enabled for IIS (Enable-ExchangeCertificate -Services IIS), if any.
const model::ExchangeCertificate* iisCertificate(const model::Organization* org) {
  if (org)
    for (auto& [id, c] : org->all<model::ExchangeCertificate>())
      if ((c.services & model::ServiceIis) && !c.pending() && !c.privateKeyPem.empty()) return &c;
  return nullptr;
}

// The certificate enabled for IIS in the store comes first (the default, and the first SNI looks
// at); the --cert files follow, for the names it does not cover, and serve alone when the store
// has none.
Result<std::shared_ptr<TlsContexts>> loadCertificates(const Options& o, const model::ExchangeCertificate* fromStore) {
  if ((o.certFiles.empty() || o.keyFiles.empty()) && !fromStore)
    return fail("--cert and --key are required for HTTPS unless the store has a certificate enabled for IIS "
                "(Enable-ExchangeCertificate -Services IIS)");
  if (o.certFiles.size() != o.keyFiles.size())
    return fail("give one --key for each --cert (" + std::to_string(o.certFiles.size()) + " certificates, " +
                std::to_string(o.keyFiles.size()) + " keys)");
  auto set = std::make_shared<TlsContexts>();
  if (fromStore) {
    auto c = std::make_shared<ssl::context>(ssl::context::tls_server);
    configureContext(*c);
    boost::system::error_code ec;
    c->use_certificate_chain(net::buffer(fromStore->certificatePem), ec);
    if (!ec) c->use_private_key(net::buffer(fromStore->privateKeyPem), ssl::context::pem, ec);
    if (ec) return fail("cannot use the certificate " + fromStore->thumbprint + " of the store: " + ec.message());
    if (SSL_CTX_check_private_key(c->native_handle()) != 1)
      return fail("the key of the certificate " + fromStore->thumbprint + " does not match it");
    set->all.push_back(std::move(c));
  }
  for (std::size_t i = 0; i < o.certFiles.size(); ++i) {
    auto c = std::make_shared<ssl::context>(ssl::context::tls_server);
    if (auto r = loadCertificate(*c, o.certFiles[i], o.keyFiles[i]); !r) return std::unexpected(r.error());
    set->all.push_back(std::move(c));
  }
  if (set->all.size() > 1) {
    SSL_CTX_set_tlsext_servername_callback(set->all.front()->native_handle(), chooseBySni);
    SSL_CTX_set_tlsext_servername_arg(set->all.front()->native_handle(), set.get());
  }
  return set;
}

}  // namespace

Result<void> checkCertificate(const Options& o) {
  if (o.certFiles.empty() && o.keyFiles.empty()) return {};  // the store's, known only once it is read
  auto set = loadCertificates(o, nullptr);
  if (!set) return std::unexpected(set.error());
  return {};
}

int serve(const Options& o, std::function<Result<Options>()> reload) {
  // OpenSSL writes to the sockets itself: a peer gone away must be an EPIPE, not the end of the process.
  std::signal(SIGPIPE, SIG_IGN);
  // Descriptors for max_connections and some to spare: the soft limit raised as far as the hard one
  // allows (a login shell's 1,024 would otherwise cap the service well below its default 10,000).
  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0) {
    rlim_t wanted = static_cast<rlim_t>(o.maxConnections) + 256;
    if (files.rlim_cur < wanted && files.rlim_cur < files.rlim_max) {
      files.rlim_cur = std::min(wanted, files.rlim_max);
      setrlimit(RLIMIT_NOFILE, &files);
    }
    if (files.rlim_cur < wanted)
      std::cerr << "W-FD-LIMIT open files are limited to " << files.rlim_cur << ", fewer than max_connections ("
                << o.maxConnections << ") needs; raise the hard limit (ulimit -Hn, LimitNOFILE=)" << std::endl;
  }
  // The store; when it cannot be reached at start, the local copy of the last snapshot serves
  // (snapshot_file) and the store is opened again later, from the poller.
  std::unique_ptr<store::Store> primary;
  std::unique_ptr<store::Store> fallback;
  if (auto opened = store::openStore(o.storeUri)) {
    primary = std::move(*opened);
  } else if (!o.snapshotFile.empty() && access(o.snapshotFile.c_str(), R_OK) == 0) {
    auto local = store::openStore("sqlite:" + o.snapshotFile);
    if (!local) {
      std::cerr << "autodisc serve: " << opened.error().message << "; and the local copy: " << local.error().message << '\n';
      return 1;
    }
    std::cerr << "W-STORE-START-FROM-SNAPSHOT " << opened.error().message << " (answering from the local copy "
              << o.snapshotFile << " until the store can be reached)" << std::endl;
    fallback = std::move(*local);
  } else {
    std::cerr << "autodisc serve: " << opened.error().message << '\n';
    return 1;
  }
  Service svc(o);
  if (auto rt = Service::makeRuntime(o); !rt) {
    std::cerr << "autodisc serve: " << rt.error().message << '\n';
    return 1;
  } else {
    svc.setRuntime(*rt);
  }
  if (!o.accessLog.empty())
    if (auto r = svc.log().open(o.accessLog); !r) {
      std::cerr << "autodisc serve: " << r.error().message << '\n';
      return 1;
    }
  auto first = (primary ? primary : fallback)->load();
  if (!first) {
    std::cerr << "autodisc serve: " << first.error().message << '\n';
    return 1;
  }
  svc.publish(*first);
  svc.metrics().snapshotLoads++;
  if (primary) primary->poll();
  else svc.metrics().storeUp = false;
  // The local copy, written off the request path after changes (at most every 5 seconds).
  std::uint64_t savedVersion = primary ? ~std::uint64_t{0} : first->version;
  auto lastSave = std::chrono::steady_clock::time_point{};
  auto saveSnapshot = [&] {
    if (o.snapshotFile.empty() || !primary) return;
    std::uint64_t version = svc.metrics().snapshotVersion;
    auto now = std::chrono::steady_clock::now();
    if (version == savedVersion || now - lastSave < std::chrono::seconds(5)) return;
    lastSave = now;
    auto org = svc.snapshot();
    if (!org) return;
    if (auto r = store::saveSnapshotFile(*org, o.snapshotFile); !r) {
      std::cerr << "E-SNAPSHOT-SAVE " << r.error().message << std::endl;
      return;
    }
    savedVersion = version;
  };
  saveSnapshot();

  ContextRef ctx;
  // The certificates served: the configuration's files and the store's certificate enabled for IIS,
  // which the poller follows (Enable-ExchangeCertificate takes effect without a restart).
  std::mutex certMutex;          // guards certOptions and servedThumbprint
  Options certOptions = o;       // the configuration whose files are served
  std::string servedThumbprint;  // the store's certificate being served; empty: none
  auto makeContext = [&](const Options& opts, std::string& thumbprint) {
    auto org = svc.snapshot();
    auto* fromStore = iisCertificate(org.get());
    thumbprint = fromStore ? fromStore->thumbprint : std::string();
    return loadCertificates(opts, fromStore);
  };
  if (!o.https.empty()) {
    auto c = makeContext(o, servedThumbprint);
    if (!c) {
      std::cerr << "autodisc serve: " << c.error().message << '\n';
      return 1;
    }
    ctx.store(*c);
    if (!servedThumbprint.empty()) std::cerr << "I-CERT-FROM-STORE " << servedThumbprint << std::endl;
  }
  auto followStoreCertificate = [&] {
    if (o.https.empty()) return;
    std::lock_guard g(certMutex);
    auto org = svc.snapshot();
    auto* fromStore = iisCertificate(org.get());
    std::string want = fromStore ? fromStore->thumbprint : std::string();
    if (want == servedThumbprint) return;
    std::string thumbprint;
    auto next = makeContext(certOptions, thumbprint);
    servedThumbprint = want;  // tried once per change: a refusal is not logged again every poll
    if (!next) {
      std::cerr << "E-CERT-FROM-STORE-REFUSED " << next.error().message << " (the previous certificate keeps serving)"
                << std::endl;
      return;
    }
    ctx.store(*next);
    if (want.empty())
      std::cerr << "I-CERT-FROM-FILES no certificate of the store is enabled for IIS; serving the --cert files" << std::endl;
    else
      std::cerr << "I-CERT-FROM-STORE " << want << std::endl;
  };

  // One worker per thread, each with its own io_context: a connection stays on the worker that
  // accepted it, so that nothing on the request path is shared between threads but the snapshot.
  int threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::unique_ptr<Worker>> workers;
  // Password hashes (argon2id, ~30 ms each) run on their own threads, never on a worker's.
  net::thread_pool hashing(static_cast<std::size_t>(std::max(1, threads)));
  for (int i = 0; i < threads; ++i) {
    workers.push_back(std::make_unique<Worker>());
    workers.back()->hashing = &hashing;
  }
  net::io_context& ioc = workers.front()->ioc;  // listeners and signals
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  auto open = [&](const std::string& where, Kind kind, const char* name) -> bool {
    auto ep = parseEndpoint(where);
    if (!ep) {
      std::cerr << "autodisc serve: --" << name << " " << ep.error().message << '\n';
      return false;
    }
    boost::system::error_code ec;
    auto a = std::make_unique<tcp::acceptor>(ioc);
    a->open(ep->protocol(), ec);
    if (!ec) a->set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) a->bind(*ep, ec);
    if (!ec) a->listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      std::cerr << "autodisc serve: cannot listen on " << where << ": " << ec.message() << '\n';
      return false;
    }
    auto bound = a->local_endpoint();
    std::string addr = bound.address().is_v6() ? "[" + bound.address().to_string() + "]" : bound.address().to_string();
    std::cout << "listening " << name << " " << addr << ":" << bound.port() << std::endl;
    net::co_spawn(ioc, listen(*a, kind == Kind::Https ? &ctx : nullptr, svc, kind, workers), net::detached);
    acceptors.push_back(std::move(a));
    return true;
  };
  for (auto& h : o.https)
    if (!open(h, Kind::Https, "https")) return 1;
  if (!o.http.empty() && !open(o.http, Kind::Http, "http")) return 1;
  if (!o.admin.empty() && !open(o.admin, Kind::Admin, "admin")) return 1;

  // SCPs published into a directory (scp_directory): at start and after each new snapshot, on the
  // poller's thread; a failure is logged and tried again a second later.
  std::unique_ptr<store::LdapStore> scpTarget;
  std::uint64_t publishedVersion = ~std::uint64_t{0};
  auto lastPublishTry = std::chrono::steady_clock::time_point{};
  auto publishScps = [&] {
    if (o.scpDirectory.empty()) return;
    auto org = svc.snapshot();
    std::uint64_t version = svc.metrics().snapshotVersion;
    auto now = std::chrono::steady_clock::now();
    if (!org || (version == publishedVersion) || now - lastPublishTry < std::chrono::seconds(1)) return;
    lastPublishTry = now;
    if (!scpTarget) {
      auto t = store::LdapStore::connectOnly(o.scpDirectory);
      if (!t) {
        std::cerr << "E-SCP-PUBLISH " << t.error().message << std::endl;
        return;
      }
      scpTarget = std::move(*t);
    }
    auto r = scpTarget->publishScps(*org);
    if (!r) {
      std::cerr << "E-SCP-PUBLISH " << r.error().message << std::endl;
      return;
    }
    publishedVersion = version;
    std::cerr << "I-SCP-PUBLISHED " << r->written << " SCP(s) in " << o.scpDirectory << ", " << r->removed
              << " removed" << std::endl;
  };
  publishScps();

  // The store is polled off the request path; a new snapshot is built here and swapped in.
  std::mutex m;
  std::condition_variable cv;
  bool stopping = false;
  bool kicked = false;  // the store said something changed (a directory's content synchronisation)
  auto kick = [&] {
    {
      std::lock_guard lock(m);
      kicked = true;
    }
    cv.notify_all();
  };
  if (primary) primary->watchChanges(kick);
  std::thread poller([&] {
    std::unique_lock lock(m);
    // While the store cannot be reached the last snapshot keeps serving; the looks back off to 5 s.
    auto wait = std::chrono::milliseconds(o.pollMilliseconds);
    for (;;) {
      cv.wait_for(lock, wait, [&] { return stopping || kicked; });
      if (stopping) break;
      kicked = false;
      lock.unlock();
      auto& stats = svc.metrics();
      if (!primary) {
        // Started from the local copy: open the store itself as soon as it can be reached.
        if (auto opened = store::openStore(o.storeUri)) {
          primary = std::move(*opened);
          primary->watchChanges(kick);
        }
      }
      Result<bool> moved = primary ? primary->poll() : Result<bool>(fail(std::string("the store cannot be opened")));
      bool wasUp = stats.storeUp;
      if (moved && *moved) {
        // The store's changes applied to the snapshot (in proportion to the change), else it all again.
        auto current = svc.snapshot();
        auto changes = current ? primary->changesSince(stats.snapshotVersion) : Result<std::optional<store::ChangeSet>>();
        if (changes && *changes) {
          svc.publish(model::Snapshot{store::applyChanges(*current, **changes), (*changes)->version});
          stats.snapshotChangeSets++;
        } else if (auto s = primary->load()) {
          svc.publish(*s);
          stats.snapshotLoads++;
        } else {
          moved = std::unexpected(s.error());
        }
      }
      if (!moved) {
        stats.storeErrors++;
        stats.storeUp = false;
        if (wasUp)
          std::cerr << "E-STORE-UNREACHABLE " << moved.error().message << " (answering from the snapshot of version "
                    << stats.snapshotVersion << ")" << std::endl;
        wait = std::min(wait * 2, std::max(std::chrono::milliseconds(5000), std::chrono::milliseconds(o.pollMilliseconds)));
      } else {
        if (!wasUp) {
          // Back: whatever changed meanwhile is read now, whatever the version says.
          if (auto s = primary->load()) {
            svc.publish(*s);
            stats.snapshotLoads++;
          }
          std::cerr << "I-STORE-BACK the store answers again (version " << stats.snapshotVersion << ")" << std::endl;
        }
        stats.storeUp = true;
        wait = std::chrono::milliseconds(o.pollMilliseconds);
        publishScps();
        saveSnapshot();
        followStoreCertificate();
      }
      lock.lock();
    }
  });

  // SIGHUP: read the configuration and the certificates again. What does not load is refused with a
  // log line and the previous settings keep serving; listeners, the store and threads need a restart.
  net::signal_set hangups(ioc, SIGHUP);
  Options current = o;
  std::function<void(boost::system::error_code, int)> onHup = [&](boost::system::error_code ec, int) {
    if (ec) return;
    Options next = current;
    if (reload) {
      auto r = reload();
      if (!r) {
        std::cerr << "E-CONFIG-RELOAD-REFUSED " << r.error().message << " (the previous configuration keeps serving)"
                  << std::endl;
        hangups.async_wait(onHup);
        return;
      }
      next = *r;
    }
    auto rt = Service::makeRuntime(next);
    std::shared_ptr<TlsContexts> certs;
    std::string problem;
    if (!rt) problem = rt.error().message;
    const char* event = "E-CONFIG-RELOAD-REFUSED ";
    std::unique_lock certLock(certMutex);
    if (problem.empty() && !current.https.empty()) {
      std::string thumbprint;
      auto c = makeContext(next, thumbprint);
      if (c) {
        certs = *c;
        servedThumbprint = thumbprint;
        certOptions = next;
      } else {
        problem = c.error().message, event = "E-CERT-RELOAD-REFUSED ";
      }
    }
    certLock.unlock();
    if (!problem.empty()) {
      std::cerr << event << problem << " (the previous configuration and certificate keep serving)" << std::endl;
      hangups.async_wait(onHup);
      return;
    }
    if (next.https != current.https || next.http != current.http || next.admin != current.admin ||
        next.storeUri != current.storeUri || next.threads != current.threads || next.accessLog != current.accessLog)
      std::cerr << "W-CONFIG-NEEDS-RESTART listeners, store, threads and the access log change only at start"
                << std::endl;
    svc.setRuntime(*rt);
    if (certs) ctx.store(certs);
    current = next;
    std::cerr << "I-CONFIG-RELOADED"
              << (certs ? " I-CERT-RELOADED " + (next.certFiles.empty() ? std::string("(the store's)") : next.certFiles.front())
                        : std::string())
              << std::endl;
    hangups.async_wait(onHup);
  };
  hangups.async_wait(onHup);

  net::signal_set signals(ioc, SIGINT, SIGTERM);
  net::steady_timer drainTimer(ioc);
  auto stopAll = [&] {
    for (auto& w : workers) w->ioc.stop();
  };
  auto stopAccepting = [&] {
    // Stop accepting, let what is in flight finish, then stop.
    for (auto& a : acceptors) {
      boost::system::error_code ignored;
      a->close(ignored);
    }
    drainTimer.expires_after(std::chrono::milliseconds(500));
    drainTimer.async_wait([&](boost::system::error_code) { stopAll(); });
  };
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    svc.draining = true;  // /readyz 503; keep-alive connections close after their next answer
    hangups.cancel();
    if (o.drainSeconds <= 0) return stopAccepting();
    std::cerr << "I-DRAINING not ready; answering for " << o.drainSeconds << " s more, then stopping" << std::endl;
    drainTimer.expires_after(std::chrono::seconds(o.drainSeconds));
    drainTimer.async_wait([&](boost::system::error_code e) {
      if (!e) stopAccepting();
    });
  });

  // Each worker's sweeper: closes connections past their deadline, and lets go of an old snapshot
  // even when no request comes.
  std::vector<std::shared_ptr<std::function<void(boost::system::error_code)>>> ticks;
  std::vector<std::unique_ptr<net::steady_timer>> sweepers;
  for (auto& w : workers) {
    auto t = std::make_unique<net::steady_timer>(w->ioc);
    auto* timer = t.get();
    Worker* worker = w.get();
    auto tick = std::make_shared<std::function<void(boost::system::error_code)>>();
    bool trims = w == workers.front();
    *tick = [timer, worker, &svc, trims, peak = std::int64_t{0}, weak = std::weak_ptr(tick)](boost::system::error_code ec) mutable {
      if (ec) return;
      worker->sweep();
      if (trims) {
        // After a crowd of connections has gone (a burst, or idle ones closed at their deadline), give
        // the memory they held back to the system: the allocator keeps freed memory otherwise.
        std::int64_t now = svc.metrics().openConnections.load();
        peak = std::max(peak, now);
        if (peak - now >= 256 && now < peak / 2) {
          malloc_trim(0);
          peak = now;
        }
      }
      svc.refresh(worker->view);
      worker->view.pox.keepOnly(worker->view.org);
      worker->view.answers.keepOnly(worker->view.org);
      worker->view.soap.keepOnly(worker->view.org);
      timer->expires_after(std::chrono::seconds(1));
      if (auto again = weak.lock()) timer->async_wait(*again);
    };
    timer->expires_after(std::chrono::seconds(1));
    timer->async_wait(*tick);
    sweepers.push_back(std::move(t));
    ticks.push_back(tick);
  }

  std::vector<std::thread> pool;
  for (std::size_t i = 1; i < workers.size(); ++i) pool.emplace_back([w = workers[i].get()] { w->ioc.run(); });
  workers.front()->ioc.run();
  for (auto& t : pool) t.join();
  {
    std::lock_guard lock(m);
    stopping = true;
  }
  cv.notify_all();
  poller.join();
  primary.reset();  // its change watcher calls `kick`, which uses m and cv: stopped before they go
  std::cout << "stopped" << std::endl;
  return 0;
}

}  // namespace autodisc::server
