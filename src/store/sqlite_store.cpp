#include "store/sqlite_store.hpp"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "model/schema.hpp"
#include "model/text.hpp"

namespace autodisc::store {

using namespace autodisc::model;

namespace {

// Migrations, in order. Migration N brings the schema from version N-1 to N.
constexpr const char* kMigrations[] = {
    // 1: the first schema.
    R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES ('version', '0'), ('application', 'autodisc');
CREATE TABLE organization_config(
  id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT NOT NULL, mapi_http_enabled INTEGER NOT NULL,
  guid TEXT NOT NULL);
CREATE TABLE accepted_domain(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, domain_name TEXT NOT NULL, domain_type TEXT NOT NULL,
  is_default INTEGER NOT NULL);
CREATE TABLE ad_site(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE ad_subnet(id INTEGER PRIMARY KEY, name TEXT NOT NULL, site INTEGER NOT NULL);
CREATE TABLE exchange_server(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, fqdn TEXT NOT NULL, site INTEGER NOT NULL,
  server_role TEXT NOT NULL, admin_display_version TEXT NOT NULL,
  autodiscover_service_internal_uri TEXT NOT NULL, autodiscover_site_scope TEXT NOT NULL);
CREATE TABLE virtual_directory(
  id INTEGER PRIMARY KEY, type TEXT NOT NULL, server INTEGER NOT NULL, name TEXT NOT NULL,
  website TEXT NOT NULL, internal_url TEXT NOT NULL, external_url TEXT NOT NULL,
  internal_authentication_methods TEXT NOT NULL, external_authentication_methods TEXT NOT NULL);
CREATE TABLE outlook_anywhere(
  id INTEGER PRIMARY KEY, server INTEGER NOT NULL, internal_hostname TEXT NOT NULL,
  external_hostname TEXT NOT NULL, internal_clients_require_ssl INTEGER NOT NULL,
  external_clients_require_ssl INTEGER NOT NULL, internal_client_authentication_method TEXT NOT NULL,
  external_client_authentication_method TEXT NOT NULL, iis_authentication_methods TEXT NOT NULL);
CREATE TABLE client_access_array(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, fqdn TEXT NOT NULL, site INTEGER NOT NULL);
CREATE TABLE mailbox_database(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, server INTEGER NOT NULL,
  rpc_client_access_server TEXT NOT NULL, guid TEXT NOT NULL);
CREATE TABLE recipient(
  id INTEGER PRIMARY KEY, type TEXT NOT NULL, name TEXT NOT NULL, alias TEXT NOT NULL,
  display_name TEXT NOT NULL, legacy_exchange_dn TEXT NOT NULL, external_email_address TEXT NOT NULL,
  password_hash TEXT NOT NULL, email_addresses TEXT NOT NULL, database INTEGER NOT NULL,
  exchange_guid TEXT NOT NULL);
CREATE TABLE outlook_provider(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, cert_principal_name TEXT NOT NULL, ttl INTEGER NOT NULL,
  server TEXT NOT NULL);
)sql",
    // 2: the default offline address book's GUID (OABUrl ends with it); existing stores get a new one.
    R"sql(
ALTER TABLE organization_config ADD COLUMN oab_guid TEXT NOT NULL DEFAULT '';
UPDATE organization_config SET oab_guid = (SELECT lower(substr(h,1,8)||'-'||substr(h,9,4)||'-4'||substr(h,14,3)||'-'||
  substr('89ab', 1 + (abs(random()) % 4), 1)||substr(h,18,3)||'-'||substr(h,21,12)) FROM (SELECT hex(randomblob(16)) AS h));
)sql",
    // 3: an accepted domain's Autodiscover redirect target (hosters).
    R"sql(
ALTER TABLE accepted_domain ADD COLUMN autodiscover_redirect_url TEXT NOT NULL DEFAULT '';
)sql",
    // 4: the organisation's certificates (Get-ExchangeCertificate), with their private keys.
    R"sql(
CREATE TABLE exchange_certificate(
  id INTEGER PRIMARY KEY, thumbprint TEXT NOT NULL, friendly_name TEXT NOT NULL, subject TEXT NOT NULL,
  issuer TEXT NOT NULL, certificate_domains TEXT NOT NULL, not_before TEXT NOT NULL, not_after TEXT NOT NULL,
  services TEXT NOT NULL, self_signed INTEGER NOT NULL, certificate_pem TEXT NOT NULL, request_pem TEXT NOT NULL,
  private_key_pem TEXT NOT NULL);
)sql",
    // 5: which objects each version changed, so that a service applies a change without reading the
    // whole store; versions after log_from are in it (a change of more than kLoggedAtMost objects
    // is logged as '*': read everything).
    R"sql(
