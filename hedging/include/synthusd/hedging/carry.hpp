#pragma once
// Annualised carry of holding a short, and the perpetual-vs-dated-future
// choice with hysteresis.

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

struct CarryCandidate {
  InstrumentId instrument = kNoInstrument;
  bool eligible = false;
  Ratio annual_carry{};
};

// Keeps `current` while it is eligible and nothing beats its carry by more
// than `hysteresis`; otherwise the best eligible candidate (ties: the lower
// instrument id, so the choice is deterministic). kNoInstrument when none is
// eligible.
[[nodiscard]] InstrumentId choose_instrument(std::span<const CarryCandidate> candidates, InstrumentId current,
                                             Ratio hysteresis) noexcept;

} // namespace synthusd::hedging
