// libFuzzer: the HTTP/1.1 request head and body as the service reads them (Beast's parser into an
// HttpRequest, with the service's limits), fed in two pieces split where the input says.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <string>
#include <string_view>

#include "server/http_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t split = data[0] % (size);
  std::string_view all(reinterpret_cast<const char*>(data) + 1, size - 1);
  autodisc::server::HttpRequest req;
  autodisc::server::RequestParser parser(req);
  parser.eager(true);
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  boost::system::error_code ec;
  std::string pending;
  for (std::string_view piece : {all.substr(0, std::min(split, all.size())), all.substr(std::min(split, all.size()))}) {
    pending.append(piece);
    std::size_t n = parser.put(boost::asio::buffer(pending.data(), pending.size()), ec);
    pending.erase(0, n);
    if (ec == boost::beast::http::error::need_more) ec = {};
    else if (ec || parser.is_done()) break;
  }
  if (parser.is_done()) {
    (void)req.header("Host");
    if (req.body.size() > all.size()) __builtin_trap();
  }
  return 0;
}
