#pragma once
// Decimal text <-> fixed point for the venue simulator: prices and rates in
// CSV files, quantities and prices in FIX fields, numbers in JSON. Exact:
// digits are read into an integer, never through double. The parsing and
// formatting are common/decimal.hpp's (JSON syntax); these wrappers add the
// venue's std::optional interface. Also the FIX time formats, which are not
// decimals but are text conversions the venue needs alongside them.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "synthusd/common/decimal.hpp"
#include "synthusd/hedging/types.hpp"

namespace synthusd::venue {

// round_half_even(text * 10^decimals). Grammar: [+|-] digits [. digits]
// [(e|E) [+|-] digits] (common::DecimalSyntax::json). nullopt on bad text,
// if the result does not fit int64, or for INT64_MIN (its magnitude does not
// fit int64, and callers negate values).
[[nodiscard]] inline std::optional<std::int64_t> parse_decimal(std::string_view text, int decimals) noexcept {
  const common::DecimalResult<std::int64_t> result = common::parse_decimal(text, decimals);
  if (!result.ok() || result.value == std::numeric_limits<std::int64_t>::min()) {
    return std::nullopt;
  }
  return result.value;
}

// Like parse_decimal, but nullopt unless the value is exact at `decimals`
// (no rounding was needed): "10.0" at 0 decimals is 10, "10.5" is nullopt.
[[nodiscard]] inline std::optional<std::int64_t> parse_exact_decimal(std::string_view text, int decimals) noexcept {
  const common::DecimalResult<std::int64_t> result =
      common::parse_decimal(text, decimals, common::DecimalSyntax::json, common::DecimalRounding::exact);
  if (!result.ok() || result.value == std::numeric_limits<std::int64_t>::min()) {
    return std::nullopt;
  }
  return result.value;
}

// "43251.5" for 4325150000000 at 8 decimals: no exponent, no trailing
// zeros, "-" for negatives, "0" for zero.
[[nodiscard]] inline std::string format_decimal(std::int64_t scaled, int decimals) {
  return common::format_decimal(scaled, decimals);
}

// Convenience for the domain types (8 decimals).
[[nodiscard]] inline std::string format_price(hedging::Price price) { return format_decimal(price.raw, 8); }
[[nodiscard]] inline std::string format_sats_as_btc(hedging::Sats sats) { return format_decimal(sats.value, 8); }
[[nodiscard]] inline std::string format_ratio(hedging::Ratio ratio) { return format_decimal(ratio.raw, 8); }

// "2024-01-01T00:00:00Z" (ISO 8601 UTC, seconds, truncated).
[[nodiscard]] std::string format_utc_time(hedging::Timestamp time);
// "20240101-00:00:00.000" (FIX UTCTimestamp, milliseconds, truncated).
[[nodiscard]] std::string format_fix_timestamp(hedging::Timestamp time);
// "20240101" (FIX LocalMktDate, UTC).
[[nodiscard]] std::string format_fix_date(hedging::Timestamp time);
// Parses "2024-01-01T00:00:00Z", "2024-01-01 00:00:00", "2024-01-01" (UTC)
// or a number of seconds since the epoch. A day the month does not have
// (2020-02-30) is no time.
[[nodiscard]] std::optional<hedging::Timestamp> parse_utc_time(std::string_view text) noexcept;

} // namespace synthusd::venue
