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

} // namespace
} // namespace synthusd::fix
