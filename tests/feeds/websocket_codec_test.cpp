// The WebSocket handshake and client frame encoding (RFC 6455).
#include "synthusd/feeds/websocket_codec.hpp"

#include "websocket_codec_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace synthusd::feeds::websocket {
namespace {

using namespace codec_test;

// ---- handshake ----------------------------------------------------------------

constexpr std::string_view kRfcKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kRfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

std::string response(std::string_view headers) {
  return "HTTP/1.1 101 Switching Protocols\r\n" + std::string(headers) + "\r\n";
}

std::string good_headers() {
  return "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + std::string(kRfcAccept) + "\r\n";
}

TEST(WebSocketHandshakeTest, ComputesTheRfcSampleAccept) {
  EXPECT_EQ(expected_accept(kRfcKey), kRfcAccept); // RFC 6455 1.3
}

TEST(WebSocketHandshakeTest, MakesKeyFromSixteenBytes) {
  // The RFC's sample key is the base64 of "the sample nonce".
  const std::string_view nonce = "the sample nonce";
  std::array<std::uint8_t, 16> random{};
  std::copy(nonce.begin(), nonce.end(), random.begin());
  EXPECT_EQ(make_key(random), kRfcKey);
}

TEST(WebSocketHandshakeTest, BuildsUpgradeRequest) {
  EXPECT_EQ(upgrade_request("ws.okx.com", 443, "/ws/v5/public", kRfcKey),
            "GET /ws/v5/public HTTP/1.1\r\n"
            "Host: ws.okx.com\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "\r\n");
  EXPECT_NE(upgrade_request("localhost", 80, "/", kRfcKey).find("\r\nHost: localhost\r\n"), std::string::npos);
  EXPECT_NE(upgrade_request("stream.bybit.com", 9443, "/v5/public/linear?x=1", kRfcKey)
                .find("GET /v5/public/linear?x=1 HTTP/1.1\r\nHost: stream.bybit.com:9443\r\n"),
            std::string::npos);
  EXPECT_NE(upgrade_request("::1", 8080, "", kRfcKey).find("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n"),
            std::string::npos);
}

TEST(WebSocketHandshakeTest, AcceptsTheRfcResponseAndCountsOnlyTheHeader) {
  const std::string header = response(good_headers());
  const std::string received = header + "\x81\x05Hello";
  const HandshakeResult result = check_upgrade_response(received, kRfcKey);
  EXPECT_EQ(result.status, HandshakeStatus::accepted) << result.reason;
  EXPECT_EQ(result.consumed, header.size());
  EXPECT_TRUE(result.reason.empty());
}

TEST(WebSocketHandshakeTest, IsIncompleteUntilTheBlankLine) {
  const std::string header = response(good_headers());
  for (std::size_t size = 0; size < header.size(); ++size) {
    const HandshakeResult result = check_upgrade_response(std::string_view(header).substr(0, size), kRfcKey);
    EXPECT_EQ(result.status, HandshakeStatus::incomplete) << size;
    EXPECT_EQ(result.consumed, 0u);
  }
  EXPECT_EQ(check_upgrade_response(header, kRfcKey).status, HandshakeStatus::accepted);
}

TEST(WebSocketHandshakeTest, ReadsHeaderNamesCaseInsensitivelyAndConnectionTokenLists) {
  const std::string received = response("server: nginx\r\nUPGRADE: WebSocket\r\n"
                                        "connection: keep-alive, Upgrade\r\n"
                                        "sec-websocket-accept:   " +
                                        std::string(kRfcAccept) + " \r\n");
  const HandshakeResult result = check_upgrade_response(received, kRfcKey);
  EXPECT_EQ(result.status, HandshakeStatus::accepted) << result.reason;
}

void expect_rejected(const std::string& received, std::string_view reason_contains) {
  const HandshakeResult result = check_upgrade_response(received, kRfcKey);
  EXPECT_EQ(result.status, HandshakeStatus::rejected) << received;
  EXPECT_NE(result.reason.find(reason_contains), std::string::npos) << result.reason;
}

TEST(WebSocketHandshakeTest, RejectsWrongAccept) {
  expect_rejected(response("Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOO=\r\n"),
                  "Sec-WebSocket-Accept");
}

TEST(WebSocketHandshakeTest, RejectsNon101Status) {
  expect_rejected("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 200 OK");
  expect_rejected("HTTP/1.1 1010 Nope\r\n" + good_headers() + "\r\n", "status line");
  expect_rejected("HTTP/1.0 101 Switching Protocols\r\n" + good_headers() + "\r\n", "status line");
  const HandshakeResult result = check_upgrade_response("HTTP/1.1 403 Forbidden\r\n\r\n<html>", kRfcKey);
  EXPECT_EQ(result.consumed, std::string_view("HTTP/1.1 403 Forbidden\r\n\r\n").size());
}

TEST(WebSocketHandshakeTest, RejectsMissingHeaders) {
  const std::string accept = "Sec-WebSocket-Accept: " + std::string(kRfcAccept) + "\r\n";
  expect_rejected(response("Connection: Upgrade\r\n" + accept), "Upgrade: websocket");
  expect_rejected(response("Upgrade: h2c\r\nConnection: Upgrade\r\n" + accept), "Upgrade: websocket");
  expect_rejected(response("Upgrade: websocket\r\n" + accept), "Connection: Upgrade");
  expect_rejected(response("Upgrade: websocket\r\nConnection: keep-alive\r\n" + accept), "Connection: Upgrade");
  expect_rejected(response("Upgrade: websocket\r\nConnection: Upgrade\r\n"), "missing Sec-WebSocket-Accept");
}

TEST(WebSocketHandshakeTest, RejectsUnofferedExtensionsAndMalformedLines) {
  expect_rejected(response(good_headers() + "Sec-WebSocket-Extensions: permessage-deflate\r\n"), "extension");
  expect_rejected(response(good_headers() + "Sec-WebSocket-Protocol: chat\r\n"), "subprotocol");
  expect_rejected(response(good_headers() + "no colon here\r\n"), "malformed header line");
}

TEST(WebSocketHandshakeTest, RejectsOversizedHeader) {
  const std::string endless =
      "HTTP/1.1 101 Switching Protocols\r\nX-Filler: " + std::string(std::size_t{16} * 1024, 'a');
  expect_rejected(endless, "16384");
  expect_rejected(response(good_headers() + "X-Filler: " + std::string(std::size_t{16} * 1024, 'a') + "\r\n"), "16384");
}

// ---- client frames --------------------------------------------------------------

TEST(WebSocketEncoderTest, MasksTheRfcSample) {
  // RFC 6455 5.7: a single-frame masked text message "Hello".
  Bytes out;
  encode_frame(Opcode::text, bytes("Hello"), 0x37fa213d, out);
  EXPECT_EQ(out, bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
}

TEST(WebSocketEncoderTest, AppendsAfterExistingBytes) {
  Bytes out = bytes({0xAA});
  encode_frame(Opcode::ping, {}, 0x01020304, out);
  EXPECT_EQ(out, bytes({0xAA, 0x89, 0x80, 0x01, 0x02, 0x03, 0x04}));
}

// Unmasks a client frame the way a server would, checking its header.
Bytes unmask(const Bytes& frame, std::size_t expected_header_size, std::uint8_t expected_opcode) {
  EXPECT_EQ(frame[0], 0x80 | expected_opcode);
  EXPECT_EQ(frame[1] & 0x80, 0x80);
  const std::uint8_t* mask = frame.data() + expected_header_size - 4;
  Bytes payload(frame.begin() + static_cast<std::ptrdiff_t>(expected_header_size), frame.end());
  for (std::size_t i = 0; i < payload.size(); ++i) {
    payload[i] ^= mask[i % 4];
  }
  return payload;
}

TEST(WebSocketEncoderTest, EncodesEachLengthForm) {
  for (const std::size_t size : {0u, 1u, 125u, 126u, 65535u, 65536u, 70000u}) {
    Bytes payload(size);
    for (std::size_t i = 0; i < size; ++i) {
      payload[i] = static_cast<std::uint8_t>(i * 7 + 3);
    }
    Bytes out;
    encode_frame(Opcode::binary, payload, 0xdeadbeef, out);
    std::size_t header = 0;
    if (size <= 125) {
      header = 6;
      EXPECT_EQ(out[1], 0x80 | size);
    } else if (size <= 65535) {
      header = 8;
      EXPECT_EQ(out[1], 0x80 | 126);
      EXPECT_EQ((std::size_t{out[2]} << 8) | out[3], size);
    } else {
      header = 14;
      EXPECT_EQ(out[1], 0x80 | 127);
      std::uint64_t length = 0;
      for (int i = 2; i < 10; ++i) {
        length = (length << 8) | out[static_cast<std::size_t>(i)];
      }
      EXPECT_EQ(length, size);
    }
    ASSERT_EQ(out.size(), header + size) << size;
    EXPECT_EQ(bytes({out[header - 4], out[header - 3], out[header - 2], out[header - 1]}),
              bytes({0xde, 0xad, 0xbe, 0xef}));
    EXPECT_EQ(unmask(out, header, 0x2), payload) << size;
  }
}

TEST(WebSocketEncoderTest, EncodesCloseWithCodeAndReason) {
  Bytes out;
  encode_close(1000, "bye", 0, out); // a zero mask leaves the payload readable
  EXPECT_EQ(out, bytes({0x88, 0x85, 0, 0, 0, 0, 0x03, 0xe8, 'b', 'y', 'e'}));
}

TEST(WebSocketEncoderTest, EncodesCloseWithADefaultConstructedEmptyReason) {
  // string_view{} holds a null pointer: copying zero bytes from it must not
  // reach memcpy (UBSan flags it)
  std::vector<std::uint8_t> out;
  encode_close(1000, std::string_view{}, 0, out);
  ASSERT_EQ(out.size(), 2u + 4u + 2u);
  EXPECT_EQ(out[0], 0x88);
  EXPECT_EQ(out[1], 0x82);
  EXPECT_EQ(out[6], 0x03); // 1000 = 0x03e8, masked with a zero key
  EXPECT_EQ(out[7], 0xe8);
}

TEST(WebSocketEncoderTest, TruncatesCloseReasonTo123BytesOnACharacterBoundary) {
  Bytes out;
  encode_close(1001, std::string(200, 'x'), 0x11223344, out);
  EXPECT_EQ(out[1], 0x80 | 125);
  Bytes payload = unmask(out, 6, 0x8);
  EXPECT_EQ(payload.size(), 125u);
  EXPECT_EQ(payload[0], 0x03);
  EXPECT_EQ(payload[1], 0xe9);

  // 122 ASCII bytes then "é" (2 bytes): cutting at 123 would split it.
  out.clear();
  encode_close(1000, std::string(122, 'x') + "\xc3\xa9", 0, out);
  payload = unmask(out, 6, 0x8);
  EXPECT_EQ(payload.size(), 2u + 122u);
}

// ---- server frames: RFC 6455 5.7 examples ------------------------------------------

} // namespace
} // namespace synthusd::feeds::websocket
