#pragma once
// The one clock of the harness: CLOCK_MONOTONIC in nanoseconds. Every
// timestamp the harness compares is taken in its own process, so no clock is
// ever compared across processes or hosts.

#include <time.h>

#include <cstdint>

namespace synthusd::latency {

inline std::int64_t monotonic_nanoseconds() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

} // namespace synthusd::latency
