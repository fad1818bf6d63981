#include "model/schema.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>

#include "model/text.hpp"

namespace autodisc::model {

namespace {

std::string q(std::string_view s) { return "'" + std::string(s) + "'"; }

constexpr std::string_view kAdminGroup = "Exchange Administrative Group (FYDIBOHF23SPDLT)";

// --- coercion-backed setter makers -------------------------------------------------------------

template <class T>
using Setter = std::function<Result<void>(const Organization&, T&, const PropValue&)>;
template <class T>
using Getter = std::function<PropValue(const Organization&, const T&)>;

template <class T>
Getter<T> getStr(std::string T::*m) {
  return [m](const Organization&, const T& o) -> PropValue { return o.*m; };
}
template <class T>
Getter<T> getBool(bool T::*m) {
  return [m](const Organization&, const T& o) -> PropValue { return o.*m; };
}

Result<void> checkName(std::string_view s, std::size_t max = 64) {
  if (s.empty()) return fail("a name cannot be empty");
  if (s.size() > max) return fail(q(s) + " is longer than " + std::to_string(max) + " characters");
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return fail(q(s) + " contains a control character");
  return {};
}

template <class T>
Setter<T> setName(std::string T::*m, std::size_t max = 64) {
  return [m, max](const Organization&, T& o, const PropValue& v) -> Result<void> {
    auto s = asString(v);
    if (!s) return std::unexpected(s.error());
    std::string t(text::trim(*s));
    if (auto ok = checkName(t, max); !ok) return ok;
    o.*m = t;
    return {};
  };
}

Result<std::string> urlValue(const PropValue& v) {
  if (std::holds_alternative<std::monostate>(v)) return std::string();
  auto s = asString(v);
  if (!s) return s;
  std::string t(text::trim(*s));
  if (t.empty()) return fail("the URL is empty (use $null to clear it)");
  if (t.size() > 2048) return fail("the URL is longer than 2048 characters");
  if (auto u = parseUrl(t); !u) return std::unexpected(u.error());
  return t;
}

template <class T>
Setter<T> setUrl(std::string T::*m) {
  return [m](const Organization&, T& o, const PropValue& v) -> Result<void> {
    auto u = urlValue(v);
    if (!u) return std::unexpected(u.error());
    o.*m = *u;
    return {};
  };
}

Result<std::string> fqdnValue(const PropValue& v, bool allowEmpty) {
  if (std::holds_alternative<std::monostate>(v)) {
    if (allowEmpty) return std::string();
    return fail("a host name is required");
  }
  auto s = asString(v);
  if (!s) return s;
  std::string t(text::trim(*s));
  if (t.empty()) {
    if (allowEmpty) return std::string();
    return fail("the host name is empty");
  }
  if (auto ok = checkFqdn(t); !ok) return std::unexpected(ok.error());
  return t;
}

template <class T>
Setter<T> setFqdn(std::string T::*m, bool allowEmpty) {
  return [m, allowEmpty](const Organization&, T& o, const PropValue& v) -> Result<void> {
    auto f = fqdnValue(v, allowEmpty);
    if (!f) return std::unexpected(f.error());
    o.*m = *f;
    return {};
  };
}

template <class T>
Setter<T> setBool(bool T::*m) {
  return [m](const Organization&, T& o, const PropValue& v) -> Result<void> {
    auto b = asBool(v);
    if (!b) return std::unexpected(b.error());
    o.*m = *b;
    return {};
  };
}

PropValue authList(const std::vector<AuthMethod>& l) {
  std::vector<std::string> out;
  for (auto m : l) out.emplace_back(authMethodName(m));
  return out;
}

Result<std::vector<AuthMethod>> parseAuthList(const PropValue& v) {
  std::vector<AuthMethod> out;
  if (std::holds_alternative<std::monostate>(v)) return out;
  auto l = asList(v);
  if (!l) return std::unexpected(l.error());
  for (auto& s : *l) {
    auto m = parseAuthMethod(text::trim(s));
    if (!m) return std::unexpected(m.error());
    if (std::find(out.begin(), out.end(), *m) == out.end()) out.push_back(*m);
  }
  return out;
}

template <class T>
Setter<T> setAuthList(std::vector<AuthMethod> T::*m) {
  return [m](const Organization&, T& o, const PropValue& v) -> Result<void> {
    auto l = parseAuthList(v);
    if (!l) return std::unexpected(l.error());
    o.*m = *l;
    return {};
  };
}

template <class T>
Setter<T> setAuth(AuthMethod T::*m) {
  return [m](const Organization&, T& o, const PropValue& v) -> Result<void> {
    auto s = asString(v);
    if (!s) return std::unexpected(s.error());
    auto a = parseAuthMethod(text::trim(*s));
    if (!a) return std::unexpected(a.error());
    o.*m = *a;
    return {};
  };
}

template <class T>
Getter<T> getSite(Id T::*m) {
  return [m](const Organization& org, const T& o) -> PropValue {
    auto* s = org.find<AdSite>(o.*m);
    return s ? PropValue{s->name} : PropValue{};
  };
}
template <class T>
Setter<T> setSite(Id T::*m) {
  return [m](const Organization& org, T& o, const PropValue& v) -> Result<void> {
    auto s = asString(v);
    if (!s) return std::unexpected(s.error());
    auto* site = org.siteByName(text::trim(*s));
    if (!site) return fail("there is no AD site named " + q(*s) + " (see Get-ADReplicationSite)");
    o.*m = site->id;
    return {};
  };
}
template <class T>
Getter<T> getServer(Id T::*m) {
  return [m](const Organization& org, const T& o) -> PropValue {
    auto* s = org.find<ExchangeServer>(o.*m);
    return s ? PropValue{s->name} : PropValue{};
  };
}
template <class T>
Setter<T> setServer(Id T::*m) {
  return [m](const Organization& org, T& o, const PropValue& v) -> Result<void> {
    auto s = asString(v);
    if (!s) return std::unexpected(s.error());
    auto* srv = org.serverByName(text::trim(*s));
    if (!srv) return fail("there is no Exchange server named " + q(*s) + " (see Get-ExchangeServer)");
    o.*m = srv->id;
    return {};
  };
}

template <class T>
Result<void> uniqueName(const Organization& org, const T& obj, std::string_view what) {
  for (auto& [id, other] : org.all<T>())
    if (id != obj.id && text::iequals(other.name, obj.name))
      return fail("a " + std::string(what) + " named " + q(obj.name) + " already exists");
  return {};
}

// Strips an "smtp:"-like prefix: returns {prefix, address}.
std::pair<std::string_view, std::string_view> splitProxy(std::string_view p) {
  auto colon = p.find(':');
  if (colon == std::string_view::npos || colon == 0 || p.find('@') < colon) return {"", p};
  return {p.substr(0, colon), p.substr(colon + 1)};
}

Result<std::vector<std::string>> normaliseProxies(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  int primaries = 0;
  for (auto& raw : in) {
    auto t = text::trim(raw);
    if (t.empty()) continue;
    auto [prefix, addr] = splitProxy(t);
    std::string p = prefix.empty() ? "smtp" : std::string(prefix);
    if (text::iequals(p, "smtp")) {
      if (auto ok = checkSmtpAddress(addr); !ok) return std::unexpected(ok.error());
      if (p == "SMTP") ++primaries;
      else p = "smtp";
    }
    for (auto& existing : out)
      if (text::iequals(existing, p + ":" + std::string(addr)))
        return fail("the address " + q(addr) + " is listed twice");
    out.push_back(p + ":" + std::string(addr));
  }
  if (primaries > 1) return fail("only one address can be the primary one (SMTP: in capitals)");
  if (primaries == 0) {
    for (auto& p : out)
      if (text::istartsWith(p, "smtp:")) {
        p.replace(0, 4, "SMTP");
        primaries = 1;
        break;
      }
  }
  return out;
}

}  // namespace

// --- value coercions ------------------------------------------------------------------------------

Result<std::string> asString(const PropValue& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* b = std::get_if<bool>(&v)) return std::string(*b ? "True" : "False");
  if (auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (std::holds_alternative<std::monostate>(v)) return std::string();
  auto& l = std::get<std::vector<std::string>>(v);
  if (l.size() == 1) return l.front();
  return fail("a single value is expected, not a list of " + std::to_string(l.size()));
}

Result<bool> asBool(const PropValue& v) {
  if (auto* b = std::get_if<bool>(&v)) return *b;
  if (auto* i = std::get_if<std::int64_t>(&v)) return *i != 0;
  if (auto* s = std::get_if<std::string>(&v)) {
    auto t = text::trim(*s);
    if (text::iequals(t, "true") || text::iequals(t, "$true") || t == "1") return true;
    if (text::iequals(t, "false") || text::iequals(t, "$false") || t == "0") return false;
    return fail(q(*s) + " is not a Boolean ($true or $false)");
  }
  return fail("a Boolean ($true or $false) is expected");
}

Result<std::int64_t> asInt(const PropValue& v) {
  if (auto* i = std::get_if<std::int64_t>(&v)) return *i;
  auto s = asString(v);
  if (!s) return std::unexpected(s.error());
  auto t = text::trim(*s);
  std::int64_t n = 0;
  bool neg = !t.empty() && t.front() == '-';
  if (neg) t.remove_prefix(1);
  if (t.empty() || t.size() > 15) return fail(q(*s) + " is not a whole number");
  for (char c : t) {
    if (c < '0' || c > '9') return fail(q(*s) + " is not a whole number");
    n = n * 10 + (c - '0');
  }
  return neg ? -n : n;
}

Result<std::vector<std::string>> asList(const PropValue& v) {
  if (auto* l = std::get_if<std::vector<std::string>>(&v)) return *l;
  if (std::holds_alternative<std::monostate>(v)) return std::vector<std::string>{};
  auto s = asString(v);
  if (!s) return std::unexpected(s.error());
  return std::vector<std::string>{*s};
}

std::string displayText(const PropValue& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* b = std::get_if<bool>(&v)) return *b ? "True" : "False";
  if (auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (auto* l = std::get_if<std::vector<std::string>>(&v)) return "{" + text::join(*l, ", ") + "}";
  return "";
}

// --- names -------------------------------------------------------------------------------------------

std::string_view domainTypeName(DomainType t) {
  static constexpr std::array<std::string_view, 3> n = {"Authoritative", "InternalRelay", "ExternalRelay"};
  return n[static_cast<int>(t)];
}

std::string_view recipientTypeName(RecipientType t) {
  switch (t) {
    case RecipientType::Mailbox: return "UserMailbox";
    case RecipientType::MailUser: return "MailUser";
    case RecipientType::None: break;
  }
  return "";
}

namespace {
constexpr std::array<std::pair<std::uint8_t, std::string_view>, 5> kRoles = {{
    {RoleMailbox, "Mailbox"},
    {RoleClientAccess, "ClientAccess"},
    {RoleUnifiedMessaging, "UnifiedMessaging"},
    {RoleHubTransport, "HubTransport"},
    {RoleEdgeTransport, "Edge"},
}};
constexpr std::array<std::string_view, kVdirTypeCount> kVdirTypeNames = {"Owa", "Oab", "Ews", "ActiveSync",
                                                                          "Ecp", "Autodiscover", "Mapi"};
}  // namespace

namespace {
constexpr std::array<std::pair<std::uint8_t, std::string_view>, 6> kCertServices = {{
    {ServiceImap, "IMAP"}, {ServicePop, "POP"}, {ServiceUm, "UM"}, {ServiceIis, "IIS"}, {ServiceSmtp, "SMTP"},
    {ServiceUmCallRouter, "UMCallRouter"},
}};
}  // namespace

std::string certificateServicesText(std::uint8_t services) {
  std::string out;
  for (auto& [bit, name] : kCertServices)
    if (services & bit) out += (out.empty() ? "" : ", ") + std::string(name);
  return out.empty() ? "None" : out;
}

Result<std::uint8_t> parseCertificateServices(const std::vector<std::string>& names) {
  std::uint8_t out = 0;
  for (auto& n : names)
    for (auto part : text::split(n, ',')) {
      auto t = text::trim(part);
      if (t.empty() || text::iequals(t, "None")) continue;
      bool found = false;
      for (auto& [bit, name] : kCertServices)
        if (text::iequals(t, name)) {
          out |= bit;
          found = true;
        }
      if (!found) return fail(q(t) + " is not a certificate service (IIS, SMTP, IMAP, POP, UM, UMCallRouter, None)");
    }
  return out;
}

std::string serverRoleText(std::uint8_t roles) {
  std::string out;
  for (auto& [bit, name] : kRoles)
    if (roles & bit) out += (out.empty() ? "" : ", ") + std::string(name);
  return out.empty() ? "None" : out;
}

Result<std::uint8_t> parseServerRoles(const std::vector<std::string>& names) {
  std::uint8_t roles = 0;
  for (auto& n : names) {
    for (auto part : text::split(n, ',')) {
      auto t = text::trim(part);
      if (t.empty()) continue;
      bool found = false;
      for (auto& [bit, name] : kRoles)
        if (text::iequals(t, name) || (bit == RoleClientAccess && text::iequals(t, "CAS")) ||
            (bit == RoleEdgeTransport && text::iequals(t, "EdgeTransport"))) {
          roles |= bit;
          found = true;
        }
      if (!found)
        return fail(q(t) + " is not a server role (Mailbox, ClientAccess, HubTransport, UnifiedMessaging, Edge)");
    }
  }
  if (!roles) return fail("at least one server role is required");
  return roles;
}

std::string_view vdirTypeName(VdirType t) { return kVdirTypeNames[static_cast<int>(t)]; }

Result<VdirType> parseVdirType(std::string_view s) {
  for (std::size_t i = 0; i < kVdirTypeNames.size(); ++i)
    if (text::iequals(kVdirTypeNames[i], s)) return static_cast<VdirType>(i);
  return fail(q(s) + " is not a virtual directory type");
}

// --- identities and defaults ------------------------------------------------------------------------

std::string identityOf(const Organization& org, const VirtualDirectory& v) {
  auto* s = org.find<ExchangeServer>(v.server);
  return (s ? s->name : std::string("?")) + "\\" + v.name + " (" + v.website + ")";
}

std::string identityOf(const Organization& org, const OutlookAnywhere& o) {
  auto* s = org.find<ExchangeServer>(o.server);
  return (s ? s->name : std::string("?")) + "\\Rpc (Default Web Site)";
}

std::vector<VirtualDirectory> defaultVirtualDirectories(const ExchangeServer& server) {
  std::vector<VirtualDirectory> out;
  for (int i = 0; i < kVdirTypeCount; ++i) {
    VirtualDirectory v;
    v.type = static_cast<VdirType>(i);
    v.server = server.id;
    v.name = std::string(vdirDefaultName(v.type));
    v.website = "Default Web Site";
    v.internalUrl = "https://" + text::toLower(server.fqdn) + std::string(vdirDefaultPath(v.type));
    // Exchange setup leaves the Autodiscover directory's URLs empty (the article's Figure 4).
    if (v.type == VdirType::Autodiscover) v.internalUrl.clear();
    switch (v.type) {
      case VdirType::Owa:
      case VdirType::Ecp:
        v.internalAuthenticationMethods = {AuthMethod::Basic, AuthMethod::Fba};
        v.externalAuthenticationMethods = {AuthMethod::Fba};
        break;
      case VdirType::Ews:
      case VdirType::Mapi:
        v.internalAuthenticationMethods = {AuthMethod::Ntlm, AuthMethod::WindowsIntegrated};
        v.externalAuthenticationMethods = {AuthMethod::Ntlm, AuthMethod::WindowsIntegrated};
        break;
      case VdirType::ActiveSync:
        v.internalAuthenticationMethods = {AuthMethod::Basic};
        v.externalAuthenticationMethods = {AuthMethod::Basic};
        break;
      case VdirType::Oab:
      case VdirType::Autodiscover:
        v.internalAuthenticationMethods = {AuthMethod::WindowsIntegrated};
        v.externalAuthenticationMethods = {AuthMethod::WindowsIntegrated};
        break;
    }
    out.push_back(std::move(v));
  }
  return out;
}

OutlookAnywhere defaultOutlookAnywhere(const ExchangeServer& server) {
  OutlookAnywhere o;
  o.server = server.id;
  o.internalHostname = text::toLower(server.fqdn);
  return o;
}

std::string defaultAutoDiscoverServiceInternalUri(const ExchangeServer& server) {
  return "https://" + text::toLower(server.fqdn) + "/Autodiscover/Autodiscover.xml";
}

std::vector<OutlookProvider> defaultOutlookProviders() {
  std::vector<OutlookProvider> out;
  Id id = 1;
  for (auto n : {"EXCH", "EXPR", "WEB"}) {
    OutlookProvider p;
    p.id = id++;
    p.name = n;
    out.push_back(p);
  }
  return out;
}

std::string administrativeGroupDn(const Organization& org) {
  return "/o=" + org.config().name + "/ou=" + std::string(kAdminGroup);
}

std::string deriveLegacyExchangeDn(const Organization& org, std::string_view alias, const Guid& guid) {
  std::string base = administrativeGroupDn(org) + "/cn=Recipients/cn=";
  std::string dn = base + std::string(alias);
  if (!org.recipientByLegacyDn(dn)) return dn;
  // Exchange adds a unique suffix when the plain form is taken.
  auto hex = guid.str();
  hex.erase(std::remove(hex.begin(), hex.end(), '-'), hex.end());
  return base + hex + "-" + std::string(alias);
}

// --- property tables ------------------------------------------------------------------------------------

template <>
const std::vector<Property<AcceptedDomain>>& properties() {
  using T = AcceptedDomain;
  static const std::vector<Property<T>> table = {
      {"Name", getStr(&T::name), setName(&T::name)},
      {"DomainName", getStr(&T::domainName),
       [](const Organization&, T& o, const PropValue& v) -> Result<void> {
         auto s = asString(v);
         if (!s) return std::unexpected(s.error());
         std::string t = text::toLower(text::trim(*s));
         std::string_view host = t;
         if (host.starts_with("*.")) host.remove_prefix(2);
         if (auto ok = checkFqdn(host); !ok) return ok;
         o.domainName = t;
         return {};
       }},
      {"DomainType", [](const Organization&, const T& o) -> PropValue { return std::string(domainTypeName(o.domainType)); },
       [](const Organization&, T& o, const PropValue& v) -> Result<void> {
         auto s = asString(v);
         if (!s) return std::unexpected(s.error());
         for (int i = 0; i < 3; ++i)
           if (text::iequals(text::trim(*s), domainTypeName(static_cast<DomainType>(i)))) {
             o.domainType = static_cast<DomainType>(i);
             return {};
           }
         return fail(q(*s) + " is not a domain type (Authoritative, InternalRelay or ExternalRelay)");
       }},
      {"Default", getBool(&T::isDefault), setBool(&T::isDefault)},
      {"AutodiscoverRedirectUrl", getStr(&T::autodiscoverRedirectUrl), setUrl(&T::autodiscoverRedirectUrl)},
  };
  return table;
}

template <>
const std::vector<Property<AdSite>>& properties() {
  using T = AdSite;
  static const std::vector<Property<T>> table = {
      {"Name", getStr(&T::name), setName(&T::name)},
      {"Subnets",
       [](const Organization& org, const T& o) -> PropValue {
         std::vector<std::string> out;
         for (auto& [id, s] : org.all<AdSubnet>())
           if (s.site == o.id) out.push_back(s.name());
         return out;
       },
       nullptr},
  };
  return table;
}

template <>
const std::vector<Property<AdSubnet>>& properties() {
  using T = AdSubnet;
  static const std::vector<Property<T>> table = {
      {"Name", [](const Organization&, const T& o) -> PropValue { return o.name(); },
       [](const Organization&, T& o, const PropValue& v) -> Result<void> {
         auto s = asString(v);
         if (!s) return std::unexpected(s.error());
         auto c = parseCidr(text::trim(*s));
         if (!c) return std::unexpected(c.error());
         o.range = *c;
         return {};
       }},
      {"Site", getSite(&T::site), setSite(&T::site)},
  };
  return table;
}

template <>
const std::vector<Property<ExchangeServer>>& properties() {
  using T = ExchangeServer;
  static const std::vector<Property<T>> table = {
      {"Name", getStr(&T::name),
       [](const Organization&, T& o, const PropValue& v) -> Result<void> {
         auto s = asString(v);
         if (!s) return std::unexpected(s.error());
         std::string t(text::trim(*s));
         if (t.empty() || t.size() > 15 || !isHostName(t) || t.find('.') != std::string::npos)
           return fail(q(t) + " is not a valid server name (1 to 15 letters, digits and hyphens)");
         o.name = t;
         return {};
       }},
      {"Fqdn", getStr(&T::fqdn), setFqdn(&T::fqdn, false)},
      {"Site", getSite(&T::site), setSite(&T::site)},
      {"ServerRole", [](const Organization&, const T& o) -> PropValue { return serverRoleText(o.roles); },
       [](const Organization&, T& o, const PropValue& v) -> Result<void> {
         auto l = asList(v);
         if (!l) return std::unexpected(l.error());
         auto r = parseServerRoles(*l);
         if (!r) return std::unexpected(r.error());
         o.roles = *r;
         return {};
       }},
      {"AdminDisplayVersion", [](const Organization&, const T& o) -> PropValue { return o.version.str(); },
       [](const Organization&, T& o, const PropValue& v) -> Result<void> {
         auto s = asString(v);
         if (!s) return std::unexpected(s.error());
         auto ver = parseServerVersion(text::trim(*s));
         if (!ver) return std::unexpected(ver.error());
         o.version = *ver;
         return {};
       }},
      {"AutoDiscoverServiceInternalUri", getStr(&T::autoDiscoverServiceInternalUri),
       setUrl(&T::autoDiscoverServiceInternalUri)},
      {"AutoDiscoverSiteScope",
       [](const Organization&, const T& o) -> PropValue { return o.autoDiscoverSiteScope; },
       [](const Organization& org, T& o, const PropValue& v) -> Result<void> {
         auto l = asList(v);
         if (!l) return std::unexpected(l.error());
         std::vector<std::string> out;
         for (auto& s : *l) {
           auto t = text::trim(s);
           if (t.empty()) continue;
           auto ok = checkName(t);
           if (!ok) return ok;
           // Exchange accepts any site name here; a site that does not exist yet is allowed.
           auto* site = org.siteByName(t);
           out.push_back(site ? site->name : std::string(t));
         }
         o.autoDiscoverSiteScope = out;
         return {};
       }},
  };
  return table;
}

template <>
const std::vector<Property<VirtualDirectory>>& properties() {
  using T = VirtualDirectory;
  auto authFlag = [](AuthMethod m) -> Property<T> {
    std::string name = m == AuthMethod::Basic      ? "BasicAuthentication"
                       : m == AuthMethod::Digest   ? "DigestAuthentication"
                       : m == AuthMethod::Fba      ? "FormsAuthentication"
                                                   : "WindowsAuthentication";
    return {name,
            [m](const Organization&, const T& o) -> PropValue {
              auto& l = o.internalAuthenticationMethods;
              return std::find(l.begin(), l.end(), m) != l.end();
            },
            [m](const Organization&, T& o, const PropValue& v) -> Result<void> {
              auto b = asBool(v);
              if (!b) return std::unexpected(b.error());
              for (auto* l : {&o.internalAuthenticationMethods, &o.externalAuthenticationMethods}) {
                auto it = std::find(l->begin(), l->end(), m);
                if (*b && it == l->end()) l->push_back(m);
                if (!*b && it != l->end()) l->erase(it);
              }
              return {};
            }};
  };
  static const std::vector<Property<T>> table = {
      {"Identity", [](const Organization& org, const T& o) -> PropValue { return identityOf(org, o); }, nullptr},
      {"Name", [](const Organization&, const T& o) -> PropValue { return o.name + " (" + o.website + ")"; }, nullptr},
      {"Server", getServer(&T::server), nullptr},
      {"InternalUrl", getStr(&T::internalUrl), setUrl(&T::internalUrl)},
      {"ExternalUrl", getStr(&T::externalUrl), setUrl(&T::externalUrl)},
      {"InternalAuthenticationMethods",
       [](const Organization&, const T& o) -> PropValue { return authList(o.internalAuthenticationMethods); },
       setAuthList(&T::internalAuthenticationMethods)},
      {"ExternalAuthenticationMethods",
       [](const Organization&, const T& o) -> PropValue { return authList(o.externalAuthenticationMethods); },
       setAuthList(&T::externalAuthenticationMethods)},
      authFlag(AuthMethod::Basic),
      authFlag(AuthMethod::Digest),
      authFlag(AuthMethod::Fba),
      authFlag(AuthMethod::WindowsIntegrated),
  };
  return table;
}

template <>
const std::vector<Property<OutlookAnywhere>>& properties() {
  using T = OutlookAnywhere;
  static const std::vector<Property<T>> table = {
      {"Identity", [](const Organization& org, const T& o) -> PropValue { return identityOf(org, o); }, nullptr},
      {"Server", getServer(&T::server), nullptr},
      {"InternalHostname", getStr(&T::internalHostname), setFqdn(&T::internalHostname, true)},
      {"ExternalHostname", getStr(&T::externalHostname), setFqdn(&T::externalHostname, true)},
      {"InternalClientsRequireSsl", getBool(&T::internalClientsRequireSsl), setBool(&T::internalClientsRequireSsl)},
      {"ExternalClientsRequireSsl", getBool(&T::externalClientsRequireSsl), setBool(&T::externalClientsRequireSsl)},
      {"InternalClientAuthenticationMethod",
       [](const Organization&, const T& o) -> PropValue {
         return std::string(authMethodName(o.internalClientAuthenticationMethod));
       },
       setAuth(&T::internalClientAuthenticationMethod)},
      {"ExternalClientAuthenticationMethod",
       [](const Organization&, const T& o) -> PropValue {
         return std::string(authMethodName(o.externalClientAuthenticationMethod));
       },
       setAuth(&T::externalClientAuthenticationMethod)},
      {"IISAuthenticationMethods",
       [](const Organization&, const T& o) -> PropValue { return authList(o.iisAuthenticationMethods); },
       setAuthList(&T::iisAuthenticationMethods)},
  };
  return table;
}

template <>
const std::vector<Property<ClientAccessArray>>& properties() {
  using T = ClientAccessArray;
  static const std::vector<Property<T>> table = {
      {"Name", getStr(&T::name), setName(&T::name)},
      {"Fqdn", getStr(&T::fqdn), setFqdn(&T::fqdn, false)},
      {"Site", getSite(&T::site), setSite(&T::site)},
      {"Members",
       [](const Organization& org, const T& o) -> PropValue {
         std::vector<std::string> out;
         for (auto& [id, s] : org.all<ExchangeServer>())
           if (s.site == o.site && s.isClientAccess()) out.push_back(s.name);
         return out;
       },
       nullptr},
  };
  return table;
}

template <>
const std::vector<Property<MailboxDatabase>>& properties() {
  using T = MailboxDatabase;
  static const std::vector<Property<T>> table = {
      {"Name", getStr(&T::name), setName(&T::name)},
      {"Server", getServer(&T::server), setServer(&T::server)},
      {"RpcClientAccessServer", getStr(&T::rpcClientAccessServer), setFqdn(&T::rpcClientAccessServer, false)},
      {"Guid", [](const Organization&, const T& o) -> PropValue { return o.guid.str(); }, nullptr},
  };
  return table;
}

template <>
const std::vector<Property<Recipient>>& properties() {
  using T = Recipient;
  auto field = [](Recipient::Field f) {
    return [f](const Organization&, const T& o) -> PropValue { return std::string(o.field(f)); };
  };
  static const std::vector<Property<T>> table = {
      {"Name", field(Recipient::Name),
       [](const Organization&, T& o, const PropValue& v) -> Result<void> {
         auto s = asString(v);
         if (!s) return std::unexpected(s.error());
         auto t = text::trim(*s);
         if (auto ok = checkName(t); !ok) return ok;
         o.setField(Recipient::Name, t);
         return {};
       }},
      {"Alias", field(Recipient::Alias),
       [](const Organization&, T& o, const PropValue& v) -> Result<void> {
         auto s = asString(v);
         if (!s) return std::unexpected(s.error());
         auto t = text::trim(*s);
         static constexpr std::string_view extra = "!#$%&'*+-/=?^_`{|}~.";
         if (t.empty() || t.size() > 64) return fail("an alias must have 1 to 64 characters");
         for (char c : t)
           if (!std::isalnum(static_cast<unsigned char>(c)) && extra.find(c) == std::string_view::npos)
             return fail(q(t) + " is not a valid alias (character '" + std::string(1, c) + "')");
         if (t.front() == '.' || t.back() == '.') return fail(q(t) + " is not a valid alias (leading or trailing dot)");
         o.setField(Recipient::Alias, t);
         return {};
       }},
      {"DisplayName", field(Recipient::DisplayName),
       [](const Organization&, T& o, const PropValue& v) -> Result<void> {
         auto s = asString(v);
         if (!s) return std::unexpected(s.error());
         auto t = text::trim(*s);
         if (auto ok = checkName(t, 256); !ok) return ok;
         o.setField(Recipient::DisplayName, t);
         return {};
       }},
      {"RecipientTypeDetails",
       [](const Organization&, const T& o) -> PropValue { return std::string(recipientTypeName(o.type)); }, nullptr},
      {"PrimarySmtpAddress", [](const Organization&, const T& o) -> PropValue { return std::string(o.primarySmtpAddress()); },
       [](const Organization&, T& o, const PropValue& v) -> Result<void> {
         auto s = asString(v);
         if (!s) return std::unexpected(s.error());
         auto addr = text::trim(*s);
         if (auto ok = checkSmtpAddress(addr); !ok) return ok;
         std::vector<std::string> proxies;
         bool present = false;
         for (auto p : o.emailAddresses()) {
           std::string x(p);
           if (x.starts_with("SMTP:")) x.replace(0, 4, "smtp");
           if (text::istartsWith(x, "smtp:") && text::iequals(std::string_view(x).substr(5), addr)) {
             x = "SMTP:" + std::string(addr);
             present = true;
           }
           proxies.push_back(x);
         }
         if (!present) proxies.insert(proxies.begin(), "SMTP:" + std::string(addr));
         o.setEmailAddresses(proxies);
         return {};
       }},
      {"EmailAddresses",
       [](const Organization&, const T& o) -> PropValue {
         std::vector<std::string> out;
         for (auto p : o.emailAddresses()) out.emplace_back(p);
         return out;
       },
       [](const Organization&, T& o, const PropValue& v) -> Result<void> {
         auto l = asList(v);
         if (!l) return std::unexpected(l.error());
         auto n = normaliseProxies(*l);
         if (!n) return std::unexpected(n.error());
         if (n->empty()) return fail("a recipient needs at least one SMTP address");
         if (n->size() > 200) return fail("a recipient can have at most 200 addresses");
         o.setEmailAddresses(*n);
         return {};
       }},
      {"ExternalEmailAddress", field(Recipient::ExternalEmailAddress),
       [](const Organization&, T& o, const PropValue& v) -> Result<void> {
         auto s = asString(v);
         if (!s) return std::unexpected(s.error());
         auto [prefix, addr] = splitProxy(text::trim(*s));
         if (!prefix.empty() && !text::iequals(prefix, "smtp"))
           return fail(q(*s) + ": only SMTP external addresses are supported");
         if (auto ok = checkSmtpAddress(addr); !ok) return ok;
         o.setField(Recipient::ExternalEmailAddress, "SMTP:" + std::string(addr));
         return {};
       }},
      {"Database",
       [](const Organization& org, const T& o) -> PropValue {
         auto* d = org.find<MailboxDatabase>(o.database);
         return d ? PropValue{d->name} : PropValue{};
       },
       [](const Organization& org, T& o, const PropValue& v) -> Result<void> {
         auto s = asString(v);
         if (!s) return std::unexpected(s.error());
         for (auto& [id, d] : org.all<MailboxDatabase>())
           if (text::iequals(d.name, text::trim(*s))) {
             o.database = id;
             return {};
           }
         return fail("there is no mailbox database named " + q(*s) + " (see Get-MailboxDatabase)");
       }},
      {"ExchangeGuid", [](const Organization&, const T& o) -> PropValue {
         return o.exchangeGuid.isNull() ? PropValue{} : PropValue{o.exchangeGuid.str()};
       }, nullptr},
      {"LegacyExchangeDN", field(Recipient::LegacyExchangeDn), nullptr},
  };
  return table;
}

template <>
const std::vector<Property<OutlookProvider>>& properties() {
  using T = OutlookProvider;
  static const std::vector<Property<T>> table = {
      {"Name", getStr(&T::name), nullptr},
      {"CertPrincipalName", getStr(&T::certPrincipalName),
       [](const Organization&, T& o, const PropValue& v) -> Result<void> {
         if (std::holds_alternative<std::monostate>(v)) {
           o.certPrincipalName.clear();
           return {};
         }
         auto s = asString(v);
         if (!s) return std::unexpected(s.error());
         std::string t(text::trim(*s));
         if (!text::iequals(t, "None")) {
           std::string_view host = t;
           if (text::istartsWith(host, "msstd:")) host.remove_prefix(6);
           if (host.starts_with("*.")) host.remove_prefix(2);
           if (auto ok = checkFqdn(host); !ok)
             return fail(q(t) + " is not a certificate principal name (msstd:host.example.com or None)");
         }
         o.certPrincipalName = t;
         return {};
       }},
      {"TTL", [](const Organization&, const T& o) -> PropValue { return std::int64_t{o.ttl}; },
       [](const Organization&, T& o, const PropValue& v) -> Result<void> {
         auto n = asInt(v);
         if (!n) return std::unexpected(n.error());
         if (*n < -1 || *n > 8760) return fail("the TTL is in hours, from 0 to 8760 (or -1 for none)");
         o.ttl = static_cast<int>(*n);
         return {};
       }},
      {"Server", getStr(&T::server), setFqdn(&T::server, true)},
  };
  return table;
}

template <>
const std::vector<Property<OrganizationConfig>>& properties() {
  using T = OrganizationConfig;
  static const std::vector<Property<T>> table = {
      {"Name", getStr(&T::name),
       [](const Organization&, T& o, const PropValue& v) -> Result<void> {
         auto s = asString(v);
         if (!s) return std::unexpected(s.error());
         std::string t(text::trim(*s));
         if (auto ok = checkName(t); !ok) return ok;
         if (t.find('/') != std::string::npos) return fail(q(t) + " cannot contain '/'");
         o.name = t;
         return {};
       }},
      {"MapiHttpEnabled", getBool(&T::mapiHttpEnabled), setBool(&T::mapiHttpEnabled)},
      {"Guid", [](const Organization&, const T& o) -> PropValue { return o.guid.str(); }, nullptr},
      {"OfflineAddressBookGuid",
       [](const Organization&, const T& o) -> PropValue { return o.offlineAddressBookGuid.str(); }, nullptr},
  };
  return table;
}

template <>
const std::vector<Property<ExchangeCertificate>>& properties() {
  using T = ExchangeCertificate;
  static const std::vector<Property<T>> table = {
      {"Thumbprint", getStr(&T::thumbprint), nullptr},
      {"Services", [](const Organization&, const T& o) -> PropValue { return certificateServicesText(o.services); },
       nullptr},
      {"Subject", getStr(&T::subject), nullptr},
      {"FriendlyName", getStr(&T::friendlyName), setName(&T::friendlyName, 256)},
      {"CertificateDomains",
       [](const Organization&, const T& o) -> PropValue { return o.certificateDomains; }, nullptr},
      {"Issuer", getStr(&T::issuer), nullptr},
      {"NotBefore", getStr(&T::notBefore), nullptr},
      {"NotAfter", getStr(&T::notAfter), nullptr},
      {"Status",
       [](const Organization&, const T& o) -> PropValue {
         return certificateStatus(o, std::chrono::system_clock::now());
       },
       nullptr},
      {"IsSelfSigned", getBool(&T::selfSigned), nullptr},
      {"HasPrivateKey", [](const Organization&, const T& o) -> PropValue { return !o.privateKeyPem.empty(); }, nullptr},
  };
  return table;
}

// --- whole-object validation -------------------------------------------------------------------------

template <>
Result<void> validate(const Organization& org, const AcceptedDomain& d) {
  if (auto ok = checkName(d.name); !ok) return ok;
  if (d.domainName.empty()) return fail("DomainName is required");
  if (auto ok = uniqueName(org, d, "accepted domain"); !ok) return ok;
  for (auto& [id, o] : org.all<AcceptedDomain>())
    if (id != d.id && text::iequals(o.domainName, d.domainName))
      return fail("the domain " + q(d.domainName) + " is already the accepted domain " + q(o.name));
  return {};
}

template <>
Result<void> validate(const Organization& org, const AdSite& s) {
  if (auto ok = checkName(s.name); !ok) return ok;
  return uniqueName(org, s, "site");
}

template <>
Result<void> validate(const Organization& org, const AdSubnet& s) {
  if (!org.find<AdSite>(s.site)) return fail("the subnet needs a site");
  for (auto& [id, o] : org.all<AdSubnet>())
    if (id != s.id && o.range.str() == s.range.str()) return fail("the subnet " + q(s.name()) + " already exists");
  return {};
}

template <>
Result<void> validate(const Organization& org, const ExchangeServer& s) {
  if (s.name.empty()) return fail("Name is required");
  if (s.fqdn.empty()) return fail("Fqdn is required");
  if (!org.find<AdSite>(s.site)) return fail("the server needs an AD site (-Site)");
  for (auto& [id, o] : org.all<ExchangeServer>()) {
    if (id == s.id) continue;
    if (text::iequals(o.name, s.name)) return fail("a server named " + q(s.name) + " already exists");
    if (text::iequals(o.fqdn, s.fqdn)) return fail("the server " + q(o.name) + " already has the FQDN " + q(s.fqdn));
  }
  for (auto& [id, a] : org.all<ClientAccessArray>())
    if (text::iequals(a.fqdn, s.fqdn))
      return fail("the FQDN " + q(s.fqdn) + " belongs to the client access array " + q(a.name));
  return {};
}

template <>
Result<void> validate(const Organization& org, const VirtualDirectory& v) {
  if (!org.find<ExchangeServer>(v.server)) return fail("the virtual directory's server does not exist");
  return {};
}

template <>
Result<void> validate(const Organization& org, const OutlookAnywhere& o) {
  if (!org.find<ExchangeServer>(o.server)) return fail("the Outlook Anywhere object's server does not exist");
  return {};
}

template <>
Result<void> validate(const Organization& org, const ClientAccessArray& a) {
  if (auto ok = checkName(a.name); !ok) return ok;
  if (a.fqdn.empty()) return fail("Fqdn is required");
  if (!org.find<AdSite>(a.site)) return fail("the array needs an AD site (-Site)");
  if (auto ok = uniqueName(org, a, "client access array"); !ok) return ok;
  for (auto& [id, o] : org.all<ClientAccessArray>()) {
    if (id == a.id) continue;
    if (o.site == a.site)
      return fail("the site " + q(org.find<AdSite>(a.site)->name) + " already has the array " + q(o.name) +
                  " (one array per site)");
    if (text::iequals(o.fqdn, a.fqdn)) return fail("the array " + q(o.name) + " already has the FQDN " + q(a.fqdn));
  }
  for (auto& [id, s] : org.all<ExchangeServer>())
    if (text::iequals(s.fqdn, a.fqdn))
      return fail("the FQDN " + q(a.fqdn) + " belongs to the server " + q(s.name) + "; an array needs a name of its own");
  return {};
}

template <>
Result<void> validate(const Organization& org, const MailboxDatabase& d) {
  if (auto ok = checkName(d.name); !ok) return ok;
  if (!org.find<ExchangeServer>(d.server)) return fail("the database needs a server (-Server)");
  return uniqueName(org, d, "mailbox database");
}

template <>
Result<void> validate(const Organization& org, const Recipient& r) {
  if (r.name().empty()) return fail("Name is required");
  if (r.alias().empty()) return fail("Alias is required");
  if (r.displayName().empty()) return fail("DisplayName is required");
  if (r.blobSize() >= 0xfff0) return fail("the recipient's values are too long in total");
  if (auto* o = org.recipientByName(r.name()); o && o->id != r.id)
    return fail("a recipient named " + q(r.name()) + " already exists");
  if (auto* o = org.recipientByAlias(r.alias()); o && o->id != r.id)
    return fail("the alias " + q(r.alias()) + " is already used by " + q(o->name()));
  if (r.primarySmtpAddress().empty()) return fail("a recipient needs a primary SMTP address");
  for (auto p : r.emailAddresses()) {
    if (!text::istartsWith(p, "smtp:")) continue;
    auto addr = p.substr(5);
    if (auto* o = org.recipientByAddress(addr); o && o->id != r.id)
      return fail("the address " + q(addr) + " is already used by " + q(o->name()));
    if (!org.acceptedDomainFor(domainOf(addr)))
      return fail("the address " + q(addr) + " is not in an accepted domain (see Get-AcceptedDomain)");
  }
  if (r.type == RecipientType::Mailbox) {
    if (!org.find<MailboxDatabase>(r.database)) return fail("a mailbox needs a mailbox database (-Database)");
  } else if (r.type == RecipientType::MailUser) {
    if (r.externalEmailAddress().empty()) return fail("a mail user needs an ExternalEmailAddress");
  }
  return {};
}

template <>
Result<void> validate(const Organization& org, const OutlookProvider& p) {
  return uniqueName(org, p, "Outlook provider");
}

template <>
Result<void> validate(const Organization& org, const ExchangeCertificate& c) {
  if (c.thumbprint.empty()) return fail("a certificate needs a thumbprint");
  for (auto& [id, other] : org.all<ExchangeCertificate>())
    if (id != c.id && text::iequals(other.thumbprint, c.thumbprint))
      return fail("the certificate " + c.thumbprint + " is already in the organisation");
  if (c.pending() && c.services) return fail("a pending request cannot be enabled for services");
  if (c.services && c.privateKeyPem.empty())
    return fail("a certificate without its private key cannot be enabled for services");
  return {};
}

std::string certificateStatus(const ExchangeCertificate& c, std::chrono::system_clock::time_point now) {
  if (c.pending()) return "PendingRequest";
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  // ISO 8601 in UTC compares as text.
  if ((!c.notAfter.empty() && c.notAfter < buf) || (!c.notBefore.empty() && c.notBefore > buf)) return "DateInvalid";
  return "Valid";
}

template <>
Result<void> validate(const Organization&, const OrganizationConfig&) {
  return {};
}

}  // namespace autodisc::model
