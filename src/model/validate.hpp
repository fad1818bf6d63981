#pragma once
// Validators and small value types for the organisation model. Pure: no I/O.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/error.hpp"

namespace autodisc {

// An absolute http(s) URL, split into its parts.
struct Url {
  std::string scheme;  // "http" or "https", lower case
  std::string host;    // as written (brackets removed for IPv6)
  std::optional<std::uint16_t> port;
  std::string pathAndQuery;  // starts with '/' ("/" when absent)
};
Result<Url> parseUrl(std::string_view text);

// A DNS host name: labels of letters, digits and hyphens, 1 to 63 characters, 253 in all.
bool isHostName(std::string_view name);
Result<void> checkFqdn(std::string_view name);
// A literal IPv4 or IPv6 address.
bool isIpAddress(std::string_view text);

// An SMTP address local@domain (dot-atom local part, host-name domain).
Result<void> checkSmtpAddress(std::string_view address);
std::string_view domainOf(std::string_view address);

// An address range written as CIDR (IPv4 or IPv6).
struct Cidr {
  std::array<std::uint8_t, 16> bytes{};
  bool v6 = false;
  int prefix = 0;
  bool contains(const Cidr& address) const;  // address given as a /32 or /128
  std::string str() const;
};
Result<Cidr> parseCidr(std::string_view text);
Result<Cidr> parseIpAddress(std::string_view text);

struct Guid {
  std::array<std::uint8_t, 16> bytes{};
  bool isNull() const;
  std::string str() const;  // 8-4-4-4-12, lower case
  std::array<char, 36> chars() const;  // the same, without allocating
  // A version 4 GUID made from 128 random bits supplied by the caller (the core has no entropy).
  static Guid fromRandom(std::uint64_t hi, std::uint64_t lo);
  friend bool operator==(const Guid&, const Guid&) = default;
};
Result<Guid> parseGuid(std::string_view text);

// Exchange's AdminDisplayVersion, "Version 15.1 (Build 2507.6)".
struct ServerVersion {
  int major = 0, minor = 0, build = 0, revision = 0;
  // The 32-bit value Autodiscover writes as ServerVersion (protocol spec 2.6).
  std::uint32_t encoded() const;
  std::string str() const;  // "Version 15.1 (Build 2507.6)"
};
Result<ServerVersion> parseServerVersion(std::string_view text);

}  // namespace autodisc
