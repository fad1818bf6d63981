#include "protocol/json_v2.hpp"

#include <array>
#include <charconv>

#include "model/text.hpp"

namespace autodisc::protocol {

namespace {

constexpr std::string_view kBase = "/autodiscover/autodiscover.json";
constexpr int kMaxRedirects = 10;

// The protocols this server answers for, in their canonical spelling (matched without regard to case).
constexpr std::array<std::string_view, 3> kProtocols = {"AutodiscoverV1", "Ews", "ActiveSync"};

std::string error(std::string_view code, std::string_view message) {
  return "{\"ErrorCode\":" + jsonString(code) + ",\"ErrorMessage\":" + jsonString(message) + "}";
}

std::string hostOf(std::string_view url) {
  auto start = url.find("://");
  if (start == std::string_view::npos) return {};
  url.remove_prefix(start + 3);
  return std::string(url.substr(0, url.find_first_of("/?#")));
}

}  // namespace

std::string percentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      unsigned v = 0;
      auto r = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (r.ec == std::errc() && r.ptr == s.data() + i + 3) {
        out += static_cast<char>(v);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::string percentEncode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string jsonString(std::string_view s) { return "\"" + text::jsonEscape(s) + "\""; }

bool isJsonPath(std::string_view target) {
  auto path = target.substr(0, target.find('?'));
  if (path.size() < kBase.size() || !text::iequals(path.substr(0, kBase.size()), kBase)) return false;
  auto rest = path.substr(kBase.size());
  return rest.empty() || rest == "/" || text::istartsWith(rest, "/v1.0/");
}

JsonRequest parseJsonRequest(std::string_view target) {
  JsonRequest r;
  auto q = target.find('?');
  auto path = target.substr(0, q);
  auto query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  // (Callers check isJsonPath first; anything else has no address in its path.)
  auto rest = isJsonPath(target) ? path.substr(kBase.size()) : std::string_view();
  if (text::istartsWith(rest, "/v1.0/")) r.email = percentDecode(rest.substr(6));
  bool hasProtocol = false;
  for (auto pair : text::split(query, '&')) {
    auto eq = pair.find('=');
    auto name = pair.substr(0, eq);
    auto value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (text::iequals(name, "Email") && r.email.empty()) r.email = percentDecode(value);
    if (text::iequals(name, "Protocol")) {
      r.protocol = percentDecode(value);
      hasProtocol = !r.protocol.empty();
    }
    if (text::iequals(name, "RedirectCount")) {
      int n = 0;
      auto res = std::from_chars(value.data(), value.data() + value.size(), n);
      r.redirectCount = res.ec == std::errc() && n >= 0 ? n : kMaxRedirects;
    }
  }
  r.email = std::string(text::trim(r.email));
  if (r.email.empty() || r.email.size() > 320) r.problem = JsonProblem::MandatoryParameterMissing;
  else if (!hasProtocol) r.problem = JsonProblem::MissingProtocol;
  return r;
}

JsonResponse answerJson(const model::Organization& org, const JsonRequest& req, bool internalClient,
                        const model::Recipient* caller) {
  JsonResponse res;
  auto fail = [&](unsigned status, std::string_view code, std::string_view message) {
    res.status = status;
    res.outcome = std::string(code);
    res.body = error(code, message);
    return res;
  };
  if (req.problem == JsonProblem::MandatoryParameterMissing)
    return fail(400, "MandatoryParameterMissing", "The get request sent does not match the valid format.");
  if (req.problem == JsonProblem::MissingProtocol)
    return fail(400, "MissingProtocol", "A valid value must be provided for the query parameter 'Protocol'.");
  std::string_view protocol;
  for (auto p : kProtocols)
    if (text::iequals(p, req.protocol)) protocol = p;
  if (protocol.empty())
    return fail(400, "ProtocolNotSupported", "Protocol: The protocol '" + req.protocol +
                                                 "' is not supported. Supported protocols are: 'AutodiscoverV1,Ews,ActiveSync'.");

  autodiscover::Query q;
  q.emailAddress = req.email;
  q.internalClient = internalClient;
  q.schema = protocol == "ActiveSync" ? autodiscover::Schema::MobileSync : autodiscover::Schema::Outlook;
  const model::Recipient* asked = org.recipientByAddress(req.email);
  autodiscover::Answer a;
  if (!caller || caller == asked) a = autodiscover::resolve(org, q);

  std::string url;
  if (a.outcome == autodiscover::Outcome::RedirectAddr) {
    if (req.redirectCount + 1 > kMaxRedirects)
      return fail(400, "RedirectLimitExceeded", "The request has been redirected too many times.");
    res.status = 302;
    res.outcome = "redirect";
    res.location = "https://autodiscover." + std::string(domainOf(a.redirectAddr)) +
                   "/autodiscover/autodiscover.json?Email=" + percentEncode(a.redirectAddr) +
                   "&Protocol=" + std::string(protocol) + "&RedirectCount=" + std::to_string(req.redirectCount + 1);
    res.body = error("RedirectAddress", "The mailbox of this address is elsewhere: " + a.redirectAddr);
    return res;
  }
  if (a.outcome == autodiscover::Outcome::RedirectUrl) {
    if (req.redirectCount + 1 > kMaxRedirects)
      return fail(400, "RedirectLimitExceeded", "The request has been redirected too many times.");
    res.status = 302;
    res.outcome = "redirect";
    res.location = "https://" + hostOf(a.redirectUrl) + "/autodiscover/autodiscover.json?Email=" +
                   percentEncode(req.email) + "&Protocol=" + std::string(protocol) +
                   "&RedirectCount=" + std::to_string(req.redirectCount + 1);
    res.body = error("RedirectUrl", "Autodiscover for this domain is answered at " + a.redirectUrl);
    return res;
  }
  if (a.outcome == autodiscover::Outcome::Settings || (a.failure == autodiscover::Failure::NoMobileSyncUrl)) {
    std::string ews = !a.externalUrls.ews.empty() ? a.externalUrls.ews : a.internalUrls.ews;
    if (protocol == "Ews") url = ews;
    else if (protocol == "ActiveSync") url = a.mobileSyncUrl;
    else if (!ews.empty()) url = "https://" + hostOf(ews) + "/autodiscover/autodiscover.xml";
  } else {
    // Not a mailbox here (or not the caller's): what the domain says, if the domain is ours.
    auto d = autodiscover::resolveDomain(org, domainOf(req.email));
    if (!d.accepted) return fail(404, "InvalidUser", "The address is in no domain this server answers for.");
    if (protocol == "Ews") url = d.externalEwsUrl;
    else if (protocol == "ActiveSync") url = d.externalActiveSyncUrl;
    else if (!d.externalEwsUrl.empty()) url = "https://" + hostOf(d.externalEwsUrl) + "/autodiscover/autodiscover.xml";
  }
  if (url.empty())
    return fail(404, "UrlNotSet", "No " + std::string(protocol) + " URL is set for this address.");
  res.outcome = "settings";
  res.body = "{\"Protocol\":" + jsonString(protocol) + ",\"Url\":" + jsonString(url) + "}";
  return res;
}

}  // namespace autodisc::protocol
