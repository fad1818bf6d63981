#include "store/ldap_store.hpp"

#define LDAP_DEPRECATED 0
#include <arpa/inet.h>
#include <ldap.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <thread>

#include "model/text.hpp"

namespace autodisc::store {

using namespace autodisc::model;
using ldap::Entry;

struct LdapStore::Op {
  std::string what;               // for the message when the undo fails
  std::function<int()> undo;
};

namespace {

std::string envOr(const char* name, std::string dflt = {}) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : dflt;
}

// Journal records are words separated by spaces; a word escapes as %XX every byte that is not a
// printable ASCII character other than '%', ',' and '='.
std::string esc(std::string_view v) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(v.size());
  for (unsigned char c : v) {
    if (c <= 0x20 || c >= 0x7f || c == '%' || c == ',' || c == '=') {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string unesc(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    auto digit = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; };
    if (v[i] == '%' && i + 2 < v.size() && digit(v[i + 1]) >= 0 && digit(v[i + 2]) >= 0) {
      out += static_cast<char>(digit(v[i + 1]) * 16 + digit(v[i + 2]));
      i += 2;
    } else {
      out += v[i];
    }
  }
  return out;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    auto j = s.find(' ', i);
    if (j == std::string_view::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// An entry as journal words: DN, then NAME=V,V,... for each attribute (NAME= for none).
std::string entryWords(const ldap::Entry& e) {
  std::string out = esc(e.dn);
  for (auto& [name, values] : e.attrs) {
    out += ' ' + esc(name) + '=';
    for (std::size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + esc(values[i]);
  }
  return out;
}

ldap::Entry entryFromWords(const std::vector<std::string_view>& w, std::size_t from) {
  ldap::Entry e;
  e.dn = unesc(w[from]);
  for (std::size_t i = from + 1; i < w.size(); ++i) {
    auto eq = w[i].find('=');
    if (eq == std::string_view::npos) continue;
    std::vector<std::string> values;
    std::string_view rest = w[i].substr(eq + 1);
    while (!rest.empty()) {
      auto comma = rest.find(',');
      values.push_back(unesc(rest.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
    e.attrs.emplace_back(unesc(w[i].substr(0, eq)), std::move(values));
  }
  return e;
}

// Whether a lock's holder ("TIME HOST PID") is a process of this host that no longer runs.
bool holderIsGone(const std::string& token) {
  auto w = words(token);
  if (w.size() < 3) return false;
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  if (w[1] != host) return false;
  long pid = std::atol(std::string(w[2]).c_str());
  return pid > 0 && pid != getpid() && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

// Arrays of C strings for libldap, kept alive by the vectors they point into.
struct CStrings {
  std::vector<char*> ptrs;
  explicit CStrings(const std::vector<std::string>& v) {
    for (auto& s : v) ptrs.push_back(const_cast<char*>(s.c_str()));
    ptrs.push_back(nullptr);
  }
  char** get() { return ptrs.data(); }
};

// LDAPMod arrays for an entry's attributes (values as berval), with the storage they point into.
struct Mods {
  std::vector<LDAPMod> mods;
  std::vector<std::vector<berval>> values;
  std::vector<std::vector<berval*>> valuePtrs;
  std::vector<LDAPMod*> ptrs;
  Mods(const Entry& e, int op, bool skipEmpty, bool skipObjectClass) {
    mods.reserve(e.attrs.size());
    values.reserve(e.attrs.size());
    valuePtrs.reserve(e.attrs.size());
    for (auto& [name, vals] : e.attrs) {
      if (skipEmpty && vals.empty()) continue;
      // A replace leaves the class and the naming attribute alone: Active Directory refuses any
      // modify of the RDN's attribute (a new name is a rename), even to the value it has.
      if (skipObjectClass && (text::iequals(name, "objectClass") || text::iequals(name, "cn"))) continue;
      auto& bv = values.emplace_back();
      for (auto& v : vals) bv.push_back(berval{static_cast<ber_len_t>(v.size()), const_cast<char*>(v.data())});
      auto& bp = valuePtrs.emplace_back();
      for (auto& b : bv) bp.push_back(&b);
      bp.push_back(nullptr);
      LDAPMod m{};
      m.mod_op = op | LDAP_MOD_BVALUES;
      m.mod_type = const_cast<char*>(name.c_str());
      m.mod_bvalues = bp.data();
      mods.push_back(m);
    }
    for (auto& m : mods) ptrs.push_back(&m);
    ptrs.push_back(nullptr);
  }
  LDAPMod** get() { return ptrs.data(); }
};

Entry toEntry(LDAP* ld, LDAPMessage* msg) {
  Entry e;
  if (char* dn = ldap_get_dn(ld, msg)) {
    e.dn = dn;
    ldap_memfree(dn);
  }
  BerElement* ber = nullptr;
  for (char* a = ldap_first_attribute(ld, msg, &ber); a; a = ldap_next_attribute(ld, msg, ber)) {
    std::vector<std::string> vals;
    if (berval** v = ldap_get_values_len(ld, msg, a)) {
      for (int i = 0; v[i]; ++i) vals.emplace_back(v[i]->bv_val, v[i]->bv_len);
      ldap_value_free_len(v);
    }
    e.attrs.emplace_back(a, std::move(vals));
    ldap_memfree(a);
  }
  if (ber) ber_free(ber, 0);
  return e;
}

// The first RDN of a DN, as written.
std::string firstRdn(const std::string& dn) {
  auto parent = ldap::parentDn(dn);
  return parent.empty() ? dn : dn.substr(0, dn.size() - parent.size() - 1);
}

constexpr std::size_t kLoggedAtMost = 10000;  // a larger change is logged as "*": read everything
constexpr std::uint64_t kLogVersions = 1000;  // versions autodiscChangeLog keeps

// The order changes are written in: what others point at or sit under first.
int kindRank(Kind k) {
  switch (k) {
    case Kind::OrganizationConfig: return 0;
    case Kind::AdSite: return 1;
    case Kind::AdSubnet: return 2;
    case Kind::AcceptedDomain: return 3;
    case Kind::ExchangeServer: return 4;
    case Kind::ClientAccessArray: return 5;
    case Kind::MailboxDatabase: return 6;
    case Kind::VirtualDirectory: return 7;
    case Kind::OutlookAnywhere: return 8;
    case Kind::OutlookProvider: return 9;
    case Kind::Recipient: return 10;
    case Kind::ExchangeCertificate: return 11;
  }
  return 12;
}

}  // namespace

LdapStore::LdapStore(std::string uri, std::string server, std::string baseDn, bool startTls)
    : uri_(std::move(uri)), server_(std::move(server)), layout_(std::move(baseDn)), startTls_(startTls) {}

LdapStore::~LdapStore() {
  stopWatching_ = true;
  if (watcher_.joinable()) watcher_.join();
  if (ld_) ldap_unbind_ext_s(ld_, nullptr, nullptr);
}

bool LdapStore::watchChanges(std::function<void()> kick) {
  if (watcher_.joinable()) return true;
  watcher_ = std::thread([this, kick = std::move(kick)] { watchLoop(kick); });
  return true;
}

namespace {

// RFC 4533's cookie, where a message carries one: the Sync State control of an entry, a Sync Info
// message (newcookie, refreshDelete, refreshPresent, syncIdSet) or the Sync Done control that ends a
// search. Absent or unreadable: nullopt, and the last cookie stands.
std::optional<std::string> cookieIn(berval* value, bool infoMessage) {
  if (!value || !value->bv_val) return std::nullopt;
  BerElement* ber = ber_init(value);
  if (!ber) return std::nullopt;
  std::optional<std::string> out;
  ber_len_t len = 0;
  berval cookie{0, nullptr};
  ber_tag_t tag = ber_peek_tag(ber, &len);
  if (infoMessage && tag == LDAP_TAG_SYNC_NEW_COOKIE) {
    if (ber_scanf(ber, "m", &cookie) != LBER_ERROR) out = std::string(cookie.bv_val, cookie.bv_len);
  } else if (!infoMessage || tag == LDAP_TAG_SYNC_REFRESH_DELETE || tag == LDAP_TAG_SYNC_REFRESH_PRESENT ||
             tag == LDAP_TAG_SYNC_ID_SET) {
    if (ber_scanf(ber, "{") != LBER_ERROR) {
      // A Sync State control starts with the state and the entry's UUID.
      ber_int_t state = 0;
      berval uuid{0, nullptr};
      bool ok = true;
      if (!infoMessage && value->bv_len && ber_peek_tag(ber, &len) == LBER_ENUMERATED)
        ok = ber_scanf(ber, "em", &state, &uuid) != LBER_ERROR;
      if (ok && ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_COOKIE && ber_scanf(ber, "m", &cookie) != LBER_ERROR)
        out = std::string(cookie.bv_val, cookie.bv_len);
    }
  }
  ber_free(ber, 0);
  return out;
}

std::optional<std::string> cookieInControls(LDAPControl** controls, const char* oid) {
  std::optional<std::string> out;
  for (LDAPControl** c = controls; c && *c; ++c)
    if (std::strcmp((*c)->ldctl_oid, oid) == 0) out = cookieIn(&(*c)->ldctl_value, false);
  return out;
}

// The server a handle is talking to, as ADDRESS:PORT, for the event log.
std::string peerOf(LDAP* ld) {
  int fd = -1;
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (ldap_get_option(ld, LDAP_OPT_DESC, &fd) != LDAP_OPT_SUCCESS || fd < 0 ||
      getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return "?";
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
  inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
  return "[" + std::string(host) + "]:" + std::to_string(ntohs(a->sin6_port));
}

}  // namespace

void LdapStore::watchLoop(std::function<void()> kick) {
  // RFC 4533 refreshAndPersist on the version entry, which every change moves last: each entry the
  // directory sends is a change to read. The cookie the directory hands out is kept and presented
  // again when the stream is opened anew, on whichever replica answers then (multi-provider replicas
  // share their change sequence numbers): the refresh then sends the entry only if it changed while
  // the stream was down. What changed is read from the replicated change log from this node's
  // version (Store::changesSince), so a node that moves to the other provider goes on from where it
  // was, never from the beginning.
  std::string base = layout_.exchange();
  char* attrs[] = {const_cast<char*>("autodiscVersion"), nullptr};
  std::string cookie, cookieFrom;
  int failures = 0;
  while (!stopWatching_) {
    // The Sync Request Control's value: SEQUENCE { mode ENUMERATED refreshAndPersist, cookie OPTIONAL }.
    BerElement* ber = ber_alloc_t(LBER_USE_DER);
    berval* value = nullptr;
    berval presented{static_cast<ber_len_t>(cookie.size()), cookie.data()};
    int printed = !ber ? -1
                  : cookie.empty()
                      ? ber_printf(ber, "{e}", static_cast<ber_int_t>(LDAP_SYNC_REFRESH_AND_PERSIST))
                      : ber_printf(ber, "{eO}", static_cast<ber_int_t>(LDAP_SYNC_REFRESH_AND_PERSIST), &presented);
    if (printed < 0 || ber_flatten(ber, &value) != 0) {
      if (ber) ber_free(ber, 1);
      return;
    }
    ber_free(ber, 1);
    LDAPControl sync{const_cast<char*>(LDAP_CONTROL_SYNC), *value, 1};
    LDAPControl* controls[] = {&sync, nullptr};
    auto conn = connectOnly(uri_);
    int msgid = 0;
    int rc = conn ? ldap_search_ext((*conn)->ld_, base.c_str(), LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, controls,
                                    nullptr, nullptr, 0, &msgid)
                  : LDAP_SERVER_DOWN;
    ber_bvfree(value);
    if (rc == LDAP_UNAVAILABLE_CRITICAL_EXTENSION || rc == LDAP_UNWILLING_TO_PERFORM) {
      std::cerr << "W-LDAP-NO-SYNC " << uri_ << " does not offer content synchronisation (RFC 4533); polling only" << std::endl;
      break;
    }
    std::string peer = rc == LDAP_SUCCESS ? peerOf((*conn)->ld_) : "";
    if (rc == LDAP_SUCCESS && !cookie.empty())
      std::cerr << "I-LDAP-SYNC-RESUMED " << peer << " with the cookie from " << cookieFrom << std::endl;
    bool ended = rc != LDAP_SUCCESS;
    auto keep = [&](std::optional<std::string> c) {
      if (c && !c->empty()) cookie = std::move(*c), cookieFrom = peer;
    };
    while (!ended && !stopWatching_) {
      timeval wait{1, 0};  // so that a stop is noticed
      LDAPMessage* res = nullptr;
      int got = ldap_result((*conn)->ld_, msgid, LDAP_MSG_ONE, &wait, &res);
      if (got == 0) continue;
      if (got < 0) {
        ended = true;
        break;
      }
      int type = ldap_msgtype(res);
      if (type == LDAP_RES_SEARCH_ENTRY) {
        failures = 0;
        LDAPControl** state = nullptr;
        if (ldap_get_entry_controls((*conn)->ld_, res, &state) == LDAP_SUCCESS && state) {
          keep(cookieInControls(state, LDAP_CONTROL_SYNC_STATE));
          ldap_controls_free(state);
        }
        kick();  // the version entry, at the start and after every change
      } else if (type == LDAP_RES_INTERMEDIATE) {
        char* oid = nullptr;
        berval* data = nullptr;
        if (ldap_parse_intermediate((*conn)->ld_, res, &oid, &data, nullptr, 0) == LDAP_SUCCESS && oid &&
            std::strcmp(oid, LDAP_SYNC_INFO) == 0) {
          failures = 0;
          keep(cookieIn(data, true));
        }
        if (oid) ldap_memfree(oid);
        if (data) ber_bvfree(data);
      } else if (type == LDAP_RES_SEARCH_RESULT) {
        int err = LDAP_SUCCESS;
        LDAPControl** done = nullptr;
        ldap_parse_result((*conn)->ld_, res, &err, nullptr, nullptr, nullptr, &done, 0);
        keep(cookieInControls(done, LDAP_CONTROL_SYNC_DONE));
        if (done) ldap_controls_free(done);
        if (err == LDAP_UNAVAILABLE_CRITICAL_EXTENSION || err == LDAP_UNWILLING_TO_PERFORM) {
          std::cerr << "W-LDAP-NO-SYNC " << uri_ << " does not offer content synchronisation (RFC 4533); polling only"
                    << std::endl;
          stopWatching_ = true;
        }
        if (err == LDAP_SYNC_REFRESH_REQUIRED) {
          // The directory cannot go on from this cookie: start again without one (the change log,
          // not the cookie, says what this node has).
          std::cerr << "I-LDAP-SYNC-REFRESH " << peer << " asked for a full refresh" << std::endl;
          cookie.clear();
          cookieFrom.clear();
          kick();
        }
        ended = true;  // the directory ended the persist stage: start again
      }
      ldap_msgfree(res);
    }
    // Back off (up to 5 s) before the next attempt; the poll covers the gap.
    failures = std::min(failures + 1, 5);
    for (int i = 0; i < failures * 10 && !stopWatching_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Error LdapStore::ldapError(std::string_view doing, int rc) const {
  std::string msg = "store " + uri_ + ": " + std::string(doing) + ": " + ldap_err2string(rc);
  char* diag = nullptr;
  if (ld_ && ldap_get_option(ld_, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag) == LDAP_OPT_SUCCESS && diag) {
    if (*diag) msg += std::string(" (") + diag + ")";
    ldap_memfree(diag);
  }
  if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT) {
    msg += "; is the directory server running and reachable?";
    if (startTls_ || server_.starts_with("ldaps://"))
      msg += " With TLS: is its certificate trusted (LDAPTLS_CACERT=ca.pem) and does it name the host of the URL?";
  }
  if (rc == LDAP_INVALID_CREDENTIALS) msg += "; check AUTODISC_LDAP_BIND_DN and the password";
  if (rc == LDAP_INSUFFICIENT_ACCESS) msg += "; the bind DN may not change this part of the directory";
  return Error{msg};
}

namespace {
struct ParsedUrl {
  std::string server, base;
  bool startTls = false;
};
}  // namespace

static Result<ParsedUrl> parseStoreUrl(std::string_view uri);

Result<std::unique_ptr<LdapStore>> LdapStore::connectOnly(std::string_view uri) {
  auto p = parseStoreUrl(uri);
  if (!p) return std::unexpected(p.error());
  std::unique_ptr<LdapStore> s(new LdapStore(std::string(uri), p->server, p->base, p->startTls));
  if (auto r = s->connect(); !r) return std::unexpected(r.error());
  return s;
}

Result<LdapStore::Published> LdapStore::publishScps(const Organization& org) {
  Published out;
  std::vector<Op> undo;  // not replayed: publishing is idempotent, a failure is reported and retried
  std::set<std::string> wanted;
  for (auto& [id, server] : org.all<ExchangeServer>()) {
    if (!server.isClientAccess()) continue;
    auto entries = layout_.entriesOf(org, {Kind::ExchangeServer, id});
    if (entries.size() < 2 || entries[1].attrs.empty()) continue;
    const Entry& scp = entries[1];
    if (auto r = writeEntry(scp, {}, undo); !r) return std::unexpected(r.error());
    wanted.insert(ldap::normalizeDn(scp.dn));
    ++out.written;
    out.urls.push_back(server.autoDiscoverServiceInternalUri);
  }
  // Under this organisation's servers only: another organisation's SCPs are not ours to remove.
  std::string servers = "CN=Servers," + layout_.adminGroup(org.config().name);
  auto found = search(servers, LDAP_SCOPE_SUBTREE,
                      "(&(objectClass=serviceConnectionPoint)(serviceClassName=" + std::string(ldap::kScpServiceClass) + "))",
                      {"cn"}, true);
  if (!found) return std::unexpected(found.error());
  for (auto& e : *found)
    if (!wanted.count(ldap::normalizeDn(e.dn))) {
      int rc = deleteEntry(e.dn);
      if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT) return std::unexpected(ldapError("removing " + e.dn, rc));
      ++out.removed;
    }
  return out;
}

static Result<ParsedUrl> parseOneUrl(std::string_view uri);

// One URL, or several separated by spaces (replicas of one directory, tried in order on every
// connection, as libldap does with such a list): the same base DN and TLS choice for all.
static Result<ParsedUrl> parseStoreUrl(std::string_view uri) {
  std::vector<std::string> urls;
  for (auto part : text::split(uri, ' '))
    if (!text::trim(part).empty()) urls.emplace_back(text::trim(part));
  if (urls.size() <= 1) return parseOneUrl(uri);
  ParsedUrl all;
  for (std::size_t i = 0; i < urls.size(); ++i) {
    auto p = parseOneUrl(urls[i]);
    if (!p) return p;
    if (i == 0) {
      all = *p;
      continue;
    }
    if (ldap::normalizeDn(p->base) != ldap::normalizeDn(all.base) || p->startTls != all.startTls)
      return fail("store " + std::string(uri) + ": every URL must name the same base DN (and all or none StartTLS)");
    all.server += " " + p->server;
  }
  return all;
}

static Result<ParsedUrl> parseOneUrl(std::string_view uri) {
  LDAPURLDesc* url = nullptr;
  std::string u(uri);
  if (ldap_url_parse(u.c_str(), &url) != LDAP_URL_SUCCESS || !url)
    return fail("store " + u + ": not an LDAP URL (expected ldap://HOST[:PORT]/BASE-DN)");
  std::string scheme = url->lud_scheme ? url->lud_scheme : "ldap";
  std::string host = url->lud_host ? url->lud_host : "";
  int port = url->lud_port;
  ParsedUrl p;
  p.base = url->lud_dn ? url->lud_dn : "";
  if (url->lud_exts)
    for (int i = 0; url->lud_exts[i]; ++i) {
      std::string ext = url->lud_exts[i];
      if (!ext.empty() && ext[0] == '!') ext.erase(0, 1);
      if (text::iequals(ext, "starttls")) p.startTls = true;
      else {
        ldap_free_urldesc(url);
        return fail("store " + u + ": unknown URL extension '" + ext + "' (only starttls is understood)");
      }
    }
  ldap_free_urldesc(url);
  if (p.base.empty()) return fail("store " + u + ": the URL names no base DN (ldap://HOST[:PORT]/DC=example,DC=com)");
  if (host.empty()) return fail("store " + u + ": the URL names no server");
  p.server = scheme + "://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
             (port ? ":" + std::to_string(port) : std::string());
  return p;
}

Result<std::unique_ptr<LdapStore>> LdapStore::open(std::string_view uri) {
  auto p = parseStoreUrl(uri);
  if (!p) return std::unexpected(p.error());
  std::unique_ptr<LdapStore> s(new LdapStore(std::string(uri), p->server, p->base, p->startTls));
  if (auto r = s->connect(); !r) return std::unexpected(r.error());
  if (auto r = s->ensureSkeleton(); !r) return std::unexpected(r.error());
  if (auto usn = s->highestUsn(); usn && *usn > 0) s->isAd_ = true;  // Active Directory (and Samba's)
  return s;
}

Result<void> LdapStore::connect() {
  if (ld_) {
    ldap_unbind_ext_s(ld_, nullptr, nullptr);
    ld_ = nullptr;
  }
  // On any failure below the handle is dropped (withRetry makes a new one next time).
  struct DropOnFailure {
    LDAP*& ld;
    bool ok = false;
    ~DropOnFailure() {
      if (!ok && ld) {
        ldap_unbind_ext_s(ld, nullptr, nullptr);
        ld = nullptr;
      }
    }
  } drop{ld_};
  int rc = ldap_initialize(&ld_, server_.c_str());
  if (rc != LDAP_SUCCESS) return std::unexpected(ldapError("connecting", rc));
  int v3 = LDAP_VERSION3;
  ldap_set_option(ld_, LDAP_OPT_PROTOCOL_VERSION, &v3);
  ldap_set_option(ld_, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);  // never chase a reference off this server
  timeval net{5, 0}, op{30, 0};
  ldap_set_option(ld_, LDAP_OPT_NETWORK_TIMEOUT, &net);
  ldap_set_option(ld_, LDAP_OPT_TIMEOUT, &op);
  if (startTls_ && (rc = ldap_start_tls_s(ld_, nullptr, nullptr)) != LDAP_SUCCESS)
    return std::unexpected(ldapError("StartTLS", rc));
  std::string dn = envOr("AUTODISC_LDAP_BIND_DN");
  std::string password = envOr("AUTODISC_LDAP_PASSWORD");
  if (password.empty())
    if (auto file = envOr("AUTODISC_LDAP_PASSWORD_FILE"); !file.empty()) {
      std::ifstream in(file);
      if (!in) return fail("store " + uri_ + ": cannot read the password file " + file);
      std::getline(in, password);
    }
  berval cred{static_cast<ber_len_t>(password.size()), password.data()};
  rc = ldap_sasl_bind_s(ld_, dn.empty() ? nullptr : dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
  if (rc != LDAP_SUCCESS) return std::unexpected(ldapError(dn.empty() ? "binding anonymously" : "binding as " + dn, rc));
  drop.ok = true;
  return {};
}

template <class F>
int LdapStore::withRetry(F&& f) {
  // A handle that lost its server is dropped, never reused: libldap would reconnect it by itself,
  // without the bind, and the directory would then answer as to an anonymous client.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!ld_ && !connect()) return LDAP_SERVER_DOWN;
    int rc = f();
    if (rc != LDAP_SERVER_DOWN && rc != LDAP_CONNECT_ERROR) return rc;
    ldap_unbind_ext_s(ld_, nullptr, nullptr);
    ld_ = nullptr;
  }
  return LDAP_SERVER_DOWN;
}

Result<std::vector<Entry>> LdapStore::search(const std::string& base, int scope, const std::string& filter,
                                             const std::vector<std::string>& attrs, bool paged) {
  std::vector<Entry> out;
  berval cookie{0, nullptr};
  std::string cookieBytes;
  for (;;) {
    CStrings a(attrs);
    LDAPMessage* res = nullptr;
    LDAPControl* page = nullptr;
    int rc = withRetry([&] {
      if (res) {
        ldap_msgfree(res);
        res = nullptr;
      }
      LDAPControl* ctrls[2] = {nullptr, nullptr};
      if (paged) {
        if (page) ldap_control_free(page);
        page = nullptr;
        cookie.bv_val = cookieBytes.data();
        cookie.bv_len = cookieBytes.size();
        if (ldap_create_page_control(ld_, 1000, &cookie, 0, &page) != LDAP_SUCCESS) return LDAP_NO_MEMORY;
        ctrls[0] = page;
      }
      return ldap_search_ext_s(ld_, base.c_str(), scope, filter.c_str(), a.get(), 0, paged ? ctrls : nullptr, nullptr,
                               nullptr, LDAP_NO_LIMIT, &res);
    });
    if (page) ldap_control_free(page);
    if (rc == LDAP_NO_SUCH_OBJECT) {
      if (res) ldap_msgfree(res);
      return out;
    }
    if (rc != LDAP_SUCCESS) {
      if (res) ldap_msgfree(res);
      return std::unexpected(ldapError("reading " + base, rc));
    }
    for (LDAPMessage* m = ldap_first_entry(ld_, res); m; m = ldap_next_entry(ld_, m)) out.push_back(toEntry(ld_, m));
    cookieBytes.clear();
    if (paged) {
      LDAPControl** returned = nullptr;
      int err = 0;
      ldap_parse_result(ld_, res, &err, nullptr, nullptr, nullptr, &returned, 0);
      if (returned) {
        if (LDAPControl* c = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, returned, nullptr)) {
          ber_int_t count = 0;
          berval next{0, nullptr};
          if (ldap_parse_pageresponse_control(ld_, c, &count, &next) == LDAP_SUCCESS && next.bv_val) {
            cookieBytes.assign(next.bv_val, next.bv_len);
            ber_memfree(next.bv_val);
          }
        }
        ldap_controls_free(returned);
      }
    }
    ldap_msgfree(res);
    if (cookieBytes.empty()) return out;
  }
}

Result<std::optional<Entry>> LdapStore::entryAt(const std::string& dn, const std::vector<std::string>& attrs) {
  auto r = search(dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, false);
  if (!r) return std::unexpected(r.error());
  if (r->empty()) return std::optional<Entry>{};
  return std::optional<Entry>{std::move(r->front())};
}

int LdapStore::addEntry(const Entry& e) {
  Mods m(e, LDAP_MOD_ADD, true, false);
  return withRetry([&] { return ldap_add_ext_s(ld_, e.dn.c_str(), m.get(), nullptr, nullptr); });
}

int LdapStore::replaceAttrs(const Entry& e) {
  Mods m(e, LDAP_MOD_REPLACE, false, true);
  if (m.mods.empty()) return LDAP_SUCCESS;
  return withRetry([&] { return ldap_modify_ext_s(ld_, e.dn.c_str(), m.get(), nullptr, nullptr); });
}

int LdapStore::deleteEntry(const std::string& dn) {
  return withRetry([&] { return ldap_delete_ext_s(ld_, dn.c_str(), nullptr, nullptr); });
}

Result<void> LdapStore::ensureSkeleton() {
  // The base must be there already; the containers Exchange's configuration sits in are made.
  auto base = entryAt(layout_.base(), {"objectClass"});
  if (!base) return std::unexpected(base.error());
  if (!*base) return fail("store " + uri_ + ": the base DN " + layout_.base() + " does not exist in the directory");
  std::vector<Op> ignored;
  if (auto r = ensureContainers(layout_.exchange(), ignored); !r) return r;  // the containers above it
  // The Exchange configuration container carries the store's version and lock.
  auto exch = entryAt(layout_.exchange(), {"objectClass"});
  if (!exch) return std::unexpected(exch.error());
  int rc = LDAP_SUCCESS;
  if (!*exch) {
    Entry e{layout_.exchange(),
            {{"objectClass", {"top", "container", "msExchConfigurationContainer", "autodiscStore"}},
             {"cn", {"Microsoft Exchange"}}}};
    rc = addEntry(e);
    if (rc == LDAP_ALREADY_EXISTS) rc = LDAP_SUCCESS;
  } else if (!(*exch)->hasClass("autodiscStore")) {
    Entry e{layout_.exchange(), {{"objectClass", {"autodiscStore"}}}};
    Mods m(e, LDAP_MOD_ADD, true, false);
    rc = withRetry([&] { return ldap_modify_ext_s(ld_, e.dn.c_str(), m.get(), nullptr, nullptr); });
  }
  if (rc != LDAP_SUCCESS) return std::unexpected(ldapError("preparing " + layout_.exchange(), rc));
  return {};
}

Result<void> LdapStore::ensureContainers(const std::string& dn, std::vector<Op>&) {
  for (auto& c : layout_.containersAbove(dn)) {
    auto key = ldap::normalizeDn(c);
    if (knownContainers_.count(key)) continue;
    auto here = entryAt(c, {"objectClass"});
    if (!here) return std::unexpected(here.error());
    if (!*here) {
      Entry e;
      e.dn = c;
      auto rdn = firstRdn(c);
      auto eq = rdn.find('=');
      // A container made here is left in place if the change is undone: empty and harmless.
      e.attrs = {{"objectClass", {"top", "container"}}, {"cn", {rdn.substr(eq + 1)}}};
      // The values of an RDN are written escaped; the cn attribute wants them plain.
      std::string plain;
      for (std::size_t i = eq + 1; i < rdn.size(); ++i) {
        if (rdn[i] == '\\' && i + 1 < rdn.size()) ++i;
        plain += rdn[i];
      }
      e.attrs[1].second = {plain};
      int rc = addEntry(e);
      if (rc != LDAP_SUCCESS && rc != LDAP_ALREADY_EXISTS) return std::unexpected(ldapError("creating " + c, rc));
    }
    knownContainers_.insert(key);
  }
  return {};
}

Result<std::uint64_t> LdapStore::storedVersion() {
  auto e = entryAt(layout_.exchange(), {"autodiscVersion"});
  if (!e) return std::unexpected(e.error());
  if (!*e) return std::uint64_t{0};
  auto v = (*e)->first("autodiscVersion");
  if (v.empty()) return std::uint64_t{0};
  return static_cast<std::uint64_t>(std::strtoull(std::string(v).c_str(), nullptr, 10));
}

Result<std::uint64_t> LdapStore::highestUsn() {
  auto root = entryAt("", {"highestCommittedUSN"});
  if (!root) return std::unexpected(root.error());
  if (!*root) return std::uint64_t{0};
  return static_cast<std::uint64_t>(std::strtoull(std::string((*root)->first("highestCommittedUSN")).c_str(), nullptr, 10));
}

// On Active Directory, objects are also changed by other tools (a mailbox made in its own console,
// an address added): any object autodisc reads with a uSNChanged above the one last seen counts as
// a change, and the version a service polls moves with it: autodiscVersion * 1,000,000 + those.
Result<std::uint64_t> LdapStore::version() {
  auto v = storedVersion();
  if (!v || !isAd_) return v;
  std::string since = "(uSNChanged>=" + std::to_string(usnSeen_ + 1) + ")";
  std::uint64_t top = usnSeen_;
  for (auto [where, filter] : {std::pair{layout_.configuration(), ldap::Layout::filterConfiguration()},
                               std::pair{layout_.base(), ldap::Layout::filterRecipients()}}) {
    auto changed = search(where, LDAP_SCOPE_SUBTREE, "(&" + since + filter + ")", {"uSNChanged"}, true);
    if (!changed) return std::unexpected(changed.error());
    for (auto& e : *changed)
      top = std::max<std::uint64_t>(top, std::strtoull(std::string(e.first("uSNChanged")).c_str(), nullptr, 10));
  }
  if (top > usnSeen_) {
    if (usnSeen_ != 0) ++external_;
    usnSeen_ = top;
  }
  return *v * 1000000 + external_;
}

Result<Store::Loaded> LdapStore::read() {
  // A change left unfinished by a writer that is gone is undone first, so that no reader takes in
  // half of it. A writer still at work is left to finish: its version has not moved yet.
  if (auto pending = entryAt(layout_.exchange(), {"autodiscUndo", "autodiscLock"}); pending && *pending) {
    auto* undo = (*pending)->get("autodiscUndo");
    std::string holder((*pending)->first("autodiscLock"));
    auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (undo && !undo->empty() &&
        (holder.empty() || holderIsGone(holder) || now - std::atoll(holder.c_str()) > kStaleLockSeconds)) {
      if (auto token = lock()) {
        auto r = recover(holder.empty() ? std::string("a session") : holder.substr(holder.find(' ') + 1));
        unlock(*token);
        if (!r) return std::unexpected(r.error());
      } else {
        std::cerr << "W-LDAP-UNFINISHED-CHANGE " << uri_ << " holds a change left unfinished, which this session "
                  << "cannot undo (" << token.error().message << "); it is read as it is\n";
      }
    }
  }
  auto v = version();
  if (!v) return std::unexpected(v.error());
  if (isAd_)
    if (auto usn = highestUsn()) usnSeen_ = std::max(usnSeen_, *usn);  // what this read sees is not a change to come
  auto entries = search(layout_.configuration(), LDAP_SCOPE_SUBTREE, ldap::Layout::filterConfiguration(),
                        ldap::Layout::attributesRead(), true);
  if (!entries) return std::unexpected(entries.error());
  auto recipients = search(layout_.base(), LDAP_SCOPE_SUBTREE, ldap::Layout::filterRecipients(),
                           ldap::Layout::attributesRead(), true);
  if (!recipients) return std::unexpected(recipients.error());
  entries->reserve(entries->size() + recipients->size());
  for (auto& e : *recipients) entries->push_back(std::move(e));
  auto built = layout_.build(*entries);
  for (auto& s : built.skipped) std::cerr << "W-LDAP-SKIPPED " << s << '\n';
  dns_ = std::move(built.dns);
  refsByDn_.clear();
  refsByDn_.reserve(dns_.size());
  std::fill(std::begin(nextIds_), std::end(nextIds_), Id{1});
  for (auto& [ref, dn] : dns_) {
    refsByDn_.emplace(ldap::normalizeDn(dn), ref);
    auto& next = nextIds_[static_cast<int>(ref.kind)];
    next = std::max(next, ref.id + 1);
  }
  return Loaded{std::make_shared<Organization>(std::move(built.org)), *v};
}

Result<std::string> LdapStore::lock() {
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::string token = std::to_string(now) + " " + host + " " + std::to_string(getpid());
  Entry add{layout_.exchange(), {{"autodiscLock", {token}}}};
  Mods m(add, LDAP_MOD_ADD, true, false);
  int rc = withRetry([&] { return ldap_modify_ext_s(ld_, add.dn.c_str(), m.get(), nullptr, nullptr); });
  if (rc == LDAP_SUCCESS) return token;
  if (rc != LDAP_TYPE_OR_VALUE_EXISTS && rc != LDAP_CONSTRAINT_VIOLATION)
    return std::unexpected(ldapError("locking for a change", rc));
  auto held = entryAt(layout_.exchange(), {"autodiscLock"});
  if (!held) return std::unexpected(held.error());
  std::string other = *held ? std::string((*held)->first("autodiscLock")) : std::string();
  long long since = std::atoll(other.c_str());
  bool gone = holderIsGone(other);
  if (!other.empty() && now - since <= kStaleLockSeconds && !gone)
    return fail("store " + uri_ + ": another session is changing the directory (lock held by " + other.substr(other.find(' ') + 1) +
                " for " + std::to_string(now - since) + " s); try again when it has finished");
  // A stale lock: replaced only if it is still the one read (a delete of that exact value).
  Entry swap{layout_.exchange(), {{"autodiscLock", {other}}}};
  Mods del(swap, LDAP_MOD_DELETE, true, false);
  Mods put(add, LDAP_MOD_ADD, true, false);
  LDAPMod* both[] = {del.mods.empty() ? nullptr : &del.mods[0], put.mods.empty() ? nullptr : &put.mods[0], nullptr};
  rc = withRetry([&] { return ldap_modify_ext_s(ld_, add.dn.c_str(), other.empty() ? both + 1 : both, nullptr, nullptr); });
  if (rc != LDAP_SUCCESS) return std::unexpected(ldapError("taking over a stale lock", rc));
  std::cerr << "W-LDAP-STALE-LOCK broke a lock held since " << (now - since) << " s by " << other
            << (gone ? " (that process is gone)" : "") << '\n';
  // What that writer left unfinished is undone before anything else is written.
  if (auto r = recover(other.empty() ? std::string("a session") : other.substr(other.find(' ') + 1)); !r) {
    unlock(token);
    return std::unexpected(r.error());
  }
  return token;
}

void LdapStore::unlock(const std::string& token) {
  Entry e{layout_.exchange(), {{"autodiscLock", {token}}}};
  Mods m(e, LDAP_MOD_DELETE, true, false);
  withRetry([&] { return ldap_modify_ext_s(ld_, e.dn.c_str(), m.get(), nullptr, nullptr); });
}

Result<void> LdapStore::deleteSubtree(const std::string& dn, std::vector<Op>& undo) {
  auto all = search(dn, LDAP_SCOPE_SUBTREE, "(objectClass=*)", {"*"}, true);
  if (!all) return std::unexpected(all.error());
  // Deepest first; each entry's attributes are kept to add it back (parents first) on undo.
  std::sort(all->begin(), all->end(), [](const Entry& a, const Entry& b) {
    return std::count(a.dn.begin(), a.dn.end(), ',') > std::count(b.dn.begin(), b.dn.end(), ',');
  });
  std::vector<std::string> records;
  for (auto& e : *all) records.push_back("readd " + entryWords(e));
  if (auto r = journal(records); !r) return r;
  for (auto& e : *all) {
    int rc = deleteEntry(e.dn);
    if (rc == LDAP_NO_SUCH_OBJECT) continue;
    if (rc != LDAP_SUCCESS) return std::unexpected(ldapError("deleting " + e.dn, rc));
    knownContainers_.erase(ldap::normalizeDn(e.dn));
    undo.push_back(Op{"add back " + e.dn, [this, e] { return addEntry(e); }});
  }
  return {};
}

Result<void> LdapStore::renameSubtree(const std::string& from, const std::string& to, std::vector<Op>& undo) {
  std::string newRdn = firstRdn(to), newParent = ldap::parentDn(to);
  std::string oldRdn = firstRdn(from), oldParent = ldap::parentDn(from);
  bool move = ldap::normalizeDn(newParent) != ldap::normalizeDn(oldParent);
  if (move)
    if (auto r = ensureContainers(to, undo); !r) return r;
  if (auto r = journal({"rename " + esc(to) + " " + esc(oldRdn) + " " + (move ? esc(oldParent) : std::string("-"))}); !r)
    return r;
  int rc = withRetry([&] {
    return ldap_rename_s(ld_, from.c_str(), newRdn.c_str(), move ? newParent.c_str() : nullptr, 1, nullptr, nullptr);
  });
  if (rc == LDAP_UNWILLING_TO_PERFORM && !move) return copySubtree(from, to, undo);
  if (rc != LDAP_SUCCESS) return std::unexpected(ldapError("renaming " + from + " to " + to, rc));
  knownContainers_.clear();  // DNs below moved
  undo.push_back(Op{"rename back " + to, [this, to, oldRdn, oldParent, move] {
                      return ldap_rename_s(ld_, to.c_str(), oldRdn.c_str(), move ? oldParent.c_str() : nullptr, 1,
                                           nullptr, nullptr);
                    }});
  return {};
}

// Active Directory renames nothing in its configuration partition: the subtree is written anew
// under the new name (parents first) and the old one deleted. Only what autodisc writes is copied.
// Recipients point into the organisation (homeMDB): with any, the copy would leave them pointing
// at nothing, so it is refused.
Result<void> LdapStore::copySubtree(const std::string& from, const std::string& to, std::vector<Op>& undo) {
  auto pointing = search(layout_.base(), LDAP_SCOPE_SUBTREE, "(homeMDB=*)", {"homeMDB"}, true);
  if (!pointing) return std::unexpected(pointing.error());
  std::string inside = "," + ldap::normalizeDn(from);
  bool into = std::any_of(pointing->begin(), pointing->end(),
                          [&](const Entry& e) { return ldap::normalizeDn(e.first("homeMDB")).ends_with(inside); });
  if (into)
    return fail("store " + uri_ + ": the directory does not rename " + from +
                " (Active Directory renames nothing in its configuration), and mailboxes point into it; as in "
                "Exchange, an organisation's name stays what it was when it was set up");
  auto all = search(from, LDAP_SCOPE_SUBTREE, "(objectClass=*)", {"*"}, true);
  if (!all) return std::unexpected(all.error());
  std::sort(all->begin(), all->end(), [](const Entry& a, const Entry& b) {
    return std::count(a.dn.begin(), a.dn.end(), ',') < std::count(b.dn.begin(), b.dn.end(), ',');
  });
  auto writable = ldap::Layout::attributesRead();
  for (auto extra : {"serviceClassName", "serviceDNSName", "description"}) writable.push_back(extra);
  std::string oldSuffix = ldap::normalizeDn(from);
  std::vector<Entry> copies;
  for (auto& e : *all) {
    Entry copy;
    std::string norm = ldap::normalizeDn(e.dn);
    std::size_t keep = 0;  // the RDNs above `from`, as written
    for (std::size_t i = 0, commas = std::count(norm.begin(), norm.end(), ',') - std::count(oldSuffix.begin(), oldSuffix.end(), ','); i < commas; ++i)
      keep = e.dn.find(',', keep) + 1;
    copy.dn = e.dn.substr(0, keep) + to;
    for (auto& [name, values] : e.attrs) {
      bool ok = std::any_of(writable.begin(), writable.end(), [&](auto& w) { return text::iequals(w, name); });
      if (!ok) continue;
      if (text::iequals(name, "cn") && keep == 0) {
        auto rdn = firstRdn(to);
        std::string plain;
        for (std::size_t i = rdn.find('=') + 1; i < rdn.size(); ++i) {
          if (rdn[i] == '\\' && i + 1 < rdn.size()) ++i;
          plain += rdn[i];
        }
        copy.attrs.emplace_back(name, std::vector<std::string>{plain});
        continue;
      }
      copy.attrs.emplace_back(name, values);
    }
    copies.push_back(std::move(copy));
  }
  std::vector<std::string> records;
  for (auto& c : copies) records.push_back("add " + esc(c.dn));
  if (auto r = journal(records); !r) return r;
  for (auto& copy : copies) {
    int rc = addEntry(copy);
    if (rc != LDAP_SUCCESS) return std::unexpected(ldapError("copying to " + copy.dn, rc));
    std::string dn = copy.dn;
    undo.push_back(Op{"delete " + dn, [this, dn] { return deleteEntry(dn); }});
  }
  if (auto r = deleteSubtree(from, undo); !r) return r;
  knownContainers_.clear();
  return {};
}

Result<void> LdapStore::writeEntry(const Entry& desired, const std::string& currentDn, std::vector<Op>& undo) {
  std::string at = currentDn.empty() ? desired.dn : currentDn;
  if (ldap::normalizeDn(at) != ldap::normalizeDn(desired.dn)) {
    auto there = entryAt(at, {"objectClass"});
    if (!there) return std::unexpected(there.error());
    if (*there) {
      if (auto r = renameSubtree(at, desired.dn, undo); !r) return r;
    }
  }
  std::vector<std::string> names;
  for (auto& [n, v] : desired.attrs) names.push_back(n);
  auto before = entryAt(desired.dn, names);
  if (!before) return std::unexpected(before.error());
  if (!*before) {
    if (auto r = ensureContainers(desired.dn, undo); !r) return r;
    if (!journaledAdds_.count(ldap::normalizeDn(desired.dn)))
      if (auto r = journal({"add " + esc(desired.dn)}); !r) return r;
    int rc = addEntry(desired);
    if (rc != LDAP_SUCCESS) return std::unexpected(ldapError("adding " + desired.dn, rc));
    std::string dn = desired.dn;
    undo.push_back(Op{"delete " + dn, [this, dn] { return deleteEntry(dn); }});
    return {};
  }
  // Undo: the managed attributes as they were (absent ones removed again).
  Entry old;
  old.dn = desired.dn;
  for (auto& n : names) {
    auto* v = (*before)->get(n);
    old.attrs.emplace_back(n, v ? *v : std::vector<std::string>{});
  }
  if (auto r = journal({"restore " + entryWords(old)}); !r) return r;
  int rc = replaceAttrs(desired);
  if (rc != LDAP_SUCCESS) return std::unexpected(ldapError("changing " + desired.dn, rc));
  undo.push_back(Op{"restore " + old.dn, [this, old] { return replaceAttrs(old); }});
  return {};
}

void LdapStore::undoAll(std::vector<Op>& undo) {
  for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
    int rc = it->undo();
    if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT && rc != LDAP_ALREADY_EXISTS)
      std::cerr << "E-LDAP-UNDO could not " << it->what << ": " << ldap_err2string(rc)
                << " (the directory may hold part of the change)\n";
  }
  undo.clear();
}

Result<void> LdapStore::journal(const std::vector<std::string>& records) {
  if (noJournal_ || recovering_ || records.empty()) return {};
  constexpr std::size_t kPerModify = 500;
  for (std::size_t at = 0; at < records.size(); at += kPerModify) {
    Entry e{layout_.exchange(), {{"autodiscUndo", {}}}};
    for (std::size_t i = at; i < std::min(records.size(), at + kPerModify); ++i)
      e.attrs[0].second.push_back(std::to_string(++journalSeq_) + " " + records[i]);
    Mods m(e, LDAP_MOD_ADD, true, false);
    int rc = withRetry([&] { return ldap_modify_ext_s(ld_, e.dn.c_str(), m.get(), nullptr, nullptr); });
    if ((rc == LDAP_UNDEFINED_TYPE || rc == LDAP_OBJECT_CLASS_VIOLATION) && !journaled_) {
      // A directory whose schema predates the journal: changes go on as before, undone only by this shell.
      std::cerr << "W-LDAP-NO-JOURNAL " << uri_
                << " has no autodiscUndo attribute (load the current schema/autodisc.ldif): a change cut short "
                   "by a crash cannot be undone by the next session\n";
      noJournal_ = true;
      return {};
    }
    if (rc != LDAP_SUCCESS) return std::unexpected(ldapError("writing the undo journal", rc));
    journaled_ = true;
  }
  return {};
}

Result<void> LdapStore::recover(const std::string& whose) {
  auto have = entryAt(layout_.exchange(), {"autodiscUndo"});
  if (!have) return std::unexpected(have.error());
  const std::vector<std::string>* values = *have ? (*have)->get("autodiscUndo") : nullptr;
  if (!values || values->empty()) return {};
  struct Record {
    unsigned long long seq;
    std::vector<std::string_view> w;
  };
  std::vector<Record> records;
  std::map<std::string, unsigned long long> restoredAt;  // a DN that existed before its add: keep it
  for (auto& v : *values) {
    auto w = words(v);
    if (w.size() < 3) continue;
    Record r{std::strtoull(std::string(w[0]).c_str(), nullptr, 10), w};
    if (w[1] == "restore") {
      auto& at = restoredAt[ldap::normalizeDn(unesc(w[2]))];
      at = std::max(at, r.seq);
    }
    records.push_back(std::move(r));
  }
  std::sort(records.begin(), records.end(), [](const Record& a, const Record& b) { return a.seq > b.seq; });
  recovering_ = true;
  int failed = 0;
  for (auto& r : records) {
    int rc = LDAP_SUCCESS;
    if (r.w[1] == "add") {
      std::string dn = unesc(r.w[2]);
      auto it = restoredAt.find(ldap::normalizeDn(dn));
      if (it != restoredAt.end() && it->second > r.seq) continue;  // it was there before: restored instead
      // What was added, with whatever was made below it (containers, its SCP).
      auto below = search(dn, LDAP_SCOPE_SUBTREE, "(objectClass=*)", {"1.1"}, true);
      if (below) {
        std::sort(below->begin(), below->end(), [](const Entry& a, const Entry& b) {
          return std::count(a.dn.begin(), a.dn.end(), ',') > std::count(b.dn.begin(), b.dn.end(), ',');
        });
        for (auto& e : *below)
          if (int d = deleteEntry(e.dn); d != LDAP_SUCCESS && d != LDAP_NO_SUCH_OBJECT) rc = d;
      }
    } else if (r.w[1] == "restore") {
      rc = replaceAttrs(entryFromWords(r.w, 2));
    } else if (r.w[1] == "readd") {
      rc = addEntry(entryFromWords(r.w, 2));
      if (rc == LDAP_ALREADY_EXISTS) rc = LDAP_SUCCESS;
    } else if (r.w[1] == "rename" && r.w.size() >= 5) {
      std::string to = unesc(r.w[2]), rdn = unesc(r.w[3]), parent = r.w[4] == "-" ? "" : unesc(r.w[4]);
      rc = withRetry([&] {
        return ldap_rename_s(ld_, to.c_str(), rdn.c_str(), parent.empty() ? nullptr : parent.c_str(), 1, nullptr, nullptr);
      });
    }
    if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT) {
      ++failed;
      std::cerr << "E-LDAP-UNDO could not undo \"" << std::string(r.w[1]) << " " << unesc(r.w[2])
                << "\" of an unfinished change: " << ldap_err2string(rc) << '\n';
    }
  }
  recovering_ = false;
  knownContainers_.clear();
  Entry clear{layout_.exchange(), {{"autodiscUndo", {}}}};
  Mods m(clear, LDAP_MOD_REPLACE, false, false);
  int rc = withRetry([&] { return ldap_modify_ext_s(ld_, clear.dn.c_str(), m.get(), nullptr, nullptr); });
  if (rc != LDAP_SUCCESS) return std::unexpected(ldapError("clearing the undo journal", rc));
  std::cerr << "W-LDAP-RECOVERED undid the " << records.size() << " writes of a change that " << whose
            << " left unfinished" << (failed ? " (" + std::to_string(failed) + " could not be undone)" : std::string()) << '\n';
  return {};
}

Result<void> LdapStore::logChange(std::uint64_t version, const std::set<std::string>& dns) {
  auto have = entryAt(layout_.exchange(), {"autodiscChangeLogFrom", "autodiscChangeLog"});
  if (!have) return std::unexpected(have.error());
  std::vector<std::string> values;
  for (auto& dn : dns) values.push_back(std::to_string(version) + " " + dn);
  if (!values.empty()) {
    Entry add{layout_.exchange(), {{"autodiscChangeLog", values}}};
    Mods m(add, LDAP_MOD_ADD, true, false);
    int rc = withRetry([&] { return ldap_modify_ext_s(ld_, add.dn.c_str(), m.get(), nullptr, nullptr); });
    if (rc != LDAP_SUCCESS && rc != LDAP_TYPE_OR_VALUE_EXISTS) return std::unexpected(ldapError("logging the change", rc));
  }
  // Where the log starts (the first logged change's predecessor), and only the last kLogVersions kept.
  std::uint64_t from = *have ? std::strtoull(std::string((*have)->first("autodiscChangeLogFrom")).c_str(), nullptr, 10) : 0;
  bool started = *have && !(*have)->first("autodiscChangeLogFrom").empty();
  std::vector<std::string> old;
  if (*have)
    if (auto* all = (*have)->get("autodiscChangeLog"))
      for (auto& v : *all)
        if (std::strtoull(v.c_str(), nullptr, 10) + kLogVersions <= version) old.push_back(v);
  if (!old.empty()) {
    Entry del{layout_.exchange(), {{"autodiscChangeLog", old}}};
    Mods m(del, LDAP_MOD_DELETE, true, false);
    int rc = withRetry([&] { return ldap_modify_ext_s(ld_, del.dn.c_str(), m.get(), nullptr, nullptr); });
    if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_ATTRIBUTE) return std::unexpected(ldapError("trimming the change log", rc));
    from = std::max(from, version - kLogVersions);
  } else if (!started) {
    from = version - 1;
  } else {
    return {};
  }
  Entry mark{layout_.exchange(), {{"autodiscChangeLogFrom", {std::to_string(from)}}}};
  int rc = replaceAttrs(mark);
  if (rc != LDAP_SUCCESS) return std::unexpected(ldapError("logging the change", rc));
  return {};
}

Result<std::optional<ChangeSet>> LdapStore::changesSince(std::uint64_t from) {
  if (isAd_ || refsByDn_.empty()) return std::optional<ChangeSet>();
  auto have = entryAt(layout_.exchange(), {"autodiscVersion", "autodiscChangeLogFrom", "autodiscChangeLog"});
  if (!have) return std::unexpected(have.error());
  if (!*have) return std::optional<ChangeSet>();
  ChangeSet out;
  out.version = std::strtoull(std::string((*have)->first("autodiscVersion")).c_str(), nullptr, 10);
  if (out.version == from) return std::optional<ChangeSet>(std::move(out));
  auto logFrom = (*have)->first("autodiscChangeLogFrom");
  if (out.version < from || logFrom.empty() || std::strtoull(std::string(logFrom).c_str(), nullptr, 10) > from)
    return std::optional<ChangeSet>();
  std::set<std::string> dns;
  if (auto* all = (*have)->get("autodiscChangeLog"))
    for (auto& v : *all) {
      char* end = nullptr;
      std::uint64_t version = std::strtoull(v.c_str(), &end, 10);
      if (version <= from || version > out.version) continue;
      std::string dn = end && *end == ' ' ? std::string(end + 1) : std::string();
      if (dn.empty() || dn == "*") return std::optional<ChangeSet>();
      dns.insert(dn);
    }
  // Each listed entry as it is now: changed, new (it gets the next id of its kind), or gone.
  std::vector<Entry> entries;
  std::vector<std::pair<std::string, ObjectRef>> removed;
  for (auto& dn : dns) {
    auto norm = ldap::normalizeDn(dn);
    auto e = entryAt(dn, ldap::Layout::attributesRead());
    if (!e) return std::unexpected(e.error());
    if (*e) {
      entries.push_back(std::move(**e));
    } else if (auto it = refsByDn_.find(norm); it != refsByDn_.end()) {
      if (std::none_of(removed.begin(), removed.end(), [&](auto& r) { return r.second == it->second; }))
        removed.emplace_back(norm, it->second);
    }  // else a container or an SCP that went: nothing of the model
  }
  Id next[kKindCount];
  std::copy(std::begin(nextIds_), std::end(nextIds_), next);
  std::vector<std::pair<std::string, ObjectRef>> added;
  auto built = layout_.build(entries, [&](Kind k, const std::string& normalizedDn, bool assigning) -> Id {
    if (auto it = refsByDn_.find(normalizedDn); it != refsByDn_.end()) return it->second.kind == k ? it->second.id : 0;
    if (!assigning) return 0;
    Id id = next[static_cast<int>(k)]++;
    added.emplace_back(normalizedDn, ObjectRef{k, id});
    return id;
  });
  if (!built.skipped.empty()) return std::optional<ChangeSet>();
  // What others point at by id (sites, servers, databases) is not renamed here: a removed one with a
  // new one of its kind beside it may be a rename, whose dependants keep the old id; read it whole.
  for (auto& [dn, ref] : removed)
    if (ref.kind == Kind::AdSite || ref.kind == Kind::ExchangeServer || ref.kind == Kind::MailboxDatabase)
      for (auto& [newDn, newRef] : added)
        if (newRef.kind == ref.kind) return std::optional<ChangeSet>();
  for (auto& [dn, ref] : removed) out.changes.push_back({ref, std::nullopt});
  for (auto& [ref, dn] : built.dns) {
    auto norm = ldap::normalizeDn(dn);
    auto known = refsByDn_.find(norm);
    bool isNew = std::any_of(added.begin(), added.end(), [&](auto& a) { return a.second == ref; });
    if (!isNew && (known == refsByDn_.end() || !(known->second == ref))) return std::optional<ChangeSet>();
    auto now = built.org.object(ref);
    if (!now) return std::optional<ChangeSet>();
    out.changes.push_back({ref, std::move(now)});
  }
  // The change set is whole: this handle now knows the new entries and forgets the removed ones.
  for (auto& [dn, ref] : removed) refsByDn_.erase(dn);
  for (auto& [dn, ref] : added) refsByDn_[dn] = ref;
  std::copy(std::begin(next), std::end(next), nextIds_);
  return std::optional<ChangeSet>(std::move(out));
}

Result<std::uint64_t> LdapStore::apply(const Organization& org, const std::vector<ObjectRef>& changed,
                                       std::uint64_t baseVersion) {
  auto token = lock();
  if (!token) {
    auto e = token.error();
    e.message += ". Nothing was changed.";
    return std::unexpected(e);
  }
  std::vector<Op> undo;
  journaled_ = false;
  journalSeq_ = 0;
  journaledAdds_.clear();
  auto abort = [&](Error e) -> Result<std::uint64_t> {
    undoAll(undo);
    if (journaled_) {  // undone here: the journal is not needed any more
      Entry clear{layout_.exchange(), {{"autodiscUndo", {}}}};
      Mods m(clear, LDAP_MOD_REPLACE, false, false);
      withRetry([&] { return ldap_modify_ext_s(ld_, clear.dn.c_str(), m.get(), nullptr, nullptr); });
    }
    unlock(*token);
    e.message += ". Nothing was changed.";
    return std::unexpected(std::move(e));
  };
  auto v = version();
  if (!v) return abort(v.error());
  if (*v != baseVersion)
    return abort(Error{"store " + uri_ + ": another session changed the directory while this command ran; run it again"});
  auto stored = storedVersion();
  if (!stored) return abort(stored.error());

  auto dns = dns_;  // committed to dns_ only when the whole change is
  // Deletions first, children before parents; then the rest, parents before children.
  std::vector<ObjectRef> gone, present;
  for (auto ref : changed) (layout_.entriesOf(org, ref).empty() ? gone : present).push_back(ref);
  std::stable_sort(gone.begin(), gone.end(), [](ObjectRef a, ObjectRef b) { return kindRank(a.kind) > kindRank(b.kind); });
  std::stable_sort(present.begin(), present.end(), [](ObjectRef a, ObjectRef b) { return kindRank(a.kind) < kindRank(b.kind); });
  // What this version changes, for readers that apply changes (changesSince): every entry written or
  // removed; "*" when there are too many to list, or a whole subtree moves.
  std::set<std::string> logged;
  if (changed.size() > kLoggedAtMost) logged.insert("*");
  for (auto ref : gone) {
    auto it = dns.find(ref);
    if (it == dns.end()) continue;  // never written
    if (auto r = deleteSubtree(it->second, undo); !r) return abort(r.error());
    if (logged.size() <= kLoggedAtMost) logged.insert(it->second);
    dns.erase(it);
  }
  // The entries of new objects, journaled together before any is written (a bulk import is one
  // journal write for every 500 entries, not one for each).
  {
    std::vector<std::string> adds;
    for (auto ref : present) {
      if (dns.count(ref)) continue;
      for (auto& e : layout_.entriesOf(org, ref)) {
        if (e.attrs.empty()) continue;
        adds.push_back("add " + esc(e.dn));
        journaledAdds_.insert(ldap::normalizeDn(e.dn));
      }
    }
    if (auto r = journal(adds); !r) return abort(r.error());
  }
  for (auto ref : present) {
    auto entries = layout_.entriesOf(org, ref);
    auto it = dns.find(ref);
    std::string current = it == dns.end() ? std::string() : it->second;
    if (ref.kind == Kind::OrganizationConfig && !current.empty() &&
        ldap::normalizeDn(current) != ldap::normalizeDn(entries.front().dn)) {
      // A new organisation name moves everything below it: the DNs read before move with it.
      std::string oldSuffix = ldap::normalizeDn(current);
      logged.insert("*");
      if (auto r = writeEntry(entries.front(), current, undo); !r) return abort(r.error());
      for (auto& [k, dn] : dns) {
        auto n = ldap::normalizeDn(dn);
        if (n.size() > oldSuffix.size() && n.ends_with("," + oldSuffix))
          dn = dn.substr(0, dn.size() - current.size()) + entries.front().dn;
      }
      dns[ref] = entries.front().dn;
      continue;
    }
    if (auto r = writeEntry(entries.front(), current, undo); !r) return abort(r.error());
    if (logged.size() <= kLoggedAtMost) {
      for (auto& e : entries) logged.insert(e.dn);
      if (!current.empty()) logged.insert(current);
    }
    dns[ref] = entries.front().dn;
    // Entries that come with the object (a server's SCP): written, or removed when empty.
    for (std::size_t i = 1; i < entries.size(); ++i) {
      const Entry& extra = entries[i];
      if (extra.attrs.empty()) {
        auto there = entryAt(extra.dn, {"objectClass"});
        if (!there) return abort(there.error());
        if (*there) {
          // With neither URL nor scope, the SCP and its Autodiscover container go (spec 7.2).
          if (auto r = deleteSubtree(ldap::parentDn(extra.dn), undo); !r) return abort(r.error());
        }
        continue;
      }
      if (auto r = writeEntry(extra, {}, undo); !r) return abort(r.error());
    }
  }
  if (logged.size() > kLoggedAtMost) logged = {"*"};
  if (auto r = logChange(*stored + 1, logged); !r) return abort(r.error());
  // The version moves last, in one modify with the journal's end and the lock's release: a server that
  // reloads on it sees the whole change, and a crash before it leaves the journal to undo it by.
  Entry bump{layout_.exchange(), {{"autodiscVersion", {std::to_string(*stored + 1)}}, {"autodiscUndo", {}}}};
  if (!journaled_) bump.attrs.pop_back();
  Entry release{layout_.exchange(), {{"autodiscLock", {*token}}}};
  Mods put(bump, LDAP_MOD_REPLACE, false, false);
  Mods del(release, LDAP_MOD_DELETE, true, false);
  std::vector<LDAPMod*> all;
  for (auto& m : put.mods) all.push_back(&m);
  for (auto& m : del.mods) all.push_back(&m);
  all.push_back(nullptr);
  int rc = withRetry([&] { return ldap_modify_ext_s(ld_, bump.dn.c_str(), all.data(), nullptr, nullptr); });
  if (rc != LDAP_SUCCESS) return abort(ldapError("recording the new version", rc));
  undo.clear();
  dns_ = std::move(dns);
  std::uint64_t now = *stored + 1;
  if (isAd_) {
    // What this change wrote is not someone else's change.
    if (auto usn = highestUsn()) usnSeen_ = std::max(usnSeen_, *usn);
    now = now * 1000000 + external_;
  }
  notify(now);
  return now;
}

}  // namespace autodisc::store
