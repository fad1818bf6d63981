#pragma once
// Where the organisation is kept. Adapters implement this; nothing above cli/ knows which one.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/organization.hpp"

namespace autodisc::store {

// What changed in a store after some version: each changed object's state now, or nothing for one
// that was removed.
struct Change {
  model::ObjectRef ref;
  std::optional<model::AnyObject> now;
};
struct ChangeSet {
  std::uint64_t version = 0;  // the version these changes bring the reader to
  std::vector<Change> changes;
};

class Store {
 public:
  virtual ~Store() = default;
  struct Loaded {
    std::shared_ptr<model::Organization> org;
    std::uint64_t version = 0;
  };
  // The whole organisation as of the latest committed version, for changing (a shell).
  virtual Result<Loaded> read() = 0;
  // The same as an immutable snapshot, for sharing between threads (a service).
  Result<model::Snapshot> load() {
    auto r = read();
    if (!r) return std::unexpected(r.error());
    return model::Snapshot{std::move(r->org), r->version};
  }
  // The latest committed version (cheap: callers poll it to learn of changes).
  virtual Result<std::uint64_t> version() = 0;
  // Writes the current state of `changed` objects of `org` (an object absent from `org` is
  // deleted) in one transaction, if the store is still at `baseVersion`. Returns the new version.
  virtual Result<std::uint64_t> apply(const model::Organization& org, const std::vector<model::ObjectRef>& changed,
                                      std::uint64_t baseVersion) = 0;
  virtual std::string describe() const = 0;
  // What changed after version `from`, so that a reader applies it to the snapshot it has rather
  // than reading everything again. Nothing (no error): the store cannot tell (it keeps no such log,
  // `from` is older than what it keeps, or a change was too large to log); read it whole.
  virtual Result<std::optional<ChangeSet>> changesSince(std::uint64_t from) {
    (void)from;
    return std::optional<ChangeSet>();
  }

  // Watchers learn of new versions: at once for changes applied through this handle, and through
  // poll() for changes made by other handles or processes. A watcher runs on the caller's thread
  // and must be quick (a service swaps in a snapshot it builds elsewhere).
  using Watcher = std::function<void(std::uint64_t version)>;
  // Calls `kick` (from a thread of the store's) whenever the store learns that something changed,
  // sooner than a poll would; callers then poll(). False when the store cannot tell (then polling
  // alone finds changes).
  virtual bool watchChanges(std::function<void()> kick) {
    (void)kick;
    return false;
  }
  void watch(Watcher w) { watchers_.push_back(std::move(w)); }
  // Checks the version; if it moved since the last one seen, tells every watcher. Returns whether it moved.
  Result<bool> poll() {
    auto v = version();
    if (!v) return std::unexpected(v.error());
    if (*v == lastSeen_) return false;
    notify(*v);
    return true;
  }

 protected:
  void notify(std::uint64_t v) {
    lastSeen_ = v;
    for (auto& w : watchers_) w(v);
  }

 private:
  std::vector<Watcher> watchers_;
  std::uint64_t lastSeen_ = 0;
};

// A new organisation: `base` with `changes` applied (shares what did not change with `base`).
std::shared_ptr<model::Organization> applyChanges(const model::Organization& base, const ChangeSet& changes);

// Opens a store named by URI: "sqlite:PATH" (or a bare path), or "ldap://HOST[:PORT]/BASE-DN"
// (ldap_store.hpp). The SQLite file is created, with the current schema, when it does not exist.
Result<std::unique_ptr<Store>> openStore(std::string_view uri);

// Copies the whole organisation of `from` into `to`, which must be empty (version 0). Returns the
// number of objects copied.
Result<std::size_t> copyOrganization(Store& from, Store& to);
// Writes every object of `org` into `to`, which must be empty (version 0).
Result<std::size_t> writeOrganization(const model::Organization& org, Store& to);
// Writes `org` to a new SQLite file at `path` (through a temporary file, renamed over it at the
// end): a local copy a service can start from when its store cannot be reached.
Result<void> saveSnapshotFile(const model::Organization& org, const std::string& path);

// The store URI to use when none is given: $AUTODISC_STORE, else "sqlite:autodisc.db".
std::string defaultStoreUri(const char* envValue);

}  // namespace autodisc::store
