#include "synthusd/feeds/websocket_client.hpp"

#include "support/allocation_counter.hpp"
#include "transport_test_support.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace synthusd::feeds {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kSubscribe =
    R"({"jsonrpc":"2.0","id":42,"method":"public/subscribe","params":{"channels":["book.BTC-PERPETUAL.100ms"]}})";

// What a feed session does with Deribit book messages, reduced to what the
// transport tests check: it parses each message in place with simdjson
// (which needs the padding), counts malformed ones, and follows the
// change_id chain, asking for a resubscribe on a gap.
class BookHandler final : public WebSocketHandler {
public:
  explicit BookHandler(bool record = true) : record_(record) {
    EXPECT_EQ(parser_.allocate(64 * 1024), simdjson::SUCCESS); // no allocation per message afterwards
  }

  void subscribe(WebSocketClient& client) override {
    ++subscribes;
    EXPECT_TRUE(client.send_text(kSubscribe));
  }

  void on_message(const char* data, std::size_t size, std::size_t capacity) override {
    ++messages;
    last_message_at = Clock::now();
    if (capacity < size + websocket::kPadding) {
      ++short_capacity;
    }
    if (record_) {
      received.emplace_back(data, size);
    }
    if (std::string_view(data, size) == "pong") {
      ++pongs;
      return;
    }
    simdjson::dom::element document;
    // realloc_if_needed = false: simdjson reads the padding after the message in place.
    if (parser_.parse(data, size, false).get(document) != simdjson::SUCCESS) {
      ++malformed;
      return;
    }
    simdjson::dom::object book;
    std::string_view type;
    std::uint64_t change_id = 0;
    if (document.at_pointer("/params/data").get(book) != simdjson::SUCCESS || book["type"].get(type) ||
        book["change_id"].get(change_id)) {
      ++malformed;
      return;
    }
    if (type == "snapshot") {
      ++snapshots;
      awaiting_snapshot = false;
      last_change_id = change_id;
      return;
    }
    if (awaiting_snapshot) {
      ++discarded; // changes of a book we no longer track
      return;
    }
    std::uint64_t previous = 0;
    if (book["prev_change_id"].get(previous) != simdjson::SUCCESS || previous != last_change_id) {
      ++gaps;
      awaiting_snapshot = true;
      if (client != nullptr) {
        client->request_resubscribe();
      }
      return;
    }
    ++changes;
    last_change_id = change_id;
  }

  void on_disconnect(std::string_view reason) override {
    disconnect_reasons.emplace_back(reason);
    if (!first_disconnect_at) {
      first_disconnect_at = Clock::now();
    }
    awaiting_snapshot = true;
  }

  WebSocketClient* client = nullptr;
  int subscribes = 0;
  std::size_t messages = 0;
  std::size_t short_capacity = 0;
  std::size_t pongs = 0;
  std::size_t malformed = 0;
  std::size_t snapshots = 0;
  std::size_t changes = 0;
  std::size_t discarded = 0;
  std::size_t gaps = 0;
  std::vector<std::string> received;
  std::vector<std::string> disconnect_reasons;
  Clock::time_point last_message_at{};
  std::optional<Clock::time_point> first_disconnect_at;

private:
  bool record_;
  bool awaiting_snapshot = true;
  std::uint64_t last_change_id = 0;
  simdjson::dom::parser parser_;
};

struct Transport {
  bool tls;
  WaitMode wait;
  bool single_shot;
};

void PrintTo(const Transport& transport, std::ostream* out) {
  *out << (transport.tls ? "wss" : "ws") << (transport.wait == WaitMode::spin ? ", spin" : ", blocking")
       << (transport.single_shot ? ", single-shot" : ", multishot");
}

std::string transport_name(const testing::TestParamInfo<Transport>& info) {
  return std::string(info.param.tls ? "Wss" : "Ws") + (info.param.wait == WaitMode::spin ? "Spin" : "Blocking") +
         (info.param.single_shot ? "SingleShot" : "Multishot");
}

class WebSocketClientTest : public testing::Test {
protected:
  explicit WebSocketClientTest(Transport transport = {false, WaitMode::blocking, false}) : transport_(transport) {}

