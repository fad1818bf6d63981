#include "server/http_message.hpp"

#include <charconv>

#include "model/text.hpp"

namespace autodisc::server {

namespace http = boost::beast::http;

std::string_view HttpRequest::header(std::string_view name) const {
  for (auto& f : index_) {
    std::string_view n(fields_.data() + f.offset, f.nameSize);
    if (text::iequals(n, name)) return {fields_.data() + f.offset + f.nameSize, f.valueSize};
  }
  return {};
}

void HttpRequest::clear() {
  method = http::verb::unknown;
  methodText.clear();
  target.clear();
  version = 11;
  keepAlive = true;
  body.clear();
  fields_.clear();
  index_.clear();
}

void HttpRequest::addField(std::string_view name, std::string_view value) {
  index_.push_back(Field{static_cast<std::uint32_t>(fields_.size()), static_cast<std::uint32_t>(name.size()),
                         static_cast<std::uint32_t>(value.size())});
  fields_.append(name);
  fields_.append(value);
}

void RequestParser::on_request_impl(http::verb method, string_view methodText, string_view target, int version,
                                    error_code&) {
  req_.method = method;
  req_.methodText.assign(methodText.data(), methodText.size());
  req_.target.assign(target.data(), target.size());
  req_.version = static_cast<unsigned>(version);
}

void RequestParser::on_field_impl(http::field, string_view name, string_view value, error_code&) {
  req_.addField({name.data(), name.size()}, {value.data(), value.size()});
}

void RequestParser::on_header_impl(error_code&) { req_.keepAlive = keep_alive(); }

void RequestParser::on_body_init_impl(boost::optional<std::uint64_t> const& length, error_code&) {
  if (length && *length <= (1u << 20)) req_.body.reserve(static_cast<std::size_t>(*length));
}

std::size_t RequestParser::on_body_impl(string_view body, error_code&) {
  req_.body.append(body.data(), body.size());
  return body.size();
}

std::size_t RequestParser::on_chunk_body_impl(std::uint64_t, string_view body, error_code&) {
  req_.body.append(body.data(), body.size());
  return body.size();
}

void RequestParser::on_finish_impl(error_code&) {}

void Reply::header(std::string_view name, std::string_view value) {
  extraHeaders.append(name);
  extraHeaders.append(": ");
  extraHeaders.append(value);
  extraHeaders.append("\r\n");
}

void Reply::clear() {
  status = 200;
  contentType = "text/plain; charset=utf-8";
  extraHeaders.clear();
  body.clear();
  close = false;
}

const char* reasonPhrase(unsigned status) {
  switch (status) {
    case 200: return "OK";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

void serialize(const Reply& r, unsigned version, bool keepAlive, std::string& out) {
  char num[24];
  out.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  auto end = std::to_chars(num, num + sizeof num, r.status).ptr;
  out.append(num, end);
  out += ' ';
  out.append(reasonPhrase(r.status));
  out.append("\r\n");
  if (!r.contentType.empty()) {
    out.append("Content-Type: ");
    out.append(r.contentType);
    out.append("\r\n");
  }
  out.append(r.extraHeaders);
  out.append("Content-Length: ");
  end = std::to_chars(num, num + sizeof num, r.body.size()).ptr;
  out.append(num, end);
  out.append("\r\n");
  // HTTP/1.1 keeps the connection by default, HTTP/1.0 closes it: say so only where it differs.
  if (!keepAlive && version != 10) out.append("Connection: close\r\n");
  if (keepAlive && version == 10) out.append("Connection: keep-alive\r\n");
  out.append("\r\n");
  out.append(r.body);
}

}  // namespace autodisc::server
