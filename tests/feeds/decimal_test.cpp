// feeds' wrappers over common::parse_decimal (parse_price, parse_ratio): the
// parser itself is tested in tests/common/decimal_test.cpp.
#include "synthusd/feeds/decimal.hpp"

#include "support/allocation_counter.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iostream>
#include <regex>
#include <string>
#include <string_view>

namespace synthusd::feeds {
namespace {

using common::DecimalError;
using common::DecimalResult;

TEST(FeedsDecimalTest, WrapsPriceAndRatio) {
  const DecimalResult<hedging::Price> price = parse_price("43251.5");
  ASSERT_TRUE(price.ok());
  EXPECT_EQ(price.value, hedging::Price::from_cents(4'325'150));

  const DecimalResult<hedging::Ratio> funding = parse_ratio("0.0001");
  ASSERT_TRUE(funding.ok());
  EXPECT_EQ(funding.value, hedging::Ratio::from_basis_points(1));

  const DecimalResult<hedging::Price> bad = parse_price("1e");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error, DecimalError::invalid_character);
  EXPECT_EQ(bad.value, hedging::Price{});
}

TEST(FeedsDecimalTest, WrappersNeitherAllocateNorThrow) {
  static_assert(noexcept(parse_price(std::string_view{})));
  static_assert(noexcept(parse_ratio(std::string_view{})));
  const std::int64_t before = test_support::allocation_count();
  std::int64_t sum = 0;
  for (std::string_view text : {"43251.5", "1.742e-05", "-0.03393", "1e400", "--1", ""}) {
    sum += parse_price(text).value.raw + parse_ratio(text).value.raw;
  }
  EXPECT_EQ(test_support::allocation_count() - before, 0);
  EXPECT_NE(sum, 0);
}

// Every price in the OKX capture (tickers, trades and each book level),
// checked against a simple reference that
// splits on the point (the capture never uses more than 8 decimals).
TEST(FeedsDecimalTest, ParsesEveryPriceInTheOkxCapture) {
  // The whole capture when ../shared is beside the clone; else the repo's
  // excerpt of it (tests/data/feeds/okx.jsonl), so the parser is still tested.
  std::ifstream file(SYNTHUSD_SOURCE_DIR "/../shared/data/ws_okx_v5_public_capture_2022-05-13.jsonl");
  const bool whole_capture = file.is_open();
  if (!whole_capture) {
    std::cout << "[ NOTE     ] ../shared/data is not beside this clone: using the excerpt "
                 "tests/data/feeds/okx.jsonl\n";
    file.open(SYNTHUSD_SOURCE_DIR "/tests/data/feeds/okx.jsonl");
  }
  ASSERT_TRUE(file.is_open());
  const std::regex price_pattern(R"re("(?:px|last|askPx|bidPx)":"([0-9.]+)"|\["([0-9.]+)",)re");
  int parsed = 0;
  std::string line;
  while (std::getline(file, line)) {
    for (auto it = std::sregex_iterator(line.begin(), line.end(), price_pattern); it != std::sregex_iterator(); ++it) {
      const std::string text = (*it)[1].matched ? (*it)[1].str() : (*it)[2].str();
      const std::size_t point = text.find('.');
      std::string fraction = point == std::string::npos ? "" : text.substr(point + 1);
      ASSERT_LE(fraction.size(), 8U) << text;
      fraction.append(8 - fraction.size(), '0');
      const std::int64_t expected = std::stoll(text.substr(0, point)) * 100'000'000 + std::stoll(fraction);
      const DecimalResult<hedging::Price> result = parse_price(text);
      ASSERT_TRUE(result.ok()) << text;
      EXPECT_EQ(result.value.raw, expected) << text;
      ++parsed;
    }
  }
  EXPECT_GT(parsed, whole_capture ? 100 : 0);
}

} // namespace
} // namespace synthusd::feeds
