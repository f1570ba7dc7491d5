#pragma once
// Per-thread CPU placement of `synthusd run` ([engine.cpus]) and the rule
// that decides how each thread waits when idle.
//
// Rule: a thread spins only when it has a CPU to itself (pinned, and no
// other thread of the run pinned to that CPU); every other thread
// spins-then-parks ([engine] spin_before_park_us > 0) or parks. A spinning
// thread on a shared CPU would take the time slices its neighbour needs to
// make progress, which costs far more than the futex wake-up it saves.
// `wait = "auto"` applies the same rule from the CPU count: the unpinned
// threads that can spin all spin when the CPUs nobody is pinned to leave one
// each plus one for everything else (sources, HTTP, the OS), else none does.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "synthusd/engine/config_file.hpp"
#include "synthusd/engine/run_config.hpp"

namespace synthusd::engine {

enum class ThreadWait : std::uint8_t { spin, spin_then_park, park };

[[nodiscard]] const char* to_string(ThreadWait wait) noexcept;

struct RunThread {
  std::string name;      // the thread's name, and its key in [engine.cpus]
  bool can_spin = false; // has an idle loop (Idler); sources block in I/O
  int cpu = -1;          // -1: not pinned
};

// The threads `run` starts for this configuration, in start order, with the
// CPU [engine.cpus] gives each: kernel, journal, fix-<venue> per gateway,
// feed-<venue> per feed (with hot_path = "one_thread": hot-path, journal),
// then the enabled liability sources that have a thread of their own.
[[nodiscard]] std::vector<RunThread> run_threads(const RunConfig& run);

// Whether the liability source `name` runs on the hot-path thread rather
// than its own: the intake does with hot_path = "one_thread" (its epoll
// descriptor is polled by the hot path's io_uring).
[[nodiscard]] bool source_on_hot_path(const RunConfig& run, std::string_view name) noexcept;

// How each thread of `threads` waits (same order).
[[nodiscard]] std::vector<ThreadWait> plan_waits(const std::vector<RunThread>& threads, WaitMode mode,
                                                 unsigned cpu_count, std::int64_t spin_before_park_ns);

// [engine.cpus] against the threads and the machine: a key that names no
// thread, a CPU the machine does not have, and (wait = "spin") two threads
// that could spin pinned to one CPU. Problems name the key.
[[nodiscard]] std::vector<ConfigProblem> placement_problems(const RunConfig& run, unsigned cpu_count,
                                                            const std::string& file);

} // namespace synthusd::engine
