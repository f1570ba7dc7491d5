// `synthusd check-host` against a fake /sys and /proc: a tuned colocated host
// passes, and each mistuned setting is a warning that makes the exit code 1.

#include "synthusd/engine/check_host.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace synthusd::engine {
namespace {

namespace fs = std::filesystem;

class CheckHostTest : public ::testing::Test {
protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("synthusd-check-host-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    // A tuned 4-CPU host: CPUs 2-3 isolated and tickless for the engine.
    write("sys/devices/system/cpu/isolated", "2-3\n");
    write("sys/devices/system/cpu/nohz_full", "2-3\n");
    for (int cpu = 0; cpu < 4; ++cpu) {
      write("sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/cpufreq/scaling_governor", "performance\n");
    }
    write("sys/devices/system/cpu/cpu0/cpuidle/state0/name", "POLL\n");
    write("sys/devices/system/cpu/cpu0/cpuidle/state0/latency", "0\n");
    write("sys/devices/system/cpu/cpu0/cpuidle/state0/disable", "0\n");
    write("sys/devices/system/cpu/cpu0/cpuidle/state1/name", "C6\n");
    write("sys/devices/system/cpu/cpu0/cpuidle/state1/latency", "133\n");
    write("sys/devices/system/cpu/cpu0/cpuidle/state1/disable", "1\n");
    write("sys/kernel/mm/transparent_hugepage/enabled", "always madvise [never]\n");
    write("proc/interrupts",
          "           CPU0       CPU1       CPU2       CPU3\n"
          "  0:         10          0          0          0   IO-APIC   2-edge      timer\n"
          " 58:       9000          0          0          0   PCI-MSI 524288-edge      ens5-Tx-Rx-0\n"
          " 59:          0       8000          0          0   PCI-MSI 524289-edge      ens5-Tx-Rx-1\n");
    write("proc/irq/58/smp_affinity_list", "0\n");
    write("proc/irq/59/smp_affinity_list", "1\n");
    write("proc/cmdline", "BOOT_IMAGE=/vmlinuz isolcpus=2-3 nohz_full=2-3 rcu_nocbs=2-3\n");
    write("sys/devices/system/clocksource/clocksource0/current_clocksource", "tsc\n");
    write("run/chrony/chronyd.pid", "812\n");
    write("proc/sys/kernel/io_uring_disabled", "0\n");
    write("proc/self/limits", "Limit                     Soft Limit           Hard Limit           Units\n"
                              "Max locked memory         unlimited            unlimited            bytes\n");
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& path, const std::string& text) {
    fs::create_directories((root_ / path).parent_path());
    std::ofstream(root_ / path) << text;
  }

  HostFinding finding(const std::string& name, std::vector<int> cpus = {2, 3}) {
    HostCheckOptions options;
    options.root = root_;
    options.engine_cpus = std::move(cpus);
    options.probe_running_kernel = false;
    for (HostFinding& each : inspect_host(options)) {
      if (each.name == name) {
        return each;
      }
    }
    ADD_FAILURE() << "no finding " << name;
    return {};
  }

  int exit_code(std::string& printed) {
    HostCheckOptions options;
    options.root = root_;
    options.engine_cpus = {2, 3};
    options.probe_running_kernel = false;
    std::ostringstream out;
    const int code = run_check_host(options, out);
    printed = out.str();
    return code;
  }

