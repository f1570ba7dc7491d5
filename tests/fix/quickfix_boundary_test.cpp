// Compiled as C++20 while the code under test is C++14 and includes QuickFIX:
// that this file builds at all is the first test of the boundary.
#include "synthusd/fix/quickfix_boundary.hpp"

#include "synthusd/hedging/types.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

static_assert(__cplusplus >= 202002L, "this test must be built as C++20");
static_assert(synthusd::fix::kPriceScale == synthusd::hedging::Price::kScale);

namespace synthusd::fix {
namespace {

constexpr char kSoh = '\x01';

// 2022-05-13T16:27:05.123Z, millisecond aligned so it survives the wire.
constexpr std::int64_t kSendingTime = 1'652'459'225'123'000'000;

NewOrderSingle limit_order() {
  NewOrderSingle order;
  order.sender_comp_id = "SYNTHUSD";
  order.target_comp_id = "DERIBIT";
  order.message_sequence_number = 42;
  order.sending_time_nanoseconds = kSendingTime;
  order.client_order_id = "hedge-7";
  order.symbol = "BTC-PERPETUAL";
  order.side = OrderSide::sell;
  order.order_quantity = 1'250;
  order.order_type = OrderType::limit;
  order.price_e8 = 4'325'150'000'000; // 43251.5
  order.time_in_force = TimeInForce::immediate_or_cancel;
  return order;
}

NewOrderSingle market_order() {
  NewOrderSingle order = limit_order();
  order.side = OrderSide::buy;
  order.order_type = OrderType::market;
  order.price_e8 = 0;
  order.time_in_force = TimeInForce::good_till_cancel;
  return order;
}

using Fields = std::vector<std::pair<int, std::string>>;

// Splits "tag=value<SOH>..." without QuickFIX, so the checks below do not
// trust the library they are checking.
Fields split(const std::string& wire) {
  Fields fields;
  std::size_t position = 0;
  while (position < wire.size()) {
    const std::size_t equals = wire.find('=', position);
    const std::size_t soh = wire.find(kSoh, position);
    EXPECT_NE(equals, std::string::npos);
    EXPECT_NE(soh, std::string::npos);
    if (equals == std::string::npos || soh == std::string::npos || equals > soh) {
      break;
    }
    fields.emplace_back(std::stoi(wire.substr(position, equals - position)), wire.substr(equals + 1, soh - equals - 1));
    position = soh + 1;
  }
  return fields;
}

std::map<int, std::string> by_tag(const Fields& fields) {
  std::map<int, std::string> map;
  for (const auto& [tag, value] : fields) {
    EXPECT_TRUE(map.emplace(tag, value).second) << "duplicate tag " << tag;
  }
  return map;
}

// FIX checksum: byte sum of everything before "10=", modulo 256, 3 digits.
std::string checksum_of(const std::string& bytes) {
  unsigned sum = 0;
  for (unsigned char c : bytes) {
    sum += c;
  }
  char text[4];
  std::snprintf(text, sizeof text, "%03u", sum % 256);
  return text;
}

// Frames a body ("35=...<SOH>...") with its own BodyLength and CheckSum.
std::string frame(const std::string& begin_string, const std::string& body) {
  const std::string head = "8=" + begin_string + kSoh + "9=" + std::to_string(body.size()) + kSoh + body;
  return head + "10=" + checksum_of(head) + kSoh;
}

std::string soh(std::string text) {
  for (char& c : text) {
    if (c == '|') {
      c = kSoh;
    }
  }
  return text;
}

TEST(QuickfixBoundaryTest, EncodesLimitOrderAsExactWireBytes) {
  const std::string body = soh("35=D|34=42|49=SYNTHUSD|52=20220513-16:27:05.123|56=DERIBIT|"
                               "11=hedge-7|38=1250|40=2|44=43251.5|54=2|55=BTC-PERPETUAL|59=3|"
                               "60=20220513-16:27:05.123|");
  EXPECT_EQ(encode_new_order_single(limit_order()), frame("FIX.4.4", body));
}

TEST(QuickfixBoundaryTest, FramesWithValidBodyLengthAndCheckSum) {
  for (const NewOrderSingle& order : {limit_order(), market_order()}) {
    const std::string wire = encode_new_order_single(order);
    const Fields fields = split(wire);
    ASSERT_GE(fields.size(), 4U);
    EXPECT_EQ(fields[0], (std::pair<int, std::string>{8, "FIX.4.4"}));
    EXPECT_EQ(fields[1].first, 9);
    EXPECT_EQ(fields[2], (std::pair<int, std::string>{35, "D"}));
    EXPECT_EQ(fields.back().first, 10);

    const std::size_t body_begin = wire.find(kSoh, wire.find("9=")) + 1;
    const std::size_t trailer_begin = wire.rfind("10=");
    ASSERT_EQ(wire[trailer_begin - 1], kSoh);
    EXPECT_EQ(fields[1].second, std::to_string(trailer_begin - body_begin));
    EXPECT_EQ(fields.back().second, checksum_of(wire.substr(0, trailer_begin)));
  }
}

TEST(QuickfixBoundaryTest, WritesOrderFields) {
  const std::map<int, std::string> limit = by_tag(split(encode_new_order_single(limit_order())));
  EXPECT_EQ(limit.at(11), "hedge-7");
  EXPECT_EQ(limit.at(55), "BTC-PERPETUAL");
  EXPECT_EQ(limit.at(54), "2");
  EXPECT_EQ(limit.at(38), "1250");
  EXPECT_EQ(limit.at(40), "2");
  EXPECT_EQ(limit.at(44), "43251.5");
  EXPECT_EQ(limit.at(59), "3");
  EXPECT_EQ(limit.at(49), "SYNTHUSD");
  EXPECT_EQ(limit.at(56), "DERIBIT");
  EXPECT_EQ(limit.at(34), "42");

  const std::map<int, std::string> market = by_tag(split(encode_new_order_single(market_order())));
  EXPECT_EQ(market.at(54), "1");
  EXPECT_EQ(market.at(40), "1");
  EXPECT_EQ(market.at(59), "1");
  EXPECT_EQ(market.count(44), 0U) << "a market order carries no Price";
}

TEST(QuickfixBoundaryTest, WritesPricesAsExactDecimals) {
  const std::pair<std::int64_t, const char*> cases[] = {{4'325'100'000'000, "43251"},
                                                        {1, "0.00000001"},
                                                        {12'000, "0.00012"},
                                                        {-10'000, "-0.0001"},
                                                        {9'228'178'000'000, "92281.78"}};
  for (const auto& [price_e8, text] : cases) {
    NewOrderSingle order = limit_order();
    order.price_e8 = price_e8;
    EXPECT_EQ(by_tag(split(encode_new_order_single(order))).at(44), text);
  }
}

TEST(QuickfixBoundaryTest, RoundTripsEncodeThenParse) {
  NewOrderSingle large = limit_order();
  large.message_sequence_number = 3'000'000'000; // beyond QuickFIX 1.15.1's int MsgSeqNum
  large.order_quantity = 9'007'199'254'740'993;  // 2^53 + 1: would not survive a double
  large.price_e8 = 1;
  NewOrderSingle day = market_order();
  day.time_in_force = TimeInForce::day;
  NewOrderSingle fill_or_kill = limit_order();
  fill_or_kill.time_in_force = TimeInForce::fill_or_kill;

  for (const NewOrderSingle& order : {limit_order(), market_order(), large, day, fill_or_kill}) {
    const ParsedNewOrderSingle parsed = parse_new_order_single(encode_new_order_single(order));
    ASSERT_TRUE(parsed.ok) << parsed.error;
    EXPECT_TRUE(parsed.error.empty());
    EXPECT_EQ(parsed.order, order);
  }
}

TEST(QuickfixBoundaryTest, TruncatesSendingTimeToMilliseconds) {
  NewOrderSingle order = limit_order();
  order.sending_time_nanoseconds = kSendingTime + 999'999;
  const ParsedNewOrderSingle parsed = parse_new_order_single(encode_new_order_single(order));
  ASSERT_TRUE(parsed.ok) << parsed.error;
  EXPECT_EQ(parsed.order.sending_time_nanoseconds, kSendingTime);
}

TEST(QuickfixBoundaryTest, ReturnsErrorForGarbage) {
  for (const std::string& wire : {std::string(), std::string("garbage"), std::string("8=FIX.4.4"),
                                  soh("8=FIX.4.4|9=5|35=D|10=000|"), std::string(300, '\x01'), std::string("=|=|=")}) {
    const ParsedNewOrderSingle parsed = parse_new_order_single(wire);
    EXPECT_FALSE(parsed.ok) << wire;
    EXPECT_FALSE(parsed.error.empty()) << wire;
  }
}

TEST(QuickfixBoundaryTest, ReturnsErrorForEveryTruncation) {
  const std::string wire = encode_new_order_single(limit_order());
  for (std::size_t length = 0; length < wire.size(); ++length) {
    EXPECT_FALSE(parse_new_order_single(wire.substr(0, length)).ok) << length;
  }
}

TEST(QuickfixBoundaryTest, ReturnsErrorForBadFraming) {
  std::string wrong_checksum = encode_new_order_single(limit_order());
  wrong_checksum[wrong_checksum.size() - 2] = wrong_checksum[wrong_checksum.size() - 2] == '0' ? '1' : '0';
  EXPECT_FALSE(parse_new_order_single(wrong_checksum).ok);

  std::string altered_body = encode_new_order_single(limit_order());
  altered_body.replace(altered_body.find("55=BTC"), 6, "55=ETH"); // same length, checksum now stale
  EXPECT_FALSE(parse_new_order_single(altered_body).ok);
}

TEST(QuickfixBoundaryTest, ReturnsErrorForWellFramedButWrongMessages) {
  const std::string header = "35=D|34=1|49=A|52=20220513-16:27:05.123|56=B|";
  const std::string valid_body = "11=x|38=1|40=1|54=1|55=BTC|59=1|60=20220513-16:27:05.123|";
  ASSERT_TRUE(parse_new_order_single(frame("FIX.4.4", soh(header + valid_body))).ok);

  const std::pair<std::string, std::string> cases[] = {
      {"FIX.4.2", header + valid_body},                                        // wrong BeginString
      {"FIX.4.4", "35=0|34=1|49=A|52=20220513-16:27:05.123|56=B|"},            // Heartbeat
      {"FIX.4.4", header + "11=x|38=1|40=1|54=1|59=1|"},                       // no Symbol
      {"FIX.4.4", header + "11=x|38=1.5|40=1|54=1|55=BTC|59=1|"},              // fractional quantity
      {"FIX.4.4", header + "11=x|38=1|40=2|54=1|55=BTC|59=1|"},                // limit without Price
      {"FIX.4.4", header + "11=x|38=1|40=2|44=1.000000001|54=1|55=BTC|59=1|"}, // 9 decimals
      {"FIX.4.4", header + "11=x|38=1|40=1|44=5|54=1|55=BTC|59=1|"},           // market with Price
      {"FIX.4.4", header + "11=x|38=1|40=1|54=7|55=BTC|59=1|"},                // unknown Side
      {"FIX.4.4", header + "11=x|38=1|40=3|54=1|55=BTC|59=1|"},                // stop order
      {"FIX.4.4", header + "11=x|38=1|40=1|54=1|55=BTC|59=6|"},                // GTD
  };
  for (const auto& [begin_string, body] : cases) {
    const ParsedNewOrderSingle parsed = parse_new_order_single(frame(begin_string, soh(body)));
    EXPECT_FALSE(parsed.ok) << body;
    EXPECT_FALSE(parsed.error.empty()) << body;
  }
}

// Price on a NewOrderSingle: gateway_decimal.hpp's strict grammar, and at
// most 8 decimals written, even when the extra ones are zeros.
TEST(QuickfixBoundaryTest, ReadsPriceStrictlyWithAtMostEightDecimals) {
  const std::string header = "35=D|34=1|49=A|52=20220513-16:27:05.123|56=B|11=x|38=1|40=2|";
  const std::string tail = "|54=1|55=BTC|59=1|";
  const std::pair<const char*, std::int64_t> accepted[] = {
      {"002000.50", 200'050'000'000},
      {"-0.5", -50'000'000},
      {"0.00000001", 1},
      {"92233720368.54775807", std::numeric_limits<std::int64_t>::max()}};
  for (const auto& [price, price_e8] : accepted) {
    const ParsedNewOrderSingle parsed = parse_new_order_single(frame("FIX.4.4", soh(header + "44=" + price + tail)));
    ASSERT_TRUE(parsed.ok) << price << ": " << parsed.error;
    EXPECT_EQ(parsed.order.price_e8, price_e8) << price;
  }
  for (const char* price :
       {"1.000000000", "+5", "1e5", ".5", "1.", "-", "1.2.3", "92233720368.54775808", "-92233720368.54775808"}) {
    EXPECT_FALSE(parse_new_order_single(frame("FIX.4.4", soh(header + "44=" + price + tail))).ok) << price;
  }
}

TEST(QuickfixBoundaryTest, NamesTheMissingTag) {
  const std::string body = "35=D|34=1|49=A|52=20220513-16:27:05.123|56=B|11=x|38=1|40=1|54=1|59=1|";
  EXPECT_EQ(parse_new_order_single(frame("FIX.4.4", soh(body))).error, "required field missing: tag 55");
}

} // namespace
} // namespace synthusd::fix
