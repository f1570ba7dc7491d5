#pragma once
// The parts of the LND clients (lnd_source.hpp, lnd_payment_source.hpp)
// that need no socket: the HTTP/1.1 response head, the body framing
// (chunked, length, until close) and protojson's scalars. What the messages
// mean is lnd_messages.hpp.
//
// What LND sends (grpc-gateway's runtime.ForwardResponseStream with lnd's
// JSONPb marshaller, UseProtoNames + EmitUnpopulated): every message is
// written as one JSON object followed by "\n", then flushed, in a
// chunked body. A chunk boundary is NOT a message boundary (Go splits a write
// larger than its buffer into several chunks), so messages are cut at the
// newlines of the decoded body. protojson writes 64-bit integers as decimal
// strings, bytes as standard base64 and enums by name, with every field
// present.

#include <cstdint>
#include <string>
#include <string_view>

namespace synthusd::liabilities {

// protojson's 64-bit integers: one to twenty ASCII digits, no sign, no
// spaces, within uint64. False for anything else.
[[nodiscard]] bool parse_decimal_u64(std::string_view text, std::uint64_t& out) noexcept;

// Lower-case hex of arbitrary bytes (the macaroon header, payment hashes).
[[nodiscard]] std::string hex_encode(std::string_view bytes);

// Standard base64 (RFC 4648 section 4) with its padding, as protojson writes
// bytes. False on any other character or a bad length.
[[nodiscard]] bool base64_decode(std::string_view text, std::string& out);

struct HttpResponseHead {
  enum class Framing : std::uint8_t { chunked, length, until_close };
  int status = 0;
  std::string status_line; // for error messages
  Framing framing = Framing::until_close;
  std::uint64_t content_length = 0;
};

// The status line and the header lines, everything before the blank line.
[[nodiscard]] bool parse_http_response_head(std::string_view head, HttpResponseHead& out, std::string& reason);

// Turns the body bytes of one response, as they arrive, into the body itself.
class HttpBodyDecoder {
public:
  enum class Status : std::uint8_t { more, done, error };

  void reset(const HttpResponseHead& head) noexcept;
  // Appends the body carried by `data` to `out`. Bytes after the end of the
  // body are ignored (nothing follows a stream we never reuse).
  Status feed(std::string_view data, std::string& out);
  // The peer closed the connection: fine only when the body runs until close.
  [[nodiscard]] Status finish() const noexcept;
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

private:
  enum class State : std::uint8_t { size_line, data, data_end, trailer, done, error };
  Status fail(std::string why);

  HttpResponseHead::Framing framing_ = HttpResponseHead::Framing::until_close;
  State state_ = State::size_line;
  std::uint64_t remaining_ = 0; // bytes left in this chunk, or in a Content-Length body
  std::string line_;            // a chunk-size or trailer line being read
  std::string error_;
};

} // namespace synthusd::liabilities