  fs::path root_;
};

TEST_F(CheckHostTest, TunedHostPassesEveryCheck) {
  std::string printed;
  EXPECT_EQ(exit_code(printed), 0) << printed;
  EXPECT_NE(printed.find("every setting the host exposes is as recommended"), std::string::npos);
  EXPECT_EQ(printed.find("warn"), std::string::npos) << printed;
}

TEST_F(CheckHostTest, PowersaveGovernorIsAWarningThatFailsTheCheck) {
  write("sys/devices/system/cpu/cpu2/cpufreq/scaling_governor", "powersave\n");
  EXPECT_EQ(finding("governor").status, HostStatus::warn);
  EXPECT_EQ(finding("governor").value, "performance, powersave");
  std::string printed;
  EXPECT_EQ(exit_code(printed), 1);
  EXPECT_NE(printed.find("warn     governor: performance, powersave"), std::string::npos) << printed;
}

TEST_F(CheckHostTest, EngineCpuMissingFromIsolatedOrNohzFullIsAWarning) {
  EXPECT_EQ(finding("isolated_cpus", {1, 2}).status, HostStatus::warn);
  EXPECT_EQ(finding("nohz_full_cpus", {2}).status, HostStatus::ok);
  write("sys/devices/system/cpu/isolated", "\n");
  EXPECT_EQ(finding("isolated_cpus", {}).status, HostStatus::warn);
}

TEST_F(CheckHostTest, EnabledDeepCStateIsAWarningUnlessTheCommandLineLimitsIt) {
  write("sys/devices/system/cpu/cpu0/cpuidle/state1/disable", "0\n");
  EXPECT_EQ(finding("c_states").status, HostStatus::warn);
  EXPECT_NE(finding("c_states").value.find("C6 (133 us exit)"), std::string::npos);
  write("proc/cmdline", "isolcpus=2-3 processor.max_cstate=1 intel_idle.max_cstate=0\n");
  EXPECT_EQ(finding("c_states").status, HostStatus::ok);
}

TEST_F(CheckHostTest, AlwaysTransparentHugePagesIsAWarning) {
  write("sys/kernel/mm/transparent_hugepage/enabled", "[always] madvise never\n");
  EXPECT_EQ(finding("transparent_hugepages").status, HostStatus::warn);
  EXPECT_EQ(finding("transparent_hugepages").value, "always");
}

TEST_F(CheckHostTest, NicInterruptOnAnEngineCpuIsAWarningNamingTheIrq) {
  write("proc/irq/59/smp_affinity_list", "0-3\n");
  const HostFinding nic = finding("nic_irq_affinity");
  EXPECT_EQ(nic.status, HostStatus::warn);
  EXPECT_EQ(nic.value, "irq 59 -> 0-3");
}

TEST_F(CheckHostTest, HpetClockSourceNoTimeSyncDisabledIoUringAndSmallMemlockAreWarnings) {
  write("sys/devices/system/clocksource/clocksource0/current_clocksource", "hpet\n");
  fs::remove_all(root_ / "run");
  write("proc/sys/kernel/io_uring_disabled", "2\n");
  write("proc/self/limits", "Max locked memory         8388608              8388608              bytes\n");
  EXPECT_EQ(finding("clocksource").status, HostStatus::warn);
  EXPECT_EQ(finding("time_sync").status, HostStatus::warn);
  EXPECT_EQ(finding("io_uring").status, HostStatus::warn);
  EXPECT_EQ(finding("memlock_limit").status, HostStatus::warn);
  EXPECT_EQ(finding("memlock_limit").value, "8388608 bytes");
}

TEST_F(CheckHostTest, SettingsTheHostDoesNotExposeAreUnknownAndFailNothing) {
  fs::remove_all(root_ / "sys/devices/system/cpu/cpu0");
  fs::remove_all(root_ / "sys/devices/system/cpu/cpu1");
  EXPECT_EQ(finding("governor").status, HostStatus::unknown);
  EXPECT_EQ(finding("c_states").status, HostStatus::unknown);
  std::string printed;
  EXPECT_EQ(exit_code(printed), 0) << printed;
  EXPECT_NE(printed.find("unknown  governor: not exposed"), std::string::npos) << printed;
}

TEST_F(CheckHostTest, AnUnreadableCpuEntryIsUnknownNotACrash) {
  // A symbolic link loop where a CPU's folder should be: exists() fails with
  // ELOOP, and used to throw out of check-host (terminate, exit 134).
  fs::remove_all(root_ / "sys/devices/system/cpu/cpu0");
  fs::create_symlink(root_ / "sys/devices/system/cpu/cpu0", root_ / "sys/devices/system/cpu/cpu0");
  EXPECT_EQ(finding("governor").status, HostStatus::unknown);
  std::string printed;
  EXPECT_EQ(exit_code(printed), 0) << printed;
}

TEST_F(CheckHostTest, ARootWithoutProcOrSysIsExitCodeTwo) {
  HostCheckOptions options;
  options.root = root_ / "nowhere";
  options.probe_running_kernel = false;
  std::ostringstream out;
  EXPECT_EQ(run_check_host(options, out), 2);
}

TEST(CpuList, ParsesRangesAndRefusesMalformedLists) {
  std::vector<int> cpus;
  ASSERT_TRUE(parse_cpu_list("0-2,5,7-8\n", cpus));
  EXPECT_EQ(cpus, (std::vector<int>{0, 1, 2, 5, 7, 8}));
  ASSERT_TRUE(parse_cpu_list("", cpus));
  EXPECT_TRUE(cpus.empty());
  EXPECT_FALSE(parse_cpu_list("3-1", cpus));
  EXPECT_FALSE(parse_cpu_list("a", cpus));
  EXPECT_FALSE(parse_cpu_list("1-", cpus));
}

} // namespace
} // namespace synthusd::engine