CREATE TABLE change_log(version INTEGER NOT NULL, kind TEXT NOT NULL, id INTEGER NOT NULL);
CREATE INDEX change_log_by_version ON change_log(version);
INSERT INTO meta(key, value) SELECT 'log_from', value FROM meta WHERE key='version';
)sql",
};
constexpr int kMigrationCount = sizeof(kMigrations) / sizeof(kMigrations[0]);
constexpr std::size_t kLoggedAtMost = 10000;  // a larger change is logged as "read everything"
constexpr std::int64_t kLogVersions = 1000;   // versions the change log keeps
static_assert(kMigrationCount == SqliteStore::kSchemaVersion);

// A prepared statement, finalized on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &st_, nullptr); }
  ~Stmt() { sqlite3_finalize(st_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  int step() { return sqlite3_step(st_); }
  void reset() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
    col_ = 0;
  }
  Stmt& bind(std::int64_t v) {
    sqlite3_bind_int64(st_, ++col_, v);
    return *this;
  }
  Stmt& bind(std::string_view v) {
    // An empty view may have no data pointer, which SQLite would store as NULL.
    sqlite3_bind_text(st_, ++col_, v.data() ? v.data() : "", static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(const std::string& v) { return bind(std::string_view(v)); }
  Stmt& bind(const char* v) { return bind(std::string_view(v)); }
  std::int64_t i(int c) const { return sqlite3_column_int64(st_, c); }
  std::string_view s(int c) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, c));
    return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, c))) : std::string_view{};
  }

 private:
  sqlite3_stmt* st_ = nullptr;
  int rc_ = SQLITE_OK;
  int col_ = 0;
};

std::string joinLines(const std::vector<std::string>& v) { return text::join(v, "\n"); }
std::vector<std::string> splitLines(std::string_view s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  for (auto p : text::split(s, '\n')) out.emplace_back(p);
  return out;
}
std::string authText(const std::vector<AuthMethod>& l) {
  std::vector<std::string> n;
  for (auto m : l) n.emplace_back(authMethodName(m));
  return joinLines(n);
}
std::vector<AuthMethod> authFrom(std::string_view s) {
  std::vector<AuthMethod> out;
  for (auto& n : splitLines(s))
    if (auto m = parseAuthMethod(n)) out.push_back(*m);
  return out;
}
AuthMethod authOne(std::string_view s, AuthMethod dflt) {
  auto m = parseAuthMethod(s);
  return m ? *m : dflt;
}
Guid guidFrom(std::string_view s) {
  auto g = parseGuid(s);
  return g ? *g : Guid{};
}
std::string guidText(const Guid& g) { return g.isNull() ? std::string() : g.str(); }

const char* tableOf(Kind k) {
  switch (k) {
    case Kind::AcceptedDomain: return "accepted_domain";
    case Kind::AdSite: return "ad_site";
    case Kind::AdSubnet: return "ad_subnet";
    case Kind::ExchangeServer: return "exchange_server";
    case Kind::VirtualDirectory: return "virtual_directory";
    case Kind::OutlookAnywhere: return "outlook_anywhere";
    case Kind::ClientAccessArray: return "client_access_array";
    case Kind::MailboxDatabase: return "mailbox_database";
    case Kind::Recipient: return "recipient";
    case Kind::OutlookProvider: return "outlook_provider";
    case Kind::OrganizationConfig: return "organization_config";
    case Kind::ExchangeCertificate: return "exchange_certificate";
  }
  return "";
}

