#pragma once
// RFC 6455 client-side protocol logic, free of I/O: the upgrade request and
// its Sec-WebSocket-Accept check, masked client frames, and an incremental
// decoder for server frames (fragmentation, control frames interleaved with
// fragments, maximum message size). The transport feeds it received bytes
// and writes out what it produces.
//
// Buffers: the decoder assembles each complete message into a buffer it owns,
// sized at construction (max_message_size + kPadding) and never reallocated,
// so a parser can read the message in place with simdjson's 64 bytes of
// padding.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "synthusd/common/websocket_frame.hpp"

namespace synthusd::feeds::websocket {

inline constexpr std::size_t kPadding = 64; // simdjson::SIMDJSON_PADDING

// The frame header layout and masking are common/websocket_frame.hpp's,
// shared with the venue simulator's server.
using Opcode = common::websocket::Opcode;

// ---- handshake --------------------------------------------------------------

// A fresh base64 Sec-WebSocket-Key from 16 caller-supplied random bytes.
[[nodiscard]] std::string make_key(std::span<const std::uint8_t, 16> random_bytes);

// The GET upgrade request for host[:port] and path (with query), ending in \r\n\r\n.
[[nodiscard]] std::string upgrade_request(std::string_view host, std::uint16_t port, std::string_view path,
                                          std::string_view key);

// base64(SHA-1(key + 258EAFA5-E914-47DA-95CA-C5AB0DC85B11))
[[nodiscard]] std::string expected_accept(std::string_view key);

enum class HandshakeStatus : std::uint8_t { incomplete, accepted, rejected };

struct HandshakeResult {
  HandshakeStatus status = HandshakeStatus::incomplete;
  std::size_t consumed = 0; // bytes of the HTTP response (frames may follow in the same read)
  std::string reason;       // why it was rejected: status line, missing/wrong accept, ...
};

// Checks the server's response: HTTP/1.1 101, Upgrade: websocket,
// Connection: Upgrade, and Sec-WebSocket-Accept equal to expected_accept(key).
[[nodiscard]] HandshakeResult check_upgrade_response(std::string_view received, std::string_view key);

// ---- client frames (always masked) -------------------------------------------

// Appends one masked frame to `out`. The mask key comes from the caller (a
// per-connection PRNG), so tests are deterministic.
void encode_frame(Opcode opcode, std::span<const std::uint8_t> payload, std::uint32_t mask_key,
                  std::vector<std::uint8_t>& out);

// A close frame with a status code (1000 normal) and optional reason.
void encode_close(std::uint16_t code, std::string_view reason, std::uint32_t mask_key, std::vector<std::uint8_t>& out);

// ---- server frames ------------------------------------------------------------

enum class DecodeEvent : std::uint8_t {
  need_more,       // all input consumed, no complete message yet
  message,         // a complete text/binary message: message() is valid until the next decode call
  ping,            // control frame: answer with a pong carrying control_payload()
  pong,
  close,           // the server closed: close_code() / control_payload(); answer with a close
  protocol_error,  // masked server frame, bad opcode, reserved bits, bad control frame, bad continuation...
  message_too_big, // a message exceeded max_message_size: the connection must be dropped
};

class FrameDecoder {
public:
  explicit FrameDecoder(std::size_t max_message_size);

  // Consumes bytes from `input` until one event is ready or input runs out.
  // Sets `consumed`; call again with the rest. No allocation.
  //
  // Any split of the same byte stream gives the same events. protocol_error
  // and message_too_big are final: `consumed` counts the bytes up to the one
  // that revealed the fault, and later calls consume nothing and return the
  // same event until reset(). Text messages are not checked for UTF-8 here:
  // simdjson validates UTF-8 as it parses, so a second pass would only cost.
  [[nodiscard]] DecodeEvent decode(std::span<const std::uint8_t> input, std::size_t& consumed) noexcept;

  // The last complete message; data()[size()..size()+kPadding) is readable (zeroed).
  [[nodiscard]] const char* message_data() const noexcept;
  [[nodiscard]] std::size_t message_size() const noexcept;
  [[nodiscard]] std::size_t message_capacity() const noexcept; // size + padding at least
  [[nodiscard]] bool message_is_text() const noexcept;
  [[nodiscard]] std::span<const std::uint8_t> control_payload() const noexcept;
  [[nodiscard]] std::uint16_t close_code() const noexcept; // 1005 when the close frame had none
  // The close frame's reason text (its payload after the 2-byte code); not
  // checked for UTF-8.
  [[nodiscard]] std::string_view close_reason() const noexcept;
  [[nodiscard]] std::string_view error() const noexcept;   // why protocol_error / message_too_big

  void reset() noexcept; // a new connection

private:
  enum class Phase : std::uint8_t { header, payload, failed };

  [[nodiscard]] DecodeEvent check_first_header_bytes() noexcept;
  [[nodiscard]] DecodeEvent start_payload() noexcept;
  [[nodiscard]] DecodeEvent finish_frame() noexcept;
  [[nodiscard]] DecodeEvent finish_close() noexcept;
  [[nodiscard]] DecodeEvent fail(DecodeEvent event, std::string_view why) noexcept;

  std::vector<std::uint8_t> message_;       // max_message_size + kPadding, allocated once
  std::array<std::uint8_t, 125> control_{}; // RFC 6455 5.5: control payloads are at most 125 bytes
  std::size_t max_message_size_ = 0;
  std::size_t message_size_ = 0; // the last complete message
  std::size_t assembled_ = 0;    // bytes of the message being assembled
  std::size_t control_size_ = 0;
  std::uint64_t payload_remaining_ = 0;
  std::string_view error_;
  std::uint16_t close_code_ = 1005;
  // Server frames are never masked (a mask is an error), so the longest
  // header is 2 bytes plus a 64-bit length.
  std::uint8_t header_[10]{};
  std::uint8_t header_have_ = 0;
  std::uint8_t header_need_ = 2;
  Phase phase_ = Phase::header;
  DecodeEvent failure_ = DecodeEvent::need_more; // repeated by decode() once failed
  Opcode frame_opcode_ = Opcode::continuation;
  bool frame_fin_ = false;
  bool message_is_text_ = false; // of the last complete message
  bool assembling_ = false;      // a data message has started and not yet finished
  bool assembling_text_ = false;
};

} // namespace synthusd::feeds::websocket
