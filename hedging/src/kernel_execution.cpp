// What the venue says of our orders and positions: execution reports,
// position snapshots (and the fills they hold before their reports), and
// orders the venue leaves unanswered. Event intake for the rest is in
// kernel.cpp.

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
  const Contracts filled = fills ? event.last_quantity.abs() : Contracts{0};
  if (filled > order->remaining()) {
    // An overfill is venue truth: book it all, flag it.
    alert(AlertCode::position_mismatch, static_cast<std::int64_t>(slot.spec.venue) * 65536 + slot.spec.id,
          order->filled.value + filled.value, order->quantity.value);
  }
  // What a position snapshot already booked ahead of this report is in the
  // position and out of flight: only the rest is new.
  const Contracts in_flight_before = order->unbooked_remaining();
  const Contracts ahead = std::min(filled, order->booked_ahead);
  order->booked_ahead -= ahead;
  const Contracts signed_fill{(filled - ahead).value * sign};
  slot.position += signed_fill;
  order->filled += filled;

  const bool done = event.status == OrderStatus::filled || event.status == OrderStatus::canceled ||
                    event.status == OrderStatus::rejected || order->remaining().value <= 0;
  if (done && !order->booked_ahead.is_zero()) {
    // A snapshot's difference booked against this order that it never
    // filled: it was something else (a trade by hand). The position was the
    // venue's; the next snapshot settles it.
    alert(AlertCode::position_mismatch, static_cast<std::int64_t>(slot.spec.venue) * 65536 + slot.spec.id,
          order->filled.value, order->filled.value + order->booked_ahead.value);
  }
  // Everything still in flight leaves it when the order is done.
  const Contracts in_flight_after = done ? Contracts{0} : order->unbooked_remaining();
  const Contracts released{(in_flight_before - in_flight_after).value * sign};
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
  // While orders are open a snapshot can lag or lead our fills; only a quiet
  // slot's difference is a real mismatch. The venue is the truth either way.
  // (Open orders, not in-flight quantity: an order whose whole quantity a
  // snapshot booked ahead holds none in flight but is still working.)
  const bool open = has_open_orders(index);
  const bool quiet = !abandoned && !open;
  if (slot.position != event.position && quiet) {
    alert(AlertCode::position_mismatch, static_cast<std::int64_t>(slot.spec.venue) * 65536 + slot.spec.id,
          slot.position.value, event.position.value);
  }
  if (quiet && !slot.position.is_zero() && event.position.is_zero()) {
    note_liquidation(slot);
  }
  if (open) {
    // Each snapshot decides afresh what it holds ahead of the reports: what
    // an earlier one booked goes back into flight first, so a booking that a
    // later snapshot no longer bears out (an older snapshot, a trade by
    // hand) is undone instead of kept until the order ends. A snapshot that
    // gave an order up books nothing ahead: the difference it shows is, by
    // design, what that order did.
    const Contracts reported = unbook_fills_ahead(index);
    if (!abandoned) {
      book_fills_ahead_of_reports(index, event.position - reported);
    }
  }
  slot.position = event.position;
  rebalance();
}

// An open order of this slot: sent, not given up, not yet ended.
bool Kernel::has_open_orders(std::size_t slot_index) const noexcept {
  if (orders_.size() == orders_.abandoned()) {
    return false;
  }
  for (const OrderRecord& order : orders_.records()) {
    if (order.client_order_id != 0 && order.slot == slot_index && !order.abandoned) {
      return true;
    }
  }
  return false;
}

// Returns every open order's booking ahead to flight and gives the position
// as the reports alone have it (the position less those bookings).
Contracts Kernel::unbook_fills_ahead(std::size_t slot_index) noexcept {
  SlotState& slot = slots_[slot_index];
  Contracts reported = slot.position;
  for (OrderRecord& order : orders_.records()) {
    if (order.client_order_id == 0 || order.slot != slot_index || order.abandoned || order.booked_ahead.is_zero()) {
      continue;
    }
    const Contracts booked{order.booked_ahead.value * sign_of(order.side)};
    slot.in_flight += booked;
    reported -= booked;
    order.booked_ahead = Contracts{};
  }
  return reported;
}

// While orders are in flight, a snapshot that differs from the reports'
// position in their direction most likely holds fills whose reports are
// still coming (a venue books a fill before its report reaches us). Taken as
// it stands, the position (now the venue's, with those fills) and the flight
// (still holding them) would count them twice until the next snapshot, and
// the kernel would trade the excess back. So the difference, as far as the
// in-flight hedge orders in its direction leave room for it, is booked
// against them, in bucket order: out of flight now, and their reports then
// add only the rest. A difference the other way is taken as the venue's
// truth, as before. Risk-trigger orders are left out: their fills also move
// the risk hedge's own book (book_risk_fill), which a guess must not touch.
void Kernel::book_fills_ahead_of_reports(std::size_t slot_index, Contracts difference) noexcept {
  if (difference.is_zero() || orders_.size() == 0) {
    return;
  }
  SlotState& slot = slots_[slot_index];
  for (OrderRecord& order : orders_.records()) {
    if (order.client_order_id == 0 || order.slot != slot_index || order.abandoned ||
        order.purpose != OrderPurpose::liability_hedge) {
      continue;
    }
    const std::int64_t sign = sign_of(order.side);
    if (difference.value * sign <= 0) {
      continue;
    }
    const Contracts booked = std::min(difference.abs(), order.unbooked_remaining());
    if (booked.is_zero()) {
      continue;
    }
    order.booked_ahead += booked;
    slot.in_flight -= Contracts{booked.value * sign};
    difference -= Contracts{booked.value * sign};
    if (difference.is_zero()) {
      return;
    }
  }
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
// know). Should its report come after all, it is an unknown order's: the
// gateway asks for positions and the next snapshot books it.
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
    const Contracts released = order.signed_in_flight();
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
    // What a snapshot booked ahead before the order was given up is in the
    // position already.
    const Contracts ahead = std::min(event.last_quantity.abs(), order.booked_ahead);
    order.booked_ahead -= ahead;
    const Contracts signed_fill{(event.last_quantity.abs() - ahead).value * sign_of(order.side)};
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
