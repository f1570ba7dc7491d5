#pragma once
// Private helpers shared by the venue parsers: the size and padding
// contract, scalar tokens read in place, and decoding those tokens into
// fixed point.
//
// The parsers walk each object once, in document order (json_cursor.hpp), and
// only remember where the interesting scalars are (a Token is a view into the
// caller's buffer). Decoding happens after the walk, once the channel and instrument
// are known, so messages for other instruments cost no number parsing and a
// venue may send keys in any order.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "synthusd/feeds/venue_parser.hpp"
#include "synthusd/feeds/venue_tick.hpp"
#include "synthusd/hedging/types.hpp"

namespace synthusd::feeds::detail {

// Whatever a parser is configured with, a message's offsets fit in 32 bits (Token).
inline constexpr std::size_t kMaxMessageBytes = std::size_t{1} << 31;

// The padding and size contract of every parse() call: a message to read,
// no longer than the parser's bound, with kJsonPadding readable bytes after it.
[[nodiscard]] inline bool fits(const char* data, std::size_t length, std::size_t capacity,
                               std::size_t max_message_bytes) noexcept {
  return data != nullptr && length != 0 && length <= max_message_bytes && length <= kMaxMessageBytes &&
         capacity >= length && capacity - length >= kJsonPadding;
}

enum class TokenKind : std::uint8_t { absent, null, string, number, boolean, object, array, other };

// A scalar's text, in place: a string's characters between the quotes
// (escapes untouched), or a number literal. Objects and arrays keep only
// their kind. 16 bytes (a pointer, a 32-bit length, the kind): the walks
// reset a message's worth of them per parse.
class Token {
public:
  constexpr Token() noexcept = default;
  constexpr Token(std::string_view text, TokenKind kind) noexcept
      : data_(text.data()), size_(static_cast<std::uint32_t>(text.size())), kind(kind) {}

  [[nodiscard]] constexpr std::string_view text() const noexcept { return {data_, size_}; }
  [[nodiscard]] constexpr bool present() const noexcept { return kind != TokenKind::absent; }

private:
  const char* data_ = nullptr;
  std::uint32_t size_ = 0; // messages are at most kMaxMessageBytes (fits())

public:
  TokenKind kind = TokenKind::absent;
};

// What decoding a token gave. Absent covers a missing key, JSON null and the
// empty string: venues send "" for "no value" (OKX nextFundingRate, Binance
// delivery-contract funding) and null for an empty book side (Deribit).
enum class Decoded : std::uint8_t { absent, ok, invalid };

// Decimal numbers accept a JSON number or a string holding one, whatever the
// venue's habit, and are parsed exactly (decimal.hpp); anything else is invalid.
[[nodiscard]] Decoded decode_price(Token token, hedging::Price& out) noexcept;
[[nodiscard]] Decoded decode_ratio(Token token, hedging::Ratio& out) noexcept;
[[nodiscard]] Decoded decode_size(Token token, std::int64_t& out) noexcept; // scaled by 1e8
// Integers: digits only ("12", not "12.0"), no sign unless signed.
[[nodiscard]] Decoded decode_unsigned(Token token, std::uint64_t& out) noexcept;
[[nodiscard]] Decoded decode_signed(Token token, std::int64_t& out) noexcept;
// Unix milliseconds -> Timestamp in nanoseconds; invalid if it overflows.
[[nodiscard]] Decoded decode_milliseconds(Token token, hedging::Timestamp& out) noexcept;

// The first min(N - 1, 8) characters of a literal as a little-endian word.
template <std::size_t N>
[[nodiscard]] constexpr std::uint64_t literal_word(const char (&literal)[N]) noexcept {
  std::uint64_t word = 0;
  for (std::size_t i = 0; i < N - 1 && i < 8; ++i) {
    word |= static_cast<std::uint64_t>(static_cast<unsigned char>(literal[i])) << (8 * i);
  }
  return word;
}

// text == literal, for text inside a padded message (so 8 bytes from its
// start are readable): the walks test every key against their names, and
// this is a length check and one masked 8-byte load instead of a call to
// memcmp.
template <std::size_t N>
[[nodiscard]] [[gnu::always_inline]] inline bool equals(std::string_view text, const char (&literal)[N]) noexcept {
  constexpr std::size_t kSize = N - 1;
  static_assert(std::endian::native == std::endian::little, "literal_word is little-endian");
  if (text.size() != kSize) {
    return false;
  }
  if constexpr (kSize == 0) {
    return true;
  } else {
    constexpr std::uint64_t kMask = kSize >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * kSize)) - 1;
    const std::uint64_t expected = literal_word(literal); // folded: the literal is a constant
    std::uint64_t word = 0;
    std::memcpy(&word, text.data(), sizeof word);
    if ((word & kMask) != expected) {
      return false;
    }
    if constexpr (kSize > 8) {
      return std::memcmp(text.data() + 8, literal + 8, kSize - 8) == 0;
    } else {
      return true;
    }
  }
}

