#pragma once
// Where and how the organisation lives in an LDAP directory, as Exchange lays it out in Active
// Directory (docs/directory.md has the whole map). Pure: entries in, organisation out, and back;
// the LDAP connection is ldap_store's.
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/organization.hpp"

namespace autodisc::store::ldap {

// One directory entry: its DN and its attributes (objectClass among them). For a write, an
// attribute listed with no values is one autodisc manages that the object does not have (removed).
struct Entry {
  std::string dn;
  std::vector<std::pair<std::string, std::vector<std::string>>> attrs;
  const std::vector<std::string>* get(std::string_view name) const;
  std::string_view first(std::string_view name) const;  // empty when absent
  bool hasClass(std::string_view objectClass) const;
};

// The Autodiscover URL keyword of a Service Connection Point (spec 6.3) and the SCP's class name.
inline constexpr std::string_view kScpUrlKeyword = "77378F46-2C66-4aa9-A6A6-3E7A48B19596";
inline constexpr std::string_view kScpPointerKeyword = "67661D7F-8FC4-4fa7-BFAC-E1D7794C1F68";
inline constexpr std::string_view kScpServiceClass = "ms-Exchange-AutoDiscover-Service";

// RFC 4514 escaping of an attribute value for use in an RDN.
std::string escapeRdnValue(std::string_view v);
// A DN in one spelling for comparisons: RDNs trimmed, lower case (the names are case-insensitive).
std::string normalizeDn(std::string_view dn);
// The DN of the parent entry ("" for a DN of one RDN).
std::string parentDn(std::string_view dn);

class Layout {
 public:
  explicit Layout(std::string baseDn);
  const std::string& base() const { return base_; }
  std::string configuration() const;   // CN=Configuration,BASE
  std::string exchange() const;        // CN=Microsoft Exchange,CN=Services,CN=Configuration,BASE (holds the version)
  std::string organization(std::string_view orgName) const;
  std::string adminGroup(std::string_view orgName) const;
  std::string users() const;           // CN=Users,BASE: where new recipients go

  // The entries that hold one object as the organisation has it now: none if it was deleted. A
  // server brings its Service Connection Point (absent when it has neither URL nor site scope).
  std::vector<Entry> entriesOf(const model::Organization& org, model::ObjectRef ref) const;
  // The DN one object would have (its first entry's).
  std::string dnOf(const model::Organization& org, model::ObjectRef ref) const;
  // The containers an entry needs above it, from the top down, that are not the base itself.
  std::vector<std::string> containersAbove(std::string_view dn) const;

  // Every attribute read back (the search asks for exactly these).
  static std::vector<std::string> attributesRead();
  // The filters that find every entry autodisc reads: the configuration's (searched under
  // configuration()) and the recipients' (under the base). Active Directory keeps the two in
  // separate naming contexts, which one subtree search does not cross.
  static std::string filterConfiguration();
  static std::string filterRecipients();

  // An organisation built from entries (in any order), and the DN each object was read from.
  struct Built {
    model::Organization org;
    std::map<model::ObjectRef, std::string> dns;
    std::vector<std::string> skipped;  // entries that could not be read, with the reason
  };
  // The organisation the entries hold. With `known`, entries may be a few changed ones: each entry
  // takes the id `known` gives its normalised DN (`assigning` true: it may hand out a new one), and
  // references to entries not among them (a server, a site, a database) are resolved through it
  // (`assigning` false; 0: unknown).
  using Known = std::function<model::Id(model::Kind, const std::string& normalizedDn, bool assigning)>;
  Built build(const std::vector<Entry>& entries, const Known& known = nullptr) const;

 private:
  std::string base_;
};

}  // namespace autodisc::store::ldap
