// series = "venue": dated futures from the venue's public/get_instruments
// answer (future_discovery.hpp). The answer is checked and bounded entry by
// entry; the venue simulator's own answer and one in Deribit's documented
// shape both parse; the config reserves the series' ids and needs a deribit
// feed; what is discovered enters the kernel and the feed like the
// "deribit" calendar series.
#include "synthusd/engine/future_discovery.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config_test_support.hpp"
#include "synthusd/venue/ticker_feed.hpp"

namespace synthusd::engine {
namespace {

using hedging::Duration;
using hedging::Timestamp;

constexpr std::int64_t kMillisecond = 1'000'000;
constexpr std::int64_t kNowMs = 1'796'442'100'000; // 2026-12-05T03:41:40Z
constexpr Timestamp kNow{kNowMs * kMillisecond};

hedging::InstrumentSpec btc_template() {
  hedging::InstrumentSpec spec;
  spec.id = 10;
  spec.symbol = hedging::Symbol("BTC");
  spec.kind = hedging::InstrumentKind::inverse_future;
  spec.contract_value = hedging::UsdCents{1'000};
  return spec;
}

std::string entry(const std::string& name, std::int64_t expiration_ms, const std::string& extra = "",
                  const std::string& contract_size = "10", const std::string& period = "month") {
  return R"({"instrument_name":")" + name + R"(","kind":"future","settlement_period":")" + period +
         R"(","expiration_timestamp":)" + std::to_string(expiration_ms) + R"(,"contract_size":)" + contract_size +
         R"(,"is_active":true)" + extra + "}";
}

std::string answer(const std::vector<std::string>& entries) {
  std::string text = R"({"jsonrpc":"2.0","id":7301,"result":[)";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    text += (i > 0 ? "," : "") + entries[i];
  }
  return text + R"(],"testnet":true})";
}

