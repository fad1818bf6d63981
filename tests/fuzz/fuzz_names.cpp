// libFuzzer: names from outside: LDAP RDN escaping and DN handling (any value escaped into a DN
// reads back as one RDN under its parent), certificate name matching (RFC 6125), and the
// validators of URLs, CIDR ranges, GUIDs and Exchange versions.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "doctor/checks.hpp"
#include "model/validate.hpp"
#include "store/ldap_layout.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  namespace ldap = autodisc::store::ldap;
  std::string dn = "CN=" + ldap::escapeRdnValue(in) + ",CN=Users,DC=e2010,DC=test";
  if (ldap::parentDn(dn) != "CN=Users,DC=e2010,DC=test") __builtin_trap();
  (void)ldap::normalizeDn(in);
  (void)ldap::parentDn(in);
  auto cut = in.find('\n');
  std::string host(in.substr(0, cut));
  std::string name(cut == std::string_view::npos ? std::string_view() : in.substr(cut + 1));
  bool covered = autodisc::doctor::covers({name}, host);
  if (covered && name.empty()) __builtin_trap();
  (void)autodisc::doctor::publiclyCertifiable(host);
  (void)autodisc::parseUrl(in);
  (void)autodisc::parseCidr(in);
  (void)autodisc::parseGuid(in);
  (void)autodisc::parseServerVersion(in);
  return 0;
}
