#include "synthusd/feeds/websocket_codec.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <utility>

namespace synthusd::feeds::websocket {
namespace {

namespace frame = common::websocket;

// RFC 6455 1.3: appended to the client's key before hashing.
constexpr std::string_view kAcceptGuid = frame::kAcceptGuid;

// A server that never finishes its header is either broken or hostile; a real
// 101 response is a few hundred bytes.
constexpr std::size_t kMaxResponseHeader = std::size_t{16} * 1024;

using frame::is_control;
using frame::kMaxControlPayload;
constexpr std::size_t kMaxCloseReason = kMaxControlPayload - 2;

[[nodiscard]] std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  // EVP_EncodeBlock writes a terminating NUL after the 4*ceil(n/3) characters,
  // which std::string's own terminator slot absorbs.
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

// RFC 6455 7.4: codes an endpoint may put on the wire. 1004 is reserved,
// 1005/1006/1015 exist only as local signals, 1016-2999 are unassigned, and
// 1012-1014 were registered with IANA after the RFC.
[[nodiscard]] constexpr bool is_sendable_close_code(std::uint16_t code) noexcept {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

[[nodiscard]] constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

[[nodiscard]] std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

// True when the comma-separated header value lists `token` (RFC 7230 7:
// "Connection: keep-alive, Upgrade").
[[nodiscard]] bool has_token(std::string_view list, std::string_view token) noexcept {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    if (iequals(trim(list.substr(0, comma)), token)) {
      return true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    list.remove_prefix(comma + 1);
  }
  return false;
}

// Server text quoted in a rejection reason, cut short: the reason goes to a
// log, and a hostile header line can be 16 KiB long.
[[nodiscard]] std::string quoted(std::string_view text) {
  constexpr std::size_t kMaxQuoted = 128;
  if (text.size() <= kMaxQuoted) {
    return std::string(text);
  }
  return std::string(text.substr(0, kMaxQuoted)) + "...";
}

[[nodiscard]] HandshakeResult reject(std::size_t consumed, std::string reason) {
  return {HandshakeStatus::rejected, consumed, std::move(reason)};
}

// Shortens a close reason to `limit` bytes without splitting a UTF-8
// sequence, since the server may reject a reason that is not valid UTF-8.
[[nodiscard]] std::string_view truncate_utf8(std::string_view text, std::size_t limit) noexcept {
  if (text.size() <= limit) {
    return text;
  }
  std::size_t end = limit;
  // Back up over continuation bytes (10xxxxxx) to the start of the sequence
  // that crosses the limit, then drop that whole sequence.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return text.substr(0, end);
}

} // namespace

// ---- handshake --------------------------------------------------------------

std::string make_key(std::span<const std::uint8_t, 16> random_bytes) {
  return base64(random_bytes.data(), random_bytes.size());
}

std::string upgrade_request(std::string_view host, std::uint16_t port, std::string_view path, std::string_view key) {
  std::string request;
  request.reserve(192 + host.size() + path.size() + key.size());
  request += "GET ";
  request += path.empty() ? std::string_view("/") : path;
  request += " HTTP/1.1\r\nHost: ";
  // An IPv6 literal needs brackets in Host (RFC 3986 3.2.2), else its colons
  // read as a port separator.
  const bool bracket = host.find(':') != std::string_view::npos && !host.starts_with('[');
  if (bracket) {
    request += '[';
  }
  request += host;
  if (bracket) {
    request += ']';
  }
  // The default ports are left out, as browsers do: some servers compare Host
  // against their configured name literally.
  if (port != 80 && port != 443) {
    request += ':';
    request += std::to_string(port);
  }
  request += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
  request += key;
  request += "\r\nSec-WebSocket-Version: 13\r\n\r\n";
  return request;
}

std::string expected_accept(std::string_view key) {
  std::string input;
  input.reserve(key.size() + kAcceptGuid.size());
  input += key;
  input += kAcceptGuid;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &digest_size, EVP_sha1(), nullptr) != 1) {
    // Only a broken OpenSSL build (SHA-1 disabled) gets here; an empty accept
    // makes the handshake fail with a clear mismatch instead of crashing.
    return {};
  }
  return base64(digest, digest_size);
}

