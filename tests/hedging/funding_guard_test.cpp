// Rule 8: the funding guard. A perpetual whose funding stays below
// engage_below (-0.01 % per interval, shorts pay) for engage_after (8 h)
// stops taking the hedge until funding is back at or above 0; when every
// venue is guarded the kernel hedges on a guarded perpetual anyway.

#include <gtest/gtest.h>

#include "kernel_fixture.hpp"

namespace synthusd::hedging {
namespace {

using namespace synthusd::hedging::testing;

constexpr Ratio kPositive{10'000};         // +0.01 %
constexpr Ratio kNegative{-20'000};        // -0.02 %: below the -0.01 % threshold
constexpr Ratio kAtThreshold{-10'000};     // -0.01 %: not below it
constexpr Ratio kSlightlyNegative{-5'000}; // -0.005 %: between threshold and release
constexpr Timestamp kT0 = kStart + Duration::from_seconds(60);

Timestamp after_hours(std::int64_t hours) { return kT0 + Duration::from_hours(hours); }
// funding_guard.move_after (5 minutes) after that: a guard that engaged or
// released then has held long enough to move hedge.
Timestamp settled_after_hours(std::int64_t hours) { return after_hours(hours) + Duration::from_seconds(300); }

const OrderIntent* find_order(const std::vector<OrderIntent>& orders, InstrumentId instrument) {
  for (const OrderIntent& order : orders) {
    if (order.instrument == instrument) {
      return &order;
    }
  }
  return nullptr;
}

// Two venues, each with only a $100 inverse perpetual: venue 1 / instrument 1
// and venue 2 / instrument 2, equal weights. $10,000 hedged as 49 + 49, filled.
Kernel two_perpetual_venues_hedged() {
  KernelConfig config;
  config.venues = {{1, "okx", 1, UsdCents{INT64_MAX / 4}}, {2, "binance", 1, UsdCents{INT64_MAX / 4}}};
  InstrumentSpec a;
  a.id = 1;
  a.venue = 1;
  a.symbol = "BTC-USD-SWAP";
  InstrumentSpec b;
  b.id = 2;
  b.venue = 2;
  b.symbol = "BTCUSD_PERP";
  config.instruments = {a, b};
  Kernel kernel(std::move(config));
  bring_up(kernel); // $50,000, funding +0.01 %
  const auto orders = orders_in(kernel.on(liability(1'000'000)));
  EXPECT_EQ(orders.size(), 2U);
  for (const OrderIntent& order : orders) {
    EXPECT_EQ(signed_quantity(order), -49); // round(0.98 * 5,000 / 100)
    (void)fill(kernel, order, 50'000, kStart);
  }
  return kernel;
}

// One venue with a perpetual (1) and a dated future (2) 73 days out, priced
// 10 % under the index (-50 %/yr), so the perpetual keeps the hedge on carry
// even at -0.02 % funding (-21.9 %/yr). $10,000 hedged on the perpetual.
Kernel perpetual_with_future_hedged() {
  KernelConfig config;
  config.venues = {{1, "deribit", 1, UsdCents{INT64_MAX / 4}}};
  InstrumentSpec perp;
  perp.id = 1;
  perp.venue = 1;
  perp.symbol = "BTC-PERPETUAL";
  InstrumentSpec future;
  future.id = 2;
  future.venue = 1;
  future.symbol = "BTC-DATED";
  future.kind = InstrumentKind::inverse_future;
  future.expiry = kStart + Duration::from_hours(73LL * 24);
  config.instruments = {perp, future};
  Kernel kernel(std::move(config));
  (void)kernel.on(VenueStatus{1, true, kStart});
  (void)kernel.on(market(1, 1, 50'000, kStart, kPositive));
  (void)kernel.on(market(1, 2, 45'000, kStart, Ratio{0}, Price::from_dollars(50'000)));
  EXPECT_EQ(kernel.slot(2)->annual_carry, Ratio{-50'000'000});
  EXPECT_EQ(kernel.venue(1)->active, 1);
  const auto orders = orders_in(kernel.on(liability(1'000'000)));
  EXPECT_EQ(orders.size(), 1U);
  if (!orders.empty()) {
    EXPECT_EQ(orders[0].instrument, 1);
    (void)fill(kernel, orders[0], 50'000, kStart);
  }
  return kernel;
}

TEST(FundingGuard, moves_the_hedge_to_the_dated_future_after_eight_hours_of_negative_funding) {
  Kernel kernel = perpetual_with_future_hedged();
  const auto first = kernel.on(market(1, 1, 50'000, kT0, kNegative));
  EXPECT_TRUE(orders_in(first).empty()); // -21.9 %/yr still beats -50 %/yr
  EXPECT_TRUE(alerts_in(first, AlertCode::funding_guard_engaged).empty());
  EXPECT_EQ(kernel.venue(1)->active, 1);

  const auto early = kernel.on(Timer{after_hours(8) - Duration::from_seconds(1)});
  EXPECT_TRUE(orders_in(early).empty());
  EXPECT_TRUE(alerts_in(early, AlertCode::funding_guard_engaged).empty());
  EXPECT_FALSE(kernel.slot(1)->funding_guard_engaged);

  const auto engaging = kernel.on(Timer{after_hours(8)});
  const auto engaged = alerts_in(engaging, AlertCode::funding_guard_engaged);
  ASSERT_EQ(engaged.size(), 1U);
  EXPECT_EQ(engaged[0].values, (std::array<std::int64_t, 3>{1, 1, -20'000}));
  EXPECT_TRUE(kernel.slot(1)->funding_guard_engaged);
  EXPECT_TRUE(orders_in(engaging).empty()) << "the guard moves hedge once it has held move_after";
  EXPECT_EQ(kernel.venue(1)->active, 1);

  const auto actions = kernel.on(Timer{settled_after_hours(8)});
  const auto rolled = alerts_in(actions, AlertCode::instrument_rolled);
  ASSERT_EQ(rolled.size(), 1U);
  EXPECT_EQ(rolled[0].values, (std::array<std::int64_t, 3>{1, 1, 2}));
  EXPECT_EQ(kernel.venue(1)->active, 2);

  const auto orders = orders_in(actions);
  ASSERT_EQ(orders.size(), 2U);
  const OrderIntent* close = find_order(orders, 1);
  const OrderIntent* open = find_order(orders, 2);
  ASSERT_NE(close, nullptr);
  ASSERT_NE(open, nullptr);
  EXPECT_EQ(signed_quantity(*close), 98);
  EXPECT_TRUE(close->reduce_only);
  // The future trades 10 % under the index: each contract covers $90 of
  // index moves, so 0.98 * $10,000 takes round(98 * 0.9) = 88 of them.
  EXPECT_EQ(signed_quantity(*open), -88);
}

TEST(FundingGuard, moves_the_hedge_to_another_venue_when_the_venue_has_only_the_perpetual) {
  Kernel kernel = two_perpetual_venues_hedged();
  EXPECT_TRUE(orders_in(kernel.on(market(1, 1, 50'000, kT0, kNegative))).empty());
  EXPECT_TRUE(orders_in(kernel.on(Timer{after_hours(4)})).empty());

  const auto engaging = kernel.on(Timer{after_hours(8)});
  const auto engaged = alerts_in(engaging, AlertCode::funding_guard_engaged);
  ASSERT_EQ(engaged.size(), 1U);
  EXPECT_EQ(engaged[0].values, (std::array<std::int64_t, 3>{1, 1, -20'000}));
  EXPECT_TRUE(orders_in(engaging).empty()) << "the guard moves hedge once it has held move_after";
  EXPECT_EQ(kernel.venue(1)->allocation, UsdCents{500'000});

  const auto actions = kernel.on(Timer{settled_after_hours(8)});
  EXPECT_TRUE(alerts_in(actions, AlertCode::instrument_rolled).empty()); // nothing to roll into on venue 1
  EXPECT_EQ(kernel.venue(1)->allocation, UsdCents{0});
  EXPECT_EQ(kernel.venue(2)->allocation, UsdCents{1'000'000});
  EXPECT_EQ(kernel.unallocated(), UsdCents{0});

  // venue 1 buys back its 49; venue 2 now hedges $10,000 with 49 short
  // (ratio 0.49): sells round((9,800 - 4,900) / 100) = 49 more
  const auto orders = orders_in(actions);
  ASSERT_EQ(orders.size(), 2U);
  const OrderIntent* close = find_order(orders, 1);
  const OrderIntent* open = find_order(orders, 2);
  ASSERT_NE(close, nullptr);
  ASSERT_NE(open, nullptr);
  EXPECT_EQ(signed_quantity(*close), 49);
  EXPECT_TRUE(close->reduce_only);
  EXPECT_EQ(signed_quantity(*open), -49);
}

TEST(FundingGuard, engages_once_and_does_not_repeat_the_alert) {
  Kernel kernel = two_perpetual_venues_hedged();
  (void)kernel.on(market(1, 1, 50'000, kT0, kNegative));
  EXPECT_EQ(alerts_in(kernel.on(Timer{after_hours(8)}), AlertCode::funding_guard_engaged).size(), 1U);
  EXPECT_TRUE(alerts_in(kernel.on(Timer{after_hours(9)}), AlertCode::funding_guard_engaged).empty());
  EXPECT_TRUE(
      alerts_in(kernel.on(market(1, 1, 50'000, after_hours(10), kNegative)), AlertCode::funding_guard_engaged).empty());
}

TEST(FundingGuard, counts_eight_hours_from_the_first_negative_update_while_funding_stays_below) {
  Kernel kernel = two_perpetual_venues_hedged();
  for (std::int64_t hour = 0; hour < 8; ++hour) {
    const auto actions = kernel.on(market(1, 1, 50'000, after_hours(hour), kNegative));
    EXPECT_TRUE(alerts_in(actions, AlertCode::funding_guard_engaged).empty()) << "hour " << hour;
    EXPECT_TRUE(orders_in(actions).empty()) << "hour " << hour;
  }
  EXPECT_EQ(
      alerts_in(kernel.on(market(1, 1, 50'000, after_hours(8), kNegative)), AlertCode::funding_guard_engaged).size(),
      1U);
}

TEST(FundingGuard, funding_exactly_at_the_threshold_is_not_below_it) {
  Kernel kernel = two_perpetual_venues_hedged();
  (void)kernel.on(market(1, 1, 50'000, kT0, kAtThreshold));
  const auto actions = kernel.on(Timer{after_hours(24)});
  EXPECT_TRUE(alerts_in(actions, AlertCode::funding_guard_engaged).empty());
  EXPECT_TRUE(orders_in(actions).empty());
  EXPECT_FALSE(kernel.slot(1)->funding_guard_engaged);
}

TEST(FundingGuard, funding_back_at_zero_before_eight_hours_restarts_the_count) {
  Kernel kernel = two_perpetual_venues_hedged();
  (void)kernel.on(market(1, 1, 50'000, kT0, kNegative));
  (void)kernel.on(market(1, 1, 50'000, after_hours(4), Ratio{0}));
  (void)kernel.on(market(1, 1, 50'000, after_hours(5), kNegative));
  EXPECT_TRUE(alerts_in(kernel.on(Timer{after_hours(8)}), AlertCode::funding_guard_engaged).empty());
  EXPECT_TRUE(alerts_in(kernel.on(Timer{after_hours(13) - Duration::from_seconds(1)}), AlertCode::funding_guard_engaged)
                  .empty());
  EXPECT_EQ(alerts_in(kernel.on(Timer{after_hours(13)}), AlertCode::funding_guard_engaged).size(), 1U);
}

TEST(FundingGuard, funding_rising_to_the_threshold_before_eight_hours_breaks_the_continuous_run) {
  // "Below -0.01 % continuously for 8 h": a stretch at -0.005 % (not below
  // the threshold) interrupts the run just as 0 % does; only the release of an
  // already engaged guard waits for funding >= 0.
  Kernel kernel = two_perpetual_venues_hedged();
  (void)kernel.on(market(1, 1, 50'000, kT0, kNegative));
  (void)kernel.on(market(1, 1, 50'000, after_hours(4), kSlightlyNegative));
  (void)kernel.on(market(1, 1, 50'000, after_hours(5), kNegative));
  const auto at_eight = kernel.on(Timer{after_hours(8)});
  EXPECT_TRUE(alerts_in(at_eight, AlertCode::funding_guard_engaged).empty())
      << "engaged after only 3 h below the threshold";
  EXPECT_TRUE(orders_in(at_eight).empty());
  EXPECT_EQ(alerts_in(kernel.on(Timer{after_hours(13)}), AlertCode::funding_guard_engaged).size(), 1U);
}

TEST(FundingGuard, is_released_with_an_alert_once_funding_is_back_at_zero) {
  Kernel kernel = two_perpetual_venues_hedged();
  (void)kernel.on(market(1, 1, 50'000, kT0, kNegative));
  (void)kernel.on(Timer{after_hours(8)});
  const auto moved = orders_in(kernel.on(Timer{settled_after_hours(8)}));
  ASSERT_EQ(moved.size(), 2U);
  for (const OrderIntent& order : moved) {
    (void)fill(kernel, order, 50'000, settled_after_hours(8)); // venue 1 flat, venue 2 98 short
  }

  // -0.005 % is no longer below the threshold but not yet >= 0: still engaged
  const auto still = kernel.on(market(1, 1, 50'000, after_hours(9), kSlightlyNegative));
  EXPECT_TRUE(alerts_in(still, AlertCode::funding_guard_released).empty());
  EXPECT_TRUE(orders_in(still).empty());
  EXPECT_TRUE(kernel.slot(1)->funding_guard_engaged);

  const auto actions = kernel.on(market(1, 1, 50'000, after_hours(10), Ratio{0}));
  const auto released = alerts_in(actions, AlertCode::funding_guard_released);
  ASSERT_EQ(released.size(), 1U);
  EXPECT_EQ(released[0].values, (std::array<std::int64_t, 3>{1, 1, 0}));
  EXPECT_FALSE(kernel.slot(1)->funding_guard_engaged);
  EXPECT_EQ(kernel.venue(1)->allocation, UsdCents{500'000});

  // back to 50 / 50: venue 1 sells 49; venue 2 (98 short for $5,000, ratio
  // 1.96) buys back to 1.00: (9,800 - 5,000) / 100 = 48
  const auto orders = orders_in(actions);
  ASSERT_EQ(orders.size(), 2U);
  EXPECT_EQ(signed_quantity(*find_order(orders, 1)), -49);
  EXPECT_EQ(signed_quantity(*find_order(orders, 2)), 48);
}

TEST(FundingGuard, release_returns_the_hedge_to_the_perpetual_when_its_carry_is_better) {
  Kernel kernel = perpetual_with_future_hedged();
  (void)kernel.on(market(1, 1, 50'000, kT0, kNegative));
  (void)kernel.on(Timer{after_hours(8)});
  const auto moved = orders_in(kernel.on(Timer{settled_after_hours(8)}));
  ASSERT_EQ(moved.size(), 2U);
  for (const OrderIntent& order : moved) {
    (void)fill(kernel, order, 50'000, settled_after_hours(8));
  }
  ASSERT_EQ(kernel.venue(1)->active, 2);

  // funding +0.01 % (10.95 %/yr) beats the future's ~-50 %/yr: back to the perpetual
  const auto actions = kernel.on(market(1, 1, 50'000, after_hours(9), kPositive));
  EXPECT_EQ(alerts_in(actions, AlertCode::funding_guard_released).size(), 1U);
  const auto rolled = alerts_in(actions, AlertCode::instrument_rolled);
  ASSERT_EQ(rolled.size(), 1U);
  EXPECT_EQ(rolled[0].values, (std::array<std::int64_t, 3>{1, 2, 1}));
  const auto orders = orders_in(actions);
  ASSERT_EQ(orders.size(), 2U);
  EXPECT_EQ(signed_quantity(*find_order(orders, 1)), -98);
  EXPECT_EQ(signed_quantity(*find_order(orders, 2)), 88); // the 88 the future held (10 % under the index)
}

TEST(FundingGuard, keeps_hedging_on_guarded_perpetuals_when_every_venue_is_guarded) {
  Kernel kernel = two_perpetual_venues_hedged();
  (void)kernel.on(market(1, 1, 50'000, kT0, kNegative));
  (void)kernel.on(market(2, 2, 50'000, kT0, kNegative));
  const auto actions = kernel.on(Timer{after_hours(8)});
  EXPECT_EQ(alerts_in(actions, AlertCode::funding_guard_engaged).size(), 2U);
  // nowhere better to go: the hedge stays where it is, nothing unhedged
  EXPECT_TRUE(orders_in(actions).empty());
  EXPECT_TRUE(alerts_in(actions, AlertCode::venue_capacity_exhausted).empty());
  EXPECT_EQ(kernel.unallocated(), UsdCents{0});
  EXPECT_EQ(kernel.venue(1)->allocation, UsdCents{500'000});
  EXPECT_EQ(kernel.venue(2)->allocation, UsdCents{500'000});

  // and new liability is still hedged: 49 more on each
  const auto orders = orders_in(kernel.on(liability(1'000'000, after_hours(9))));
  ASSERT_EQ(orders.size(), 2U);
  EXPECT_EQ(signed_quantity(*find_order(orders, 1)), -49);
  EXPECT_EQ(signed_quantity(*find_order(orders, 2)), -49);
}

TEST(FundingGuard, a_single_guarded_perpetual_still_takes_a_new_liability) {
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  (void)kernel.on(market(1, 1, 50'000, kT0, kNegative));
  EXPECT_EQ(alerts_in(kernel.on(Timer{after_hours(8)}), AlertCode::funding_guard_engaged).size(), 1U);
  const auto actions = kernel.on(liability(1'000'000, after_hours(9)));
  const auto orders = orders_in(actions);
  ASSERT_EQ(orders.size(), 1U);
  EXPECT_EQ(signed_quantity(orders[0]), -98);
  EXPECT_EQ(kernel.unallocated(), UsdCents{0});
}

TEST(FundingGuard, the_fallback_ends_when_one_venue_recovers) {
  Kernel kernel = two_perpetual_venues_hedged();
  (void)kernel.on(market(1, 1, 50'000, kT0, kNegative));
  (void)kernel.on(market(2, 2, 50'000, kT0, kNegative));
  ASSERT_TRUE(orders_in(kernel.on(Timer{after_hours(8)})).empty());

  // venue 2 back at +0.01 %: released. Once that has held move_after,
  // venue 1 (still guarded) hands its share over: venue 1 buys 49, venue 2
  // sells 49
  const auto releasing = kernel.on(market(2, 2, 50'000, after_hours(9), kPositive));
  EXPECT_EQ(alerts_in(releasing, AlertCode::funding_guard_released).size(), 1U);
  EXPECT_TRUE(orders_in(releasing).empty());
  EXPECT_EQ(kernel.venue(1)->allocation, UsdCents{500'000});
  const auto actions = kernel.on(Timer{settled_after_hours(9)});
  EXPECT_EQ(kernel.venue(1)->allocation, UsdCents{0});
  EXPECT_EQ(kernel.venue(2)->allocation, UsdCents{1'000'000});
  const auto orders = orders_in(actions);
  ASSERT_EQ(orders.size(), 2U);
  EXPECT_EQ(signed_quantity(*find_order(orders, 1)), 49);
  EXPECT_EQ(signed_quantity(*find_order(orders, 2)), -49);
}

TEST(FundingGuard, venues_whose_guards_release_a_moment_apart_keep_their_shares) {
  Kernel kernel = two_perpetual_venues_hedged();
  (void)kernel.on(market(1, 1, 50'000, kT0, kNegative));
  (void)kernel.on(market(2, 2, 50'000, kT0, kNegative));
  ASSERT_TRUE(orders_in(kernel.on(Timer{after_hours(8)})).empty());
  // Both funding rates turn at the same funding time; venue 1's update
  // arrives ten seconds before venue 2's. Without move_after, venue 2's
  // share would go to venue 1 and come back: two round trips of 49.
  const auto first = kernel.on(market(1, 1, 50'000, after_hours(9), kPositive));
  EXPECT_EQ(alerts_in(first, AlertCode::funding_guard_released).size(), 1U);
  EXPECT_TRUE(orders_in(first).empty());
  const auto second = kernel.on(market(2, 2, 50'000, after_hours(9) + Duration::from_seconds(10), kPositive));
  EXPECT_EQ(alerts_in(second, AlertCode::funding_guard_released).size(), 1U);
  EXPECT_TRUE(orders_in(second).empty());
  EXPECT_TRUE(orders_in(kernel.on(Timer{settled_after_hours(10)})).empty());
  EXPECT_EQ(kernel.venue(1)->allocation, UsdCents{500'000});
  EXPECT_EQ(kernel.venue(2)->allocation, UsdCents{500'000});
}

TEST(FundingGuard, venues_whose_guards_engage_a_moment_apart_keep_their_shares) {
  Kernel kernel = two_perpetual_venues_hedged();
  (void)kernel.on(market(1, 1, 50'000, kT0, kNegative));
  (void)kernel.on(market(2, 2, 50'000, kT0 + Duration::from_seconds(10), kNegative));
  const auto first = kernel.on(Timer{after_hours(8)});
  EXPECT_EQ(alerts_in(first, AlertCode::funding_guard_engaged).size(), 1U);
  EXPECT_TRUE(orders_in(first).empty());
  const auto second = kernel.on(Timer{after_hours(8) + Duration::from_seconds(10)});
  EXPECT_EQ(alerts_in(second, AlertCode::funding_guard_engaged).size(), 1U);
  EXPECT_TRUE(orders_in(second).empty());
  // every venue guarded: the fallback keeps both where they are
  EXPECT_TRUE(orders_in(kernel.on(Timer{settled_after_hours(9)})).empty());
  EXPECT_EQ(kernel.venue(1)->allocation, UsdCents{500'000});
  EXPECT_EQ(kernel.venue(2)->allocation, UsdCents{500'000});
}

TEST(FundingGuard, thresholds_and_duration_come_from_the_config) {
  KernelConfig config = single_venue_config();
  config.funding_guard.engage_below = Ratio{-50'000}; // -0.05 %
  config.funding_guard.engage_after = Duration::from_hours(1);
  Kernel kernel(std::move(config));
  bring_up(kernel);
  (void)kernel.on(market(1, 1, 50'000, kT0, kNegative)); // -0.02 % is above -0.05 %
  EXPECT_TRUE(alerts_in(kernel.on(Timer{after_hours(24)}), AlertCode::funding_guard_engaged).empty());
  (void)kernel.on(market(1, 1, 50'000, after_hours(25), Ratio{-60'000}));
  EXPECT_TRUE(alerts_in(kernel.on(Timer{after_hours(26) - Duration::from_seconds(1)}), AlertCode::funding_guard_engaged)
                  .empty());
  EXPECT_EQ(alerts_in(kernel.on(Timer{after_hours(26)}), AlertCode::funding_guard_engaged).size(), 1U);
}

} // namespace
} // namespace synthusd::hedging
