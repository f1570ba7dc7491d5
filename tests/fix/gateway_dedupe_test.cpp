// ExecID deduplication in bounded memory.
#include "synthusd/fix/gateway_dedupe.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <set>
#include <string>

namespace synthusd::fix {
namespace {

bool insert(ExecIdDeduplicator& dedupe, const std::string& id) { return dedupe.insert(id.data(), id.size()); }
bool contains(const ExecIdDeduplicator& dedupe, const std::string& id) { return dedupe.contains(id.data(), id.size()); }

TEST(ExecIdDeduplicatorTest, SecondSightingIsADuplicate) {
  ExecIdDeduplicator dedupe(8);
  EXPECT_TRUE(insert(dedupe, "E1"));
  EXPECT_FALSE(insert(dedupe, "E1"));
  EXPECT_TRUE(insert(dedupe, "E2"));
  EXPECT_FALSE(insert(dedupe, "E2"));
  EXPECT_EQ(dedupe.size(), 2U);
}

TEST(ExecIdDeduplicatorTest, ForgetsOnlyTheOldestBeyondCapacity) {
  ExecIdDeduplicator dedupe(4);
  for (int i = 1; i <= 6; ++i) {
    EXPECT_TRUE(insert(dedupe, "E" + std::to_string(i)));
  }
  EXPECT_EQ(dedupe.size(), 4U);
  EXPECT_FALSE(contains(dedupe, "E1"));
  EXPECT_FALSE(contains(dedupe, "E2"));
  for (int i = 3; i <= 6; ++i) {
    EXPECT_TRUE(contains(dedupe, "E" + std::to_string(i))) << i;
  }
}

// Against a reference model (a deque of the last N ids), over a long random
// stream with many repeats: exercises eviction with backward-shift deletion
// across wrapped probe chains.
TEST(ExecIdDeduplicatorTest, MatchesAReferenceModelOverAChurningStream) {
  constexpr std::size_t kCapacity = 64;
  ExecIdDeduplicator dedupe(kCapacity);
  std::deque<std::string> window;
  std::mt19937 random(12345);
  std::uniform_int_distribution<int> pick(0, 199);
  for (int step = 0; step < 100'000; ++step) {
    const std::string id = "X" + std::to_string(pick(random));
    const bool expected_new = std::find(window.begin(), window.end(), id) == window.end();
    ASSERT_EQ(insert(dedupe, id), expected_new) << "step " << step;
    if (expected_new) {
      window.push_back(id);
      if (window.size() > kCapacity) {
        window.pop_front();
      }
    }
    ASSERT_EQ(dedupe.size(), window.size());
  }
  for (const std::string& id : window) {
    EXPECT_TRUE(contains(dedupe, id));
  }
}

// A venue restarted with ids from 1 repeats (OrderID, ExecID) on a new
// order of ours: the key holds our ClOrdID too, so the new report is new;
// the same report again is still a duplicate. Empty fields keep their place.
TEST(ExecIdDeduplicatorTest, FieldKeysDifferByClientOrderIdAndByFieldPosition) {
  using Field = ExecIdDeduplicator::Field;
  ExecIdDeduplicator dedupe(8);
  const Field first[4] = {{"T1", 2}, {"", 0}, {"1", 1}, {"1", 1}};
  const Field after_restart[4] = {{"T2", 2}, {"", 0}, {"1", 1}, {"1", 1}};
  EXPECT_TRUE(dedupe.insert_fields(first, 4));
  EXPECT_TRUE(dedupe.insert_fields(after_restart, 4)) << "a real fill would be dropped";
  EXPECT_FALSE(dedupe.insert_fields(after_restart, 4)) << "a resend is still a duplicate";
  const Field shifted_a[2] = {{"a", 1}, {"", 0}};
  const Field shifted_b[2] = {{"", 0}, {"a", 1}};
  EXPECT_NE(ExecIdDeduplicator::hash_fields(shifted_a, 2), ExecIdDeduplicator::hash_fields(shifted_b, 2));
  EXPECT_EQ(ExecIdDeduplicator::hash_fields(first + 2, 2), ExecIdDeduplicator::hash_pair("1", 1, "1", 1));
}

TEST(ExecIdDeduplicatorTest, HashIsNeverZero) {
  EXPECT_NE(ExecIdDeduplicator::hash("", 0), 0U);
  EXPECT_NE(ExecIdDeduplicator::hash("a", 1), ExecIdDeduplicator::hash("b", 1));
}

} // namespace
} // namespace synthusd::fix
