#pragma once
// Help for the cmdlets, from the same tables that bind their parameters.
#include <iosfwd>
#include <string>

#include "shell/cmdlets.hpp"

namespace autodisc::shell {

void printHelp(const Cmdlet& c, std::ostream& out);
// docs/cmdlets.md: every cmdlet with its parameters and an example.
std::string cmdletReferenceMarkdown();

}  // namespace autodisc::shell
