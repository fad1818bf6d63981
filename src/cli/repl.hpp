#pragma once
// Running shell lines from a terminal (with line editing and history), a script or a string.
#include <iosfwd>
#include <string>
#include <vector>

#include "shell/session.hpp"

namespace autodisc::cli {

// Splits a script into command lines: a line ending in ` or | continues on the next one.
std::vector<std::pair<int, std::string>> scriptLines(const std::string& script);

// Runs every line; stops at the first error (exit status 1). Returns the exit status.
int runScript(shell::Session& session, const std::string& script, const std::string& source, std::ostream& out,
              std::ostream& err);

// An interactive prompt with line editing and history; errors are reported and the session goes on.
int runInteractive(shell::Session& session, const std::string& storeName);

}  // namespace autodisc::cli
