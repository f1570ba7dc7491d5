#pragma once
// Exact decimal text <-> int64 scaled by 1e8, for FIX Price and Qty fields.
// No double anywhere: "43251.5" is 4325150000000 and back. Thin wrappers over
// common/decimal.hpp with the FIX rules.
//
// C++14, no QuickFIX types.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "synthusd/common/decimal.hpp"

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {

constexpr std::int64_t kDecimalScale = 100000000; // 1e8
constexpr int kDecimalPlaces = 8;

// "43251.5" for 4325150000000; no exponent, no trailing zeros, "-" for
// negatives, "0" for zero.
inline std::string format_decimal_e8(std::int64_t value_e8) { return common::format_decimal(value_e8, kDecimalPlaces); }

// Strict (DecimalSyntax::plain): optional '-', at least one digit, optional
// '.' followed by at least one digit. Decimals beyond the 8th must be zeros
// (exactness is kept, never rounded). False on anything else, on overflow,
// and for INT64_MIN, whose magnitude has no int64 (callers negate values).
// `out` is written only on success.
inline bool parse_decimal_e8(const char* text, std::size_t size, std::int64_t& out) {
  const common::DecimalResult<std::int64_t> result =
      common::parse_decimal(text, size, kDecimalPlaces, common::DecimalSyntax::plain, common::DecimalRounding::exact);
  if (!result.ok() || result.value == std::numeric_limits<std::int64_t>::min()) {
    return false;
  }
  out = result.value;
  return true;
}

inline bool parse_decimal_e8(const std::string& text, std::int64_t& out) {
  return parse_decimal_e8(text.data(), text.size(), out);
}

// The one named rounding rule for venue values that are averages or floats,
// not amounts we sent (Deribit's AvgPx(6) of a multi-level fill on an
// inverse instrument, its User Response BTC floats): round half to even at
// the 8th decimal (1e-8 USD per BTC, or 1 satoshi). Refusing such a value
// would lose a real fill; the rounding moves it by at most half a unit of
// the 8th decimal. Same syntax as parse_decimal_e8 (no exponent), same
// overflow refusal.
inline bool parse_decimal_e8_half_even(const std::string& text, std::int64_t& out) {
  const common::DecimalResult<std::int64_t> result = common::parse_decimal(
      text.data(), text.size(), kDecimalPlaces, common::DecimalSyntax::plain, common::DecimalRounding::half_even);
  if (!result.ok() || result.value == std::numeric_limits<std::int64_t>::min()) {
    return false;
  }
  out = result.value;
  return true;
}

} // namespace fix
} // namespace synthusd
