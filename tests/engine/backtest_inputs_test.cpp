// The backtest's inputs: price files (close or candles), the path the venue
// replays, intake JSON lines and the seeded flow generator.

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "synthusd/engine/backtest_inputs.hpp"

namespace synthusd::engine {
namespace {

using hedging::Price;
using hedging::Timestamp;

std::string error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const InputError& error) {
    return error.what();
  }
  return "no error";
}

TEST(BacktestInputs, reads_candles_with_epoch_seconds) {
  const std::vector<PriceBar> bars = parse_price_bars("timestamp_utc,epoch_s,open,high,low,close,volume_btc\n"
                                                      "2020-03-12T10:40:00Z,1584009600,6000,6100,5900,6050,1.5\n"
                                                      "2020-03-12T10:45:00Z,1584009900,6050,6060,5550,5600,9\n",
                                                      "prices.csv");
  ASSERT_EQ(bars.size(), 2U);
  EXPECT_TRUE(bars[0].candle);
  EXPECT_EQ(bars[0].time, Timestamp{1'584'009'600'000'000'000});
  EXPECT_EQ(bars[1].low, Price::from_dollars(5'550));
  EXPECT_EQ(bars[1].close, Price::from_dollars(5'600));
}

TEST(BacktestInputs, reads_timestamp_and_price_rows) {
  const std::vector<PriceBar> bars =
      parse_price_bars("timestamp,price\n2024-01-01T00:00:00Z,42000.5\n2024-01-01T00:01:00Z,42001\n", "p.csv");
  ASSERT_EQ(bars.size(), 2U);
  EXPECT_FALSE(bars[0].candle);
  EXPECT_EQ(bars[0].close, Price::from_cents(4'200'050));
  EXPECT_EQ(bars[0].low, bars[0].close);
}

TEST(BacktestInputs, a_byte_order_mark_before_the_header_is_not_part_of_its_first_name) {
  // A spreadsheet's export: the first column's name used to carry the mark,
  // so a file whose time column came first had "no time column".
  const std::vector<PriceBar> bars = parse_price_bars(
      "\xEF\xBB\xBFtimestamp_utc,close\n2024-01-01T00:00:00Z,42000.5\n2024-01-01T00:01:00Z,42001\n", "p.csv");
  ASSERT_EQ(bars.size(), 2U);
  EXPECT_EQ(bars[1].close, Price::from_dollars(42'001));
}

TEST(BacktestInputs, bad_price_cell_is_named_by_file_line_and_column) {
  EXPECT_EQ(error_of([] { (void)parse_price_bars("epoch_s,close\n1584009600,6000\n1584009900,abc\n", "p.csv"); }),
            "p.csv:3:12: not a price between 0 and 10,000,000: 'abc'");
  EXPECT_EQ(error_of([] { (void)parse_price_bars("epoch_s,close\n1584009600,-5\n", "p.csv"); }),
            "p.csv:2:12: not a price between 0 and 10,000,000: '-5'");
  EXPECT_EQ(error_of([] { (void)parse_price_bars("epoch_s,close\n1584009600,6000\n1584009600,6001\n", "p.csv"); }),
            "p.csv:3:1: time does not increase (rows must be sorted, without duplicates)");
  EXPECT_EQ(error_of([] { (void)parse_price_bars("epoch_s,close\n1584009600\n", "p.csv"); }),
            "p.csv:2:1: expected 2 columns, found 1");
  EXPECT_EQ(error_of([] { (void)parse_price_bars("when,close\n1,2\n", "p.csv"); }).substr(0, 9), "p.csv:1:1");
  EXPECT_EQ(error_of([] { (void)parse_price_bars("epoch_s,open,high,low,close\n1584009600,10,9,8,9\n", "p.csv"); }),
            "p.csv:2:15: the candle's high and low do not contain its open and close");
}

TEST(BacktestInputs, candle_is_replayed_as_open_extremes_and_close_inside_its_interval) {
  const std::vector<PriceBar> bars = parse_price_bars("epoch_s,open,high,low,close\n"
                                                      "0,100,120,90,110\n"   // closed up: low first
                                                      "300,110,115,80,85\n", // closed down: high first
                                                      "p.csv");
  const std::vector<hedging::PricePoint> path = replay_path(bars);
  ASSERT_EQ(path.size(), 8U);
  const std::int64_t second = 1'000'000'000;
  EXPECT_EQ(path[0].price, Price::from_dollars(100));
  EXPECT_EQ(path[1].price, Price::from_dollars(90));
  EXPECT_EQ(path[2].price, Price::from_dollars(120));
  EXPECT_EQ(path[3].price, Price::from_dollars(110));
  EXPECT_EQ(path[3].time, Timestamp{225 * second});
  EXPECT_EQ(path[5].price, Price::from_dollars(115));
  EXPECT_EQ(path[6].price, Price::from_dollars(80));
  EXPECT_EQ(path[7].time, Timestamp{(300 + 225) * second}) << "the last candle takes the median interval";
  for (std::size_t i = 1; i < path.size(); ++i) {
    EXPECT_LT(path[i - 1].time, path[i].time);
  }
}

TEST(BacktestInputs, reads_intake_json_lines_and_names_the_bad_line) {
  const std::vector<LiabilityFlow> flows =
      parse_liability_lines(R"({"id":"w-1","kind":"usd_credit","usd_cents":2500,"ts":1700000000123})"
                            "\n\n"
                            R"({"id":"w-2","kind":"usd_debit","sats":4210,"ts":1700000001000})"
                            "\n",
                            "flows.jsonl");
  ASSERT_EQ(flows.size(), 2U);
  EXPECT_TRUE(flows[0].credit);
  EXPECT_EQ(flows[0].usd_cents, 2'500);
  EXPECT_EQ(flows[0].time, Timestamp{1'700'000'000'123'000'000});
  EXPECT_FALSE(flows[1].credit);
  EXPECT_FALSE(flows[1].usd_cents.has_value());
  EXPECT_EQ(flows[1].sats, 4'210);

  const std::string error = error_of([] {
    (void)parse_liability_lines(R"({"id":"w-1","kind":"usd_credit","usd_cents":1,"ts":1})"
                                "\n"
                                R"({"id":"w-2","kind":"usd_credit","usd_cents":1,"ts":1,"currency":"EUR"})",
                                "flows.jsonl");
  });
  EXPECT_EQ(error.rfind("flows.jsonl:2:1: ", 0), 0U) << error;
  EXPECT_NE(error.find("currency"), std::string::npos) << error;
}

TEST(BacktestInputs, generated_flows_follow_the_seed_and_keep_the_liability_positive) {
  std::vector<hedging::PricePoint> path;
  for (std::int64_t i = 0; i < 2'000; ++i) {
    // Calm, then a 40 % fall over the last quarter.
    const std::int64_t dollars = i < 1'500 ? 10'000 + (i % 7) : 10'000 - (i - 1'500) * 8;
    path.push_back({Timestamp{i * 60'000'000'000}, Price::from_dollars(dollars)});
  }
  FlowGeneratorConfig config;
  const std::vector<LiabilityFlow> first = generate_flows(path, config);
  const std::vector<LiabilityFlow> again = generate_flows(path, config);
  config.seed = 2;
  const std::vector<LiabilityFlow> other = generate_flows(path, config);
  ASSERT_EQ(first.size(), again.size());
  for (std::size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].usd_cents, again[i].usd_cents);
    EXPECT_EQ(first[i].credit, again[i].credit);
  }
  EXPECT_NE(first.size(), other.size());
  EXPECT_EQ(first[0].usd_cents, 5'000'000);
  std::int64_t liability = 0;
  std::int64_t calm_events = 0;
  std::int64_t crash_events = 0;
  std::int64_t crash_credits = 0;
  for (const LiabilityFlow& flow : first) {
    liability += flow.credit ? *flow.usd_cents : -*flow.usd_cents;
    EXPECT_GT(liability, 0);
    const bool in_crash = flow.time >= path[1'500].time;
    (in_crash ? crash_events : calm_events) += flow.time > path[0].time ? 1 : 0;
    crash_credits += in_crash && flow.credit ? 1 : 0;
  }
  // Per minute, people move more money while the price falls, and mostly into dollars.
  EXPECT_GT(crash_events * 1'500, calm_events * 500);
  EXPECT_GT(crash_credits * 10, crash_events * 7);
}

} // namespace
} // namespace synthusd::engine
