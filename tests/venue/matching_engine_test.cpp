// The venue simulator's engine, matching: the synthetic touch, order types
// and instructions, fault injection, and cancel, replace and mass cancel.
// Accounting, margin, reports and determinism: venue_engine_accounts_test.cpp.

#include "matching_engine_test_support.hpp"

#include <string>
#include <vector>

namespace synthusd::venue::engine_test {
namespace {

// ---- the touch and order types ---------------------------------------------------

TEST_F(VenueEngineTest, TouchIsOneTickWideAroundThePathPrice) {
  Engine engine = make(path({40'000, 40'000.3}));
  EXPECT_EQ(engine.quote().bid, dollars(40'000));
  EXPECT_EQ(engine.quote().ask, dollars(40'000.5));
  engine.advance_to(at_second(1), events);
  EXPECT_EQ(engine.quote().mark, dollars(40'000.3));
  EXPECT_EQ(engine.quote().bid, dollars(40'000.5)); // mid rounds to the tick
  EXPECT_EQ(engine.quote().ask, dollars(40'001));
}

TEST_F(VenueEngineTest, MarketBuyTakesTheAskAndPaysTheTakerFee) {
  Engine engine = make(path({40'000}));
  engine.new_order(kAlice, market("m1", Side::buy, 100), events);
  const auto reports = executions(events);
  ASSERT_EQ(reports.size(), 2U);
  EXPECT_EQ(reports[0].exec_type, ExecType::new_order);
  EXPECT_EQ(reports[0].leaves_quantity, Contracts{100});
  EXPECT_EQ(reports[1].exec_type, ExecType::trade);
  EXPECT_EQ(reports[1].status, OrderStatus::filled);
  EXPECT_EQ(reports[1].last_quantity, Contracts{100});
  EXPECT_EQ(reports[1].last_price, dollars(40'000.5));
  EXPECT_EQ(reports[1].average_price, dollars(40'000.5));
  EXPECT_FALSE(reports[1].maker);
  // $1000 / 40000.5 * 0.0005 = 1249.98 sats, rounded up.
  EXPECT_EQ(reports[1].fee, Sats{1'250});
  const AccountState& alice = engine.account(kAlice);
  EXPECT_EQ(alice.position, Contracts{100});
  EXPECT_EQ(alice.entry_price, dollars(40'000.5));
  EXPECT_EQ(alice.balance, Sats{100'000'000 - 1'250});
}

TEST_F(VenueEngineTest, MarketSellTakesTheBid) {
  Engine engine = make(path({40'000}));
  engine.new_order(kAlice, market("m1", Side::sell, 10), events);
  const auto reports = executions(events);
  ASSERT_EQ(reports.size(), 2U);
  EXPECT_EQ(reports[1].last_price, dollars(40'000));
  EXPECT_EQ(engine.account(kAlice).position, Contracts{-10});
}

TEST_F(VenueEngineTest, LimitOrderRestsThenFillsAsMakerAtItsPriceWhenThePathCrosses) {
  Engine engine = make(path({40'000, 39'950, 39'900}));
  engine.new_order(kAlice, limit("l1", Side::buy, 10, 39'950), events);
  ASSERT_EQ(executions(events).size(), 1U);
  EXPECT_EQ(engine.open_order_count(), 1U);

  events.clear();
  engine.advance_to(at_second(1), events); // ask 39950.5: not yet
  EXPECT_TRUE(executions(events).empty());

  engine.advance_to(at_second(2), events); // ask 39900.5 <= 39950
  const auto reports = executions(events);
  ASSERT_EQ(reports.size(), 1U);
  EXPECT_EQ(reports[0].exec_type, ExecType::trade);
  EXPECT_EQ(reports[0].last_price, dollars(39'950));
  EXPECT_TRUE(reports[0].maker);
  EXPECT_EQ(reports[0].fee, Sats{0});
  EXPECT_EQ(engine.open_order_count(), 0U);
}

TEST_F(VenueEngineTest, CrossingLimitOrderTakesTheTouchWithPriceImprovement) {
  Engine engine = make(path({40'000}));
  engine.new_order(kAlice, limit("l1", Side::buy, 10, 40'100), events);
  const auto reports = executions(events);
  ASSERT_EQ(reports.size(), 2U);
  EXPECT_EQ(reports[1].last_price, dollars(40'000.5));
  EXPECT_FALSE(reports[1].maker);
}

TEST_F(VenueEngineTest, ImmediateOrCancelCancelsWhatItCannotFill) {
  Engine engine = make(path({40'000}));
  engine.new_order(kAlice, limit("i1", Side::buy, 10, 39'000, TimeInForce::immediate_or_cancel), events);
  const auto reports = executions(events);
  ASSERT_EQ(reports.size(), 2U);
  EXPECT_EQ(reports[1].exec_type, ExecType::canceled);
  EXPECT_EQ(reports[1].cumulative_quantity, Contracts{0});
  EXPECT_EQ(reports[1].leaves_quantity, Contracts{0});
  EXPECT_EQ(engine.open_order_count(), 0U);
}

TEST_F(VenueEngineTest, ImmediateOrCancelTakesTheTouchSizeAndCancelsTheRest) {
  config.touch_size = Contracts{30};
  Engine engine = make(path({40'000}));
  engine.new_order(kAlice, limit("i1", Side::buy, 50, 40'100, TimeInForce::immediate_or_cancel), events);
  const auto reports = executions(events);
  ASSERT_EQ(reports.size(), 3U);
  EXPECT_EQ(reports[1].exec_type, ExecType::trade);
  EXPECT_EQ(reports[1].status, OrderStatus::partially_filled);
  EXPECT_EQ(reports[1].last_quantity, Contracts{30});
  EXPECT_EQ(reports[2].exec_type, ExecType::canceled);
  EXPECT_EQ(reports[2].cumulative_quantity, Contracts{30});
}

TEST_F(VenueEngineTest, FillOrKillFillsEverythingOrNothing) {
  config.touch_size = Contracts{30};
  Engine engine = make(path({40'000}));
  engine.new_order(kAlice, limit("f1", Side::buy, 50, 40'100, TimeInForce::fill_or_kill), events);
  auto reports = executions(events);
  ASSERT_EQ(reports.size(), 2U);
  EXPECT_EQ(reports[1].exec_type, ExecType::canceled);
  EXPECT_EQ(engine.account(kAlice).position, Contracts{0});

  events.clear();
  engine.new_order(kAlice, limit("f2", Side::buy, 30, 40'100, TimeInForce::fill_or_kill), events);
  reports = executions(events);
  ASSERT_EQ(reports.size(), 2U);
  EXPECT_EQ(reports[1].status, OrderStatus::filled);
}

TEST_F(VenueEngineTest, TouchSizeIsSharedWithinAPathPointAndRefilledAtTheNext) {
  config.touch_size = Contracts{30};
  Engine engine = make(path({40'000, 40'000}));
  engine.new_order(kAlice, market("m1", Side::buy, 50), events);
  auto reports = executions(events);
  ASSERT_EQ(reports.size(), 3U);
  EXPECT_EQ(reports[1].last_quantity, Contracts{30});
  EXPECT_EQ(reports[2].exec_type, ExecType::canceled);

  events.clear();
  engine.new_order(kBob, market("m2", Side::buy, 10), events);
  reports = executions(events);
  ASSERT_EQ(reports.size(), 2U);
  EXPECT_EQ(reports[1].exec_type, ExecType::canceled);

  events.clear();
  engine.advance_to(at_second(1), events);
  engine.new_order(kBob, market("m3", Side::buy, 10), events);
  reports = executions(events);
  ASSERT_EQ(reports.size(), 2U);
  EXPECT_EQ(reports[1].status, OrderStatus::filled);
}

// ---- instructions -----------------------------------------------------------

TEST_F(VenueEngineTest, PostOnlyThatWouldCrossIsRepricedOneTickInsideTheSpread) {
  Engine engine = make(path({40'000}));
  NewOrder order = limit("p1", Side::buy, 10, 40'100);
  order.post_only = true;
  engine.new_order(kAlice, order, events);
  const auto reports = executions(events);
  ASSERT_EQ(reports.size(), 1U);
  EXPECT_EQ(reports[0].exec_type, ExecType::new_order);
  EXPECT_EQ(reports[0].price, dollars(40'000)); // ask - tick
  EXPECT_EQ(engine.open_order_count(), 1U);
}

TEST_F(VenueEngineTest, RejectPostOnlyIsRejectedInsteadOfRepriced) {
  Engine engine = make(path({40'000}));
  NewOrder order = limit("p1", Side::sell, 10, 39'000);
  order.post_only = true;
  order.reject_post_only = true;
  engine.new_order(kAlice, order, events);
  const auto reports = executions(events);
  ASSERT_EQ(reports.size(), 1U);
  EXPECT_EQ(reports[0].exec_type, ExecType::rejected);
  EXPECT_EQ(reports[0].status, OrderStatus::rejected);
  EXPECT_EQ(engine.open_order_count(), 0U);
}

TEST_F(VenueEngineTest, PostOnlyMarketOrderIsRejected) {
  Engine engine = make(path({40'000}));
  NewOrder order = market("p1", Side::buy, 10);
  order.post_only = true;
  engine.new_order(kAlice, order, events);
  EXPECT_EQ(executions(events).at(0).reject_reason, RejectReason::unsupported);
}

TEST_F(VenueEngineTest, ReduceOnlyIsRejectedWhenItCannotReduce) {
  Engine engine = make(path({40'000}));
  NewOrder order = market("r1", Side::sell, 10);
  order.reduce_only = true;
  engine.new_order(kAlice, order, events);
  EXPECT_EQ(executions(events).at(0).exec_type, ExecType::rejected);

  events.clear();
  engine.new_order(kAlice, market("b1", Side::buy, 100), events);
  NewOrder increase = market("r2", Side::buy, 10);
  increase.reduce_only = true;
  engine.new_order(kAlice, increase, events);
  EXPECT_EQ(executions(events).back().exec_type, ExecType::rejected);
}

TEST_F(VenueEngineTest, ReduceOnlyFillsUpToThePositionAndCancelsTheRest) {
  Engine engine = make(path({40'000}));
  engine.new_order(kAlice, market("b1", Side::buy, 100), events);
  events.clear();
  NewOrder order = market("r1", Side::sell, 150);
  order.reduce_only = true;
  engine.new_order(kAlice, order, events);
  const auto reports = executions(events);
  ASSERT_EQ(reports.size(), 3U);
  EXPECT_EQ(reports[1].last_quantity, Contracts{100});
  EXPECT_EQ(reports[2].exec_type, ExecType::canceled);
  EXPECT_EQ(engine.account(kAlice).position, Contracts{0});
}

TEST_F(VenueEngineTest, RestingReduceOnlyIsCappedAtThePositionWhenThePathCrosses) {
  Engine engine = make(path({40'000, 40'200}));
  engine.new_order(kAlice, market("b1", Side::buy, 100), events);
  NewOrder order = limit("r1", Side::sell, 150, 40'100);
  order.reduce_only = true;
  engine.new_order(kAlice, order, events);
  EXPECT_EQ(engine.open_order_count(), 1U);
  events.clear();
  engine.advance_to(at_second(1), events); // bid 40200 >= 40100
  const auto reports = executions(events);
  ASSERT_EQ(reports.size(), 2U);
  EXPECT_EQ(reports[0].last_quantity, Contracts{100});
  EXPECT_EQ(reports[0].last_price, dollars(40'100));
  EXPECT_EQ(reports[1].exec_type, ExecType::canceled);
  EXPECT_EQ(engine.account(kAlice).position, Contracts{0});
  EXPECT_EQ(engine.open_order_count(), 0U);
}

// ---- fault injection -------------------------------------------------------------

TEST_F(VenueEngineTest, FillSlicesSplitEveryFillIntoSeveralReports) {
  config.fill_slices = 3;
  Engine engine = make(path({40'000}));
  engine.new_order(kAlice, market("m1", Side::buy, 10), events);
  const auto reports = executions(events);
  ASSERT_EQ(reports.size(), 4U);
  EXPECT_EQ(reports[1].last_quantity, Contracts{4});
  EXPECT_EQ(reports[1].status, OrderStatus::partially_filled);
  EXPECT_EQ(reports[1].cumulative_quantity, Contracts{4});
  EXPECT_EQ(reports[1].leaves_quantity, Contracts{6});
  EXPECT_EQ(reports[2].last_quantity, Contracts{3});
  EXPECT_EQ(reports[2].cumulative_quantity, Contracts{7});
  EXPECT_EQ(reports[3].last_quantity, Contracts{3});
  EXPECT_EQ(reports[3].status, OrderStatus::filled);
  EXPECT_NE(reports[1].execution_id, reports[2].execution_id);
  // Each slice's fee is rounded on its own: 50 + 38 + 38 sats.
  EXPECT_EQ(engine.account(kAlice).fees_paid, Sats{126});
}

TEST_F(VenueEngineTest, EveryNthOrderIsRejected) {
  config.reject_every = 2;
  Engine engine = make(path({40'000}));
  for (int i = 1; i <= 4; ++i) {
    events.clear();
    engine.new_order(kAlice, limit("o" + std::to_string(i), Side::buy, 1, 39'000), events);
    const ExecutionEvent first = executions(events).at(0);
    if (i % 2 == 0) {
      EXPECT_EQ(first.exec_type, ExecType::rejected) << i;
      EXPECT_EQ(first.reject_reason, RejectReason::exchange_option) << i;
    } else {
      EXPECT_EQ(first.exec_type, ExecType::new_order) << i;
    }
  }
}

TEST_F(VenueEngineTest, OrdersAboveTheConfiguredSizeAreRejected) {
  config.reject_above = Contracts{100};
  Engine engine = make(path({40'000}));
  engine.new_order(kAlice, limit("big", Side::buy, 101, 39'000), events);
  EXPECT_EQ(executions(events).at(0).reject_reason, RejectReason::exceeds_limit);
  events.clear();
  engine.new_order(kAlice, limit("ok", Side::buy, 100, 39'000), events);
  EXPECT_EQ(executions(events).at(0).exec_type, ExecType::new_order);
}

TEST_F(VenueEngineTest, InvalidOrdersAreRejectedWithAReason) {
  Engine engine = make(path({40'000}));
  NewOrder wrong_symbol = limit("s", Side::buy, 1, 39'000);
  wrong_symbol.symbol = "ETH-PERPETUAL";
  engine.new_order(kAlice, wrong_symbol, events);
  engine.new_order(kAlice, limit("q", Side::buy, 0, 39'000), events);
  engine.new_order(kAlice, limit("t", Side::buy, 1, 39'000.3), events);
  engine.new_order(kAlice, limit("d", Side::buy, 1, 39'000), events);
  engine.new_order(kAlice, limit("d", Side::buy, 1, 39'000), events);
  const auto reports = executions(events);
  ASSERT_EQ(reports.size(), 5U);
  EXPECT_EQ(reports[0].reject_reason, RejectReason::unknown_symbol);
  EXPECT_EQ(reports[1].reject_reason, RejectReason::incorrect_quantity);
  EXPECT_EQ(reports[2].reject_reason, RejectReason::other);
  EXPECT_EQ(reports[3].exec_type, ExecType::new_order);
  EXPECT_EQ(reports[4].reject_reason, RejectReason::duplicate_order);
}

// ---- cancel, replace, mass cancel ---------------------------------------------------

TEST_F(VenueEngineTest, CancelReportsTheRequestAndTheOriginalClOrdId) {
  Engine engine = make(path({40'000}));
  engine.new_order(kAlice, limit("a", Side::buy, 10, 39'000), events);
  events.clear();
  engine.cancel_order(kAlice, CancelOrder{"c1", "a", 0, "BTC-PERPETUAL"}, events);
  auto reports = executions(events);
  ASSERT_EQ(reports.size(), 1U);
  EXPECT_EQ(reports[0].exec_type, ExecType::canceled);
  EXPECT_EQ(reports[0].client_order_id, "c1");
  EXPECT_EQ(reports[0].original_client_order_id, "a");
  EXPECT_EQ(engine.open_order_count(), 0U);

  events.clear();
  engine.cancel_order(kAlice, CancelOrder{"c2", "a", 0, "BTC-PERPETUAL"}, events);
  const auto rejects = only<CancelRejectEvent>(events);
  ASSERT_EQ(rejects.size(), 1U);
  EXPECT_EQ(rejects[0].reason, 1);
  EXPECT_FALSE(rejects[0].replace);
}

TEST_F(VenueEngineTest, CancelByOrderIdAndOnlyForTheOwner) {
  Engine engine = make(path({40'000}));
  engine.new_order(kAlice, limit("a", Side::buy, 10, 39'000), events);
  const OrderId id = executions(events).at(0).order_id;
  events.clear();
  engine.cancel_order(kBob, CancelOrder{"c1", "", id, ""}, events);
  EXPECT_EQ(only<CancelRejectEvent>(events).size(), 1U);
  engine.cancel_order(kAlice, CancelOrder{"c2", "", id, ""}, events);
  EXPECT_EQ(executions(events).size(), 1U);
}

TEST_F(VenueEngineTest, ReplaceChangesPriceAndQuantityAndCanTakeLiquidity) {
  Engine engine = make(path({40'000}));
  engine.new_order(kAlice, limit("a", Side::buy, 10, 39'000), events);
  events.clear();
  engine.replace_order(kAlice, ReplaceOrder{"b", "a", 0, "BTC-PERPETUAL", Side::buy, Contracts{20}, dollars(39'500)},
                       events);
  auto reports = executions(events);
  ASSERT_EQ(reports.size(), 1U);
  EXPECT_EQ(reports[0].exec_type, ExecType::replaced);
  EXPECT_EQ(reports[0].client_order_id, "b");
  EXPECT_EQ(reports[0].original_client_order_id, "a");
  EXPECT_EQ(reports[0].quantity, Contracts{20});
  EXPECT_EQ(reports[0].price, dollars(39'500));

  events.clear();
  engine.replace_order(kAlice, ReplaceOrder{"c", "b", 0, "BTC-PERPETUAL", Side::buy, Contracts{20}, dollars(40'100)},
                       events);
  reports = executions(events);
  ASSERT_EQ(reports.size(), 2U);
  EXPECT_EQ(reports[1].exec_type, ExecType::trade);
  EXPECT_EQ(reports[1].last_price, dollars(40'000.5));
  EXPECT_EQ(engine.open_order_count(), 0U);
}

TEST_F(VenueEngineTest, ReplaceOfAnUnknownOrWronglySizedOrderIsRejected) {
  Engine engine = make(path({40'000}));
  engine.replace_order(kAlice, ReplaceOrder{"b", "nope", 0, "", Side::buy, Contracts{20}, Price{}}, events);
  engine.new_order(kAlice, limit("a", Side::buy, 10, 39'000), events);
  engine.replace_order(kAlice, ReplaceOrder{"c", "a", 0, "", Side::sell, Contracts{20}, Price{}}, events);
  engine.replace_order(kAlice, ReplaceOrder{"d", "a", 0, "", Side::buy, Contracts{0}, Price{}}, events);
  const auto rejects = only<CancelRejectEvent>(events);
  ASSERT_EQ(rejects.size(), 3U);
  EXPECT_EQ(rejects[0].reason, 1);
  EXPECT_TRUE(rejects[0].replace);
  EXPECT_EQ(rejects[1].reason, 99);
  EXPECT_EQ(rejects[2].reason, 99);
  EXPECT_EQ(engine.open_order_count(), 1U);
}

TEST_F(VenueEngineTest, MassCancelCancelsTheAccountsOpenOrdersOnly) {
  Engine engine = make(path({40'000}));
  engine.new_order(kAlice, limit("a1", Side::buy, 1, 39'000), events);
  engine.new_order(kAlice, limit("a2", Side::buy, 1, 39'001), events);
  engine.new_order(kAlice, limit("a3", Side::sell, 1, 41'000), events);
  engine.new_order(kBob, limit("b1", Side::buy, 1, 39'000), events);
  events.clear();
  engine.mass_cancel(kAlice, MassCancel{"mc", MassCancelScope::all, ""}, events);
  const auto reports = executions(events);
  ASSERT_EQ(reports.size(), 3U);
  for (const ExecutionEvent& report : reports) {
    EXPECT_EQ(report.exec_type, ExecType::canceled);
    EXPECT_EQ(report.account, kAlice);
  }
  const auto summary = only<MassCancelEvent>(events);
  ASSERT_EQ(summary.size(), 1U);
  EXPECT_TRUE(summary[0].accepted);
  EXPECT_EQ(summary[0].affected_orders, 3);
  EXPECT_EQ(engine.open_order_count(), 1U);

  events.clear();
  engine.mass_cancel(kBob, MassCancel{"mc2", MassCancelScope::symbol, "ETH-PERPETUAL"}, events);
  EXPECT_FALSE(only<MassCancelEvent>(events).at(0).accepted);
  EXPECT_EQ(engine.open_order_count(), 1U);
}

} // namespace
} // namespace synthusd::venue::engine_test
