// The volatility-scaled band: the realised volatility the kernel measures
// from its own market updates, the band it scales, and the kernel trading
// less in a calm market than in a volatile one for the same payment.

#include <gtest/gtest.h>

#include <limits>

#include "kernel_fixture.hpp"
#include "synthusd/hedging/volatility.hpp"

namespace synthusd::hedging {
namespace {

using namespace synthusd::hedging::testing;

constexpr std::uint64_t kOnePercentSquared = 1'000'000ULL * 1'000'000ULL; // (0.01 in Ratio raw)^2

TEST(Volatility, integer_sqrt_is_the_exact_floor) {
  EXPECT_EQ(integer_sqrt(0), 0u);
  EXPECT_EQ(integer_sqrt(1), 1u);
  EXPECT_EQ(integer_sqrt(3), 1u);
  EXPECT_EQ(integer_sqrt(4), 2u);
  EXPECT_EQ(integer_sqrt(kOnePercentSquared), 1'000'000u);
  EXPECT_EQ(integer_sqrt(kOnePercentSquared - 1), 999'999u);
  EXPECT_EQ(integer_sqrt(std::numeric_limits<std::uint64_t>::max()), 4'294'967'295u);
}

TEST(Volatility, the_first_mark_starts_at_the_initial_variance_and_stale_or_invalid_marks_change_nothing) {
  VolatilitySample sample;
  observe_mark(sample, Price::from_dollars(50'000), kStart, kOnePercentSquared);
  EXPECT_EQ(sample.hourly_variance, kOnePercentSquared);
  observe_mark(sample, Price::from_dollars(60'000), kStart, 0); // same time: no return to measure
  EXPECT_EQ(sample.mark, Price::from_dollars(50'000));
  EXPECT_EQ(sample.hourly_variance, kOnePercentSquared);
  observe_mark(sample, Price{}, at_seconds(60), 0);
  EXPECT_EQ(sample.mark, Price::from_dollars(50'000));
  EXPECT_EQ(sample.time, kStart);
}

// Returns alternating up and down by `move_ppm` every `every_seconds`, for
// six hours (the start has faded out); the estimate after that.
std::uint64_t variance_after_steady_moves(std::int64_t move_ppm, std::int64_t every_seconds) {
  VolatilitySample sample;
  observe_mark(sample, Price::from_dollars(50'000), kStart, 0);
  for (std::int64_t t = every_seconds, n = 0; t <= 21'600; t += every_seconds, ++n) {
    const Price last = sample.mark;
    const std::int64_t step =
        static_cast<std::int64_t>(divide(static_cast<int128>(last.raw) * move_ppm, 1'000'000, Rounding::toward_zero));
    observe_mark(sample, Price{n % 2 == 0 ? last.raw + step : last.raw - step}, at_seconds(t), 0);
  }
  return sample.hourly_variance;
}

TEST(Volatility, the_same_hourly_variance_comes_out_of_ticks_and_of_candles) {
  // 1 % each quarter hour and 0.5 % each 225 s are both 2 % over an hour
  // (variance 4 x 1 %^2): the estimate is per hour, not per sample.
  const std::uint64_t quarter_hours = variance_after_steady_moves(10'000, 900);
  const std::uint64_t ticks = variance_after_steady_moves(5'000, 225);
  EXPECT_NEAR(static_cast<double>(quarter_hours), 4.0 * kOnePercentSquared, 0.05 * kOnePercentSquared);
  EXPECT_NEAR(static_cast<double>(ticks), 4.0 * kOnePercentSquared, 0.05 * kOnePercentSquared);
  // a calmer market reads calmer
  EXPECT_LT(variance_after_steady_moves(1'000, 900), kOnePercentSquared / 10);
}

TEST(Volatility, after_a_gap_of_an_hour_or_more_only_the_new_return_counts) {
  VolatilitySample sample;
  observe_mark(sample, Price::from_dollars(50'000), kStart, 1'000 * kOnePercentSquared);
  observe_mark(sample, Price::from_dollars(51'000), at_seconds(7'200), 0); // +2 % over two hours
  EXPECT_EQ(sample.hourly_variance, 2 * kOnePercentSquared);               // (2 %)^2 / 2 hours
}

TEST(Volatility, a_huge_move_saturates_instead_of_wrapping) {
  VolatilitySample sample;
  observe_mark(sample, Price::from_dollars(1), kStart, std::numeric_limits<std::uint64_t>::max());
  observe_mark(sample, Price::from_dollars(90'000'000), at_seconds(1), 0);
  EXPECT_EQ(sample.hourly_variance, std::numeric_limits<std::uint64_t>::max());
}

BandConfig scaled_banded(std::int64_t maximum_scale) {
  BandConfig bands = default_bands(PolicyKind::banded); // +-10 bps, back to +-5
  bands.volatility_reference = Ratio::from_ppm(40'000); // 4 % an hour
  bands.maximum_band_scale = maximum_scale;
  return bands;
}

TEST(Volatility, the_band_widens_by_reference_over_realised_up_to_the_maximum_scale) {
  const BandConfig bands = scaled_banded(10);
  // at or above the reference: the configured band
  const BandConfig volatile_market = volatility_scaled_bands(bands, 16 * kOnePercentSquared);
  EXPECT_EQ(volatile_market.low_bound, bands.low_bound);
  EXPECT_EQ(volatility_scaled_bands(bands, 100 * kOnePercentSquared).high_bound, bands.high_bound);
  // half the reference (2 %): twice as wide
  const BandConfig half = volatility_scaled_bands(bands, 4 * kOnePercentSquared);
  EXPECT_EQ(half.low_bound, Ratio::from_ppm(998'000));
  EXPECT_EQ(half.low_safe_bound, Ratio::from_ppm(999'000));
  EXPECT_EQ(half.high_safe_bound, Ratio::from_ppm(1'001'000));
  EXPECT_EQ(half.high_bound, Ratio::from_ppm(1'002'000));
  // a still market: the maximum scale, never more
  EXPECT_EQ(volatility_scaled_bands(bands, 0).low_bound, Ratio::from_ppm(990'000));
  EXPECT_EQ(volatility_scaled_bands(bands, kOnePercentSquared / 10'000).high_bound, Ratio::from_ppm(1'010'000));
  // 3 %: 4/3 as wide, rounded toward 1.00 (the narrower band)
  EXPECT_EQ(volatility_scaled_bands(bands, 9 * kOnePercentSquared).high_bound, Ratio{100'133'333});
  EXPECT_EQ(volatility_scaled_bands(bands, 9 * kOnePercentSquared).low_bound, Ratio{99'866'667});
}

TEST(Volatility, no_reference_or_a_scale_of_one_keeps_the_band_fixed) {
  BandConfig bands = scaled_banded(10);
  bands.volatility_reference = Ratio{0};
  EXPECT_EQ(volatility_scaled_bands(bands, 0).low_bound, bands.low_bound);
  bands = scaled_banded(1);
  EXPECT_EQ(volatility_scaled_bands(bands, 0).high_bound, bands.high_bound);
}

TEST(Volatility, a_scale_that_would_widen_the_low_bound_to_zero_is_refused) {
  KernelConfig config = single_venue_config();
  config.bands = scaled_banded(100);
  config.bands.low_bound = Ratio::from_ppm(990'000); // 1 % x 100
  config.bands.low_safe_bound = Ratio::from_ppm(995'000);
  EXPECT_THROW(Kernel{config}, std::invalid_argument);
  config.bands = scaled_banded(101);
  EXPECT_THROW(Kernel{config}, std::invalid_argument);
}

// $100,000 on Deribit's $10 contract (1 bp each), hedged to 0.9995, then a
// credit of 20 bps of the book after four hours of the given market (the
// estimate starts at the reference and fades to the market's own within a
// few hours).
std::vector<OrderIntent> orders_for_a_twenty_bps_credit_after(std::int64_t swing_dollars) {
  KernelConfig config = single_venue_config();
  config.instruments[0].contract_value = UsdCents{1'000};
  config.bands = scaled_banded(5);
  Kernel kernel(config);
  bring_up(kernel);
  const std::vector<OrderIntent> first = orders_in(kernel.on(liability(10'000'000)));
  EXPECT_EQ(first.size(), 1u);
  (void)fill(kernel, first.at(0), 50'000, kStart);
  // marks every minute, alternating by swing_dollars
  for (std::int64_t minute = 1; minute <= 240; ++minute) {
    const std::int64_t dollars = minute % 2 == 0 ? 50'000 : 50'000 + swing_dollars;
    EXPECT_TRUE(orders_in(kernel.on(market(1, 1, dollars, at_seconds(minute * 60)))).empty());
  }
  return orders_in(kernel.on(liability(20'000, at_seconds(14'401))));
}

TEST(Volatility, the_kernel_lets_a_payment_ride_in_a_calm_market_and_hedges_it_in_a_volatile_one) {
  // $5 a minute is about 0.08 % an hour: the band is 5 x 10 bps, so the
  // hedge at 0.9975 after the credit is inside it
  EXPECT_TRUE(orders_for_a_twenty_bps_credit_after(5).empty());
  // $500 a minute (1 % each way, about 7.7 % an hour, above the 4 %
  // reference): the configured +-10 bps band, back to -5 bps (0.9995 of
  // $100,200 is 20 more contracts)
  const std::vector<OrderIntent> volatile_market = orders_for_a_twenty_bps_credit_after(500);
  ASSERT_EQ(volatile_market.size(), 1u);
  EXPECT_EQ(signed_quantity(volatile_market[0]), -20);
}

} // namespace
} // namespace synthusd::hedging
