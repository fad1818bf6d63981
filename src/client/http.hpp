#pragma once
// HTTP for the discovery client, through libcurl: one request, its status, the headers discovery
// reads, and what the report says about the connection (address, TLS version, the certificate and
// whether it covers the host, the time taken). Redirects are never followed here: the planner
// decides. Credentials go only over HTTPS.
#include <string>
#include <vector>

namespace autodisc::client {

struct HttpOptions {
  std::string caFile;                   // PEM file of trusted CAs; empty: the system store
  std::vector<std::string> resolve;     // HOST:PORT:ADDR, as curl --resolve
  int httpsPort = 443, httpPort = 80;   // where the standard ports really are (labs and tests)
  long timeoutMs = 10000;
  std::string user, password;           // HTTPS only
  std::string auth = "basic";           // basic, ntlm, negotiate or any (what the server offers, the strongest)
};

struct Certificate {
  std::string subject, issuer, notAfter;
  std::vector<std::string> names;       // the DNS names it is for (SANs, else the CN)
};

struct HttpResult {
  std::string error;                    // DNS, connection, TLS or timeout failure, as a sentence
  bool certificateProblem = false;      // the error is the certificate's (untrusted, expired, wrong name)
  long status = 0;
  std::string location, wwwAuthenticate, contentType, body;
  std::string address;                  // the IP address connected to
  std::string tlsVersion;               // e.g. TLSv1.3
  Certificate certificate;              // as presented (read even when it did not verify)
  bool coversHost = false;
  double seconds = 0;
};

// method: GET or POST. The Basic credentials in `o` are sent only when `credentials` and the URL is https.
HttpResult httpRequest(const std::string& method, const std::string& url, const std::string& body,
                       const std::string& contentType, const HttpOptions& o, bool credentials);

// Whether a certificate name (perhaps *.example.com) covers the host.
bool nameCovers(const std::string& certName, const std::string& host);

}  // namespace autodisc::client
