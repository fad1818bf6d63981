#pragma once
// The POX wire format (MS-OXDSCLI for Outlook, MS-ASCMD for ActiveSync "mobilesync"): parse a
// request body into a Query; render an Answer, or a protocol error, as the response body.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "autodiscover/resolve.hpp"
#include "protocol/xml_writer.hpp"

namespace autodisc::protocol {

inline constexpr std::string_view kOutlookRequestNs =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
inline constexpr std::string_view kOutlookResponseNs =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
inline constexpr std::string_view kMobileRequestNs =
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006";
inline constexpr std::string_view kMobileResponseNs =
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006";
inline constexpr std::string_view kResponseNs = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";

// Protocol-level errors, answered in the generic <Error> form with HTTP 200.
enum class PoxError { None = 0, InvalidRequest = 600, ProviderUnavailable = 601 };

struct PoxRequest {
  PoxError error = PoxError::None;
  autodiscover::Query query;
  // A MobileSync request without an address: real phones send one and rely on the Basic user name.
  bool addressMissing = false;
};

// Never expands DTDs or entities; a document that declares any is an invalid request.
PoxRequest parsePoxRequest(std::string_view body);
// The one-pass reading parsePoxRequest tries first; nullopt for anything it leaves to pugixml.
std::optional<PoxRequest> parsePoxRequestFast(std::string_view body);
// The reading with pugixml, for everything else (and for the test that compares the two).
PoxRequest parsePoxRequestTree(std::string_view body);

// What a response needs from outside the core: the time of day and an id, as Exchange writes them.
struct ErrorStamp {
  std::string time;  // HH:MM:SS.fffffff
  std::string id;    // decimal
};

// The Time attribute of an error answer for a moment given by the caller: HH:MM:SS.fffffff (UTC).
std::string errorTime(std::chrono::system_clock::time_point t);

std::string renderPox(const autodiscover::Answer& a, autodiscover::Schema schema, const ErrorStamp& stamp);
std::string renderPoxError(PoxError e, const ErrorStamp& stamp);
// The same, appended to `out` (the service reuses one buffer per connection).
void renderPox(const autodiscover::Answer& a, autodiscover::Schema schema, const ErrorStamp& stamp, std::string& out);
void renderPoxError(PoxError e, const ErrorStamp& stamp, std::string& out);

// An Outlook settings answer in three parts, which renderPox writes one after the other: the start
// (declaration, User, the start of Account), the protocol blocks, the end. PoxCache keeps the blocks.
void renderPoxSettingsStart(std::string& out, std::string_view displayName, std::string_view legacyDn,
                            std::string_view smtpAddress, std::string_view deploymentId);
void renderPoxAccountSettings(const autodiscover::Answer& a, std::string& out);
void renderPoxSettingsEnd(std::string& out);


// A POX answer as a client reads it (Outlook or MobileSync schema).
struct PoxResponse {
  enum class Kind { Settings, RedirectAddr, RedirectUrl, Error, NotAutodiscover } kind = Kind::NotAutodiscover;
  std::string target;               // RedirectAddr's address or RedirectUrl's URL
  std::string errorCode, message;   // an error answer
  std::string displayName, smtpAddress;
  struct Block {
    std::string type;               // EXCH, EXPR, WEB, EXHTTP, mapiHttp, MobileSync
    std::vector<std::pair<std::string, std::string>> values;  // Server, EwsUrl, ... in document order
  };
  std::vector<Block> blocks;
  int ttlHours = 1;                 // the smallest TTL given (default 1 hour)
};
// Reads an answer (no DTDs); NotAutodiscover when the body is not one.
PoxResponse parsePoxResponse(std::string_view body);

}  // namespace autodisc::protocol
