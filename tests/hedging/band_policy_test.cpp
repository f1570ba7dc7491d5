#include <gtest/gtest.h>

#include "synthusd/hedging/band_policy.hpp"

namespace synthusd::hedging {
namespace {

constexpr std::int64_t kDollar = 100;
constexpr std::int64_t kOkxContract = 100 * kDollar;

BandInput input(std::int64_t liability_dollars_cents, std::int64_t exposure_cents,
                std::int64_t contract_cents = kOkxContract) {
  BandInput in;
  in.total_liability = UsdCents{liability_dollars_cents};
  in.slot_liability = static_cast<int128>(liability_dollars_cents) * Ratio::kScale;
  in.exposure = static_cast<int128>(exposure_cents) * Ratio::kScale;
  in.contract_value = static_cast<int128>(contract_cents) * Ratio::kScale;
  return in;
}

BandDecision stablesats(std::int64_t liability_cents, std::int64_t exposure_cents) {
  BandConfig config; // defaults are stablesats-rs's code defaults
  return decide_band(config, input(liability_cents, exposure_cents));
}

// The two cases stablesats-rs's own unit tests pin down.
TEST(StablesatsPolicy, sells_one_contract_for_200_liability_and_100_short) {
  const BandDecision decision = stablesats(200 * kDollar, -100 * kDollar);
  EXPECT_EQ(decision.zone, BandZone::under_hedged);
  EXPECT_EQ(decision.trade, Contracts{-1});
}

TEST(StablesatsPolicy, buys_fifty_contracts_for_1000_liability_and_5998_short) {
  const BandDecision decision = stablesats(1'000 * kDollar, -5'998 * kDollar);
  EXPECT_EQ(decision.zone, BandZone::over_hedged);
  EXPECT_EQ(decision.trade, Contracts{50});
}

TEST(StablesatsPolicy, closes_everything_below_minimum_liability) {
  EXPECT_EQ(stablesats(4'999, -100 * kDollar).zone, BandZone::below_minimum_liability);
  EXPECT_EQ(stablesats(4'999, -100 * kDollar).trade, Contracts{1});
  EXPECT_EQ(stablesats(4'999, -300 * kDollar).trade, Contracts{3});
  EXPECT_EQ(stablesats(0, 200 * kDollar).trade, Contracts{-2}); // a long is closed too
}

TEST(StablesatsPolicy, does_nothing_below_minimum_liability_without_exposure) {
  EXPECT_EQ(stablesats(4'999, 0).trade, Contracts{0});
}

TEST(StablesatsPolicy, exactly_minimum_liability_is_hedged_normally) {
  // $50 is not below $50: ratio 0 -> sell round(0.98 * 50 / 100) = round(0.49) = 0
  const BandDecision decision = stablesats(5'000, 0);
  EXPECT_EQ(decision.zone, BandZone::under_hedged);
  EXPECT_EQ(decision.trade, Contracts{0});
}

TEST(StablesatsPolicy, net_long_sells_to_low_safe_bound_plus_the_long) {
  // ratio < 0: sell round((0.98 * 1000 + 200) / 100) = round(11.8) = 12
  const BandDecision decision = stablesats(1'000 * kDollar, 200 * kDollar);
  EXPECT_EQ(decision.zone, BandZone::net_long);
  EXPECT_EQ(decision.trade, Contracts{-12});
}

TEST(StablesatsPolicy, ratio_exactly_at_low_bound_is_in_band) {
  EXPECT_EQ(stablesats(2'000 * kDollar, -1'900 * kDollar).zone, BandZone::in_band);
  EXPECT_EQ(stablesats(2'000 * kDollar, -1'900 * kDollar).trade, Contracts{0});
}

TEST(StablesatsPolicy, ratio_a_hair_below_low_bound_sells_to_low_safe_bound) {
  // L = $10,000.01, E = -$9,500: ratio 0.9499999 -> sell round(3.000098) = 3
  const BandDecision decision = stablesats(1'000'001, -9'500 * kDollar);
  EXPECT_EQ(decision.zone, BandZone::under_hedged);
  EXPECT_EQ(decision.trade, Contracts{-3});
}

TEST(StablesatsPolicy, ratio_exactly_at_high_bound_is_in_band) {
  EXPECT_EQ(stablesats(10'000 * kDollar, -10'300 * kDollar).zone, BandZone::in_band);
}

TEST(StablesatsPolicy, ratio_a_hair_above_high_bound_buys_back_to_one) {
  // L = $10,000, E = -$10,300.01: buy round(3.0001) = 3
  const BandDecision decision = stablesats(10'000 * kDollar, -1'030'001);
  EXPECT_EQ(decision.zone, BandZone::over_hedged);
  EXPECT_EQ(decision.trade, Contracts{3});
}

TEST(StablesatsPolicy, ratio_between_safe_bounds_is_in_band) {
  EXPECT_EQ(stablesats(10'000 * kDollar, -9'900 * kDollar).trade, Contracts{0});
  EXPECT_EQ(stablesats(10'000 * kDollar, -10'200 * kDollar).trade, Contracts{0});
}

TEST(StablesatsPolicy, rounds_half_to_even_like_rust_decimal) {
  // L = $250 -> 0.98 L = $245
  EXPECT_EQ(stablesats(250 * kDollar, -95 * kDollar).trade, Contracts{-2});     // 1.5 -> 2
  EXPECT_EQ(stablesats(250 * kDollar, -5 * kDollar).trade, Contracts{-2});      // 2.4 -> 2
  EXPECT_EQ(stablesats(1'000 * kDollar, -1'250 * kDollar).trade, Contracts{2}); // 2.5 -> 2
  EXPECT_EQ(stablesats(1'000 * kDollar, -1'350 * kDollar).trade, Contracts{4}); // 3.5 -> 4
}

TEST(StablesatsPolicy, a_trade_that_rounds_to_zero_does_nothing) {
  // ratio 0.78 is under-hedged, but round((245 - 195) / 100) = round(0.5) = 0
  const BandDecision decision = stablesats(250 * kDollar, -195 * kDollar);
  EXPECT_EQ(decision.zone, BandZone::under_hedged);
  EXPECT_EQ(decision.trade, Contracts{0});
}

TEST(StablesatsPolicy, bands_come_from_config) {
  BandConfig config;
  config.low_bound = Ratio::from_ppm(990'000);
  config.low_safe_bound = Ratio::from_ppm(995'000);
  // ratio 0.98 is inside the default band but below a 0.99 low bound
  const BandDecision decision = decide_band(config, input(10'000 * kDollar, -9'800 * kDollar));
  EXPECT_EQ(decision.zone, BandZone::under_hedged);
  EXPECT_EQ(decision.trade, Contracts{-2}); // round((9950 - 9800) / 100) = round(1.5) = 2
}

TEST(BandedPolicy, picks_the_whole_contract_that_lands_inside_the_band) {
  // L = $1,500: band [$1,425, $1,545]; target $1,470; E = -$1,321.
  // Exact trade 1.49: stablesats rounds to 1 and lands at $1,421 (0.947,
  // still outside); banded sells 2 and lands at $1,521 (1.014, inside).
  BandConfig config;
  EXPECT_EQ(decide_band(config, input(1'500 * kDollar, -1'321 * kDollar)).trade, Contracts{-1});
  config.policy = PolicyKind::banded;
  EXPECT_EQ(decide_band(config, input(1'500 * kDollar, -1'321 * kDollar)).trade, Contracts{-2});
}

TEST(BandedPolicy, skips_trades_below_minimum_order) {
  BandConfig config;
  config.policy = PolicyKind::banded;
  config.minimum_order = Contracts{5};
  EXPECT_EQ(decide_band(config, input(10'000 * kDollar, -9'000 * kDollar)).trade, Contracts{-8}); // 8 >= 5
  config.minimum_order = Contracts{9};
  EXPECT_EQ(decide_band(config, input(10'000 * kDollar, -9'000 * kDollar)).trade, Contracts{0});
  config.minimum_order = Contracts{8};
  EXPECT_EQ(decide_band(config, input(10'000 * kDollar, -9'000 * kDollar)).trade, Contracts{-8});
}

TEST(BandedPolicy, when_no_whole_contract_fits_the_band_leaves_the_smaller_gap) {
  // L = $120 with $100 contracts: 1 contract (0.83) or 2 (1.67); 1 is closer.
  BandConfig config;
  config.policy = PolicyKind::banded;
  EXPECT_EQ(decide_band(config, input(120 * kDollar, 0)).trade, Contracts{-1});
}

TEST(BandedPolicy, default_bands_rebalance_halfway_back_not_to_the_middle) {
  // L = $100,000 on $10 contracts: band [$99,900, $100,100], back to
  // [$99,950, $100,050], so the next payment the other way can net inside
  // the band instead of being traded back.
  const BandConfig config = default_bands(PolicyKind::banded);
  constexpr std::int64_t kDeribitContract = 10 * kDollar;
  const BandDecision under = decide_band(config, input(100'000 * kDollar, -99'500 * kDollar, kDeribitContract));
  EXPECT_EQ(under.zone, BandZone::under_hedged);
  EXPECT_EQ(under.trade, Contracts{-45}); // to $99,950, not 50 to $100,000
  const BandDecision over = decide_band(config, input(100'000 * kDollar, -100'600 * kDollar, kDeribitContract));
  EXPECT_EQ(over.zone, BandZone::over_hedged);
  EXPECT_EQ(over.trade, Contracts{55}); // to $100,050
  // left at $99,950, a $50 credit or a $100 debit stays in the band
  EXPECT_EQ(decide_band(config, input(100'050 * kDollar, -99'950 * kDollar, kDeribitContract)).zone, BandZone::in_band);
  EXPECT_EQ(decide_band(config, input(99'900 * kDollar, -99'950 * kDollar, kDeribitContract)).zone, BandZone::in_band);
}

// L = $100,000 on $10 contracts: hard band [$99,900, $100,100], soft band
// [$99,950, $100,050].
HybridDecision hybrid(std::int64_t exposure_dollars) {
  return decide_hybrid(default_bands(PolicyKind::hybrid),
                       input(100'000 * kDollar, -exposure_dollars * kDollar, 10 * kDollar));
}

TEST(HybridPolicy, outside_the_hard_band_takes_only_to_its_edge) {
  const HybridDecision under = hybrid(99'500);
  EXPECT_EQ(under.zone, BandZone::under_hedged);
  EXPECT_EQ(under.taker, Contracts{-40}); // to $99,900, the rest is not taken
  EXPECT_EQ(under.passive, Contracts{0});
  const HybridDecision over = hybrid(100'600);
  EXPECT_EQ(over.zone, BandZone::over_hedged);
  EXPECT_EQ(over.taker, Contracts{50}); // to $100,100
  EXPECT_EQ(over.passive, Contracts{0});
}

TEST(HybridPolicy, between_the_soft_and_the_hard_band_posts_back_to_one) {
  const HybridDecision under = hybrid(99'920);
  EXPECT_EQ(under.zone, BandZone::in_band);
  EXPECT_EQ(under.taker, Contracts{0});
  EXPECT_EQ(under.passive, Contracts{-8});
  EXPECT_EQ(hybrid(100'080).passive, Contracts{8});
  EXPECT_EQ(hybrid(99'900).passive, Contracts{-10}); // the hard band's edge is inside it
}

TEST(HybridPolicy, inside_the_soft_band_does_nothing) {
  for (const std::int64_t exposure : {99'950, 100'000, 100'050}) {
    const HybridDecision decision = hybrid(exposure);
    EXPECT_EQ(decision.taker, Contracts{0}) << exposure;
    EXPECT_EQ(decision.passive, Contracts{0}) << exposure;
  }
}

TEST(HybridPolicy, a_net_long_or_a_tiny_book_is_taken_like_banded) {
  EXPECT_EQ(hybrid(-100).zone, BandZone::net_long);
  EXPECT_EQ(hybrid(-100).taker, Contracts{-10'000}); // from +$100 long to $99,900 short
  BandConfig config = default_bands(PolicyKind::hybrid);
  EXPECT_EQ(decide_hybrid(config, input(4'999, -100 * kDollar, 10 * kDollar)).taker, Contracts{10});
}

TEST(PolicyNames, are_selectable_by_name) {
  PolicyKind kind = PolicyKind::banded;
  EXPECT_TRUE(policy_from_name("stablesats", kind));
  EXPECT_EQ(kind, PolicyKind::stablesats);
  EXPECT_TRUE(policy_from_name("banded", kind));
  EXPECT_EQ(kind, PolicyKind::banded);
  EXPECT_FALSE(policy_from_name("Stablesats", kind));
  EXPECT_EQ(policy_name(PolicyKind::stablesats), "stablesats");
}

TEST(HedgeRatio, is_short_exposure_over_liability) {
  EXPECT_EQ(hedge_ratio(-98 * Ratio::kScale, 100 * Ratio::kScale), Ratio::from_ppm(980'000));
  EXPECT_EQ(hedge_ratio(10 * Ratio::kScale, 100 * Ratio::kScale), Ratio::from_ppm(-100'000));
}

} // namespace
} // namespace synthusd::hedging
