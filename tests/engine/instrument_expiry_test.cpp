// A dated future's expiry from its symbol (instrument_expiry.hpp), by each
// venue's documented naming, settling at 08:00 UTC; and the configuration
// taking it from there instead of a hand-typed expiry_unix_ms.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config_test_support.hpp"
#include "synthusd/engine/config_file.hpp"
#include "synthusd/engine/instrument_expiry.hpp"

namespace synthusd::engine {
namespace {

// Unix milliseconds of a day at 08:00 UTC, checked against `date -u -d`.
constexpr std::int64_t k27Dec2024 = 1'735'286'400'000; // 2024-12-27T08:00:00Z
constexpr std::int64_t k28Mar2025 = 1'743'148'800'000; // 2025-03-28T08:00:00Z
constexpr std::int64_t k29Feb2028 = 1'835'424'000'000; // 2028-02-29T08:00:00Z

std::int64_t milliseconds(const std::optional<hedging::Timestamp>& expiry) {
  return expiry ? expiry->nanoseconds / 1'000'000 : -1;
}

TEST(InstrumentExpiry, each_venues_dated_future_names_its_expiry_at_0800_utc) {
  EXPECT_EQ(milliseconds(expiry_from_symbol("BTC-27DEC24")), k27Dec2024);    // Deribit
  EXPECT_EQ(milliseconds(expiry_from_symbol("BTC-USD-241227")), k27Dec2024); // OKX
  EXPECT_EQ(milliseconds(expiry_from_symbol("BTCUSD_241227")), k27Dec2024);  // Binance COIN-M
  EXPECT_EQ(milliseconds(expiry_from_symbol("BTC-28MAR25")), k28Mar2025);
  EXPECT_EQ(milliseconds(expiry_from_symbol("ETH-29FEB28")), k29Feb2028);       // a leap day
  EXPECT_EQ(milliseconds(expiry_from_symbol("BTC-7MAR25")), 1'741'334'400'000); // Deribit: no leading zero
}

TEST(InstrumentExpiry, perpetuals_options_and_dates_that_do_not_exist_name_no_expiry) {
  for (const char* symbol : {"BTC-PERPETUAL", "BTCUSD_PERP", "BTC-USD-SWAP", "BTC-27DEC24-100000-C", "BTC-30FEB25",
                             "BTC-USD-241327", "BTCUSD_2412", "BTC-27DEX24", "XBTUSD", "BTC-"}) {
    EXPECT_FALSE(expiry_from_symbol(symbol).has_value()) << symbol;
  }
}

const std::string kVenue = R"(
[[venues]]
id = 1
name = "deribit"
)";

std::string future(const std::string& symbol, const std::string& expiry_line = "") {
  return R"(
[[instruments]]
id = 1
venue = "deribit"
symbol = ")" +
         symbol +
         R"("
kind = "inverse_future"
contract_value_usd = 10
)" + expiry_line;
}

TEST(InstrumentExpiry, a_configured_future_takes_its_expiry_from_the_symbol) {
  const EngineConfig config = parse_config(kVenue + future("BTC-28MAR25"), "test.toml");
  ASSERT_EQ(config.kernel.instruments.size(), 1u);
  EXPECT_EQ(config.kernel.instruments[0].expiry, hedging::Timestamp{k28Mar2025 * 1'000'000});
  // A typed expiry that agrees is fine; one that does not is refused.
  EXPECT_TRUE(test_support::problems_of(kVenue + future("BTC-28MAR25", "expiry_unix_ms = 1743148800000\n")).empty());
  const auto wrong = test_support::problems_of(kVenue + future("BTC-28MAR25", "expiry_unix_ms = 1743148800001\n"));
  ASSERT_EQ(wrong.size(), 1u) << test_support::describe(wrong);
  EXPECT_EQ(wrong[0].key, "instruments[0].expiry_unix_ms");
  EXPECT_EQ(wrong[0].message,
            "1743148800001 is not the expiry the symbol 'BTC-28MAR25' names (1743148800000, 08:00 UTC)");
  // A symbol naming no expiry needs one typed.
  const auto missing = test_support::problems_of(kVenue + future("BTC-DATED"));
  ASSERT_EQ(missing.size(), 1u) << test_support::describe(missing);
  EXPECT_EQ(missing[0].key, "instruments[0].expiry_unix_ms");
  EXPECT_NE(missing[0].message.find("names no expiry"), std::string::npos);
  EXPECT_TRUE(test_support::problems_of(kVenue + future("BTC-DATED", "expiry_unix_ms = 1743148800000\n")).empty());
}

std::vector<std::string> symbols(const std::vector<ListedFuture>& listed) {
  std::vector<std::string> out;
  for (const auto& future : listed) {
    out.push_back(future.symbol);
  }
  return out;
}

constexpr std::int64_t kMillisecond = 1'000'000;
constexpr std::int64_t k6Dec2024 = 1'733'472'000'000; // 2024-12-06T08:00:00Z, a Friday

