#pragma once
// A validating pull cursor over one JSON message, read in place: the venue
// parsers walk a message with it in one pass, taking the scalars they want
// as Tokens (views into the caller's buffer) and skipping the rest.
//
// Why not simdjson's On-Demand, which the parsers used before: venue tickers
// are 200-700 bytes, and at that size its fixed cost per document (the
// structural index of the whole message, then navigation through it) was
// most of the parse. One pass that looks at each byte once, with SSE2 over
// string contents, measured about 30 % faster on OKX's and Binance's tickers
// and about 8 % slower on Deribit's 700-byte one (README, Performance), and
// it validates the values it skips, which On-Demand did not.
//
// Validation: the whole message is checked against RFC 8259's grammar,
// including the values the walk skips: structure, string escapes (\uXXXX
// surrogates paired), no raw control characters in strings, number and
// literal spelling, nesting at most kMaxDepth, and nothing but whitespace
// after the root. Bytes >= 0x80 may only appear inside strings, and a
// message holding any is passed to simdjson::validate_utf8 by finish().
// Every error is sticky: later calls do nothing and return false or an
// `other` token, and finish() reports the message malformed.
//
// Preconditions: kJsonPadding readable bytes follow the message (the string
// scan reads 16 bytes at a time; nothing past `length` is ever taken as
// data). No allocation, no exceptions.
//
// Walking: next_member(level, key) / next_element(level) move to the next
// value of the container opened at `level` (skipping whatever of the previous
// value, or of deeper containers, was left unread) and return false at its
// end. value() reads the value there: a scalar's token (consumed) or the kind
// of a container, which enter() then opens.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "json_scan.hpp"

namespace synthusd::feeds::detail {

// The walk's per-token steps are inlined into each parser's loop, so a token
// costs no call; the rare paths (escapes, skipping a whole container, the
// end) stay out of line.
#define SYNTHUSD_JSON_INLINE [[gnu::always_inline]] inline

class JsonCursor {
public:
  using Level = std::uint32_t; // 1 = the root object; 0 = none (failed)
  static constexpr Level kMaxDepth = 64;

  JsonCursor(const char* data, std::size_t length) noexcept : p_(data), begin_(data), end_(data + length) {}

  // Opens the root, which must be an object. Returns its level (1), or 0.
  [[nodiscard]] SYNTHUSD_JSON_INLINE Level open_root() noexcept {
    skip_space();
    if (p_ >= end_ || *p_ != '{') {
      return fail_level();
    }
    pending_ = true;
    rooted_ = true;
    return enter();
  }

  // Moves to the next member of the object at `level`; false at its end.
  [[nodiscard]] SYNTHUSD_JSON_INLINE bool next_member(Level level, std::string_view& key) noexcept {
    if (!advance(level, false)) {
      return false;
    }
    if (p_ >= end_ || *p_ != '"' || !scan_string(key)) {
      return fail();
    }
    skip_space();
    if (p_ >= end_ || *p_ != ':') {
      return fail();
    }
    ++p_;
    skip_space();
    pending_ = true;
    return true;
  }

  // Moves to the next element of the array at `level`; false at its end.
  [[nodiscard]] SYNTHUSD_JSON_INLINE bool next_element(Level level) noexcept {
    if (!advance(level, true)) {
      return false;
    }
    pending_ = true;
    return true;
  }

  // The value at the cursor. A string (its text between the quotes, escapes
  // as written), number, boolean or null is consumed; an object or array
  // gives only its kind and stays for enter() (or is skipped by the next move).
  [[nodiscard]] SYNTHUSD_JSON_INLINE Token value() noexcept {
    if (failed_ || !pending_ || p_ >= end_) {
      fail();
      return {{}, TokenKind::other};
    }
    switch (*p_) {
    case '{':
      return {{}, TokenKind::object};
    case '[':
      return {{}, TokenKind::array};
    case '"': {
      std::string_view text;
      if (!scan_string(text)) {
        fail();
        return {{}, TokenKind::other};
      }
      pending_ = false;
      return {text, TokenKind::string};
    }
    case 't':
      return literal("true", TokenKind::boolean);
    case 'f':
      return literal("false", TokenKind::boolean);
    case 'n':
      return literal("null", TokenKind::null);
    default:
      return number();
    }
  }

  // Opens the object or array at the cursor; returns its level, or 0.
  [[nodiscard]] SYNTHUSD_JSON_INLINE Level enter() noexcept {
    if (failed_ || !pending_ || p_ >= end_ || (*p_ != '{' && *p_ != '[') || depth_ >= kMaxDepth) {
      return fail_level();
    }
    const std::uint64_t bit = std::uint64_t{1} << depth_;
    arrays_ = *p_ == '[' ? arrays_ | bit : arrays_ & ~bit;
    ++depth_;
    ++p_;
    pending_ = false;
    first_ = true;
    return depth_;
  }

  // After the walk: skips what is left of the root, then requires only
  // whitespace to the end, and valid UTF-8 if the message has bytes >= 0x80.
  [[nodiscard]] bool finish() noexcept;

  [[nodiscard]] bool failed() const noexcept { return failed_; }

private:
  [[gnu::always_inline]] static constexpr bool is_space(char c) noexcept {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
  }

  bool fail() noexcept {
    failed_ = true;
    return false;
  }
  Level fail_level() noexcept {
    failed_ = true;
    return 0;
  }

  SYNTHUSD_JSON_INLINE void skip_space() noexcept {
    while (p_ < end_ && is_space(*p_)) {
      ++p_;
    }
  }

