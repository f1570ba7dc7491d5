#pragma once
// Exact decimal text <-> int64 fixed point, the one implementation behind
// feeds/ (venue JSON), fix/ (FIX Price and Qty fields) and venue/ (the
// simulator's CSV, TOML and FIX). Digits are read into an integer, never
// through double, so "43251.5" at 8 decimals is exactly 4325150000000.
//
// C++14 (fix/ and venue/ compile their QuickFIX code as C++14): string_view
// overloads exist only for C++17 and later callers.
//
// parse_decimal: no allocation, no exceptions, no shared state, time linear
// in the text: safe on the hot path and from any thread.

#include <cstddef>
#include <cstdint>
#include <string>

#if __cplusplus >= 201703L
#include <string_view>
#endif

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces): C++14
namespace common {

// Which texts are numbers. Both need a digit on each side of a decimal point:
// "1." and ".5" are rejected, as in JSON.
enum class DecimalSyntax : std::uint8_t {
  // [+|-] digits [. digits] [(e|E) [+|-] digits]: every number a venue sends
  // in JSON ("43251.5", Deribit's "1.742e-05"). At most kMaxMantissaDigits
  // digits before the exponent and |exponent| <= kMaxExponent.
  json,
  // [-] digits [. digits] and nothing else: FIX Price and Qty fields. No
  // digit limit: without an exponent the work is linear in the text anyway.
  plain,
};

// What to do with non-zero digits beyond the requested scale.
enum class DecimalRounding : std::uint8_t {
  half_even, // round half to even ("0.000000015" at 8 decimals is 2), as rust_decimal and stablesats
  exact,     // refuse with DecimalError::inexact; trailing zeros beyond the scale are fine
};

enum class DecimalError : std::uint8_t {
  ok,
  empty,             // the text has no characters
  invalid_character, // the grammar fails, including text that ends too early ("1e", "-")
  overflow,          // the scaled value does not fit int64, or decimals is outside 0..kMaxDecimals
  too_many_digits,   // json only: more than kMaxMantissaDigits digits, or |exponent| > kMaxExponent
  inexact,           // DecimalRounding::exact and a non-zero digit lies beyond the scale
};

// Bound the work spent on corrupt JSON input. A double printed in shortest
// form has at most 17 significant digits and venues never come close to 64;
// an exponent beyond 9999 cannot describe an int64 at any scale.
constexpr int kMaxMantissaDigits = 64;
constexpr int kMaxExponent = 9999;
// 10^18 is the largest power of ten in int64.
constexpr int kMaxDecimals = 18;

template <typename T>
struct DecimalResult {
  T value{}; // zero unless error == ok
  DecimalError error = DecimalError::ok;

  [[nodiscard]] constexpr bool ok() const noexcept { return error == DecimalError::ok; }
};

// text * 10^decimals as int64, the full range [INT64_MIN, INT64_MAX]
// ("-92233720368.54775808" at 8 decimals is INT64_MIN). Callers that negate
// values (fix/, venue/) refuse INT64_MIN themselves. Reads exactly `size`
// characters: no terminator is needed or looked at.
[[nodiscard]] DecimalResult<std::int64_t> parse_decimal(const char* text, std::size_t size, int decimals,
                                                        DecimalSyntax syntax = DecimalSyntax::json,
                                                        DecimalRounding rounding = DecimalRounding::half_even) noexcept;

// A stable lowercase name for logs and test messages, e.g. "invalid_character".
[[nodiscard]] const char* decimal_error_name(DecimalError error) noexcept;

// The longest text format_decimal writes: "-9.223372036854775808", INT64_MIN
// at 18 decimals (sign, 19 digits, point). No terminator is written.
constexpr std::size_t kMaxDecimalTextSize = 21;

// Writes scaled / 10^decimals with no exponent and no trailing zeros: "43251.5"
// for 4325150000000 at 8 decimals, "-0.00012359", "0" for zero. Returns the
// number of characters written, or 0 (nothing written) when decimals is
// outside 0..kMaxDecimals or `capacity` is too small; kMaxDecimalTextSize
// is always enough. No allocation.
[[nodiscard]] std::size_t format_decimal(std::int64_t scaled, int decimals, char* out, std::size_t capacity) noexcept;

// The same as a string; empty when decimals is outside 0..kMaxDecimals.
[[nodiscard]] std::string format_decimal(std::int64_t scaled, int decimals);

#if __cplusplus >= 201703L
[[nodiscard]] inline DecimalResult<std::int64_t>
parse_decimal(std::string_view text, int decimals, DecimalSyntax syntax = DecimalSyntax::json,
              DecimalRounding rounding = DecimalRounding::half_even) noexcept {
  return parse_decimal(text.data(), text.size(), decimals, syntax, rounding);
}

[[nodiscard]] inline std::string_view to_string(DecimalError error) noexcept { return decimal_error_name(error); }
#endif

} // namespace common
} // namespace synthusd