TEST(FutureDiscovery, the_simulators_answer_lists_its_dated_futures_nearest_first_without_the_perpetual) {
  venue::TickerSnapshot perpetual;
  perpetual.instrument = "BTC-PERPETUAL";
  perpetual.contract_value = hedging::UsdCents{1'000};
  perpetual.tick_size = hedging::Price::from_cents(50);
  venue::TickerSnapshot next = perpetual;
  next.instrument = "BTC-6DEC26";
  next.expiration_ms = kNowMs + 600'000;
  venue::TickerSnapshot expiring = perpetual;
  expiring.instrument = "BTC-5DEC26";
  expiring.expiration_ms = kNowMs + 30'000;
  const std::vector<venue::TickerSnapshot> served{perpetual, next, expiring};
  const std::string text =
      R"({"jsonrpc":"2.0","id":7301,"result":)" + venue::instruments_json(served) + R"(,"testnet":true})";

  const ListedFutures listed = parse_listed_futures(text, btc_template(), kNow);
  EXPECT_TRUE(listed.problem.empty()) << listed.problem;
  EXPECT_TRUE(listed.skipped.empty());
  ASSERT_EQ(listed.futures.size(), 2u);
  EXPECT_EQ(listed.futures[0].symbol, "BTC-5DEC26");
  EXPECT_EQ(listed.futures[0].expiry, Timestamp{(kNowMs + 30'000) * kMillisecond});
  EXPECT_EQ(listed.futures[1].symbol, "BTC-6DEC26");
}

// Deribit's documented public/get_instruments entry for a future, with the
// fields it carries that discovery does not read.
TEST(FutureDiscovery, an_answer_in_deribits_documented_shape_parses) {
  const std::string text =
      answer({R"({"tick_size":2.5,"taker_commission":0.0005,"settlement_period":"month",)"
              R"("settlement_currency":"BTC","rfq":false,"quote_currency":"USD",)"
              R"("price_index":"btc_usd","min_trade_amount":10,"max_liquidation_commission":0.0075,)"
              R"("max_leverage":50,"maker_commission":0,"kind":"future","is_active":true,)"
              R"("instrument_name":"BTC-25DEC26","instrument_id":138583,)"
              R"("expiration_timestamp":1798185600000,"creation_timestamp":1719561600000,)"
              R"("counter_currency":"USD","contract_size":10,"block_trade_tick_size":0.01,)"
              R"("block_trade_min_trade_amount":200000,"block_trade_commission":0.00025,)"
              R"("base_currency":"BTC"})"});
  const ListedFutures listed = parse_listed_futures(text, btc_template(), kNow);
  ASSERT_EQ(listed.futures.size(), 1u) << listed.problem;
  EXPECT_EQ(listed.futures[0].symbol, "BTC-25DEC26");
  EXPECT_EQ(listed.futures[0].expiry, Timestamp{1'798'185'600'000 * kMillisecond});
}

TEST(FutureDiscovery, entries_out_of_bounds_are_skipped_each_with_its_reason) {
  const std::int64_t in_a_day = kNowMs + 86'400'000;
  const ListedFutures listed = parse_listed_futures(
      answer({entry("BTC-4DEC26", kNowMs - 1),                  // expired
              entry("BTC-5DEC28", kNowMs + 401LL * 86'400'000), // past 400 days
              entry("BTC-6DEC26", in_a_day, "", "100"),         // $100 contracts, not $10
              R"({"instrument_name":"BTC-7DEC26","kind":"future","settlement_period":"week","is_active":false})",
              entry("BTC-lower", in_a_day),                                      // not A-Z0-9-_
              entry("BTC-" + std::string(30, 'X'), in_a_day),                    // longer than 31
              entry("ETH-6DEC26", in_a_day),                                     // another currency: not ours, silently
              entry("BTC-PERPETUAL", 32'503'708'800'000, "", "10", "perpetual"), // the perpetual: silently
              R"({"kind":"future"})",                                            // no name
              entry("BTC-8DEC26", in_a_day)}),
      btc_template(), kNow);
  EXPECT_TRUE(listed.problem.empty());
  ASSERT_EQ(listed.futures.size(), 1u);
  EXPECT_EQ(listed.futures[0].symbol, "BTC-8DEC26");
  ASSERT_EQ(listed.skipped.size(), 7u);
  EXPECT_NE(listed.skipped[0].find("BTC-4DEC26: expiration_timestamp"), std::string::npos);
  EXPECT_NE(listed.skipped[1].find("BTC-5DEC28: expiration_timestamp"), std::string::npos);
  EXPECT_NE(listed.skipped[2].find("BTC-6DEC26: contract_size"), std::string::npos);
  EXPECT_EQ(listed.skipped[3], "BTC-7DEC26: not active");
  EXPECT_NE(listed.skipped[4].find("BTC-lower: not a name"), std::string::npos);
  EXPECT_NE(listed.skipped[5].find("not a name"), std::string::npos);
  EXPECT_NE(listed.skipped[6].find("without instrument_name"), std::string::npos);
}

TEST(FutureDiscovery, at_most_eight_futures_are_kept_the_nearest_ones) {
  std::vector<std::string> entries;
  for (int day = 20; day >= 10; --day) {
    entries.push_back(entry("BTC-" + std::to_string(day) + "DEC26", kNowMs + day * 86'400'000LL));
  }
  const ListedFutures listed = parse_listed_futures(answer(entries), btc_template(), kNow);
  ASSERT_EQ(listed.futures.size(), kMaxListedFutures);
  EXPECT_EQ(listed.futures.front().symbol, "BTC-10DEC26");
  EXPECT_EQ(listed.futures.back().symbol, "BTC-17DEC26");
}

TEST(FutureDiscovery, an_answer_that_is_not_a_list_is_refused_whole) {
  EXPECT_EQ(parse_listed_futures("not json", btc_template(), kNow).problem, "not JSON");
  EXPECT_EQ(parse_listed_futures(R"({"jsonrpc":"2.0","id":7301,"error":{"code":-32602,"message":"bad currency"}})",
                                 btc_template(), kNow)
                .problem,
            "venue error: bad currency");
  EXPECT_EQ(parse_listed_futures(R"({"result":{}})", btc_template(), kNow).problem, "no result array");
  const std::string huge(kMaxInstrumentsAnswerBytes + 1, ' ');
  EXPECT_NE(parse_listed_futures(huge, btc_template(), kNow).problem.find("larger than"), std::string::npos);
  std::vector<std::string> many(kMaxInstrumentsAnswerEntries + 1, "{}");
  EXPECT_NE(parse_listed_futures(answer(many), btc_template(), kNow).problem.find("entries, more than"),
            std::string::npos);
}

std::string venue_series_config(const std::string& extra = "") {
  return R"(
[[venues]]
id = 1
name = "alpha"

[[instruments]]
id = 1
venue = "alpha"
symbol = "BTC-PERPETUAL"
kind = "inverse_perpetual"
contract_value_usd = 10

[[instruments]]
id = 10
venue = "alpha"
symbol = "BTC"
kind = "inverse_future"
series = "venue"
contract_value_usd = 10

[oracle]
min_sources = 1
jump_confirmations = 1
)" + extra;
}

constexpr const char* kDeribitFeed = R"(
[[feeds]]
venue = "alpha"
protocol = "deribit"
host = "127.0.0.1"
port = 1
tls = false
symbols = ["BTC-PERPETUAL"]
)";

TEST(FutureDiscovery, a_venue_series_adds_nothing_at_load_and_what_is_discovered_enters_kernel_and_feed) {
  EngineConfig config = parse_config(venue_series_config(kDeribitFeed), "test.toml", kNow);
  ASSERT_EQ(config.kernel.instruments.size(), 1u); // the futures come when `run` starts
  ASSERT_EQ(config.venue_series.size(), 1u);
  EXPECT_EQ(config.venue_series[0].venue, "alpha");
  EXPECT_EQ(config.venue_series[0].spec.id, 10);
  const std::vector<std::string> rules = describe_rules(config); // what check-config prints
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[2], "dated futures: BTC futures of alpha as its public/get_instruments lists them when `run` "
                      "starts (ids 10..17 reserved; none if it cannot be asked)");

  const std::vector<ListedFuture> listed{{"BTC-5DEC26", kNow + Duration::from_seconds(30)},
                                         {"BTC-6DEC26", kNow + Duration::from_seconds(600)}};
  EXPECT_EQ(add_listed_futures(config, config.venue_series[0].spec, "alpha", listed), 2u);
  ASSERT_EQ(config.kernel.instruments.size(), 3u);
  EXPECT_EQ(config.kernel.instruments[2].id, 11);
  EXPECT_EQ(config.kernel.instruments[2].symbol.view(), "BTC-6DEC26");
  EXPECT_EQ(config.kernel.instruments[2].expiry, kNow + Duration::from_seconds(600));
  EXPECT_EQ(config.run.feeds[0].symbols, (std::vector<std::string>{"BTC-PERPETUAL", "BTC-5DEC26", "BTC-6DEC26"}));
  EXPECT_NO_THROW(hedging::validate(config.kernel));
}

TEST(FutureDiscovery, a_venue_series_reserves_its_ids_and_needs_a_deribit_feed) {
  const auto no_feed = test_support::problems_of(venue_series_config());
  ASSERT_EQ(no_feed.size(), 1u) << test_support::describe(no_feed);
  EXPECT_NE(no_feed[0].message.find("needs a [[feeds]] entry of that venue with protocol \"deribit\""),
            std::string::npos);
  const auto clash = test_support::problems_of(venue_series_config(std::string(kDeribitFeed) + R"(
[[instruments]]
id = 17
venue = "alpha"
symbol = "BTCUSD_PERP"
kind = "inverse_perpetual"
)"));
  ASSERT_EQ(clash.size(), 1u) << test_support::describe(clash);
  EXPECT_NE(clash[0].message.find("instrument id 17 is used twice"), std::string::npos);
  const auto typed = test_support::problems_of(venue_series_config(kDeribitFeed) + "expiry_unix_ms = 1\n");
  ASSERT_FALSE(typed.empty());
}

// Nothing listens on the feed's port: discovery reports why and adds
// nothing; the perpetual still hedges.
TEST(FutureDiscovery, a_venue_that_cannot_be_asked_adds_nothing_and_says_why) {
  EngineConfig config = parse_config(venue_series_config(kDeribitFeed), "test.toml", kNow);
  const std::vector<std::string> report = discover_venue_futures(config, kNow, std::chrono::milliseconds(300));
  ASSERT_EQ(report.size(), 1u);
  EXPECT_NE(report[0].find("alpha: BTC futures not discovered: no answer from 127.0.0.1:1"), std::string::npos)
      << report[0];
  EXPECT_EQ(config.kernel.instruments.size(), 1u);
}

// A restart replays the journal, which names instruments by id: a future
// keeps its id in a state directory, and new ones come after.
TEST(FutureDiscovery, remembered_futures_keep_their_ids_and_new_ones_come_after) {
  const std::vector<ListedFuture> remembered{{"BTC-5DEC26", kNow}, {"BTC-6DEC26", kNow + Duration::from_hours(24)}};
  std::vector<std::string> report;
  // The venue no longer lists the expired BTC-5DEC26 and lists BTC-7DEC26.
  const std::vector<ListedFuture> merged = merge_listed_futures(
      remembered, {{"BTC-6DEC26", kNow + Duration::from_hours(24)}, {"BTC-7DEC26", kNow + Duration::from_hours(48)}},
      report);
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_EQ(merged[0].symbol, "BTC-5DEC26");
  EXPECT_EQ(merged[1].symbol, "BTC-6DEC26");
  EXPECT_EQ(merged[2].symbol, "BTC-7DEC26");
  EXPECT_TRUE(report.empty());

  std::vector<ListedFuture> full;
  for (std::size_t i = 0; i < kMaxListedFutures; ++i) {
    full.push_back({"BTC-" + std::to_string(i + 1) + "JAN27", kNow});
  }
  EXPECT_EQ(merge_listed_futures(full, {{"BTC-7DEC26", kNow}}, report).size(), kMaxListedFutures);
  ASSERT_EQ(report.size(), 1u);
  EXPECT_NE(report[0].find("no id left for BTC-7DEC26"), std::string::npos);
}

class FutureDiscoveryState : public ::testing::Test {
protected:
  void SetUp() override {
    directory = std::filesystem::temp_directory_path() /
                ("synthusd-discovery-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(directory);
    std::filesystem::create_directories(directory);
  }
  void TearDown() override { std::filesystem::remove_all(directory); }
  void write(const std::string& text) const { std::ofstream(directory / "listed_futures.10") << text; }

  std::filesystem::path directory;
};

TEST_F(FutureDiscoveryState, a_damaged_file_stops_the_start_rather_than_renumber) {
  EXPECT_TRUE(read_remembered_futures((directory / "absent").string()).empty());
  write("BTC-5DEC26 1796442139899\nBTC-6DEC26\n");
  EXPECT_THROW((void)read_remembered_futures((directory / "listed_futures.10").string()), std::runtime_error);
  write("BTC-5DEC26 1796442139899 extra\n");
  EXPECT_THROW((void)read_remembered_futures((directory / "listed_futures.10").string()), std::runtime_error);
  write("BTC-5DEC26 1796442139899\nBTC-6DEC26 1796442709899\n");
  const std::vector<ListedFuture> read = read_remembered_futures((directory / "listed_futures.10").string());
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[1].symbol, "BTC-6DEC26");
  EXPECT_EQ(read[1].expiry, Timestamp{1'796'442'709'899 * kMillisecond});
}

// A restart after BTC-5DEC26 expired, with the venue out of reach: the
// remembered futures keep ids 10 and 11; the expired one is not subscribed.
TEST_F(FutureDiscoveryState, a_restart_keeps_the_remembered_ids_even_when_the_venue_cannot_be_asked) {
  write("BTC-5DEC26 " + std::to_string(kNowMs - 1'000) + "\nBTC-6DEC26 " + std::to_string(kNowMs + 600'000) + "\n");
  EngineConfig config = parse_config(
      venue_series_config(kDeribitFeed + std::string("\n[engine]\nstate_directory = \"") + directory.string() + "\"\n"),
      "test.toml", kNow);
  const std::vector<std::string> report = discover_venue_futures(config, kNow, std::chrono::milliseconds(300));
  ASSERT_EQ(config.kernel.instruments.size(), 3u);
  EXPECT_EQ(config.kernel.instruments[1].id, 10);
  EXPECT_EQ(config.kernel.instruments[1].symbol.view(), "BTC-5DEC26");
  EXPECT_EQ(config.kernel.instruments[2].id, 11);
  EXPECT_EQ(config.kernel.instruments[2].symbol.view(), "BTC-6DEC26");
  EXPECT_EQ(config.run.feeds[0].symbols, (std::vector<std::string>{"BTC-PERPETUAL", "BTC-6DEC26"}));
  ASSERT_EQ(report.size(), 3u);
  EXPECT_NE(report[0].find("not discovered"), std::string::npos);
  EXPECT_NE(report[1].find("kept BTC-5DEC26 as instrument 10"), std::string::npos);
  EXPECT_NE(report[1].find("(expired: not traded)"), std::string::npos);
  EXPECT_NE(report[2].find("kept BTC-6DEC26 as instrument 11"), std::string::npos);
}

} // namespace
} // namespace synthusd::engine
