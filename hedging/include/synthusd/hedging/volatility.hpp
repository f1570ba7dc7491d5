#pragma once
// Realised volatility of an instrument's mark, measured from the market
// updates the kernel already sees, and the band it scales: in calm markets a
// wider band trades less, since the hedge error a gap costs grows with the
// price's moves, not with the gap alone. Integers only, deterministic.

#include <cstdint>

#include "synthusd/hedging/config.hpp"

namespace synthusd::hedging {

// One instrument's estimate. hourly_variance is the variance of the mark's
// returns over an hour, in Ratio raw units squared (1e-16): an average in
// which each sample weighs its share of an hour, so ticks every 100 ms and
// candles every 15 minutes estimate the same thing.
struct VolatilitySample {
  Price mark{};
  Timestamp time{};
  std::uint64_t hourly_variance = 0;
};

// Folds in one mark. The first mark only starts the estimate, at
// `initial_variance` (the reference: the band starts unscaled, never wide
// for lack of history). A mark at or before the last sample's time, or an
// invalid one, changes nothing. Saturates instead of wrapping.
void observe_mark(VolatilitySample& sample, Price mark, Timestamp time, std::uint64_t initial_variance) noexcept;

// floor(sqrt(value)), exact.
[[nodiscard]] std::uint64_t integer_sqrt(std::uint64_t value) noexcept;

// The band for a realised hourly variance: each bound's distance from 1.00
// times volatility_reference / realised volatility (rounded toward 1.00), no
// less than configured and at most maximum_band_scale times it. Unchanged
// when volatility_reference is 0 or the market moves at least that much.
[[nodiscard]] BandConfig volatility_scaled_bands(const BandConfig& bands, std::uint64_t hourly_variance) noexcept;

} // namespace synthusd::hedging
