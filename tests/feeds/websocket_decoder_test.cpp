// The WebSocket server frame decoder (RFC 6455): events, close frames,
// protocol errors, size limits, splitting and allocation.
#include "synthusd/feeds/websocket_codec.hpp"

#include "support/allocation_counter.hpp"
#include "websocket_codec_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace synthusd::feeds::websocket {
namespace {

using namespace codec_test;

enum class LengthForm { minimal, force16, force64 };

// An unmasked server frame, its length in the minimal or a forced form.
Bytes server_frame(bool fin, std::uint8_t opcode, const Bytes& payload, LengthForm form = LengthForm::minimal) {
  Bytes out;
  out.push_back(static_cast<std::uint8_t>((fin ? 0x80 : 0x00) | opcode));
  const std::uint64_t size = payload.size();
  if (form == LengthForm::minimal && size <= 125) {
    out.push_back(static_cast<std::uint8_t>(size));
  } else if (form != LengthForm::force64 && size <= 0xFFFF) {
    out.push_back(126);
    out.push_back(static_cast<std::uint8_t>(size >> 8));
    out.push_back(static_cast<std::uint8_t>(size));
  } else {
    out.push_back(127);
    for (int shift = 56; shift >= 0; shift -= 8) {
      out.push_back(static_cast<std::uint8_t>(size >> shift));
    }
  }
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& part : parts) {
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

// What one decode event carried, copied out so that events can be compared.
struct Event {
  DecodeEvent kind = DecodeEvent::need_more;
  std::string payload; // message, control payload, or error text
  bool text = false;
  std::uint16_t close_code = 0;
  std::string close_reason;

  bool operator==(const Event&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Event& e) {
  return os << "{kind=" << static_cast<int>(e.kind) << " payload.size=" << e.payload.size() << " text=" << e.text
            << " code=" << e.close_code << " reason=" << e.close_reason << "}";
}

Event capture(const FrameDecoder& decoder, DecodeEvent kind) {
  Event e;
  e.kind = kind;
  switch (kind) {
  case DecodeEvent::message: {
    e.payload.assign(decoder.message_data(), decoder.message_size());
    e.text = decoder.message_is_text();
    // The padding promise is checked on every message.
    EXPECT_GE(decoder.message_capacity(), decoder.message_size() + kPadding);
    const char* padding = decoder.message_data() + decoder.message_size();
    EXPECT_TRUE(std::all_of(padding, padding + kPadding, [](char c) { return c == 0; }));
    break;
  }
  case DecodeEvent::ping:
  case DecodeEvent::pong:
    e.payload.assign(decoder.control_payload().begin(), decoder.control_payload().end());
    break;
  case DecodeEvent::close:
    e.payload.assign(decoder.control_payload().begin(), decoder.control_payload().end());
    e.close_code = decoder.close_code();
    e.close_reason = std::string(decoder.close_reason());
    break;
  case DecodeEvent::protocol_error:
  case DecodeEvent::message_too_big:
    e.payload = std::string(decoder.error());
    break;
  case DecodeEvent::need_more:
    break;
  }
  return e;
}

bool is_failure(DecodeEvent kind) {
  return kind == DecodeEvent::protocol_error || kind == DecodeEvent::message_too_big;
}

// Feeds `stream` in chunks of the sizes `next_chunk` returns, collecting every
// event up to the end or the first failure.
template <typename NextChunk>
std::vector<Event> decode_chunked(FrameDecoder& decoder, const Bytes& stream, NextChunk next_chunk) {
  std::vector<Event> events;
  std::size_t offset = 0;
  while (offset < stream.size()) {
    const std::size_t chunk = std::min(next_chunk(), stream.size() - offset);
    std::size_t fed = 0;
    while (fed < chunk) {
      std::size_t consumed = 0;
      const DecodeEvent kind =
          decoder.decode(std::span<const std::uint8_t>(stream.data() + offset + fed, chunk - fed), consumed);
      EXPECT_LE(consumed, chunk - fed);
      fed += consumed;
      if (kind == DecodeEvent::need_more) {
        EXPECT_EQ(fed, chunk);
        break;
      }
      events.push_back(capture(decoder, kind));
      if (is_failure(kind)) {
        return events;
      }
    }
    offset += chunk;
  }
  return events;
}

std::vector<Event> decode_all(const Bytes& stream, std::size_t max_message_size = 1 << 20) {
  FrameDecoder decoder(max_message_size);
  return decode_chunked(decoder, stream, [&] { return stream.size(); });
}

std::vector<Event> decode_bytewise(const Bytes& stream, std::size_t max_message_size = 1 << 20) {
  FrameDecoder decoder(max_message_size);
  return decode_chunked(decoder, stream, [] { return std::size_t{1}; });
}

Event message(std::string_view payload, bool text) { return {DecodeEvent::message, std::string(payload), text, 0, {}}; }
Event control(DecodeEvent kind, std::string_view payload) { return {kind, std::string(payload), false, 0, {}}; }

// Decodes `stream` whole and byte by byte; both must end in a `kind` failure
// whose reason mentions `why_contains`.
void expect_failure(const Bytes& stream, DecodeEvent kind, std::string_view why_contains,
                    std::size_t max_message_size = 1 << 20) {
  for (const auto& events : {decode_all(stream, max_message_size), decode_bytewise(stream, max_message_size)}) {
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().kind, kind);
    EXPECT_NE(events.back().payload.find(why_contains), std::string::npos) << events.back().payload;
  }
}

TEST(WebSocketDecoderTest, DecodesSingleFrameUnmaskedText) {
  const Bytes stream = bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
  FrameDecoder decoder(1024);
  std::size_t consumed = 0;
  ASSERT_EQ(decoder.decode(stream, consumed), DecodeEvent::message);
  EXPECT_EQ(consumed, stream.size());
  EXPECT_EQ(std::string_view(decoder.message_data(), decoder.message_size()), "Hello");
  EXPECT_TRUE(decoder.message_is_text());
  EXPECT_EQ(decoder.decode({}, consumed), DecodeEvent::need_more);
  EXPECT_EQ(consumed, 0u);
}

TEST(WebSocketDecoderTest, DecodesFragmentedText) {
  const Bytes stream = bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f});
  EXPECT_EQ(decode_all(stream), std::vector<Event>{message("Hello", true)});
  EXPECT_EQ(decode_bytewise(stream), std::vector<Event>{message("Hello", true)});
}

