#pragma once
// Fixed-point domain types. Every amount of money the engine accounts for is
// an int64 in a named unit; there are no implicit conversions between units
// and no floating point. Conversions that divide take an explicit rounding
// direction so that every rounding decision is visible at the call site.

#include <compare>
#include <cstdint>
#include <limits>

namespace synthusd::hedging {

using int128 = __int128;

enum class Rounding : std::uint8_t {
  down,        // toward negative infinity (floor)
  up,          // toward positive infinity (ceil)
  toward_zero, // truncation
  half_even,   // banker's rounding (rust_decimal's default, used by stablesats)
  half_away_from_zero,
};

// Divides num by den (den != 0) with the given rounding. Exact for every
// int128 input whose quotient fits; callers guarantee den != 0.
[[nodiscard]] constexpr int128 divide(int128 num, int128 den, Rounding rounding) noexcept {
  if (den < 0) {
    num = -num;
    den = -den;
  }
  int128 quotient = num / den;  // truncates toward zero
  int128 remainder = num % den; // same sign as num
  if (remainder == 0) {
    return quotient;
  }
  const bool negative = num < 0;
  switch (rounding) {
  case Rounding::toward_zero:
    return quotient;
  case Rounding::down:
    return negative ? quotient - 1 : quotient;
  case Rounding::up:
    return negative ? quotient : quotient + 1;
  case Rounding::half_even:
  case Rounding::half_away_from_zero: {
    const int128 twice = (remainder < 0 ? -remainder : remainder) * 2;
    const int sign = negative ? -1 : 1;
    if (twice > den) {
      return quotient + sign;
    }
    if (twice < den) {
      return quotient;
    }
    if (rounding == Rounding::half_away_from_zero) {
      return quotient + sign;
    }
    return (quotient % 2 == 0) ? quotient : quotient + sign;
  }
  }
  return quotient;
}

// A strong int64 quantity. Tag makes each unit a distinct type; only
// same-unit arithmetic compiles.
template <typename Tag>
struct Quantity {
  std::int64_t value = 0;

  constexpr Quantity() noexcept = default;
  constexpr explicit Quantity(std::int64_t raw) noexcept : value(raw) {}

  friend constexpr auto operator<=>(Quantity, Quantity) noexcept = default;
  friend constexpr Quantity operator+(Quantity a, Quantity b) noexcept { return Quantity{a.value + b.value}; }
  friend constexpr Quantity operator-(Quantity a, Quantity b) noexcept { return Quantity{a.value - b.value}; }
  friend constexpr Quantity operator-(Quantity a) noexcept { return Quantity{-a.value}; }
  constexpr Quantity& operator+=(Quantity other) noexcept {
    value += other.value;
    return *this;
  }
  constexpr Quantity& operator-=(Quantity other) noexcept {
    value -= other.value;
    return *this;
  }
  [[nodiscard]] constexpr Quantity abs() const noexcept { return Quantity{value < 0 ? -value : value}; }
  [[nodiscard]] constexpr bool is_zero() const noexcept { return value == 0; }
};

struct UsdCentsTag {};
struct SatsTag {};
struct ContractsTag {};

using UsdCents = Quantity<UsdCentsTag>;   // 1 = $0.01
using Sats = Quantity<SatsTag>;           // 1 = 1e-8 BTC
using Contracts = Quantity<ContractsTag>; // signed: a short is negative

inline constexpr std::int64_t kSatsPerBitcoin = 100'000'000;
// Every bitcoin there will ever be: an upper bound for any amount of sats.
inline constexpr std::int64_t kBitcoinSupplySats = 21'000'000 * kSatsPerBitcoin;
inline constexpr std::int64_t kCentsPerDollar = 100;

// USD per BTC, scaled by 1e8: 1 raw unit = 1e-8 USD. BTC at $100,000 is 1e13,
// far inside int64; products go through int128.
struct Price {
  static constexpr std::int64_t kScale = 100'000'000;
  std::int64_t raw = 0;

  constexpr Price() noexcept = default;
  constexpr explicit Price(std::int64_t scaled) noexcept : raw(scaled) {}
  [[nodiscard]] static constexpr Price from_dollars(std::int64_t dollars) noexcept { return Price{dollars * kScale}; }
  [[nodiscard]] static constexpr Price from_cents(std::int64_t cents) noexcept { return Price{cents * (kScale / 100)}; }
  [[nodiscard]] constexpr bool is_valid() const noexcept { return raw > 0; }
  friend constexpr auto operator<=>(Price, Price) noexcept = default;
};

// A dimensionless ratio scaled by 1e8 (bands, leverage, fees, funding rates).
// 0.98 is Ratio{98'000'000}; a funding rate of 0.01 % is Ratio{10'000}.
struct Ratio {
  static constexpr std::int64_t kScale = 100'000'000;
  std::int64_t raw = 0;

