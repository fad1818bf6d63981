#pragma once
// The cmdlets: their parameters, help, and what they do to the organisation.
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "model/schema.hpp"
#include "model/text.hpp"

namespace autodisc::shell {

using Record = std::vector<std::pair<std::string, std::string>>;  // a CSV row: column, value

struct PipeObject {
  std::variant<model::ObjectRef, Record> item;
  std::string view;  // the noun whose default table shows it ("ClientAccessServer", ...)
};

enum class ParamType { String, List, Bool, Switch, Int };

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::String;
  bool mandatory = false;
  int position = -1;
  std::string help;
};

struct Bound {
  std::map<std::string, model::PropValue, text::ILess> values;  // by the parameter's canonical name
  std::vector<std::string> order;                                // names in the order given
  std::optional<model::ObjectRef> identityRef;                   // an object piped in by identity
  bool has(std::string_view n) const { return values.count(std::string(n)) > 0; }
  const model::PropValue* get(std::string_view n) const {
    auto it = values.find(std::string(n));
    return it == values.end() ? nullptr : &it->second;
  }
};

struct Env {
  model::Organization& org;
  std::ostream& out;
  std::ostream& err;
  std::function<std::uint64_t()>& random;  // the session's own (its state carries across lines)
  std::function<std::string()> clockText = [] { return std::string("00:00:00.0000000"); };  // HH:MM:SS.fffffff
};

struct Cmdlet {
  enum class Input { None, PerItem, All };
  std::string name;
  std::vector<std::string> aliases;
  std::string synopsis;
  std::vector<ParamSpec> params;
  std::string example;
  Input input = Input::None;
  std::function<Result<void>(Env&, const Cmdlet&, const Bound&, const std::vector<PipeObject>& in,
                             std::vector<PipeObject>& out)>
      run;
  model::Kind kind = model::Kind::OrganizationConfig;  // what it reads or changes
};

const std::vector<Cmdlet>& cmdlets();
const Cmdlet* findCmdlet(std::string_view name);

// Prints objects as Exchange does: a table by default.
void printDefault(const model::Organization& org, const std::vector<PipeObject>& items, std::ostream& out);

}  // namespace autodisc::shell
