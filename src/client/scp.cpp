#include "client/scp.hpp"

#define LDAP_DEPRECATED 0
#include <ldap.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>

#include "model/text.hpp"
#include "model/validate.hpp"

namespace autodisc::client {

namespace {

struct Handle {
  LDAP* ld = nullptr;
  ~Handle() {
    if (ld) ldap_unbind_ext_s(ld, nullptr, nullptr);
  }
};

std::string failure(LDAP* ld, const std::string& doing, int rc) {
  std::string msg = doing + ": " + ldap_err2string(rc);
  char* diag = nullptr;
  if (ld && ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag) == LDAP_OPT_SUCCESS && diag) {
    if (*diag) msg += std::string(" (") + diag + ")";
    ldap_memfree(diag);
  }
  return msg;
}

std::vector<std::string> values(LDAP* ld, LDAPMessage* e, const char* attr) {
  std::vector<std::string> out;
  if (berval** v = ldap_get_values_len(ld, e, attr)) {
    for (int i = 0; v[i]; ++i) out.emplace_back(v[i]->bv_val, v[i]->bv_len);
    ldap_value_free_len(v);
  }
  return out;
}

}  // namespace

ScpAnswer lookupScp(const std::string& url, const ScpOptions& o) {
  ScpAnswer a;
  // Pointer SCPs write LDAP://host; libldap wants the scheme in lower case.
  std::string u = url;
  if (text::istartsWith(u, "ldap://")) u.replace(0, 7, "ldap://");
  else if (text::istartsWith(u, "ldaps://")) u.replace(0, 8, "ldaps://");
  LDAPURLDesc* desc = nullptr;
  if (ldap_url_parse(u.c_str(), &desc) != LDAP_URL_SUCCESS || !desc) {
    a.error = "not an LDAP URL: " + url;
    return a;
  }
  std::string base = desc->lud_dn ? desc->lud_dn : "";
  std::string server = std::string(desc->lud_scheme ? desc->lud_scheme : "ldap") + "://" +
                       (desc->lud_host ? desc->lud_host : "") +
                       (desc->lud_port ? ":" + std::to_string(desc->lud_port) : std::string());
  ldap_free_urldesc(desc);

  Handle h;
  int rc = ldap_initialize(&h.ld, server.c_str());
  if (rc != LDAP_SUCCESS) {
    a.error = failure(h.ld, "connecting to " + server, rc);
    return a;
  }
  int v3 = LDAP_VERSION3;
  ldap_set_option(h.ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
  ldap_set_option(h.ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
  timeval net{5, 0}, op{10, 0};
  ldap_set_option(h.ld, LDAP_OPT_NETWORK_TIMEOUT, &net);
  ldap_set_option(h.ld, LDAP_OPT_TIMEOUT, &op);
  std::string password = o.password;
  berval cred{static_cast<ber_len_t>(password.size()), password.data()};
  rc = ldap_sasl_bind_s(h.ld, o.bindDn.empty() ? nullptr : o.bindDn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr,
                        nullptr);
  if (rc != LDAP_SUCCESS) {
    a.error = failure(h.ld, o.bindDn.empty() ? "binding anonymously to " + server : "binding as " + o.bindDn, rc);
    return a;
  }
  if (base.empty()) {
    // The RootDSE says where the configuration is (Active Directory); else under the first naming context.
    char* attrs[] = {const_cast<char*>("configurationNamingContext"), const_cast<char*>("namingContexts"), nullptr};
    LDAPMessage* res = nullptr;
    rc = ldap_search_ext_s(h.ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, nullptr, nullptr, nullptr, 0, &res);
    if (rc == LDAP_SUCCESS)
      if (LDAPMessage* e = ldap_first_entry(h.ld, res)) {
        auto cfg = values(h.ld, e, "configurationNamingContext");
        auto contexts = values(h.ld, e, "namingContexts");
        if (!cfg.empty()) base = cfg.front();
        else if (!contexts.empty()) base = "CN=Configuration," + contexts.front();
      }
    if (res) ldap_msgfree(res);
    if (base.empty()) {
      a.error = rc == LDAP_SUCCESS ? "the server names no configuration naming context" : failure(h.ld, "reading the RootDSE", rc);
      return a;
    }
  }
  a.searched = base;
  // This end's address, and the site whose subnet holds it.
  int fd = -1;
  if (ldap_get_option(h.ld, LDAP_OPT_DESC, &fd) == LDAP_OPT_SUCCESS && fd >= 0) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    char text[INET6_ADDRSTRLEN] = "";
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
      if (ss.ss_family == AF_INET) inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, text, sizeof text);
      if (ss.ss_family == AF_INET6) inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr, text, sizeof text);
      a.localAddress = text;
    }
  }
  if (auto me = parseIpAddress(a.localAddress)) {
    char* subnetAttrs[] = {const_cast<char*>("cn"), const_cast<char*>("siteObject"), nullptr};
    LDAPMessage* subnets = nullptr;
    std::string where = "CN=Subnets,CN=Sites," + base;
    if (ldap_search_ext_s(h.ld, where.c_str(), LDAP_SCOPE_ONELEVEL, "(objectClass=subnet)", subnetAttrs, 0, nullptr, nullptr,
                          nullptr, 0, &subnets) == LDAP_SUCCESS) {
      int best = -1;
      for (LDAPMessage* e = ldap_first_entry(h.ld, subnets); e; e = ldap_next_entry(h.ld, e)) {
        auto cn = values(h.ld, e, "cn");
        auto site = values(h.ld, e, "siteObject");
        if (cn.empty() || site.empty()) continue;
        auto range = parseCidr(cn.front());
        if (!range || !range->contains(*me) || range->prefix <= best) continue;
        best = range->prefix;
        // The site's name: the value of its DN's first RDN.
        std::string dn = site.front();
        auto eq = dn.find('='), comma = dn.find(',');
        a.site = dn.substr(eq + 1, comma == std::string::npos ? std::string::npos : comma - eq - 1);
      }
    }
    if (subnets) ldap_msgfree(subnets);
  }
  std::string filter = "(&(objectClass=serviceConnectionPoint)(|(keywords=" + std::string(discovery::kScpPointerKeyword) +
                       ")(keywords=" + std::string(discovery::kScpUrlKeyword) + ")))";
  char* attrs[] = {const_cast<char*>("serviceBindingInformation"), const_cast<char*>("keywords"), nullptr};
  LDAPMessage* res = nullptr;
  rc = ldap_search_ext_s(h.ld, base.c_str(), LDAP_SCOPE_SUBTREE, filter.c_str(), attrs, 0, nullptr, nullptr, nullptr, 1000,
                         &res);
  if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
    a.error = failure(h.ld, "searching " + base, rc);
    if (res) ldap_msgfree(res);
    return a;
  }
  for (LDAPMessage* e = ldap_first_entry(h.ld, res); e; e = ldap_next_entry(h.ld, e)) {
    discovery::ScpEntry s;
    s.keywords = values(h.ld, e, "keywords");
    auto binding = values(h.ld, e, "serviceBindingInformation");
    for (auto& b : binding)
      if (s.binding.empty()) s.binding = b;
    a.entries.push_back(std::move(s));
  }
  if (res) ldap_msgfree(res);
  return a;
}

}  // namespace autodisc::client
