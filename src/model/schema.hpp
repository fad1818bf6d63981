#pragma once
// The properties of each kind of object under Exchange's names, with the rules for setting them.
// The shell, the formatters and the documentation all read these tables.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "model/organization.hpp"

namespace autodisc::model {

// A property's value as a person reads or writes it.
using PropValue = std::variant<std::monostate, bool, std::int64_t, std::string, std::vector<std::string>>;

std::string displayText(const PropValue& v);  // "{a, b}" for lists, "True"/"False", "" for null

template <class T>
struct Property {
  std::string name;
  std::function<PropValue(const Organization&, const T&)> get;
  // Null for read-only properties. Sets the property on a copy; the caller validates the whole
  // object afterwards with validate().
  std::function<Result<void>(const Organization&, T&, const PropValue&)> set;
};

template <class T> const std::vector<Property<T>>& properties();

// Whole-object rules: required values, references that exist, unique names and addresses.
template <class T> Result<void> validate(const Organization& org, const T& obj);

// Identities as Exchange prints them.
std::string identityOf(const Organization& org, const VirtualDirectory& v);  // "SRV\owa (Default Web Site)"
std::string identityOf(const Organization& org, const OutlookAnywhere& o);   // "SRV\Rpc (Default Web Site)"

// What Exchange setup creates for a new server: every virtual directory with InternalUrl
// https://<fqdn>/<path> and no ExternalUrl (but the Autodiscover directory, whose URLs Exchange
// leaves empty: the article's Figure 4), Outlook Anywhere on the server's name.
std::vector<VirtualDirectory> defaultVirtualDirectories(const ExchangeServer& server);
OutlookAnywhere defaultOutlookAnywhere(const ExchangeServer& server);
std::string defaultAutoDiscoverServiceInternalUri(const ExchangeServer& server);
std::vector<OutlookProvider> defaultOutlookProviders();

// legacyExchangeDN as Exchange derives it for a new recipient, unique in the organisation.
std::string deriveLegacyExchangeDn(const Organization& org, std::string_view alias, const Guid& guid);
std::string administrativeGroupDn(const Organization& org);  // "/o=ORG/ou=Exchange Administrative Group (...)"

// "Valid", "PendingRequest" or "DateInvalid" (expired or not yet valid) at `now`.
std::string certificateStatus(const ExchangeCertificate& c, std::chrono::system_clock::time_point now);

std::string_view domainTypeName(DomainType t);
std::string_view recipientTypeName(RecipientType t);  // "UserMailbox", "MailUser"
std::string serverRoleText(std::uint8_t roles);        // "Mailbox, ClientAccess"
Result<std::uint8_t> parseServerRoles(const std::vector<std::string>& names);
std::string_view vdirTypeName(VdirType t);  // "Owa", "Oab", ... (store spelling)
Result<VdirType> parseVdirType(std::string_view s);

// Value coercions shared by the setters and the shell.
Result<std::string> asString(const PropValue& v);
Result<bool> asBool(const PropValue& v);
Result<std::int64_t> asInt(const PropValue& v);
Result<std::vector<std::string>> asList(const PropValue& v);

}  // namespace autodisc::model
