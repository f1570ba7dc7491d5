// Compiled as C++14 (fix/CMakeLists.txt). See venue_credit_budget.hpp.

#include "synthusd/fix/venue_credit_budget.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace synthusd {
namespace fix {
namespace {

constexpr std::int64_t kNanosecondsPerSecond = 1'000'000'000;

static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "the kernel's hot path must not take a lock");

} // namespace

VenueCreditBudget::VenueCreditBudget(CreditLimit limit) : limit_(limit) {
  if (limit.maximum < 0 || limit.refill_per_second < 0 || limit.cost < 0 ||
      (limit.maximum > 0 && (limit.cost <= 0 || limit.cost > limit.maximum || limit.refill_per_second <= 0)) ||
      limit.maximum > std::numeric_limits<std::int64_t>::max() / kNanosecondsPerSecond) {
    throw std::invalid_argument("venue credits need 0 < cost <= maximum and a positive refill");
  }
  if (limited()) {
    // Rounding both towards caution: a request costs at least its share of
    // time, the pool holds at most its share.
    cost_ns_ = (limit.cost * kNanosecondsPerSecond + limit.refill_per_second - 1) / limit.refill_per_second;
    window_ns_ = limit.maximum * kNanosecondsPerSecond / limit.refill_per_second;
  }
}

// Memory order: relaxed throughout. The budget publishes no other data, and a
// compare-and-swap on one location always reads the latest value in that
// location's modification order, so every spend sees every earlier spend
// whichever thread made it. Nothing else needs ordering against it.
bool VenueCreditBudget::try_spend(std::int64_t now_ns, std::int64_t keep_credits) noexcept {
  if (!limited()) {
    return true;
  }
  const std::int64_t keep_ns = std::max<std::int64_t>(
      0, keep_credits >= limit_.maximum ? window_ns_ : keep_credits * kNanosecondsPerSecond / limit_.refill_per_second);
  std::int64_t full_at = full_at_ns_.load(std::memory_order_relaxed);
  for (;;) {
    const std::int64_t next = std::max(full_at, now_ns) + cost_ns_;
    if (next - now_ns + keep_ns > window_ns_) {
      return false;
    }
    if (full_at_ns_.compare_exchange_weak(full_at, next, std::memory_order_relaxed, std::memory_order_relaxed)) {
      return true;
    }
  }
}

void VenueCreditBudget::spend(std::int64_t now_ns) noexcept {
  if (!limited()) {
    return;
  }
  std::int64_t full_at = full_at_ns_.load(std::memory_order_relaxed);
  for (;;) {
    // Debt stops at -maximum: two windows ahead of now.
    const std::int64_t next = std::min(std::max(full_at, now_ns) + cost_ns_, now_ns + 2 * window_ns_);
    if (full_at_ns_.compare_exchange_weak(full_at, next, std::memory_order_relaxed, std::memory_order_relaxed)) {
      return;
    }
  }
}

std::int64_t VenueCreditBudget::available(std::int64_t now_ns) const noexcept {
  if (!limited()) {
    return std::numeric_limits<std::int64_t>::max();
  }
  const std::int64_t ahead = std::max<std::int64_t>(0, full_at_ns_.load(std::memory_order_relaxed) - now_ns);
  // ahead <= 2 windows, so refill * ahead stays below 2 * maximum * 1e9.
  return limit_.maximum - (limit_.refill_per_second * ahead + kNanosecondsPerSecond - 1) / kNanosecondsPerSecond;
}

} // namespace fix
} // namespace synthusd
