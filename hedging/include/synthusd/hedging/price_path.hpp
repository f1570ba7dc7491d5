#pragma once
// Seeded BTC price paths for simulations and tests: geometric Brownian motion
// with Poisson jumps, plus scripted shocks (a crash, a squeeze). Analytics
// code: doubles are allowed here; the path is handed to the kernel as
// fixed-point prices. Same seed, same path, on every run.

#include <cstdint>
#include <vector>

#include "synthusd/hedging/types.hpp"

namespace synthusd::hedging {

// xoshiro256** seeded through splitmix64: tiny, fast, and identical across
// standard libraries (std::mt19937 is too, but its distributions are not).
class Random {
public:
  explicit Random(std::uint64_t seed) noexcept;
  std::uint64_t next() noexcept;
  double uniform() noexcept; // [0, 1)
  double normal() noexcept;  // standard normal, Box-Muller

private:
  std::uint64_t state_[4];
};

// A move of `total_return` (e.g. -0.5) spread evenly (geometrically) over
// `steps` steps starting at step `first_step`.
struct PriceShock {
  std::size_t first_step = 0;
  std::size_t steps = 1;
  double total_return = 0.0;
};

struct PricePathConfig {
  Price start = Price::from_dollars(30'000);
  Timestamp start_time{1'600'000'000LL * 1'000'000'000};
  Duration step = Duration::from_hours(4);
  std::size_t steps = 180;
  double annual_drift = 0.0;
  double annual_volatility = 0.8;
  double jumps_per_year = 12.0;
  double jump_mean = 0.0;       // of log(jump factor)
  double jump_volatility = 0.1; // of log(jump factor)
  std::vector<PriceShock> shocks;
  std::uint64_t seed = 1;
};

struct PricePoint {
  Timestamp time{};
  Price price{};
};

// steps + 1 points, the first at start_time / start. Prices are floored at
// one cent so a path never produces an invalid price.
[[nodiscard]] std::vector<PricePoint> generate_price_path(const PricePathConfig& config);

} // namespace synthusd::hedging
