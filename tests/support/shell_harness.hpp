#pragma once
// Test support: a temporary directory, a deterministic shell session over a real SQLite store,
// and a textual dump of a whole organisation for before/after comparisons.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

#include "model/organization.hpp"
#include "model/schema.hpp"
#include "shell/objects.hpp"
#include "shell/session.hpp"
#include "store/store.hpp"

namespace autodisc::testing {

// A fresh directory made with mkdtemp, removed (with its contents) on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "autodisc-test-XXXXXX").string();
    if (char* p = ::mkdtemp(tmpl.data())) path_ = p;
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }
  std::string write(std::string_view name, std::string_view content) const {
    auto p = file(name);
    std::ofstream f(p, std::ios::binary);
    f << content;
    return p;
  }

 private:
  std::string path_;
};

// Random bits for GUIDs: a counter, so runs are reproducible.
inline std::function<std::uint64_t()> counterRandom(std::uint64_t start = 0) {
  return [n = start]() mutable { return ++n; };
}

// Every object of every kind with every property, one line per object, in id order.
inline std::string dumpOrganization(const model::Organization& org) {
  using namespace model;
  std::ostringstream out;
  auto line = [&](ObjectRef ref) {
    out << kindName(ref.kind) << "#" << ref.id << ":";
    for (auto& [name, value] : shell::readProperties(org, ref)) out << " " << name << "=" << displayText(value) << ";";
    out << "\n";
  };
  for (int k = 0; k < kKindCount; ++k) {
    auto kind = static_cast<Kind>(k);
    shell::visitKind(kind, [&]<class T>(std::type_identity<T>) {
      if constexpr (std::is_same_v<T, OrganizationConfig>) {
        line({kind, 0});
      } else if constexpr (std::is_same_v<T, Recipient>) {
        org.forEachRecipient([&](const Recipient& r) { line({kind, r.id}); });
      } else {
        for (auto& [id, o] : org.template all<T>()) line({kind, id});
      }
    });
  }
  return out.str();
}

struct RunResult {
  bool ok = false;
  std::string out, err, error;
};

// A Session over a SQLite store in a temporary directory.
class ShellHarness {
 public:
  ShellHarness() = default;

  // Returns an empty string on success, else what went wrong.
  std::string open() {
    if (!dir_.ok()) return "mkdtemp failed";
    auto s = store::openStore("sqlite:" + storePath());
    if (!s) return "openStore: " + s.error().message;
    store_ = std::move(*s);
    session_ = std::make_unique<shell::Session>(*store_, counterRandom());
    if (auto r = session_->open(); !r) return "Session::open: " + r.error().message;
    return {};
  }

  RunResult run(std::string_view line) {
    RunResult r;
    std::ostringstream out, err;
    auto res = session_->run(line, out, err);
    r.ok = res.has_value();
    if (!res) r.error = res.error().message;
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  // A second, independent session on the same store file: what was really committed.
  std::string dumpFromStore() {
    auto s = store::openStore("sqlite:" + storePath());
    if (!s) return "openStore failed: " + s.error().message;
    shell::Session other(**s, counterRandom(1000));
    if (auto r = other.open(); !r) return "open failed: " + r.error().message;
    return dumpOrganization(other.org());
  }

  std::uint64_t storeVersion() {
    auto v = store_->version();
    return v ? *v : ~std::uint64_t{0};
  }

  shell::Session& session() { return *session_; }
  const model::Organization& org() const { return session_->org(); }
  const TempDir& dir() const { return dir_; }
  std::string storePath() const { return dir_.file("org.db"); }

 private:
  TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<shell::Session> session_;
};

}  // namespace autodisc::testing
