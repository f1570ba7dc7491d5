#pragma once
// `synthusd check-host`: the machine settings that decide the engine's
// latency, each read from /sys and /proc (under a root directory, so tests
// give a fake one), printed with the recommended value and why.
//
// Exit code: 0 every setting is as recommended; 1 at least one is not (each
// is a "warn" line); 2 the root could not be read at all. A setting the host
// does not expose (no cpufreq in a VM) is "unknown" and fails nothing.

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace synthusd::engine {

enum class HostStatus { ok, warn, unknown };

struct HostFinding {
  std::string name; // "governor", "isolated_cpus", ...
  HostStatus status = HostStatus::unknown;
  std::string value;       // what the host says
  std::string recommended; // what a colocated engine host should say
  std::string why;
};

struct HostCheckOptions {
  std::filesystem::path root = "/"; // where /sys and /proc are
  // The CPUs the engine's pinned threads will use ([engine] *_cpu); empty:
  // every isolated CPU, or none when none is isolated.
  std::vector<int> engine_cpus;
  // Probe the running kernel too (io_uring_setup, adjtimex, this process's
  // limits): only when root is "/", never against a fake root.
  bool probe_running_kernel = true;
};

[[nodiscard]] std::vector<HostFinding> inspect_host(const HostCheckOptions& options);

// Prints one line per finding and returns the exit code above.
int run_check_host(const HostCheckOptions& options, std::ostream& out);

// "0-3,8,10-11" -> {0,1,2,3,8,10,11}; false on a malformed list.
[[nodiscard]] bool parse_cpu_list(const std::string& text, std::vector<int>& cpus);

[[nodiscard]] const char* to_string(HostStatus status) noexcept;

} // namespace synthusd::engine
