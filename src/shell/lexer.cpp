#include "shell/lexer.hpp"

#include <cctype>
#include <span>

#include "model/text.hpp"

namespace autodisc::shell {

namespace {

// UTF-8 encodings of the characters that word processors substitute.
constexpr std::string_view kDashes[] = {"-", "\xE2\x80\x93", "\xE2\x80\x94", "\xE2\x80\x95", "\xE2\x80\x92"};
constexpr std::string_view kSingleQuotes[] = {"'", "\xE2\x80\x98", "\xE2\x80\x99", "\xE2\x80\x9A", "\xE2\x80\x9B"};
constexpr std::string_view kDoubleQuotes[] = {"\"", "\xE2\x80\x9C", "\xE2\x80\x9D", "\xE2\x80\x9E"};

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  Result<std::vector<Pipeline>> run() {
    std::vector<Pipeline> out;
    Pipeline current;
    Command cmd;
    bool inCommand = false;
    auto endCommand = [&]() -> Result<void> {
      if (!inCommand) return fail("an empty pipeline element (nothing before or after '|')");
      current.push_back(std::move(cmd));
      cmd = Command{};
      inCommand = false;
      return {};
    };
    for (;;) {
      skipSpace();
      if (atEnd() || peek() == '#') {
        if (inCommand) {
          if (auto r = endCommand(); !r) return std::unexpected(r.error());
        } else if (!current.empty()) {
          return fail("the line ends with '|' and no command after it");
        }
        if (!current.empty()) out.push_back(std::move(current));
        return out;
      }
      char c = peek();
      if (c == '|') {
        ++pos_;
        if (auto r = endCommand(); !r) return std::unexpected(r.error());
        continue;
      }
      if (c == ';') {
        ++pos_;
        if (inCommand) {
          if (auto r = endCommand(); !r) return std::unexpected(r.error());
        } else if (!current.empty()) {
          return fail("'|' followed by ';'");
        }
        if (!current.empty()) out.push_back(std::move(current));
        current.clear();
        continue;
      }
      if (!inCommand) {
        auto name = readBare();
        if (name.empty()) return fail("expected a cmdlet name at '" + std::string(rest(20)) + "'");
        for (char ch : name)
          if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_')
            return fail("'" + name + "' is not a cmdlet name");
        cmd.name = name;
        inCommand = true;
        continue;
      }
      auto el = readElement();
      if (!el) return std::unexpected(el.error());
      cmd.elements.push_back(std::move(*el));
    }
  }

