#pragma once
// `synthusd backtest`: policies side by side over a real price history,
// through the venue model synthusd-venue runs (backtest_run.hpp).

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

namespace synthusd::engine {

struct BacktestOptions {
  std::string prices_path;                 // CSV: timestamp + close, or OHLC candles
  std::string funding_path;                // CSV: timestamp + rate; empty: no funding
  std::string liabilities_path;            // JSON lines in the intake's format
  std::optional<std::uint64_t> flows_seed; // or generated flows with this seed
  std::string config_path;                 // venues, instruments, collateral rules
  std::string policies = "stablesats,banded,passive";
  std::string report_path; // HTML
  std::string json_path;
  std::int64_t transfer_delay_seconds = 0;
  std::int64_t post_only_wait_seconds = 120;
  std::string from;                   // UTC time: rows before it are left out
  std::string to;                     // UTC time: rows after it are left out
  std::string hedge_on = "perpetual"; // perpetual, futures or carry (backtest_futures.hpp)
  std::string future_basis = "0.05";  // the futures' premium over the index, a year
};

// Prints the table on `out` and progress on `progress`. Returns 0, or 1 if
// any policy was liquidated. Throws std::exception with a message naming
// the bad input.
int run_backtest_command(const BacktestOptions& options, std::ostream& out, std::ostream& progress);

} // namespace synthusd::engine
