#include "synthusd/engine/backtest_inputs.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "synthusd/common/csv_text.hpp"
#include "synthusd/common/decimal.hpp"
#include "synthusd/liabilities/wire_protocol.hpp"
#include "synthusd/venue/decimal.hpp"

namespace synthusd::engine {
namespace {

using hedging::Duration;
using hedging::Price;
using hedging::Timestamp;

std::string read_file(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    throw InputError(path, 0, 0, "a directory, not a file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError(path, 0, 0, "cannot open the file");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

using Cell = common::CsvCell;

enum class TimeUnit : std::uint8_t { milliseconds, seconds, text };

struct TimeColumn {
  std::size_t index = 0;
  TimeUnit unit = TimeUnit::text;
};

std::optional<std::size_t> find_column(const std::vector<Cell>& header, std::string_view name) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i].text == name) {
      return i;
    }
  }
  return std::nullopt;
}

Timestamp parse_time(const Cell& cell, TimeUnit unit, std::string_view source, std::size_t line) {
  if (unit != TimeUnit::text) {
    const common::DecimalResult<std::int64_t> value = common::parse_decimal(cell.text, 0);
    // Up to 2100-01-01 in either unit keeps nanoseconds inside int64.
    const std::int64_t limit = unit == TimeUnit::milliseconds ? 4'102'444'800'000 : 4'102'444'800;
    if (!value.ok() || value.value < 0 || value.value > limit) {
      throw InputError(source, line, cell.column, "not a time: '" + std::string(cell.text) + "'");
    }
    return Timestamp{value.value * (unit == TimeUnit::milliseconds ? 1'000'000 : 1'000'000'000)};
  }
  const std::optional<Timestamp> time = venue::parse_utc_time(cell.text);
  if (!time) {
    throw InputError(source, line, cell.column, "not a UTC time: '" + std::string(cell.text) + "'");
  }
  return *time;
}

Price parse_price(const Cell& cell, std::string_view source, std::size_t line) {
  const common::DecimalResult<std::int64_t> value = common::parse_decimal(cell.text, 8);
  if (!value.ok() || value.value <= 0 || value.value > 10'000'000 * Price::kScale) {
    throw InputError(source, line, cell.column,
                     "not a price between 0 and 10,000,000: '" + std::string(cell.text) + "'");
  }
  return Price{value.value};
}

} // namespace

InputError::InputError(std::string_view source, std::size_t line, std::size_t column, const std::string& message)
    : std::runtime_error(std::string(source) + (line > 0 ? ":" + std::to_string(line) : std::string()) +
                         (column > 0 ? ":" + std::to_string(column) : std::string()) + ": " + message) {}

std::vector<PriceBar> parse_price_bars(std::string_view text, std::string_view source) {
  std::vector<PriceBar> bars;
  std::optional<TimeColumn> time_column;
  std::array<std::size_t, 4> candle_columns{}; // open, high, low, close
  bool candle = false;
  std::size_t price_column = 0;
  std::size_t width = 0;
  common::for_each_nonblank_line(text, [&](std::size_t number, std::string_view line) {
    const std::vector<Cell> cells = common::split_csv_row(line);
    if (!time_column) {
      constexpr std::array<std::pair<std::string_view, TimeUnit>, 5> kTimes{{{"epoch_ms", TimeUnit::milliseconds},
                                                                             {"epoch_s", TimeUnit::seconds},
                                                                             {"timestamp", TimeUnit::text},
                                                                             {"timestamp_utc", TimeUnit::text},
                                                                             {"time", TimeUnit::text}}};
      for (const auto& [name, unit] : kTimes) {
        if (const auto index = find_column(cells, name)) {
          time_column = TimeColumn{*index, unit};
          break;
        }
      }
      if (!time_column) {
        throw InputError(source, number, 1,
                         "the header names no time column (epoch_ms, epoch_s, timestamp, timestamp_utc or time)");
      }
      const auto open = find_column(cells, "open");
      const auto high = find_column(cells, "high");
      const auto low = find_column(cells, "low");
      const auto close = find_column(cells, "close");
      if (open && high && low && close) {
        candle = true;
        candle_columns = {*open, *high, *low, *close};
      } else {
        std::optional<std::size_t> price;
        for (const std::string_view name : {"close", "price", "mark_price", "index_price"}) {
          if ((price = find_column(cells, name))) {
            break;
          }
        }
        if (!price) {
          throw InputError(source, number, 1,
                           "the header names no price column (open/high/low/close, close, price, mark_price or "
                           "index_price)");
        }
        price_column = *price;
      }
      width = cells.size();
      return;
    }
    if (cells.size() != width) {
      throw InputError(source, number, 1,
                       "expected " + std::to_string(width) + " columns, found " + std::to_string(cells.size()));
    }
    PriceBar bar;
    bar.time = parse_time(cells[time_column->index], time_column->unit, source, number);
    if (candle) {
      bar.candle = true;
      bar.open = parse_price(cells[candle_columns[0]], source, number);
      bar.high = parse_price(cells[candle_columns[1]], source, number);
      bar.low = parse_price(cells[candle_columns[2]], source, number);
      bar.close = parse_price(cells[candle_columns[3]], source, number);
      if (bar.low > std::min(bar.open, bar.close) || bar.high < std::max(bar.open, bar.close)) {
        throw InputError(source, number, cells[candle_columns[1]].column,
                         "the candle's high and low do not contain its open and close");
      }
    } else {
      bar.close = parse_price(cells[price_column], source, number);
      bar.open = bar.high = bar.low = bar.close;
    }
    if (!bars.empty() && bar.time <= bars.back().time) {
      throw InputError(source, number, cells[time_column->index].column,
                       "time does not increase (rows must be sorted, without duplicates)");
    }
    bars.push_back(bar);
  });
  if (bars.empty()) {
    throw InputError(source, 1, 0, "no price rows");
  }
  return bars;
}

std::vector<PriceBar> load_price_bars(const std::string& path) { return parse_price_bars(read_file(path), path); }

std::vector<hedging::PricePoint> replay_path(const std::vector<PriceBar>& bars) {
  std::vector<hedging::PricePoint> path;
  if (bars.empty()) {
    return path;
  }
  // The interval of the last bar (and of any bar before a gap): the median
  // spacing, so a data gap does not stretch one candle over hours.
  std::vector<std::int64_t> spacing;
  for (std::size_t i = 1; i < bars.size(); ++i) {
    spacing.push_back(bars[i].time.nanoseconds - bars[i - 1].time.nanoseconds);
  }
  std::int64_t median = 60'000'000'000;
  if (!spacing.empty()) {
    std::nth_element(spacing.begin(), spacing.begin() + static_cast<std::ptrdiff_t>(spacing.size() / 2), spacing.end());
    median = spacing[spacing.size() / 2];
  }
  path.reserve(bars.size() * 4);
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const PriceBar& bar = bars[i];
    if (!bar.candle) {
      path.push_back({bar.time, bar.close});
      continue;
    }
    std::int64_t interval = median;
    if (i + 1 < bars.size()) {
      interval = std::min(median, bars[i + 1].time.nanoseconds - bar.time.nanoseconds);
    }
    const std::int64_t quarter = interval / 4;
    const bool up = bar.close >= bar.open;
    path.push_back({bar.time, bar.open});
    path.push_back({bar.time + Duration{quarter}, up ? bar.low : bar.high});
    path.push_back({bar.time + Duration{2 * quarter}, up ? bar.high : bar.low});
    path.push_back({bar.time + Duration{3 * quarter}, bar.close});
  }
  return path;
}

