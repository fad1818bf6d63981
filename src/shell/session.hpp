#pragma once
// A shell session over a store: each command line runs as one transaction (all or nothing).
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string_view>

#include "model/organization.hpp"
#include "shell/cmdlets.hpp"
#include "shell/lexer.hpp"
#include "store/store.hpp"

namespace autodisc::shell {

class Session {
 public:
  // `random` supplies the bits for new GUIDs.
  Session(store::Store& store, std::function<std::uint64_t()> random);

  // Loads the organisation (and, for a new store, creates the objects every organisation starts with).
  Result<void> open();
  // Runs one command line. On error nothing is changed, in memory or in the store.
  Result<void> run(std::string_view line, std::ostream& out, std::ostream& err);

  const model::Organization& org() const { return org_; }
  // The time of day as Autodiscover error answers write it (HH:MM:SS.fffffff); the system clock by default.
  void setClock(std::function<std::string()> clock) { clock_ = std::move(clock); }
  std::uint64_t version() const { return version_; }

 private:
  Result<void> refresh();
  Result<void> runPipeline(const Pipeline& p, std::ostream& out, std::ostream& err);
  Result<void> commitChanges();

  store::Store& store_;
  std::function<std::uint64_t()> random_;
  model::Organization org_;
  std::uint64_t version_ = 0;
  std::function<std::string()> clock_;
};

// Binds a command's elements to the cmdlet's parameters: names without regard to case,
// unambiguous prefixes, -Name:value, switches, positional values.
Result<Bound> bindParameters(const Cmdlet& cmdlet, const Command& command);

}  // namespace autodisc::shell