TEST(WebSocketDecoderTest, DecodesUnmaskedPingAndPong) {
  const Bytes stream = concat({bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), bytes({0x8a, 0x00})});
  EXPECT_EQ(decode_all(stream),
            (std::vector<Event>{control(DecodeEvent::ping, "Hello"), control(DecodeEvent::pong, "")}));
}

TEST(WebSocketDecoderTest, DecodesBinaryWith16And64BitLengths) {
  Bytes binary256(256);
  for (std::size_t i = 0; i < binary256.size(); ++i) {
    binary256[i] = static_cast<std::uint8_t>(i);
  }
  const Bytes frame256 = server_frame(true, 0x2, binary256);
  EXPECT_EQ(Bytes(frame256.begin(), frame256.begin() + 4), bytes({0x82, 0x7E, 0x01, 0x00}));

  Bytes binary64k(65536);
  for (std::size_t i = 0; i < binary64k.size(); ++i) {
    binary64k[i] = static_cast<std::uint8_t>(i * 31);
  }
  const Bytes frame64k = server_frame(true, 0x2, binary64k);
  EXPECT_EQ(Bytes(frame64k.begin(), frame64k.begin() + 10),
            bytes({0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}));

  const std::vector<Event> expected{message(std::string(binary256.begin(), binary256.end()), false),
                                    message(std::string(binary64k.begin(), binary64k.end()), false)};
  EXPECT_EQ(decode_all(concat({frame256, frame64k})), expected);
  EXPECT_EQ(decode_bytewise(concat({frame256, frame64k})), expected);
}

TEST(WebSocketDecoderTest, AcceptsNonMinimalLengths) {
  const Bytes stream = concat({server_frame(true, 0x1, bytes("a"), LengthForm::force16),
                               server_frame(true, 0x1, bytes("b"), LengthForm::force64)});
  EXPECT_EQ(decode_all(stream), (std::vector<Event>{message("a", true), message("b", true)}));
}

TEST(WebSocketDecoderTest, ReportsControlFramesBetweenFragments) {
  const Bytes stream = concat({server_frame(false, 0x2, bytes("ab")), server_frame(true, 0x9, bytes("p1")),
                               server_frame(false, 0x0, bytes("cd")), server_frame(true, 0xA, bytes("")),
                               server_frame(true, 0x9, bytes("p2")), server_frame(true, 0x0, bytes("ef"))});
  const std::vector<Event> expected{control(DecodeEvent::ping, "p1"), control(DecodeEvent::pong, ""),
                                    control(DecodeEvent::ping, "p2"), message("abcdef", false)};
  EXPECT_EQ(decode_all(stream), expected);
  EXPECT_EQ(decode_bytewise(stream), expected);
}