  // Starts the replay server (wss with a fresh self-signed certificate when
  // the transport is TLS) and the loop.
  void start_server(std::vector<std::string> arguments, const std::string& host = "127.0.0.1") {
    if (transport_.tls) {
      certificate_ = test::make_self_signed_certificate(directory_.path());
      arguments.insert(arguments.end(),
                       {"--tls", "--cert", certificate_->certificate.string(), "--key", certificate_->key.string()});
    }
    arguments.insert(arguments.end(), {"--host", host});
    server_ = std::make_unique<test::ReplayServer>(arguments);
    make_loop();
  }

  void make_loop() {
    EventLoopOptions options;
    options.force_single_shot_receive = transport_.single_shot;
    loop_ = std::make_unique<EventLoop>(options);
  }

  [[nodiscard]] WebSocketClientOptions client_options(const std::string& host = "127.0.0.1") const {
    WebSocketClientOptions options;
    options.host = host;
    options.port = server_ ? server_->port() : 0;
    options.path = "/ws/api/v2";
    options.tls = transport_.tls;
    if (certificate_) {
      options.tls_options.extra_ca_file = certificate_->certificate.string();
    }
    options.backoff_initial = 50ms;
    options.backoff_max = 500ms;
    options.seed = 42;
    return options;
  }

  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
    return test::run_until(*loop_, transport_.wait, done, timeout);
  }

  void stop(WebSocketClient& client) {
    client.stop();
    EXPECT_TRUE(run_until([&] { return client.stopped(); }, 3s)) << to_string(client.state());
  }

  [[nodiscard]] std::string transcript() const { return server_ ? server_->transcript() : std::string(); }

  // The server's lines reach this process through a pipe and a reader
  // thread, so they can lag behind what the client already saw.
  bool await_server(std::string_view prefix, std::size_t count) {
    return run_until([&] { return server_->count(prefix) >= count; }, 5s);
  }

  Transport transport_;
  test::TemporaryDirectory directory_;
  std::optional<test::Certificate> certificate_;
  std::unique_ptr<test::ReplayServer> server_;
  std::unique_ptr<EventLoop> loop_;
  const std::vector<std::string> lines_ = test::read_lines(test::transport_data_file());
};

// Every combination of ws/wss, spin/blocking and multishot/single-shot.
class TransportMatrixTest : public WebSocketClientTest, public testing::WithParamInterface<Transport> {
protected:
  TransportMatrixTest() : WebSocketClientTest(GetParam()) {}
};

// The fault scenarios, over plain ws with multishot receive and spinning,
// and over wss with single-shot receive and blocking waits.
class FaultTest : public WebSocketClientTest, public testing::WithParamInterface<Transport> {
protected:
  FaultTest() : WebSocketClientTest(GetParam()) {}
};

