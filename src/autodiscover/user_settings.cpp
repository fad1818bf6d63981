#include "autodiscover/user_settings.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <unordered_map>
#include <unordered_set>

namespace autodisc::autodiscover {

namespace {

constexpr std::array<std::string_view, 7> kVersionNames = {"Exchange2010", "Exchange2010_SP1", "Exchange2010_SP2",
                                                           "Exchange2013", "Exchange2013_SP1", "Exchange2016",
                                                           "Exchange2019"};

// The ECP pages Outlook opens, by setting name: the fragment appended to EcpUrl (protocol spec 2.7).
// Text messaging and calendar publishing are offered only where enabled, which the model does not
// hold, so those have no value.
struct EcpPage {
  std::string_view name, fragment;
  bool since2013;
};
constexpr std::array<EcpPage, 13> kEcpPages = {{
    {"Voicemail", "?rfr=olk&p=customize/voicemail.aspx&exsvurl=1", false},
    {"EmailSubscriptions", "?rfr=olk&p=personalsettings/EmailSubscriptions.slab&exsvurl=1", false},
    {"TextMessaging", "", false},
    {"DeliveryReport", "PersonalSettings/DeliveryReport.aspx?rfr=olk&exsvurl=1&IsOWA=<IsOWA>&MsgID=<MsgID>&Mbx=<Mbx>", false},
    {"RetentionPolicyTags", "?rfr=olk&p=organize/retentionpolicytags.slab&exsvurl=1", false},
    {"Publishing", "", false},
    {"Photo", "PersonalSettings/EditAccount.aspx?rfr=olk&chgPhoto=1&exsvurl=1", true},
    {"Connect", "Connect/Main.aspx?rfr=olk&exsvurl=1&Provider=<Provider>&Action=<Action>", true},
    {"TeamMailbox", "?rfr=olk&ftr=TeamMailbox&exsvurl=1", true},
    {"TeamMailboxCreating", "?rfr=olk&ftr=TeamMailboxCreating&SPUrl=<SPUrl>&Title=<Title>&SPTMAppUrl=<SPTMAppUrl>&exsvurl=1", true},
    {"TeamMailboxEditing", "?rfr=olk&ftr=TeamMailboxEditing&Id=<Id>&exsvurl=1", true},
    {"TeamMailboxHiding", "", true},
    {"ExtensionInstallation", "Extension/InstalledExtensions.slab?rfr=olk&exsvurl=1", true},
}};

// Settings that Exchange 2013 introduced: InvalidSetting for a client that asks as Exchange 2010.
bool since2013(std::string_view name) {
  static constexpr std::array<std::string_view, 7> names = {"MapiHttpEnabled", "InternalPhotosUrl", "ExternalPhotosUrl",
                                                            "InternalOutlookServiceUrl", "ExternalOutlookServiceUrl",
                                                            "SiteMailboxCreationURL", "MailboxVersion"};
  if (std::find(names.begin(), names.end(), name) != names.end()) return true;
  for (auto& p : kEcpPages)
    if (p.since2013 && name.find(p.name) != std::string_view::npos && name.find("Ecp") != std::string_view::npos)
      return true;
  return false;
}

std::vector<std::string_view> makeNames() {
  std::vector<std::string_view> n = {
      "UserDisplayName", "UserDN", "UserDeploymentId", "AutoDiscoverSMTPAddress", "UserMSOnline",
      "InternalMailboxServer", "InternalRpcClientServer", "InternalMailboxServerDN", "MailboxDN", "PublicFolderServer",
      "ActiveDirectoryServer", "InternalMailboxServerAuthenticationMethods", "InternalEwsUrl", "ExternalEwsUrl",
      "InternalEmwsUrl", "ExternalEmwsUrl", "InternalOABUrl", "ExternalOABUrl", "InternalUMUrl", "ExternalUMUrl",
      "InternalEcpUrl", "ExternalEcpUrl"};
  // The ECP page settings: InternalEcpXUrl, ExternalEcpXUrl and EcpXUrlFragment for each page.
  static std::vector<std::string> ecp;
  if (ecp.empty()) {
    for (auto& p : kEcpPages) ecp.push_back("InternalEcp" + std::string(p.name) + "Url");
    for (auto& p : kEcpPages) ecp.push_back("ExternalEcp" + std::string(p.name) + "Url");
    for (auto& p : kEcpPages)
      if (p.name != "TeamMailboxHiding") ecp.push_back("Ecp" + std::string(p.name) + "UrlFragment");
  }
  for (auto& e : ecp) n.push_back(e);
  for (std::string_view rest : {
           "InternalWebClientUrls", "ExternalWebClientUrls", "ExternalMailboxServer", "ExternalMailboxServerRequiresSSL",
           "ExternalMailboxServerAuthenticationMethods", "InternalRpcHttpServer", "InternalRpcHttpConnectivityRequiresSsl",
           "InternalRpcHttpAuthenticationMethod", "InternalServerExclusiveConnect", "ExternalServerExclusiveConnect",
           "ExchangeRpcUrl", "EwsPartnerUrl", "CertPrincipalName", "GroupingInformation", "CrossOrganizationSharingEnabled",
           "AlternateMailboxes", "PublicFolderInformation", "ShowGalAsDefaultView", "CasVersion", "EwsSupportedSchemas",
           "ExternalEwsVersion", "InteropExternalEwsUrl", "InteropExternalEwsVersion", "MailboxVersion",
           "InternalPop3Connections", "ExternalPop3Connections", "InternalImap4Connections", "ExternalImap4Connections",
           "InternalSmtpConnections", "ExternalSmtpConnections", "MobileMailboxPolicy", "MobileMailboxPolicyInterop",
           "DocumentSharingLocations", "SPMySiteHostURL", "SiteMailboxCreationURL", "InternalPhotosUrl", "ExternalPhotosUrl",
           "InternalOutlookServiceUrl", "ExternalOutlookServiceUrl", "RedirectUrl", "MapiHttpEnabled"})
    n.push_back(rest);
  return n;
}


std::string supportedSchemas(const ServerVersion& v) {
  std::string s = "Exchange2007, Exchange2007_SP1";
  if (v.major >= 14) s += ", Exchange2010, Exchange2010_SP1, Exchange2010_SP2";
  if (v.major >= 15) s += ", Exchange2013";
  return s;
}

}  // namespace

std::string dottedVersion(const ServerVersion& v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%02d.%02d.%04d.%03d", v.major, v.minor, v.build, v.revision);
  return buf;
}

std::optional<ExchangeVersion> parseExchangeVersion(std::string_view name) {
  for (std::size_t i = 0; i < kVersionNames.size(); ++i)
    if (kVersionNames[i] == name) return static_cast<ExchangeVersion>(i);
  return std::nullopt;
}

std::string_view exchangeVersionName(ExchangeVersion v) { return kVersionNames[static_cast<std::size_t>(v)]; }

ExchangeVersion schemaOf(const ServerVersion& v) {
  if (v.major >= 15) return v.major > 15 || v.minor > 0 || v.build >= 847 ? ExchangeVersion::Exchange2013_SP1
                                                                          : ExchangeVersion::Exchange2013;
  if (v.major == 14) return v.minor >= 2 ? ExchangeVersion::Exchange2010_SP2
                            : v.minor == 1 ? ExchangeVersion::Exchange2010_SP1
                                           : ExchangeVersion::Exchange2010;
  return ExchangeVersion::Exchange2010;
}

const std::vector<std::string_view>& userSettingNames() {
  static const std::vector<std::string_view> names = makeNames();
  return names;
}

bool isUserSettingName(std::string_view name) {
  static const std::unordered_set<std::string_view> names(userSettingNames().begin(), userSettingNames().end());
  return names.count(name) > 0;
}

namespace {

// Every name, once, with what it is: one hash lookup per requested setting.
enum class Key {
  UserDisplayName, UserDN, UserDeploymentId, AutoDiscoverSMTPAddress, UserMSOnline, InternalMailboxServer,
  InternalRpcClientServer, InternalMailboxServerDN, MailboxDN, InternalMailboxServerAuthenticationMethods, InternalEwsUrl,
  ExternalEwsUrl, InternalOABUrl, ExternalOABUrl, InternalEcpUrl, ExternalEcpUrl, InternalEcpPage, ExternalEcpPage,
  EcpPageFragment, InternalWebClientUrls, ExternalWebClientUrls, ExternalMailboxServer, ExternalMailboxServerRequiresSSL,
  ExternalMailboxServerAuthenticationMethods, InternalRpcHttpServer, InternalRpcHttpConnectivityRequiresSsl,
  InternalRpcHttpAuthenticationMethod, InternalServerExclusiveConnect, ExternalServerExclusiveConnect, EwsPartnerUrl,
  CertPrincipalName, CrossOrganizationSharingEnabled, ShowGalAsDefaultView, CasVersion, EwsSupportedSchemas,
  ExternalEwsVersion, MailboxVersion, MapiHttpEnabled, NotModelled
};

struct Entry {
  Key key = Key::NotModelled;
  std::size_t page = 0;  // the ECP page, for the Ecp keys
  bool since2013 = false;
};

const std::unordered_map<std::string_view, Entry>& table() {
  static const std::unordered_map<std::string_view, Entry> t = [] {
    std::unordered_map<std::string_view, Entry> m;
    for (auto name : userSettingNames()) m[name] = Entry{Key::NotModelled, 0, since2013(name)};
    auto set = [&](std::string_view name, Key k, std::size_t page = 0) {
      m.at(name).key = k;
      m.at(name).page = page;
    };
    set("UserDisplayName", Key::UserDisplayName);
    set("UserDN", Key::UserDN);
    set("UserDeploymentId", Key::UserDeploymentId);
    set("AutoDiscoverSMTPAddress", Key::AutoDiscoverSMTPAddress);
    set("UserMSOnline", Key::UserMSOnline);
    set("InternalMailboxServer", Key::InternalMailboxServer);
    set("InternalRpcClientServer", Key::InternalRpcClientServer);
    set("InternalMailboxServerDN", Key::InternalMailboxServerDN);
    set("MailboxDN", Key::MailboxDN);
    set("InternalMailboxServerAuthenticationMethods", Key::InternalMailboxServerAuthenticationMethods);
    set("InternalEwsUrl", Key::InternalEwsUrl);
    set("InternalEmwsUrl", Key::InternalEwsUrl);
    set("ExternalEwsUrl", Key::ExternalEwsUrl);
    set("ExternalEmwsUrl", Key::ExternalEwsUrl);
    set("InternalOABUrl", Key::InternalOABUrl);
    set("ExternalOABUrl", Key::ExternalOABUrl);
    set("InternalEcpUrl", Key::InternalEcpUrl);
    set("ExternalEcpUrl", Key::ExternalEcpUrl);
    for (std::size_t i = 0; i < kEcpPages.size(); ++i) {
      std::string page(kEcpPages[i].name);
      for (auto& [name, e] : m) {
        if (name == "InternalEcp" + page + "Url") e.key = Key::InternalEcpPage, e.page = i;
        if (name == "ExternalEcp" + page + "Url") e.key = Key::ExternalEcpPage, e.page = i;
        if (name == "Ecp" + page + "UrlFragment") e.key = Key::EcpPageFragment, e.page = i;
      }
    }
    set("InternalWebClientUrls", Key::InternalWebClientUrls);
    set("ExternalWebClientUrls", Key::ExternalWebClientUrls);
    set("ExternalMailboxServer", Key::ExternalMailboxServer);
    set("ExternalMailboxServerRequiresSSL", Key::ExternalMailboxServerRequiresSSL);
    set("ExternalMailboxServerAuthenticationMethods", Key::ExternalMailboxServerAuthenticationMethods);
    set("InternalRpcHttpServer", Key::InternalRpcHttpServer);
    set("InternalRpcHttpConnectivityRequiresSsl", Key::InternalRpcHttpConnectivityRequiresSsl);
    set("InternalRpcHttpAuthenticationMethod", Key::InternalRpcHttpAuthenticationMethod);
    set("InternalServerExclusiveConnect", Key::InternalServerExclusiveConnect);
    set("ExternalServerExclusiveConnect", Key::ExternalServerExclusiveConnect);
    set("EwsPartnerUrl", Key::EwsPartnerUrl);
    set("CertPrincipalName", Key::CertPrincipalName);
    set("CrossOrganizationSharingEnabled", Key::CrossOrganizationSharingEnabled);
    set("ShowGalAsDefaultView", Key::ShowGalAsDefaultView);
    set("CasVersion", Key::CasVersion);
    set("EwsSupportedSchemas", Key::EwsSupportedSchemas);
    set("ExternalEwsVersion", Key::ExternalEwsVersion);
    set("MailboxVersion", Key::MailboxVersion);
    set("MapiHttpEnabled", Key::MapiHttpEnabled);
    return m;
  }();
  return t;
}

}  // namespace

SettingLookup lookupUserSetting(std::string_view name, const Answer& a, ExchangeVersion requested, const Personal* personal) {
  SettingLookup r;
  auto& t = table();
  auto it = t.find(name);
  if (it == t.end() || (requested < ExchangeVersion::Exchange2013 && it->second.since2013)) return r;
  const Entry& e = it->second;
  r.setting.name = name;
  auto value = [&](std::string_view v) {
    if (v.empty()) {
      r.status = SettingStatus::SettingIsNotAvailable;
      return r;
    }
    r.status = SettingStatus::Value;
    r.setting.value = std::string(v);
    if (personal && !personal->answerGuid.empty())  // the personalised server names and the like
      for (auto at = r.setting.value.find(personal->answerGuid); at != std::string::npos;
           at = r.setting.value.find(personal->answerGuid, at + personal->guid.size()))
        r.setting.value.replace(at, personal->answerGuid.size(), personal->guid);
    return r;
  };
  auto none = [&] { return value({}); };
  auto boolean = [&](bool b) { return value(b ? "True" : "False"); };
  auto ecpPage = [&](const std::string& base) {
    auto fragment = kEcpPages[e.page].fragment;
    return value(base.empty() || fragment.empty() ? std::string() : base + std::string(fragment));
  };
  auto webClientUrls = [&](const ServiceUrls& u) {
    if (u.owa.empty()) return none();
    r.status = SettingStatus::Value;
    r.setting.isUrlCollection = true;
    r.setting.urls.push_back(WebClientUrl{u.owaAuthenticationMethods, u.owa});
    return r;
  };
  const ProtocolSettings* exch = a.exch ? &*a.exch : nullptr;
  const ProtocolSettings* expr = a.expr ? &*a.expr : nullptr;
  const ProtocolSettings* rpcHttp = a.exHttpInternal ? &*a.exHttpInternal : nullptr;

  switch (e.key) {
    case Key::UserDisplayName: return value(personal ? personal->displayName : a.displayName);
    case Key::UserDN: return value(personal ? personal->legacyDn : a.legacyDn);
    case Key::UserDeploymentId: return value(a.deploymentId);
    case Key::AutoDiscoverSMTPAddress: return value(personal ? personal->smtpAddress : a.smtpAddress);
    case Key::UserMSOnline: return boolean(false);
    case Key::InternalMailboxServer: return value(exch ? a.mailboxServerFqdn : "");
    case Key::InternalRpcClientServer: return value(exch ? exch->server : "");
    case Key::InternalMailboxServerDN: return value(exch ? exch->serverDn : "");
    case Key::MailboxDN: return value(exch ? exch->mdbDn : "");
    case Key::InternalMailboxServerAuthenticationMethods: return value(exch ? exch->authPackage : "");
    case Key::InternalEwsUrl: return value(a.internalUrls.ews);
    case Key::ExternalEwsUrl: return value(a.externalUrls.ews);
    case Key::InternalOABUrl: return value(a.internalUrls.oab);
    case Key::ExternalOABUrl: return value(a.externalUrls.oab);
    case Key::InternalEcpUrl: return value(a.internalUrls.ecp);
    case Key::ExternalEcpUrl: return value(a.externalUrls.ecp);
    case Key::InternalEcpPage: return ecpPage(a.internalUrls.ecp);
    case Key::ExternalEcpPage: return ecpPage(a.externalUrls.ecp);
    case Key::EcpPageFragment: return value(kEcpPages[e.page].fragment);
    case Key::InternalWebClientUrls: return webClientUrls(a.internalUrls);
    case Key::ExternalWebClientUrls: return webClientUrls(a.externalUrls);
    case Key::ExternalMailboxServer: return value(expr ? expr->server : "");
    case Key::ExternalMailboxServerRequiresSSL: return expr && expr->ssl ? boolean(*expr->ssl) : none();
    case Key::ExternalMailboxServerAuthenticationMethods: return value(expr ? expr->authPackage : "");
    case Key::InternalRpcHttpServer: return value(rpcHttp ? rpcHttp->server : "");
    case Key::InternalRpcHttpConnectivityRequiresSsl: return rpcHttp && rpcHttp->ssl ? boolean(*rpcHttp->ssl) : none();
    case Key::InternalRpcHttpAuthenticationMethod: return value(rpcHttp ? rpcHttp->authPackage : "");
    case Key::InternalServerExclusiveConnect: return value(exch ? "Off" : "");
    case Key::ExternalServerExclusiveConnect: return value(expr ? "On" : "");
    case Key::EwsPartnerUrl: return value(expr ? expr->ewsUrl : "");
    case Key::CertPrincipalName: return value(expr ? expr->certPrincipalName : "");
    case Key::CrossOrganizationSharingEnabled: return boolean(false);
    case Key::ShowGalAsDefaultView: return boolean(true);
    case Key::CasVersion: return value(a.casVersion ? dottedVersion(*a.casVersion) : "");
    case Key::EwsSupportedSchemas: return value(a.mailboxVersion ? supportedSchemas(*a.mailboxVersion) : "");
    case Key::ExternalEwsVersion:
      return value(a.casVersion && !a.externalUrls.ews.empty() ? dottedVersion(*a.casVersion) : "");
    case Key::MailboxVersion: return value(a.mailboxVersion ? dottedVersion(*a.mailboxVersion) : "");
    case Key::MapiHttpEnabled: return boolean(a.mapiHttpAvailable);
    case Key::NotModelled: break;
  }
  // Known names the model has no value for: public folders, directory servers, UM, POP/IMAP/SMTP,
  // mobile policies, sharing locations and the like.
  return none();
}

void AnswerCache::keepOnly(const std::shared_ptr<const model::Organization>& org) {
  if (org_ == org) return;
  entries_.clear();
  org_ = org;
}

const Answer* AnswerCache::find(const std::shared_ptr<const model::Organization>& org, const Query& q, Personal& personal) {
  if (!org || q.explain) return nullptr;
  keepOnly(org);
  const model::Recipient* r = q.legacyDn.empty() ? org->recipientByAddress(q.emailAddress)
                                                 : org->recipientByLegacyDn(q.legacyDn);
  if (!r || r->type != model::RecipientType::Mailbox || r->exchangeGuid.isNull()) return nullptr;
  std::string_view smtp = r->primarySmtpAddress();
  key_.assign(reinterpret_cast<const char*>(&r->database), sizeof r->database);
  key_ += static_cast<char>((q.internalClient ? 1 : 0) | (q.canHandleNegotiate ? 2 : 0) | (q.canHandleExHttp ? 4 : 0) |
                            (q.mapiHttpVersion >= 1 ? 8 : 0) | (q.schema == Schema::MobileSync ? 16 : 0));
  key_.append(domainOf(smtp));
  personal.displayName = r->displayName();
  personal.legacyDn = r->legacyExchangeDn();
  personal.smtpAddress = smtp;
  personal.guid = r->exchangeGuid.str();
  auto it = entries_.find(key_);
  if (it == entries_.end()) {
    auto a = resolve(*org, q);
    if (a.outcome != Outcome::Settings) return nullptr;
    it = entries_.emplace(key_, Entry{std::move(a), personal.guid}).first;
  }
  personal.answerGuid = it->second.guid == personal.guid ? std::string() : it->second.guid;
  return &it->second.answer;
}

}  // namespace autodisc::autodiscover
