#include "doctor/report.hpp"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <ctime>
#include <algorithm>
#include <memory>
#include <set>

#include "client/dns.hpp"
#include "doctor/checks.hpp"
#include "protocol/json_v2.hpp"
#include "store/store.hpp"

namespace autodisc::doctor {

namespace {

// The first certificate of a PEM chain: its subject, DNS names (else the CN) and expiry; and the
// chain verified against the system's trust store, or `caFile` when given.
Result<Certificate> readCertificate(const std::string& file, const std::string& caFile) {
  std::FILE* f = std::fopen(file.c_str(), "r");
  if (!f) return fail("cannot read the certificate " + file);
  X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
  STACK_OF(X509)* rest = sk_X509_new_null();
  while (X509* more = PEM_read_X509(f, nullptr, nullptr, nullptr)) sk_X509_push(rest, more);
  std::fclose(f);
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> chain(rest, [](STACK_OF(X509)* s) { sk_X509_pop_free(s, X509_free); });
  if (!x) return fail(file + " holds no PEM certificate");
  std::unique_ptr<X509, decltype(&X509_free)> cert(x, X509_free);
  Certificate chk;
  {
    std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> trust(X509_STORE_new(), X509_STORE_free);
    if (caFile.empty()) X509_STORE_set_default_paths(trust.get());
    else X509_STORE_load_file(trust.get(), caFile.c_str());
    std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
    X509_STORE_CTX_init(ctx.get(), trust.get(), x, rest);
    chk.chainChecked = true;
    if (X509_verify_cert(ctx.get()) != 1) {
      int e = X509_STORE_CTX_get_error(ctx.get());
      chk.chainError = X509_verify_cert_error_string(e);
      chk.missingIntermediate = e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY && sk_X509_num(rest) == 0;
    }
  }
  if (EVP_PKEY* key = X509_get0_pubkey(x)) {
    chk.keyBits = EVP_PKEY_get_bits(key);
    chk.keyType = EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA ? "RSA" : EVP_PKEY_get_base_id(key) == EVP_PKEY_EC ? "EC" : "other";
  }
  chk.signature = OBJ_nid2ln(X509_get_signature_nid(x));
  Certificate c = chk;
  char subject[512] = "";
  X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof subject);
  c.subject = subject;
  if (auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
      if (n->type == GEN_DNS)
        c.names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                             static_cast<std::size_t>(ASN1_STRING_length(n->d.dNSName)));
    }
    GENERAL_NAMES_free(sans);
  }
  if (c.names.empty()) {
    char cn[256] = "";
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn) > 0) c.names.emplace_back(cn);
  }
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
    c.notAfter = std::chrono::system_clock::from_time_t(timegm(&tm));
  return c;
}

}  // namespace

int runDoctor(const DoctorOptions& o, std::ostream& out, std::ostream& err) {
  auto store = store::openStore(o.storeUri);
  if (!store) {
    err << "autodisc doctor: " << store.error().message << '\n';
    return kCannotCheck;
  }
  auto loaded = (*store)->read();
  if (!loaded) {
    err << "autodisc doctor: " << loaded.error().message << '\n';
    return kCannotCheck;
  }
  std::optional<Certificate> cert;
  if (!o.certFile.empty()) {
    auto c = readCertificate(o.certFile, o.caFile);
    if (!c) {
      err << "autodisc doctor: " << c.error().message << '\n';
      return kCannotCheck;
    }
    cert = *c;
  }
  Input in{*loaded->org, cert, std::chrono::system_clock::now()};
  if (o.checkDns)
    in.resolve = [&o](const std::string& host, bool internal) {
      client::DnsOptions dns;
      const std::string& server = internal ? o.internalDns : o.externalDns;
      if (server != "system") dns.server = server;
      auto a = client::lookupAddresses(host, dns);
      return Resolved{a.addresses, a.error};
    };
  auto findings = runAll(in);
  int status = kClean;
  for (auto& f : findings) status = std::max(status, f.severity == Severity::Error ? int(kErrors) : f.severity == Severity::Warning ? int(kWarnings) : int(kClean));

  if (o.fixScript) {
    out << "# autodisc doctor --fix-script: the cmdlets that fix what cmdlets can fix. Review, then run with\n"
           "# autodisc shell. The other findings need a certificate name or a DNS record.\n";
    std::set<std::string> printed;
    for (auto& f : findings)
      if (f.fixIsCmdlet) {
        std::string line = f.fix.substr(0, f.fix.find("   ("));
        if (printed.insert(line).second) out << line << '\n';
      }
    return status;
  }
  if (o.json) {
    out << "{\"findings\":[";
    for (std::size_t i = 0; i < findings.size(); ++i) {
      auto& f = findings[i];
      out << (i ? "," : "") << "{\"severity\":" << protocol::jsonString(std::string(severityName(f.severity)))
          << ",\"check\":" << protocol::jsonString(f.check) << ",\"object\":" << protocol::jsonString(f.object)
          << ",\"problem\":" << protocol::jsonString(f.problem) << ",\"evidence\":" << protocol::jsonString(f.evidence)
          << ",\"fix\":" << protocol::jsonString(f.fix) << ",\"fixIsCmdlet\":" << (f.fixIsCmdlet ? "true" : "false") << "}";
    }
    out << "],\"exit\":" << status << "}\n";
    return status;
  }
  if (!cert) out << "(no --cert: the certificate checks were left out)\n";
  if (findings.empty()) {
    out << "No findings: every name clients are handed is covered and consistent.\n";
    return status;
  }
  for (auto sev : {Severity::Error, Severity::Warning, Severity::Info}) {
    bool header = false;
    for (auto& f : findings) {
      if (f.severity != sev) continue;
      if (!header) out << (sev == Severity::Error ? "ERRORS" : sev == Severity::Warning ? "WARNINGS" : "NOTES") << '\n';
      header = true;
      out << "  [" << f.check << "] " << f.object << ": " << f.problem << "\n      evidence: " << f.evidence
          << "\n      fix: " << f.fix << '\n';
    }
  }
  return status;
}

}  // namespace autodisc::doctor
