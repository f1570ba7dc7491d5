// The gateway against a counterparty it did not write and the ways such a
// counterparty misbehaves: a ResendRequest after it lost its sequence
// numbers, an order it never received, a validating acceptor that refuses a
// RequestForPositions short of FIX 4.4's required fields, and a restart that
// loses its sequence numbers (a logon loop that must not be silent). The
// counterparty is the plain QuickFIX test venue (gateway_test_venue.hpp),
// not the simulator.

#include "gateway_end_to_end_test_support.hpp"

#include "synthusd/fix/gateway_alert_text.hpp"

namespace synthusd::fix::testing {
namespace {

using hedging::Side;

bool any_order_resent(const std::vector<std::string>& messages) {
  for (const std::string& message : messages) {
    if (field(message, 35) == "D" && field(message, 43) == "Y") {
      return true;
    }
  }
  return false;
}

// A counterparty that lost its sequence numbers resets and asks for
// everything again: QuickFIX would re-send the stored NewOrderSingle with
// PossDupFlag=Y, and a venue that executes it trades twice. The gateway
// gap-fills instead, and says so.
TEST_F(GatewayEndToEndTest, AResendRequestAfterASequenceResetNeverSendsAnOrderAgain) {
  start();
  ASSERT_EQ(gateway_->submit(market_intent(151, Side::sell, 3)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(151, OrderStatus::filled));
  ASSERT_EQ(received("D").size(), 1U);
  const std::size_t messages_before = venue_->received().size();
  venue_->reset_sequence(200);
  ASSERT_TRUE(venue_->send("35=2|7=1|16=0|")); // everything from sequence 1 again
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !listener_.alerts_of(AlertKind::resend_suppressed).empty(); }));
  poll_for(*gateway_, 300);
  EXPECT_EQ(received("D").size(), 1U) << "a NewOrderSingle was sent again";
  EXPECT_FALSE(any_order_resent(venue_->received()));
  EXPECT_TRUE(received("H").empty());                    // the order was done: nothing to ask about
  EXPECT_GT(venue_->received().size(), messages_before); // the queries went out again (PossDupFlag=Y)
  EXPECT_GE(gateway_->session().counters().application_resends_suppressed, 1U);
  const GatewayAlert alert = listener_.alerts_of(AlertKind::resend_suppressed).front();
  EXPECT_NE(describe(alert).find("gap-filled"), std::string::npos) << describe(alert);
  // The session carries on: a new order still goes out once and fills.
  ASSERT_TRUE(gateway_->logged_on());
  ASSERT_EQ(gateway_->submit(market_intent(152, Side::sell, 1)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(152, OrderStatus::filled));
  EXPECT_EQ(received("D").size(), 2U);
}

// The order never reached the venue's book, and the venue then asks for a
// resend. Re-sending it would be the old order at today's price; instead the
// gateway asks for its status, the venue answers "unknown order" (ExecType I,
// OrdStatus 8, OrdRejReason 5) and the order is released as rejected, so the
// kernel decides afresh.
TEST_F(GatewayEndToEndTest, AnOrderTheVenueNeverGotIsResolvedByAStatusRequestNotSentAgain) {
  start();
  venue_->set_order_mode(OrderMode::lose);
  ASSERT_EQ(gateway_->submit(limit_intent(161, Side::sell, 2, 43'000)), SubmitResult::sent);
  ASSERT_TRUE(venue_->wait_for_received(3, 5000)); // AN, BB, D
  ASSERT_TRUE(venue_->send("35=2|7=1|16=0|"));
  ASSERT_TRUE(wait_status(161, OrderStatus::rejected));
  EXPECT_EQ(received("D").size(), 1U) << "the lost order was sent again";
  EXPECT_FALSE(any_order_resent(venue_->received()));
  ASSERT_EQ(received("H").size(), 1U);
  EXPECT_EQ(field(received("H")[0], 11), field(received("D")[0], 11));
  const auto alerts = listener_.alerts_of(AlertKind::resend_suppressed);
  ASSERT_EQ(alerts.size(), 1U); // only the NewOrderSingle; the queries went out again
  const auto order_alert = alerts.begin();
  EXPECT_EQ(order_alert->user_order_id, 161U);
  EXPECT_NE(describe(*order_alert).find("order status requested"), std::string::npos) << describe(*order_alert);
  EXPECT_NE(describe(*order_alert).find("reference=\"D\""), std::string::npos) << describe(*order_alert);
  EXPECT_EQ(gateway_->session().open_orders(), 0U);
}

// A validating acceptor refuses a RequestForPositions without Account(1),
// AccountType(581) and the Parties component (453), all required by FIX 4.4.
// start() already waits for the answer; this pins the fields.
TEST_F(GatewayEndToEndTest, PositionRequestCarriesTheFieldsFix44Requires) {
  start();
  const auto requests = received("AN");
  ASSERT_FALSE(requests.empty());
  const std::string& request = requests.front();
  EXPECT_EQ(field(request, 1), "SYNTHUSD") << pipes(request); // Account defaults to our SenderCompID
  EXPECT_EQ(field(request, 581), "1");
  EXPECT_EQ(field(request, 453), "1");
  EXPECT_EQ(field(request, 448), "SYNTHUSD");
  EXPECT_EQ(field(request, 452), "3");
  EXPECT_FALSE(field(request, 715).empty());
  EXPECT_FALSE(field(request, 60).empty());
  EXPECT_TRUE(listener_.alerts_of(AlertKind::session_reject).empty());
}

// A session Reject names a sequence number and a tag; the alert line names
// the message type, the tag, the reason and the venue's text.
TEST_F(GatewayEndToEndTest, ASessionRejectIsAlertedWithMessageTypeTagReasonAndText) {
  start();
  const std::string sequence = field(received("AN").at(0), 34);
  ASSERT_TRUE(venue_->send("35=3|45=" + sequence + "|372=AN|371=581|373=1|58=Required tag missing|"));
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !listener_.alerts_of(AlertKind::session_reject).empty(); }));
  const GatewayAlert alert = listener_.alerts_of(AlertKind::session_reject).front();
  EXPECT_EQ(alert.reference_tag, 581);
  const std::string line = describe(alert);
  EXPECT_NE(line.find("RefMsgType=\"AN\""), std::string::npos) << line;
  EXPECT_NE(line.find("RefTagID=581"), std::string::npos) << line;
  EXPECT_NE(line.find("reason=1"), std::string::npos) << line;
  EXPECT_NE(line.find("text=\"Required tag missing\""), std::string::npos) << line;
}

// The session reject of an order names our ClOrdID, not only a sequence.
TEST_F(GatewayEndToEndTest, ASessionRejectOfAnOrderNamesItsClientOrderId) {
  start();
  venue_->set_order_mode(OrderMode::silent);
  ASSERT_EQ(gateway_->submit(limit_intent(171, Side::sell, 2, 43'000)), SubmitResult::sent);
  ASSERT_TRUE(venue_->wait_for_received(3, 5000));
  const std::string order = received("D").at(0);
  ASSERT_TRUE(venue_->send("35=3|45=" + field(order, 34) + "|372=D|371=44|373=5|58=Value is incorrect|"));
  ASSERT_TRUE(wait_status(171, OrderStatus::rejected));
  const GatewayAlert alert = listener_.alerts_of(AlertKind::session_reject).at(0);
  EXPECT_TRUE(alert.client_order_id.equals(field(order, 11)));
  EXPECT_NE(describe(alert).find("ClOrdID=\"" + field(order, 11) + "\""), std::string::npos);
}

// A counterparty restarted without its sequence numbers logs on with
// MsgSeqNum 1; QuickFIX refuses ("MsgSeqNum too low") and reconnects, over
// and over. Each attempt is a logon failure with that reason, never silent.
TEST_F(GatewayEndToEndTest, ACounterpartyThatLostItsSequenceNumbersRaisesLogonFailuresWithTheReason) {
  start();
  ASSERT_EQ(gateway_->submit(market_intent(181, Side::sell, 1)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(181, OrderStatus::filled));
  const int port = venue_->port();
  venue_->stop();
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !listener_.alerts_of(AlertKind::logout).empty(); }));
  TestVenueConfig fresh; // a new MemoryStore: its sequence numbers start at 1 again
  fresh.port = port;
  venue_ = std::make_unique<TestVenue>(fresh);
  venue_->start();
  // An attempt can also end before the new venue listens (connection
  // refused, no reason to give); the ones that reach it carry QuickFIX's.
  const auto with_reason = [&] {
    for (const GatewayAlert& alert : listener_.alerts_of(AlertKind::logon_failed)) {
      if (alert.text.str().find("MsgSeqNum too low") != std::string::npos) {
        return true;
      }
    }
    return false;
  };
  EXPECT_TRUE(poll_until(*gateway_, with_reason, 10'000));
  EXPECT_FALSE(gateway_->logged_on());
  EXPECT_GE(gateway_->session().counters().logon_failures, 1U);
}

std::size_t count_of(const std::vector<std::string>& messages, const std::string& type) {
  std::size_t n = 0;
  for (const std::string& message : messages) {
    n += field(message, 35) == type ? 1 : 0;
  }
  return n;
}

// The venue refuses the cancel of an order it says it does not know (the
// kernel's cancel of an unanswered order). Its reports may never come, so
// the gateway asks for the order's status and for positions; here the
// venue's answer ends the order.
TEST_F(GatewayEndToEndTest, ACancelRejectAsksTheOrdersStatusAndPositionsSoTheOrderIsNotLeftOpen) {
  start();
  venue_->set_order_mode(OrderMode::lose);
  ASSERT_EQ(gateway_->submit(limit_intent(301, Side::sell, 5, 43'000)), SubmitResult::sent);
  ASSERT_TRUE(venue_->wait_for_received(3, 5000)); // AN, BB, D
  const std::size_t positions_before = count_of(venue_->received(), "AN");
  ASSERT_EQ(gateway_->submit(hedging::CancelIntent{301, kTestVenueId}), SubmitResult::sent);
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !listener_.alerts_of(AlertKind::cancel_reject).empty(); }));
  ASSERT_TRUE(wait_status(301, OrderStatus::rejected)); // the status request's answer: unknown
  ASSERT_EQ(received("H").size(), 1U);
  EXPECT_EQ(field(received("H")[0], 11), field(received("D")[0], 11));
  EXPECT_TRUE(poll_until(*gateway_, [&] { return count_of(venue_->received(), "AN") > positions_before; }));
  EXPECT_EQ(gateway_->session().open_orders(), 0U);
}

// A trade bust (ExecType H) takes a report's cumulative quantity back from
// 6 to 0. Nothing is unbooked on its word, but the operator is told and the
// venue's position report settles what stands.
TEST_F(GatewayEndToEndTest, ACumulativeQuantityThatGoesBackIsAlertedAndPositionsRequested) {
  start();
  venue_->set_order_mode(OrderMode::acknowledge);
  ASSERT_EQ(gateway_->submit(limit_intent(303, Side::sell, 10, 43'000)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(303, OrderStatus::accepted));
  const std::string id = client_order_id_of_last_order();
  ASSERT_TRUE(venue_->fill(id, 6, 4'300'000'000'000));
  ASSERT_TRUE(wait_status(303, OrderStatus::partially_filled));
  const std::string order_id = venue_->order(id).order_id;
  const std::size_t positions_before = count_of(venue_->received(), "AN");
  ASSERT_TRUE(venue_->send("35=8|37=" + order_id + "|11=" + id + "|17=BUST1|19=E2|150=H|39=0|55=" + kTestSymbol +
                           "|54=2|38=10|32=6|31=43000|14=0|151=10|6=0|"));
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !listener_.alerts_of(AlertKind::invalid_report).empty(); }));
  EXPECT_NE(describe(listener_.alerts_of(AlertKind::invalid_report).front()).find("trade bust"), std::string::npos);
  EXPECT_TRUE(poll_until(*gateway_, [&] { return count_of(venue_->received(), "AN") > positions_before; }));
}

// Deribit documents SecondaryExecID (527, the ExecID in its dialect) only as
// "ID of the order change": two per-fill reports of one match carrying the
// same one must both be booked, or the second fill and the order's end are
// lost. A true resend (every field the same) is still dropped.
TEST_F(GatewayEndToEndTest, TwoDeribitReportsSharingASecondaryExecIdWithDifferentFillsAreBothBooked) {
  start(deribit_test_venue(), use_deribit_dialect);
  venue_->set_order_mode(OrderMode::acknowledge);
  ASSERT_EQ(gateway_->submit(limit_intent(304, Side::sell, 10, 43'000)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(304, OrderStatus::accepted));
  const std::string id = client_order_id_of_last_order();
  const std::string order_id = venue_->order(id).order_id;
  const std::string common = "35=8|37=" + order_id + "|11=" + order_id + "|41=" + id +
                             "|527=CHG77|150=F|55=" + std::string(kTestSymbol) + "|54=2|38=10|";
  ASSERT_TRUE(venue_->send(common + "39=1|32=4|31=43000|14=4|151=6|6=43000|"));
  ASSERT_TRUE(venue_->send(common + "39=1|32=4|31=43000|14=4|151=6|6=43000|")); // resent as is
  ASSERT_TRUE(venue_->send(common + "39=2|32=6|31=42999|14=10|151=0|6=42999.4|"));
  ASSERT_TRUE(wait_status(304, OrderStatus::filled));
  std::int64_t booked = 0;
  for (const auto& report : listener_.executions_for(304)) {
    booked += report.last_quantity.value;
  }
  EXPECT_EQ(booked, 10);
  EXPECT_EQ(gateway_->session().counters().duplicate_execution_reports, 1U);
  EXPECT_EQ(gateway_->session().open_orders(), 0U);
}

// The venue fills an order and, before its report, jumps its sequence
// ahead (SequenceReset-Reset): the report is never coming. The gateway says
// so and asks for the open order's status and for positions.
TEST_F(GatewayEndToEndTest, ASequenceResetOverReportsAsksOpenOrdersStatusAndPositions) {
  start();
  venue_->set_order_mode(OrderMode::acknowledge);
  ASSERT_EQ(gateway_->submit(limit_intent(305, Side::sell, 5, 43'000)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(305, OrderStatus::accepted));
  const std::string id = client_order_id_of_last_order();
  const std::size_t positions_before = count_of(venue_->received(), "AN");
  ASSERT_TRUE(venue_->drop(id)); // filled at the venue; its report is skipped below
  venue_->set_position(kTestSymbol, -5);
  venue_->reset_sequence(500);
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !listener_.alerts_of(AlertKind::sequence_reset).empty(); }));
  const GatewayAlert alert = listener_.alerts_of(AlertKind::sequence_reset).front();
  EXPECT_NE(describe(alert).find("sequence reset from"), std::string::npos) << describe(alert);
  EXPECT_NE(describe(alert).find("to 500"), std::string::npos) << describe(alert);
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !received("H").empty(); }));
  EXPECT_EQ(field(received("H")[0], 11), id);
  EXPECT_TRUE(poll_until(*gateway_, [&] { return count_of(venue_->received(), "AN") > positions_before; }));
}

// A fill at price 0, and one through the order's limit: the venue's error.
// The quantity is the position and is booked; the operator is told and the
// positions are asked for.
TEST_F(GatewayEndToEndTest, AFillPriceOfZeroOrThroughTheLimitIsAlertedAndPositionsRequested) {
  start();
  venue_->set_order_mode(OrderMode::acknowledge);
  ASSERT_EQ(gateway_->submit(limit_intent(306, Side::sell, 10, 43'000)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(306, OrderStatus::accepted));
  const std::string id = client_order_id_of_last_order();
  const std::string order_id = venue_->order(id).order_id;
  const std::size_t positions_before = count_of(venue_->received(), "AN");
  ASSERT_TRUE(venue_->send("35=8|37=" + order_id + "|11=" + id + "|17=Z1|150=F|39=1|55=" + kTestSymbol +
                           "|54=2|38=10|32=4|31=0|14=4|151=6|6=0|"));
  ASSERT_TRUE(wait_status(306, OrderStatus::partially_filled));
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !listener_.alerts_of(AlertKind::invalid_report).empty(); }));
  EXPECT_NE(describe(listener_.alerts_of(AlertKind::invalid_report).back()).find("not positive"), std::string::npos);
  ASSERT_TRUE(venue_->send("35=8|37=" + order_id + "|11=" + id + "|17=Z2|150=F|39=2|55=" + kTestSymbol +
                           "|54=2|38=10|32=6|31=42000|14=10|151=0|6=25200|"));
  ASSERT_TRUE(wait_status(306, OrderStatus::filled)); // a sell limit 43,000 filled at 42,000
  ASSERT_TRUE(poll_until(*gateway_, [&] { return listener_.alerts_of(AlertKind::invalid_report).size() >= 2; }));
  EXPECT_NE(describe(listener_.alerts_of(AlertKind::invalid_report).back()).find("through the order's limit"),
            std::string::npos);
  std::int64_t booked = 0;
  for (const auto& report : listener_.executions_for(306)) {
    booked += report.last_quantity.value;
  }
  EXPECT_EQ(booked, 10);
  EXPECT_TRUE(poll_until(*gateway_, [&] { return count_of(venue_->received(), "AN") > positions_before; }));
}

} // namespace
} // namespace synthusd::fix::testing
