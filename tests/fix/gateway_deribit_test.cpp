// The gateway's Deribit dialect against the test venue in its Deribit shapes
// (gateway_test_venue_deribit.cpp, written from docs.deribit.com/fix-api):
// every test here fails on a gateway that speaks textbook FIX 4.4 to
// Deribit (issue 13).

#include "gateway_end_to_end_test_support.hpp"

#include <chrono>
#include <memory>
#include <string>

#include "synthusd/fix/pre_trade_risk.hpp"

namespace synthusd::fix::testing {
namespace {

using hedging::Side;

constexpr hedging::InstrumentId kFutureInstrument = 8;
constexpr char kFutureSymbol[] = "BTC-27MAR26";

class DeribitGatewayTest : public GatewayEndToEndTest {
protected:
  void start_deribit(TestVenueConfig venue = deribit_test_venue(),
                     std::shared_ptr<VenueCreditBudget> credits = nullptr) {
    start(venue, [&credits](GatewayConfig& config) {
      use_deribit_dialect(config);
      config.request_credits = credits;
      hedging::InstrumentSpec future = deribit_test_perpetual();
      future.id = kFutureInstrument;
      future.symbol = kFutureSymbol;
      config.instruments.push_back(gateway_instrument(future, Dialect::deribit));
    });
  }

