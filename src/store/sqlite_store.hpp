#pragma once
// The embedded default store: one SQLite file in WAL mode, a versioned schema with migrations,
// one transaction per change set, readers that see committed versions only.
#include <memory>
#include <string>

#include "store/store.hpp"

struct sqlite3;

namespace autodisc::store {

class SqliteStore final : public Store {
 public:
  static constexpr int kSchemaVersion = 5;

  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path);
  ~SqliteStore() override;

  Result<Loaded> read() override;
  Result<std::uint64_t> version() override;
  Result<std::uint64_t> apply(const model::Organization& org, const std::vector<model::ObjectRef>& changed,
                              std::uint64_t baseVersion) override;
  std::string describe() const override { return "sqlite:" + path_; }
  Result<std::optional<ChangeSet>> changesSince(std::uint64_t from) override;

 private:
  SqliteStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Result<void> migrate();
  Error sqlError(std::string_view doing) const;
  sqlite3* db_;
  std::string path_;
};

}  // namespace autodisc::store
