#pragma once
// One HTTP/1.1 request and its reply, as the service's connections hold them: the request parsed by
// Beast's parser into buffers that a connection keeps and reuses (no allocation per request once
// they have grown), the reply written as one contiguous block (one TLS record where it fits).
// clang-format off
#include <utility>  // Boost 1.74's Asio uses std::exchange without including it
// clang-format on
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/verb.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace autodisc::server {

struct HttpRequest {
  boost::beast::http::verb method = boost::beast::http::verb::unknown;
  std::string methodText;
  std::string target;
  unsigned version = 11;
  bool keepAlive = true;
  std::string body;

  // The value of the first field of that name (case-insensitive); empty when absent.
  std::string_view header(std::string_view name) const;
  void clear();

  // Fields as name and value, one after the other in `fields_`, located by `index_`.
  struct Field {
    std::uint32_t offset, nameSize, valueSize;
  };
  void addField(std::string_view name, std::string_view value);
  std::string fields_;
  std::vector<Field> index_;
};

// Beast's HTTP/1.1 request parser (limits, chunked bodies, obsolete line folding), filling an HttpRequest.
class RequestParser : public boost::beast::http::basic_parser<true> {
 public:
  explicit RequestParser(HttpRequest& req) : req_(req) { req_.clear(); }

 private:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;
  void on_request_impl(boost::beast::http::verb method, string_view methodText, string_view target, int version,
                       error_code&) override;
  void on_response_impl(int, string_view, int, error_code&) override {}
  void on_field_impl(boost::beast::http::field, string_view name, string_view value, error_code&) override;
  void on_header_impl(error_code&) override;
  void on_body_init_impl(boost::optional<std::uint64_t> const& length, error_code&) override;
  std::size_t on_body_impl(string_view body, error_code&) override;
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override;
  void on_finish_impl(error_code&) override;
  HttpRequest& req_;
};

// A reply: status, content type, further header lines, body.
struct Reply {
  unsigned status = 200;
  std::string_view contentType = "text/plain; charset=utf-8";
  std::string extraHeaders;  // complete lines, each ending in \r\n
  std::string body;
  bool close = false;        // Connection: close
  void header(std::string_view name, std::string_view value);
  void clear();
};

const char* reasonPhrase(unsigned status);

// Appends the whole reply (status line, headers, body) to `out`.
void serialize(const Reply& r, unsigned version, bool keepAlive, std::string& out);

}  // namespace autodisc::server
