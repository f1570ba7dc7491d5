#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "synthusd/liabilities/rejection_log.hpp"
#include "synthusd/liabilities/rejection_tally.hpp"

namespace synthusd::liabilities {
namespace {

using namespace std::chrono_literals;
using Clock = RejectionLog::Clock;

TEST(RejectionTally, counts_each_reason_and_keeps_its_latest_example) {
  RejectionTally tally;
  tally.record("not a JSON object", "id a");
  tally.record("ts too far ahead", "id b");
  tally.record("not a JSON object", "id c");
  const auto taken = tally.take();
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0].reason, "not a JSON object");
  EXPECT_EQ(taken[0].count, 2u);
  EXPECT_EQ(taken[0].example, "id c");
  EXPECT_EQ(taken[1].count, 1u);
  EXPECT_TRUE(tally.take().empty());
}

TEST(RejectionTally, too_many_distinct_reasons_are_counted_under_one_never_dropped) {
  RejectionTally tally;
  const std::size_t sent = RejectionTally::kMaxReasons + 10;
  for (std::size_t i = 0; i < sent; ++i) {
    tally.record("reason " + std::to_string(i));
  }
  const auto taken = tally.take();
  EXPECT_LE(taken.size(), RejectionTally::kMaxReasons);
  std::uint64_t total = 0;
  for (const auto& entry : taken) {
    total += entry.count;
  }
  EXPECT_EQ(total, sent);
  EXPECT_EQ(taken.back().reason, RejectionTally::kOtherReasons);
}

TEST(RejectionLog, a_burst_logs_every_reason_at_once_then_each_reason_once_per_interval) {
  std::vector<std::string> lines;
  RejectionLog log(
      "lnd", [&](const std::string& line) { lines.push_back(line); }, 10s);
  const Clock::time_point start{};
  // A burst with three reasons: three lines, not the last reason only.
  log.add({{"not a JSON object", 5, ""}, {"settle_index is missing", 1, ""}, {"line longer than 10 bytes", 2, ""}},
          start);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "lnd: rejected 5 inputs: not a JSON object");
  EXPECT_EQ(lines[1], "lnd: rejected 1 input: settle_index is missing");
  EXPECT_EQ(lines[2], "lnd: rejected 2 inputs: line longer than 10 bytes");
  // More of a known reason within the interval: counted, not written yet.
  log.add({{"not a JSON object", 7, "id x"}}, start + 1s);
  log.add({{"not a JSON object", 1, "id y"}}, start + 2s);
  EXPECT_EQ(lines.size(), 3u);
  // A new reason is written at once, whatever the others do.
  log.add({{"amount out of range", 1, "id z"}}, start + 3s);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[3], "lnd: rejected 1 input: amount out of range (latest: id z)");
  // Its interval over: one line with everything since.
  log.flush(start + 10s);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[4], "lnd: rejected 8 inputs: not a JSON object (latest: id y) [13 for this reason in all]");
  // Shutdown writes what is left.
  log.add({{"amount out of range", 2, ""}}, start + 11s);
  log.flush(start + 11s, true);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[5], "lnd: rejected 2 inputs: amount out of range (latest: id z) [3 for this reason in all]");
}

TEST(RejectionLog, a_flood_of_distinct_reasons_is_folded_into_one_line_per_interval) {
  std::vector<std::string> lines;
  RejectionLog log(
      "intake", [&](const std::string& line) { lines.push_back(line); }, 10s);
  const Clock::time_point start{};
  for (std::size_t i = 0; i < RejectionLog::kMaxTrackedReasons + 100; ++i) {
    log.add({{"unknown kind " + std::to_string(i), 1, ""}}, start + std::chrono::milliseconds(i));
  }
  // One line per tracked reason, then one for all the others.
  ASSERT_EQ(lines.size(), RejectionLog::kMaxTrackedReasons + 1);
  EXPECT_EQ(lines.back(), "intake: rejected 1 input: " + std::string(RejectionTally::kOtherReasons));
  log.flush(start + 20s, true);
  ASSERT_EQ(lines.size(), RejectionLog::kMaxTrackedReasons + 2);
  EXPECT_EQ(lines.back(), "intake: rejected 99 inputs: " + std::string(RejectionTally::kOtherReasons) +
                              " [100 for this reason in all]");
}

} // namespace
} // namespace synthusd::liabilities
