#include "model/types.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "model/text.hpp"

namespace autodisc::model {

std::string_view kindName(Kind k) {
  static constexpr std::array<std::string_view, kKindCount> names = {
      "AcceptedDomain", "ADReplicationSite", "ADReplicationSubnet", "ExchangeServer",
      "VirtualDirectory", "OutlookAnywhere", "ClientAccessArray", "MailboxDatabase",
      "Recipient", "OutlookProvider", "OrganizationConfig", "ExchangeCertificate"};
  return names[static_cast<int>(k)];
}

std::string_view vdirDefaultName(VdirType t) {
  static constexpr std::array<std::string_view, kVdirTypeCount> names = {
      "owa", "OAB", "EWS", "Microsoft-Server-ActiveSync", "ecp", "Autodiscover", "mapi"};
  return names[static_cast<int>(t)];
}

std::string_view vdirDefaultPath(VdirType t) {
  static constexpr std::array<std::string_view, kVdirTypeCount> paths = {
      "/owa", "/OAB", "/EWS/Exchange.asmx", "/Microsoft-Server-ActiveSync", "/ecp",
      "/Autodiscover/Autodiscover.xml", "/mapi"};
  return paths[static_cast<int>(t)];
}

namespace {
constexpr std::array<std::string_view, 16> kAuthNames = {
    "Basic", "Digest", "Ntlm", "Fba", "WindowsIntegrated", "LiveIdFba", "LiveIdBasic", "WSSecurity",
    "Certificate", "NegoEx", "OAuth", "Adfs", "Kerberos", "Negotiate", "LiveIdNegotiate", "Misconfigured"};
}

std::string_view authMethodName(AuthMethod m) { return kAuthNames[static_cast<int>(m)]; }

Result<AuthMethod> parseAuthMethod(std::string_view name) {
  for (std::size_t i = 0; i < kAuthNames.size(); ++i)
    if (text::iequals(kAuthNames[i], name)) return static_cast<AuthMethod>(i);
  if (text::iequals(name, "Forms") || text::iequals(name, "FormsAuthentication")) return AuthMethod::Fba;
  std::string list;
  for (auto n : kAuthNames) list += (list.empty() ? "" : ", ") + std::string(n);
  return fail("'" + std::string(name) + "' is not an authentication method (one of " + list + ")");
}

// --- Recipient: all strings in one allocation -------------------------------------------------

Recipient::Recipient(const Recipient& o)
    : id(o.id), type(o.type), database(o.database), exchangeGuid(o.exchangeGuid) {
  std::memcpy(end_, o.end_, sizeof end_);
  std::size_t n = end_[kFieldCount - 1];
  if (n) {
    blob_ = std::make_unique<char[]>(n);
    std::memcpy(blob_.get(), o.blob_.get(), n);
  }
}

Recipient& Recipient::operator=(const Recipient& o) {
  if (this != &o) {
    Recipient copy(o);
    *this = std::move(copy);
  }
  return *this;
}

std::string_view Recipient::field(Field f) const {
  std::size_t start = f == 0 ? 0 : end_[f - 1];
  std::size_t end = end_[f];
  return end == start ? std::string_view{} : std::string_view(blob_.get() + start, end - start);
}

void Recipient::setField(Field f, std::string_view value) {
  std::string_view parts[kFieldCount];
  for (int i = 0; i < kFieldCount; ++i) parts[i] = field(static_cast<Field>(i));
  parts[f] = value;
  setFields(parts);
}

void Recipient::setFields(const std::string_view (&parts)[kFieldCount]) {
  std::size_t total = 0;
  for (auto p : parts) total += p.size();
  if (total > 0xffff) total = 0xffff;  // callers validate lengths; never overflow the offsets
  auto blob = total ? std::make_unique<char[]>(total) : nullptr;
  std::size_t pos = 0;
  for (int i = 0; i < kFieldCount; ++i) {
    std::size_t n = std::min(parts[i].size(), total - pos);
    if (n) std::memcpy(blob.get() + pos, parts[i].data(), n);
    pos += n;
    end_[i] = static_cast<std::uint16_t>(pos);
  }
  blob_ = std::move(blob);
}

std::vector<std::string_view> Recipient::emailAddresses() const {
  std::vector<std::string_view> out;
  auto all = field(EmailAddresses);
  if (all.empty()) return out;
  for (auto p : text::split(all, '\n')) out.push_back(p);
  return out;
}

void Recipient::setEmailAddresses(const std::vector<std::string>& proxies) {
  std::string joined = text::join(proxies, "\n");
  setField(EmailAddresses, joined);
}

std::size_t Recipient::emailAddressCount() const {
  auto all = field(EmailAddresses);
  if (all.empty()) return 0;
  return static_cast<std::size_t>(std::count(all.begin(), all.end(), '\n')) + 1;
}

std::string_view Recipient::emailAddress(std::size_t i) const {
  auto all = field(EmailAddresses);
  std::size_t start = 0;
  for (std::size_t k = 0; k < i; ++k) {
    auto nl = all.find('\n', start);
    if (nl == std::string_view::npos) return {};
    start = nl + 1;
  }
  auto nl = all.find('\n', start);
  return all.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
}

std::string_view Recipient::primarySmtpAddress() const {
  auto all = field(EmailAddresses);
  std::size_t start = 0;
  while (start <= all.size()) {
    auto nl = all.find('\n', start);
    auto p = all.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (p.starts_with("SMTP:")) return p.substr(5);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return {};
}

}  // namespace autodisc::model
