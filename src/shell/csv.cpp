#include "shell/csv.hpp"

#include <string>

#include "model/text.hpp"

namespace autodisc::shell {

Result<std::vector<Record>> parseCsv(std::string_view data, char delim) {
  if (data.starts_with("\xEF\xBB\xBF")) data.remove_prefix(3);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, fieldStarted = false;
  std::size_t line = 1;
  auto endField = [&] {
    row.push_back(std::move(field));
    field.clear();
    fieldStarted = false;
  };
  auto endRow = [&] {
    endField();
    bool blank = row.size() == 1 && row[0].empty();
    if (!blank) rows.push_back(std::move(row));
    row.clear();
  };
  for (std::size_t i = 0; i < data.size(); ++i) {
    char c = data[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < data.size() && data[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && !fieldStarted && field.empty()) {
      quoted = true;
      fieldStarted = true;
    } else if (c == delim) {
      endField();
    } else if (c == '\r') {
      continue;
    } else if (c == '\n') {
      endRow();
      ++line;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted) return fail("an unterminated quoted field (line " + std::to_string(line) + ")");
  if (fieldStarted || !field.empty() || !row.empty()) endRow();
  if (!rows.empty() && !rows.front().empty() && rows.front().front().starts_with("#TYPE")) rows.erase(rows.begin());
  if (rows.empty()) return fail("the file has no header row");
  auto& header = rows.front();
  for (auto& h : header) h = std::string(text::trim(h));
  std::vector<Record> out;
  out.reserve(rows.size() - 1);
  for (std::size_t r = 1; r < rows.size(); ++r) {
    if (rows[r].size() > header.size())
      return fail("row " + std::to_string(r + 1) + " has " + std::to_string(rows[r].size()) + " fields, the header " +
                  std::to_string(header.size()));
    Record rec;
    for (std::size_t c = 0; c < header.size(); ++c) rec.emplace_back(header[c], c < rows[r].size() ? rows[r][c] : "");
    out.push_back(std::move(rec));
  }
  return out;
}

}  // namespace autodisc::shell
