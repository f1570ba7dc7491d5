// What synthusd backtest takes in. Intake lines (--liabilities) go in as
// the intake would take them: through liabilities::LiabilityAdmission, so a
// resent line is applied once, a conflicting or out-of-bounds one is refused
// with its line, and a stable provider's interest nets against the hedge
// instead of adding to what customers are owed. Funding must cover the
// prices, and an output that cannot be written is refused before any run.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "backtest_test_support.hpp"
#include "synthusd/engine/backtest_command.hpp"
#include "synthusd/engine/backtest_inputs.hpp"
#include "synthusd/engine/backtest_run.hpp"
#include "synthusd/engine/config_file.hpp"

namespace synthusd::engine {
namespace {

using hedging::Timestamp;
using hedging::UsdCents;

BacktestInputs flat_inputs(const std::string& lines) {
  BacktestInputs inputs;
  inputs.kernel = load_config(SYNTHUSD_SOURCE_DIR "/config/backtest.toml").kernel;
  inputs.path = minute_path({20'000, 20'000, 20'000, 20'000, 20'000, 20'000});
  inputs.flows = parse_liability_lines(lines, "lines.jsonl");
  return inputs;
}

// ts of the path's n-th minute, in Unix milliseconds (minute_path starts 2024-01-01).
std::string ts(int minute) { return std::to_string(1'704'067'200'000LL + minute * 60'000LL); }

std::vector<std::string> refusals(const PolicyResult& result) {
  std::vector<std::string> texts;
  for (const BacktestMarker& marker : result.markers) {
    if (marker.kind == "refused") {
      texts.push_back(marker.text);
    }
  }
  return texts;
}

TEST(BacktestIntake, a_resent_line_is_applied_once_and_a_conflicting_or_oversized_one_is_refused_with_its_line) {
  const std::string lines =
      R"({"id":"a","kind":"usd_credit","usd_cents":5000000,"ts":)" + ts(0) + "}\n" +
      R"({"id":"a","kind":"usd_credit","usd_cents":5000000,"ts":)" + ts(0) + "}\n" +   // resent
      R"({"id":"a","kind":"usd_debit","usd_cents":5000000,"ts":)" + ts(1) + "}\n" +    // same id, other kind
      R"({"id":"b","kind":"usd_credit","usd_cents":100000001,"ts":)" + ts(2) + "}\n" + // above $1,000,000
      R"({"id":"c","kind":"usd_debit","usd_cents":9000000,"ts":)" + ts(3) + "}\n" +    // more than is owed
      R"({"id":"d","kind":"usd_debit","usd_cents":1000000,"ts":)" + ts(4) + "}\n";
  const BacktestInputs inputs = flat_inputs(lines);
  const PolicyResult result = run_backtest(inputs, policy_by_name("banded", inputs.kernel.bands));
  EXPECT_EQ(result.final_liability, UsdCents{4'000'000}); // $50,000 once, less $10,000
  EXPECT_EQ(result.lines_repeated, 1U);
  EXPECT_EQ(result.lines_refused, 3U);
  const std::vector<std::string> refused = refusals(result);
  ASSERT_EQ(refused.size(), 3U);
  EXPECT_EQ(refused[0], "line 3: a: id already admitted with another kind or amount");
  EXPECT_EQ(refused[1], "line 4: b: usd_cents above the per-payment limit");
  EXPECT_EQ(refused[2], "line 5: c: a debit larger than the liability");
  // What was admitted is hedged.
  const BacktestSample& last = result.samples.back();
  EXPECT_LE((last.hedge - last.liability).abs().value * 1'000, last.liability.value * 3) << "within 30 bps";
}

TEST(BacktestIntake, a_line_older_than_the_backfill_window_is_refused_not_placed_at_the_first_price) {
  // A ts in seconds reads as January 1970: the intake refuses it, and so
  // does the backtest, instead of booking it as the opening balance.
  const std::string lines = R"({"id":"s","kind":"usd_credit","usd_cents":5000000,"ts":1704067200})"
                            "\n" +
                            std::string(R"({"id":"m","kind":"usd_credit","usd_cents":1000000,"ts":)") + ts(1) + "}\n";
  const BacktestInputs inputs = flat_inputs(lines);
  const PolicyResult result = run_backtest(inputs, policy_by_name("banded", inputs.kernel.bands));
  EXPECT_EQ(result.final_liability, UsdCents{1'000'000});
  ASSERT_EQ(refusals(result).size(), 1U);
  EXPECT_EQ(refusals(result)[0], "line 1: s: ts is older than the backfill window before the first price");
}

TEST(BacktestIntake, a_stable_provider_nets_against_the_hedge_and_is_not_owed_to_customers) {
  const std::string credit = R"({"id":"a","kind":"usd_credit","usd_cents":5000000,"ts":)" + ts(0) + "}\n";
  const std::string provider =
      R"({"id":"p","kind":"provider_increase","provider":"alice","usd_cents":2000000,"ts":)" + ts(1) + "}\n";
  const BacktestInputs alone = flat_inputs(credit);
  const BacktestInputs netted = flat_inputs(credit + provider);
  const PolicyResult without = run_backtest(alone, policy_by_name("banded", alone.kernel.bands));
  const PolicyResult with = run_backtest(netted, policy_by_name("banded", netted.kernel.bands));
  EXPECT_EQ(with.final_liability, UsdCents{5'000'000}); // customers are owed the same
  EXPECT_EQ(with.lines_refused, 0U);
  // The provider's $20,000 long offsets $20,000 of the $50,000 short.
  const auto near = [](UsdCents hedge, std::int64_t cents) { return (hedge.value - cents) * 1'000 / cents; };
  EXPECT_EQ(near(without.samples.back().hedge, 5'000'000), 0) << without.samples.back().hedge.value; // within 10 bps
  EXPECT_EQ(near(with.samples.back().hedge, 3'000'000), 0) << with.samples.back().hedge.value;
}

TEST(BacktestIntake, lines_are_admitted_in_their_own_time_however_far_the_next_point_is) {
  // Hourly points: a provider's line at 00:30 is reached at 01:00, and the
  // opening book a day before the first price at 00:00. The intake's live
  // window (10 minutes) and its daily limit are the lines' own.
  BacktestInputs inputs;
  inputs.kernel = load_config(SYNTHUSD_SOURCE_DIR "/config/backtest.toml").kernel;
  for (int hour = 0; hour < 4; ++hour) {
    inputs.path.push_back(
        {Timestamp{1'704'067'200'000'000'000 + hour * 3'600'000'000'000LL}, hedging::Price::from_dollars(20'000)});
  }
  std::string lines;
  for (int day = 12; day >= 1; --day) { // $1,000,000 a day for 12 days: $12,000,000, within $10,000,000 a day
    lines += R"({"id":"h)" + std::to_string(day) + R"(","kind":"usd_credit","usd_cents":100000000,"ts":)" +
             std::to_string(1'704'067'200'000LL - day * 86'400'000LL) + "}\n";
  }
  lines += R"({"id":"p0","kind":"provider_increase","provider":"alice","usd_cents":100000000,"ts":)" +
           std::to_string(1'704'067'200'000LL - 3'600'000LL) + "}\n";
  lines += R"({"id":"p1","kind":"provider_increase","provider":"bob","usd_cents":100000000,"ts":)" +
           std::to_string(1'704'067'200'000LL + 1'800'000LL) + "}\n";
  inputs.flows = parse_liability_lines(lines, "lines.jsonl");
  const PolicyResult result = run_backtest(inputs, policy_by_name("banded", inputs.kernel.bands));
  EXPECT_EQ(result.lines_refused, 0U) << (refusals(result).empty() ? "" : refusals(result)[0]);
  EXPECT_EQ(result.final_liability, UsdCents{1'200'000'000});
  // Both providers' $1,000,000 longs offset the short.
  const std::int64_t hedge = result.samples.back().hedge.value;
  EXPECT_EQ((hedge - 1'000'000'000) * 1'000 / 1'000'000'000, 0) << hedge; // within 10 bps of $10,000,000
}

// What the command says about its inputs before it runs anything.
std::string command_refusal(const BacktestOptions& options) {
  std::ostringstream out;
  std::ostringstream progress;
  try {
    (void)run_backtest_command(options, out, progress);
  } catch (const std::exception& error) {
    EXPECT_EQ(progress.str(), "") << "it ran before refusing";
    return error.what();
  }
  return "no refusal";
}

BacktestOptions excerpt_options() {
  BacktestOptions options;
  options.prices_path = kPrices;
  options.funding_path = kFunding;
  options.config_path = SYNTHUSD_SOURCE_DIR "/config/backtest.toml";
  options.flows_seed = 1;
  options.policies = "banded";
  return options;
}

TEST(BacktestCommand, funding_that_does_not_cover_the_prices_is_refused_instead_of_shifted_onto_them) {
  // The excerpt's funding is 2020-03-12 00:00-23:00; prices from 06:00 to 16:00.
  BacktestOptions options = excerpt_options();
  EXPECT_EQ(command_refusal(options), "no refusal");
  options.from = "2020-03-12T06:00:00Z";
  EXPECT_EQ(command_refusal(options), "no refusal");
  const std::string funding = ::testing::TempDir() + "/old_funding.csv";
  std::ofstream(funding) << "timestamp_utc,rate\n2019-01-01T00:00:00Z,0\n2019-01-01T08:00:00Z,0.01\n";
  options.funding_path = funding;
  EXPECT_EQ(command_refusal(options),
            funding + ": the funding rows end at 2019-01-01T08:00:00Z, more than a day before the prices' last point "
                      "2020-03-12T16:03:45Z (--funding must cover --prices)");
  std::ofstream(funding) << "timestamp_utc,rate\n2020-03-12T10:00:00Z,0\n2020-03-13T00:00:00Z,0.01\n";
  EXPECT_EQ(command_refusal(options),
            funding + ": the funding rows start at 2020-03-12T10:00:00Z, after the prices' first point "
                      "2020-03-12T06:00:00Z (--funding must cover --prices)");
}

TEST(BacktestCommand, an_output_that_cannot_be_written_is_refused_before_the_runs) {
  BacktestOptions options = excerpt_options();
  options.report_path = ::testing::TempDir() + "/no/such/folder/report.html";
  EXPECT_EQ(command_refusal(options), "--report: cannot write " + options.report_path);
}

} // namespace
} // namespace synthusd::engine
