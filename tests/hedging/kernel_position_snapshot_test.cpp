// A venue's position snapshot against orders still in flight: a snapshot
// can hold fills whose reports have not come yet (the venue books a fill
// before its report reaches us). Counted both in the position and in the
// flight, the hedge would read too large until the next snapshot, and the
// kernel would trade the excess back.

#include <gtest/gtest.h>

#include "kernel_fixture.hpp"
#include "kernel_snapshot_fixture.hpp"

namespace synthusd::hedging {
namespace {

using namespace synthusd::hedging::testing;

ExecutionReport report(const OrderIntent& order, OrderStatus status, std::int64_t contracts) {
  return ExecutionReport{order.client_order_id, status, Contracts{contracts}, Price::from_dollars(50'000), kStart};
}

TEST(KernelPositionSnapshot, a_fill_the_snapshot_holds_before_its_report_is_counted_once) {
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  const OrderIntent order = orders_in(kernel.on(liability(1'000'000)))[0]; // sell 98
  ASSERT_EQ(signed_quantity(order), -98);

  // The venue filled 40; its report is still on the way.
  EXPECT_TRUE(orders_in(kernel.on(PositionSnapshot{1, 1, Contracts{-40}, kStart})).empty())
      << "the hedge is not too large: nothing to buy back";
  EXPECT_EQ(kernel.slot(1)->position, Contracts{-40});
  EXPECT_EQ(kernel.slot(1)->in_flight, Contracts{-58});

  EXPECT_TRUE(orders_in(kernel.on(report(order, OrderStatus::partially_filled, 40))).empty());
  EXPECT_EQ(kernel.slot(1)->position, Contracts{-40}) << "the report adds nothing the snapshot held";
  EXPECT_EQ(kernel.slot(1)->in_flight, Contracts{-58});

  EXPECT_TRUE(orders_in(kernel.on(report(order, OrderStatus::filled, 58))).empty());
  EXPECT_EQ(kernel.slot(1)->position, Contracts{-98});
  EXPECT_EQ(kernel.slot(1)->in_flight, Contracts{0});
  EXPECT_EQ(kernel.open_orders(), 0u);
  EXPECT_TRUE(alerts_in(kernel.on(Timer{at_seconds(1)}), AlertCode::position_mismatch).empty());
}

TEST(KernelPositionSnapshot, a_report_larger_than_what_the_snapshot_held_adds_only_the_rest) {
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  const OrderIntent order = orders_in(kernel.on(liability(1'000'000)))[0];
  (void)kernel.on(PositionSnapshot{1, 1, Contracts{-40}, kStart});
  // One report for 70: 40 the snapshot held, 30 new.
  EXPECT_TRUE(orders_in(kernel.on(report(order, OrderStatus::partially_filled, 70))).empty());
  EXPECT_EQ(kernel.slot(1)->position, Contracts{-70});
  EXPECT_EQ(kernel.slot(1)->in_flight, Contracts{-28});
}

TEST(KernelPositionSnapshot, a_difference_the_order_never_filled_stays_the_venues_and_is_alerted) {
  // The snapshot's -40 was a trade by hand, not our order, which is then
  // cancelled unfilled: the position stays what the venue said, the rest is
  // hedged again, and the operator is told.
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  const OrderIntent order = orders_in(kernel.on(liability(1'000'000)))[0];
  (void)kernel.on(PositionSnapshot{1, 1, Contracts{-40}, kStart});
  const auto actions = kernel.on(report(order, OrderStatus::canceled, 0));
  EXPECT_EQ(kernel.slot(1)->position, Contracts{-40});
  const auto rehedge = orders_in(actions);
  ASSERT_EQ(rehedge.size(), 1u);
  EXPECT_EQ(signed_quantity(rehedge[0]), -58);
  const auto mismatch = alerts_in(actions, AlertCode::position_mismatch);
  ASSERT_EQ(mismatch.size(), 1u);
  EXPECT_EQ(mismatch[0].values[1], 0);  // what the order filled
  EXPECT_EQ(mismatch[0].values[2], 40); // what the snapshot had booked against it
}

TEST(KernelPositionSnapshot, a_snapshot_behind_our_fills_is_still_the_venues_truth) {
  // A difference against the orders' direction is no fill of theirs.
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  const OrderIntent order = orders_in(kernel.on(liability(1'000'000)))[0];
  (void)kernel.on(report(order, OrderStatus::partially_filled, 40));
  const auto again = orders_in(kernel.on(PositionSnapshot{1, 1, Contracts{0}, kStart}));
  EXPECT_EQ(kernel.slot(1)->position, Contracts{0});
  // The order's own 58 stay in flight, nothing is booked against it, and
  // the 40 the venue does not show are hedged again.
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(signed_quantity(again[0]), -40);
  EXPECT_EQ(kernel.slot(1)->in_flight, Contracts{-98});
}

TEST(KernelPositionSnapshot, a_given_up_order_releases_only_what_the_snapshot_had_not_booked) {
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  const OrderIntent order = orders_in(kernel.on(liability(1'000'000)))[0];
  (void)kernel.on(PositionSnapshot{1, 1, Contracts{-40}, kStart});
  (void)kernel.on(Timer{at_seconds(10)}); // unanswered: its cancel goes
  const auto given_up = kernel.on(PositionSnapshot{1, 1, Contracts{-40}, at_seconds(20)});
  ASSERT_EQ(alerts_in(given_up, AlertCode::order_abandoned).size(), 1u);
  const auto rehedge = orders_in(given_up);
  ASSERT_EQ(rehedge.size(), 1u);
  EXPECT_EQ(signed_quantity(rehedge[0]), -58) << "the 40 booked ahead left flight at the first snapshot";
  EXPECT_EQ(kernel.slot(1)->in_flight, Contracts{-58}); // the new order's
  // The given-up order filled all 98 after all: 40 of them were booked.
  (void)kernel.on(report(order, OrderStatus::filled, 98));
  EXPECT_EQ(kernel.slot(1)->position, Contracts{-98});
}

TEST(KernelPositionSnapshot, what_a_snapshot_booked_ahead_survives_a_restart) {
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  const OrderIntent order = orders_in(kernel.on(liability(1'000'000)))[0];
  (void)kernel.on(PositionSnapshot{1, 1, Contracts{-40}, kStart});
  Kernel restored(single_venue_config());
  ASSERT_TRUE(restored.restore_snapshot(snapshot_of(kernel)));
  EXPECT_TRUE(orders_in(restored.on(report(order, OrderStatus::filled, 98))).empty());
  EXPECT_EQ(restored.slot(1)->position, Contracts{-98});
  EXPECT_EQ(restored.slot(1)->in_flight, Contracts{0});
}

} // namespace
} // namespace synthusd::hedging
