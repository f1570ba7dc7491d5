#include "synthusd/common/decimal.hpp"

#include <cstring>
#include <limits>

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces): C++14
namespace common {
namespace {

constexpr std::uint64_t kInt64MaxMagnitude = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
constexpr std::uint64_t kInt64MinMagnitude = kInt64MaxMagnitude + 1; // 2^63

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

constexpr DecimalResult<std::int64_t> failure(DecimalError error) noexcept { return {0, error}; }

std::size_t count_digits(const char* text, std::size_t size, std::size_t position) noexcept {
  std::size_t end = position;
  while (end < size && is_digit(text[end])) {
    ++end;
  }
  return end - position;
}

constexpr std::uint64_t kPowersOfTen[] = {1ULL,
                                          10ULL,
                                          100ULL,
                                          1000ULL,
                                          10000ULL,
                                          100000ULL,
                                          1000000ULL,
                                          10000000ULL,
                                          100000000ULL,
                                          1000000000ULL,
                                          10000000000ULL,
                                          100000000000ULL,
                                          1000000000000ULL,
                                          10000000000000ULL,
                                          100000000000000ULL,
                                          1000000000000000ULL,
                                          10000000000000000ULL,
                                          100000000000000000ULL,
                                          1000000000000000000ULL};
static_assert(sizeof kPowersOfTen / sizeof kPowersOfTen[0] == kMaxDecimals + 1, "one power per decimal place");

// The common case in one pass: "-?digits(.digits)?" with at most 18 digits
// and no more fraction digits than `decimals`, so the value is exact and the
// mantissa fits in uint64 before scaling. False means "not this case" (the
// general parser decides), never a wrong value.
bool parse_short_decimal(const char* text, std::size_t size, int decimals, std::int64_t& out) noexcept {
  std::size_t position = text[0] == '-' ? 1 : 0;
  const bool negative = position == 1;
  std::uint64_t mantissa = 0;
  std::size_t digits = 0;
  std::size_t fraction_digits = 0;
  bool in_fraction = false;
  for (; position < size; ++position) {
    const char c = text[position];
    if (is_digit(c)) {
      mantissa = mantissa * 10 + static_cast<std::uint64_t>(c - '0');
      ++digits;
      fraction_digits += in_fraction ? 1 : 0;
    } else if (c == '.' && !in_fraction && digits != 0 && position + 1 < size) {
      in_fraction = true;
    } else {
      return false; // an exponent, a sign, a second point: the general parser
    }
    if (digits > 18) {
      return false;
    }
  }
  if (digits == 0 || fraction_digits > static_cast<std::size_t>(decimals) ||
      (in_fraction && !is_digit(text[size - 1]))) {
    return false;
  }
  std::uint64_t magnitude = 0;
  if (__builtin_mul_overflow(mantissa, kPowersOfTen[static_cast<std::size_t>(decimals) - fraction_digits],
                             &magnitude) ||
      magnitude > kInt64MaxMagnitude) {
    return false;
  }
  out = negative ? -static_cast<std::int64_t>(magnitude) : static_cast<std::int64_t>(magnitude);
  return true;
}

} // namespace

DecimalResult<std::int64_t> parse_decimal(const char* text, std::size_t size, int decimals, DecimalSyntax syntax,
                                          DecimalRounding rounding) noexcept {
  if (size == 0) {
    return failure(DecimalError::empty);
  }
  if (decimals < 0 || decimals > kMaxDecimals) {
    return failure(DecimalError::overflow);
  }
  std::int64_t short_value = 0;
  if (parse_short_decimal(text, size, decimals, short_value)) {
    return {short_value, DecimalError::ok};
  }
  const bool json = syntax == DecimalSyntax::json;

  // Pass 1: check the grammar and locate the parts, so that malformed text is
  // always reported as such, whatever its magnitude.
  std::size_t position = 0;
  const bool negative = text[0] == '-';
  if (negative || (json && text[0] == '+')) {
    ++position;
  }
  const std::size_t mantissa_begin = position;
  const std::size_t integer_digits = count_digits(text, size, position);
  if (integer_digits == 0) {
    return failure(DecimalError::invalid_character);
  }
  position += integer_digits;
  std::size_t fraction_digits = 0;
  if (position < size && text[position] == '.') {
    ++position;
    fraction_digits = count_digits(text, size, position);
    if (fraction_digits == 0) {
      return failure(DecimalError::invalid_character);
    }
    position += fraction_digits;
  }
  const std::size_t mantissa_end = position;

  std::int64_t exponent = 0;
  bool exponent_too_large = false;
  if (json && position < size && (text[position] == 'e' || text[position] == 'E')) {
    ++position;
    const bool exponent_negative = position < size && text[position] == '-';
    if (position < size && (text[position] == '-' || text[position] == '+')) {
      ++position;
    }
    const std::size_t exponent_digits = count_digits(text, size, position);
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
  if (position != size) {
    return failure(DecimalError::invalid_character);
  }
  const std::size_t mantissa_digits = integer_digits + fraction_digits;
  if (exponent_too_large || (json && mantissa_digits > static_cast<std::size_t>(kMaxMantissaDigits))) {
    return failure(DecimalError::too_many_digits);
  }

  // Pass 2: the value is mantissa * 10^(exponent - fraction_digits), so after
  // scaling the first `whole` mantissa digits are the integer part, the next
  // one decides the rounding and any non-zero digit after it breaks a tie.
  // `whole` may be negative (every digit is below the rounding digit, which is
  // then an implied zero) or exceed the digit count (implied trailing zeros).
  // Counted in int64: plain text has no digit limit.
  const std::uint64_t limit = negative ? kInt64MinMagnitude : kInt64MaxMagnitude;
  const std::int64_t whole = static_cast<std::int64_t>(integer_digits) + exponent + decimals;
  std::uint64_t magnitude = 0;
  int rounding_digit = 0;
  bool nonzero_after_rounding_digit = false;
  std::int64_t index = 0;
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
  for (auto i = static_cast<std::int64_t>(mantissa_digits); i < whole && magnitude != 0; ++i) {
    if (magnitude > limit / 10) {
      return failure(DecimalError::overflow);
    }
    magnitude *= 10;
  }

  if (rounding == DecimalRounding::exact) {
    if (rounding_digit != 0 || nonzero_after_rounding_digit) {
      return failure(DecimalError::inexact);
    }
  } else {
    const bool round_up =
        rounding_digit > 5 || (rounding_digit == 5 && (nonzero_after_rounding_digit || (magnitude & 1U) != 0));
    if (round_up) {
      if (magnitude == limit) {
        return failure(DecimalError::overflow);
      }
      ++magnitude;
    }
  }
  // 2^63 has no positive int64 counterpart, so INT64_MIN is spelled out
  // rather than negated (C++14 leaves the modular conversion to the compiler).
  std::int64_t value = 0;
  if (!negative) {
    value = static_cast<std::int64_t>(magnitude);
  } else if (magnitude == kInt64MinMagnitude) {
    value = std::numeric_limits<std::int64_t>::min();
  } else {
    value = -static_cast<std::int64_t>(magnitude);
  }
  return {value, DecimalError::ok};
}

const char* decimal_error_name(DecimalError error) noexcept {
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
  case DecimalError::inexact:
    return "inexact";
  }
  return "unknown";
}

std::size_t format_decimal(std::int64_t scaled, int decimals, char* out, std::size_t capacity) noexcept {
  if (decimals < 0 || decimals > kMaxDecimals) {
    return 0;
  }
  const bool negative = scaled < 0;
  // Unsigned negation is well defined even for INT64_MIN.
  std::uint64_t magnitude = negative ? 0 - static_cast<std::uint64_t>(scaled) : static_cast<std::uint64_t>(scaled);
  // Built right to left, least significant digit first.
  char text[kMaxDecimalTextSize];
  std::size_t begin = kMaxDecimalTextSize;
  bool fraction = false; // a non-zero fraction digit was seen: zeros from here on are not trailing
  for (int i = 0; i < decimals; ++i) {
    const auto digit = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
    if (fraction || digit != '0') {
      text[--begin] = digit;
      fraction = true;
    }
  }
  if (fraction) {
    text[--begin] = '.';
  }
  do {
    text[--begin] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0);
  if (negative) {
    text[--begin] = '-';
  }
  const std::size_t length = kMaxDecimalTextSize - begin;
  if (length > capacity) {
    return 0;
  }
  std::memcpy(out, text + begin, length);
  return length;
}

std::string format_decimal(std::int64_t scaled, int decimals) {
  char text[kMaxDecimalTextSize];
  return std::string(text, format_decimal(scaled, decimals, text, sizeof text));
}

} // namespace common
} // namespace synthusd
