#include "synthusd/common/reconnect_backoff.hpp"

#include <algorithm>

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces): C++14
namespace common {

ReconnectBackoff::ReconnectBackoff(std::chrono::nanoseconds initial, std::chrono::nanoseconds maximum, double jitter,
                                   std::uint64_t seed) noexcept
    : initial_(std::max(initial, std::chrono::nanoseconds(0))), maximum_(std::max(maximum, initial_)),
      // std::clamp is C++17; min(max()) gives the same result, NaN included.
      jitter_(std::min(std::max(jitter, 0.0), 1.0)), random_(seed) {}

std::chrono::nanoseconds ReconnectBackoff::next() noexcept {
  std::chrono::nanoseconds delay = initial_;
  // Doubling stops at the cap, so the loop is short and never overflows.
  for (std::uint32_t i = 0; i < failures_ && delay < maximum_ && delay.count() > 0; ++i) {
    delay *= 2;
  }
  delay = std::min(delay, maximum_);
  if (failures_ < UINT32_MAX) {
    ++failures_;
  }
  const double scale = 1.0 - jitter_ * random_.unit();
  return std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(delay.count()) * scale));
}

} // namespace common
} // namespace synthusd
