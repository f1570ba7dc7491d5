#pragma once
// RFC 6455 5.2 base framing, the part both ends share: the bytes of a frame
// header and the payload mask. The policies stay with each end: the engine's
// client (feeds/websocket_codec) masks what it sends and refuses masked
// frames; the venue simulator's server (venue/websocket_server) does the
// opposite; each checks opcodes and sizes in its own way.
//
// Header-only, C++14, no allocation, no exceptions.
//
//   byte 0: FIN | RSV1-3 | opcode (4 bits)
//   byte 1: MASK | length7 (0..125, or 126: 16-bit length follows, 127: 64-bit)
//   then the extended length (big-endian), then the 4-byte mask key if MASK.

#include <cstddef>
#include <cstdint>

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces): C++14
namespace common {
namespace websocket {

enum class Opcode : std::uint8_t { continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA };

constexpr std::uint8_t kFinBit = 0x80;
constexpr std::uint8_t kReservedBits = 0x70;
constexpr std::uint8_t kOpcodeBits = 0x0F;
constexpr std::uint8_t kMaskBit = 0x80;
constexpr std::uint8_t kLengthBits = 0x7F;
constexpr std::uint8_t kLength16 = 126; // length7 value: a 16-bit length follows
constexpr std::uint8_t kLength64 = 127; // length7 value: a 64-bit length follows

// RFC 6455 5.5: control frames carry at most 125 bytes.
constexpr std::size_t kMaxControlPayload = 125;
// 2 bytes, an 8-byte length and a 4-byte mask key.
constexpr std::size_t kMaxHeaderSize = 14;

// RFC 6455 1.3: appended to the client's Sec-WebSocket-Key before SHA-1.
constexpr char kAcceptGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

[[nodiscard]] constexpr bool is_control(Opcode opcode) noexcept {
  return (static_cast<std::uint8_t>(opcode) & 0x8) != 0;
}

// The opcodes RFC 6455 defines; the others are reserved.
[[nodiscard]] constexpr bool is_known_opcode(std::uint8_t opcode) noexcept {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA);
}

// The size of the header that starts with `second_byte` as its byte 1: 2, 4
// or 10 bytes by the length form, plus 4 for a mask key.
[[nodiscard]] constexpr std::size_t header_size(std::uint8_t second_byte) noexcept {
  const std::uint8_t length7 = second_byte & kLengthBits;
  const std::size_t length_form = length7 == kLength16 ? 4 : length7 == kLength64 ? 10 : 2;
  return length_form + ((second_byte & kMaskBit) != 0 ? 4 : 0);
}

// The payload length of a header whose first header_size(header[1]) bytes,
// mask key excepted, are present. A 64-bit length is returned as sent, its
// most significant bit included (RFC 6455 forbids it; callers decide).
[[nodiscard]] inline std::uint64_t payload_length(const std::uint8_t* header) noexcept {
  const std::uint8_t length7 = header[1] & kLengthBits;
  if (length7 < kLength16) {
    return length7;
  }
  const int bytes = length7 == kLength16 ? 2 : 8;
  std::uint64_t length = 0;
  for (int i = 0; i < bytes; ++i) {
    length = (length << 8) | header[2 + i];
  }
  return length;
}

// The size encode_header writes for this payload size.
[[nodiscard]] constexpr std::size_t encoded_header_size(std::uint64_t payload_size, bool masked) noexcept {
  return (payload_size < kLength16 ? 2 : payload_size <= 0xFFFF ? 4 : 10) + (masked ? 4 : 0);
}

// Writes the header of a final (FIN) frame in the shortest length form, with
// the 4-byte mask key when `mask_key` is not null. Returns the bytes written:
// encoded_header_size(payload_size, mask_key != nullptr), at most
// kMaxHeaderSize.
inline std::size_t encode_header(Opcode opcode, std::uint64_t payload_size, const std::uint8_t* mask_key,
                                 std::uint8_t* out) noexcept {
  const std::uint8_t mask_bit = mask_key != nullptr ? kMaskBit : 0;
  std::size_t size = 0;
  out[size++] = static_cast<std::uint8_t>(kFinBit | static_cast<std::uint8_t>(opcode));
  if (payload_size < kLength16) {
    out[size++] = static_cast<std::uint8_t>(mask_bit | payload_size);
  } else if (payload_size <= 0xFFFF) {
    out[size++] = static_cast<std::uint8_t>(mask_bit | kLength16);
    out[size++] = static_cast<std::uint8_t>(payload_size >> 8);
    out[size++] = static_cast<std::uint8_t>(payload_size);
  } else {
    out[size++] = static_cast<std::uint8_t>(mask_bit | kLength64);
    for (int shift = 56; shift >= 0; shift -= 8) {
      out[size++] = static_cast<std::uint8_t>(payload_size >> shift);
    }
  }
  if (mask_key != nullptr) {
    for (int i = 0; i < 4; ++i) {
      out[size++] = mask_key[i];
    }
  }
  return size;
}

// out[i] = in[i] ^ mask_key[i % 4] for a payload from its first byte
// (RFC 6455 5.3). Masking twice unmasks; `in` and `out` may be the same.
inline void apply_mask(const std::uint8_t* in, std::size_t size, const std::uint8_t* mask_key,
                       std::uint8_t* out) noexcept {
  for (std::size_t i = 0; i < size; ++i) {
    out[i] = static_cast<std::uint8_t>(in[i] ^ mask_key[i & 3]);
  }
}

} // namespace websocket
} // namespace common
} // namespace synthusd
