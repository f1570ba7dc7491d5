#include "json_cursor.hpp"

#include <simdjson.h>

namespace synthusd::feeds::detail {

static_assert(kJsonPadding >= 16, "find_special reads 16 bytes from any position before the end");

bool JsonCursor::finish() noexcept {
  while (!failed_ && depth_ > 0) {
    close_innermost();
  }
  if (failed_ || !rooted_) {
    return false;
  }
  skip_space();
  if (p_ != end_) {
    return fail(); // {"a":1}{"b":2} or trailing bytes
  }
  if (non_ascii_ && !simdjson::validate_utf8(begin_, static_cast<std::size_t>(end_ - begin_))) {
    return fail();
  }
  return true;
}

bool JsonCursor::close_innermost() noexcept {
  const Level level = depth_;
  if (is_array(level)) {
    while (next_element(level)) {
    }
  } else {
    std::string_view key;
    while (next_member(level, key)) {
    }
  }
  return !failed_;
}

bool JsonCursor::skip_container() noexcept { return enter() != 0 && close_innermost(); }

bool JsonCursor::hex4(unsigned& value) noexcept {
  if (end_ - p_ < 4) {
    return false;
  }
  value = 0;
  for (int i = 0; i < 4; ++i, ++p_) {
    const char c = *p_;
    unsigned digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<unsigned>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<unsigned>(c - 'A' + 10);
    } else {
      return false;
    }
    value = value * 16 + digit;
  }
  return true;
}

bool JsonCursor::escape() noexcept {
  ++p_; // the backslash
  if (p_ >= end_) {
    return false;
  }
  switch (*p_) {
  case '"':
  case '\\':
  case '/':
  case 'b':
  case 'f':
  case 'n':
  case 'r':
  case 't':
    ++p_;
    return true;
  case 'u':
    break;
  default:
    return false;
  }
  ++p_;
  unsigned unit = 0;
  if (!hex4(unit)) {
    return false;
  }
  if (unit >= 0xDC00 && unit <= 0xDFFF) {
    return false; // a low surrogate without its high one
  }
  if (unit >= 0xD800 && unit <= 0xDBFF) {
    // A high surrogate must be followed by \u and a low surrogate.
    unsigned low = 0;
    if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') {
      return false;
    }
    p_ += 2;
    if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) {
      return false;
    }
  }
  return true;
}

} // namespace synthusd::feeds::detail
