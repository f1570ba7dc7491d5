#include "synthusd/hedging/price_path.hpp"

#include <cmath>

namespace synthusd::hedging {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) noexcept {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

constexpr double kPi = 3.14159265358979323846;

} // namespace

Random::Random(std::uint64_t seed) noexcept {
  for (std::uint64_t& word : state_) {
    word = splitmix64(seed);
  }
}

std::uint64_t Random::next() noexcept {
  const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const std::uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

double Random::uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Random::normal() noexcept {
  double u1 = uniform();
  while (u1 <= 0.0) {
    u1 = uniform();
  }
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
}

std::vector<PricePoint> generate_price_path(const PricePathConfig& config) {
  Random random(config.seed);
  std::vector<PricePoint> path;
  path.reserve(config.steps + 1);
  const double dt = static_cast<double>(config.step.nanoseconds) / static_cast<double>(kYear.nanoseconds);
  const double sigma = config.annual_volatility;
  const double drift = (config.annual_drift - 0.5 * sigma * sigma) * dt;
  const double jump_probability = config.jumps_per_year * dt;
  double price = static_cast<double>(config.start.raw);
  path.push_back({config.start_time, config.start});
  for (std::size_t step = 1; step <= config.steps; ++step) {
    double log_return = drift + sigma * std::sqrt(dt) * random.normal();
    if (random.uniform() < jump_probability) {
      log_return += config.jump_mean + config.jump_volatility * random.normal();
    }
    for (const PriceShock& shock : config.shocks) {
      if (step > shock.first_step && step <= shock.first_step + shock.steps && shock.steps > 0) {
        log_return += std::log1p(shock.total_return) / static_cast<double>(shock.steps);
      }
    }
    price *= std::exp(log_return);
    const double floor = static_cast<double>(Price::from_cents(1).raw);
    if (price < floor) {
      price = floor;
    }
    const Timestamp time = config.start_time + Duration{config.step.nanoseconds * static_cast<std::int64_t>(step)};
    path.push_back({time, Price{static_cast<std::int64_t>(std::llround(price))}});
  }
  return path;
}

} // namespace synthusd::hedging
