#pragma once
// Kernel configuration. Every number a rule uses lives here with its default.
// Built once at start-up (allocation allowed), validated, then read only.

#include <string>
#include <string_view>
#include <vector>

#include "synthusd/hedging/instrument.hpp"

namespace synthusd::hedging {

enum class PolicyKind : std::uint8_t {
  stablesats, // reproduces stablesats-rs HedgingAdjustment exactly
  banded,     // the project's own: configurable bands, rounding and minimum order
  // banded's band as a hard band, back to its edge by taker orders at once;
  // outside the safe bounds, toward 1.00 by one post-only order at the touch
  // (a maker fill costs nothing), re-priced when the touch moves away
  hybrid,
};

// Parses "stablesats" / "banded" / "hybrid"; returns false for any other name.
[[nodiscard]] bool policy_from_name(std::string_view name, PolicyKind& out) noexcept;
[[nodiscard]] std::string_view policy_name(PolicyKind kind) noexcept;

struct BandConfig {
  PolicyKind policy = PolicyKind::stablesats;
  // ratio = |short exposure| / liability
  Ratio low_bound = Ratio::from_ppm(950'000);
  Ratio low_safe_bound = Ratio::from_ppm(980'000);
  Ratio high_safe_bound = Ratio::from_ppm(1'000'000);
  Ratio high_bound = Ratio::from_ppm(1'030'000);
  UsdCents minimum_liability{5'000}; // below: close everything
  Contracts minimum_order{1};        // banded only: smaller trades are skipped
  // banded and hybrid: a band scaled by realised volatility (volatility.hpp).
  // While the mark's hourly volatility is below the reference, each bound's
  // distance from 1.00 grows by reference / realised, at most
  // maximum_band_scale times. 0: the band is fixed.
  Ratio volatility_reference{0};
  std::int64_t maximum_band_scale = 1;
};

// The bands a policy uses when the configuration names the policy and not
// its bounds. stablesats: its own 0.95 / 0.98 / 1.00 / 1.03. banded (the
// project's default): 0.999 / 0.9995 / 1.0005 / 1.001, whenever the hedge is
// 10 bps off, back halfway to 1.00: a payment answered by one the other way
// nets inside the band instead of being a round trip through the middle.
// Measured with `synthusd backtest` on the 2020-03-12/13 crash and the
// 2022-11 week, seeds 1-5 (README, "Hedge fidelity"): 5-12 % fewer fees than
// back to 1.00, worst hedge error -3.5 / +5.0 bps. Back to the edge saves
// 9-22 % but reaches -7.2 / +9.2 bps and -12.6 bps in one demo run; wider
// bands pass 10 bps on the 30 m crash. One contract is 2 bps of a $50k book
// on Deribit's $10 contract; a book too small for the band is hedged to the
// nearest contract (the banded rounding) instead of trading back and forth.
[[nodiscard]] BandConfig default_bands(PolicyKind policy) noexcept;

struct CarryConfig {
  // a dated future replaces the perpetual (or vice versa) only when its
  // annualised carry is better by this much, so the choice does not flap
  Ratio switch_hysteresis = Ratio::from_ppm(20'000); // 2 % a year
  Duration roll_before_expiry = Duration::from_hours(24);
  // A perpetual's carry is its funding rate averaged over about this long
  // (each update weighs its share of the window), not the rate of the
  // moment: an 8-hourly rate that swings from +11 % to -15 % a year and back
  // (Binance, 2022-11) would otherwise move the whole hedge onto a future
  // and back every few hours, two taker fees each way. 0: the rate itself.
  Duration funding_average_window = Duration::from_hours(24);
  // A move onto a future must repay both taker fees before the future's roll
  // point (carry.hpp). false: carry and hysteresis alone, for a demo whose
  // clocks run faster than the kernel's.
  bool repay_switch = true;
};

struct CollateralConfig {
  // leverage = |exposure| / collateral at mark
  Ratio low_bound = Ratio::from_ppm(2'000'000);
  Ratio low_safe_bound = Ratio::from_ppm(3'000'000);
  Ratio high_safe_bound = Ratio::from_ppm(3'000'000);
  Ratio high_bound = Ratio::from_ppm(4'000'000);
  // A deposit is asked for once leverage passes this (0: high_bound). A
  // deposit lands a while after it is asked for (an on-chain send, the
  // venue's confirmations) and payments keep raising the exposure meanwhile;
  // asked for inside the band, it can land before leverage reaches
  // high_bound. Above high_safe_bound and at most high_bound when set.
  Ratio deposit_above{0};
  // Collateral kept at the venue however low leverage falls: a withdrawal
  // never takes the collateral's value (at mark) below it. An operator keeps
  // one for the payments to come, since a deposit takes a transfer time to
  // land and the liability can grow faster than that (a cold start, a run of
  // credits). 0: none (with nothing to hedge, everything is withdrawn).
  UsdCents keep_at_venue{0};
  UsdCents minimum_transfer{10'000};                           // $100
  Ratio liquidation_alert_distance = Ratio::from_ppm(150'000); // 15 % price move
};

struct FundingGuardConfig {
  Ratio engage_below = Ratio::from_ppm(-100); // -0.01 % per interval (shorts pay)
  Duration engage_after = Duration::from_hours(8);
  Ratio release_at_or_above = Ratio{0};
  // A guard that engages or releases moves hedge between venues (or onto a
  // venue's future) only once it has held this long: venues whose funding
  // turns at the same funding time report it a few updates apart, and the
  // hedge must not make a round trip between them meanwhile.
  Duration move_after = Duration::from_seconds(300);
};

struct RiskFactors {
  Ratio vault_factor = Ratio::from_ppm(800'000);
  Ratio vault_profit_limit_factor = Ratio::from_ppm(900'000);
  Duration close_after_no_risk = Duration::from_seconds(60);
};

// Where the risk-trigger strategy hedges positions of one external market.
struct RiskMarketRoute {
  std::uint16_t market = 0;
  VenueId venue = kNoVenue;
  InstrumentId instrument = kNoInstrument;
};

struct VenueConfig {
  VenueId id = kNoVenue;
  std::string name;
  std::uint32_t weight = 1;    // share of the hedge, relative to other venues
  UsdCents cap{INT64_MAX / 4}; // counterparty limit on hedge notional
};

struct KernelConfig {
  std::vector<VenueConfig> venues;
  std::vector<InstrumentSpec> instruments;
  BandConfig bands;
  CarryConfig carry;
  CollateralConfig collateral;
  FundingGuardConfig funding_guard;
  RiskFactors risk_factors;
  std::vector<RiskMarketRoute> risk_routes;
  // ClOrdIDs are first_client_order_id + n; the engine persists the base so
  // that ids stay unique across restarts.
  ClientOrderId first_client_order_id = 1;
  TransferId first_transfer_id = 1;
  std::size_t order_table_capacity = 256;
  // after a reject, no new liability order on that instrument for this long
  // (time from events), so a venue refusing orders is not hammered
  Duration order_retry_after_reject = Duration::from_seconds(1);
  // an order with no final report after this long is asked to cancel (once,
  // with an alert); its quantity stays in flight until the venue answers
  Duration cancel_unanswered_order_after = Duration::from_seconds(10);
  std::size_t risk_position_capacity = 256;
};

// Throws std::invalid_argument naming the first bad field.
void validate(const KernelConfig& config);

// Three venues with their real contract specs (OKX $100, Deribit $10 plus a
// dated future, Binance COIN-M $100): used by the simulation, tests and demo.
[[nodiscard]] KernelConfig reference_config();

} // namespace synthusd::hedging
