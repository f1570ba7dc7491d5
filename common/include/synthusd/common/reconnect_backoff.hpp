#pragma once
// Reconnect delays: exponential from an initial delay up to a cap, each one
// jittered down by up to a fraction so that clients dropped together do not
// reconnect in step. A seeded PRNG makes the sequence reproducible.
//
//   delay(n) = min(initial * 2^n, maximum) * (1 - jitter * u),  u in [0, 1)
//
// reset() starts again from `initial` (after a connection succeeded).
//
// C++14, like the rest of common/.

#include <chrono>
#include <cstdint>

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces): C++14
namespace common {

// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough for
// jitter and WebSocket mask keys. Not cryptographic.
class SplitMix64 {
public:
  explicit constexpr SplitMix64(std::uint64_t seed) noexcept : state_(seed) {}
  [[nodiscard]] constexpr std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1), from the top 53 bits (a double's mantissa). The factor
  // is 2^-53, exact in binary; written as a quotient because hexadecimal
  // floating literals (0x1.0p-53) are C++17.
  [[nodiscard]] constexpr double unit() noexcept {
    return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0);
  }

private:
  std::uint64_t state_;
};

class ReconnectBackoff {
public:
  // `jitter` is clamped to [0, 1]; 0 gives the exact doubling sequence.
  ReconnectBackoff(std::chrono::nanoseconds initial, std::chrono::nanoseconds maximum, double jitter,
                   std::uint64_t seed) noexcept;

  // The delay before the next attempt; the one after is twice as long (capped).
  [[nodiscard]] std::chrono::nanoseconds next() noexcept;
  void reset() noexcept { failures_ = 0; }
  // Delays handed out since the last reset().
  [[nodiscard]] std::uint32_t failures() const noexcept { return failures_; }

private:
  std::chrono::nanoseconds initial_;
  std::chrono::nanoseconds maximum_;
  double jitter_;
  SplitMix64 random_;
  std::uint32_t failures_ = 0;
};

} // namespace common
} // namespace synthusd
