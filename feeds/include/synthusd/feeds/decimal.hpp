#pragma once
// Venue decimal text to hedging's fixed-point types, exactly. Venues send
// prices, sizes and funding rates as decimal text ("43251.5", "0.00012",
// Deribit's "1.742e-05"); going through double would round twice, so the
// digits are parsed directly by common::parse_decimal with the JSON grammar
// ([+|-] digits [. digits] [(e|E) [+|-] digits]) and half-even rounding.
//
// No allocation, no exceptions, no shared state: safe on the hot path and
// from any thread.

#include <string_view>

#include "synthusd/common/decimal.hpp"
#include "synthusd/hedging/types.hpp"

namespace synthusd::feeds {

// USD per BTC at hedging::Price::kScale (8 decimals), rounded half to even.
// Does not require the price to be positive; callers check Price::is_valid().
[[nodiscard]] inline common::DecimalResult<hedging::Price> parse_price(std::string_view text) noexcept {
  static_assert(hedging::Price::kScale == 100'000'000);
  const common::DecimalResult<std::int64_t> result = common::parse_decimal(text, 8);
  return {hedging::Price{result.value}, result.error};
}

// A ratio (funding rate, fee) at hedging::Ratio::kScale (8 decimals), rounded
// half to even.
[[nodiscard]] inline common::DecimalResult<hedging::Ratio> parse_ratio(std::string_view text) noexcept {
  static_assert(hedging::Ratio::kScale == 100'000'000);
  const common::DecimalResult<std::int64_t> result = common::parse_decimal(text, 8);
  return {hedging::Ratio{result.value}, result.error};
}

} // namespace synthusd::feeds
