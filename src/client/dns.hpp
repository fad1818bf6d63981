#pragma once
// DNS for the discovery client, through c-ares: SRV records and host addresses, from the system's
// resolver or from a server given as ADDR:PORT (labs, tests, an inside or outside view).
#include <string>
#include <vector>

#include "discovery/planner.hpp"

namespace autodisc::client {

struct DnsOptions {
  std::string server;  // ADDR:PORT; empty: the system's resolvers
  int timeoutMs = 3000;
};

struct SrvAnswer {
  std::string error;  // NXDOMAIN, timeout, ...
  std::vector<discovery::SrvRecord> records;
};
SrvAnswer lookupSrv(const std::string& name, const DnsOptions& o);

struct AddressAnswer {
  std::string error;
  std::vector<std::string> addresses;  // IPv4 and IPv6, as text
};
AddressAnswer lookupAddresses(const std::string& host, const DnsOptions& o);

}  // namespace autodisc::client
