// The per-venue order type: marketable limit IOC inside a collar (default),
// market only on request, post-only at the touch with a taker fallback, and
// the reject backoff.

#include "synthusd/fix/execution_policy.hpp"

#include <gtest/gtest.h>

namespace synthusd::fix {
namespace {

using hedging::Contracts;
using hedging::Duration;
using hedging::OrderIntent;
using hedging::OrderType;
using hedging::Price;
using hedging::Ratio;
using hedging::Side;

const Price kTick = Price::from_cents(50);

OrderIntent market(Side side) {
  OrderIntent intent;
  intent.client_order_id = 7;
  intent.side = side;
  intent.quantity = Contracts{12};
  intent.type = OrderType::market;
  return intent;
}

Touch touch(double bid, double ask, double reference) {
  return Touch{Price{static_cast<std::int64_t>(bid * 1e8)}, Price{static_cast<std::int64_t>(ask * 1e8)},
               Price{static_cast<std::int64_t>(reference * 1e8)}};
}

TEST(ExecutionPolicyTest, default_is_a_marketable_limit_ioc_bounded_by_the_collar) {
  const ExecutionOptions options; // limit_ioc, 0.5 %
  const auto buy = shape_order(market(Side::buy), touch(39'999.5, 40'000.5, 40'000), kTick, options);
  ASSERT_TRUE(buy.has_value());
  EXPECT_EQ(buy->intent.type, OrderType::limit);
  EXPECT_EQ(buy->intent.limit_price, Price::from_dollars(40'200)); // 40000 * 1.005
  EXPECT_EQ(buy->time_in_force, TimeInForce::immediate_or_cancel);
  EXPECT_FALSE(buy->post_only);
  EXPECT_EQ(buy->intent.quantity, Contracts{12});
  EXPECT_EQ(buy->intent.client_order_id, 7U);
  const auto sell = shape_order(market(Side::sell), touch(39'999.5, 40'000.5, 40'000), kTick, options);
  ASSERT_TRUE(sell.has_value());
  EXPECT_EQ(sell->intent.limit_price, Price::from_dollars(39'800)); // 40000 * 0.995
}

TEST(ExecutionPolicyTest, collar_rounds_to_the_tick_toward_the_reference) {
  // 40001.3 * 1.005 = 40201.3065 -> 40201.0 (down); * 0.995 = 39801.2935 -> 39801.5 (up).
  const Price reference{4'000'130'000'000};
  EXPECT_EQ(collar_price(Side::buy, reference, Ratio::from_ppm(5'000), kTick), Price::from_cents(4'020'100));
  EXPECT_EQ(collar_price(Side::sell, reference, Ratio::from_ppm(5'000), kTick), Price::from_cents(3'980'150));
  EXPECT_FALSE(collar_price(Side::buy, Price{}, Ratio::from_ppm(5'000), kTick).is_valid());
  EXPECT_FALSE(collar_price(Side::sell, reference, Ratio::from_ppm(1'000'000), kTick).is_valid());
}

TEST(ExecutionPolicyTest, deny_an_unbounded_order_when_there_is_no_reference_price) {
  EXPECT_FALSE(shape_order(market(Side::buy), touch(0, 0, 0), kTick, ExecutionOptions{}).has_value());
}

TEST(ExecutionPolicyTest, market_orders_only_when_configured) {
  ExecutionOptions options;
  options.style = ExecutionStyle::market;
  const auto shaped = shape_order(market(Side::sell), touch(0, 0, 0), kTick, options);
  ASSERT_TRUE(shaped.has_value());
  EXPECT_EQ(shaped->intent.type, OrderType::market);
  EXPECT_EQ(shaped->time_in_force, TimeInForce::immediate_or_cancel);
  EXPECT_FALSE(shaped->taker_limit_price.is_valid()) << "no reference, no collar price";
}

// Deribit requires Price(44) on market orders too: the market style carries
// the collar price for the gateway to send (the intent stays a market order
// for pre-trade risk).
TEST(ExecutionPolicyTest, market_orders_carry_the_collar_price_for_venues_that_require_a_price) {
  ExecutionOptions options;
  options.style = ExecutionStyle::market;
  const auto buy = shape_order(market(Side::buy), touch(39'999.5, 40'000.5, 40'000), kTick, options);
  ASSERT_TRUE(buy.has_value());
  EXPECT_EQ(buy->intent.type, OrderType::market);
  EXPECT_FALSE(buy->intent.limit_price.is_valid());
  EXPECT_EQ(buy->taker_limit_price, collar_price(Side::buy, Price::from_dollars(40'000), options.collar, kTick));
  EXPECT_GT(buy->taker_limit_price, Price::from_dollars(40'000));
}

TEST(ExecutionPolicyTest, a_passive_intent_rests_post_only_at_the_touch_without_a_fallback_whatever_the_style) {
  for (const ExecutionStyle style : {ExecutionStyle::limit_ioc, ExecutionStyle::market, ExecutionStyle::post_only}) {
    ExecutionOptions options;
    options.style = style;
    hedging::OrderIntent intent = market(Side::sell);
    intent.passive = true;
    const auto sell = shape_order(intent, touch(39'999.5, 40'000.5, 40'000), kTick, options);
    ASSERT_TRUE(sell.has_value());
    EXPECT_TRUE(sell->post_only);
    EXPECT_EQ(sell->intent.limit_price, Price::from_cents(4'000'050)); // the ask
    EXPECT_EQ(sell->time_in_force, TimeInForce::good_till_cancel);
    EXPECT_FALSE(sell->taker_limit_price.is_valid()) << "the kernel converts it, not the gateway";
    intent.side = Side::buy;
    EXPECT_FALSE(shape_order(intent, touch(0, 40'000.5, 40'000), kTick, options).has_value());
  }
}

TEST(ExecutionPolicyTest, post_only_rests_at_our_side_of_the_touch_with_a_collared_taker_fallback) {
  ExecutionOptions options;
  options.style = ExecutionStyle::post_only;
  const auto sell = shape_order(market(Side::sell), touch(39'999.5, 40'000.5, 40'000), kTick, options);
  ASSERT_TRUE(sell.has_value());
  EXPECT_TRUE(sell->post_only);
  EXPECT_EQ(sell->intent.limit_price, Price::from_cents(4'000'050)); // the ask
  EXPECT_EQ(sell->time_in_force, TimeInForce::good_till_cancel);
  EXPECT_EQ(sell->taker_limit_price, Price::from_dollars(39'800));
  const ShapedOrder taker = taker_fallback(*sell);
  EXPECT_FALSE(taker.post_only);
  EXPECT_EQ(taker.intent.limit_price, Price::from_dollars(39'800));
  EXPECT_EQ(taker.time_in_force, TimeInForce::immediate_or_cancel);
  const auto buy = shape_order(market(Side::buy), touch(39'999.5, 40'000.5, 40'000), kTick, options);
  ASSERT_TRUE(buy.has_value());
  EXPECT_EQ(buy->intent.limit_price, Price::from_cents(3'999'950)); // the bid
  EXPECT_FALSE(shape_order(market(Side::buy), touch(0, 40'000.5, 40'000), kTick, options).has_value());
}

TEST(ExecutionPolicyTest, kernel_limit_orders_pass_through_unchanged) {
  OrderIntent intent = market(Side::buy);
  intent.type = OrderType::limit;
  intent.limit_price = Price::from_dollars(41'000);
  const auto shaped = shape_order(intent, touch(0, 0, 0), kTick, ExecutionOptions{});
  ASSERT_TRUE(shaped.has_value());
  EXPECT_EQ(shaped->intent.limit_price, Price::from_dollars(41'000));
  EXPECT_EQ(shaped->time_in_force, TimeInForce::good_till_cancel);
}

TEST(ExecutionPolicyTest, reject_backoff_doubles_up_to_its_maximum) {
  ExecutionOptions options;
  options.reject_backoff_initial = Duration::from_seconds(1);
  options.reject_backoff_maximum = Duration::from_seconds(10);
  EXPECT_EQ(reject_backoff(options, 0), Duration{});
  EXPECT_EQ(reject_backoff(options, 1), Duration::from_seconds(1));
  EXPECT_EQ(reject_backoff(options, 2), Duration::from_seconds(2));
  EXPECT_EQ(reject_backoff(options, 4), Duration::from_seconds(8));
  EXPECT_EQ(reject_backoff(options, 5), Duration::from_seconds(10));
  EXPECT_EQ(reject_backoff(options, 4'000'000'000U), Duration::from_seconds(10));
}

TEST(ExecutionPolicyTest, style_names_round_trip_and_unknown_names_are_refused) {
  for (const ExecutionStyle style : {ExecutionStyle::limit_ioc, ExecutionStyle::market, ExecutionStyle::post_only}) {
    ExecutionStyle parsed = ExecutionStyle::market;
    ASSERT_TRUE(parse_execution_style(to_string(style), parsed));
    EXPECT_EQ(parsed, style);
  }
  ExecutionStyle untouched = ExecutionStyle::post_only;
  EXPECT_FALSE(parse_execution_style("limit", untouched));
  EXPECT_EQ(untouched, ExecutionStyle::post_only);
}

} // namespace
} // namespace synthusd::fix
