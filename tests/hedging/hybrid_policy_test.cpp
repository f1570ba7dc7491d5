// The hybrid policy through the kernel: taker orders back to the hard band's
// edge, one post-only order toward 1.00, re-priced when the touch moves away
// and converted to taker when the firm exposure leaves the hard band.

#include <gtest/gtest.h>

#include "kernel_fixture.hpp"

namespace synthusd::hedging {
namespace {

using namespace synthusd::hedging::testing;

constexpr std::int64_t kBook = 10'000'000; // $100,000: one $10 contract is 1 bp

// Deribit's $10 contract, the hybrid policy's default bands (+-10 bps hard,
// +-5 bps soft).
KernelConfig hybrid_config() {
  KernelConfig config = single_venue_config();
  config.instruments[0].contract_value = UsdCents{1'000};
  config.bands = default_bands(PolicyKind::hybrid);
  return config;
}

std::vector<CancelIntent> cancels_in(std::span<const Action> actions) {
  std::vector<CancelIntent> cancels;
  for (const Action& action : actions) {
    if (const auto* cancel = std::get_if<CancelIntent>(&action)) {
      cancels.push_back(*cancel);
    }
  }
  return cancels;
}

// Hedged by taker to the hard band's edge (9,990 contracts, 0.999), with the
// last 10 contracts to 1.00 resting post-only.
OrderIntent hedge_with_resting_order(Kernel& kernel) {
  bring_up(kernel);
  const std::vector<OrderIntent> taker = orders_in(kernel.on(liability(kBook)));
  EXPECT_EQ(taker.size(), 1u);
  EXPECT_FALSE(taker.at(0).passive);
  EXPECT_EQ(signed_quantity(taker.at(0)), -9'990);
  const std::vector<OrderIntent> passive = orders_in(fill(kernel, taker.at(0), 50'000, kStart));
  EXPECT_EQ(passive.size(), 1u);
  return passive.at(0);
}

TEST(HybridPolicy, takes_only_back_to_the_hard_band_and_posts_the_rest_toward_one) {
  Kernel kernel(hybrid_config());
  const OrderIntent resting = hedge_with_resting_order(kernel);
  EXPECT_TRUE(resting.passive);
  EXPECT_EQ(signed_quantity(resting), -10);
  EXPECT_EQ(kernel.slot(1)->passive_order, resting.client_order_id);
  EXPECT_EQ(kernel.slot(1)->passive_price, Price::from_dollars(50'001)); // the ask: our side of the touch
}

TEST(HybridPolicy, a_resting_order_is_never_cancelled_as_unanswered_nor_doubled) {
  Kernel kernel(hybrid_config());
  const OrderIntent resting = hedge_with_resting_order(kernel);
  const std::span<const Action> later = kernel.on(Timer{at_seconds(3'600)});
  EXPECT_TRUE(cancels_in(later).empty());
  EXPECT_TRUE(orders_in(later).empty());
  EXPECT_TRUE(alerts_in(later, AlertCode::order_unanswered).empty());
  EXPECT_EQ(kernel.slot(1)->passive_order, resting.client_order_id);
}

TEST(HybridPolicy, cancels_when_the_touch_moves_away_and_posts_again_at_the_new_touch) {
  Kernel kernel(hybrid_config());
  const OrderIntent resting = hedge_with_resting_order(kernel);
  // The ask falls from 50,001 to 49,991: a sell at 50,001 would wait behind it.
  const std::span<const Action> moved = kernel.on(market(1, 1, 49'990, at_seconds(1)));
  const std::vector<CancelIntent> cancels = cancels_in(moved);
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].client_order_id, resting.client_order_id);
  EXPECT_TRUE(orders_in(moved).empty()) << "one resting order per instrument: the new one waits for the cancel";
  const std::vector<OrderIntent> reposted =
      orders_in(kernel.on(ExecutionReport{resting.client_order_id, OrderStatus::canceled, {}, {}, at_seconds(1)}));
  ASSERT_EQ(reposted.size(), 1u);
  EXPECT_TRUE(reposted[0].passive);
  EXPECT_EQ(signed_quantity(reposted[0]), -10);
  EXPECT_EQ(kernel.slot(1)->passive_price, Price::from_dollars(49'991));
}

TEST(HybridPolicy, a_touch_moving_toward_the_order_keeps_it) {
  Kernel kernel(hybrid_config());
  (void)hedge_with_resting_order(kernel);
  // The ask rises through 50,001: the order fills there, it is not re-priced.
  EXPECT_TRUE(cancels_in(kernel.on(market(1, 1, 50'010, at_seconds(1)))).empty());
}

TEST(HybridPolicy, leaving_the_hard_band_cancels_the_resting_order_and_takes_the_gap) {
  Kernel kernel(hybrid_config());
  const OrderIntent resting = hedge_with_resting_order(kernel);
  // +$200: the firm 99,900 / 100,200 = 0.9970 is below 0.999 whatever the
  // resting order does.
  const std::span<const Action> actions = kernel.on(liability(20'000, at_seconds(1)));
  const std::vector<CancelIntent> cancels = cancels_in(actions);
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].client_order_id, resting.client_order_id);
  const std::vector<OrderIntent> orders = orders_in(actions);
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_FALSE(orders[0].passive);
  EXPECT_EQ(signed_quantity(orders[0]), -20); // to 100,100 / 100,200 = 0.999002, inside
}

TEST(HybridPolicy, a_resting_order_the_hedge_no_longer_wants_is_cancelled) {
  Kernel kernel(hybrid_config());
  const OrderIntent resting = hedge_with_resting_order(kernel);
  // -$60: the firm 99,900 / 99,940 = 0.9996 is inside the soft band.
  const std::vector<CancelIntent> cancels = cancels_in(kernel.on(liability(-6'000, at_seconds(1))));
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].client_order_id, resting.client_order_id);
}

TEST(HybridPolicy, is_selectable_by_name) {
  PolicyKind kind = PolicyKind::banded;
  EXPECT_TRUE(policy_from_name("hybrid", kind));
  EXPECT_EQ(kind, PolicyKind::hybrid);
  EXPECT_EQ(policy_name(PolicyKind::hybrid), "hybrid");
}

} // namespace
} // namespace synthusd::hedging
