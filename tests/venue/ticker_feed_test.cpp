// The venue simulator's market data: Deribit-format ticker JSON, the
// JSON-RPC requests Deribit's feed clients send, and the WebSocket server
// (handshake and framing) over a real loopback socket.

#include "synthusd/venue/ticker_feed.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "synthusd/venue/websocket_server.hpp"

namespace {

using namespace synthusd::venue;

TickerSnapshot sample_snapshot() {
  TickerSnapshot snapshot;
  snapshot.instrument = "BTC-PERPETUAL";
  snapshot.quote.index = Price{9'226'355'000'000};
  snapshot.quote.mark = Price{9'228'178'000'000};
  snapshot.quote.bid = Price{9'228'150'000'000};
  snapshot.quote.ask = Price{9'228'200'000'000};
  snapshot.quote.bid_size = Contracts{11'766};
  snapshot.quote.ask_size = Contracts{18'652};
  snapshot.quote.funding_rate = Ratio{1'742};
  snapshot.timestamp = Timestamp{1'765'541'474'086LL * 1'000'000};
  snapshot.contract_value = UsdCents{1'000};
  snapshot.touch_size = Contracts{20'000};
  snapshot.tick_size = Price::from_cents(50);
  return snapshot;
}

TEST(VenueTickerFeedTest, TickerDataHasDeribitsFieldsAndUsdAmounts) {
  EXPECT_EQ(ticker_json(sample_snapshot()),
            R"({"timestamp":1765541474086,"state":"open","instrument_name":"BTC-PERPETUAL",)"
            R"("index_price":92263.55,"mark_price":92281.78,"last_price":92281.78,)"
            R"("best_bid_price":92281.5,"best_ask_price":92282,"best_bid_amount":117660,)"
            R"("best_ask_amount":186520,"current_funding":0.00001742,"funding_8h":0.00001742,)"
            R"("estimated_delivery_price":92263.55,"open_interest":0})");
  TickerSnapshot unlimited = sample_snapshot();
  unlimited.touch_size = Contracts{};
  EXPECT_NE(ticker_json(unlimited).find(R"("best_bid_amount":10000000,)"), std::string::npos);
}

class VenueTickerFeedRequestTest : public ::testing::Test {
protected:
  std::string ask(std::string request, std::int64_t wall_ms = 0) {
    std::vector<WebSocketMessage> out;
    feed.on_message(WebSocketMessage{1, std::move(request)}, sample_snapshot(), wall_ms, out);
    EXPECT_EQ(out.size(), 1U);
    return out.empty() ? std::string() : out[0].text;
  }

  TickerFeed feed{"BTC-PERPETUAL"};
};

TEST_F(VenueTickerFeedRequestTest, SubscribeAcceptsTickerChannelsOfTheInstrument) {
  EXPECT_EQ(ask(R"({"jsonrpc":"2.0","id":3,"method":"public/subscribe","params":{"channels":)"
                R"(["ticker.BTC-PERPETUAL.100ms","ticker.ETH-PERPETUAL.100ms","book.BTC-PERPETUAL.100ms"]}})"),
            R"({"jsonrpc":"2.0","id":3,"result":["ticker.BTC-PERPETUAL.100ms"],"testnet":true})");
  EXPECT_TRUE(feed.has_subscribers());
  std::vector<WebSocketMessage> out;
  feed.publish(sample_snapshot(), out);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].connection, 1U);
  EXPECT_EQ(out[0].text.rfind(R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":)"
                              R"("ticker.BTC-PERPETUAL.100ms","data":{"timestamp":1765541474086,)",
                              0),
            0U);
  EXPECT_EQ(out[0].text.substr(out[0].text.size() - 3), "}}}");

  EXPECT_EQ(ask(R"({"id":"x","method":"public/unsubscribe","params":{"channels":["ticker.BTC-PERPETUAL.100ms"]}})"),
            R"({"jsonrpc":"2.0","id":"x","result":["ticker.BTC-PERPETUAL.100ms"],"testnet":true})");
  EXPECT_FALSE(feed.has_subscribers());
}

TEST_F(VenueTickerFeedRequestTest, AnswersTestTimeAndTicker) {
  EXPECT_EQ(ask(R"({"jsonrpc":"2.0","id":7,"method":"public/test","params":{}})"),
            R"({"jsonrpc":"2.0","id":7,"result":{"version":"synthusd-venue 1.0"},"testnet":true})");
  EXPECT_EQ(ask(R"({"id":8,"method":"public/get_time"})"),
            R"({"jsonrpc":"2.0","id":8,"result":1765541474086,"testnet":true})");
  EXPECT_EQ(ask(R"({"id":9,"method":"public/ticker","params":{"instrument_name":"BTC-PERPETUAL"}})"),
            R"({"jsonrpc":"2.0","id":9,"result":)" + ticker_json(sample_snapshot()) + R"(,"testnet":true})");
}

// A client discovers what the venue serves as it would on Deribit.
TEST_F(VenueTickerFeedRequestTest, PublishesItsInstrumentListInDeribitsShape) {
  const std::string listed =
      R"([{"instrument_name":"BTC-PERPETUAL","kind":"future","instrument_type":"reversed",)"
      R"("settlement_period":"perpetual","expiration_timestamp":32503708800000,"is_active":true,)"
      R"("base_currency":"BTC","quote_currency":"USD","counter_currency":"USD","settlement_currency":"BTC",)"
      R"("contract_size":10,"min_trade_amount":10,"tick_size":0.5}])";
  EXPECT_EQ(instruments_json(sample_snapshot()), listed);
  EXPECT_EQ(ask(R"({"id":4,"method":"public/get_instruments","params":{"currency":"BTC","kind":"future"}})"),
            R"({"jsonrpc":"2.0","id":4,"result":)" + listed + R"(,"testnet":true})");
  EXPECT_EQ(ask(R"({"id":5,"method":"public/get_instruments","params":{"currency":"any"}})"),
            R"({"jsonrpc":"2.0","id":5,"result":)" + listed + R"(,"testnet":true})");
  EXPECT_EQ(ask(R"({"id":6,"method":"public/get_instruments","params":{"currency":"ETH"}})"),
            R"({"jsonrpc":"2.0","id":6,"result":[],"testnet":true})");
  EXPECT_EQ(ask(R"({"id":7,"method":"public/get_instruments","params":{"currency":"BTC","kind":"option"}})"),
            R"({"jsonrpc":"2.0","id":7,"result":[],"testnet":true})");
  EXPECT_NE(ask(R"({"id":8,"method":"public/get_instruments","params":{}})").find(R"("code":-32602)"),
            std::string::npos);
}

TEST_F(VenueTickerFeedRequestTest, ErrorsAreJsonRpcErrors) {
  EXPECT_NE(ask("not json").find(R"("code":-32700)"), std::string::npos);
  EXPECT_NE(ask(R"({"id":1,"method":"private/buy"})").find(R"("code":-32601)"), std::string::npos);
  EXPECT_NE(ask(R"({"id":1,"method":"public/set_heartbeat","params":{"interval":5}})").find(R"("code":-32602)"),
            std::string::npos);
  EXPECT_NE(ask(R"({"id":1,"method":"public/subscribe","params":{}})").find(R"("id":1)"), std::string::npos);
}

TEST_F(VenueTickerFeedRequestTest, HeartbeatAsksForATestAndDropsClientsThatDoNotAnswer) {
  EXPECT_EQ(ask(R"({"id":1,"method":"public/set_heartbeat","params":{"interval":10}})", 0),
            R"({"jsonrpc":"2.0","id":1,"result":"ok","testnet":true})");
  std::vector<WebSocketMessage> out;
  std::vector<ConnectionId> expired;
  feed.heartbeat(9'999, out, expired);
  EXPECT_TRUE(out.empty());
  feed.heartbeat(10'000, out, expired);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].text, R"({"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}})");
  // Answered: the next one is sent again.
  (void)ask(R"({"id":2,"method":"public/test"})", 10'001);
  out.clear();
  feed.heartbeat(20'000, out, expired);
  EXPECT_EQ(out.size(), 1U);
  EXPECT_TRUE(expired.empty());
  // Not answered: dropped at the following interval.
  out.clear();
  feed.heartbeat(30'000, out, expired);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(expired, (std::vector<ConnectionId>{1}));
}

TEST(VenueWebSocketTest, AcceptKeyMatchesRfc6455) {
  EXPECT_EQ(websocket::accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(VenueWebSocketTest, ServerFramesUseTheShortestLengthEncoding) {
  EXPECT_EQ(websocket::server_frame(0x1, "hi"), std::string("\x81\x02hi"));
  EXPECT_EQ(websocket::server_frame(0x1, std::string(126, 'a')).substr(0, 4), std::string("\x81\x7E\x00\x7E", 4));
  EXPECT_EQ(websocket::server_frame(0x1, std::string(65'536, 'a')).substr(0, 10),
            std::string("\x81\x7F\x00\x00\x00\x00\x00\x01\x00\x00", 10));
}

// A client frame, masked as RFC 6455 requires.
std::string client_frame(std::uint8_t opcode, std::string_view payload, bool fin = true) {
  const std::string mask = "\x12\x34\x56\x78";
  std::string frame;
  frame.push_back(static_cast<char>((fin ? 0x80 : 0x00) | opcode));
  frame.push_back(static_cast<char>(0x80 | payload.size()));
  frame += mask;
  for (std::size_t i = 0; i < payload.size(); ++i) {
    frame.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  }
  return frame;
}

class VenueWebSocketServerTest : public ::testing::Test {
protected:
  void SetUp() override {
    client = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(client, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(server.port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(client, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    timeval timeout{5, 0};
    setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  void TearDown() override { ::close(client); }

  void write_all(std::string_view bytes) {
    ASSERT_EQ(::send(client, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
  }

  // Runs the server until it reports something, the client has bytes to
  // read, or a second passes.
  void pump() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (std::chrono::steady_clock::now() < deadline) {
      std::vector<pollfd> fds;
      server.add_poll_fds(fds);
      ::poll(fds.data(), fds.size(), 20);
      const std::size_t before = messages.size() + closed.size();
      server.handle_ready(fds, messages, closed);
      pollfd readable{client, POLLIN, 0};
      if (messages.size() + closed.size() > before || ::poll(&readable, 1, 0) > 0) {
        return;
      }
    }
  }

  std::string read_some() {
    char buffer[4096];
    const ssize_t received = ::recv(client, buffer, sizeof buffer, 0);
    return received > 0 ? std::string(buffer, static_cast<std::size_t>(received)) : std::string();
  }

  void upgrade() {
    write_all("GET /ws/api/v2 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    pump();
    const std::string response = read_some();
    ASSERT_EQ(response.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0U) << response;
    ASSERT_NE(response.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos);
  }

  WebSocketServer server{0};
  int client = -1;
  std::vector<WebSocketMessage> messages;
  std::vector<ConnectionId> closed;
};

TEST_F(VenueWebSocketServerTest, UpgradesThenExchangesTextFrames) {
  upgrade();
  EXPECT_EQ(server.connection_count(), 1U);
  write_all(client_frame(0x1, R"({"id":1,"method":"public/test"})"));
  pump();
  ASSERT_EQ(messages.size(), 1U);
  EXPECT_EQ(messages[0].text, R"({"id":1,"method":"public/test"})");

  ASSERT_TRUE(server.send_text(messages[0].connection, "pong!"));
  EXPECT_EQ(read_some(), std::string("\x81\x05pong!"));
}

TEST_F(VenueWebSocketServerTest, AssemblesFragmentsAndAnswersPings) {
  upgrade();
  write_all(client_frame(0x1, "hel", false) + client_frame(0x9, "p") + client_frame(0x0, "lo"));
  pump();
  ASSERT_EQ(messages.size(), 1U);
  EXPECT_EQ(messages[0].text, "hello");
  EXPECT_EQ(read_some(), std::string("\x8A\x01p"));
}

TEST_F(VenueWebSocketServerTest, ClosesOnACloseFrameAndOnUnmaskedFrames) {
  upgrade();
  write_all(client_frame(0x8, std::string("\x03\xE8", 2)));
  pump();
  EXPECT_EQ(closed.size(), 1U);
  EXPECT_EQ(read_some(), std::string("\x88\x02\x03\xE8", 4));
  EXPECT_EQ(server.connection_count(), 0U);
}

TEST_F(VenueWebSocketServerTest, RejectsAPlainHttpRequest) {
  write_all("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  pump();
  EXPECT_EQ(read_some().rfind("HTTP/1.1 400 Bad Request", 0), 0U);
  EXPECT_EQ(closed.size(), 1U);
}

} // namespace
