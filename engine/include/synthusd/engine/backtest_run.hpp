#pragma once
// One policy over one history: the real kernel, in process, against the
// venue model synthusd-venue runs (venue::Engine: fills at the touch, maker
// and taker fees, funding at the schedule's rate, initial margin on every
// order, liquidation at the maintenance margin). One venue::Engine book
// per configured instrument: each venue's perpetual (inverse or linear) and
// any inverse dated futures, sharing the venue's collateral
// (backtest_books.hpp). Kernel
// orders are shaped exactly as the FIX gateway shapes them
// (fix::shape_order: a collared IOC limit, or post-only at our side of the
// touch with the IOC taker fallback after post_only_wait), so a post-only
// order fills only once the price trades through it.
//
// Deterministic: no clock, no sockets, no threads; the same inputs give
// the same result, sample for sample.
//
// Hedge error, the number the product promises about: the USD value held
// for customers from price moves alone minus their dollars, i.e.
//   (wallet + collateral in transit + venue equity
//    + fees + slippage against the mark + funding paid (net), in BTC) * price
//   - liability,
// in hundredths of a basis point of the liability. Fees, funding and
// slippage are costs the operator carries and are reported apart.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "synthusd/engine/backtest_inputs.hpp"
#include "synthusd/fix/execution_policy.hpp"
#include "synthusd/hedging/config.hpp"
#include "synthusd/venue/market_data.hpp"

namespace synthusd::engine {

struct PolicySpec {
  std::string name;
  hedging::BandConfig bands;
  fix::ExecutionStyle execution = fix::ExecutionStyle::limit_ioc;
};

// stablesats (the reference: stablesats-rs's rules and bands), banded (the
// project's default: hedging::default_bands(banded)) and passive (banded,
// post-only with the taker fallback). Throws std::invalid_argument for any
// other name.
[[nodiscard]] PolicySpec policy_by_name(std::string_view name, const hedging::BandConfig& configured);
[[nodiscard]] std::vector<PolicySpec> policies_from_list(std::string_view comma_separated,
                                                         const hedging::BandConfig& configured);

struct BacktestInputs {
  hedging::KernelConfig kernel; // venues, instruments, collateral rules; bands come from the policy
  std::vector<hedging::PricePoint> path;
  venue::FundingSchedule funding;
  std::vector<LiabilityFlow> flows;
  hedging::Duration transfer_delay{};                                      // wallet <-> venue collateral moves
  hedging::Duration post_only_wait = hedging::Duration::from_seconds(120); // then the taker fallback
  hedging::Ratio venue_initial_margin = hedging::Ratio::from_ppm(20'000);  // the venue's I: 2 % (50x)
  std::int64_t tolerance_centi_bps = 1'000;                                // 10 bps: "time beyond tolerance"
  // Dated futures (inverse_future instruments): priced at the index plus
  // this premium a year, decaying to zero at expiry (venue::future_price_path).
  hedging::Ratio future_annual_basis = hedging::Ratio::from_ppm(50'000); // 5 % a year
};

// One point of the run, after that time's events have been applied.
struct BacktestSample {
  hedging::Timestamp time{};
  hedging::Price price{};
  hedging::UsdCents liability{};
  hedging::UsdCents hedge{};             // |short liability-hedge exposure| at the venues
  hedging::UsdCents value{};             // USD value held for customers, costs added back
  std::int64_t error_centi_bps = 0;      // (value - liability) / liability, 1/100 bp
  hedging::UsdCents fees{};              // cumulative
  hedging::UsdCents funding_paid{};      // cumulative, net (negative: received)
  hedging::Ratio leverage{};             // worst venue: gross exposure / equity
  hedging::Ratio liquidation_distance{}; // nearest venue: price move to liquidation
  bool has_position = false;
};

struct BacktestMarker {
  hedging::Timestamp time{};
  std::string kind; // liquidation, transfer, funding_guard, alert, reject, roll, refused (an intake line)
  std::string text;
};

struct PolicyResult {
  std::string policy;
  std::string execution;
  // hedge error, 1/100 bp of liability
  std::int64_t worst_shortfall_centi_bps = 0; // most negative (<= 0)
  std::int64_t worst_excess_centi_bps = 0;    // most positive (>= 0)
  std::int64_t rms_centi_bps = 0;
  std::int64_t final_centi_bps = 0;
  hedging::Duration time_beyond_tolerance{};
  hedging::Duration duration{};
  // costs, apart
  hedging::UsdCents fees{};
  hedging::UsdCents maker_fees{};       // the part of fees paid on maker fills (negative: rebates)
  hedging::UsdCents funding_paid{};     // sum of payments
  hedging::UsdCents funding_received{}; // sum of receipts
  hedging::UsdCents slippage{};         // against the mark; negative: price improvement
  hedging::UsdCents basis_earned{};     // dated futures: what shorts earned from the premium decaying
  // activity
  std::uint64_t orders = 0;
  std::uint64_t rejected_orders = 0;
  std::uint64_t cancels = 0; // asked by the kernel or the post-only wait
  std::uint64_t maker_fills = 0;
  std::uint64_t taker_fills = 0;
  std::int64_t contracts_traded = 0;
  std::uint64_t liquidations = 0;
  std::uint64_t transfers_to_venue = 0;
  std::uint64_t transfers_to_wallet = 0;
  hedging::Sats transferred{}; // both directions
  std::uint64_t alerts = 0;
  // Intake lines the admission refused (conflicting id, beyond the intake's
  // limits, a debit larger than the liability) and repeated ones (applied
  // once); the refusals are markers with their line and reason.
  std::uint64_t lines_refused = 0;
  std::uint64_t lines_repeated = 0;
  std::uint64_t rolls = 0; // the kernel moved a venue's hedge to another instrument (carry, expiry)
  hedging::Ratio max_leverage{};
  hedging::Ratio min_liquidation_distance{}; // valid when any_position
  bool any_position = false;
  hedging::UsdCents final_liability{};
  hedging::UsdCents final_value{};
  std::vector<BacktestSample> samples;
  std::vector<BacktestMarker> markers;
};

// Called every few percent with (points done, points in the path).
using ProgressCallback = std::function<void(std::size_t, std::size_t)>;

// Throws std::invalid_argument when the configuration has an instrument the
// venue model cannot trade (a second perpetual on a venue, a future that
// expires before the path starts).
[[nodiscard]] PolicyResult run_backtest(const BacktestInputs& inputs, const PolicySpec& policy,
                                        const ProgressCallback& progress = {});

} // namespace synthusd::engine
