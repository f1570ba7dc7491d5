// The config digest that keeps a kernel snapshot (kernel_snapshot.cpp) from
// being restored under another config, and the guards that make a new config
// field fail to compile until config_digest covers it.

#include <string_view>

#include "kernel_snapshot_internal.hpp"
#include "synthusd/hedging/digest.hpp"
#include "synthusd/hedging/kernel.hpp"

namespace synthusd::hedging {
namespace {

using snapshot_detail::field_count;
using snapshot_detail::kSnapshotMagic;
using snapshot_detail::kWordBytes;

// ---- guard: every config field is digested ---------------------------------------
//
// As kernel_snapshot.cpp does for the state: a new config field that changes
// what the kernel does belongs in config_digest.
static_assert(field_count<KernelConfig>() == 14, "KernelConfig changed: update Kernel::config_digest");
static_assert(field_count<VenueConfig>() == 4, "VenueConfig changed: update Kernel::config_digest");
static_assert(field_count<InstrumentSpec>() == 14, "InstrumentSpec changed: update Kernel::config_digest");
static_assert(field_count<BandConfig>() == 9, "BandConfig changed: update Kernel::config_digest");
static_assert(field_count<CarryConfig>() == 4, "CarryConfig changed: update Kernel::config_digest");
static_assert(field_count<CollateralConfig>() == 8, "CollateralConfig changed: update Kernel::config_digest");
static_assert(field_count<FundingGuardConfig>() == 4, "FundingGuardConfig changed: update Kernel::config_digest");
static_assert(field_count<RiskFactors>() == 3, "RiskFactors changed: update Kernel::config_digest");
static_assert(field_count<RiskMarketRoute>() == 3, "RiskMarketRoute changed: update Kernel::config_digest");

void add_text(Digest& digest, std::string_view text) noexcept {
  digest.add(static_cast<std::uint64_t>(text.size()));
  std::uint64_t word = 0;
  std::size_t filled = 0;
  for (const char c : text) {
    word |= static_cast<std::uint64_t>(static_cast<unsigned char>(c)) << (8 * filled);
    if (++filled == kWordBytes) {
      digest.add(word);
      word = 0;
      filled = 0;
    }
  }
  if (filled > 0) {
    digest.add(word);
  }
}

} // namespace

std::uint64_t Kernel::config_digest() const noexcept {
  Digest d;
  d.add(kSnapshotMagic); // domain separation from the state digests
  // Venues and instruments in the kernel's own (id) order: reordering the
  // config file changes nothing the kernel does.
  d.add(static_cast<std::uint64_t>(venues_.size()));
  for (const VenueState& venue : venues_) {
    const VenueConfig& c = venue.config;
    d.add(static_cast<std::uint64_t>(c.id));
    add_text(d, c.name);
    d.add(static_cast<std::uint64_t>(c.weight));
    d.add(c.cap.value);
  }
  d.add(static_cast<std::uint64_t>(slots_.size()));
  for (const SlotState& slot : slots_) {
    const InstrumentSpec& s = slot.spec;
    d.add(static_cast<std::uint64_t>(s.id));
    d.add(static_cast<std::uint64_t>(s.venue));
    add_text(d, s.symbol.view());
    d.add(static_cast<std::uint64_t>(s.kind));
    d.add(s.contract_value.value);
    d.add(s.contract_size.value);
    d.add(s.tick_size.raw);
    d.add(s.lot_size.value);
    d.add(s.minimum_order.value);
    d.add(s.maker_fee.raw);
    d.add(s.taker_fee.raw);
    d.add(s.maintenance_margin.raw);
    d.add(s.expiry.nanoseconds);
    d.add(s.funding_interval.nanoseconds);
  }
  const BandConfig& b = config_.bands;
  d.add(static_cast<std::uint64_t>(b.policy));
  d.add(b.low_bound.raw);
  d.add(b.low_safe_bound.raw);
  d.add(b.high_safe_bound.raw);
  d.add(b.high_bound.raw);
  d.add(b.minimum_liability.value);
  d.add(b.minimum_order.value);
  d.add(b.volatility_reference.raw);
  d.add(b.maximum_band_scale);
  d.add(config_.carry.switch_hysteresis.raw);
  d.add(config_.carry.roll_before_expiry.nanoseconds);
  d.add(config_.carry.funding_average_window.nanoseconds);
  d.add(config_.carry.repay_switch);
  const CollateralConfig& c = config_.collateral;
  d.add(c.low_bound.raw);
  d.add(c.low_safe_bound.raw);
  d.add(c.high_safe_bound.raw);
  d.add(c.high_bound.raw);
  d.add(c.deposit_above.raw);
  d.add(c.keep_at_venue.value);
  d.add(c.minimum_transfer.value);
  d.add(c.liquidation_alert_distance.raw);
  d.add(config_.funding_guard.engage_below.raw);
  d.add(config_.funding_guard.engage_after.nanoseconds);
  d.add(config_.funding_guard.release_at_or_above.raw);
  d.add(config_.funding_guard.move_after.nanoseconds);
  d.add(config_.risk_factors.vault_factor.raw);
  d.add(config_.risk_factors.vault_profit_limit_factor.raw);
  d.add(config_.risk_factors.close_after_no_risk.nanoseconds);
  // Config order: with a market listed twice the later route wins.
  d.add(static_cast<std::uint64_t>(config_.risk_routes.size()));
  for (const RiskMarketRoute& route : config_.risk_routes) {
    d.add(static_cast<std::uint64_t>(route.market));
    d.add(static_cast<std::uint64_t>(route.venue));
    d.add(static_cast<std::uint64_t>(route.instrument));
  }
  d.add(static_cast<std::uint64_t>(config_.order_table_capacity));
  d.add(config_.order_retry_after_reject.nanoseconds);
  d.add(config_.cancel_unanswered_order_after.nanoseconds);
  d.add(static_cast<std::uint64_t>(config_.risk_position_capacity));
  // Not first_client_order_id / first_transfer_id: they only seed
  // next_client_order_id_ / next_transfer_id_, which the snapshot restores.
  return d.value();
}

} // namespace synthusd::hedging
