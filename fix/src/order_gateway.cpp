// C++20: converts between the kernel's types and the gateway's C++14 types.
// No QuickFIX header is included here.

#include "synthusd/fix/order_gateway.hpp"

#include <chrono>

namespace synthusd::fix {

static_assert(kPriceScale == hedging::Price::kScale, "prices cross the boundary unscaled");

namespace {

hedging::Timestamp wall_clock_now() {
  return hedging::Timestamp{
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count()};
}

} // namespace

GatewayInstrument gateway_instrument(const hedging::InstrumentSpec& spec, Dialect dialect) {
  GatewayInstrument instrument;
  instrument.instrument = spec.id;
  instrument.symbol = std::string(spec.symbol.view());
  if (dialect == Dialect::deribit && hedging::is_inverse(spec.kind)) {
    // OrderQty in USD (QtyType=Units); whole dollars per contract.
    instrument.order_quantity_multiplier = spec.contract_value.value / hedging::kCentsPerDollar;
  }
  return instrument;
}

hedging::OrderStatus to_order_status(ExecutionKind kind) noexcept {
  switch (kind) {
  case ExecutionKind::accepted:
  case ExecutionKind::replaced:
    return hedging::OrderStatus::accepted;
  case ExecutionKind::partially_filled:
    return hedging::OrderStatus::partially_filled;
  case ExecutionKind::filled:
    return hedging::OrderStatus::filled;
  case ExecutionKind::canceled:
    return hedging::OrderStatus::canceled;
  case ExecutionKind::rejected:
    return hedging::OrderStatus::rejected;
  }
  return hedging::OrderStatus::rejected;
}

void OrderGateway::Bridge::on_execution(const ExecutionEvent& event) {
  if (event.kind == ExecutionKind::replaced) {
    listener_.on_replaced(event);
    return;
  }
  if (event.kind == ExecutionKind::rejected) {
    listener_.on_venue_reject(event);
  }
  listener_.on_event(hedging::ExecutionReport{
      .client_order_id = event.user_order_id,
      .status = to_order_status(event.kind),
      .last_quantity = hedging::Contracts{event.last_quantity},
      .last_price = hedging::Price{event.last_price_e8},
      .time = hedging::Timestamp{event.receive_time_ns},
  });
}

void OrderGateway::Bridge::on_position(const PositionEvent& event) {
  listener_.on_event(hedging::PositionSnapshot{
      .venue = event.venue,
      .instrument = event.instrument,
      .position = hedging::Contracts{event.position},
      .time = hedging::Timestamp{event.receive_time_ns},
  });
}

void OrderGateway::Bridge::on_collateral(const CollateralEvent& event) {
  listener_.on_event(hedging::CollateralSnapshot{
      .venue = event.venue,
      .equity = hedging::Sats{event.equity_sats},
      .time = hedging::Timestamp{event.receive_time_ns},
      .withdrawable = hedging::Sats{event.withdrawable_sats},
  });
}

void OrderGateway::Bridge::on_alert(const GatewayAlert& alert) {
  listener_.on_alert(alert);
  if (alert.kind == AlertKind::logon || alert.kind == AlertKind::logout || alert.kind == AlertKind::logon_failed) {
    listener_.on_event(hedging::VenueStatus{
        .venue = venue_,
        .up = alert.kind == AlertKind::logon,
        .time = hedging::Timestamp{alert.receive_time_ns},
    });
  }
}

OrderGateway::OrderGateway(GatewayConfig config, OrderGatewayListener& listener, OrderPolicy policy)
    : venue_(config.venue), policy_(policy), listener_(listener), bridge_(listener, config.venue),
      session_(std::move(config), bridge_) {}

SubmitResult OrderGateway::submit(const hedging::OrderIntent& intent) {
  const bool limit = intent.type == hedging::OrderType::limit;
  return submit(intent, limit ? policy_.limit_time_in_force : policy_.market_time_in_force,
                limit && policy_.post_only_limits);
}

SubmitResult OrderGateway::submit(const hedging::OrderIntent& intent, TimeInForce time_in_force, bool post_only) {
  SubmitResult result = SubmitResult::unknown_instrument;
  if (intent.venue == venue_) {
    OrderRequest request;
    request.user_order_id = intent.client_order_id;
    request.instrument = intent.instrument;
    request.side = intent.side == hedging::Side::buy ? OrderSide::buy : OrderSide::sell;
    request.quantity = intent.quantity.value;
    if (intent.type == hedging::OrderType::limit) {
      request.type = OrderType::limit;
      request.price_e8 = intent.limit_price.raw;
      request.post_only = post_only;
    } else {
      request.type = OrderType::market;
      // A venue that requires Price(44) on market orders (Deribit) gets
      // the collar price the caller put here; 0 (none) for the others.
      request.price_e8 = intent.limit_price.is_valid() ? intent.limit_price.raw : 0;
    }
    request.time_in_force = time_in_force;
    request.reduce_only = intent.reduce_only;
    result = session_.send_order(request);
  }
  if (result != SubmitResult::sent) {
    listener_.on_event(hedging::ExecutionReport{
        .client_order_id = intent.client_order_id,
        .status = hedging::OrderStatus::rejected,
        .last_quantity = hedging::Contracts{0},
        .last_price = hedging::Price{0},
        .time = wall_clock_now(),
    });
  }
  return result;
}

SubmitResult OrderGateway::submit(const hedging::CancelIntent& intent) {
  if (intent.venue != venue_) {
    return SubmitResult::unknown_order;
  }
  return session_.cancel_order(intent.client_order_id);
}

SubmitResult OrderGateway::replace(hedging::ClientOrderId id, hedging::Contracts quantity, hedging::Price price) {
  return session_.replace_order(id, quantity.value, price.raw);
}

} // namespace synthusd::fix
