#include "store/ldap_layout.hpp"

#include <algorithm>
#include <charconv>

#include "model/schema.hpp"
#include "model/text.hpp"

namespace autodisc::store::ldap {

using namespace autodisc::model;

namespace {

constexpr std::string_view kAdminGroup = "Exchange Administrative Group (FYDIBOHF23SPDLT)";
constexpr std::string_view kOutlookAnywhereCn = "Rpc (Default Web Site)";

// Exchange's msExchCurrentServerRoles bits, against the model's ServerRole bits.
constexpr std::pair<std::uint8_t, unsigned> kRoleBits[] = {
    {RoleMailbox, 2}, {RoleClientAccess, 4}, {RoleUnifiedMessaging, 16}, {RoleHubTransport, 32}, {RoleEdgeTransport, 64}};

// The object class of each kind of virtual directory.
std::string_view vdirClass(VdirType t) {
  switch (t) {
    case VdirType::Owa: return "msExchOWAVirtualDirectory";
    case VdirType::Oab: return "msExchOABVirtualDirectory";
    case VdirType::Ews: return "msExchWebServicesVirtualDirectory";
    case VdirType::ActiveSync: return "msExchMobileVirtualDirectory";
    case VdirType::Ecp: return "msExchECPVirtualDirectory";
    case VdirType::Autodiscover: return "msExchAutoDiscoverVirtualDirectory";
    case VdirType::Mapi: return "msExchMapiVirtualDirectory";
  }
  return "";
}

std::string cn(std::string_view value) { return "CN=" + escapeRdnValue(value); }

std::vector<std::string> one(std::string_view v) {
  if (v.empty()) return {};
  return {std::string(v)};
}
std::vector<std::string> boolean(bool b) { return {b ? "TRUE" : "FALSE"}; }
std::vector<std::string> number(long long n) { return {std::to_string(n)}; }
std::vector<std::string> guid(const Guid& g) { return g.isNull() ? std::vector<std::string>{} : one(g.str()); }
std::vector<std::string> auths(const std::vector<AuthMethod>& l) {
  std::vector<std::string> out;
  for (auto m : l) out.emplace_back(authMethodName(m));
  return out;
}
std::vector<AuthMethod> authsFrom(const std::vector<std::string>* v) {
  std::vector<AuthMethod> out;
  if (v)
    for (auto& s : *v)
      if (auto m = parseAuthMethod(s)) out.push_back(*m);
  return out;
}
bool isTrue(std::string_view v) { return text::iequals(v, "TRUE"); }
long long toNumber(std::string_view v, long long dflt) {
  long long n = dflt;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  return ec == std::errc() && end == v.data() + v.size() ? n : dflt;
}
Guid guidFrom(std::string_view s) {
  auto g = parseGuid(s);
  return g ? *g : Guid{};
}

// "NAME (WEBSITE)" of a virtual directory's cn.
std::pair<std::string, std::string> splitVdirCn(std::string_view cnValue) {
  auto open = cnValue.rfind(" (");
  if (open == std::string_view::npos || !cnValue.ends_with(')')) return {std::string(cnValue), "Default Web Site"};
  return {std::string(cnValue.substr(0, open)), std::string(cnValue.substr(open + 2, cnValue.size() - open - 3))};
}

// The value after a "ncacn_ip_tcp:" prefix among networkAddress values.
std::string tcpAddress(const Entry& e) {
  if (auto* v = e.get("networkAddress"))
    for (auto& a : *v)
      if (text::istartsWith(a, "ncacn_ip_tcp:")) return a.substr(13);
  return {};
}

}  // namespace

const std::vector<std::string>* Entry::get(std::string_view name) const {
  for (auto& [n, v] : attrs)
    if (text::iequals(n, name)) return &v;
  return nullptr;
}

std::string_view Entry::first(std::string_view name) const {
  auto* v = get(name);
  return v && !v->empty() ? std::string_view(v->front()) : std::string_view{};
}

bool Entry::hasClass(std::string_view objectClass) const {
  if (auto* v = get("objectClass"))
    for (auto& c : *v)
      if (text::iequals(c, objectClass)) return true;
  return false;
}

std::string escapeRdnValue(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    bool special = c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';' || c == '=' ||
                   (i == 0 && (c == ' ' || c == '#')) || (i + 1 == v.size() && c == ' ');
    if (special) out += '\\';
    out += c;
  }
  return out;
}