// What Deribit listed on 2024-12-05: four weeklies (the fourth is December's
// last Friday, also the monthly and the quarterly), two more monthlies, three
// more quarterlies.
TEST(DeribitFutureCalendar, lists_the_weeklies_monthlies_and_quarterlies_deribit_listed) {
  const hedging::Timestamp noon_5_dec_2024{(k6Dec2024 - 20 * 3'600'000) * kMillisecond};
  EXPECT_EQ(symbols(deribit_futures_listed(noon_5_dec_2024)),
            (std::vector<std::string>{"BTC-6DEC24", "BTC-13DEC24", "BTC-20DEC24", "BTC-27DEC24", "BTC-31JAN25",
                                      "BTC-28FEB25", "BTC-28MAR25", "BTC-27JUN25", "BTC-26SEP25"}));
  EXPECT_EQ(symbols(deribit_futures_listed(noon_5_dec_2024, "ETH", {1, 1, 1})),
            (std::vector<std::string>{"ETH-6DEC24", "ETH-27DEC24"}));
}

// A future is listed until its 08:00 UTC settlement, then the next Friday's
// takes its place: the roll target appears with no configuration.
TEST(DeribitFutureCalendar, a_future_leaves_the_list_at_its_0800_utc_settlement) {
  const auto before = deribit_futures_listed(hedging::Timestamp{(k6Dec2024 - 1) * kMillisecond});
  const auto at = deribit_futures_listed(hedging::Timestamp{k6Dec2024 * kMillisecond});
  ASSERT_FALSE(before.empty());
  ASSERT_FALSE(at.empty());
  EXPECT_EQ(before[0].symbol, "BTC-6DEC24");
  EXPECT_EQ(before[0].expiry, hedging::Timestamp{k6Dec2024 * kMillisecond});
  EXPECT_EQ(at[0].symbol, "BTC-13DEC24");
  EXPECT_EQ(at[0].expiry, hedging::Timestamp{(k6Dec2024 + 7 * 86'400'000) * kMillisecond});
}

// Every hour over two years (leap day and year ends included): each listed
// future is unexpired, sorted, settles on a Friday at 08:00 UTC, names its
// own expiry, and the nearest is at most a week away.
TEST(DeribitFutureCalendar, every_listed_future_is_a_later_friday_that_its_symbol_names) {
  constexpr std::int64_t kHour = 3'600'000 * kMillisecond;
  const std::int64_t start = 1'704'067'200'000 * kMillisecond; // 2024-01-01T00:00:00Z
  for (std::int64_t now = start; now < start + 2 * 366 * 24 * kHour; now += 5 * kHour) {
    const auto listed = deribit_futures_listed(hedging::Timestamp{now});
    ASSERT_GE(listed.size(), 4u);
    EXPECT_LE(listed[0].expiry.nanoseconds - now, 7 * 24 * kHour);
    for (std::size_t i = 0; i < listed.size(); ++i) {
      const std::int64_t expiry = listed[i].expiry.nanoseconds;
      ASSERT_GT(expiry, now) << listed[i].symbol;
      ASSERT_TRUE(i == 0 || listed[i - 1].expiry.nanoseconds < expiry) << listed[i].symbol;
      const std::int64_t days = (expiry / kHour - 8) / 24;
      ASSERT_EQ((expiry / kHour - 8) % 24, 0) << listed[i].symbol;
      ASSERT_EQ((days + 4) % 7, 5) << listed[i].symbol << " is not a Friday";
      ASSERT_EQ(milliseconds(expiry_from_symbol(listed[i].symbol)) * kMillisecond, expiry) << listed[i].symbol;
    }
  }
}

// Deribit option marks are in BTC: an option must never be mistaken for a
// future or perpetual, whose marks are USD.
TEST(InstrumentExpiry, deribit_options_are_told_apart_from_futures_and_perpetuals) {
  EXPECT_TRUE(is_option_symbol("BTC-27DEC24-100000-C"));
  EXPECT_TRUE(is_option_symbol("ETH-7MAR25-3500-P"));
  EXPECT_FALSE(is_option_symbol("BTC-27DEC24"));
  EXPECT_FALSE(is_option_symbol("BTC-PERPETUAL"));
  EXPECT_FALSE(is_option_symbol("BTC-USD-241227"));
  EXPECT_FALSE(is_option_symbol("BTC-27DEC24-100000-X"));
  EXPECT_FALSE(is_option_symbol("BTC-32DEC24-100000-C")); // no such date
  EXPECT_FALSE(is_option_symbol("BTC-27DEC24-1e5-C"));
  EXPECT_FALSE(is_option_symbol("BTC-27DEC24-100000-C-X"));
}

TEST(InstrumentExpiry, an_option_in_the_config_is_refused_with_the_reason) {
  const auto problems = test_support::problems_of(std::string(test_support::kTwoVenueKernel) + R"(
[[instruments]]
id = 3
venue = "deribit"
symbol = "BTC-27DEC24-100000-C"
kind = "inverse_future"
expiry_unix_ms = 1735286400000
contract_value_usd = 10
)");
  ASSERT_EQ(problems.size(), 1u) << test_support::describe(problems);
  EXPECT_EQ(problems[0].key, "instruments[2].symbol");
  EXPECT_NE(problems[0].message.find("is a Deribit option: its ticker's mark_price is in BTC"), std::string::npos);
}

} // namespace
} // namespace synthusd::engine