  constexpr Ratio() noexcept = default;
  constexpr explicit Ratio(std::int64_t scaled) noexcept : raw(scaled) {}
  // parts per million, convenient for literals: Ratio::from_ppm(980'000) == 0.98
  [[nodiscard]] static constexpr Ratio from_ppm(std::int64_t ppm) noexcept { return Ratio{ppm * 100}; }
  [[nodiscard]] static constexpr Ratio from_basis_points(std::int64_t bps) noexcept { return Ratio{bps * 10'000}; }
  [[nodiscard]] static constexpr Ratio one() noexcept { return Ratio{kScale}; }
  friend constexpr auto operator<=>(Ratio, Ratio) noexcept = default;
  friend constexpr Ratio operator-(Ratio a, Ratio b) noexcept { return Ratio{a.raw - b.raw}; }
  friend constexpr Ratio operator+(Ratio a, Ratio b) noexcept { return Ratio{a.raw + b.raw}; }
};

// Nanoseconds since the Unix epoch. Time only ever enters the kernel inside events.
struct Timestamp {
  std::int64_t nanoseconds = 0;
  friend constexpr auto operator<=>(Timestamp, Timestamp) noexcept = default;
};

struct Duration {
  std::int64_t nanoseconds = 0;
  [[nodiscard]] static constexpr Duration from_seconds(std::int64_t s) noexcept { return Duration{s * 1'000'000'000}; }
  [[nodiscard]] static constexpr Duration from_milliseconds(std::int64_t ms) noexcept {
    return Duration{ms * 1'000'000};
  }
  [[nodiscard]] static constexpr Duration from_hours(std::int64_t h) noexcept { return from_seconds(h * 3600); }
  friend constexpr auto operator<=>(Duration, Duration) noexcept = default;
};

[[nodiscard]] constexpr Timestamp operator+(Timestamp t, Duration d) noexcept {
  return Timestamp{t.nanoseconds + d.nanoseconds};
}
[[nodiscard]] constexpr Timestamp operator-(Timestamp t, Duration d) noexcept {
  return Timestamp{t.nanoseconds - d.nanoseconds};
}
[[nodiscard]] constexpr Duration operator-(Timestamp a, Timestamp b) noexcept {
  return Duration{a.nanoseconds - b.nanoseconds};
}

inline constexpr Duration kYear = Duration::from_seconds(365LL * 24 * 3600);

using VenueId = std::uint16_t;
using InstrumentId = std::uint16_t;
using ClientOrderId = std::uint64_t;
using TransferId = std::uint64_t;
inline constexpr VenueId kNoVenue = std::numeric_limits<VenueId>::max();
inline constexpr InstrumentId kNoInstrument = std::numeric_limits<InstrumentId>::max();

// ---- conversions (all explicit about rounding) ----------------------------

// USD value of sats at price: cents = sats * raw / 1e14.
[[nodiscard]] constexpr UsdCents sats_to_cents(Sats sats, Price price, Rounding rounding) noexcept {
  return UsdCents{static_cast<std::int64_t>(
      divide(static_cast<int128>(sats.value) * price.raw,
             static_cast<int128>(kSatsPerBitcoin) * Price::kScale / kCentsPerDollar, rounding))};
}

// Sats worth the given cents at price: sats = cents * 1e14 / raw. price must be valid.
[[nodiscard]] constexpr Sats cents_to_sats(UsdCents cents, Price price, Rounding rounding) noexcept {
  return Sats{static_cast<std::int64_t>(divide(
      static_cast<int128>(cents.value) * (static_cast<int128>(kSatsPerBitcoin) * Price::kScale / kCentsPerDollar),
      price.raw, rounding))};
}

// cents * ratio, rounded.
[[nodiscard]] constexpr UsdCents scale(UsdCents cents, Ratio ratio, Rounding rounding) noexcept {
  return UsdCents{
      static_cast<std::int64_t>(divide(static_cast<int128>(cents.value) * ratio.raw, Ratio::kScale, rounding))};
}

[[nodiscard]] constexpr Sats scale(Sats sats, Ratio ratio, Rounding rounding) noexcept {
  return Sats{static_cast<std::int64_t>(divide(static_cast<int128>(sats.value) * ratio.raw, Ratio::kScale, rounding))};
}

// numerator / denominator as a Ratio; denominator must be non-zero.
[[nodiscard]] constexpr Ratio ratio_of(std::int64_t numerator, std::int64_t denominator, Rounding rounding) noexcept {
  return Ratio{
      static_cast<std::int64_t>(divide(static_cast<int128>(numerator) * Ratio::kScale, denominator, rounding))};
}

// price * ratio (e.g. a 5 % collar), rounded.
[[nodiscard]] constexpr Price scale(Price price, Ratio ratio, Rounding rounding) noexcept {
  return Price{static_cast<std::int64_t>(divide(static_cast<int128>(price.raw) * ratio.raw, Ratio::kScale, rounding))};
}

// price as a whole number of ticks (tick > 0), rounded: an order price a
// venue accepts.
[[nodiscard]] constexpr Price round_to_tick(Price price, Price tick, Rounding rounding) noexcept {
  return Price{static_cast<std::int64_t>(divide(price.raw, tick.raw, rounding) * tick.raw)};
}

enum class Side : std::uint8_t { buy, sell };

[[nodiscard]] constexpr std::int64_t sign_of(Side side) noexcept { return side == Side::buy ? 1 : -1; }

} // namespace synthusd::hedging
