#include "model/validate.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstdio>

#include "model/text.hpp"

namespace autodisc {

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::optional<int> toInt(std::string_view s) {
  int v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

bool isHostName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  for (auto label : text::split(name, '.')) {
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!isAlpha(c) && !isDigit(c) && c != '-') return false;
  }
  return true;
}

bool isIpAddress(std::string_view text) { return parseIpAddress(text).has_value(); }

Result<void> checkFqdn(std::string_view name) {
  if (name.empty()) return fail("the name is empty");
  if (name.size() > 253) return fail("'" + std::string(name) + "' is longer than 253 characters");
  if (!isHostName(name))
    return fail("'" + std::string(name) +
                "' is not a valid host name (labels of letters, digits and hyphens, 1 to 63 characters)");
  return {};
}

Result<Url> parseUrl(std::string_view t) {
  std::string shown(t);
  auto bad = [&](std::string why) { return fail("'" + shown + "' is not a valid URL: " + why); };
  if (t.empty()) return fail("the URL is empty");
  for (char c : t)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return bad("it contains a space or a control character");
  Url u;
  auto sep = t.find("://");
  if (sep == std::string_view::npos) return bad("it is not absolute (expected https://host/path)");
  u.scheme = text::toLower(t.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https") return bad("the scheme must be http or https");
  auto rest = t.substr(sep + 3);
  auto pathPos = rest.find_first_of("/?#");
  auto authority = rest.substr(0, pathPos);
  if (authority.find('@') != std::string_view::npos) return bad("user names in URLs are not allowed");
  std::string_view hostPart = authority, portPart;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed '[' in the host");
    hostPart = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("unexpected text after the host");
      portPart = after.substr(1);
    }
    if (auto ip = parseIpAddress(hostPart); !ip || !ip->v6)
      return bad("'" + std::string(hostPart) + "' is not an IPv6 address");
  } else {
    auto colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      hostPart = authority.substr(0, colon);
      portPart = authority.substr(colon + 1);
    }
    if (hostPart.empty()) return bad("it has no host");
    if (!isHostName(hostPart) && !isIpAddress(hostPart))
      return bad("'" + std::string(hostPart) + "' is not a valid host name");
  }
  if (hostPart.empty()) return bad("it has no host");
  if (!portPart.empty() || authority.ends_with(':')) {
    auto port = toInt(portPart);
    if (!port || *port < 1 || *port > 65535) return bad("the port must be a number from 1 to 65535");
    u.port = static_cast<std::uint16_t>(*port);
  }
  u.host = std::string(hostPart);
  u.pathAndQuery = pathPos == std::string_view::npos ? "/" : std::string(rest.substr(pathPos));
  if (u.pathAndQuery.front() != '/') u.pathAndQuery.insert(0, "/");
  if (u.pathAndQuery.find('#') != std::string::npos) return bad("fragments (#) are not allowed");
  return u;
}

std::string_view domainOf(std::string_view address) {
  auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string_view{} : address.substr(at + 1);
}

Result<void> checkSmtpAddress(std::string_view a) {
  std::string shown(a);
  if (a.empty()) return fail("the address is empty");
  if (a.size() > 320) return fail("'" + shown.substr(0, 40) + "...' is longer than 320 characters");
  auto at = a.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == a.size())
    return fail("'" + shown + "' is not a valid SMTP address (expected name@domain)");
  auto local = a.substr(0, at);
  auto domain = a.substr(at + 1);
  if (local.size() > 64) return fail("'" + shown + "' has a local part longer than 64 characters");
  static constexpr std::string_view atext = "!#$%&'*+-/=?^_`{|}~";
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
    return fail("'" + shown + "' is not a valid SMTP address (misplaced dot)");
  for (char c : local)
    if (!isAlpha(c) && !isDigit(c) && c != '.' && atext.find(c) == std::string_view::npos)
      return fail("'" + shown + "' is not a valid SMTP address (character '" + std::string(1, c) +
                  "' in the local part)");
  if (!isHostName(domain)) return fail("'" + shown + "' is not a valid SMTP address (bad domain)");
  return {};
}

Result<Cidr> parseIpAddress(std::string_view text) {
  Cidr c;
  std::string s(text);
  if (s.find(':') != std::string::npos) {
    in6_addr a6{};
    if (inet_pton(AF_INET6, s.c_str(), &a6) != 1) return fail("'" + s + "' is not an IP address");
    std::copy(a6.s6_addr, a6.s6_addr + 16, c.bytes.begin());
    c.v6 = true;
    c.prefix = 128;
  } else {
    in_addr a4{};
    if (inet_pton(AF_INET, s.c_str(), &a4) != 1) return fail("'" + s + "' is not an IP address");
    auto* b = reinterpret_cast<const std::uint8_t*>(&a4.s_addr);
    std::copy(b, b + 4, c.bytes.begin());
    c.prefix = 32;
  }
  return c;
}

