// Compiled as C++14: includes QuickFIX. See gateway_test_venue.hpp.
// The test venue's order handling: new orders, cancels, replaces, mass
// cancels, and the venue-side events a test triggers on an order.

#include "gateway_test_venue_impl.hpp"

#include <algorithm>

namespace synthusd {
namespace fix {
namespace testing {

using namespace detail; // NOLINT(google-build-using-namespace)

bool TestVenue::Impl::fill(const std::string& client_order_id, std::int64_t quantity, std::int64_t price_e8) {
  std::lock_guard<std::mutex> lock(mutex_);
  VenueOrder* order = find_by_original(client_order_id);
  if (order == nullptr || !order->open) {
    return false;
  }
  execute(*order, std::min(quantity, order->quantity - order->filled), price_e8, "");
  return true;
}

bool TestVenue::Impl::fill_levels(const std::string& client_order_id,
                                  const std::vector<std::pair<std::int64_t, std::int64_t>>& levels) {
  std::lock_guard<std::mutex> lock(mutex_);
  VenueOrder* order = find_by_original(client_order_id);
  if (order == nullptr || !order->open || !config_.deribit) {
    return false;
  }
  deribit_execute(*order, levels);
  return true;
}

bool TestVenue::Impl::cancel(const std::string& client_order_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  VenueOrder* order = find_by_original(client_order_id);
  if (order == nullptr || !order->open) {
    return false;
  }
  order->open = false;
  send_report(*order, FIX::ExecType_CANCELED, FIX::OrdStatus_CANCELED, 0, 0, order->current_id, "", "");
  return true;
}

bool TestVenue::Impl::drop(const std::string& client_order_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  VenueOrder* order = find_by_original(client_order_id);
  if (order == nullptr || !order->open) {
    return false;
  }
  order->open = false;
  return true;
}

VenueOrder TestVenue::Impl::order(const std::string& client_order_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  VenueOrder* order = find_by_original(client_order_id);
  return order == nullptr ? VenueOrder() : *order;
}

std::size_t TestVenue::Impl::open_orders() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::size_t count = 0;
  for (const VenueOrder& order : orders_) {
    count += order.open ? 1 : 0;
  }
  return count;
}

VenueOrder* TestVenue::Impl::find_by_original(const std::string& id) {
  for (VenueOrder& order : orders_) {
    if (order.client_order_id == id || order.order_id == id) {
      return &order;
    }
  }
  return nullptr;
}

VenueOrder* TestVenue::Impl::find_for_request(const FIX::Message& message) {
  const std::string id = config_.deribit ? get(message, FIX::FIELD::ClOrdID) : get(message, FIX::FIELD::OrigClOrdID);
  for (VenueOrder& order : orders_) {
    if (order.current_id == id || order.client_order_id == id) {
      return &order;
    }
  }
  if (!config_.deribit) {
    const std::string own = get(message, FIX::FIELD::ClOrdID); // OrderStatusRequest names the current id in 11
    for (VenueOrder& order : orders_) {
      if (order.current_id == own) {
        return &order;
      }
    }
  }
  return nullptr;
}

void TestVenue::Impl::execute(VenueOrder& order, std::int64_t quantity, std::int64_t price_e8, const std::string&) {
  if (quantity <= 0) {
    return;
  }
  if (config_.deribit) {
    deribit_execute(order, {{quantity, price_e8}});
    return;
  }
  order.filled += quantity;
  notional_[order.order_id] += static_cast<__int128>(quantity) * price_e8;
  positions_[order.symbol] += order.side == '1' ? quantity : -quantity;
  const bool complete = order.filled >= order.quantity;
  order.open = !complete;
  send_report(order, FIX::ExecType_TRADE, complete ? FIX::OrdStatus_FILLED : FIX::OrdStatus_PARTIALLY_FILLED, quantity,
              price_e8, order.current_id, "", "");
}

void TestVenue::Impl::on_new_order(const FIX::Message& message) {
  VenueOrder order;
  order.client_order_id = get(message, FIX::FIELD::ClOrdID);
  order.current_id = order.client_order_id;
  order.order_id = "V" + std::to_string(++order_counter_);
  order.symbol = get(message, FIX::FIELD::Symbol);
  const std::string side = get(message, FIX::FIELD::Side);
  order.side = side.empty() ? '1' : side[0];
  const std::int64_t wire_quantity = units(get(message, FIX::FIELD::OrderQty));
  order.quantity = wire_quantity / config_.units_per_contract;
  order.price_e8 = decimal(get(message, FIX::FIELD::Price));
  const std::string type = get(message, FIX::FIELD::OrdType);
  const std::string time_in_force = get(message, FIX::FIELD::TimeInForce);
  if (mode_ == OrderMode::lose) {
    return; // as if lost in transit: recorded as received, never booked
  }
  orders_.push_back(order);
  VenueOrder& stored = orders_.back();

  if (mode_ == OrderMode::silent) {
    stored.open = true;
    return;
  }
  if (mode_ == OrderMode::business_reject) {
    FIX::Message reject;
    reject.getHeader().setField(FIX::MsgType(FIX::MsgType_BusinessMessageReject));
    reject.setField(FIX::FIELD::RefSeqNum, get(message.getHeader(), FIX::FIELD::MsgSeqNum));
    reject.setField(FIX::FIELD::RefMsgType, FIX::MsgType_NewOrderSingle);
    reject.setField(FIX::FIELD::BusinessRejectRefID, stored.client_order_id);
    reject.setField(FIX::FIELD::BusinessRejectReason, "6"); // not authorized
    reject.setField(FIX::FIELD::Text, "orders not accepted on this session");
    send_message(reject);
    return;
  }
  if (mode_ == OrderMode::limits_only && type == std::string(1, FIX::OrdType_MARKET)) {
    send_report(stored, FIX::ExecType_REJECTED, FIX::OrdStatus_REJECTED, 0, 0, stored.current_id, "",
                "Unsupported order type", 11);
    return;
  }
  if (config_.deribit && get(message, FIX::FIELD::Price).empty()) {
    // Price(44) is marked required on Deribit's NewOrderSingle, market
    // orders included (docs.deribit.com/fix-api/production/new-order-single).
    send_report(stored, FIX::ExecType_REJECTED, FIX::OrdStatus_REJECTED, 0, 0, stored.current_id, "",
                "Price(44) is required", 99);
    return;
  }
  if (mode_ == OrderMode::reject || wire_quantity > config_.maximum_quantity || order.quantity <= 0) {
    send_report(stored, FIX::ExecType_REJECTED, FIX::OrdStatus_REJECTED, 0, 0, stored.current_id, "",
                "order quantity above limit");
    return;
  }
  stored.open = true;
  // Deribit acknowledges an order with a status report (ExecType I,
  // OrdStatus 0); see gateway_test_venue_deribit.cpp.
  send_report(stored, config_.deribit ? FIX::ExecType_ORDER_STATUS : FIX::ExecType_NEW, FIX::OrdStatus_NEW, 0, 0,
              stored.current_id, "", "");
  if (mode_ != OrderMode::automatic && mode_ != OrderMode::limits_only) {
    return;
  }
  if (type == std::string(1, FIX::OrdType_MARKET)) {
    execute(stored, stored.quantity, config_.market_price_e8, "");
  } else if (time_in_force == std::string(1, FIX::TimeInForce_FILL_OR_KILL)) {
    execute(stored, stored.quantity, stored.price_e8, "");
  } else if (time_in_force == std::string(1, FIX::TimeInForce_IMMEDIATE_OR_CANCEL)) {
    execute(stored, stored.quantity / 2, stored.price_e8, "");
    if (stored.open) {
      stored.open = false;
      send_report(stored, FIX::ExecType_CANCELED, FIX::OrdStatus_CANCELED, 0, 0, stored.current_id, "", "");
    }
  }
}

void TestVenue::Impl::cancel_reject(const FIX::Message& message, char response_to, const std::string& text) {
  FIX::Message reject;
  reject.getHeader().setField(FIX::MsgType(FIX::MsgType_OrderCancelReject));
  reject.setField(FIX::FIELD::OrderID, "NONE");
  reject.setField(FIX::FIELD::ClOrdID, get(message, FIX::FIELD::ClOrdID));
  const std::string original = get(message, FIX::FIELD::OrigClOrdID);
  reject.setField(FIX::FIELD::OrigClOrdID, original.empty() ? get(message, FIX::FIELD::ClOrdID) : original);
  reject.setField(FIX::FIELD::OrdStatus, "8");
  reject.setField(FIX::FIELD::CxlRejResponseTo, std::string(1, response_to));
  reject.setField(FIX::FIELD::CxlRejReason, "1"); // unknown order
  reject.setField(FIX::FIELD::Text, text);
  send_message(reject);
}

void TestVenue::Impl::on_cancel(const FIX::Message& message) {
  VenueOrder* order = find_for_request(message);
  if (order == nullptr || !order->open) {
    cancel_reject(message, FIX::CxlRejResponseTo_ORDER_CANCEL_REQUEST, "unknown or closed order");
    return;
  }
  order->open = false;
  const std::string request_id = get(message, FIX::FIELD::ClOrdID);
  send_report(*order, FIX::ExecType_CANCELED, FIX::OrdStatus_CANCELED, 0, 0, request_id, order->current_id, "");
  if (!config_.deribit) {
    order->current_id = request_id;
  }
}

void TestVenue::Impl::on_replace(const FIX::Message& message) {
  VenueOrder* order = find_for_request(message);
  if (order == nullptr || !order->open) {
    cancel_reject(message, FIX::CxlRejResponseTo_ORDER_CANCEL_REPLACE_REQUEST, "unknown or closed order");
    return;
  }
  const std::string request_id = get(message, FIX::FIELD::ClOrdID);
  const std::string previous = order->current_id;
  order->quantity = units(get(message, FIX::FIELD::OrderQty)) / config_.units_per_contract;
  order->price_e8 = decimal(get(message, FIX::FIELD::Price));
  if (!config_.deribit) {
    order->current_id = request_id;
  }
  send_report(*order, FIX::ExecType_REPLACED, order->filled > 0 ? FIX::OrdStatus_PARTIALLY_FILLED : FIX::OrdStatus_NEW,
              0, 0, request_id, previous, "");
}

void TestVenue::Impl::on_mass_cancel(const FIX::Message& message) {
  std::vector<std::string> affected;
  for (VenueOrder& order : orders_) {
    if (!order.open) {
      continue;
    }
    order.open = false;
    affected.push_back(order.client_order_id);
    if (!config_.mass_cancel_lists_orders) {
      send_report(order, FIX::ExecType_CANCELED, FIX::OrdStatus_CANCELED, 0, 0, order.current_id, "", "");
    }
  }
  std::string body = "35=r|11=" + get(message, FIX::FIELD::ClOrdID) + "|37=MASS" + std::to_string(++order_counter_) +
                     "|530=7|531=7|533=" + std::to_string(affected.size()) + "|";
  if (config_.mass_cancel_lists_orders && !affected.empty()) {
    body += "534=" + std::to_string(affected.size()) + "|";
    for (const std::string& id : affected) {
      body += "41=" + id + "|";
    }
  }
  send(body);
}

} // namespace testing
} // namespace fix
} // namespace synthusd
