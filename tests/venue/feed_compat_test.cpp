// The venue's WebSocket market data must run the engine's Deribit feed code
// unchanged: the engine's own request builders drive the venue's JSON-RPC
// handling, and the engine's parser reads every reply and notification.

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "synthusd/feeds/deribit_parser.hpp"
#include "synthusd/venue/ticker_feed.hpp"

namespace {

using namespace synthusd::venue;
using synthusd::feeds::DeribitParser;
using synthusd::feeds::ParseStatus;
using synthusd::feeds::SymbolMapping;
using synthusd::feeds::VenueTick;

constexpr synthusd::hedging::InstrumentId kPerpetual = 3;

class VenueFeedCompatibilityTest : public ::testing::Test {
protected:
  VenueFeedCompatibilityTest() : parser(std::array{SymbolMapping{"BTC-PERPETUAL", kPerpetual}}) {
    snapshot.instrument = "BTC-PERPETUAL";
    snapshot.quote.index = Price{6'000'012'000'000};
    snapshot.quote.mark = Price{6'000'012'000'000};
    snapshot.quote.bid = Price{6'000'000'000'000};
    snapshot.quote.ask = Price{6'000'050'000'000};
    snapshot.quote.bid_size = Contracts{250};
    snapshot.quote.ask_size = Contracts{250};
    snapshot.quote.funding_rate = Ratio{-4'547};
    snapshot.timestamp = Timestamp{1'704'067'200'123LL * 1'000'000};
    snapshot.contract_value = UsdCents{1'000};
    snapshot.touch_size = Contracts{250};
  }

  // What the venue answers to one request from the engine.
  std::vector<WebSocketMessage> send(const std::string& request) {
    std::vector<WebSocketMessage> out;
    feed.on_message(WebSocketMessage{1, request}, snapshot, 0, out);
    return out;
  }

  ParseStatus parse(const std::string& text) {
    std::string padded = text;
    padded.append(synthusd::feeds::kJsonPadding, '\0');
    return parser.parse(padded.data(), text.size(), padded.size(), tick);
  }

  TickerFeed feed{"BTC-PERPETUAL"};
  TickerSnapshot snapshot;
  DeribitParser parser;
  VenueTick tick;
};

TEST_F(VenueFeedCompatibilityTest, EnginesSubscribeIsAcceptedAndItsTickersParse) {
  const std::array<std::string_view, 1> instruments{"BTC-PERPETUAL"};
  const auto replies = send(DeribitParser::subscribe_message(instruments, 1));
  ASSERT_EQ(replies.size(), 1U);
  EXPECT_EQ(parse(replies[0].text), ParseStatus::subscribed);

  std::vector<WebSocketMessage> notifications;
  feed.publish(snapshot, notifications);
  ASSERT_EQ(notifications.size(), 1U);
  ASSERT_EQ(parse(notifications[0].text), ParseStatus::tick);
  EXPECT_EQ(tick.instrument, kPerpetual);
  EXPECT_EQ(tick.bid, snapshot.quote.bid);
  EXPECT_EQ(tick.ask, snapshot.quote.ask);
  EXPECT_EQ(tick.mark, snapshot.quote.mark);
  EXPECT_EQ(tick.index, snapshot.quote.index);
  EXPECT_EQ(tick.funding_rate, snapshot.quote.funding_rate);
  EXPECT_EQ(tick.bid_size, 2'500LL * 100'000'000); // USD, scaled by 1e8
  EXPECT_EQ(tick.venue_time, snapshot.timestamp);
}

TEST_F(VenueFeedCompatibilityTest, EnginesHeartbeatExchangeWorks) {
  auto replies = send(DeribitParser::set_heartbeat_message(10, 2));
  ASSERT_EQ(replies.size(), 1U);
  EXPECT_EQ(parse(replies[0].text), ParseStatus::ignored);

  std::vector<WebSocketMessage> requests;
  std::vector<ConnectionId> expired;
  feed.heartbeat(10'000, requests, expired);
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(parse(requests[0].text), ParseStatus::heartbeat_request);

  std::array<char, DeribitParser::kHeartbeatResponseMaxBytes> buffer{};
  const std::size_t length = DeribitParser::heartbeat_response(3, buffer);
  ASSERT_GT(length, 0U);
  replies = send(std::string(buffer.data(), length));
  ASSERT_EQ(replies.size(), 1U);
  EXPECT_EQ(parse(replies[0].text), ParseStatus::ignored);

  // Answered, so the next interval brings a new test_request, not a disconnect.
  requests.clear();
  feed.heartbeat(20'000, requests, expired);
  EXPECT_EQ(requests.size(), 1U);
  EXPECT_TRUE(expired.empty());
}

} // namespace
