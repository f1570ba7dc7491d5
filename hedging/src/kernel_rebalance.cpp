// Rebalancing: funding guard, instrument choice (carry, roll), the split
// across venues and the band decision per instrument. Runs after every event
// that can change a target, over a handful of slots: no allocation, no search
// structures, just fixed arrays in id order (deterministic iteration).

#include "synthusd/hedging/band_policy.hpp"
#include "synthusd/hedging/kernel.hpp"
#include "synthusd/hedging/netting.hpp"
#include "synthusd/hedging/volatility.hpp"

namespace synthusd::hedging {

void Kernel::rebalance() noexcept {
  update_funding_guards();
  choose_instruments();
  allocate_venues();
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    hedge_slot(i);
  }
  manage_collateral();
  // after fills, transfers and price moves alike: the alert must not wait
  // for the next market update
  for (std::size_t v = 0; v < venues_.size(); ++v) {
    check_liquidation(v);
  }
}

// Rule 8: a perpetual whose funding stays below the threshold (shorts pay)
// for `engage_after` stops being a place to hedge until funding recovers.
void Kernel::update_funding_guards() noexcept {
  const FundingGuardConfig& guard = config_.funding_guard;
  for (SlotState& slot : slots_) {
    if (!slot.has_market || !is_perpetual(slot.spec.kind)) {
      continue;
    }
    if (slot.funding_rate < guard.engage_below) {
      if (!slot.funding_below_guard) {
        slot.funding_below_guard = true;
        slot.negative_funding_since = slot.market_time;
      }
      if (!slot.funding_guard_engaged && now_ - slot.negative_funding_since >= guard.engage_after) {
        slot.funding_guard_engaged = true;
        slot.guard_changed_at = now_;
        alert(AlertCode::funding_guard_engaged, slot.spec.venue, slot.spec.id, slot.funding_rate.raw);
      }
    } else if (!slot.funding_guard_engaged) {
      slot.funding_below_guard = false; // the run must be continuous: any reading above breaks it
    } else if (slot.funding_rate >= guard.release_at_or_above) {
      // an engaged guard releases only at the (higher) release level: hysteresis
      slot.funding_below_guard = false;
      slot.funding_guard_engaged = false;
      slot.guard_changed_at = now_;
      alert(AlertCode::funding_guard_released, slot.spec.venue, slot.spec.id, slot.funding_rate.raw);
    }
  }
}

// Rule 4: per venue, the instrument with the best annualised carry, kept
// until another beats it by the hysteresis and by enough to repay the two
// taker fees of moving before it must be left (carry.hpp); a future is left
// `roll_before_expiry` ahead of its expiry.
void Kernel::choose_instruments() noexcept {
  // When no venue that is up has an unguarded place left, hedging on a
  // guarded perpetual beats not hedging: the guard then only alerts.
  // Re-evaluated every rebalance, so the fallback ends once a venue recovers
  // (and has stayed recovered for funding_guard.move_after: a venue whose
  // guard released a moment before another's does not take its share).
  const auto guard_settled = [&](const SlotState& slot) {
    return slot.guard_changed_at.nanoseconds == 0 || now_ - slot.guard_changed_at >= config_.funding_guard.move_after;
  };
  fallback_to_guarded_ = true;
  for (const SlotState& slot : slots_) {
    const bool usable = slot.spec.kind == InstrumentKind::inverse_future
                            ? now_ < slot.spec.expiry - config_.carry.roll_before_expiry
                            : !slot.funding_guard_engaged && guard_settled(slot);
    if (slot.has_market && venues_[slot.venue_index].up && usable) {
      fallback_to_guarded_ = false;
      break;
    }
  }
  for (std::size_t v = 0; v < venues_.size(); ++v) {
    VenueState& venue = venues_[v];
    std::size_t count = 0;
    bool has_unguarded = false;
    for (SlotState& slot : slots_) {
      if (slot.venue_index != v) {
        continue;
      }
      slot.eligible = false;
      if (!slot.has_market) {
        continue;
      }
      // a guard engaged for less than move_after does not move the hedge yet
      const bool guard_holds = slot.funding_guard_engaged && guard_settled(slot);
      if (slot.spec.kind == InstrumentKind::inverse_future) {
        slot.annual_carry = annualised_basis_carry(slot.mark, slot.index, now_, slot.spec.expiry);
        slot.eligible = now_ < slot.spec.expiry - config_.carry.roll_before_expiry;
      } else {
        slot.annual_carry = annualised_funding_carry(slot.funding_average, slot.spec.funding_interval);
        slot.eligible = !guard_holds || fallback_to_guarded_;
      }
      has_unguarded = has_unguarded || (slot.eligible && !guard_holds);
      CarryCandidate& candidate = carry_scratch_[count++];
      candidate = CarryCandidate{slot.spec.id, slot.eligible, slot.annual_carry};
      candidate.switch_cost = slot.spec.taker_fee;
      if (slot.spec.kind == InstrumentKind::inverse_future && config_.carry.repay_switch) {
        candidate.holding = slot.spec.expiry - config_.carry.roll_before_expiry - now_;
      }
    }
    venue.only_guarded = !has_unguarded;
    const InstrumentId chosen =
        choose_instrument({carry_scratch_.data(), count}, venue.active, config_.carry.switch_hysteresis);
    if (chosen != venue.active && venue.active != kNoInstrument && chosen != kNoInstrument) {
      alert(AlertCode::instrument_rolled, venue.config.id, venue.active, chosen);
    }
    if (chosen != kNoInstrument) {
      venue.active = chosen;
    } else if (venue.active != kNoInstrument &&
               slots_[slot_index(venue.active)].spec.kind == InstrumentKind::inverse_future) {
      venue.active = kNoInstrument; // an expiring future is never kept for lack of a successor
    }
  }
}

