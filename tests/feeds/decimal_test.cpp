#include "synthusd/feeds/decimal.hpp"

#include "support/allocation_counter.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <limits>
#include <regex>
#include <string>

namespace synthusd::feeds {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

// Expects text to parse at 8 decimals to exactly `expected`.
void expect_e8(std::string_view text, std::int64_t expected) {
  const DecimalResult<std::int64_t> result = parse_decimal(text, 8);
  EXPECT_EQ(to_string(result.error), "ok") << text;
  EXPECT_EQ(result.value, expected) << text;
}

void expect_error(std::string_view text, DecimalError error, int decimals = 8) {
  const DecimalResult<std::int64_t> result = parse_decimal(text, decimals);
  EXPECT_EQ(to_string(result.error), to_string(error)) << '"' << text << '"';
  EXPECT_EQ(result.value, 0) << '"' << text << '"';
}

TEST(DecimalTest, ParsesVenueFormats) {
  expect_e8("43251.5", 4'325'150'000'000);
  expect_e8("43251", 4'325'100'000'000);
  expect_e8("0.00012", 12'000);
  expect_e8("-0.0001", -10'000);
  expect_e8("1e-05", 1'000);
}

// Literal strings copied from ../shared/data/ws_okx_v5_public_capture_2022-05-13.jsonl.
TEST(DecimalTest, ParsesOkxCaptureStrings) {
  expect_e8("30218.8", 3'021'880'000'000);      // BTC-USD-220527 tickers "last"
  expect_e8("30316", 3'031'600'000'000);        // books ask level without a point
  expect_e8("5.123", 512'300'000);              // UNI-USD-SWAP "px"
  expect_e8("577730.7823", 57'773'078'230'000); // UNI-USD-SWAP "volCcy24h"
  expect_e8("0.00000854", 854);                 // BTC-USDT "askSz": one sat above the scale floor
  expect_e8("1.55896972", 155'896'972);         // BTC-USDT "askSz", all 8 decimals
}

// Literal strings copied from the ws_deribit_v2_* captures.
TEST(DecimalTest, ParsesDeribitCaptureStrings) {
  expect_e8("1.742e-05", 1'742);            // BTC-PERPETUAL "funding_8h", exponent form
  expect_e8("92281.78", 9'228'178'000'000); // "mark_price"
  expect_e8("-0.03393", -3'393'000);        // option "rho"
  expect_e8("0.00001", 1'000);              // option "gamma"
  // "interest_value": 19 decimals; the ninth is 0, so it rounds down.
  expect_e8("0.0028213400122472977", 282'134);
}

TEST(DecimalTest, RoundsDigitsBeyondTheScaleHalfToEven) {
  expect_e8("0.000000005", 0);     // tie, 0 is even
  expect_e8("0.000000015", 2);     // tie, 1 is odd
  expect_e8("0.000000025", 2);     // tie, 2 is even
  expect_e8("0.0000000250001", 3); // above the tie
  expect_e8("0.000000024999", 2);  // below the tie
  expect_e8("0.000000016", 2);
  expect_e8("-0.000000015", -2); // symmetric for negatives
  expect_e8("-0.000000025", -2);
  expect_e8("5e-9", 0); // the tie expressed with an exponent
  expect_e8("1.5e-8", 2);
  expect_e8("0.00000000500000000000001", 1); // a non-zero digit far out breaks the tie
  expect_e8("1e-400", 0);                    // every digit below the rounding digit
}

TEST(DecimalTest, AppliesExponents) {
  expect_e8("1E2", 10'000'000'000);
  expect_e8("1.5e+3", 150'000'000'000);
  expect_e8("12345e-4", 123'450'000);
  expect_e8("1e0000005", 10'000'000'000'000); // leading zeros in the exponent are harmless
  expect_e8("0e9999", 0);
  expect_e8("0.000e-9999", 0);
}

TEST(DecimalTest, AcceptsSignsAndLeadingZeros) {
  expect_e8("+5", 500'000'000);
  expect_e8("-0", 0);
  expect_e8("007.50", 750'000'000);
}

TEST(DecimalTest, ReachesBothInt64LimitsExactly) {
  EXPECT_EQ(parse_decimal("9223372036854775807", 0).value, kMax);
  EXPECT_EQ(parse_decimal("-9223372036854775808", 0).value, kMin);
  expect_e8("92233720368.54775807", kMax);
  expect_e8("-92233720368.54775808", kMin);
  expect_e8("92233720368.547758065", 9'223'372'036'854'775'806); // tie stays on the even value
}

TEST(DecimalTest, ReportsOverflow) {
  expect_error("9223372036854775808", DecimalError::overflow, 0);
  expect_error("-9223372036854775809", DecimalError::overflow, 0);
  expect_error("92233720368.54775808", DecimalError::overflow);
  expect_error("92233720368.547758075", DecimalError::overflow); // rounding carries past the limit
  expect_error("100000000000", DecimalError::overflow);          // 1e11 USD at 1e8
  expect_error("1e400", DecimalError::overflow);
  expect_error("1e12", DecimalError::overflow);
  expect_error("1", DecimalError::overflow, 19);
  expect_error("1", DecimalError::overflow, -1);
  EXPECT_EQ(parse_decimal("9.223372036854775807", 18).value, kMax);
}

TEST(DecimalTest, RejectsMalformedText) {
  expect_error("", DecimalError::empty);
  for (const char* text : {"+",     "-",   "--1", "+-1", "1.",   ".5",  "1e",  "1e+", "1e-",   "e5",   "1.2.3",
                           "1e5.5", "1,5", " 1",  "1 ",  "0x10", "nan", "inf", "abc", "1e5e5", "1_000"}) {
    expect_error(text, DecimalError::invalid_character);
  }
}

TEST(DecimalTest, BoundsTheDigitsItReads) {
  expect_error("1e10000", DecimalError::too_many_digits);
  expect_error("1e-99999", DecimalError::too_many_digits);
  expect_error("0." + std::string(64, '0'), DecimalError::too_many_digits); // 65 digits
  expect_e8("0." + std::string(63, '0'), 0);                                // 64 digits
  // Malformed text is reported as malformed, however long it is.
  expect_error("1e99999x", DecimalError::invalid_character);
}

TEST(DecimalTest, ReadsOnlyTheViewNotUpToANul) {
  const std::string_view prefix("43251.5", 5);
  expect_e8(prefix, 4'325'100'000'000);
}

TEST(DecimalTest, WrapsPriceAndRatio) {
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

TEST(DecimalTest, NeitherAllocatesNorThrows) {
  static_assert(noexcept(parse_decimal(std::string_view{}, 8)));
  static_assert(noexcept(parse_price(std::string_view{})));
  static_assert(noexcept(parse_ratio(std::string_view{})));
  const std::int64_t before = test_support::allocation_count();
  std::int64_t sum = 0;
  for (std::string_view text : {"43251.5", "1.742e-05", "-0.03393", "1e400", "--1", ""}) {
    sum += parse_decimal(text, 8).value;
  }
  EXPECT_EQ(test_support::allocation_count() - before, 0);
  EXPECT_NE(sum, 0);
}

// Every price in the OKX capture (tickers, trades and each book level),
// checked against a simple reference that
// splits on the point (the capture never uses more than 8 decimals).
TEST(DecimalTest, ParsesEveryPriceInTheOkxCapture) {
  std::ifstream file(SYNTHUSD_SOURCE_DIR "/../shared/data/ws_okx_v5_public_capture_2022-05-13.jsonl");
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
  EXPECT_GT(parsed, 100);
}

} // namespace
} // namespace synthusd::feeds
