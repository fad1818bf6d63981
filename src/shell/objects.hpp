#pragma once
// Reflection over the model for the shell: read and write any object's properties by name.
#include <string>
#include <utility>
#include <vector>

#include "model/schema.hpp"
#include "model/text.hpp"

namespace autodisc::shell {

template <class F>
decltype(auto) visitKind(model::Kind k, F&& f) {
  using namespace model;
  switch (k) {
    case Kind::AcceptedDomain: return f(std::type_identity<AcceptedDomain>{});
    case Kind::AdSite: return f(std::type_identity<AdSite>{});
    case Kind::AdSubnet: return f(std::type_identity<AdSubnet>{});
    case Kind::ExchangeServer: return f(std::type_identity<ExchangeServer>{});
    case Kind::VirtualDirectory: return f(std::type_identity<VirtualDirectory>{});
    case Kind::OutlookAnywhere: return f(std::type_identity<OutlookAnywhere>{});
    case Kind::ClientAccessArray: return f(std::type_identity<ClientAccessArray>{});
    case Kind::MailboxDatabase: return f(std::type_identity<MailboxDatabase>{});
    case Kind::Recipient: return f(std::type_identity<Recipient>{});
    case Kind::OutlookProvider: return f(std::type_identity<OutlookProvider>{});
    case Kind::ExchangeCertificate: return f(std::type_identity<ExchangeCertificate>{});
    case Kind::OrganizationConfig: break;
  }
  return f(std::type_identity<OrganizationConfig>{});
}

template <class T>
const T* findObject(const model::Organization& org, model::Id id) {
  if constexpr (std::is_same_v<T, model::OrganizationConfig>) return &org.config();
  else return org.find<T>(id);
}

using PropertyList = std::vector<std::pair<std::string, model::PropValue>>;

// Every property of the object, in the schema's order.
inline PropertyList readProperties(const model::Organization& org, model::ObjectRef ref) {
  return visitKind(ref.kind, [&]<class T>(std::type_identity<T>) {
    PropertyList out;
    const T* obj = findObject<T>(org, ref.id);
    if (!obj) return out;
    for (auto& p : model::properties<T>()) out.emplace_back(p.name, p.get(org, *obj));
    return out;
  });
}

// Only the named properties (matched without regard to case); absent ones read as null.
inline std::vector<model::PropValue> readSelected(const model::Organization& org, model::ObjectRef ref,
                                                  const std::vector<std::string>& names) {
  return visitKind(ref.kind, [&]<class T>(std::type_identity<T>) {
    std::vector<model::PropValue> out(names.size());
    const T* obj = findObject<T>(org, ref.id);
    if (!obj) return out;
    auto& props = model::properties<T>();
    for (std::size_t i = 0; i < names.size(); ++i)
      for (auto& p : props)
        if (text::iequals(p.name, names[i])) {
          out[i] = p.get(org, *obj);
          break;
        }
    return out;
  });
}

}  // namespace autodisc::shell
