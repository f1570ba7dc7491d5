// The run config's [oracle] section: the index price sats are converted at
// (engine/src/run/index_publisher.hpp) comes from the feeds stage's
// PriceOracle, whose own option struct the section fills. Two agreeing
// sources by default, so a file with one feed has to say it trusts one.
#include <gtest/gtest.h>

#include <string>
#include <type_traits>

#include "config_test_support.hpp"
#include "synthusd/engine/config_file.hpp"

namespace synthusd::engine {
namespace {

using test_support::line_of;
using test_support::problems_of;

constexpr const char* kKernel = test_support::kTwoVenueKernel;

constexpr const char* kOneFeed = R"(
[[feeds]]
venue = "deribit"
protocol = "deribit"
host = "www.deribit.com"
symbols = ["BTC-PERPETUAL"]
)";

constexpr const char* kTwoFeeds = R"(
[[feeds]]
venue = "deribit"
protocol = "deribit"
host = "www.deribit.com"
symbols = ["BTC-PERPETUAL"]

[[feeds]]
venue = "okx"
protocol = "okx"
host = "ws.okx.com"
symbols = ["BTC-USD-SWAP"]
)";

std::string all_problems(const std::string& text) { return test_support::describe(problems_of(text)); }

TEST(RunConfigOracle, defaults_are_two_agreeing_sources_sixty_seconds_five_percent_and_a_ten_percent_jump_rule) {
  static_assert(std::is_same_v<decltype(RunConfig::oracle), feeds::OracleConfig>);
  const RunConfig run = parse_config(std::string(kKernel) + kTwoFeeds, "t").run;
  EXPECT_EQ(run.oracle.min_agreeing, 2u);
  EXPECT_EQ(run.oracle.max_age, hedging::Duration::from_seconds(60));
  EXPECT_EQ(run.oracle.max_deviation, hedging::Ratio::from_ppm(50'000));
  EXPECT_EQ(run.oracle.jump_threshold, hedging::Ratio::from_ppm(100'000));
  EXPECT_EQ(run.oracle.jump_confirmations, 2u);
  EXPECT_EQ(describe(run.oracle), "min_sources 2, max_staleness_seconds 60, max_deviation 0.05, jump_threshold 0.1, "
                                  "jump_confirmations 2");
}

TEST(RunConfigOracle, every_key_is_read) {
  const std::string text = std::string(kKernel) + kTwoFeeds + R"(
[oracle]
min_sources = 1
max_staleness_seconds = 12.5
max_deviation = 0.02
jump_threshold = 0.15
jump_confirmations = 1
)";
  const RunConfig run = parse_config(text, "t").run;
  EXPECT_EQ(run.oracle.min_agreeing, 1u);
  EXPECT_EQ(run.oracle.max_age, hedging::Duration::from_milliseconds(12'500));
  EXPECT_EQ(run.oracle.max_deviation, hedging::Ratio::from_ppm(20'000));
  EXPECT_EQ(run.oracle.jump_threshold, hedging::Ratio::from_ppm(150'000));
  EXPECT_EQ(run.oracle.jump_confirmations, 1u);
}

TEST(RunConfigOracle, one_feed_with_the_defaults_is_refused_until_the_file_says_it_trusts_one_source) {
  EXPECT_EQ(all_problems(std::string(kKernel) + kOneFeed),
            "test.toml: oracle: the defaults need 2 agreeing price sources and there is 1 [[feeds]] entry: add a "
            "feed, or set [oracle] min_sources = 1 and jump_confirmations = 1 to trust one venue's price alone\n");
  const std::string trusted = std::string(kKernel) + kOneFeed + "\n[oracle]\nmin_sources = 1\njump_confirmations = 1\n";
  EXPECT_EQ(all_problems(trusted), "");
  // No feed at all: nothing to check against (and never an index to convert sats at).
  EXPECT_EQ(all_problems(std::string(kKernel)), "");
}

TEST(RunConfigOracle, more_sources_than_feeds_are_refused_naming_the_key) {
  const std::string text = std::string(kKernel) + kTwoFeeds + "\n[oracle]\nmin_sources = 3\njump_confirmations = 3\n";
  const auto problems = problems_of(text);
  ASSERT_EQ(problems.size(), 2u) << test_support::describe(problems);
  EXPECT_EQ(problems[0].key, "oracle.min_sources");
  EXPECT_EQ(problems[0].line, line_of(text, "min_sources"));
  EXPECT_EQ(problems[0].message, "exceeds the 2 [[feeds]] entries (price sources)");
  EXPECT_EQ(problems[1].key, "oracle.jump_confirmations");
  EXPECT_EQ(problems[1].message, "exceeds the 2 [[feeds]] entries (price sources): a jump could never be confirmed");
}

TEST(RunConfigOracle, bad_values_are_refused_with_their_key_and_line) {
  const std::string text = std::string(kKernel) + kTwoFeeds + R"(
[oracle]
min_sources = 0
max_staleness_seconds = 0
max_deviation = 0
jump_threshold = 1.5
jump_confirmations = 0
max_age = 5
)";
  const auto problems = problems_of(text);
  ASSERT_EQ(problems.size(), 6u) << test_support::describe(problems);
  const auto expect = [&](std::size_t index, const char* key, const std::string& message) {
    EXPECT_EQ(problems[index].key, std::string("oracle.") + key) << index;
    EXPECT_EQ(problems[index].line, line_of(text, std::string(key) + " =")) << key;
    EXPECT_EQ(problems[index].message, message) << key;
  };
  expect(0, "min_sources", "must be between 1 and 64");
  expect(1, "max_staleness_seconds", "must be more than 0 and at most 3600");
  expect(2, "max_deviation", "must be more than 0 and at most 1");
  expect(3, "jump_threshold", "must be more than 0 and at most 1");
  expect(4, "jump_confirmations", "must be between 1 and 64");
  expect(5, "max_age", "unknown key");
}

} // namespace
} // namespace synthusd::engine
