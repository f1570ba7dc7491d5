// The deduplication set: every id found by its bytes, however many share a
// slot or a hash prefix, and room made ahead so that inserts allocate nothing.

#include <gtest/gtest.h>

#include <string>

#include "support/allocation_counter.hpp"
#include "synthusd/liabilities/seen_ids.hpp"

namespace synthusd::liabilities {
namespace {

std::string payment_id(int i) { return "lnd:" + std::to_string(i) + std::string(60, 'f'); }

TEST(SeenIds, finds_every_inserted_id_with_its_entry_and_no_other) {
  SeenIds seen;
  for (int i = 0; i < 50'000; ++i) { // several growths of the table and three chunks of bytes
    seen.insert(payment_id(i), {static_cast<std::uint64_t>(i + 1), static_cast<std::uint64_t>(i) * 7});
  }
  ASSERT_EQ(seen.size(), 50'000U);
  for (int i = 0; i < 50'000; ++i) {
    const SeenIds::Entry* entry = seen.find(payment_id(i));
    ASSERT_NE(entry, nullptr) << i;
    EXPECT_EQ(entry->ticket, static_cast<std::uint64_t>(i + 1));
    EXPECT_EQ(entry->fingerprint, static_cast<std::uint64_t>(i) * 7);
  }
  EXPECT_EQ(seen.find(payment_id(50'000)), nullptr);
  EXPECT_EQ(seen.find("lnd:1"), nullptr); // a prefix of a stored id is another id
  EXPECT_EQ(seen.find(payment_id(1) + "f"), nullptr);
  EXPECT_EQ(seen.find(""), nullptr);
}

TEST(SeenIds, ids_that_differ_in_one_byte_or_in_length_are_different_payments) {
  SeenIds seen;
  const std::string base(128, 'a');
  seen.insert(base, {1, 0});
  for (std::size_t position = 0; position < base.size(); ++position) {
    std::string other = base;
    other[position] = 'b';
    EXPECT_EQ(seen.find(other), nullptr) << position;
  }
  EXPECT_EQ(seen.find(base.substr(0, 127)), nullptr);
  ASSERT_NE(seen.find(base), nullptr);
  EXPECT_EQ(seen.find(base)->ticket, 1U);
}

TEST(SeenIds, inserts_allocate_nothing_within_the_room_reserved_ahead) {
  SeenIds seen;
  int next = 0;
  // Several rounds: each reserves while idle, then takes a burst the size
  // of the headroom with ids of the longest kind.
  for (int round = 0; round < 6; ++round) {
    while (seen.reserve_ahead()) {
    }
    const std::string long_prefix(100, 'x');
    std::vector<std::string> ids;
    ids.reserve(SeenIds::kHeadroomIds);
    for (std::size_t i = 0; i < SeenIds::kHeadroomIds; ++i) {
      ids.push_back(long_prefix + std::to_string(next++));
    }
    const auto before = test_support::this_thread_allocation_count();
    for (const std::string& id : ids) {
      seen.insert(id, {1, 1});
    }
    EXPECT_EQ(test_support::this_thread_allocation_count() - before, 0) << "round " << round;
  }
  EXPECT_EQ(seen.growths_on_path(), 0U);
  EXPECT_EQ(seen.size(), 6 * SeenIds::kHeadroomIds);
}

TEST(SeenIds, a_burst_past_the_reserved_room_grows_on_the_spot_and_is_counted) {
  SeenIds seen;
  while (seen.reserve_ahead()) {
  }
  for (std::size_t i = 0; i < 4 * SeenIds::kHeadroomIds; ++i) {
    seen.insert(payment_id(static_cast<int>(i)), {i + 1, 0});
  }
  EXPECT_GT(seen.growths_on_path(), 0U);
  for (std::size_t i = 0; i < 4 * SeenIds::kHeadroomIds; ++i) {
    ASSERT_NE(seen.find(payment_id(static_cast<int>(i))), nullptr);
  }
}

TEST(SeenIds, reserving_when_nothing_is_due_allocates_nothing) {
  SeenIds seen;
  while (seen.reserve_ahead()) {
  }
  seen.insert("w-1", {1, 0});
  const auto before = test_support::this_thread_allocation_count();
  for (int i = 0; i < 1000; ++i) {
    seen.reserve_ahead();
  }
  EXPECT_EQ(test_support::this_thread_allocation_count() - before, 0);
}

// Growing moves the old table a bounded step per call, so that no idle
// moment of the polling thread (the one-thread hot path also reads the
// market) is spent rehashing the whole history; every id stays found
// between the steps, and ids inserted meanwhile too.
TEST(SeenIds, growth_moves_a_bounded_step_per_call_and_every_id_stays_found_meanwhile) {
  SeenIds seen;
  constexpr int kIds = 63'000;
  for (int i = 0; i < kIds; ++i) {
    seen.insert(payment_id(i), {static_cast<std::uint64_t>(i + 1), 0});
  }
  const std::uint64_t growths = seen.growths_on_path();
  // 63,000 ids in 131,072 slots (grown on the spot at 3/4): room for 4,096
  // more at half load needs a bigger table.
  ASSERT_TRUE(seen.reserve_ahead());
  int steps = 1;
  int next = kIds;
  while (seen.reserve_ahead()) {
    ++steps;
    seen.insert(payment_id(next), {static_cast<std::uint64_t>(next + 1), 0});
    ++next;
    for (int i = steps % 97; i < next; i += 97) {
      const SeenIds::Entry* entry = seen.find(payment_id(i));
      ASSERT_NE(entry, nullptr) << "id " << i << " after step " << steps;
      ASSERT_EQ(entry->ticket, static_cast<std::uint64_t>(i + 1));
    }
  }
  // The old table's 131,072 slots, at most 4,096 a step.
  EXPECT_GE(steps, 131'072 / static_cast<int>(SeenIds::kMigrateSlotsPerStep));
  EXPECT_EQ(seen.growths_on_path(), growths);
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(next));
  for (int i = 0; i < next; ++i) {
    ASSERT_NE(seen.find(payment_id(i)), nullptr) << i;
  }
}

TEST(SeenIds, an_empty_id_is_an_id_like_any_other_even_first) {
  SeenIds seen;
  EXPECT_EQ(seen.find(""), nullptr);
  seen.insert("", {7, 0});
  ASSERT_NE(seen.find(""), nullptr);
  EXPECT_EQ(seen.find("")->ticket, 7U);
  EXPECT_EQ(seen.find("a"), nullptr);
}

} // namespace
} // namespace synthusd::liabilities
