#include "protocol/xml_writer.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace autodisc::protocol {

namespace {

bool special(char c) { return c == '&' || c == '<' || c == '>' || c == '"'; }

// The index of the first character that needs escaping, or n. Sixteen bytes at a time where SSE2
// is there: most values (URLs, names, addresses) have none, and this is most of an answer's bytes.
std::size_t firstSpecial(const char* p, std::size_t n) {
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i amp = _mm_set1_epi8('&'), lt = _mm_set1_epi8('<'), gt = _mm_set1_epi8('>'), quot = _mm_set1_epi8('"');
  for (; i + 16 <= n; i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, amp), _mm_cmpeq_epi8(v, lt)),
                               _mm_or_si128(_mm_cmpeq_epi8(v, gt), _mm_cmpeq_epi8(v, quot)));
    if (int mask = _mm_movemask_epi8(hit)) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  for (; i < n; ++i)
    if (special(p[i])) return i;
  return n;
}

}  // namespace

void appendEscaped(std::string& out, std::string_view s) {
  for (;;) {
    auto i = firstSpecial(s.data(), s.size());
    out.append(s.data(), i);
    if (i == s.size()) return;
    switch (s[i]) {
      case '&': out.append("&amp;"); break;
      case '<': out.append("&lt;"); break;
      case '>': out.append("&gt;"); break;
      default: out.append("&quot;"); break;
    }
    s.remove_prefix(i + 1);
  }
}

std::string xmlEscape(std::string_view s) {
  std::string out;
  appendEscaped(out, s);
  return out;
}

XmlWriter::XmlWriter(std::string& out, bool indent) : out_(out), indent_(indent) {
  out_.append("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
  endLine();
}

void XmlWriter::startLine() {
  if (indent_) out_.append(static_cast<std::size_t>(depth_) * 2, ' ');
}

void XmlWriter::open(std::string_view tag, std::string_view attrs) {
  startLine();
  out_ += '<';
  out_.append(tag);
  out_.append(attrs);
  out_ += '>';
  endLine();
  ++depth_;
}

void XmlWriter::close(std::string_view tag) {
  --depth_;
  startLine();
  out_.append("</");
  out_.append(tag);
  out_ += '>';
  endLine();
}

void XmlWriter::leaf(std::string_view tag, std::string_view value, std::string_view attrs) {
  startLine();
  out_ += '<';
  out_.append(tag);
  out_.append(attrs);
  out_ += '>';
  appendEscaped(out_, value);
  out_.append("</");
  out_.append(tag);
  out_ += '>';
  endLine();
}

void XmlWriter::empty(std::string_view tag, std::string_view attrs) {
  startLine();
  out_ += '<';
  out_.append(tag);
  out_.append(attrs);
  out_.append(" />");
  endLine();
}

}  // namespace autodisc::protocol
