// synthusd-latency: the wire-to-wire harness (harness.hpp says what it
// measures). Peers of the harness run as this program again with --role.

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "harness.hpp"
#include "report.hpp"
#include "trigger_frame.hpp"

namespace {

std::filesystem::path self_path() {
  std::error_code error;
  const std::filesystem::path path = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::filesystem::path("synthusd-latency") : path;
}

} // namespace

int main(int argc, char** argv) {
  using namespace synthusd::latency;
  CLI::App app{"synthusd-latency: wire-to-wire latency of a real `synthusd run` against the loopback floor"};
  const std::filesystem::path self = self_path();
  HarnessOptions options;
  options.self = self;
  options.engine = self.parent_path() / "synthusd";
  options.output = self.parent_path() / "bench";
  bool quick = false;
  bool no_plots = false;
  int slots = 0;
  int interval_microseconds = 1000;
  std::string role;
  int trigger_port = 0;
  int fix_port = 0;
  std::string directory;
  app.add_flag("--quick", quick, "a short run (under 30 s): 2,400 slots");
  app.add_option("--slots", slots, "schedule slots for the engine (8 a cycle; default 20,000, --quick 2,400)")
      ->check(CLI::Range(16, 10'000'000));
  app.add_option("--interval-us", interval_microseconds, "microseconds between slots (default 1000)")
      ->check(CLI::Range(100, 1'000'000));
  app.add_option("--engine", options.engine, "the synthusd executable (default: beside this program)");
  app.add_option("--output", options.output, "results directory (default: build/bench beside this program)");
  app.add_option("--engine-wait", options.engine_settings.wait, "[engine] wait of the engine under test")
      ->check(CLI::IsMember({"auto", "spin", "blocking"}));
  app.add_option("--spin-before-park-us", options.engine_settings.spin_before_park_microseconds,
                 "[engine] spin_before_park_us of the engine under test")
      ->check(CLI::Range(0, 100'000));
  app.add_option("--kernel-cpu", options.engine_settings.kernel_cpu, "[engine.cpus] kernel (-1: not pinned)");
  app.add_option("--gateway-cpu", options.engine_settings.gateway_cpu, "[engine.cpus] fix-latency (-1: not pinned)");
  app.add_option("--feed-cpu", options.engine_settings.feed_cpu, "[engine.cpus] feed-latency (-1: not pinned)");
  app.add_option("--io-cpu", options.engine_settings.io_cpu, "[engine.cpus] journal and intake (-1: not pinned)");
  std::string hot_path = "both";
  app.add_option("--hot-path", hot_path,
                 "[engine] hot_path layouts to measure, each with its own engine process (default both)")
      ->check(CLI::IsMember({"both", "thread_per_stage", "one_thread"}));
  app.add_flag("--no-plots", no_plots, "write the JSON only");
  // The peers (started by the harness itself).
  app.add_option("--role", role, "internal: run as the floor or quickfix-default peer")
      ->check(CLI::IsMember({"floor", "quickfix-default"}))
      ->group("");
  app.add_option("--trigger-port", trigger_port)->group("");
  app.add_option("--fix-port", fix_port)->group("");
  app.add_option("--directory", directory)->group("");
  CLI11_PARSE(app, argc, argv);

  if (role == "floor") {
    return run_floor_peer(static_cast<std::uint16_t>(trigger_port));
  }
  if (role == "quickfix-default") {
    return run_quickfix_default_peer(static_cast<std::uint16_t>(trigger_port), static_cast<std::uint16_t>(fix_port),
                                     directory.c_str());
  }
  options.engine_slots = slots > 0 ? slots : (quick ? 2'400 : 20'000);
  options.interval_nanoseconds = static_cast<std::int64_t>(interval_microseconds) * 1000;
  options.plots = !no_plots;
  options.thread_per_stage = hot_path != "one_thread";
  options.one_thread = hot_path != "thread_per_stage";
  if (::access(options.engine.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "synthusd-latency: no engine at %s (build the synthusd target or pass --engine)\n",
                 options.engine.c_str());
    return 2;
  }
  try {
    std::printf("synthusd-latency: %d slots every %d us; machine: %s\n", options.engine_slots, interval_microseconds,
                describe_machine().c_str());
    std::fflush(stdout);
    const HarnessResult result = run_harness(options);
    print_table(result);
    std::printf("%s\n", write_outputs(result, options.output, options.plots).c_str());
    // Exit code: 0 when every path measured something and the engine
    // produced every order the schedule required; 1 otherwise.
    bool complete = result.floor.histogram.count() > 0 && result.quickfix_default.histogram.count() > 0;
    for (const EngineRunResult* run : {&result.thread_per_stage, &result.one_thread}) {
      complete =
          complete && (!run->measured || (run->failure.empty() && run->tick_to_order.histogram.count() > 0 &&
                                          run->payment_to_order.histogram.count() > 0 &&
                                          run->tick_to_order.missing == 0 && run->payment_to_order.missing == 0));
    }
    return complete ? 0 : 1;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "synthusd-latency: %s\n", error.what());
    return 2;
  }
}
