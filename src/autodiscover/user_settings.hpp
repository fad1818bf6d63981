#pragma once
// The SOAP user settings (MS-OXWSADISC GetUserSettings; protocol spec section 4.6), each read from
// the same Answer that resolve() gives the POX endpoint, so that the two can never disagree.
#include <optional>
#include <memory>
#include <string>
#include <unordered_map>
#include <string_view>
#include <vector>

#include "autodiscover/resolve.hpp"

namespace autodisc::autodiscover {

// The versions a SOAP client names in RequestedServerVersion, oldest first.
enum class ExchangeVersion {
  Exchange2010, Exchange2010_SP1, Exchange2010_SP2, Exchange2013, Exchange2013_SP1, Exchange2016, Exchange2019
};
// "Exchange2010", ... (exact spelling); nothing for an unknown name.
std::optional<ExchangeVersion> parseExchangeVersion(std::string_view name);
std::string_view exchangeVersionName(ExchangeVersion v);
// What ServerVersionInfo/Version says for a server of that version: the newest of the 2010 and 2013
// names, which every client knows (Exchange 2016 and 2019 serve the 2013 SP1 Autodiscover schema).
ExchangeVersion schemaOf(const ServerVersion& v);

// "15.01.2507.006", as Exchange writes CasVersion and the EWS versions.
std::string dottedVersion(const ServerVersion& v);

struct WebClientUrl {
  std::string authenticationMethods, url;
};

struct UserSetting {
  std::string_view name;             // the name as asked for: it lives as long as the request
  std::string value;                 // a StringSetting
  std::vector<WebClientUrl> urls;    // a WebClientUrlCollectionSetting when not empty
  bool isUrlCollection = false;
};

enum class SettingStatus { Value, InvalidSetting, SettingIsNotAvailable };

struct SettingLookup {
  SettingStatus status = SettingStatus::InvalidSetting;
  UserSetting setting;
};

// Whether `name` is a user setting name of MS-OXWSADISC (exact spelling, as clients send them).
bool isUserSettingName(std::string_view name);
// Every user setting name, in the order of the protocol spec's table.
const std::vector<std::string_view>& userSettingNames();

// What tells one mailbox's settings from another's on the same database, domain and client flags
// (see AnswerCache): its User fields, and its GUID where the Answer has another mailbox's.
struct Personal {
  std::string_view displayName, legacyDn, smtpAddress;
  std::string guid, answerGuid;  // answerGuid: the GUID of the mailbox the Answer was made for
};

// The value of one setting for a settings Answer (Outcome::Settings). A name that is not a setting,
// or that the requested version does not have yet, is InvalidSetting; a setting with no value for
// this mailbox (no such URL set, not modelled) is SettingIsNotAvailable. With `personal`, the
// Answer is another mailbox's (from an AnswerCache) and the values are made this mailbox's.
SettingLookup lookupUserSetting(std::string_view name, const Answer& a, ExchangeVersion requested,
                                const Personal* personal = nullptr);

// Settings Answers kept per database, domain of the address and client flags, for one snapshot:
// SOAP asks for a mailbox's settings one name at a time, and resolve() need not run again for each
// mailbox of the same database. One per thread; it keeps its snapshot alive and starts again when
// given another. A test checks every setting of every mailbox against an Answer of its own.
class AnswerCache {
 public:
  // The Answer to read `q`'s mailbox's settings from, with what to make them its own; null when
  // the address is not a mailbox with a GUID (the caller resolves it the long way).
  const Answer* find(const std::shared_ptr<const model::Organization>& org, const Query& q, Personal& personal);
  void keepOnly(const std::shared_ptr<const model::Organization>& org);
  std::size_t size() const { return entries_.size(); }

 private:
  std::shared_ptr<const model::Organization> org_;
  struct Entry {
    Answer answer;
    std::string guid;  // of the mailbox it was made for
  };
  std::unordered_map<std::string, Entry> entries_;
  std::string key_;
};

}  // namespace autodisc::autodiscover
