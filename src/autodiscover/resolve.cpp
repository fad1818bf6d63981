#include "autodiscover/resolve.hpp"

#include <cstdio>

#include "model/schema.hpp"
#include "model/text.hpp"

namespace autodisc::autodiscover {

using namespace model;

namespace {

std::string withSlash(std::string url) {
  if (!url.empty() && url.back() != '/') url += '/';
  return url;
}

std::string hex8(std::uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08X", v);
  return buf;
}

// The Client Access Server whose virtual directories serve a mailbox: the database's own server
// if it has the role, else the first Client Access Server of its site.
const ExchangeServer* casFor(const Organization& org, const ExchangeServer& mailboxServer) {
  if (mailboxServer.isClientAccess()) return &mailboxServer;
  for (auto& [id, s] : org.all<ExchangeServer>())
    if (s.site == mailboxServer.site && s.isClientAccess()) return &s;
  return nullptr;
}

const OutlookProvider* provider(const Organization& org, std::string_view name) {
  for (auto& [id, p] : org.all<OutlookProvider>())
    if (text::iequals(p.name, name)) return &p;
  return nullptr;
}

std::string stripSmtp(std::string_view a) {
  if (text::istartsWith(a, "smtp:")) a.remove_prefix(5);
  return std::string(a);
}

struct Urls {
  std::string ews, ecp, oab, owa, eas;
  std::vector<AuthMethod> owaAuth;
};

// Records steps only when asked to: building their text costs more than the answer itself.
struct Chain {
  std::vector<Step>* steps;
  template <class F>
  void add(F&& make) {
    if (steps) steps->push_back(make());
  }
};

Urls urlsOf(const Organization& org, const ExchangeServer& cas, bool internal, Chain chain) {
  Urls u;
  auto pick = [&](VdirType t) -> std::string {
    auto* v = org.vdirOf(cas.id, t);
    if (!v) return {};
    const std::string& url = internal ? v->internalUrl : v->externalUrl;
    if (!url.empty())
      chain.add([&] { return Step{std::string(internal ? "InternalUrl" : "ExternalUrl") + " of " + identityOf(org, *v), url}; });
    return url;
  };
  u.ews = pick(VdirType::Ews);
  u.ecp = pick(VdirType::Ecp);
  u.oab = pick(VdirType::Oab);
  u.owa = pick(VdirType::Owa);
  if (!internal) u.eas = pick(VdirType::ActiveSync);
  if (auto* owa = org.vdirOf(cas.id, VdirType::Owa))
    u.owaAuth = internal ? owa->internalAuthenticationMethods : owa->externalAuthenticationMethods;
  return u;
}

void fillUrls(ProtocolSettings& p, const Urls& u, const Organization& org) {
  p.ewsUrl = u.ews;
  p.ecpUrl = u.ecp.empty() ? std::string() : withSlash(u.ecp);
  if (!u.oab.empty() && !org.config().offlineAddressBookGuid.isNull())
    p.oabUrl = withSlash(u.oab) + org.config().offlineAddressBookGuid.str() + "/";
}

ServiceUrls serviceUrls(const Urls& u, const Organization& org) {
  ServiceUrls s;
  s.ews = u.ews;
  s.ecp = u.ecp.empty() ? std::string() : withSlash(u.ecp);
  if (!u.oab.empty() && !org.config().offlineAddressBookGuid.isNull())
    s.oab = withSlash(u.oab) + org.config().offlineAddressBookGuid.str() + "/";
  if (!u.owa.empty()) {
    s.owa = withSlash(u.owa);
    std::vector<std::string> n;
    for (auto m : u.owaAuth) n.emplace_back(authMethodName(m));
    s.owaAuthenticationMethods = text::join(n, ", ");
  }
  s.activeSync = u.eas;
  return s;
}

std::string authPackage(AuthMethod m, bool canNegotiate) {
  switch (m) {
    case AuthMethod::Basic: return "Basic";
    case AuthMethod::Ntlm: return "Ntlm";
    case AuthMethod::Negotiate: return canNegotiate ? "Negotiate" : "Ntlm";
    case AuthMethod::Kerberos: return canNegotiate ? "Kerb" : "Ntlm";
    case AuthMethod::Certificate: return "Certificate";
    default: return "Ntlm";
  }
}

}  // namespace

Answer resolve(const Organization& org, const Query& q) {
  Answer a;
  a.requestedAddress = q.emailAddress;
  Chain chain{q.explain ? &a.chain : nullptr};
  const Recipient* r = nullptr;
  if (!q.legacyDn.empty()) {
    r = org.recipientByLegacyDn(q.legacyDn);
    chain.add([&] { return Step{"legacyExchangeDN asked for", q.legacyDn}; });
  } else {
    r = org.recipientByAddress(q.emailAddress);
    chain.add([&] { return Step{"address asked for", q.emailAddress}; });
  }
  if (!r) {
    // A domain whose Autodiscover is answered elsewhere (a hoster's): send the client there.
    auto* domain = q.legacyDn.empty() ? org.acceptedDomainFor(domainOf(q.emailAddress)) : nullptr;
    if (domain && !domain->autodiscoverRedirectUrl.empty() && q.schema == Schema::Outlook) {
      a.outcome = Outcome::RedirectUrl;
      a.redirectUrl = domain->autodiscoverRedirectUrl;
      chain.add([&] { return Step{"AutodiscoverRedirectUrl of the accepted domain " + domain->name, a.redirectUrl}; });
      return a;
    }
    a.failure = Failure::AddressNotFound;
    bool accepted = org.acceptedDomainFor(domainOf(q.emailAddress)) != nullptr;
    chain.add([&] { return Step{"result", accepted ? "no recipient has this address (its domain is accepted)"
                                           : "the address is in no accepted domain"}; });
    return a;
  }
  chain.add([&] { return Step{"recipient", std::string(r->name()) + " (" + std::string(recipientTypeName(r->type)) + ")"}; });
  a.displayName = r->displayName();
  a.legacyDn = r->legacyExchangeDn();
  a.smtpAddress = r->primarySmtpAddress();
  a.deploymentId = org.config().guid.str();

  if (r->type == RecipientType::MailUser) {
    a.outcome = Outcome::RedirectAddr;
    a.redirectAddr = stripSmtp(r->externalEmailAddress());
    chain.add([&] { return Step{"ExternalEmailAddress (redirect)", a.redirectAddr}; });
    return a;
  }

  auto* db = org.find<MailboxDatabase>(r->database);
  auto* mbxServer = db ? org.find<ExchangeServer>(db->server) : nullptr;
  auto* cas = mbxServer ? casFor(org, *mbxServer) : nullptr;
  if (db) chain.add([&] { return Step{"database", db->name}; });
  if (mbxServer) chain.add([&] { return Step{"mailbox server", mbxServer->name}; });
  if (mbxServer)
    if (auto* site = org.find<AdSite>(mbxServer->site)) chain.add([&] { return Step{"site", site->name}; });
  if (cas) chain.add([&] { return Step{"Client Access Server", cas->name}; });

  if (q.schema == Schema::MobileSync) {
    if (cas) a.mobileSyncUrl = urlsOf(org, *cas, false, chain).eas;
    if (a.mobileSyncUrl.empty()) {
      a.failure = Failure::NoMobileSyncUrl;
      chain.add([&] { return Step{"result", "no ActiveSync ExternalUrl is set"}; });
      return a;
    }
    a.outcome = Outcome::Settings;
    return a;
  }

  a.outcome = Outcome::Settings;
  if (!db || !mbxServer || !cas) return a;
  a.mailboxServerFqdn = mbxServer->fqdn;
  a.mailboxVersion = mbxServer->version;
  a.casVersion = cas->version;
  auto* oa = org.outlookAnywhereOf(cas->id);
  const std::string adminGroup = administrativeGroupDn(org);

  if (q.internalClient) {
    ProtocolSettings p;
    if (mbxServer->version.major >= 15) {
      // Exchange 2013 and later hand out the personalised server name.
      p.server = r->exchangeGuid.str() + "@" + std::string(domainOf(a.smtpAddress));
      p.serverDn = adminGroup + "/cn=Configuration/cn=Servers/cn=" + p.server;
      p.mdbDn = p.serverDn + "/cn=Microsoft Private MDB";
    } else {
      p.server = db->rpcClientAccessServer.empty() ? mbxServer->fqdn : db->rpcClientAccessServer;
      std::string cn = mbxServer->name;
      for (auto& [id, arr] : org.all<ClientAccessArray>())
        if (text::iequals(arr.fqdn, p.server)) cn = arr.name;
      p.serverDn = adminGroup + "/cn=Configuration/cn=Servers/cn=" + cn;
      p.mdbDn = adminGroup + "/cn=Configuration/cn=Servers/cn=" + mbxServer->name + "/cn=Microsoft Private MDB";
      chain.add([&] { return Step{"RpcClientAccessServer of " + db->name, p.server}; });
    }
    p.serverVersion = hex8(mbxServer->version.encoded());
    if (auto* prov = provider(org, "EXCH")) p.ttl = prov->ttl;
    auto urls = urlsOf(org, *cas, true, chain);
    fillUrls(p, urls, org);
    a.exch = p;
    a.internalUrls = serviceUrls(urls, org);
    if (!urls.owa.empty())
      a.webInternal = WebSettings{withSlash(urls.owa), [&] {
                                    std::vector<std::string> n;
                                    for (auto m : urls.owaAuth) n.emplace_back(authMethodName(m));
                                    return text::join(n, ", ");
                                  }(),
                                  urls.ews};
  }
  // MAPI over HTTP, for clients that ask (X-MapiHttpCapability), when the organisation offers it and
  // the mailbox server is Exchange 2013 CU3 (15.0.847) or later. It replaces EXCH and EXPR.
  const auto& v = mbxServer->version;
  bool mapiCapable = v.major > 15 || (v.major == 15 && (v.minor > 0 || v.build >= 847));
  a.mapiHttpAvailable = org.config().mapiHttpEnabled && mapiCapable && org.vdirOf(cas->id, VdirType::Mapi) != nullptr;
  if (q.mapiHttpVersion >= 1 && org.config().mapiHttpEnabled && mapiCapable) {
    if (auto* mapi = org.vdirOf(cas->id, VdirType::Mapi)) {
      std::string id = "?MailboxId=" + r->exchangeGuid.str() + "@" + std::string(domainOf(a.smtpAddress));
      auto base = [](const std::string& url) { return withSlash(url); };
      MapiHttpSettings m;
      if (q.internalClient && !mapi->internalUrl.empty()) {
        m.mailStoreInternal = base(mapi->internalUrl) + "emsmdb/" + id;
        m.addressBookInternal = base(mapi->internalUrl) + "nspi/" + id;
      }
      if (!mapi->externalUrl.empty()) {
        m.mailStoreExternal = base(mapi->externalUrl) + "emsmdb/" + id;
        m.addressBookExternal = base(mapi->externalUrl) + "nspi/" + id;
      }
      chain.add([&] { return Step{"MAPI over HTTP (asked for and enabled)", identityOf(org, *mapi)}; });
      a.mapiHttp = m;
      a.exch.reset();
    }
  }

  std::string exprHost = oa ? (!oa->externalHostname.empty() ? oa->externalHostname
                                                             : (q.internalClient ? oa->internalHostname : ""))
                            : "";
  auto urls = urlsOf(org, *cas, false, chain);
  a.externalUrls = serviceUrls(urls, org);
  if (!exprHost.empty()) {
    ProtocolSettings p;
    p.server = exprHost;
    chain.add([&] { return Step{"Outlook Anywhere host of " + cas->name, exprHost}; });
    p.ssl = oa->externalClientsRequireSsl;
    p.authPackage = authPackage(oa->externalClientAuthenticationMethod, q.canHandleNegotiate);
    if (auto* prov = provider(org, "EXPR")) {
      p.ttl = prov->ttl;
      p.certPrincipalName = prov->certPrincipalName;
    }
    fillUrls(p, urls, org);
    a.expr = p;
  }
  if (!urls.owa.empty()) {
    std::vector<std::string> n;
    for (auto m : urls.owaAuth) n.emplace_back(authMethodName(m));
    a.webExternal = WebSettings{withSlash(urls.owa), text::join(n, ", "), urls.ews};
  }
  if (a.mapiHttp) a.expr.reset();

  // RPC over HTTP described for clients that ask (X-ClientCanHandle: ExHttpInfo), Exchange 2010 and later:
  // the internal block first; each prefers its own side's URLs and falls back to the other's.
  if (q.canHandleExHttp && oa && mbxServer->version.major >= 14) {
    Urls none;
    auto internalUrls = q.internalClient ? urlsOf(org, *cas, true, Chain{nullptr}) : none;
    auto externalUrls = urlsOf(org, *cas, false, Chain{nullptr});
    auto prefer = [](const Urls& first, const Urls& second) {
      Urls u = first;
      if (u.ews.empty()) u.ews = second.ews;
      if (u.ecp.empty()) u.ecp = second.ecp;
      if (u.oab.empty()) u.oab = second.oab;
      return u;
    };
    auto block = [&](const std::string& host, bool ssl, AuthMethod auth, const Urls& urlsToUse) {
      ProtocolSettings p;
      p.server = host;
      p.ssl = ssl;
      p.authPackage = authPackage(auth, q.canHandleNegotiate);
      fillUrls(p, urlsToUse, org);
      return p;
    };
    if (q.internalClient && !oa->internalHostname.empty())
      a.exHttpInternal = block(oa->internalHostname, oa->internalClientsRequireSsl,
                               oa->internalClientAuthenticationMethod, prefer(internalUrls, externalUrls));
    if (!oa->externalHostname.empty())
      a.exHttpExternal = block(oa->externalHostname, oa->externalClientsRequireSsl,
                               oa->externalClientAuthenticationMethod, prefer(externalUrls, internalUrls));
  }
  return a;
}

DomainAnswer resolveDomain(const Organization& org, std::string_view domain) {
  DomainAnswer d;
  d.accepted = !domain.empty() && org.acceptedDomainFor(domain) != nullptr;
  if (!d.accepted) return d;
  for (auto& [id, s] : org.all<ExchangeServer>()) {
    if (!s.isClientAccess()) continue;
    if (auto* ews = org.vdirOf(s.id, VdirType::Ews); ews && !ews->externalUrl.empty() && d.externalEwsUrl.empty()) {
      d.externalEwsUrl = ews->externalUrl;
      d.casVersion = s.version;
    }
    if (auto* eas = org.vdirOf(s.id, VdirType::ActiveSync); eas && !eas->externalUrl.empty() && d.externalActiveSyncUrl.empty())
      d.externalActiveSyncUrl = eas->externalUrl;
  }
  return d;
}

}  // namespace autodisc::autodiscover
