#include "synthusd/feeds/decimal.hpp"

#include <cstddef>
#include <limits>

namespace synthusd::feeds {
namespace {

constexpr int kMaxDecimals = 18; // 10^18 is the largest power of ten in int64

[[nodiscard]] constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

[[nodiscard]] constexpr DecimalResult<std::int64_t> failure(DecimalError error) noexcept { return {0, error}; }

[[nodiscard]] std::size_t count_digits(std::string_view text, std::size_t position) noexcept {
  std::size_t end = position;
  while (end < text.size() && is_digit(text[end])) {
    ++end;
  }
  return end - position;
}

} // namespace

DecimalResult<std::int64_t> parse_decimal(std::string_view text, int decimals) noexcept {
  if (text.empty()) {
    return failure(DecimalError::empty);
  }
  if (decimals < 0 || decimals > kMaxDecimals) {
    return failure(DecimalError::overflow);
  }

  // Pass 1: check the grammar and locate the parts, so that malformed text is
  // always reported as such, whatever its magnitude.
  std::size_t position = 0;
  const bool negative = text[0] == '-';
  if (text[0] == '-' || text[0] == '+') {
    ++position;
  }
  const std::size_t mantissa_begin = position;
  const std::size_t integer_digits = count_digits(text, position);
  if (integer_digits == 0) {
    return failure(DecimalError::invalid_character);
  }
  position += integer_digits;
  std::size_t fraction_digits = 0;
  if (position < text.size() && text[position] == '.') {
    ++position;
    fraction_digits = count_digits(text, position);
    if (fraction_digits == 0) {
      return failure(DecimalError::invalid_character);
    }
    position += fraction_digits;
  }
  const std::size_t mantissa_end = position;

  int exponent = 0;
  bool exponent_too_large = false;
  if (position < text.size() && (text[position] == 'e' || text[position] == 'E')) {
    ++position;
    const bool exponent_negative = position < text.size() && text[position] == '-';
    if (position < text.size() && (text[position] == '-' || text[position] == '+')) {
      ++position;
    }
    const std::size_t exponent_digits = count_digits(text, position);
    if (exponent_digits == 0) {
      return failure(DecimalError::invalid_character);
    }
    for (std::size_t i = 0; i < exponent_digits; ++i) {
      exponent = exponent * 10 + (text[position + i] - '0');
      if (exponent > kMaxExponent) { // saturate: leading zeros are fine, size is not
        exponent_too_large = true;
        exponent = 0;
      }
    }
    position += exponent_digits;
    exponent = exponent_negative ? -exponent : exponent;
  }
  if (position != text.size()) {
    return failure(DecimalError::invalid_character);
  }
  const std::size_t mantissa_digits = integer_digits + fraction_digits;
  if (exponent_too_large || mantissa_digits > static_cast<std::size_t>(kMaxMantissaDigits)) {
    return failure(DecimalError::too_many_digits);
  }

  // Pass 2: the value is mantissa * 10^(exponent - fraction_digits), so after
  // scaling the first `whole` mantissa digits are the integer part, the next
  // one decides the rounding and any non-zero digit after it breaks a tie.
  // `whole` may be negative (every digit is below the rounding digit, which is
  // then an implied zero) or exceed the digit count (implied trailing zeros).
  const std::uint64_t limit = negative ? std::uint64_t{1} << 63 : std::numeric_limits<std::int64_t>::max();
  const int whole = static_cast<int>(integer_digits) + exponent + decimals;
  std::uint64_t magnitude = 0;
  int rounding_digit = 0;
  bool nonzero_after_rounding_digit = false;
  int index = 0;
  for (std::size_t i = mantissa_begin; i < mantissa_end; ++i) {
    if (text[i] == '.') {
      continue;
    }
    const auto digit = static_cast<std::uint64_t>(text[i] - '0');
    if (index < whole) {
      if (magnitude > (limit - digit) / 10) {
        return failure(DecimalError::overflow);
      }
      magnitude = magnitude * 10 + digit;
    } else if (index == whole) {
      rounding_digit = static_cast<int>(digit);
    } else if (digit != 0) {
      nonzero_after_rounding_digit = true;
    }
    ++index;
  }
  // Implied trailing zeros. Once non-zero, at most 19 steps reach the limit.
  for (int i = static_cast<int>(mantissa_digits); i < whole && magnitude != 0; ++i) {
    if (magnitude > limit / 10) {
      return failure(DecimalError::overflow);
    }
    magnitude *= 10;
  }

  const bool round_up =
      rounding_digit > 5 || (rounding_digit == 5 && (nonzero_after_rounding_digit || (magnitude & 1U) != 0));
  if (round_up) {
    if (magnitude == limit) {
      return failure(DecimalError::overflow);
    }
    ++magnitude;
  }
  // C++20 defines unsigned-to-signed conversion as modular, so 2^63 becomes
  // INT64_MIN for the negative limit.
  const std::int64_t value = negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
  return {value, DecimalError::ok};
}

DecimalResult<hedging::Price> parse_price(std::string_view text) noexcept {
  static_assert(hedging::Price::kScale == 100'000'000);
  const DecimalResult<std::int64_t> result = parse_decimal(text, 8);
  return {hedging::Price{result.value}, result.error};
}

DecimalResult<hedging::Ratio> parse_ratio(std::string_view text) noexcept {
  static_assert(hedging::Ratio::kScale == 100'000'000);
  const DecimalResult<std::int64_t> result = parse_decimal(text, 8);
  return {hedging::Ratio{result.value}, result.error};
}

std::string_view to_string(DecimalError error) noexcept {
  switch (error) {
  case DecimalError::ok:
    return "ok";
  case DecimalError::empty:
    return "empty";
  case DecimalError::invalid_character:
    return "invalid_character";
  case DecimalError::overflow:
    return "overflow";
  case DecimalError::too_many_digits:
    return "too_many_digits";
  }
  return "unknown";
}

} // namespace synthusd::feeds
