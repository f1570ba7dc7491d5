#include "synthusd/venue/market_data.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <optional>
#include <sstream>

#include "synthusd/venue/decimal.hpp"

namespace synthusd::venue {
namespace {

using hedging::Duration;
using hedging::Price;
using hedging::Ratio;
using hedging::Timestamp;

enum class TimeUnit : std::uint8_t { milliseconds, seconds, text };

struct Column {
  std::size_t index = 0;
  TimeUnit unit = TimeUnit::text;
};

[[nodiscard]] std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '"')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '"' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

[[nodiscard]] std::vector<std::string_view> split_row(std::string_view line) {
  std::vector<std::string_view> cells;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    cells.push_back(trim(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) {
      return cells;
    }
    start = comma + 1;
  }
}

// Splits text into lines, dropping blank ones; calls on_line(number, line).
template <typename OnLine>
void for_each_line(std::string_view text, OnLine&& on_line) {
  std::size_t number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    ++number;
    const std::string_view line = trim(text.substr(start, end - start));
    if (!line.empty()) {
      on_line(number, line);
    }
    start = end + 1;
  }
}

[[noreturn]] void fail(std::string_view source, std::size_t line, const std::string& what) {
  std::ostringstream message;
  message << source << ':' << line << ": " << what;
  throw MarketDataError(message.str());
}

template <std::size_t N>
[[nodiscard]] std::optional<std::size_t> find_column(const std::vector<std::string_view>& header,
                                                     const std::array<std::string_view, N>& names) {
  for (const std::string_view name : names) {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it != header.end()) {
      return static_cast<std::size_t>(it - header.begin());
    }
  }
  return std::nullopt;
}

[[nodiscard]] Column time_column(const std::vector<std::string_view>& header, std::string_view source) {
  constexpr std::array<std::string_view, 5> kNames{"epoch_ms", "epoch_s", "timestamp", "time", "timestamp_utc"};
  const std::optional<std::size_t> index = find_column(header, kNames);
  if (!index) {
    fail(source, 1, "no time column (epoch_ms, epoch_s, timestamp, time or timestamp_utc)");
  }
  const std::string_view name = header[*index];
  const TimeUnit unit = name == "epoch_ms"  ? TimeUnit::milliseconds
                        : name == "epoch_s" ? TimeUnit::seconds
                                            : TimeUnit::text;
  return {*index, unit};
}

[[nodiscard]] std::optional<Timestamp> parse_time(std::string_view cell, TimeUnit unit) noexcept {
  switch (unit) {
  case TimeUnit::milliseconds: {
    const auto nanoseconds = parse_exact_decimal(cell, 6);
    return nanoseconds ? std::optional<Timestamp>(Timestamp{*nanoseconds}) : std::nullopt;
  }
  case TimeUnit::seconds: {
    const auto nanoseconds = parse_exact_decimal(cell, 9);
    return nanoseconds ? std::optional<Timestamp>(Timestamp{*nanoseconds}) : std::nullopt;
  }
  case TimeUnit::text:
    break;
  }
  return parse_utc_time(cell);
}

// Calls on_row(line, time, value_cell) for every data row.
template <std::size_t N, typename OnRow>
void read_series(std::string_view text, std::string_view source, const std::array<std::string_view, N>& value_names,
                 OnRow&& on_row) {
  std::optional<Column> time;
  std::size_t value_index = 0;
  std::optional<Timestamp> previous;
  for_each_line(text, [&](std::size_t line, std::string_view row) {
    const std::vector<std::string_view> cells = split_row(row);
    if (!time) {
      time = time_column(cells, source);
      const std::optional<std::size_t> value = find_column(cells, value_names);
      if (!value) {
        std::string names;
        for (const std::string_view name : value_names) {
          names += names.empty() ? "" : ", ";
          names += name;
        }
        fail(source, line, "no value column (one of " + names + ")");
      }
      value_index = *value;
      return;
    }
    if (cells.size() <= std::max(time->index, value_index)) {
      fail(source, line, "too few columns");
    }
    const std::optional<Timestamp> at = parse_time(cells[time->index], time->unit);
    if (!at) {
      fail(source, line, "bad time '" + std::string(cells[time->index]) + "'");
    }
    if (previous && *at <= *previous) {
      fail(source, line, "time does not increase");
    }
    previous = at;
    on_row(line, *at, cells[value_index]);
  });
  if (!time) {
    fail(source, 0, "empty file");
  }
}

[[nodiscard]] std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw MarketDataError("cannot open " + path);
  }
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

} // namespace

std::vector<hedging::PricePoint> parse_price_csv(std::string_view text, std::string_view source) {
  constexpr std::array<std::string_view, 4> kNames{"close", "price", "mark_price", "index_price"};
  std::vector<hedging::PricePoint> path;
  read_series(text, source, kNames, [&](std::size_t line, Timestamp time, std::string_view cell) {
    const std::optional<std::int64_t> raw = parse_decimal(cell, 8);
    if (!raw || *raw <= 0) {
      fail(source, line, "bad price '" + std::string(cell) + "'");
    }
    path.push_back({time, Price{*raw}});
  });
  if (path.empty()) {
    fail(source, 0, "no price rows");
  }
  return path;
}

std::vector<hedging::PricePoint> load_price_csv(const std::string& path) {
  return parse_price_csv(read_file(path), path);
}

std::vector<FundingPoint> parse_funding_csv(std::string_view text, std::string_view source) {
  constexpr std::array<std::string_view, 4> kNames{"interest_8h", "funding_rate", "funding_8h", "rate"};
  std::vector<FundingPoint> series;
  read_series(text, source, kNames, [&](std::size_t line, Timestamp time, std::string_view cell) {
    const std::optional<std::int64_t> raw = parse_decimal(cell, 8);
    if (!raw) {
      fail(source, line, "bad funding rate '" + std::string(cell) + "'");
    }
    series.push_back({time, Ratio{*raw}});
  });
  if (series.empty()) {
    fail(source, 0, "no funding rows");
  }
  return series;
}

std::vector<FundingPoint> load_funding_csv(const std::string& path) { return parse_funding_csv(read_file(path), path); }

FundingSchedule::FundingSchedule(std::vector<FundingPoint> series) : series_(std::move(series)) {
  if (series_.empty()) {
    throw MarketDataError("funding series is empty");
  }
}

void FundingSchedule::rebase(Timestamp path_start) {
  if (series_.empty()) {
    return;
  }
  const bool covers = series_.front().time <= path_start && path_start <= series_.back().time;
  shift_ = covers ? Duration{} : path_start - series_.front().time;
}

hedging::Ratio FundingSchedule::rate_at(Timestamp time) const noexcept {
  if (series_.empty()) {
    return constant_;
  }
  const Timestamp local = time - shift_;
  // The last row at or before `local`; before the first row, the first.
  const auto after = std::upper_bound(series_.begin(), series_.end(), local,
                                      [](Timestamp t, const FundingPoint& point) { return t < point.time; });
  return after == series_.begin() ? series_.front().rate : std::prev(after)->rate;
}

} // namespace synthusd::venue