TEST(WebSocketDecoderTest, ConsumedStopsAfterTheFrameThatProducedTheEvent) {
  const Bytes first = server_frame(true, 0x1, bytes("one"));
  const Bytes stream = concat({first, server_frame(true, 0x1, bytes("two"))});
  FrameDecoder decoder(64);
  std::size_t consumed = 0;
  ASSERT_EQ(decoder.decode(stream, consumed), DecodeEvent::message);
  EXPECT_EQ(consumed, first.size());
  ASSERT_EQ(decoder.decode(std::span(stream).subspan(consumed), consumed), DecodeEvent::message);
  EXPECT_EQ(std::string_view(decoder.message_data(), decoder.message_size()), "two");
}

TEST(WebSocketDecoderTest, DecodesEmptyMessages) {
  const Bytes stream = concat({server_frame(true, 0x1, {}), server_frame(false, 0x2, {}), server_frame(true, 0x0, {})});
  EXPECT_EQ(decode_all(stream), (std::vector<Event>{message("", true), message("", false)}));
}

TEST(WebSocketDecoderTest, RezeroesPaddingAfterAShorterMessage) {
  const Bytes stream = concat({server_frame(true, 0x1, Bytes(200, 'x')), server_frame(true, 0x1, bytes("y"))});
  const std::vector<Event> events = decode_all(stream, 256); // capture() checks the padding
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1], message("y", true));
}

TEST(WebSocketDecoderTest, DecodesCloseWithCodeAndReason) {
  const Bytes stream = server_frame(true, 0x8, bytes({0x03, 0xe9, 'g', 'o', 'i', 'n', 'g'}));
  const std::vector<Event> events = decode_bytewise(stream);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, DecodeEvent::close);
  EXPECT_EQ(events[0].close_code, 1001);
  EXPECT_EQ(events[0].close_reason, "going");
  EXPECT_EQ(events[0].payload, std::string("\x03\xe9going"));
}

TEST(WebSocketDecoderTest, DecodesCloseWithoutPayloadAs1005) {
  const std::vector<Event> events = decode_all(server_frame(true, 0x8, {}));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, DecodeEvent::close);
  EXPECT_EQ(events[0].close_code, 1005);
  EXPECT_EQ(events[0].close_reason, "");
}

TEST(WebSocketDecoderTest, DecodesCloseBetweenFragments) {
  const Bytes stream = concat({server_frame(false, 0x1, bytes("a")), server_frame(true, 0x8, bytes({0x0f, 0xa0}))});
  const std::vector<Event> events = decode_all(stream);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].close_code, 4000);
}

// ---- server frames: protocol errors -------------------------------------------------

TEST(WebSocketDecoderTest, RejectsReservedBits) {
  for (const int rsv : {0x40, 0x20, 0x10, 0x70}) {
    expect_failure(bytes({0x81 | rsv, 0x00}), DecodeEvent::protocol_error, "reserved bits");
  }
}

TEST(WebSocketDecoderTest, RejectsUnknownOpcodes) {
  for (const int opcode : {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    expect_failure(bytes({0x80 | opcode, 0x00}), DecodeEvent::protocol_error, "unknown opcode");
  }
}

TEST(WebSocketDecoderTest, RejectsMaskedServerFrames) {
  expect_failure(bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}), DecodeEvent::protocol_error,
                 "masked");
}

TEST(WebSocketDecoderTest, RejectsFragmentedControlFrames) {
  for (const int opcode : {0x8, 0x9, 0xA}) {
    expect_failure(bytes({opcode, 0x00}), DecodeEvent::protocol_error, "fragmented control frame");
  }
}

TEST(WebSocketDecoderTest, RejectsControlPayloadOver125Bytes) {
  expect_failure(server_frame(true, 0x9, Bytes(126, 'x')), DecodeEvent::protocol_error, "125");
  // The 126/127 length escapes are over 125 too, even for a short payload.
  expect_failure(server_frame(true, 0xA, bytes("x"), LengthForm::force16), DecodeEvent::protocol_error, "125");
  // 125 itself is fine.
  EXPECT_EQ(decode_all(server_frame(true, 0x9, Bytes(125, 'x'))),
            std::vector<Event>{control(DecodeEvent::ping, std::string(125, 'x'))});
}

TEST(WebSocketDecoderTest, RejectsContinuationWithoutAMessage) {
  expect_failure(server_frame(true, 0x0, bytes("x")), DecodeEvent::protocol_error, "continuation");
  expect_failure(concat({server_frame(true, 0x1, bytes("done")), server_frame(false, 0x0, bytes("x"))}),
                 DecodeEvent::protocol_error, "continuation");
}