 private:
  bool atEnd() const { return pos_ >= s_.size(); }
  char peek() const { return s_[pos_]; }
  std::string_view rest(std::size_t n) const { return s_.substr(pos_, n); }
  bool isSpace(char c) const { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
  void skipSpace() {
    while (!atEnd()) {
      if (isSpace(peek())) {
        ++pos_;
      } else if (s_.substr(pos_).starts_with("\xC2\xA0")) {  // no-break space
        pos_ += 2;
      } else {
        break;
      }
    }
  }
  std::size_t match(std::span<const std::string_view> set) const {
    for (auto m : set)
      if (s_.substr(pos_).starts_with(m)) return m.size();
    return 0;
  }
  bool isSpecial(char c) const { return isSpace(c) || c == '|' || c == ';' || c == ','; }

  std::string readBare() {
    std::string out;
    while (!atEnd() && !isSpecial(peek()) && !s_.substr(pos_).starts_with("\xC2\xA0")) {
      if (match(kSingleQuotes) || match(kDoubleQuotes)) break;
      out += peek();
      ++pos_;
    }
    return out;
  }

  Result<std::string> readQuoted() {
    bool dbl = match(kDoubleQuotes) > 0;
    pos_ += dbl ? match(kDoubleQuotes) : match(kSingleQuotes);
    std::span<const std::string_view> closers = dbl ? std::span<const std::string_view>(kDoubleQuotes)
                                                    : std::span<const std::string_view>(kSingleQuotes);
    std::string out;
    while (!atEnd()) {
      if (std::size_t n = match(closers)) {
        pos_ += n;
        // A doubled quote stands for one quote character.
        if (std::size_t m = match(closers)) {
          out.append(s_.substr(pos_ - n, n));
          pos_ += m;
          continue;
        }
        return out;
      }
      if (dbl && peek() == '`' && pos_ + 1 < s_.size()) {
        char e = s_[pos_ + 1];
        out += e == 'n' ? '\n' : e == 't' ? '\t' : e == '0' ? '\0' : e;
        pos_ += 2;
        continue;
      }
      out += peek();
      ++pos_;
    }
    return fail(std::string("unterminated ") + (dbl ? "double" : "single") + "-quoted string");
  }

  // One value: a quoted string, $true/$false/$null, @(...), or a bare word. A bare word followed by
  // a parenthesised group, as in X2007SRV\OWA (default web site), is one value, as people mean it.
  Result<model::PropValue> readScalar(std::string& textOut) {
    std::size_t start = pos_;
    if (match(kSingleQuotes) || match(kDoubleQuotes)) {
      auto q = readQuoted();
      if (!q) return std::unexpected(q.error());
      textOut = std::string(s_.substr(start, pos_ - start));
      return model::PropValue{*q};
    }
    if (peek() == '@' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '(') {
      pos_ += 2;
      std::vector<std::string> items;
      for (;;) {
        skipSpace();
        if (atEnd()) return fail("unterminated @( ... )");
        if (peek() == ')') {
          ++pos_;
          break;
        }
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        std::string t;
        model::PropValue v;
        if (match(kSingleQuotes) || match(kDoubleQuotes)) {
          auto q = readQuoted();
          if (!q) return std::unexpected(q.error());
          items.push_back(*q);
        } else {
          std::string w;
          while (!atEnd() && !isSpace(peek()) && peek() != ',' && peek() != ')') w += s_[pos_++];
          items.push_back(w);
        }
      }
      textOut = std::string(s_.substr(start, pos_ - start));
      return model::PropValue{items};
    }
    if (peek() == '(') return readSecureString(textOut, start);
    if (peek() == '{' ) return fail("script blocks are not supported: '" + std::string(rest(30)) + "'");
    std::string word = readBare();
    if (word.starts_with("$")) {
      textOut = word;
      if (text::iequals(word, "$true")) return model::PropValue{true};
      if (text::iequals(word, "$false")) return model::PropValue{false};
      if (text::iequals(word, "$null")) return model::PropValue{};
      return fail("variables are not supported: '" + word + "'");
    }
    // Glue a following "(default web site)" group onto the word.
    std::size_t save = pos_;
    skipSpace();
    if (!atEnd() && peek() == '(' && !word.empty()) {
      auto close = s_.find(')', pos_);
      auto group = close == std::string_view::npos ? std::string_view{} : s_.substr(pos_, close - pos_ + 1);
      if (!group.empty() && group.find_first_of("|;") == std::string_view::npos) {
        word += " " + std::string(group);
        pos_ = close + 1;
      } else {
        pos_ = save;
      }
    } else {
      pos_ = save;
    }
    textOut = std::string(s_.substr(start, pos_ - start));
    return model::PropValue{word};
  }

  // (ConvertTo-SecureString -String 'x' -AsPlainText -Force), as Exchange articles pass passwords:
  // the only parenthesised expression understood; its value is the plain string.
  Result<model::PropValue> readSecureString(std::string& textOut, std::size_t start) {
    std::size_t i = pos_ + 1;
    char quote = 0;
    for (; i < s_.size(); ++i) {
      char c = s_[i];
      if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == ')') {
        break;
      }
    }
    auto bad = [&] {
      return fail("expressions in parentheses are not supported, except (ConvertTo-SecureString -String '...' "
                  "-AsPlainText -Force): '" + std::string(rest(40)) + "'");
    };
    if (i >= s_.size()) return bad();
    auto inner = parseLine(s_.substr(pos_ + 1, i - pos_ - 1));
    if (!inner || inner->size() != 1 || inner->front().size() != 1) return bad();
    auto& cmd = inner->front().front();
    if (!text::iequals(cmd.name, "ConvertTo-SecureString")) return bad();
    const model::PropValue* value = nullptr;
    for (std::size_t k = 0; k < cmd.elements.size(); ++k) {
      auto& el = cmd.elements[k];
      if (el.type == Element::Type::Parameter && text::istartsWith("String", el.name) && el.name.size() >= 1) {
        if (el.colonValue) value = &el.value;
        else if (k + 1 < cmd.elements.size() && cmd.elements[k + 1].type == Element::Type::Value)
          value = &cmd.elements[k + 1].value;
      } else if (el.type == Element::Type::Value && !value &&
                 (k == 0 || cmd.elements[k - 1].type == Element::Type::Value)) {
        value = &el.value;
      }
    }
    if (!value || !std::holds_alternative<std::string>(*value)) return bad();
    pos_ = i + 1;
    textOut = std::string(s_.substr(start, pos_ - start));
    return *value;
  }

