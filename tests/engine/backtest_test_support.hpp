#pragma once
// Shared inputs of the backtest tests (backtest_test.cpp,
// backtest_futures_test.cpp): the bundled excerpt of the 2020-03-12 crash
// with seeded flows, scripted minute paths and single credits.

#include <cstdint>
#include <string>
#include <vector>

#include "synthusd/engine/backtest_run.hpp"
#include "synthusd/engine/config_file.hpp"

namespace synthusd::engine {

inline constexpr const char* kPrices =
    SYNTHUSD_SOURCE_DIR "/tests/data/backtest/btcusdt_binance_5m_2020-03-12_excerpt.csv";
inline constexpr const char* kFunding =
    SYNTHUSD_SOURCE_DIR "/tests/data/backtest/deribit_btc-perpetual_funding_1h_2020-03-12_excerpt.csv";

inline BacktestInputs crash_inputs(std::uint64_t seed) {
  BacktestInputs inputs;
  inputs.kernel = load_config(SYNTHUSD_SOURCE_DIR "/config/backtest.toml").kernel;
  inputs.path = replay_path(load_price_bars(kPrices));
  inputs.funding = venue::FundingSchedule(venue::load_funding_csv(kFunding));
  FlowGeneratorConfig flows;
  flows.seed = seed;
  inputs.flows = generate_flows(inputs.path, flows);
  return inputs;
}

// A close-only path: one point a minute from 2024-01-01 00:00 UTC.
inline std::vector<hedging::PricePoint> minute_path(const std::vector<std::int64_t>& dollars) {
  std::vector<hedging::PricePoint> path;
  for (std::size_t i = 0; i < dollars.size(); ++i) {
    path.push_back({hedging::Timestamp{1'704'067'200'000'000'000 + static_cast<std::int64_t>(i) * 60'000'000'000},
                    hedging::Price::from_dollars(dollars[i])});
  }
  return path;
}

inline LiabilityFlow credit(hedging::Timestamp time, std::int64_t cents, const std::string& id) {
  LiabilityFlow flow;
  flow.time = time;
  flow.id = id;
  flow.credit = true;
  flow.usd_cents = cents;
  return flow;
}

} // namespace synthusd::engine
