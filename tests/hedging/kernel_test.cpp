// Kernel rules 1 (exposure incl. in-flight), 2 (inverse vs linear targets),
// 3 (bands through the kernel) and 5 (several venues), plus intake hygiene.

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "kernel_fixture.hpp"

namespace synthusd::hedging {
namespace {

using namespace synthusd::hedging::testing;

TEST(KernelExposure, first_liability_event_sells_to_the_low_safe_bound) {
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  const auto orders = orders_in(kernel.on(liability(1'000'000))); // $10,000
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0].side, Side::sell);
  EXPECT_EQ(orders[0].quantity, Contracts{98});
  EXPECT_EQ(orders[0].venue, 1);
  EXPECT_EQ(orders[0].instrument, 1);
  EXPECT_EQ(orders[0].type, OrderType::market);
  EXPECT_FALSE(orders[0].reduce_only);
  EXPECT_EQ(orders[0].purpose, OrderPurpose::liability_hedge);
}

TEST(KernelExposure, a_liability_sum_that_would_overflow_is_refused_never_wrapped) {
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  (void)kernel.on(liability(INT64_MAX - 10));
  const std::uint64_t invalid_before = kernel.counters().invalid_events;
  (void)kernel.on(liability(11)); // one cent past int64
  EXPECT_EQ(kernel.liability(), UsdCents{INT64_MAX - 10});
  EXPECT_EQ(kernel.counters().invalid_events, invalid_before + 1);
  (void)kernel.on(liability(10)); // exactly to the edge is fine
  EXPECT_EQ(kernel.liability(), UsdCents{INT64_MAX});
}

