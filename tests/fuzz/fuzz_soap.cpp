// libFuzzer: the SOAP envelope reader (autodiscover.svc).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/soap.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto req = autodisc::protocol::parseSoapRequest(std::string_view(reinterpret_cast<const char*>(data), size));
  if (req.users.size() > size) __builtin_trap();  // every user comes from the bytes
  return 0;
}
