#pragma once
// A log-linear latency histogram for the harness: 128 sub-buckets per power
// of two, so a bucket spans at most 1/128 (0.78 %) of its lower bound and a
// reported percentile (the bucket's midpoint) is within 0.4 % of the true
// value. Fixed memory (one array), nanoseconds in, exact min/max/count kept.

#include <array>
#include <bit>
#include <cstdint>

namespace synthusd::latency {

class Histogram {
public:
  static constexpr int kSubBits = 7; // 128 sub-buckets per power of two
  static constexpr std::size_t kSub = std::size_t{1} << kSubBits;
  static constexpr std::size_t kBuckets = kSub * 40; // exact below 128 ns, then up to 2^46 ns

  void record(std::int64_t nanoseconds) noexcept {
    const std::uint64_t value = nanoseconds < 0 ? 0 : static_cast<std::uint64_t>(nanoseconds);
    ++counts_[bucket(value)];
    ++count_;
    if (count_ == 1 || value < min_) {
      min_ = value;
    }
    if (value > max_) {
      max_ = value;
    }
  }

  void merge(const Histogram& other) noexcept {
    for (std::size_t i = 0; i < kBuckets; ++i) {
      counts_[i] += other.counts_[i];
    }
    if (other.count_ > 0 && (count_ == 0 || other.min_ < min_)) {
      min_ = other.min_;
    }
    if (other.max_ > max_) {
      max_ = other.max_;
    }
    count_ += other.count_;
  }

  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  [[nodiscard]] std::int64_t min() const noexcept { return static_cast<std::int64_t>(min_); }
  [[nodiscard]] std::int64_t max() const noexcept { return static_cast<std::int64_t>(max_); }

  // The value at quantile q (0 < q <= 1): the midpoint of the bucket holding
  // the rank ceil(q * count), clamped to [min, max] (the last rank is max
  // itself); 0 when empty.
  [[nodiscard]] std::int64_t quantile(double q) const noexcept {
    if (count_ == 0) {
      return 0;
    }
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_));
    if (static_cast<double>(rank) < q * static_cast<double>(count_)) {
      ++rank;
    }
    rank = rank == 0 ? 1 : rank;
    if (rank >= count_) {
      return static_cast<std::int64_t>(max_); // the largest sample is known exactly
    }
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) {
        const std::uint64_t middle = (lower_bound(i) + upper_bound(i)) / 2;
        return static_cast<std::int64_t>(middle < min_ ? min_ : (middle > max_ ? max_ : middle));
      }
    }
    return static_cast<std::int64_t>(max_);
  }

  // Bucket index and bounds, public for the plots (one point per non-empty bucket).
  [[nodiscard]] std::uint64_t bucket_count(std::size_t index) const noexcept { return counts_[index]; }
  static constexpr std::size_t bucket(std::uint64_t value) noexcept {
    if (value < kSub) {
      return static_cast<std::size_t>(value);
    }
    const int exponent = 63 - std::countl_zero(value); // >= kSubBits
    const std::size_t sub = (value >> (exponent - kSubBits)) & (kSub - 1);
    const std::size_t index = kSub * static_cast<std::size_t>(exponent - kSubBits + 1) + sub;
    return index < kBuckets ? index : kBuckets - 1;
  }
  static constexpr std::uint64_t lower_bound(std::size_t index) noexcept {
    if (index < kSub) {
      return index;
    }
    const std::size_t exponent = index / kSub - 1 + kSubBits;
    const std::size_t sub = index % kSub;
    return (std::uint64_t{kSub} + sub) << (exponent - kSubBits);
  }
  static constexpr std::uint64_t upper_bound(std::size_t index) noexcept {
    if (index < kSub) {
      return index;
    }
    const std::size_t exponent = index / kSub - 1 + kSubBits;
    return lower_bound(index) + (std::uint64_t{1} << (exponent - kSubBits)) - 1;
  }

private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t min_ = 0;
  std::uint64_t max_ = 0;
};

} // namespace synthusd::latency
