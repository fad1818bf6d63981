#include "shell/format.hpp"

#include <algorithm>
#include <map>
#include <ostream>

#include "model/text.hpp"

namespace autodisc::shell {

using model::PropValue;

namespace {

struct View {
  std::vector<std::string> table;
  std::vector<std::string> hidden;  // properties left out of the list view
  bool list = false;                // Exchange prints this one as a list by default
};

const View& viewFor(const std::string& name) {
  static const std::map<std::string, View, text::ILess> views = {
      {"AcceptedDomain", {{"Name", "DomainName", "DomainType", "Default"}, {}, false}},
      {"ADReplicationSite", {{"Name", "Subnets"}, {}, false}},
      {"ADReplicationSubnet", {{"Name", "Site"}, {}, false}},
      {"ExchangeServer",
       {{"Name", "Site", "ServerRole", "AdminDisplayVersion"}, {"AutoDiscoverServiceInternalUri", "AutoDiscoverSiteScope"}, false}},
      {"ClientAccessServer",
       {{"Name", "Site", "AutoDiscoverServiceInternalUri", "AutoDiscoverSiteScope"}, {"ServerRole", "AdminDisplayVersion"}, false}},
      {"VirtualDirectory", {{"Name", "Server", "InternalUrl", "ExternalUrl"}, {}, false}},
      {"OutlookAnywhere", {{"Server", "ExternalHostname", "InternalHostname", "ExternalClientAuthenticationMethod"}, {}, false}},
      {"ClientAccessArray", {{"Name", "Site", "Fqdn", "Members"}, {}, false}},
      {"MailboxDatabase", {{"Name", "Server", "RpcClientAccessServer"}, {}, false}},
      {"Mailbox", {{"Name", "Alias", "Database", "PrimarySmtpAddress"}, {"ExternalEmailAddress"}, false}},
      {"MailUser", {{"Name", "Alias", "ExternalEmailAddress", "PrimarySmtpAddress"}, {"Database", "ExchangeGuid"}, false}},
      {"Recipient", {{"Name", "RecipientTypeDetails", "PrimarySmtpAddress"}, {}, false}},
      {"OutlookProvider", {{"Name", "Server", "CertPrincipalName", "TTL"}, {}, false}},
      {"ExchangeCertificate", {{"Thumbprint", "Services", "Subject"}, {}, false}},
      {"OrganizationConfig", {{"Name", "MapiHttpEnabled", "Guid"}, {}, true}},
  };
  static const View none;
  auto it = views.find(name);
  return it == views.end() ? none : it->second;
}

PropValue lookup(const PropertyList& props, std::string_view name) {
  for (auto& [n, v] : props)
    if (text::iequals(n, name)) return v;
  return {};
}

std::vector<std::string> expandWanted(const PropertyList& props, const std::vector<std::string>& wanted) {
  std::vector<std::string> out;
  for (auto& w : wanted) {
    bool any = false;
    for (auto& [n, v] : props)
      if (wildcardMatch(w, n)) {
        if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
        any = true;
      }
    if (!any && w.find('*') == std::string::npos) out.push_back(w);
  }
  return out;
}

void jsonValue(const PropValue& v, std::ostream& out) {
  if (auto* s = std::get_if<std::string>(&v)) out << '"' << jsonEscape(*s) << '"';
  else if (auto* b = std::get_if<bool>(&v)) out << (*b ? "true" : "false");
  else if (auto* i = std::get_if<std::int64_t>(&v)) out << *i;
  else if (auto* l = std::get_if<std::vector<std::string>>(&v)) {
    out << '[';
    for (std::size_t k = 0; k < l->size(); ++k) out << (k ? "," : "") << '"' << jsonEscape((*l)[k]) << '"';
    out << ']';
  } else out << "null";
}

}  // namespace

bool wildcardMatch(std::string_view p, std::string_view t) {
  std::size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || text::lower(p[pi]) == text::lower(t[ti]))) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

std::string jsonEscape(std::string_view s) { return text::jsonEscape(s); }

