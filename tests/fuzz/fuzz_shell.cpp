// libFuzzer: the Exchange Management Shell line lexer (cmdlets typed or read from a script).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "shell/lexer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = autodisc::shell::parseLine(std::string_view(reinterpret_cast<const char*>(data), size));
  (void)r;
  return 0;
}
