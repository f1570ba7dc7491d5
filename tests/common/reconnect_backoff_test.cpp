#include "synthusd/common/reconnect_backoff.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace synthusd::common {
namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

std::vector<nanoseconds> take(ReconnectBackoff& backoff, int count) {
  std::vector<nanoseconds> delays;
  for (int i = 0; i < count; ++i) {
    delays.push_back(backoff.next());
  }
  return delays;
}

TEST(ReconnectBackoffTest, DoublesFromTheInitialDelayUpToTheCap) {
  ReconnectBackoff backoff(100ms, 1s, 0.0, 1);
  const std::vector<nanoseconds> expected = {100ms, 200ms, 400ms, 800ms, 1s, 1s, 1s};
  EXPECT_EQ(take(backoff, 7), expected);
  EXPECT_EQ(backoff.failures(), 7U);
}

TEST(ReconnectBackoffTest, StartsOverAfterReset) {
  ReconnectBackoff backoff(100ms, 10s, 0.0, 1);
  static_cast<void>(take(backoff, 5));
  backoff.reset();
  EXPECT_EQ(backoff.failures(), 0U);
  EXPECT_EQ(backoff.next(), 100ms);
}

TEST(ReconnectBackoffTest, JitterOnlyShortensWithinTheFraction) {
  ReconnectBackoff backoff(100ms, 10s, 0.5, 7);
  nanoseconds base = 100ms;
  bool varied = false;
  for (int i = 0; i < 200; ++i) {
    const nanoseconds delay = backoff.next();
    EXPECT_LE(delay, base);
    EXPECT_GE(delay, base / 2);
    varied = varied || delay != base;
    base = std::min<nanoseconds>(base * 2, 10s);
  }
  EXPECT_TRUE(varied);
}

TEST(ReconnectBackoffTest, IsReproducibleForASeedAndDiffersAcrossSeeds) {
  ReconnectBackoff first(100ms, 10s, 0.5, 42);
  ReconnectBackoff again(100ms, 10s, 0.5, 42);
  ReconnectBackoff other(100ms, 10s, 0.5, 43);
  const std::vector<nanoseconds> delays = take(first, 10);
  EXPECT_EQ(take(again, 10), delays);
  EXPECT_NE(take(other, 10), delays);
}

TEST(ReconnectBackoffTest, StaysBoundedAfterManyFailures) {
  ReconnectBackoff backoff(1ms, 10s, 0.0, 1);
  for (int i = 0; i < 100'000; ++i) {
    static_cast<void>(backoff.next());
  }
  EXPECT_EQ(backoff.next(), 10s);
  ReconnectBackoff immediate(0ms, 10s, 0.0, 1);
  static_cast<void>(take(immediate, 1000));
  EXPECT_EQ(immediate.next(), 0ms);
}

// The published splitmix64 outputs (Vigna's reference splitmix64.c): the
// WebSocket client's mask keys and jitter come from this exact sequence.
TEST(SplitMix64Test, MatchesTheReferenceSequence) {
  SplitMix64 zero(0);
  EXPECT_EQ(zero.next(), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(zero.next(), 0x6e789e6aa1b965f4ULL);
  SplitMix64 seeded(1234567);
  EXPECT_EQ(seeded.next(), 6'457'827'717'110'365'317ULL);
  static_assert(SplitMix64(0).next() == 0xe220a8397b1dcdafULL, "usable in constant expressions");
}

TEST(SplitMix64Test, UnitStaysInTheHalfOpenInterval) {
  SplitMix64 random(7);
  for (int i = 0; i < 100'000; ++i) {
    const double u = random.unit();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

} // namespace
} // namespace synthusd::common