const char* insertSql(Kind k) {
  switch (k) {
    case Kind::AcceptedDomain: return "INSERT OR REPLACE INTO accepted_domain VALUES (?,?,?,?,?,?)";
    case Kind::AdSite: return "INSERT OR REPLACE INTO ad_site VALUES (?,?)";
    case Kind::AdSubnet: return "INSERT OR REPLACE INTO ad_subnet VALUES (?,?,?)";
    case Kind::ExchangeServer: return "INSERT OR REPLACE INTO exchange_server VALUES (?,?,?,?,?,?,?,?)";
    case Kind::VirtualDirectory: return "INSERT OR REPLACE INTO virtual_directory VALUES (?,?,?,?,?,?,?,?,?)";
    case Kind::OutlookAnywhere: return "INSERT OR REPLACE INTO outlook_anywhere VALUES (?,?,?,?,?,?,?,?,?)";
    case Kind::ClientAccessArray: return "INSERT OR REPLACE INTO client_access_array VALUES (?,?,?,?)";
    case Kind::MailboxDatabase: return "INSERT OR REPLACE INTO mailbox_database VALUES (?,?,?,?,?)";
    case Kind::Recipient: return "INSERT OR REPLACE INTO recipient VALUES (?,?,?,?,?,?,?,?,?,?,?)";
    case Kind::OutlookProvider: return "INSERT OR REPLACE INTO outlook_provider VALUES (?,?,?,?,?)";
    case Kind::ExchangeCertificate:
      return "INSERT OR REPLACE INTO exchange_certificate VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)";
    case Kind::OrganizationConfig:
      return "INSERT OR REPLACE INTO organization_config (id, name, mapi_http_enabled, guid, oab_guid) "
             "VALUES (?,?,?,?,?)";
  }
  return "";
}

// Binds the current state of one object; false if it no longer exists.
bool bindObject(Stmt& st, const Organization& org, ObjectRef ref) {
  switch (ref.kind) {
    case Kind::AcceptedDomain: {
      auto* o = org.find<AcceptedDomain>(ref.id);
      if (!o) return false;
      st.bind(o->id).bind(o->name).bind(o->domainName).bind(domainTypeName(o->domainType)).bind(o->isDefault ? 1 : 0)
          .bind(o->autodiscoverRedirectUrl);
      return true;
    }
    case Kind::AdSite: {
      auto* o = org.find<AdSite>(ref.id);
      if (!o) return false;
      st.bind(o->id).bind(o->name);
      return true;
    }
    case Kind::AdSubnet: {
      auto* o = org.find<AdSubnet>(ref.id);
      if (!o) return false;
      st.bind(o->id).bind(o->name()).bind(o->site);
      return true;
    }
    case Kind::ExchangeServer: {
      auto* o = org.find<ExchangeServer>(ref.id);
      if (!o) return false;
      st.bind(o->id).bind(o->name).bind(o->fqdn).bind(o->site).bind(serverRoleText(o->roles)).bind(o->version.str())
          .bind(o->autoDiscoverServiceInternalUri).bind(joinLines(o->autoDiscoverSiteScope));
      return true;
    }
    case Kind::VirtualDirectory: {
      auto* o = org.find<VirtualDirectory>(ref.id);
      if (!o) return false;
      st.bind(o->id).bind(vdirTypeName(o->type)).bind(o->server).bind(o->name).bind(o->website).bind(o->internalUrl)
          .bind(o->externalUrl).bind(authText(o->internalAuthenticationMethods))
          .bind(authText(o->externalAuthenticationMethods));
      return true;
    }
    case Kind::OutlookAnywhere: {
      auto* o = org.find<OutlookAnywhere>(ref.id);
      if (!o) return false;
      st.bind(o->id).bind(o->server).bind(o->internalHostname).bind(o->externalHostname)
          .bind(o->internalClientsRequireSsl ? 1 : 0).bind(o->externalClientsRequireSsl ? 1 : 0)
          .bind(authMethodName(o->internalClientAuthenticationMethod))
          .bind(authMethodName(o->externalClientAuthenticationMethod)).bind(authText(o->iisAuthenticationMethods));
      return true;
    }
    case Kind::ClientAccessArray: {
      auto* o = org.find<ClientAccessArray>(ref.id);
      if (!o) return false;
      st.bind(o->id).bind(o->name).bind(o->fqdn).bind(o->site);
      return true;
    }
    case Kind::MailboxDatabase: {
      auto* o = org.find<MailboxDatabase>(ref.id);
      if (!o) return false;
      st.bind(o->id).bind(o->name).bind(o->server).bind(o->rpcClientAccessServer).bind(guidText(o->guid));
      return true;
    }
    case Kind::Recipient: {
      auto* o = org.find<Recipient>(ref.id);
      if (!o) return false;
      st.bind(o->id).bind(o->type == RecipientType::Mailbox ? "Mailbox" : "MailUser").bind(o->name()).bind(o->alias())
          .bind(o->displayName()).bind(o->legacyExchangeDn()).bind(o->externalEmailAddress()).bind(o->passwordHash())
          .bind(o->field(Recipient::EmailAddresses)).bind(o->database).bind(guidText(o->exchangeGuid));
      return true;
    }
    case Kind::OutlookProvider: {
      auto* o = org.find<OutlookProvider>(ref.id);
      if (!o) return false;
      st.bind(o->id).bind(o->name).bind(o->certPrincipalName).bind(o->ttl).bind(o->server);
      return true;
    }
    case Kind::ExchangeCertificate: {
      auto* o = org.find<ExchangeCertificate>(ref.id);
      if (!o) return false;
      st.bind(o->id).bind(o->thumbprint).bind(o->friendlyName).bind(o->subject).bind(o->issuer)
          .bind(joinLines(o->certificateDomains)).bind(o->notBefore).bind(o->notAfter)
          .bind(certificateServicesText(o->services)).bind(o->selfSigned ? 1 : 0).bind(o->certificatePem)
          .bind(o->requestPem).bind(o->privateKeyPem);
      return true;
    }
    case Kind::OrganizationConfig: {
      auto& c = org.config();
      st.bind(1).bind(c.name).bind(c.mapiHttpEnabled ? 1 : 0).bind(guidText(c.guid)).bind(guidText(c.offlineAddressBookGuid));
      return true;
    }
  }
  return false;
}

