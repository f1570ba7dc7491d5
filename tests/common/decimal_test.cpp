#include "synthusd/common/decimal.hpp"

#include "support/allocation_counter.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace synthusd::common {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

// Expects text to parse at 8 decimals to exactly `expected`.
void expect_e8(std::string_view text, std::int64_t expected, DecimalSyntax syntax = DecimalSyntax::json,
               DecimalRounding rounding = DecimalRounding::half_even) {
  const DecimalResult<std::int64_t> result = parse_decimal(text, 8, syntax, rounding);
  EXPECT_EQ(to_string(result.error), "ok") << text;
  EXPECT_EQ(result.value, expected) << text;
}

void expect_error(std::string_view text, DecimalError error, int decimals = 8,
                  DecimalSyntax syntax = DecimalSyntax::json, DecimalRounding rounding = DecimalRounding::half_even) {
  const DecimalResult<std::int64_t> result = parse_decimal(text, decimals, syntax, rounding);
  EXPECT_EQ(to_string(result.error), to_string(error)) << '"' << text << '"';
  EXPECT_EQ(result.value, 0) << '"' << text << '"';
}

// FIX Price and Qty fields: plain syntax, exact.
void expect_plain_exact_e8(std::string_view text, std::int64_t expected) {
  expect_e8(text, expected, DecimalSyntax::plain, DecimalRounding::exact);
}

void expect_plain_exact_error(std::string_view text, DecimalError error) {
  expect_error(text, error, 8, DecimalSyntax::plain, DecimalRounding::exact);
}

// ---- json syntax, half-even rounding (venue market data) ---------------------

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

// Text with no more fraction digits than the scale takes a one-pass path up
// to 18 digits and the general one beyond: at every length (1-20 digits),
// scale and point position, both must give mantissa * 10^(scale - fraction
// digits), or overflow past int64, computed here in 128 bits.
TEST(DecimalTest, UnroundedTextAtEveryLengthAndScaleIsTheMantissaScaled) {
  constexpr std::string_view kDigits = "98765432109876543210";
  for (int decimals = 0; decimals <= kMaxDecimals; ++decimals) {
    for (std::size_t length = 1; length <= kDigits.size(); ++length) {
      for (std::size_t fraction = 0; fraction < length && fraction <= static_cast<std::size_t>(decimals); ++fraction) {
        const std::string_view digits = kDigits.substr(0, length);
        std::string text(digits.substr(0, length - fraction));
        if (fraction > 0) {
          text += '.';
          text += digits.substr(length - fraction);
        }
        __int128 expected = 0;
        for (const char c : digits) {
          expected = expected * 10 + (c - '0');
        }
        for (std::size_t i = fraction; i < static_cast<std::size_t>(decimals); ++i) {
          expected *= 10;
        }
        for (const bool negative : {false, true}) {
          const std::string signed_text = negative ? "-" + text : text;
          const __int128 value = negative ? -expected : expected;
          const DecimalResult<std::int64_t> result = parse_decimal(signed_text, decimals);
          if (value > kMax || value < kMin) {
            EXPECT_EQ(to_string(result.error), "overflow") << signed_text << " at " << decimals;
          } else {
            EXPECT_EQ(to_string(result.error), "ok") << signed_text << " at " << decimals;
            EXPECT_EQ(result.value, static_cast<std::int64_t>(value)) << signed_text << " at " << decimals;
          }
        }
      }
    }
  }
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
  // The C++14 entry point reads exactly `size` characters too.
  EXPECT_EQ(parse_decimal("43251.5", 5, 8).value, 4'325'100'000'000);
}