namespace {
// The RDNs of a DN, split at unescaped commas, each trimmed.
std::vector<std::string_view> rdns(std::string_view dn) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= dn.size(); ++i) {
    if (i < dn.size() && dn[i] == '\\') {
      ++i;
      continue;
    }
    if (i == dn.size() || dn[i] == ',') {
      out.push_back(text::trim(dn.substr(start, i - start)));
      start = i + 1;
    }
  }
  return out;
}
}  // namespace

std::string normalizeDn(std::string_view dn) {
  std::string out;
  for (auto r : rdns(dn)) {
    if (!out.empty()) out += ',';
    // "cn = x" and "CN=x" alike: trim around the first unescaped '='.
    auto eq = r.find('=');
    if (eq != std::string_view::npos) {
      out += text::toLower(text::trim(r.substr(0, eq)));
      out += '=';
      out += text::toLower(text::trim(r.substr(eq + 1)));
    } else {
      out += text::toLower(r);
    }
  }
  return out;
}

std::string parentDn(std::string_view dn) {
  for (std::size_t i = 0; i < dn.size(); ++i) {
    if (dn[i] == '\\') {
      ++i;
      continue;
    }
    if (dn[i] == ',') return std::string(text::trim(dn.substr(i + 1)));
  }
  return {};
}

Layout::Layout(std::string baseDn) : base_(std::move(baseDn)) {}

std::string Layout::configuration() const { return "CN=Configuration," + base_; }
std::string Layout::exchange() const { return "CN=Microsoft Exchange,CN=Services," + configuration(); }
std::string Layout::organization(std::string_view orgName) const { return cn(orgName) + "," + exchange(); }
std::string Layout::adminGroup(std::string_view orgName) const {
  return cn(kAdminGroup) + ",CN=Administrative Groups," + organization(orgName);
}
std::string Layout::users() const { return "CN=Users," + base_; }

std::string Layout::dnOf(const Organization& org, ObjectRef ref) const {
  const std::string& orgName = org.config().name;
  auto serverDn = [&](Id id) {
    auto* s = org.find<ExchangeServer>(id);
    return s ? cn(s->name) + ",CN=Servers," + adminGroup(orgName) : std::string();
  };
  switch (ref.kind) {
    case Kind::OrganizationConfig: return organization(orgName);
    case Kind::AcceptedDomain:
      if (auto* o = org.find<AcceptedDomain>(ref.id))
        return cn(o->name) + ",CN=Accepted Domains,CN=Transport Settings," + organization(orgName);
      break;
    case Kind::AdSite:
      if (auto* o = org.find<AdSite>(ref.id)) return cn(o->name) + ",CN=Sites," + configuration();
      break;
    case Kind::AdSubnet:
      if (auto* o = org.find<AdSubnet>(ref.id)) return cn(o->name()) + ",CN=Subnets,CN=Sites," + configuration();
      break;
    case Kind::ExchangeServer: return serverDn(ref.id);
    case Kind::VirtualDirectory:
      if (auto* o = org.find<VirtualDirectory>(ref.id)) {
        auto s = serverDn(o->server);
        if (!s.empty()) return cn(o->name + " (" + o->website + ")") + ",CN=HTTP,CN=Protocols," + s;
      }
      break;
    case Kind::OutlookAnywhere:
      if (auto* o = org.find<OutlookAnywhere>(ref.id)) {
        auto s = serverDn(o->server);
        if (!s.empty()) return cn(kOutlookAnywhereCn) + ",CN=HTTP,CN=Protocols," + s;
      }
      break;
    case Kind::ClientAccessArray:
      if (auto* o = org.find<ClientAccessArray>(ref.id)) return cn(o->name) + ",CN=Arrays," + adminGroup(orgName);
      break;
    case Kind::MailboxDatabase:
      if (auto* o = org.find<MailboxDatabase>(ref.id)) return cn(o->name) + ",CN=Databases," + adminGroup(orgName);
      break;
    case Kind::Recipient:
      if (auto* o = org.recipient(ref.id)) return cn(o->name()) + "," + users();
      break;
    case Kind::OutlookProvider:
      if (auto* o = org.find<OutlookProvider>(ref.id))
        return cn(o->name) + ",CN=Outlook Provider,CN=Global Settings," + organization(orgName);
      break;
    case Kind::ExchangeCertificate:
      if (auto* o = org.find<ExchangeCertificate>(ref.id))
        return cn(o->thumbprint) + ",CN=Certificates," + organization(orgName);
      break;
  }
  return {};
}

