// Per-thread CPU placement and the wait rule (thread_placement.hpp). Cold
// path: read once at check-config and at start-up.

#include "synthusd/engine/thread_placement.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace synthusd::engine {

const char* to_string(ThreadWait wait) noexcept {
  switch (wait) {
  case ThreadWait::spin:
    return "spin";
  case ThreadWait::spin_then_park:
    return "spin-then-park";
  case ThreadWait::park:
    return "park";
  }
  return "?";
}

bool source_on_hot_path(const RunConfig& run, std::string_view name) noexcept {
  return run.engine.hot_path == HotPath::one_thread && name == "intake";
}

std::vector<RunThread> run_threads(const RunConfig& run) {
  std::vector<RunThread> threads;
  if (run.engine.hot_path == HotPath::one_thread) {
    // Feeds, kernel and gateways are one duty cycle (hot_path_thread.hpp).
    threads.push_back({"hot-path", true});
    threads.push_back({"journal", true});
  } else {
    threads.push_back({"kernel", true});
    threads.push_back({"journal", true});
    for (const GatewaySection& gateway : run.gateways) {
      threads.push_back({"fix-" + gateway.venue, true});
    }
    for (const FeedSection& feed : run.feeds) {
      threads.push_back({"feed-" + feed.venue, true});
    }
  }
  // Liability sources block in their own I/O (sockets, gRPC, NATS): they never spin.
  const std::pair<bool, const char*> sources[] = {{run.intake.enabled, "intake"},
                                                  {run.lnd.enabled, "lnd"},
                                                  {run.lnd.enabled && run.lnd.options.debits, "lnd-payments"},
                                                  {run.nats.enabled, "nats"},
                                                  // The collateral transfer thread blocks on HTTP calls.
                                                  {run.transfers.enabled, "transfers"}};
  for (const auto& [enabled, name] : sources) {
    if (enabled && !source_on_hot_path(run, name)) {
      threads.push_back({name, false});
    }
  }
  for (RunThread& thread : threads) {
    for (const ThreadCpu& entry : run.engine.cpus) {
      if (entry.thread == thread.name) {
        thread.cpu = entry.cpu;
      }
    }
  }
  return threads;
}

std::vector<ThreadWait> plan_waits(const std::vector<RunThread>& threads, WaitMode mode, unsigned cpu_count,
                                   std::int64_t spin_before_park_ns) {
  const ThreadWait idle = spin_before_park_ns > 0 ? ThreadWait::spin_then_park : ThreadWait::park;
  std::vector<ThreadWait> waits(threads.size(), idle);
  if (mode == WaitMode::blocking) {
    return waits;
  }
  std::map<int, int> pinned_per_cpu;
  std::size_t unpinned_spinners = 0;
  for (const RunThread& thread : threads) {
    if (thread.cpu >= 0) {
      ++pinned_per_cpu[thread.cpu];
    } else if (thread.can_spin) {
      ++unpinned_spinners;
    }
  }
  // auto: the CPUs no thread is pinned to must give each unpinned spinner
  // one of its own and leave one for the sources, HTTP and the OS.
  const std::size_t free_cpus = cpu_count > pinned_per_cpu.size() ? cpu_count - pinned_per_cpu.size() : 0;
  const bool unpinned_spin = mode == WaitMode::automatic && unpinned_spinners > 0 && free_cpus >= unpinned_spinners + 1;
  for (std::size_t i = 0; i < threads.size(); ++i) {
    const RunThread& thread = threads[i];
    if (!thread.can_spin) {
      continue;
    }
    const bool own_cpu = thread.cpu >= 0 && pinned_per_cpu[thread.cpu] == 1;
    if (own_cpu || (thread.cpu < 0 && unpinned_spin)) {
      waits[i] = ThreadWait::spin;
    }
  }
  return waits;
}

std::vector<ConfigProblem> placement_problems(const RunConfig& run, unsigned cpu_count, const std::string& file) {
  std::vector<ConfigProblem> problems;
  const std::vector<RunThread> threads = run_threads(run);
  std::string names;
  for (const RunThread& thread : threads) {
    names += (names.empty() ? "" : ", ") + thread.name;
  }
  std::set<std::string> seen;
  std::map<int, const ThreadCpu*> spinner_on_cpu;
  for (const ThreadCpu& entry : run.engine.cpus) {
    const std::string key = "engine.cpus." + entry.thread;
    const auto thread = std::find_if(threads.begin(), threads.end(),
                                     [&](const RunThread& candidate) { return candidate.name == entry.thread; });
    if (thread == threads.end()) {
      problems.push_back(
          {file, entry.line, key,
           source_on_hot_path(run, entry.thread)
               ? "the " + entry.thread +
                     " runs on hot-path with hot_path = \"one_thread\": pin hot-path instead (threads: " + names + ")"
               : "no such thread in this configuration (threads: " + names + ")"});
      continue;
    }
    if (!seen.insert(entry.thread).second) {
      problems.push_back({file, entry.line, key, "given twice"});
      continue;
    }
    if (entry.cpu < 0) {
      continue;
    }
    if (static_cast<unsigned>(entry.cpu) >= cpu_count) {
      problems.push_back({file, entry.line, key,
                          "CPU " + std::to_string(entry.cpu) + " does not exist: this machine has " +
                              std::to_string(cpu_count) + " online CPUs (0-" + std::to_string(cpu_count - 1) + ")"});
      continue;
    }
    // wait = "spin" asks every pinned thread with an idle loop to spin: two
    // of them on one CPU would take turns burning it.
    if (run.engine.wait == WaitMode::spin && thread->can_spin) {
      const auto [other, inserted] = spinner_on_cpu.emplace(entry.cpu, &entry);
      if (!inserted) {
        problems.push_back({file, entry.line, key,
                            "CPU " + std::to_string(entry.cpu) + " is also engine.cpus." + other->second->thread +
                                "'s: with wait = \"spin\" a spinning thread needs a CPU to itself"});
      }
    }
  }
  return problems;
}

} // namespace synthusd::engine
