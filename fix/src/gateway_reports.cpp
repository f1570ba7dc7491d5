// Compiled as C++14 (target synthusd_fix_quickfix): includes QuickFIX. The
// report half of GatewaySession::Impl (gateway_session_internal.hpp):
// ExecutionReport (fills from CumQty, late fills), OrderCancelReject,
// BusinessMessageReject, Reject(3) and OrderMassCancelReport, on the owner
// thread. ExecID deduplication runs earlier, in fromApp() on QuickFIX's thread.

#include "gateway_session_internal.hpp"

#include "synthusd/fix/gateway_decimal.hpp"

#include <quickfix/Values.h>

#include <string>
#include <vector>

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {

namespace {

// Round half to even of numerator / denominator, denominator > 0.
std::int64_t divide_half_even(__int128 numerator, __int128 denominator) {
  __int128 quotient = numerator / denominator;
  __int128 remainder = numerator % denominator;
  if (remainder < 0) {
    remainder = -remainder;
  }
  const __int128 twice = remainder * 2;
  const int sign = numerator < 0 ? -1 : 1;
  if (twice > denominator || (twice == denominator && quotient % 2 != 0)) {
    quotient += sign;
  }
  return static_cast<std::int64_t>(quotient);
}

} // namespace

std::uint64_t GatewaySession::Impl::order_for_sequence(std::int64_t sequence) const {
  if (sequence <= 0) {
    return 0;
  }
  const std::pair<std::int64_t, std::uint64_t>& entry =
      sent_messages_[static_cast<std::size_t>(sequence) % sent_messages_.size()];
  return entry.first == sequence ? entry.second : 0;
}

Order* GatewaySession::Impl::find_by_client_order_id(const IdText& id) {
  if (id.empty()) {
    return nullptr;
  }
  auto it = order_ids_.find(id);
  if (it == order_ids_.end()) {
    return nullptr;
  }
  auto order = orders_.find(it->second);
  return order == orders_.end() ? nullptr : &order->second;
}

// Our ClOrdID is in 11 for a generic venue, in 41 for Deribit (which puts
// its own id in 11) and for generic cancel/replace answers whose 11 is new.
Order* GatewaySession::Impl::find_order(const Inbound& inbound) {
  Order* order = find_by_client_order_id(inbound.client_order_id);
  return order != nullptr ? order : find_by_client_order_id(inbound.original_client_order_id);
}

void GatewaySession::Impl::mark_done(Order& order) {
  if (order.done) {
    return;
  }
  order.done = true;
  order.pending = Pending::none;
  completed_.push_back(order.user_order_id);
  while (completed_.size() > config_.completed_order_memory) {
    const std::uint64_t oldest = completed_.front();
    completed_.pop_front();
    auto it = orders_.find(oldest);
    if (it != orders_.end() && it->second.done) {
      forget(oldest);
    }
  }
}

GatewayAlert GatewaySession::Impl::alert_from(AlertKind kind, const Inbound& inbound) const {
  GatewayAlert alert = make_alert(kind, inbound.receive_time_ns);
  alert.client_order_id = inbound.client_order_id;
  alert.original_client_order_id = inbound.original_client_order_id;
  alert.venue_order_id = inbound.venue_order_id;
  alert.exec_id = inbound.exec_id;
  alert.symbol = inbound.symbol;
  alert.reference = inbound.reference;
  alert.reference_message_type = inbound.reference_message_type;
  alert.exec_type = inbound.exec_type;
  alert.order_status = inbound.order_status;
  alert.side = inbound.side;
  alert.reason = inbound.reason;
  alert.reference_sequence_number = inbound.reference_sequence_number;
  alert.reference_tag = inbound.reference_tag;
  alert.order_quantity_e8 = inbound.order_quantity.value;
  alert.last_quantity_e8 = inbound.last_quantity.value;
  alert.cumulative_quantity_e8 = inbound.cumulative_quantity.value;
  alert.leaves_quantity_e8 = inbound.leaves_quantity.value;
  alert.last_price_e8 = inbound.last_price.value;
  alert.price_e8 = inbound.price.value;
  alert.text = inbound.text;
  return alert;
}

ExecutionEvent GatewaySession::Impl::event_for(const Order& order, ExecutionKind kind, const Inbound& inbound) const {
  ExecutionEvent event;
  event.user_order_id = order.user_order_id;
  event.instrument = config_.instruments[order.instrument_index].instrument;
  event.kind = kind;
  event.side = order.side;
  event.cumulative_quantity = order.filled;
  event.order_quantity = order.quantity;
  event.price_e8 = order.price_e8;
  event.receive_time_ns = inbound.receive_time_ns;
  event.transact_time_ns = inbound.transact_time_ns;
  event.exec_type = inbound.exec_type;
  event.order_status = inbound.order_status;
  event.client_order_id = order.client_order_id;
  event.venue_order_id = inbound.venue_order_id;
  event.exec_id = inbound.exec_id;
  event.text = inbound.text;
  return event;
}

// Contracts from a reported quantity; false if it is not a whole number of
// contracts (the caller raises invalid_report and rounds toward zero).
bool GatewaySession::Impl::to_contracts(const GatewayInstrument& instrument, std::int64_t quantity_e8,
                                        std::int64_t& contracts) {
  const __int128 divisor = static_cast<__int128>(kDecimalScale) * instrument.report_quantity_multiplier;
  contracts = static_cast<std::int64_t>(quantity_e8 / divisor);
  return quantity_e8 % divisor == 0;
}

void GatewaySession::Impl::handle_execution_report(const Inbound& inbound) {
  Order* order = find_order(inbound);
  if (inbound.exec_id_reused) {
    // Booked like any report (dedupe is per order), but a venue reusing
    // ExecIDs across orders is worth an operator's look.
    GatewayAlert alert = alert_from(AlertKind::exec_id_reused, inbound);
    alert.user_order_id = order != nullptr ? order->user_order_id : 0;
    alert.text.assign("ExecID already seen on another order; booked for this one");
    listener_.on_alert(alert);
  }
  if (order == nullptr) {
    ++counters_.unknown_orders;
    GatewayAlert alert = alert_from(AlertKind::unknown_order, inbound);
    listener_.on_alert(alert);
    reconcile_wanted_ = true; // a RequestForPositions books whatever it did
    return;
  }
  const GatewayInstrument& instrument = config_.instruments[order->instrument_index];
  if (inbound.malformed) {
    GatewayAlert alert = alert_from(AlertKind::invalid_report, inbound);
    alert.user_order_id = order->user_order_id;
    listener_.on_alert(alert);
    reconcile_wanted_ = true;
    return;
  }
  if (!inbound.venue_order_id.empty()) {
    order->venue_order_id = inbound.venue_order_id.str();
  }

  // Fills come from CumQty (ExecType F with only LastQty is summed): a report
  // seen twice, or a status report after a fill, books nothing twice, and a
  // status report after a missed fill books what was missed.
  std::int64_t cumulative = order->filled;
  bool quantity_exact = true;
  if (inbound.cumulative_quantity.present) {
    quantity_exact = to_contracts(instrument, inbound.cumulative_quantity.value, cumulative);
  } else if (inbound.exec_type == FIX::ExecType_TRADE && inbound.last_quantity.present) {
    std::int64_t last = 0;
    quantity_exact = to_contracts(instrument, inbound.last_quantity.value, last);
    cumulative = order->filled + last;
  }
  if (!quantity_exact) {
    GatewayAlert alert = alert_from(AlertKind::invalid_report, inbound);
    alert.user_order_id = order->user_order_id;
    alert.text.assign("reported quantity is not a whole number of contracts; rounded toward zero");
    listener_.on_alert(alert);
  }
  const std::int64_t delta = cumulative - order->filled;
  // A cumulative quantity that goes back, or a trade bust (ExecType H) or
  // correction (G): fills already booked may not stand. Nothing is unbooked
  // on the report's word; the venue's position report settles it.
  if (delta < 0 || inbound.exec_type == FIX::ExecType_TRADE_CANCEL ||
      inbound.exec_type == FIX::ExecType_TRADE_CORRECT) {
    GatewayAlert alert = alert_from(AlertKind::invalid_report, inbound);
    alert.user_order_id = order->user_order_id;
    alert.text.assign(delta < 0 ? "cumulative quantity went back (a trade bust?); positions requested"
                                : "trade bust or correction; positions requested");
    listener_.on_alert(alert);
    reconcile_wanted_ = true;
  }

  if (order->done) {
    if (delta > 0) {
      GatewayAlert alert = alert_from(AlertKind::late_fill, inbound);
      alert.user_order_id = order->user_order_id;
      listener_.on_alert(alert);
      order->filled = cumulative;
      reconcile_wanted_ = true;
    } else {
      ++counters_.late_reports;
    }
    return;
  }

  const char exec_type = inbound.exec_type;
  const char status = inbound.order_status;
  if (exec_type == FIX::ExecType_REPLACED) {
    apply_replace(*order, inbound, instrument);
  } else if (!order->accepted && (exec_type == FIX::ExecType_NEW ||
                                  (exec_type == FIX::ExecType_ORDER_STATUS &&
                                   (status == FIX::OrdStatus_NEW || status == FIX::OrdStatus_PARTIALLY_FILLED)))) {
    // New, or a status report (ExecType I) saying the order is working:
    // Deribit acknowledges orders and answers AF with ExecType I.
    order->accepted = true;
    listener_.on_execution(event_for(*order, ExecutionKind::accepted, inbound));
  }

  const bool rejected = exec_type == FIX::ExecType_REJECTED || status == FIX::OrdStatus_REJECTED;
  const bool canceled = exec_type == FIX::ExecType_CANCELED || exec_type == FIX::ExecType_EXPIRED ||
                        exec_type == FIX::ExecType_DONE_FOR_DAY || status == FIX::OrdStatus_CANCELED ||
                        status == FIX::OrdStatus_EXPIRED || status == FIX::OrdStatus_DONE_FOR_DAY;
  if (delta > 0) {
    const std::int64_t price = fill_price(*order, inbound, instrument, cumulative, delta);
    // A fill price that is not positive, or through the order's own limit,
    // is the venue's error. The quantity is booked (it is the position); the
    // operator is told and the positions are asked for.
    const bool through_limit = order->price_e8 > 0 && price > 0 &&
                               (order->side == OrderSide::sell ? price < order->price_e8 : price > order->price_e8);
    if (price <= 0 || through_limit) {
      GatewayAlert alert = alert_from(AlertKind::invalid_report, inbound);
      alert.user_order_id = order->user_order_id;
      alert.text.assign(price <= 0 ? "fill price is not positive; quantity booked, positions requested"
                                   : "fill price is through the order's limit; quantity booked, positions requested");
      listener_.on_alert(alert);
      reconcile_wanted_ = true;
    }
    order->filled = cumulative;
    collateral_.fill_booked();
    if (inbound.average_price.present) {
      order->filled_notional = static_cast<__int128>(inbound.average_price.value) * cumulative;
    } else {
      order->filled_notional += static_cast<__int128>(price) * delta;
    }
    const bool complete = status == FIX::OrdStatus_FILLED || order->filled >= order->quantity;
    const bool ends_order = complete && !rejected && !canceled;
    ExecutionEvent event =
        event_for(*order, ends_order ? ExecutionKind::filled : ExecutionKind::partially_filled, inbound);
    event.last_quantity = delta;
    event.last_price_e8 = price;
    listener_.on_execution(event);
    if (ends_order) {
      mark_done(*order);
      return;
    }
  }
  if (rejected) {
    listener_.on_execution(event_for(*order, ExecutionKind::rejected, inbound));
    mark_done(*order);
  } else if (canceled) {
    listener_.on_execution(event_for(*order, ExecutionKind::canceled, inbound));
    mark_done(*order);
  } else if (status == FIX::OrdStatus_FILLED) {
    // The venue says filled but reported fewer contracts (a reduce-only
    // order it shrank, say): the order is over, with no further fill.
    listener_.on_execution(event_for(*order, ExecutionKind::filled, inbound));
    mark_done(*order);
  }
}

void GatewaySession::Impl::apply_replace(Order& order, const Inbound& inbound, const GatewayInstrument& instrument) {
  if (inbound.order_quantity.present) {
    std::int64_t quantity = order.quantity;
    to_contracts(instrument, inbound.order_quantity.value, quantity);
    order.quantity = quantity;
  } else if (order.pending == Pending::replace) {
    order.quantity = order.pending_quantity;
  }
  if (inbound.price.present) {
    order.price_e8 = inbound.price.value;
  } else if (order.pending == Pending::replace) {
    order.price_e8 = order.pending_price_e8;
  }
  if (!rules_.amend_with_original_client_order_id && !inbound.client_order_id.empty() &&
      order_ids_.count(inbound.client_order_id) != 0) {
    order.current_client_order_id = inbound.client_order_id;
  }
  order.pending = Pending::none;
  order.accepted = true;
  listener_.on_execution(event_for(order, ExecutionKind::replaced, inbound));
}

// The price of `delta` contracts just filled: LastPx when this report is
// exactly that fill, otherwise what AvgPx implies for the new contracts.
std::int64_t GatewaySession::Impl::fill_price(const Order& order, const Inbound& inbound,
                                              const GatewayInstrument& instrument, std::int64_t cumulative,
                                              std::int64_t delta) const {
  if (inbound.last_price.present && inbound.last_quantity.present) {
    std::int64_t last = 0;
    if (to_contracts(instrument, inbound.last_quantity.value, last) && last == delta) {
      return inbound.last_price.value;
    }
  }
  if (inbound.fills_quantity_e8 > 0) {
    // A fills group (Deribit without 9015=Y): its entries are exactly the
    // contracts this report adds; their quantity-weighted price.
    std::int64_t group = 0;
    if (to_contracts(instrument, inbound.fills_quantity_e8, group) && group == delta) {
      return divide_half_even(inbound.fills_notional_e16, inbound.fills_quantity_e8);
    }
  }
  if (inbound.average_price.present && inbound.average_price.value > 0) {
    const __int128 total = static_cast<__int128>(inbound.average_price.value) * cumulative;
    return divide_half_even(total - order.filled_notional, delta);
  }
  if (inbound.last_price.present) {
    return inbound.last_price.value;
  }
  return order.price_e8;
}

void GatewaySession::Impl::handle_cancel_reject(const Inbound& inbound) {
  Order* order = find_order(inbound);
  const bool replace = inbound.response_to == FIX::CxlRejResponseTo_ORDER_CANCEL_REPLACE_REQUEST ||
                       (order != nullptr && order->pending == Pending::replace);
  GatewayAlert alert = alert_from(replace ? AlertKind::replace_reject : AlertKind::cancel_reject, inbound);
  if (order != nullptr) {
    alert.user_order_id = order->user_order_id;
    order->pending = Pending::none;
  }
  listener_.on_alert(alert);
  // The venue refused to cancel an order we still hold open: too late
  // (filled, or already cancelled) or unknown to it. Its reports of what
  // happened may never come (lost, or a venue that only says so here), so
  // the order's status and the positions are asked for; the owner learns
  // the order's end from the answer, and the kernel gives up an order the
  // venue never answers at a later position report.
  if (order != nullptr && !order->done) {
    send_status_request(*order);
    reconcile_wanted_ = true;
  }
}

// A BusinessMessageReject of a NewOrderSingle means the order never
// existed: the owner must hear "rejected", or it would wait for it forever.
void GatewaySession::Impl::handle_business_reject(const Inbound& inbound) {
  GatewayAlert alert = alert_from(AlertKind::business_reject, inbound);
  Order* order = nullptr;
  if (!inbound.reference.empty()) {
    auto it = order_ids_.find(inbound.reference);
    if (it != order_ids_.end()) {
      order = find_open(it->second);
    }
  }
  if (order == nullptr) {
    order = find_open(order_for_sequence(inbound.reference_sequence_number));
  }
  if (order != nullptr) {
    alert.user_order_id = order->user_order_id;
  }
  listener_.on_alert(alert);
  // Only a reject of the NewOrderSingle itself (or one that does not say
  // which message it refuses) ends the order: a refused status request,
  // cancel or query naming the ClOrdID says nothing about the order.
  const bool names_new_order =
      inbound.reference_message_type.empty() || inbound.reference_message_type.equals(FIX::MsgType_NewOrderSingle);
  if (order != nullptr && names_new_order && !order->accepted && order->pending == Pending::none) {
    listener_.on_execution(event_for(*order, ExecutionKind::rejected, inbound));
    mark_done(*order);
  } else if (order != nullptr) {
    order->pending = Pending::none;
  }
}

void GatewaySession::Impl::handle_session_reject(const Inbound& inbound) {
  GatewayAlert alert = alert_from(AlertKind::session_reject, inbound);
  Order* order = find_open(order_for_sequence(inbound.reference_sequence_number));
  const bool new_order = inbound.reference_message_type.equals(FIX::MsgType_NewOrderSingle);
  if (order != nullptr) {
    // The reject names a sequence number; the operator needs the order.
    alert.user_order_id = order->user_order_id;
    alert.client_order_id = order->current_client_order_id;
  }
  if (order != nullptr && new_order) {
    listener_.on_alert(alert);
    listener_.on_execution(event_for(*order, ExecutionKind::rejected, inbound));
    mark_done(*order);
    return;
  }
  listener_.on_alert(alert);
}

void GatewaySession::Impl::handle_mass_cancel_report(const Inbound& report) {
  std::vector<std::string> affected;
  affected.swap(mass_cancel_affected_);
  // MassCancelResponse(531) 0 = rejected, with the reason in 532.
  if (report.response_to == '0' || report.reason >= 0) {
    listener_.on_alert(alert_from(AlertKind::mass_cancel_reject, report));
    return;
  }
  // Deribit lists the orders it canceled; venues that do not will send an
  // ExecutionReport per order instead.
  for (const std::string& id : affected) {
    auto it = order_ids_.find(id_text(id));
    if (it == order_ids_.end()) {
      continue;
    }
    Order* order = find_open(it->second);
    if (order != nullptr) {
      listener_.on_execution(event_for(*order, ExecutionKind::canceled, report));
      mark_done(*order);
    }
  }
}

} // namespace fix
} // namespace synthusd
