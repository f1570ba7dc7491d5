// Rule 7, withdrawals: at most what the venue reports it pays out, less one
// minimum transfer while a position is open, and after a refusal half of the
// refused amount once a fresh report came (kernel_collateral.cpp). Unit
// sanity at $30,000: $100 is 333,334 sats.

#include <gtest/gtest.h>

#include "collateral_fixture.hpp"
#include "kernel_fixture.hpp"

namespace synthusd::hedging {
namespace {

using namespace synthusd::hedging::testing;

// $10,000 hedged at $30,000; 0.4 BTC ($12,000) is leverage 0.83: withdraw
// down to leverage 3 would be $8,667 (28,888,866 sats), but the venue pays
// out only what it reports withdrawable, less one minimum transfer ($100 =
// 333,334 sats) while the position is open.
TEST(KernelCollateral, a_withdrawal_asks_for_no_more_than_the_venue_pays_out) {
  Kernel kernel = hedged(30'000);
  const auto sized = transfers_in(kernel.on(collateral(40'000'000, 20'000'000, at_seconds(1))));
  ASSERT_EQ(sized.size(), 1U);
  EXPECT_EQ(sized[0].direction, TransferDirection::exchange_to_wallet);
  EXPECT_EQ(sized[0].amount, Sats{20'000'000 - 333'334});

  Kernel plenty = hedged(30'000);
  const auto whole = transfers_in(plenty.on(collateral(40'000'000, 40'000'000, at_seconds(1))));
  ASSERT_EQ(whole.size(), 1U);
  EXPECT_EQ(whole[0].amount, Sats{28'888'866}) << "the band decides when the venue would pay more";
}

TEST(KernelCollateral, no_withdrawal_when_the_venue_pays_out_less_than_two_minimum_transfers_with_a_position_open) {
  Kernel kernel = hedged(30'000);
  // $100 at $30,000 is 333,334 sats: one is left behind, one is the least moved.
  EXPECT_TRUE(transfers_in(kernel.on(collateral(40'000'000, 666'667, at_seconds(1)))).empty());
  EXPECT_TRUE(transfers_in(kernel.on(collateral(40'000'000, 0, at_seconds(2)))).empty());
  const auto enough = transfers_in(kernel.on(collateral(40'000'000, 666'668, at_seconds(3))));
  ASSERT_EQ(enough.size(), 1U);
  EXPECT_EQ(enough[0].amount, Sats{333'334});
}

// Nothing hedged: nothing moves the payout (no fills, no margin), so all of it goes.
TEST(KernelCollateral, with_nothing_hedged_the_whole_reported_payout_is_withdrawn) {
  Kernel kernel(single_venue_config());
  bring_up(kernel, 30'000);
  const auto transfers = transfers_in(kernel.on(collateral(12'345'678, 12'000'000, at_seconds(1))));
  ASSERT_EQ(transfers.size(), 1U);
  EXPECT_EQ(transfers[0].amount, Sats{12'000'000});
}

// Demo seed 3 at the bottom of the March 2020 crash: leverage 1.72, the venue
// reporting a payout of 77,868,582 sats (its balance: the short's profit is
// unrealised), each fill's fee taking a few thousand sats off that balance
// before the withdrawal reached the venue. Asking for the report to the sat
// was refused, and no withdrawal was asked for again for the rest of the run.
// Here: the payout falls by 5,000 sats of fees after the report; a withdrawal
// that leaves a minimum transfer behind is one the venue can pay.
TEST(KernelCollateral, a_withdrawal_leaves_room_for_the_fees_charged_before_it_reaches_the_venue) {
  Kernel kernel = hedged(30'000);
  const Sats reported{20'000'000};
  const auto asked = transfers_in(kernel.on(collateral(40'000'000, reported.value, at_seconds(1))));
  ASSERT_EQ(asked.size(), 1U);
  const Sats paid_out_at_the_venue{reported.value - 5'000};
  EXPECT_LE(asked[0].amount, paid_out_at_the_venue);
  EXPECT_GE(asked[0].amount, Sats{reported.value - 333'334});
}

// The other half of seed 3: a refusal with the payout unchanged (or lower)
// stopped withdrawals for good. Now: nothing before a fresh report, then half
// of the refused amount, and half again after another refusal, until it is
// under a minimum transfer.
TEST(KernelCollateral, a_refused_withdrawal_is_asked_again_for_half_after_a_fresh_report) {
  Kernel kernel = hedged(30'000);
  const auto first = transfers_in(kernel.on(collateral(40'000'000, 20'000'000, at_seconds(1))));
  ASSERT_EQ(first.size(), 1U);
  EXPECT_EQ(first[0].amount, Sats{19'666'666});
  (void)kernel.on(TransferFailed{first[0].transfer_id, at_seconds(2)});
  EXPECT_EQ(kernel.venue(kVenue)->withdrawal_refused_amount, Sats{19'666'666});
  EXPECT_FALSE(kernel.venue(kVenue)->reported_since_refusal);
  EXPECT_TRUE(transfers_in(kernel.on(Timer{at_seconds(3)})).empty()) << "no fresh report yet";
  const auto second = transfers_in(kernel.on(collateral(40'000'000, 19'990'000, at_seconds(4))));
  ASSERT_EQ(second.size(), 1U);
  EXPECT_EQ(second[0].direction, TransferDirection::exchange_to_wallet);
  EXPECT_EQ(second[0].amount, Sats{9'833'333});
  (void)kernel.on(TransferFailed{second[0].transfer_id, at_seconds(5)});
  EXPECT_TRUE(transfers_in(kernel.on(Timer{at_seconds(6)})).empty());
  const auto third = transfers_in(kernel.on(collateral(40'000'000, 19'990'000, at_seconds(7))));
  ASSERT_EQ(third.size(), 1U);
  EXPECT_EQ(third[0].amount, Sats{4'916'666});
  // A completed withdrawal ends the halving: the next one (leverage is still
  // 0.95) is sized from the payout again, 19,990,000 - 4,916,666 sats.
  const auto fourth = transfers_in(kernel.on(TransferCompleted{third[0].transfer_id, at_seconds(8)}));
  EXPECT_FALSE(kernel.venue(kVenue)->withdrawal_refused);
  ASSERT_EQ(fourth.size(), 1U);
  EXPECT_EQ(fourth[0].amount, Sats{15'073'334 - 333'334});
}

TEST(KernelCollateral, halving_after_refusals_stops_under_a_minimum_transfer) {
  Kernel kernel = hedged(30'000);
  // 1,000,002 reported: 666,668 asked; half of it (333,334) is still a minimum
  // transfer, half again is not.
  const auto first = transfers_in(kernel.on(collateral(40'000'000, 1'000'002, at_seconds(1))));
  ASSERT_EQ(first.size(), 1U);
  EXPECT_EQ(first[0].amount, Sats{666'668});
  (void)kernel.on(TransferFailed{first[0].transfer_id, at_seconds(2)});
  const auto second = transfers_in(kernel.on(collateral(40'000'000, 1'000'002, at_seconds(3))));
  ASSERT_EQ(second.size(), 1U);
  EXPECT_EQ(second[0].amount, Sats{333'334});
  (void)kernel.on(TransferFailed{second[0].transfer_id, at_seconds(4)});
  EXPECT_TRUE(transfers_in(kernel.on(collateral(40'000'000, 1'000'002, at_seconds(5)))).empty());
  EXPECT_TRUE(transfers_in(kernel.on(collateral(40'000'000, 1'000'002, at_seconds(6)))).empty());
}

TEST(KernelCollateral, a_withdrawable_amount_below_minus_one_is_an_invalid_event) {
  Kernel kernel = hedged(30'000);
  const std::uint64_t before = kernel.counters().invalid_events;
  EXPECT_TRUE(transfers_in(kernel.on(collateral(40'000'000, -2, at_seconds(1)))).empty());
  EXPECT_EQ(kernel.counters().invalid_events, before + 1);
  EXPECT_FALSE(kernel.venue(kVenue)->collateral_known);
}

TEST(KernelCollateral, a_refused_withdrawal_is_asked_again_in_full_once_the_payout_grew_by_a_minimum_transfer) {
  Kernel kernel = hedged(30'000);
  const auto first = transfers_in(kernel.on(collateral(40'000'000, 20'000'000, at_seconds(1))));
  ASSERT_EQ(first.size(), 1U);
  // The venue refused all the same (its margin moved in between).
  (void)kernel.on(TransferFailed{first[0].transfer_id, at_seconds(2)});
  EXPECT_TRUE(kernel.venue(kVenue)->withdrawal_refused);
  EXPECT_EQ(kernel.venue(kVenue)->withdrawable_when_refused, Sats{20'000'000});
  EXPECT_TRUE(transfers_in(kernel.on(Timer{at_seconds(3)})).empty());
  // Fills do not by themselves make the venue pay more: no asking after each.
  const auto more = orders_in(kernel.on(liability(100'000, at_seconds(4))));
  ASSERT_EQ(more.size(), 1U);
  EXPECT_TRUE(transfers_in(fill(kernel, more[0], 30'000, at_seconds(5))).empty());
  // Less than $100 more (333,334 sats) is not material: half of the refused
  // amount.
  const auto half = transfers_in(kernel.on(collateral(40'000'000, 20'333'333, at_seconds(6))));
  ASSERT_EQ(half.size(), 1U);
  EXPECT_EQ(half[0].amount, Sats{9'833'333});
  // refused again at a payout of 20,333,333: a minimum transfer above that
  (void)kernel.on(TransferFailed{half[0].transfer_id, at_seconds(7)});
  const auto again = transfers_in(kernel.on(collateral(40'000'000, 20'666'667, at_seconds(8))));
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(again[0].amount, Sats{20'333'333});
}

TEST(KernelCollateral,
     a_venue_that_does_not_report_the_payout_has_its_equity_withdrawn_and_after_a_refusal_half_as_much) {
  Kernel kernel = hedged(30'000);
  const auto first = transfers_in(kernel.on(collateral(40'000'000, at_seconds(1))));
  ASSERT_EQ(first.size(), 1U);
  EXPECT_EQ(first[0].amount, Sats{28'888'866});
  (void)kernel.on(TransferFailed{first[0].transfer_id, at_seconds(2)});
  const auto half = transfers_in(kernel.on(collateral(40'000'000, at_seconds(3))));
  ASSERT_EQ(half.size(), 1U);
  EXPECT_EQ(half[0].amount, Sats{14'444'433});
  (void)kernel.on(TransferFailed{half[0].transfer_id, at_seconds(4)});
  // the equity grew by a minimum transfer: the band's amount again
  const auto grown = transfers_in(kernel.on(collateral(40'333'334, at_seconds(5))));
  ASSERT_EQ(grown.size(), 1U);
  EXPECT_EQ(grown[0].amount, Sats{29'222'200});
}

TEST(KernelCollateral, a_completed_withdrawal_lowers_the_reported_payout_too) {
  Kernel kernel = hedged(30'000);
  const auto first = transfers_in(kernel.on(collateral(40'000'000, 20'000'000, at_seconds(1))));
  ASSERT_EQ(first.size(), 1U);
  (void)kernel.on(TransferCompleted{first[0].transfer_id, at_seconds(2)});
  EXPECT_EQ(kernel.venue(kVenue)->collateral, Sats{20'333'334});
  EXPECT_EQ(kernel.venue(kVenue)->withdrawable, Sats{333'334});
}

} // namespace
} // namespace synthusd::hedging
