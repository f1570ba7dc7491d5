#pragma once
// Exact decimal text <-> int64 scaled by 1e8, for FIX Price and Qty fields.
// No double anywhere: "43251.5" is 4325150000000 and back.
//
// C++14, header-only, no QuickFIX types.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {

constexpr std::int64_t kDecimalScale = 100000000; // 1e8
constexpr int kDecimalPlaces = 8;

// "43251.5" for 4325150000000; no exponent, no trailing zeros, "-" for
// negatives, "0" for zero.
inline std::string format_decimal_e8(std::int64_t value_e8) {
  const bool negative = value_e8 < 0;
  // Unsigned negation is well defined even for INT64_MIN.
  const std::uint64_t magnitude =
      negative ? 0 - static_cast<std::uint64_t>(value_e8) : static_cast<std::uint64_t>(value_e8);
  const auto scale = static_cast<std::uint64_t>(kDecimalScale);
  std::string text = negative ? "-" : "";
  text += std::to_string(magnitude / scale);
  std::uint64_t fraction = magnitude % scale;
  if (fraction != 0) {
    char digits[kDecimalPlaces + 1];
    for (int i = kDecimalPlaces - 1; i >= 0; --i) {
      digits[i] = static_cast<char>('0' + fraction % 10);
      fraction /= 10;
    }
    int length = kDecimalPlaces;
    while (length > 0 && digits[length - 1] == '0') {
      --length;
    }
    text += '.';
    text.append(digits, static_cast<std::size_t>(length));
  }
  return text;
}

// Strict: optional '-', at least one digit, optional '.' followed by at least
// one digit. Decimals beyond the 8th must be zeros (exactness is kept, never
// rounded). False on anything else or on overflow.
inline bool parse_decimal_e8(const char* text, std::size_t size, std::int64_t& out) {
  std::size_t position = 0;
  const bool negative = size > 0 && text[0] == '-';
  if (negative) {
    position = 1;
  }
  std::uint64_t whole = 0;
  std::size_t whole_digits = 0;
  while (position < size && text[position] >= '0' && text[position] <= '9') {
    const auto digit = static_cast<std::uint64_t>(text[position] - '0');
    if (whole > (static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) - digit) / 10) {
      return false;
    }
    whole = whole * 10 + digit;
    ++whole_digits;
    ++position;
  }
  if (whole_digits == 0) {
    return false;
  }
  std::uint64_t fraction = 0;
  if (position < size) {
    if (text[position] != '.') {
      return false;
    }
    ++position;
    std::size_t fraction_digits = 0;
    while (position < size && text[position] >= '0' && text[position] <= '9') {
      if (fraction_digits < static_cast<std::size_t>(kDecimalPlaces)) {
        fraction = fraction * 10 + static_cast<std::uint64_t>(text[position] - '0');
      } else if (text[position] != '0') {
        return false; // a 9th significant decimal cannot be represented exactly
      }
      ++fraction_digits;
      ++position;
    }
    if (fraction_digits == 0 || position != size) {
      return false;
    }
    for (std::size_t i = fraction_digits; i < static_cast<std::size_t>(kDecimalPlaces); ++i) {
      fraction *= 10;
    }
  }
  const auto limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (whole > (limit - fraction) / static_cast<std::uint64_t>(kDecimalScale)) {
    return false;
  }
  const auto magnitude = static_cast<std::int64_t>(whole * static_cast<std::uint64_t>(kDecimalScale) + fraction);
  out = negative ? -magnitude : magnitude;
  return true;
}

inline bool parse_decimal_e8(const std::string& text, std::int64_t& out) {
  return parse_decimal_e8(text.data(), text.size(), out);
}

} // namespace fix
} // namespace synthusd