[[nodiscard]] inline bool is_string(Token token, std::string_view text) noexcept {
  return token.kind == TokenKind::string && token.text() == text;
}

// Fills a VenueTick from tokens, setting the presence bit of every field it
// decodes and remembering whether any token was invalid.
class TickWriter {
public:
  explicit TickWriter(VenueTick& tick) noexcept : tick_(tick) {}

  void price(Token token, hedging::Price VenueTick::*member, std::uint32_t bit) noexcept {
    record(decode_price(token, tick_.*member), bit);
  }
  void size(Token token, std::int64_t VenueTick::*member, std::uint32_t bit) noexcept {
    record(decode_size(token, tick_.*member), bit);
  }
  void funding_rate(Token token) noexcept { record(decode_ratio(token, tick_.funding_rate), field::funding_rate); }
  // A next funding time of 0 means "none" (Binance delivery contracts).
  void next_funding_time(Token token) noexcept {
    const Decoded decoded = decode_milliseconds(token, tick_.next_funding_time);
    record(decoded == Decoded::ok && tick_.next_funding_time.nanoseconds == 0 ? Decoded::absent : decoded,
           field::next_funding_time);
  }
  // The first present token wins: venues with two clocks list the better one first.
  void venue_time(Token preferred, Token fallback = {}) noexcept {
    const Decoded decoded = decode_milliseconds(preferred.present() ? preferred : fallback, tick_.venue_time);
    valid_ = valid_ && decoded != Decoded::invalid;
  }
  void sequence(Token token) noexcept { record(decode_unsigned(token, tick_.sequence), field::sequence); }
  // A negative previous id means "none" (OKX sends -1 on snapshots).
  void previous_sequence(Token token) noexcept {
    std::int64_t previous = 0;
    const Decoded decoded = decode_signed(token, previous);
    if (decoded == Decoded::ok && previous >= 0) {
      tick_.previous_sequence = static_cast<std::uint64_t>(previous);
      tick_.fields |= field::previous_sequence;
    }
    valid_ = valid_ && decoded != Decoded::invalid;
  }

  // tick: every token decoded and at least one field is set; ignored when
  // the message carried none of the fields (an empty book side, all "");
  // malformed when a token was invalid.
  [[nodiscard]] ParseStatus status() const noexcept {
    if (!valid_) {
      return ParseStatus::malformed;
    }
    return tick_.fields != 0 ? ParseStatus::tick : ParseStatus::ignored;
  }

private:
  void record(Decoded decoded, std::uint32_t bit) noexcept {
    if (decoded == Decoded::ok) {
      tick_.fields |= bit;
    }
    valid_ = valid_ && decoded != Decoded::invalid;
  }

  VenueTick& tick_;
  bool valid_ = true;
};

// Resets `out` and returns status, so that every non-tick result leaves
// `out` empty (instrument == kNoInstrument, no fields).
[[nodiscard]] inline ParseStatus without_tick(ParseStatus status, VenueTick& out) noexcept {
  out = VenueTick{};
  return status;
}

} // namespace synthusd::feeds::detail
