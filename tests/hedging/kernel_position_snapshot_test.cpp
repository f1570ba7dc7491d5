// A venue's position snapshot against orders still in flight: a snapshot
// can hold fills whose reports have not come yet (the venue books a fill
// before its report reaches us). Counted both in the position and in the
// flight, the hedge would read too large until the next snapshot, and the
// kernel would trade the excess back.

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

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

TEST(KernelPositionSnapshot, a_booking_a_later_snapshot_no_longer_bears_out_returns_to_flight) {
  // A snapshot older than our sell's fill is booked against the buy that
  // followed; the next, current snapshot undoes that: the buy is still
  // working, so nothing more is bought.
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  const OrderIntent sell = orders_in(kernel.on(liability(1'000'000)))[0];
  (void)fill(kernel, sell, 50'000, kStart); // venue and kernel at -98
  const OrderIntent buy = orders_in(kernel.on(liability(-1'000'000)))[0];
  ASSERT_EQ(signed_quantity(buy), 98);
  (void)kernel.on(PositionSnapshot{1, 1, Contracts{0}, at_seconds(1)}); // from before the sell filled
  const auto current = kernel.on(PositionSnapshot{1, 1, Contracts{-98}, at_seconds(2)});
  EXPECT_TRUE(orders_in(current).empty()) << "a second buy would double the close";
  EXPECT_EQ(kernel.slot(1)->in_flight, Contracts{98});
  (void)fill(kernel, buy, 50'000, at_seconds(3));
  EXPECT_EQ(kernel.slot(1)->position, Contracts{0}); // the venue's too
}

TEST(KernelPositionSnapshot, the_snapshot_that_gives_an_order_up_books_nothing_ahead_of_the_others) {
  // Its difference is, by design, what the given-up order did: booked
  // against the next live order, it would double the hedge.
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  (void)orders_in(kernel.on(liability(1'000'000)));
  (void)kernel.on(Timer{at_seconds(10)}); // unanswered: cancel asked
  const auto live = orders_in(kernel.on(liability(1'000'000, at_seconds(11))));
  ASSERT_EQ(live.size(), 1u);
  const auto given_up = kernel.on(PositionSnapshot{1, 1, Contracts{-98}, at_seconds(20)}); // the first filled
  ASSERT_EQ(alerts_in(given_up, AlertCode::order_abandoned).size(), 1u);
  EXPECT_TRUE(orders_in(given_up).empty());
  EXPECT_EQ(kernel.slot(1)->in_flight, Contracts{-98}) << "the live order is still working";
  (void)fill(kernel, live[0], 50'000, at_seconds(21));
  EXPECT_EQ(kernel.slot(1)->position, Contracts{-196}); // the venue's too
}

TEST(KernelPositionSnapshot, an_order_booked_ahead_in_full_keeps_its_slot_from_reading_liquidated) {
  // Nothing of it is in flight, but it is still open: a later snapshot at 0
  // (older than its fill) is no liquidation.
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  (void)orders_in(kernel.on(liability(1'000'000)));
  (void)kernel.on(PositionSnapshot{1, 1, Contracts{-98}, at_seconds(1)});
  EXPECT_EQ(kernel.slot(1)->in_flight, Contracts{0});
  const auto older = kernel.on(PositionSnapshot{1, 1, Contracts{0}, at_seconds(2)});
  EXPECT_TRUE(alerts_in(older, AlertCode::venue_liquidated).empty());
  EXPECT_FALSE(kernel.venue(1)->liquidated);
  EXPECT_EQ(kernel.slot(1)->in_flight, Contracts{-98}) << "the booking is undone: the order works again";
}

// Whatever the order of reports and snapshots, a slot's flight is the sum
// of its open hedge orders' unbooked remaining quantities, and no booking
// exceeds what its order has left.
void expect_flight_is_the_open_orders(const KernelConfig& config, unsigned seed) {
  Kernel kernel(config);
  bring_up(kernel);
  std::mt19937_64 random(seed);
  std::vector<OrderIntent> open;
  const auto collect = [&](std::span<const Action> actions) {
    for (const OrderIntent& order : orders_in(actions)) {
      open.push_back(order);
    }
  };
  for (int step = 0; step < 2'000; ++step) {
    const Timestamp time = at_seconds(step);
    const auto draw = static_cast<std::int64_t>(random() % 10);
    if (draw < 2) {
      collect(kernel.on(liability(static_cast<std::int64_t>(random() % 2'000'000) - 1'000'000, time)));
    } else if (draw < 4) {
      collect(kernel.on(PositionSnapshot{1, 1, Contracts{static_cast<std::int64_t>(random() % 400) - 200}, time}));
    } else if (draw < 8 && !open.empty()) {
      const std::size_t which = random() % open.size();
      const OrderIntent order = open[which];
      const OrderStatus statuses[] = {OrderStatus::partially_filled, OrderStatus::filled, OrderStatus::canceled,
                                      OrderStatus::rejected};
      const OrderStatus status = statuses[random() % 4];
      const bool fills = status == OrderStatus::partially_filled || status == OrderStatus::filled;
      // Up to 20 over the order's size: overfills too.
      const std::int64_t quantity = fills ? static_cast<std::int64_t>(random() % (order.quantity.value + 20)) : 0;
      collect(kernel.on(
          ExecutionReport{order.client_order_id, status, Contracts{quantity}, Price::from_dollars(50'000), time}));
      if (!fills || status == OrderStatus::filled) {
        open.erase(open.begin() + static_cast<std::ptrdiff_t>(which));
      }
    } else {
      collect(kernel.on(Timer{time}));
      collect(kernel.on(market(1, 1, 50'000 + static_cast<std::int64_t>(random() % 200) - 100, time)));
    }
    std::int64_t flight = 0;
    for (const OrderRecord& order : kernel.order_table().records()) {
      if (order.client_order_id == 0 || order.abandoned || order.purpose != OrderPurpose::liability_hedge) {
        continue;
      }
      flight += order.signed_in_flight().value;
      ASSERT_GE(order.booked_ahead.value, 0) << "seed " << seed << " step " << step;
      ASSERT_LE(order.booked_ahead.value, std::max<std::int64_t>(order.remaining().value, 0))
          << "seed " << seed << " step " << step;
    }
    ASSERT_EQ(kernel.slot(1)->in_flight.value, flight) << "seed " << seed << " step " << step;
  }
}

TEST(KernelPositionSnapshot, flight_is_always_the_open_orders_unbooked_remainder_taker_policy) {
  for (unsigned seed = 1; seed <= 20 && !::testing::Test::HasFatalFailure(); ++seed) {
    expect_flight_is_the_open_orders(single_venue_config(), seed);
  }
}

TEST(KernelPositionSnapshot, flight_is_always_the_open_orders_unbooked_remainder_hybrid_policy) {
  KernelConfig config = single_venue_config();
  config.bands = default_bands(PolicyKind::hybrid);
  for (unsigned seed = 1; seed <= 20 && !::testing::Test::HasFatalFailure(); ++seed) {
    expect_flight_is_the_open_orders(config, seed);
  }
}

} // namespace
} // namespace synthusd::hedging
