#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

#include <unistd.h>

#include "synthusd/fix/pre_trade_risk.hpp"

namespace synthusd::fix {

// gtest prints reasons by name
void PrintTo(RiskReject reason, std::ostream* out) { *out << to_string(reason); }

namespace {

using hedging::ClientOrderId;
using hedging::OrderIntent;
using hedging::OrderType;
using hedging::Side;

constexpr Timestamp kNow{1'700'000'000LL * 1'000'000'000};

std::vector<hedging::InstrumentSpec> instruments() {
  hedging::InstrumentSpec deribit; // $10 inverse on venue 2
  deribit.id = 2;
  deribit.venue = 2;
  deribit.symbol = "BTC-PERPETUAL";
  deribit.contract_value = UsdCents{1'000};
  hedging::InstrumentSpec linear; // 0.001 BTC linear on venue 3
  linear.id = 3;
  linear.venue = 3;
  linear.symbol = "BTCUSDT";
  linear.kind = hedging::InstrumentKind::linear_perpetual;
  linear.contract_size = hedging::Sats{100'000};
  return {deribit, linear};
}

RiskLimits limits() {
  RiskLimits l;
  l.max_order_quantity = Contracts{1'000};
  l.max_order_notional = UsdCents{1'000'000}; // $10,000
  l.max_position = Contracts{2'000};
  l.max_aggregate_notional = UsdCents{2'500'000}; // $25,000
  l.max_open_orders = 4;
  l.order_rate = {0, 0}; // unlimited here; the rate test sets its own
  l.message_rate = {0, 0};
  return l;
}

class PreTradeRiskTest : public ::testing::Test {
protected:
  PreTradeRiskTest() : risk_(limits(), instruments(), 64) {
    risk_.on_session(2, true);
    risk_.on_session(3, true);
    risk_.on_reference_price(2, Price::from_dollars(50'000), kNow);
    risk_.on_reference_price(3, Price::from_dollars(50'000), kNow);
  }

  OrderIntent order(std::int64_t quantity, Side side = Side::sell, hedging::InstrumentId instrument = 2) {
    OrderIntent o;
    o.client_order_id = ++next_id_;
    o.instrument = instrument;
    o.venue = instrument;
    o.side = side;
    o.quantity = Contracts{quantity};
    return o;
  }
  OrderIntent limit_order(std::int64_t quantity, std::int64_t dollars) {
    OrderIntent o = order(quantity);
    o.type = OrderType::limit;
    o.limit_price = Price::from_dollars(dollars);
    return o;
  }
  void fill(const OrderIntent& o) {
    risk_.on_execution(
        {o.client_order_id, hedging::OrderStatus::filled, o.quantity, Price::from_dollars(50'000), kNow});
  }

  PreTradeRisk risk_;
  ClientOrderId next_id_ = 100;
};

TEST_F(PreTradeRiskTest, passes_an_order_inside_every_limit) {
  EXPECT_EQ(risk_.check_order(order(100), kNow), RiskReject::none);
  EXPECT_EQ(risk_.open_order_count(), 1u);
  EXPECT_EQ(risk_.passed(), 1u);
}

TEST_F(PreTradeRiskTest, deny_order_exceeding_max_quantity) {
  EXPECT_EQ(risk_.check_order(order(1'001), kNow), RiskReject::max_order_quantity);
  EXPECT_EQ(risk_.rejects(RiskReject::max_order_quantity), 1u);
}

TEST_F(PreTradeRiskTest, deny_order_exceeding_max_notional) {
  // 0.001 BTC at $50,000 = $50 a contract: 200 is $10,000 (at the limit), 201 is over
  EXPECT_EQ(risk_.check_order(order(200, Side::sell, 3), kNow), RiskReject::none);
  EXPECT_EQ(risk_.check_order(order(201, Side::sell, 3), kNow), RiskReject::max_order_notional);
}

TEST_F(PreTradeRiskTest, deny_limit_price_outside_the_collar) {
  EXPECT_EQ(risk_.check_order(limit_order(10, 52'500), kNow), RiskReject::none); // exactly 5 %
  EXPECT_EQ(risk_.check_order(limit_order(10, 52'501), kNow), RiskReject::price_collar);
  EXPECT_EQ(risk_.check_order(limit_order(10, 47'499), kNow), RiskReject::price_collar);
}

TEST_F(PreTradeRiskTest, deny_malformed_orders) {
  OrderIntent no_price = order(10);
  no_price.type = OrderType::limit;
  EXPECT_EQ(risk_.check_order(no_price, kNow), RiskReject::invalid_order);
  EXPECT_EQ(risk_.check_order(order(0), kNow), RiskReject::invalid_order);
}

TEST_F(PreTradeRiskTest, deny_when_the_reference_price_is_stale_or_missing) {
  EXPECT_EQ(risk_.check_order(order(10), kNow + Duration::from_seconds(6)), RiskReject::stale_reference_price);
  PreTradeRisk fresh(limits(), instruments(), 64);
  fresh.on_session(2, true);
  EXPECT_EQ(fresh.check_order(order(10), kNow), RiskReject::no_reference_price);
}

TEST_F(PreTradeRiskTest, deny_position_beyond_the_limit_counting_open_orders) {
  const OrderIntent first = order(1'000);
  ASSERT_EQ(risk_.check_order(first, kNow), RiskReject::none);
  fill(first);
  ASSERT_EQ(risk_.check_order(order(900), kNow), RiskReject::none); // open, not filled: -1,900 worst case
  EXPECT_EQ(risk_.check_order(order(101), kNow), RiskReject::max_position);
  EXPECT_EQ(risk_.check_order(order(100), kNow), RiskReject::none);
  // buying back reduces the worst case, so it passes
  EXPECT_EQ(risk_.check_order(order(1'000, Side::buy), kNow), RiskReject::none);
}

TEST_F(PreTradeRiskTest, deny_aggregate_notional_over_all_instruments) {
  // $20,000 short on deribit (2,000 x $10)
  for (int i = 0; i < 2; ++i) {
    const OrderIntent o = order(1'000);
    ASSERT_EQ(risk_.check_order(o, kNow), RiskReject::none);
    fill(o);
  }
  // $5,000 more on the linear instrument reaches $25,000: allowed; $50 more is not
  const OrderIntent linear = order(100, Side::sell, 3);
  ASSERT_EQ(risk_.check_order(linear, kNow), RiskReject::none);
  fill(linear);
  EXPECT_EQ(risk_.check_order(order(1, Side::sell, 3), kNow), RiskReject::max_aggregate_notional);
}

TEST_F(PreTradeRiskTest, deny_more_open_orders_than_the_limit) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(risk_.check_order(order(1), kNow + Duration::from_seconds(i)), RiskReject::none);
  }
  ASSERT_EQ(risk_.check_order(order(1), kNow + Duration::from_seconds(3)), RiskReject::none);
  EXPECT_EQ(risk_.check_order(order(1), kNow + Duration::from_seconds(4)), RiskReject::max_open_orders);
}

TEST_F(PreTradeRiskTest, deny_orders_beyond_the_token_bucket_rate) {
  RiskLimits rated = limits();
  rated.order_rate = {10, 3}; // burst 3, then 10 per second
  PreTradeRisk risk(rated, instruments(), 64);
  risk.on_session(2, true);
  risk.on_reference_price(2, Price::from_dollars(50'000), kNow);
  const auto check_and_fill = [&](Timestamp at) {
    const OrderIntent o = order(1);
    const RiskReject reason = risk.check_order(o, at);
    risk.on_execution({o.client_order_id, hedging::OrderStatus::filled, o.quantity, Price::from_dollars(50'000), at});
    return reason;
  };
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(check_and_fill(kNow), RiskReject::none);
  }
  EXPECT_EQ(check_and_fill(kNow), RiskReject::order_rate);
  // 100 ms later one token has come back, not two
  EXPECT_EQ(check_and_fill(kNow + Duration::from_milliseconds(100)), RiskReject::none);
  EXPECT_EQ(risk.check_order(order(1), kNow + Duration::from_milliseconds(100)), RiskReject::order_rate);
  EXPECT_EQ(risk.rejects(RiskReject::order_rate), 2u);
}

// Deribit counts credits per request and ends the session when a request
// finds too few (error 10028): risk refuses the order first, per venue.
TEST_F(PreTradeRiskTest, deny_orders_beyond_the_venues_credits_as_deribit_counts_them) {
  risk_.set_venue_credits(2, CreditLimit{1'000, 500, 500}); // two requests, then one a second
  const auto check_and_fill = [&](hedging::InstrumentId instrument, Timestamp at) {
    const OrderIntent o = order(1, Side::sell, instrument);
    const RiskReject reason = risk_.check_order(o, at);
    risk_.on_execution({o.client_order_id, hedging::OrderStatus::filled, o.quantity, Price::from_dollars(50'000), at});
    return reason;
  };
  EXPECT_EQ(check_and_fill(2, kNow), RiskReject::none);
  EXPECT_EQ(check_and_fill(2, kNow), RiskReject::none);
  EXPECT_EQ(check_and_fill(2, kNow), RiskReject::venue_credits);
  EXPECT_EQ(check_and_fill(3, kNow), RiskReject::none) << "another venue has its own credits (none set)";
  // 999 ms later 499.5 credits are back: not a request's worth; at 1 s, one.
  EXPECT_EQ(check_and_fill(2, kNow + Duration::from_milliseconds(999)), RiskReject::venue_credits);
  EXPECT_EQ(check_and_fill(2, kNow + Duration::from_seconds(1)), RiskReject::none);
  // A cancel always passes and spends its credits: the next order waits.
  EXPECT_EQ(risk_.check_cancel(hedging::CancelIntent{1, 2}, kNow + Duration::from_seconds(2)), RiskReject::none);
  EXPECT_EQ(check_and_fill(2, kNow + Duration::from_seconds(2)), RiskReject::venue_credits);
  EXPECT_EQ(risk_.rejects(RiskReject::venue_credits), 3u);
  EXPECT_EQ(to_string(RiskReject::venue_credits), "venue_credits");
}

TEST_F(PreTradeRiskTest, deribits_documented_default_is_twenty_requests_a_second_in_bursts_of_a_hundred) {
  EXPECT_EQ(kDeribitDefaultCredits.maximum / kDeribitDefaultCredits.cost, 100);
  EXPECT_EQ(kDeribitDefaultCredits.refill_per_second / kDeribitDefaultCredits.cost, 20);
  EXPECT_THROW(risk_.set_venue_credits(2, CreditLimit{1'000, 0, 500}), std::invalid_argument);
  EXPECT_THROW(risk_.set_venue_credits(2, CreditLimit{1'000, 10, 2'000}), std::invalid_argument);
}

TEST_F(PreTradeRiskTest, deny_a_duplicate_or_replayed_client_order_id) {
  const OrderIntent o = order(1);
  ASSERT_EQ(risk_.check_order(o, kNow), RiskReject::none);
  EXPECT_EQ(risk_.check_order(o, kNow), RiskReject::duplicate_client_order_id);
  OrderIntent older = order(1);
  older.client_order_id = 50;
  EXPECT_EQ(risk_.check_order(older, kNow), RiskReject::duplicate_client_order_id);
}

TEST_F(PreTradeRiskTest, deny_when_the_session_is_not_logged_on) {
  risk_.on_session(2, false);
  EXPECT_EQ(risk_.check_order(order(1), kNow), RiskReject::session_not_logged_on);
  EXPECT_EQ(risk_.check_order(order(1, Side::sell, 3), kNow), RiskReject::none);
}

TEST_F(PreTradeRiskTest, kill_switch_blocks_new_orders_until_resumed_and_lists_what_to_cancel) {
  const OrderIntent open = order(5);
  ASSERT_EQ(risk_.check_order(open, kNow), RiskReject::none);
  risk_.engage_kill_switch();
  EXPECT_EQ(risk_.check_order(order(1), kNow), RiskReject::kill_switch);
  EXPECT_EQ(risk_.check_cancel({open.client_order_id, 2}, kNow), RiskReject::none); // cancels still flow
  std::vector<ClientOrderId> to_cancel(8);
  ASSERT_EQ(risk_.open_orders(to_cancel), 1u);
  EXPECT_EQ(to_cancel[0], open.client_order_id);
  risk_.resume();
  EXPECT_EQ(risk_.check_order(order(1), kNow), RiskReject::none);
}

TEST_F(PreTradeRiskTest, a_watched_kill_file_engages_the_switch) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("synthusd_kill_" + std::to_string(::getpid()));
  std::filesystem::remove(path);
  EXPECT_FALSE(risk_.poll_kill_file(path.c_str()));
  EXPECT_FALSE(risk_.kill_switch_engaged());
  std::ofstream(path).put('\n');
  EXPECT_TRUE(risk_.poll_kill_file(path.c_str()));
  EXPECT_TRUE(risk_.kill_switch_engaged());
  EXPECT_EQ(risk_.check_order(order(1), kNow), RiskReject::kill_switch);
  std::filesystem::remove(path);
}

TEST_F(PreTradeRiskTest, fills_and_cancels_release_open_quantity) {
  const OrderIntent o = order(1'000);
  ASSERT_EQ(risk_.check_order(o, kNow), RiskReject::none);
  risk_.on_execution(
      {o.client_order_id, hedging::OrderStatus::partially_filled, Contracts{400}, Price::from_dollars(50'000), kNow});
  risk_.on_execution({o.client_order_id, hedging::OrderStatus::canceled, Contracts{0}, Price{}, kNow});
  EXPECT_EQ(risk_.open_order_count(), 0u);
  // position -400, nothing open: 1,600 more fits under 2,000, 1,601 does not
  EXPECT_EQ(risk_.check_order(order(1'601), kNow), RiskReject::max_order_quantity);
  const OrderIntent big = order(1'000);
  ASSERT_EQ(risk_.check_order(big, kNow), RiskReject::none);
  fill(big);
  EXPECT_EQ(risk_.check_order(order(601), kNow), RiskReject::max_position);
}

TEST_F(PreTradeRiskTest, every_reject_reason_has_a_name) {
  for (std::size_t i = 0; i < kRiskRejectCount; ++i) {
    EXPECT_NE(to_string(static_cast<RiskReject>(i)), "unknown") << i;
  }
}

TEST(PreTradeRiskConfig, rejects_unusable_limits) {
  RiskLimits bad = limits();
  bad.max_open_orders = 0;
  EXPECT_THROW(PreTradeRisk(bad, instruments()), std::invalid_argument);
}

} // namespace
} // namespace synthusd::fix
