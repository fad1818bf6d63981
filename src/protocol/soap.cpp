#include "protocol/soap.hpp"

#include "model/text.hpp"
#include "protocol/xml_reader.hpp"
#include "protocol/xml_writer.hpp"

namespace autodisc::protocol {

using autodiscover::ExchangeVersion;
using autodiscover::SettingStatus;

namespace {

constexpr std::size_t kMaxUsers = 100;  // as Exchange: more in one request is an InvalidRequest
constexpr std::size_t kMaxSettings = 512;

struct OperationName {
  SoapOperation op;
  std::string_view name;
};
constexpr OperationName kOperations[] = {
    {SoapOperation::GetUserSettings, "GetUserSettings"},
    {SoapOperation::GetDomainSettings, "GetDomainSettings"},
    {SoapOperation::GetFederationInformation, "GetFederationInformation"},
    {SoapOperation::GetOrganizationRelationshipSettings, "GetOrganizationRelationshipSettings"},
};

std::string_view nameOf(SoapOperation op) {
  for (auto& o : kOperations)
    if (o.op == op) return o.name;
  return "Unknown";
}

SoapOperation operationNamed(std::string_view name) {
  for (auto& o : kOperations)
    if (o.name == name) return o.op;
  return SoapOperation::Unknown;
}

std::string trimmed(pugi::xml_node n) { return std::string(text::trim(n.text().get())); }

// The texts of the children named `item` of parent/`list`.
std::vector<std::string> listOf(pugi::xml_node parent, std::string_view list, std::string_view item) {
  std::vector<std::string> out;
  for (auto c : xml::child(parent, list).children())
    if (c.type() == pugi::node_element && xml::localName(c.name()) == item) out.push_back(trimmed(c));
  return out;
}

void headerText(XmlWriter& w, SoapOperation op, const ServerVersion& v) {
  w.open("s:Envelope", " xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:a=\"http://www.w3.org/2005/08/addressing\"");
  w.open("s:Header");
  w.leaf("a:Action", std::string(kActionPrefix) + std::string(nameOf(op)) + "Response", " s:mustUnderstand=\"1\"");
  w.open("h:ServerVersionInfo", " xmlns:h=\"http://schemas.microsoft.com/exchange/2010/Autodiscover\" "
                                "xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\"");
  w.leaf("h:MajorVersion", std::to_string(v.major));
  w.leaf("h:MinorVersion", std::to_string(v.minor));
  w.leaf("h:MajorBuildNumber", std::to_string(v.build));
  w.leaf("h:MinorBuildNumber", std::to_string(v.revision));
  w.leaf("h:Version", autodiscover::exchangeVersionName(autodiscover::schemaOf(v)));
  w.close("h:ServerVersionInfo");
  w.close("s:Header");
  w.open("s:Body");
}

// The envelope's start up to <s:Body>, made once per operation and version (it is the same for
// every answer of an organisation) and kept per thread.
void header(std::string& out, SoapOperation op, const ServerVersion& v) {
  struct Made {
    SoapOperation op;
    int major, minor, build, revision;
    std::string text;
  };
  thread_local std::vector<Made> made;
  for (auto& m : made)
    if (m.op == op && m.major == v.major && m.minor == v.minor && m.build == v.build && m.revision == v.revision) {
      out += m.text;
      return;
    }
  std::string text;
  XmlWriter w(text);
  headerText(w, op, v);
  if (made.size() > 64) made.clear();
  made.push_back(Made{op, v.major, v.minor, v.build, v.revision, text});
  out += text;
}

void footer(XmlWriter& w) {
  w.raw("  </s:Body>\n</s:Envelope>\n");
}

std::string messageName(SoapOperation op) { return std::string(nameOf(op)) + "ResponseMessage"; }

// The envelope and the operation's response message, up to and with <Response>.
XmlWriter beginResponse(std::string& out, SoapOperation op, const ServerVersion& v) {
  header(out, op, v);
  auto w = XmlWriter::fragment(out, 2);
  w.open(messageName(op), " xmlns=\"http://schemas.microsoft.com/exchange/2010/Autodiscover\"");
  w.open("Response", " xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\"");
  return w;
}

void endResponse(XmlWriter& w, SoapOperation op) {
  w.close("Response");
  w.close(messageName(op));
  footer(w);
}

void errorPair(XmlWriter& w, std::string_view code, std::string_view message) {
  w.leaf("ErrorCode", code);
  if (message.empty()) w.empty("ErrorMessage");
  else w.leaf("ErrorMessage", message);
}

// One UserSetting on one line, as Exchange writes them; `l` is reused.
void settingLine(const autodiscover::UserSetting& s, std::string& l) {
  l.clear();
  if (s.isUrlCollection) {
    l += "<UserSetting i:type=\"WebClientUrlCollectionSetting\"><Name>";
    appendEscaped(l, s.name);
    l += "</Name><WebClientUrls>";
    for (auto& u : s.urls) {
      l += "<WebClientUrl><AuthenticationMethods>";
      appendEscaped(l, u.authenticationMethods);
      l += "</AuthenticationMethods><Url>";
      appendEscaped(l, u.url);
      l += "</Url></WebClientUrl>";
    }
    l += "</WebClientUrls></UserSetting>";
    return;
  }
  l += "<UserSetting i:type=\"StringSetting\"><Name>";
  appendEscaped(l, s.name);
  l += "</Name><Value>";
  appendEscaped(l, s.value);
  l += "</Value></UserSetting>";
}

// The SOAP endpoint beside a POX URL: clients swap the extension as they do for SCP URLs (spec 4.1).
std::string soapUrl(std::string url) {
  constexpr std::string_view xml = ".xml";
  if (url.size() >= xml.size() && text::iequals(std::string_view(url).substr(url.size() - xml.size()), xml))
    url.replace(url.size() - xml.size(), xml.size(), ".svc");
  return url;
}

struct SettingError {
  std::string_view code, message, name;  // the name as asked for: it lives as long as the request
};

// The UserSettingErrors or DomainSettingErrors element: empty, or one error element each.
void settingErrors(XmlWriter& w, std::string_view list, std::string_view item, const std::vector<SettingError>& errors) {
  if (errors.empty()) return w.empty(list);
  w.open(list);
  for (auto& e : errors) {
    w.open(item);
    errorPair(w, e.code, e.message);
    w.leaf("SettingName", e.name);
    w.close(item);
  }
  w.close(list);
}

std::string_view statusCode(SettingStatus s) {
  return s == SettingStatus::InvalidSetting ? "InvalidSetting" : "SettingIsNotAvailable";
}
std::string_view statusMessage(SettingStatus s) {
  return s == SettingStatus::InvalidSetting ? "The requested setting is invalid."
                                            : "The requested setting is not available for this user.";
}

// The response-level checks shared by both operations; empty when the request may be answered.
std::string requestProblem(const SoapRequest& req, std::size_t items, std::string_view what,
                           ExchangeVersion& requested) {
  requested = ExchangeVersion::Exchange2010;
  if (!req.requestedServerVersion.empty()) {
    auto v = autodiscover::parseExchangeVersion(req.requestedServerVersion);
    if (!v) return "RequestedServerVersion '" + req.requestedServerVersion + "' is not a version this server knows.";
    requested = *v;
  }
  if (items == 0) return "The request names no " + std::string(what) + ".";
  if (items > kMaxUsers) return "The request names more than " + std::to_string(kMaxUsers) + " " + std::string(what) + ".";
  if (req.settings.empty()) return "The request names no settings.";
  if (req.settings.size() > kMaxSettings) return "The request names too many settings.";
  return {};
}

// A mailbox's UserResponse from ErrorCode to UserSettings.
void settingsPart(XmlWriter& w, const autodiscover::Answer& a, const SoapRequest& req, ExchangeVersion requested,
                  const autodiscover::Personal* personal) {
  errorPair(w, "NoError", "No error.");
  w.empty("RedirectTarget", " i:nil=\"true\"");
  std::vector<SettingError> errors;
  std::vector<autodiscover::UserSetting> values;
  values.reserve(req.settings.size());
  for (auto& name : req.settings) {
    auto found = autodiscover::lookupUserSetting(name, a, requested, personal);
    if (found.status == SettingStatus::Value) values.push_back(std::move(found.setting));
    else errors.push_back({statusCode(found.status), statusMessage(found.status), name});
  }
  settingErrors(w, "UserSettingErrors", "UserSettingError", errors);
  if (values.empty()) {
    w.empty("UserSettings");
  } else {
    w.open("UserSettings");
    std::string l;
    for (auto& v : values) {
      settingLine(v, l);
      w.line(l);
    }
    w.close("UserSettings");
  }
}

SoapResponse getUserSettings(const model::Organization& org, const SoapRequest& req, const SoapContext& ctx) {
  SoapResponse res;
  auto w = beginResponse(res.body, req.operation, answeringVersion(org));
  ExchangeVersion requested;
  if (auto problem = requestProblem(req, req.users.size(), "users", requested); !problem.empty()) {
    res.errorCode = "InvalidRequest";
    errorPair(w, "InvalidRequest", problem);
    w.empty("UserResponses");
  } else {
    res.errorCode = "NoError";
    errorPair(w, "NoError", "");
    w.open("UserResponses");
    for (auto& mailbox : req.users) {
      autodiscover::Query q;
      // A legacyExchangeDN may stand for the address, as in a POX request.
      if (mailbox.starts_with("/")) q.legacyDn = mailbox;
      else q.emailAddress = mailbox;
      q.internalClient = ctx.internalClient;
      q.canHandleNegotiate = true;  // EWS clients are told the real method, not the Outlook fallback
      q.canHandleExHttp = true;     // so that the InternalRpcHttp* settings have their values
      const model::Recipient* asked = q.legacyDn.empty() ? org.recipientByAddress(q.emailAddress)
                                                         : org.recipientByLegacyDn(q.legacyDn);
      autodiscover::Answer own;
      const autodiscover::Answer* cached = nullptr;
      autodiscover::Personal personal;
      if ((!ctx.caller || ctx.caller == asked) && ctx.cache && ctx.snapshot)
        cached = ctx.cache->find(*ctx.snapshot, q, personal);
      if (!cached && (!ctx.caller || ctx.caller == asked)) own = autodiscover::resolve(org, q);
      const autodiscover::Answer& a = cached ? *cached : own;
      w.open("UserResponse");
      if (a.outcome == autodiscover::Outcome::RedirectAddr) {
        errorPair(w, "RedirectAddress", "Redirection address.");
        w.leaf("RedirectTarget", a.redirectAddr);
        w.empty("UserSettingErrors");
        w.empty("UserSettings");
      } else if (a.outcome == autodiscover::Outcome::RedirectUrl) {
        errorPair(w, "RedirectUrl", "Redirection URL.");
        w.leaf("RedirectTarget", soapUrl(a.redirectUrl));
        w.empty("UserSettingErrors");
        w.empty("UserSettings");
      } else if (a.outcome != autodiscover::Outcome::Settings) {
        errorPair(w, "InvalidUser", "Invalid user: '" + mailbox + "'");
        w.empty("RedirectTarget", " i:nil=\"true\"");
        w.empty("UserSettingErrors");
        w.empty("UserSettings");
      } else if (!cached || !ctx.templates || !ctx.templates->render(*ctx.snapshot, a, req, requested, personal, res.body)) {
        settingsPart(w, a, req, requested, cached ? &personal : nullptr);
      }
      w.close("UserResponse");
    }
    w.close("UserResponses");
  }
  endResponse(w, req.operation);
  return res;
}

SoapResponse getDomainSettings(const model::Organization& org, const SoapRequest& req) {
  SoapResponse res;
  auto w = beginResponse(res.body, req.operation, answeringVersion(org));
  ExchangeVersion requested;
  if (auto problem = requestProblem(req, req.domains.size(), "domains", requested); !problem.empty()) {
    res.errorCode = "InvalidRequest";
    errorPair(w, "InvalidRequest", problem);
    w.empty("DomainResponses");
  } else {
    res.errorCode = "NoError";
    errorPair(w, "NoError", "");
    w.open("DomainResponses");
    for (auto& domain : req.domains) {
      auto d = autodiscover::resolveDomain(org, domain);
      w.open("DomainResponse");
      if (!d.accepted) {
        errorPair(w, "InvalidDomain", "The domain '" + domain + "' is not one this organisation accepts mail for.");
        w.empty("DomainSettingErrors");
        w.empty("DomainSettings");
        w.empty("RedirectTarget", " i:nil=\"true\"");
        w.close("DomainResponse");
        continue;
      }
      errorPair(w, "NoError", "No error.");
      std::vector<SettingError> errors;
      std::vector<std::pair<std::string, std::string>> values;
      for (auto& name : req.settings) {
        std::string value;
        if (name == "ExternalEwsUrl") value = d.externalEwsUrl;
        else if (name == "ExternalEwsVersion" && d.casVersion && !d.externalEwsUrl.empty())
          value = autodiscover::dottedVersion(*d.casVersion);
        else if (name != "ExternalEwsVersion") {
          errors.push_back({statusCode(SettingStatus::InvalidSetting), statusMessage(SettingStatus::InvalidSetting), name});
          continue;
        }
        if (value.empty())
          errors.push_back({statusCode(SettingStatus::SettingIsNotAvailable), "The requested setting is not available for this domain.", name});
        else
          values.emplace_back(name, value);
      }
      settingErrors(w, "DomainSettingErrors", "DomainSettingError", errors);
      if (values.empty()) {
        w.empty("DomainSettings");
      } else {
        w.open("DomainSettings");
        for (auto& [name, value] : values)
          w.line("<DomainSetting i:type=\"DomainStringSetting\"><Name>" + xmlEscape(name) + "</Name><Value>" +
                 xmlEscape(value) + "</Value></DomainSetting>");
        w.close("DomainSettings");
      }
      w.empty("RedirectTarget", " i:nil=\"true\"");
      w.close("DomainResponse");
    }
    w.close("DomainResponses");
  }
  endResponse(w, req.operation);
  return res;
}

}  // namespace

SoapResponse soapResponseError(const SoapRequest& req, std::string_view code, std::string_view message,
                               const ServerVersion& version) {
  SoapResponse res;
  res.errorCode = std::string(code);
  auto w = beginResponse(res.body, req.operation, version);
  errorPair(w, code, message);
  if (req.operation == SoapOperation::GetUserSettings) w.empty("UserResponses");
  if (req.operation == SoapOperation::GetDomainSettings) w.empty("DomainResponses");
  endResponse(w, req.operation);
  return res;
}

void SoapTemplates::keepOnly(const std::shared_ptr<const model::Organization>& org) {
  if (org_ == org) return;
  entries_.clear();
  org_ = org;
}

bool SoapTemplates::render(const std::shared_ptr<const model::Organization>& org, const autodiscover::Answer& a,
                           const SoapRequest& req, ExchangeVersion requested, const autodiscover::Personal& personal,
                           std::string& out) {
  if (personal.displayName.empty() || personal.legacyDn.empty() || personal.smtpAddress.empty() || personal.guid.empty())
    return false;  // a value the template would have and the mailbox has not: the long way
  keepOnly(org);
  const autodiscover::Answer* entry = &a;  // an AnswerCache entry: its address is its name for this snapshot
  key_.assign(reinterpret_cast<const char*>(&entry), sizeof entry);
  key_ += static_cast<char>(requested);
  for (auto& name : req.settings) {
    key_ += name;
    key_ += '\0';
  }
  auto it = entries_.find(key_);
  if (it == entries_.end()) {
    if (entries_.size() > 4096) entries_.clear();  // clients that vary their lists endlessly
    // The part rendered with markers where this mailbox's values go (\x01 and a digit: never in a
    // rendered value, since XML 1.0 does not allow the character).
    autodiscover::Personal markers;
    markers.displayName = "\x01" "1";
    markers.legacyDn = "\x01" "2";
    markers.smtpAddress = "\x01" "3";
    markers.guid = "\x01" "4";
    markers.answerGuid = personal.answerGuid.empty() ? personal.guid : personal.answerGuid;
    std::string text;
    auto w = XmlWriter::fragment(text, 6);
    settingsPart(w, a, req, requested, &markers);
    it = entries_.emplace(key_, std::move(text)).first;
  }
  const std::string& t = it->second;
  std::size_t from = 0;
  for (auto at = t.find('\x01'); at != std::string::npos && at + 1 < t.size(); at = t.find('\x01', from)) {
    out.append(t, from, at - from);
    switch (t[at + 1]) {
      case '1': appendEscaped(out, personal.displayName); break;
      case '2': appendEscaped(out, personal.legacyDn); break;
      case '3': appendEscaped(out, personal.smtpAddress); break;
      default: out += personal.guid; break;
    }
    from = at + 2;
  }
  out.append(t, from);
  return true;
}

ServerVersion answeringVersion(const model::Organization& org) {
  std::optional<ServerVersion> best;
  for (auto& [id, s] : org.all<model::ExchangeServer>()) {
    if (!s.isClientAccess()) continue;
    auto key = [](const ServerVersion& v) { return std::tuple(v.major, v.minor, v.build, v.revision); };
    if (!best || key(s.version) > key(*best)) best = s.version;
  }
  return best.value_or(ServerVersion{15, 1, 2507, 6});
}

SoapRequest parseSoapRequest(std::string_view body) {
  SoapRequest r;
  pugi::xml_document doc;
  if (!xml::load(doc, body)) {
    r.fault = "The request is not well-formed XML (or declares a DOCTYPE).";
    return r;
  }
  auto envelope = doc.document_element();
  if (!envelope || xml::localName(envelope.name()) != "Envelope" || xml::namespaceOf(envelope) != kSoapNs) {
    r.fault = "The request is not a SOAP 1.1 envelope.";
    return r;
  }
  auto head = xml::child(envelope, "Header");
  auto soapBody = xml::child(envelope, "Body");
  if (!soapBody) {
    r.fault = "The envelope has no Body.";
    return r;
  }
  pugi::xml_node message;
  for (auto c : soapBody.children())
    if (c.type() == pugi::node_element) {
      message = c;
      break;
    }
  if (!message || !xml::sameNs(xml::namespaceOf(message), kAutodiscoverSoapNs)) {
    r.fault = "The Body holds no Autodiscover request.";
    return r;
  }
  std::string messageName(xml::localName(message.name()));
  SoapOperation byBody = SoapOperation::Unknown;
  if (messageName.ends_with("RequestMessage")) byBody = operationNamed(messageName.substr(0, messageName.size() - 14));
  std::string action = head ? trimmed(xml::child(head, "Action")) : std::string();
  if (!action.empty()) {
    r.operation = action.starts_with(kActionPrefix) ? operationNamed(action.substr(kActionPrefix.size()))
                                                    : SoapOperation::Unknown;
    if (r.operation == SoapOperation::Unknown) {
      r.fault = "The action '" + action + "' is not supported.";
      return r;
    }
    if (r.operation != byBody) {
      r.fault = "The action '" + action + "' does not match the body's " + messageName + ".";
      return r;
    }
  } else if (byBody == SoapOperation::Unknown) {
    r.fault = "The body's " + messageName + " is not an Autodiscover operation.";
    return r;
  } else {
    r.operation = byBody;
  }
  if (head) r.requestedServerVersion = trimmed(xml::child(head, "RequestedServerVersion"));
  auto request = xml::child(message, "Request");
  if (!request) {
    r.fault = "The " + messageName + " has no Request.";
    return r;
  }
  r.settings = listOf(request, "RequestedSettings", "Setting");
  if (r.operation == SoapOperation::GetUserSettings) {
    for (auto u : xml::child(request, "Users").children())
      if (u.type() == pugi::node_element && xml::localName(u.name()) == "User")
        r.users.push_back(trimmed(xml::child(u, "Mailbox")));
  }
  if (r.operation == SoapOperation::GetDomainSettings) r.domains = listOf(request, "Domains", "Domain");
  return r;
}

SoapResponse answerSoap(const model::Organization& org, const SoapRequest& req, const SoapContext& ctx) {
  switch (req.operation) {
    case SoapOperation::GetUserSettings: return getUserSettings(org, req, ctx);
    case SoapOperation::GetDomainSettings: return getDomainSettings(org, req);
    case SoapOperation::GetFederationInformation:
    case SoapOperation::GetOrganizationRelationshipSettings:
      // Federation and organisation relationships are not modelled: the organisation is not federated.
      return soapResponseError(req, "NotFederated", "The organisation is not federated.", answeringVersion(org));
    case SoapOperation::Unknown: break;
  }
  return SoapResponse{500, renderSoapFault("The operation is not supported."), "fault"};
}

UserSettingsAnswer parseGetUserSettingsResponse(std::string_view body) {
  UserSettingsAnswer a;
  pugi::xml_document doc;
  if (!xml::load(doc, body)) return a;
  auto envelope = doc.document_element();
  if (!envelope || xml::localName(envelope.name()) != "Envelope") return a;
  auto soapBody = xml::child(envelope, "Body");
  if (auto fault = xml::child(soapBody, "Fault")) {
    a.soap = true;
    a.fault = trimmed(xml::child(fault, "faultstring"));
    return a;
  }
  auto message = xml::child(soapBody, "GetUserSettingsResponseMessage");
  auto response = xml::child(message, "Response");
  if (!response) return a;
  a.soap = true;
  a.errorCode = trimmed(xml::child(response, "ErrorCode"));
  a.errorMessage = trimmed(xml::child(response, "ErrorMessage"));
  if (a.errorCode != "NoError") return a;
  auto user = xml::child(xml::child(response, "UserResponses"), "UserResponse");
  if (!user) return a;
  a.errorCode = trimmed(xml::child(user, "ErrorCode"));
  a.errorMessage = trimmed(xml::child(user, "ErrorMessage"));
  a.redirectTarget = trimmed(xml::child(user, "RedirectTarget"));
  for (auto s : xml::child(user, "UserSettings").children()) {
    if (s.type() != pugi::node_element) continue;
    std::string name = trimmed(xml::child(s, "Name"));
    if (auto value = xml::child(s, "Value")) {
      a.settings.emplace_back(name, trimmed(value));
      continue;
    }
    std::vector<std::string> urls;
    for (auto u : xml::child(s, "WebClientUrls").children())
      if (u.type() == pugi::node_element) urls.push_back(trimmed(xml::child(u, "Url")));
    a.settings.emplace_back(name, text::join(urls, ", "));
  }
  return a;
}

std::string getUserSettingsRequest(std::string_view address, const std::vector<std::string>& settings,
                                   std::string_view to) {
  std::string r =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" "
      "xmlns:a=\"http://schemas.microsoft.com/exchange/2010/Autodiscover\" xmlns:wsa=\"http://www.w3.org/2005/08/addressing\">"
      "<soap:Header><a:RequestedServerVersion>Exchange2013</a:RequestedServerVersion><wsa:Action>" +
      std::string(kActionPrefix) + "GetUserSettings</wsa:Action><wsa:To>" + xmlEscape(to) +
      "</wsa:To></soap:Header><soap:Body><a:GetUserSettingsRequestMessage><a:Request><a:Users><a:User><a:Mailbox>" +
      xmlEscape(address) + "</a:Mailbox></a:User></a:Users><a:RequestedSettings>";
  for (auto& s : settings) r += "<a:Setting>" + xmlEscape(s) + "</a:Setting>";
  return r + "</a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></soap:Body></soap:Envelope>";
}

std::string renderSoapFault(std::string_view text) {
  std::string out;
  XmlWriter w(out);
  w.open("s:Envelope", " xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"");
  w.open("s:Body");
  w.open("s:Fault");
  w.leaf("faultcode", "s:Client");
  w.leaf("faultstring", text, " xml:lang=\"en-US\"");
  w.close("s:Fault");
  w.close("s:Body");
  w.close("s:Envelope");
  return out;
}

}  // namespace autodisc::protocol
