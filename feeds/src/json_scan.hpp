#pragma once
// Private helpers shared by the venue parsers: opening a padded message with
// the reused On-Demand parser, reading keys and scalar tokens in place, and
// decoding those tokens into fixed point.
//
// The parsers walk each object once, in document order, and only remember
// where the interesting scalars are (a Token is a view into the caller's
// buffer). Decoding happens after the walk, once the channel and instrument
// are known, so messages for other instruments cost no number parsing and a
// venue may send keys in any order.

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "synthusd/feeds/venue_parser.hpp"
#include "synthusd/feeds/venue_tick.hpp"
#include "synthusd/hedging/types.hpp"

namespace synthusd::feeds::detail {

namespace ondemand = simdjson::ondemand;

static_assert(kJsonPadding == simdjson::SIMDJSON_PADDING, "kJsonPadding must match the installed simdjson");

struct JsonParser {
  ondemand::parser parser;
  ondemand::document document;
  std::size_t max_message_bytes;

  explicit JsonParser(std::size_t max_bytes) noexcept : parser(max_bytes), max_message_bytes(max_bytes) {}
};

// Starts a message: checks the padding and size contract, runs simdjson's
// structural pass and opens the root object. Any failure is a malformed
// message; `root` is valid only on success.
[[nodiscard]] simdjson::error_code open_object(JsonParser& json, const char* data, std::size_t length,
                                               std::size_t capacity, ondemand::object& root) noexcept;

// After the root object has been walked to its end: SUCCESS only if nothing
// but whitespace follows it ({"a":1}{"b":2} is malformed).
[[nodiscard]] simdjson::error_code finish(JsonParser& json) noexcept;

// A key as written, without quotes. Keys with escapes never match one of
// ours (none of ours has a backslash), which is the right outcome.
[[nodiscard]] inline std::string_view key_text(const ondemand::field& field, const char* end) noexcept {
  const char* begin = field.key().raw();
  const char* p = begin;
  while (p < end && *p != '"') {
    ++p;
  }
  return {begin, static_cast<std::size_t>(p - begin)};
}

// Takes an array element out of its iteration result. simdjson's get()
// consumes the result (it is &&-qualified), hence the move of a trivially
// copyable object.
[[nodiscard]] inline simdjson::error_code element(simdjson::simdjson_result<ondemand::value>& result,
                                                  ondemand::value& out) noexcept {
  return std::move(result).get(out); // NOLINT(performance-move-const-arg)
}

enum class TokenKind : std::uint8_t { absent, null, string, number, boolean, object, array, other };

// A scalar's text, in place: a string's characters between the quotes
// (escapes untouched), or a number literal. Objects and arrays keep only
// their kind.
struct Token {
  std::string_view text;
  TokenKind kind = TokenKind::absent;

  [[nodiscard]] bool present() const noexcept { return kind != TokenKind::absent; }
};

// Reads a value's kind and text without consuming it: On-Demand skips the
// value when the iteration moves on, or the caller may still descend into it.
[[nodiscard]] Token capture(ondemand::value& value) noexcept;

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

[[nodiscard]] inline bool is_string(Token token, std::string_view text) noexcept {
  return token.kind == TokenKind::string && token.text == text;
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
