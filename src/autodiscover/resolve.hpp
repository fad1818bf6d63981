#pragma once
// The Autodiscover decision: which recipient, database, server or array, virtual directories and
// URLs a client is given, or which redirect or error. Every wire format renders this one Answer.
#include <optional>
#include <string>
#include <vector>

#include "model/organization.hpp"

namespace autodisc::autodiscover {

enum class Schema { Outlook, MobileSync };

struct Query {
  Schema schema = Schema::Outlook;
  std::string emailAddress;
  std::string legacyDn;          // wins over emailAddress when both are given
  bool internalClient = true;    // false: internal host names are withheld
  bool canHandleNegotiate = false;  // X-ClientCanHandle: Negotiate
  bool canHandleExHttp = false;     // X-ClientCanHandle: ExHttpInfo
  int mapiHttpVersion = 0;          // X-MapiHttpCapability
  bool explain = false;              // record where each value came from (Answer::chain); off on the request path
};

enum class Outcome { Settings, RedirectAddr, RedirectUrl, Error };
enum class Failure { None, AddressNotFound, NoMobileSyncUrl };

// The values of one Outlook protocol block (EXCH: internal, EXPR: external). Empty strings are left out.
struct ProtocolSettings {
  std::string server, serverDn, serverVersion, mdbDn;
  std::optional<bool> ssl;
  std::string authPackage, certPrincipalName;
  int ttl = -1;  // written only when set and not the default of 1 hour
  std::string ewsUrl, ecpUrl, oabUrl;
};

struct MapiHttpSettings {
  std::string mailStoreInternal, mailStoreExternal, addressBookInternal, addressBookExternal;
};

// The URLs of the mailbox's Client Access Server on one side (InternalUrl or ExternalUrl), as they
// are handed out: ECP ending in '/', OAB with the offline address book's GUID. Empty when not set.
struct ServiceUrls {
  std::string ews, ecp, oab, owa, owaAuthenticationMethods, activeSync;
};

struct WebSettings {
  std::string owaUrl, authenticationMethods, ewsUrl;
};

// One link of the chain that produced an answer, for Get-AutodiscoverResponse.
struct Step {
  std::string what;   // "recipient", "database", "server", "ExternalUrl of ...", ...
  std::string value;
};

struct Answer {
  Outcome outcome = Outcome::Error;
  Failure failure = Failure::None;
  std::string requestedAddress;
  std::string displayName, legacyDn, smtpAddress, deploymentId;
  std::optional<ProtocolSettings> exch, expr;
  std::optional<MapiHttpSettings> mapiHttp;      // when asked for and enabled; then no EXCH or EXPR
  std::optional<ProtocolSettings> exHttpInternal, exHttpExternal;  // when asked for (ExHttpInfo)
  std::optional<WebSettings> webInternal, webExternal;
  std::string mobileSyncUrl;
  std::string redirectAddr;
  std::string redirectUrl;  // RedirectUrl: the accepted domain's AutodiscoverRedirectUrl
  std::vector<Step> chain;
  // Where the mailbox lives, for the SOAP settings that name it (InternalMailboxServer,
  // MailboxVersion, CasVersion, EwsSupportedSchemas, MapiHttpEnabled). Set with Outcome::Settings
  // when the mailbox's database and servers are known.
  std::string mailboxServerFqdn;
  ServiceUrls internalUrls, externalUrls;  // internal ones only for internal clients
  std::optional<ServerVersion> mailboxVersion, casVersion;
  bool mapiHttpAvailable = false;  // the organisation has MAPI over HTTP on and the server can serve it
};

Answer resolve(const model::Organization& org, const Query& q);

// What an organisation says about one of its domains without naming a mailbox (SOAP
// GetDomainSettings; the v2 JSON answer for an address that is not a mailbox here): the external
// URLs of the first Client Access Server (in creation order) that has them.
struct DomainAnswer {
  bool accepted = false;  // an accepted domain of the organisation
  std::string externalEwsUrl, externalActiveSyncUrl;
  std::optional<ServerVersion> casVersion;  // of the server whose EWS URL it is
};
DomainAnswer resolveDomain(const model::Organization& org, std::string_view domain);

}  // namespace autodisc::autodiscover
