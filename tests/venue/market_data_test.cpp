// Price paths and funding rates for the venue simulator: CSV loading (the
// repository's data files and plain ones), funding schedules, and the exact
// decimal and time text helpers they rely on.

#include "synthusd/venue/market_data.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <limits>

#include "synthusd/venue/decimal.hpp"

namespace {

using namespace synthusd::venue;
using synthusd::hedging::Duration;
using synthusd::hedging::Price;
using synthusd::hedging::Ratio;
using synthusd::hedging::Timestamp;

constexpr std::int64_t kSecond = 1'000'000'000;

// What parse_funding_csv says about a file: its refusal, or "accepted".
std::string funding_refusal(const std::string& text) {
  try {
    (void)parse_funding_csv(text, "f.csv");
  } catch (const MarketDataError& error) {
    return error.what();
  }
  return "accepted";
}

TEST(VenueDecimalTest, ParsesExactlyWithHalfEvenRounding) {
  EXPECT_EQ(parse_decimal("43251.5", 8), 4'325'150'000'000);
  EXPECT_EQ(parse_decimal("-0.00012359", 8), -12'359);
  EXPECT_EQ(parse_decimal("1.742e-05", 8), 1'742);
  EXPECT_EQ(parse_decimal("-2.355264834228129e-05", 8), -2'355);
  EXPECT_EQ(parse_decimal("0.000000005", 8), 0);
  EXPECT_EQ(parse_decimal("0.000000015", 8), 2);
  EXPECT_EQ(parse_decimal("1e3", 0), 1'000);
  EXPECT_FALSE(parse_decimal("", 8));
  EXPECT_FALSE(parse_decimal("1.2.3", 8));
  EXPECT_FALSE(parse_decimal("12abc", 8));
  EXPECT_FALSE(parse_decimal("1e", 8));
  EXPECT_FALSE(parse_decimal("99999999999999999999", 0));
}

TEST(VenueDecimalTest, ExactParsingRefusesToRound) {
  EXPECT_EQ(parse_exact_decimal("10.0", 0), 10);
  EXPECT_FALSE(parse_exact_decimal("10.5", 0));
  EXPECT_EQ(parse_exact_decimal("0.0005", 8), 50'000);
}

// The venue's own rules on top of common::parse_decimal: INT64_MIN is refused
// (callers negate values), signs and padding as FIX clients send them
// (QuickFIX's acceptance suite sends OrderQty "+200.00" and "002000.00"), and
// no bare decimal point, as everywhere else.
TEST(VenueDecimalTest, KeepsTheRangeSymmetricAndTheGrammarStrict) {
  EXPECT_EQ(parse_decimal("9223372036854775807", 0), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(parse_decimal("-9223372036854775807", 0), -std::numeric_limits<std::int64_t>::max());
  EXPECT_FALSE(parse_decimal("-9223372036854775808", 0));
  EXPECT_FALSE(parse_exact_decimal("-9223372036854775808", 0));
  EXPECT_EQ(parse_exact_decimal("+200.00", 0), 200);
  EXPECT_EQ(parse_exact_decimal("002000.00", 0), 2'000);
  for (const char* text : {"1.", ".5", "-.5", "+", "1e+"}) {
    EXPECT_FALSE(parse_decimal(text, 8)) << text;
    EXPECT_FALSE(parse_exact_decimal(text, 8)) << text;
  }
}

TEST(VenueDecimalTest, FormatsWithoutTrailingZeros) {
  EXPECT_EQ(format_decimal(4'325'150'000'000, 8), "43251.5");
  EXPECT_EQ(format_decimal(-12'359, 8), "-0.00012359");
  EXPECT_EQ(format_decimal(0, 8), "0");
  EXPECT_EQ(format_decimal(100, 2), "1");
}

TEST(VenueDecimalTest, FixTimestampsAreUtcMilliseconds) {
  const Timestamp time{1'704'067'200LL * kSecond + 123'456'789}; // 2024-01-01T00:00:00.123456789Z
  EXPECT_EQ(format_fix_timestamp(time), "20240101-00:00:00.123");
  EXPECT_EQ(format_fix_date(time), "20240101");
  EXPECT_EQ(format_fix_timestamp(Timestamp{951'782'400LL * kSecond + 86'399 * kSecond}), "20000229-23:59:59.000");
}

TEST(VenueDecimalTest, ParsesUtcTimes) {
  EXPECT_EQ(parse_utc_time("2024-01-01T00:00:00Z"), Timestamp{1'704'067'200LL * kSecond});
  EXPECT_EQ(parse_utc_time("2024-01-01"), Timestamp{1'704'067'200LL * kSecond});
  EXPECT_EQ(parse_utc_time("2020-01-02T00:00:00.002Z"), Timestamp{1'577'923'200LL * kSecond + 2'000'000});
  EXPECT_EQ(parse_utc_time("1546300800"), Timestamp{1'546'300'800LL * kSecond});
  EXPECT_FALSE(parse_utc_time("2024-13-01"));
  EXPECT_FALSE(parse_utc_time("yesterday"));
}

TEST(VenueDecimalTest, ADayTheMonthDoesNotHaveIsNoTime) {
  // It used to read 2020-02-30 as 2020-03-01.
  EXPECT_FALSE(parse_utc_time("2020-02-30"));
  EXPECT_FALSE(parse_utc_time("2020-02-31T12:00:00Z"));
  EXPECT_FALSE(parse_utc_time("2019-02-29"));
  EXPECT_FALSE(parse_utc_time("2100-02-29"));
  EXPECT_FALSE(parse_utc_time("2021-04-31"));
  EXPECT_EQ(parse_utc_time("2020-02-29"), Timestamp{1'582'934'400LL * kSecond});
  EXPECT_EQ(parse_utc_time("2000-02-29"), Timestamp{951'782'400LL * kSecond});
  EXPECT_EQ(parse_utc_time("2021-12-31"), Timestamp{1'640'908'800LL * kSecond});
}

TEST(VenueDecimalTest, FormatsUtcTimesAsIso8601) {
  EXPECT_EQ(format_utc_time(Timestamp{1'582'934'400LL * kSecond + 3'723 * kSecond + 999'000'000}),
            "2020-02-29T01:02:03Z");
  EXPECT_EQ(parse_utc_time(format_utc_time(Timestamp{1'704'067'200LL * kSecond})),
            Timestamp{1'704'067'200LL * kSecond});
}

TEST(VenueMarketDataTest, ReadsTheBinanceCandleFormatByEpochAndClose) {
  const std::string csv = "timestamp_utc,epoch_s,open,high,low,close,volume_btc\n"
                          "2019-01-01T00:00:00Z,1546300800,3701.23,3713,3689.88,3700.31,686.36742\n"
                          "2019-01-01T01:00:00Z,1546304400,3700.2,3702.73,3684.22,3689.69,613.539115\n";
  const auto path = parse_price_csv(csv, "test.csv");
  ASSERT_EQ(path.size(), 2U);
  EXPECT_EQ(path[0].time, Timestamp{1'546'300'800LL * kSecond});
  EXPECT_EQ(path[0].price, Price{370'031'000'000});
  EXPECT_EQ(path[1].time, Timestamp{1'546'304'400LL * kSecond});
  EXPECT_EQ(path[1].price, Price{368'969'000'000});
}

TEST(VenueMarketDataTest, ReadsPlainTimestampPriceFiles) {
  const std::string csv = "timestamp,price\r\n"
                          "2024-01-01T00:00:00Z,42000\r\n"
                          "\r\n"
                          "2024-01-01T00:00:01.5Z,42000.5\r\n";
  const auto path = parse_price_csv(csv, "plain.csv");
  ASSERT_EQ(path.size(), 2U);
  EXPECT_EQ(path[1].time, Timestamp{1'704'067'201LL * kSecond + 500'000'000});
  EXPECT_EQ(path[1].price, Price{4'200'050'000'000});
}

TEST(VenueMarketDataTest, RejectsBadFilesWithTheLine) {
  EXPECT_THROW((void)parse_price_csv("", "empty.csv"), MarketDataError);
  EXPECT_THROW((void)parse_price_csv("time,volume\n1,2\n", "x.csv"), MarketDataError);
  try {
    (void)parse_price_csv("epoch_s,close\n10,100\n10,101\n", "x.csv");
    FAIL() << "expected MarketDataError";
  } catch (const MarketDataError& error) {
    EXPECT_EQ(std::string(error.what()), "x.csv:3: time does not increase");
  }
  EXPECT_THROW((void)parse_price_csv("epoch_s,close\n10,-5\n", "x.csv"), MarketDataError);
  EXPECT_THROW((void)parse_price_csv("epoch_s,close\n10,abc\n", "x.csv"), MarketDataError);
}

TEST(VenueMarketDataTest, LoadsTheRepositoryPriceFiles) {
  const std::filesystem::path file = std::filesystem::path(SYNTHUSD_SOURCE_DIR) / ".." / "shared" / "data" /
                                     "btcusdt_binance_30m_2020-02-15_2020-04-15.csv";
  if (!std::filesystem::exists(file)) {
    GTEST_SKIP() << "no " << file;
  }
  const auto path = load_price_csv(file.string());
  ASSERT_EQ(path.size(), 2'865U);
  EXPECT_EQ(path.front().time, Timestamp{1'581'724'800LL * kSecond});
  EXPECT_EQ(path.front().price, Price{1'035'880'000'000}); // close 10358.8
  EXPECT_EQ(path[1].time - path[0].time, Duration::from_seconds(1'800));
}

TEST(VenueMarketDataTest, ReadsDeribitFundingWithExponents) {
  const std::string csv = "timestamp_utc,epoch_s,index_price,prev_index_price,interest_1h,interest_8h\n"
                          "2019-04-30T10:00:00Z,1556618400,5150.94,,0.0,-0.00045471014938468695\n"
                          "2019-04-30T11:00:00Z,1556622000,5185.14,5150.94,-2.3e-05,-4.0739795153362527e-4\n";
  const auto series = parse_funding_csv(csv, "funding.csv");
  ASSERT_EQ(series.size(), 2U);
  EXPECT_EQ(series[0].rate, Ratio{-45'471});
  EXPECT_EQ(series[1].rate, Ratio{-40'740});
}

TEST(VenueMarketDataTest, ReadsBinanceFundingByEpochMilliseconds) {
  const std::string csv = "timestamp_utc,epoch_ms,symbol,funding_rate\n"
                          "2020-01-01T00:00:00.000Z,1577836800000,BTCUSDT,-0.00012359\n";
  const auto series = parse_funding_csv(csv, "binance.csv");
  ASSERT_EQ(series.size(), 1U);
  EXPECT_EQ(series[0].time, Timestamp{1'577'836'800LL * kSecond});
  EXPECT_EQ(series[0].rate, Ratio{-12'359});
}

TEST(VenueMarketDataTest, FundingScheduleUsesTheLastRowAtOrBeforeTheTime) {
  FundingSchedule schedule({{Timestamp{10'000 * kSecond}, Ratio{1}}, {Timestamp{20'000 * kSecond}, Ratio{2}}});
  schedule.rebase(Timestamp{15'000 * kSecond}); // covered: no shift
  EXPECT_EQ(schedule.rate_at(Timestamp{5'000 * kSecond}), Ratio{1});
  EXPECT_EQ(schedule.rate_at(Timestamp{10'000 * kSecond}), Ratio{1});
  EXPECT_EQ(schedule.rate_at(Timestamp{19'999 * kSecond}), Ratio{1});
  EXPECT_EQ(schedule.rate_at(Timestamp{20'000 * kSecond}), Ratio{2});
  // A funding charged at a time pays a row stamped up to a minute later.
  EXPECT_EQ(schedule.rate_charged_at(Timestamp{19'939 * kSecond}), Ratio{1});
  EXPECT_EQ(schedule.rate_charged_at(Timestamp{19'940 * kSecond}), Ratio{2});
  EXPECT_EQ(schedule.rate_at(Timestamp{999'999 * kSecond}), Ratio{2});
  EXPECT_EQ(FundingSchedule(Ratio{7}).rate_at(Timestamp{}), Ratio{7});
}

TEST(VenueMarketDataTest, FundingRowsStampedMillisecondsLateAreTheRateAtTheirFundingTime) {
  // Binance's rows carry a few milliseconds of jitter: 08:00:00.001 is the
  // 08:00 funding, not the next one.
  const std::string csv = "timestamp_utc,epoch_ms,symbol,funding_rate\n"
                          "2020-03-12T00:00:00.000Z,1583971200000,BTCUSDT,0\n"
                          "2020-03-12T08:00:00.001Z,1584000000001,BTCUSDT,0.0001\n"
                          "2020-03-12T16:00:00.006Z,1584028800006,BTCUSDT,-0.0002\n";
  const FundingSchedule schedule(parse_funding_csv(csv, "binance.csv"));
  EXPECT_EQ(schedule.rate_charged_at(Timestamp{1'584'000'000LL * kSecond}), Ratio{10'000});
  EXPECT_EQ(schedule.rate_charged_at(Timestamp{1'584'028'800LL * kSecond}), Ratio{-20'000});
  EXPECT_EQ(schedule.rate_charged_at(Timestamp{1'583'999'000LL * kSecond}), Ratio{0}); // 07:43: the 00:00 rate
  EXPECT_EQ(schedule.rate_at(Timestamp{1'584'000'000LL * kSecond}), Ratio{0});         // the quote: not stamped yet
}

TEST(VenueMarketDataTest, ARateForAnotherIntervalIsConvertedToEightHours) {
  // BitMEX's file says each row's interval: 0.3 % a day is 0.1 % per 8 hours.
  const std::string csv = "timestamp_utc,epoch_s,symbol,funding_interval_hours,funding_rate,funding_rate_daily\n"
                          "2016-05-14T12:00:00Z,1463227200,XBTUSD,24,0.003,0.003\n"
                          "2016-05-15T12:00:00Z,1463313600,XBTUSD,8,0.001,0.003\n"
                          "2016-05-16T12:00:00Z,1463400000,XBTUSD,24,-0.00069,-0.00069\n";
  const auto series = parse_funding_csv(csv, "bitmex.csv");
  ASSERT_EQ(series.size(), 3U);
  EXPECT_EQ(series[0].rate, Ratio{100'000});
  EXPECT_EQ(series[1].rate, Ratio{100'000});
  EXPECT_EQ(series[2].rate, Ratio{-23'000});
  EXPECT_EQ(funding_refusal("time,funding_interval_hours,funding_rate\n1463227200,0,0.001\n"),
            "f.csv:2: bad funding_interval_hours '0' (whole hours, 1 to 168)");
  EXPECT_EQ(funding_refusal("time,funding_interval_hours,funding_rate\n1463227200,8.5,0.001\n"),
            "f.csv:2: bad funding_interval_hours '8.5' (whole hours, 1 to 168)");
}

TEST(VenueMarketDataTest, AFundingFileWithRaggedRowsOrAnImpossibleRateIsRefusedWithItsLine) {
  EXPECT_EQ(funding_refusal("time,rate\n100,0.001\n200,0.001,7\n"), "f.csv:3: 3 columns where the header has 2");
  EXPECT_EQ(funding_refusal("time,symbol,rate\n100,X,0.001\n200,0.001\n"), "f.csv:3: 2 columns where the header has 3");
  EXPECT_EQ(funding_refusal("time,rate\n100,5\n"),
            "f.csv:2: funding rate '5' is beyond +-10 % per 8 hours (rates are fractions: 0.0001 is 0.01 %)");
  EXPECT_EQ(funding_refusal("time,rate\n100,0.1\n"), "accepted"); // the bound itself
  EXPECT_EQ(funding_refusal(""), "f.csv:1: empty file");
}

TEST(VenueMarketDataTest, AFundingSeriesCoversAWindowOnlyFromBeforeItsStartToADayBeforeItsEnd) {
  const FundingSchedule series({{Timestamp{100'000 * kSecond}, Ratio{1}}, {Timestamp{200'000 * kSecond}, Ratio{2}}});
  EXPECT_FALSE(series.coverage_error(Timestamp{100'000 * kSecond}, Timestamp{200'000 * kSecond}));
  EXPECT_FALSE(series.coverage_error(Timestamp{100'000 * kSecond - 60 * kSecond}, Timestamp{286'400 * kSecond}));
  const auto early = series.coverage_error(Timestamp{99'000 * kSecond}, Timestamp{150'000 * kSecond});
  ASSERT_TRUE(early);
  EXPECT_EQ(*early,
            "the funding rows start at 1970-01-02T03:46:40Z, after the prices' first point 1970-01-02T03:30:00Z");
  const auto late = series.coverage_error(Timestamp{150'000 * kSecond}, Timestamp{286'401 * kSecond});
  ASSERT_TRUE(late);
  EXPECT_EQ(*late, "the funding rows end at 1970-01-03T07:33:20Z, more than a day before the prices' last point "
                   "1970-01-04T07:33:21Z");
  EXPECT_FALSE(FundingSchedule(Ratio{7}).coverage_error(Timestamp{}, Timestamp{1'000'000 * kSecond}));
}

TEST(VenueMarketDataTest, FundingSeriesThatMissesThePathIsReplayedFromItsStart) {
  FundingSchedule schedule({{Timestamp{100 * kSecond}, Ratio{1}}, {Timestamp{200 * kSecond}, Ratio{2}}});
  schedule.rebase(Timestamp{10'000 * kSecond});
  EXPECT_EQ(schedule.rate_at(Timestamp{10'000 * kSecond}), Ratio{1});
  EXPECT_EQ(schedule.rate_at(Timestamp{10'100 * kSecond}), Ratio{2});
}

} // namespace
