#include "autodiscover/user_settings.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

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
  auto& n = userSettingNames();
  return std::find(n.begin(), n.end(), name) != n.end();
}

SettingLookup lookupUserSetting(std::string_view name, const Answer& a, ExchangeVersion requested) {
  SettingLookup r;
  if (!isUserSettingName(name) || (requested < ExchangeVersion::Exchange2013 && since2013(name))) return r;
  r.setting.name = std::string(name);
  auto value = [&](std::string_view v) {
    if (v.empty()) {
      r.status = SettingStatus::SettingIsNotAvailable;
    } else {
      r.status = SettingStatus::Value;
      r.setting.value = std::string(v);
    }
    return r;
  };
  auto none = [&] { return value({}); };
  auto boolean = [&](bool b) { return value(b ? "True" : "False"); };
  const ProtocolSettings* exch = a.exch ? &*a.exch : nullptr;
  const ProtocolSettings* expr = a.expr ? &*a.expr : nullptr;
  const ProtocolSettings* rpcHttp = a.exHttpInternal ? &*a.exHttpInternal : nullptr;

  if (name == "UserDisplayName") return value(a.displayName);
  if (name == "UserDN") return value(a.legacyDn);
  if (name == "UserDeploymentId") return value(a.deploymentId);
  if (name == "AutoDiscoverSMTPAddress") return value(a.smtpAddress);
  if (name == "UserMSOnline") return boolean(false);
  if (name == "InternalMailboxServer") return value(exch ? a.mailboxServerFqdn : "");
  if (name == "InternalRpcClientServer") return value(exch ? exch->server : "");
  if (name == "InternalMailboxServerDN") return value(exch ? exch->serverDn : "");
  if (name == "MailboxDN") return value(exch ? exch->mdbDn : "");
  if (name == "InternalMailboxServerAuthenticationMethods") return value(exch ? exch->authPackage : "");
  if (name == "InternalEwsUrl" || name == "InternalEmwsUrl") return value(a.internalUrls.ews);
  if (name == "ExternalEwsUrl" || name == "ExternalEmwsUrl") return value(a.externalUrls.ews);
  if (name == "InternalOABUrl") return value(a.internalUrls.oab);
  if (name == "ExternalOABUrl") return value(a.externalUrls.oab);
  if (name == "InternalEcpUrl") return value(a.internalUrls.ecp);
  if (name == "ExternalEcpUrl") return value(a.externalUrls.ecp);
  for (auto& p : kEcpPages) {
    if (name == "InternalEcp" + std::string(p.name) + "Url")
      return value(a.internalUrls.ecp.empty() || p.fragment.empty() ? "" : a.internalUrls.ecp + std::string(p.fragment));
    if (name == "ExternalEcp" + std::string(p.name) + "Url")
      return value(a.externalUrls.ecp.empty() || p.fragment.empty() ? "" : a.externalUrls.ecp + std::string(p.fragment));
    if (name == "Ecp" + std::string(p.name) + "UrlFragment") return value(p.fragment);
  }
  if (name == "InternalWebClientUrls" || name == "ExternalWebClientUrls") {
    const ServiceUrls& u = name.starts_with("Internal") ? a.internalUrls : a.externalUrls;
    if (u.owa.empty()) return none();
    r.status = SettingStatus::Value;
    r.setting.isUrlCollection = true;
    r.setting.urls.push_back(WebClientUrl{u.owaAuthenticationMethods, u.owa});
    return r;
  }
  if (name == "ExternalMailboxServer") return value(expr ? expr->server : "");
  if (name == "ExternalMailboxServerRequiresSSL") return expr && expr->ssl ? boolean(*expr->ssl) : none();
  if (name == "ExternalMailboxServerAuthenticationMethods") return value(expr ? expr->authPackage : "");
  if (name == "InternalRpcHttpServer") return value(rpcHttp ? rpcHttp->server : "");
  if (name == "InternalRpcHttpConnectivityRequiresSsl") return rpcHttp && rpcHttp->ssl ? boolean(*rpcHttp->ssl) : none();
  if (name == "InternalRpcHttpAuthenticationMethod") return value(rpcHttp ? rpcHttp->authPackage : "");
  if (name == "InternalServerExclusiveConnect") return value(exch ? "Off" : "");
  if (name == "ExternalServerExclusiveConnect") return value(expr ? "On" : "");
  if (name == "EwsPartnerUrl") return value(expr ? expr->ewsUrl : "");
  if (name == "CertPrincipalName") return value(expr ? expr->certPrincipalName : "");
  if (name == "CrossOrganizationSharingEnabled") return boolean(false);
  if (name == "ShowGalAsDefaultView") return boolean(true);
  if (name == "CasVersion") return value(a.casVersion ? dottedVersion(*a.casVersion) : "");
  if (name == "EwsSupportedSchemas") return value(a.mailboxVersion ? supportedSchemas(*a.mailboxVersion) : "");
  if (name == "ExternalEwsVersion")
    return value(a.casVersion && !a.externalUrls.ews.empty() ? dottedVersion(*a.casVersion) : "");
  if (name == "MailboxVersion") return value(a.mailboxVersion ? dottedVersion(*a.mailboxVersion) : "");
  if (name == "MapiHttpEnabled") return boolean(a.mapiHttpAvailable);
  // Known names the model has no value for: public folders, directory servers, UM, POP/IMAP/SMTP,
  // mobile policies, sharing locations and the like.
  return none();
}

}  // namespace autodisc::autodiscover
