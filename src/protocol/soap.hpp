#pragma once
// SOAP Autodiscover (MS-OXWSADISC; protocol spec section 4): POST /autodiscover/autodiscover.svc.
// Parse a SOAP 1.1 envelope into a SoapRequest; answer GetUserSettings from resolve() (through
// lookupUserSetting, the same Answer the POX endpoint renders) and GetDomainSettings from
// resolveDomain(); render the response envelope, or a SOAP fault for a malformed one.
#include <memory>
#include <string>
#include <unordered_map>
#include <string_view>
#include <vector>

#include "autodiscover/resolve.hpp"
#include "autodiscover/user_settings.hpp"

namespace autodisc::protocol {

inline constexpr std::string_view kSoapNs = "http://schemas.xmlsoap.org/soap/envelope/";
inline constexpr std::string_view kAutodiscoverSoapNs = "http://schemas.microsoft.com/exchange/2010/Autodiscover";
inline constexpr std::string_view kAddressingNs = "http://www.w3.org/2005/08/addressing";
inline constexpr std::string_view kActionPrefix = "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/";

enum class SoapOperation {
  Unknown,
  GetUserSettings,
  GetDomainSettings,
  GetFederationInformation,
  GetOrganizationRelationshipSettings
};

struct SoapRequest {
  std::string fault;  // not empty: the envelope cannot be answered; a SOAP fault says this
  SoapOperation operation = SoapOperation::Unknown;
  std::string requestedServerVersion;  // the header, as sent; empty when absent
  std::vector<std::string> users;      // GetUserSettings: each Mailbox, in order
  std::vector<std::string> domains;    // GetDomainSettings
  std::vector<std::string> settings;   // RequestedSettings, in order
};

// Never expands DTDs or entities. The operation is wsa:Action's; without one, the body element's.
SoapRequest parseSoapRequest(std::string_view body);

// A mailbox's part of a GetUserSettings answer, rendered once per settings Answer (of an
// AnswerCache), requested version and list of settings, with marks where the mailbox's own values
// go. One per thread, like the AnswerCache it follows; a test compares with the long way.
class SoapTemplates {
 public:
  // Appends the part (ErrorCode to UserSettings) for the mailbox `personal` describes and returns
  // true; false when it cannot (the caller renders it the long way).
  bool render(const std::shared_ptr<const model::Organization>& org, const autodiscover::Answer& a,
              const SoapRequest& req, autodiscover::ExchangeVersion requested, const autodiscover::Personal& personal,
              std::string& out);
  void keepOnly(const std::shared_ptr<const model::Organization>& org);
  std::size_t size() const { return entries_.size(); }

 private:
  std::shared_ptr<const model::Organization> org_;
  std::unordered_map<std::string, std::string> entries_;
  std::string key_;
};

// Who asks and from where: the same policy as the POX endpoint.
struct SoapContext {
  bool internalClient = true;
  // With Basic authentication: the caller, who is answered only about its own addresses (others
  // are InvalidUser, as unknown ones). Null: anonymous.
  const model::Recipient* caller = nullptr;
  // The thread's cache of settings Answers and the snapshot `org` belongs to (the service passes
  // both); without them every mailbox is resolved anew.
  autodiscover::AnswerCache* cache = nullptr;
  SoapTemplates* templates = nullptr;
  const std::shared_ptr<const model::Organization>* snapshot = nullptr;
};

// The whole response (envelope) for a request that parsed, and its HTTP status (200, or 500 with a
// fault for an operation that is not one of the four).
struct SoapResponse {
  unsigned status = 200;
  std::string body;
  std::string errorCode;  // the response-level ErrorCode, for the access log and metrics
};
SoapResponse answerSoap(const model::Organization& org, const SoapRequest& req, const SoapContext& ctx);

// A response-level error for a request that parsed (HTTP 200): ServerBusy while the service has no
// organisation yet, InternalServerError when answering failed, NotFederated for federation.
SoapResponse soapResponseError(const SoapRequest& req, std::string_view code, std::string_view message,
                               const ServerVersion& version);

// A SOAP 1.1 fault (HTTP 500): faultcode s:Client, the text as faultstring.
std::string renderSoapFault(std::string_view text);

// A GetUserSettings answer as a client reads it, for its first user.
struct UserSettingsAnswer {
  bool soap = false;               // it was a SOAP envelope with a GetUserSettings response
  std::string fault;               // a SOAP fault's text
  std::string errorCode;           // the response's, else the user's: NoError, RedirectAddress, InvalidUser, ...
  std::string errorMessage;
  std::string redirectTarget;
  std::vector<std::pair<std::string, std::string>> settings;  // name, value (URL collections: the URLs)
};
UserSettingsAnswer parseGetUserSettingsResponse(std::string_view body);
// A GetUserSettings request for one address and the settings named.
std::string getUserSettingsRequest(std::string_view address, const std::vector<std::string>& settings,
                                   std::string_view to);

// The version the organisation's newest Client Access Server runs, as ServerVersionInfo says it.
ServerVersion answeringVersion(const model::Organization& org);

}  // namespace autodisc::protocol
