#include "model/organization.hpp"

#include <algorithm>

namespace autodisc::model {

namespace {
constexpr FlatIndex::Entry entryOf(Id id, std::size_t sub = 0) {
  return (static_cast<FlatIndex::Entry>(id) << 8) | static_cast<FlatIndex::Entry>(sub);
}
constexpr Id idOf(FlatIndex::Entry e) { return static_cast<Id>(e >> 8); }
constexpr std::size_t subOf(FlatIndex::Entry e) { return static_cast<std::size_t>(e & 0xff); }

bool isSmtpProxy(std::string_view p) { return p.size() > 5 && text::istartsWith(p, "smtp:"); }
}  // namespace

Organization::Organization()
    : byAddress_(nullptr), byName_(nullptr), byAlias_(nullptr), byLegacyDn_(nullptr) {
  rebindIndexes();
}

Organization::Organization(const Organization& o)
    : config_(o.config_),
      maps_(o.maps_),
      recipients_(o.recipients_),
      recipientCount_(o.recipientCount_),
      byAddress_(o.byAddress_),
      byName_(o.byName_),
      byAlias_(o.byAlias_),
      byLegacyDn_(o.byLegacyDn_),
      domainIndex_(o.domainIndex_) {
  std::copy(std::begin(o.nextId_), std::end(o.nextId_), nextId_);
  rebindIndexes();
}

Organization& Organization::operator=(const Organization& o) {
  if (this != &o) {
    config_ = o.config_;
    maps_ = o.maps_;
    recipients_ = o.recipients_;
    recipientCount_ = o.recipientCount_;
    byAddress_ = o.byAddress_;
    byName_ = o.byName_;
    byAlias_ = o.byAlias_;
    byLegacyDn_ = o.byLegacyDn_;
    domainIndex_ = o.domainIndex_;
    std::copy(std::begin(o.nextId_), std::end(o.nextId_), nextId_);
    recording_ = false;
    undo_.clear();
    changed_.clear();
    rebindIndexes();
  }
  return *this;
}

Organization::Organization(Organization&& o) noexcept
    : config_(std::move(o.config_)),
      maps_(std::move(o.maps_)),
      recipients_(std::move(o.recipients_)),
      recipientCount_(o.recipientCount_),
      byAddress_(std::move(o.byAddress_)),
      byName_(std::move(o.byName_)),
      byAlias_(std::move(o.byAlias_)),
      byLegacyDn_(std::move(o.byLegacyDn_)),
      domainIndex_(std::move(o.domainIndex_)) {
  std::copy(std::begin(o.nextId_), std::end(o.nextId_), nextId_);
  rebindIndexes();
  o.recipientCount_ = 0;
  o.rebindIndexes();
}

Organization& Organization::operator=(Organization&& o) noexcept {
  if (this != &o) {
    config_ = std::move(o.config_);
    maps_ = std::move(o.maps_);
    recipients_ = std::move(o.recipients_);
    recipientCount_ = o.recipientCount_;
    byAddress_ = std::move(o.byAddress_);
    byName_ = std::move(o.byName_);
    byAlias_ = std::move(o.byAlias_);
    byLegacyDn_ = std::move(o.byLegacyDn_);
    domainIndex_ = std::move(o.domainIndex_);
    std::copy(std::begin(o.nextId_), std::end(o.nextId_), nextId_);
    recording_ = false;
    undo_.clear();
    changed_.clear();
    rebindIndexes();
    o.recipientCount_ = 0;
    o.rebindIndexes();
  }
  return *this;
}

void Organization::rebindIndexes() {
  byAddress_.setKeyOf([this](FlatIndex::Entry e) {
    auto p = recipients_[idOf(e) - 1].emailAddress(subOf(e));
    return p.substr(5);
  });
  byName_.setKeyOf([this](FlatIndex::Entry e) { return recipients_[idOf(e) - 1].name(); });
  byAlias_.setKeyOf([this](FlatIndex::Entry e) { return recipients_[idOf(e) - 1].alias(); });
  byLegacyDn_.setKeyOf([this](FlatIndex::Entry e) { return recipients_[idOf(e) - 1].legacyExchangeDn(); });
}

const Recipient* Organization::recipient(Id id) const {
  if (id == 0 || id > recipients_.size()) return nullptr;
  const Recipient& r = recipients_[id - 1];
  return r.type == RecipientType::None ? nullptr : &r;
}

const Recipient* Organization::recipientByAddress(std::string_view smtp) const {
  auto e = byAddress_.find(smtp);
  return e ? &recipients_[idOf(e) - 1] : nullptr;
}
const Recipient* Organization::recipientByName(std::string_view name) const {
  auto e = byName_.find(name);
  return e ? &recipients_[idOf(e) - 1] : nullptr;
}
const Recipient* Organization::recipientByAlias(std::string_view alias) const {
  auto e = byAlias_.find(alias);
  return e ? &recipients_[idOf(e) - 1] : nullptr;
}
const Recipient* Organization::recipientByLegacyDn(std::string_view dn) const {
  auto e = byLegacyDn_.find(dn);
  return e ? &recipients_[idOf(e) - 1] : nullptr;
}

const AcceptedDomain* Organization::acceptedDomainFor(std::string_view domain) const {
  auto it = domainIndex_.find(domain);
  return it == domainIndex_.end() ? nullptr : find<AcceptedDomain>(it->second);
}

const AdSite* Organization::siteByName(std::string_view name) const {
  for (auto& [id, s] : all<AdSite>())
    if (text::iequals(s.name, name)) return &s;
  return nullptr;
}

const ExchangeServer* Organization::serverByName(std::string_view n) const {
  for (auto& [id, s] : all<ExchangeServer>())
    if (text::iequals(s.name, n) || text::iequals(s.fqdn, n)) return &s;
  return nullptr;
}

const ClientAccessArray* Organization::arrayInSite(Id site) const {
  for (auto& [id, a] : all<ClientAccessArray>())
    if (a.site == site) return &a;
  return nullptr;
}

const AdSite* Organization::siteForAddress(const Cidr& address) const {
  const AdSubnet* best = nullptr;
  for (auto& [id, s] : all<AdSubnet>())
    if (s.range.contains(address) && (!best || s.range.prefix > best->range.prefix)) best = &s;
  return best ? find<AdSite>(best->site) : nullptr;
}

std::vector<const VirtualDirectory*> Organization::vdirsOf(Id server) const {
  std::vector<const VirtualDirectory*> out;
  for (auto& [id, v] : all<VirtualDirectory>())
    if (v.server == server) out.push_back(&v);
  return out;
}

const VirtualDirectory* Organization::vdirOf(Id server, VdirType type) const {
  for (auto& [id, v] : all<VirtualDirectory>())
    if (v.server == server && v.type == type) return &v;
  return nullptr;
}

const OutlookAnywhere* Organization::outlookAnywhereOf(Id server) const {
  for (auto& [id, o] : all<OutlookAnywhere>())
    if (o.server == server) return &o;
  return nullptr;
}

Id Organization::allocateId(Kind k) {
  auto& n = nextId_[static_cast<int>(k)];
  if (n == 0) n = 1;
  return n++;
}

void Organization::record(Kind kind, Id id, std::optional<AnyObject> before) {
  if (!recording_) return;
  undo_.push_back(Undo{kind, id, before ? std::make_unique<AnyObject>(std::move(*before)) : nullptr});
  changed_.push_back(ObjectRef{kind, id});
}

void Organization::setConfig(OrganizationConfig c) {
  record(Kind::OrganizationConfig, 0, AnyObject{config_});
  config_ = std::move(c);
}

void Organization::indexRecipient(const Recipient& r) {
  if (!r.name().empty()) byName_.insert(entryOf(r.id));
  if (!r.alias().empty()) byAlias_.insert(entryOf(r.id));
  if (!r.legacyExchangeDn().empty()) byLegacyDn_.insert(entryOf(r.id));
  std::size_t n = std::min<std::size_t>(r.emailAddressCount(), 255);
  for (std::size_t i = 0; i < n; ++i)
    if (isSmtpProxy(r.emailAddress(i))) byAddress_.insert(entryOf(r.id, i));
}

void Organization::unindexRecipient(const Recipient& r) {
  byName_.erase(entryOf(r.id));
  byAlias_.erase(entryOf(r.id));
  byLegacyDn_.erase(entryOf(r.id));
  std::size_t n = std::min<std::size_t>(r.emailAddressCount(), 255);
  for (std::size_t i = 0; i < n; ++i)
    if (isSmtpProxy(r.emailAddress(i))) byAddress_.erase(entryOf(r.id, i));
}

void Organization::putRecipient(Recipient r) {
  Id id = r.id;
  if (recipients_.size() < id) recipients_.resize(id);
  Recipient& slot = recipients_.mut(id - 1);
  std::optional<AnyObject> before;
  if (slot.type != RecipientType::None) {
    if (recording_) before = AnyObject{slot};
    unindexRecipient(slot);
  } else {
    ++recipientCount_;
  }
  record(Kind::Recipient, id, std::move(before));
  slot = std::move(r);
  indexRecipient(slot);
  auto& n = nextId_[static_cast<int>(Kind::Recipient)];
  if (n <= id) n = id + 1;
}

void Organization::eraseRecipient(Id id) {
  if (id == 0 || id > recipients_.size() || recipients_[id - 1].type == RecipientType::None) return;
  Recipient& slot = recipients_.mut(id - 1);
  unindexRecipient(slot);
  record(Kind::Recipient, id, recording_ ? std::optional<AnyObject>(AnyObject{slot}) : std::nullopt);
  slot = Recipient{};
  --recipientCount_;
}

template <class T>
void Organization::put(T obj) {
  if constexpr (std::is_same_v<T, Recipient>) {
    putRecipient(std::move(obj));
  } else if constexpr (std::is_same_v<T, OrganizationConfig>) {
    setConfig(std::move(obj));
  } else {
    auto& m = std::get<std::map<Id, T>>(maps_);
    auto it = m.find(obj.id);
    std::optional<AnyObject> before;
    if (it != m.end() && recording_) before = AnyObject{it->second};
    record(kindOf<T>(), obj.id, std::move(before));
    if constexpr (std::is_same_v<T, AcceptedDomain>) {
      if (it != m.end()) domainIndex_.erase(it->second.domainName);
      domainIndex_[obj.domainName] = obj.id;
    }
    auto& n = nextId_[static_cast<int>(kindOf<T>())];
    if (n <= obj.id) n = obj.id + 1;
    m[obj.id] = std::move(obj);
  }
}

template <class T>
void Organization::erase(Id id) {
  if constexpr (std::is_same_v<T, Recipient>) {
    eraseRecipient(id);
  } else {
    auto& m = std::get<std::map<Id, T>>(maps_);
    auto it = m.find(id);
    if (it == m.end()) return;
    record(kindOf<T>(), id, recording_ ? std::optional<AnyObject>(AnyObject{it->second}) : std::nullopt);
    if constexpr (std::is_same_v<T, AcceptedDomain>) domainIndex_.erase(it->second.domainName);
    m.erase(it);
  }
}

#define AUTODISC_INSTANTIATE(T)              \
  template void Organization::put<T>(T obj); \
  template void Organization::erase<T>(Id id);
AUTODISC_INSTANTIATE(AcceptedDomain)
AUTODISC_INSTANTIATE(AdSite)
AUTODISC_INSTANTIATE(AdSubnet)
AUTODISC_INSTANTIATE(ExchangeServer)
AUTODISC_INSTANTIATE(VirtualDirectory)
AUTODISC_INSTANTIATE(OutlookAnywhere)
AUTODISC_INSTANTIATE(ClientAccessArray)
AUTODISC_INSTANTIATE(MailboxDatabase)
AUTODISC_INSTANTIATE(Recipient)
AUTODISC_INSTANTIATE(OutlookProvider)
AUTODISC_INSTANTIATE(ExchangeCertificate)
#undef AUTODISC_INSTANTIATE
template void Organization::put<OrganizationConfig>(OrganizationConfig obj);

void Organization::begin() {
  recording_ = true;
  undo_.clear();
  changed_.clear();
  std::copy(std::begin(nextId_), std::end(nextId_), nextIdAtBegin_);
}

std::vector<ObjectRef> Organization::commit() {
  recording_ = false;
  undo_.clear();
  std::vector<ObjectRef> out = std::move(changed_);
  changed_.clear();
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<ObjectRef> Organization::pendingChanges() const {
  std::vector<ObjectRef> out = changed_;
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Calls f(std::type_identity<T>{}) for the kind's type; nothing for OrganizationConfig.
template <class F>
static void forKind(Kind kind, F&& f) {
  switch (kind) {
#define AUTODISC_CASE(T) \
  case Kind::T: f(std::type_identity<T>{}); break;
    AUTODISC_CASE(AcceptedDomain)
    AUTODISC_CASE(AdSite)
    AUTODISC_CASE(AdSubnet)
    AUTODISC_CASE(ExchangeServer)
    AUTODISC_CASE(VirtualDirectory)
    AUTODISC_CASE(OutlookAnywhere)
    AUTODISC_CASE(ClientAccessArray)
    AUTODISC_CASE(MailboxDatabase)
    AUTODISC_CASE(Recipient)
    AUTODISC_CASE(OutlookProvider)
    AUTODISC_CASE(ExchangeCertificate)
#undef AUTODISC_CASE
    case Kind::OrganizationConfig: break;
  }
}

void Organization::erase(ObjectRef ref) {
  forKind(ref.kind, [&]<class T>(std::type_identity<T>) { erase<T>(ref.id); });
}

std::optional<AnyObject> Organization::object(ObjectRef ref) const {
  if (ref.kind == Kind::OrganizationConfig) return AnyObject{config_};
  std::optional<AnyObject> out;
  forKind(ref.kind, [&]<class T>(std::type_identity<T>) {
    if (const T* o = find<T>(ref.id)) out = AnyObject{*o};
  });
  return out;
}

void Organization::restore(Kind kind, Id id, std::optional<AnyObject>&& before) {
  erase(ObjectRef{kind, id});
  if (before) std::visit([&](auto&& obj) { put(std::move(obj)); }, std::move(*before));
}

void Organization::rollback() {
  recording_ = false;
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
    std::optional<AnyObject> before;
    if (it->before) before = std::move(*it->before);
    restore(it->kind, it->id, std::move(before));
  }
  undo_.clear();
  changed_.clear();
  std::copy(std::begin(nextIdAtBegin_), std::end(nextIdAtBegin_), nextId_);
}

void Organization::reserveRecipients(std::size_t n) {
  recipients_.reserve(n);
  byName_.reserve(n);
  byAlias_.reserve(n);
  byLegacyDn_.reserve(n);
  byAddress_.reserve(n);
}

std::size_t Organization::approximateMemoryBytes() const {
  std::size_t total = recipients_.capacity() * sizeof(Recipient);
  recipients_.forEach([&](const Recipient& r) { total += r.blobSize(); });
  total += byAddress_.memoryBytes() + byName_.memoryBytes() + byAlias_.memoryBytes() + byLegacyDn_.memoryBytes();
  return total;
}

}  // namespace autodisc::model
