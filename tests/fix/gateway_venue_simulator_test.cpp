// The gateway against the project's venue simulator, build/synthusd-venue,
// run as a separate process: Deribit dialect logon (the venue checks the
// password), orders, fills, cancel/replace, cancel-all, positions and
// collateral (the simulator answers CollateralInquiry, which Deribit lacks).
#include "gateway_test_support.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <regex>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace synthusd::fix::testing {
namespace {

using hedging::OrderStatus;
using hedging::Side;

constexpr char kSecret[] = "venue-test-secret";

// synthusd-venue on a port it binds itself (--fix-port 0) and prints, read
// from its standard output; stopped with SIGTERM. A port picked here and
// passed in could be taken by another test's bind or outgoing connection
// between the pick and the venue's own bind.
class VenueProcess {
public:
  VenueProcess(const std::string& secret, bool deribit_replies, const std::string& output) {
    std::vector<std::string> arguments = {SYNTHUSD_VENUE_BINARY,
                                          "--fix-port",
                                          "0",
                                          "--logon-secret",
                                          secret,
                                          "--websocket",
                                          "false",
                                          "--time-scale",
                                          "0",
                                          "--start-price",
                                          "50000",
                                          "--fix-dialect",
                                          deribit_replies ? "deribit" : "fix44"};
    std::vector<char*> argv;
    for (std::string& argument : arguments) {
      argv.push_back(argument.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (::posix_spawn(&pid_, SYNTHUSD_VENUE_BINARY, &actions, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
    }
    ::posix_spawn_file_actions_destroy(&actions);
    if (pid_ > 0) {
      port_ = printed_port(output);
    }
  }
  ~VenueProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  VenueProcess(const VenueProcess&) = delete;
  VenueProcess& operator=(const VenueProcess&) = delete;
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] bool running() const { return pid_ > 0 && port_ > 0; }

private:
  // The port from "FIX acceptor on port N", or 0 if the venue exited or
  // printed none within 20 s.
  int printed_port(const std::string& output) {
    const std::regex printed("FIX acceptor on port ([0-9]+)");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(output);
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::smatch match;
      if (std::regex_search(text, match, printed)) {
        return std::stoi(match[1].str());
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1; // exited before binding: reaped here, not killed later
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return 0;
  }

  int port_ = 0;
  pid_t pid_ = -1;
};

class GatewayVenueSimulatorTest : public ::testing::Test {
protected:
  void start(const std::string& secret = kSecret, bool deribit_replies = false) {
    venue_ = std::make_unique<VenueProcess>(kSecret, deribit_replies, directory_.file("venue.out"));
    ASSERT_TRUE(venue_->running());
    GatewayConfig config = test_gateway_config(venue_->port(), directory_);
    config.dialect = Dialect::deribit;
    config.target_comp_id = "DERIBITSERVER";
    config.credentials.client_id = "synthusd";
    config.credentials.client_secret = SecretString(secret);
    hedging::InstrumentSpec spec;
    spec.id = kTestInstrument;
    spec.symbol = kTestSymbol;
    spec.contract_value = hedging::UsdCents{1'000}; // $10, as the simulator's default
    config.instruments = {gateway_instrument(spec, Dialect::deribit)};
    gateway_ = std::make_unique<OrderGateway>(std::move(config), listener_);
    gateway_->start();
  }

  void TearDown() override {
    if (gateway_) {
      gateway_->stop();
    }
    venue_.reset();
  }

  bool wait_status(hedging::ClientOrderId id, OrderStatus status) {
    return poll_until(*gateway_, [&] {
      for (const auto& report : listener_.executions_for(id)) {
        if (report.status == status) {
          return true;
        }
      }
      return false;
    });
  }

  bool logged_on() {
    return poll_until(
        *gateway_, [&] { return !listener_.alerts_of(AlertKind::logon).empty(); }, 10'000);
  }

  TemporaryDirectory directory_;
  RecordingListener listener_;
  std::unique_ptr<VenueProcess> venue_;
  std::unique_ptr<OrderGateway> gateway_;
};

// The deribit dialect sends Price(44) on market orders (Deribit requires
// it): the collar price, here well below the simulator's 50,000 for a sell.
hedging::OrderIntent collared_sell(hedging::ClientOrderId id, std::int64_t contracts) {
  hedging::OrderIntent intent = market_intent(id, Side::sell, contracts);
  intent.limit_price = hedging::Price::from_dollars(40'000);
  return intent;
}

TEST_F(GatewayVenueSimulatorTest, MarketOrderFillsAndPositionFollows) {
  start();
  ASSERT_TRUE(logged_on());
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !listener_.positions().empty(); }));
  EXPECT_EQ(listener_.positions()[0].position, hedging::Contracts{0});

  ASSERT_EQ(gateway_->submit(collared_sell(1, 3)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(1, OrderStatus::filled));
  std::int64_t filled = 0;
  for (const auto& report : listener_.executions_for(1)) {
    filled += report.last_quantity.value;
  }
  EXPECT_EQ(filled, 3);
  EXPECT_GT(listener_.executions_for(1).back().last_price.raw, 0);

  ASSERT_EQ(gateway_->request_positions(), SubmitResult::sent);
  ASSERT_TRUE(poll_until(*gateway_, [&] { return listener_.positions().size() == 2; }));
  EXPECT_EQ(listener_.positions().back().position, hedging::Contracts{-3});
}

// The simulator starts every account with 1 BTC (margin.collateral_btc) and
// charges the taker fee (0.05 %) in BTC on each fill. With the clock frozen
// (--time-scale 0) the mark stays at the start price, $50,000, and a market
// sell fills at the bid, which is the mark (spread 1 tick: bid = mid), so the
// short's unrealised P&L is 0 and equity falls by exactly the fee:
// 3 contracts * $10 / $50,000 = 0.0006 BTC = 60,000 sats; 0.05 % = 30 sats.
// In the deribit dialect both snapshots come from User Request (BE) / User
// Response (BF), the second one asked for because of the fill.
TEST_F(GatewayVenueSimulatorTest, CollateralArrivesAtLogonAndFallsByTheFeeAfterAFill) {
  start();
  ASSERT_TRUE(logged_on());
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !listener_.collaterals().empty(); }));
  const hedging::CollateralSnapshot initial = listener_.collaterals()[0];
  EXPECT_EQ(initial.venue, kTestVenueId);
  EXPECT_EQ(initial.equity, hedging::Sats{100'000'000});
  EXPECT_TRUE(listener_.alerts_of(AlertKind::invalid_report).empty());
  EXPECT_TRUE(listener_.alerts_of(AlertKind::business_reject).empty());

  ASSERT_EQ(gateway_->submit(collared_sell(21, 3)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(21, OrderStatus::filled));
  EXPECT_EQ(listener_.executions_for(21).back().last_price, hedging::Price::from_dollars(50'000));
  // The deribit dialect asks again (User Request BE) after every fill; the
  // simulator answers with a User Response (BF).
  ASSERT_TRUE(poll_until(*gateway_, [&] { return listener_.collaterals().size() >= 2; }));
  const hedging::Sats fee{60'000 * 5 / 10'000};
  EXPECT_EQ(listener_.collaterals()[1].equity, initial.equity - fee);
  EXPECT_GT(listener_.collaterals()[1].time.nanoseconds, initial.time.nanoseconds);
}

TEST_F(GatewayVenueSimulatorTest, RestingOrderIsReplacedThenCanceled) {
  start();
  ASSERT_TRUE(logged_on());
  ASSERT_EQ(gateway_->submit(limit_intent(2, Side::buy, 4, 30'000)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(2, OrderStatus::accepted));
  ASSERT_EQ(gateway_->replace(2, hedging::Contracts{5}, hedging::Price::from_dollars(31'000)), SubmitResult::sent);
  ASSERT_TRUE(poll_until(*gateway_, [&] { return listener_.replaced.size() == 1; }));
  EXPECT_EQ(listener_.replaced[0].order_quantity, 5);
  EXPECT_EQ(listener_.replaced[0].price_e8, hedging::Price::from_dollars(31'000).raw);
  ASSERT_EQ(gateway_->submit(hedging::CancelIntent{2, kTestVenueId}), SubmitResult::sent);
  ASSERT_TRUE(wait_status(2, OrderStatus::canceled));
  EXPECT_TRUE(listener_.alerts_of(AlertKind::unknown_order).empty());
}

TEST_F(GatewayVenueSimulatorTest, CancelAllCancelsEveryRestingOrder) {
  start();
  ASSERT_TRUE(logged_on());
  for (hedging::ClientOrderId id : {11, 12, 13}) {
    ASSERT_EQ(gateway_->submit(limit_intent(id, Side::buy, 1, 30'000 + static_cast<std::int64_t>(id))),
              SubmitResult::sent);
    ASSERT_TRUE(wait_status(id, OrderStatus::accepted));
  }
  ASSERT_EQ(gateway_->cancel_all(), SubmitResult::sent);
  for (hedging::ClientOrderId id : {11, 12, 13}) {
    EXPECT_TRUE(wait_status(id, OrderStatus::canceled)) << id;
  }
  EXPECT_EQ(gateway_->session().open_orders(), 0U);
}

// The simulator in its deribit reply mode (fix.dialect = "deribit"): 150=I
// acknowledgements, 527 instead of 17, our id in 41, per-fill reports (the
// gateway logs on with 9015=Y), a flat AP without entries, RawData(96) in
// each position entry. The gateway books all of it like the textbook shapes.
TEST_F(GatewayVenueSimulatorTest, DeribitReplyModeIsBookedLikeTheTextbookReplies) {
  start(kSecret, true);
  ASSERT_TRUE(logged_on());
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !listener_.positions().empty(); }));
  EXPECT_EQ(listener_.positions()[0].position, hedging::Contracts{0});

  ASSERT_EQ(gateway_->submit(limit_intent(31, Side::buy, 4, 30'000)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(31, OrderStatus::accepted));
  ASSERT_EQ(gateway_->submit(collared_sell(32, 3)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(32, OrderStatus::filled));
  std::int64_t filled = 0;
  for (const auto& report : listener_.executions_for(32)) {
    filled += report.last_quantity.value;
  }
  EXPECT_EQ(filled, 3);
  ASSERT_EQ(gateway_->request_positions(), SubmitResult::sent);
  ASSERT_TRUE(poll_until(*gateway_, [&] { return listener_.positions().size() == 2; }));
  EXPECT_EQ(listener_.positions().back().position, hedging::Contracts{-3});
  ASSERT_EQ(gateway_->submit(hedging::CancelIntent{31, kTestVenueId}), SubmitResult::sent);
  ASSERT_TRUE(wait_status(31, OrderStatus::canceled));
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !listener_.collaterals().empty(); }));
  EXPECT_TRUE(listener_.alerts_of(AlertKind::invalid_report).empty());
  EXPECT_TRUE(listener_.alerts_of(AlertKind::unknown_order).empty());
  EXPECT_TRUE(listener_.alerts_of(AlertKind::business_reject).empty());
}

TEST_F(GatewayVenueSimulatorTest, WrongSecretIsRefused) {
  start("not-the-secret");
  ASSERT_TRUE(poll_until(
      *gateway_, [&] { return !listener_.alerts_of(AlertKind::logon_failed).empty(); }, 10'000));
  EXPECT_TRUE(listener_.alerts_of(AlertKind::logon).empty());
  EXPECT_FALSE(gateway_->logged_on());
}

} // namespace
} // namespace synthusd::fix::testing
