#pragma once
// The organisation in an LDAP directory (OpenLDAP with autodisc's schema, or Active Directory
// extended with it), laid out as Exchange lays it out (ldap_layout.hpp, docs/directory.md).
//
// URI: ldap://HOST[:PORT]/BASE-DN or ldaps://...; "ldap://HOST/BASE????starttls" asks for StartTLS.
// The bind DN and password come from AUTODISC_LDAP_BIND_DN and AUTODISC_LDAP_PASSWORD (or
// AUTODISC_LDAP_PASSWORD_FILE, a file whose first line is the password); none means an anonymous bind.
//
// LDAP has no transaction over several entries. A change is made under a lock (a single-valued
// attribute on the Exchange container, added only if absent), each entry's previous state is kept,
// and a failure puts back what was written, in reverse order, before the lock is released. The
// version on the same container moves only at the end, so servers that reload on a new version
// see whole changes.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <unordered_map>
#include <set>
#include <string>

#include "store/ldap_layout.hpp"
#include "store/store.hpp"

typedef struct ldap LDAP;

namespace autodisc::store {

class LdapStore : public Store {
 public:
  static Result<std::unique_ptr<LdapStore>> open(std::string_view uri);
  // Only a connection, for publishing SCPs into a directory that does not hold the organisation
  // (an Active Directory without autodisc's schema): no containers are made, nothing is read.
  static Result<std::unique_ptr<LdapStore>> connectOnly(std::string_view uri);

  // Makes the directory's Autodiscover SCPs those of `org`'s Client Access Servers (spec 7.1): each
  // written or updated where Exchange puts it, and the SCPs under the organisation's configuration
  // that no longer belong to a server removed. Idempotent.
  struct Published {
    int written = 0, removed = 0;
    std::vector<std::string> urls;
  };
  Result<Published> publishScps(const model::Organization& org);
  ~LdapStore() override;

  Result<Loaded> read() override;
  Result<std::uint64_t> version() override;
  Result<std::uint64_t> apply(const model::Organization& org, const std::vector<model::ObjectRef>& changed,
                              std::uint64_t baseVersion) override;
  std::string describe() const override { return uri_; }
  // From autodiscChangeLog: the entries changed after `from`, read and turned into objects with the
  // ids this handle's last read gave them. Nothing (read it whole) on Active Directory (whose other
  // tools write no log), for a new or removed entry, or for a version older than the log.
  Result<std::optional<ChangeSet>> changesSince(std::uint64_t from) override;
  // RFC 4533 content synchronisation (refreshAndPersist) on the Exchange container, where the store's
  // version changes last in every change: `kick` is called as soon as the directory says so. On its
  // own connection and thread; reconnects after a failure; gives up (polling remains) on a directory
  // that does not offer it.
  bool watchChanges(std::function<void()> kick) override;

  // A lock older than this is taken to be a crashed writer's and is broken.
  static constexpr int kStaleLockSeconds = 60;

 private:
  struct Op;  // one write and how to undo it
  LdapStore(std::string uri, std::string server, std::string baseDn, bool startTls);
  Result<void> connect();
  Result<void> ensureSkeleton();
  Error ldapError(std::string_view doing, int rc) const;
  // One attempt, and one more on a fresh connection if the server went away.
  template <class F> int withRetry(F&& f);

  Result<std::vector<ldap::Entry>> search(const std::string& base, int scope, const std::string& filter,
                                          const std::vector<std::string>& attrs, bool paged);
  Result<std::optional<ldap::Entry>> entryAt(const std::string& dn, const std::vector<std::string>& attrs);
  int addEntry(const ldap::Entry& e);
  int replaceAttrs(const ldap::Entry& e);
  int deleteEntry(const std::string& dn);
  Result<void> ensureContainers(const std::string& dn, std::vector<Op>& undo);
  Result<void> writeEntry(const ldap::Entry& desired, const std::string& currentDn, std::vector<Op>& undo);
  Result<void> deleteSubtree(const std::string& dn, std::vector<Op>& undo);
  Result<void> renameSubtree(const std::string& from, const std::string& to, std::vector<Op>& undo);
  Result<void> copySubtree(const std::string& from, const std::string& to, std::vector<Op>& undo);
  void undoAll(std::vector<Op>& undo);
  Result<std::string> lock();
  void unlock(const std::string& token);
  // The write-ahead undo journal (autodiscUndo on the Exchange container, beside the lock): the undo
  // of every write is in the directory before the write is made, and the version, the journal and the
  // lock go in one last modify. Whoever then finds a lock whose writer is gone (a process of this host
  // that no longer runs, or a lock older than kStaleLockSeconds) with a journal puts the directory
  // back as it was before that change (recover), so that a shell killed in the middle of a change
  // leaves the directory as before or as after it, never in between.
  Result<void> journal(const std::vector<std::string>& records);
  Result<void> recover(const std::string& whose);
  bool journaled_ = false;    // this change has written to the journal
  bool noJournal_ = false;    // the directory's schema has no autodiscUndo (an older schema): warned once
  bool recovering_ = false;   // undoing a journal: nothing to journal
  std::uint64_t journalSeq_ = 0;
  std::set<std::string> journaledAdds_;  // normalised DNs whose add is in the journal already

  std::string uri_, server_;
  ldap::Layout layout_;
  bool startTls_ = false;
  LDAP* ld_ = nullptr;
  std::map<model::ObjectRef, std::string> dns_;  // where each object was read from (or last written)
  std::unordered_map<std::string, model::ObjectRef> refsByDn_;  // the same by normalised DN, from the last read
  model::Id nextIds_[model::kKindCount] = {};  // the next id of each kind for an entry new to this handle
  Result<void> logChange(std::uint64_t version, const std::set<std::string>& dns);
  std::set<std::string> knownContainers_;        // normalised DNs known to exist
  Result<std::uint64_t> storedVersion();  // autodiscVersion
  Result<std::uint64_t> highestUsn();     // the RootDSE's highestCommittedUSN (0: not an AD)
  bool isAd_ = false;
  std::uint64_t usnSeen_ = 0, external_ = 0;
  std::atomic<bool> stopWatching_{false};
  std::thread watcher_;
  void watchLoop(std::function<void()> kick);
};

}  // namespace autodisc::store
