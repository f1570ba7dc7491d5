// Same inputs, same outputs, always; and no heap allocation inside on().

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "event_driver.hpp"
#include "synthusd/hedging/digest.hpp"

// GCC flags malloc/free inside replaced global operators as mismatched; they
// are matched by construction here.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<bool> counting{false};
std::atomic<std::uint64_t> allocations{0};
} // namespace

// Counting global allocator: every operator new in this binary goes through here.
void* operator new(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) {
    allocations.fetch_add(1, std::memory_order_relaxed);
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    return p;
  }
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

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
  allocations = 0;
  for (std::size_t i = 0; i < events; ++i) {
    const Event event = driver.next(actions);
    counting = count_allocations;
    actions = kernel.on(event);
    counting = false;
    add_actions(digest, actions);
    result.actions += actions.size();
  }
  result.action_hash = digest.value();
  result.state_digest = kernel.state_digest();
  result.orders = kernel.counters().orders;
  result.allocations = allocations;
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
  allocations = 0;
  counting = true;
  auto* p = new int(3);
  asm volatile("" : : "g"(p) : "memory"); // keep the compiler from eliding the pair
  counting = false;
  delete p;
  EXPECT_EQ(allocations.load(), 1u);
}

} // namespace
} // namespace synthusd::hedging
