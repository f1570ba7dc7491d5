#include "synthusd/engine/check_host.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <linux/io_uring.h>
#include <sstream>

namespace synthusd::engine {
namespace {

namespace fs = std::filesystem;

// The first line of a file, trimmed; false when the file cannot be read.
bool read_line(const fs::path& file, std::string& line) {
  std::ifstream in(file);
  if (!in || !std::getline(in, line)) {
    return false;
  }
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ' || line.back() == '\r')) {
    line.pop_back();
  }
  return true;
}

fs::path under(const fs::path& root, std::string_view absolute) { return root / absolute.substr(1); }

std::string join(const std::vector<int>& cpus) {
  std::string text;
  for (const int cpu : cpus) {
    text += (text.empty() ? "" : ",") + std::to_string(cpu);
  }
  return text.empty() ? "(none)" : text;
}

bool contains_all(const std::vector<int>& set, const std::vector<int>& wanted) {
  return std::all_of(wanted.begin(), wanted.end(),
                     [&](int cpu) { return std::find(set.begin(), set.end(), cpu) != set.end(); });
}

// The value of `key=` on the kernel command line, or empty.
std::string command_line_value(const std::string& command_line, std::string_view key) {
  std::istringstream words(command_line);
  std::string word;
  while (words >> word) {
    if (word.size() > key.size() && word.compare(0, key.size(), key) == 0 && word[key.size()] == '=') {
      return word.substr(key.size() + 1);
    }
  }
  return {};
}

HostFinding cpu_set_finding(const fs::path& root, std::string_view name, std::string_view file,
                            const std::vector<int>& engine_cpus, std::string why) {
  HostFinding finding{std::string(name), HostStatus::unknown, "", "", std::move(why)};
  std::string line;
  if (!read_line(under(root, file), line)) {
    finding.value = "not exposed (" + std::string(file) + ")";
    finding.recommended = "the engine's pinned CPUs";
    return finding;
  }
  std::vector<int> cpus;
  if (!parse_cpu_list(line, cpus)) {
    finding.value = "unreadable: '" + line + "'";
    return finding;
  }
  finding.value = join(cpus);
  finding.recommended = engine_cpus.empty() ? "at least one CPU for the engine's spinning threads" : join(engine_cpus);
  const bool good = engine_cpus.empty() ? !cpus.empty() : contains_all(cpus, engine_cpus);
  finding.status = good ? HostStatus::ok : HostStatus::warn;
  return finding;
}

HostFinding governor(const fs::path& root) {
  HostFinding finding{"governor", HostStatus::unknown, "", "performance",
                      "ondemand/powersave/schedutil lower the clock of an idle core; the first packet after a quiet "
                      "spell then runs slow and the ramp-up shows as tail latency"};
  std::vector<std::string> seen;
  bool all_performance = true;
  for (int cpu = 0; cpu < 4096; ++cpu) {
    const fs::path cpu_dir = under(root, "/sys/devices/system/cpu") / ("cpu" + std::to_string(cpu));
    std::error_code missing;
    if (!fs::exists(cpu_dir, missing)) { // unreadable counts as absent: the finding says unknown
      break;
    }
    std::string value;
    if (read_line(cpu_dir / "cpufreq/scaling_governor", value)) {
      if (std::find(seen.begin(), seen.end(), value) == seen.end()) {
        seen.push_back(value);
      }
      all_performance = all_performance && value == "performance";
    }
  }
  if (seen.empty()) {
    finding.value = "not exposed (no cpufreq: a VM, or the firmware owns the clock)";
    return finding;
  }
  for (const std::string& value : seen) {
    finding.value += (finding.value.empty() ? "" : ", ") + value;
  }
  finding.status = all_performance ? HostStatus::ok : HostStatus::warn;
  return finding;
}

HostFinding c_states(const fs::path& root, const std::string& command_line) {
  HostFinding finding{"c_states", HostStatus::unknown, "", "only POLL/C1 enabled (or idle=poll, max_cstate=1)",
                      "waking a core from a deep C-state takes tens to hundreds of microseconds, paid by the first "
                      "packet that reaches a sleeping core"};
  const fs::path idle = under(root, "/sys/devices/system/cpu/cpu0/cpuidle");
  std::vector<std::string> deep_enabled;
  bool any = false;
  for (int state = 0; state < 32; ++state) {
    const fs::path dir = idle / ("state" + std::to_string(state));
    std::string name;
    if (!read_line(dir / "name", name)) {
      break;
    }
    any = true;
    std::string disabled = "0";
    (void)read_line(dir / "disable", disabled);
    std::string latency = "0";
    (void)read_line(dir / "latency", latency);
    int exit_latency = 0;
    std::from_chars(latency.data(), latency.data() + latency.size(), exit_latency);
    if (disabled == "0" && name != "POLL" && exit_latency > 2) {
      deep_enabled.push_back(name + " (" + latency + " us exit)");
    }
  }
  const std::string idle_option = command_line_value(command_line, "idle");
  const std::string max_cstate = command_line_value(command_line, "processor.max_cstate");
  const std::string intel_max = command_line_value(command_line, "intel_idle.max_cstate");
  if (idle_option == "poll" || max_cstate == "0" || max_cstate == "1" || intel_max == "0" || intel_max == "1") {
    finding.value = "limited on the kernel command line";
    finding.status = HostStatus::ok;
    return finding;
  }
  if (!any) {
    finding.value = "not exposed (no cpuidle states)";
    return finding;
  }
  if (deep_enabled.empty()) {
    finding.value = "no deep state enabled";
    finding.status = HostStatus::ok;
    return finding;
  }
  for (const std::string& state : deep_enabled) {
    finding.value += (finding.value.empty() ? "enabled: " : ", ") + state;
  }
  finding.status = HostStatus::warn;
  return finding;
}

HostFinding transparent_huge_pages(const fs::path& root) {
  HostFinding finding{"transparent_hugepages", HostStatus::unknown, "", "madvise or never",
                      "with 'always', khugepaged compacts and collapses pages behind the process's back and a page "
                      "fault can stall on compaction: millisecond hiccups"};
  std::string line;
  if (!read_line(under(root, "/sys/kernel/mm/transparent_hugepage/enabled"), line)) {
    finding.value = "not exposed";
    return finding;
  }
  const std::size_t open = line.find('[');
  const std::size_t close = line.find(']');
  finding.value = open != std::string::npos && close > open ? line.substr(open + 1, close - open - 1) : line;
  finding.status = finding.value == "always" ? HostStatus::warn : HostStatus::ok;
  return finding;
}

bool is_network_interrupt(const std::string& line) {
  for (const char* name : {"eth", "ens", "enp", "eno", "mlx", "ice", "i40e", "ixgbe", "virtio", "efa", "ena", "sfc"}) {
    if (line.find(name) != std::string::npos && line.find("virtio-blk") == std::string::npos &&
        line.find("-config") == std::string::npos) {
      return true;
    }
  }
  return false;
}

HostFinding nic_interrupts(const fs::path& root, const std::vector<int>& engine_cpus) {
  HostFinding finding{"nic_irq_affinity", HostStatus::unknown, "", "",
                      "an interrupt on an engine CPU preempts its "
                      "spinning thread for the handler and softirq: "
                      "pin NIC queues to the other CPUs"};
  finding.recommended = "NIC IRQs on CPUs other than " + join(engine_cpus);
  std::ifstream interrupts(under(root, "/proc/interrupts"));
  if (!interrupts) {
    finding.value = "not exposed (/proc/interrupts)";
    return finding;
  }
  std::string line;
  std::vector<std::string> on_engine;
  int nic = 0;
  while (std::getline(interrupts, line)) {
    if (!is_network_interrupt(line)) {
      continue;
    }
    std::istringstream fields(line);
    std::string number;
    fields >> number;
    if (number.empty() || number.back() != ':') {
      continue;
    }
    number.pop_back();
    std::string affinity_text;
    if (!read_line(under(root, "/proc/irq") / number / "smp_affinity_list", affinity_text)) {
      continue;
    }
    ++nic;
    std::vector<int> affinity;
    if (!parse_cpu_list(affinity_text, affinity)) {
      continue;
    }
    for (const int cpu : engine_cpus) {
      if (std::find(affinity.begin(), affinity.end(), cpu) != affinity.end()) {
        on_engine.push_back("irq " + number + " -> " + affinity_text);
        break;
      }
    }
  }
  if (nic == 0) {
    finding.value = "no NIC interrupt found";
    return finding;
  }
  if (engine_cpus.empty()) {
    finding.value = std::to_string(nic) + " NIC interrupts; no engine CPUs to keep them off (give --cpus)";
    return finding;
  }
  if (on_engine.empty()) {
    finding.value = std::to_string(nic) + " NIC interrupts, none on the engine's CPUs";
    finding.status = HostStatus::ok;
  } else {
    for (const std::string& irq : on_engine) {
      finding.value += (finding.value.empty() ? "" : ", ") + irq;
    }
    finding.status = HostStatus::warn;
  }
  return finding;
}

HostFinding clock_source(const fs::path& root) {
  HostFinding finding{"clocksource", HostStatus::unknown, "", "tsc",
                      "clock_gettime reads the TSC in user space (about 20 ns); hpet or acpi_pm make every timestamp "
                      "a system call of a microsecond or more"};
  std::string line;
  if (!read_line(under(root, "/sys/devices/system/clocksource/clocksource0/current_clocksource"), line)) {
    finding.value = "not exposed";
    return finding;
  }
  finding.value = line;
  // kvm-clock is also read in user space (vDSO); acceptable in a VM.
  finding.status = line == "tsc" || line == "kvm-clock" ? HostStatus::ok : HostStatus::warn;
  return finding;
}

HostFinding time_sync(const fs::path& root, bool probe) {
  HostFinding finding{"time_sync", HostStatus::unknown, "", "synchronised (chrony/ntpd/timesyncd, or PTP on the NIC)",
                      "order timestamps, payment ts windows and the oracle's staleness use the wall clock; an "
                      "unsynchronised clock drifts out of the venue's and the sources' windows"};
  std::vector<std::string> seen;
  std::error_code unreadable;
  if (fs::exists(under(root, "/run/systemd/timesync/synchronized"), unreadable)) {
    seen.push_back("timesyncd synchronized");
  }
  for (const char* pid : {"/run/chrony/chronyd.pid", "/run/chronyd.pid", "/run/ntpd.pid", "/var/run/ntpd.pid"}) {
    if (fs::exists(under(root, pid), unreadable)) {
      seen.push_back(std::string(pid).find("chrony") != std::string::npos ? "chronyd running" : "ntpd running");
    }
  }
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(under(root, "/sys/class/ptp"), error)) {
    seen.push_back("PTP clock " + entry.path().filename().string());
  }
  bool synchronised = !seen.empty();
  if (probe) {
    timex state{};
    const int clock = ::adjtimex(&state);
    const bool kernel_synced = clock != TIME_ERROR && (state.status & STA_UNSYNC) == 0;
    seen.push_back(kernel_synced ? "kernel clock synchronised" : "kernel clock unsynchronised");
    synchronised = kernel_synced;
  }
  for (const std::string& item : seen) {
    finding.value += (finding.value.empty() ? "" : ", ") + item;
  }
  if (finding.value.empty()) {
    finding.value = "no NTP daemon, timesyncd state or PTP clock found";
  }
  finding.status = synchronised ? HostStatus::ok : HostStatus::warn;
  return finding;
}