bool isReadOnlyFile(const std::string& path) { return access(path.c_str(), F_OK) == 0 && access(path.c_str(), W_OK) != 0; }

}  // namespace

Error SqliteStore::sqlError(std::string_view doing) const {
  int code = sqlite3_extended_errcode(db_);
  std::string what = sqlite3_errmsg(db_);
  std::string base = "store " + describe() + ": " + std::string(doing) + ": ";
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error{base + "the store is locked by another process; try again when it has finished"};
    case SQLITE_READONLY:
      return Error{base + "the store is read-only (check the file's and its folder's permissions)"};
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Error{base + "the file is not an autodisc store or is damaged (" + what + ")"};
    case SQLITE_FULL:
      return Error{base + "the disk is full"};
    case SQLITE_CANTOPEN:
      return Error{base + "cannot open the file (" + what + ")"};
    default:
      return Error{base + what};
  }
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (isReadOnlyFile(path)) flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  std::unique_ptr<SqliteStore> store(new SqliteStore(db, path));
  if (rc != SQLITE_OK) return std::unexpected(store->sqlError("opening"));
  sqlite3_busy_timeout(db, 3000);
  sqlite3_extended_result_codes(db, 1);
  if (auto m = store->migrate(); !m) return std::unexpected(m.error());
  return store;
}

SqliteStore::~SqliteStore() { sqlite3_close_v2(db_); }

