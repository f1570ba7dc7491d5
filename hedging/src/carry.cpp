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
    if (best == nullptr || candidate.annual_carry > best->annual_carry ||
        (candidate.annual_carry == best->annual_carry && candidate.instrument < best->instrument)) {
      best = &candidate;
    }
  }
  if (best == nullptr) {
    return kNoInstrument;
  }
  if (incumbent != nullptr && best->annual_carry.raw - incumbent->annual_carry.raw <= hysteresis.raw) {
    return incumbent->instrument;
  }
  return best->instrument;
}

} // namespace synthusd::hedging