HandshakeResult check_upgrade_response(std::string_view received, std::string_view key) {
  const std::size_t header_end = received.find("\r\n\r\n");
  if (header_end == std::string_view::npos) {
    if (received.size() > kMaxResponseHeader) {
      return reject(0, "response header exceeds " + std::to_string(kMaxResponseHeader) + " bytes without ending");
    }
    return {};
  }
  const std::size_t consumed = header_end + 4;
  if (consumed > kMaxResponseHeader) {
    return reject(consumed, "response header exceeds " + std::to_string(kMaxResponseHeader) + " bytes");
  }

  std::string_view header = received.substr(0, header_end);
  const std::size_t status_end = header.find("\r\n");
  const std::string_view status_line = header.substr(0, status_end);
  header = status_end == std::string_view::npos ? std::string_view() : header.substr(status_end + 2);
  // The reason phrase is free text, so only version and code are compared.
  constexpr std::string_view kSwitching = "HTTP/1.1 101";
  if (!status_line.starts_with(kSwitching) ||
      (status_line.size() > kSwitching.size() && status_line[kSwitching.size()] != ' ')) {
    return reject(consumed, "status line is not HTTP/1.1 101: " + quoted(status_line));
  }

  bool upgrade_websocket = false;
  bool connection_upgrade = false;
  bool accept_seen = false;
  const std::string accept = expected_accept(key);
  while (!header.empty()) {
    const std::size_t line_end = header.find("\r\n");
    const std::string_view line = header.substr(0, line_end);
    header = line_end == std::string_view::npos ? std::string_view() : header.substr(line_end + 2);

    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || line.front() == ' ' || line.front() == '\t') {
      // Obsolete line folding is refused too: RFC 7230 3.2.4 lets a client
      // reject it, and no WebSocket server needs it.
      return reject(consumed, "malformed header line: " + quoted(line));
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "Upgrade")) {
      upgrade_websocket = upgrade_websocket || has_token(value, "websocket");
    } else if (iequals(name, "Connection")) {
      connection_upgrade = connection_upgrade || has_token(value, "upgrade");
    } else if (iequals(name, "Sec-WebSocket-Accept")) {
      // base64 is case-sensitive, so this comparison is exact.
      if (value != accept) {
        return reject(consumed, "Sec-WebSocket-Accept is " + quoted(value) + ", expected " + accept);
      }
      accept_seen = true;
    } else if (iequals(name, "Sec-WebSocket-Extensions")) {
      // RFC 6455 4.1: the client must fail a connection whose server selects
      // an extension the client did not offer (it offers none).
      return reject(consumed, "server selected an extension that was not offered: " + quoted(value));
    } else if (iequals(name, "Sec-WebSocket-Protocol")) {
      return reject(consumed, "server selected a subprotocol that was not offered: " + quoted(value));
    }
  }
  if (!upgrade_websocket) {
    return reject(consumed, "missing Upgrade: websocket header");
  }
  if (!connection_upgrade) {
    return reject(consumed, "missing Connection: Upgrade header");
  }
  if (!accept_seen) {
    return reject(consumed, "missing Sec-WebSocket-Accept header");
  }
  return {HandshakeStatus::accepted, consumed, {}};
}

// ---- client frames ------------------------------------------------------------

void encode_frame(Opcode opcode, std::span<const std::uint8_t> payload, std::uint32_t mask_key,
                  std::vector<std::uint8_t>& out) {
  assert(!is_control(opcode) || payload.size() <= kMaxControlPayload); // RFC 6455 5.5
  // The mask key's most significant byte goes first on the wire, so
  // 0x37fa213d is sent as 37 fa 21 3d and masks payload byte i with byte i % 4.
  const std::uint8_t mask[4] = {static_cast<std::uint8_t>(mask_key >> 24), static_cast<std::uint8_t>(mask_key >> 16),
                                static_cast<std::uint8_t>(mask_key >> 8), static_cast<std::uint8_t>(mask_key)};
  const std::size_t start = out.size();
  const std::size_t header_size = frame::encoded_header_size(payload.size(), true);
  out.resize(start + header_size + payload.size());
  // Client frames are never fragmented: encode_header always sets FIN.
  frame::encode_header(opcode, payload.size(), mask, out.data() + start);
  frame::apply_mask(payload.data(), payload.size(), mask, out.data() + start + header_size);
}

