#include "protocol/pox.hpp"

#include <pugixml.hpp>

#include <cstdio>
#include <ctime>
#include <tuple>

#include "model/text.hpp"

namespace autodisc::protocol {

using autodiscover::Answer;
using autodiscover::Failure;
using autodiscover::Outcome;
using autodiscover::ProtocolSettings;
using autodiscover::Schema;

namespace {

std::string_view localName(const char* name) {
  std::string_view n(name);
  auto colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

// The namespace an element is in, from the xmlns declarations on it and its ancestors.
std::string_view namespaceOf(pugi::xml_node node) {
  std::string_view n(node.name());
  auto colon = n.find(':');
  std::string attr = colon == std::string_view::npos ? "xmlns" : "xmlns:" + std::string(n.substr(0, colon));
  for (auto x = node; x; x = x.parent())
    if (auto a = x.attribute(attr.c_str())) return a.value();
  return {};
}

// Clients are seen to write https:// where http:// is meant; accept both on input.
bool sameNs(std::string_view got, std::string_view want) {
  if (got == want) return true;
  if (got.starts_with("https://") && want.starts_with("http://")) return got.substr(8) == want.substr(7);
  return false;
}

pugi::xml_node child(pugi::xml_node parent, std::string_view name) {
  for (auto c : parent.children())
    if (c.type() == pugi::node_element && localName(c.name()) == name) return c;
  return {};
}

// Writes the document straight into one string: no DOM, no temporaries (this is the hot path).
class Writer {
 public:
  Writer() {
    out_.reserve(4096);
    out_ = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
  }
  void open(std::string_view tag, std::string_view attrs = {}) {
    indent();
    out_ += '<';
    out_ += tag;
    out_ += attrs;
    out_ += ">\n";
    ++depth_;
  }
  void close(std::string_view tag) {
    --depth_;
    indent();
    out_ += "</";
    out_ += tag;
    out_ += ">\n";
  }
  void leaf(std::string_view tag, std::string_view value, std::string_view attrs = {}) {
    indent();
    out_ += '<';
    out_ += tag;
    out_ += attrs;
    out_ += '>';
    appendEscaped(out_, value);
    out_ += "</";
    out_ += tag;
    out_ += ">\n";
  }
  void optional(std::string_view tag, std::string_view value) {
    if (!value.empty()) leaf(tag, value);
  }
  void empty(std::string_view tag) {
    indent();
    out_ += '<';
    out_ += tag;
    out_ += " />\n";
  }
  std::string take() { return std::move(out_); }

 private:
  void indent() { out_.append(static_cast<std::size_t>(depth_) * 2, ' '); }
  std::string out_;
  int depth_ = 0;
};

std::string ns(std::string_view uri) { return " xmlns=\"" + std::string(uri) + "\""; }

void protocolBlock(Writer& w, std::string_view type, const ProtocolSettings& p, bool external) {
  w.open("Protocol");
  w.leaf("Type", type);
  w.optional("Server", p.server);
  w.optional("ServerDN", p.serverDn);
  w.optional("ServerVersion", p.serverVersion);
  w.optional("MdbDN", p.mdbDn);
  if (p.ssl) w.leaf("SSL", *p.ssl ? "On" : "Off");
  w.optional("AuthPackage", p.authPackage);
  if (p.ttl >= 0 && p.ttl != 1) w.leaf("TTL", std::to_string(p.ttl));
  w.optional("ASUrl", p.ewsUrl);
  w.optional("EwsUrl", p.ewsUrl);
  w.optional("EmwsUrl", p.ewsUrl);
  w.optional("EcpUrl", p.ecpUrl);
  if (!external && !p.ecpUrl.empty()) w.leaf("EcpUrl-photo", "PersonalSettings/EditAccount.aspx?rfr=olk&chgPhoto=1&exsvurl=1");
  w.optional("OOFUrl", p.ewsUrl);
  w.optional("OABUrl", p.oabUrl);
  w.leaf("ServerExclusiveConnect", external ? "on" : "off");
  w.optional("CertPrincipalName", p.certPrincipalName);
  if (type == "EXPR") w.optional("EwsPartnerUrl", p.ewsUrl);
  w.close("Protocol");
}

void webSide(Writer& w, std::string_view side, std::string_view type, const autodiscover::WebSettings& s) {
  w.open(side);
  w.leaf("OWAUrl", s.owaUrl, " AuthenticationMethod=\"" + xmlEscape(s.authenticationMethods) + "\"");
  if (!s.ewsUrl.empty()) {
    w.open("Protocol");
    w.leaf("Type", type);
    w.leaf("ASUrl", s.ewsUrl);
    w.close("Protocol");
  }
  w.close(side);
}

}  // namespace

void appendEscaped(std::string& out, std::string_view s) {
  std::size_t from = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char* rep = nullptr;
    switch (s[i]) {
      case '&': rep = "&amp;"; break;
      case '<': rep = "&lt;"; break;
      case '>': rep = "&gt;"; break;
      case '"': rep = "&quot;"; break;
      default: continue;
    }
    out.append(s.substr(from, i - from));
    out += rep;
    from = i + 1;
  }
  out.append(s.substr(from));
}

std::string xmlEscape(std::string_view s) {
  std::string out;
  appendEscaped(out, s);
  return out;
}

PoxRequest parsePoxRequest(std::string_view body) {
  PoxRequest r;
  r.error = PoxError::InvalidRequest;
  pugi::xml_document doc;
  // parse_minimal leaves out DOCTYPE processing; entities other than the five predefined ones are never expanded.
  unsigned flags = pugi::parse_minimal | pugi::parse_escapes | pugi::parse_doctype;
  auto res = doc.load_buffer(body.data(), body.size(), flags, pugi::encoding_utf8);
  if (!res) return r;
  for (auto n : doc.children())
    if (n.type() == pugi::node_doctype) return r;  // no DTDs, so no entity tricks
  auto root = doc.document_element();
  if (!root || localName(root.name()) != "Autodiscover") return r;
  auto rootNs = namespaceOf(root);
  bool outlook = sameNs(rootNs, kOutlookRequestNs), mobile = sameNs(rootNs, kMobileRequestNs);
  if (!outlook && !mobile) return r;
  pugi::xml_node request;
  int requests = 0;
  for (auto c : root.children())
    if (c.type() == pugi::node_element && localName(c.name()) == "Request") {
      request = c;
      ++requests;
    }
  if (requests != 1) return r;
  std::string address(autodisc::text::trim(child(request, "EMailAddress").text().get()));
  std::string legacyDn(autodisc::text::trim(child(request, "LegacyDN").text().get()));
  std::string schema(autodisc::text::trim(child(request, "AcceptableResponseSchema").text().get()));
  if (address.empty() && legacyDn.empty()) {
    if (!mobile) return r;
    r.addressMissing = true;
  }
  if (address.size() > 320 || legacyDn.size() > 1024) return r;
  r.query.emailAddress = std::string(autodisc::text::trim(address));
  r.query.legacyDn = mobile ? std::string() : std::string(autodisc::text::trim(legacyDn));
  if (sameNs(schema, kOutlookResponseNs)) {
    r.query.schema = Schema::Outlook;
  } else if (sameNs(schema, kMobileResponseNs)) {
    r.query.schema = Schema::MobileSync;
  } else {
    r.error = PoxError::ProviderUnavailable;
    return r;
  }
  r.error = PoxError::None;
  return r;
}

std::string errorTime(std::chrono::system_clock::time_point now) {
  auto t = std::chrono::system_clock::to_time_t(now);
  auto ticks = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() % 1000000000 / 100;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%07lld", tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(ticks));
  return buf;
}

std::string renderPoxError(PoxError e, const ErrorStamp& stamp) {
  Writer w;
  w.open("Autodiscover", ns(kResponseNs));
  w.open("Response");
  w.open("Error", " Time=\"" + xmlEscape(stamp.time) + "\" Id=\"" + xmlEscape(stamp.id) + "\"");
  w.leaf("ErrorCode", std::to_string(static_cast<int>(e)));
  w.leaf("Message", e == PoxError::ProviderUnavailable ? "Provider is not available" : "Invalid Request");
  w.empty("DebugData");
  w.close("Error");
  w.close("Response");
  w.close("Autodiscover");
  return w.take();
}

std::string renderPox(const Answer& a, Schema schema, const ErrorStamp& stamp) {
  Writer w;
  w.open("Autodiscover", ns(kResponseNs));
  if (schema == Schema::MobileSync) {
    w.open("Response", ns(kMobileResponseNs));
    w.leaf("Culture", "en:us");
    w.open("User");
    w.optional("DisplayName", a.displayName);
    w.leaf("EMailAddress", a.outcome == Outcome::Error || a.smtpAddress.empty() ? a.requestedAddress : a.smtpAddress);
    w.close("User");
    w.open("Action");
    if (a.outcome == Outcome::Settings) {
      w.open("Settings");
      w.open("Server");
      w.leaf("Type", "MobileSync");
      w.leaf("Url", a.mobileSyncUrl);
      w.leaf("Name", a.mobileSyncUrl);
      w.close("Server");
      w.close("Settings");
    } else if (a.outcome == Outcome::RedirectAddr) {
      w.leaf("Redirect", a.redirectAddr);
    } else {
      w.open("Error");
      bool noUrl = a.failure == Failure::NoMobileSyncUrl;
      w.leaf("Status", noUrl ? "1" : "2");
      w.leaf("Message", noUrl ? "The ActiveSync ExternalUrl is not set." : "The email address can't be found.");
      w.empty("DebugData");
      w.close("Error");
    }
    w.close("Action");
    w.close("Response");
    w.close("Autodiscover");
    return w.take();
  }
  if (a.outcome == Outcome::Error) {
    w.open("Response");
    w.open("Error", " Time=\"" + xmlEscape(stamp.time) + "\" Id=\"" + xmlEscape(stamp.id) + "\"");
    w.leaf("ErrorCode", "500");
    w.leaf("Message", "The email address can't be found.");
    w.empty("DebugData");
    w.close("Error");
    w.close("Response");
    w.close("Autodiscover");
    return w.take();
  }
  w.open("Response", ns(kOutlookResponseNs));
  if (a.outcome == Outcome::RedirectAddr) {
    w.open("Account");
    w.leaf("Action", "redirectAddr");
    w.leaf("RedirectAddr", a.redirectAddr);
    w.close("Account");
  } else {
    w.open("User");
    w.leaf("DisplayName", a.displayName);
    w.leaf("LegacyDN", a.legacyDn);
    w.leaf("AutoDiscoverSMTPAddress", a.smtpAddress);
    w.leaf("DeploymentId", a.deploymentId);
    w.close("User");
    w.open("Account");
    w.leaf("AccountType", "email");
    w.leaf("Action", "settings");
    w.leaf("MicrosoftOnline", "False");
    if (a.mapiHttp) {
      w.open("Protocol", " Type=\"mapiHttp\" Version=\"1\"");
      for (auto [tag, in, ex] : {std::tuple{"MailStore", &a.mapiHttp->mailStoreInternal, &a.mapiHttp->mailStoreExternal},
                                 std::tuple{"AddressBook", &a.mapiHttp->addressBookInternal, &a.mapiHttp->addressBookExternal}}) {
        if (in->empty() && ex->empty()) continue;
        w.open(tag);
        w.optional("InternalUrl", *in);
        w.optional("ExternalUrl", *ex);
        w.close(tag);
      }
      w.close("Protocol");
    }
    if (a.exch) protocolBlock(w, "EXCH", *a.exch, false);
    if (a.expr) protocolBlock(w, "EXPR", *a.expr, true);
    if (a.webInternal || a.webExternal) {
      w.open("Protocol");
      w.leaf("Type", "WEB");
      if (a.webInternal) webSide(w, "Internal", "EXCH", *a.webInternal);
      if (a.webExternal) webSide(w, "External", "EXPR", *a.webExternal);
      w.close("Protocol");
    }
    if (a.exHttpInternal) protocolBlock(w, "EXHTTP", *a.exHttpInternal, true);
    if (a.exHttpExternal) protocolBlock(w, "EXHTTP", *a.exHttpExternal, true);
    w.close("Account");
  }
  w.close("Response");
  w.close("Autodiscover");
  return w.take();
}

}  // namespace autodisc::protocol
