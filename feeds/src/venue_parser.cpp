#include "synthusd/feeds/venue_parser.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "json_scan.hpp"
#include "synthusd/feeds/decimal.hpp"

namespace synthusd::feeds {

// ---- symbols -----------------------------------------------------------------

void check_symbol(std::string_view text) {
  if (text.empty() || text.size() > SymbolTable::kMaxSymbolLength) {
    throw std::invalid_argument("venue symbol '" + std::string(text) + "' must have 1 to " +
                                std::to_string(SymbolTable::kMaxSymbolLength) + " characters");
  }
  for (const char c : text) {
    if (c <= ' ' || c > '~' || c == '"' || c == '\\') {
      throw std::invalid_argument("venue symbol '" + std::string(text) +
                                  "' must be printable ASCII without spaces, quotes or backslashes");
    }
  }
}

SymbolTable::SymbolTable(std::span<const SymbolMapping> mappings, Case letter_case) {
  if (mappings.size() > kMaxSymbols) {
    throw std::invalid_argument("at most " + std::to_string(kMaxSymbols) + " symbols per venue parser");
  }
  for (const SymbolMapping& mapping : mappings) {
    check_symbol(mapping.venue_symbol);
    if (mapping.instrument == hedging::kNoInstrument) {
      throw std::invalid_argument("venue symbol '" + std::string(mapping.venue_symbol) + "' maps to kNoInstrument");
    }
    Entry& entry = entries_[size_];
    std::transform(mapping.venue_symbol.begin(), mapping.venue_symbol.end(), entry.name.begin(), [&](char c) {
      return letter_case == Case::upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    });
    entry.length = static_cast<std::uint8_t>(mapping.venue_symbol.size());
    entry.instrument = mapping.instrument;
    if (find(symbol(size_)) != hedging::kNoInstrument) {
      throw std::invalid_argument("venue symbol '" + std::string(mapping.venue_symbol) + "' is mapped twice");
    }
    ++size_;
  }
}

hedging::InstrumentId SymbolTable::find(std::string_view venue_symbol) const noexcept {
  for (std::size_t i = 0; i < size_; ++i) {
    if (symbol(i) == venue_symbol) {
      return entries_[i].instrument;
    }
  }
  return hedging::kNoInstrument;
}

std::string_view to_string(ParseStatus status) noexcept {
  switch (status) {
  case ParseStatus::tick:
    return "tick";
  case ParseStatus::ignored:
    return "ignored";
  case ParseStatus::subscribed:
    return "subscribed";
  case ParseStatus::heartbeat_request:
    return "heartbeat_request";
  case ParseStatus::pong:
    return "pong";
  case ParseStatus::venue_error:
    return "venue_error";
  case ParseStatus::malformed:
    return "malformed";
  }
  return "unknown";
}

namespace detail {

// ---- tokens ------------------------------------------------------------------

namespace {

[[nodiscard]] bool is_numeric(Token token) noexcept {
  return token.kind == TokenKind::number || token.kind == TokenKind::string;
}

[[nodiscard]] bool is_absent(Token token) noexcept {
  return token.kind == TokenKind::absent || token.kind == TokenKind::null ||
         (token.kind == TokenKind::string && token.text().empty());
}

template <typename T>
[[nodiscard]] Decoded decode_decimal(Token token, common::DecimalResult<T> (*parse)(std::string_view) noexcept,
                                     T& out) noexcept {
  if (is_absent(token)) {
    return Decoded::absent;
  }
  if (!is_numeric(token)) {
    return Decoded::invalid;
  }
  const common::DecimalResult<T> result = parse(token.text());
  if (!result.ok()) {
    return Decoded::invalid;
  }
  out = result.value;
  return Decoded::ok;
}

[[nodiscard]] common::DecimalResult<std::int64_t> parse_size(std::string_view text) noexcept {
  return common::parse_decimal(text, 8);
}

// Eight ASCII digits (little-endian load) -> their value, or false if any is
// not a digit. Lemire's SWAR: pairs, then quads, then the two halves.
[[nodiscard]] bool eight_digits(const char* text, std::uint64_t& out) noexcept {
  std::uint64_t chunk = 0;
  std::memcpy(&chunk, text, sizeof chunk);
  constexpr std::uint64_t kHigh = 0xF0F0F0F0F0F0F0F0ULL;
  constexpr std::uint64_t kZeros = 0x3030303030303030ULL;
  constexpr std::uint64_t kSixes = 0x0606060606060606ULL;
  // Each byte's high nibble is 3, and adding 6 does not carry out of it (so the low nibble is <= 9).
  if ((chunk & kHigh) != kZeros || ((chunk + kSixes) & kHigh) != kZeros) {
    return false;
  }
  chunk -= kZeros;
  chunk = (chunk * 10) + (chunk >> 8);
  chunk = (((chunk & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
           (((chunk >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >>
          32;
  out = chunk;
  return true;
}

// Digits only, at most UINT64_MAX. Up to 19 digits cannot overflow, so
// timestamps and sequence numbers (13-19 digits) take eight at a time.
[[nodiscard]] bool parse_digits(std::string_view text, std::uint64_t& out) noexcept {
  if (text.empty() || text.size() > 20) {
    return false;
  }
  std::uint64_t value = 0;
  std::size_t i = 0;
  if (text.size() <= 19) {
    for (std::uint64_t chunk = 0; text.size() - i >= 8; i += 8) {
      if (!eight_digits(text.data() + i, chunk)) {
        return false;
      }
      value = value * 100'000'000 + chunk;
    }
  }
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') {
      return false;
    }
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
      return false;
    }
    value = value * 10 + digit;
  }
  out = value;
  return true;
}

} // namespace

Decoded decode_price(Token token, hedging::Price& out) noexcept { return decode_decimal(token, &parse_price, out); }

Decoded decode_ratio(Token token, hedging::Ratio& out) noexcept { return decode_decimal(token, &parse_ratio, out); }

Decoded decode_size(Token token, std::int64_t& out) noexcept { return decode_decimal(token, &parse_size, out); }

Decoded decode_unsigned(Token token, std::uint64_t& out) noexcept {
  if (is_absent(token)) {
    return Decoded::absent;
  }
  return is_numeric(token) && parse_digits(token.text(), out) ? Decoded::ok : Decoded::invalid;
}

Decoded decode_signed(Token token, std::int64_t& out) noexcept {
  if (is_absent(token)) {
    return Decoded::absent;
  }
  if (!is_numeric(token)) {
    return Decoded::invalid;
  }
  const bool negative = !token.text().empty() && token.text().front() == '-';
  std::uint64_t magnitude = 0;
  if (!parse_digits(negative ? token.text().substr(1) : token.text(), magnitude)) {
    return Decoded::invalid;
  }
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (magnitude > kMax + (negative ? 1 : 0)) {
    return Decoded::invalid;
  }
  out = negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
  return Decoded::ok;
}

Decoded decode_milliseconds(Token token, hedging::Timestamp& out) noexcept {
  std::uint64_t milliseconds = 0;
  const Decoded decoded = decode_unsigned(token, milliseconds);
  if (decoded != Decoded::ok) {
    return decoded;
  }
  constexpr std::uint64_t kNanosecondsPerMillisecond = 1'000'000;
  if (milliseconds >
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / kNanosecondsPerMillisecond) {
    return Decoded::invalid;
  }
  out = hedging::Timestamp{static_cast<std::int64_t>(milliseconds * kNanosecondsPerMillisecond)};
  return Decoded::ok;
}

} // namespace detail
} // namespace synthusd::feeds
