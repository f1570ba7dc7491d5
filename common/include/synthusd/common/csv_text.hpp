#pragma once
// Plain CSV text as the price and funding histories come (../shared/data and
// exchange exports): comma-separated, cells optionally quoted, no commas or
// newlines inside a cell, CRLF or LF lines. Shared by the simulator's market
// data and the backtest's price bars so both read a file the same way.

#include <cstddef>
#include <string_view>
#include <vector>

namespace synthusd::common {

// A cell with surrounding spaces and quotes removed, and the column
// (1-based, in characters) where its text starts, for error messages.
struct CsvCell {
  std::string_view text;
  std::size_t column = 1;
};

[[nodiscard]] inline std::vector<CsvCell> split_csv_row(std::string_view line) {
  std::vector<CsvCell> cells;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    const std::size_t end = comma == std::string_view::npos ? line.size() : comma;
    std::string_view text = line.substr(start, end - start);
    std::size_t column = start + 1;
    while (!text.empty() && (text.front() == ' ' || text.front() == '"')) {
      text.remove_prefix(1);
      ++column;
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '"' || text.back() == '\r')) {
      text.remove_suffix(1);
    }
    cells.push_back(CsvCell{text, column});
    if (comma == std::string_view::npos) {
      return cells;
    }
    start = comma + 1;
  }
}

// Calls on_line(number, line) for every line that is not blank (numbers
// from 1, counting blank lines too; a trailing '\r' removed): CSV rows, and
// the JSON lines of the backtest's liabilities. A UTF-8 byte order mark
// (spreadsheets write one) is not part of the first line.
template <typename OnLine>
void for_each_nonblank_line(std::string_view text, OnLine&& on_line) {
  constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
  std::size_t number = 0;
  std::size_t start = text.substr(0, kByteOrderMark.size()) == kByteOrderMark ? kByteOrderMark.size() : 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    ++number;
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.find_first_not_of(" \t") != std::string_view::npos) {
      on_line(number, line);
    }
    start = end + 1;
  }
}

} // namespace synthusd::common
