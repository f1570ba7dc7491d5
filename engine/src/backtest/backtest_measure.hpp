#pragma once
// What a backtest run measures at every point: the hedge error (the USD
// value held for the customers from price moves alone minus their dollars,
// in 1/100 bp of the liability), its worst shortfall and excess, RMS and the
// time beyond the tolerance, and the leverage and distance to liquidation
// of the books. Integers only, so a run's figures are the same bytes on
// every machine.

#include <cstdint>

#include "backtest_books.hpp"
#include "synthusd/engine/backtest_run.hpp"

namespace synthusd::engine {

// error / liability in 1/100 bp (error * 1e6 / liability, half even); 0 for
// no liability.
[[nodiscard]] std::int64_t centi_bps(std::int64_t error_cents, std::int64_t liability_cents);

// floor(sqrt(value)); 0 for value <= 0.
[[nodiscard]] std::int64_t integer_sqrt(hedging::int128 value);

// One point of the run, as the driver sees it.
struct PointHeld {
  hedging::Timestamp time{};
  hedging::Price price{};
  hedging::UsdCents liability{};
  BookMeasures books;
  // Wallet + in transit + the books' equity + every cost added back (fees,
  // slippage, net funding, in the BTC they cost): had the costs not been
  // paid, that BTC would still be held.
  hedging::Sats held{};
  hedging::Duration until_next{}; // to the next point (0 at the last)
};

class HedgeErrorMeasure {
public:
  explicit HedgeErrorMeasure(std::int64_t tolerance_centi_bps) : tolerance_centi_bps_(tolerance_centi_bps) {}

  // Adds the point's sample to result.samples and folds it into the
  // result's worst, RMS, time-beyond-tolerance, leverage and distance
  // figures. result's fees and funding so far go into the sample.
  void record(PolicyResult& result, const PointHeld& point);

  // The figures only the whole run gives (RMS, final error and value,
  // duration). result.samples must not be empty.
  void finish(PolicyResult& result) const;

private:
  std::int64_t tolerance_centi_bps_;
  hedging::int128 squares_ = 0;
};

} // namespace synthusd::engine
