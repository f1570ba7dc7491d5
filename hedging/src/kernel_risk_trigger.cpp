// Rule 9: the risk-trigger strategy. Per external position: any risk and not
// hedged -> open the opposite hedge; hedged and no risk for
// `close_after_no_risk` -> close; source position gone -> close its hedge.
// Its orders and fills are booked apart from the liability hedge so the two
// strategies never trade against each other.

#include "synthusd/hedging/kernel.hpp"
#include "synthusd/hedging/risk_trigger.hpp"

namespace synthusd::hedging {

void Kernel::apply(const ExternalRiskPosition& event) noexcept {
  const std::size_t route = event.market < route_by_market_.size() ? route_by_market_[event.market] : kNoIndex;
  if (route == kNoIndex) {
    ++counters_.invalid_events;
    alert(AlertCode::invalid_event, event.market, static_cast<std::int64_t>(event.position_id));
    return;
  }
  std::size_t found = kNoIndex;
  std::size_t free_index = kNoIndex;
  for (std::size_t i = 0; i < risk_hedges_.size(); ++i) {
    const RiskHedgeState& hedge = risk_hedges_[i];
    if (hedge.in_use && hedge.market == event.market && hedge.position_id == event.position_id) {
      found = i;
      break;
    }
    if (!hedge.in_use && free_index == kNoIndex) {
      free_index = i;
    }
  }
  if (found == kNoIndex) {
    if (!event.present) {
      return; // gone before we ever hedged it: nothing to do
    }
    if (free_index == kNoIndex) {
      alert(AlertCode::risk_trigger_table_full, event.market, static_cast<std::int64_t>(event.position_id));
      return;
    }
    found = free_index;
    risk_hedges_[found] = RiskHedgeState{};
    risk_hedges_[found].in_use = true;
    risk_hedges_[found].market = event.market;
    risk_hedges_[found].position_id = event.position_id;
    risk_hedges_[found].slot = route;
  }

  RiskHedgeState& hedge = risk_hedges_[found];
  hedge.source_present = event.present;
  if (!event.present) {
    close_risk_hedge(hedge);
    rebalance();
    return;
  }
  hedge.at_risk = assess_risk(config_.risk_factors, event).any();
  if (hedge.at_risk) {
    hedge.last_risk_time = now_; // "updates the placement time" while risk persists
    const SlotState& slot = slots_[hedge.slot];
    if (!hedge.hedged && venues_[slot.venue_index].up && (is_inverse(slot.spec.kind) || slot.has_market)) {
      const int128 contract = index_equivalent(slot, scaled_contract_cents(slot.spec, slot.mark));
      const Contracts opposite{static_cast<std::int64_t>(
          divide(-static_cast<int128>(event.notional.value) * Ratio::kScale, contract, Rounding::half_even))};
      if (!opposite.is_zero() && send_order(hedge.slot, opposite, OrderPurpose::risk_trigger_hedge, found)) {
        hedge.hedged = true;
        hedge.committed += opposite;
        ++hedge.open_orders;
      }
    }
  } else if (hedge.hedged && now_ - hedge.last_risk_time >= config_.risk_factors.close_after_no_risk) {
    close_risk_hedge(hedge);
  }
  rebalance();
}

void Kernel::evaluate_risk_hedges() noexcept {
  for (RiskHedgeState& hedge : risk_hedges_) {
    if (!hedge.in_use) {
      continue;
    }
    const bool expired = hedge.source_present && hedge.hedged && !hedge.at_risk &&
                         now_ - hedge.last_risk_time >= config_.risk_factors.close_after_no_risk;
    // a gone source whose close was refused is retried here
    const bool orphaned = !hedge.source_present && hedge.open_orders == 0 && !hedge.committed.is_zero();
    if (expired || orphaned) {
      close_risk_hedge(hedge);
    }
  }
}

void Kernel::close_risk_hedge(RiskHedgeState& hedge) noexcept {
  const std::size_t index = static_cast<std::size_t>(&hedge - risk_hedges_.data());
  if (!hedge.committed.is_zero()) {
    const Contracts closing = -hedge.committed;
    if (!venues_[slots_[hedge.slot].venue_index].up ||
        !send_order(hedge.slot, closing, OrderPurpose::risk_trigger_hedge, index)) {
      return; // retried by the next timer
    }
    hedge.committed += closing;
    ++hedge.open_orders;
  }
  hedge.hedged = false;
  if (!hedge.source_present && hedge.open_orders == 0 && hedge.committed.is_zero()) {
    hedge = RiskHedgeState{};
  }
}

void Kernel::book_risk_fill(const OrderRecord& order, Contracts /*signed_fill*/, bool order_done) noexcept {
  RiskHedgeState& hedge = risk_hedges_[order.risk_index];
  if (!hedge.in_use || !order_done) {
    return;
  }
  // What the order did not fill never happened: take it back out.
  if (order.remaining().value > 0) {
    hedge.committed -= order.signed_remaining();
  }
  if (hedge.open_orders > 0) {
    --hedge.open_orders;
  }
  hedge.hedged = !hedge.committed.is_zero() && hedge.source_present;
  if (!hedge.source_present && hedge.open_orders == 0 && hedge.committed.is_zero()) {
    hedge = RiskHedgeState{};
  }
}

} // namespace synthusd::hedging
