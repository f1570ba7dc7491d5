#pragma once
// Reading an HTTP/1.1 message head, shared by the small HTTP clients and
// servers that need no library: header names compare ASCII-case-insensitively
// (RFC 9110), and each "Name: value" line after the start line is visited
// with the value's leading spaces removed. Lines without a colon are skipped.

#include <cstddef>
#include <string_view>

namespace synthusd::common {

// Equal ignoring ASCII case: "Content-Length" == "content-length".
[[nodiscard]] constexpr bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

// Calls visit(name, value) for every header field of `head` (the message up
// to, not including, its blank line); stops early and returns false when
// visit returns false.
template <typename Visit>
bool for_each_header_field(std::string_view head, Visit&& visit) {
  for (std::size_t at = head.find("\r\n"); at != std::string_view::npos;) {
    const std::size_t next = head.find("\r\n", at + 2);
    const std::string_view line = head.substr(at + 2, next == std::string_view::npos ? head.npos : next - at - 2);
    at = next;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
    if (!visit(line.substr(0, colon), value)) {
      return false;
    }
  }
  return true;
}

} // namespace synthusd::common