// Rules 5 and 6: net receivers against providers, freeze what sits on down
// venues, split the rest by weight and cap, preferring better carry.
void Kernel::allocate_venues() noexcept {
  const NettingTotals netting = net_totals(liability_, provider_interest_);
  venue_hedge_ = netting.venue_hedge;

  // A down venue cannot trade: its short stays and still hedges; only the
  // remainder is shared among venues that are up.
  int128 frozen = 0;
  for (const SlotState& slot : slots_) {
    if (!venues_[slot.venue_index].up) {
      const int128 exposure = slot_exposure(slot);
      frozen += exposure < 0 ? -exposure : 0;
    }
  }
  const int128 frozen_cents = divide(frozen, Ratio::kScale, Rounding::down);
  const UsdCents to_share{
      static_cast<std::int64_t>(venue_hedge_.value > frozen_cents ? venue_hedge_.value - frozen_cents : 0)};

  for (std::size_t v = 0; v < venues_.size(); ++v) {
    const VenueState& venue = venues_[v];
    VenueShareInput& input = share_inputs_[v];
    input.venue = venue.config.id;
    input.available = venue.up && venue.active != kNoInstrument && (!venue.only_guarded || fallback_to_guarded_);
    input.weight = venue.config.weight;
    input.cap = venue.config.cap;
    input.carry = venue.active != kNoInstrument ? slots_[slot_index(venue.active)].annual_carry : Ratio{0};
  }
  unallocated_ = split_hedge(to_share, share_inputs_, share_outputs_);
  if (unallocated_.value > 0 && !unallocated_alert_raised_) {
    alert(AlertCode::venue_capacity_exhausted, unallocated_.value);
  }
  unallocated_alert_raised_ = unallocated_.value > 0;

  for (std::size_t v = 0; v < venues_.size(); ++v) {
    venues_[v].allocation = share_outputs_[v];
  }
  for (SlotState& slot : slots_) {
    const VenueState& venue = venues_[slot.venue_index];
    slot.target = slot.spec.id == venue.active ? venue.allocation : UsdCents{0};
  }
}

