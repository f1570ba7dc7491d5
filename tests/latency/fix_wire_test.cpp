#include "fix_wire.hpp"

#include <gtest/gtest.h>

#include <string>

namespace synthusd::latency::fix_wire {
namespace {

std::string built_order() {
  MessageBuilder builder;
  builder.start("D", "SYNTHUSD", "LATENCY", 7);
  builder.add(11, std::string_view("S42"));
  builder.add(38, std::int64_t{1960});
  return std::string(builder.finish());
}

TEST(LatencyFixWire, BuiltMessageCarriesItsBodyLengthAndCheckSum) {
  const std::string message = built_order();
  const std::size_t body_start = message.find('\x01') + 1;
  const std::size_t length_end = message.find('\x01', body_start);
  const std::size_t trailer = message.rfind("10=");
  EXPECT_EQ(std::stoul(message.substr(body_start + 2, length_end - body_start - 2)), trailer - length_end - 1);
  unsigned sum = 0;
  for (std::size_t i = 0; i < trailer; ++i) {
    sum += static_cast<unsigned char>(message[i]);
  }
  EXPECT_EQ(std::stoul(message.substr(trailer + 3, 3)), sum % 256);
  EXPECT_EQ(field(message, 35), "D");
  EXPECT_EQ(field(message, 34), "7");
  EXPECT_EQ(field(message, 11), "S42");
  EXPECT_EQ(field(message, 38), "1960");
  EXPECT_EQ(field(message, 44), "");
}

TEST(LatencyFixWire, SplitsAStreamIntoCompleteMessagesOnly) {
  const std::string message = built_order();
  const std::string stream = message + message;
  EXPECT_EQ(complete_message(stream), static_cast<std::ptrdiff_t>(message.size()));
  for (std::size_t cut = 0; cut < message.size(); ++cut) {
    ASSERT_EQ(complete_message(std::string_view(message).substr(0, cut)), 0) << "cut at " << cut;
  }
}

TEST(LatencyFixWire, RejectsAStreamThatIsNotFix) {
  EXPECT_EQ(complete_message("GET / HTTP/1.1\r\n"), -1);
  EXPECT_EQ(complete_message("8=FIX.4.4\x01"
                             "9=abc\x01"
                             "35=0\x01"),
            -1);
  std::string wrong_length = built_order();
  wrong_length.replace(wrong_length.find("\x01"
                                         "9=") +
                           3,
                       2, "10");
  EXPECT_EQ(complete_message(wrong_length + wrong_length), -1);
}

} // namespace
} // namespace synthusd::latency::fix_wire
