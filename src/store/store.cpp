#include "store/store.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

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

Result<std::size_t> copyOrganization(Store& from, Store& to) {
  auto target = to.version();
  if (!target) return std::unexpected(target.error());
  if (*target != 0)
    return fail("store " + to.describe() + " already holds an organisation (version " + std::to_string(*target) +
                "); copy into an empty store. Nothing was changed.");
  auto source = from.read();
  if (!source) return std::unexpected(source.error());
  if (source->version == 0) return fail("store " + from.describe() + " holds no organisation yet. Nothing was changed.");
  return writeOrganization(*source->org, to);
}

std::shared_ptr<model::Organization> applyChanges(const model::Organization& base, const ChangeSet& changes) {
  auto next = std::make_shared<model::Organization>(base);
  for (auto& c : changes.changes) {
    if (c.now) {
      std::visit([&](auto obj) { next->put(std::move(obj)); }, *c.now);
      continue;
    }
    next->erase(c.ref);
  }
  return next;
}

Result<std::size_t> writeOrganization(const model::Organization& org, Store& to) {
  std::vector<model::ObjectRef> all{{model::Kind::OrganizationConfig, 0}};
  auto each = [&]<class T>(model::Kind k, const std::map<model::Id, T>& m) {
    for (auto& [id, o] : m) all.push_back({k, id});
  };
  each(model::Kind::AcceptedDomain, org.all<model::AcceptedDomain>());
  each(model::Kind::AdSite, org.all<model::AdSite>());
  each(model::Kind::AdSubnet, org.all<model::AdSubnet>());
  each(model::Kind::ExchangeServer, org.all<model::ExchangeServer>());
  each(model::Kind::VirtualDirectory, org.all<model::VirtualDirectory>());
  each(model::Kind::OutlookAnywhere, org.all<model::OutlookAnywhere>());
  each(model::Kind::ClientAccessArray, org.all<model::ClientAccessArray>());
  each(model::Kind::MailboxDatabase, org.all<model::MailboxDatabase>());
  each(model::Kind::OutlookProvider, org.all<model::OutlookProvider>());
  each(model::Kind::ExchangeCertificate, org.all<model::ExchangeCertificate>());
  org.forEachRecipient([&](const model::Recipient& r) { all.push_back({model::Kind::Recipient, r.id}); });
  if (auto r = to.apply(org, all, 0); !r) return std::unexpected(r.error());
  return all.size();
}

Result<void> saveSnapshotFile(const model::Organization& org, const std::string& path) {
  std::string tmp = path + ".tmp";
  for (auto suffix : {"", "-wal", "-shm"}) std::remove((tmp + suffix).c_str());
  {
    auto s = SqliteStore::open(tmp);
    if (!s) return std::unexpected(s.error());
    if (auto r = writeOrganization(org, **s); !r) return std::unexpected(r.error());
  }  // closed: the write-ahead log is folded into the file
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return fail("cannot replace " + path + ": " + std::strerror(errno));
  return {};
}

std::string defaultStoreUri(const char* envValue) {
  if (envValue && *envValue) return envValue;
  return "sqlite:autodisc.db";
}

}  // namespace autodisc::store
