// libFuzzer: the POX request reader (untrusted bytes from any client). Never crashes, and whatever
// the one-pass reader accepts, the tree reader reads the same way.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/pox.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto full = autodisc::protocol::parsePoxRequest(body);
  if (auto fast = autodisc::protocol::parsePoxRequestFast(body)) {
    auto tree = autodisc::protocol::parsePoxRequestTree(body);
    if (fast->error != tree.error || fast->query.emailAddress != tree.query.emailAddress ||
        fast->query.legacyDn != tree.query.legacyDn || fast->query.schema != tree.query.schema ||
        fast->addressMissing != tree.addressMissing || full.query.emailAddress != fast->query.emailAddress)
      __builtin_trap();
  }
  return 0;
}