  hedging::OrderIntent priced_market(hedging::ClientOrderId id, Side side, std::int64_t contracts,
                                     std::int64_t collar_dollars) {
    hedging::OrderIntent intent = market_intent(id, side, contracts);
    intent.limit_price = hedging::Price::from_dollars(collar_dollars);
    return intent;
  }
};

TEST_F(DeribitGatewayTest, a_flat_account_is_a_valid_position_report_without_entries) {
  start_deribit(); // the fixture waits for the logon's position snapshot
  const std::string request = received("AN").at(0);
  EXPECT_EQ(field(request, 15), "BTC") << "Currency, or every currency's positions come back";
  ASSERT_EQ(listener_.positions().size(), 2U); // both configured instruments, flat
  EXPECT_EQ(listener_.positions()[0].position, hedging::Contracts{0});
  EXPECT_EQ(listener_.positions()[1].position, hedging::Contracts{0});
}

TEST_F(DeribitGatewayTest, two_positions_with_raw_data_in_each_entry_are_both_booked) {
  start_deribit();
  venue_->set_position(kTestSymbol, -30);
  venue_->set_position(kFutureSymbol, 12);
  venue_->set_position("ETH-PERPETUAL", 5); // another currency: not asked for
  const std::size_t before = listener_.positions().size();
  ASSERT_EQ(gateway_->request_positions(), SubmitResult::sent);
  ASSERT_TRUE(poll_until(*gateway_, [&] { return listener_.positions().size() == before + 2; }));
  const auto positions = listener_.positions();
  for (std::size_t i = before; i < positions.size(); ++i) {
    EXPECT_EQ(positions[i].position, hedging::Contracts{positions[i].instrument == kTestInstrument ? -30 : 12});
  }
  EXPECT_NE(positions[before].instrument, positions[before + 1].instrument);
  EXPECT_TRUE(listener_.alerts_of(AlertKind::session_reject).empty());
  const std::string report = venue_->sent().back();
  EXPECT_EQ(field(report, 35), "AP");
  EXPECT_NE(report.find("96=0.00012345;"), std::string::npos) << "RawData inside the group";
  EXPECT_EQ(report.find("ETH-PERPETUAL"), std::string::npos) << "the AN asked for BTC only";
}

TEST_F(DeribitGatewayTest, an_order_acknowledged_with_exec_type_i_is_accepted) {
  start_deribit();
  ASSERT_EQ(gateway_->submit(limit_intent(201, Side::sell, 3, 43'000)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(201, OrderStatus::accepted));
  EXPECT_EQ(field(venue_->sent().back(), 150), "I");
  EXPECT_EQ(field(venue_->sent().back(), 17), "") << "Deribit sends no ExecID";
}

TEST_F(DeribitGatewayTest, a_market_order_carries_the_collar_price_deribit_requires) {
  start_deribit();
  ASSERT_EQ(gateway_->submit(priced_market(202, Side::sell, 2, 42'000)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(202, OrderStatus::filled));
  const std::string order = received("D").at(0);
  EXPECT_EQ(field(order, 40), "1");
  EXPECT_EQ(field(order, 44), "42000");
  EXPECT_EQ(listener_.executions_for(202).back().last_quantity, hedging::Contracts{2});

  // Without a price the order is refused here, not sent to be rejected.
  EXPECT_EQ(gateway_->submit(market_intent(203, Side::sell, 1)), SubmitResult::invalid_order);
  EXPECT_EQ(received("D").size(), 1U);
  EXPECT_EQ(listener_.executions_for(203).back().status, OrderStatus::rejected);
}

TEST_F(DeribitGatewayTest, a_multi_level_fill_is_booked_per_fill_and_a_resent_report_is_dropped) {
  start_deribit();
  EXPECT_EQ(field(venue_->received_logons().at(0), 9015), "Y");
  ASSERT_EQ(gateway_->submit(limit_intent(204, Side::buy, 3, 43'001)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(204, OrderStatus::accepted));
  const std::string id = client_order_id_of_last_order();
  ASSERT_TRUE(venue_->fill_levels(
      id, {{1, hedging::Price::from_dollars(43'000).raw}, {2, hedging::Price::from_cents(4'300'050).raw}}));
  ASSERT_TRUE(wait_status(204, OrderStatus::filled));
  const auto reports = listener_.executions_for(204);
  ASSERT_GE(reports.size(), 3U);
  EXPECT_EQ(reports[reports.size() - 2].status, OrderStatus::partially_filled);
  EXPECT_EQ(reports[reports.size() - 2].last_quantity, hedging::Contracts{1});
  EXPECT_EQ(reports[reports.size() - 2].last_price, hedging::Price::from_dollars(43'000));
  EXPECT_EQ(reports.back().last_quantity, hedging::Contracts{2});
  EXPECT_EQ(reports.back().last_price, hedging::Price::from_cents(4'300'050));
  // The inverse average has more than 8 decimals: booked, not refused.
  std::string last;
  for (const std::string& message : venue_->sent()) {
    last = field(message, 35) == "8" ? message : last;
  }
  EXPECT_GT(field(last, 6).size() - field(last, 6).find('.') - 1, 8U) << field(last, 6);
  EXPECT_TRUE(listener_.alerts_of(AlertKind::invalid_report).empty());

  // The same report again (same SecondaryExecID): dropped before booking.
  ASSERT_TRUE(venue_->resend_last_execution_report());
  ASSERT_TRUE(poll_until(*gateway_, [&] { return gateway_->session().counters().duplicate_execution_reports == 1; }));
  EXPECT_EQ(listener_.executions_for(204).size(), reports.size());
}

TEST_F(DeribitGatewayTest, a_fills_group_is_booked_at_the_price_of_its_fills) {
  TestVenueConfig venue = deribit_test_venue();
  venue.fills_group_always = true;
  start_deribit(venue);
  ASSERT_EQ(gateway_->submit(limit_intent(205, Side::sell, 3, 42'990)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(205, OrderStatus::accepted));
  ASSERT_TRUE(venue_->fill_levels(client_order_id_of_last_order(), {{1, hedging::Price::from_dollars(43'000).raw},
                                                                    {2, hedging::Price::from_dollars(42'997).raw}}));
  ASSERT_TRUE(wait_status(205, OrderStatus::filled));
  const auto fill = listener_.executions_for(205).back();
  EXPECT_EQ(fill.last_quantity, hedging::Contracts{3});
  EXPECT_EQ(fill.last_price, hedging::Price::from_dollars(42'998)); // (43000 + 2 * 42997) / 3
  std::string report;
  for (const std::string& message : venue_->sent()) {
    report = field(message, 35) == "8" ? message : report;
  }
  EXPECT_EQ(field(report, 1362), "2");
}

TEST_F(DeribitGatewayTest, open_orders_are_asked_for_with_af_by_client_order_id_never_with_h) {
  start_deribit();
  venue_->set_order_mode(OrderMode::silent); // the order reaches the book; the ack is lost
  ASSERT_EQ(gateway_->submit(limit_intent(206, Side::sell, 1, 44'000)), SubmitResult::sent);
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !received("D").empty(); }));
  const std::string id = client_order_id_of_last_order();
  venue_->disconnect();
  ASSERT_TRUE(poll_until(*gateway_, [&] { return listener_.alerts_of(AlertKind::logon).size() == 2; }));
  ASSERT_TRUE(wait_status(206, OrderStatus::accepted)); // from the AF's ExecType I report
  EXPECT_TRUE(received("H").empty());
  const auto requests = received("AF");
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(field(requests[0], 584), id);
  EXPECT_EQ(field(requests[0], 585), "7");
  EXPECT_EQ(field(requests[0], 9014), "1");
  EXPECT_EQ(field(requests[0], 55), kTestSymbol);
  poll_for(*gateway_, 100);
  EXPECT_NE(listener_.executions_for(206).back().status, OrderStatus::rejected);
}

// A BusinessMessageReject that names our ClOrdID but refuses another
// message (a status request, say) says nothing about the order.
TEST_F(DeribitGatewayTest, a_business_reject_of_a_query_does_not_reject_the_order_it_names) {
  start_deribit();
  venue_->set_order_mode(OrderMode::silent);
  ASSERT_EQ(gateway_->submit(limit_intent(207, Side::buy, 1, 41'000)), SubmitResult::sent);
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !received("D").empty(); }));
  const std::string id = client_order_id_of_last_order();
  ASSERT_TRUE(venue_->send("35=j|45=3|372=H|379=" + id + "|380=3|58=unsupported message type|"));
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !listener_.alerts_of(AlertKind::business_reject).empty(); }));
  EXPECT_TRUE(listener_.executions_for(207).empty());
  EXPECT_EQ(gateway_->session().open_orders(), 1U);
}

TEST_F(DeribitGatewayTest, equity_comes_from_user_response_at_logon_and_after_a_fill) {
  start_deribit();
  ASSERT_TRUE(poll_until(*gateway_, [&] { return listener_.collaterals().size() == 1; }));
  const auto requests = received("BE");
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(field(requests[0], 924), "4");
  EXPECT_EQ(field(requests[0], 553), "deribit-client");
  EXPECT_EQ(field(requests[0], 15), "BTC");
  EXPECT_TRUE(received("BB").empty()) << "Deribit has no CollateralInquiry";
  // 1.000000004 BTC: rounded half to even to the satoshi.
  EXPECT_EQ(listener_.collaterals()[0].equity, hedging::Sats{100'000'000});

  ASSERT_EQ(gateway_->submit(limit_intent(208, Side::sell, 1, 43'000)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(208, OrderStatus::accepted));
  ASSERT_TRUE(venue_->fill(client_order_id_of_last_order(), 1, hedging::Price::from_dollars(43'000).raw));
  ASSERT_TRUE(wait_status(208, OrderStatus::filled));
  ASSERT_TRUE(poll_until(*gateway_, [&] { return listener_.collaterals().size() == 2; }));
  EXPECT_EQ(received("BE").size(), 2U);
}

TEST_F(DeribitGatewayTest, a_user_response_without_equity_is_an_invalid_report_not_a_snapshot) {
  start_deribit();
  ASSERT_TRUE(poll_until(*gateway_, [&] { return listener_.collaterals().size() == 1; }));
  ASSERT_TRUE(venue_->send("35=BF|923=X9|553=deribit-client|15=BTC|100002=1|"));
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !listener_.alerts_of(AlertKind::invalid_report).empty(); }));
  const GatewayAlert alert = listener_.alerts_of(AlertKind::invalid_report)[0];
  EXPECT_EQ(alert.reference_message_type.str(), "BF");
  EXPECT_NE(alert.text.str().find("DeribitUserEquity(100001)"), std::string::npos) << alert.text.str();
  EXPECT_EQ(listener_.collaterals().size(), 1U);
}

// Deribit's FIX has no available_withdrawal_funds: the gateway derives it
// from BF's equity, balance and initial margin, and hands it to the kernel.
TEST_F(DeribitGatewayTest, a_user_response_becomes_a_snapshot_with_what_the_venue_pays_out) {
  start_deribit();
  ASSERT_TRUE(poll_until(*gateway_, [&] { return listener_.collaterals().size() == 1; }));
  ASSERT_TRUE(venue_->send("35=BF|923=X9|553=deribit-client|15=BTC|100001=1.5|100002=1|100003=0.2|100004=0.1|"));
  ASSERT_TRUE(poll_until(*gateway_, [&] { return listener_.collaterals().size() == 2; }));
  EXPECT_EQ(listener_.collaterals()[1].equity, hedging::Sats{150'000'000});
  EXPECT_EQ(listener_.collaterals()[1].withdrawable, hedging::Sats{100'000'000}) << "unrealised profit stays";
  ASSERT_TRUE(venue_->send("35=BF|923=X10|553=deribit-client|15=BTC|100001=0.9|100002=1|100003=0.2|100004=0.1|"));
  ASSERT_TRUE(poll_until(*gateway_, [&] { return listener_.collaterals().size() == 3; }));
  EXPECT_EQ(listener_.collaterals()[2].withdrawable, hedging::Sats{70'000'000}) << "the loss and the margin stay";
}

TEST_F(DeribitGatewayTest, exhausted_credits_end_the_session_with_error_10028_and_it_logs_on_again) {
  TestVenueConfig venue = deribit_test_venue();
  venue.credit_pool = 2'000; // AN and BE at logon, then two orders, at 500 credits each
  venue.credit_cost = 500;
  start_deribit(venue);
  ASSERT_EQ(gateway_->submit(limit_intent(209, Side::sell, 1, 44'000)), SubmitResult::sent);
  ASSERT_EQ(gateway_->submit(limit_intent(210, Side::sell, 1, 44'001)), SubmitResult::sent);
  ASSERT_TRUE(wait_status(210, OrderStatus::accepted));
  ASSERT_EQ(gateway_->submit(limit_intent(211, Side::sell, 1, 44'002)), SubmitResult::sent);
  ASSERT_TRUE(poll_until(*gateway_, [&] { return !listener_.alerts_of(AlertKind::logout).empty(); }));
  EXPECT_NE(listener_.alerts_of(AlertKind::logout)[0].text.str().find("10028"), std::string::npos)
      << listener_.alerts_of(AlertKind::logout)[0].text.str();
  EXPECT_EQ(venue_->logouts_sent_for_rate_limit(), 1U);
  // The session comes back (sequence numbers continue); the refused order
  // is asked about with AF and was never booked.
  ASSERT_TRUE(poll_until(*gateway_, [&] { return listener_.alerts_of(AlertKind::logon).size() == 2; }));
  EXPECT_EQ(venue_->order(client_order_id_of_last_order()).order_id, "");
}

// Wall-clock nanoseconds: the clock pre-trade risk and the gateway share
// the venue's credits on (the kernel's event time in the engine).
Timestamp wall_clock() {
  return Timestamp{
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count()};
}

// The venue counts every request, queries included, from one pool. Pre-trade
// risk (the kernel thread) and the gateway (its own thread) spend one budget
// of the same size: the logon's AN and BE leave room for 8 orders, so a
// burst of 12 sends 8, and a periodic AN is deferred, not sent into a
// 10028. With risk counting orders alone, 10 orders went out and the 9th
// request after the logon's two ended the session.
TEST_F(DeribitGatewayTest, periodic_queries_and_an_order_burst_stay_inside_the_venues_credits) {
  TestVenueConfig venue = deribit_test_venue();
  venue.credit_pool = 5'000; // 10 requests, no refill
  venue.credit_cost = 500;
  hedging::InstrumentSpec perpetual;
  perpetual.id = kTestInstrument;
  perpetual.venue = kTestVenueId;
  perpetual.symbol = kTestSymbol;
  perpetual.contract_value = hedging::UsdCents{1'000};
  const std::vector<hedging::InstrumentSpec> instruments{perpetual};
  PreTradeRisk risk(RiskLimits{}, instruments);
  // One credit a second back: not a request's worth during the test.
  const std::shared_ptr<VenueCreditBudget> credits = risk.set_venue_credits(kTestVenueId, CreditLimit{5'000, 1, 500});
  ASSERT_NE(credits, nullptr);
  risk.on_session(kTestVenueId, true);
  risk.on_reference_price(kTestInstrument, hedging::Price::from_dollars(43'000), wall_clock());
  start_deribit(venue, credits);
  ASSERT_TRUE(poll_until(*gateway_, [&] { return listener_.collaterals().size() == 1; }));

  std::size_t sent = 0;
  for (hedging::ClientOrderId id = 301; id <= 312; ++id) {
    const hedging::OrderIntent intent = limit_intent(id, Side::sell, 1, 44'000 + static_cast<std::int64_t>(id));
    if (risk.check_order(intent, wall_clock()) == RiskReject::none) {
      ASSERT_EQ(gateway_->submit(intent), SubmitResult::sent);
      ++sent;
    }
  }
  EXPECT_EQ(sent, 8U);
  EXPECT_EQ(risk.rejects(RiskReject::venue_credits), 4U);
  EXPECT_EQ(gateway_->request_positions(), SubmitResult::deferred); // the periodic one, say
  EXPECT_EQ(gateway_->session().counters().requests_deferred_for_credits, 1U);
  ASSERT_TRUE(wait_status(308, OrderStatus::accepted));
  ASSERT_TRUE(poll_until(*gateway_, [&] { return received("D").size() == 8; }));
  poll_for(*gateway_, 100); // the deferred AN is retried on every poll, and stays deferred
  EXPECT_EQ(received("AN").size(), 1U);
  EXPECT_EQ(gateway_->session().counters().requests_deferred_for_credits, 1U) << "counted once, not per retry";
  EXPECT_EQ(venue_->logouts_sent_for_rate_limit(), 0U);
  EXPECT_TRUE(listener_.alerts_of(AlertKind::logout).empty());
}

// A query short of credits (the logon's BE, then an explicit AN) waits for
// the refill and then goes out: deferred, counted, never dropped. The
// queries leave a quarter of the pool for orders and cancels.
TEST_F(DeribitGatewayTest, a_query_deferred_for_credits_goes_out_once_they_refill) {
  // Two requests, 400 credits a second back: after the logon's AN, 500 are
  // left and the BE needs 500 + 250 kept for orders (0.625 s of refill).
  const auto credits = std::make_shared<VenueCreditBudget>(CreditLimit{1'000, 400, 500});
  start_deribit(deribit_test_venue(), credits);
  ASSERT_TRUE(poll_until(*gateway_, [&] { return listener_.collaterals().size() == 1; }));
  EXPECT_EQ(gateway_->session().counters().requests_deferred_for_credits, 1U);
  EXPECT_EQ(received("BE").size(), 1U);
  EXPECT_EQ(gateway_->request_positions(), SubmitResult::deferred);
  EXPECT_EQ(gateway_->session().counters().requests_deferred_for_credits, 2U);
  ASSERT_TRUE(poll_until(*gateway_, [&] { return received("AN").size() == 2; }));
  EXPECT_EQ(gateway_->session().counters().position_requests_sent, 2U);
}

} // namespace
} // namespace synthusd::fix::testing