Result<void> SqliteStore::migrate() {
  bool readOnly = sqlite3_db_readonly(db_, "main") == 1;
  auto notOurs = [&] {
    return fail("store " + describe() + ": the file is an SQLite database but not an autodisc store. Nothing was changed.");
  };
  // Look before changing anything: a file that is refused must stay exactly as it was.
  int current = 0;
  {
    Stmt uv(db_, "PRAGMA user_version");
    if (!uv.ok() || uv.step() != SQLITE_ROW) return std::unexpected(sqlError("reading the schema version"));
    current = static_cast<int>(uv.i(0));
  }
  if (current < 0) return notOurs();
  if (current > kSchemaVersion)
    return fail("store " + describe() + " has schema version " + std::to_string(current) +
                ", newer than this autodisc understands (" + std::to_string(kSchemaVersion) +
                "); use a newer autodisc. Nothing was changed.");
  bool ours = true;
  if (current == 0) {
    Stmt tables(db_, "SELECT count(*) FROM sqlite_master");
    if (!tables.ok() || tables.step() != SQLITE_ROW) return std::unexpected(sqlError("reading the schema"));
    ours = tables.i(0) == 0;
  } else {
    Stmt app(db_, "SELECT value FROM meta WHERE key='application'");
    ours = app.ok() && app.step() == SQLITE_ROW && app.s(0) == "autodisc";
  }
  if (!ours) return notOurs();
  if (!readOnly) {
    // WAL lets readers in other processes see the last committed version while a writer works.
    if (sqlite3_exec(db_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", nullptr, nullptr, nullptr) != SQLITE_OK)
      return std::unexpected(sqlError("opening"));
  }
  if (current == kSchemaVersion) return {};
  if (readOnly) return fail("store " + describe() + " needs a schema upgrade but is read-only. Nothing was changed.");
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
    return std::unexpected(sqlError("upgrading the schema"));
  for (int v = current; v < kSchemaVersion; ++v) {
    if (sqlite3_exec(db_, kMigrations[v], nullptr, nullptr, nullptr) != SQLITE_OK) {
      auto e = sqlError("upgrading the schema to version " + std::to_string(v + 1));
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return std::unexpected(e);
    }
  }
  std::string setVersion = "PRAGMA user_version=" + std::to_string(kSchemaVersion);
  if (sqlite3_exec(db_, setVersion.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK ||
      sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    auto e = sqlError("upgrading the schema");
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return std::unexpected(e);
  }
  return {};
}

Result<std::uint64_t> SqliteStore::version() {
  Stmt st(db_, "SELECT value FROM meta WHERE key='version'");
  if (!st.ok()) return std::unexpected(sqlError("reading the version"));
  int rc = st.step();
  if (rc != SQLITE_ROW) {
    if (rc == SQLITE_DONE) return fail("store " + describe() + ": the store is damaged (its version is missing)");
    return std::unexpected(sqlError("reading the version"));
  }
  std::uint64_t v = 0;
  auto text = st.s(0);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    return fail("store " + describe() + ": the store is damaged (its version is '" + std::string(text) + "')");
  return v;
}

namespace {

// Every object of the store, or (with `filter`) those of the ids it lists for each kind, handed to
// put() as it is read. reserve() hears the number of recipients before they come (a whole read).
using Filter = std::map<Kind, std::vector<Id>>;
template <class Put, class Reserve, class OnError>
Result<void> readObjects(sqlite3* db, const Filter* filter, Put&& put, Reserve&& reserve, OnError&& onError) {
  auto wanted = [&](Kind k) { return !filter || filter->count(k); };
  auto where = [&](Kind k) {
    if (!filter) return std::string();
    std::string ids;
    for (Id id : filter->at(k)) ids += (ids.empty() ? "" : ",") + std::to_string(id);
    return " WHERE id IN (" + ids + ")";
  };
  if (wanted(Kind::OrganizationConfig)) {
    Stmt st(db, "SELECT name, mapi_http_enabled, guid, oab_guid FROM organization_config WHERE id=1");
    if (!st.ok()) return std::unexpected(onError());
    if (st.step() == SQLITE_ROW) {
      OrganizationConfig c;
      c.name = st.s(0);
      c.mapiHttpEnabled = st.i(1) != 0;
      c.guid = guidFrom(st.s(2));
      c.offlineAddressBookGuid = guidFrom(st.s(3));
      put(c);
    }
  }
  if (wanted(Kind::AcceptedDomain)) {
    Stmt st(db, (std::string("SELECT id, name, domain_name, domain_type, is_default, autodiscover_redirect_url FROM accepted_domain") + where(Kind::AcceptedDomain)).c_str());
    if (!st.ok()) return std::unexpected(onError());
    while (st.step() == SQLITE_ROW) {
      AcceptedDomain d;
      d.id = static_cast<Id>(st.i(0));
      d.name = st.s(1);
      d.domainName = st.s(2);
      for (int t = 0; t < 3; ++t)
        if (domainTypeName(static_cast<DomainType>(t)) == st.s(3)) d.domainType = static_cast<DomainType>(t);
      d.isDefault = st.i(4) != 0;
      d.autodiscoverRedirectUrl = st.s(5);
      put(d);
    }
  }
  if (wanted(Kind::AdSite)) {
    Stmt st(db, (std::string("SELECT id, name FROM ad_site") + where(Kind::AdSite)).c_str());
    if (!st.ok()) return std::unexpected(onError());
    while (st.step() == SQLITE_ROW) put(AdSite{static_cast<Id>(st.i(0)), std::string(st.s(1))});
  }
  if (wanted(Kind::AdSubnet)) {
    Stmt st(db, (std::string("SELECT id, name, site FROM ad_subnet") + where(Kind::AdSubnet)).c_str());
    if (!st.ok()) return std::unexpected(onError());
    while (st.step() == SQLITE_ROW) {
      AdSubnet s;
      s.id = static_cast<Id>(st.i(0));
      if (auto c = parseCidr(st.s(1))) s.range = *c;
      s.site = static_cast<Id>(st.i(2));
      put(s);
    }
  }
  if (wanted(Kind::ExchangeServer)) {
    Stmt st(db, (std::string("SELECT id, name, fqdn, site, server_role, admin_display_version, autodiscover_service_internal_uri, "
            "autodiscover_site_scope FROM exchange_server") + where(Kind::ExchangeServer)).c_str());
    if (!st.ok()) return std::unexpected(onError());
    while (st.step() == SQLITE_ROW) {
      ExchangeServer s;
      s.id = static_cast<Id>(st.i(0));
      s.name = st.s(1);
      s.fqdn = st.s(2);
      s.site = static_cast<Id>(st.i(3));
      if (auto r = parseServerRoles({std::string(st.s(4))})) s.roles = *r;
      if (auto ver = parseServerVersion(st.s(5))) s.version = *ver;
      s.autoDiscoverServiceInternalUri = st.s(6);
      s.autoDiscoverSiteScope = splitLines(st.s(7));
      put(s);
    }
  }
  if (wanted(Kind::VirtualDirectory)) {
    Stmt st(db, (std::string("SELECT id, type, server, name, website, internal_url, external_url, internal_authentication_methods, "
            "external_authentication_methods FROM virtual_directory") + where(Kind::VirtualDirectory)).c_str());
    if (!st.ok()) return std::unexpected(onError());
    while (st.step() == SQLITE_ROW) {
      VirtualDirectory d;
      d.id = static_cast<Id>(st.i(0));
      if (auto t = parseVdirType(st.s(1))) d.type = *t;
      d.server = static_cast<Id>(st.i(2));
      d.name = st.s(3);
      d.website = st.s(4);
      d.internalUrl = st.s(5);
      d.externalUrl = st.s(6);
      d.internalAuthenticationMethods = authFrom(st.s(7));
      d.externalAuthenticationMethods = authFrom(st.s(8));
      put(d);
    }
  }
  if (wanted(Kind::OutlookAnywhere)) {
    Stmt st(db, (std::string("SELECT id, server, internal_hostname, external_hostname, internal_clients_require_ssl, "
            "external_clients_require_ssl, internal_client_authentication_method, "
            "external_client_authentication_method, iis_authentication_methods FROM outlook_anywhere") + where(Kind::OutlookAnywhere)).c_str());
    if (!st.ok()) return std::unexpected(onError());
    while (st.step() == SQLITE_ROW) {
      OutlookAnywhere o;
      o.id = static_cast<Id>(st.i(0));
      o.server = static_cast<Id>(st.i(1));
      o.internalHostname = st.s(2);
      o.externalHostname = st.s(3);
      o.internalClientsRequireSsl = st.i(4) != 0;
      o.externalClientsRequireSsl = st.i(5) != 0;
      o.internalClientAuthenticationMethod = authOne(st.s(6), AuthMethod::Ntlm);
      o.externalClientAuthenticationMethod = authOne(st.s(7), AuthMethod::Negotiate);
      o.iisAuthenticationMethods = authFrom(st.s(8));
      put(o);
    }
  }
  if (wanted(Kind::ClientAccessArray)) {
    Stmt st(db, (std::string("SELECT id, name, fqdn, site FROM client_access_array") + where(Kind::ClientAccessArray)).c_str());
    if (!st.ok()) return std::unexpected(onError());
    while (st.step() == SQLITE_ROW)
      put(ClientAccessArray{static_cast<Id>(st.i(0)), std::string(st.s(1)), std::string(st.s(2)),
                                 static_cast<Id>(st.i(3))});
  }
  if (wanted(Kind::MailboxDatabase)) {
    Stmt st(db, (std::string("SELECT id, name, server, rpc_client_access_server, guid FROM mailbox_database") + where(Kind::MailboxDatabase)).c_str());
    if (!st.ok()) return std::unexpected(onError());
    while (st.step() == SQLITE_ROW) {
      MailboxDatabase d;
      d.id = static_cast<Id>(st.i(0));
      d.name = st.s(1);
      d.server = static_cast<Id>(st.i(2));
      d.rpcClientAccessServer = st.s(3);
      d.guid = guidFrom(st.s(4));
      put(d);
    }
  }
  if (wanted(Kind::ExchangeCertificate)) {
    Stmt st(db, (std::string("SELECT id, thumbprint, friendly_name, subject, issuer, certificate_domains, not_before, not_after, "
            "services, self_signed, certificate_pem, request_pem, private_key_pem FROM exchange_certificate") + where(Kind::ExchangeCertificate)).c_str());
    if (!st.ok()) return std::unexpected(onError());
    while (st.step() == SQLITE_ROW) {
      ExchangeCertificate c;
      c.id = static_cast<Id>(st.i(0));
      c.thumbprint = st.s(1);
      c.friendlyName = st.s(2);
      c.subject = st.s(3);
      c.issuer = st.s(4);
      c.certificateDomains = splitLines(st.s(5));
      c.notBefore = st.s(6);
      c.notAfter = st.s(7);
      if (auto sv = parseCertificateServices({std::string(st.s(8))})) c.services = *sv;
      c.selfSigned = st.i(9) != 0;
      c.certificatePem = st.s(10);
      c.requestPem = st.s(11);
      c.privateKeyPem = st.s(12);
      put(std::move(c));
    }
  }
  if (wanted(Kind::Recipient)) {
    Stmt count(db, "SELECT count(*) FROM recipient");
    if (count.ok() && count.step() == SQLITE_ROW) reserve(static_cast<std::size_t>(count.i(0)));
    Stmt st(db, (std::string("SELECT id, type, name, alias, display_name, legacy_exchange_dn, external_email_address, password_hash, "
            "email_addresses, database, exchange_guid FROM recipient") + where(Kind::Recipient)).c_str());
    if (!st.ok()) return std::unexpected(onError());
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) {
      Recipient r;
      r.id = static_cast<Id>(st.i(0));
      r.type = st.s(1) == "Mailbox" ? RecipientType::Mailbox : RecipientType::MailUser;
      const std::string_view fields[Recipient::kFieldCount] = {st.s(2), st.s(3), st.s(4), st.s(5),
                                                               st.s(6), st.s(7), st.s(8)};
      r.setFields(fields);
      r.database = static_cast<Id>(st.i(9));
      r.exchangeGuid = guidFrom(st.s(10));
      put(std::move(r));
    }
    if (rc != SQLITE_DONE) return std::unexpected(onError());
  }
  if (wanted(Kind::OutlookProvider)) {
    Stmt st(db, (std::string("SELECT id, name, cert_principal_name, ttl, server FROM outlook_provider") + where(Kind::OutlookProvider)).c_str());
    if (!st.ok()) return std::unexpected(onError());
    while (st.step() == SQLITE_ROW) {
      OutlookProvider p;
      p.id = static_cast<Id>(st.i(0));
      p.name = st.s(1);
      p.certPrincipalName = st.s(2);
      p.ttl = static_cast<int>(st.i(3));
      p.server = st.s(4);
      put(p);
    }
  }
  return {};
}

}  // namespace

Result<Store::Loaded> SqliteStore::read() {
  if (sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK)
    return std::unexpected(sqlError("loading"));
  struct EndRead {
    sqlite3* db;
    ~EndRead() { sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr); }
  } endRead{db_};

  auto org = std::make_shared<Organization>();
  auto v = version();
  if (!v) return std::unexpected(v.error());
  auto reserve = [&](std::size_t n) { org->reserveRecipients(n); };
  if (auto r = readObjects(db_, nullptr, [&](auto&& o) { org->put(std::forward<decltype(o)>(o)); }, reserve,
                           [&] { return sqlError("loading"); });
      !r)
    return std::unexpected(r.error());
  return Loaded{std::move(org), *v};
}

Result<std::optional<ChangeSet>> SqliteStore::changesSince(std::uint64_t from) {
  if (sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) return std::unexpected(sqlError("reading changes"));
  struct EndRead {
    sqlite3* db;
    ~EndRead() { sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr); }
  } endRead{db_};
  auto v = version();
  if (!v) return std::unexpected(v.error());
  ChangeSet out;
  out.version = *v;
  if (*v == from) return std::optional<ChangeSet>(std::move(out));
  if (*v < from) return std::optional<ChangeSet>();  // another store, or one put back: read it whole
  Stmt logFrom(db_, "SELECT CAST(value AS INTEGER) FROM meta WHERE key='log_from'");
  if (!logFrom.ok() || logFrom.step() != SQLITE_ROW || static_cast<std::uint64_t>(logFrom.i(0)) > from)
    return std::optional<ChangeSet>();
  Stmt log(db_, "SELECT DISTINCT kind, id FROM change_log WHERE version > ? AND version <= ?");
  log.bind(static_cast<std::int64_t>(from)).bind(static_cast<std::int64_t>(*v));
  if (!log.ok()) return std::unexpected(sqlError("reading changes"));
  Filter filter;
  std::vector<ObjectRef> refs;
  while (log.step() == SQLITE_ROW) {
    std::string_view table = log.s(0);
    if (table == "*") return std::optional<ChangeSet>();
    bool known = false;
    for (int k = 0; k < kKindCount; ++k)
      if (table == tableOf(static_cast<Kind>(k))) {
        refs.push_back({static_cast<Kind>(k), static_cast<Id>(log.i(1))});
        filter[static_cast<Kind>(k)].push_back(refs.back().id);
        known = true;
      }
    if (!known) return std::optional<ChangeSet>();
  }
  std::map<ObjectRef, AnyObject> now;
  auto put = [&](auto&& o) {
    using T = std::decay_t<decltype(o)>;
    Id id = 0;
    if constexpr (!std::is_same_v<T, OrganizationConfig>) id = o.id;
    now.emplace(ObjectRef{kindOf<T>(), id}, AnyObject{std::forward<decltype(o)>(o)});
  };
  if (auto r = readObjects(db_, &filter, put, [](std::size_t) {}, [&] { return sqlError("reading changes"); }); !r)
    return std::unexpected(r.error());
  for (auto ref : refs) {
    auto it = now.find(ref);
    out.changes.push_back({ref, it == now.end() ? std::nullopt : std::optional<AnyObject>(std::move(it->second))});
  }
  return std::optional<ChangeSet>(std::move(out));
}

