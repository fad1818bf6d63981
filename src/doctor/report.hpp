#pragma once
// `autodisc doctor`: the checks of checks.hpp run on a store and a certificate, printed.
#include <ostream>
#include <string>

namespace autodisc::doctor {

struct DoctorOptions {
  std::string storeUri;
  std::string certFile;   // the certificate chain the service presents (PEM)
  std::string service;    // HOST:PORT of a running service: check the chain it presents
  std::string sni;        // the name to ask that service for (SNI); empty: none
  // Neither: the store's certificate enabled for IIS; none there: the certificate checks are left out.
  std::string caFile;     // trust these CAs (PEM) instead of the system's, to verify the chain
  std::string internalDns, externalDns;  // ADDR:PORT of each view's DNS server; "system": the resolver
  bool checkDns = false;                 // either view given
  bool json = false;
  bool fixScript = false;  // print only the cmdlets that fix what cmdlets can fix
  std::string graphFile;   // draw the topology with the findings: FILE.svg (Graphviz's dot) or FILE.dot
};

// Exit statuses, as `autodisc doctor --help` documents them.
enum DoctorExit { kClean = 0, kWarnings = 1, kErrors = 2, kCannotCheck = 3 };

int runDoctor(const DoctorOptions& o, std::ostream& out, std::ostream& err);

}  // namespace autodisc::doctor
