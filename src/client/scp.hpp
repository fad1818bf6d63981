#pragma once
// The SCP step of discovery (spec 6.3): Autodiscover Service Connection Points read from a
// directory over LDAP, as a domain-joined Outlook reads them.
#include <string>
#include <vector>

#include "discovery/planner.hpp"

namespace autodisc::client {

struct ScpOptions {
  std::string bindDn;    // empty: an anonymous bind
  std::string password;
};

struct ScpAnswer {
  std::string error;      // the server could not be reached, the bind failed, ...
  std::string searched;   // the base searched: the RootDSE's configurationNamingContext
  std::string localAddress;  // this end of the connection to the directory
  std::string site;          // the AD site whose subnet holds localAddress ("" if none does)
  std::vector<discovery::ScpEntry> entries;
};

// `url` is ldap://HOST[:PORT][/BASE] (or LDAP://..., as pointer SCPs write it). Without a base, the
// search starts at the server's configurationNamingContext (else CN=Configuration under its first
// naming context). Subtree, both keywords of spec 6.3, referrals not followed.
// The client's AD site is found as a domain member finds it: the subnet objects of the directory
// (CN=Subnets,CN=Sites under the configuration) matched against the address this end of the
// connection has, the longest prefix winning.
ScpAnswer lookupScp(const std::string& url, const ScpOptions& o);

}  // namespace autodisc::client
