// gateway_decimal.hpp: the FIX rules (plain syntax, exact, symmetric range)
// on top of common/decimal.hpp, which has its own tests (tests/common/).
#include "synthusd/fix/gateway_decimal.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>

namespace synthusd::fix {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

TEST(GatewayDecimalTest, ParsesFixPricesAndQuantitiesExactly) {
  const std::pair<const char*, std::int64_t> cases[] = {{"43251.5", 4'325'150'000'000},
                                                        {"43251", 4'325'100'000'000},
                                                        {"-0.00012359", -12'359},
                                                        {"0.00000001", 1},
                                                        {"-0", 0},
                                                        {"1.000000000", kDecimalScale},
                                                        {"002000.00", 200'000'000'000},
                                                        {"92233720368.54775807", kMax}};
  for (const auto& [text, expected] : cases) {
    std::int64_t value = -1;
    EXPECT_TRUE(parse_decimal_e8(std::string(text), value)) << text;
    EXPECT_EQ(value, expected) << text;
  }
}

TEST(GatewayDecimalTest, RefusesAnythingElseAndLeavesTheOutputAlone) {
  for (const char* text : {"", "+5", "-", "1.", ".5", "1e5", "1.5E-3", "1.2.3", " 1", "1 ", "nan",
                           "0.000000001",            // a 9th significant decimal needs rounding
                           "92233720368.54775808",   // above INT64_MAX
                           "-92233720368.54775808"}) // INT64_MIN: its magnitude has no int64
  {
    std::int64_t value = 42;
    EXPECT_FALSE(parse_decimal_e8(std::string(text), value)) << '"' << text << '"';
    EXPECT_EQ(value, 42) << '"' << text << '"';
  }
}

TEST(GatewayDecimalTest, ReadsOnlyTheGivenSize) {
  std::int64_t value = 0;
  ASSERT_TRUE(parse_decimal_e8("43251.5", 5, value));
  EXPECT_EQ(value, 4'325'100'000'000);
}

TEST(GatewayDecimalTest, FormatsExactlyAndRoundTrips) {
  EXPECT_EQ(format_decimal_e8(4'325'150'000'000), "43251.5");
  EXPECT_EQ(format_decimal_e8(-10'000), "-0.0001");
  EXPECT_EQ(format_decimal_e8(0), "0");
  EXPECT_EQ(format_decimal_e8(kMin), "-92233720368.54775808");
  for (const std::int64_t value : {std::int64_t{1}, std::int64_t{-1}, std::int64_t{9'228'178'000'000}, kMax}) {
    std::int64_t back = 0;
    ASSERT_TRUE(parse_decimal_e8(format_decimal_e8(value), back)) << value;
    EXPECT_EQ(back, value);
  }
}

// Averages and venue floats (Deribit's AvgPx of a multi-level fill, its BF
// amounts) get the one named rule: half to even at the 8th decimal, never
// refused for their precision; the syntax and overflow rules stay strict.
TEST(GatewayDecimalTest, AveragesAreRoundedHalfToEvenAtTheEighthDecimal) {
  std::int64_t value = 0;
  ASSERT_TRUE(parse_decimal_e8_half_even("43000.123456785", value));
  EXPECT_EQ(value, 4'300'012'345'678); // ...78.5 -> 78 (even)
  ASSERT_TRUE(parse_decimal_e8_half_even("43000.123456795", value));
  EXPECT_EQ(value, 4'300'012'345'680); // ...79.5 -> 80 (even)
  ASSERT_TRUE(parse_decimal_e8_half_even("42998.666666666667", value));
  EXPECT_EQ(value, 4'299'866'666'667);
  ASSERT_TRUE(parse_decimal_e8_half_even("1.000000004", value));
  EXPECT_EQ(value, 100'000'000);
  EXPECT_FALSE(parse_decimal_e8("43000.123456785", value)) << "the exact reader still refuses it";
  EXPECT_FALSE(parse_decimal_e8_half_even("1.2e-05", value));
  EXPECT_FALSE(parse_decimal_e8_half_even("92233720369", value)) << "overflow";
}

} // namespace
} // namespace synthusd::fix