  [[nodiscard]] bool is_array(Level level) const noexcept { return ((arrays_ >> (level - 1)) & 1U) != 0; }

  // Common part of next_member / next_element: leaves deeper containers,
  // skips an unread value, and reads the separator or the closing bracket.
  SYNTHUSD_JSON_INLINE bool advance(Level level, bool array) noexcept {
    if (failed_ || level == 0 || depth_ < level) {
      return false; // failed, or that container has already been closed
    }
    if (is_array(level) != array) {
      return fail(); // next_member on an array or next_element on an object
    }
    while (depth_ > level) {
      if (!close_innermost()) {
        return false;
      }
    }
    if (pending_) {
      // An unread scalar is read here; a container is skipped out of line.
      if (p_ >= end_) {
        return fail();
      }
      if (*p_ == '{' || *p_ == '[' ? !skip_container() : value().kind == TokenKind::other) {
        return false;
      }
    }
    skip_space();
    if (p_ >= end_) {
      return fail();
    }
    if (*p_ == (array ? ']' : '}')) {
      ++p_;
      --depth_;
      first_ = false;
      return false;
    }
    if (!first_) {
      if (*p_ != ',') {
        return fail();
      }
      ++p_;
      skip_space(); // a bracket here (a trailing comma) is refused by the key or value read next
    }
    first_ = false;
    return true;
  }

  // Reads to the end of the innermost open container, validating what it skips.
  bool close_innermost() noexcept;
  // Skips the pending object or array (p_ is at its bracket), validating it.
  bool skip_container() noexcept;

  SYNTHUSD_JSON_INLINE Token literal(std::string_view word, TokenKind kind) noexcept {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()) != 0) {
      fail();
      return {{}, TokenKind::other};
    }
    const char* start = p_;
    p_ += word.size();
    if (!at_delimiter()) {
      fail();
      return {{}, TokenKind::other};
    }
    pending_ = false;
    return {{start, word.size()}, kind};
  }

  // RFC 8259 6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  SYNTHUSD_JSON_INLINE Token number() noexcept {
    const char* start = p_;
    if (p_ < end_ && *p_ == '-') {
      ++p_;
    }
    if (p_ < end_ && *p_ == '0') {
      ++p_;
    } else if (!digits()) {
      fail();
      return {{}, TokenKind::other};
    }
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (!digits()) {
        fail();
        return {{}, TokenKind::other};
      }
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) {
        ++p_;
      }
      if (!digits()) {
        fail();
        return {{}, TokenKind::other};
      }
    }
    if (!at_delimiter()) {
      fail();
      return {{}, TokenKind::other};
    }
    pending_ = false;
    return {{start, static_cast<std::size_t>(p_ - start)}, TokenKind::number};
  }

  // One or more digits.
  SYNTHUSD_JSON_INLINE bool digits() noexcept {
    const char* start = p_;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
      ++p_;
    }
    return p_ != start;
  }

  // What may follow a scalar: the end, whitespace, a separator or a closing bracket.
  [[nodiscard]] SYNTHUSD_JSON_INLINE bool at_delimiter() const noexcept {
    return p_ >= end_ || is_space(*p_) || *p_ == ',' || *p_ == '}' || *p_ == ']';
  }

  // p_ is at the opening quote. On success `text` is the content and p_ is past the closing quote.
  SYNTHUSD_JSON_INLINE bool scan_string(std::string_view& text) noexcept {
    const char* start = ++p_;
    for (;;) {
      p_ = find_special(p_);
      if (p_ >= end_) {
        return fail();
      }
      const auto byte = static_cast<unsigned char>(*p_);
      if (byte == '"') {
        text = {start, static_cast<std::size_t>(p_ - start)};
        ++p_;
        return true;
      }
      if (byte == '\\') {
        if (!escape()) {
          return fail();
        }
      } else if (byte < 0x20) {
        return fail(); // raw control characters must be escaped
      } else {
        non_ascii_ = true; // >= 0x80: checked as UTF-8 by finish()
        ++p_;
      }
    }
  }

  // The first byte at or after p that is a quote, a backslash, below 0x20 or
  // above 0x7f; a result at or past end_ means none before the end.
  [[nodiscard]] SYNTHUSD_JSON_INLINE const char* find_special(const char* p) const noexcept {
#if defined(__SSE2__)
    // Reading 16 bytes from p < end_ stays inside the padding.
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (p < end_) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      // A signed compare: bytes >= 0x80 are negative, so "< 0x20" catches them too.
      const __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, backslash)),
                                           _mm_cmplt_epi8(bytes, space));
      const int mask = _mm_movemask_epi8(special);
      if (mask != 0) {
        return p + __builtin_ctz(static_cast<unsigned>(mask));
      }
      p += 16;
    }
    return p;
#else
    while (p < end_) {
      const auto byte = static_cast<unsigned char>(*p);
      if (byte == '"' || byte == '\\' || byte < 0x20 || byte > 0x7f) {
        return p;
      }
      ++p;
    }
    return p;
#endif
  }

  // p_ is at a backslash inside a string.
  bool escape() noexcept;
  bool hex4(unsigned& value) noexcept;

  const char* p_;
  const char* begin_;
  const char* end_;
  std::uint64_t arrays_ = 0; // bit level-1 set: the container at that level is an array
  Level depth_ = 0;
  bool pending_ = false; // p_ is at the first byte of a value not yet read
  bool first_ = false;   // the innermost container has had no value yet
  bool non_ascii_ = false;
  bool rooted_ = false; // open_root() found the root object
  bool failed_ = false;
};

#undef SYNTHUSD_JSON_INLINE

} // namespace synthusd::feeds::detail
