#pragma once
// A latency histogram one thread records into and any thread reads:
// log-linear buckets (four per power of two: a bucket spans 4 * 2^k to
// 5 * 2^k - 1, so a reported percentile, the bucket's upper bound, is at most
// 25 % above the true value), relaxed atomic counters, no allocation, no
// locks. Prometheus buckets are rendered at powers of two (a sample of
// exactly 2^e ns lands in the next one: conservative).

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <string>
#include <string_view>

#include "synthusd/engine/prometheus_text.hpp"

namespace synthusd::engine::run {

class LatencyHistogram {
public:
  static constexpr std::size_t kBuckets = 16 + 4 * 40; // exact below 16 ns, then up to 2^44 ns

  void record(std::int64_t nanoseconds) noexcept {
    const std::size_t index = bucket(nanoseconds < 0 ? 0 : static_cast<std::uint64_t>(nanoseconds));
    counts_[index].fetch_add(1, std::memory_order_relaxed);
    total_.fetch_add(1, std::memory_order_relaxed);
  }

  [[nodiscard]] std::uint64_t count() const noexcept { return total_.load(std::memory_order_relaxed); }

  // Upper bound of the bucket holding the q-th quantile (0 < q <= 1); 0 when empty.
  [[nodiscard]] std::int64_t quantile(double q) const noexcept {
    const std::uint64_t total = count();
    if (total == 0) {
      return 0;
    }
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total) + 0.5);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i].load(std::memory_order_relaxed);
      if (seen >= rank && seen > 0) {
        return upper_bound(i);
      }
    }
    return upper_bound(kBuckets - 1);
  }

  // Prometheus histogram lines (seconds, cumulative buckets at powers of two).
  void render(PrometheusText& out, std::string_view name, std::string_view help) const;

  static constexpr std::size_t bucket(std::uint64_t value) noexcept {
    if (value < 16) {
      return static_cast<std::size_t>(value);
    }
    const int exponent = 63 - std::countl_zero(value); // >= 4
    const std::size_t sub = (value >> (exponent - 2)) & 3U;
    const std::size_t index = 16 + static_cast<std::size_t>(exponent - 4) * 4 + sub;
    return index < kBuckets ? index : kBuckets - 1;
  }
  static constexpr std::int64_t upper_bound(std::size_t index) noexcept {
    if (index < 16) {
      return static_cast<std::int64_t>(index);
    }
    const std::size_t exponent = (index - 16) / 4 + 4;
    const std::size_t sub = (index - 16) % 4;
    return static_cast<std::int64_t>(((4 + sub + 1) << (exponent - 2)) - 1);
  }

private:
  std::array<std::atomic<std::uint64_t>, kBuckets> counts_{};
  std::atomic<std::uint64_t> total_{0};
};

inline void LatencyHistogram::render(PrometheusText& out, std::string_view name, std::string_view help) const {
  out.family(name, PrometheusText::Type::histogram, help);
  std::uint64_t cumulative = 0;
  std::size_t next = 0;
  for (int exponent = 7; exponent <= 34; exponent += 1) { // 128 ns .. 17 s
    const std::uint64_t limit = (std::uint64_t{1} << exponent) - 1;
    while (next < kBuckets && static_cast<std::uint64_t>(upper_bound(next)) <= limit) {
      cumulative += counts_[next].load(std::memory_order_relaxed);
      ++next;
    }
    char bound[32];
    std::snprintf(bound, sizeof bound, "%.9g", static_cast<double>(limit + 1) / 1e9);
    out.sample(cumulative, {{"le", bound}}, "_bucket");
  }
  out.sample(count(), {{"le", "+Inf"}}, "_bucket");
  out.sample(count(), {}, "_count");
}

// Order latencies the gateway threads record when an order leaves for the
// venue: from the receive time of the tick that caused it (inverse hedges
// move with liability, not price, so few orders have one), and from the
// moment the kernel thread took the input that caused it, whatever it was.
struct OrderLatency {
  LatencyHistogram tick_to_order;
  LatencyHistogram payment_to_order; // from the liability source's hand-off (after its read and parse)
  LatencyHistogram event_to_order;
  LatencyHistogram order_to_acknowledgement; // order handed to FIX -> the venue's first report of it
};

} // namespace synthusd::engine::run
