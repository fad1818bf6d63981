#pragma once
// Discovery the way Outlook does it (protocol spec section 6), as a pure planner: it says what to do
// next (post to a URL, probe the plain-HTTP redirect, look up SRV or SCP records) and is told what
// happened; it owns the order of the candidates, the validation of every redirect, the hop cap, loop
// detection and the cross-domain flags. No sockets here: the transports (HTTP, DNS, LDAP) are the
// caller's, so every branch is tested without a network.
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace autodisc::discovery {

inline constexpr int kMaxRedirects = 10;  // HTTP, URL and address redirects together (spec 6.5)

// Where a candidate URL came from, in the order of spec 6.2.
enum class Source { Cache, Scp, RootDomain, AutodiscoverDomain, HttpRedirect, Srv, Redirect };
std::string_view sourceName(Source s);

enum class StepKind {
  Post,           // POST the Autodiscover request for `address` to `url` (HTTPS, with credentials)
  RedirectProbe,  // GET `url` over plain HTTP, no credentials, redirects not followed
  SrvLookup,      // SRV records of `name`
  ScpLookup,      // SCP objects from the directory at `ldapUrl` (empty: the domain's own DCs)
  Done,           // settings found: `url` answered for `address`
  GiveUp          // every candidate failed; `why` says what went wrong last
};

struct Step {
  StepKind kind = StepKind::GiveUp;
  std::string url;          // Post, RedirectProbe, Done
  std::string name;         // SrvLookup: _autodiscover._tcp.<domain>
  std::string ldapUrl;      // ScpLookup
  std::string address;      // the address being discovered (it changes with redirectAddr)
  Source source = Source::RootDomain;
  bool crossDomain = false;  // the host is outside the address's domain: Outlook asks the user first
  std::string why;
};

// What came of a Post step.
struct PostResult {
  std::string transportError;  // DNS, connection, TLS (certificate) or timeout failure: the text
  int status = 0;              // HTTP status
  std::string location;        // Location of a 3xx
  enum class Action { None, Settings, RedirectAddr, RedirectUrl, Error } action = Action::None;  // a 200's body
  std::string target;          // RedirectAddr's address or RedirectUrl's URL
  std::string error;           // an error answer's message
};

struct ProbeResult {
  std::string transportError;
  int status = 0;
  std::string location;
};

struct SrvRecord {
  std::uint16_t priority = 0, weight = 0, port = 0;
  std::string target;  // without the trailing dot
};

// The keywords of spec 6.3: an SCP with a URL, and a pointer to another directory.
inline constexpr std::string_view kScpUrlKeyword = "77378F46-2C66-4aa9-A6A6-3E7A48B19596";
inline constexpr std::string_view kScpPointerKeyword = "67661D7F-8FC4-4fa7-BFAC-E1D7794C1F68";

struct ScpEntry {
  std::vector<std::string> keywords;
  std::string binding;  // serviceBindingInformation
};

// SCP objects in the order a client uses them (spec 6.3): URL SCPs of the client's site first, then
// those without a Site= keyword, then other sites', duplicates (without regard to case) dropped; and
// the pointer to follow instead, if one names the user's domain (else the first pointer without a
// Domain= keyword, as a fallback when there are no URLs).
struct ScpOrder {
  std::vector<std::string> urls;
  std::string pointer;          // LDAP://host[:port] for the user's domain: search there instead
  std::string fallbackPointer;  // used only when `urls` is empty
};
ScpOrder orderScp(const std::vector<ScpEntry>& entries, std::string_view clientSite, std::string_view userDomain);

// RFC 2782 selection among the records on port 443: the lowest priority, then by weight, `random`
// giving a number in [0, n). Nothing when no record is on port 443.
std::optional<SrvRecord> chooseSrv(const std::vector<SrvRecord>& records, const std::function<std::uint32_t(std::uint32_t)>& random);

// Whether a redirect target may be followed: https, a path of /autodiscover/.../autodiscover.xml
// (or .svc for SOAP) without regard to case, no port but 443. Empty when it may; else why not.
// With `json`: a path of /autodiscover/autodiscover.json (v2, either form).
std::string redirectProblem(std::string_view url, bool soap = false, bool json = false);
// The host of an absolute URL (lower case, no port).
std::string hostOf(std::string_view url);
// Whether `host` is the domain or one of its subdomains.
bool inDomain(std::string_view host, std::string_view domain);
// A Location resolved against the URL it answered (absolute, or a path on the same origin).
std::string resolveLocation(std::string_view base, std::string_view location);

struct PlannerOptions {
  std::string email;
  std::string cachedUrl;     // the last known good Autodiscover URL for the domain, if any
  bool useScp = false;       // a directory is configured (or found): SCP first
  std::string ldapUrl;       // where to search; empty: the domain's DCs
  std::string clientSite;    // the client's AD site, for the SCP order
  bool soap = false;         // candidates end in .svc
  bool json = false;         // Autodiscover v2: GET autodiscover.json/v1.0/<address>?Protocol=...
  std::string jsonProtocol = "Ews";
  std::function<std::uint32_t(std::uint32_t)> random;  // for SRV weights; default: always 0
};

class Planner {
 public:
  explicit Planner(PlannerOptions o);
  // The next thing to do. Call it again after reporting the result of a lookup, probe or post.
  Step next();
  void posted(const PostResult& r);
  void probed(const ProbeResult& r);
  void srvFound(const std::vector<SrvRecord>& records, std::string_view error = {});
  // `clientSite`: the site found from the directory's subnets, used when none was given.
  void scpFound(const std::vector<ScpEntry>& entries, std::string_view error = {}, std::string_view clientSite = {});

  // What happened, a line a step, for the report.
  const std::vector<std::string>& log() const { return log_; }
  int redirects() const { return redirects_; }
  bool cacheFailed() const { return cacheFailed_; }  // the cached URL did not work: forget it

 private:
  enum class Stage { Cache, Scp, RootDomain, AutodiscoverDomain, HttpRedirect, Srv, Exhausted };
  struct Candidate {
    std::string url;
    Source source;
    bool crossDomain;
  };
  void restart(std::string address);
  bool countRedirect(std::string_view what);
  void addCandidate(std::string url, Source source, bool front = false);
  std::string endpoint(std::string_view host) const;
  void fail(std::string why);

  PlannerOptions o_;
  std::string address_, domain_;
  Stage stage_ = Stage::Cache;
  std::vector<Candidate> candidates_;  // front first
  std::optional<Candidate> current_;   // the one being posted to
  std::optional<Step> final_;
  StepKind awaiting_ = StepKind::Done;  // what the last step asked for
  int redirects_ = 0;
  int scpHops_ = 0;
  std::string scpFallback_;
  std::set<std::string> visitedUrls_, visitedAddresses_;
  std::string lastError_;
  bool cacheFailed_ = false;
  std::vector<std::string> log_;
};

}  // namespace autodisc::discovery
