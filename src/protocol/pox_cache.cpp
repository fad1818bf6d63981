#include "protocol/pox_cache.hpp"

#include <cstring>

#include "protocol/pox.hpp"

namespace autodisc::protocol {

using autodiscover::Query;
using autodiscover::Schema;

void PoxCache::keepOnly(const std::shared_ptr<const model::Organization>& org) {
  if (org_ == org) return;
  entries_.clear();
  org_ = org;
}

bool PoxCache::render(const std::shared_ptr<const model::Organization>& org, const Query& q, std::string& out) {
  if (q.schema != Schema::Outlook || q.explain || !org) return false;
  keepOnly(org);
  const model::Recipient* r = q.legacyDn.empty() ? org->recipientByAddress(q.emailAddress)
                                                 : org->recipientByLegacyDn(q.legacyDn);
  if (!r || r->type != model::RecipientType::Mailbox || r->exchangeGuid.isNull()) return false;
  auto guidChars = r->exchangeGuid.chars();
  std::string_view guid(guidChars.data(), guidChars.size());
  std::string_view smtp = r->primarySmtpAddress();

  // The key: database, client flags, domain.
  key_.assign(reinterpret_cast<const char*>(&r->database), sizeof r->database);
  key_ += static_cast<char>((q.internalClient ? 1 : 0) | (q.canHandleNegotiate ? 2 : 0) | (q.canHandleExHttp ? 4 : 0) |
                            (q.mapiHttpVersion >= 1 ? 8 : 0));
  key_.append(domainOf(smtp));

  auto it = entries_.find(key_);
  if (it == entries_.end()) {
    auto answer = autodiscover::resolve(*org, q);
    if (answer.outcome != autodiscover::Outcome::Settings) return false;
    std::string blocks;
    renderPoxAccountSettings(answer, blocks);
    Entry e;
    for (std::size_t from = 0;;) {
      auto at = blocks.find(guid, from);
      if (at == std::string::npos) {
        e.text.append(blocks, from);
        break;
      }
      e.text.append(blocks, from, at - from);
      e.cuts.push_back(static_cast<std::uint32_t>(e.text.size()));
      from = at + guid.size();
    }
    it = entries_.emplace(key_, std::move(e)).first;
  }

  auto deployment = org->config().guid.chars();
  renderPoxSettingsStart(out, r->displayName(), r->legacyExchangeDn(), smtp,
                         std::string_view(deployment.data(), deployment.size()));
  const Entry& e = it->second;
  std::size_t from = 0;
  for (auto cut : e.cuts) {
    out.append(e.text, from, cut - from);
    out.append(guid);
    from = cut;
  }
  out.append(e.text, from);
  renderPoxSettingsEnd(out);
  return true;
}

}  // namespace autodisc::protocol