void encode_close(std::uint16_t code, std::string_view reason, std::uint32_t mask_key, std::vector<std::uint8_t>& out) {
  std::array<std::uint8_t, kMaxControlPayload> payload{};
  payload[0] = static_cast<std::uint8_t>(code >> 8);
  payload[1] = static_cast<std::uint8_t>(code);
  const std::string_view kept = truncate_utf8(reason, kMaxCloseReason);
  if (!kept.empty()) { // an empty view may hold a null pointer, which memcpy must not see
    std::memcpy(payload.data() + 2, kept.data(), kept.size());
  }
  encode_frame(Opcode::close, std::span<const std::uint8_t>(payload.data(), 2 + kept.size()), mask_key, out);
}

// ---- server frames ------------------------------------------------------------

FrameDecoder::FrameDecoder(std::size_t max_message_size)
    : message_(max_message_size + kPadding, 0), max_message_size_(max_message_size) {}

const char* FrameDecoder::message_data() const noexcept { return reinterpret_cast<const char*>(message_.data()); }
std::size_t FrameDecoder::message_size() const noexcept { return message_size_; }
std::size_t FrameDecoder::message_capacity() const noexcept { return message_.size(); }
bool FrameDecoder::message_is_text() const noexcept { return message_is_text_; }
std::span<const std::uint8_t> FrameDecoder::control_payload() const noexcept {
  return {control_.data(), control_size_};
}
std::uint16_t FrameDecoder::close_code() const noexcept { return close_code_; }
std::string_view FrameDecoder::close_reason() const noexcept {
  if (control_size_ < 2) {
    return {};
  }
  return {reinterpret_cast<const char*>(control_.data()) + 2, control_size_ - 2};
}
std::string_view FrameDecoder::error() const noexcept { return error_; }

void FrameDecoder::reset() noexcept {
  message_size_ = 0;
  assembled_ = 0;
  control_size_ = 0;
  payload_remaining_ = 0;
  error_ = {};
  close_code_ = 1005;
  header_have_ = 0;
  header_need_ = 2;
  phase_ = Phase::header;
  failure_ = DecodeEvent::need_more;
  frame_opcode_ = Opcode::continuation;
  frame_fin_ = false;
  message_is_text_ = false;
  assembling_ = false;
  assembling_text_ = false;
  // Keeps the promise that the padding after the (empty) message is zero.
  std::memset(message_.data(), 0, kPadding);
}

DecodeEvent FrameDecoder::fail(DecodeEvent event, std::string_view why) noexcept {
  phase_ = Phase::failed;
  failure_ = event;
  error_ = why;
  return event;
}

// Validates everything the first two bytes say, so that a bad frame is
// refused before its length or payload is read.
DecodeEvent FrameDecoder::check_first_header_bytes() noexcept {
  const std::uint8_t b0 = header_[0];
  const std::uint8_t b1 = header_[1];
  if ((b0 & frame::kReservedBits) != 0) {
    return fail(DecodeEvent::protocol_error, "reserved bits set but no extension was negotiated");
  }
  const std::uint8_t opcode = b0 & frame::kOpcodeBits;
  if (!frame::is_known_opcode(opcode)) {
    return fail(DecodeEvent::protocol_error, "unknown opcode");
  }
  if ((b1 & frame::kMaskBit) != 0) {
    return fail(DecodeEvent::protocol_error, "server frame is masked");
  }
  frame_opcode_ = static_cast<Opcode>(opcode);
  frame_fin_ = (b0 & frame::kFinBit) != 0;
  const std::uint8_t length7 = b1 & frame::kLengthBits;
  if (is_control(frame_opcode_)) {
    if (!frame_fin_) {
      return fail(DecodeEvent::protocol_error, "fragmented control frame");
    }
    if (length7 > kMaxControlPayload) {
      return fail(DecodeEvent::protocol_error, "control frame payload longer than 125 bytes");
    }
  } else if (frame_opcode_ == Opcode::continuation) {
    if (!assembling_) {
      return fail(DecodeEvent::protocol_error, "continuation frame without a message in progress");
    }
  } else if (assembling_) {
    return fail(DecodeEvent::protocol_error, "new data frame while a fragmented message is in progress");
  }
  // 2, 4 or 10: the mask bit is clear, so no mask key follows.
  header_need_ = static_cast<std::uint8_t>(frame::header_size(b1));
  return DecodeEvent::need_more;
}

