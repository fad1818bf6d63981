#include "shell/session.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <ostream>
#include <sstream>

#include "model/schema.hpp"
#include "protocol/pox.hpp"
#include "model/text.hpp"

namespace autodisc::shell {

using namespace model;

namespace {

std::string q(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string typeName(ParamType t) {
  switch (t) {
    case ParamType::String: return "String";
    case ParamType::List: return "String[]";
    case ParamType::Bool: return "Boolean";
    case ParamType::Switch: return "SwitchParameter";
    case ParamType::Int: return "Int32";
  }
  return "";
}

Result<PropValue> coerce(const ParamSpec& spec, const PropValue& v, const std::string& written) {
  auto bad = [&](const std::string& why) { return fail("-" + spec.name + " " + q(written) + ": " + why); };
  switch (spec.type) {
    case ParamType::String:
      if (auto* l = std::get_if<std::vector<std::string>>(&v); l && l->size() != 1)
        return bad("takes one value, not a list");
      if (std::holds_alternative<std::monostate>(v)) return v;
      return PropValue{*asString(v)};
    case ParamType::List: {
      if (std::holds_alternative<std::monostate>(v)) return v;
      auto l = asList(v);
      if (!l) return bad(l.error().message);
      return PropValue{*l};
    }
    case ParamType::Bool:
    case ParamType::Switch: {
      auto b = asBool(v);
      if (!b) return bad(b.error().message);
      return PropValue{*b};
    }
    case ParamType::Int: {
      auto n = asInt(v);
      if (!n) return bad(n.error().message);
      return PropValue{*n};
    }
  }
  return v;
}

const ParamSpec* findSpec(const Cmdlet& c, std::string_view name) {
  for (auto& p : c.params)
    if (text::iequals(p.name, name)) return &p;
  return nullptr;
}

Result<void> checkMandatory(const Cmdlet& c, const Bound& b) {
  for (auto& p : c.params) {
    if (!p.mandatory || b.has(p.name)) continue;
    if (p.name == "Identity" && b.identityRef) continue;
    return fail("missing the mandatory parameter -" + p.name + " (" + p.help + ")");
  }
  return {};
}

Result<void> bindPipelineItem(const Organization& org, const Cmdlet& c, const PipeObject& item, Bound& b) {
  if (auto* ref = std::get_if<ObjectRef>(&item.item)) {
    if (ref->kind == c.kind && findSpec(c, "Identity")) {
      if (b.has("Identity"))
        return fail("-Identity was given, and an object also came from the pipeline; use one or the other");
      b.identityRef = *ref;
      return {};
    }
    auto bindName = [&](std::string_view param, std::string name) -> Result<void> {
      if (!b.has(param)) {
        b.values[std::string(param)] = PropValue{std::move(name)};
        b.order.emplace_back(param);
      }
      return {};
    };
    if (ref->kind == Kind::ExchangeServer && findSpec(c, "Server"))
      return bindName("Server", org.find<ExchangeServer>(ref->id)->name);
    if (ref->kind == Kind::MailboxDatabase && findSpec(c, "Database"))
      return bindName("Database", org.find<MailboxDatabase>(ref->id)->name);
    if (ref->kind == Kind::ExchangeCertificate && findSpec(c, "Thumbprint"))
      return bindName("Thumbprint", org.find<ExchangeCertificate>(ref->id)->thumbprint);
    return fail("does not take " + std::string(kindName(ref->kind)) + " objects from the pipeline");
  }
  for (auto& [column, value] : std::get<Record>(item.item)) {
    auto* spec = findSpec(c, text::trim(column));
    if (!spec || b.has(spec->name) || value.empty()) continue;
    auto v = coerce(*spec, PropValue{value}, value);
    if (!v) return std::unexpected(v.error());
    b.values[spec->name] = *v;
    b.order.push_back(spec->name);
  }
  return {};
}

}  // namespace

Result<Bound> bindParameters(const Cmdlet& c, const Command& cmd) {
  Bound b;
  int position = 0;
  auto& els = cmd.elements;
  for (std::size_t i = 0; i < els.size(); ++i) {
    const Element& el = els[i];
    if (el.type == Element::Type::Parameter) {
      const ParamSpec* spec = findSpec(c, el.name);
      if (!spec) {
        std::vector<const ParamSpec*> matches;
        for (auto& p : c.params)
          if (text::istartsWith(p.name, el.name)) matches.push_back(&p);
        if (matches.empty())
          return fail("a parameter cannot be found that matches parameter name '" + el.name + "' (see Get-Help " +
                      c.name + ")");
        if (matches.size() > 1) {
          std::string names;
          for (auto* m : matches) names += " -" + m->name;
          return fail("parameter name '" + el.name + "' is ambiguous. Possible matches include:" + names);
        }
        spec = matches.front();
      }
      if (b.has(spec->name)) return fail("the parameter -" + spec->name + " was given more than once");
      PropValue value;
      std::string written = el.text;
      if (spec->type == ParamType::Switch && !el.colonValue) {
        value = true;
      } else if (el.colonValue) {
        value = el.value;
      } else {
        if (i + 1 >= els.size() || els[i + 1].type != Element::Type::Value)
          return fail("missing an argument for parameter '" + spec->name + "'. Specify a parameter of type '" +
                      typeName(spec->type) + "' and try again.");
        ++i;
        value = els[i].value;
        written = els[i].text;
      }
      auto v = coerce(*spec, value, written);
      if (!v) return std::unexpected(v.error());
      b.values[spec->name] = *v;
      b.order.push_back(spec->name);
    } else {
      const ParamSpec* spec = nullptr;
      for (auto& p : c.params)
        if (p.position == position && !b.has(p.name)) spec = &p;
      if (!spec)
        return fail("a positional parameter cannot be found that accepts argument " + q(el.text));
      ++position;
      auto v = coerce(*spec, el.value, el.text);
      if (!v) return std::unexpected(v.error());
      b.values[spec->name] = *v;
      b.order.push_back(spec->name);
    }
  }
  return b;
}

Session::Session(store::Store& store, std::function<std::uint64_t()> random)
    : store_(store), random_(std::move(random)),
      clock_([] { return protocol::errorTime(std::chrono::system_clock::now()); }) {}

Result<void> Session::open() {
  auto loaded = store_.read();
  if (!loaded) return std::unexpected(loaded.error());
  org_ = std::move(*loaded->org);
  version_ = loaded->version;
  if (version_ == 0) {
    // A new organisation starts as Exchange setup leaves one: a configuration with its GUID, the
    // forest's first site, and the three Outlook providers.
    org_.begin();
    OrganizationConfig c = org_.config();
    c.guid = Guid::fromRandom(random_(), random_());
    c.offlineAddressBookGuid = Guid::fromRandom(random_(), random_());
    org_.setConfig(c);
    // (A directory that is an Active Directory already has the forest's first site.)
    bool haveSite = false;
    for (auto& [id, site] : org_.all<AdSite>()) haveSite |= text::iequals(site.name, "Default-First-Site-Name");
    if (!haveSite) org_.put(AdSite{org_.allocateId(Kind::AdSite), "Default-First-Site-Name"});
    for (auto& p : defaultOutlookProviders()) org_.put(p);
    if (auto r = commitChanges(); !r) {
      // Another session may have created the same defaults first; then its organisation is ours.
      if (auto again = refresh(); !again || version_ == 0) return r;
    }
  }
  return {};
}

Result<void> Session::refresh() {
  auto v = store_.version();
  if (!v) return std::unexpected(v.error());
  if (*v == version_) return {};
  auto loaded = store_.read();
  if (!loaded) return std::unexpected(loaded.error());
  org_ = std::move(*loaded->org);
  version_ = loaded->version;
  return {};
}

Result<void> Session::commitChanges() {
  auto changes = org_.pendingChanges();
  if (changes.empty()) {
    org_.commit();
    return {};
  }
  auto v = store_.apply(org_, changes, version_);
  if (!v) {
    org_.rollback();
    return std::unexpected(v.error());
  }
  version_ = *v;
  org_.commit();
  return {};
}

Result<void> Session::runPipeline(const Pipeline& p, std::ostream& out, std::ostream& err) {
  std::vector<PipeObject> items;
  Env env{org_, out, err, random_, clock_};
  for (std::size_t i = 0; i < p.size(); ++i) {
    const Command& cmd = p[i];
    const Cmdlet* c = findCmdlet(cmd.name);
    if (!c)
      return fail(cmd.name + ": the term " + q(cmd.name) +
                  " is not recognized as the name of a cmdlet (Get-Command lists them)");
    auto named = [&](Error e) { return fail(c->name + ": " + e.message); };
    auto bound = bindParameters(*c, cmd);
    if (!bound) return named(bound.error());
    std::vector<PipeObject> next;
    if (i == 0 || c->input == Cmdlet::Input::None) {
      if (i > 0) return named(Error{"does not take input from the pipeline"});
      if (auto r = checkMandatory(*c, *bound); !r) return named(r.error());
      if (auto r = c->run(env, *c, *bound, {}, next); !r) return named(r.error());
    } else if (c->input == Cmdlet::Input::All) {
      if (auto r = c->run(env, *c, *bound, items, next); !r) return named(r.error());
    } else {
      for (std::size_t k = 0; k < items.size(); ++k) {
        Bound b = *bound;
        auto r = bindPipelineItem(org_, *c, items[k], b);
        if (r) r = checkMandatory(*c, b);
        if (r) r = c->run(env, *c, b, {items[k]}, next);
        if (!r) {
          std::string where = items.size() > 1 ? " (pipeline object " + std::to_string(k + 1) + ")" : "";
          return named(Error{r.error().message + where});
        }
      }
    }
    items = std::move(next);
  }
  printDefault(org_, items, out);
  return {};
}

Result<void> Session::run(std::string_view line, std::ostream& out, std::ostream& err) {
  auto parsed = parseLine(line);
  if (!parsed) return std::unexpected(parsed.error());
  if (parsed->empty()) return {};
  if (auto r = refresh(); !r) return r;
  // Output is held back until the line's changes are saved: a line that fails prints only its error.
  std::ostringstream heldOut, heldErr;
  org_.begin();
  for (auto& p : *parsed) {
    if (auto r = runPipeline(p, heldOut, heldErr); !r) {
      org_.rollback();
      return r;
    }
  }
  if (auto r = commitChanges(); !r) return r;
  err << heldErr.str();
  out << heldOut.str();
  return {};
}

}  // namespace autodisc::shell
