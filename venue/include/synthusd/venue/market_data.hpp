#pragma once
// Where the venue simulator's prices and funding rates come from: a CSV
// file or a seeded GBM-with-jumps path (hedging::generate_price_path), and a
// constant or CSV funding rate. Cold path: loading throws on bad input.

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

// The 8-hour funding rate in force at any time: a constant, or the last row
// of a CSV series at or before that time. A series is read in its own time
// when it covers the price path's start; otherwise it is replayed from its
// first row, shifted to start with the path (rebase()).
class FundingSchedule {
public:
  explicit FundingSchedule(hedging::Ratio constant = hedging::Ratio{}) : constant_(constant) {}
  explicit FundingSchedule(std::vector<FundingPoint> series);

  // Shifts a series that does not cover `path_start` so that its first row
  // falls on it. No effect on a constant or a covering series.
  void rebase(hedging::Timestamp path_start);

  [[nodiscard]] hedging::Ratio rate_at(hedging::Timestamp time) const noexcept;
  [[nodiscard]] bool is_constant() const noexcept { return series_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return series_.size(); }

private:
  hedging::Ratio constant_{};
  std::vector<FundingPoint> series_;
  hedging::Duration shift_{};
};

// Reads funding rates from CSV with a header. Time column as for prices;
// rate column the first of interest_8h (Deribit), funding_rate (Binance,
// 8-hourly), funding_8h, rate. Numbers may use exponents ("-2.3e-05").
[[nodiscard]] std::vector<FundingPoint> parse_funding_csv(std::string_view text, std::string_view source);
[[nodiscard]] std::vector<FundingPoint> load_funding_csv(const std::string& path);

} // namespace synthusd::venue
