// The gateway against a QuickFIX venue on loopback: logon, order lifecycle,
// partial fills, rejects, cancel/replace, cancel-all and the kill switch.
// Disconnects, sequence resets and gaps, unknown reports, duplicates, the
// Deribit dialect, FileStore restarts and log masking:
// gateway_end_to_end_session_test.cpp.
#include "gateway_end_to_end_test_support.hpp"
#include "synthusd/fix/kill_switch.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace synthusd::fix::testing {
namespace {

using hedging::OrderStatus;
using hedging::Side;

TEST_F(GatewayEndToEndTest, LogsOnAndReconcilesPositionsAtLogon) {
  start();
  ASSERT_EQ(listener_.statuses().size(), 1U);
  EXPECT_TRUE(listener_.statuses()[0].up);
  EXPECT_EQ(listener_.statuses()[0].venue, kTestVenueId);
  const auto requests = received("AN");
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(field(requests[0], 710), "TP1");
  EXPECT_EQ(field(requests[0], 724), "0");
  EXPECT_EQ(field(requests[0], 715).size(), 8U); // ClearingBusinessDate YYYYMMDD
  const auto positions = listener_.positions();
  EXPECT_EQ(positions[0].venue, kTestVenueId);
  EXPECT_EQ(positions[0].instrument, kTestInstrument);
  EXPECT_EQ(positions[0].position, hedging::Contracts{0});
  // SocketNodelay and friends are not observable here; the Logon is.
  ASSERT_EQ(venue_->logons_received(), 1U);
  EXPECT_EQ(field(venue_->received_logons()[0], 49), "SYNTHUSD");
}

TEST_F(GatewayEndToEndTest, LimitOrderIsAcceptedPartiallyFilledThenFilled) {
  start();
  ASSERT_EQ(gateway_->submit(limit_intent(11, Side::sell, 5, 43'000)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(11, OrderStatus::accepted));

  const auto orders = received("D");
  ASSERT_EQ(orders.size(), 1U);
  const std::string& order = orders[0];
  EXPECT_EQ(field(order, 11), "T1");
  EXPECT_EQ(field(order, 54), "2");
  EXPECT_EQ(field(order, 38), "5");
  EXPECT_EQ(field(order, 40), "2");
  EXPECT_EQ(field(order, 44), "43000");
  EXPECT_EQ(field(order, 59), "1");
  EXPECT_EQ(field(order, 55), kTestSymbol);
  EXPECT_EQ(field(order, 18), "");
  EXPECT_EQ(field(order, 854), "");
  EXPECT_FALSE(field(order, 60).empty());

  ASSERT_TRUE(venue_->fill("T1", 2, hedging::Price::from_dollars(43'000).raw));
  ASSERT_TRUE(wait_status(11, OrderStatus::partially_filled));
  ASSERT_TRUE(venue_->fill("T1", 3, hedging::Price::from_dollars(43'001).raw));
  ASSERT_TRUE(wait_status(11, OrderStatus::filled));

  const auto reports = listener_.executions_for(11);
  ASSERT_EQ(reports.size(), 3U);
  EXPECT_EQ(reports[0].status, OrderStatus::accepted);
  EXPECT_EQ(reports[1].status, OrderStatus::partially_filled);
  EXPECT_EQ(reports[1].last_quantity, hedging::Contracts{2});
  EXPECT_EQ(reports[1].last_price, hedging::Price::from_dollars(43'000));
  EXPECT_EQ(reports[2].status, OrderStatus::filled);
  EXPECT_EQ(reports[2].last_quantity, hedging::Contracts{3});
  EXPECT_EQ(reports[2].last_price, hedging::Price::from_dollars(43'001));
  EXPECT_GT(reports[2].time.nanoseconds, 0);
  EXPECT_EQ(gateway_->session().open_orders(), 0U);
}

TEST_F(GatewayEndToEndTest, MarketOrderFillsAndPositionRequestSeesIt) {
  start();
  ASSERT_EQ(gateway_->submit(market_intent(21, Side::sell, 4)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(21, OrderStatus::filled));
  const auto reports = listener_.executions_for(21);
  EXPECT_EQ(reports.back().last_quantity, hedging::Contracts{4});
  EXPECT_EQ(reports.back().last_price, hedging::Price{4'325'150'000'000});
  const std::string order = received("D").back();
  EXPECT_EQ(field(order, 40), "1");
  EXPECT_EQ(field(order, 44), "");
  EXPECT_EQ(field(order, 59), "3"); // the policy's market time in force: IOC

  ASSERT_EQ(gateway_->request_positions(), SubmitResult::sent);
  ASSERT_TRUE(poll_until(*gateway_, [&] { return listener_.positions().size() == 2; }));
  EXPECT_EQ(listener_.positions().back().position, hedging::Contracts{-4});
}

TEST_F(GatewayEndToEndTest, ImmediateOrCancelPartialFillThenCancel) {
  policy_.limit_time_in_force = TimeInForce::immediate_or_cancel;
  start();
  ASSERT_EQ(gateway_->submit(limit_intent(31, Side::buy, 9, 42'000)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(31, OrderStatus::canceled));
  const auto reports = listener_.executions_for(31);
  ASSERT_EQ(reports.size(), 3U);
  EXPECT_EQ(reports[1].status, OrderStatus::partially_filled);
  EXPECT_EQ(reports[1].last_quantity, hedging::Contracts{4});
  EXPECT_EQ(reports[2].status, OrderStatus::canceled);
  EXPECT_EQ(reports[2].last_quantity, hedging::Contracts{0});
}

TEST_F(GatewayEndToEndTest, PostOnlyAndReduceOnlySetExecInst) {
  policy_.post_only_limits = true;
  start();
  hedging::OrderIntent intent = limit_intent(41, Side::buy, 1, 40'000);
  intent.reduce_only = true;
  ASSERT_EQ(gateway_->submit(intent), SubmitResult::sent);
  ASSERT_TRUE(wait_status(41, OrderStatus::accepted));
  EXPECT_EQ(field(received("D").back(), 18), "6 E");
}

TEST_F(GatewayEndToEndTest, VenueRejectReachesTheKernelAsRejected) {
  start();
  venue_->set_order_mode(OrderMode::reject);
  ASSERT_EQ(gateway_->submit(limit_intent(51, Side::sell, 1, 43'000)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(51, OrderStatus::rejected));
  EXPECT_EQ(listener_.executions_for(51).size(), 1U);
  EXPECT_EQ(gateway_->session().open_orders(), 0U);
}

TEST_F(GatewayEndToEndTest, BusinessMessageRejectOfAnOrderRejectsIt) {
  start();
  venue_->set_order_mode(OrderMode::business_reject);
  ASSERT_EQ(gateway_->submit(limit_intent(52, Side::sell, 1, 43'000)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(52, OrderStatus::rejected));
  const auto alerts = listener_.alerts_of(AlertKind::business_reject);
  ASSERT_EQ(alerts.size(), 1U);
  EXPECT_EQ(alerts[0].user_order_id, 52U);
  EXPECT_EQ(alerts[0].reference.str(), "T1");
  EXPECT_EQ(alerts[0].reference_message_type.str(), "D");
  EXPECT_EQ(alerts[0].reason, 6);
}

TEST_F(GatewayEndToEndTest, NotLoggedOnRefusesLocallyAndRejects) {
  venue_ = std::make_unique<TestVenue>();
  GatewayConfig config = test_gateway_config(venue_->port(), directory_);
  gateway_ = std::make_unique<OrderGateway>(std::move(config), listener_);
  EXPECT_EQ(gateway_->submit(limit_intent(61, Side::sell, 1, 43'000)), SubmitResult::not_logged_on);
  ASSERT_EQ(listener_.executions().size(), 1U);
  EXPECT_EQ(listener_.executions()[0].status, OrderStatus::rejected);
  EXPECT_EQ(listener_.executions()[0].client_order_id, 61U);
  hedging::OrderIntent elsewhere = limit_intent(62, Side::sell, 1, 43'000);
  elsewhere.venue = kTestVenueId + 1;
  EXPECT_EQ(gateway_->submit(elsewhere), SubmitResult::unknown_instrument);
  EXPECT_EQ(listener_.executions().back().status, OrderStatus::rejected);
}

TEST_F(GatewayEndToEndTest, ReplaceThenCancel) {
  start();
  ASSERT_EQ(gateway_->submit(limit_intent(71, Side::sell, 5, 43'000)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(71, OrderStatus::accepted));
  ASSERT_EQ(gateway_->replace(71, hedging::Contracts{8}, hedging::Price::from_dollars(43'100)), SubmitResult::sent);
  EXPECT_EQ(gateway_->replace(71, hedging::Contracts{9}, hedging::Price::from_dollars(43'100)),
            SubmitResult::request_pending);
  ASSERT_TRUE(poll_until(*gateway_, [&] { return listener_.replaced.size() == 1; }));
  EXPECT_EQ(listener_.replaced[0].order_quantity, 8);
  EXPECT_EQ(listener_.replaced[0].price_e8, hedging::Price::from_dollars(43'100).raw);

  const std::string replace = received("G").at(0);
  EXPECT_EQ(field(replace, 41), "T1");
  EXPECT_EQ(field(replace, 11), "T2");
  EXPECT_EQ(field(replace, 38), "8");
  EXPECT_EQ(field(replace, 44), "43100");
  EXPECT_EQ(field(replace, 37), "V1");

  ASSERT_EQ(gateway_->submit(hedging::CancelIntent{71, kTestVenueId}), SubmitResult::sent);
  ASSERT_TRUE(wait_status(71, OrderStatus::canceled));
  const std::string cancel = received("F").at(0);
  EXPECT_EQ(field(cancel, 41), "T2"); // the id the replace gave the order
  EXPECT_EQ(field(cancel, 11), "T3");
  EXPECT_EQ(field(cancel, 38), "8");
  EXPECT_EQ(gateway_->submit(hedging::CancelIntent{71, kTestVenueId}), SubmitResult::unknown_order);
  EXPECT_EQ(listener_.executions_for(71).size(), 2U); // accepted, canceled: replaced is not a kernel event
}

TEST_F(GatewayEndToEndTest, CancelRejectIsAnAlertAndTheOrderStaysWorking) {
  start();
  ASSERT_EQ(gateway_->submit(limit_intent(81, Side::sell, 5, 43'000)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(81, OrderStatus::accepted));
  ASSERT_TRUE(venue_->drop("T1"));
  ASSERT_EQ(gateway_->submit(hedging::CancelIntent{81, kTestVenueId}), SubmitResult::sent);
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !listener_.alerts_of(AlertKind::cancel_reject).empty(); }));
  const GatewayAlert alert = listener_.alerts_of(AlertKind::cancel_reject)[0];
  EXPECT_EQ(alert.user_order_id, 81U);
  EXPECT_EQ(alert.reason, 1);
  EXPECT_EQ(alert.text.str(), "unknown or closed order");
  EXPECT_EQ(gateway_->session().open_orders(), 1U);
  // No longer pending: the cancel can be retried.
  EXPECT_EQ(gateway_->submit(hedging::CancelIntent{81, kTestVenueId}), SubmitResult::sent);
}

TEST_F(GatewayEndToEndTest, CancelAllWithOrderMassCancelRequest) {
  start();
  for (hedging::ClientOrderId id : {91, 92, 93}) {
    ASSERT_EQ(gateway_->submit(limit_intent(id, Side::sell, 1, 43'000 + static_cast<std::int64_t>(id))),
              SubmitResult::sent);
  }
  ASSERT_TRUE(wait_status(93, OrderStatus::accepted));
  ASSERT_EQ(gateway_->cancel_all(), SubmitResult::sent);
  for (hedging::ClientOrderId id : {91, 92, 93}) {
    ASSERT_TRUE(wait_status(id, OrderStatus::canceled)) << id;
  }
  ASSERT_EQ(received("q").size(), 1U);
  EXPECT_EQ(field(received("q")[0], 530), "7");
  EXPECT_TRUE(received("F").empty());
}

TEST_F(GatewayEndToEndTest, KillSwitchBlocksNewOrdersAndCancelsEverythingOpenUntilResumed) {
  start();
  RiskLimits limits;
  limits.order_rate = {0, 0};
  limits.message_rate = {0, 0};
  hedging::InstrumentSpec spec;
  spec.id = kTestInstrument;
  spec.venue = kTestVenueId;
  spec.symbol = kTestSymbol;
  const std::vector<hedging::InstrumentSpec> instruments{spec};
  PreTradeRisk risk(limits, instruments);
  risk.on_session(kTestVenueId, true);
  const hedging::Timestamp now{1'704'067'200'000'000'000};
  risk.on_reference_price(kTestInstrument, hedging::Price::from_dollars(43'000), now);
  const auto watched = std::filesystem::temp_directory_path() / ("synthusd_kill_" + std::to_string(::getpid()));
  std::filesystem::remove(watched);
  KillSwitch kill(risk, *gateway_, watched.string());

  for (hedging::ClientOrderId id : {121, 122}) {
    const hedging::OrderIntent intent = limit_intent(id, Side::sell, 1, 43'100);
    ASSERT_EQ(risk.check_order(intent, now), RiskReject::none);
    ASSERT_EQ(gateway_->submit(intent), SubmitResult::sent);
  }
  ASSERT_TRUE(wait_status(122, OrderStatus::accepted));
  EXPECT_FALSE(kill.poll()); // no file yet
  std::ofstream(watched).put('\n');
  ASSERT_TRUE(kill.poll());
  EXPECT_TRUE(kill.engaged());
  ASSERT_TRUE(wait_status(121, OrderStatus::canceled));
  ASSERT_TRUE(wait_status(122, OrderStatus::canceled));
  EXPECT_EQ(risk.check_order(limit_intent(123, Side::sell, 1, 43'100), now), RiskReject::kill_switch);
  EXPECT_FALSE(kill.poll()); // engaged once, not again
  std::filesystem::remove(watched);
  kill.resume();
  EXPECT_EQ(risk.check_order(limit_intent(124, Side::sell, 1, 43'100), now), RiskReject::none);
}

TEST_F(GatewayEndToEndTest, CancelAllOneByOneWhenMassCancelIsUnsupported) {
  start(TestVenueConfig(), [](GatewayConfig& config) { config.mass_cancel_supported = false; });
  for (hedging::ClientOrderId id : {101, 102}) {
    ASSERT_EQ(gateway_->submit(limit_intent(id, Side::buy, 1, 40'000)), SubmitResult::sent);
  }
  ASSERT_TRUE(wait_status(102, OrderStatus::accepted));
  ASSERT_EQ(gateway_->cancel_all(), SubmitResult::sent);
  ASSERT_TRUE(wait_status(101, OrderStatus::canceled));
  ASSERT_TRUE(wait_status(102, OrderStatus::canceled));
  EXPECT_TRUE(received("q").empty());
  EXPECT_EQ(received("F").size(), 2U);
}

TEST_F(GatewayEndToEndTest, ExpiredOrderReachesTheKernelAsCanceled) {
  start();
  venue_->set_order_mode(OrderMode::acknowledge);
  ASSERT_EQ(gateway_->submit(limit_intent(191, Side::sell, 2, 43'000)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(191, OrderStatus::accepted));
  ASSERT_TRUE(venue_->send("35=8|37=V1|11=T1|17=X1|150=C|39=C|55=BTC-PERPETUAL|54=2|38=2|14=0|151=0|6=0|"));
  ASSERT_TRUE(wait_status(191, OrderStatus::canceled));
  EXPECT_EQ(gateway_->session().open_orders(), 0U);
}

TEST_F(GatewayEndToEndTest, PositionsAreRequestedPeriodically) {
  start(TestVenueConfig(), [](GatewayConfig& config) { config.position_request_interval_seconds = 1; });
  ASSERT_TRUE(poll_until(
      *gateway_, [&] { return listener_.positions().size() >= 3; }, 5'000));
  EXPECT_GE(received("AN").size(), 3U);
}

TEST_F(GatewayEndToEndTest, SessionRejectOfAnOrderRejectsIt) {
  start();
  venue_->set_order_mode(OrderMode::silent);
  ASSERT_EQ(gateway_->submit(limit_intent(201, Side::sell, 2, 43'000)), SubmitResult::sent);
  ASSERT_TRUE(venue_->wait_for_received(3, 5000)); // AN, BB, D
  const std::string sequence = field(received("D").at(0), 34);
  ASSERT_TRUE(venue_->send("35=3|45=" + sequence + "|372=D|373=5|58=Value is incorrect for this tag|"));
  ASSERT_TRUE(wait_status(201, OrderStatus::rejected));
  const auto alerts = listener_.alerts_of(AlertKind::session_reject);
  ASSERT_EQ(alerts.size(), 1U);
  EXPECT_EQ(alerts[0].user_order_id, 201U);
  EXPECT_EQ(alerts[0].reason, 5);
}

} // namespace
} // namespace synthusd::fix::testing
