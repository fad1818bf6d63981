#include "doctor/report.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>

#include "client/dns.hpp"
#include "cert/x509.hpp"
#include "doctor/checks.hpp"
#include "doctor/graph.hpp"
#include "protocol/json_v2.hpp"
#include "store/store.hpp"

namespace autodisc::doctor {

namespace {

// The first certificate of a PEM chain: its subject, DNS names (else the CN), expiry, key and
// signature; and the chain verified against the system's trust store, or `caFile` when given.
Result<Certificate> readCertificate(const std::string& pem, const std::string& caFile) {
  auto parsed = cert::parseChain(pem);
  if (!parsed) return std::unexpected(parsed.error());
  Certificate c;
  c.subject = parsed->subject;
  c.names = parsed->dnsNames;
  c.notAfter = parsed->notAfterTime;
  c.keyType = parsed->keyType;
  c.keyBits = parsed->keyBits;
  c.signature = parsed->signature;
  BIO* in = BIO_new_mem_buf(parsed->chainPem.data(), static_cast<int>(parsed->chainPem.size()));
  X509* leaf = PEM_read_bio_X509(in, nullptr, nullptr, nullptr);
  STACK_OF(X509)* rest = sk_X509_new_null();
  while (X509* more = PEM_read_bio_X509(in, nullptr, nullptr, nullptr)) sk_X509_push(rest, more);
  ERR_clear_error();
  BIO_free(in);
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> chain(rest, [](STACK_OF(X509)* st) { sk_X509_pop_free(st, X509_free); });
  std::unique_ptr<X509, decltype(&X509_free)> owned(leaf, X509_free);
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> trust(X509_STORE_new(), X509_STORE_free);
  if (caFile.empty()) X509_STORE_set_default_paths(trust.get());
  else X509_STORE_load_file(trust.get(), caFile.c_str());
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
  X509_STORE_CTX_init(ctx.get(), trust.get(), leaf, rest);
  c.chainChecked = true;
  if (X509_verify_cert(ctx.get()) != 1) {
    int e = X509_STORE_CTX_get_error(ctx.get());
    c.chainError = X509_verify_cert_error_string(e);
    c.missingIntermediate = e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY && sk_X509_num(rest) == 0;
  }
  return c;
}

// The certificate to check, and where it came from: --cert, --service (what the running service
// presents), else the store's certificate enabled for IIS (what every service on the store serves).
Result<std::pair<std::string, std::string>> certificateText(const DoctorOptions& o, const model::Organization& org) {
  if (!o.certFile.empty()) {
    std::ifstream f(o.certFile, std::ios::binary);
    if (!f) return fail("cannot read the certificate " + o.certFile);
    std::string pem((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    return std::pair{pem, o.certFile};
  }
  if (!o.service.empty()) {
    auto colon = o.service.rfind(':');
    if (colon == std::string::npos || colon == 0) return fail("--service " + o.service + ": expected HOST:PORT");
    std::string host = o.service.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    int port = std::atoi(o.service.c_str() + colon + 1);
    if (port <= 0 || port > 65535) return fail("--service " + o.service + ": the port is not a number from 1 to 65535");
    auto pem = cert::fetchChain(host, port, o.sni);
    if (!pem) return std::unexpected(pem.error());
    return std::pair{*pem, "the service at " + o.service + (o.sni.empty() ? std::string() : " (SNI " + o.sni + ")")};
  }
  for (auto& [id, c] : org.all<model::ExchangeCertificate>())
    if ((c.services & model::ServiceIis) && !c.pending())
      return std::pair{c.certificatePem, "the store's certificate enabled for IIS, " + c.thumbprint};
  return std::pair{std::string(), std::string()};
}

// Writes the topology: the DOT text itself for FILE.dot, else drawn by Graphviz's dot in the format
// the extension names (svg, png, pdf).
Result<void> drawGraph(const std::string& dotText, const std::string& file) {
  auto dotAt = file.rfind('.');
  std::string format = dotAt == std::string::npos ? "svg" : file.substr(dotAt + 1);
  if (format == "dot" || format == "gv") {
    std::ofstream f(file, std::ios::binary | std::ios::trunc);
    if (!(f << dotText) || !f.flush()) return fail("--graph " + file + ": cannot write the file");
    return {};
  }
  if (format != "svg" && format != "png" && format != "pdf")
    return fail("--graph " + file + ": name a .svg, .png, .pdf or .dot file");
  std::string tmp = file + ".dot.tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!(f << dotText) || !f.flush()) return fail("--graph " + file + ": cannot write " + tmp);
  }
  std::string typeArg = "-T" + format;
  std::vector<char*> argv = {const_cast<char*>("dot"), typeArg.data(), const_cast<char*>("-o"),
                             const_cast<char*>(file.c_str()), tmp.data(), nullptr};
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, "dot", nullptr, nullptr, argv.data(), environ);
  int status = 0;
  if (rc == 0) waitpid(pid, &status, 0);
  std::remove(tmp.c_str());
  if (rc != 0) return fail("--graph: Graphviz's dot cannot be started (Debian package graphviz): " + std::string(std::strerror(rc)));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return fail("--graph: dot failed to draw " + file);
  return {};
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
  auto source = certificateText(o, *loaded->org);
  if (!source) {
    err << "autodisc doctor: " << source.error().message << '\n';
    return kCannotCheck;
  }
  if (!source->first.empty()) {
    auto c = readCertificate(source->first, o.caFile);
    if (!c) {
      err << "autodisc doctor: " << source->second << ": " << c.error().message << '\n';
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
  if (!o.graphFile.empty())
    if (auto r = drawGraph(topologyDot(in, findings), o.graphFile); !r) {
      err << "autodisc doctor: " << r.error().message << '\n';
      return kCannotCheck;
    }
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
  if (!cert)
    out << "(no certificate: give --cert or --service, or enable one for IIS in the store; the certificate checks "
           "were left out)\n";
  else
    out << "Certificate: " << source->second << "\n";
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
