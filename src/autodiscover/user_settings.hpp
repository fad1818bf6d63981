#pragma once
// The SOAP user settings (MS-OXWSADISC GetUserSettings; protocol spec section 4.6), each read from
// the same Answer that resolve() gives the POX endpoint, so that the two can never disagree.
#include <optional>
#include <string>
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
  std::string name;
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

// The value of one setting for a settings Answer (Outcome::Settings). A name that is not a setting,
// or that the requested version does not have yet, is InvalidSetting; a setting with no value for
// this mailbox (no such URL set, not modelled) is SettingIsNotAvailable.
SettingLookup lookupUserSetting(std::string_view name, const Answer& a, ExchangeVersion requested);

}  // namespace autodisc::autodiscover
