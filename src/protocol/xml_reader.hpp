#pragma once
// Reading requests with pugixml, namespace-aware enough for Autodiscover: an element's local name
// and namespace URI (from the xmlns declarations in scope). Internal to the codecs.
#include <pugixml.hpp>

#include <string>
#include <string_view>

namespace autodisc::protocol::xml {

inline std::string_view localName(const char* name) {
  std::string_view n(name);
  auto colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

// The namespace an element is in, from the xmlns declarations on it and its ancestors.
inline std::string_view namespaceOf(pugi::xml_node node) {
  std::string_view n(node.name());
  auto colon = n.find(':');
  std::string_view prefix = colon == std::string_view::npos ? std::string_view() : n.substr(0, colon);
  for (auto x = node; x; x = x.parent())
    for (auto a : x.attributes()) {
      std::string_view name(a.name());
      if (!name.starts_with("xmlns")) continue;
      name.remove_prefix(5);
      if (prefix.empty() ? name.empty() : (name.size() == prefix.size() + 1 && name[0] == ':' && name.substr(1) == prefix))
        return a.value();
    }
  return {};
}

// Clients are seen to write https:// where http:// is meant; accept both on input.
inline bool sameNs(std::string_view got, std::string_view want) {
  if (got == want) return true;
  if (got.starts_with("https://") && want.starts_with("http://")) return got.substr(8) == want.substr(7);
  return false;
}

// The first child element with that local name (any namespace).
inline pugi::xml_node child(pugi::xml_node parent, std::string_view name) {
  for (auto c : parent.children())
    if (c.type() == pugi::node_element && localName(c.name()) == name) return c;
  return {};
}

// Parses without DTD processing; a document that declares a DOCTYPE is refused (no entity tricks).
// Whether the bytes hold a character XML 1.0 forbids (a control character other than tab, CR and
// LF; NUL among them): such a document is no document.
inline bool hasForbiddenControl(std::string_view body) {
  for (unsigned char c : body)
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return true;
  return false;
}

inline bool load(pugi::xml_document& doc, std::string_view body) {
  if (hasForbiddenControl(body)) return false;
  unsigned flags = pugi::parse_minimal | pugi::parse_escapes | pugi::parse_doctype;
  if (!doc.load_buffer(body.data(), body.size(), flags, pugi::encoding_utf8)) return false;
  for (auto n : doc.children())
    if (n.type() == pugi::node_doctype) return false;
  return true;
}

}  // namespace autodisc::protocol::xml
