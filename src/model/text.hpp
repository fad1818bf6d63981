#pragma once
// Small text helpers shared by the core: ASCII case folding, trimming, splitting.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace autodisc::text {

constexpr char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
std::string toLower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
bool istartsWith(std::string_view s, std::string_view prefix);
bool iendsWith(std::string_view s, std::string_view suffix);
// FNV-1a over the ASCII-lower-cased bytes: equal for strings that iequals() calls equal.
std::uint64_t ihash(std::string_view s);
std::string_view trim(std::string_view s);
// The text of a JSON string without its quotes: \" \\ \n \r \t escaped, other control characters as \u00XX.
std::string jsonEscape(std::string_view s);
std::vector<std::string_view> split(std::string_view s, char sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);

struct ILess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const;
};

}  // namespace autodisc::text
