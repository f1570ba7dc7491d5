// Per-thread CPU placement ([engine.cpus]) and the wait rule
// (engine/src/thread_placement.cpp): a thread spins only on a CPU of its own.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config_test_support.hpp"

#include "synthusd/engine/thread_placement.hpp"

namespace synthusd::engine {
namespace {

using test_support::describe;
using test_support::problems_of;

std::vector<RunThread> threads(std::vector<int> cpus) {
  // kernel, journal, one gateway, one feed (all can spin), one source (never spins).
  std::vector<RunThread> list{
      {"kernel", true}, {"journal", true}, {"fix-deribit", true}, {"feed-deribit", true}, {"intake", false}};
  for (std::size_t i = 0; i < cpus.size(); ++i) {
    list[i].cpu = cpus[i];
  }
  return list;
}

using W = ThreadWait;

TEST(ThreadPlacement, spin_mode_spins_only_threads_pinned_to_a_cpu_of_their_own) {
  const auto waits = plan_waits(threads({2, 1, 3, -1, 1}), WaitMode::spin, 8, 0);
  // kernel and gateway have CPUs to themselves; journal shares CPU 1 with
  // the intake; the feed is not pinned.
  EXPECT_EQ(waits, (std::vector<W>{W::spin, W::park, W::spin, W::park, W::park}));
}

TEST(ThreadPlacement, threads_that_do_not_spin_spin_then_park_when_spin_before_park_is_set) {
  const auto waits = plan_waits(threads({2, -1, -1, -1, -1}), WaitMode::spin, 8, 50'000);
  EXPECT_EQ(waits,
            (std::vector<W>{W::spin, W::spin_then_park, W::spin_then_park, W::spin_then_park, W::spin_then_park}));
}

TEST(ThreadPlacement, two_threads_pinned_to_one_cpu_neither_spins) {
  const auto waits = plan_waits(threads({2, -1, 2, -1, -1}), WaitMode::automatic, 8, 0);
  EXPECT_EQ(waits[0], W::park);
  EXPECT_EQ(waits[2], W::park);
}

TEST(ThreadPlacement, blocking_never_spins_even_on_a_cpu_of_its_own) {
  const auto waits = plan_waits(threads({2, 3, 4, 5, 6}), WaitMode::blocking, 8, 0);
  EXPECT_EQ(waits, std::vector<W>(5, W::park));
}

TEST(ThreadPlacement, auto_spins_unpinned_threads_only_when_each_gets_a_cpu_and_one_is_left) {
  // Four threads can spin: they need four CPUs plus one for the rest.
  EXPECT_EQ(plan_waits(threads({}), WaitMode::automatic, 5, 0),
            (std::vector<W>{W::spin, W::spin, W::spin, W::spin, W::park}));
  // Four CPUs (the old `auto` spun here) are one short: nobody spins.
  EXPECT_EQ(plan_waits(threads({}), WaitMode::automatic, 4, 0), std::vector<W>(5, W::park));
  EXPECT_EQ(plan_waits(threads({}), WaitMode::automatic, 2, 0), std::vector<W>(5, W::park));
}

TEST(ThreadPlacement, auto_counts_cpus_taken_by_pinned_threads) {
  // kernel pinned to CPU 0: three unpinned spinners need 3 + 1 of the 4 others.
  EXPECT_EQ(plan_waits(threads({0}), WaitMode::automatic, 5, 0),
            (std::vector<W>{W::spin, W::spin, W::spin, W::spin, W::park}));
  EXPECT_EQ(plan_waits(threads({0}), WaitMode::automatic, 4, 0),
            (std::vector<W>{W::spin, W::park, W::park, W::park, W::park}));
}

TEST(ThreadPlacement, run_threads_names_every_thread_with_its_configured_cpu) {
  RunConfig run;
  run.gateways.emplace_back().venue = "deribit";
  run.feeds.emplace_back().venue = "okx";
  run.intake.enabled = true;
  run.engine.cpus = {{"fix-deribit", 3, 0}};
  const std::vector<RunThread> list = run_threads(run);
  std::vector<std::string> names;
  for (const RunThread& thread : list) {
    names.push_back(thread.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"kernel", "journal", "fix-deribit", "feed-okx", "intake"}));
  EXPECT_EQ(list[2].cpu, 3);
  EXPECT_EQ(list[0].cpu, -1);
  EXPECT_FALSE(list[4].can_spin);
}

TEST(ThreadPlacement, one_thread_hot_path_replaces_the_kernel_gateway_and_feed_threads_with_hot_path) {
  RunConfig run;
  run.engine.hot_path = HotPath::one_thread;
  run.gateways.emplace_back().venue = "deribit";
  run.gateways.emplace_back().venue = "okx";
  run.feeds.emplace_back().venue = "okx";
  run.intake.enabled = true;
  run.engine.cpus = {{"hot-path", 1, 0}};
  const std::vector<RunThread> list = run_threads(run);
  std::vector<std::string> names;
  for (const RunThread& thread : list) {
    names.push_back(thread.name);
  }
  // The intake is polled by the hot path (its epoll fd on the io_uring); NATS keeps its thread.
  EXPECT_TRUE(source_on_hot_path(run, "intake"));
  EXPECT_FALSE(source_on_hot_path(run, "nats"));
  EXPECT_EQ(names, (std::vector<std::string>{"hot-path", "journal"}));
  EXPECT_EQ(list[0].cpu, 1);
  EXPECT_TRUE(list[0].can_spin);
  // Pinned alone, it is the one thread that spins in spin mode.
  EXPECT_EQ(plan_waits(list, WaitMode::spin, 2, 0), (std::vector<W>{W::spin, W::park}));
  run.nats.enabled = true;
  EXPECT_EQ(run_threads(run).back().name, "nats");
  run.engine.hot_path = HotPath::thread_per_stage;
  EXPECT_FALSE(source_on_hot_path(run, "intake"));
}

RunConfig one_gateway(WaitMode wait, std::vector<ThreadCpu> cpus) {
  RunConfig run;
  run.gateways.emplace_back().venue = "deribit";
  run.engine.wait = wait;
  run.engine.cpus = std::move(cpus);
  return run;
}

TEST(ThreadPlacementConfig, a_cpu_the_machine_does_not_have_is_an_error_naming_the_key) {
  const auto problems = placement_problems(one_gateway(WaitMode::automatic, {{"kernel", 4, 7}}), 4, "f.toml");
  ASSERT_EQ(problems.size(), 1U) << describe(problems);
  EXPECT_EQ(problems[0].key, "engine.cpus.kernel");
  EXPECT_EQ(problems[0].line, 7U);
  EXPECT_NE(problems[0].message.find("CPU 4 does not exist"), std::string::npos);
}

TEST(ThreadPlacementConfig, two_threads_on_one_cpu_with_wait_spin_is_an_error_naming_the_key) {
  const auto problems =
      placement_problems(one_gateway(WaitMode::spin, {{"kernel", 1, 0}, {"fix-deribit", 1, 0}}), 4, "f.toml");
  ASSERT_EQ(problems.size(), 1U) << describe(problems);
  EXPECT_EQ(problems[0].key, "engine.cpus.fix-deribit");
  EXPECT_NE(problems[0].message.find("engine.cpus.kernel"), std::string::npos);
}

TEST(ThreadPlacementConfig, sharing_a_cpu_is_allowed_where_nothing_spins) {
  EXPECT_TRUE(
      placement_problems(one_gateway(WaitMode::blocking, {{"kernel", 1, 0}, {"fix-deribit", 1, 0}}), 4, "f").empty());
  EXPECT_TRUE(
      placement_problems(one_gateway(WaitMode::automatic, {{"kernel", 1, 0}, {"fix-deribit", 1, 0}}), 4, "f").empty());
}

TEST(ThreadPlacementConfig, with_one_thread_a_cpu_for_the_kernel_thread_names_a_thread_that_does_not_run) {
  RunConfig run = one_gateway(WaitMode::automatic, {{"kernel", 1, 4}});
  run.engine.hot_path = HotPath::one_thread;
  const auto problems = placement_problems(run, 4, "f.toml");
  ASSERT_EQ(problems.size(), 1U) << describe(problems);
  EXPECT_EQ(problems[0].key, "engine.cpus.kernel");
  EXPECT_NE(problems[0].message.find("hot-path"), std::string::npos) << problems[0].message;
}

TEST(ThreadPlacementConfig, a_key_that_names_no_thread_is_an_error_listing_the_threads) {
  const auto problems = placement_problems(one_gateway(WaitMode::automatic, {{"fix-okx", 1, 0}}), 4, "f.toml");
  ASSERT_EQ(problems.size(), 1U) << describe(problems);
  EXPECT_EQ(problems[0].key, "engine.cpus.fix-okx");
  EXPECT_NE(problems[0].message.find("kernel, journal, fix-deribit"), std::string::npos);
}

// The intake had a thread in one_thread configurations before it moved onto
// hot-path: such a key says where it went.
TEST(ThreadPlacementConfig, an_intake_key_with_one_thread_says_the_intake_runs_on_hot_path) {
  RunConfig run = one_gateway(WaitMode::automatic, {{"intake", 1, 0}});
  run.engine.hot_path = HotPath::one_thread;
  run.intake.enabled = true;
  const auto problems = placement_problems(run, 4, "f.toml");
  ASSERT_EQ(problems.size(), 1U) << describe(problems);
  EXPECT_EQ(problems[0].key, "engine.cpus.intake");
  EXPECT_NE(problems[0].message.find("runs on hot-path"), std::string::npos) << problems[0].message;
  EXPECT_NE(problems[0].message.find("pin hot-path instead"), std::string::npos) << problems[0].message;
}

TEST(ThreadPlacementConfig, the_file_reports_placement_and_replaced_keys_by_name) {
  const std::string text = std::string(test_support::kTwoVenueKernel) +
                           "\n[engine]\nwait = \"spin\"\nkernel_cpu = 1\n\n[engine.cpus]\nkernel = 0\nnope = 0\n";
  const std::string problems = describe(problems_of(text));
  EXPECT_NE(problems.find("engine.kernel_cpu"), std::string::npos) << problems;
  EXPECT_NE(problems.find("replaced by [engine.cpus]"), std::string::npos) << problems;
  EXPECT_NE(problems.find("engine.cpus.nope"), std::string::npos) << problems;
}

} // namespace
} // namespace synthusd::engine
