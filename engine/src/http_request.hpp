#pragma once
// The little of HTTP/1.1 the ops server (http_ops.cpp) speaks: where a
// request head ends, its method, path and Authorization header, a whole
// response that closes the connection, and the admin token's comparison.

#include <cstddef>
#include <string>
#include <string_view>

namespace synthusd::engine::http {

// Offset just past the blank line ending the head ("\r\n\r\n"), or npos
// while it has not arrived. `searched` bytes at the front were already
// searched (the search backs up 3 bytes, for an end split across reads).
[[nodiscard]] std::size_t head_end(std::string_view buffer, std::size_t searched) noexcept;

struct RequestHead {
  std::string method;
  std::string path;
  std::string authorization; // the header's value, blanks trimmed; "" when absent
};

// Never throws on malformed input: what is missing comes back empty.
[[nodiscard]] RequestHead parse_head(std::string_view head);

// "HTTP/1.1 <status> <reason>" with Content-Type, Content-Length and
// "Connection: close": one request per connection.
[[nodiscard]] std::string response(int status, std::string_view reason, std::string_view body,
                                   std::string_view type = "text/plain; charset=utf-8");

// Constant time for equal lengths: a wrong token reveals nothing by timing.
// An empty expected token matches nothing.
[[nodiscard]] bool same_token(std::string_view expected, std::string_view given) noexcept;

} // namespace synthusd::engine::http