Result<std::uint64_t> SqliteStore::apply(const Organization& org, const std::vector<ObjectRef>& changed,
                                         std::uint64_t baseVersion) {
  if (sqlite3_db_readonly(db_, "main") == 1)
    return fail("store " + describe() + ": the store is read-only (check the file's permissions). Nothing was changed.");
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
    return std::unexpected(sqlError("saving"));
  auto abort = [&](Error e) -> Result<std::uint64_t> {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    e.message += ". Nothing was changed.";
    return std::unexpected(std::move(e));
  };
  auto v = version();
  if (!v) return abort(v.error());
  if (*v != baseVersion)
    return abort(Error{"store " + describe() + ": another session changed the store while this command ran; run it again"});

  Stmt* insert[kKindCount] = {};
  std::vector<std::unique_ptr<Stmt>> owned;
  for (auto ref : changed) {
    int k = static_cast<int>(ref.kind);
    if (!insert[k]) {
      owned.push_back(std::make_unique<Stmt>(db_, insertSql(ref.kind)));
      insert[k] = owned.back().get();
      if (!insert[k]->ok()) return abort(sqlError("saving"));
    }
    Stmt& st = *insert[k];
    st.reset();
    if (bindObject(st, org, ref)) {
      if (st.step() != SQLITE_DONE) return abort(sqlError("saving"));
    } else {
      std::string sql = std::string("DELETE FROM ") + tableOf(ref.kind) + " WHERE id=?";
      Stmt del(db_, sql.c_str());
      del.bind(ref.id);
      if (!del.ok() || del.step() != SQLITE_DONE) return abort(sqlError("saving"));
    }
  }
  Stmt bump(db_, "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='version'");
  if (!bump.ok() || bump.step() != SQLITE_DONE) return abort(sqlError("saving"));
  // The change log: what this version changed, and only the last kLogVersions versions kept.
  {
    std::int64_t next = static_cast<std::int64_t>(*v + 1);
    Stmt log(db_, "INSERT INTO change_log(version, kind, id) VALUES (?,?,?)");
    if (!log.ok()) return abort(sqlError("saving"));
    auto add = [&](const char* kind, std::int64_t id) {
      log.reset();
      log.bind(next).bind(kind).bind(id);
      return log.step() == SQLITE_DONE;
    };
    bool ok = true;
    if (changed.size() > kLoggedAtMost) ok = add("*", 0);
    else
      for (auto ref : changed) ok = ok && add(tableOf(ref.kind), ref.id);
    if (!ok) return abort(sqlError("saving"));
    Stmt trim(db_, "DELETE FROM change_log WHERE version <= ?");
    trim.bind(next - kLogVersions);
    Stmt from(db_, "UPDATE meta SET value = CAST(max(CAST(value AS INTEGER), ?) AS TEXT) WHERE key='log_from'");
    from.bind(next - kLogVersions);
    if (!trim.ok() || trim.step() != SQLITE_DONE || !from.ok() || from.step() != SQLITE_DONE)
      return abort(sqlError("saving"));
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return abort(sqlError("saving"));
  notify(*v + 1);
  return *v + 1;
}

}  // namespace autodisc::store