std::vector<Entry> Layout::entriesOf(const Organization& org, ObjectRef ref) const {
  std::vector<Entry> out;
  std::string dn = dnOf(org, ref);
  if (dn.empty()) return out;
  auto siteDn = [&](Id site) { return site ? dnOf(org, {Kind::AdSite, site}) : std::string(); };
  Entry e;
  e.dn = dn;
  auto& a = e.attrs;
  switch (ref.kind) {
    case Kind::OrganizationConfig: {
      auto& c = org.config();
      a = {{"objectClass", {"top", "container", "msExchOrganizationContainer"}},
           {"cn", one(c.name)},
           {"autodiscDeploymentId", guid(c.guid)},
           {"autodiscOfflineAddressBookGuid", guid(c.offlineAddressBookGuid)},
           {"autodiscMapiHttpEnabled", boolean(c.mapiHttpEnabled)}};
      break;
    }
    case Kind::AcceptedDomain: {
      auto* o = org.find<AcceptedDomain>(ref.id);
      a = {{"objectClass", {"top", "msExchAcceptedDomain"}},
           {"cn", one(o->name)},
           {"msExchAcceptedDomainName", one(o->domainName)},
           {"autodiscDomainType", one(domainTypeName(o->domainType))},
           {"autodiscDefaultDomain", boolean(o->isDefault)},
           {"autodiscRedirectUrl", one(o->autodiscoverRedirectUrl)}};
      break;
    }
    case Kind::AdSite: {
      auto* o = org.find<AdSite>(ref.id);
      a = {{"objectClass", {"top", "site"}}, {"cn", one(o->name)}};
      break;
    }
    case Kind::AdSubnet: {
      auto* o = org.find<AdSubnet>(ref.id);
      a = {{"objectClass", {"top", "subnet"}}, {"cn", one(o->name())}, {"siteObject", one(siteDn(o->site))}};
      break;
    }
    case Kind::ExchangeServer: {
      auto* o = org.find<ExchangeServer>(ref.id);
      unsigned roles = 0;
      for (auto [bit, exch] : kRoleBits)
        if (o->roles & bit) roles |= exch;
      a = {{"objectClass", {"top", "msExchExchangeServer"}},
           {"cn", one(o->name)},
           {"networkAddress", one("ncacn_ip_tcp:" + o->fqdn)},
           {"serialNumber", one(o->version.str())},
           {"msExchCurrentServerRoles", number(roles)},
           {"msExchServerSite", one(siteDn(o->site))}};
      out.push_back(std::move(e));
      // The Service Connection Point (spec 7.1): what Set-ClientAccessServer sets is kept there.
      Entry scp;
      scp.dn = cn(o->name) + ",CN=Autodiscover,CN=Protocols," + dn;
      if (!o->autoDiscoverServiceInternalUri.empty() || !o->autoDiscoverSiteScope.empty()) {
        std::vector<std::string> keywords{std::string(kScpUrlKeyword)};
        for (auto& s : o->autoDiscoverSiteScope) keywords.push_back("Site=" + s);
        scp.attrs = {{"objectClass", {"top", "serviceConnectionPoint"}},
                     {"cn", one(o->name)},
                     {"serviceClassName", one(kScpServiceClass)},
                     {"serviceDNSName", one(o->fqdn)},
                     {"serviceBindingInformation", one(o->autoDiscoverServiceInternalUri)},
                     {"keywords", keywords}};
      }
      out.push_back(std::move(scp));  // with no attributes: there is to be none
      return out;
    }
    case Kind::VirtualDirectory: {
      auto* o = org.find<VirtualDirectory>(ref.id);
      a = {{"objectClass", {"top", std::string(vdirClass(o->type))}},
           {"cn", one(o->name + " (" + o->website + ")")},
           {"msExchInternalHostName", one(o->internalUrl)},
           {"msExchExternalHostName", one(o->externalUrl)},
           {"autodiscInternalAuthenticationMethods", auths(o->internalAuthenticationMethods)},
           {"autodiscExternalAuthenticationMethods", auths(o->externalAuthenticationMethods)}};
      break;
    }
    case Kind::OutlookAnywhere: {
      auto* o = org.find<OutlookAnywhere>(ref.id);
      a = {{"objectClass", {"top", "msExchRpcHttpVirtualDirectory"}},
           {"cn", one(kOutlookAnywhereCn)},
           {"msExchInternalHostName", one(o->internalHostname)},
           {"msExchExternalHostName", one(o->externalHostname)},
           {"autodiscInternalClientsRequireSsl", boolean(o->internalClientsRequireSsl)},
           {"autodiscExternalClientsRequireSsl", boolean(o->externalClientsRequireSsl)},
           {"autodiscInternalClientAuthenticationMethod", one(authMethodName(o->internalClientAuthenticationMethod))},
           {"autodiscExternalClientAuthenticationMethod", one(authMethodName(o->externalClientAuthenticationMethod))},
           {"autodiscIisAuthenticationMethods", auths(o->iisAuthenticationMethods)}};
      break;
    }
    case Kind::ClientAccessArray: {
      auto* o = org.find<ClientAccessArray>(ref.id);
      a = {{"objectClass", {"top", "msExchClientAccessArray"}},
           {"cn", one(o->name)},
           {"networkAddress", one("ncacn_ip_tcp:" + o->fqdn)},
           {"msExchServerSite", one(siteDn(o->site))}};
      break;
    }
    case Kind::MailboxDatabase: {
      auto* o = org.find<MailboxDatabase>(ref.id);
      a = {{"objectClass", {"top", "msExchPrivateMDB"}},
           {"cn", one(o->name)},
           {"msExchOwningServer", one(dnOf(org, {Kind::ExchangeServer, o->server}))},
           {"autodiscRpcClientAccessServer", one(o->rpcClientAccessServer)},
           {"autodiscDatabaseGuid", guid(o->guid)}};
      break;
    }
    case Kind::Recipient: {
      auto* o = org.recipient(ref.id);
      bool mailbox = o->type == RecipientType::Mailbox;
      std::vector<std::string> proxies;
      for (auto p : o->emailAddresses()) proxies.emplace_back(p);
      a = {{"objectClass", mailbox ? std::vector<std::string>{"top", "user"}
                                   : std::vector<std::string>{"top", "contact"}},
           {"cn", one(o->name())},
           {"mailNickname", one(o->alias())},
           {"displayName", one(o->displayName())},
           {"legacyExchangeDN", one(o->legacyExchangeDn())},
           {"mail", one(o->primarySmtpAddress())},
           {"proxyAddresses", proxies},
           // Exchange writes targetAddress with its address type ("SMTP:bob@fabrikam.com").
           {"targetAddress", o->externalEmailAddress().empty() ? std::vector<std::string>{}
                             : o->externalEmailAddress().find(':') != std::string_view::npos
                                 ? one(o->externalEmailAddress())
                                 : one("SMTP:" + std::string(o->externalEmailAddress()))},
           {"homeMDB", one(mailbox ? dnOf(org, {Kind::MailboxDatabase, o->database}) : std::string())},
           {"autodiscMailboxGuid", guid(o->exchangeGuid)},
           {"autodiscPasswordHash", one(o->passwordHash())}};
      break;
    }
    case Kind::OutlookProvider: {
      auto* o = org.find<OutlookProvider>(ref.id);
      a = {{"objectClass", {"top", "msExchAutoDiscoverConfig"}},
           {"cn", one(o->name)},
           {"msExchAutoDiscoverCertPrincipalName", one(o->certPrincipalName)},
           {"msExchAutoDiscoverTTL", number(o->ttl)},
           {"msExchAutoDiscoverServer", one(o->server)}};
      break;
    }
    case Kind::ExchangeCertificate: {
      auto* o = org.find<ExchangeCertificate>(ref.id);
      a = {{"objectClass", {"top", "autodiscExchangeCertificate"}},
           {"cn", one(o->thumbprint)},
           {"autodiscFriendlyName", one(o->friendlyName)},
           {"autodiscCertificateSubject", one(o->subject)},
           {"autodiscCertificateIssuer", one(o->issuer)},
           {"autodiscCertificateDomains", o->certificateDomains},
           {"autodiscNotBefore", one(o->notBefore)},
           {"autodiscNotAfter", one(o->notAfter)},
           {"autodiscCertificateServices", one(certificateServicesText(o->services))},
           {"autodiscSelfSigned", boolean(o->selfSigned)},
           {"autodiscCertificatePem", one(o->certificatePem)},
           {"autodiscRequestPem", one(o->requestPem)},
           {"autodiscPrivateKeyPem", one(o->privateKeyPem)}};
      break;
    }
  }
  out.push_back(std::move(e));
  return out;
}

