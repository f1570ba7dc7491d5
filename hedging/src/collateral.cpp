#include "synthusd/hedging/collateral.hpp"

#include <algorithm>
#include <limits>

namespace synthusd::hedging {
namespace {

constexpr Ratio kUnbounded{std::numeric_limits<std::int64_t>::max()};

// cents needed so that exposure / collateral == leverage
int128 collateral_for(int128 exposure_cents, Ratio leverage) noexcept {
  return divide(exposure_cents * Ratio::kScale, leverage.raw, Rounding::up);
}

} // namespace

CollateralDecision decide_collateral(const CollateralConfig& config, UsdCents required_exposure, Sats collateral,
                                     Price mark) noexcept {
  CollateralDecision decision;
  if (!mark.is_valid()) {
    return decision;
  }
  const int128 exposure = required_exposure.abs().value;
  const int128 collateral_cents = sats_to_cents(collateral, mark, Rounding::down).value;
  if (collateral_cents <= 0) {
    decision.leverage = exposure > 0 ? kUnbounded : Ratio{0};
  } else {
    decision.leverage =
        Ratio{static_cast<std::int64_t>(divide(exposure * Ratio::kScale, collateral_cents, Rounding::half_even))};
  }

  int128 transfer_cents = 0;
  const Ratio deposit_above = config.deposit_above.raw > 0 ? config.deposit_above : config.high_bound;
  if (exposure > 0 && decision.leverage > deposit_above) {
    decision.direction = TransferDirection::wallet_to_exchange;
    transfer_cents = collateral_for(exposure, config.high_safe_bound) - collateral_cents;
  } else if (collateral_cents > 0 && decision.leverage < config.low_bound) {
    decision.direction = TransferDirection::exchange_to_wallet;
    transfer_cents =
        exposure == 0 ? collateral_cents : collateral_cents - collateral_for(exposure, config.low_safe_bound);
    // Never below the amount the operator keeps at the venue.
    transfer_cents = std::min(transfer_cents, collateral_cents - static_cast<int128>(config.keep_at_venue.value));
  }
  if (transfer_cents <= 0 || transfer_cents < config.minimum_transfer.value) {
    return decision;
  }
  decision.transfer = true;
  if (decision.direction == TransferDirection::exchange_to_wallet && exposure == 0 && config.keep_at_venue.value == 0) {
    decision.amount = collateral; // everything, to the sat
  } else {
    // deposits round up (never short of the safe band), withdrawals down
    const Rounding rounding =
        decision.direction == TransferDirection::wallet_to_exchange ? Rounding::up : Rounding::down;
    decision.amount = cents_to_sats(UsdCents{static_cast<std::int64_t>(transfer_cents)}, mark, rounding);
  }
  return decision;
}

Ratio liquidation_distance(UsdCents short_exposure, Sats collateral, Price mark, Ratio maintenance_margin) noexcept {
  if (!mark.is_valid() || short_exposure.value == 0) {
    return kUnbounded;
  }
  const int128 q = short_exposure.abs().value;
  const int128 c = sats_to_cents(collateral, mark, Rounding::down).value;
  if (c >= q) {
    return kUnbounded;
  }
  const int128 numerator = c * Ratio::kScale - q * maintenance_margin.raw; // (C - mm Q) * scale
  return Ratio{static_cast<std::int64_t>(divide(numerator, q - c, Rounding::down))};
}

} // namespace synthusd::hedging
