#pragma once
// The PowerShell subset that Exchange Management Shell lines use, as people paste them: cmdlet
// names, -Param value / -Param:value / switches, quotes (also typographic ones), en and em dashes
// before parameter names, $true/$false/$null, comma lists, pipelines, ';' and '#' comments.
#include <string>
#include <string_view>
#include <vector>

#include "model/error.hpp"
#include "model/schema.hpp"

namespace autodisc::shell {

struct Element {
  enum class Type { Parameter, Value };
  Type type = Type::Value;
  std::string name;            // Parameter: the name as written, without the dash
  bool colonValue = false;     // Parameter: -Name:value form (value is set)
  model::PropValue value;      // Value, or the colon value of a Parameter
  std::string text;            // the element as written, for messages
};

struct Command {
  std::string name;
  std::vector<Element> elements;
};

using Pipeline = std::vector<Command>;

// Splits one command line into pipelines (separated by ';').
Result<std::vector<Pipeline>> parseLine(std::string_view line);

}  // namespace autodisc::shell
