// The gateway against a QuickFIX venue on loopback, its session: a
// disconnect with an order in flight, reconnects, sequence resets and gaps,
// unknown and duplicate reports, the Deribit dialect, FileStore restarts,
// log masking and backpressure. Order lifecycle: gateway_end_to_end_test.cpp.
#include "gateway_end_to_end_test_support.hpp"
#include "synthusd/fix/deribit.hpp"
#include "synthusd/fix/gateway_decimal.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

namespace synthusd::fix::testing {
namespace {

using hedging::OrderStatus;
using hedging::Side;

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// The order goes out, the connection drops before the venue answers, the
// venue fills it while we are away; on reconnect QuickFIX asks for a resend
// and the fill arrives as a PossDup resend; the status request the gateway
// sends for its open order confirms it. The fill is booked exactly once.
TEST_F(GatewayEndToEndTest, DisconnectWithOrderInFlightThenResendAndReconcile) {
  start();
  venue_->set_order_mode(OrderMode::silent);
  ASSERT_EQ(gateway_->submit(limit_intent(111, Side::sell, 6, 43'000)), SubmitResult::sent);
  ASSERT_TRUE(venue_->wait_for_received(3, 5000)); // AN, BB, D
  venue_->disconnect();
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !listener_.alerts_of(AlertKind::logout).empty(); }));
  EXPECT_FALSE(listener_.statuses().back().up);
  EXPECT_EQ(gateway_->submit(limit_intent(112, Side::sell, 1, 43'000)), SubmitResult::not_logged_on);

  ASSERT_TRUE(venue_->fill("T1", 6, hedging::Price::from_dollars(43'000).raw)); // stored, sent on resend
  ASSERT_TRUE(poll_until(
      *gateway_, [&] { return listener_.alerts_of(AlertKind::logon).size() == 2; }, 10'000));
  ASSERT_TRUE(wait_status(111, OrderStatus::filled));
  poll_for(*gateway_, 300);

  std::int64_t filled = 0;
  for (const auto& report : listener_.executions_for(111)) {
    filled += report.last_quantity.value;
  }
  EXPECT_EQ(filled, 6);
  EXPECT_GE(venue_->resend_requests_received(), 1U);
  EXPECT_GE(gateway_->session().counters().possible_duplicates_received, 1U);
  EXPECT_EQ(received("H").size() + received("AN").size() >= 3, true); // status request and a second AN
  EXPECT_EQ(listener_.statuses().back().up, true);
  EXPECT_GE(listener_.positions().size(), 2U);
}

// A venue that reuses an ExecID on another order (or after its own restart):
// the second order's fill is real and must be booked, and counted; the same
// report again on the same order is still a duplicate.
TEST_F(GatewayEndToEndTest, AnExecIdReusedOnAnotherOrderIsBookedCountedAndAlerted) {
  start();
  venue_->set_order_mode(OrderMode::acknowledge);
  ASSERT_EQ(gateway_->submit(limit_intent(151, Side::sell, 2, 43'000)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(151, OrderStatus::accepted));
  ASSERT_EQ(gateway_->submit(limit_intent(152, Side::sell, 3, 43'000)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(152, OrderStatus::accepted));
  const std::string first = venue_->order("T1").order_id;
  const std::string second = venue_->order("T2").order_id;
  ASSERT_FALSE(first.empty());
  ASSERT_NE(first, second);
  ASSERT_TRUE(venue_->send("35=8|37=" + first +
                           "|11=T1|17=REUSED|150=F|39=2|55=BTC-PERPETUAL|54=2|38=2|32=2|"
                           "31=43000|14=2|151=0|6=43000|"));
  ASSERT_TRUE(wait_status(151, OrderStatus::filled));
  ASSERT_TRUE(venue_->send("35=8|37=" + second +
                           "|11=T2|17=REUSED|150=F|39=2|55=BTC-PERPETUAL|54=2|38=3|32=3|"
                           "31=43000|14=3|151=0|6=43000|"));
  ASSERT_TRUE(wait_status(152, OrderStatus::filled)) << "a real fill was dropped as a duplicate";
  EXPECT_EQ(gateway_->session().counters().exec_ids_reused, 1U);
  EXPECT_EQ(gateway_->session().counters().duplicate_execution_reports, 0U);
  const auto reused = listener_.alerts_of(AlertKind::exec_id_reused);
  ASSERT_EQ(reused.size(), 1U); // booked, counted and alerted
  EXPECT_EQ(reused[0].user_order_id, 152U);
  EXPECT_TRUE(reused[0].exec_id.equals("REUSED"));
  // The very same report again: a duplicate, dropped.
  ASSERT_TRUE(venue_->send("35=8|37=" + second +
                           "|11=T2|17=REUSED|150=F|39=2|55=BTC-PERPETUAL|54=2|38=3|32=3|"
                           "31=43000|14=3|151=0|6=43000|"));
  ASSERT_TRUE(poll_until(*gateway_, [&] { return gateway_->session().counters().duplicate_execution_reports == 1; }));
  std::int64_t filled = 0;
  for (const auto& report : listener_.executions_for(152)) {
    filled += report.last_quantity.value;
  }
  EXPECT_EQ(filled, 3);
}

// A venue restarted on the same port while the gateway runs starts its
// OrderIDs and ExecIDs again from 1, so the new session's first order gets
// the ids the old session's first order had. Its fill is real and must reach
// the kernel once: a dedupe keyed on the venue's ids dropped it, the order
// stayed in flight and the kernel bought the short back.
TEST_F(GatewayEndToEndTest, AVenueRestartedWithIdsFromOneHasItsFirstFillBooked) {
  TestVenueConfig venue_config;
  venue_config.reset_on_logon = true; // a fresh venue has no sequence numbers to resume
  const auto adjust = [](GatewayConfig& config) { config.reset_sequence_numbers_on_logon = true; };
  start(venue_config, adjust);
  ASSERT_EQ(gateway_->submit(market_intent(191, Side::sell, 1)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(191, OrderStatus::filled));
  const VenueOrder before = venue_->order("T1");

  venue_config.port = venue_->port();
  venue_->stop();
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !listener_.alerts_of(AlertKind::logout).empty(); }));
  venue_ = std::make_unique<TestVenue>(venue_config);
  venue_->start();
  ASSERT_TRUE(poll_until(
      *gateway_, [&] { return listener_.alerts_of(AlertKind::logon).size() == 2; }, 15'000));

  ASSERT_EQ(gateway_->submit(market_intent(192, Side::sell, 1)), SubmitResult::sent);
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !received("D").empty(); }));
  ASSERT_EQ(venue_->order(client_order_id_of_last_order()).order_id, before.order_id)
      << "the restarted venue reuses the first session's OrderID";
  ASSERT_TRUE(wait_status(192, OrderStatus::filled)) << "the restarted venue's first fill was dropped";
  poll_for(*gateway_, 200);
  std::int64_t filled = 0;
  for (const auto& report : listener_.executions_for(192)) {
    filled += report.last_quantity.value;
  }
  EXPECT_EQ(filled, 1) << "booked exactly once";
  EXPECT_EQ(gateway_->session().counters().duplicate_execution_reports, 0U);
}

TEST_F(GatewayEndToEndTest, ReconnectsAfterTheGatewayDropsTheLine) {
  start();
  gateway_->session().disconnect();
  ASSERT_TRUE(poll_until(
      *gateway_, [&] { return listener_.alerts_of(AlertKind::logon).size() == 2; }, 10'000));
  ASSERT_EQ(gateway_->submit(market_intent(121, Side::buy, 1)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(121, OrderStatus::filled));
}

TEST_F(GatewayEndToEndTest, SequenceResetFromTheVenueIsFollowed) {
  start();
  ASSERT_EQ(gateway_->submit(limit_intent(131, Side::sell, 2, 43'000)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(131, OrderStatus::accepted));
  venue_->reset_sequence(500);
  ASSERT_TRUE(venue_->fill("T1", 2, hedging::Price::from_dollars(43'000).raw));
  ASSERT_TRUE(wait_status(131, OrderStatus::filled));
  EXPECT_TRUE(gateway_->logged_on());
  EXPECT_EQ(venue_->resend_requests_received(), 0U);
  // The session goes on from 500 (the status request the reset prompts is
  // answered there too: ASequenceResetOverReportsAsksOpenOrdersStatusAndPositions).
  EXPECT_GE(std::stoll(field(venue_->sent().back(), 34)), 500);
  EXPECT_EQ(listener_.alerts_of(AlertKind::sequence_reset).size(), 1U);
}

TEST_F(GatewayEndToEndTest, SequenceGapIsResentAndGapFilled) {
  TestVenueConfig venue_config;
  venue_config.store_directory = directory_.file("venue_store");
  start(venue_config);
  ASSERT_EQ(gateway_->submit(limit_intent(141, Side::sell, 2, 43'000)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(141, OrderStatus::accepted));
  venue_->skip_sequence_numbers(5);
  ASSERT_TRUE(venue_->fill("T1", 2, hedging::Price::from_dollars(43'000).raw));
  ASSERT_TRUE(wait_status(141, OrderStatus::filled));
  poll_for(*gateway_, 100);
  EXPECT_EQ(venue_->resend_requests_received(), 1U);
  EXPECT_TRUE(gateway_->logged_on());
  // QuickFIX handles the queued original or the PossDup resend, not both
  // (whichever comes second is below the expected sequence number).
  EXPECT_EQ(listener_.executions_for(141).size(), 2U); // accepted, filled
}

TEST_F(GatewayEndToEndTest, ExecutionReportForAnUnknownOrderRaisesAnAlertAndReconciles) {
  start();
  const std::size_t requests_before = received("AN").size();
  ASSERT_TRUE(venue_->send("35=8|37=X9|11=NOTOURS|17=U1|150=F|39=2|55=BTC-PERPETUAL|54=1|38=3|32=3|31=43000.5|"
                           "14=3|151=0|6=43000.5|60=20240102-03:04:05.000|58=manual trade|"));
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !listener_.alerts_of(AlertKind::unknown_order).empty(); }));
  const GatewayAlert alert = listener_.alerts_of(AlertKind::unknown_order)[0];
  EXPECT_EQ(alert.client_order_id.str(), "NOTOURS");
  EXPECT_EQ(alert.venue_order_id.str(), "X9");
  EXPECT_EQ(alert.exec_id.str(), "U1");
  EXPECT_EQ(alert.symbol.str(), kTestSymbol);
  EXPECT_EQ(alert.exec_type, 'F');
  EXPECT_EQ(alert.order_status, '2');
  EXPECT_EQ(alert.side, '1');
  EXPECT_EQ(alert.last_quantity_e8, 3 * kDecimalScale);
  EXPECT_EQ(alert.last_price_e8, 4'300'050'000'000);
  EXPECT_EQ(alert.text.str(), "manual trade");
  EXPECT_EQ(alert.user_order_id, 0U);
  EXPECT_TRUE(listener_.executions().empty()) << "nothing reaches the kernel as an execution";
  // Reconciled: a RequestForPositions goes out and its answer comes back up.
  ASSERT_TRUE(poll_until(*gateway_, [&] { return listener_.positions().size() == 2; }));
  EXPECT_EQ(received("AN").size(), requests_before + 1);
  EXPECT_EQ(gateway_->session().counters().unknown_orders, 1U);
}

TEST_F(GatewayEndToEndTest, DuplicateExecutionReportIsDroppedByExecId) {
  start();
  ASSERT_EQ(gateway_->submit(limit_intent(151, Side::sell, 4, 43'000)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(151, OrderStatus::accepted));
  ASSERT_TRUE(venue_->fill("T1", 1, hedging::Price::from_dollars(43'000).raw));
  ASSERT_TRUE(wait_status(151, OrderStatus::partially_filled));
  ASSERT_TRUE(venue_->resend_last_execution_report());
  poll_for(*gateway_, 200);
  EXPECT_EQ(listener_.executions_for(151).size(), 2U);
  EXPECT_EQ(gateway_->session().counters().duplicate_execution_reports, 1U);
}

TEST_F(GatewayEndToEndTest, DeribitDialectEndToEnd) {
  start(deribit_test_venue(), [&](GatewayConfig& config) {
    use_deribit_dialect(config);
    config.message_log_path = directory_.file("messages.log");
  });
  const std::string logon = venue_->received_logons().at(0);
  EXPECT_EQ(field(logon, 553), "deribit-client");
  EXPECT_EQ(field(logon, 9001), "Y");
  EXPECT_EQ(field(logon, 554), deribit::password(field(logon, 96), "deribit-secret"));
  EXPECT_EQ(field(received("AN").at(0), 715), "") << "Deribit's AN carries no ClearingBusinessDate";

  ASSERT_EQ(gateway_->submit(limit_intent(161, Side::sell, 3, 43'000)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(161, OrderStatus::accepted));
  const std::string order = received("D").at(0);
  EXPECT_EQ(field(order, 38), "30"); // 3 contracts of $10, in USD
  EXPECT_EQ(field(order, 854), "0");
  ASSERT_TRUE(venue_->fill("T1", 1, hedging::Price::from_dollars(43'000).raw)); // venue reports contracts
  ASSERT_TRUE(wait_status(161, OrderStatus::partially_filled));
  EXPECT_EQ(listener_.executions_for(161).back().last_quantity, hedging::Contracts{1});

  ASSERT_EQ(gateway_->replace(161, hedging::Contracts{4}, hedging::Price::from_dollars(43'050)), SubmitResult::sent);
  ASSERT_TRUE(poll_until(*gateway_, [&] { return listener_.replaced.size() == 1; }));
  const std::string replace = received("G").at(0);
  EXPECT_EQ(field(replace, 11), "T1"); // Deribit amends by the order's own ClOrdID
  EXPECT_EQ(field(replace, 41), "");
  EXPECT_EQ(field(replace, 38), "40");
  EXPECT_EQ(listener_.replaced[0].order_quantity, 4);

  ASSERT_EQ(gateway_->submit(limit_intent(162, Side::sell, 2, 44'000)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(162, OrderStatus::accepted));
  ASSERT_EQ(gateway_->cancel_all(), SubmitResult::sent);
  ASSERT_TRUE(wait_status(161, OrderStatus::canceled)); // from the report's list of affected orders
  ASSERT_TRUE(wait_status(162, OrderStatus::canceled));

  ASSERT_EQ(gateway_->request_positions(), SubmitResult::sent);
  ASSERT_TRUE(poll_until(*gateway_, [&] { return listener_.positions().size() == 2; }));
  EXPECT_EQ(listener_.positions().back().position, hedging::Contracts{-1});

  gateway_->session().flush_log();
  const std::string log = read_all(directory_.file("messages.log"));
  EXPECT_NE(log.find("554=***"), std::string::npos);
  EXPECT_NE(log.find("96=***"), std::string::npos);
  EXPECT_EQ(log.find(field(logon, 554)), std::string::npos) << "the password reached the log";
  EXPECT_EQ(log.find(field(logon, 96).substr(14)), std::string::npos) << "the nonce reached the log";
  EXPECT_EQ(log.find("deribit-secret"), std::string::npos);
}

TEST_F(GatewayEndToEndTest, DeribitLogonWithAWrongSecretIsRefused) {
  TestVenueConfig venue_config;
  venue_config.sender_comp_id = "DERIBITSERVER";
  venue_config.deribit = true;
  venue_config.secret = "the-right-secret";
  venue_ = std::make_unique<TestVenue>(venue_config);
  venue_->start();
  GatewayConfig config = test_gateway_config(venue_->port(), directory_);
  config.dialect = Dialect::deribit;
  config.target_comp_id = "DERIBITSERVER";
  config.credentials.client_id = "c";
  config.credentials.client_secret = SecretString("a-wrong-secret");
  gateway_ = std::make_unique<OrderGateway>(std::move(config), listener_);
  gateway_->start();
  // Never logged on: a logon failure, alerted with the venue's reason.
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !listener_.alerts_of(AlertKind::logon_failed).empty(); }));
  EXPECT_FALSE(gateway_->logged_on());
  EXPECT_TRUE(listener_.alerts_of(AlertKind::logon).empty());
  EXPECT_TRUE(listener_.alerts_of(AlertKind::logout).empty());
  EXPECT_NE(listener_.alerts_of(AlertKind::logon_failed)[0].text.str().find("invalid credentials"), std::string::npos);
  EXPECT_GE(gateway_->session().counters().logon_failures, 1U);
}

// FileStore keeps sequence numbers across a restart of the gateway, the
// ClOrdID file keeps ids unique, and the store never holds the password.
TEST_F(GatewayEndToEndTest, FileStoreAndClientOrderIdsSurviveARestart) {
  TestVenueConfig venue_config;
  venue_config.secret = "plain-password";
  const auto adjust = [&](GatewayConfig& config) {
    config.file_store = true;
    config.credentials.client_id = "user";
    config.credentials.client_secret = SecretString("plain-password");
  };
  start(venue_config, adjust);
  ASSERT_EQ(gateway_->submit(market_intent(171, Side::sell, 1)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(171, OrderStatus::filled));
  gateway_->stop();
  gateway_.reset();
  ASSERT_TRUE(venue_->wait_logged_out(5000));

  GatewayConfig config = test_gateway_config(venue_->port(), directory_);
  adjust(config);
  RecordingListener second;
  gateway_ = std::make_unique<OrderGateway>(std::move(config), second);
  gateway_->start();
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !second.alerts_of(AlertKind::logon).empty(); }));
  const auto logons = venue_->received_logons();
  ASSERT_EQ(logons.size(), 2U);
  EXPECT_EQ(field(logons[0], 34), "1");
  EXPECT_GT(std::stoi(field(logons[1], 34)), 3) << "sequence numbers continued from the store";
  ASSERT_EQ(gateway_->submit(market_intent(172, Side::sell, 1)), SubmitResult::sent);
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !second.executions_for(172).empty(); }));
  const auto orders = received("D");
  ASSERT_EQ(orders.size(), 2U);
  EXPECT_EQ(field(orders[0], 11), "T1");
  EXPECT_EQ(field(orders[1], 11), "T101") << "the second run starts after the first run's reserved block";

  std::string store;
  for (const auto& entry : std::filesystem::directory_iterator(directory_.file("store"))) {
    store += read_all(entry.path());
  }
  EXPECT_NE(store.find("35=D"), std::string::npos) << "the store holds sent messages";
  EXPECT_EQ(store.find("plain-password"), std::string::npos) << "but never the password";
}

// A consumer that stops polling makes QuickFIX's thread wait; nothing is
// dropped, and the wait is reported once polling resumes.
TEST_F(GatewayEndToEndTest, SlowConsumerGetsBackpressureNotLoss) {
  start(TestVenueConfig(), [](GatewayConfig& config) { config.inbound_queue_capacity = 4; });
  venue_->set_order_mode(OrderMode::acknowledge);
  for (hedging::ClientOrderId id = 211; id < 231; ++id) {
    ASSERT_EQ(gateway_->submit(limit_intent(id, Side::sell, 1, 43'000)), SubmitResult::sent);
  }
  ASSERT_TRUE(venue_->wait_for_received(22, 5000)); // AN, BB + 20 orders
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(poll_until(*gateway_, [&] { return listener_.executions().size() == 20; }));
  EXPECT_FALSE(listener_.alerts_of(AlertKind::inbound_queue_full).empty());
  EXPECT_GT(gateway_->session().counters().inbound_queue_waits, 0U);
}

// Regression: the store keeps a masked Logon. When a venue that lost its
// state asks for everything again (ResendRequest from 1), QuickFIX re-parses
// that stored Logon with length and checksum checks before gap-filling it; it
// must still be a valid message or the resend aborts and the session hangs.
TEST_F(GatewayEndToEndTest, ResendFromOneAfterRestartAgainstAFreshVenue) {
  TestVenueConfig venue_config;
  venue_config.secret = "plain-password";
  const auto adjust = [&](GatewayConfig& config) {
    config.file_store = true;
    config.credentials.client_id = "user";
    config.credentials.client_secret = SecretString("plain-password");
  };
  start(venue_config, adjust);
  ASSERT_EQ(gateway_->submit(market_intent(181, Side::sell, 1)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(181, OrderStatus::filled));
  gateway_->stop();
  gateway_.reset();
  venue_->stop();

  venue_ = std::make_unique<TestVenue>(venue_config); // a fresh venue: expects sequence number 1
  venue_->start();
  GatewayConfig config = test_gateway_config(venue_->port(), directory_);
  adjust(config);
  RecordingListener second;
  gateway_ = std::make_unique<OrderGateway>(std::move(config), second);
  gateway_->start();
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !second.alerts_of(AlertKind::logon).empty(); }));
  // The venue's ResendRequest was answered (gap fill over the old Logon,
  // PossDup copies of the old application messages) and the session works.
  ASSERT_EQ(gateway_->submit(market_intent(182, Side::sell, 1)), SubmitResult::sent);
  ASSERT_TRUE(poll_until(*gateway_, [&] {
    for (const auto& report : second.executions_for(182)) {
      if (report.status == OrderStatus::filled) {
        return true;
      }
    }
    return false;
  }));
}

} // namespace
} // namespace synthusd::fix::testing