HostFinding io_uring(const fs::path& root, bool probe) {
  HostFinding finding{"io_uring", HostStatus::unknown, "", "available (io_uring_disabled = 0)",
                      "the feeds read their WebSockets through io_uring; disabled, the feed threads cannot start"};
  std::string line;
  const bool has_setting = read_line(under(root, "/proc/sys/kernel/io_uring_disabled"), line);
  finding.value = has_setting ? "io_uring_disabled = " + line : "no io_uring_disabled setting (kernel < 6.6)";
  bool available = !has_setting || line == "0";
  if (probe) {
    io_uring_params params{};
    const long fd = ::syscall(__NR_io_uring_setup, 1, &params);
    available = fd >= 0;
    finding.value += available ? ", io_uring_setup works" : ", io_uring_setup fails";
    if (fd >= 0) {
      ::close(static_cast<int>(fd));
    }
  } else if (!has_setting) {
    return finding;
  }
  finding.status = available ? HostStatus::ok : HostStatus::warn;
  return finding;
}

HostFinding memlock(const fs::path& root) {
  HostFinding finding{"memlock_limit", HostStatus::unknown, "", "unlimited (LimitMEMLOCK=infinity)",
                      "io_uring's rings and registered buffers are locked memory, and mlockall keeps the engine's "
                      "pages from being swapped or faulted in on the order path"};
  std::ifstream limits(under(root, "/proc/self/limits"));
  std::string line;
  while (std::getline(limits, line)) {
    if (line.rfind("Max locked memory", 0) != 0) {
      continue;
    }
    std::istringstream fields(line.substr(17));
    std::string soft;
    fields >> soft;
    finding.value = soft == "unlimited" ? soft : soft + " bytes";
    std::uint64_t bytes = 0;
    std::from_chars(soft.data(), soft.data() + soft.size(), bytes);
    finding.status = soft == "unlimited" || bytes >= (std::uint64_t{1} << 30) ? HostStatus::ok : HostStatus::warn;
    return finding;
  }
  finding.value = "not exposed (/proc/self/limits)";
  return finding;
}

} // namespace

