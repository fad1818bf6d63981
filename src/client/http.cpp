#include "client/http.hpp"

#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <mutex>

#include "model/text.hpp"

namespace autodisc::client {

namespace {

void globalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Slist {
  curl_slist* list = nullptr;
  void add(const std::string& s) { list = curl_slist_append(list, s.c_str()); }
  ~Slist() { curl_slist_free_all(list); }
};

size_t onBody(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<HttpResult*>(user);
  if (out->body.size() < (1u << 20)) out->body.append(data, size * n);  // an answer is small; keep at most 1 MiB
  return size * n;
}

size_t onHeader(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<HttpResult*>(user);
  std::string_view line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    auto name = text::trim(line.substr(0, colon));
    auto value = std::string(text::trim(line.substr(colon + 1)));
    if (text::iequals(name, "Location")) out->location = value;
    if (text::iequals(name, "WWW-Authenticate")) out->wwwAuthenticate += (out->wwwAuthenticate.empty() ? "" : ", ") + value;
    if (text::iequals(name, "Content-Type")) out->contentType = value;
  }
  return size * n;
}

// curl says which TLS version and cipher it negotiated only in its informational text.
int onDebug(CURL*, curl_infotype type, char* data, size_t size, void* user) {
  if (type != CURLINFO_TEXT) return 0;
  std::string_view line(data, size);
  constexpr std::string_view marker = "SSL connection using ";
  if (auto at = line.find(marker); at != std::string_view::npos) {
    auto rest = line.substr(at + marker.size());
    static_cast<HttpResult*>(user)->tlsVersion = std::string(text::trim(rest.substr(0, rest.find(' '))));
  }
  return 0;
}

std::string hostOf(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return {};
  auto rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  return text::toLower(rest.substr(0, rest.find(':')));
}

void readCertificate(CURL* curl, HttpResult& r) {
  curl_certinfo* info = nullptr;
  if (curl_easy_getinfo(curl, CURLINFO_CERTINFO, &info) != CURLE_OK || !info || info->num_of_certs < 1) return;
  Certificate c;
  std::string cn;
  for (auto* s = info->certinfo[0]; s; s = s->next) {
    std::string_view line(s->data);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    auto name = line.substr(0, colon);
    auto value = std::string(text::trim(line.substr(colon + 1)));
    if (name == "Subject") c.subject = value;
    if (name == "Issuer") c.issuer = value;
    if (name == "Expire date") c.notAfter = value;
    if (name == "X509v3 Subject Alternative Name") {
      for (auto part : text::split(value, ',')) {
        auto p = text::trim(part);
        if (text::istartsWith(p, "DNS:")) c.names.emplace_back(text::trim(p.substr(4)));
      }
    }
  }
  if (c.names.empty()) {  // no SANs: the subject's CN
    if (auto at = c.subject.find("CN="); at != std::string::npos) {
      auto end = c.subject.find_first_of(",/", at + 3);
      c.names.push_back(c.subject.substr(at + 3, end == std::string::npos ? std::string::npos : end - at - 3));
    }
  }
  r.certificate = std::move(c);
}

void common(CURL* curl, const std::string& url, const HttpOptions& o, Slist& resolve, Slist& connectTo, HttpResult& r) {
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, o.timeoutMs);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, o.timeoutMs);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
  curl_easy_setopt(curl, CURLOPT_CERTINFO, 1L);
  curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
  curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, onDebug);
  curl_easy_setopt(curl, CURLOPT_DEBUGDATA, &r);
  if (!o.caFile.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, o.caFile.c_str());
  for (auto& entry : o.resolve) {
    resolve.add(entry);
    // The same name at the port the standard one is mapped to.
    auto first = entry.find(':'), second = entry.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string port = entry.substr(first + 1, second - first - 1);
    int mapped = port == "443" ? o.httpsPort : port == "80" ? o.httpPort : 0;
    if (mapped && std::to_string(mapped) != port)
      resolve.add(entry.substr(0, first + 1) + std::to_string(mapped) + entry.substr(second));
  }
  if (resolve.list) curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve.list);
  if (o.httpsPort != 443) connectTo.add(":443::" + std::to_string(o.httpsPort));
  if (o.httpPort != 80) connectTo.add(":80::" + std::to_string(o.httpPort));
  if (connectTo.list) curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connectTo.list);
}

}  // namespace

bool nameCovers(const std::string& certName, const std::string& host) {
  std::string name = text::toLower(certName), h = text::toLower(host);
  if (name == h) return true;
  if (name.starts_with("*.")) {  // one label, the leftmost
    auto dot = h.find('.');
    return dot != std::string::npos && dot > 0 && h.substr(dot) == name.substr(1);
  }
  return false;
}

HttpResult httpRequest(const std::string& method, const std::string& url, const std::string& body,
                       const std::string& contentType, const HttpOptions& o, bool credentials) {
  globalInit();
  HttpResult r;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) {
    r.error = "libcurl could not start a request";
    return r;
  }
  Slist resolve, connectTo, headers;
  common(curl.get(), url, o, resolve, connectTo, r);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, onBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &r);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &r);
  if (method == "POST") {
    curl_easy_setopt(curl.get(), CURLOPT_POST, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    headers.add("Content-Type: " + contentType);
  }
  headers.add("User-Agent: autodisc-test/0.1");
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.list);
  bool https = text::istartsWith(url, "https://");
  if (credentials && https && !o.user.empty()) {
    long scheme = o.auth == "ntlm" ? CURLAUTH_NTLM : o.auth == "negotiate" ? CURLAUTH_NEGOTIATE
                  : o.auth == "any" ? (CURLAUTH_BASIC | CURLAUTH_NTLM | CURLAUTH_NEGOTIATE) : CURLAUTH_BASIC;
    curl_easy_setopt(curl.get(), CURLOPT_HTTPAUTH, scheme);
    curl_easy_setopt(curl.get(), CURLOPT_USERNAME, o.user.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_PASSWORD, o.password.c_str());
  }
  auto started = std::chrono::steady_clock::now();
  CURLcode rc = curl_easy_perform(curl.get());
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  char* ip = nullptr;
  if (curl_easy_getinfo(curl.get(), CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip) r.address = ip;
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &r.status);
    readCertificate(curl.get(), r);
  } else {
    r.error = curl_easy_strerror(rc);
    r.certificateProblem = rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE;
    if (r.certificateProblem && https) {
      // Connect once more, trusting nothing and sending nothing, only to read the certificate for the report.
      HttpResult look;
      std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> peek(curl_easy_init(), curl_easy_cleanup);
      Slist resolve2, connectTo2;
      common(peek.get(), url, o, resolve2, connectTo2, look);
      curl_easy_setopt(peek.get(), CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(peek.get(), CURLOPT_SSL_VERIFYHOST, 0L);
      curl_easy_setopt(peek.get(), CURLOPT_CONNECT_ONLY, 1L);
      if (curl_easy_perform(peek.get()) == CURLE_OK) {
        readCertificate(peek.get(), r);
        r.tlsVersion = look.tlsVersion;
      }
    }
  }
  std::string host = hostOf(url);
  for (auto& n : r.certificate.names)
    if (nameCovers(n, host)) r.coversHost = true;
  if (r.certificateProblem && !r.certificate.names.empty() && !r.coversHost)
    r.error = "the certificate for " + text::join(r.certificate.names, ", ") + " does not cover " + host;
  return r;
}

}  // namespace autodisc::client
