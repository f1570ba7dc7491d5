// Collateral through the gateway, against the in-process test venue
// (tests/fix/gateway_test_venue): the CollateralInquiry (BB) at logon and
// periodically, CollateralReport (BA) to CollateralEvent in exact satoshis
// and to the kernel's CollateralSnapshot, malformed reports and refusing
// acks (BG) as alerts, and a venue that rejects BB outright.
#include "gateway_test_support.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace synthusd::fix::testing {
namespace {

// The session's own listener: CollateralEvent carries more than the kernel's
// CollateralSnapshot (balance, margins).
class SessionListener final : public GatewayListener {
public:
  void on_execution(const ExecutionEvent&) override {}
  void on_position(const PositionEvent& event) override { positions.push_back(event); }
  void on_alert(const GatewayAlert& alert) override { alerts.push_back(alert); }
  void on_collateral(const CollateralEvent& event) override { collaterals.push_back(event); }

  [[nodiscard]] std::vector<GatewayAlert> alerts_of(AlertKind kind) const {
    std::vector<GatewayAlert> out;
    for (const GatewayAlert& alert : alerts) {
      if (alert.kind == kind) {
        out.push_back(alert);
      }
    }
    return out;
  }

  std::vector<PositionEvent> positions;
  std::vector<GatewayAlert> alerts;
  std::vector<CollateralEvent> collaterals;
};

constexpr std::int64_t kSatsPerBitcoin = 100'000'000;

class GatewayCollateralTest : public ::testing::Test {
protected:
  void start(TestVenueConfig venue_config = TestVenueConfig(),
             const std::function<void(GatewayConfig&)>& adjust = nullptr) {
    venue_ = std::make_unique<TestVenue>(venue_config);
    venue_->start();
    GatewayConfig config = test_gateway_config(venue_->port(), directory_);
    if (adjust) {
      adjust(config);
    }
    session_ = std::make_unique<GatewaySession>(std::move(config), listener_);
    session_->start();
    ASSERT_TRUE(poll_until([&] { return listener_.alerts_of(AlertKind::logon).size() == 1; }));
    ASSERT_TRUE(poll_until([&] { return !listener_.positions.empty(); }));
  }

  void TearDown() override {
    if (session_) {
      session_->stop();
    }
    if (venue_) {
      venue_->stop();
    }
  }

