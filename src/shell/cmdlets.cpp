#include "shell/cmdlets.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <ostream>

#include "shell/csv.hpp"
#include "shell/format.hpp"
#include "shell/help.hpp"
#include "auth/password.hpp"
#include "autodiscover/resolve.hpp"
#include "autodiscover/user_settings.hpp"
#include "cert/x509.hpp"
#include "client/test_command.hpp"
#include "discovery/planner.hpp"
#include "doctor/checks.hpp"
#include "protocol/json_v2.hpp"
#include "protocol/pox.hpp"
#include "protocol/soap.hpp"
#include "shell/objects.hpp"

namespace autodisc::shell {

using namespace model;

namespace {

std::string q(std::string_view s) { return "'" + std::string(s) + "'"; }

// A value as it would be typed back: lists as a,b (not the {a, b} of tables).
std::string typed(const PropValue& v) {
  if (auto* l = std::get_if<std::vector<std::string>>(&v)) return text::join(*l, ",");
  return displayText(v);
}

template <class T>
using Pred = std::function<bool(const Organization&, const T&)>;

// --- identities -------------------------------------------------------------------------------------

std::vector<std::string> identityKeys(const Organization&, const AcceptedDomain& o) { return {o.name, o.domainName}; }
std::vector<std::string> identityKeys(const Organization&, const AdSite& o) { return {o.name}; }
std::vector<std::string> identityKeys(const Organization&, const AdSubnet& o) { return {o.name()}; }
std::vector<std::string> identityKeys(const Organization&, const ExchangeServer& o) { return {o.name, o.fqdn}; }
std::vector<std::string> identityKeys(const Organization& org, const VirtualDirectory& o) {
  auto* s = org.find<ExchangeServer>(o.server);
  std::string srv = s ? s->name : "";
  return {identityOf(org, o), srv + "\\" + o.name, srv};
}
std::vector<std::string> identityKeys(const Organization& org, const OutlookAnywhere& o) {
  auto* s = org.find<ExchangeServer>(o.server);
  std::string srv = s ? s->name : "";
  return {identityOf(org, o), srv + "\\Rpc", srv};
}
std::vector<std::string> identityKeys(const Organization&, const ClientAccessArray& o) { return {o.name, o.fqdn}; }
std::vector<std::string> identityKeys(const Organization&, const MailboxDatabase& o) { return {o.name, o.guid.str()}; }
std::vector<std::string> identityKeys(const Organization&, const OutlookProvider& o) { return {o.name}; }
std::vector<std::string> identityKeys(const Organization&, const ExchangeCertificate& o) { return {o.thumbprint, o.friendlyName}; }
std::vector<std::string> identityKeys(const Organization&, const Recipient& r) {
  std::vector<std::string> k{std::string(r.name()), std::string(r.alias()), std::string(r.legacyExchangeDn())};
  if (!r.exchangeGuid.isNull()) k.push_back(r.exchangeGuid.str());
  for (auto p : r.emailAddresses())
    if (text::istartsWith(p, "smtp:")) k.emplace_back(p.substr(5));
  return k;
}

std::string displayName(const Organization& org, ObjectRef ref) {
  return visitKind(ref.kind, [&]<class T>(std::type_identity<T>) -> std::string {
    if constexpr (std::is_same_v<T, OrganizationConfig>) return org.config().name;
    else {
      auto* o = org.find<T>(ref.id);
      return o ? identityKeys(org, *o).front() : std::string("?");
    }
  });
}

template <class T>
std::string kindLabel() {
  if constexpr (std::is_same_v<T, Recipient>) return "recipient";
  else return std::string(kindName(kindOf<T>()));
}

// All objects of T matching `identity` (exact, without regard to case, or with '*' wildcards).
template <class T>
Result<std::vector<Id>> resolveIdentity(const Organization& org, std::string_view identity, const Pred<T>& filter,
                                        std::string_view label) {
  std::vector<Id> out;
  std::string id(text::trim(identity));
  bool wild = id.find('*') != std::string::npos;
  if constexpr (std::is_same_v<T, Recipient>) {
    if (!wild) {
      const Recipient* hits[] = {org.recipientByName(id), org.recipientByAlias(id), org.recipientByAddress(id),
                                 org.recipientByLegacyDn(id)};
      for (auto* r : hits)
        if (r && (!filter || filter(org, *r)) && std::find(out.begin(), out.end(), r->id) == out.end())
          out.push_back(r->id);
      if (out.empty()) {
        if (auto g = parseGuid(id)) {
          org.forEachRecipient([&](const Recipient& r) {
            if (r.exchangeGuid == *g && (!filter || filter(org, r))) out.push_back(r.id);
          });
        }
      }
    } else {
      org.forEachRecipient([&](const Recipient& r) {
        if (filter && !filter(org, r)) return;
        for (auto& k : identityKeys(org, r))
          if (wildcardMatch(id, k)) {
            out.push_back(r.id);
            break;
          }
      });
    }
  } else {
    for (auto& [oid, o] : org.all<T>()) {
      if (filter && !filter(org, o)) continue;
      for (auto& k : identityKeys(org, o))
        if (wild ? wildcardMatch(id, k) : text::iequals(id, k)) {
          out.push_back(oid);
          break;
        }
    }
  }
  if (out.empty())
    return fail("the " + std::string(label) + " " + q(id) + " couldn't be found");
  return out;
}

template <class T>
Result<Id> resolveOne(const Organization& org, const Bound& b, const Pred<T>& filter, std::string_view label) {
  if (b.identityRef) {
    const T* obj = org.find<T>(b.identityRef->id);
    if (!obj || (filter && !filter(org, *obj)))
      return fail("the object from the pipeline (" + displayName(org, *b.identityRef) + ") is not a " +
                  std::string(label));
    return b.identityRef->id;
  }
  auto* v = b.get("Identity");
  if (!v) return fail("-Identity is required");
  auto s = asString(*v);
  if (!s) return fail("-Identity: " + s.error().message);
  if (s->find('*') != std::string::npos)
    return fail("-Identity " + q(*s) + ": wildcards are not allowed here; name one " + std::string(label));
  auto ids = resolveIdentity<T>(org, *s, filter, label);
  if (!ids) return fail("-Identity " + q(*s) + ": " + ids.error().message);
  if (ids->size() > 1) {
    std::string names;
    for (auto id : *ids) names += (names.empty() ? "" : ", ") + displayName(org, {kindOf<T>(), id});
    return fail("-Identity " + q(*s) + " matches several objects (" + names + "); be more specific");
  }
  return ids->front();
}

std::string str(const Bound& b, std::string_view n) {
  auto* v = b.get(n);
  if (!v) return {};
  auto s = asString(*v);
  return s ? std::string(text::trim(*s)) : std::string();
}

ParamSpec identityParam(bool mandatory) {
  return {"Identity", ParamType::String, mandatory, 0, "the object: its name or another of its identities"};
}
ParamSpec confirmParam() { return {"Confirm", ParamType::Switch, false, -1, "accepted for compatibility; autodisc never prompts"}; }
ParamSpec dcParam() { return {"DomainController", ParamType::String, false, -1, "accepted for compatibility; ignored"}; }

template <class T>
ParamType paramTypeOf(const Property<T>& p) {
  Organization org;
  T obj{};
  auto v = p.get(org, obj);
  if (std::holds_alternative<bool>(v)) return ParamType::Bool;
  if (std::holds_alternative<std::int64_t>(v)) return ParamType::Int;
  if (std::holds_alternative<std::vector<std::string>>(v)) return ParamType::List;
  return ParamType::String;
}

std::string describeProperty(std::string_view name) {
  static const std::map<std::string, std::string, text::ILess> help = {
      {"Name", "the object's name"},
      {"DomainType", "Authoritative, InternalRelay or ExternalRelay"},
      {"AutoDiscoverServiceInternalUri",
       "the Autodiscover URL published in the server's SCP for domain-joined Outlook ($null clears it)"},
      {"AutoDiscoverSiteScope", "the AD sites whose clients this server's SCP serves first"},
      {"InternalUrl", "the URL clients inside the network are given ($null clears it)"},
      {"ExternalUrl", "the URL clients on the internet are given ($null clears it)"},
      {"InternalAuthenticationMethods", "authentication methods for internal clients (Basic, Ntlm, Fba, ...)"},
      {"ExternalAuthenticationMethods", "authentication methods for external clients"},
      {"BasicAuthentication", "$true adds Basic to both method lists, $false removes it"},
      {"DigestAuthentication", "$true adds Digest to both method lists, $false removes it"},
      {"FormsAuthentication", "$true adds Fba (forms) to both method lists, $false removes it"},
      {"WindowsAuthentication", "$true adds WindowsIntegrated to both method lists, $false removes it"},
      {"InternalHostname", "the Outlook Anywhere host name for internal clients"},
      {"ExternalHostname", "the Outlook Anywhere host name for external clients (EXPR Server)"},
      {"InternalClientsRequireSsl", "$true if internal Outlook Anywhere clients must use SSL"},
      {"ExternalClientsRequireSsl", "$true if external Outlook Anywhere clients must use SSL"},
      {"InternalClientAuthenticationMethod", "Basic, Ntlm or Negotiate, for internal clients"},
      {"ExternalClientAuthenticationMethod", "Basic, Ntlm or Negotiate, for external clients (EXPR AuthPackage)"},
      {"IISAuthenticationMethods", "the methods the RPC virtual directory accepts"},
      {"Fqdn", "the fully qualified domain name"},
      {"Site", "the AD site"},
      {"RpcClientAccessServer", "the FQDN Outlook connects to for this database: a server's or a CAS array's"},
      {"Alias", "the unique alias"},
      {"DisplayName", "the name shown in address lists"},
      {"PrimarySmtpAddress", "the primary SMTP address (the old one stays as a secondary address)"},
      {"EmailAddresses", "every proxy address: SMTP:primary, smtp:secondary, ..."},
      {"ExternalEmailAddress", "where the mail user's mail really goes (Autodiscover redirects there)"},
      {"CertPrincipalName", "msstd:<name in the certificate>, or None"},
      {"TTL", "hours that clients may keep the settings (0: no rediscovery needed)"},
      {"Server", "the server name Outlook is given for this provider"},
      {"MapiHttpEnabled", "$true to offer MAPI over HTTP to clients that ask for it"},
  };
  auto it = help.find(std::string(name));
  return it == help.end() ? "sets " + std::string(name) : it->second;
}

template <class T>
const Property<T>* findProperty(std::string_view name) {
  for (auto& p : properties<T>())
    if (text::iequals(p.name, name)) return &p;
  return nullptr;
}

// Applies each bound property parameter to `obj`, in the order given.
template <class T>
Result<void> applyProperties(const Organization& org, T& obj, const Bound& b, const std::vector<std::string>& names) {
  for (auto& n : b.order) {
    if (std::find_if(names.begin(), names.end(), [&](auto& x) { return text::iequals(x, n); }) == names.end()) continue;
    auto* p = findProperty<T>(n);
    if (!p || !p->set) continue;
    const PropValue& v = *b.get(n);
    if (auto r = p->set(org, obj, v); !r)
      return fail("-" + p->name + " " + q(typed(v)) + ": " + r.error().message);
  }
  return {};
}

// --- generic Get-, Set-, Remove- ---------------------------------------------------------------------

struct Filter {
  ParamSpec param;
  std::function<bool(const Organization&, ObjectRef, const std::string&)> keep;
};

// -Server NAME: keeps the objects whose `server` member is that server (by name or FQDN).
template <class T>
Filter serverFilter(std::string help) {
  return {{"Server", ParamType::String, false, -1, std::move(help)},
          [](const Organization& org, ObjectRef ref, const std::string& server) {
            auto* o = org.find<T>(ref.id);
            auto* s = o ? org.find<ExchangeServer>(o->server) : nullptr;
            return s && (text::iequals(s->name, server) || text::iequals(s->fqdn, server));
          }};
}

// -ResultSize: a positive number, or Unlimited (nullopt); 1000 when absent, as in Exchange.
Result<std::optional<std::size_t>> resultSizeLimit(const Bound& b) {
  auto* v = b.get("ResultSize");
  if (!v) return std::optional<std::size_t>(1000);
  auto s = asString(*v);
  if (s && text::iequals(text::trim(*s), "Unlimited")) return std::optional<std::size_t>();
  auto n = asInt(*v);
  if (!n || *n < 1) return fail("-ResultSize " + q(typed(*v)) + ": expected a positive number or Unlimited");
  return std::optional<std::size_t>(static_cast<std::size_t>(*n));
}

template <class T>
Cmdlet makeGet(std::string noun, std::string view, Pred<T> filter, std::vector<Filter> filters = {},
               bool resultSize = false) {
  Cmdlet c;
  c.name = "Get-" + noun;
  c.kind = kindOf<T>();
  c.synopsis = "Lists " + noun + " objects, or the one named by -Identity.";
  c.params = {identityParam(false)};
  for (auto& f : filters) c.params.push_back(f.param);
  if (resultSize)
    c.params.push_back({"ResultSize", ParamType::String, false, -1,
                        "how many to return at most: a number or Unlimited (default 1000)"});
  c.params.push_back(dcParam());
  c.input = Cmdlet::Input::PerItem;
  c.example = c.name;
  c.run = [noun, view, filter, filters, resultSize](Env& env, const Cmdlet&, const Bound& b, const std::vector<PipeObject>&,
                                                    std::vector<PipeObject>& out) -> Result<void> {
    std::vector<Id> ids;
    if (b.identityRef) {
      auto id = resolveOne<T>(env.org, b, filter, noun);
      if (!id) return std::unexpected(id.error());
      ids.push_back(*id);
    } else if (b.has("Identity")) {
      auto s = asString(*b.get("Identity"));
      if (!s) return fail("-Identity: " + s.error().message);
      auto r = resolveIdentity<T>(env.org, *s, filter, noun);
      if (!r) return fail("-Identity " + q(*s) + ": " + r.error().message);
      ids = *r;
    } else if constexpr (std::is_same_v<T, Recipient>) {
      env.org.forEachRecipient([&](const Recipient& r) {
        if (!filter || filter(env.org, r)) ids.push_back(r.id);
      });
    } else {
      for (auto& [id, o] : env.org.template all<T>())
        if (!filter || filter(env.org, o)) ids.push_back(id);
    }
    for (auto& f : filters) {
      if (!b.has(f.param.name)) continue;
      auto value = str(b, f.param.name);
      std::erase_if(ids, [&](Id id) { return !f.keep(env.org, ObjectRef{kindOf<T>(), id}, value); });
    }
    std::size_t limit = ids.size();
    if (resultSize) {
      auto max = resultSizeLimit(b);
      if (!max) return std::unexpected(max.error());
      if (*max && ids.size() > **max) {
        std::size_t n = **max;
        limit = n;
        if (b.has("ResultSize"))
          env.err << "WARNING: There are more results available than are currently displayed (" << n
                  << "). To return all items, specify \"-ResultSize Unlimited\".\n";
        else
          env.err << "WARNING: By default, only the first " << n
                  << " items are returned. Use the ResultSize parameter to specify the number of items returned. "
                     "To return all items, specify \"-ResultSize Unlimited\".\n";
      }
    }
    for (std::size_t i = 0; i < limit; ++i) out.push_back(PipeObject{ObjectRef{kindOf<T>(), ids[i]}, view});
    return {};
  };
  return c;
}

template <class T>
using SetHook = std::function<Result<void>(Env&, const Bound&, const T& before, T& after)>;

template <class T>
Cmdlet makeSet(std::string noun, Pred<T> filter, std::vector<std::string> settable,
               std::vector<ParamSpec> extra = {}, SetHook<T> hook = nullptr) {
  Cmdlet c;
  c.name = "Set-" + noun;
  c.kind = kindOf<T>();
  c.synopsis = "Changes the properties of a " + noun + ".";
  if constexpr (!std::is_same_v<T, OrganizationConfig>) c.params.push_back(identityParam(true));
  for (auto& n : settable) {
    auto* p = findProperty<T>(n);
    c.params.push_back({p->name, paramTypeOf(*p), false, -1, describeProperty(p->name)});
  }
  for (auto& e : extra) c.params.push_back(e);
  c.params.push_back(confirmParam());
  c.params.push_back(dcParam());
  c.input = Cmdlet::Input::PerItem;
  c.run = [noun, filter, settable, hook](Env& env, const Cmdlet&, const Bound& b, const std::vector<PipeObject>&,
                                         std::vector<PipeObject>&) -> Result<void> {
    T before;
    Id id = 0;
    if constexpr (std::is_same_v<T, OrganizationConfig>) {
      before = env.org.config();
    } else {
      auto r = resolveOne<T>(env.org, b, filter, noun);
      if (!r) return std::unexpected(r.error());
      id = *r;
      before = *env.org.template find<T>(id);
    }
    T after = before;
    if (auto r = applyProperties(env.org, after, b, settable); !r) return r;
    if (hook)
      if (auto r = hook(env, b, before, after); !r) return r;
    if (auto ok = validate(env.org, after); !ok) return ok;
    auto name = [&] {
      if constexpr (std::is_same_v<T, OrganizationConfig>) return after.name;
      else return identityKeys(env.org, after).front();
    }();
    // Compare what a person would see, so that "no change" is reported as Exchange reports it.
    bool same = true;
    for (auto& p : properties<T>())
      if (p.get(env.org, before) != p.get(env.org, after)) same = false;
    if constexpr (std::is_same_v<T, Recipient>)
      if (before.passwordHash() != after.passwordHash()) same = false;  // never shown, but a change
    if (same) {
      env.err << "WARNING: The command completed successfully but no settings of '" << name
              << "' have been modified.\n";
      return {};
    }
    env.org.put(std::move(after));
    return {};
  };
  return c;
}

template <class T>
using RemoveCheck = std::function<Result<void>(const Organization&, const T&)>;

template <class T>
Cmdlet makeRemove(std::string noun, Pred<T> filter, RemoveCheck<T> check,
                  std::function<void(Organization&, const T&)> cascade = nullptr) {
  Cmdlet c;
  c.name = "Remove-" + noun;
  c.kind = kindOf<T>();
  c.synopsis = "Removes a " + noun + ".";
  c.params = {identityParam(true), confirmParam(), dcParam()};
  c.input = Cmdlet::Input::PerItem;
  c.run = [noun, filter, check, cascade](Env& env, const Cmdlet&, const Bound& b, const std::vector<PipeObject>&,
                                         std::vector<PipeObject>&) -> Result<void> {
    auto id = resolveOne<T>(env.org, b, filter, noun);
    if (!id) return std::unexpected(id.error());
    T obj = *env.org.template find<T>(*id);
    if (check)
      if (auto r = check(env.org, obj); !r) return r;
    if (cascade) cascade(env.org, obj);
    env.org.template erase<T>(*id);
    return {};
  };
  return c;
}

// --- the cmdlets ---------------------------------------------------------------------------------------

Guid newGuid(Env& env) { return Guid::fromRandom(env.random(), env.random()); }

Result<Id> siteParamOrOnly(const Organization& org, const Bound& b) {
  if (b.has("Site")) {
    auto name = str(b, "Site");
    auto* s = org.siteByName(name);
    if (!s) return fail("-Site " + q(name) + ": there is no AD site by that name (see Get-ADReplicationSite)");
    return s->id;
  }
  auto& sites = org.all<AdSite>();
  if (sites.size() == 1) return sites.begin()->first;
  if (sites.empty()) return fail("-Site is required: there is no AD site yet (New-ADReplicationSite)");
  std::string names;
  for (auto& [id, s] : sites) names += (names.empty() ? "" : ", ") + s.name;
  return fail("-Site is required when there are several sites (" + names + ")");
}

template <class T>
Result<void> setFromBound(const Organization& org, T& obj, const Bound& b, std::string_view param, std::string_view prop) {
  auto* v = b.get(param);
  if (!v) return {};
  auto* p = findProperty<T>(prop);
  if (auto r = p->set(org, obj, *v); !r) return fail("-" + std::string(param) + " " + q(typed(*v)) + ": " + r.error().message);
  return {};
}

// Sets each named parameter, if given, on the property of the same name.
template <class T>
Result<void> setParams(const Organization& org, T& obj, const Bound& b, std::initializer_list<const char*> names) {
  for (auto n : names)
    if (auto r = setFromBound(org, obj, b, n, n); !r) return r;
  return {};
}

// Validates and adds a new object, and passes it down the pipeline.
template <class T>
Result<void> addNew(Organization& org, T obj, std::string view, std::vector<PipeObject>& out) {
  Id id = obj.id;
  if (auto ok = validate(org, obj); !ok) return ok;
  org.put(std::move(obj));
  out.push_back({ObjectRef{kindOf<T>(), id}, std::move(view)});
  return {};
}

std::vector<Cmdlet> buildCmdlets() {
  std::vector<Cmdlet> all;
  auto add = [&](Cmdlet c, std::string example, std::vector<std::string> aliases = {}) {
    c.example = std::move(example);
    c.aliases = std::move(aliases);
    all.push_back(std::move(c));
  };

  // Accepted domains.
  {
    Cmdlet n;
    n.name = "New-AcceptedDomain";
    n.kind = Kind::AcceptedDomain;
    n.synopsis = "Adds a domain that the organisation accepts mail for (the first one becomes the default).";
    n.params = {{"Name", ParamType::String, true, 0, "the domain's name in the organisation"},
                {"DomainName", ParamType::String, true, -1, "the SMTP domain, e.g. contoso.com"},
                {"DomainType", ParamType::String, false, -1, "Authoritative (default), InternalRelay or ExternalRelay"},
                {"AutodiscoverRedirectUrl", ParamType::String, false, -1,
                 "autodisc's own: where this domain's Autodiscover is answered, if not here (e.g. a hoster's "
                 "https://autodiscover.hoster.net/Autodiscover/Autodiscover.xml)"},
                confirmParam(), dcParam()};
    n.input = Cmdlet::Input::PerItem;
    n.run = [](Env& env, const Cmdlet&, const Bound& b, const std::vector<PipeObject>&, std::vector<PipeObject>& out) -> Result<void> {
      AcceptedDomain d;
      d.id = env.org.allocateId(Kind::AcceptedDomain);
      if (auto r = setParams(env.org, d, b, {"Name", "DomainName", "DomainType", "AutodiscoverRedirectUrl"}); !r) return r;
      d.isDefault = env.org.all<AcceptedDomain>().empty();
      if (auto r = addNew(env.org, d, "AcceptedDomain", out); !r) return r;
      return {};
    };
    add(n, "New-AcceptedDomain -Name contoso.com -DomainName contoso.com -DomainType Authoritative");
  }
  add(makeGet<AcceptedDomain>("AcceptedDomain", "AcceptedDomain", nullptr), "Get-AcceptedDomain");
  add(makeSet<AcceptedDomain>(
          "AcceptedDomain", nullptr, {"Name", "DomainType", "AutodiscoverRedirectUrl"},
          {{"MakeDefault", ParamType::Switch, false, -1, "makes this the default domain (new addresses use it)"}},
          [](Env& env, const Bound& b, const AcceptedDomain&, AcceptedDomain& after) -> Result<void> {
            auto* v = b.get("MakeDefault");
            if (v && asBool(*v).value_or(false) && !after.isDefault) {
              for (auto [id, d] : env.org.all<AcceptedDomain>())
                if (d.isDefault) {
                  d.isDefault = false;
                  env.org.put(d);
                }
              after.isDefault = true;
            }
            return {};
          }),
      "Set-AcceptedDomain -Identity contoso.com -MakeDefault");
  add(makeRemove<AcceptedDomain>("AcceptedDomain", nullptr,
                                 [](const Organization& org, const AcceptedDomain& d) -> Result<void> {
                                   if (d.isDefault && org.all<AcceptedDomain>().size() > 1)
                                     return fail(q(d.name) + " is the default domain; make another one the default first");
                                   const Recipient* user = nullptr;
                                   org.forEachRecipient([&](const Recipient& r) {
                                     if (!user && text::iequals(domainOf(r.primarySmtpAddress()), d.domainName)) user = &r;
                                   });
                                   if (user)
                                     return fail(q(d.domainName) + " is still the primary address domain of " +
                                                 q(user->name()) + " and maybe others");
                                   return {};
                                 }),
      "Remove-AcceptedDomain -Identity fabrikam.com");

  // Sites and subnets (the Active Directory module's names).
  {
    Cmdlet n;
    n.name = "New-ADReplicationSite";
    n.kind = Kind::AdSite;
    n.synopsis = "Creates an Active Directory site.";
    n.params = {{"Name", ParamType::String, true, 0, "the site's name"}, confirmParam()};
    n.input = Cmdlet::Input::PerItem;
    n.run = [](Env& env, const Cmdlet&, const Bound& b, const std::vector<PipeObject>&, std::vector<PipeObject>& out) -> Result<void> {
      AdSite s;
      s.id = env.org.allocateId(Kind::AdSite);
      if (auto r = setFromBound(env.org, s, b, "Name", "Name"); !r) return r;
      if (auto r = addNew(env.org, s, "ADReplicationSite", out); !r) return r;
      return {};
    };
    add(n, "New-ADReplicationSite -Name Paris");
  }
  {
    auto g = makeGet<AdSite>("ADReplicationSite", "ADReplicationSite", nullptr,
                             {{{"Filter", ParamType::String, false, -1, "only * (all sites) is supported"},
                               [](const Organization&, ObjectRef, const std::string&) { return true; }}});
    add(g, "Get-ADReplicationSite -Filter *");
  }
  add(makeRemove<AdSite>("ADReplicationSite", nullptr,
                         [](const Organization& org, const AdSite& s) -> Result<void> {
                           for (auto& [id, x] : org.all<ExchangeServer>())
                             if (x.site == s.id) return fail("the server " + q(x.name) + " is in site " + q(s.name));
                           for (auto& [id, x] : org.all<ClientAccessArray>())
                             if (x.site == s.id) return fail("the array " + q(x.name) + " is in site " + q(s.name));
                           for (auto& [id, x] : org.all<AdSubnet>())
                             if (x.site == s.id) return fail("the subnet " + q(x.name()) + " belongs to site " + q(s.name));
                           return {};
                         }),
      "Remove-ADReplicationSite -Identity Paris");
  {
    Cmdlet n;
    n.name = "New-ADReplicationSubnet";
    n.kind = Kind::AdSubnet;
    n.synopsis = "Creates a subnet (CIDR) and ties it to a site, so that client addresses map to sites.";
    n.params = {{"Name", ParamType::String, true, 0, "the range in CIDR notation, e.g. 10.1.0.0/16"},
                {"Site", ParamType::String, false, -1, "the site it belongs to (default: the only site)"},
                confirmParam()};
    n.input = Cmdlet::Input::PerItem;
    n.run = [](Env& env, const Cmdlet&, const Bound& b, const std::vector<PipeObject>&, std::vector<PipeObject>& out) -> Result<void> {
      AdSubnet s;
      s.id = env.org.allocateId(Kind::AdSubnet);
      if (auto r = setFromBound(env.org, s, b, "Name", "Name"); !r) return r;
      auto site = siteParamOrOnly(env.org, b);
      if (!site) return std::unexpected(site.error());
      s.site = *site;
      if (auto r = addNew(env.org, s, "ADReplicationSubnet", out); !r) return r;
      return {};
    };
    add(n, "New-ADReplicationSubnet -Name 10.1.0.0/16 -Site Paris");
  }
  add(makeGet<AdSubnet>("ADReplicationSubnet", "ADReplicationSubnet", nullptr,
                        {{{"Filter", ParamType::String, false, -1, "only * (all subnets) is supported"},
                          [](const Organization&, ObjectRef, const std::string&) { return true; }}}),
      "Get-ADReplicationSubnet -Filter *");
  add(makeRemove<AdSubnet>("ADReplicationSubnet", nullptr, nullptr), "Remove-ADReplicationSubnet -Identity 10.1.0.0/16");

  // Exchange servers.
  {
    Cmdlet n;
    n.name = "New-ExchangeServer";
    n.kind = Kind::ExchangeServer;
    n.synopsis =
        "Adds a server as Exchange setup does: with every default virtual directory (InternalUrl "
        "https://<fqdn>/<path>, no ExternalUrl; the Autodiscover directory's URLs stay empty, as in Exchange), "
        "Outlook Anywhere, and AutoDiscoverServiceInternalUri https://<fqdn>/Autodiscover/Autodiscover.xml.";
    n.params = {{"Name", ParamType::String, true, 0, "the server's (NetBIOS) name, e.g. EX01"},
                {"Fqdn", ParamType::String, true, -1, "the server's DNS name, e.g. ex01.contoso.local"},
                {"Site", ParamType::String, false, -1, "its AD site (default: the only site)"},
                {"ServerRole", ParamType::List, false, -1, "Mailbox, ClientAccess (default), HubTransport, ..."},
                {"AdminDisplayVersion", ParamType::String, false, -1,
                 "its version, e.g. \"Version 14.3 (Build 123.4)\" (default Version 15.2 (Build 1118.7))"},
                confirmParam()};
    n.input = Cmdlet::Input::PerItem;
    n.run = [](Env& env, const Cmdlet&, const Bound& b, const std::vector<PipeObject>&, std::vector<PipeObject>& out) -> Result<void> {
      ExchangeServer s;
      s.id = env.org.allocateId(Kind::ExchangeServer);
      s.version = *parseServerVersion("Version 15.2 (Build 1118.7)");
      if (auto r = setParams(env.org, s, b, {"Name", "Fqdn", "ServerRole", "AdminDisplayVersion"}); !r) return r;
      s.fqdn = text::toLower(s.fqdn);
      auto site = siteParamOrOnly(env.org, b);
      if (!site) return std::unexpected(site.error());
      s.site = *site;
      if (s.isClientAccess()) {
        s.autoDiscoverServiceInternalUri = defaultAutoDiscoverServiceInternalUri(s);
        s.autoDiscoverSiteScope = {env.org.find<AdSite>(s.site)->name};
      }
      if (auto r = addNew(env.org, s, "ExchangeServer", out); !r) return r;
      if (s.isClientAccess()) {
        for (auto v : defaultVirtualDirectories(s)) {
          v.id = env.org.allocateId(Kind::VirtualDirectory);
          env.org.put(v);
        }
        auto oa = defaultOutlookAnywhere(s);
        oa.id = env.org.allocateId(Kind::OutlookAnywhere);
        env.org.put(oa);
      }
      return {};
    };
    add(n, "New-ExchangeServer -Name EX01 -Fqdn ex01.contoso.local -Site Default-First-Site-Name");
  }
  add(makeGet<ExchangeServer>("ExchangeServer", "ExchangeServer", nullptr), "Get-ExchangeServer");
  add(makeRemove<ExchangeServer>(
          "ExchangeServer", nullptr,
          [](const Organization& org, const ExchangeServer& s) -> Result<void> {
            for (auto& [id, d] : org.all<MailboxDatabase>())
              if (d.server == s.id)
                return fail("the mailbox database " + q(d.name) + " is on " + q(s.name) + "; remove or move it first");
            return {};
          },
          [](Organization& org, const ExchangeServer& s) {
            for (auto* v : org.vdirsOf(s.id)) org.erase<VirtualDirectory>(v->id);
            if (auto* oa = org.outlookAnywhereOf(s.id)) org.erase<OutlookAnywhere>(oa->id);
          }),
      "Remove-ExchangeServer -Identity EX02");

  // Client Access servers (Exchange 2016 renamed the cmdlets *-ClientAccessService).
  Pred<ExchangeServer> isCas = [](const Organization&, const ExchangeServer& s) { return s.isClientAccess(); };
  for (std::string noun : {"ClientAccessServer", "ClientAccessService"}) {
    add(makeGet<ExchangeServer>(noun, "ClientAccessServer", isCas), "Get-" + noun + " -Identity EX01 | Format-List");
    add(makeSet<ExchangeServer>(noun, isCas, {"AutoDiscoverServiceInternalUri", "AutoDiscoverSiteScope"}),
        "Set-" + noun + " -Identity EX01 -AutoDiscoverServiceInternalUri https://mail.contoso.com/Autodiscover/Autodiscover.xml");
  }

  // Virtual directories.
  struct VdirNoun {
    const char* noun;
    VdirType type;
    const char* example;
  };
  static const VdirNoun vdirNouns[] = {
      {"OwaVirtualDirectory", VdirType::Owa, "\"EX01\\owa (Default Web Site)\" -ExternalUrl https://mail.contoso.com/owa"},
      {"OabVirtualDirectory", VdirType::Oab, "\"EX01\\OAB (Default Web Site)\" -ExternalUrl https://mail.contoso.com/OAB"},
      {"WebServicesVirtualDirectory", VdirType::Ews,
       "\"EX01\\EWS (Default Web Site)\" -ExternalUrl https://mail.contoso.com/EWS/Exchange.asmx"},
      {"ActiveSyncVirtualDirectory", VdirType::ActiveSync,
       "\"EX01\\Microsoft-Server-ActiveSync (Default Web Site)\" -ExternalUrl https://mail.contoso.com/Microsoft-Server-ActiveSync"},
      {"EcpVirtualDirectory", VdirType::Ecp, "\"EX01\\ecp (Default Web Site)\" -ExternalUrl https://mail.contoso.com/ecp"},
      {"AutodiscoverVirtualDirectory", VdirType::Autodiscover, "\"EX01\\Autodiscover (Default Web Site)\" -BasicAuthentication $true"},
      {"MapiVirtualDirectory", VdirType::Mapi, "\"EX01\\mapi (Default Web Site)\" -ExternalUrl https://mail.contoso.com/mapi"},
  };
  for (auto& vn : vdirNouns) {
    VdirType type = vn.type;
    Pred<VirtualDirectory> ofType = [type](const Organization&, const VirtualDirectory& v) { return v.type == type; };
    Filter byServer = serverFilter<VirtualDirectory>("only the directories of this server");
    add(makeGet<VirtualDirectory>(vn.noun, "VirtualDirectory", ofType, {byServer}),
        std::string("Get-") + vn.noun + " -Server EX01 | Format-List InternalUrl,ExternalUrl");
    SetHook<VirtualDirectory> hook = nullptr;
    if (type == VdirType::Autodiscover) {
      hook = [](Env& env, const Bound& b, const VirtualDirectory& before, VirtualDirectory&) -> Result<void> {
        if (b.has("InternalUrl") || b.has("ExternalUrl")) {
          auto* s = env.org.find<ExchangeServer>(before.server);
          env.err << "WARNING: The InternalUrl and ExternalUrl of the Autodiscover virtual directory are stored but "
                     "not used: Autodiscover clients are not told them. To change the URL that domain-joined "
                     "Outlook finds, run: Set-ClientAccessServer -Identity "
                  << (s ? s->name : std::string("<server>"))
                  << " -AutoDiscoverServiceInternalUri https://<name>/Autodiscover/Autodiscover.xml\n";
        }
        return {};
      };
    }
    add(makeSet<VirtualDirectory>(vn.noun, ofType,
                                  {"InternalUrl", "ExternalUrl", "InternalAuthenticationMethods",
                                   "ExternalAuthenticationMethods", "BasicAuthentication", "DigestAuthentication",
                                   "FormsAuthentication", "WindowsAuthentication"},
                                  {}, hook),
        std::string("Set-") + vn.noun + " -Identity " + vn.example);
  }

  // Outlook Anywhere.
  add(makeGet<OutlookAnywhere>("OutlookAnywhere", "OutlookAnywhere", nullptr,
                               {serverFilter<OutlookAnywhere>("only this server's")}),
      "Get-OutlookAnywhere | Format-List *Hostname,*Authentication*");
  add(makeSet<OutlookAnywhere>("OutlookAnywhere", nullptr,
                               {"InternalHostname", "ExternalHostname", "InternalClientsRequireSsl",
                                "ExternalClientsRequireSsl", "InternalClientAuthenticationMethod",
                                "ExternalClientAuthenticationMethod", "IISAuthenticationMethods"}),
      "Set-OutlookAnywhere -Identity \"EX01\\Rpc (Default Web Site)\" -ExternalHostname mail.contoso.com "
      "-ExternalClientsRequireSsl $true -ExternalClientAuthenticationMethod Basic");

  // CAS arrays.
  {
    Cmdlet n;
    n.name = "New-ClientAccessArray";
    n.kind = Kind::ClientAccessArray;
    n.synopsis =
        "Creates a CAS array: one name for the Client Access Servers of a site. Mailbox databases created "
        "in the site afterwards use its FQDN as RpcClientAccessServer; existing ones keep theirs.";
    n.params = {{"Name", ParamType::String, true, 0, "the array's name"},
                {"Fqdn", ParamType::String, true, -1, "the name clients use, e.g. outlook.contoso.local"},
                {"Site", ParamType::String, false, -1, "its AD site (default: the only site)"},
                confirmParam(), dcParam()};
    n.input = Cmdlet::Input::PerItem;
    n.run = [](Env& env, const Cmdlet&, const Bound& b, const std::vector<PipeObject>&, std::vector<PipeObject>& out) -> Result<void> {
      ClientAccessArray a;
      a.id = env.org.allocateId(Kind::ClientAccessArray);
      if (auto r = setParams(env.org, a, b, {"Name", "Fqdn"}); !r) return r;
      a.fqdn = text::toLower(a.fqdn);
      auto site = siteParamOrOnly(env.org, b);
      if (!site) return std::unexpected(site.error());
      a.site = *site;
      if (auto r = addNew(env.org, a, "ClientAccessArray", out); !r) return r;
      return {};
    };
    add(n, "New-ClientAccessArray -Fqdn outlook.contoso.local -Name CAS_Array -Site Default-First-Site-Name");
  }
  add(makeGet<ClientAccessArray>("ClientAccessArray", "ClientAccessArray", nullptr), "Get-ClientAccessArray");
  add(makeSet<ClientAccessArray>("ClientAccessArray", nullptr, {"Name", "Fqdn", "Site"}),
      "Set-ClientAccessArray -Identity CAS_Array -Fqdn outlook.contoso.local");
  add(makeRemove<ClientAccessArray>("ClientAccessArray", nullptr, nullptr), "Remove-ClientAccessArray -Identity CAS_Array");

  // Mailbox databases.
  {
    Cmdlet n;
    n.name = "New-MailboxDatabase";
    n.kind = Kind::MailboxDatabase;
    n.synopsis =
        "Creates a mailbox database on a server. Its RpcClientAccessServer is the FQDN of the CAS array of the "
        "server's site if there is one, else the server's FQDN.";
    n.params = {{"Name", ParamType::String, true, 0, "the database's name"},
                {"Server", ParamType::String, true, -1, "the mailbox server that hosts it"},
                confirmParam(), dcParam()};
    n.input = Cmdlet::Input::PerItem;
    n.run = [](Env& env, const Cmdlet&, const Bound& b, const std::vector<PipeObject>&, std::vector<PipeObject>& out) -> Result<void> {
      MailboxDatabase d;
      d.id = env.org.allocateId(Kind::MailboxDatabase);
      d.guid = newGuid(env);
      if (auto r = setParams(env.org, d, b, {"Name", "Server"}); !r) return r;
      if (auto* s = env.org.find<ExchangeServer>(d.server)) {
        auto* array = env.org.arrayInSite(s->site);
        d.rpcClientAccessServer = array ? array->fqdn : s->fqdn;
      }
      if (auto r = addNew(env.org, d, "MailboxDatabase", out); !r) return r;
      return {};
    };
    add(n, "New-MailboxDatabase -Name DB02 -Server EX01");
  }
  add(makeGet<MailboxDatabase>("MailboxDatabase", "MailboxDatabase", nullptr,
                               {serverFilter<MailboxDatabase>("only the databases on this server")}),
      "Get-MailboxDatabase | Format-Table Name,Server,RpcClientAccessServer");
  add(makeSet<MailboxDatabase>("MailboxDatabase", nullptr, {"Name", "RpcClientAccessServer"}),
      "Get-MailboxDatabase | Set-MailboxDatabase -RpcClientAccessServer outlook.contoso.local");
  add(makeRemove<MailboxDatabase>("MailboxDatabase", nullptr,
                                  [](const Organization& org, const MailboxDatabase& d) -> Result<void> {
                                    const Recipient* user = nullptr;
                                    org.forEachRecipient([&](const Recipient& r) {
                                      if (!user && r.database == d.id) user = &r;
                                    });
                                    if (user)
                                      return fail("the database " + q(d.name) + " still holds the mailbox " +
                                                  q(user->name()) + " (and maybe others)");
                                    return {};
                                  }),
      "Remove-MailboxDatabase -Identity DB02");

  // Recipients.
  auto isType = [](RecipientType t) -> Pred<Recipient> {
    return [t](const Organization&, const Recipient& r) { return r.type == t; };
  };
  auto newRecipient = [](RecipientType type) {
    return [type](Env& env, const Cmdlet&, const Bound& b, const std::vector<PipeObject>&,
                  std::vector<PipeObject>& out) -> Result<void> {
      Recipient r;
      r.type = type;
      r.id = env.org.allocateId(Kind::Recipient);
      if (auto res = setFromBound(env.org, r, b, "Name", "Name"); !res) return res;
      // Defaults as Exchange derives them: alias from the name, display name = name, primary
      // address alias@<default accepted domain>.
      if (b.has("Alias")) {
        if (auto res = setFromBound(env.org, r, b, "Alias", "Alias"); !res) return res;
      } else {
        std::string alias;
        for (char c : r.name())
          if (std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-/=?^_`{|}~.").find(c) != std::string_view::npos)
            alias += c;
        while (!alias.empty() && alias.front() == '.') alias.erase(0, 1);
        while (!alias.empty() && alias.back() == '.') alias.pop_back();
        if (alias.empty()) return fail("-Name " + q(r.name()) + ": no alias can be made from it; give -Alias");
        r.setField(Recipient::Alias, alias.substr(0, 64));
      }
      if (b.has("DisplayName")) {
        if (auto res = setFromBound(env.org, r, b, "DisplayName", "DisplayName"); !res) return res;
      } else {
        r.setField(Recipient::DisplayName, r.name());
      }
      if (b.has("PrimarySmtpAddress")) {
        if (auto res = setFromBound(env.org, r, b, "PrimarySmtpAddress", "PrimarySmtpAddress"); !res) return res;
      } else {
        const AcceptedDomain* dflt = nullptr;
        for (auto& [id, d] : env.org.all<AcceptedDomain>())
          if (d.isDefault) dflt = &d;
        if (!dflt) return fail("no accepted domain to make an address in; run New-AcceptedDomain or give -PrimarySmtpAddress");
        r.setEmailAddresses({"SMTP:" + std::string(r.alias()) + "@" + dflt->domainName});
      }
      if (type == RecipientType::Mailbox) {
        if (b.has("Database")) {
          if (auto res = setFromBound(env.org, r, b, "Database", "Database"); !res) return res;
        } else {
          auto& dbs = env.org.all<MailboxDatabase>();
          if (dbs.empty()) return fail("there is no mailbox database; create one with New-MailboxDatabase");
          r.database = dbs.begin()->first;
        }
        r.exchangeGuid = newGuid(env);
      } else {
        if (auto res = setFromBound(env.org, r, b, "ExternalEmailAddress", "ExternalEmailAddress"); !res) return res;
      }
      r.setField(Recipient::LegacyExchangeDn, deriveLegacyExchangeDn(env.org, r.alias(), newGuid(env)));
      if (b.has("Password")) {
        auto hash = auth::hashPassword(str(b, "Password"));
        if (!hash) return fail("-Password: " + hash.error().message);
        r.setField(Recipient::PasswordHash, *hash);
      }
      if (auto res = addNew(env.org, std::move(r), type == RecipientType::Mailbox ? "Mailbox" : "MailUser", out); !res)
        return res;
      return {};
    };
  };
  {
    Cmdlet n;
    n.name = "New-Mailbox";
    n.kind = Kind::Recipient;
    n.synopsis =
        "Creates a mailbox. Alias defaults to the name, DisplayName to the name, the primary address to "
        "alias@<default accepted domain>, the database to the first one.";
    n.params = {{"Name", ParamType::String, true, 0, "the mailbox's unique name"},
                {"Alias", ParamType::String, false, -1, "the unique alias"},
                {"DisplayName", ParamType::String, false, -1, "the name shown in address lists"},
                {"PrimarySmtpAddress", ParamType::String, false, -1, "the primary SMTP address"},
                {"Database", ParamType::String, false, -1, "the mailbox database"},
                {"Password", ParamType::String, false, -1,
                 "the password for Basic authentication, stored as an argon2id hash (a plain string, or "
                 "(ConvertTo-SecureString -String '...' -AsPlainText -Force))"},
                confirmParam(), dcParam()};
    n.input = Cmdlet::Input::PerItem;
    n.run = newRecipient(RecipientType::Mailbox);
    add(n, "Import-Csv users.csv | New-Mailbox");
  }
  {
    Cmdlet n;
    n.name = "New-MailUser";
    n.kind = Kind::Recipient;
    n.synopsis = "Creates a mail user: an address here whose mailbox is elsewhere (Autodiscover redirects to it).";
    n.params = {{"Name", ParamType::String, true, 0, "the unique name"},
                {"ExternalEmailAddress", ParamType::String, true, -1, "where its mail really goes"},
                {"Alias", ParamType::String, false, -1, "the unique alias"},
                {"DisplayName", ParamType::String, false, -1, "the name shown in address lists"},
                {"PrimarySmtpAddress", ParamType::String, false, -1, "its address in this organisation"},
                confirmParam(), dcParam()};
    n.input = Cmdlet::Input::PerItem;
    n.run = newRecipient(RecipientType::MailUser);
    add(n, "New-MailUser -Name Bob -ExternalEmailAddress bob@fabrikam.com -PrimarySmtpAddress bob@contoso.com");
  }
  Filter byDatabase{{"Database", ParamType::String, false, -1, "only the mailboxes in this database"},
                    [](const Organization& org, ObjectRef ref, const std::string& db) {
                      auto* r = org.find<Recipient>(ref.id);
                      auto* d = org.find<MailboxDatabase>(r->database);
                      return d && text::iequals(d->name, db);
                    }};
  add(makeGet<Recipient>("Mailbox", "Mailbox", isType(RecipientType::Mailbox), {byDatabase}, true),
      "Get-Mailbox -ResultSize Unlimited | Measure-Object");
  add(makeSet<Recipient>("Mailbox", isType(RecipientType::Mailbox),
                         {"Name", "Alias", "DisplayName", "PrimarySmtpAddress", "EmailAddresses"},
                         {{"Password", ParamType::String, false, -1,
                           "a new password for Basic authentication (stored as an argon2id hash)"}},
                         [](Env&, const Bound& b, const Recipient&, Recipient& after) -> Result<void> {
                           if (!b.has("Password")) return {};
                           auto hash = auth::hashPassword(str(b, "Password"));
                           if (!hash) return fail("-Password: " + hash.error().message);
                           after.setField(Recipient::PasswordHash, *hash);
                           return {};
                         }),
      "Set-Mailbox -Identity alice -EmailAddresses SMTP:alice@contoso.com,smtp:a.smith@contoso.com");
  add(makeRemove<Recipient>("Mailbox", isType(RecipientType::Mailbox), nullptr), "Remove-Mailbox -Identity alice");
  add(makeGet<Recipient>("MailUser", "MailUser", isType(RecipientType::MailUser), {}, true), "Get-MailUser");
  add(makeSet<Recipient>("MailUser", isType(RecipientType::MailUser),
                         {"Name", "Alias", "DisplayName", "PrimarySmtpAddress", "EmailAddresses", "ExternalEmailAddress"}),
      "Set-MailUser -Identity bob -ExternalEmailAddress bob@fabrikam.net");
  add(makeRemove<Recipient>("MailUser", isType(RecipientType::MailUser), nullptr), "Remove-MailUser -Identity bob");
  add(makeGet<Recipient>("Recipient", "Recipient", nullptr, {}, true), "Get-Recipient -Identity *@contoso.com");

  // Outlook providers and the organisation.
  add(makeGet<OutlookProvider>("OutlookProvider", "OutlookProvider", nullptr), "Get-OutlookProvider");
  add(makeSet<OutlookProvider>("OutlookProvider", nullptr, {"CertPrincipalName", "TTL", "Server"}),
      "Set-OutlookProvider -Identity EXPR -CertPrincipalName msstd:mail.contoso.com");
  {
    Cmdlet g;
    g.name = "Get-OrganizationConfig";
    g.kind = Kind::OrganizationConfig;
    g.synopsis = "Shows the organisation's settings.";
    g.params = {dcParam()};
    g.run = [](Env&, const Cmdlet&, const Bound&, const std::vector<PipeObject>&, std::vector<PipeObject>& out) -> Result<void> {
      out.push_back({ObjectRef{Kind::OrganizationConfig, 0}, "OrganizationConfig"});
      return {};
    };
    add(g, "Get-OrganizationConfig | Format-List Name,MapiHttpEnabled");
  }
  add(makeSet<OrganizationConfig>("OrganizationConfig", nullptr, {"Name", "MapiHttpEnabled"}),
      "Set-OrganizationConfig -MapiHttpEnabled $true");

  // Formatting and utilities.
  {
    Cmdlet c;
    c.name = "Format-List";
    c.synopsis = "Prints each object as a list of properties (all of them, or the ones named; * wildcards allowed).";
    c.params = {{"Property", ParamType::List, false, 0, "the properties to show"}};
    c.input = Cmdlet::Input::All;
    c.run = [](Env& env, const Cmdlet&, const Bound& b, const std::vector<PipeObject>& in, std::vector<PipeObject>&) -> Result<void> {
      std::vector<std::string> wanted;
      if (auto* v = b.get("Property")) wanted = asList(*v).value_or(std::vector<std::string>{});
      formatList(env.org, in, wanted, env.out);
      return {};
    };
    add(c, "Get-ClientAccessServer | Format-List Name,AutoDiscoverServiceInternalUri", {"fl"});
  }
  {
    Cmdlet c;
    c.name = "Format-Table";
    c.synopsis = "Prints the objects as a table (the default columns, or the properties named).";
    c.params = {{"Property", ParamType::List, false, 0, "the columns"},
                {"AutoSize", ParamType::Switch, false, -1, "accepted; columns always fit their contents"}};
    c.input = Cmdlet::Input::All;
    c.run = [](Env& env, const Cmdlet&, const Bound& b, const std::vector<PipeObject>& in, std::vector<PipeObject>&) -> Result<void> {
      std::vector<std::string> wanted;
      if (auto* v = b.get("Property")) wanted = asList(*v).value_or(std::vector<std::string>{});
      formatTable(env.org, in, wanted, env.out);
      return {};
    };
    add(c, "Get-OwaVirtualDirectory | Format-Table Server,InternalUrl,ExternalUrl", {"ft"});
  }
  {
    Cmdlet c;
    c.name = "ConvertTo-Json";
    c.synopsis = "Prints the objects as JSON (one object, or an array of several).";
    c.params = {{"Compress", ParamType::Switch, false, -1, "on one line"},
                {"Depth", ParamType::Int, false, -1, "accepted; objects are always written whole"}};
    c.input = Cmdlet::Input::All;
    c.run = [](Env& env, const Cmdlet&, const Bound& b, const std::vector<PipeObject>& in, std::vector<PipeObject>&) -> Result<void> {
      bool compress = b.has("Compress") && asBool(*b.get("Compress")).value_or(false);
      formatJson(env.org, in, compress, env.out);
      return {};
    };
    add(c, "Get-Mailbox -Identity alice | ConvertTo-Json");
  }
  {
    Cmdlet c;
    c.name = "Measure-Object";
    c.synopsis = "Counts the objects.";
    c.input = Cmdlet::Input::All;
    c.run = [](Env& env, const Cmdlet&, const Bound&, const std::vector<PipeObject>& in, std::vector<PipeObject>&) -> Result<void> {
      env.out << "\nCount    : " << in.size() << "\n\n";
      return {};
    };
    add(c, "Get-Mailbox -ResultSize Unlimited | Measure-Object", {"measure"});
  }
  {
    Cmdlet c;
    c.name = "Import-Csv";
    c.synopsis =
        "Reads a CSV file (a header row, then one object per row) for the next cmdlet, which binds the columns "
        "to its parameters by name; other columns are ignored.";
    c.params = {{"Path", ParamType::String, true, 0, "the CSV file"},
                {"Delimiter", ParamType::String, false, -1, "the column separator (default ,)"}};
    c.run = [](Env&, const Cmdlet&, const Bound& b, const std::vector<PipeObject>&, std::vector<PipeObject>& out) -> Result<void> {
      auto path = str(b, "Path");
      auto delim = str(b, "Delimiter");
      if (delim.size() > 1) return fail("-Delimiter " + q(delim) + ": one character is expected");
      std::ifstream f(path, std::ios::binary);
      if (!f) return fail("-Path " + q(path) + ": cannot open the file");
      std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      auto rows = parseCsv(data, delim.empty() ? ',' : delim[0]);
      if (!rows) return fail("-Path " + q(path) + ": " + rows.error().message);
      for (auto& r : *rows) out.push_back({std::move(r), ""});
      return {};
    };
    add(c, "Import-Csv -Path users.csv | New-Mailbox");
  }
  {
    Cmdlet c;
    c.name = "Get-Command";
    c.synopsis = "Lists the cmdlets (all, or those whose names match a pattern with * wildcards).";
    c.params = {{"Name", ParamType::String, false, 0, "a name or pattern, e.g. *VirtualDirectory"}};
    c.run = [](Env& env, const Cmdlet&, const Bound& b, const std::vector<PipeObject>&, std::vector<PipeObject>&) -> Result<void> {
      auto pattern = b.has("Name") ? str(b, "Name") : std::string("*");
      for (auto& x : cmdlets())
        if (wildcardMatch(pattern, x.name)) env.out << x.name << "\n";
      return {};
    };
    add(c, "Get-Command *VirtualDirectory");
  }
  {
    Cmdlet c;
    c.name = "Get-AutodiscoverResponse";
    c.synopsis =
        "Prints the exact answer the service gives for an address (POX for Outlook or ActiveSync, SOAP "
        "GetUserSettings, or Autodiscover v2 JSON) and, for each value in it, the chain that produced it (address, "
        "recipient, database, server or array, site, virtual directory, InternalUrl or ExternalUrl). A "
        "-ClientAddress outside every AD site subnet is answered as an external client.";
    c.params = {{"EmailAddress", ParamType::String, true, 0, "the address a client asks about"},
                {"Schema", ParamType::String, false, -1, "Outlook (default), MobileSync, Soap or Json"},
                {"ClientAddress", ParamType::String, false, -1, "the client's IP address (default: an internal client)"},
                {"Setting", ParamType::List, false, -1, "Soap: the settings asked for (default: every setting name)"},
                {"Protocol", ParamType::String, false, -1, "Json: AutodiscoverV1, Ews (default) or ActiveSync"}};
    c.run = [](Env& env, const Cmdlet&, const Bound& b, const std::vector<PipeObject>&, std::vector<PipeObject>&) -> Result<void> {
      autodiscover::Query query;
      query.emailAddress = str(b, "EmailAddress");
      query.explain = true;
      auto schema = b.has("Schema") ? str(b, "Schema") : std::string("Outlook");
      bool soap = text::iequals(schema, "Soap"), json = text::iequals(schema, "Json");
      if (text::iequals(schema, "Outlook") || soap || json) query.schema = autodiscover::Schema::Outlook;
      else if (text::iequals(schema, "MobileSync")) query.schema = autodiscover::Schema::MobileSync;
      else return fail("-Schema " + q(schema) + ": expected Outlook, MobileSync, Soap or Json");
      if (b.has("Setting") && !soap) return fail("-Setting is for -Schema Soap");
      if (b.has("Protocol") && !json) return fail("-Protocol is for -Schema Json");
      std::vector<std::string> settings;
      if (auto* v = b.get("Setting")) settings = asList(*v).value_or(std::vector<std::string>{});
      if (soap && settings.empty())
        for (auto n : autodiscover::userSettingNames()) settings.emplace_back(n);
      std::string protocolName = b.has("Protocol") ? str(b, "Protocol") : std::string("Ews");
      if (b.has("ClientAddress")) {
        auto ip = parseIpAddress(str(b, "ClientAddress"));
        if (!ip) return fail("-ClientAddress " + q(str(b, "ClientAddress")) + ": " + ip.error().message);
        auto* site = env.org.siteForAddress(*ip);
        query.internalClient = site != nullptr;
        env.out << "Client " << str(b, "ClientAddress") << ": "
                << (site ? "internal (site " + site->name + ")" : std::string("external (in no AD site subnet)")) << "\n";
      }
      if (soap) {
        protocol::SoapRequest req;
        req.operation = protocol::SoapOperation::GetUserSettings;
        req.requestedServerVersion = "Exchange2013_SP1";
        req.users = {query.emailAddress};
        req.settings = settings;
        env.out << protocol::answerSoap(env.org, req, protocol::SoapContext{query.internalClient, nullptr}).body;
      } else if (json) {
        protocol::JsonRequest req;
        req.email = query.emailAddress;
        req.protocol = protocolName;
        auto res = protocol::answerJson(env.org, req, query.internalClient, nullptr);
        env.out << "HTTP " << res.status << (res.location.empty() ? "" : " Location: " + res.location) << "\n"
                << res.body << "\n";
      }
      auto answer = autodiscover::resolve(env.org, query);
      if (!soap && !json)
        env.out << protocol::renderPox(answer, query.schema, protocol::ErrorStamp{env.clockText(), "0"});
      env.out << "\nHow this answer was made:\n";
      for (auto& step : answer.chain) env.out << "  " << step.what << ": " << step.value << "\n";
      return {};
    };
    add(c, "Get-AutodiscoverResponse -EmailAddress alice@contoso.com -ClientAddress 203.0.113.7");
    // (also: Get-AutodiscoverResponse alice@contoso.com -Schema Soap -Setting ExternalEwsUrl,UserDisplayName)
  }
  // Certificates (the organisation's; every node serves the one enabled for IIS).
  {
    Cmdlet n;
    n.name = "New-ExchangeCertificate";
    n.kind = Kind::ExchangeCertificate;
    n.synopsis =
        "With -GenerateRequest: makes a private key (kept in the store) and a certificate request (PKCS #10) "
        "for a certificate authority. Without -DomainName the request carries every name clients are handed "
        "(what `autodisc doctor` checks the certificate against). Import-ExchangeCertificate takes the answer.";
    n.params = {{"GenerateRequest", ParamType::Switch, false, -1, "make a request for a CA (required: autodisc makes no self-signed certificates)"},
                {"SubjectName", ParamType::String, false, -1, "the subject, e.g. \"C=US, O=Contoso, CN=mail.contoso.com\" (default CN=<the first name>)"},
                {"DomainName", ParamType::List, false, -1, "the DNS names (default: every name clients are handed)"},
                {"FriendlyName", ParamType::String, false, -1, "a name for people (default: the subject's)"},
                {"KeySize", ParamType::Int, false, -1, "RSA key size: 2048 (default), 3072 or 4096"},
                {"RequestFile", ParamType::String, false, -1, "write the request to this file (else it is printed)"},
                {"PrivateKeyExportable", ParamType::Bool, false, -1, "accepted for compatibility; the key stays in the store"},
                confirmParam(), dcParam()};
    n.run = [](Env& env, const Cmdlet&, const Bound& b, const std::vector<PipeObject>&, std::vector<PipeObject>& out) -> Result<void> {
      if (!b.has("GenerateRequest"))
        return fail("autodisc makes no self-signed certificates: use -GenerateRequest, have a CA answer the request, "
                    "then Import-ExchangeCertificate");
      std::vector<std::string> names;
      if (b.has("DomainName")) {
        auto l = asList(*b.get("DomainName"));
        if (!l) return fail("-DomainName: " + l.error().message);
        for (auto& raw : *l) {
          std::string h = text::toLower(text::trim(raw));
          std::string_view bare = h;
          if (bare.starts_with("*.")) bare.remove_prefix(2);
          if (auto ok = checkFqdn(bare); !ok) return fail("-DomainName " + q(raw) + ": " + ok.error().message);
          if (std::find(names.begin(), names.end(), h) == names.end()) names.push_back(h);
        }
      } else {
        names = doctor::namesToCertify(env.org);
        if (names.empty())
          return fail("the organisation hands clients no host names yet: give -DomainName");
      }
      if (names.empty()) return fail("-DomainName: at least one name is needed");
      std::int64_t bits = 2048;
      if (b.has("KeySize")) {
        auto k = asInt(*b.get("KeySize"));
        if (!k) return fail("-KeySize: " + k.error().message);
        bits = *k;
      }
      std::string subject = b.has("SubjectName") ? str(b, "SubjectName") : "CN=" + names.front();
      auto req = cert::generateRequest(subject, names, static_cast<int>(bits));
      if (!req) return std::unexpected(req.error());
      ExchangeCertificate c;
      c.id = env.org.allocateId(Kind::ExchangeCertificate);
      c.thumbprint = req->thumbprint;
      c.subject = subject;
      c.friendlyName = b.has("FriendlyName") ? str(b, "FriendlyName") : subject;
      c.certificateDomains = names;
      c.requestPem = req->requestPem;
      c.privateKeyPem = req->keyPem;
      for (auto& h : names)
        if (!doctor::publiclyCertifiable(h))
          env.err << "WARNING: public certificate authorities no longer certify " << h
                  << "; `autodisc doctor` says which URL to point at a public name instead.\n";
      std::string file = str(b, "RequestFile");
      if (auto r = addNew(env.org, c, "ExchangeCertificate", out); !r) return r;
      if (!file.empty()) {
        std::ofstream f(file, std::ios::binary | std::ios::trunc);
        if (!(f << req->requestPem) || !f.flush()) return fail("-RequestFile " + q(file) + ": cannot write the file");
      } else {
        env.out << req->requestPem;
      }
      return {};
    };
    add(n, "New-ExchangeCertificate -GenerateRequest -SubjectName \"C=US, O=Contoso, CN=mail.contoso.com\" "
           "-DomainName mail.contoso.com,autodiscover.contoso.com -RequestFile mail.csr");
  }
  {
    Cmdlet n;
    n.name = "Import-ExchangeCertificate";
    n.kind = Kind::ExchangeCertificate;
    n.synopsis =
        "Imports a certificate chain (PEM, leaf first). Its key comes from the same file, from -PrivateKeyFile, "
        "or from the pending request (New-ExchangeCertificate -GenerateRequest) it answers.";
    n.params = {{"FileName", ParamType::String, true, 0, "the PEM file: the certificate, its intermediates, and perhaps its key"},
                {"PrivateKeyFile", ParamType::String, false, -1, "the private key (PEM), when not in -FileName"},
                {"FriendlyName", ParamType::String, false, -1, "a name for people"},
                confirmParam(), dcParam()};
    n.run = [](Env& env, const Cmdlet&, const Bound& b, const std::vector<PipeObject>&, std::vector<PipeObject>& out) -> Result<void> {
      auto readFile = [](const std::string& path, std::string_view param) -> Result<std::string> {
        std::ifstream f(path, std::ios::binary);
        if (!f) return fail("-" + std::string(param) + " " + q(path) + ": cannot open the file");
        std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        if (data.size() > 1024 * 1024) return fail("-" + std::string(param) + " " + q(path) + ": larger than 1 MiB");
        return data;
      };
      std::string path = str(b, "FileName");
      auto text_ = readFile(path, "FileName");
      if (!text_) return std::unexpected(text_.error());
      auto parsed = cert::parseChain(*text_);
      if (!parsed) return fail("-FileName " + q(path) + ": " + parsed.error().message);
      auto key = cert::privateKeyOf(*text_);
      if (!key) return fail("-FileName " + q(path) + ": " + key.error().message);
      if (b.has("PrivateKeyFile")) {
        std::string kpath = str(b, "PrivateKeyFile");
        auto ktext = readFile(kpath, "PrivateKeyFile");
        if (!ktext) return std::unexpected(ktext.error());
        key = cert::privateKeyOf(*ktext);
        if (!key) return fail("-PrivateKeyFile " + q(kpath) + ": " + key.error().message);
        if (key->empty()) return fail("-PrivateKeyFile " + q(kpath) + ": no PEM private key was found");
      }
      for (auto& [id, other] : env.org.all<ExchangeCertificate>())
        if (text::iequals(other.thumbprint, parsed->thumbprint))
          return fail("the certificate " + parsed->thumbprint + " is already imported");
      ExchangeCertificate c;
      if (!key->empty()) {
        if (auto ok = cert::keyMatches(parsed->chainPem, *key); !ok) return fail("-PrivateKeyFile: " + ok.error().message);
        c.id = env.org.allocateId(Kind::ExchangeCertificate);
      } else {
        // The answer to a pending request: its key is the request's.
        for (auto& [id, pending] : env.org.all<ExchangeCertificate>())
          if (pending.pending() && !pending.privateKeyPem.empty() && cert::keyMatches(parsed->chainPem, pending.privateKeyPem)) {
            c = pending;
            break;
          }
        if (!c.id) c.id = env.org.allocateId(Kind::ExchangeCertificate);
        else env.err << "The certificate answers the pending request " << c.thumbprint << ".\n";
      }
      if (!key->empty()) c.privateKeyPem = *key;
      c.thumbprint = parsed->thumbprint;
      c.subject = parsed->subject;
      c.issuer = parsed->issuer;
      c.certificateDomains = parsed->dnsNames;
      c.notBefore = parsed->notBefore;
      c.notAfter = parsed->notAfter;
      c.selfSigned = parsed->selfSigned;
      c.certificatePem = parsed->chainPem;
      c.services = 0;
      if (b.has("FriendlyName")) c.friendlyName = str(b, "FriendlyName");
      else if (c.friendlyName.empty()) c.friendlyName = parsed->subject;
      if (c.privateKeyPem.empty())
        env.err << "WARNING: the certificate has no private key here, so it cannot be enabled for a service.\n";
      Id id = c.id;
      if (auto ok = validate(env.org, c); !ok) return ok;
      env.org.put(std::move(c));
      out.push_back({ObjectRef{Kind::ExchangeCertificate, id}, "ExchangeCertificate"});
      return {};
    };
    add(n, "Import-ExchangeCertificate -FileName mail.pem");
  }
  auto certificateByThumbprint = [](const Organization& org, const std::string& t) -> Result<Id> {
    std::string want;
    for (char ch : t)
      if (ch != ' ' && ch != ':') want += ch;
    for (auto& [id, c] : org.all<ExchangeCertificate>())
      if (text::iequals(c.thumbprint, want)) return id;
    return fail("the certificate " + q(t) + " couldn't be found (Get-ExchangeCertificate lists them)");
  };
  {
    Cmdlet n;
    n.name = "Enable-ExchangeCertificate";
    n.kind = Kind::ExchangeCertificate;
    n.synopsis =
        "Enables a certificate for services. -Services IIS: every running `autodisc serve` on this store "
        "serves it from its next snapshot, without a restart; only one certificate holds IIS at a time.";
    n.params = {{"Thumbprint", ParamType::String, true, 0, "the certificate"},
                {"Services", ParamType::List, true, -1, "IIS, SMTP, IMAP, POP, UM, UMCallRouter, or None"},
                {"Force", ParamType::Switch, false, -1, "accepted for compatibility; autodisc never prompts"},
                {"DoNotRequireSsl", ParamType::Switch, false, -1, "accepted for compatibility; ignored"},
                confirmParam(), dcParam()};
    n.input = Cmdlet::Input::PerItem;
    n.run = [certificateByThumbprint](Env& env, const Cmdlet&, const Bound& b, const std::vector<PipeObject>&,
                                      std::vector<PipeObject>&) -> Result<void> {
      Id id = 0;
      if (b.identityRef && b.identityRef->kind == Kind::ExchangeCertificate) {
        id = b.identityRef->id;
      } else {
        auto r = certificateByThumbprint(env.org, str(b, "Thumbprint"));
        if (!r) return fail("-Thumbprint: " + r.error().message);
        id = *r;
      }
      auto l = asList(*b.get("Services"));
      if (!l) return fail("-Services: " + l.error().message);
      auto services = parseCertificateServices(*l);
      if (!services) return fail("-Services: " + services.error().message);
      ExchangeCertificate c = *env.org.find<ExchangeCertificate>(id);
      if (c.pending()) return fail("the certificate " + c.thumbprint + " is a pending request: import the CA's answer first");
      if (*services && certificateStatus(c, std::chrono::system_clock::now()) != "Valid")
        return fail("the certificate " + c.thumbprint + " is not valid now (NotBefore " + c.notBefore + ", NotAfter " +
                    c.notAfter + ")");
      c.services |= *services;
      if (auto ok = validate(env.org, c); !ok) return ok;
      if (*services & ServiceIis)
        for (auto& [oid, other] : env.org.all<ExchangeCertificate>())
          if (oid != id && (other.services & ServiceIis)) {
            ExchangeCertificate o = other;
            o.services &= static_cast<std::uint8_t>(~ServiceIis);
            env.err << "IIS moves from the certificate " << o.thumbprint << " to " << c.thumbprint << ".\n";
            env.org.put(std::move(o));
          }
      env.org.put(std::move(c));
      return {};
    };
    add(n, "Enable-ExchangeCertificate -Thumbprint 5113AE0233A72FCCB75B1DB2B7AF8DC4A4A5E2C4 -Services IIS");
  }
  {
    Cmdlet n;
    n.name = "Get-ExchangeCertificate";
    n.kind = Kind::ExchangeCertificate;
    n.synopsis = "Lists the organisation's certificates and pending requests: thumbprint, services, subject, names, validity.";
    n.params = {{"Thumbprint", ParamType::String, false, 0, "only this certificate"},
                {"DomainName", ParamType::String, false, -1, "only certificates whose names cover this host"},
                dcParam()};
    n.run = [certificateByThumbprint](Env& env, const Cmdlet&, const Bound& b, const std::vector<PipeObject>&,
                                      std::vector<PipeObject>& out) -> Result<void> {
      std::vector<Id> ids;
      if (b.has("Thumbprint")) {
        auto r = certificateByThumbprint(env.org, str(b, "Thumbprint"));
        if (!r) return fail("-Thumbprint: " + r.error().message);
        ids.push_back(*r);
      } else {
        for (auto& [id, c] : env.org.all<ExchangeCertificate>()) ids.push_back(id);
      }
      std::string host = str(b, "DomainName");
      for (Id id : ids) {
        auto* c = env.org.find<ExchangeCertificate>(id);
        if (!host.empty() && !doctor::covers(c->certificateDomains, host)) continue;
        out.push_back({ObjectRef{Kind::ExchangeCertificate, id}, "ExchangeCertificate"});
      }
      return {};
    };
    add(n, "Get-ExchangeCertificate | Format-List Thumbprint,Services,Subject,CertificateDomains,NotAfter,Status");
  }
  {
    Cmdlet n;
    n.name = "Remove-ExchangeCertificate";
    n.kind = Kind::ExchangeCertificate;
    n.synopsis = "Removes a certificate or a pending request, with its private key.";
    n.params = {{"Thumbprint", ParamType::String, true, 0, "the certificate"}, confirmParam(), dcParam()};
    n.input = Cmdlet::Input::PerItem;
    n.run = [certificateByThumbprint](Env& env, const Cmdlet&, const Bound& b, const std::vector<PipeObject>&,
                                      std::vector<PipeObject>&) -> Result<void> {
      Id id = 0;
      if (b.identityRef && b.identityRef->kind == Kind::ExchangeCertificate) {
        id = b.identityRef->id;
      } else {
        auto r = certificateByThumbprint(env.org, str(b, "Thumbprint"));
        if (!r) return fail("-Thumbprint: " + r.error().message);
        id = *r;
      }
      if (env.org.find<ExchangeCertificate>(id)->services & ServiceIis)
        env.err << "WARNING: this certificate was enabled for IIS; services go back to their --cert files.\n";
      env.org.erase<ExchangeCertificate>(id);
      return {};
    };
    add(n, "Remove-ExchangeCertificate -Thumbprint 5113AE0233A72FCCB75B1DB2B7AF8DC4A4A5E2C4");
  }
  {
    Cmdlet c;
    c.name = "Test-OutlookWebServices";
    c.synopsis =
        "Runs Autodiscover for a mailbox as Outlook inside the organisation does (the Client Access Server's SCP URL "
        "first), against the running service, then checks each URL of the answer: DNS, TLS and the certificate's "
        "names, and an answer (no credentials). One row a scenario, as Exchange's cmdlet reports them.";
    c.params = {{"Identity", ParamType::String, true, 0, "the mailbox: an address or another of its identities"},
                {"Password", ParamType::String, false, -1, "the mailbox's password, for a service with --auth basic"},
                {"ClientAccessServer", ParamType::String, false, -1, "whose SCP URL to start from (default: the first that has one)"},
                {"CaFile", ParamType::String, false, -1, "trust these CAs (PEM) instead of the system's"},
                {"Resolve", ParamType::List, false, -1, "HOST:PORT:ADDR, as curl --resolve has it (labs)"},
                {"HttpsPort", ParamType::Int, false, -1, "connect here for port 443 (labs)"},
                {"HttpPort", ParamType::Int, false, -1, "connect here for port 80 (labs)"},
                {"TrustAnySSLCertificate", ParamType::Switch, false, -1,
                 "accepted for compatibility; autodisc reports an untrusted certificate as a failure"},
                dcParam()};
    c.run = [](Env& env, const Cmdlet&, const Bound& b, const std::vector<PipeObject>&, std::vector<PipeObject>& out) -> Result<void> {
      auto ids = resolveIdentity<Recipient>(env.org, str(b, "Identity"), nullptr, "mailbox");
      if (!ids) return fail("-Identity: " + ids.error().message);
      const Recipient* r = env.org.recipient(ids->front());
      if (r->type != RecipientType::Mailbox) return fail("-Identity " + q(str(b, "Identity")) + " is not a mailbox");
      client::TestOptions o;
      o.email = std::string(r->primarySmtpAddress());
      if (b.has("Password")) {
        o.http.user = o.email;
        o.http.password = str(b, "Password");
      }
      o.http.caFile = str(b, "CaFile");
      if (b.has("Resolve")) {
        auto l = asList(*b.get("Resolve"));
        if (!l) return fail("-Resolve: " + l.error().message);
        o.http.resolve = *l;
      }
      for (auto [param, port] : {std::pair{"HttpsPort", &o.http.httpsPort}, std::pair{"HttpPort", &o.http.httpPort}})
        if (b.has(param)) {
          auto n = asInt(*b.get(param));
          if (!n || *n < 1 || *n > 65535) return fail(std::string("-") + param + ": a port from 1 to 65535 is expected");
          *port = static_cast<int>(*n);
        }
      // As a domain-joined Outlook: the SCP's URL first.
      const ExchangeServer* cas = nullptr;
      if (b.has("ClientAccessServer")) {
        cas = env.org.serverByName(str(b, "ClientAccessServer"));
        if (!cas || !cas->isClientAccess())
          return fail("-ClientAccessServer " + q(str(b, "ClientAccessServer")) + " is not a Client Access Server");
      } else {
        for (auto& [id, s] : env.org.all<ExchangeServer>())
          if (s.isClientAccess() && !s.autoDiscoverServiceInternalUri.empty()) {
            cas = &s;
            break;
          }
      }
      if (cas) o.lastKnownGood = cas->autoDiscoverServiceInternalUri;
      auto d = client::discover(o);
      auto ms = [](double seconds) { return std::to_string(static_cast<long>(seconds * 1000 + 0.5)); };
      std::string source = cas ? cas->fqdn : std::string("autodisc shell");
      out.push_back({Record{{"Source", source},
                            {"ServiceEndpoint", d.found ? discovery::hostOf(d.url) : std::string()},
                            {"Scenario", "AutoDiscoverOutlookProvider"},
                            {"Result", d.found ? "Success" : "Failure"},
                            {"Latency(MS)", ms(d.seconds)},
                            {"Details", d.found ? d.url : d.reason}},
                     ""});
      static const std::pair<std::string_view, std::string_view> kScenarios[] = {
          {"EwsUrl", "ExchangeWebServices"}, {"ASUrl", "AvailabilityService"}, {"OABUrl", "OfflineAddressBook"},
          {"OOFUrl", "OutOfOffice"},         {"UMUrl", "UnifiedMessaging"},    {"EcpUrl", "ExchangeControlPanel"},
          {"OWAUrl", "OutlookWebApp"},       {"Url", "ActiveSync"}};
      for (auto& chk : d.checks) {
        std::string setting = chk.what.substr(chk.what.find(' ') + 1), scenario = setting;
        for (auto& [suffix, name] : kScenarios)
          if (setting.ends_with(suffix)) {
            scenario = name;
            break;
          }
        auto& res = chk.result;
        bool answered = res.error.empty() && res.status != 0 && res.status != 404 && res.status < 500;
        std::string details = !res.error.empty() ? res.error
                              : res.status == 404 ? "HTTP 404: no such service at " + chk.url
                                                  : "HTTP " + std::to_string(res.status) + " from " + chk.url;
        out.push_back({Record{{"Source", source},
                              {"ServiceEndpoint", discovery::hostOf(chk.url)},
                              {"Scenario", scenario + " (" + chk.what.substr(0, chk.what.find(' ')) + ")"},
                              {"Result", answered ? "Success" : "Failure"},
                              {"Latency(MS)", ms(res.seconds)},
                              {"Details", details}},
                       ""});
      }
      for (auto& w : d.warnings) env.err << "WARNING: " << w << "\n";
      return {};
    };
    add(c, "Test-OutlookWebServices -Identity alice@contoso.com -Password 'Secret-1' | Format-List");
  }
  {
    Cmdlet c;
    c.name = "Get-Help";
    c.synopsis = "Shows a cmdlet's synopsis, syntax, parameters and an example.";
    c.params = {{"Name", ParamType::String, true, 0, "the cmdlet"}};
    c.run = [](Env& env, const Cmdlet&, const Bound& b, const std::vector<PipeObject>&, std::vector<PipeObject>&) -> Result<void> {
      auto name = str(b, "Name");
      auto* x = findCmdlet(name);
      if (!x) return fail("-Name " + q(name) + ": there is no such cmdlet (Get-Command lists them)");
      printHelp(*x, env.out);
      return {};
    };
    add(c, "Get-Help Set-ClientAccessServer", {"help"});
  }
  return all;
}

}  // namespace

const std::vector<Cmdlet>& cmdlets() {
  static const std::vector<Cmdlet> all = buildCmdlets();
  return all;
}

const Cmdlet* findCmdlet(std::string_view name) {
  for (auto& c : cmdlets()) {
    if (text::iequals(c.name, name)) return &c;
    for (auto& a : c.aliases)
      if (text::iequals(a, name)) return &c;
  }
  return nullptr;
}

void printDefault(const Organization& org, const std::vector<PipeObject>& items, std::ostream& out) {
  if (items.empty()) return;
  // Group runs of the same view, as PowerShell starts a new table when the type changes.
  std::size_t start = 0;
  for (std::size_t i = 1; i <= items.size(); ++i) {
    if (i == items.size() || items[i].view != items[start].view) {
      std::vector<PipeObject> run(items.begin() + static_cast<long>(start), items.begin() + static_cast<long>(i));
      if (defaultsToList(run.front())) formatList(org, run, {}, out);
      else formatTable(org, run, {}, out);
      start = i;
    }
  }
}

}  // namespace autodisc::shell
