// libFuzzer: the Exchange Management Shell line lexer (cmdlets typed or read from a script), then the
// binder: every command of a line that names a cmdlet has its parameters bound to that cmdlet's
// (names without regard to case, prefixes, -Name:value, switches, positional values).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "shell/cmdlets.hpp"
#include "shell/lexer.hpp"
#include "shell/session.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = autodisc::shell::parseLine(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!r) return 0;
  for (auto& pipeline : *r)
    for (auto& command : pipeline)
      if (const auto* cmdlet = autodisc::shell::findCmdlet(command.name)) {
        auto bound = autodisc::shell::bindParameters(*cmdlet, command);
        (void)bound;
      }
  return 0;
}