  bool poll_until(const std::function<bool()>& condition, int timeout_ms = 5000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      session_->poll();
      if (condition()) {
        return true;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  void poll_for(int milliseconds) {
    (void)poll_until([] { return false; }, milliseconds);
  }

  std::vector<std::string> inquiries() const {
    std::vector<std::string> out;
    for (const std::string& message : venue_->received()) {
      if (field(message, 35) == "BB") {
        out.push_back(message);
      }
    }
    return out;
  }

  // Sends a CollateralReport and waits for what it becomes: true if an
  // event, false if an invalid_report alert.
  bool report(const std::string& body) {
    const std::size_t events = listener_.collaterals.size();
    const std::size_t invalid = listener_.alerts_of(AlertKind::invalid_report).size();
    EXPECT_TRUE(venue_->send("35=BA|" + body));
    EXPECT_TRUE(poll_until([&] {
      return listener_.collaterals.size() > events || listener_.alerts_of(AlertKind::invalid_report).size() > invalid;
    })) << body;
    return listener_.collaterals.size() > events;
  }

  TemporaryDirectory directory_;
  SessionListener listener_;
  std::unique_ptr<TestVenue> venue_;
  std::unique_ptr<GatewaySession> session_;
};

TEST_F(GatewayCollateralTest, LogonSendsACollateralInquiryAndItsReportBecomesAnEvent) {
  start();
  ASSERT_TRUE(poll_until([&] { return !listener_.collaterals.empty(); }));
  const auto sent = inquiries();
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(field(sent[0], 909), "TC1");
  EXPECT_EQ(field(sent[0], 263), "0");
  EXPECT_EQ(field(sent[0], 1), "");
  const CollateralEvent& event = listener_.collaterals[0];
  EXPECT_EQ(event.venue, kTestVenueId);
  EXPECT_EQ(event.equity_sats, kSatsPerBitcoin);
  EXPECT_EQ(event.balance_sats, kSatsPerBitcoin);
  EXPECT_EQ(event.initial_margin_sats, 0);
  EXPECT_EQ(event.maintenance_margin_sats, 0);
  EXPECT_GT(event.receive_time_ns, 0);
  EXPECT_EQ(session_->counters().collateral_requests_sent, 1U);
  EXPECT_TRUE(listener_.alerts_of(AlertKind::invalid_report).empty());
  EXPECT_TRUE(listener_.alerts_of(AlertKind::unsupported_message).empty());
}

TEST_F(GatewayCollateralTest, TheKernelGetsACollateralSnapshotThroughTheOrderGateway) {
  TestVenueConfig venue_config;
  venue_config.collateral_btc = "0.5";
  venue_ = std::make_unique<TestVenue>(venue_config);
  venue_->start();
  RecordingListener kernel;
  OrderGateway gateway(test_gateway_config(venue_->port(), directory_), kernel);
  gateway.start();
  ASSERT_TRUE(testing::poll_until(gateway, [&] { return !kernel.collaterals().empty(); }));
  const hedging::CollateralSnapshot snapshot = kernel.collaterals()[0];
  EXPECT_EQ(snapshot.venue, kTestVenueId);
  EXPECT_EQ(snapshot.equity, hedging::Sats{kSatsPerBitcoin / 2});
  EXPECT_GT(snapshot.time.nanoseconds, 0);
  ASSERT_EQ(gateway.request_collateral(), SubmitResult::sent);
  ASSERT_TRUE(testing::poll_until(gateway, [&] { return kernel.collaterals().size() == 2; }));
  gateway.stop();
}

TEST_F(GatewayCollateralTest, BitcoinDecimalsBecomeSatoshisExactly) {
  start(TestVenueConfig(), [](GatewayConfig& config) { config.position_account = "acct-7"; });
  ASSERT_TRUE(poll_until([&] { return !listener_.collaterals.empty(); }));
  EXPECT_EQ(field(inquiries()[0], 1), "acct-7");

  ASSERT_TRUE(report("909=X1|15=BTC|900=0.12345678|901=0.2|899=0.1|9110=0.00000001|9111=21000000|"));
  CollateralEvent event = listener_.collaterals.back();
  EXPECT_EQ(event.equity_sats, 12'345'678);
  EXPECT_EQ(event.balance_sats, 20'000'000);
  EXPECT_EQ(event.initial_margin_sats, 1);
  EXPECT_EQ(event.maintenance_margin_sats, 21'000'000 * kSatsPerBitcoin);

  // Trailing zeros beyond the 8th decimal are exact; negative equity (a
  // bankrupt account) is reported as it is; without 9110 the initial margin
  // is TotalNetValue - MarginExcess.
  ASSERT_TRUE(report("900=-0.0000000100|899=-0.5|"));
  event = listener_.collaterals.back();
  EXPECT_EQ(event.equity_sats, -1);
  EXPECT_EQ(event.initial_margin_sats, 49'999'999);
  EXPECT_EQ(event.balance_sats, 0) << "absent: 0";
  EXPECT_EQ(event.maintenance_margin_sats, 0);
  EXPECT_TRUE(listener_.alerts_of(AlertKind::invalid_report).empty());
}

// A venue pays out equity less initial margin, but never unrealised profit
// (more than the balance); nothing when margin exceeds equity.
TEST_F(GatewayCollateralTest, TheWithdrawableAmountIsEquityLessMarginCappedAtTheBalance) {
  start();
  ASSERT_TRUE(poll_until([&] { return !listener_.collaterals.empty(); }));
  EXPECT_EQ(listener_.collaterals[0].withdrawable_sats, kSatsPerBitcoin) << "1 BTC, no margin";

  ASSERT_TRUE(report("909=X1|15=BTC|900=1.5|901=1|9110=0.2|"));
  EXPECT_EQ(listener_.collaterals.back().withdrawable_sats, kSatsPerBitcoin) << "profit 0.5 stays";
  ASSERT_TRUE(report("909=X2|15=BTC|900=0.8|901=1|9110=0.2|"));
  EXPECT_EQ(listener_.collaterals.back().withdrawable_sats, 60'000'000) << "a loss and the margin stay";
  ASSERT_TRUE(report("909=X3|15=BTC|900=0.1|901=1|9110=0.2|"));
  EXPECT_EQ(listener_.collaterals.back().withdrawable_sats, 0);
  ASSERT_TRUE(report("909=X4|15=BTC|900=0.7|899=0.25|"));
  EXPECT_EQ(listener_.collaterals.back().withdrawable_sats, 25'000'000) << "no balance: the margin excess";
}

TEST_F(GatewayCollateralTest, MalformedReportsAreAlertsNotEventsAndTheSessionCarriesOn) {
  start();
  ASSERT_TRUE(poll_until([&] { return !listener_.collaterals.empty(); }));
  const std::vector<std::string> malformed = {
      "909=M1|900=1.000000001|",                  // a 9th significant decimal: not a whole satoshi
      "909=M2|900=abc|",                          // not a number
      "909=M4|901=1|899=1|",                      // no TotalNetValue
      "909=M5|900=1|9110=-0.1|",                  // negative margin
      "909=M6|900=1|15=ETH|",                     // not BTC
      "909=M7|900=92233720368.54775808|",         // beyond int64 satoshis
      "909=M8|900=1e3|",                          // exponent
      "909=M9|900=92233720368|899=-92233720368|", // 900 - 899 overflows
  };
  for (const std::string& body : malformed) {
    EXPECT_FALSE(report(body)) << body;
  }
  const auto alerts = listener_.alerts_of(AlertKind::invalid_report);
  ASSERT_EQ(alerts.size(), malformed.size());
  EXPECT_EQ(alerts[0].reference.str(), "M1");
  EXPECT_EQ(alerts[0].reference_message_type.str(), "BA");
  EXPECT_NE(alerts[0].text.str().find("tag 900"), std::string::npos) << alerts[0].text.str();
  EXPECT_NE(alerts[2].text.str().find("TotalNetValue(900)"), std::string::npos) << alerts[2].text.str();
  EXPECT_NE(alerts[4].text.str().find("ETH"), std::string::npos) << alerts[4].text.str();
  // An empty value never reaches the gateway: QuickFIX's session layer
  // answers it with a Reject(3) (tag without a value) and carries on.
  ASSERT_TRUE(venue_->send("35=BA|909=M10|900=|901=1|"));
  poll_for(300);
  EXPECT_EQ(listener_.collaterals.size(), 1U) << "only the logon's report";

  EXPECT_TRUE(session_->logged_on());
  ASSERT_TRUE(report("909=OK|900=2|"));
  EXPECT_EQ(listener_.collaterals.back().equity_sats, 2 * kSatsPerBitcoin);
}

TEST_F(GatewayCollateralTest, AnAckThatRefusesIsAnAlert) {
  TestVenueConfig venue_config;
  venue_config.collateral_btc.clear(); // the venue leaves BB unanswered; the test answers
  start(venue_config);
  ASSERT_TRUE(venue_->send("35=BG|909=TC1|945=0|946=0|")); // accepted: nothing to say
  ASSERT_TRUE(venue_->send("35=BG|909=TC1|945=4|946=99|58=collateral inquiries not permitted|"));
  ASSERT_TRUE(poll_until([&] { return !listener_.alerts_of(AlertKind::collateral_reject).empty(); }));
  const GatewayAlert alert = listener_.alerts_of(AlertKind::collateral_reject)[0];
  EXPECT_EQ(alert.reference.str(), "TC1");
  EXPECT_EQ(alert.reference_message_type.str(), "BG");
  EXPECT_EQ(alert.reason, 99);
  EXPECT_EQ(alert.text.str(), "collateral inquiries not permitted");
  EXPECT_STREQ(to_string(alert.kind), "collateral_reject");

  ASSERT_TRUE(venue_->send("35=BG|909=TC1|945=x|"));
  ASSERT_TRUE(poll_until([&] { return !listener_.alerts_of(AlertKind::invalid_report).empty(); }));
  EXPECT_EQ(listener_.alerts_of(AlertKind::collateral_reject).size(), 1U);
  EXPECT_TRUE(listener_.collaterals.empty());
}

TEST_F(GatewayCollateralTest, CollateralIsRequestedPeriodically) {
  start(TestVenueConfig(), [](GatewayConfig& config) { config.collateral_request_interval_seconds = 1; });
  ASSERT_TRUE(poll_until([&] { return listener_.collaterals.size() >= 3; }, 5'000));
  const auto sent = inquiries();
  ASSERT_GE(sent.size(), 3U);
  EXPECT_EQ(field(sent[1], 909), "TC2");
  EXPECT_EQ(field(sent[2], 909), "TC3");
}

TEST_F(GatewayCollateralTest, NoInquiryWhenTheVenueDoesNotSupportIt) {
  start(TestVenueConfig(), [](GatewayConfig& config) {
    config.collateral_inquiry_supported = false;
    config.collateral_request_interval_seconds = 1;
  });
  EXPECT_EQ(session_->request_collateral(), SubmitResult::unsupported);
  EXPECT_STREQ(to_string(SubmitResult::unsupported), "unsupported");
  poll_for(1'500);
  EXPECT_TRUE(inquiries().empty());
  EXPECT_TRUE(listener_.collaterals.empty());
  EXPECT_EQ(session_->counters().collateral_requests_sent, 0U);
}

// A venue without CollateralInquiry (Deribit's FIX API has none) rejects it:
// one alert, no periodic retries in that session, and another try at the
// next logon.
TEST_F(GatewayCollateralTest, AVenueThatRejectsTheInquiryIsNotAskedAgainUntilTheNextLogon) {
  start(TestVenueConfig(), [](GatewayConfig& config) { config.collateral_request_interval_seconds = 1; });
  ASSERT_TRUE(poll_until([&] { return !listener_.collaterals.empty(); }));
  const std::string sequence = field(inquiries().back(), 34);
  ASSERT_TRUE(venue_->send("35=j|45=" + sequence + "|372=BB|380=3|58=Unsupported Message Type|"));
  ASSERT_TRUE(poll_until([&] { return !listener_.alerts_of(AlertKind::business_reject).empty(); }));
  EXPECT_EQ(listener_.alerts_of(AlertKind::business_reject)[0].reference_message_type.str(), "BB");
  poll_for(200); // an inquiry already on the wire lands
  const std::size_t before = inquiries().size();
  poll_for(2'500);
  EXPECT_EQ(inquiries().size(), before);

  session_->disconnect();
  ASSERT_TRUE(poll_until([&] { return listener_.alerts_of(AlertKind::logon).size() == 2; }, 10'000));
  ASSERT_TRUE(poll_until([&] { return inquiries().size() > before; }));
  EXPECT_EQ(session_->request_collateral(), SubmitResult::sent);
}

TEST_F(GatewayCollateralTest, NegativeIntervalIsRefused) {
  GatewayConfig config = test_gateway_config(find_free_port(), directory_);
  config.collateral_request_interval_seconds = -1;
  EXPECT_THROW(GatewaySession(std::move(config), listener_), std::invalid_argument);
}

} // namespace
} // namespace synthusd::fix::testing