TEST_P(TransportMatrixTest, SubscribesReceivesEveryMessageAndClosesCleanly) {
  start_server({});
  ASSERT_TRUE(server_->running());
  BookHandler handler;
  WebSocketClient client(*loop_, handler, client_options());
  handler.client = &client;
  client.start();

  ASSERT_TRUE(run_until([&] { return handler.messages == lines_.size(); })) << client.last_error() << transcript();
  EXPECT_EQ(handler.received, lines_);
  ASSERT_TRUE(await_server("SUBSCRIBE", 1)) << transcript();
  const std::vector<std::string> subscribes = server_->events_with("SUBSCRIBE");
  ASSERT_EQ(subscribes.size(), 1U);
  EXPECT_EQ(subscribes[0], "SUBSCRIBE 1 " + std::string(kSubscribe));
  EXPECT_EQ(handler.short_capacity, 0U);
  EXPECT_EQ(handler.malformed, 0U);
  EXPECT_EQ(handler.gaps, 0U);
  EXPECT_EQ(handler.snapshots, 1U);
  EXPECT_EQ(handler.changes, lines_.size() - 1);

  stop(client);
  EXPECT_TRUE(await_server("CLOSED 1", 1)) << transcript();
  EXPECT_EQ(server_->events_with("CLOSED 1"), std::vector<std::string>{"CLOSED 1 1000"});
  const WebSocketCounters& counters = client.counters();
  EXPECT_EQ(counters.connects, 1U);
  EXPECT_EQ(counters.reconnects, 0U);
  EXPECT_EQ(counters.disconnects, 1U);
  EXPECT_EQ(counters.connect_failures, 0U);
  EXPECT_EQ(counters.protocol_errors, 0U);
  EXPECT_EQ(counters.messages, lines_.size());
  EXPECT_GT(counters.bytes_received, 11'000U);
}

INSTANTIATE_TEST_SUITE_P(
    AllTransports, TransportMatrixTest,
    testing::Values(Transport{false, WaitMode::spin, false}, Transport{false, WaitMode::spin, true},
                    Transport{false, WaitMode::blocking, false}, Transport{false, WaitMode::blocking, true},
                    Transport{true, WaitMode::spin, false}, Transport{true, WaitMode::spin, true},
                    Transport{true, WaitMode::blocking, false}, Transport{true, WaitMode::blocking, true}),
    transport_name);

TEST_P(FaultTest, AnswersServerPingsWithPongs) {
  start_server({"--ping-interval-ms", "30"});
  BookHandler handler;
  WebSocketClient client(*loop_, handler, client_options());
  client.start();
  ASSERT_TRUE(run_until([&] { return server_->count("PONG 1 p") >= 3; })) << transcript();
  const std::vector<std::string> pongs = server_->events_with("PONG 1 p");
  EXPECT_EQ(pongs[0], "PONG 1 p1");
  EXPECT_EQ(pongs[1], "PONG 1 p2");
  EXPECT_GE(client.counters().pings_answered, 3U);
  EXPECT_EQ(handler.messages, lines_.size());
}

TEST_P(FaultTest, ReassemblesFragmentedMessages) {
  start_server({"--fragment-size", "50"});
  BookHandler handler;
  WebSocketClient client(*loop_, handler, client_options());
  client.start();
  ASSERT_TRUE(run_until([&] { return handler.messages == lines_.size() && server_->count("PONG") == lines_.size(); }))
      << client.last_error() << transcript();
  EXPECT_EQ(handler.received, lines_);
  EXPECT_EQ(handler.malformed, 0U);
  // The server put a ping between the first two fragments of every message.
  const std::vector<std::string> pongs = server_->events_with("PONG 1 f");
  EXPECT_EQ(pongs.size(), lines_.size());
  EXPECT_NE(std::find(pongs.begin(), pongs.end(), "PONG 1 f1"), pongs.end());
  EXPECT_EQ(client.counters().protocol_errors, 0U);
}

TEST_P(FaultTest, ReconnectsAndResubscribesAfterAnAbruptDropMidFrame) {
  start_server({"--fault", "drop-mid-frame", "--fault-after", "10"});
  BookHandler handler;
  WebSocketClient client(*loop_, handler, client_options());
  handler.client = &client;
  client.start();
  ASSERT_TRUE(run_until([&] { return handler.messages == 10 + lines_.size(); })) << client.last_error() << transcript();
  ASSERT_TRUE(await_server("SUBSCRIBE", 2)) << transcript();
  const std::vector<std::string> subscribes = server_->events_with("SUBSCRIBE");
  ASSERT_EQ(subscribes.size(), 2U);
  EXPECT_TRUE(subscribes[1].starts_with("SUBSCRIBE 2 ")) << subscribes[1];
  EXPECT_EQ(handler.subscribes, 2);
  EXPECT_EQ(handler.snapshots, 2U);
  EXPECT_EQ(handler.gaps, 0U);
  EXPECT_EQ(handler.changes, 9 + lines_.size() - 1);
  ASSERT_EQ(handler.disconnect_reasons.size(), 1U);
  EXPECT_EQ(handler.disconnect_reasons[0], "the server closed the TCP connection");
  const WebSocketCounters& counters = client.counters();
  EXPECT_EQ(counters.connects, 2U);
  EXPECT_EQ(counters.reconnects, 1U);
  EXPECT_EQ(counters.disconnects, 1U);
  EXPECT_EQ(counters.protocol_errors, 0U) << "a truncated frame is a lost connection, not a protocol error";
}

TEST_P(FaultTest, ResubscribesOnAGapByReconnecting) {
  start_server({"--fault", "gap", "--fault-after", "5"});
  BookHandler handler;
  WebSocketClient client(*loop_, handler, client_options());
  handler.client = &client;
  client.start();
  ASSERT_TRUE(run_until([&] { return handler.snapshots == 2 && handler.changes == 4 + lines_.size() - 1; }))
      << client.last_error() << transcript();
  EXPECT_EQ(handler.gaps, 1U);
  ASSERT_TRUE(await_server("SUBSCRIBE", 2)) << transcript();
  const std::vector<std::string> subscribes = server_->events_with("SUBSCRIBE");
  ASSERT_EQ(subscribes.size(), 2U);
  EXPECT_TRUE(subscribes[1].starts_with("SUBSCRIBE 2 ")) << "a new connection: " << subscribes[1];
  EXPECT_EQ(client.counters().resubscribes, 1U);
  EXPECT_EQ(client.counters().reconnects, 1U);
  ASSERT_EQ(handler.disconnect_reasons.size(), 1U);
  EXPECT_EQ(handler.disconnect_reasons[0], "resubscribe requested");
}

TEST_P(FaultTest, ResubscribesOnAGapInPlaceWhenConfigured) {
  start_server({"--fault", "gap", "--fault-after", "5"});
  BookHandler handler;
  WebSocketClientOptions options = client_options();
  options.resubscribe_mode = ResubscribeMode::resend;
  WebSocketClient client(*loop_, handler, options);
  handler.client = &client;
  client.start();
  ASSERT_TRUE(run_until([&] { return handler.snapshots == 2 && handler.changes == 4 + lines_.size() - 1; }))
      << client.last_error() << transcript();
  EXPECT_EQ(handler.gaps, 1U);
  ASSERT_TRUE(await_server("SUBSCRIBE", 2)) << transcript();
  const std::vector<std::string> subscribes = server_->events_with("SUBSCRIBE");
  ASSERT_EQ(subscribes.size(), 2U);
  EXPECT_TRUE(subscribes[1].starts_with("SUBSCRIBE 1 ")) << "the same connection: " << subscribes[1];
  EXPECT_EQ(client.counters().resubscribes, 1U);
  EXPECT_EQ(client.counters().connects, 1U);
  EXPECT_TRUE(handler.disconnect_reasons.empty());
}

TEST_P(FaultTest, ReconnectsWhenTheFeedGoesStale) {
  start_server({"--fault", "silent", "--fault-after", "5"});
  BookHandler handler;
  WebSocketClientOptions options = client_options();
  options.stale_timeout = 300ms;
  WebSocketClient client(*loop_, handler, options);
  handler.client = &client;
  client.start();
  ASSERT_TRUE(run_until([&] { return handler.messages == 5; })) << transcript();
  const Clock::time_point silent_from = handler.last_message_at;
  ASSERT_TRUE(run_until([&] { return client.counters().stale_drops >= 1 && handler.messages >= 5 + lines_.size(); }))
      << client.last_error() << transcript();
  ASSERT_TRUE(handler.first_disconnect_at.has_value());
  const auto silence = *handler.first_disconnect_at - silent_from;
  // The client times silence from the loop's clock reading for the batch
  // that brought the last bytes, a little before the handler's timestamp.
  EXPECT_GE(silence, 290ms);
  EXPECT_LT(silence, 1500ms);
  EXPECT_EQ(handler.disconnect_reasons[0], "stale: no data for 300 ms");
  EXPECT_TRUE(await_server("SUBSCRIBE", 2)) << transcript();
  EXPECT_GE(handler.snapshots, 2U);
}

TEST_P(FaultTest, DeliversMalformedJsonAndStaysConnected) {
  start_server({"--fault", "malformed", "--fault-after", "7"});
  BookHandler handler;
  WebSocketClient client(*loop_, handler, client_options());
  handler.client = &client;
  client.start();
  ASSERT_TRUE(run_until([&] { return handler.messages == lines_.size() + 1; })) << transcript();
  EXPECT_EQ(handler.malformed, 1U);
  EXPECT_EQ(handler.received[7], R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":)");
  EXPECT_EQ(handler.changes, lines_.size() - 1);
  EXPECT_EQ(handler.gaps, 0U);
  test::run_for(*loop_, transport_.wait, 50ms);
  EXPECT_EQ(client.state(), WebSocketState::open);
  EXPECT_EQ(client.counters().connects, 1U);
  EXPECT_EQ(client.counters().disconnects, 0U);
  EXPECT_EQ(client.counters().protocol_errors, 0U);
}

TEST_P(FaultTest, DropsAndReconnectsOnAnOversizedMessage) {
  start_server({"--fault", "oversized", "--fault-after", "3", "--oversize-bytes", "10000"});
  BookHandler handler;
  WebSocketClientOptions options = client_options();
  options.max_message_size = 4096;
  WebSocketClient client(*loop_, handler, options);
  handler.client = &client;
  client.start();
  ASSERT_TRUE(run_until([&] { return handler.messages == 3 + lines_.size(); })) << client.last_error() << transcript();
  EXPECT_EQ(client.counters().oversized_messages, 1U);
  EXPECT_EQ(client.counters().reconnects, 1U);
  EXPECT_TRUE(await_server("SUBSCRIBE", 2)) << transcript();
  EXPECT_TRUE(await_server("CLOSED 1", 1)) << transcript();
  EXPECT_EQ(server_->events_with("CLOSED 1"), std::vector<std::string>{"CLOSED 1 1009"});
  EXPECT_EQ(handler.disconnect_reasons[0], "message larger than 4096 bytes");
}

TEST_P(FaultTest, AnswersAServerCloseAndReconnects) {
  start_server({"--fault", "close", "--fault-after", "4"});
  BookHandler handler;
  WebSocketClient client(*loop_, handler, client_options());
  handler.client = &client;
  client.start();
  ASSERT_TRUE(run_until([&] { return handler.messages == 4 + lines_.size(); })) << client.last_error() << transcript();
  ASSERT_TRUE(await_server("CLOSED 1", 1)) << transcript();
  EXPECT_EQ(server_->events_with("CLOSED 1"), std::vector<std::string>{"CLOSED 1 1001"}) << "our close echoes 1001";
  EXPECT_EQ(handler.disconnect_reasons[0], "server closed the connection (1001)");
  EXPECT_EQ(client.counters().reconnects, 1U);
}

INSTANTIATE_TEST_SUITE_P(Transports, FaultTest,
                         testing::Values(Transport{false, WaitMode::spin, false},
                                         Transport{true, WaitMode::blocking, true}),
                         transport_name);

TEST_F(WebSocketClientTest, RejectsASelfSignedServerWithoutTheExtraCa) {
  transport_.tls = true;
  start_server({});
  BookHandler handler;
  WebSocketClientOptions options = client_options();
  options.tls_options.extra_ca_file.clear(); // the system store only
  WebSocketClient client(*loop_, handler, options);
  client.start();
  ASSERT_TRUE(run_until([&] { return client.counters().connect_failures >= 2; })) << transcript();
  EXPECT_NE(client.last_error().find("certificate verify failed"), std::string_view::npos) << client.last_error();
  EXPECT_NE(client.last_error().find("self-signed certificate"), std::string_view::npos) << client.last_error();
  EXPECT_EQ(client.counters().connects, 0U);
  EXPECT_EQ(server_->count("SUBSCRIBE"), 0U);
  EXPECT_EQ(handler.subscribes, 0);
}

TEST_F(WebSocketClientTest, VerifiesTheHostNameSentAsSni) {
  transport_.tls = true;
  start_server({});
  BookHandler handler;
  WebSocketClientOptions options = client_options("localhost");
  options.family = AddressFamily::ipv4; // the server listens on 127.0.0.1 only
  WebSocketClient client(*loop_, handler, options);
  client.start();
  ASSERT_TRUE(run_until([&] { return handler.messages == lines_.size(); })) << client.last_error() << transcript();
  EXPECT_EQ(handler.received, lines_);
}

TEST_F(WebSocketClientTest, ConnectsOverIpv6Loopback) {
  start_server({}, "::1");
  ASSERT_TRUE(server_->running());
  BookHandler handler;
  WebSocketClientOptions options = client_options("::1");
  options.family = AddressFamily::ipv6;
  WebSocketClient client(*loop_, handler, options);
  client.start();
  ASSERT_TRUE(run_until([&] { return handler.messages == lines_.size(); })) << client.last_error() << transcript();
  EXPECT_EQ(handler.received, lines_);
  stop(client);
}

TEST_F(WebSocketClientTest, SendsKeepAliveTextAndReceivesPong) {
  start_server({});
  BookHandler handler;
  WebSocketClientOptions options = client_options();
  options.keepalive_interval = 100ms;
  WebSocketClient client(*loop_, handler, options);
  client.start();
  ASSERT_TRUE(run_until([&] { return server_->count("KEEPALIVE 1") >= 3 && handler.pongs >= 3; })) << transcript();
  EXPECT_GE(client.counters().keepalives_sent, 3U);
  EXPECT_EQ(handler.malformed, 0U);
}

TEST_F(WebSocketClientTest, BacksOffExponentiallyWhileNothingListens) {
  // A port that was just free: connects are refused at once.
  const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&address), length), 0);
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(probe);

  make_loop();
  BookHandler handler;
  WebSocketClientOptions options = client_options();
  options.port = ntohs(address.sin_port);
  options.backoff_initial = 40ms;
  options.backoff_max = 10s;
  options.backoff_jitter = 0.0;
  WebSocketClient client(*loop_, handler, options);
  client.start();
  // Attempts at 0, 40, 120 and 280 ms; the fifth would be at 600 ms.
  test::run_for(*loop_, WaitMode::blocking, 450ms);
  EXPECT_EQ(client.counters().connect_attempts, 4U);
  EXPECT_EQ(client.counters().connect_failures, 4U);
  EXPECT_EQ(client.state(), WebSocketState::backoff);
  EXPECT_NE(client.last_error().find("Connection refused"), std::string_view::npos) << client.last_error();
  stop(client);
  EXPECT_EQ(client.counters().connect_attempts, 4U);
}