// The header is complete: decodes the length and admits the payload.
DecodeEvent FrameDecoder::start_payload() noexcept {
  const std::uint64_t length = frame::payload_length(header_);
  if ((length >> 63) != 0) { // only a 64-bit length can have it
    return fail(DecodeEvent::protocol_error, "64-bit payload length has its most significant bit set");
  }
  // Lengths in a longer form than needed are accepted: RFC 6455 5.2 asks
  // senders for the minimal form, but refusing it gains nothing.

  if (is_control(frame_opcode_)) {
    control_size_ = 0;
  } else {
    if (frame_opcode_ != Opcode::continuation) {
      assembling_ = true;
      assembling_text_ = frame_opcode_ == Opcode::text;
      assembled_ = 0;
    }
    // Checked on the header, before any byte is copied, and across fragments.
    if (length > max_message_size_ - assembled_) {
      return fail(DecodeEvent::message_too_big, "message longer than max_message_size");
    }
  }
  payload_remaining_ = length;
  phase_ = Phase::payload;
  return DecodeEvent::need_more;
}

DecodeEvent FrameDecoder::finish_close() noexcept {
  if (control_size_ == 0) {
    close_code_ = 1005; // RFC 6455 7.1.5: no status code was present
    return DecodeEvent::close;
  }
  if (control_size_ == 1) {
    return fail(DecodeEvent::protocol_error, "close frame payload of 1 byte");
  }
  const auto code = static_cast<std::uint16_t>((control_[0] << 8) | control_[1]);
  if (!is_sendable_close_code(code)) {
    return fail(DecodeEvent::protocol_error, "close frame status code not allowed on the wire");
  }
  close_code_ = code;
  return DecodeEvent::close;
}

DecodeEvent FrameDecoder::finish_frame() noexcept {
  phase_ = Phase::header;
  header_have_ = 0;
  header_need_ = 2;
  switch (frame_opcode_) {
  case Opcode::ping:
    return DecodeEvent::ping;
  case Opcode::pong:
    return DecodeEvent::pong;
  case Opcode::close:
    return finish_close();
  case Opcode::continuation:
  case Opcode::text:
  case Opcode::binary:
    break;
  }
  if (!frame_fin_) {
    return DecodeEvent::need_more;
  }
  assembling_ = false;
  message_size_ = assembled_;
  message_is_text_ = assembling_text_;
  // A shorter message may follow a longer one, so the padding is rewritten
  // each time rather than once at construction.
  std::memset(message_.data() + message_size_, 0, kPadding);
  return DecodeEvent::message;
}

DecodeEvent FrameDecoder::decode(std::span<const std::uint8_t> input, std::size_t& consumed) noexcept {
  consumed = 0;
  if (phase_ == Phase::failed) {
    return failure_;
  }
  for (;;) {
    if (phase_ == Phase::header) {
      // Header bytes are taken one at a time: at most 10 per frame, and it
      // makes a header split across reads the same as a contiguous one.
      while (header_have_ < header_need_) {
        if (consumed == input.size()) {
          return DecodeEvent::need_more;
        }
        header_[header_have_++] = input[consumed++];
        if (header_have_ == 2) {
          if (check_first_header_bytes() != DecodeEvent::need_more) {
            return failure_;
          }
        }
      }
      if (start_payload() != DecodeEvent::need_more) {
        return failure_;
      }
    } else {
      if (payload_remaining_ != 0) {
        if (consumed == input.size()) {
          return DecodeEvent::need_more;
        }
        const std::size_t available = input.size() - consumed;
        const std::size_t take =
            payload_remaining_ < available ? static_cast<std::size_t>(payload_remaining_) : available;
        // Server frames are unmasked, so the payload is copied as it is.
        if (is_control(frame_opcode_)) {
          std::memcpy(control_.data() + control_size_, input.data() + consumed, take);
          control_size_ += take;
        } else {
          std::memcpy(message_.data() + assembled_, input.data() + consumed, take);
          assembled_ += take;
        }
        consumed += take;
        payload_remaining_ -= take;
      }
      if (payload_remaining_ == 0) {
        const DecodeEvent event = finish_frame();
        if (event != DecodeEvent::need_more) {
          return event;
        }
      }
    }
  }
}

} // namespace synthusd::feeds::websocket
