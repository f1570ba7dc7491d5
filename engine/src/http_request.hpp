#pragma once
// The little of HTTP/1.1 the ops server (http_ops.cpp) speaks: where a
// request head ends, its method, path and Authorization header, a whole
// response that closes the connection, and the admin token's comparison.

#include <cstddef>
#include <cstdint>
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
  // Content-Length: 0 when absent; -1 when not one non-negative decimal
  // (or given twice): the request is refused, never guessed at.
  long long content_length = 0;
};

// Never throws on malformed input: what is missing comes back empty.
[[nodiscard]] RequestHead parse_head(std::string_view head);

// "HTTP/1.1 <status> <reason>" with Content-Type, Content-Length and
// "Connection: close": one request per connection.
[[nodiscard]] std::string response(int status, std::string_view reason, std::string_view body,
                                   std::string_view type = "text/plain; charset=utf-8");

// The reason phrase of the statuses handlers return (200, 202, 400, 404,
// 409); any other reads "Internal Server Error".
[[nodiscard]] const char* reason_of(int status) noexcept;

// The positive integer that is all of `path` after `prefix`
// ("/transfers/settle/<id>"); 0 when it is not one.
[[nodiscard]] std::uint64_t positive_id_after(std::string_view path, std::string_view prefix) noexcept;

// Constant time for equal lengths: a wrong token reveals nothing by timing.
// An empty expected token matches nothing.
[[nodiscard]] bool same_token(std::string_view expected, std::string_view given) noexcept;

} // namespace synthusd::engine::http