Result<Cidr> parseCidr(std::string_view text) {
  std::string s(text);
  auto slash = text.find('/');
  if (slash == std::string_view::npos)
    return fail("'" + s + "' is not a subnet in CIDR notation (expected e.g. 10.0.0.0/24)");
  auto addr = parseIpAddress(text.substr(0, slash));
  if (!addr) return fail("'" + s + "' is not a subnet in CIDR notation: " + addr.error().message);
  auto len = toInt(text.substr(slash + 1));
  int max = addr->v6 ? 128 : 32;
  if (!len || *len < 0 || *len > max)
    return fail("'" + s + "' has a prefix length outside 0.." + std::to_string(max));
  Cidr c = *addr;
  c.prefix = *len;
  for (int bit = c.prefix; bit < max; ++bit)
    if (c.bytes[bit / 8] & (0x80 >> (bit % 8)))
      return fail("'" + s + "' has host bits set (did you mean " + [&] {
                    Cidr n = c;
                    for (int b = n.prefix; b < max; ++b) n.bytes[b / 8] &= static_cast<std::uint8_t>(~(0x80 >> (b % 8)));
                    return n.str();
                  }() + "?)");
  return c;
}

bool Cidr::contains(const Cidr& a) const {
  if (a.v6 != v6) return false;
  for (int bit = 0; bit < prefix; ++bit) {
    std::uint8_t mask = static_cast<std::uint8_t>(0x80 >> (bit % 8));
    if ((bytes[bit / 8] & mask) != (a.bytes[bit / 8] & mask)) return false;
  }
  return true;
}

std::string Cidr::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (v6) {
    in6_addr a6{};
    std::copy(bytes.begin(), bytes.end(), a6.s6_addr);
    inet_ntop(AF_INET6, &a6, buf, sizeof buf);
  } else {
    in_addr a4{};
    std::copy(bytes.begin(), bytes.begin() + 4, reinterpret_cast<std::uint8_t*>(&a4.s_addr));
    inet_ntop(AF_INET, &a4, buf, sizeof buf);
  }
  return std::string(buf) + "/" + std::to_string(prefix);
}

bool Guid::isNull() const {
  for (auto b : bytes)
    if (b) return false;
  return true;
}

std::array<char, 36> Guid::chars() const {
  static constexpr char hex[] = "0123456789abcdef";
  std::array<char, 36> s;
  std::size_t o = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s[o++] = '-';
    s[o++] = hex[bytes[i] >> 4];
    s[o++] = hex[bytes[i] & 15];
  }
  return s;
}

std::string Guid::str() const {
  auto s = chars();
  return std::string(s.data(), s.size());
}

Guid Guid::fromRandom(std::uint64_t hi, std::uint64_t lo) {
  Guid g;
  for (int i = 0; i < 8; ++i) {
    g.bytes[i] = static_cast<std::uint8_t>(hi >> (56 - 8 * i));
    g.bytes[8 + i] = static_cast<std::uint8_t>(lo >> (56 - 8 * i));
  }
  g.bytes[6] = static_cast<std::uint8_t>((g.bytes[6] & 0x0f) | 0x40);
  g.bytes[8] = static_cast<std::uint8_t>((g.bytes[8] & 0x3f) | 0x80);
  return g;
}

Result<Guid> parseGuid(std::string_view t) {
  const std::string_view given = t;
  auto bad = [given] { return fail("'" + std::string(given) + "' is not a GUID (expected 8-4-4-4-12 hex digits)"); };
  if (!t.empty() && t.front() == '{' && t.back() == '}') t = t.substr(1, t.size() - 2);
  if (t.size() != 36) return bad();
  Guid g;
  int n = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (t[i] != '-') return bad();
      continue;
    }
    char c = text::lower(t[i]);
    int v = isDigit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (v < 0) return bad();
    g.bytes[n / 2] = static_cast<std::uint8_t>(g.bytes[n / 2] | (n % 2 ? v : v << 4));
    ++n;
  }
  return g;
}

std::uint32_t ServerVersion::encoded() const {
  return 0x70000000u | (static_cast<std::uint32_t>(major & 0x3f) << 22) |
         (static_cast<std::uint32_t>(minor & 0x3f) << 16) | 0x8000u | static_cast<std::uint32_t>(build & 0x7fff);
}

std::string ServerVersion::str() const {
  return "Version " + std::to_string(major) + "." + std::to_string(minor) + " (Build " + std::to_string(build) +
         "." + std::to_string(revision) + ")";
}

Result<ServerVersion> parseServerVersion(std::string_view t) {
  // Accepts "Version 15.1 (Build 2507.6)" and the short "15.1.2507.6".
  std::string s(t);
  auto bad = fail("'" + s + "' is not an Exchange version (expected e.g. \"Version 15.1 (Build 2507.6)\" or 15.1.2507.6)");
  ServerVersion v;
  int parsed = 0;
  if (text::istartsWith(t, "Version ")) {
    parsed = std::sscanf(s.c_str() + 8, "%d.%d (Build %d.%d)", &v.major, &v.minor, &v.build, &v.revision);
  } else {
    parsed = std::sscanf(s.c_str(), "%d.%d.%d.%d", &v.major, &v.minor, &v.build, &v.revision);
  }
  if (parsed < 3 || v.major < 6 || v.major > 63 || v.minor < 0 || v.minor > 63 || v.build < 0 ||
      v.build > 32767 || v.revision < 0)
    return bad;
  return v;
}

}  // namespace autodisc
