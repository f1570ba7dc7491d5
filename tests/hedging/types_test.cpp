#include <gtest/gtest.h>

#include <type_traits>

#include "synthusd/hedging/types.hpp"

namespace synthusd::hedging {
namespace {

TEST(Rounding, divide_rounds_in_the_named_direction) {
  EXPECT_EQ(divide(7, 2, Rounding::down), 3);
  EXPECT_EQ(divide(-7, 2, Rounding::down), -4);
  EXPECT_EQ(divide(7, 2, Rounding::up), 4);
  EXPECT_EQ(divide(-7, 2, Rounding::up), -3);
  EXPECT_EQ(divide(-7, 2, Rounding::toward_zero), -3);
  EXPECT_EQ(divide(7, -2, Rounding::down), -4);
}

TEST(Rounding, half_even_breaks_ties_to_the_even_neighbour) {
  EXPECT_EQ(divide(5, 2, Rounding::half_even), 2);   // 2.5 -> 2
  EXPECT_EQ(divide(7, 2, Rounding::half_even), 4);   // 3.5 -> 4
  EXPECT_EQ(divide(-5, 2, Rounding::half_even), -2); // -2.5 -> -2
  EXPECT_EQ(divide(-7, 2, Rounding::half_even), -4);
  EXPECT_EQ(divide(96, 100, Rounding::half_even), 1); // 0.96 -> 1
  EXPECT_EQ(divide(5, 2, Rounding::half_away_from_zero), 3);
  EXPECT_EQ(divide(-5, 2, Rounding::half_away_from_zero), -3);
}

TEST(Conversions, sats_and_cents_round_trip_at_a_price) {
  const Price price = Price::from_dollars(40'000);
  EXPECT_EQ(sats_to_cents(Sats{kSatsPerBitcoin}, price, Rounding::down), UsdCents{4'000'000});
  EXPECT_EQ(cents_to_sats(UsdCents{4'000'000}, price, Rounding::down), Sats{kSatsPerBitcoin});
  // $1 at $40,000 is 2,500 sats exactly
  EXPECT_EQ(cents_to_sats(UsdCents{100}, price, Rounding::up), Sats{2'500});
  // 1 sat is 0.04 cents: rounding direction decides
  EXPECT_EQ(sats_to_cents(Sats{1}, price, Rounding::down), UsdCents{0});
  EXPECT_EQ(sats_to_cents(Sats{1}, price, Rounding::up), UsdCents{1});
}

TEST(Conversions, ratio_scaling_is_exact_where_it_can_be) {
  EXPECT_EQ(scale(UsdCents{20'000}, Ratio::from_ppm(980'000), Rounding::half_even), UsdCents{19'600});
  EXPECT_EQ(ratio_of(3, 4, Rounding::down), Ratio{75'000'000});
  EXPECT_EQ(scale(Price::from_dollars(100), Ratio::from_basis_points(500), Rounding::down), Price::from_dollars(5));
}

TEST(StrongTypes, units_do_not_convert_into_each_other) {
  static_assert(!std::is_convertible_v<UsdCents, Sats>);
  static_assert(!std::is_convertible_v<Sats, Contracts>);
  static_assert(!std::is_convertible_v<std::int64_t, UsdCents>);
  static_assert(!std::is_constructible_v<UsdCents, Sats>);
  static_assert(std::is_trivially_copyable_v<Price>);
  EXPECT_EQ((UsdCents{5} - UsdCents{7}).abs(), UsdCents{2});
}

} // namespace
} // namespace synthusd::hedging
