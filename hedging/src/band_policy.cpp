#include "synthusd/hedging/band_policy.hpp"

namespace synthusd::hedging {
namespace {

constexpr int128 abs128(int128 v) noexcept { return v < 0 ? -v : v; }

// ratio < bound  <=>  |E| * scale < bound * L (L > 0), exact in int128.
constexpr bool ratio_below(int128 short_exposure, int128 liability, Ratio bound) noexcept {
  return short_exposure * Ratio::kScale < static_cast<int128>(bound.raw) * liability;
}
constexpr bool ratio_above(int128 short_exposure, int128 liability, Ratio bound) noexcept {
  return short_exposure * Ratio::kScale > static_cast<int128>(bound.raw) * liability;
}

BandZone classify(const BandConfig& config, const BandInput& input) noexcept {
  if (input.total_liability < config.minimum_liability || input.slot_liability <= 0) {
    return BandZone::below_minimum_liability;
  }
  // exposure > 0 is a net long: ratio = E / -L < 0
  if (input.exposure > 0) {
    return BandZone::net_long;
  }
  const int128 short_exposure = -input.exposure;
  if (ratio_below(short_exposure, input.slot_liability, config.low_bound)) {
    return BandZone::under_hedged;
  }
  if (ratio_above(short_exposure, input.slot_liability, config.high_bound)) {
    return BandZone::over_hedged;
  }
  return BandZone::in_band;
}

// Target exposure (negative: short) for the zone, cents * Ratio::kScale.
int128 target_exposure(const BandConfig& config, BandZone zone, int128 liability) noexcept {
  const Ratio target = zone == BandZone::over_hedged ? config.high_safe_bound : config.low_safe_bound;
  return -divide(static_cast<int128>(target.raw) * liability, Ratio::kScale, Rounding::half_even);
}

Contracts stablesats_trade(const BandConfig& config, BandZone zone, const BandInput& input) noexcept {
  // trade = (target - E) / contract, rounded half-even as rust_decimal round() does
  const int128 target = target_exposure(config, zone, input.slot_liability);
  return Contracts{
      static_cast<std::int64_t>(divide(target - input.exposure, input.contract_value, Rounding::half_even))};
}

// Among the two whole-contract trades bracketing the exact one, prefer the one
// that lands inside [low, high]; between two inside, the nearer to target;
// when neither lands inside, the one leaving the smaller unhedged amount.
Contracts banded_trade(const BandConfig& config, BandZone zone, const BandInput& input) noexcept {
  const int128 target = target_exposure(config, zone, input.slot_liability);
  const int128 delta = target - input.exposure;
  const int128 candidates[2] = {divide(delta, input.contract_value, Rounding::down),
                                divide(delta, input.contract_value, Rounding::up)};
  int128 best = candidates[0];
  bool best_inside = false;
  int128 best_score = -1;
  for (const int128 trade : candidates) {
    const int128 after = input.exposure + trade * input.contract_value;
    const int128 short_after = -after;
    const bool inside = after <= 0 && !ratio_below(short_after, input.slot_liability, config.low_bound) &&
                        !ratio_above(short_after, input.slot_liability, config.high_bound);
    const int128 score = inside ? abs128(after - target) : abs128(short_after - input.slot_liability);
    if (best_score < 0 || (inside && !best_inside) || (inside == best_inside && score < best_score)) {
      best = trade;
      best_inside = inside;
      best_score = score;
    }
  }
  return Contracts{static_cast<std::int64_t>(best)};
}

} // namespace

BandDecision decide_band(const BandConfig& config, const BandInput& input) noexcept {
  BandDecision decision;
  decision.zone = classify(config, input);
  if (input.contract_value <= 0) {
    decision.trade = Contracts{0};
    return decision;
  }
  switch (decision.zone) {
  case BandZone::in_band:
    return decision;
  case BandZone::below_minimum_liability:
    // close whatever the slot holds; the exposure is a whole number of
    // contracts of this instrument, so dividing back is exact up to rounding
    decision.trade =
        Contracts{static_cast<std::int64_t>(divide(-input.exposure, input.contract_value, Rounding::half_even))};
    return decision;
  case BandZone::net_long:
  case BandZone::under_hedged:
  case BandZone::over_hedged:
    break;
  }
  if (config.policy == PolicyKind::stablesats) {
    decision.trade = stablesats_trade(config, decision.zone, input);
    return decision;
  }
  decision.trade = banded_trade(config, decision.zone, input);
  if (decision.trade.abs() < config.minimum_order) {
    decision.trade = Contracts{0};
  }
  return decision;
}

HybridDecision decide_hybrid(const BandConfig& config, const BandInput& input) noexcept {
  HybridDecision decision;
  // The taker part is banded's trade with the hard band's edges as targets.
  BandConfig hard = config;
  hard.policy = PolicyKind::banded;
  hard.low_safe_bound = config.low_bound;
  hard.high_safe_bound = config.high_bound;
  const BandDecision taker = decide_band(hard, input);
  decision.zone = taker.zone;
  decision.taker = taker.trade;
  if (taker.zone != BandZone::in_band || input.contract_value <= 0) {
    return decision;
  }
  const int128 short_exposure = -input.exposure;
  if (!ratio_below(short_exposure, input.slot_liability, config.low_safe_bound) &&
      !ratio_above(short_exposure, input.slot_liability, config.high_safe_bound)) {
    return decision;
  }
  const int128 trade = divide(-input.slot_liability - input.exposure, input.contract_value, Rounding::half_even);
  decision.passive = Contracts{static_cast<std::int64_t>(trade)};
  if (decision.passive.abs() < config.minimum_order) {
    decision.passive = Contracts{0};
  }
  return decision;
}

Ratio hedge_ratio(int128 exposure, int128 liability) noexcept {
  if (liability <= 0) {
    return Ratio{0};
  }
  return Ratio{static_cast<std::int64_t>(divide(-exposure * Ratio::kScale, liability, Rounding::half_even))};
}

} // namespace synthusd::hedging
