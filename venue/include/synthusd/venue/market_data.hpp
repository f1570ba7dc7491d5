#pragma once
// Where the venue simulator's prices and funding rates come from: a CSV
// file or a seeded GBM-with-jumps path (hedging::generate_price_path), and a
// constant or CSV funding rate. Cold path: loading throws on bad input.

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "synthusd/hedging/price_path.hpp"
#include "synthusd/hedging/types.hpp"

namespace synthusd::venue {

struct MarketDataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reads a price path from CSV text with a header line. The time column is
// the first of epoch_ms, epoch_s, timestamp, time, timestamp_utc (epoch
// seconds or milliseconds as named, otherwise ISO 8601 UTC or epoch
// seconds); the price column the first of close, price, mark_price,
// index_price. This reads the btcusdt_binance_*.csv files (epoch_s, close)
// and plain "timestamp,price" files. Rows must be in strictly increasing
// time; prices must be positive. `source` names the input in errors.
[[nodiscard]] std::vector<hedging::PricePoint> parse_price_csv(std::string_view text, std::string_view source);
[[nodiscard]] std::vector<hedging::PricePoint> load_price_csv(const std::string& path);

struct FundingPoint {
  hedging::Timestamp time{};
  hedging::Ratio rate{}; // per funding interval (8 h), scaled by 1e8
};

// A row stamped up to this long after a funding time is the rate charged
// then: exchanges stamp a funding a few milliseconds after its time.
inline constexpr hedging::Duration kFundingTimeTolerance = hedging::Duration::from_seconds(60);
// coverage_error(): the last row may be at most this long before the
// prices' last point (BitMEX once funded daily).
inline constexpr hedging::Duration kFundingLastRowReach = hedging::Duration::from_seconds(24 * 3600);
// A rate beyond +-10 % per 8 hours (30 times BitMEX's cap) is a unit error.
inline constexpr hedging::Ratio kMaxFundingRate8h{10'000'000};
inline constexpr std::int64_t kMaxFundingIntervalHours = 168;

// The 8-hour funding rate in force at any time: a constant, or the last row
// of a CSV series at or before that time.
// The backtest needs the series to cover its prices (coverage_error()); the
// venue simulator, whose paths may be generated, replays a series that does
// not cover the path's start from its first row, shifted to start with the
// path (rebase()), and says so.
class FundingSchedule {
public:
  explicit FundingSchedule(hedging::Ratio constant = hedging::Ratio{}) : constant_(constant) {}
  explicit FundingSchedule(std::vector<FundingPoint> series);

  // Shifts a series that does not cover `path_start` so that its first row
  // falls on it. No effect on a constant or a covering series.
  void rebase(hedging::Timestamp path_start);
  // Why the series cannot stand for funding from `from` to `to` (its first
  // row after `from`, its last more than kFundingLastRowReach before `to`);
  // nullopt when it can. A constant always can.
  [[nodiscard]] std::optional<std::string> coverage_error(hedging::Timestamp from, hedging::Timestamp to) const;
  [[nodiscard]] hedging::Duration shift() const noexcept { return shift_; }

  [[nodiscard]] hedging::Ratio rate_at(hedging::Timestamp time) const noexcept;
  // The rate a funding charged at `time` pays: a row stamped up to
  // kFundingTimeTolerance after it is that funding's (Binance's rows carry
  // a few milliseconds of jitter, and read exactly, a charge at 08:00 would
  // pay the 00:00 rate). The quote shows rate_at().
  [[nodiscard]] hedging::Ratio rate_charged_at(hedging::Timestamp time) const noexcept {
    return rate_at(time + kFundingTimeTolerance);
  }
  [[nodiscard]] bool is_constant() const noexcept { return series_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return series_.size(); }

private:
  hedging::Ratio constant_{};
  std::vector<FundingPoint> series_;
  hedging::Duration shift_{};
};

// Reads funding rates from CSV with a header. Time column as for prices;
// rate column the first of interest_8h (Deribit), funding_rate (Binance,
// 8-hourly), funding_8h, rate. Numbers may use exponents ("-2.3e-05"). A
// funding_interval_hours column (BitMEX) gives each row's interval: its rate
// is converted to 8 hours (x 8 / hours, half to even). Every row has the
// header's columns; a rate beyond kMaxFundingRate8h is refused.
[[nodiscard]] std::vector<FundingPoint> parse_funding_csv(std::string_view text, std::string_view source);
[[nodiscard]] std::vector<FundingPoint> load_funding_csv(const std::string& path);

} // namespace synthusd::venue
