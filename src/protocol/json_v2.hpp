#pragma once
// Autodiscover v2 (protocol spec section 5): GET /autodiscover/autodiscover.json?Email=A&Protocol=P
// and /autodiscover/autodiscover.json/v1.0/A?Protocol=P, answered with {"Protocol":..,"Url":..}, an
// error object, or a 302 to the next hop for a mail user.
//
// Enumeration: an address in an accepted domain that is not a mailbox here gets the answer the
// domain gives (resolveDomain: the first Client Access Server's URL), so that in an organisation
// whose mailboxes share their URLs a known and an unknown address look alike. Mail users are
// redirected (as Exchange Online does), which does tell that the address exists.
#include <string>
#include <string_view>

#include "autodiscover/resolve.hpp"

namespace autodisc::protocol {

enum class JsonProblem { None, MandatoryParameterMissing, MissingProtocol };

struct JsonRequest {
  JsonProblem problem = JsonProblem::None;
  std::string email;     // %-decoded
  std::string protocol;  // as sent
  int redirectCount = 0;
};

// Whether the path (query aside, without regard to case) is one of the two v2 forms.
bool isJsonPath(std::string_view target);
JsonRequest parseJsonRequest(std::string_view target);

struct JsonResponse {
  unsigned status = 200;
  std::string body;      // application/json
  std::string location;  // with 302
  std::string outcome;   // for the access log: settings, redirect, or the ErrorCode
};
JsonResponse answerJson(const model::Organization& org, const JsonRequest& req, bool internalClient,
                        const model::Recipient* caller);

// "%40" and the like decoded; a malformed escape is kept as it is.
std::string percentDecode(std::string_view s);
std::string percentEncode(std::string_view s);
// A JSON string literal, quotes included.
std::string jsonString(std::string_view s);

}  // namespace autodisc::protocol