std::vector<std::string> Layout::containersAbove(std::string_view dn) const {
  std::vector<std::string> out;
  std::string normBase = normalizeDn(base_);
  for (std::string p = parentDn(dn); !p.empty() && normalizeDn(p) != normBase; p = parentDn(p)) out.push_back(p);
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::string> Layout::attributesRead() {
  return {"objectClass",
          "cn",
          "autodiscDeploymentId",
          "autodiscOfflineAddressBookGuid",
          "autodiscMapiHttpEnabled",
          "msExchAcceptedDomainName",
          "autodiscDomainType",
          "autodiscDefaultDomain",
          "autodiscRedirectUrl",
          "siteObject",
          "networkAddress",
          "serialNumber",
          "msExchCurrentServerRoles",
          "msExchServerSite",
          "serviceBindingInformation",
          "keywords",
          "msExchInternalHostName",
          "msExchExternalHostName",
          "autodiscInternalAuthenticationMethods",
          "autodiscExternalAuthenticationMethods",
          "autodiscInternalClientsRequireSsl",
          "autodiscExternalClientsRequireSsl",
          "autodiscInternalClientAuthenticationMethod",
          "autodiscExternalClientAuthenticationMethod",
          "autodiscIisAuthenticationMethods",
          "msExchOwningServer",
          "autodiscRpcClientAccessServer",
          "autodiscDatabaseGuid",
          "mailNickname",
          "displayName",
          "legacyExchangeDN",
          "proxyAddresses",
          "targetAddress",
          "homeMDB",
          "autodiscMailboxGuid",
          "autodiscPasswordHash",
          "msExchAutoDiscoverCertPrincipalName",
          "msExchAutoDiscoverTTL",
          "msExchAutoDiscoverServer",
          "autodiscFriendlyName",
          "autodiscCertificateSubject",
          "autodiscCertificateIssuer",
          "autodiscCertificateDomains",
          "autodiscNotBefore",
          "autodiscNotAfter",
          "autodiscCertificateServices",
          "autodiscSelfSigned",
          "autodiscCertificatePem",
          "autodiscRequestPem",
          "autodiscPrivateKeyPem"};
}

std::string Layout::filterRecipients() { return "(|(&(objectClass=user)(homeMDB=*))(&(objectClass=contact)(targetAddress=*)))"; }

std::string Layout::filterConfiguration() {
  return "(|(objectClass=msExchOrganizationContainer)(objectClass=msExchAcceptedDomain)(objectClass=site)"
         "(objectClass=subnet)(objectClass=msExchExchangeServer)(objectClass=msExchOWAVirtualDirectory)"
         "(objectClass=msExchOABVirtualDirectory)(objectClass=msExchWebServicesVirtualDirectory)"
         "(objectClass=msExchMobileVirtualDirectory)(objectClass=msExchECPVirtualDirectory)"
         "(objectClass=msExchAutoDiscoverVirtualDirectory)(objectClass=msExchMapiVirtualDirectory)"
         "(objectClass=msExchRpcHttpVirtualDirectory)(objectClass=msExchClientAccessArray)"
         "(objectClass=msExchPrivateMDB)(objectClass=msExchAutoDiscoverConfig)(objectClass=autodiscExchangeCertificate)"
         "(&(objectClass=serviceConnectionPoint)(serviceClassName=ms-Exchange-AutoDiscover-Service)))";
}

Layout::Built Layout::build(const std::vector<Entry>& entries, const Known& known) const {
  Built b;
  Organization& org = b.org;
  // Ids by normalised DN, for the references between entries.
  std::map<std::string, Id> sites, servers, databases;
  Id next[kKindCount] = {};
  auto assign = [&](Kind k, const std::string& dn) {
    Id id = known ? known(k, normalizeDn(dn), true) : 0;
    if (!id) id = ++next[static_cast<int>(k)];
    b.dns[{k, id}] = dn;
    return id;
  };
  // A reference among the entries, else through `known`.
  auto lookup = [&](const std::map<std::string, Id>& among, Kind k, std::string_view dn) -> Id {
    std::string n = normalizeDn(dn);
    auto it = among.find(n);
    if (it != among.end()) return it->second;
    return known ? known(k, n, false) : 0;
  };
  auto is = [](const Entry& e, std::string_view c) { return e.hasClass(c); };
  // First the entries others point at: sites, servers, databases.
  for (auto& e : entries)
    if (is(e, "site")) {
      Id id = assign(Kind::AdSite, e.dn);
      sites[normalizeDn(e.dn)] = id;
      org.put(AdSite{id, std::string(e.first("cn"))});
    }
  auto siteOf = [&](std::string_view dn) -> Id { return lookup(sites, Kind::AdSite, dn); };
  for (auto& e : entries)
    if (is(e, "msExchExchangeServer")) {
      ExchangeServer s;
      s.id = assign(Kind::ExchangeServer, e.dn);
      servers[normalizeDn(e.dn)] = s.id;
      s.name = e.first("cn");
      s.fqdn = tcpAddress(e);
      s.site = siteOf(e.first("msExchServerSite"));
      unsigned roles = static_cast<unsigned>(toNumber(e.first("msExchCurrentServerRoles"), 6));
      s.roles = 0;
      for (auto [bit, exch] : kRoleBits)
        if (roles & exch) s.roles |= bit;
      if (auto v = parseServerVersion(e.first("serialNumber"))) s.version = *v;
      org.put(s);
    }
  auto serverAbove = [&](std::string_view dn, int levels) -> Id {
    std::string p(dn);
    for (int i = 0; i < levels; ++i) p = parentDn(p);
    return lookup(servers, Kind::ExchangeServer, p);
  };
  for (auto& e : entries)
    if (is(e, "msExchPrivateMDB")) {
      MailboxDatabase d;
      d.id = assign(Kind::MailboxDatabase, e.dn);
      databases[normalizeDn(e.dn)] = d.id;
      d.name = e.first("cn");
      d.server = lookup(servers, Kind::ExchangeServer, e.first("msExchOwningServer"));
      d.rpcClientAccessServer = e.first("autodiscRpcClientAccessServer");
      d.guid = guidFrom(e.first("autodiscDatabaseGuid"));
      org.put(d);
    }
  std::size_t recipientCount = 0;
  for (auto& e : entries)
    if (is(e, "user") || is(e, "contact")) ++recipientCount;
  org.reserveRecipients(recipientCount);
  for (auto& e : entries) {
    if (is(e, "msExchOrganizationContainer")) {
      OrganizationConfig c;
      c.name = e.first("cn");
      c.guid = guidFrom(e.first("autodiscDeploymentId"));
      c.offlineAddressBookGuid = guidFrom(e.first("autodiscOfflineAddressBookGuid"));
      c.mapiHttpEnabled = isTrue(e.first("autodiscMapiHttpEnabled"));
      org.put(c);
      b.dns[{Kind::OrganizationConfig, 0}] = e.dn;
    } else if (is(e, "msExchAcceptedDomain")) {
      AcceptedDomain d;
      d.id = assign(Kind::AcceptedDomain, e.dn);
      d.name = e.first("cn");
      d.domainName = e.first("msExchAcceptedDomainName");
      for (int t = 0; t < 3; ++t)
        if (text::iequals(domainTypeName(static_cast<DomainType>(t)), e.first("autodiscDomainType")))
          d.domainType = static_cast<DomainType>(t);
      d.isDefault = isTrue(e.first("autodiscDefaultDomain"));
      d.autodiscoverRedirectUrl = e.first("autodiscRedirectUrl");
      org.put(d);
    } else if (is(e, "subnet")) {
      AdSubnet s;
      auto range = parseCidr(e.first("cn"));
      if (!range) {
        b.skipped.push_back(e.dn + ": the subnet's name is not an address range");
        continue;
      }
      s.id = assign(Kind::AdSubnet, e.dn);
      s.range = *range;
      s.site = siteOf(e.first("siteObject"));
      org.put(s);
    } else if (is(e, "msExchRpcHttpVirtualDirectory")) {
      OutlookAnywhere o;
      o.server = serverAbove(e.dn, 3);
      if (!o.server) {
        b.skipped.push_back(e.dn + ": not under a server");
        continue;
      }
      o.id = assign(Kind::OutlookAnywhere, e.dn);
      o.internalHostname = e.first("msExchInternalHostName");
      o.externalHostname = e.first("msExchExternalHostName");
      o.internalClientsRequireSsl = isTrue(e.first("autodiscInternalClientsRequireSsl"));
      o.externalClientsRequireSsl = isTrue(e.first("autodiscExternalClientsRequireSsl"));
      if (auto m = parseAuthMethod(e.first("autodiscInternalClientAuthenticationMethod")))
        o.internalClientAuthenticationMethod = *m;
      if (auto m = parseAuthMethod(e.first("autodiscExternalClientAuthenticationMethod")))
        o.externalClientAuthenticationMethod = *m;
      o.iisAuthenticationMethods = authsFrom(e.get("autodiscIisAuthenticationMethods"));
      org.put(o);
    } else if (is(e, "msExchClientAccessArray")) {
      ClientAccessArray c;
      c.id = assign(Kind::ClientAccessArray, e.dn);
      c.name = e.first("cn");
      c.fqdn = tcpAddress(e);
      c.site = siteOf(e.first("msExchServerSite"));
      org.put(c);
    } else if (is(e, "msExchAutoDiscoverConfig")) {
      OutlookProvider p;
      p.id = assign(Kind::OutlookProvider, e.dn);
      p.name = e.first("cn");
      p.certPrincipalName = e.first("msExchAutoDiscoverCertPrincipalName");
      p.ttl = static_cast<int>(toNumber(e.first("msExchAutoDiscoverTTL"), 1));
      p.server = e.first("msExchAutoDiscoverServer");
      org.put(p);
    } else if (is(e, "autodiscExchangeCertificate")) {
      ExchangeCertificate c;
      c.id = assign(Kind::ExchangeCertificate, e.dn);
      c.thumbprint = e.first("cn");
      c.friendlyName = e.first("autodiscFriendlyName");
      c.subject = e.first("autodiscCertificateSubject");
      c.issuer = e.first("autodiscCertificateIssuer");
      if (auto* d = e.get("autodiscCertificateDomains")) c.certificateDomains = *d;
      c.notBefore = e.first("autodiscNotBefore");
      c.notAfter = e.first("autodiscNotAfter");
      if (auto sv = parseCertificateServices({std::string(e.first("autodiscCertificateServices"))})) c.services = *sv;
      c.selfSigned = isTrue(e.first("autodiscSelfSigned"));
      c.certificatePem = e.first("autodiscCertificatePem");
      c.requestPem = e.first("autodiscRequestPem");
      c.privateKeyPem = e.first("autodiscPrivateKeyPem");
      org.put(std::move(c));
    } else if (is(e, "serviceConnectionPoint")) {
      Id server = serverAbove(e.dn, 3);
      auto* s = org.find<ExchangeServer>(server);
      if (!s) continue;  // an SCP of a server autodisc does not hold
      ExchangeServer copy = *s;
      copy.autoDiscoverServiceInternalUri = e.first("serviceBindingInformation");
      copy.autoDiscoverSiteScope.clear();
      if (auto* k = e.get("keywords"))
        for (auto& kw : *k)
          if (text::istartsWith(kw, "Site=")) copy.autoDiscoverSiteScope.push_back(kw.substr(5));
      org.put(copy);
    } else if (is(e, "user") || is(e, "contact")) {
      Recipient r;
      r.id = assign(Kind::Recipient, e.dn);
      r.type = is(e, "user") ? RecipientType::Mailbox : RecipientType::MailUser;
      std::string target(e.first("targetAddress"));  // with its type, as the model keeps it
      std::string proxies;
      if (auto* p = e.get("proxyAddresses")) proxies = text::join(*p, "\n");
      const std::string_view fields[Recipient::kFieldCount] = {
          e.first("cn"), e.first("mailNickname"), e.first("displayName"), e.first("legacyExchangeDN"),
          target,        e.first("autodiscPasswordHash"), proxies};
      r.setFields(fields);
      if (r.type == RecipientType::Mailbox) {
        r.database = lookup(databases, Kind::MailboxDatabase, e.first("homeMDB"));
      }
      r.exchangeGuid = guidFrom(e.first("autodiscMailboxGuid"));
      org.put(std::move(r));
    } else {
      // Virtual directories, found by their class.
      for (int t = 0; t < kVdirTypeCount; ++t) {
        auto type = static_cast<VdirType>(t);
        if (!is(e, vdirClass(type))) continue;
        VirtualDirectory d;
        d.server = serverAbove(e.dn, 3);
        if (!d.server) {
          b.skipped.push_back(e.dn + ": not under a server");
          break;
        }
        d.id = assign(Kind::VirtualDirectory, e.dn);
        d.type = type;
        std::tie(d.name, d.website) = splitVdirCn(e.first("cn"));
        d.internalUrl = e.first("msExchInternalHostName");
        d.externalUrl = e.first("msExchExternalHostName");
        d.internalAuthenticationMethods = authsFrom(e.get("autodiscInternalAuthenticationMethods"));
        d.externalAuthenticationMethods = authsFrom(e.get("autodiscExternalAuthenticationMethods"));
        org.put(d);
        break;
      }
    }
  }
  return b;
}

}  // namespace autodisc::store::ldap
