#pragma once
// Output as the Exchange Management Shell prints it: tables, lists and JSON.
#include <iosfwd>
#include <string>
#include <vector>

#include "shell/cmdlets.hpp"
#include "shell/objects.hpp"

namespace autodisc::shell {

// The properties a view shows (Format-List with no property names), in order.
PropertyList viewProperties(const model::Organization& org, const PipeObject& item);
std::vector<std::string> defaultTableColumns(const PipeObject& item);
bool defaultsToList(const PipeObject& item);

// With `wanted` empty: the default columns (table) or every property (list). Names match
// without regard to case and may use '*' wildcards.
void formatTable(const model::Organization& org, const std::vector<PipeObject>& items,
                 const std::vector<std::string>& wanted, std::ostream& out);
void formatList(const model::Organization& org, const std::vector<PipeObject>& items,
                const std::vector<std::string>& wanted, std::ostream& out);
void formatJson(const model::Organization& org, const std::vector<PipeObject>& items, bool compress,
                std::ostream& out);

std::string jsonEscape(std::string_view s);
bool wildcardMatch(std::string_view pattern, std::string_view text);  // '*' and '?', any case

}  // namespace autodisc::shell