// Rules 1-3: the band policy on exposure = position + in-flight.
void Kernel::hedge_slot(std::size_t index) noexcept {
  SlotState& slot = slots_[index];
  if (!venues_[slot.venue_index].up || now_ < slot.retry_after) {
    return;
  }
  if (!is_inverse(slot.spec.kind) && !slot.has_market) {
    return; // a linear contract's USD value needs a price
  }
  BandInput input;
  input.total_liability = venue_hedge_;
  input.slot_liability = static_cast<int128>(slot.target.value) * Ratio::kScale;
  input.exposure = slot_exposure(slot);
  input.contract_value = index_equivalent(slot, scaled_contract_cents(slot.spec, slot.mark));
  if (input.contract_value <= 0) {
    return;
  }
  if (input.slot_liability == 0 && input.exposure == 0 && slot.passive_order == 0) {
    return;
  }
  // the configured band, or wider while this market is calm
  const BandConfig bands = volatility_scaled_bands(config_.bands, slot.hourly_variance);
  if (bands.policy == PolicyKind::hybrid) {
    hedge_slot_hybrid(index, bands, input);
    return;
  }
  const BandDecision decision = decide_band(bands, input);
  const Contracts trade = round_to_lot(slot.spec, decision.trade);
  if (trade.is_zero() || trade.abs() < slot.spec.minimum_order) {
    return;
  }
  // After a liquidation the venue refuses every order that grows the
  // position for margin: wait for the deposit manage_collateral asks for.
  const Contracts open = slot.position + slot.in_flight + slot.risk_in_flight;
  if (venues_[slot.venue_index].liquidated && (open + trade).abs() > open.abs()) {
    return;
  }
  send_order(index, trade, OrderPurpose::liability_hedge, 0);
}

// The hybrid policy. The firm exposure leaves out what the resting post-only
// order has not filled: it may never fill, so only the firm part counts
// against the hard band. Outside it, the resting order is cancelled and the
// gap closed by a taker order at once. Inside it, at most one post-only
// order rests per instrument; it is cancelled when the touch moves away from
// its price (or the hedge no longer wants it) and posted again at the new
// touch on the rebalance after the venue confirms the cancel.
void Kernel::hedge_slot_hybrid(std::size_t index, const BandConfig& bands, const BandInput& input) noexcept {
  SlotState& slot = slots_[index];
  OrderRecord* resting = slot.passive_order != 0 ? orders_.find(slot.passive_order) : nullptr;
  if (resting == nullptr) {
    slot.passive_order = 0; // filled or cancelled: its report released it
  }
  BandInput firm = input;
  if (resting != nullptr) {
    firm.exposure -= index_equivalent(slot, scaled_exposure_cents(slot.spec, resting->signed_remaining(), slot.mark));
  }
  const HybridDecision decision = decide_hybrid(bands, firm);
  const Contracts taker = round_to_lot(slot.spec, decision.taker);
  if (!taker.is_zero() && taker.abs() >= slot.spec.minimum_order) {
    if (resting != nullptr && !resting->cancel_requested) {
      resting->cancel_requested = true;
      emit(CancelIntent{resting->client_order_id, slot.spec.venue});
    }
    const Contracts open = slot.position + slot.in_flight + slot.risk_in_flight;
    if (venues_[slot.venue_index].liquidated && (open + taker).abs() > open.abs()) {
      return;
    }
    send_order(index, taker, OrderPurpose::liability_hedge, 0);
    return;
  }
  const Contracts passive = round_to_lot(slot.spec, decision.passive);
  if (resting != nullptr) {
    if (resting->cancel_requested) {
      return; // one resting order per instrument: wait for the cancel's report
    }
    const bool buy = resting->side == Side::buy;
    const bool touch_moved = buy ? slot.bid > slot.passive_price : slot.ask < slot.passive_price;
    const bool unwanted = passive.is_zero() || (passive.value > 0) != buy;
    if (touch_moved || unwanted) {
      resting->cancel_requested = true;
      emit(CancelIntent{resting->client_order_id, slot.spec.venue});
    }
    return;
  }
  if (passive.is_zero() || passive.abs() < slot.spec.minimum_order) {
    return;
  }
  const Price touch = passive.value > 0 ? slot.bid : slot.ask;
  if (!touch.is_valid()) {
    return;
  }
  const Contracts open = slot.position + slot.in_flight + slot.risk_in_flight;
  if (venues_[slot.venue_index].liquidated && (open + passive).abs() > open.abs()) {
    return;
  }
  const ClientOrderId id = next_client_order_id_;
  if (send_order(index, passive, OrderPurpose::liability_hedge, 0, true)) {
    slot.passive_order = id;
    slot.passive_price = touch;
  }
}

} // namespace synthusd::hedging