TEST(DecimalTest, NeitherAllocatesNorThrows) {
  static_assert(noexcept(parse_decimal(std::string_view{}, 8)));
  static_assert(noexcept(parse_decimal(nullptr, 0, 8, DecimalSyntax::plain, DecimalRounding::exact)));
  const std::int64_t before = test_support::allocation_count();
  std::int64_t sum = 0;
  for (std::string_view text : {"43251.5", "1.742e-05", "-0.03393", "1e400", "--1", ""}) {
    sum += parse_decimal(text, 8).value;
    sum += parse_decimal(text, 8, DecimalSyntax::plain, DecimalRounding::exact).value;
  }
  char text[kMaxDecimalTextSize];
  sum += static_cast<std::int64_t>(format_decimal(kMin, 18, text, sizeof text));
  EXPECT_EQ(test_support::allocation_count() - before, 0);
  EXPECT_NE(sum, 0);
}

// ---- exact rounding ----------------------------------------------------------

TEST(DecimalTest, ExactRefusesDigitsBeyondTheScale) {
  expect_e8("10.0", 1'000'000'000, DecimalSyntax::json, DecimalRounding::exact);
  expect_e8("1.00000001000", 100'000'001, DecimalSyntax::json, DecimalRounding::exact); // trailing zeros are exact
  expect_e8("1.742e-05", 1'742, DecimalSyntax::json, DecimalRounding::exact);
  expect_e8("0e-9999", 0, DecimalSyntax::json, DecimalRounding::exact);
  expect_error("0.000000001", DecimalError::inexact, 8, DecimalSyntax::json, DecimalRounding::exact);
  expect_error("0.0000000050", DecimalError::inexact, 8, DecimalSyntax::json, DecimalRounding::exact);
  expect_error("1e-400", DecimalError::inexact, 8, DecimalSyntax::json, DecimalRounding::exact);
  expect_error("10.5", DecimalError::inexact, 0, DecimalSyntax::json, DecimalRounding::exact);
  expect_error("-10.5", DecimalError::inexact, 0, DecimalSyntax::json, DecimalRounding::exact);
  // A value that rounding would push past the limit is merely inexact here.
  expect_error("92233720368.547758075", DecimalError::inexact, 8, DecimalSyntax::json, DecimalRounding::exact);
  expect_e8("-92233720368.54775808", kMin, DecimalSyntax::json, DecimalRounding::exact);
}

// ---- plain syntax (FIX fields) -----------------------------------------------

TEST(DecimalTest, PlainParsesFixFields) {
  expect_plain_exact_e8("43251.5", 4'325'150'000'000);
  expect_plain_exact_e8("43251", 4'325'100'000'000);
  expect_plain_exact_e8("-0.00012359", -12'359);
  expect_plain_exact_e8("0.00000001", 1);
  expect_plain_exact_e8("-0", 0);
  expect_plain_exact_e8("002000.00", 200'000'000'000);
  expect_plain_exact_e8("1.000000000000", 100'000'000); // zeros beyond the 8th decimal are exact
  expect_plain_exact_e8("92233720368.54775807", kMax);
  expect_plain_exact_e8("-92233720368.54775808", kMin);
}

TEST(DecimalTest, PlainRejectsSignsExponentsAndLooseText) {
  expect_plain_exact_error("", DecimalError::empty);
  for (const char* text :
       {"+5", "+", "-", "1e5", "1E5", "1.5e-3", "1.", ".5", "-.5", "1.2.3", " 1", "1 ", "1,5", "nan", "0x10", "--1"}) {
    expect_plain_exact_error(text, DecimalError::invalid_character);
  }
  expect_plain_exact_error("0.000000001", DecimalError::inexact);
  expect_plain_exact_error("1.123456789", DecimalError::inexact);
  expect_plain_exact_error("92233720368.54775808", DecimalError::overflow);
  expect_plain_exact_error("99999999999999999999", DecimalError::overflow);
  // Plain text can be rounded too, for callers that want it.
  expect_e8("0.000000015", 2, DecimalSyntax::plain, DecimalRounding::half_even);
}

// Without an exponent the work is linear in the text, so plain text has no
// digit limit: FIX fields are read whatever their padding.
TEST(DecimalTest, PlainHasNoDigitLimit) {
  expect_plain_exact_e8(std::string(100, '0') + "1", 100'000'000);
  expect_plain_exact_e8("1." + std::string(100, '0'), 100'000'000);
  expect_e8("0." + std::string(100, '0') + "5", 0, DecimalSyntax::plain, DecimalRounding::half_even);
  expect_plain_exact_error("0." + std::string(100, '0') + "1", DecimalError::inexact);
}

TEST(DecimalTest, NamesEveryError) {
  EXPECT_EQ(to_string(DecimalError::ok), "ok");
  EXPECT_EQ(to_string(DecimalError::empty), "empty");
  EXPECT_EQ(to_string(DecimalError::invalid_character), "invalid_character");
  EXPECT_EQ(to_string(DecimalError::overflow), "overflow");
  EXPECT_EQ(to_string(DecimalError::too_many_digits), "too_many_digits");
  EXPECT_EQ(to_string(DecimalError::inexact), "inexact");
  EXPECT_EQ(std::string_view(decimal_error_name(DecimalError::inexact)), "inexact");
}

// ---- format_decimal ----------------------------------------------------------

TEST(DecimalTest, FormatsWithoutExponentOrTrailingZeros) {
  EXPECT_EQ(format_decimal(4'325'150'000'000, 8), "43251.5");
  EXPECT_EQ(format_decimal(4'325'100'000'000, 8), "43251");
  EXPECT_EQ(format_decimal(-12'359, 8), "-0.00012359");
  EXPECT_EQ(format_decimal(1, 8), "0.00000001");
  EXPECT_EQ(format_decimal(-10'000, 8), "-0.0001");
  EXPECT_EQ(format_decimal(0, 8), "0");
  EXPECT_EQ(format_decimal(100, 2), "1");
  EXPECT_EQ(format_decimal(150, 2), "1.5");
  EXPECT_EQ(format_decimal(-7, 0), "-7");
  EXPECT_EQ(format_decimal(kMax, 8), "92233720368.54775807");
  EXPECT_EQ(format_decimal(kMin, 8), "-92233720368.54775808");
  EXPECT_EQ(format_decimal(kMin, 0), "-9223372036854775808");
  EXPECT_EQ(format_decimal(kMin, 18), "-9.223372036854775808");
  EXPECT_EQ(format_decimal(1, 18), "0.000000000000000001");
  EXPECT_EQ(format_decimal(1, 19), "");
  EXPECT_EQ(format_decimal(1, -1), "");
}

TEST(DecimalTest, FormatWritesIntoACallerBufferOnlyWhenItFits) {
  char text[kMaxDecimalTextSize];
  const std::size_t length = format_decimal(kMin, 18, text, sizeof text);
  ASSERT_EQ(length, kMaxDecimalTextSize); // the longest text there is
  EXPECT_EQ(std::string_view(text, length), "-9.223372036854775808");

  char small[7] = {'x', 'x', 'x', 'x', 'x', 'x', 'x'};
  EXPECT_EQ(format_decimal(4'325'150'000'000, 8, small, 6), 0U); // "43251.5" needs 7
  EXPECT_EQ(small[0], 'x') << "nothing is written when the text does not fit";
  EXPECT_EQ(format_decimal(4'325'150'000'000, 8, small, 7), 7U);
  EXPECT_EQ(std::string_view(small, 7), "43251.5");
}

// Formatting then parsing gives the value back, in both syntaxes, exactly.
TEST(DecimalTest, FormatThenParseRoundTrips) {
  for (const int decimals : {0, 2, 8, 18}) {
    for (const std::int64_t value :
         {std::int64_t{0}, std::int64_t{1}, std::int64_t{-1}, std::int64_t{4'325'150'000'000}, kMax, kMin}) {
      const std::string text = format_decimal(value, decimals);
      for (const DecimalSyntax syntax : {DecimalSyntax::json, DecimalSyntax::plain}) {
        const DecimalResult<std::int64_t> parsed = parse_decimal(text, decimals, syntax, DecimalRounding::exact);
        EXPECT_TRUE(parsed.ok()) << text << " at " << decimals;
        EXPECT_EQ(parsed.value, value) << text << " at " << decimals;
      }
    }
  }
}

} // namespace
} // namespace synthusd::common