PropertyList viewProperties(const model::Organization& org, const PipeObject& item) {
  if (auto* rec = std::get_if<Record>(&item.item)) {
    PropertyList out;
    for (auto& [k, v] : *rec) out.emplace_back(k, v);
    return out;
  }
  auto ref = std::get<model::ObjectRef>(item.item);
  PropertyList all = readProperties(org, ref);
  auto& view = viewFor(item.view);
  PropertyList out;
  for (auto& p : all)
    if (std::none_of(view.hidden.begin(), view.hidden.end(), [&](auto& h) { return text::iequals(h, p.first); }))
      out.push_back(std::move(p));
  return out;
}

std::vector<std::string> defaultTableColumns(const PipeObject& item) {
  if (auto* rec = std::get_if<Record>(&item.item)) {
    std::vector<std::string> out;
    for (auto& [k, v] : *rec) out.push_back(k);
    return out;
  }
  return viewFor(item.view).table;
}

bool defaultsToList(const PipeObject& item) {
  return std::holds_alternative<model::ObjectRef>(item.item) && viewFor(item.view).list;
}

void formatTable(const model::Organization& org, const std::vector<PipeObject>& items,
                 const std::vector<std::string>& wanted, std::ostream& out) {
  if (items.empty()) return;
  auto columns =
      wanted.empty() ? defaultTableColumns(items.front()) : expandWanted(viewProperties(org, items.front()), wanted);
  std::vector<std::vector<std::string>> cells;
  cells.reserve(items.size());
  std::vector<std::size_t> width;
  for (auto& c : columns) width.push_back(c.size());
  for (auto& it : items) {
    // Read only the columns shown: a table of a bulk import may have a row per new mailbox.
    std::vector<std::string> line;
    if (auto* ref = std::get_if<model::ObjectRef>(&it.item)) {
      for (auto& v : readSelected(org, *ref, columns)) line.push_back(model::displayText(v));
    } else {
      auto row = viewProperties(org, it);
      for (auto& c : columns) line.push_back(model::displayText(lookup(row, c)));
    }
    for (std::size_t c = 0; c < columns.size(); ++c) width[c] = std::max(width[c], line[c].size());
    cells.push_back(std::move(line));
  }
  auto emit = [&](const std::vector<std::string>& line) {
    std::string s;
    for (std::size_t c = 0; c < line.size(); ++c) {
      s += line[c];
      if (c + 1 < line.size()) s += std::string(width[c] - line[c].size() + 1, ' ');
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out << s << '\n';
  };
  out << '\n';
  emit(columns);
  std::vector<std::string> rule;
  for (std::size_t c = 0; c < columns.size(); ++c) rule.push_back(std::string(columns[c].size(), '-'));
  emit(rule);
  for (auto& line : cells) emit(line);
  out << '\n';
}

void formatList(const model::Organization& org, const std::vector<PipeObject>& items,
                const std::vector<std::string>& wanted, std::ostream& out) {
  out << '\n';
  for (auto& it : items) {
    auto props = viewProperties(org, it);
    std::vector<std::string> names;
    if (wanted.empty())
      for (auto& [n, v] : props) names.push_back(n);
    else
      names = expandWanted(props, wanted);
    std::size_t w = 0;
    for (auto& n : names) w = std::max(w, n.size());
    for (auto& n : names) {
      std::string line = n + std::string(w - n.size(), ' ') + " : " + model::displayText(lookup(props, n));
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out << line << '\n';
    }
    out << '\n';
  }
}

void formatJson(const model::Organization& org, const std::vector<PipeObject>& items, bool compress,
                std::ostream& out) {
  const char* nl = compress ? "" : "\n";
  auto indent = [&](int n) { return compress ? std::string() : std::string(static_cast<std::size_t>(n) * 2, ' '); };
  bool array = items.size() != 1;
  int base = array ? 1 : 0;
  if (array) out << '[' << nl;
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto props = viewProperties(org, items[i]);
    out << indent(base) << '{' << nl;
    for (std::size_t k = 0; k < props.size(); ++k) {
      out << indent(base + 1) << '"' << jsonEscape(props[k].first) << "\":" << (compress ? "" : " ");
      jsonValue(props[k].second, out);
      out << (k + 1 < props.size() ? "," : "") << nl;
    }
    out << indent(base) << '}' << (i + 1 < items.size() ? "," : "") << nl;
  }
  if (array) out << ']' << nl;
  if (compress) out << '\n';
}

}  // namespace autodisc::shell
