#include "protocol/pox.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <array>
#include <optional>
#include <tuple>

#include "model/text.hpp"
#include "protocol/xml_reader.hpp"
#include "protocol/xml_writer.hpp"

namespace autodisc::protocol {

using autodiscover::Answer;
using autodiscover::Failure;
using autodiscover::Outcome;
using autodiscover::ProtocolSettings;
using autodiscover::Schema;

namespace {

using xml::child;
using xml::localName;
using xml::namespaceOf;
using xml::sameNs;

using Writer = XmlWriter;

// The xmlns attributes the answers carry, made once.
const std::string& ns(std::string_view uri) {
  static const std::string response = " xmlns=\"" + std::string(kResponseNs) + "\"";
  static const std::string outlook = " xmlns=\"" + std::string(kOutlookResponseNs) + "\"";
  static const std::string mobile = " xmlns=\"" + std::string(kMobileResponseNs) + "\"";
  return uri == kOutlookResponseNs ? outlook : uri == kMobileResponseNs ? mobile : response;
}

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

// The User element and the start of Account, as far as the protocol blocks.
void outlookUser(Writer& w, std::string_view displayName, std::string_view legacyDn, std::string_view smtpAddress,
                 std::string_view deploymentId) {
  w.open("User");
  w.leaf("DisplayName", displayName);
  w.leaf("LegacyDN", legacyDn);
  w.leaf("AutoDiscoverSMTPAddress", smtpAddress);
  w.leaf("DeploymentId", deploymentId);
  w.close("User");
  w.open("Account");
  w.leaf("AccountType", "email");
  w.leaf("Action", "settings");
  w.leaf("MicrosoftOnline", "False");
}

// The protocol blocks of a settings answer, inside Account.
void accountSettings(Writer& w, const Answer& a) {
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
}

}  // namespace

namespace {

// What a POX request says, however it was read; the checks of parsePoxRequest on it.
struct PoxFields {
  std::string_view rootName, rootNs;  // local name and namespace of the document element
  int requests = 0;                   // Request children of the root
  std::string_view address, legacyDn, schema;  // views of the body, or of pugixml's document
};

PoxRequest decide(const PoxFields& f) {
  PoxRequest r;
  r.error = PoxError::InvalidRequest;
  if (f.rootName != "Autodiscover") return r;
  bool outlook = sameNs(f.rootNs, kOutlookRequestNs), mobile = sameNs(f.rootNs, kMobileRequestNs);
  if (!outlook && !mobile) return r;
  if (f.requests != 1) return r;
  std::string_view address = autodisc::text::trim(f.address), legacyDn = autodisc::text::trim(f.legacyDn);
  if (address.empty() && legacyDn.empty()) {
    if (!mobile) return r;
    r.addressMissing = true;
  }
  if (address.size() > 320 || legacyDn.size() > 1024) return r;
  r.query.emailAddress = std::string(address);
  r.query.legacyDn = mobile ? std::string() : std::string(legacyDn);
  std::string_view schema = autodisc::text::trim(f.schema);
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

// Which bytes may be in a name, as a table: the reading looks at every byte of every name.
constexpr std::array<bool, 256> kNameChars = [] {
  std::array<bool, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (char c : {'_', '-', '.', ':'}) t[static_cast<unsigned char>(c)] = true;
  return t;
}();
inline bool nameChar(char c) { return kNameChars[static_cast<unsigned char>(c)]; }
bool nameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
inline bool space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

// The plain documents clients send, read in one pass without building a tree. Anything this does
// not follow exactly (comments, DOCTYPE, CDATA, processing instructions after the declaration,
// entity and character references, mixed content, odd names, deep nesting, a tag that does not
// match) is left to pugixml: nullopt. A test compares the two on a corpus of requests.
std::optional<PoxRequest> parsePoxRequestFast(std::string_view b) {
  if (xml::hasForbiddenControl(b)) return std::nullopt;  // the tree reader says it is invalid (found by fuzz_pox)
  std::size_t i = 0;
  if (b.starts_with("\xEF\xBB\xBF")) i = 3;
  auto skipSpace = [&] {
    while (i < b.size() && space(b[i])) ++i;
  };
  skipSpace();
  if (b.compare(i, 5, "<?xml") == 0) {
    auto end = b.find("?>", i);
    if (end == std::string_view::npos) return std::nullopt;
    i = end + 2;
  }
  PoxFields f;
  struct Open {
    std::string_view name;
    std::string_view defaultNs;  // declared on this element or inherited
    std::string_view prefix, prefixNs;  // one prefixed declaration, enough for the root
    bool hasChild = false;
  };
  std::array<Open, 8> stack;
  std::size_t depth = 0;
  bool rootDone = false;
  bool seen[3] = {false, false, false};  // EMailAddress, LegacyDN, AcceptableResponseSchema in the Request
  for (;;) {
    // Text up to the next '<': only whitespace, except directly in a leaf element.
    std::size_t textStart = i;
    i = std::min(b.find('<', i), b.size());
    std::string_view text = b.substr(textStart, i - textStart);
    if (text.find('&') != std::string_view::npos) return std::nullopt;
    bool blank = true;
    for (char c : text)
      if (!space(c)) {
        blank = false;
        break;
      }
    if (i >= b.size()) {
      if (!rootDone || depth != 0 || !blank) return std::nullopt;
      break;
    }
    if (rootDone) return std::nullopt;  // anything after the document element
    if (!blank && depth == 0) return std::nullopt;
    ++i;  // past '<'
    if (i >= b.size() || b[i] == '!' || b[i] == '?') return std::nullopt;
    if (b[i] == '/') {  // an end tag
      ++i;
      std::size_t n = i;
      while (i < b.size() && nameChar(b[i])) ++i;
      std::string_view name = b.substr(n, i - n);
      skipSpace();
      if (i >= b.size() || b[i] != '>' || depth == 0 || stack[depth - 1].name != name) return std::nullopt;
      ++i;
      if (!blank && stack[depth - 1].hasChild) return std::nullopt;  // mixed content
      --depth;
      if (depth == 0) rootDone = true;
      continue;
    }
    // A start tag.
    if (!blank) return std::nullopt;  // text before a child element: mixed content
    if (depth == stack.size()) return std::nullopt;
    std::size_t n = i;
    while (i < b.size() && nameChar(b[i])) ++i;
    std::string_view name = b.substr(n, i - n);
    if (name.empty() || !nameStart(name[0])) return std::nullopt;
    Open e;
    bool declaredDefault = false, declaredPrefix = false;  // the first declaration counts, as pugixml reads it
    e.name = name;
    if (depth > 0) {
      stack[depth - 1].hasChild = true;
      e.defaultNs = stack[depth - 1].defaultNs;
      e.prefix = stack[depth - 1].prefix;
      e.prefixNs = stack[depth - 1].prefixNs;
    }
    bool selfClosing = false;
    for (;;) {
      bool hadSpace = i < b.size() && space(b[i]);
      skipSpace();
      if (i >= b.size()) return std::nullopt;
      if (b[i] == '>') {
        ++i;
        break;
      }
      if (b[i] == '/') {
        if (i + 1 >= b.size() || b[i + 1] != '>') return std::nullopt;
        i += 2;
        selfClosing = true;
        break;
      }
      if (!hadSpace) return std::nullopt;
      std::size_t a = i;
      while (i < b.size() && nameChar(b[i])) ++i;
      std::string_view attr = b.substr(a, i - a);
      if (attr.empty() || !nameStart(attr[0]) || i >= b.size() || b[i] != '=') return std::nullopt;
      ++i;
      if (i >= b.size() || (b[i] != '"' && b[i] != '\'')) return std::nullopt;
      char quote = b[i++];
      std::size_t v = i;
      i = b.find(quote, i);
      if (i == std::string_view::npos) return std::nullopt;
      std::string_view value = b.substr(v, i - v);
      if (value.find('<') != std::string_view::npos || value.find('&') != std::string_view::npos) return std::nullopt;
      ++i;
      if (attr == "xmlns" && !declaredDefault) e.defaultNs = value, declaredDefault = true;
      else if (attr.starts_with("xmlns:") && !declaredPrefix) e.prefix = attr.substr(6), e.prefixNs = value, declaredPrefix = true;
      else if (attr.starts_with("xmlns:")) return std::nullopt;  // several prefixes: let pugixml resolve them
    }
    auto colon = name.find(':');
    std::string_view local = colon == std::string_view::npos ? name : name.substr(colon + 1);
    if (depth == 0) {
      f.rootName = local;
      if (colon == std::string_view::npos) f.rootNs = e.defaultNs;
      else if (name.substr(0, colon) == e.prefix) f.rootNs = e.prefixNs;
      else return std::nullopt;  // a prefix declared elsewhere: let pugixml resolve it
    }
    if (depth == 1 && local == "Request") ++f.requests;
    if (selfClosing) {
      if (depth == 0) rootDone = true;
      continue;
    }
    stack[depth++] = e;
    // A leaf of interest in the (first) Request: read its text here, up to its end tag.
    if (depth == 3) {
      std::string_view parent = stack[1].name;
      if (auto c = parent.find(':'); c != std::string_view::npos) parent.remove_prefix(c + 1);
      int which = local == "EMailAddress" ? 0 : local == "LegacyDN" ? 1 : local == "AcceptableResponseSchema" ? 2 : -1;
      if (parent == "Request" && which >= 0) {
        std::size_t end = b.find('<', i);
        if (end == std::string_view::npos) return std::nullopt;
        std::string_view value = b.substr(i, end - i);
        if (value.find('&') != std::string_view::npos) return std::nullopt;
        // The first of each counts (with more than one Request the request is refused anyway).
        if (!seen[which]) {
          seen[which] = true;
          (which == 0 ? f.address : which == 1 ? f.legacyDn : f.schema) = value;
        }
      }
    }
  }
  return decide(f);
}

PoxRequest parsePoxRequest(std::string_view body) {
  if (auto fast = parsePoxRequestFast(body)) return std::move(*fast);
  return parsePoxRequestTree(body);
}

PoxRequest parsePoxRequestTree(std::string_view body) {
  PoxRequest r;
  r.error = PoxError::InvalidRequest;
  pugi::xml_document doc;
  if (!xml::load(doc, body)) return r;  // not XML, or it declares a DOCTYPE
  auto root = doc.document_element();
  if (!root) return r;
  PoxFields f;
  std::string rootName(localName(root.name()));
  f.rootName = rootName;
  f.rootNs = namespaceOf(root);
  pugi::xml_node request;
  for (auto c : root.children())
    if (c.type() == pugi::node_element && localName(c.name()) == "Request") {
      request = c;
      ++f.requests;
    }
  f.address = child(request, "EMailAddress").text().get();
  f.legacyDn = child(request, "LegacyDN").text().get();
  f.schema = child(request, "AcceptableResponseSchema").text().get();
  return decide(f);
}

PoxResponse parsePoxResponse(std::string_view body) {
  PoxResponse r;
  pugi::xml_document doc;
  if (!xml::load(doc, body)) return r;
  auto root = doc.document_element();
  if (!root || localName(root.name()) != "Autodiscover") return r;
  auto response = child(root, "Response");
  if (!response) return r;
  auto text = [](pugi::xml_node n) { return std::string(autodisc::text::trim(n.text().get())); };
  if (auto error = child(response, "Error")) {
    r.kind = PoxResponse::Kind::Error;
    r.errorCode = text(child(error, "ErrorCode"));
    r.message = text(child(error, "Message"));
    return r;
  }
  if (auto user = child(response, "User")) {
    r.displayName = text(child(user, "DisplayName"));
    r.smtpAddress = text(child(user, "AutoDiscoverSMTPAddress"));
    if (r.smtpAddress.empty()) r.smtpAddress = text(child(user, "EMailAddress"));
  }
  // MobileSync: Action/Settings/Server, Action/Redirect, Action/Error.
  if (auto action = child(response, "Action")) {
    if (auto redirect = child(action, "Redirect")) {
      r.kind = PoxResponse::Kind::RedirectAddr;
      r.target = text(redirect);
    } else if (auto error = child(action, "Error")) {
      r.kind = PoxResponse::Kind::Error;
      r.errorCode = text(child(error, "Status"));
      r.message = text(child(error, "Message"));
    } else if (auto settings = child(action, "Settings")) {
      r.kind = PoxResponse::Kind::Settings;
      for (auto server : settings.children())
        if (server.type() == pugi::node_element && localName(server.name()) == "Server")
          r.blocks.push_back({text(child(server, "Type")), {{"Url", text(child(server, "Url"))}}});
    }
    return r;
  }
  auto account = child(response, "Account");
  if (!account) return r;
  std::string action = text(child(account, "Action"));
  if (action == "redirectAddr") {
    r.kind = PoxResponse::Kind::RedirectAddr;
    r.target = text(child(account, "RedirectAddr"));
    return r;
  }
  if (action == "redirectUrl") {
    r.kind = PoxResponse::Kind::RedirectUrl;
    r.target = text(child(account, "RedirectUrl"));
    return r;
  }
  if (action != "settings") return r;
  r.kind = PoxResponse::Kind::Settings;
  int ttl = -1;
  for (auto protocol : account.children()) {
    if (protocol.type() != pugi::node_element || localName(protocol.name()) != "Protocol") continue;
    PoxResponse::Block b;
    b.type = text(child(protocol, "Type"));
    if (b.type.empty()) b.type = protocol.attribute("Type").value();
    for (auto v : protocol.children()) {
      if (v.type() != pugi::node_element) continue;
      std::string name(localName(v.name()));
      if (name == "Type") continue;
      if (name == "TTL") {
        int t = std::atoi(text(v).c_str());
        if (ttl < 0 || t < ttl) ttl = t;
      }
      if (name == "Internal" || name == "External" || name == "MailStore" || name == "AddressBook") {
        for (auto w : v.children())
          if (w.type() == pugi::node_element && localName(w.name()) != "Protocol")
            b.values.emplace_back(name + "/" + std::string(localName(w.name())), text(w));
        continue;
      }
      b.values.emplace_back(name, text(v));
    }
    r.blocks.push_back(std::move(b));
  }
  if (ttl >= 0) r.ttlHours = ttl;
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
  std::string out;
  renderPoxError(e, stamp, out);
  return out;
}

void renderPoxError(PoxError e, const ErrorStamp& stamp, std::string& out) {
  Writer w(out);
  w.open("Autodiscover", ns(kResponseNs));
  w.open("Response");
  w.open("Error", " Time=\"" + xmlEscape(stamp.time) + "\" Id=\"" + xmlEscape(stamp.id) + "\"");
  w.leaf("ErrorCode", std::to_string(static_cast<int>(e)));
  w.leaf("Message", e == PoxError::ProviderUnavailable ? "Provider is not available" : "Invalid Request");
  w.empty("DebugData");
  w.close("Error");
  w.close("Response");
  w.close("Autodiscover");
  return;
}

std::string renderPox(const Answer& a, Schema schema, const ErrorStamp& stamp) {
  std::string out;
  out.reserve(4096);
  renderPox(a, schema, stamp, out);
  return out;
}

void renderPox(const Answer& a, Schema schema, const ErrorStamp& stamp, std::string& out) {
  Writer w(out);
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
    return;
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
    return;
  }
  w.open("Response", ns(kOutlookResponseNs));
  if (a.outcome == Outcome::RedirectAddr) {
    w.open("Account");
    w.leaf("Action", "redirectAddr");
    w.leaf("RedirectAddr", a.redirectAddr);
    w.close("Account");
  } else if (a.outcome == Outcome::RedirectUrl) {
    w.open("Account");
    w.leaf("Action", "redirectUrl");
    w.leaf("RedirectUrl", a.redirectUrl);
    w.close("Account");
  } else {
    outlookUser(w, a.displayName, a.legacyDn, a.smtpAddress, a.deploymentId);
    accountSettings(w, a);
    w.close("Account");
  }
  w.close("Response");
  w.close("Autodiscover");
}

namespace {

// The start of a settings answer, made once by the writer itself with a marker byte where each of
// the four values goes, and cut there: a request then appends five constant pieces and its values.
std::array<std::string, 5> makeStartPieces() {
  std::string s;
  Writer w(s);
  w.open("Autodiscover", ns(kResponseNs));
  w.open("Response", ns(kOutlookResponseNs));
  outlookUser(w, "\x01", "\x02", "\x03", "\x04");
  std::array<std::string, 5> pieces;
  std::size_t from = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    auto at = s.find(static_cast<char>(k + 1), from);
    pieces[k] = s.substr(from, at - from);
    from = at + 1;
  }
  pieces[4] = s.substr(from);
  return pieces;
}

}  // namespace

void renderPoxSettingsStart(std::string& out, std::string_view displayName, std::string_view legacyDn,
                            std::string_view smtpAddress, std::string_view deploymentId) {
  static const std::array<std::string, 5> pieces = makeStartPieces();
  out.append(pieces[0]);
  appendEscaped(out, displayName);
  out.append(pieces[1]);
  appendEscaped(out, legacyDn);
  out.append(pieces[2]);
  appendEscaped(out, smtpAddress);
  out.append(pieces[3]);
  appendEscaped(out, deploymentId);
  out.append(pieces[4]);
}

void renderPoxAccountSettings(const Answer& a, std::string& out) {
  auto w = Writer::fragment(out, 3);
  accountSettings(w, a);
}

void renderPoxSettingsEnd(std::string& out) {
  static const std::string end = [] {
    std::string s;
    auto w = Writer::fragment(s, 3);
    w.close("Account");
    w.close("Response");
    w.close("Autodiscover");
    return s;
  }();
  out.append(end);
}

}  // namespace autodisc::protocol
