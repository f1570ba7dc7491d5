// Compiled as C++14 (target synthusd_fix_quickfix): includes QuickFIX. The
// order half of GatewaySession::Impl (gateway_session_internal.hpp): send_order,
// cancel, replace, cancel_all and order status requests (D, F, G, q, H), and
// the owner thread's order table.

#include "gateway_session_internal.hpp"

#include "synthusd/fix/gateway_decimal.hpp"
#include "synthusd/fix/gateway_timestamp.hpp"

#include <quickfix/Values.h>
#include <quickfix/fix44/OrderMassCancelRequest.h>
#include <quickfix/fix44/OrderStatusRequest.h>

#include <algorithm>
#include <exception>
#include <vector>

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {

namespace {

char side_code(OrderSide side) { return side == OrderSide::buy ? FIX::Side_BUY : FIX::Side_SELL; }
char order_type_code(OrderType type) { return type == OrderType::market ? FIX::OrdType_MARKET : FIX::OrdType_LIMIT; }
char time_in_force_code(TimeInForce time_in_force) {
  switch (time_in_force) {
  case TimeInForce::day:
    return FIX::TimeInForce_DAY;
  case TimeInForce::good_till_cancel:
    return FIX::TimeInForce_GOOD_TILL_CANCEL;
  case TimeInForce::immediate_or_cancel:
    return FIX::TimeInForce_IMMEDIATE_OR_CANCEL;
  case TimeInForce::fill_or_kill:
    return FIX::TimeInForce_FILL_OR_KILL;
  }
  return FIX::TimeInForce_GOOD_TILL_CANCEL;
}

} // namespace

SubmitResult GatewaySession::Impl::send_order(const OrderRequest& request) {
  if (!logged_on()) {
    return SubmitResult::not_logged_on;
  }
  const std::size_t instrument_index = find_instrument(request.instrument);
  if (instrument_index == kNoInstrument) {
    return SubmitResult::unknown_instrument;
  }
  // A limit order needs its price; so does a market order where the venue
  // requires Price(44) on every NewOrderSingle (Deribit,
  // docs.deribit.com/fix-api/production/new-order-single): the caller's
  // collar price, the worst it accepts. A market order without one is
  // refused here, not sent to be rejected.
  const bool needs_price = request.type == OrderType::limit || rules_.market_orders_carry_price;
  if (request.quantity <= 0 || request.user_order_id == 0 || (needs_price && request.price_e8 <= 0)) {
    return SubmitResult::invalid_order;
  }
  auto existing = orders_.find(request.user_order_id);
  if (existing != orders_.end()) {
    if (!existing->second.done) {
      return SubmitResult::duplicate_order;
    }
    forget(existing->second.user_order_id);
  }
  IdText client_order_id;
  if (!allocate_client_order_id(client_order_id)) {
    return SubmitResult::client_order_id_failure;
  }
  const GatewayInstrument& instrument = config_.instruments[instrument_index];

  // The shape's prepared message (prepare_new_orders): every field below is
  // written in place, so nothing here allocates. ExecInst and QtyType are
  // fixed per shape and were written when it was prepared.
  FIX44::NewOrderSingle& message = new_orders_[new_order_shape(needs_price, request.post_only, request.reduce_only)];
  fields_.set(message, FIX::FIELD::ClOrdID, client_order_id.data, client_order_id.size);
  fields_.set(message, FIX::FIELD::Side, side_code(request.side));
  char text[common::kMaxDecimalTextSize];
  char time[kUtcTimestampMillisecondsLength];
  write_utc_timestamp_milliseconds(transact_now(), time);
  fields_.set(message, FIX::FIELD::TransactTime, time, sizeof time);
  fields_.set(message, FIX::FIELD::OrdType, order_type_code(request.type));
  fields_.set(message, FIX::FIELD::Symbol, instrument.symbol);
  fields_.set(message, FIX::FIELD::OrderQty, text, write_wire_quantity(instrument, request.quantity, text));
  if (needs_price) {
    fields_.set(message, FIX::FIELD::Price, text,
                common::format_decimal(request.price_e8, kDecimalPlaces, text, sizeof text));
  }
  fields_.set(message, FIX::FIELD::TimeInForce, time_in_force_code(request.time_in_force));
  if (!send(message)) {
    return SubmitResult::send_failed;
  }
  ++counters_.orders_sent;

  Order order;
  order.user_order_id = request.user_order_id;
  order.instrument_index = instrument_index;
  order.side = request.side;
  order.type = request.type;
  order.time_in_force = request.time_in_force;
  order.post_only = request.post_only;
  order.reduce_only = request.reduce_only;
  order.quantity = request.quantity;
  order.price_e8 = request.type == OrderType::limit ? request.price_e8 : 0;
  order.client_order_id = client_order_id;
  order.current_client_order_id = client_order_id;
  remember_sent(message, request.user_order_id);
  Order& stored = orders_[request.user_order_id];
  stored = std::move(order);
  order_ids_[stored.client_order_id] = stored.user_order_id;
  return SubmitResult::sent;
}

bool GatewaySession::Impl::reserve_ahead() {
  (void)ids_.reserve_ahead();
  (void)order_nodes_.reserve_ahead();
  (void)order_id_nodes_.reserve_ahead();
  return true;
}

std::size_t GatewaySession::Impl::new_order_shape(bool with_price, bool post_only, bool reduce_only) {
  return (with_price ? 4U : 0U) + (post_only ? 1U : 0U) + (reduce_only ? 2U : 0U);
}

// Adds each shape's fields with room for their values (the only allocations
// of the order path's message, made here once), and writes the two values a
// shape fixes: ExecInst and, where OrderQty is in USD, QtyType. The wire
// carries the same fields as a message built per order: Price(44) only on a
// shape with a price, ExecInst(18) only where a flag is set.
void GatewaySession::Impl::prepare_new_orders() {
  for (std::size_t shape = 0; shape < kNewOrderShapes; ++shape) {
    const bool with_price = (shape & 4U) != 0;
    const bool post_only = (shape & 1U) != 0;
    const bool reduce_only = (shape & 2U) != 0;
    const std::string instructions = exec_inst(config_.dialect, post_only, reduce_only);
    int tags[10];
    std::size_t count = 0;
    tags[count++] = FIX::FIELD::ClOrdID;
    tags[count++] = FIX::FIELD::Side;
    tags[count++] = FIX::FIELD::TransactTime;
    tags[count++] = FIX::FIELD::OrdType;
    tags[count++] = FIX::FIELD::Symbol;
    tags[count++] = FIX::FIELD::OrderQty;
    tags[count++] = FIX::FIELD::TimeInForce;
    if (with_price) {
      tags[count++] = FIX::FIELD::Price;
    }
    if (!instructions.empty()) {
      tags[count++] = FIX::FIELD::ExecInst;
    }
    if (rules_.order_quantity_in_units) {
      tags[count++] = kTagQtyType;
    }
    FIX44::NewOrderSingle& message = new_orders_[new_order_shape(with_price, post_only, reduce_only)];
    MessageFieldWriter::add_reserved(message, tags, count);
    if (!instructions.empty()) {
      fields_.set(message, FIX::FIELD::ExecInst, instructions);
    }
    if (rules_.order_quantity_in_units) {
      fields_.set(message, kTagQtyType, '0'); // Units: OrderQty is in USD
    }
  }
}

SubmitResult GatewaySession::Impl::cancel_order(std::uint64_t user_order_id) {
  if (!logged_on()) {
    return SubmitResult::not_logged_on;
  }
  Order* order = find_open(user_order_id);
  if (order == nullptr) {
    return SubmitResult::unknown_order;
  }
  if (order->pending != Pending::none) {
    return SubmitResult::request_pending;
  }
  const GatewayInstrument& instrument = config_.instruments[order->instrument_index];
  std::string request_id;
  FIX44::OrderCancelRequest& message = cancel_;
  if (!fill_amend_header(message, *order, instrument, request_id)) {
    return SubmitResult::client_order_id_failure;
  }
  message.setField(FIX::FIELD::OrderQty, wire_quantity(instrument, order->quantity));
  message.setField(FIX::TransactTime(to_timestamp(transact_now()), kMillisecondPrecision));
  if (!send(message)) {
    return SubmitResult::send_failed;
  }
  ++counters_.cancels_sent;
  order->pending = Pending::cancel;
  order->pending_client_order_id = request_id;
  add_alias(*order, request_id);
  return SubmitResult::sent;
}

SubmitResult GatewaySession::Impl::replace_order(std::uint64_t user_order_id, std::int64_t quantity,
                                                 std::int64_t price_e8) {
  if (!logged_on()) {
    return SubmitResult::not_logged_on;
  }
  Order* order = find_open(user_order_id);
  if (order == nullptr) {
    return SubmitResult::unknown_order;
  }
  if (order->type != OrderType::limit || quantity <= 0 || price_e8 <= 0) {
    return SubmitResult::invalid_order;
  }
  if (order->pending != Pending::none) {
    return SubmitResult::request_pending;
  }
  const GatewayInstrument& instrument = config_.instruments[order->instrument_index];
  std::string request_id;
  FIX44::OrderCancelReplaceRequest& message = replace_;
  if (!fill_amend_header(message, *order, instrument, request_id)) {
    return SubmitResult::client_order_id_failure;
  }
  message.setField(FIX::FIELD::OrderQty, wire_quantity(instrument, quantity));
  message.setField(FIX::OrdType(order_type_code(order->type)));
  message.setField(FIX::FIELD::Price, format_decimal_e8(price_e8));
  message.setField(FIX::TimeInForce(time_in_force_code(order->time_in_force)));
  const std::string instructions = exec_inst(config_.dialect, order->post_only, order->reduce_only);
  set_or_remove(message, FIX::FIELD::ExecInst, instructions);
  if (rules_.order_quantity_in_units) {
    message.setField(kTagQtyType, "0");
  }
  message.setField(FIX::TransactTime(to_timestamp(transact_now()), kMillisecondPrecision));
  if (!send(message)) {
    return SubmitResult::send_failed;
  }
  ++counters_.replaces_sent;
  order->pending = Pending::replace;
  order->pending_client_order_id = request_id;
  order->pending_quantity = quantity;
  order->pending_price_e8 = price_e8;
  add_alias(*order, request_id);
  return SubmitResult::sent;
}

SubmitResult GatewaySession::Impl::cancel_all() {
  if (!logged_on()) {
    return SubmitResult::not_logged_on;
  }
  if (config_.mass_cancel_supported) {
    std::string request_id;
    if (!allocate_client_order_id(request_id)) {
      return SubmitResult::client_order_id_failure;
    }
    FIX44::OrderMassCancelRequest message;
    message.setField(FIX::FIELD::ClOrdID, request_id);
    message.setField(FIX::MassCancelRequestType(FIX::MassCancelRequestType_CANCEL_ALL_ORDERS));
    message.setField(FIX::TransactTime(to_timestamp(transact_now()), kMillisecondPrecision));
    spend_request_credits(); // never deferred: it takes risk off
    if (!send(message)) {
      return SubmitResult::send_failed;
    }
    ++counters_.mass_cancels_sent;
    return SubmitResult::sent;
  }
  // One cancel per open order, in user order id order so the sequence of
  // messages is deterministic (the replay test depends on it).
  std::vector<std::uint64_t> open;
  for (const auto& entry : orders_) {
    if (!entry.second.done && entry.second.pending != Pending::cancel) {
      open.push_back(entry.first);
    }
  }
  std::sort(open.begin(), open.end());
  SubmitResult result = SubmitResult::sent;
  for (std::uint64_t id : open) {
    spend_request_credits(); // these cancels bypass pre-trade risk, which spends the kernel's
    const SubmitResult one = cancel_order(id);
    if (one != SubmitResult::sent && one != SubmitResult::request_pending) {
      result = one;
    }
  }
  return result;
}

std::size_t GatewaySession::Impl::find_instrument(std::uint16_t instrument) const {
  for (std::size_t i = 0; i < config_.instruments.size(); ++i) {
    if (config_.instruments[i].instrument == instrument) {
      return i;
    }
  }
  return kNoInstrument;
}

std::int64_t GatewaySession::Impl::transact_now() const {
  return config_.transact_clock ? config_.transact_clock() : wall_clock_ns();
}

std::string GatewaySession::Impl::wire_quantity(const GatewayInstrument& instrument, std::int64_t contracts) {
  char text[common::kMaxDecimalTextSize];
  return std::string(text, write_wire_quantity(instrument, contracts, text));
}

std::size_t GatewaySession::Impl::write_wire_quantity(const GatewayInstrument& instrument, std::int64_t contracts,
                                                      char (&out)[common::kMaxDecimalTextSize]) {
  return common::format_decimal(contracts * instrument.order_quantity_multiplier, 0, out, sizeof out);
}

// The identifying fields cancel and replace share, in the same order for
// both. Deribit-style venues amend under the order's own ClOrdID; FIX 4.4
// proper gives the request a new ClOrdID and names the order in
// OrigClOrdID. False when no new ClOrdID could be allocated.
bool GatewaySession::Impl::fill_amend_header(FIX::FieldMap& message, const Order& order,
                                             const GatewayInstrument& instrument, std::string& request_id) {
  if (rules_.amend_with_original_client_order_id) {
    request_id.assign(order.client_order_id.data, order.client_order_id.size);
    message.removeField(FIX::FIELD::OrigClOrdID);
  } else {
    if (!allocate_client_order_id(request_id)) {
      return false;
    }
    message.setField(FIX::FIELD::OrigClOrdID, order.current_client_order_id.str());
  }
  message.setField(FIX::FIELD::ClOrdID, request_id);
  set_or_remove(message, FIX::FIELD::OrderID, order.venue_order_id);
  message.setField(FIX::Side(side_code(order.side)));
  message.setField(FIX::FIELD::Symbol, instrument.symbol);
  return true;
}

bool GatewaySession::Impl::allocate_client_order_id(IdText& out) {
  try {
    // The prefix was bounded at construction (validated): every counter fits.
    out.size = static_cast<std::uint16_t>(
        write_client_order_id(config_.client_order_id_prefix, ids_.next(), out.data, sizeof out.data - 1));
    out.data[out.size] = '\0';
    out.truncated = false;
    return true;
  } catch (const std::exception& error) {
    GatewayAlert alert = make_alert(AlertKind::invalid_report, wall_clock_ns());
    alert.text.assign(error.what());
    listener_.on_alert(alert);
    return false;
  }
}

bool GatewaySession::Impl::allocate_client_order_id(std::string& out) {
  IdText id;
  if (!allocate_client_order_id(id)) {
    return false;
  }
  out.assign(id.data, id.size);
  return true;
}

bool GatewaySession::Impl::send(FIX::Message& message) {
  if (session_ == nullptr) {
    return false;
  }
  try {
    if (send_observer_ != nullptr) {
      send_observer_(send_observer_context_, GatewaySession::SendPhase::before_send);
    }
    const bool sent = session_->send(message);
    if (send_observer_ != nullptr) {
      send_observer_(send_observer_context_, GatewaySession::SendPhase::after_send);
    }
    return sent;
  } catch (const std::exception& error) {
    GatewayAlert alert = make_alert(AlertKind::invalid_report, wall_clock_ns());
    alert.text.assign(std::string("send failed: ") + error.what());
    listener_.on_alert(alert);
    return false;
  }
}

void GatewaySession::Impl::set_or_remove(FIX::FieldMap& message, int tag, const std::string& value) {
  if (value.empty()) {
    message.removeField(tag);
  } else {
    message.setField(tag, value);
  }
}

void GatewaySession::Impl::remember_sent(const FIX::Message& message, std::uint64_t user_order_id) {
  const FIX::Header& header = message.getHeader();
  if (!header.isSetField(FIX::FIELD::MsgSeqNum)) {
    return;
  }
  const std::int64_t sequence = read_integer(header.getField(FIX::FIELD::MsgSeqNum));
  sent_messages_[static_cast<std::size_t>(sequence) % sent_messages_.size()] = std::make_pair(sequence, user_order_id);
}

void GatewaySession::Impl::add_alias(Order& order, const std::string& id) {
  if (order.client_order_id.equals(id)) {
    return;
  }
  order.aliases.push_back(id);
  order_ids_[id_text(id)] = order.user_order_id;
}

Order* GatewaySession::Impl::find_open(std::uint64_t user_order_id) {
  auto it = orders_.find(user_order_id);
  return it == orders_.end() || it->second.done ? nullptr : &it->second;
}

void GatewaySession::Impl::forget(std::uint64_t user_order_id) {
  auto it = orders_.find(user_order_id);
  if (it == orders_.end()) {
    return;
  }
  order_ids_.erase(it->second.client_order_id);
  for (const std::string& alias : it->second.aliases) {
    order_ids_.erase(id_text(alias));
  }
  orders_.erase(it);
}

void GatewaySession::Impl::send_status_request(const Order& order) {
  const bool queued = std::find(deferred_status_requests_.begin(), deferred_status_requests_.end(),
                                order.user_order_id) != deferred_status_requests_.end();
  if (queued || !spend_query_credits(false)) {
    if (!queued) {
      deferred_status_requests_.push_back(order.user_order_id);
    }
    return;
  }
  send_status_request_now(order);
}

void GatewaySession::Impl::send_status_request_now(const Order& order) {
  const GatewayInstrument& instrument = config_.instruments[order.instrument_index];
  if (rules_.order_status_by_mass_status_request) {
    // Deribit lists no OrderStatusRequest(H); its Order Mass Status Request
    // (docs.deribit.com/fix-api/production/order-mass-status-request) finds
    // an order by our ClOrdID when its own id never reached us:
    // MassStatusReqType 7 with MassStatusReqIDType 1 and the Symbol. The
    // answer is an ExecutionReport with ExecType I, booked from CumQty.
    FIX::Message message;
    message.getHeader().setField(FIX::MsgType(FIX::MsgType_OrderMassStatusRequest));
    message.setField(kTagMassStatusReqId, order.client_order_id.str());
    message.setField(kTagMassStatusReqType, "7");
    message.setField(kTagMassStatusReqIdType, "1");
    message.setField(FIX::FIELD::Symbol, instrument.symbol);
    if (send(message)) {
      ++counters_.status_requests_sent;
    }
    return;
  }
  FIX44::OrderStatusRequest message;
  message.setField(FIX::FIELD::ClOrdID, order.current_client_order_id.str());
  set_or_remove(message, FIX::FIELD::OrderID, order.venue_order_id);
  message.setField(FIX::Side(side_code(order.side)));
  message.setField(FIX::FIELD::Symbol, instrument.symbol);
  if (send(message)) {
    ++counters_.status_requests_sent;
  }
}

} // namespace fix
} // namespace synthusd
