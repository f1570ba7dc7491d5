// Runs the harness end to end for a few cycles: a real `synthusd run` is
// started by it on loopback. Asserts that it measures and counts (every
// trigger that must cause an order got one, every path has samples, the
// JSON says so); never how fast anything was.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace {

TEST(LatencyHarness, MeasuresEveryPathAndCountsEveryRequiredOrder) {
  const std::filesystem::path output =
      std::filesystem::temp_directory_path() / ("synthusd-latency-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(output);
  // 64 slots = 8 cycles of one price jump and one payment each; the first 4
  // cycles are warm-up (matched, not recorded). 5 ms slots leave 20 ms
  // between triggers that must cause an order, so on a loaded machine the
  // previous order's fill is back before the next trigger (a trigger that
  // arrives while the last order is still open may be netted into it).
  const std::string command = std::string(SYNTHUSD_BINARY_DIR) + "/synthusd-latency --slots 64 --interval-us 5000" +
                              " --no-plots --output " + output.string() + " > " + (output.string() + ".out") + " 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream printed(output.string() + ".out");
  const std::string text((std::istreambuf_iterator<char>(printed)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(WIFEXITED(status)) << text;
  ASSERT_EQ(WEXITSTATUS(status), 0) << text;

  std::ifstream file(output / "latency.json");
  ASSERT_TRUE(file.good()) << text;
  const nlohmann::json results = nlohmann::json::parse(file);
  // Both [engine] hot_path layouts ran, each as its own engine process.
  EXPECT_EQ(results["thread_per_stage"]["failure"], "");
  EXPECT_EQ(results["one_thread"]["failure"], "");
  const nlohmann::json& paths = results["paths"];
  // The floor and the QuickFIX default path: one reply per frame, 2 frames a cycle.
  for (const char* name : {"floor", "quickfix_default"}) {
    EXPECT_EQ(paths[name]["count"], 16) << name;
    EXPECT_EQ(paths[name]["missing"], 0) << name;
  }
  // The engine: each price jump and each payment must cause one order, in either layout.
  for (const std::string prefix : {"engine_", "engine_one_thread_"}) {
    EXPECT_EQ(paths[prefix + "tick_to_order"]["expected"], 8) << prefix;
    EXPECT_EQ(paths[prefix + "tick_to_order"]["matched"], 8) << prefix;
    EXPECT_EQ(paths[prefix + "tick_to_order"]["count"], 4) << prefix;
    EXPECT_EQ(paths[prefix + "payment_to_order"]["expected"], 9) << prefix; // the first liability, then one per cycle
    EXPECT_EQ(paths[prefix + "payment_to_order"]["matched"], 9) << prefix;
    EXPECT_EQ(paths[prefix + "payment_to_order"]["count"], 4) << prefix;
  }
  for (const char* name :
       {"floor", "engine_tick_to_order", "engine_payment_to_order", "engine_one_thread_tick_to_order",
        "engine_one_thread_payment_to_order", "quickfix_default"}) {
    const nlohmann::json& path = paths[name];
    EXPECT_GT(path["p50_ns"].get<long long>(), 0) << name;
    EXPECT_LE(path["min_ns"].get<long long>(), path["p50_ns"].get<long long>()) << name;
    EXPECT_LE(path["p50_ns"].get<long long>(), path["p99_ns"].get<long long>()) << name;
    EXPECT_LE(path["p99_ns"].get<long long>(), path["max_ns"].get<long long>()) << name;
  }
  EXPECT_GT(results["ratios"]["tick_to_order_over_floor_p50"].get<double>(), 0);
  EXPECT_GT(results["ratios"]["one_thread_tick_to_order_over_floor_p50"].get<double>(), 0);
  EXPECT_GT(results["ratios"]["thread_per_stage_over_one_thread_tick_p50"].get<double>(), 0);
  EXPECT_TRUE(std::filesystem::exists(output / "latency-engine-thread_per_stage" / "engine.toml"));
  std::ifstream one_thread_config(output / "latency-engine-one_thread" / "engine.toml");
  const std::string config((std::istreambuf_iterator<char>(one_thread_config)), std::istreambuf_iterator<char>());
  EXPECT_NE(config.find("hot_path = \"one_thread\""), std::string::npos) << config;
  std::filesystem::remove_all(output);
  std::filesystem::remove(output.string() + ".out");
}

} // namespace