const char* to_string(HostStatus status) noexcept {
  switch (status) {
  case HostStatus::ok:
    return "ok";
  case HostStatus::warn:
    return "warn";
  case HostStatus::unknown:
    return "unknown";
  }
  return "unknown";
}

bool parse_cpu_list(const std::string& text, std::vector<int>& cpus) {
  cpus.clear();
  std::string trimmed = text;
  trimmed.erase(std::remove_if(trimmed.begin(), trimmed.end(), [](char c) { return c == ' ' || c == '\n'; }),
                trimmed.end());
  if (trimmed.empty() || trimmed == "(null)") {
    return true; // an empty list: no CPU
  }
  std::istringstream parts(trimmed);
  std::string part;
  while (std::getline(parts, part, ',')) {
    int first = 0;
    int last = 0;
    const char* end = part.data() + part.size();
    auto parsed = std::from_chars(part.data(), end, first);
    if (parsed.ec != std::errc{} || first < 0 || first > 4095) {
      return false;
    }
    last = first;
    if (parsed.ptr != end) {
      if (*parsed.ptr != '-') {
        return false;
      }
      parsed = std::from_chars(parsed.ptr + 1, end, last);
      if (parsed.ec != std::errc{} || parsed.ptr != end || last < first || last > 4095) {
        return false;
      }
    }
    for (int cpu = first; cpu <= last; ++cpu) {
      cpus.push_back(cpu);
    }
  }
  return true;
}

