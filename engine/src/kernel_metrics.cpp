// The kernel's state as Prometheus text (see kernel_metrics.hpp).

#include "synthusd/engine/kernel_metrics.hpp"

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <vector>

#include "synthusd/hedging/band_policy.hpp"
#include "synthusd/hedging/collateral.hpp"

namespace synthusd::engine {

namespace {

// Leverage (short exposure / collateral at the mark) and the relative price
// rise that would liquidate each venue's short, once the venue reported its
// collateral; absent before (an operator sees the gap, not a made-up 0).
void venue_risk_metrics(const hedging::Kernel& kernel, PrometheusText& out) {
  struct VenueRisk {
    std::string_view venue;
    double leverage = 0;
    bool has_leverage = false;
    hedging::Ratio distance{INT64_MAX};
  };
  std::vector<VenueRisk> risks;
  for (std::size_t v = 0; v < kernel.venues().size(); ++v) {
    const hedging::VenueState& venue = kernel.venues()[v];
    hedging::int128 net = 0;
    hedging::Price mark{};
    hedging::Ratio maintenance{0};
    for (const hedging::SlotState& slot : kernel.slots()) {
      if (slot.venue_index == v && slot.mark.is_valid()) {
        net += hedging::scaled_exposure_cents(slot.spec, slot.position, slot.mark);
        mark = slot.mark;
        maintenance = std::max(maintenance, slot.spec.maintenance_margin);
      }
    }
    if (!venue.collateral_known || !mark.is_valid() || venue.collateral.value <= 0) {
      continue;
    }
    VenueRisk risk{venue.config.name};
    // The short in whole cents, rounded up: leverage and distance err toward danger.
    const hedging::int128 short_cents =
        net < 0 ? hedging::divide(-net, hedging::Ratio::kScale, hedging::Rounding::up) : 0;
    const hedging::UsdCents collateral = hedging::sats_to_cents(venue.collateral, mark, hedging::Rounding::down);
    if (collateral.value > 0) {
      // A display ratio, not money: double is fine here.
      risk.leverage = static_cast<double>(short_cents) / static_cast<double>(collateral.value);
      risk.has_leverage = true;
    }
    risk.distance = hedging::liquidation_distance(hedging::UsdCents{static_cast<std::int64_t>(short_cents)},
                                                  venue.collateral, mark, maintenance);
    risks.push_back(risk);
  }
  out.family("synthusd_leverage", PrometheusText::Type::gauge, "short exposure / collateral at the mark, per venue");
  for (const VenueRisk& risk : risks) {
    if (risk.has_leverage) {
      out.sample(risk.leverage, {{"venue", risk.venue}});
    }
  }
  out.family("synthusd_liquidation_distance", PrometheusText::Type::gauge,
             "relative price rise that liquidates the venue's short");
  for (const VenueRisk& risk : risks) {
    if (risk.distance.raw != INT64_MAX) {
      out.sample(static_cast<double>(risk.distance.raw) / hedging::Ratio::kScale, {{"venue", risk.venue}});
    }
  }
}

} // namespace

void write_kernel_metrics(const hedging::Kernel& kernel, PrometheusText& out) {
  using Type = PrometheusText::Type;
  out.gauge("synthusd_liability_usd_cents", "users' USD balances the operator owes, in cents",
            kernel.liability().value);
  out.gauge("synthusd_venue_hedge_usd_cents", "liability left to hedge on venues after internal netting, in cents",
            kernel.venue_hedge().value);
  out.gauge("synthusd_hedge_exposure_usd_cents", "signed USD exposure of the liability hedge (short < 0), in cents",
            kernel.liability_hedge_exposure().value);
  const hedging::Ratio ratio = hedging::hedge_ratio(
      static_cast<hedging::int128>(kernel.liability_hedge_exposure().value) * hedging::Ratio::kScale,
      static_cast<hedging::int128>(kernel.venue_hedge().value) * hedging::Ratio::kScale);
  out.family("synthusd_hedge_ratio", Type::gauge, "short exposure / venue hedge");
  out.sample(static_cast<double>(ratio.raw) / hedging::Ratio::kScale);
  const auto per_slot = [&](std::string_view name, std::string_view help, auto value_of) {
    out.family(name, Type::gauge, help);
    for (const hedging::SlotState& slot : kernel.slots()) {
      const std::string venue = std::to_string(slot.spec.venue);
      out.sample(value_of(slot), {{"venue", venue}, {"instrument", slot.spec.symbol.view()}});
    }
  };
  per_slot("synthusd_position_contracts", "venue position per instrument, short < 0",
           [](const hedging::SlotState& slot) { return slot.position.value; });
  per_slot("synthusd_in_flight_contracts", "quantity of liability-hedge orders awaiting the venue",
           [](const hedging::SlotState& slot) { return slot.in_flight.value; });
  per_slot("synthusd_funding_rate", "latest funding rate per interval", [](const hedging::SlotState& slot) {
    return static_cast<double>(slot.funding_rate.raw) / hedging::Ratio::kScale;
  });
  // Rule 8 on the venue's interval rate (Deribit's funding_8h): 1 from the
  // moment the rate stayed below [funding_guard] engage_below for
  // engage_after_hours until it is back at release_at_or_above.
  per_slot("synthusd_funding_guard_engaged", "1 while the perpetual is funding-guarded (no new hedge there)",
           [](const hedging::SlotState& slot) { return std::int64_t{slot.funding_guard_engaged ? 1 : 0}; });
  out.family("synthusd_venue_up", Type::gauge, "1 while the venue's gateway is logged on and reconciled");
  for (const hedging::VenueState& venue : kernel.venues()) {
    out.sample(std::int64_t{venue.up ? 1 : 0}, {{"venue", venue.config.name}});
  }
  out.family("synthusd_venue_active_instrument", Type::gauge,
             "instrument id the venue's liability hedge uses now (carry, roll, guard); -1: none");
  for (const hedging::VenueState& venue : kernel.venues()) {
    out.sample(venue.active == hedging::kNoInstrument ? std::int64_t{-1} : std::int64_t{venue.active},
               {{"venue", venue.config.name}});
  }
  out.gauge("synthusd_provider_interest_usd_cents",
            "stable providers' interest netted against the receivers' liability before any venue, in cents",
            kernel.provider_interest().value);
  out.family("synthusd_collateral_sats", Type::gauge, "margin account equity per venue, in sats");
  for (const hedging::VenueState& venue : kernel.venues()) {
    out.sample(venue.collateral.value, {{"venue", venue.config.name}});
  }
  out.family("synthusd_withdrawable_sats", Type::gauge,
             "what the venue last said it would pay out (equity less margin, at most the balance), in sats");
  for (const hedging::VenueState& venue : kernel.venues()) {
    if (venue.withdrawable.value >= 0) {
      out.sample(venue.withdrawable.value, {{"venue", venue.config.name}});
    }
  }
  // The demo's leverage check tolerates an excursion only while one is in flight.
  out.family("synthusd_transfer_in_flight_sats", Type::gauge,
             "collateral transfer the kernel is waiting for, in sats: deposit positive, withdrawal negative, 0 none");
  for (const hedging::VenueState& venue : kernel.venues()) {
    const std::int64_t sats = !venue.transfer_in_flight ? 0
                              : venue.transfer_direction == hedging::TransferDirection::wallet_to_exchange
                                  ? venue.transfer_amount.value
                                  : -venue.transfer_amount.value;
    out.sample(sats, {{"venue", venue.config.name}});
  }
  out.family("synthusd_allocation_usd_cents", Type::gauge, "hedge allocated to each venue, in cents");
  for (const hedging::VenueState& venue : kernel.venues()) {
    out.sample(venue.allocation.value, {{"venue", venue.config.name}});
  }
  venue_risk_metrics(kernel, out);
  const hedging::KernelCounters& c = kernel.counters();
  out.counter("synthusd_kernel_events_total", "events applied by the kernel", c.events);
  out.counter("synthusd_kernel_invalid_events_total", "events the kernel refused", c.invalid_events);
  out.counter("synthusd_kernel_orders_total", "order intents emitted", c.orders);
  out.counter("synthusd_kernel_transfers_total", "transfer intents emitted", c.transfers);
  out.counter("synthusd_kernel_alerts_total", "alerts emitted", c.alerts);
  out.counter("synthusd_kernel_dropped_actions_total", "actions lost to a full buffer (must stay 0)",
              c.dropped_actions);
}

std::string kernel_metrics(const hedging::Kernel& kernel) {
  PrometheusText out;
  write_kernel_metrics(kernel, out);
  return out.take();
}

} // namespace synthusd::engine
