#include "store/store.hpp"

#include "store/ldap_store.hpp"
#include "store/sqlite_store.hpp"

namespace autodisc::store {

Result<std::unique_ptr<Store>> openStore(std::string_view uri) {
  if (uri.starts_with("ldap://") || uri.starts_with("ldaps://")) {
    auto s = LdapStore::open(uri);
    if (!s) return std::unexpected(s.error());
    return std::unique_ptr<Store>(std::move(*s));
  }
  if (uri.starts_with("sqlite:")) uri.remove_prefix(7);
  else if (uri.find("://") != std::string_view::npos)
    return fail("unknown store URI '" + std::string(uri) + "' (expected sqlite:PATH or ldap://HOST[:PORT]/BASE-DN)");
  if (uri.empty()) return fail("the store URI names no file (expected sqlite:PATH)");
  auto s = SqliteStore::open(std::string(uri));
  if (!s) return std::unexpected(s.error());
  return std::unique_ptr<Store>(std::move(*s));
}

std::string defaultStoreUri(const char* envValue) {
  if (envValue && *envValue) return envValue;
  return "sqlite:autodisc.db";
}

}  // namespace autodisc::store
