#include "doctor/graph.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "discovery/planner.hpp"
#include "model/schema.hpp"
#include "model/text.hpp"

namespace autodisc::doctor {

using namespace autodisc::model;

namespace {

// A DOT double-quoted string's inside.
std::string esc(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// Severity ranks: 0 error, 1 warning, 2 info, 3 none.
int rank(Severity s) { return s == Severity::Error ? 0 : s == Severity::Warning ? 1 : 2; }
const char* fill(int r) {
  switch (r) {
    case 0: return "#f4b6b6";  // an error
    case 1: return "#f9dc9c";  // a warning
    case 2: return "#cfe0f7";  // a note
  }
  return "#d8efd2";  // nothing found
}

}  // namespace

std::string topologyDot(const Input& in, const std::vector<Finding>& findings) {
  const Organization& org = in.org;
  std::ostringstream g;
  g << "digraph autodisc {\n"
       "  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=11, labelloc=t, label=\"autodisc doctor: "
    << esc(org.config().name) << " (" << findings.size() << " finding" << (findings.size() == 1 ? "" : "s")
    << "; red: error, orange: warning, blue: note)\"];\n"
       "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10, fillcolor=\"#ffffff\"];\n"
       "  edge [fontname=\"Helvetica\", fontsize=9];\n";

  // Names clients are handed: which object hands each out, inside or outside.
  struct Name {
    bool internal = false, external = false;
  };
  std::map<std::string, Name> names;
  auto handed = [&](const std::string& host, bool internal) {
    if (host.empty()) return;
    auto& n = names[text::toLower(host)];
    (internal ? n.internal : n.external) = true;
  };
  auto worstFor = [&](auto&& about) {
    int worst = 3;
    std::string tip;
    for (auto& f : findings)
      if (about(f)) {
        worst = std::min(worst, rank(f.severity));
        tip += std::string(severityName(f.severity)) + ": " + f.problem + "\n";
      }
    return std::pair{worst, tip};
  };
  auto nodeFor = [&](const std::string& id, const std::string& label, std::pair<int, std::string> mark,
                     const char* shape = "box") {
    g << "  \"" << esc(id) << "\" [label=\"" << esc(label) << "\", shape=" << shape << ", fillcolor=\"" << fill(mark.first)
      << "\"" << (mark.second.empty() ? "" : ", tooltip=\"" + esc(mark.second) + "\"") << "];\n";
  };

  // Servers and arrays.
  g << "  subgraph cluster_servers {\n    label=\"Client Access Servers and CAS arrays\"; style=dashed;\n";
  for (auto& [id, s] : org.all<ExchangeServer>()) {
    auto* site = org.find<AdSite>(s.site);
    g << "    \"server:" << esc(s.name) << "\" [label=\"" << esc(s.name + "\n" + s.fqdn + "\nsite " + (site ? site->name : "?"))
      << "\", shape=box3d, fillcolor=\"#eeeeee\"];\n";
  }
  for (auto& [id, a] : org.all<ClientAccessArray>()) {
    auto mark = worstFor([&](const Finding& f) { return f.object == "CAS array " + a.name; });
    g << "  ";
    nodeFor("array:" + a.name, "CAS array " + a.name + "\n" + a.fqdn, mark, "box3d");
    for (auto& [sid, s] : org.all<ExchangeServer>())
      if (s.site == a.site && s.isClientAccess()) g << "    \"array:" << esc(a.name) << "\" -> \"server:" << esc(s.name) << "\" [style=dotted];\n";
    handed(a.fqdn, true);
  }
  g << "  }\n";

  // Virtual directories, each under its server, with the names its URLs hand out.
  std::vector<std::tuple<std::string, std::string, std::string>> urlEdges;  // host, vdir node, "InternalUrl"/...
  for (auto& [id, v] : org.all<VirtualDirectory>()) {
    auto* s = org.find<ExchangeServer>(v.server);
    if (!s) continue;
    std::string identity = identityOf(org, v);
    auto mark = worstFor([&](const Finding& f) { return f.object.rfind(identity, 0) == 0; });
    nodeFor("vdir:" + identity, identity, mark);
    g << "  \"vdir:" << esc(identity) << "\" -> \"server:" << esc(s->name) << "\" [arrowhead=none, color=\"#999999\"];\n";
    if (v.type == VdirType::Autodiscover) continue;  // its URLs are handed to no one
    for (auto [url, which, internal] : {std::tuple{&v.internalUrl, "InternalUrl", true}, std::tuple{&v.externalUrl, "ExternalUrl", false}}) {
      if (url->empty()) continue;
      std::string host = discovery::hostOf(*url);
      handed(host, internal);
      urlEdges.emplace_back(text::toLower(host), "vdir:" + identity, which);
    }
  }
  for (auto& [id, o] : org.all<OutlookAnywhere>()) {
    auto* s = org.find<ExchangeServer>(o.server);
    if (!s) continue;
    std::string identity = identityOf(org, o);
    auto mark = worstFor([&](const Finding& f) { return f.object.rfind(identity, 0) == 0; });
    nodeFor("oa:" + identity, "Outlook Anywhere\n" + identity, mark);
    g << "  \"oa:" << esc(identity) << "\" -> \"server:" << esc(s->name) << "\" [arrowhead=none, color=\"#999999\"];\n";
    for (auto [host, which, internal] : {std::tuple{&o.internalHostname, "InternalHostname", true},
                                         std::tuple{&o.externalHostname, "ExternalHostname", false}}) {
      if (host->empty()) continue;
      handed(*host, internal);
      urlEdges.emplace_back(text::toLower(*host), "oa:" + identity, which);
    }
  }
  // The SCP each server publishes, and each accepted domain's Autodiscover names.
  for (auto& [id, s] : org.all<ExchangeServer>()) {
    if (!s.isClientAccess() || s.autoDiscoverServiceInternalUri.empty()) continue;
    std::string host = discovery::hostOf(s.autoDiscoverServiceInternalUri);
    handed(host, true);
    urlEdges.emplace_back(text::toLower(host), "server:" + s.name, "SCP (AutoDiscoverServiceInternalUri)");
  }
  for (auto& [id, d] : org.all<AcceptedDomain>()) {
    if (d.domainType != DomainType::Authoritative || !d.autodiscoverRedirectUrl.empty()) continue;
    std::string host = "autodiscover." + text::toLower(d.domainName);
    handed(host, false);
    g << "  \"domain:" << esc(d.domainName) << "\" [label=\"@" << esc(d.domainName) << "\", shape=note, fillcolor=\"#ffffff\"];\n";
    g << "  \"domain:" << esc(d.domainName) << "\" -> \"name:" << esc(host) << "\" [label=\"Autodiscover\"];\n";
  }

  // The names, marked by the findings that mention them, with what each view resolves them to.
  g << "  subgraph cluster_names {\n    label=\"Names clients are handed\"; style=dashed;\n";
  for (auto& [host, n] : names) {
    auto mark = worstFor([&](const Finding& f) { return text::iequals(f.host, host); });
    std::string label = host;
    if (in.resolve) {
      for (bool internal : {true, false}) {
        if (!(internal ? n.internal : n.external)) continue;
        auto r = in.resolve(host, internal);
        label += std::string("\n") + (internal ? "inside: " : "outside: ") +
                 (r.addresses.empty() ? "(" + (r.error.empty() ? std::string("no address") : r.error) + ")"
                                      : text::join(r.addresses, ", "));
      }
    }
    if (in.certificate) label += covers(in.certificate->names, host) ? "\nin the certificate" : "\nNOT in the certificate";
    g << "  ";
    nodeFor("name:" + host, label, mark, "ellipse");
  }
  g << "  }\n";
  for (auto& [host, node, which] : urlEdges)
    g << "  \"name:" << esc(host) << "\" -> \"" << esc(node) << "\" [label=\"" << esc(which) << "\"];\n";

  // Clients and the DNS view each asks.
  g << "  \"client:inside\" [label=\"Outlook inside\\n(domain member: SCP, internal URLs)\", shape=oval, fillcolor=\"#ffffff\"];\n"
       "  \"client:outside\" [label=\"Outlook and phones outside\\n(autodiscover.<domain>, external URLs)\", shape=oval, "
       "fillcolor=\"#ffffff\"];\n"
       "  \"dns:internal\" [label=\"internal DNS view\", shape=cylinder, fillcolor=\"#ffffff\"];\n"
       "  \"dns:external\" [label=\"external DNS view\", shape=cylinder, fillcolor=\"#ffffff\"];\n"
       "  \"client:inside\" -> \"dns:internal\";\n"
       "  \"client:outside\" -> \"dns:external\";\n";
  for (auto& [host, n] : names) {
    if (n.internal) g << "  \"dns:internal\" -> \"name:" << esc(host) << "\" [color=\"#3b6fb6\"];\n";
    if (n.external) g << "  \"dns:external\" -> \"name:" << esc(host) << "\" [color=\"#6b8e23\"];\n";
  }
  g << "}\n";
  return g.str();
}

}  // namespace autodisc::doctor
