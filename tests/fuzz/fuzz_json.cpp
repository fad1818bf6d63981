// libFuzzer: Autodiscover v2 request targets (/autodiscover/autodiscover.json/v1.0/ADDRESS?Protocol=...).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/json_v2.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto req = autodisc::protocol::parseJsonRequest(std::string_view(reinterpret_cast<const char*>(data), size));
  if (req.email.size() > size) __builtin_trap();
  return 0;
}
