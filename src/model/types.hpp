#pragma once
// The organisation model: objects and properties under Exchange's own names.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/validate.hpp"

namespace autodisc::model {

using Id = std::uint32_t;  // stable within a store; 0 means "none"

enum class Kind : std::uint8_t {
  AcceptedDomain,
  AdSite,
  AdSubnet,
  ExchangeServer,
  VirtualDirectory,
  OutlookAnywhere,
  ClientAccessArray,
  MailboxDatabase,
  Recipient,
  OutlookProvider,
  OrganizationConfig,
  ExchangeCertificate,
};
inline constexpr int kKindCount = 12;
std::string_view kindName(Kind k);

enum class DomainType : std::uint8_t { Authoritative, InternalRelay, ExternalRelay };

struct AcceptedDomain {
  Id id = 0;
  std::string name;
  std::string domainName;
  DomainType domainType = DomainType::Authoritative;
  bool isDefault = false;
  // autodisc's own: where Autodiscover for this domain is answered when it is not here (hosters).
  // Addresses of the domain that are not recipients here are sent there (POX redirectUrl, SOAP
  // RedirectUrl, a v2 302), and so is the plain-HTTP redirect for autodiscover.<domain>. Empty: here.
  std::string autodiscoverRedirectUrl;
};

struct AdSite {
  Id id = 0;
  std::string name;
};

struct AdSubnet {
  Id id = 0;
  Cidr range;  // Name is the CIDR text
  Id site = 0;
  std::string name() const { return range.str(); }
};

// Server roles as Exchange lists them in ServerRole.
enum ServerRole : std::uint8_t {
  RoleMailbox = 1,
  RoleClientAccess = 2,
  RoleHubTransport = 4,
  RoleUnifiedMessaging = 8,
  RoleEdgeTransport = 16,
};

struct ExchangeServer {
  Id id = 0;
  std::string name;
  std::string fqdn;
  Id site = 0;
  std::uint8_t roles = RoleMailbox | RoleClientAccess;
  ServerVersion version;
  // Client Access properties (Set-ClientAccessServer).
  std::string autoDiscoverServiceInternalUri;
  std::vector<std::string> autoDiscoverSiteScope;
  bool isClientAccess() const { return roles & RoleClientAccess; }
};

enum class VdirType : std::uint8_t { Owa, Oab, Ews, ActiveSync, Ecp, Autodiscover, Mapi };
inline constexpr int kVdirTypeCount = 7;
std::string_view vdirDefaultName(VdirType t);  // "OWA", "OAB", "EWS", "Microsoft-Server-ActiveSync", ...
std::string_view vdirDefaultPath(VdirType t);  // "/owa", "/OAB", "/EWS/Exchange.asmx", ...

// Authentication methods as Exchange names them.
enum class AuthMethod : std::uint8_t {
  Basic, Digest, Ntlm, Fba, WindowsIntegrated, LiveIdFba, LiveIdBasic, WSSecurity, Certificate,
  NegoEx, OAuth, Adfs, Kerberos, Negotiate, LiveIdNegotiate, Misconfigured
};
std::string_view authMethodName(AuthMethod m);
Result<AuthMethod> parseAuthMethod(std::string_view name);

struct VirtualDirectory {
  Id id = 0;
  VdirType type = VdirType::Owa;
  Id server = 0;
  std::string name;     // e.g. "OWA"
  std::string website;  // e.g. "Default Web Site"
  std::string internalUrl;
  std::string externalUrl;
  std::vector<AuthMethod> internalAuthenticationMethods;
  std::vector<AuthMethod> externalAuthenticationMethods;
};

struct OutlookAnywhere {
  Id id = 0;
  Id server = 0;
  std::string internalHostname;
  std::string externalHostname;
  bool internalClientsRequireSsl = false;
  bool externalClientsRequireSsl = true;
  AuthMethod internalClientAuthenticationMethod = AuthMethod::Ntlm;
  AuthMethod externalClientAuthenticationMethod = AuthMethod::Negotiate;
  std::vector<AuthMethod> iisAuthenticationMethods{AuthMethod::Basic, AuthMethod::Ntlm, AuthMethod::Negotiate};
};

struct ClientAccessArray {
  Id id = 0;
  std::string name;
  std::string fqdn;
  Id site = 0;
};

struct MailboxDatabase {
  Id id = 0;
  std::string name;
  Id server = 0;
  std::string rpcClientAccessServer;  // an FQDN: a server's or a CAS array's
  Guid guid;
};

enum class RecipientType : std::uint8_t { None, Mailbox, MailUser };

// A recipient. There may be millions, so its strings live in one packed allocation.
class Recipient {
 public:
  enum Field : std::uint8_t {
    Name, Alias, DisplayName, LegacyExchangeDn, ExternalEmailAddress, PasswordHash, EmailAddresses, kFieldCount
  };

