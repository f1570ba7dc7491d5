#pragma once
// Decimal text to fixed point, exactly. Venues send prices, sizes and funding
// rates as decimal text ("43251.5", "0.00012", Deribit's "1.742e-05"); going
// through double would round twice, so this parses the digits directly.
//
// Grammar: [+|-] digits [. digits] [(e|E) [+|-] digits]
// A digit is required on both sides of a decimal point ("1." and ".5" are
// rejected), as in JSON, where every venue number comes from.
//
// No allocation, no exceptions, no shared state: safe on the hot path and
// from any thread.

#include <cstdint>
#include <string_view>

#include "synthusd/hedging/types.hpp"

namespace synthusd::feeds {

enum class DecimalError : std::uint8_t {
  ok,
  empty,             // the text has no characters
  invalid_character, // the grammar fails, including text that ends too early ("1e", "-")
  overflow,          // the scaled value does not fit int64, or decimals is outside 0..18
  too_many_digits,   // more than kMaxMantissaDigits digits, or |exponent| > kMaxExponent
};

// Bound the work spent on corrupt input. A double printed in shortest form
// has at most 17 significant digits and venues never come close to 64; an
// exponent beyond 9999 cannot describe an int64 at any scale.
inline constexpr int kMaxMantissaDigits = 64;
inline constexpr int kMaxExponent = 9999;

template <typename T>
struct DecimalResult {
  T value{}; // zero unless error == ok
  DecimalError error = DecimalError::ok;

  [[nodiscard]] constexpr bool ok() const noexcept { return error == DecimalError::ok; }
};

// Returns round_half_even(text * 10^decimals) as int64. Digits beyond the
// scale are rounded half to even ("0.000000005" at 8 decimals is 0,
// "0.000000015" is 2), the same rule as rust_decimal and stablesats.
[[nodiscard]] DecimalResult<std::int64_t> parse_decimal(std::string_view text, int decimals) noexcept;

// USD per BTC at hedging::Price::kScale (8 decimals). Does not require the
// price to be positive; callers check Price::is_valid().
[[nodiscard]] DecimalResult<hedging::Price> parse_price(std::string_view text) noexcept;

// A ratio (funding rate, fee) at hedging::Ratio::kScale (8 decimals).
[[nodiscard]] DecimalResult<hedging::Ratio> parse_ratio(std::string_view text) noexcept;

// A stable lowercase name for logs and test messages, e.g. "invalid_character".
[[nodiscard]] std::string_view to_string(DecimalError error) noexcept;

} // namespace synthusd::feeds
