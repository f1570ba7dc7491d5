#include "threads.hpp"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <thread>

namespace synthusd::engine::run {

std::string name_and_pin_this_thread(const std::string& name, int cpu) {
  (void)pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
  if (cpu < 0) {
    return "";
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  const int error = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  if (error != 0) {
    return "cannot pin thread " + name + " to CPU " + std::to_string(cpu) + ": " + std::strerror(error);
  }
  return "";
}

WaitMode resolve_wait_mode(WaitMode mode) noexcept {
  if (mode != WaitMode::automatic) {
    return mode;
  }
  return std::thread::hardware_concurrency() < 4 ? WaitMode::blocking : WaitMode::spin;
}

namespace {
std::atomic<std::int64_t> spin_before_park_ns{0};
} // namespace

void set_spin_before_park(std::int64_t nanoseconds) noexcept {
  spin_before_park_ns.store(nanoseconds, std::memory_order_relaxed);
}

std::int64_t spin_before_park() noexcept { return spin_before_park_ns.load(std::memory_order_relaxed); }

bool EventCount::wait(std::uint32_t key, std::int64_t timeout_ns) noexcept {
  timespec timeout{static_cast<time_t>(timeout_ns / 1'000'000'000), static_cast<long>(timeout_ns % 1'000'000'000)};
  // Returns at once (EAGAIN) when the epoch already moved past `key`.
  const long result =
      syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&epoch_), FUTEX_WAIT_PRIVATE, key, &timeout, nullptr, 0);
  return result == 0 || errno != ETIMEDOUT;
}

void EventCount::wake() noexcept {
  if (event_fd_ >= 0) {
    const std::uint64_t one = 1;
    (void)::write(event_fd_, &one, sizeof one); // EAGAIN only at a counter near 2^64: already readable
    return;
  }
  (void)syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&epoch_), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

std::int64_t monotonic_ns() noexcept {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

std::int64_t wall_ns() noexcept {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

} // namespace synthusd::engine::run