  Id id = 0;
  RecipientType type = RecipientType::None;
  Id database = 0;  // mailboxes only
  Guid exchangeGuid;

  Recipient() = default;
  Recipient(const Recipient& o);
  Recipient& operator=(const Recipient& o);
  Recipient(Recipient&&) noexcept = default;
  Recipient& operator=(Recipient&&) noexcept = default;

  std::string_view field(Field f) const;
  void setField(Field f, std::string_view value);
  void setFields(const std::string_view (&values)[kFieldCount]);  // all at once, one allocation
  std::size_t blobSize() const { return end_[kFieldCount - 1]; }

  std::string_view name() const { return field(Name); }
  std::string_view alias() const { return field(Alias); }
  std::string_view displayName() const { return field(DisplayName); }
  std::string_view legacyExchangeDn() const { return field(LegacyExchangeDn); }
  std::string_view externalEmailAddress() const { return field(ExternalEmailAddress); }
  std::string_view passwordHash() const { return field(PasswordHash); }

  // Proxy addresses, "SMTP:primary@x" (exactly one upper-case SMTP) and "smtp:other@x", etc.
  std::vector<std::string_view> emailAddresses() const;
  void setEmailAddresses(const std::vector<std::string>& proxies);
  std::size_t emailAddressCount() const;
  std::string_view emailAddress(std::size_t i) const;  // the i-th proxy, with prefix
  std::string_view primarySmtpAddress() const;          // without prefix; empty if none

 private:
  std::unique_ptr<char[]> blob_;
  std::uint16_t end_[kFieldCount] = {};  // end offset of each field in blob_
};

struct OutlookProvider {
  Id id = 0;
  std::string name;  // EXCH, EXPR, WEB
  std::string certPrincipalName;
  int ttl = 1;  // hours; -1 means "not set"
  std::string server;
};

struct OrganizationConfig {
  std::string name = "First Organization";
  bool mapiHttpEnabled = false;
  Guid guid;  // the deployment id that Autodiscover reports
  Guid offlineAddressBookGuid;  // the default offline address book's, part of every OABUrl
};

// The services a certificate is enabled for, as Enable-ExchangeCertificate -Services names them.
enum CertificateService : std::uint8_t {
  ServiceIis = 1,
  ServiceSmtp = 2,
  ServiceImap = 4,
  ServicePop = 8,
  ServiceUm = 16,
  ServiceUmCallRouter = 32,
};
std::string certificateServicesText(std::uint8_t services);  // "IIS, SMTP"; "None"
Result<std::uint8_t> parseCertificateServices(const std::vector<std::string>& names);

// A certificate of the organisation's (Get-ExchangeCertificate), or a request for one that is not
// yet answered (New-ExchangeCertificate -GenerateRequest). autodisc's nodes are identical, so a
// certificate is the organisation's, not one server's: every node serves the ones enabled for IIS.
struct ExchangeCertificate {
  Id id = 0;
  std::string thumbprint;  // SHA-1 of the certificate (of the request while pending), upper-case hex
  std::string friendlyName;
  std::string subject;     // "CN=mail.contoso.com, O=Contoso"
  std::string issuer;
  std::vector<std::string> certificateDomains;  // DNS names: the subject alternative names
  std::string notBefore, notAfter;              // "2026-12-05T06:00:00Z"; empty while pending
  std::uint8_t services = 0;
  bool selfSigned = false;
  std::string certificatePem;  // the chain, leaf first; empty while the request is pending
  std::string requestPem;      // the request it answers, if it was made here
  std::string privateKeyPem;   // never printed
  bool pending() const { return certificatePem.empty(); }
};

}  // namespace autodisc::model
