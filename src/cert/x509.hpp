#pragma once
// Certificates with OpenSSL, for the certificate cmdlets, the doctor and the service: read a PEM
// chain, check that a key belongs to it, make a key and a request (CSR), fetch what a server
// presents. An adapter: the model keeps only text (PEM, names, dates).
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "model/error.hpp"

namespace autodisc::cert {

// The leaf of a chain, as Get-ExchangeCertificate shows it.
struct Parsed {
  std::string thumbprint;  // SHA-1 of the DER, upper-case hex, as Windows shows it
  std::string subject;     // "CN=mail.contoso.com, O=Contoso" (RFC 2253 order reversed, as Windows prints it)
  std::string issuer;
  std::vector<std::string> dnsNames;  // subject alternative names; else the subject's CN
  std::string notBefore, notAfter;    // ISO 8601, UTC: "2026-12-05T06:00:00Z"
  std::chrono::system_clock::time_point notAfterTime;
  bool selfSigned = false;
  std::string keyType;  // "RSA", "EC", "other"
  int keyBits = 0;
  std::string signature;  // e.g. "sha256WithRSAEncryption"
  std::string chainPem;   // every certificate of the input, leaf first, as PEM
  int chainLength = 0;
};

// Reads the certificates of a PEM text (leaf first). A private key in the same text is ignored
// here (see privateKeyOf).
Result<Parsed> parseChain(std::string_view pem);
// The private key in a PEM text, as PKCS #8 PEM; empty when there is none.
Result<std::string> privateKeyOf(std::string_view pem);
// Whether `keyPem` is the private key of the chain's leaf; the error says why not.
Result<void> keyMatches(std::string_view chainPem, std::string_view keyPem);

// A new RSA key and a PKCS #10 request for `subject` ("C=US, O=Contoso, CN=mail.contoso.com") with
// every name of `dnsNames` as a subject alternative name.
struct Request {
  std::string keyPem;
  std::string requestPem;
  std::string thumbprint;  // SHA-1 of the request's DER: the pending request's identity
};
Result<Request> generateRequest(std::string_view subject, const std::vector<std::string>& dnsNames, int keyBits);

// What a TLS server at host:port presents (with `sni` as the server name), as PEM, leaf first.
// Verifies nothing: the doctor checks what it got.
Result<std::string> fetchChain(const std::string& host, int port, const std::string& sni);

}  // namespace autodisc::cert
