// What the venue says of our orders and positions: execution reports,
// position snapshots, and orders the venue leaves unanswered. Event intake
// for the rest is in kernel.cpp.

#include "synthusd/hedging/kernel.hpp"

#include <algorithm>

namespace synthusd::hedging {

void Kernel::apply(const ExecutionReport& event) noexcept {
  OrderRecord* order = orders_.find(event.client_order_id);
  if (order == nullptr) {
    // Not ours, or already closed: the gateway reconciles; the kernel says so.
    ++counters_.duplicate_or_late_fills;
    alert(AlertCode::unknown_execution_report, static_cast<std::int64_t>(event.client_order_id),
          static_cast<std::int64_t>(event.status), event.last_quantity.value);
    return;
  }
  SlotState& slot = slots_[order->slot];
  const std::int64_t sign = sign_of(order->side);
  const bool fills = event.status == OrderStatus::partially_filled || event.status == OrderStatus::filled;
  if (order->abandoned) {
    apply_abandoned_report(*order, event, fills);
    return;
  }
  Contracts filled = fills ? event.last_quantity.abs() : Contracts{0};
  if (filled > order->remaining()) {
    // An overfill is venue truth: book it all, flag it.
    alert(AlertCode::position_mismatch, static_cast<std::int64_t>(slot.spec.venue) * 65536 + slot.spec.id,
          order->filled.value + filled.value, order->quantity.value);
  }
  const Contracts in_flight_release{std::min(filled, order->remaining()).value * sign};
  const Contracts signed_fill{filled.value * sign};
  slot.position += signed_fill;
  order->filled += filled;

  const bool done = event.status == OrderStatus::filled || event.status == OrderStatus::canceled ||
                    event.status == OrderStatus::rejected || order->remaining().value <= 0;
  // Everything still open leaves flight when the order is done.
  const Contracts released =
      done ? Contracts{in_flight_release.value + std::max<std::int64_t>(order->remaining().value, 0) * sign}
           : in_flight_release;
  if (order->purpose == OrderPurpose::liability_hedge) {
    slot.in_flight -= released;
    if (event.status == OrderStatus::rejected) {
      slot.retry_after = now_ + config_.order_retry_after_reject;
    }
  } else {
    slot.risk_in_flight -= released;
    slot.risk_position += signed_fill;
    book_risk_fill(*order, signed_fill, done);
  }
  if (done) {
    orders_.erase(*order);
  }
  rebalance();
}

void Kernel::apply(const PositionSnapshot& event) noexcept {
  const std::size_t index = slot_index(event.instrument);
  if (index == kNoIndex || slots_[index].spec.venue != event.venue) {
    ++counters_.invalid_events;
    alert(AlertCode::unknown_instrument, event.venue, event.instrument);
    return;
  }
  SlotState& slot = slots_[index];
  // A dated future flat at or after its expiry was delivered: the venue
  // closed it at the delivery price and the P&L stays in the collateral. It
  // is no liquidation (which would write the venue's collateral off and hold
  // every order that grows a position until a deposit lands); if it was
  // still open, the roll out of it never happened, which is worth an alert.
  if (slot.spec.kind == InstrumentKind::inverse_future && event.position.is_zero() && event.time >= slot.spec.expiry) {
    if (!slot.position.is_zero()) {
      alert(AlertCode::future_delivered_open, slot.spec.venue, slot.spec.id, slot.position.value);
    }
    slot.position = Contracts{};
    rebalance();
    return;
  }
  // A slot quiet only because an order was just given up is no evidence of
  // a mismatch or a liquidation: that order may be what the venue did.
  const bool abandoned = abandon_unanswered_orders(index, event.time);
  // While orders are in flight a snapshot can lag our fills; only a quiet
  // slot's difference is a real mismatch. The venue is the truth either way.
  const bool quiet = !abandoned && slot.in_flight.is_zero() && slot.risk_in_flight.is_zero();
  if (slot.position != event.position && quiet) {
    alert(AlertCode::position_mismatch, static_cast<std::int64_t>(slot.spec.venue) * 65536 + slot.spec.id,
          slot.position.value, event.position.value);
  }
  if (quiet && !slot.position.is_zero() && event.position.is_zero()) {
    note_liquidation(slot);
  }
  slot.position = event.position;
  rebalance();
}

// ---- unanswered orders ---------------------------------------------------------

// A market order normally completes within milliseconds. One that has heard
// nothing for `cancel_unanswered_order_after` is asked to cancel, once, and
// the operator is told; its quantity stays in flight (it may still fill)
// until the venue answers, so the hedge is never doubled.
void Kernel::cancel_unanswered_orders() noexcept {
  if (orders_.size() == 0) {
    return;
  }
  for (OrderRecord& order : orders_.records()) {
    if (order.client_order_id == 0 || order.cancel_requested || order.passive ||
        now_ - order.sent < config_.cancel_unanswered_order_after) {
      continue;
    }
    order.cancel_requested = true;
    const VenueId venue = slots_[order.slot].spec.venue;
    emit(CancelIntent{order.client_order_id, venue});
    alert(AlertCode::order_unanswered, static_cast<std::int64_t>(order.client_order_id), venue,
          (now_ - order.sent).nanoseconds / 1'000'000'000);
  }
}

// An order asked to cancel that is still unanswered a further
// cancel_unanswered_order_after later is given up when a position snapshot
// taken after that arrives: whatever the venue did with the order is in that
// snapshot's position, which the caller then applies. Held in flight, its
// quantity would count as hedge forever although the venue may never have
// booked it (a venue that answers neither the order nor the cancel nor a
// status request: Deribit does not answer one for an order it does not
// know). Its record stays, marked given up: should its report come after
// all, apply_abandoned_report books the fill into the position.
bool Kernel::abandon_unanswered_orders(std::size_t slot_index, Timestamp snapshot_time) noexcept {
  bool any = false;
  if (orders_.size() == 0) {
    return any;
  }
  const Duration give_up_after{2 * config_.cancel_unanswered_order_after.nanoseconds};
  SlotState& slot = slots_[slot_index];
  for (OrderRecord& order : orders_.records()) {
    if (order.client_order_id == 0 || order.slot != slot_index || !order.cancel_requested || order.passive ||
        order.abandoned || snapshot_time - order.sent < give_up_after) {
      continue;
    }
    any = true;
    const Contracts released = order.signed_remaining();
    alert(AlertCode::order_abandoned, static_cast<std::int64_t>(order.client_order_id), slot.spec.venue,
          released.value);
    if (order.purpose == OrderPurpose::liability_hedge) {
      slot.in_flight -= released;
    } else {
      slot.risk_in_flight -= released;
      book_risk_fill(order, Contracts{}, true);
    }
    orders_.mark_abandoned(order);
  }
  return any;
}

// A report for an order given up after all: its quantity left flight when
// it was given up, so a fill goes straight into the position (the venue did
// trade it), and its end frees the record.
void Kernel::apply_abandoned_report(OrderRecord& order, const ExecutionReport& event, bool fills) noexcept {
  SlotState& slot = slots_[order.slot];
  if (fills && !event.last_quantity.is_zero()) {
    const Contracts signed_fill{event.last_quantity.abs().value * sign_of(order.side)};
    slot.position += signed_fill;
    if (order.purpose != OrderPurpose::liability_hedge) {
      slot.risk_position += signed_fill;
    }
    order.filled += event.last_quantity.abs();
    alert(AlertCode::abandoned_order_filled, static_cast<std::int64_t>(order.client_order_id), slot.spec.venue,
          signed_fill.value);
  }
  if (event.status == OrderStatus::filled || event.status == OrderStatus::canceled ||
      event.status == OrderStatus::rejected) {
    orders_.erase(order);
  }
  rebalance();
}

} // namespace synthusd::hedging
