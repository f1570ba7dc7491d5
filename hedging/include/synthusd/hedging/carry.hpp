#pragma once
// Annualised carry of holding a short, and the perpetual-vs-dated-future
// choice with hysteresis and the cost of switching.

#include <cstdint>
#include <limits>
#include <span>

#include "synthusd/hedging/instrument.hpp"

namespace synthusd::hedging {

// A short perpetual earns the funding rate every interval (rate > 0: longs
// pay shorts). Annualised = rate * (year / interval).
[[nodiscard]] Ratio annualised_funding_carry(Ratio funding_rate, Duration interval) noexcept;

// A short dated future earns its basis as it converges to the index at expiry:
// ((future - index) / index) * (year / time to expiry). Zero when the
// future has expired or a price is missing.
[[nodiscard]] Ratio annualised_basis_carry(Price future_price, Price index_price, Timestamp now,
                                           Timestamp expiry) noexcept;

// How long a hedge can stay on a perpetual: no bound.
inline constexpr Duration kUnboundedHolding{std::numeric_limits<std::int64_t>::max()};

struct CarryCandidate {
  InstrumentId instrument = kNoInstrument;
  bool eligible = false;
  Ratio annual_carry{};
  // How long the hedge could stay on it: a future until its roll point, a
  // perpetual without bound.
  Duration holding = kUnboundedHolding;
  // What moving the hedge onto it or off it costs, a share of the amount
  // moved: its taker fee.
  Ratio switch_cost{};
};

// Keeps `current` while it is eligible unless another candidate beats its
// carry by more than `hysteresis` and repays the switch before it must be
// left: (carry - current's) * holding >= (its switch cost + current's) a year
// (a 2 %-a-year advantage repays two 0.05 % taker fees in 18 days, so it
// never moves the hedge onto a weekly future). Of those that do, the best
// carry (ties: the lower instrument id). With no eligible current, the best
// eligible candidate (ties: the lower id). kNoInstrument when none is
// eligible.
[[nodiscard]] InstrumentId choose_instrument(std::span<const CarryCandidate> candidates, InstrumentId current,
                                             Ratio hysteresis) noexcept;

} // namespace synthusd::hedging
