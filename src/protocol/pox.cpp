#include "protocol/pox.hpp"

#include <cstdio>
#include <ctime>
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

PoxRequest parsePoxRequest(std::string_view body) {
  PoxRequest r;
  r.error = PoxError::InvalidRequest;
  pugi::xml_document doc;
  if (!xml::load(doc, body)) return r;  // not XML, or it declares a DOCTYPE
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

void renderPoxSettingsStart(std::string& out, std::string_view displayName, std::string_view legacyDn,
                            std::string_view smtpAddress, std::string_view deploymentId) {
  Writer w(out);
  w.open("Autodiscover", ns(kResponseNs));
  w.open("Response", ns(kOutlookResponseNs));
  outlookUser(w, displayName, legacyDn, smtpAddress, deploymentId);
}

void renderPoxAccountSettings(const Answer& a, std::string& out) {
  auto w = Writer::fragment(out, 3);
  accountSettings(w, a);
}

void renderPoxSettingsEnd(std::string& out) {
  auto w = Writer::fragment(out, 3);
  w.close("Account");
  w.close("Response");
  w.close("Autodiscover");
}

}  // namespace autodisc::protocol
