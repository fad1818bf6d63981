#pragma once
// The whole organisation in memory, indexed. A shell changes it inside a transaction (with undo);
// a Snapshot is an immutable, shared Organization that the service reads without locks.
#include <map>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include "model/cow_vector.hpp"
#include "model/flat_index.hpp"
#include "model/types.hpp"

namespace autodisc::model {

using AnyObject = std::variant<AcceptedDomain, AdSite, AdSubnet, ExchangeServer, VirtualDirectory, OutlookAnywhere,
                               ClientAccessArray, MailboxDatabase, Recipient, OutlookProvider, OrganizationConfig,
                               ExchangeCertificate>;

template <class T> constexpr Kind kindOf();
template <> constexpr Kind kindOf<AcceptedDomain>() { return Kind::AcceptedDomain; }
template <> constexpr Kind kindOf<AdSite>() { return Kind::AdSite; }
template <> constexpr Kind kindOf<AdSubnet>() { return Kind::AdSubnet; }
template <> constexpr Kind kindOf<ExchangeServer>() { return Kind::ExchangeServer; }
template <> constexpr Kind kindOf<VirtualDirectory>() { return Kind::VirtualDirectory; }
template <> constexpr Kind kindOf<OutlookAnywhere>() { return Kind::OutlookAnywhere; }
template <> constexpr Kind kindOf<ClientAccessArray>() { return Kind::ClientAccessArray; }
template <> constexpr Kind kindOf<MailboxDatabase>() { return Kind::MailboxDatabase; }
template <> constexpr Kind kindOf<Recipient>() { return Kind::Recipient; }
template <> constexpr Kind kindOf<OutlookProvider>() { return Kind::OutlookProvider; }
template <> constexpr Kind kindOf<OrganizationConfig>() { return Kind::OrganizationConfig; }
template <> constexpr Kind kindOf<ExchangeCertificate>() { return Kind::ExchangeCertificate; }

struct ObjectRef {
  Kind kind;
  Id id;
  friend auto operator<=>(const ObjectRef&, const ObjectRef&) = default;
};

class Organization {
 public:
  Organization();
  Organization(const Organization& other);
  Organization& operator=(const Organization& other);
  Organization(Organization&& other) noexcept;
  Organization& operator=(Organization&& other) noexcept;

  // --- reading -----------------------------------------------------------------------------
  const OrganizationConfig& config() const { return config_; }
  template <class T> const std::map<Id, T>& all() const { return std::get<std::map<Id, T>>(maps_); }
  template <class T> const T* find(Id id) const {
    if constexpr (std::is_same_v<T, Recipient>) return recipient(id);
    else {
      auto& m = all<T>();
      auto it = m.find(id);
      return it == m.end() ? nullptr : &it->second;
    }
  }

  const Recipient* recipient(Id id) const;
  std::size_t recipientCount() const { return recipientCount_; }
  template <class F> void forEachRecipient(F&& f) const {
    recipients_.forEach([&](const Recipient& r) {
      if (r.type != RecipientType::None) f(r);
    });
  }
  const Recipient* recipientByAddress(std::string_view smtp) const;  // any smtp proxy, any case
  const Recipient* recipientByName(std::string_view name) const;
  const Recipient* recipientByAlias(std::string_view alias) const;
  const Recipient* recipientByLegacyDn(std::string_view dn) const;

  const AcceptedDomain* acceptedDomainFor(std::string_view domain) const;
  const AdSite* siteByName(std::string_view name) const;
  const ExchangeServer* serverByName(std::string_view nameOrFqdn) const;
  const ClientAccessArray* arrayInSite(Id site) const;
  const AdSite* siteForAddress(const Cidr& address) const;  // the longest matching subnet
  std::vector<const VirtualDirectory*> vdirsOf(Id server) const;
  const VirtualDirectory* vdirOf(Id server, VdirType type) const;
  const OutlookAnywhere* outlookAnywhereOf(Id server) const;

  // --- changing (inside a transaction) ---------------------------------------------------------
  Id allocateId(Kind k);
  void setConfig(OrganizationConfig c);
  template <class T> void put(T obj);  // insert or replace by obj.id (which must be set)
  template <class T> void erase(Id id);
  void erase(ObjectRef ref);  // any kind; the organisation's settings are never erased
  // A copy of the object (the settings for OrganizationConfig); none when there is no such object.
  std::optional<AnyObject> object(ObjectRef ref) const;

  void begin();                    // start recording undo and changes
  std::vector<ObjectRef> commit();  // stop recording; the objects changed (sorted, unique)
  std::vector<ObjectRef> pendingChanges() const;  // what commit() would return
  void rollback();                 // undo everything since begin()
  bool inTransaction() const { return recording_; }

  // Bulk loading (stores): no undo, no change records.
  void reserveRecipients(std::size_t n);

  std::size_t approximateMemoryBytes() const;

 private:
  void record(Kind kind, Id id, std::optional<AnyObject> before);
  void indexRecipient(const Recipient& r);
  void unindexRecipient(const Recipient& r);
  void putRecipient(Recipient r);
  void eraseRecipient(Id id);
  void rebindIndexes();
  void restore(Kind kind, Id id, std::optional<AnyObject>&& before);

  OrganizationConfig config_;
  std::tuple<std::map<Id, AcceptedDomain>, std::map<Id, AdSite>, std::map<Id, AdSubnet>,
             std::map<Id, ExchangeServer>, std::map<Id, VirtualDirectory>, std::map<Id, OutlookAnywhere>,
             std::map<Id, ClientAccessArray>, std::map<Id, MailboxDatabase>, std::map<Id, OutlookProvider>,
             std::map<Id, ExchangeCertificate>>
      maps_;
  CowVector<Recipient> recipients_;  // slot id-1; shared with copies until written
  std::size_t recipientCount_ = 0;
  FlatIndex byAddress_, byName_, byAlias_, byLegacyDn_;
  std::map<std::string, Id, text::ILess> domainIndex_;
  Id nextId_[kKindCount] = {};

  struct Undo {
    Kind kind;
    Id id;
    std::unique_ptr<AnyObject> before;  // null: the object did not exist (8 bytes for a bulk insert)
  };
  bool recording_ = false;
  std::vector<Undo> undo_;
  std::vector<ObjectRef> changed_;
  Id nextIdAtBegin_[kKindCount] = {};
};

// An immutable organisation at a store version, shared between threads.
struct Snapshot {
  std::shared_ptr<const Organization> org;
  std::uint64_t version = 0;
};

}  // namespace autodisc::model
