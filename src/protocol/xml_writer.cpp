#include "protocol/xml_writer.hpp"

#include <cstring>

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

namespace {

// Copies the pieces to the end of `out` with one resize: most elements are a handful of short
// strings, and growing the string once beats an append (with its checks) per piece.
template <std::size_t N>
void put(std::string& out, std::size_t spaces, const std::string_view (&parts)[N]) {
  std::size_t total = spaces;
  for (auto p : parts) total += p.size();
  auto at = out.size();
  out.resize(at + total);
  char* d = out.data() + at;
  std::memset(d, ' ', spaces);
  d += spaces;
  for (auto p : parts) {
    std::memcpy(d, p.data(), p.size());
    d += p.size();
  }
}

}  // namespace

void XmlWriter::open(std::string_view tag, std::string_view attrs) {
  put(out_, indent_ ? static_cast<std::size_t>(depth_) * 2 : 0, {"<", tag, attrs, indent_ ? ">\n" : ">"});
  ++depth_;
}

void XmlWriter::close(std::string_view tag) {
  --depth_;
  put(out_, indent_ ? static_cast<std::size_t>(depth_) * 2 : 0, {"</", tag, indent_ ? ">\n" : ">"});
}

void XmlWriter::leaf(std::string_view tag, std::string_view value, std::string_view attrs) {
  std::size_t spaces = indent_ ? static_cast<std::size_t>(depth_) * 2 : 0;
  std::string_view end = indent_ ? ">\n" : ">";
  if (firstSpecial(value.data(), value.size()) == value.size()) {
    put(out_, spaces, {"<", tag, attrs, ">", value, "</", tag, end});
    return;
  }
  put(out_, spaces, {"<", tag, attrs, ">"});
  appendEscaped(out_, value);
  put(out_, 0, {"</", tag, end});
}

void XmlWriter::line(std::string_view markup) {
  put(out_, indent_ ? static_cast<std::size_t>(depth_) * 2 : 0, {markup, indent_ ? "\n" : ""});
}

void XmlWriter::empty(std::string_view tag, std::string_view attrs) {
  put(out_, indent_ ? static_cast<std::size_t>(depth_) * 2 : 0, {"<", tag, attrs, indent_ ? " />\n" : " />"});
}

}  // namespace autodisc::protocol
