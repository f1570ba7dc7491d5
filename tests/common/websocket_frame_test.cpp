// RFC 6455 5.2 frame headers and 5.3 masking, shared by the engine's client
// (tests/feeds/websocket_*) and the venue's server (tests/venue/ticker_feed_test).
#include "synthusd/common/websocket_frame.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

// Compiled as C++14 (tests/common/CMakeLists.txt), as fix/ and venue/'s
// QuickFIX code would include it: hence no nested namespace definition.
namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace common {   // NOLINT(modernize-concat-nested-namespaces)
namespace websocket {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes header(Opcode opcode, std::uint64_t payload_size, const std::uint8_t* mask_key) {
  Bytes out(kMaxHeaderSize, 0xEE);
  const std::size_t size = encode_header(opcode, payload_size, mask_key, out.data());
  EXPECT_EQ(size, encoded_header_size(payload_size, mask_key != nullptr));
  out.resize(size);
  return out;
}

// RFC 6455 5.7: "Hello", unmasked and masked with 37 fa 21 3d.
TEST(WebSocketFrameTest, EncodesTheRfcExamples) {
  EXPECT_EQ(header(Opcode::text, 5, nullptr), (Bytes{0x81, 0x05}));
  const std::uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
  EXPECT_EQ(header(Opcode::text, 5, mask), (Bytes{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d}));
  const Bytes hello = {'H', 'e', 'l', 'l', 'o'};
  Bytes masked(hello.size());
  apply_mask(hello.data(), hello.size(), mask, masked.data());
  EXPECT_EQ(masked, (Bytes{0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  apply_mask(masked.data(), masked.size(), mask, masked.data()); // in place, and twice unmasks
  EXPECT_EQ(masked, hello);
  EXPECT_EQ(header(Opcode::ping, 0, nullptr), (Bytes{0x89, 0x00}));
}

TEST(WebSocketFrameTest, UsesTheShortestLengthForm) {
  EXPECT_EQ(header(Opcode::binary, 125, nullptr), (Bytes{0x82, 125}));
  EXPECT_EQ(header(Opcode::binary, 126, nullptr), (Bytes{0x82, 126, 0x00, 0x7E}));
  EXPECT_EQ(header(Opcode::binary, 65'535, nullptr), (Bytes{0x82, 126, 0xFF, 0xFF}));
  EXPECT_EQ(header(Opcode::binary, 65'536, nullptr), (Bytes{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}));
  const std::uint8_t mask[4] = {1, 2, 3, 4};
  EXPECT_EQ(header(Opcode::close, 0x0102030405060708ULL, mask),
            (Bytes{0x88, 0xFF, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4}));
}

TEST(WebSocketFrameTest, DecodesWhatItEncodes) {
  const std::uint8_t mask[4] = {9, 8, 7, 6};
  for (const std::uint64_t size : {0ULL, 1ULL, 125ULL, 126ULL, 65'535ULL, 65'536ULL, 1ULL << 40}) {
    for (const std::uint8_t* key : {static_cast<const std::uint8_t*>(nullptr), mask}) {
      const Bytes bytes = header(Opcode::text, size, key);
      EXPECT_EQ(header_size(bytes[1]), bytes.size()) << size;
      EXPECT_EQ(payload_length(bytes.data()), size);
    }
  }
  // A 64-bit length is returned as sent; refusing its top bit is the caller's rule.
  const Bytes top = {0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(payload_length(top.data()), 1ULL << 63);
}

TEST(WebSocketFrameTest, ClassifiesOpcodes) {
  for (int opcode = 0; opcode < 16; ++opcode) {
    const bool known = opcode == 0 || opcode == 1 || opcode == 2 || opcode == 8 || opcode == 9 || opcode == 10;
    EXPECT_EQ(is_known_opcode(static_cast<std::uint8_t>(opcode)), known) << opcode;
  }
  EXPECT_TRUE(is_control(Opcode::close));
  EXPECT_TRUE(is_control(Opcode::ping));
  EXPECT_TRUE(is_control(Opcode::pong));
  EXPECT_FALSE(is_control(Opcode::text));
  EXPECT_FALSE(is_control(Opcode::binary));
  EXPECT_FALSE(is_control(Opcode::continuation));
}

} // namespace
} // namespace websocket
} // namespace common
} // namespace synthusd
