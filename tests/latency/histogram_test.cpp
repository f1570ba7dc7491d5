#include "histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace synthusd::latency {
namespace {

// The exact value at quantile q of sorted samples: rank ceil(q * n).
std::int64_t exact_quantile(const std::vector<std::int64_t>& sorted, double q) {
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::max<std::size_t>(rank, 1) - 1];
}

TEST(LatencyHistogram, PercentilesAreWithinOnePercentOfTheExactValues) {
  std::mt19937_64 random(15);
  std::lognormal_distribution<double> latency(std::log(30'000.0), 1.0); // around 30 us, long tail
  Histogram histogram;
  std::vector<std::int64_t> samples;
  for (int i = 0; i < 100'000; ++i) {
    const auto value = static_cast<std::int64_t>(latency(random));
    samples.push_back(value);
    histogram.record(value);
  }
  std::sort(samples.begin(), samples.end());
  for (const double q : {0.5, 0.9, 0.99, 0.999}) {
    const double exact = static_cast<double>(exact_quantile(samples, q));
    EXPECT_NEAR(static_cast<double>(histogram.quantile(q)), exact, exact * 0.01) << "q " << q;
  }
  EXPECT_EQ(histogram.count(), samples.size());
  EXPECT_EQ(histogram.min(), samples.front());
  EXPECT_EQ(histogram.max(), samples.back());
}

TEST(LatencyHistogram, BucketsTileTheRangeWithoutGapsOrOverlaps) {
  for (std::size_t index = 1; index < Histogram::kBuckets; ++index) {
    ASSERT_EQ(Histogram::lower_bound(index), Histogram::upper_bound(index - 1) + 1) << index;
    ASSERT_EQ(Histogram::bucket(Histogram::lower_bound(index)), index);
    ASSERT_EQ(Histogram::bucket(Histogram::upper_bound(index)), index);
  }
}

TEST(LatencyHistogram, MergeAddsCountsAndKeepsTheExtremes) {
  Histogram a;
  Histogram b;
  a.record(1'000);
  a.record(2'000);
  b.record(500);
  b.record(90'000);
  a.merge(b);
  EXPECT_EQ(a.count(), 4U);
  EXPECT_EQ(a.min(), 500);
  EXPECT_EQ(a.max(), 90'000);
  EXPECT_EQ(a.quantile(1.0), 90'000);
}

TEST(LatencyHistogram, AnEmptyHistogramReportsZero) {
  const Histogram histogram;
  EXPECT_EQ(histogram.quantile(0.5), 0);
  EXPECT_EQ(histogram.count(), 0U);
}

} // namespace
} // namespace synthusd::latency
