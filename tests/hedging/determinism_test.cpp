// Same inputs, same outputs, always; and no heap allocation inside on().

#include <gtest/gtest.h>

#include "event_driver.hpp"
#include "support/allocation_counter.hpp"
#include "synthusd/hedging/digest.hpp"

namespace synthusd::hedging {
namespace {

using namespace synthusd::hedging::testing;

struct RunResult {
  std::uint64_t action_hash = 0;
  std::uint64_t state_digest = 0;
  std::uint64_t actions = 0;
  std::uint64_t orders = 0;
  std::uint64_t allocations = 0;
};

RunResult run(std::uint64_t seed, std::size_t events, bool count_allocations) {
  Kernel kernel(full_config());
  EventDriver driver(seed);
  Digest digest;
  RunResult result;
  std::span<const Action> actions;
  for (std::size_t i = 0; i < events; ++i) {
    const Event event = driver.next(actions);
    const std::int64_t before = test_support::allocation_count();
    actions = kernel.on(event);
    if (count_allocations) {
      result.allocations += static_cast<std::uint64_t>(test_support::allocation_count() - before);
    }
    add_actions(digest, actions);
    result.actions += actions.size();
  }
  result.action_hash = digest.value();
  result.state_digest = kernel.state_digest();
  result.orders = kernel.counters().orders;
  return result;
}

TEST(Determinism, a_100000_event_sequence_run_twice_gives_identical_action_streams) {
  const RunResult first = run(42, 100'000, false);
  const RunResult second = run(42, 100'000, false);
  EXPECT_EQ(first.action_hash, second.action_hash);
  EXPECT_EQ(first.state_digest, second.state_digest);
  EXPECT_EQ(first.actions, second.actions);
  // the run must actually exercise the kernel for the comparison to mean anything
  EXPECT_GT(first.orders, 1'000u);
  EXPECT_GT(first.actions, first.orders);
}

TEST(Determinism, a_different_sequence_gives_a_different_action_stream) {
  EXPECT_NE(run(42, 20'000, false).action_hash, run(43, 20'000, false).action_hash);
}

TEST(Allocation, on_never_allocates_after_construction) {
  const RunResult result = run(7, 100'000, true);
  EXPECT_GT(result.orders, 1'000u);
  EXPECT_EQ(result.allocations, 0u);
}

TEST(Allocation, the_counting_allocator_does_count) {
  // guards the test above against a counter that can never move
  const std::int64_t before = test_support::allocation_count();
  auto* p = new int(3);
  asm volatile("" : : "g"(p) : "memory"); // keep the compiler from eliding the pair
  delete p;
  EXPECT_EQ(test_support::allocation_count() - before, 1);
}

} // namespace
} // namespace synthusd::hedging