TEST(WebSocketDecoderTest, RejectsNewDataFrameInsideAFragmentedMessage) {
  for (const std::uint8_t opcode : {0x1, 0x2}) {
    expect_failure(concat({server_frame(false, 0x1, bytes("a")), server_frame(true, opcode, bytes("b"))}),
                   DecodeEvent::protocol_error, "in progress");
  }
}

TEST(WebSocketDecoderTest, RejectsSixtyFourBitLengthWithTopBitSet) {
  expect_failure(bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0x01}), DecodeEvent::protocol_error,
                 "most significant bit");
}

TEST(WebSocketDecoderTest, RejectsOneByteClosePayloadAndUnsendableCodes) {
  expect_failure(server_frame(true, 0x8, bytes({0x03})), DecodeEvent::protocol_error, "1 byte");
  for (const int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
    expect_failure(server_frame(true, 0x8, bytes({code >> 8, code & 0xFF})), DecodeEvent::protocol_error,
                   "status code");
  }
  for (const int code : {1000, 1003, 1007, 1011, 1014, 3000, 4999}) {
    const std::vector<Event> events = decode_all(server_frame(true, 0x8, bytes({code >> 8, code & 0xFF})));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].close_code, code);
  }
}

TEST(WebSocketDecoderTest, FailureIsFinalUntilReset) {
  const Bytes stream = concat({bytes({0xC1, 0x00}), server_frame(true, 0x1, bytes("after"))});
  FrameDecoder decoder(64);
  std::size_t consumed = 0;
  ASSERT_EQ(decoder.decode(stream, consumed), DecodeEvent::protocol_error);
  EXPECT_EQ(consumed, 2u); // up to the byte that revealed the fault
  EXPECT_FALSE(decoder.error().empty());
  EXPECT_EQ(decoder.decode(std::span(stream).subspan(2), consumed), DecodeEvent::protocol_error);
  EXPECT_EQ(consumed, 0u);

  decoder.reset();
  EXPECT_TRUE(decoder.error().empty());
  ASSERT_EQ(decoder.decode(std::span(stream).subspan(2), consumed), DecodeEvent::message);
  EXPECT_EQ(std::string_view(decoder.message_data(), decoder.message_size()), "after");
}

TEST(WebSocketDecoderTest, ResetDropsAPartialMessage) {
  FrameDecoder decoder(64);
  std::size_t consumed = 0;
  const Bytes partial = concat({server_frame(false, 0x1, bytes("stale")), bytes({0x80, 0x05, 'x'})});
  ASSERT_EQ(decoder.decode(partial, consumed), DecodeEvent::need_more);
  decoder.reset();
  EXPECT_EQ(decoder.message_size(), 0u);
  EXPECT_EQ(std::count(decoder.message_data(), decoder.message_data() + kPadding, '\0'), std::ptrdiff_t{kPadding});
  EXPECT_EQ(decode_chunked(decoder, server_frame(true, 0x1, bytes("fresh")), [] { return std::size_t{100}; }),
            std::vector<Event>{message("fresh", true)});
}

// ---- server frames: message size -----------------------------------------------------

TEST(WebSocketDecoderTest, AcceptsAMessageOfExactlyTheMaximum) {
  const Bytes stream = concat({server_frame(false, 0x2, Bytes(60, 'a')), server_frame(true, 0x0, Bytes(4, 'b'))});
  const std::vector<Event> events = decode_bytewise(stream, 64);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].payload.size(), 64u);
}

TEST(WebSocketDecoderTest, RejectsTooBigSingleFrameBeforeCopying) {
  const Bytes stream = server_frame(true, 0x2, Bytes(65, 'a'));
  expect_failure(stream, DecodeEvent::message_too_big, "max_message_size", 64);
  FrameDecoder decoder(64);
  std::size_t consumed = 0;
  ASSERT_EQ(decoder.decode(stream, consumed), DecodeEvent::message_too_big);
  EXPECT_EQ(consumed, 2u); // the header only: no payload byte was taken
}

TEST(WebSocketDecoderTest, RejectsTooBigAcrossFragments) {
  const Bytes stream = concat({server_frame(false, 0x1, Bytes(40, 'a')), server_frame(true, 0x9, bytes("ping")),
                               server_frame(false, 0x0, Bytes(20, 'b')), server_frame(true, 0x0, Bytes(5, 'c'))});
  for (const auto& events : {decode_all(stream, 64), decode_bytewise(stream, 64)}) {
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0], control(DecodeEvent::ping, "ping"));
    EXPECT_EQ(events[1].kind, DecodeEvent::message_too_big);
  }
}

