#pragma once
// Collateral and leverage on one venue: when to move BTC between the
// operator's wallet and the exchange, and how far the price is from
// liquidating the short.

#include "synthusd/hedging/actions.hpp"
#include "synthusd/hedging/config.hpp"

namespace synthusd::hedging {

struct CollateralDecision {
  bool transfer = false;
  TransferDirection direction = TransferDirection::wallet_to_exchange;
  Sats amount{};
  Ratio leverage{}; // |exposure| / collateral; Ratio{INT64_MAX} when there is exposure and no collateral
};

// required_exposure: the larger of the venue's current |exposure| and its
// allocated hedge, in cents. Leverage above `deposit_above` (`high_bound`
// when 0; or exposure with no collateral) -> deposit to reach `high_safe_bound`; below `low_bound` ->
// withdraw to reach `low_safe_bound` (all of it when nothing is hedged).
// Transfers under `minimum_transfer` are not made. mark must be valid.
[[nodiscard]] CollateralDecision decide_collateral(const CollateralConfig& config, UsdCents required_exposure,
                                                   Sats collateral, Price mark) noexcept;

// Relative price rise that liquidates a short inverse position of
// `short_exposure` USD backed by `collateral` BTC, with maintenance margin
// ratio mm: P_liq / P - 1 = (C - mm * Q) / (Q - C) with C the collateral in
// USD at mark. Ratio{INT64_MAX} when the position cannot be liquidated
// (collateral covers the whole exposure) or there is no exposure.
[[nodiscard]] Ratio liquidation_distance(UsdCents short_exposure, Sats collateral, Price mark,
                                         Ratio maintenance_margin) noexcept;

} // namespace synthusd::hedging
