#pragma once
// Writes an XML document straight into a caller's string: no DOM and no temporaries, since every
// answer on the request path is written this way. Values are escaped; names and attribute text
// given by the codecs are written as they are.
#include <string>
#include <string_view>

namespace autodisc::protocol {

// Appends `s` to `out` with & < > " escaped.
void appendEscaped(std::string& out, std::string_view s);
std::string xmlEscape(std::string_view s);

class XmlWriter {
 public:
  // Starts the document (the XML declaration) at the end of `out`. `indent`: one element a line,
  // two spaces a level, as the POX answers are written; otherwise all on one line.
  explicit XmlWriter(std::string& out, bool indent = true);
  // A part of a document, without the declaration, whose elements start `depth` levels in.
  static XmlWriter fragment(std::string& out, int depth) { return XmlWriter(out, true, depth); }
  void open(std::string_view tag, std::string_view attrs = {});
  void close(std::string_view tag);
  void leaf(std::string_view tag, std::string_view value, std::string_view attrs = {});
  void optional(std::string_view tag, std::string_view value) {
    if (!value.empty()) leaf(tag, value);
  }
  void empty(std::string_view tag, std::string_view attrs = {});
  // Text written as it is (already escaped, or known to need none).
  void raw(std::string_view s) { out_.append(s); }
  // One line of markup made by the caller, at the current depth.
  void line(std::string_view markup);

 private:
  XmlWriter(std::string& out, bool indent, int depth) : out_(out), indent_(indent), depth_(depth) {}
  void endLine() {
    if (indent_) out_ += '\n';
  }
  std::string& out_;
  bool indent_;
  int depth_ = 0;
};

}  // namespace autodisc::protocol
