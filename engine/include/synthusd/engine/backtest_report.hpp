#pragma once
// What `synthusd backtest` prints and writes: a text table (one column per
// policy), a JSON document and a self-contained HTML report with inline SVG
// charts. Pure functions of the results: integer arithmetic only, so the
// same input gives the same bytes.

#include <string>
#include <vector>

#include "synthusd/engine/backtest_run.hpp"

namespace synthusd::engine {

// What the run was given, named in every output.
struct BacktestDescription {
  std::string prices;      // the price file
  std::string funding;     // the funding file, or "constant 0"
  std::string liabilities; // the JSON lines file, or "generated, seed N"
  std::string config;      // the configuration file
  std::string instruments; // what the hedge trades, when not only the configured instruments
  std::size_t points = 0;  // of the replayed path
};

// Formatting shared by the three outputs.
[[nodiscard]] std::string format_dollars(hedging::UsdCents cents);        // "-$1,234.56"
[[nodiscard]] std::string format_centi_bps(std::int64_t centi_bps);       // "-12.34"
[[nodiscard]] std::string format_ratio(hedging::Ratio ratio, int places); // "3.01"
[[nodiscard]] std::string format_utc(hedging::Timestamp time);            // "2020-03-12 10:45"

[[nodiscard]] std::string backtest_table(const BacktestDescription& description,
                                         const std::vector<PolicyResult>& results);
[[nodiscard]] std::string backtest_json(const BacktestDescription& description,
                                        const std::vector<PolicyResult>& results);
// Charts (each an <svg> with this id): chart-price, chart-liability-hedge,
// chart-hedge-error, chart-costs, chart-leverage, chart-liquidation-distance;
// events are marked on the price chart and listed in a table.
[[nodiscard]] std::string backtest_html(const BacktestDescription& description,
                                        const std::vector<PolicyResult>& results);

} // namespace synthusd::engine