std::vector<HostFinding> inspect_host(const HostCheckOptions& options) {
  const fs::path& root = options.root;
  const bool probe = options.probe_running_kernel && fs::equivalent(root, "/");
  std::string command_line;
  (void)read_line(under(root, "/proc/cmdline"), command_line);
  std::vector<int> engine_cpus = options.engine_cpus;
  if (engine_cpus.empty()) {
    std::string isolated;
    if (read_line(under(root, "/sys/devices/system/cpu/isolated"), isolated)) {
      (void)parse_cpu_list(isolated, engine_cpus);
    }
  }
  std::vector<HostFinding> findings;
  findings.push_back(cpu_set_finding(root, "isolated_cpus", "/sys/devices/system/cpu/isolated", options.engine_cpus,
                                     "isolcpus keeps the scheduler's other tasks off the CPUs the engine's threads "
                                     "spin on (kernel command line isolcpus=)"));
  findings.push_back(cpu_set_finding(root, "nohz_full_cpus", "/sys/devices/system/cpu/nohz_full", options.engine_cpus,
                                     "nohz_full stops the scheduler tick (up to 1000 interrupts a second) on a CPU "
                                     "that runs one thread (kernel command line nohz_full= and rcu_nocbs=)"));
  findings.push_back(governor(root));
  findings.push_back(c_states(root, command_line));
  findings.push_back(transparent_huge_pages(root));
  findings.push_back(nic_interrupts(root, engine_cpus));
  findings.push_back(clock_source(root));
  findings.push_back(time_sync(root, probe));
  findings.push_back(io_uring(root, probe));
  findings.push_back(memlock(root));
  return findings;
}

int run_check_host(const HostCheckOptions& options, std::ostream& out) {
  std::error_code error;
  if (!fs::is_directory(options.root / "proc", error) && !fs::is_directory(options.root / "sys", error)) {
    out << "check-host: " << options.root.string() << " has neither proc/ nor sys/\n";
    return 2;
  }
  int warnings = 0;
  for (const HostFinding& finding : inspect_host(options)) {
    const std::string status = to_string(finding.status);
    out << status << std::string(9 - status.size(), ' ') << finding.name << ": " << finding.value
        << "\n         recommended: " << finding.recommended << "\n         why: " << finding.why << "\n";
    warnings += finding.status == HostStatus::warn ? 1 : 0;
  }
  out << (warnings == 0 ? "check-host: every setting the host exposes is as recommended\n"
                        : "check-host: " + std::to_string(warnings) + " setting(s) differ from the recommendation\n");
  return warnings == 0 ? 0 : 1;
}

} // namespace synthusd::engine
