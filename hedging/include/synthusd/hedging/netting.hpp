#pragma once
// Internal netting of stable receivers (users holding USD, X_i) against
// stable providers (users taking leveraged-long BTC, Y_i), pro-rata as in the
// PolkaSynthetics interest match: R = sum(Y) / sum(X); receiver i is matched
// min(X_i, X_i * R) and provider j min(Y_j, Y_j / R). Only the unmatched
// remainder of the receivers needs a hedge on a venue.

#include <cstddef>
#include <span>

#include "synthusd/hedging/types.hpp"

namespace synthusd::hedging {

struct NettingTotals {
  UsdCents receivers{};   // sum X
  UsdCents providers{};   // sum Y
  UsdCents matched{};     // min(sum X, sum Y): offset internally
  UsdCents venue_hedge{}; // sum X - matched: what goes to venues
};

[[nodiscard]] constexpr NettingTotals net_totals(UsdCents receivers, UsdCents providers) noexcept {
  NettingTotals totals;
  totals.receivers = receivers.value > 0 ? receivers : UsdCents{0};
  totals.providers = providers.value > 0 ? providers : UsdCents{0};
  totals.matched = totals.receivers < totals.providers ? totals.receivers : totals.providers;
  totals.venue_hedge = totals.receivers - totals.matched;
  return totals;
}

// Per-participant matched amounts. Each match is rounded down to a whole
// cent (never over-matching anyone); the side that is fully matched
// (R >= 1 for receivers, R <= 1 for providers) gets exactly its interest.
// Outputs must be as long as their inputs; negative interests count as 0.
// Returns the totals.
NettingTotals match_pro_rata(std::span<const UsdCents> receivers, std::span<const UsdCents> providers,
                             std::span<UsdCents> receiver_matched, std::span<UsdCents> provider_matched) noexcept;

} // namespace synthusd::hedging