// After start-up, receiving, decoding and delivering a message allocates
// nothing: the counting operator new sees no call while messages flow.
class SteadyStateTest : public WebSocketClientTest, public testing::WithParamInterface<Transport> {
protected:
  SteadyStateTest() : WebSocketClientTest(GetParam()) {}
};

TEST_P(SteadyStateTest, MakesNoAllocationPerMessage) {
  start_server({"--interval-ms", "3", "--ping-interval-ms", "20", "--fragment-size", "200", "--quiet"});
  BookHandler handler(/*record=*/false);
  WebSocketClient client(*loop_, handler, client_options());
  client.start();
  ASSERT_TRUE(run_until([&] { return handler.messages >= 5; })) << client.last_error() << transcript();
  const auto before = test_support::allocation_count();
  const auto give_up = Clock::now() + 10s;
  while (handler.messages < lines_.size() && Clock::now() < give_up) {
    loop_->run_once(transport_.wait, 5ms);
  }
  const auto allocations = test_support::allocation_count() - before;
  ASSERT_EQ(handler.messages, lines_.size());
  EXPECT_EQ(handler.malformed + handler.gaps, 0U);
  EXPECT_GT(client.counters().pings_answered, 0U);
  EXPECT_EQ(allocations, 0) << "over " << lines_.size() - 5 << " messages (fragmented) and "
                            << client.counters().pings_answered << " pings answered";
}

INSTANTIATE_TEST_SUITE_P(Transports, SteadyStateTest,
                         testing::Values(Transport{false, WaitMode::spin, false},
                                         Transport{false, WaitMode::blocking, true},
                                         Transport{true, WaitMode::blocking, false}),
                         transport_name);

} // namespace
} // namespace synthusd::feeds
