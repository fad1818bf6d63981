#pragma once
// The doctor's checks (issue 7): the article's checklist as pure functions of the organisation and
// of the certificate the service presents. Each finding names the object, the problem, the evidence
// and the fix (a cmdlet where a cmdlet fixes it, else a certificate name or a DNS record).
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/organization.hpp"

namespace autodisc::doctor {

enum class Severity { Error, Warning, Info };
std::string_view severityName(Severity s);

struct Finding {
  Severity severity = Severity::Warning;
  std::string check;     // "certificate-coverage", "non-public-name", ...
  std::string object;    // e.g. "X2007SRV\owa (Default Web Site) InternalUrl"
  std::string problem;
  std::string evidence;
  std::string fix;       // what to run or do
  bool fixIsCmdlet = false;
  std::string host;      // the host name it is about, where it is about one (the graph marks it)
};

struct Certificate {
  std::string subject;
  std::vector<std::string> names;  // DNS subject alternative names (else the subject's CN)
  std::chrono::system_clock::time_point notAfter;
  // What reading the chain found (filled by the report; a crafted certificate leaves them as is).
  bool chainChecked = false;
  std::string chainError;          // empty: the chain verifies against the trust store (or --ca)
  bool missingIntermediate = false;
  std::string keyType;             // "RSA", "EC", ...
  int keyBits = 0;
  std::string signature;           // e.g. "sha256WithRSAEncryption"
};

// A DNS view's answer for a host: its addresses, or why there are none.
struct Resolved {
  std::vector<std::string> addresses;
  std::string error;
};
// Resolves a host as clients inside (internal = true) or outside see it. Empty: the DNS checks
// are left out.
using Resolver = std::function<Resolved(const std::string& host, bool internal)>;

struct Input {
  const model::Organization& org;
  std::optional<Certificate> certificate;  // none: the certificate checks are left out
  std::chrono::system_clock::time_point now;
  Resolver resolve = nullptr;
};

// Whether a certificate's names cover a host, as RFC 6125 says: without regard to case; a wildcard
// stands for exactly one whole label, leftmost only.
bool covers(const std::vector<std::string>& names, std::string_view host);
// Whether a public CA would still certify the name: not a single label, not .local and other
// non-public suffixes, not a private or loopback address.
bool publiclyCertifiable(std::string_view host);

// Every name clients are handed (check 1's list) once, those a public CA would certify first; the
// domain roots are left out (Outlook goes on to autodiscover.<domain> after them). What
// New-ExchangeCertificate -GenerateRequest asks for when it is given no -DomainName.
std::vector<std::string> namesToCertify(const model::Organization& org);

// One check each; runAll gives them all, errors first.
std::vector<Finding> checkCertificateCoverage(const Input& in);   // 1: every name clients are handed
std::vector<Finding> checkNonPublicNames(const Input& in);        // 2: names public CAs no longer certify
std::vector<Finding> checkSplitDns(const Input& in);              // 3: one name inside and out
std::vector<Finding> checkAutodiscoverVdirUrls(const Input& in);  // 4: URLs with no effect
std::vector<Finding> checkCasArrays(const Input& in);             // 5: databases and arrays (the model's part)
std::vector<Finding> checkCertificateValidity(const Input& in);   // 6: expired or expiring within 30 days
std::vector<Finding> checkConsistency(const Input& in);           // 7: EXPR, ActiveSync paths, http
std::vector<Finding> runAll(const Input& in);

}  // namespace autodisc::doctor