  // A value, or a comma list of values.
  Result<model::PropValue> readValue(std::string& textOut) {
    std::size_t start = pos_;
    std::string t;
    auto first = readScalar(t);
    if (!first) return first;
    std::size_t save = pos_;
    skipSpace();
    if (atEnd() || peek() != ',') {
      pos_ = save;
      textOut = t;
      return first;
    }
    std::vector<std::string> items;
    auto add = [&](const model::PropValue& v) -> Result<void> {
      if (auto* l = std::get_if<std::vector<std::string>>(&v)) {
        items.insert(items.end(), l->begin(), l->end());
        return {};
      }
      auto s = model::asString(v);
      if (!s) return std::unexpected(s.error());
      items.push_back(*s);
      return {};
    };
    if (auto r = add(*first); !r) return std::unexpected(r.error());
    while (!atEnd() && peek() == ',') {
      ++pos_;
      skipSpace();
      if (atEnd()) return fail("a comma list ends with ','");
      auto next = readScalar(t);
      if (!next) return next;
      if (auto r = add(*next); !r) return std::unexpected(r.error());
      save = pos_;
      skipSpace();
      if (atEnd() || peek() != ',') {
        pos_ = save;
        break;
      }
    }
    textOut = std::string(text::trim(s_.substr(start, pos_ - start)));
    return model::PropValue{items};
  }

  Result<Element> readElement() {
    Element el;
    std::size_t start = pos_;
    if (std::size_t d = match(kDashes)) {
      std::size_t after = pos_ + d;
      if (after < s_.size() && std::isalpha(static_cast<unsigned char>(s_[after]))) {
        pos_ = after;
        std::string name;
        while (!atEnd() && (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '_')) name += s_[pos_++];
        el.type = Element::Type::Parameter;
        el.name = name;
        if (!atEnd() && peek() == ':') {
          ++pos_;
          if (atEnd() || isSpace(peek())) {
            skipSpace();
          }
          if (atEnd() || peek() == '|' || peek() == ';')
            return fail("missing an argument for parameter '" + name + "' after ':'");
          std::string t;
          auto v = readValue(t);
          if (!v) return std::unexpected(v.error());
          el.colonValue = true;
          el.value = *v;
        } else if (!atEnd() && !isSpecial(peek()) && !s_.substr(pos_).starts_with("\xC2\xA0")) {
          return fail("'" + std::string(rest(30)) + "': unexpected character after parameter -" + name);
        }
        el.text = std::string(s_.substr(start, pos_ - start));
        return el;
      }
    }
    el.type = Element::Type::Value;
    auto v = readValue(el.text);
    if (!v) return std::unexpected(v.error());
    el.value = *v;
    return el;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace

Result<std::vector<Pipeline>> parseLine(std::string_view line) { return Lexer(line).run(); }

}  // namespace autodisc::shell
