// A feed end to end: a real third-party WebSocket server (npm's ws) replays
// recorded venue messages over ws:// or wss://; the io_uring client, the
// venue parser, the tick merger and the conflating queue deliver exact
// fixed-point MarketUpdates to the kernel's side of the queue.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>

#include "synthusd/feeds/feed_session.hpp"
#include "transport_test_support.hpp"

namespace synthusd::feeds {
namespace {

using namespace std::chrono_literals;
using hedging::MarketUpdate;
using hedging::Price;
using hedging::Ratio;

std::filesystem::path data_file(const std::string& name) {
  return std::filesystem::path(SYNTHUSD_SOURCE_DIR) / "tests" / "data" / "feeds" / name;
}

std::vector<std::string> logged;
void capture_log(std::string_view line) noexcept { logged.emplace_back(line); }

class FeedSessionTest : public testing::Test {
protected:
  void start(const std::string& data, std::vector<std::string> arguments, bool tls) {
    tls_ = tls;
    if (tls) {
      certificate_ = test::make_self_signed_certificate(directory_.path());
      arguments.insert(arguments.end(),
                       {"--tls", "--cert", certificate_->certificate.string(), "--key", certificate_->key.string()});
    }
    server_ = std::make_unique<test::ReplayServer>(arguments, data_file(data));
    ASSERT_TRUE(server_->running());
    loop_ = std::make_unique<EventLoop>(EventLoopOptions{});
  }

  void connect(FeedSessionConfig config) {
    config.log = capture_log;
    logged.clear();
    session_ = std::make_unique<FeedSession>(std::move(config), queue_);
    WebSocketClientOptions options;
    options.host = "127.0.0.1";
    options.port = server_->port();
    options.tls = tls_;
    if (certificate_) {
      options.tls_options.extra_ca_file = certificate_->certificate.string();
    }
    options.backoff_initial = 50ms;
    options.backoff_max = 200ms;
    options.seed = 7;
    client_ = std::make_unique<WebSocketClient>(*loop_, *session_, options);
    session_->attach(*client_);
    client_->start();
  }

  // Runs until `done`, moving everything the queue delivers into latest_.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
    return test::run_until(
        *loop_, WaitMode::blocking,
        [&] {
          MarketUpdate update;
          while (queue_.pop(update)) {
            latest_[update.instrument] = update;
            ++delivered_;
          }
          return done();
        },
        timeout);
  }

  bool has_mark(hedging::InstrumentId instrument, Price mark) const {
    const auto found = latest_.find(instrument);
    return found != latest_.end() && found->second.mark == mark;
  }

  void TearDown() override {
    if (client_) {
      client_->stop();
      (void)test::run_until(
          *loop_, WaitMode::blocking, [&] { return client_->stopped(); }, 3s);
    }
  }