TEST(WebSocketDecoderTest, RejectsHugeSixtyFourBitLength) {
  expect_failure(bytes({0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}), DecodeEvent::message_too_big,
                 "max_message_size");
}

// ---- server frames: splitting and allocation -------------------------------------------

// A seeded random stream of data messages, fragmented at random, with control
// frames between fragments and lengths across all three length forms.
Bytes random_stream(std::mt19937& rng, std::vector<Event>& expected, std::size_t max_message_size) {
  Bytes stream;
  auto random_bytes = [&](std::size_t size) {
    Bytes out(size);
    for (std::uint8_t& b : out) {
      b = static_cast<std::uint8_t>(rng());
    }
    return out;
  };
  auto random_size = [&](std::size_t limit) -> std::size_t {
    // Mostly small, sometimes around the 125/126 and 65535/65536 boundaries.
    switch (rng() % 8) {
    case 0:
      return std::min<std::size_t>(limit, 124 + rng() % 4);
    case 1:
      return std::min<std::size_t>(limit, 65534 + rng() % 4);
    case 2:
      return 0;
    default:
      return std::min<std::size_t>(limit, rng() % 300);
    }
  };
  auto control_frame = [&] {
    const std::uint8_t opcode = rng() % 2 == 0 ? 0x9 : 0xA;
    const Bytes payload = random_bytes(rng() % 126);
    const Bytes frame = server_frame(true, opcode, payload);
    stream.insert(stream.end(), frame.begin(), frame.end());
    expected.push_back(
        control(opcode == 0x9 ? DecodeEvent::ping : DecodeEvent::pong, std::string(payload.begin(), payload.end())));
  };
  for (int m = 0; m < 60; ++m) {
    const bool text = rng() % 2 == 0;
    const int fragments = 1 + static_cast<int>(rng() % 4);
    std::string whole;
    for (int f = 0; f < fragments; ++f) {
      const Bytes payload = random_bytes(random_size(max_message_size - whole.size()));
      whole.append(payload.begin(), payload.end());
      const std::uint8_t opcode = f == 0 ? (text ? 0x1 : 0x2) : 0x0;
      const LengthForm form = rng() % 10 == 0 ? LengthForm::force64 : LengthForm::minimal;
      const Bytes frame = server_frame(f == fragments - 1, opcode, payload, form);
      stream.insert(stream.end(), frame.begin(), frame.end());
      if (f == fragments - 1) {
        expected.push_back(message(whole, text));
      }
      if (rng() % 3 == 0) {
        control_frame();
      }
    }
  }
  const Bytes close = server_frame(true, 0x8, bytes({0x03, 0xe8, 'o', 'k'}));
  stream.insert(stream.end(), close.begin(), close.end());
  expected.push_back({DecodeEvent::close, std::string("\x03\xe8ok"), false, 1000, "ok"});
  return stream;
}

TEST(WebSocketDecoderTest, AnySplitOfARandomStreamGivesTheSameEvents) {
  constexpr std::size_t kMax = 200'000;
  std::mt19937 rng(20240611);
  std::vector<Event> expected;
  const Bytes stream = random_stream(rng, expected, kMax);

  const std::vector<Event> one_shot = decode_all(stream, kMax);
  EXPECT_EQ(one_shot, expected);
  EXPECT_EQ(decode_bytewise(stream, kMax), one_shot);
  for (int round = 0; round < 5; ++round) {
    FrameDecoder decoder(kMax);
    EXPECT_EQ(decode_chunked(decoder, stream, [&] { return std::size_t{1} + rng() % 97; }), one_shot);
  }
}

TEST(WebSocketDecoderTest, DecodeNeitherAllocatesNorThrows) {
  constexpr std::size_t kMax = 200'000;
  std::mt19937 rng(7);
  std::vector<Event> expected;
  const Bytes stream = random_stream(rng, expected, kMax);
  FrameDecoder decoder(kMax);
  std::size_t consumed = 0;
  static_assert(noexcept(decoder.decode(stream, consumed)));

  const std::int64_t before = test_support::allocation_count();
  std::size_t offset = 0;
  int events = 0;
  while (offset < stream.size()) {
    const std::size_t chunk = std::min<std::size_t>(1 + offset % 1500, stream.size() - offset);
    if (decoder.decode(std::span(stream).subspan(offset, chunk), consumed) != DecodeEvent::need_more) {
      ++events;
    }
    offset += consumed;
  }
  EXPECT_EQ(test_support::allocation_count() - before, 0);
  EXPECT_EQ(events, static_cast<int>(expected.size()));
}

} // namespace
} // namespace synthusd::feeds::websocket
