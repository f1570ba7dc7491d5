#include "synthusd/hedging/volatility.hpp"

#include <limits>

namespace synthusd::hedging {
namespace {

constexpr std::uint64_t kMaxVariance = std::numeric_limits<std::uint64_t>::max();
constexpr std::int64_t kHour = Duration::from_hours(1).nanoseconds;

constexpr std::uint64_t saturate(int128 value) noexcept {
  if (value <= 0) {
    return 0;
  }
  return value > static_cast<int128>(kMaxVariance) ? kMaxVariance : static_cast<std::uint64_t>(value);
}

// One bound moved away from 1.00 by numerator / denominator (>= 1).
Ratio widen(Ratio bound, int128 numerator, int128 denominator) noexcept {
  const int128 distance = static_cast<int128>(bound.raw) - Ratio::kScale;
  return Ratio{
      static_cast<std::int64_t>(Ratio::kScale + divide(distance * numerator, denominator, Rounding::toward_zero))};
}

} // namespace

void observe_mark(VolatilitySample& sample, Price mark, Timestamp time, std::uint64_t initial_variance) noexcept {
  if (!mark.is_valid()) {
    return;
  }
  if (!sample.mark.is_valid()) {
    sample = VolatilitySample{mark, time, initial_variance};
    return;
  }
  const std::int64_t elapsed = time.nanoseconds - sample.time.nanoseconds;
  if (elapsed <= 0) {
    return;
  }
  // The return in Ratio raw units, squared; past 2^32 (a move of 4,294 %)
  // the square saturates, so every product below fits int128.
  const int128 move =
      divide((static_cast<int128>(mark.raw) - sample.mark.raw) * Ratio::kScale, sample.mark.raw, Rounding::toward_zero);
  constexpr int128 kLargestMove = static_cast<int128>(1) << 32;
  const int128 squared =
      move >= kLargestMove || move <= -kLargestMove ? static_cast<int128>(kMaxVariance) : move * move;
  // An average over about an hour: each sample's squared return is what
  // the hour adds, and the old estimate keeps (hour - elapsed) / hour of its
  // weight; a gap of an hour or more leaves only the new sample, scaled to
  // an hour.
  int128 variance = 0;
  if (elapsed >= kHour) {
    variance = divide(squared * kHour, elapsed, Rounding::toward_zero);
  } else {
    const int128 kept =
        divide(static_cast<int128>(sample.hourly_variance) * (kHour - elapsed), kHour, Rounding::toward_zero);
    variance = kept + squared;
  }
  sample = VolatilitySample{mark, time, saturate(variance)};
}

std::uint64_t integer_sqrt(std::uint64_t value) noexcept {
  // Bit by bit from the top: no floating point, exact floor.
  std::uint64_t root = 0;
  std::uint64_t bit = static_cast<std::uint64_t>(1) << 62;
  while (bit > value) {
    bit >>= 2;
  }
  while (bit != 0) {
    if (value >= root + bit) {
      value -= root + bit;
      root = (root >> 1) + bit;
    } else {
      root >>= 1;
    }
    bit >>= 2;
  }
  return root;
}

BandConfig volatility_scaled_bands(const BandConfig& bands, std::uint64_t hourly_variance) noexcept {
  if (bands.volatility_reference.raw <= 0 || bands.maximum_band_scale <= 1) {
    return bands;
  }
  const std::uint64_t realised = integer_sqrt(hourly_variance);
  const auto reference = static_cast<std::uint64_t>(bands.volatility_reference.raw);
  if (realised >= reference) {
    return bands;
  }
  // scale = reference / realised, at most maximum_band_scale
  int128 numerator = reference;
  int128 denominator = realised;
  if (realised == 0 || static_cast<int128>(reference) >= static_cast<int128>(realised) * bands.maximum_band_scale) {
    numerator = bands.maximum_band_scale;
    denominator = 1;
  }
  BandConfig scaled = bands;
  scaled.low_bound = widen(bands.low_bound, numerator, denominator);
  scaled.low_safe_bound = widen(bands.low_safe_bound, numerator, denominator);
  scaled.high_safe_bound = widen(bands.high_safe_bound, numerator, denominator);
  scaled.high_bound = widen(bands.high_bound, numerator, denominator);
  return scaled;
}

} // namespace synthusd::hedging