  bool tls_ = false;
  test::TemporaryDirectory directory_;
  std::optional<test::Certificate> certificate_;
  std::unique_ptr<test::ReplayServer> server_;
  std::unique_ptr<EventLoop> loop_;
  FeedSession::Queue queue_{64, 8};
  std::unique_ptr<FeedSession> session_;
  std::unique_ptr<WebSocketClient> client_;
  std::map<hedging::InstrumentId, MarketUpdate> latest_;
  std::uint64_t delivered_ = 0;
};

FeedSessionConfig deribit_config() {
  FeedSessionConfig config;
  config.venue = Venue::deribit;
  config.venue_id = 2;
  config.instruments = {{"BTC-PERPETUAL", 1}, {"BTC-27DEC24", 2}};
  return config;
}

TEST(VenueClientOptions, okx_keeps_its_connection_alive_with_text_pings) {
  const WebSocketClientOptions okx = venue_client_options(Venue::okx);
  EXPECT_EQ(okx.host, "ws.okx.com");
  EXPECT_EQ(okx.port, 8443);
  EXPECT_EQ(okx.path, "/ws/v5/public");
  EXPECT_EQ(okx.keepalive_interval, 20s);
  EXPECT_EQ(okx.keepalive_text, "ping");
  EXPECT_TRUE(okx.tls);
  const WebSocketClientOptions deribit = venue_client_options(Venue::deribit);
  EXPECT_EQ(deribit.path, "/ws/api/v2");
  EXPECT_EQ(deribit.keepalive_interval, 0ms); // Deribit's own heartbeat instead
  EXPECT_EQ(venue_client_options(Venue::binance_coin_m).host, "dstream.binance.com");
}

TEST_F(FeedSessionTest, okx_keepalive_pings_reach_the_server_and_pongs_are_ignored) {
  start("okx.jsonl", {"--interval-ms", "100"}, false);
  FeedSessionConfig config;
  config.venue = Venue::okx;
  config.venue_id = 1;
  config.instruments = {{"BTC-USD-SWAP", 3}};
  config.log = capture_log;
  session_ = std::make_unique<FeedSession>(std::move(config), queue_);
  WebSocketClientOptions options = venue_client_options(Venue::okx);
  options.host = "127.0.0.1";
  options.port = server_->port();
  options.tls = false;
  options.keepalive_interval = 50ms;
  options.seed = 3;
  client_ = std::make_unique<WebSocketClient>(*loop_, *session_, options);
  session_->attach(*client_);
  client_->start();
  ASSERT_TRUE(run_until([&] { return server_->count("KEEPALIVE") >= 2 && session_->counters().ignored >= 1; }))
      << server_->transcript();
  EXPECT_EQ(session_->counters().malformed, 0u); // "pong" is not JSON, and not malformed either
}

TEST_F(FeedSessionTest, deribit_over_wss_delivers_exact_values_and_answers_the_heartbeat) {
  start("deribit.jsonl", {}, true);
  connect(deribit_config());
  ASSERT_TRUE(run_until([&] { return has_mark(1, Price{10'001'840'000'000}); })) << server_->transcript();
  const MarketUpdate& perpetual = latest_.at(1);
  EXPECT_EQ(perpetual.venue, 2);
  EXPECT_EQ(perpetual.index, Price{10'000'731'000'000});
  EXPECT_EQ(perpetual.bid, Price{10'001'900'000'000});
  EXPECT_EQ(perpetual.ask, Price{10'001'950'000'000});
  EXPECT_EQ(perpetual.funding_rate, Ratio{1'742}); // funding_8h 1.742e-05 (current_funding -5.12e-06)
  const MarketUpdate& future = latest_.at(2);
  EXPECT_EQ(future.mark, Price{10'071'312'000'000});
  EXPECT_EQ(future.bid, Price{10'071'000'000'000});
  EXPECT_EQ(future.ask, Price{10'071'750'000'000});
  // set_heartbeat went out first, and the test_request was answered with
  // public/test on the same connection
  const auto texts_containing = [&](std::string_view needle) {
    std::size_t n = 0;
    for (const std::string& line : server_->events_with("TEXT")) {
      n += line.find(needle) != std::string::npos ? 1 : 0;
    }
    return n;
  };
  ASSERT_TRUE(run_until([&] { return texts_containing("public/test") >= 1; }, 5s)) << server_->transcript();
  EXPECT_EQ(texts_containing("public/set_heartbeat"), 1u);
  EXPECT_EQ(session_->counters().heartbeats_answered, 1u);
  // the subscription ack, and the venue error line counted (and logged once)
  EXPECT_EQ(session_->counters().venue_errors, 1u);
  EXPECT_EQ(session_->counters().malformed, 0u);
  EXPECT_GE(session_->counters().subscribed, 1u);
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_NE(logged[0].find("venue error"), std::string::npos);
  EXPECT_NE(server_->events_with("SUBSCRIBE").front().find("ticker.BTC-PERPETUAL.100ms"), std::string::npos);
}

TEST_F(FeedSessionTest, okx_channels_merge_into_one_update_per_instrument) {
  start("okx.jsonl", {}, false);
  FeedSessionConfig config;
  config.venue = Venue::okx;
  config.venue_id = 1;
  config.instruments = {{"BTC-USD-SWAP", 3}, {"BTC-USD-250328", 4}};
  connect(config);
  ASSERT_TRUE(run_until([&] {
    return has_mark(4, Price{10'346'610'000'000}) && latest_.count(4) > 0 &&
           latest_.at(4).bid == Price{10'346'690'000'000} && latest_.count(3) > 0 &&
           latest_.at(3).funding_rate == Ratio{10'912};
  })) << server_->transcript();
  const MarketUpdate& swap = latest_.at(3);
  EXPECT_EQ(swap.mark, Price{10'004'060'000'000});
  EXPECT_EQ(swap.bid, Price{10'004'120'000'000});
  EXPECT_EQ(swap.ask, Price{10'004'130'000'000});
  EXPECT_EQ(swap.funding_rate, Ratio{10'912}); // 0.0001091153871602 rounded half-even to 1e-8
  EXPECT_EQ(swap.next_funding_time, hedging::Timestamp{1'734'019'200'000LL * 1'000'000});
  EXPECT_EQ(latest_.at(4).ask, Price{10'347'030'000'000});
  EXPECT_NE(server_->events_with("SUBSCRIBE").front().find("mark-price"), std::string::npos);
}

TEST_F(FeedSessionTest, binance_coin_m_book_ticker_and_mark_price_arrive_exactly) {
  start("binance.jsonl", {"--subscribe-match", "SUBSCRIBE"}, true);
  FeedSessionConfig config;
  config.venue = Venue::binance_coin_m;
  config.venue_id = 3;
  config.instruments = {{"BTCUSD_PERP", 5}};
  connect(config);
  ASSERT_TRUE(run_until([&] {
    return has_mark(5, Price{10'003'702'301'587}) && latest_.at(5).bid == Price{10'003'750'000'000};
  })) << server_->transcript();
  const MarketUpdate& perpetual = latest_.at(5);
  EXPECT_EQ(perpetual.ask, Price{10'003'760'000'000});
  EXPECT_EQ(perpetual.index, Price{10'000'877'285'714});
  EXPECT_EQ(perpetual.funding_rate, Ratio{9'874});
  EXPECT_EQ(perpetual.next_funding_time, hedging::Timestamp{1'734'019'200'000LL * 1'000'000});
  EXPECT_EQ(session_->counters().gaps, 0u); // u only ever grows in the recording
}

TEST_F(FeedSessionTest, a_sequence_gap_asks_for_a_fresh_snapshot_and_the_feed_resumes) {
  // Deribit book changes chained by prev_change_id; the server drops one.
  start("transport_deribit_book.jsonl", {"--fault", "gap", "--fault-after", "5"}, false);
  FeedSessionConfig config = deribit_config();
  config.deribit_heartbeat_seconds = 0;
  connect(config);
  ASSERT_TRUE(run_until([&] {
    return session_->counters().gaps >= 1 && server_->count("SUBSCRIBE") >= 2 && client_->counters().connects >= 2;
  })) << server_->transcript();
  EXPECT_EQ(session_->counters().malformed, 0u);
}

TEST_F(FeedSessionTest, a_malformed_message_is_counted_and_dropped_while_the_connection_stays_up) {
  start("deribit.jsonl", {"--fault", "malformed", "--fault-after", "3"}, false);
  connect(deribit_config());
  ASSERT_TRUE(run_until([&] { return has_mark(1, Price{10'001'840'000'000}); })) << server_->transcript();
  EXPECT_EQ(session_->counters().malformed, 1u);
  EXPECT_EQ(client_->counters().connects, 1u); // no reconnect for bad content
  EXPECT_EQ(client_->counters().disconnects, 0u);
  bool logged_malformed = false;
  for (const std::string& line : logged) {
    logged_malformed = logged_malformed || line.find("malformed") != std::string::npos;
  }
  EXPECT_TRUE(logged_malformed);
}

} // namespace
} // namespace synthusd::feeds
