#include "synthusd/hedging/carry.hpp"

#include <limits>

namespace synthusd::hedging {
namespace {

// Annualising a tiny interval can exceed int64: saturate instead of wrapping
// (a wrapped value would flip the sign of the carry).
Ratio saturate(int128 value) noexcept {
  constexpr int128 kMax = std::numeric_limits<std::int64_t>::max();
  constexpr int128 kMin = std::numeric_limits<std::int64_t>::min();
  return Ratio{static_cast<std::int64_t>(value > kMax ? kMax : (value < kMin ? kMin : value))};
}

} // namespace

Ratio annualised_funding_carry(Ratio funding_rate, Duration interval) noexcept {
  if (interval.nanoseconds <= 0) {
    return Ratio{0};
  }
  return saturate(
      divide(static_cast<int128>(funding_rate.raw) * kYear.nanoseconds, interval.nanoseconds, Rounding::half_even));
}

Ratio annualised_basis_carry(Price future_price, Price index_price, Timestamp now, Timestamp expiry) noexcept {
  const Duration to_expiry = expiry - now;
  if (!future_price.is_valid() || !index_price.is_valid() || to_expiry.nanoseconds <= 0) {
    return Ratio{0};
  }
  // basis * scale * year / (index * tte); int128 holds 1e13 * 1e8 * 3e16.
  const int128 numerator = static_cast<int128>(future_price.raw - index_price.raw) * Ratio::kScale * kYear.nanoseconds;
  const int128 denominator = static_cast<int128>(index_price.raw) * to_expiry.nanoseconds;
  return saturate(divide(numerator, denominator, Rounding::half_even));
}

namespace {

bool better(const CarryCandidate& candidate, const CarryCandidate& than) noexcept {
  return candidate.annual_carry > than.annual_carry ||
         (candidate.annual_carry == than.annual_carry && candidate.instrument < than.instrument);
}

// The advantage earned over the candidate's holding pays for leaving the
// incumbent and entering the candidate. An unbounded holding always does.
bool repays_switch(const CarryCandidate& candidate, const CarryCandidate& incumbent) noexcept {
  if (candidate.holding.nanoseconds == kUnboundedHolding.nanoseconds) {
    return true;
  }
  const int128 advantage = static_cast<int128>(candidate.annual_carry.raw) - incumbent.annual_carry.raw;
  const int128 holding = candidate.holding.nanoseconds > 0 ? candidate.holding.nanoseconds : 0;
  const int128 cost = static_cast<int128>(candidate.switch_cost.raw) + incumbent.switch_cost.raw;
  // Ratio units * ns on both sides: at most 9.2e18 * 9.2e18 < 1.7e38.
  return advantage * holding >= cost * kYear.nanoseconds;
}

} // namespace

InstrumentId choose_instrument(std::span<const CarryCandidate> candidates, InstrumentId current,
                               Ratio hysteresis) noexcept {
  const CarryCandidate* best = nullptr;
  const CarryCandidate* incumbent = nullptr;
  for (const CarryCandidate& candidate : candidates) {
    if (!candidate.eligible) {
      continue;
    }
    if (candidate.instrument == current) {
      incumbent = &candidate;
    }
    if (best == nullptr || better(candidate, *best)) {
      best = &candidate;
    }
  }
  if (best == nullptr) {
    return kNoInstrument;
  }
  if (incumbent == nullptr) {
    return best->instrument;
  }
  const CarryCandidate* chosen = incumbent;
  for (const CarryCandidate& candidate : candidates) {
    if (!candidate.eligible || &candidate == incumbent ||
        static_cast<int128>(candidate.annual_carry.raw) - incumbent->annual_carry.raw <= hysteresis.raw ||
        !repays_switch(candidate, *incumbent)) {
      continue;
    }
    if (chosen == incumbent || better(candidate, *chosen)) {
      chosen = &candidate;
    }
  }
  return chosen->instrument;
}

} // namespace synthusd::hedging
