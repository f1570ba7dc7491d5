#include "synthusd/venue/market_data.hpp"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "synthusd/common/csv_text.hpp"
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

[[noreturn]] void fail(std::string_view source, std::size_t line, const std::string& what) {
  std::ostringstream message;
  message << source << ':' << line << ": " << what;
  throw MarketDataError(message.str());
}

template <std::size_t N>
[[nodiscard]] std::optional<std::size_t> find_column(const std::vector<common::CsvCell>& header,
                                                     const std::array<std::string_view, N>& names) {
  for (const std::string_view name : names) {
    const auto it =
        std::find_if(header.begin(), header.end(), [name](const common::CsvCell& cell) { return cell.text == name; });
    if (it != header.end()) {
      return static_cast<std::size_t>(it - header.begin());
    }
  }
  return std::nullopt;
}

[[nodiscard]] Column time_column(const std::vector<common::CsvCell>& header, std::string_view source) {
  constexpr std::array<std::string_view, 5> kNames{"epoch_ms", "epoch_s", "timestamp", "time", "timestamp_utc"};
  const std::optional<std::size_t> index = find_column(header, kNames);
  if (!index) {
    fail(source, 1, "no time column (epoch_ms, epoch_s, timestamp, time or timestamp_utc)");
  }
  const std::string_view name = header[*index].text;
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

// Calls on_header(cells) once, then on_row(line, time, value_cell, cells)
// for every data row.
template <std::size_t N, typename OnHeader, typename OnRow>
void read_series(std::string_view text, std::string_view source, const std::array<std::string_view, N>& value_names,
                 OnHeader&& on_header, OnRow&& on_row) {
  std::optional<Column> time;
  std::size_t value_index = 0;
  std::size_t header_columns = 0;
  std::optional<Timestamp> previous;
  common::for_each_nonblank_line(text, [&](std::size_t line, std::string_view row) {
    const std::vector<common::CsvCell> cells = common::split_csv_row(row);
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
      header_columns = cells.size();
      on_header(cells);
      return;
    }
    if (cells.size() != header_columns) {
      fail(source, line,
           std::to_string(cells.size()) + " columns where the header has " + std::to_string(header_columns));
    }
    const std::optional<Timestamp> at = parse_time(cells[time->index].text, time->unit);
    if (!at) {
      fail(source, line, "bad time '" + std::string(cells[time->index].text) + "'");
    }
    if (previous && *at <= *previous) {
      fail(source, line, "time does not increase");
    }
    previous = at;
    on_row(line, *at, cells[value_index].text, cells);
  });
  if (!time) {
    fail(source, 1, "empty file");
  }
}

[[nodiscard]] std::string read_file(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    throw MarketDataError(path + ": a directory, not a CSV file");
  }
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
  read_series(
      text, source, kNames, [](const std::vector<common::CsvCell>& /*header*/) {},
      [&](std::size_t line, Timestamp time, std::string_view cell, const std::vector<common::CsvCell>&) {
        const std::optional<std::int64_t> raw = parse_decimal(cell, 8);
        if (!raw || *raw <= 0) {
          fail(source, line, "bad price '" + std::string(cell) + "'");
        }
        path.push_back({time, Price{*raw}});
      });
  if (path.empty()) {
    fail(source, 1, "no price rows");
  }
  return path;
}

std::vector<hedging::PricePoint> load_price_csv(const std::string& path) {
  return parse_price_csv(read_file(path), path);
}

std::vector<FundingPoint> parse_funding_csv(std::string_view text, std::string_view source) {
  constexpr std::array<std::string_view, 4> kNames{"interest_8h", "funding_rate", "funding_8h", "rate"};
  std::vector<FundingPoint> series;
  // BitMEX's file says each row's interval (8 or 24 hours): its rate is
  // for that interval, and the venue charges an 8-hour rate.
  std::optional<std::size_t> interval_column;
  const auto on_header = [&](const std::vector<common::CsvCell>& header) {
    interval_column = find_column(header, std::array<std::string_view, 1>{"funding_interval_hours"});
  };
  read_series(text, source, kNames, on_header,
              [&](std::size_t line, Timestamp time, std::string_view cell, const std::vector<common::CsvCell>& cells) {
                const std::optional<std::int64_t> raw = parse_decimal(cell, 8);
                if (!raw) {
                  fail(source, line, "bad funding rate '" + std::string(cell) + "'");
                }
                std::int64_t rate = *raw;
                if (interval_column) {
                  const std::string_view hours_text = cells[*interval_column].text;
                  const std::optional<std::int64_t> hours = parse_exact_decimal(hours_text, 0);
                  if (!hours || *hours < 1 || *hours > kMaxFundingIntervalHours) {
                    fail(source, line,
                         "bad funding_interval_hours '" + std::string(hours_text) + "' (whole hours, 1 to 168)");
                  }
                  // rate per `hours` -> per 8 hours, half to even (|rate| <= 10 so
                  // the product is far inside int64).
                  rate = static_cast<std::int64_t>(
                      hedging::divide(static_cast<hedging::int128>(rate) * 8, *hours, hedging::Rounding::half_even));
                }
                if (rate > kMaxFundingRate8h.raw || rate < -kMaxFundingRate8h.raw) {
                  fail(source, line,
                       "funding rate '" + std::string(cell) +
                           "' is beyond +-10 % per 8 hours (rates are fractions: 0.0001 is 0.01 %)");
                }
                series.push_back({time, Ratio{rate}});
              });
  if (series.empty()) {
    fail(source, 1, "no funding rows");
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

std::optional<std::string> FundingSchedule::coverage_error(Timestamp from, Timestamp to) const {
  if (series_.empty()) {
    return std::nullopt;
  }
  if (series_.front().time > from + kFundingTimeTolerance) {
    return "the funding rows start at " + format_utc_time(series_.front().time) + ", after the prices' first point " +
           format_utc_time(from);
  }
  if (series_.back().time + kFundingLastRowReach < to) {
    return "the funding rows end at " + format_utc_time(series_.back().time) +
           ", more than a day before the prices' last point " + format_utc_time(to);
  }
  return std::nullopt;
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