TEST(KernelExposure, an_order_in_flight_counts_so_a_second_event_never_hedges_twice) {
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  const auto first = orders_in(kernel.on(liability(1'000'000)));
  ASSERT_EQ(first.size(), 1u);
  // Same liability, re-evaluated by unrelated events: nothing more to sell.
  EXPECT_TRUE(orders_in(kernel.on(market(1, 1, 50'100, kStart))).empty());
  EXPECT_TRUE(orders_in(kernel.on(Timer{at_seconds(1)})).empty());
  // A small extra deposit keeps the ratio in band: 9,800 / 10,100 = 0.970
  EXPECT_TRUE(orders_in(kernel.on(liability(10'000))).empty());
  EXPECT_EQ(kernel.slot(1)->in_flight, Contracts{-98});
  EXPECT_EQ(kernel.slot(1)->position, Contracts{0});
}

TEST(KernelExposure, partial_fills_move_quantity_from_flight_to_position) {
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  const OrderIntent order = orders_in(kernel.on(liability(1'000'000)))[0];
  (void)kernel.on(ExecutionReport{order.client_order_id, OrderStatus::accepted, Contracts{0}, Price{}, kStart});
  EXPECT_TRUE(orders_in(kernel.on(ExecutionReport{order.client_order_id, OrderStatus::partially_filled, Contracts{40},
                                                  Price::from_dollars(50'000), kStart}))
                  .empty());
  EXPECT_EQ(kernel.slot(1)->position, Contracts{-40});
  EXPECT_EQ(kernel.slot(1)->in_flight, Contracts{-58});
  EXPECT_TRUE(orders_in(kernel.on(ExecutionReport{order.client_order_id, OrderStatus::filled, Contracts{58},
                                                  Price::from_dollars(50'000), kStart}))
                  .empty());
  EXPECT_EQ(kernel.slot(1)->position, Contracts{-98});
  EXPECT_EQ(kernel.slot(1)->in_flight, Contracts{0});
  EXPECT_EQ(kernel.open_orders(), 0u);
}

TEST(KernelExposure, a_reject_returns_the_quantity_and_rehedges_after_the_retry_delay) {
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  const OrderIntent order = orders_in(kernel.on(liability(1'000'000)))[0];
  const auto after_reject = orders_in(
      kernel.on(ExecutionReport{order.client_order_id, OrderStatus::rejected, Contracts{0}, Price{}, kStart}));
  EXPECT_TRUE(after_reject.empty()); // not hammering a venue that just refused
  EXPECT_EQ(kernel.slot(1)->in_flight, Contracts{0});
  EXPECT_TRUE(orders_in(kernel.on(Timer{kStart + Duration::from_milliseconds(999)})).empty());
  const auto retried = orders_in(kernel.on(Timer{at_seconds(1)}));
  ASSERT_EQ(retried.size(), 1u);
  EXPECT_EQ(signed_quantity(retried[0]), -98);
  EXPECT_NE(retried[0].client_order_id, order.client_order_id);
}

TEST(KernelExposure, an_ioc_missed_a_moment_after_it_was_sent_is_sent_again_at_once) {
  // The price moved away from the collar: the next order goes now, at the
  // new prices (the backtest's instant venue answers such a miss at its next
  // point instead, backtest_run.cpp).
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  const OrderIntent order = orders_in(kernel.on(liability(1'000'000)))[0];
  const auto again = orders_in(kernel.on(ExecutionReport{order.client_order_id, OrderStatus::canceled, Contracts{0},
                                                         Price{}, kStart + Duration::from_milliseconds(2)}));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(signed_quantity(again[0]), -98);
}

TEST(KernelExposure, a_cancel_after_a_partial_fill_keeps_the_fill_and_hedges_the_rest) {
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  const OrderIntent order = orders_in(kernel.on(liability(1'000'000)))[0];
  (void)kernel.on(ExecutionReport{order.client_order_id, OrderStatus::partially_filled, Contracts{50},
                                  Price::from_dollars(50'000), kStart});
  const auto rest = orders_in(
      kernel.on(ExecutionReport{order.client_order_id, OrderStatus::canceled, Contracts{0}, Price{}, kStart}));
  EXPECT_EQ(kernel.slot(1)->position, Contracts{-50});
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(signed_quantity(rest[0]), -48); // round(9800 - 5000) / 100
}

TEST(KernelExposure, an_unanswered_order_is_cancelled_once_and_stays_in_flight) {
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  const OrderIntent order = orders_in(kernel.on(liability(1'000'000)))[0];
  EXPECT_TRUE(kernel.on(Timer{at_seconds(9)}).empty());
  const auto actions = kernel.on(Timer{at_seconds(10)});
  ASSERT_EQ(actions.size(), 2u);
  const auto* cancel = std::get_if<CancelIntent>(&actions[0]);
  ASSERT_NE(cancel, nullptr);
  EXPECT_EQ(cancel->client_order_id, order.client_order_id);
  EXPECT_EQ(cancel->venue, 1);
  const auto alerts = alerts_in(actions, AlertCode::order_unanswered);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].values[2], 10);
  EXPECT_TRUE(kernel.on(Timer{at_seconds(20)}).empty()); // asked once
  EXPECT_EQ(kernel.slot(1)->in_flight, Contracts{-98});  // it may still fill: no second hedge
  // the venue confirms the cancel: the quantity returns and is hedged again
  const auto rehedge = orders_in(
      kernel.on(ExecutionReport{order.client_order_id, OrderStatus::canceled, Contracts{0}, Price{}, at_seconds(21)}));
  ASSERT_EQ(rehedge.size(), 1u);
  EXPECT_EQ(signed_quantity(rehedge[0]), -98);
}

TEST(KernelExposure, an_order_the_venue_never_answers_is_given_up_at_a_later_position_snapshot) {
  // The venue answers neither the order nor its cancel (Deribit does not
  // answer a status request for an order it does not know): held in flight
  // forever, its 98 contracts would count as hedge that does not exist.
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  const OrderIntent order = orders_in(kernel.on(liability(1'000'000)))[0];
  (void)kernel.on(Timer{at_seconds(10)}); // cancel asked, once
  // A snapshot before a further 10 s proves nothing: the cancel may be on its way.
  (void)kernel.on(PositionSnapshot{1, 1, Contracts{0}, at_seconds(19)});
  EXPECT_EQ(kernel.slot(1)->in_flight, Contracts{-98});
  // One taken 20 s after the order (10 s after the cancel) is the venue's
  // answer: it holds nothing, so the order is given up and hedged again.
  const auto actions = kernel.on(PositionSnapshot{1, 1, Contracts{0}, at_seconds(20)});
  const auto abandoned = alerts_in(actions, AlertCode::order_abandoned);
  ASSERT_EQ(abandoned.size(), 1u);
  EXPECT_EQ(abandoned[0].values[0], static_cast<std::int64_t>(order.client_order_id));
  EXPECT_EQ(abandoned[0].values[2], -98);
  EXPECT_EQ(kernel.open_orders(), 1u); // the new order only
  const auto rehedge = orders_in(actions);
  ASSERT_EQ(rehedge.size(), 1u);
  EXPECT_EQ(signed_quantity(rehedge[0]), -98);
  // Had it filled unseen, the snapshot says so and nothing is sold twice.
  Kernel filled(single_venue_config());
  bring_up(filled);
  (void)filled.on(liability(1'000'000));
  (void)filled.on(Timer{at_seconds(10)});
  const auto after = filled.on(PositionSnapshot{1, 1, Contracts{-98}, at_seconds(25)});
  EXPECT_EQ(alerts_in(after, AlertCode::order_abandoned).size(), 1u);
  EXPECT_TRUE(orders_in(after).empty());
  EXPECT_EQ(filled.slot(1)->position, Contracts{-98});
  EXPECT_EQ(filled.slot(1)->in_flight, Contracts{0});
}

TEST(KernelExposure, giving_up_an_order_that_closed_the_position_is_no_liquidation) {
  // The hedge is bought back (the liability redeemed), the buy fills but
  // its reports are lost: the venue's flat position is that order, not a
  // liquidation that would write the venue's collateral off.
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  const OrderIntent sell = orders_in(kernel.on(liability(1'000'000)))[0];
  (void)fill(kernel, sell, 50'000, kStart);
  const auto buys = orders_in(kernel.on(liability(-1'000'000)));
  ASSERT_EQ(buys.size(), 1u);
  EXPECT_EQ(signed_quantity(buys[0]), 98);
  (void)kernel.on(Timer{at_seconds(10)});
  const auto actions = kernel.on(PositionSnapshot{1, 1, Contracts{0}, at_seconds(20)});
  EXPECT_EQ(alerts_in(actions, AlertCode::order_abandoned).size(), 1u);
  EXPECT_TRUE(alerts_in(actions, AlertCode::venue_liquidated).empty());
  EXPECT_TRUE(alerts_in(actions, AlertCode::position_mismatch).empty());
  EXPECT_TRUE(orders_in(actions).empty());
  EXPECT_EQ(kernel.slot(1)->position, Contracts{0});
}

TEST(KernelExposure, a_fill_of_a_given_up_order_that_comes_after_all_is_booked_and_survives_a_snapshot) {
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  const OrderIntent order = orders_in(kernel.on(liability(1'000'000)))[0];
  (void)kernel.on(Timer{at_seconds(10)});
  const auto given_up = kernel.on(PositionSnapshot{1, 1, Contracts{0}, at_seconds(20)});
  ASSERT_EQ(orders_in(given_up).size(), 1u); // hedged again
  EXPECT_EQ(kernel.open_orders(), 1u);       // the given-up one is no open order
  // Through a snapshot and back: the given-up order is still known.
  std::vector<std::uint8_t> bytes;
  kernel.write_snapshot(bytes);
  Kernel restored(single_venue_config());
  ASSERT_TRUE(restored.restore_snapshot(bytes));
  EXPECT_EQ(restored.state_digest(), kernel.state_digest());
  for (Kernel* k : {&kernel, &restored}) {
    // The venue did trade it after all: booked into the position, not dropped.
    const auto late = k->on(ExecutionReport{order.client_order_id, OrderStatus::filled, Contracts{98},
                                            Price::from_dollars(50'000), at_seconds(21)});
    const auto booked = alerts_in(late, AlertCode::abandoned_order_filled);
    ASSERT_EQ(booked.size(), 1u);
    EXPECT_EQ(booked[0].values[2], -98);
    EXPECT_TRUE(alerts_in(late, AlertCode::unknown_execution_report).empty());
    EXPECT_EQ(k->slot(1)->position, Contracts{-98});
    // With the second order still working that is twice the hedge: the
    // kernel buys the excess back at once, not after the next position report.
    const auto back = orders_in(late);
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].side, Side::buy);
    EXPECT_EQ(signed_quantity(back[0]), 96);
  }
  EXPECT_EQ(restored.state_digest(), kernel.state_digest());
}

TEST(KernelExposure, buying_back_is_reduce_only) {
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  const OrderIntent sell = orders_in(kernel.on(liability(1'000'000)))[0];
  (void)fill(kernel, sell, 50'000, kStart);
  const auto buy = orders_in(kernel.on(liability(-500'000))); // ratio 1.96 -> buy 48
  ASSERT_EQ(buy.size(), 1u);
  EXPECT_EQ(signed_quantity(buy[0]), 48);
  EXPECT_TRUE(buy[0].reduce_only);
}

TEST(KernelExposure, liability_under_fifty_dollars_closes_everything) {
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  const OrderIntent sell = orders_in(kernel.on(liability(20'000)))[0]; // $200 -> sell 2
  EXPECT_EQ(signed_quantity(sell), -2);
  (void)fill(kernel, sell, 50'000, kStart);
  const auto close = orders_in(kernel.on(liability(-15'001))); // $49.99 left
  ASSERT_EQ(close.size(), 1u);
  EXPECT_EQ(signed_quantity(close[0]), 2);
}

TEST(KernelExposure, unknown_execution_report_raises_an_alert_and_changes_nothing) {
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  const auto actions =
      kernel.on(ExecutionReport{999'999, OrderStatus::filled, Contracts{5}, Price::from_dollars(1), kStart});
  const auto alerts = alerts_in(actions, AlertCode::unknown_execution_report);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].values[0], 999'999);
  EXPECT_EQ(kernel.slot(1)->position, Contracts{0});
}

TEST(KernelExposure, position_snapshot_is_the_truth_and_a_quiet_difference_is_alerted_and_rehedged) {
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  const OrderIntent sell = orders_in(kernel.on(liability(1'000'000)))[0];
  (void)fill(kernel, sell, 50'000, kStart);
  // the venue says we hold only 60 short (someone closed 38 by hand)
  const auto actions = kernel.on(PositionSnapshot{1, 1, Contracts{-60}, kStart});
  EXPECT_EQ(alerts_in(actions, AlertCode::position_mismatch).size(), 1u);
  const auto orders = orders_in(actions);
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(signed_quantity(orders[0]), -38);
}

TEST(KernelExposure, corrupt_market_data_is_refused_and_counted) {
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  MarketUpdate bad = market(1, 1, 50'000, kStart);
  bad.mark = Price{0};
  (void)kernel.on(bad);
  MarketUpdate crossed = market(1, 1, 50'000, kStart);
  crossed.bid = Price::from_dollars(50'010);
  (void)kernel.on(crossed);
  EXPECT_EQ(kernel.counters().invalid_events, 2u);
  EXPECT_EQ(kernel.slot(1)->mark, Price::from_dollars(50'000));
  (void)kernel.on(market(1, 77, 50'000, kStart));
  EXPECT_EQ(kernel.counters().unknown_instrument_updates, 1u);
}

TEST(KernelExposure, nothing_is_traded_on_a_venue_that_is_not_up) {
  Kernel kernel(single_venue_config());
  (void)kernel.on(market(1, 1, 50'000, kStart));
  EXPECT_TRUE(orders_in(kernel.on(liability(1'000'000))).empty());
  const auto orders = orders_in(kernel.on(VenueStatus{1, true, kStart}));
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(signed_quantity(orders[0]), -98);
}

// ---- rule 2: inverse vs linear -------------------------------------------------

KernelConfig linear_config() {
  KernelConfig config;
  config.venues = {{1, "binance-usdm", 1, UsdCents{INT64_MAX / 4}}};
  InstrumentSpec linear;
  linear.id = 1;
  linear.venue = 1;
  linear.symbol = "BTCUSDT";
  linear.kind = InstrumentKind::linear_perpetual;
  linear.contract_size = Sats{100'000}; // 0.001 BTC per contract
  config.instruments = {linear};
  return config;
}

TEST(KernelTargets, linear_target_is_hedge_usd_over_price_and_contract_size) {
  Kernel kernel(linear_config());
  bring_up(kernel, 50'000);
  // $10,000 at $50,000 with 0.001 BTC ($50) contracts: 0.98 * 10,000 / 50 = 196
  const auto orders = orders_in(kernel.on(liability(1'000'000)));
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(signed_quantity(orders[0]), -196);
}

TEST(KernelTargets, a_linear_hedge_is_rehedged_when_the_price_pushes_it_out_of_band) {
  Kernel kernel(linear_config());
  bring_up(kernel, 50'000);
  (void)fill(kernel, orders_in(kernel.on(liability(1'000'000)))[0], 50'000, kStart);
  // +4 %: 196 * $52 = $10,192 -> ratio 1.019, in band
  EXPECT_TRUE(orders_in(kernel.on(market(1, 1, 52'000, at_seconds(60)))).empty());
  // +10 %: 196 * $55 = $10,780 -> ratio 1.078 > 1.03 -> buy back to 1.00:
  // round((10,780 - 10,000) / 55) = round(14.18) = 14
  const auto orders = orders_in(kernel.on(market(1, 1, 55'000, at_seconds(120))));
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(signed_quantity(orders[0]), 14);
}

TEST(KernelTargets, an_inverse_hedge_needs_no_rehedge_when_the_price_moves) {
  Kernel kernel(single_venue_config());
  bring_up(kernel, 50'000);
  (void)fill(kernel, orders_in(kernel.on(liability(1'000'000)))[0], 50'000, kStart);
  for (const std::int64_t dollars : {25'000, 100'000, 10'000, 200'000}) {
    EXPECT_TRUE(orders_in(kernel.on(market(1, 1, dollars, at_seconds(dollars)))).empty()) << dollars;
  }
}

// ---- rule 5: several venues -------------------------------------------------------

TEST(KernelVenues, the_target_is_split_by_weight) {
  Kernel kernel(reference_config()); // okx weight 2 ($100), deribit 1 ($10), binance 1 ($100)
  bring_up(kernel);
  const auto orders = orders_in(kernel.on(liability(4'000'000))); // $40,000
  ASSERT_EQ(orders.size(), 3u);
  // okx $20,000 -> 196; deribit $10,000 -> 980 of $10; binance $10,000 -> 98
  EXPECT_EQ(orders[0].venue, 1);
  EXPECT_EQ(signed_quantity(orders[0]), -196);
  EXPECT_EQ(orders[1].venue, 2);
  EXPECT_EQ(signed_quantity(orders[1]), -980);
  EXPECT_EQ(orders[2].venue, 3);
  EXPECT_EQ(signed_quantity(orders[2]), -98);
  EXPECT_EQ(kernel.venue(1)->allocation, UsdCents{2'000'000});
}

TEST(KernelVenues, a_cap_moves_the_excess_to_the_best_carry_venue) {
  KernelConfig config = reference_config();
  config.venues[0].cap = UsdCents{500'000};         // okx capped at $5,000
  config.carry.funding_average_window = Duration{}; // carry: the rate itself, the split is what is tested
  Kernel kernel(config);
  bring_up(kernel);
  // binance pays more funding: it gets okx's excess first
  (void)kernel.on(market(3, 3, 50'000, kStart, Ratio::from_ppm(300)));
  (void)kernel.on(liability(4'000'000));
  EXPECT_EQ(kernel.venue(1)->allocation, UsdCents{500'000});
  EXPECT_EQ(kernel.venue(2)->allocation, UsdCents{1'000'000});
  EXPECT_EQ(kernel.venue(3)->allocation, UsdCents{2'500'000});
}

TEST(KernelVenues, liability_beyond_every_cap_is_alerted_not_silently_dropped) {
  KernelConfig config = single_venue_config();
  config.venues[0].cap = UsdCents{500'000};
  Kernel kernel(config);
  bring_up(kernel);
  const auto actions = kernel.on(liability(1'000'000));
  const auto alerts = alerts_in(actions, AlertCode::venue_capacity_exhausted);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].values[0], 500'000);
  EXPECT_EQ(kernel.unallocated(), UsdCents{500'000});
  EXPECT_EQ(signed_quantity(orders_in(actions)[0]), -49);
}

TEST(KernelVenues, a_venue_marked_down_has_its_share_moved_to_the_others) {
  Kernel kernel(reference_config());
  bring_up(kernel);
  (void)kernel.on(VenueStatus{2, false, kStart}); // deribit down before anything is hedged
  const auto orders = orders_in(kernel.on(liability(3'000'000)));
  ASSERT_EQ(orders.size(), 2u);
  EXPECT_EQ(kernel.venue(1)->allocation, UsdCents{2'000'000}); // 2/3
  EXPECT_EQ(kernel.venue(2)->allocation, UsdCents{0});
  EXPECT_EQ(kernel.venue(3)->allocation, UsdCents{1'000'000}); // 1/3
}

TEST(KernelVenues, a_short_stranded_on_a_down_venue_still_counts_so_nothing_is_hedged_twice) {
  Kernel kernel(reference_config());
  bring_up(kernel);
  for (const OrderIntent& order : orders_in(kernel.on(liability(4'000'000)))) {
    (void)fill(kernel, order, 50'000, kStart);
  }
  (void)kernel.on(VenueStatus{2, false, at_seconds(1)});
  // deribit still holds 980 * $10 = $9,800 short; the other $30,200 stays
  // split 2:1 between okx and binance, who already hold $19,600 + $9,800.
  EXPECT_EQ(kernel.venue(1)->allocation.value + kernel.venue(3)->allocation.value, 4'000'000 - 980'000);
  EXPECT_EQ(kernel.liability_hedge_exposure(), UsdCents{-3'920'000});
}

TEST(KernelVenues, the_same_inputs_give_the_same_split_whatever_the_config_order) {
  KernelConfig a = reference_config();
  KernelConfig b = reference_config();
  std::swap(b.venues[0], b.venues[2]);
  std::swap(b.instruments[0], b.instruments[1]);
  Kernel first(a);
  Kernel second(b);
  bring_up(first);
  bring_up(second);
  for (Kernel* kernel : {&first, &second}) {
    (void)kernel->on(liability(1'234'567));
  }
  for (VenueId venue = 1; venue <= 3; ++venue) {
    EXPECT_EQ(first.venue(venue)->allocation, second.venue(venue)->allocation);
  }
  EXPECT_EQ(first.state_digest(), second.state_digest());
}

TEST(KernelConfigValidation, names_the_bad_field) {
  KernelConfig config = single_venue_config();
  config.instruments[0].contract_value = UsdCents{0};
  try {
    Kernel kernel(config);
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("contract_value"), std::string::npos) << error.what();
  }
  config = single_venue_config();
  config.bands.low_bound = Ratio::from_ppm(990'000); // above low_safe 0.98
  EXPECT_THROW(Kernel{config}, std::invalid_argument);
}

} // namespace
} // namespace synthusd::hedging