std::vector<LiabilityFlow> parse_liability_lines(std::string_view text, std::string_view source) {
  std::vector<LiabilityFlow> flows;
  common::for_each_nonblank_line(text, [&](std::size_t number, std::string_view line) {
    liabilities::LiabilityRequest request;
    std::string reason;
    if (!liabilities::parse_liability_line(line, request, reason)) {
      throw InputError(source, number, 1, reason);
    }
    LiabilityFlow flow;
    flow.time = Timestamp{request.ts_ms * 1'000'000};
    flow.id = std::move(request.id);
    flow.credit = request.credit;
    flow.usd_cents = request.usd_cents;
    flow.sats = request.sats;
    flow.line = number;
    flow.kind = request.kind;
    flow.provider = std::move(request.provider);
    flow.risk = request.risk;
    if (!flows.empty() && flow.time < flows.back().time) {
      throw InputError(source, number, 1, "ts goes back in time (events must be in the order they happened)");
    }
    flows.push_back(std::move(flow));
  });
  return flows;
}

std::vector<LiabilityFlow> load_liability_lines(const std::string& path) {
  return parse_liability_lines(read_file(path), path);
}

std::vector<LiabilityFlow> generate_flows(const std::vector<hedging::PricePoint>& path,
                                          const FlowGeneratorConfig& config) {
  // Analytics code: the rates and the shape use doubles; every amount is
  // whole cents and the same seed gives the same flows.
  std::vector<LiabilityFlow> flows;
  if (path.empty()) {
    return flows;
  }
  hedging::Random random(config.seed ^ 0xf10f5eedULL);
  std::uint64_t count = 0;
  const auto add = [&](Timestamp time, bool credit, std::int64_t cents) {
    LiabilityFlow flow;
    flow.time = time;
    flow.id = "generated-" + std::to_string(config.seed) + "-" + std::to_string(++count);
    flow.credit = credit;
    flow.usd_cents = cents;
    flows.push_back(std::move(flow));
  };
  add(path.front().time, true, config.initial.value);
  std::int64_t liability = config.initial.value;

  double typical = 0.0;
  for (std::size_t i = 1; i < path.size(); ++i) {
    typical += std::fabs(std::log(static_cast<double>(path[i].price.raw) / static_cast<double>(path[i - 1].price.raw)));
  }
  typical = path.size() > 1 ? typical / static_cast<double>(path.size() - 1) : 0.0;
  constexpr std::size_t kLookback = 12;
  for (std::size_t i = 1; i < path.size(); ++i) {
    const double hours =
        static_cast<double>(path[i].time.nanoseconds - path[i - 1].time.nanoseconds) / 3'600'000'000'000.0;
    const double move =
        std::fabs(std::log(static_cast<double>(path[i].price.raw) / static_cast<double>(path[i - 1].price.raw)));
    const double activity =
        1.0 + static_cast<double>(config.volatility_factor) * (typical > 0.0 ? move / typical : 0.0) / 2.0;
    const std::size_t back = i > kLookback ? i - kLookback : 0;
    const double recent = static_cast<double>(path[i].price.raw) / static_cast<double>(path[back].price.raw) - 1.0;
    const double credit_probability = recent < -0.01 ? 0.8 : 0.55;
    const double expected = static_cast<double>(config.events_per_hour) * hours * activity;
    auto events = static_cast<std::int64_t>(expected);
    if (random.uniform() < expected - static_cast<double>(events)) {
      ++events;
    }
    for (std::int64_t e = 0; e < events; ++e) {
      const double size = std::min(activity, 4.0) * static_cast<double>(config.max_event.value);
      const std::int64_t cents = 1 + static_cast<std::int64_t>(random.uniform() * size);
      const bool credit = random.uniform() < credit_probability || liability - cents < config.initial.value / 10;
      liability += credit ? cents : -cents;
      add(path[i].time, credit, cents);
    }
  }
  return flows;
}

} // namespace synthusd::engine
