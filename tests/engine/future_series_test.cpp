// series = "deribit" on an [[instruments]] entry: the dated futures Deribit
// lists by its expiry calendar become instruments at load, so the kernel
// rolls out of the expiring future into the next with no config edit.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../hedging/kernel_fixture.hpp"
#include "config_test_support.hpp"
#include "synthusd/engine/config_file.hpp"
#include "synthusd/hedging/kernel.hpp"

namespace synthusd::engine {
namespace {

using hedging::Duration;
using hedging::Timestamp;

constexpr std::int64_t kMillisecond = 1'000'000;
constexpr Timestamp k6Dec2024{1'733'472'000'000 * kMillisecond};  // 08:00 UTC, BTC-6DEC24 settles
constexpr Timestamp k13Dec2024{1'734'076'800'000 * kMillisecond}; // BTC-13DEC24

std::string series_config(const std::string& extra = "") {
  return R"(
[[venues]]
id = 1
name = "deribit"

[[instruments]]
id = 1
venue = "deribit"
symbol = "BTC-PERPETUAL"
kind = "inverse_perpetual"
contract_value_usd = 10

[[instruments]]
id = 10
venue = "deribit"
symbol = "BTC"
kind = "inverse_future"
series = "deribit"
contract_value_usd = 10
)" + extra;
}

TEST(FutureSeries, a_deribit_series_is_the_futures_listed_at_load_with_consecutive_ids) {
  const EngineConfig config = parse_config(series_config(), "test.toml", k6Dec2024 - Duration::from_hours(20));
  const auto& instruments = config.kernel.instruments;
  ASSERT_EQ(instruments.size(), 10u);
  EXPECT_EQ(instruments[0].symbol.view(), "BTC-PERPETUAL");
  const std::vector<std::string> expected{"BTC-6DEC24",  "BTC-13DEC24", "BTC-20DEC24", "BTC-27DEC24", "BTC-31JAN25",
                                          "BTC-28FEB25", "BTC-28MAR25", "BTC-27JUN25", "BTC-26SEP25"};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const hedging::InstrumentSpec& future = instruments[i + 1];
    EXPECT_EQ(future.id, 10 + i);
    EXPECT_EQ(future.symbol.view(), expected[i]);
    EXPECT_EQ(future.kind, hedging::InstrumentKind::inverse_future);
    EXPECT_EQ(future.contract_value, hedging::UsdCents{1'000});
    EXPECT_EQ(future.venue, 1);
  }
  EXPECT_EQ(instruments[1].expiry, k6Dec2024);
  EXPECT_EQ(instruments[2].expiry, k13Dec2024);
}

// The venue's feed subscribes to the series' futures without their being
// typed in its symbols; the typed ones stay first and are not repeated.
TEST(FutureSeries, the_venues_feed_subscribes_to_the_series_futures) {
  const EngineConfig config = parse_config(series_config(R"(
[[feeds]]
venue = "deribit"
protocol = "deribit"
host = "127.0.0.1"
symbols = ["BTC-PERPETUAL", "BTC-13DEC24"]

[oracle]
min_sources = 1
jump_confirmations = 1
)"),
                                           "test.toml", k6Dec2024 - Duration::from_hours(20));
  ASSERT_EQ(config.run.feeds.size(), 1u);
  EXPECT_EQ(config.run.feeds[0].symbols,
            (std::vector<std::string>{"BTC-PERPETUAL", "BTC-13DEC24", "BTC-6DEC24", "BTC-20DEC24", "BTC-27DEC24",
                                      "BTC-31JAN25", "BTC-28FEB25", "BTC-28MAR25", "BTC-27JUN25", "BTC-26SEP25"}));
}

TEST(FutureSeries, a_series_is_refused_with_a_reason_when_it_cannot_be_one) {
  const auto typed = test_support::problems_of(series_config("expiry_unix_ms = 1733472000000\n"));
  ASSERT_EQ(typed.size(), 1u) << test_support::describe(typed);
  EXPECT_EQ(typed[0].key, "instruments[1].series");
  const auto clash = test_support::problems_of(series_config(R"(
[[instruments]]
id = 12
venue = "deribit"
symbol = "BTC-DATED"
kind = "inverse_future"
expiry_unix_ms = 1733472000000
contract_value_usd = 10
)"));
  ASSERT_EQ(clash.size(), 1u) << test_support::describe(clash);
  EXPECT_NE(clash[0].message.find("instrument id 12 is used twice"), std::string::npos);
}

// Loaded the day before BTC-6DEC24 settles: the kernel hedges on it (its
// basis carry is the best) and, inside the roll window, moves the short
// into BTC-13DEC24 from the same series, on its own timer.
TEST(FutureSeries, the_kernel_rolls_from_the_expiring_future_into_the_next_of_the_series) {
  using namespace hedging::testing;
  const Timestamp loaded = k6Dec2024 - Duration::from_hours(47);
  EngineConfig config = parse_config(series_config(), "test.toml", loaded);
  hedging::Kernel kernel(std::move(config.kernel));
  (void)kernel.on(hedging::VenueStatus{1, true, loaded});
  const hedging::Price index = hedging::Price::from_dollars(50'000);
  (void)kernel.on(market(1, 1, 50'000, loaded, hedging::Ratio{0}));
  (void)kernel.on(market(1, 11, 50'100, loaded, hedging::Ratio{0}, index)); // 13DEC24: 0.2 % over 9 days
  (void)kernel.on(market(1, 10, 50'250, loaded, hedging::Ratio{0}, index)); // 6DEC24: 0.5 % over 2 days
  ASSERT_EQ(kernel.venue(1)->active, 10);
  const auto sell = orders_in(kernel.on(liability(1'000'000, loaded)));
  ASSERT_EQ(sell.size(), 1u);
  EXPECT_EQ(sell[0].instrument, 10);
  (void)fill(kernel, sell[0], 50'250, loaded);

  const auto actions = kernel.on(hedging::Timer{k6Dec2024 - Duration::from_hours(12)});
  const auto rolled = alerts_in(actions, hedging::AlertCode::instrument_rolled);
  ASSERT_EQ(rolled.size(), 1u);
  EXPECT_EQ(rolled[0].values, (std::array<std::int64_t, 3>{1, 10, 11}));
  EXPECT_EQ(kernel.venue(1)->active, 11);
  bool closed = false, opened = false;
  for (const hedging::OrderIntent& order : orders_in(actions)) {
    closed = closed || (order.instrument == 10 && order.reduce_only);
    opened = opened || order.instrument == 11;
  }
  EXPECT_TRUE(closed);
  EXPECT_TRUE(opened);
}

} // namespace
} // namespace synthusd::engine
