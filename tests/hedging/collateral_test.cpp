// Rule 7: collateral and leverage per venue (bands 2 / 3 / 3 / 4, $100
// minimum transfer), one transfer in flight at a time, and the latched
// liquidation-distance alert.
//
// Unit sanity at $30,000: 1 sat = 0.03 cents (sats -> cents floors), 1 cent =
// 100/3 sats (cents -> sats rounds up for deposits, down for withdrawals).
// At $50,000: 1 cent = 20 sats exactly.

#include <gtest/gtest.h>

#include <limits>

#include "collateral_fixture.hpp"
#include "kernel_fixture.hpp"
#include "synthusd/hedging/collateral.hpp"

namespace synthusd::hedging {
namespace {

using namespace synthusd::hedging::testing;

constexpr Price k30k = Price::from_dollars(30'000);
constexpr Price k50k = Price::from_dollars(50'000);
constexpr Ratio kUnbounded{std::numeric_limits<std::int64_t>::max()};
constexpr Ratio kMaintenance = Ratio::from_ppm(5'000); // 0.5 %

CollateralDecision decide(std::int64_t exposure_cents, std::int64_t collateral_sats, Price mark = k30k) {
  return decide_collateral(CollateralConfig{}, UsdCents{exposure_cents}, Sats{collateral_sats}, mark);
}

// ---- decide_collateral ----------------------------------------------------------

TEST(DecideCollateral, exposure_without_collateral_deposits_to_leverage_three_rounding_up) {
  // $10,000 / 3 = 333,333.33 -> 333,334 cents; at $30,000 that is
  // 333,334 * 100 / 3 = 11,111,133.33 -> 11,111,134 sats
  const CollateralDecision d = decide(1'000'000, 0);
  EXPECT_EQ(d.leverage, kUnbounded);
  EXPECT_TRUE(d.transfer);
  EXPECT_EQ(d.direction, TransferDirection::wallet_to_exchange);
  EXPECT_EQ(d.amount, Sats{11'111'134});
}

TEST(DecideCollateral, leverage_above_four_deposits_back_to_three) {
  // 6,000,000 sats = 180,000 cents ($1,800): leverage 5.5556 -> deposit
  // 333,334 - 180,000 = 153,334 cents = 5,111,133.33 -> 5,111,134 sats
  const CollateralDecision d = decide(1'000'000, 6'000'000);
  EXPECT_EQ(d.leverage, Ratio{555'555'556}); // 1e6 / 180,000 = 5.555555556 (half-even)
  EXPECT_TRUE(d.transfer);
  EXPECT_EQ(d.direction, TransferDirection::wallet_to_exchange);
  EXPECT_EQ(d.amount, Sats{5'111'134});
}

TEST(DecideCollateral, leverage_exactly_four_is_left_alone_and_a_hair_above_is_not) {
  // 8,333,334 sats -> 250,000.02 -> 250,000 cents: leverage exactly 4
  const CollateralDecision at_bound = decide(1'000'000, 8'333'334);
  EXPECT_EQ(at_bound.leverage, Ratio::from_ppm(4'000'000));
  EXPECT_FALSE(at_bound.transfer);
  // 8,333,333 sats -> 249,999.99 -> 249,999 cents: leverage 4.000016 ->
  // deposit 333,334 - 249,999 = 83,335 cents = 2,777,833.33 -> 2,777,834 sats
  const CollateralDecision above = decide(1'000'000, 8'333'333);
  EXPECT_TRUE(above.transfer);
  EXPECT_EQ(above.direction, TransferDirection::wallet_to_exchange);
  EXPECT_EQ(above.amount, Sats{2'777'834});
}

TEST(DecideCollateral, leverage_below_two_withdraws_to_three_rounding_down) {
  // 40,000,000 sats = 1,200,000 cents ($12,000): leverage 0.8333 -> withdraw
  // 1,200,000 - 333,334 = 866,666 cents = 28,888,866.67 -> 28,888,866 sats
  const CollateralDecision d = decide(1'000'000, 40'000'000);
  EXPECT_EQ(d.leverage, Ratio{83'333'333});
  EXPECT_TRUE(d.transfer);
  EXPECT_EQ(d.direction, TransferDirection::exchange_to_wallet);
  EXPECT_EQ(d.amount, Sats{28'888'866});
}

TEST(DecideCollateral, leverage_exactly_two_is_left_alone) {
  // 10,000,000 sats at $50,000 = $5,000: leverage exactly 2
  const CollateralDecision d = decide(1'000'000, 10'000'000, k50k);
  EXPECT_EQ(d.leverage, Ratio::from_ppm(2'000'000));
  EXPECT_FALSE(d.transfer);
  // 20 sats more is one cent more: leverage 1.999996 -> withdraw
  // 500,001 - 333,334 = 166,667 cents = 3,333,340 sats
  const CollateralDecision below = decide(1'000'000, 10'000'020, k50k);
  EXPECT_TRUE(below.transfer);
  EXPECT_EQ(below.direction, TransferDirection::exchange_to_wallet);
  EXPECT_EQ(below.amount, Sats{3'333'340});
}

TEST(DecideCollateral, leverage_inside_the_band_moves_nothing) {
  // $10,000 on $4,000 (13,333,334 sats -> 400,000 cents): leverage 2.5
  const CollateralDecision d = decide(1'000'000, 13'333'334);
  EXPECT_EQ(d.leverage, Ratio::from_ppm(2'500'000));
  EXPECT_FALSE(d.transfer);
}

TEST(DecideCollateral, no_exposure_withdraws_everything_to_the_sat) {
  const CollateralDecision d = decide(0, 12'345'678); // $3,703.70
  EXPECT_EQ(d.leverage, Ratio{0});
  EXPECT_TRUE(d.transfer);
  EXPECT_EQ(d.direction, TransferDirection::exchange_to_wallet);
  EXPECT_EQ(d.amount, Sats{12'345'678});
}

TEST(DecideCollateral, nothing_without_exposure_or_collateral) {
  const CollateralDecision d = decide(0, 0);
  EXPECT_FALSE(d.transfer);
  EXPECT_EQ(d.leverage, Ratio{0});
}

TEST(DecideCollateral, transfers_under_one_hundred_dollars_are_not_made) {
  // $1,000 exposure on 699,980 sats = 20,999.4 -> 20,999 cents: leverage 4.76
  // -> 33,334 - 20,999 = 12,335 cents: made
  EXPECT_TRUE(decide(100'000, 699'980).transfer);
  // 800,000 sats -> 24,000 cents: leverage 4.17, but 33,334 - 24,000 = 9,334
  // cents < $100 -> not made
  const CollateralDecision small = decide(100'000, 800'000);
  EXPECT_GT(small.leverage, Ratio::from_ppm(4'000'000));
  EXPECT_FALSE(small.transfer);
  // exactly $100 is made: 23,334 cents = 777,800 sats -> 33,334 - 23,334 = 10,000 cents
  // = 333,333.33 -> 333,334 sats
  const CollateralDecision exactly = decide(100'000, 777'800);
  EXPECT_TRUE(exactly.transfer);
  EXPECT_EQ(exactly.amount, Sats{333'334});
  // one cent short of $100: 23,335 cents = 777,834 sats (23,335.02) -> 9,999 cents
  EXPECT_FALSE(decide(100'000, 777'834).transfer);
}

TEST(DecideCollateral, withdrawing_everything_also_respects_the_minimum) {
  EXPECT_FALSE(decide(0, 300'000).transfer);       // $90
  EXPECT_FALSE(decide(0, 333'333).transfer);       // 9,999.99 -> 9,999 cents
  const CollateralDecision d = decide(0, 333'334); // 10,000.02 -> $100: made, to the sat
  EXPECT_TRUE(d.transfer);
  EXPECT_EQ(d.amount, Sats{333'334});
}

TEST(DecideCollateral, bands_come_from_the_config) {
  CollateralConfig config;
  config.low_bound = Ratio::from_ppm(1'000'000);
  config.low_safe_bound = Ratio::from_ppm(2'000'000);
  config.high_safe_bound = Ratio::from_ppm(2'000'000);
  config.high_bound = Ratio::from_ppm(2'500'000);
  // leverage 3 (in the default band) is above a 2.5 high bound: deposit to 2
  // 500,000 - 333,334 = 166,666 cents at $50,000 = 3,333,320 sats
  const CollateralDecision d = decide_collateral(config, UsdCents{1'000'000}, Sats{6'666'680}, k50k);
  EXPECT_TRUE(d.transfer);
  EXPECT_EQ(d.direction, TransferDirection::wallet_to_exchange);
  EXPECT_EQ(d.amount, Sats{3'333'320});
}

// The band 2 / 2.5 / 2.5 / 4 with deposits asked for above 3: at $50,000
// (1 cent = 20 sats) $10,000 on $3,300 (6,600,000 sats) is leverage 3.03,
// inside the band but past the trigger: deposit back to 2.5, 400,000 -
// 330,000 cents = 1,400,000 sats. On $3,333.34 (2.99999) nothing moves.
CollateralConfig deposit_early_config() {
  CollateralConfig config;
  config.low_safe_bound = Ratio::from_ppm(2'500'000);
  config.high_safe_bound = Ratio::from_ppm(2'500'000);
  config.deposit_above = Ratio::from_ppm(3'000'000);
  return config;
}

TEST(DecideCollateral, a_deposit_is_asked_for_above_deposit_above_inside_the_band) {
  const CollateralDecision early =
      decide_collateral(deposit_early_config(), UsdCents{1'000'000}, Sats{6'600'000}, k50k);
  EXPECT_TRUE(early.transfer);
  EXPECT_EQ(early.direction, TransferDirection::wallet_to_exchange);
  EXPECT_EQ(early.amount, Sats{1'400'000});
  EXPECT_FALSE(decide_collateral(deposit_early_config(), UsdCents{1'000'000}, Sats{6'666'680}, k50k).transfer);
  // unset (0): at high_bound, as before
  CollateralConfig unset = deposit_early_config();
  unset.deposit_above = Ratio{0};
  EXPECT_FALSE(decide_collateral(unset, UsdCents{1'000'000}, Sats{6'600'000}, k50k).transfer);
  // withdrawals are unchanged: below 2, back to 2.5
  const CollateralDecision low = decide_collateral(deposit_early_config(), UsdCents{1'000'000}, Sats{12'000'000}, k50k);
  EXPECT_TRUE(low.transfer);
  EXPECT_EQ(low.direction, TransferDirection::exchange_to_wallet);
  EXPECT_EQ(low.amount, Sats{4'000'000}); // 600,000 - 400,000 cents
}

TEST(DecideCollateral, deposit_above_must_lie_above_high_safe_bound_and_at_most_high_bound) {
  const auto kernel_with = [](Ratio deposit_above) {
    KernelConfig config = single_venue_config();
    config.collateral = deposit_early_config();
    config.collateral.deposit_above = deposit_above;
    return Kernel{config};
  };
  EXPECT_NO_THROW(kernel_with(Ratio{0}));
  EXPECT_NO_THROW(kernel_with(Ratio::from_ppm(4'000'000)));
  EXPECT_THROW(kernel_with(Ratio::from_ppm(2'500'000)), std::invalid_argument) << "at high_safe_bound";
  EXPECT_THROW(kernel_with(Ratio::from_ppm(4'000'001)), std::invalid_argument);
  EXPECT_THROW(kernel_with(Ratio::from_ppm(-1)), std::invalid_argument);
}

// $1,000 kept at the venue, at $50,000 (1 cent = 20 sats, $1,000 = 2,000,000 sats).
CollateralConfig keeping_1000() {
  CollateralConfig config;
  config.keep_at_venue = UsdCents{100'000};
  return config;
}

TEST(DecideCollateral, with_nothing_to_hedge_a_withdrawal_leaves_what_is_kept_at_the_venue) {
  // $1,500 held, nothing to hedge: $500 goes back, $1,000 stays
  const CollateralDecision d = decide_collateral(keeping_1000(), UsdCents{0}, Sats{3'000'000}, k50k);
  EXPECT_TRUE(d.transfer);
  EXPECT_EQ(d.direction, TransferDirection::exchange_to_wallet);
  EXPECT_EQ(d.amount, Sats{1'000'000});
  // without a floor everything goes, to the sat
  EXPECT_EQ(decide_collateral(CollateralConfig{}, UsdCents{0}, Sats{3'000'000}, k50k).amount, Sats{3'000'000});
}

TEST(DecideCollateral, at_the_kept_amount_nothing_is_withdrawn_however_low_leverage_is) {
  // $1,050 held for $100 of exposure (leverage 0.095): $50 above the floor is
  // under the $100 minimum transfer, so nothing moves
  EXPECT_FALSE(decide_collateral(keeping_1000(), UsdCents{10'000}, Sats{2'100'000}, k50k).transfer);
  EXPECT_FALSE(decide_collateral(keeping_1000(), UsdCents{0}, Sats{2'000'000}, k50k).transfer);
}

TEST(DecideCollateral, the_kept_amount_caps_a_withdrawal_sized_for_the_band_but_never_a_deposit) {
  // $2,000 of exposure on $1,500 held: back to 3 would leave $666.67, the
  // floor keeps $1,000, so $500 (1,000,000 sats) goes back
  const CollateralDecision low = decide_collateral(keeping_1000(), UsdCents{100'000}, Sats{3'000'000}, k50k);
  ASSERT_TRUE(low.transfer);
  EXPECT_EQ(low.amount, Sats{1'000'000});
  // $10,000 of exposure on $1,000: a deposit to 3 as without a floor
  const CollateralDecision high = decide_collateral(keeping_1000(), UsdCents{1'000'000}, Sats{2'000'000}, k50k);
  EXPECT_EQ(high.direction, TransferDirection::wallet_to_exchange);
  EXPECT_EQ(high.amount, decide_collateral(CollateralConfig{}, UsdCents{1'000'000}, Sats{2'000'000}, k50k).amount);
}

TEST(DecideCollateral, a_negative_amount_kept_at_the_venue_is_refused) {
  KernelConfig config = single_venue_config();
  config.collateral.keep_at_venue = UsdCents{-1};
  EXPECT_THROW(Kernel{config}, std::invalid_argument);
}

TEST(DecideCollateral, does_nothing_without_a_valid_mark) { EXPECT_FALSE(decide(1'000'000, 0, Price{}).transfer); }

// ---- liquidation_distance -------------------------------------------------------

TEST(LiquidationDistance, leverage_four_with_half_percent_maintenance) {
  // Q = $10,000, C = $2,500 (5,000,000 sats at $50,000):
  // (250,000 - 0.005 * 1,000,000) / (1,000,000 - 250,000) = 245,000 / 750,000
  // = 0.32666666.. -> 32,666,666 (rounded down: never overstates the distance)
  EXPECT_EQ(liquidation_distance(UsdCents{1'000'000}, Sats{5'000'000}, k50k, kMaintenance), Ratio{32'666'666});
}

TEST(LiquidationDistance, leverage_two_and_leverage_ten) {
  // C = $5,000: (500,000 - 5,000) / 500,000 = 0.99
  EXPECT_EQ(liquidation_distance(UsdCents{1'000'000}, Sats{10'000'000}, k50k, kMaintenance), Ratio{99'000'000});
  // C = $1,000: (100,000 - 5,000) / 900,000 = 0.105555.. -> 10,555,555
  EXPECT_EQ(liquidation_distance(UsdCents{1'000'000}, Sats{2'000'000}, k50k, kMaintenance), Ratio{10'555'555});
}

TEST(LiquidationDistance, without_maintenance_margin_is_collateral_over_the_uncovered_part) {
  // C / (Q - C) = 250,000 / 750,000 = 1/3 -> 33,333,333
  EXPECT_EQ(liquidation_distance(UsdCents{1'000'000}, Sats{5'000'000}, k50k, Ratio{0}), Ratio{33'333'333});
}

TEST(LiquidationDistance, is_negative_once_collateral_is_under_maintenance) {
  // C = $40 (80,000 sats): (4,000 - 5,000) / 996,000 = -0.001004016 -> floor -100,402
  EXPECT_EQ(liquidation_distance(UsdCents{1'000'000}, Sats{80'000}, k50k, kMaintenance), Ratio{-100'402});
}

TEST(LiquidationDistance, is_unbounded_when_collateral_covers_the_exposure_or_there_is_none) {
  EXPECT_EQ(liquidation_distance(UsdCents{1'000'000}, Sats{20'000'000}, k50k, kMaintenance), kUnbounded); // C == Q
  EXPECT_EQ(liquidation_distance(UsdCents{1'000'000}, Sats{30'000'000}, k50k, kMaintenance), kUnbounded);
  EXPECT_EQ(liquidation_distance(UsdCents{0}, Sats{1'000}, k50k, kMaintenance), kUnbounded);
  EXPECT_EQ(liquidation_distance(UsdCents{1'000'000}, Sats{1'000}, Price{}, kMaintenance), kUnbounded);
}

// ---- kernel ---------------------------------------------------------------------

TEST(KernelCollateral, makes_no_transfer_before_the_first_collateral_snapshot) {
  Kernel kernel = hedged(30'000);
  EXPECT_TRUE(transfers_in(kernel.on(Timer{at_seconds(1)})).empty());
  EXPECT_TRUE(transfers_in(kernel.on(market(kVenue, kSwap, 30'000, at_seconds(2)))).empty());
  EXPECT_TRUE(transfers_in(kernel.on(liability(100'000, at_seconds(3)))).empty());
  EXPECT_FALSE(kernel.venue(kVenue)->collateral_known);
  EXPECT_EQ(kernel.counters().transfers, 0U);
}

TEST(KernelCollateral, deposits_to_leverage_three_for_exposure_without_collateral) {
  // the 98-contract order is still in flight: it counts, and the $10,000
  // allocation counts too -> required = max($9,800, $10,000) = $10,000 ->
  // 333,334 cents -> 11,111,134 sats at $30,000
  Kernel kernel = hedged(30'000, /*filled=*/false);
  const auto transfers = transfers_in(kernel.on(collateral(0, at_seconds(1))));
  ASSERT_EQ(transfers.size(), 1U);
  EXPECT_EQ(transfers[0].transfer_id, 1U);
  EXPECT_EQ(transfers[0].venue, kVenue);
  EXPECT_EQ(transfers[0].direction, TransferDirection::wallet_to_exchange);
  EXPECT_EQ(transfers[0].amount, Sats{11'111'134});
  EXPECT_TRUE(kernel.venue(kVenue)->transfer_in_flight);
}

TEST(KernelCollateral, deposits_back_to_leverage_three_above_four) {
  Kernel kernel = hedged(30'000);
  // $1,800 against $10,000: leverage 5.56 -> 153,334 cents -> 5,111,134 sats
  const auto transfers = transfers_in(kernel.on(collateral(6'000'000, at_seconds(1))));
  ASSERT_EQ(transfers.size(), 1U);
  EXPECT_EQ(transfers[0].direction, TransferDirection::wallet_to_exchange);
  EXPECT_EQ(transfers[0].amount, Sats{5'111'134});
}

TEST(KernelCollateral, withdraws_down_to_leverage_three_below_two) {
  Kernel kernel = hedged(30'000);
  // $12,000 against $10,000: leverage 0.83 -> 866,666 cents -> 28,888,866 sats
  const auto transfers = transfers_in(kernel.on(collateral(40'000'000, at_seconds(1))));
  ASSERT_EQ(transfers.size(), 1U);
  EXPECT_EQ(transfers[0].direction, TransferDirection::exchange_to_wallet);
  EXPECT_EQ(transfers[0].amount, Sats{28'888'866});
}

TEST(KernelCollateral, leaves_collateral_alone_inside_the_band) {
  Kernel kernel = hedged(30'000);
  // $4,000 against $10,000: leverage 2.5
  EXPECT_TRUE(transfers_in(kernel.on(collateral(13'333'334, at_seconds(1)))).empty());
  EXPECT_TRUE(transfers_in(kernel.on(Timer{at_seconds(2)})).empty());
}

TEST(KernelCollateral, withdraws_everything_when_nothing_is_hedged) {
  Kernel kernel(single_venue_config());
  bring_up(kernel, 30'000);
  const auto transfers = transfers_in(kernel.on(collateral(12'345'678, at_seconds(1))));
  ASSERT_EQ(transfers.size(), 1U);
  EXPECT_EQ(transfers[0].direction, TransferDirection::exchange_to_wallet);
  EXPECT_EQ(transfers[0].amount, Sats{12'345'678});
}

TEST(KernelCollateral, does_not_withdraw_dust_under_one_hundred_dollars) {
  Kernel kernel(single_venue_config());
  bring_up(kernel, 30'000);
  EXPECT_TRUE(transfers_in(kernel.on(collateral(300'000, at_seconds(1)))).empty()); // $90
  EXPECT_TRUE(transfers_in(kernel.on(Timer{at_seconds(2)})).empty());
}

TEST(KernelCollateral, never_starts_a_second_transfer_while_one_is_in_flight) {
  Kernel kernel = hedged(30'000);
  const auto first = transfers_in(kernel.on(collateral(0, at_seconds(1))));
  ASSERT_EQ(first.size(), 1U);
  EXPECT_EQ(first[0].amount, Sats{11'111'134});

  // more liability (another 98 sold), timers, fresh snapshots: still one in flight
  const auto more = kernel.on(liability(1'000'000, at_seconds(2)));
  EXPECT_EQ(orders_in(more).size(), 1U);
  EXPECT_TRUE(transfers_in(more).empty());
  EXPECT_TRUE(transfers_in(kernel.on(Timer{at_seconds(3)})).empty());
  EXPECT_TRUE(transfers_in(kernel.on(collateral(0, at_seconds(4)))).empty());
  EXPECT_EQ(kernel.counters().transfers, 1U);

  // A snapshot arrived while the deposit was in flight, so it may already
  // include it: completion must not add the amount again. The kernel waits
  // for the next snapshot before deciding anything.
  EXPECT_TRUE(transfers_in(kernel.on(TransferCompleted{first[0].transfer_id, at_seconds(5)})).empty());
  EXPECT_FALSE(kernel.venue(kVenue)->transfer_in_flight);
  EXPECT_EQ(kernel.venue(kVenue)->collateral, Sats{0});
  EXPECT_TRUE(transfers_in(kernel.on(Timer{at_seconds(6)})).empty());
  // the venue reports the deposit (333,334 cents): now $20,000 needs 666,667
  // cents -> 333,333 more = 11,111,100 sats
  const auto next = transfers_in(kernel.on(collateral(11'111'134, at_seconds(7))));
  EXPECT_EQ(kernel.venue(kVenue)->collateral, Sats{11'111'134});
  ASSERT_EQ(next.size(), 1U);
  EXPECT_EQ(next[0].transfer_id, 2U);
  EXPECT_EQ(next[0].direction, TransferDirection::wallet_to_exchange);
  EXPECT_EQ(next[0].amount, Sats{11'111'100});
}

TEST(KernelCollateral, a_completed_deposit_that_reaches_the_band_ends_the_transfers) {
  Kernel kernel = hedged(30'000);
  const auto first = transfers_in(kernel.on(collateral(0, at_seconds(1))));
  ASSERT_EQ(first.size(), 1U);
  // 11,111,134 sats = 333,334 cents: leverage 2.99999 -> in band
  const auto actions = kernel.on(TransferCompleted{first[0].transfer_id, at_seconds(2)});
  EXPECT_TRUE(transfers_in(actions).empty());
  EXPECT_FALSE(kernel.venue(kVenue)->transfer_in_flight);
  EXPECT_EQ(kernel.venue(kVenue)->collateral, Sats{11'111'134});
}

TEST(KernelCollateral, a_completed_withdrawal_reduces_the_collateral) {
  Kernel kernel = hedged(30'000);
  const auto first = transfers_in(kernel.on(collateral(40'000'000, at_seconds(1))));
  ASSERT_EQ(first.size(), 1U);
  (void)kernel.on(TransferCompleted{first[0].transfer_id, at_seconds(2)});
  EXPECT_EQ(kernel.venue(kVenue)->collateral, Sats{40'000'000 - 28'888'866});
  EXPECT_FALSE(kernel.venue(kVenue)->transfer_in_flight);
}

TEST(KernelCollateral, a_failed_transfer_alerts_and_is_retried_on_the_next_event_only) {
  Kernel kernel = hedged(30'000);
  const auto first = transfers_in(kernel.on(collateral(0, at_seconds(1))));
  ASSERT_EQ(first.size(), 1U);

  const auto failed = kernel.on(TransferFailed{first[0].transfer_id, at_seconds(2)});
  const auto alerts = alerts_in(failed, AlertCode::transfer_failed);
  ASSERT_EQ(alerts.size(), 1U);
  EXPECT_EQ(alerts[0].values, (std::array<std::int64_t, 3>{1, kVenue, 11'111'134}));
  EXPECT_TRUE(transfers_in(failed).empty()); // no immediate retry
  EXPECT_FALSE(kernel.venue(kVenue)->transfer_in_flight);
  EXPECT_EQ(kernel.venue(kVenue)->collateral, Sats{0}); // nothing arrived

  const auto retry = transfers_in(kernel.on(Timer{at_seconds(3)}));
  ASSERT_EQ(retry.size(), 1U);
  EXPECT_EQ(retry[0].transfer_id, 2U);
  EXPECT_EQ(retry[0].amount, Sats{11'111'134});
}

TEST(KernelCollateral, an_unknown_or_finished_transfer_id_is_reported_not_booked) {
  Kernel kernel = hedged(30'000);
  const auto first = transfers_in(kernel.on(collateral(0, at_seconds(1))));
  ASSERT_EQ(first.size(), 1U);
  const auto unknown = alerts_in(kernel.on(TransferCompleted{99, at_seconds(2)}), AlertCode::unknown_transfer);
  ASSERT_EQ(unknown.size(), 1U);
  EXPECT_EQ(unknown[0].values[0], 99);
  EXPECT_TRUE(kernel.venue(kVenue)->transfer_in_flight);
  EXPECT_EQ(kernel.venue(kVenue)->collateral, Sats{0});

  (void)kernel.on(TransferCompleted{first[0].transfer_id, at_seconds(3)});
  // a duplicate completion must not book the deposit twice
  const auto duplicate = kernel.on(TransferCompleted{first[0].transfer_id, at_seconds(4)});
  EXPECT_EQ(alerts_in(duplicate, AlertCode::unknown_transfer).size(), 1U);
  EXPECT_EQ(kernel.venue(kVenue)->collateral, Sats{11'111'134});
  // and a late failure of the finished transfer neither alerts transfer_failed nor undoes it
  const auto late_failure = kernel.on(TransferFailed{first[0].transfer_id, at_seconds(5)});
  EXPECT_TRUE(alerts_in(late_failure, AlertCode::transfer_failed).empty());
  EXPECT_EQ(kernel.venue(kVenue)->collateral, Sats{11'111'134});
}

TEST(KernelCollateral, liquidation_alert_is_latched_per_excursion_below_fifteen_percent) {
  Kernel kernel = hedged(50'000); // 98 short = $9,800 at $50,000
  // $1,000 collateral (2,000,000 sats): (100,000 - 0.005 * 980,000) / 880,000
  // = 95,100 / 880,000 = 0.108068.. -> 10,806,818 < 15,000,000
  const auto low = alerts_in(kernel.on(collateral(2'000'000, at_seconds(1))), AlertCode::liquidation_distance_low);
  ASSERT_EQ(low.size(), 1U);
  EXPECT_EQ(low[0].values, (std::array<std::int64_t, 3>{kVenue, 10'806'818, 15'000'000}));
  EXPECT_TRUE(kernel.venue(kVenue)->liquidation_alert_raised);

  // still low on the next ticks: not repeated
  EXPECT_TRUE(
      alerts_in(kernel.on(market(kVenue, kSwap, 50'000, at_seconds(2))), AlertCode::liquidation_distance_low).empty());
  EXPECT_TRUE(alerts_in(kernel.on(collateral(2'000'000, at_seconds(3))), AlertCode::liquidation_distance_low).empty());

  // recovers ($5,000: (500,000 - 4,900) / 480,000 = 1.03) -> latch released, no alert
  EXPECT_TRUE(alerts_in(kernel.on(collateral(10'000'000, at_seconds(4))), AlertCode::liquidation_distance_low).empty());
  EXPECT_FALSE(kernel.venue(kVenue)->liquidation_alert_raised);

  // falls again: alerted again
  const auto again = alerts_in(kernel.on(collateral(2'000'000, at_seconds(5))), AlertCode::liquidation_distance_low);
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(again[0].values[1], 10'806'818);
}

TEST(KernelCollateral, liquidation_alert_threshold_comes_from_the_config) {
  KernelConfig config = single_venue_config();
  config.collateral.liquidation_alert_distance = Ratio::from_ppm(100'000); // 10 %
  Kernel kernel(std::move(config));
  bring_up(kernel);
  const auto orders = orders_in(kernel.on(liability(1'000'000)));
  ASSERT_EQ(orders.size(), 1U);
  (void)fill(kernel, orders[0], 50'000, kStart);
  // 10.8 % is above a 10 % threshold
  EXPECT_TRUE(alerts_in(kernel.on(collateral(2'000'000, at_seconds(1))), AlertCode::liquidation_distance_low).empty());
  // $900 (1,800,000 sats): (90,000 - 4,900) / 890,000 = 0.095617.. -> 9,561,797
  const auto low = alerts_in(kernel.on(collateral(1'800'000, at_seconds(2))), AlertCode::liquidation_distance_low);
  ASSERT_EQ(low.size(), 1U);
  EXPECT_EQ(low[0].values, (std::array<std::int64_t, 3>{kVenue, 9'561'797, 10'000'000}));
}

// ---- after a liquidation -------------------------------------------------------

TEST(KernelCollateral, after_a_liquidation_it_alerts_asks_for_a_deposit_and_rehedges_once_it_lands) {
  Kernel kernel = hedged(30'000);
  ASSERT_TRUE(transfers_in(kernel.on(collateral(11'111'134, at_seconds(1)))).empty()); // 3x: in band

  // The venue closed the whole 98-contract short on its own.
  const auto liquidated = kernel.on(PositionSnapshot{kVenue, kSwap, Contracts{0}, at_seconds(2)});
  const auto alerts = alerts_in(liquidated, AlertCode::venue_liquidated);
  ASSERT_EQ(alerts.size(), 1U);
  EXPECT_EQ(alerts[0].values, (std::array<std::int64_t, 3>{kVenue, kSwap, -98}));
  EXPECT_TRUE(kernel.venue(kVenue)->liquidated);
  // No short the venue would refuse for margin ...
  EXPECT_TRUE(orders_in(liquidated).empty());
  // ... but a deposit for the whole $10,000 at 3x, as from nothing.
  const auto deposit = transfers_in(liquidated);
  ASSERT_EQ(deposit.size(), 1U);
  EXPECT_EQ(deposit[0].direction, TransferDirection::wallet_to_exchange);
  EXPECT_EQ(deposit[0].amount, Sats{11'111'134});

  // The price rises: the old collateral would read as 1.8x and be withdrawn
  // from an account the liquidation emptied. Nothing is asked of it.
  const auto risen = kernel.on(market(kVenue, kSwap, 50'000, at_seconds(3)));
  EXPECT_TRUE(transfers_in(risen).empty());
  EXPECT_TRUE(orders_in(risen).empty());
  EXPECT_TRUE(orders_in(kernel.on(Timer{at_seconds(4)})).empty());

  // The deposit lands: the hedge goes back on at once.
  const auto landed = kernel.on(TransferCompleted{deposit[0].transfer_id, at_seconds(5)});
  EXPECT_FALSE(kernel.venue(kVenue)->liquidated);
  const auto orders = orders_in(landed);
  ASSERT_EQ(orders.size(), 1U);
  EXPECT_EQ(orders[0].side, Side::sell);
  EXPECT_EQ(orders[0].quantity, Contracts{98}); // as before the liquidation
}

TEST(KernelCollateral, an_order_refused_for_margin_is_retried_as_soon_as_the_deposit_after_a_liquidation_lands) {
  Kernel kernel = hedged(30'000);
  (void)kernel.on(collateral(11'111'134, at_seconds(1)));
  // More liability: the venue, already short of margin, refuses the order.
  const auto more = orders_in(kernel.on(liability(100'000, at_seconds(2))));
  ASSERT_EQ(more.size(), 1U);
  (void)kernel.on(ExecutionReport{more[0].client_order_id, OrderStatus::rejected, {}, {}, at_seconds(2)});
  const auto deposit = transfers_in(kernel.on(PositionSnapshot{kVenue, kSwap, Contracts{0}, at_seconds(2)}));
  ASSERT_EQ(deposit.size(), 1U);
  // The deposit lands inside the 1 s retry delay after the reject.
  const auto orders = orders_in(kernel.on(TransferCompleted{deposit[0].transfer_id, at_seconds(2)}));
  ASSERT_EQ(orders.size(), 1U);
  EXPECT_EQ(orders[0].side, Side::sell);
}

TEST(KernelCollateral, a_position_reduced_but_not_closed_by_the_venue_is_no_liquidation) {
  Kernel kernel = hedged(30'000);
  (void)kernel.on(collateral(11'111'134, at_seconds(1)));
  const auto actions = kernel.on(PositionSnapshot{kVenue, kSwap, Contracts{-60}, at_seconds(2)});
  EXPECT_TRUE(alerts_in(actions, AlertCode::venue_liquidated).empty());
  EXPECT_FALSE(kernel.venue(kVenue)->liquidated);
  EXPECT_EQ(orders_in(actions).size(), 1U); // re-hedged at once
}

} // namespace
} // namespace synthusd::hedging
