#pragma once
// Band policies: given the USD liability a slot must hedge and the slot's
// current exposure, how many contracts to trade.

#include "synthusd/hedging/config.hpp"

namespace synthusd::hedging {

struct BandInput {
  UsdCents total_liability{}; // the whole book's net liability, for the minimum-liability rule
  int128 slot_liability = 0;  // USD this slot must hedge, cents * Ratio::kScale, >= 0
  int128 exposure = 0;        // slot exposure incl. in-flight orders, cents * Ratio::kScale, short < 0
  int128 contract_value = 0;  // USD of one contract, cents * Ratio::kScale, > 0
};

enum class BandZone : std::uint8_t {
  below_minimum_liability, // close everything
  net_long,                // ratio < 0
  under_hedged,            // ratio < low bound
  in_band,
  over_hedged, // ratio > high bound
};

struct BandDecision {
  BandZone zone = BandZone::in_band;
  Contracts trade{}; // signed: > 0 buy, < 0 sell, 0 nothing
};

// Applies config.bands.policy. The stablesats policy is a literal port of
// stablesats-rs HedgingAdjustment::determine_action (thresholds from the
// config, rust_decimal round() = half-even). The banded policy uses the same
// zones, rounds toward the band (never overshooting the safe target by more
// than half a contract), and skips trades below minimum_order.
[[nodiscard]] BandDecision decide_band(const BandConfig& config, const BandInput& input) noexcept;

struct HybridDecision {
  BandZone zone = BandZone::in_band; // of the firm exposure against the hard band
  Contracts taker{};                 // signed: back inside [low_bound, high_bound], at once
  Contracts passive{};               // signed: toward 1.00, posted at the touch; 0 when taker is not
};

// The hybrid policy on the firm exposure (without the resting post-only
// order). Outside the hard band [low_bound, high_bound] (or net long, or
// below the minimum liability): a taker trade to the nearest whole contract
// inside it, since every moment outside is hedge error. Inside it but
// outside the soft band [low_safe_bound, high_safe_bound]: a passive trade
// back to 1.00, because a maker fill costs nothing and waiting for one is
// safe while the hard band holds. Trades below minimum_order are 0.
[[nodiscard]] HybridDecision decide_hybrid(const BandConfig& config, const BandInput& input) noexcept;

// ratio = |short exposure| / liability as a Ratio (for metrics and tests);
// liability must be > 0.
[[nodiscard]] Ratio hedge_ratio(int128 exposure, int128 liability) noexcept;

} // namespace synthusd::hedging
