#pragma once
// Kernel outputs: intents for the execution, treasury and alerting layers.

#include <array>
#include <type_traits>
#include <variant>

#include "synthusd/hedging/types.hpp"

namespace synthusd::hedging {

enum class OrderType : std::uint8_t { market, limit };

// Which part of the kernel owns an order; fills are booked to that owner.
enum class OrderPurpose : std::uint8_t { liability_hedge, risk_trigger_hedge };

struct OrderIntent {
  ClientOrderId client_order_id = 0;
  VenueId venue = kNoVenue;
  InstrumentId instrument = kNoInstrument;
  Side side = Side::buy;
  Contracts quantity{}; // always > 0
  OrderType type = OrderType::market;
  Price limit_price{}; // limit orders only
  bool reduce_only = false;
  OrderPurpose purpose = OrderPurpose::liability_hedge;
  // Post-only at our side of the touch, resting until it fills or the
  // kernel cancels it (the hybrid policy): no timed taker fallback.
  bool passive = false;
};

struct CancelIntent {
  ClientOrderId client_order_id = 0;
  VenueId venue = kNoVenue;
};

enum class TransferDirection : std::uint8_t { wallet_to_exchange, exchange_to_wallet };

struct TransferIntent {
  TransferId transfer_id = 0;
  VenueId venue = kNoVenue;
  TransferDirection direction = TransferDirection::wallet_to_exchange;
  Sats amount{};
};

enum class AlertCode : std::uint8_t {
  liquidation_distance_low, // values: venue, distance ratio raw, threshold raw
  funding_guard_engaged,    // values: venue, instrument, funding rate raw
  funding_guard_released,   // values: venue, instrument, funding rate raw
  venue_capacity_exhausted, // values: unhedged cents, 0, 0
  position_mismatch,        // values: venue*65536+instrument, kernel position, venue position
  unknown_execution_report, // values: client order id, status, quantity
  transfer_failed,          // values: transfer id, venue, sats
  unknown_transfer,         // values: transfer id
  negative_liability,       // values: liability cents
  order_table_full,         // values: venue, instrument, contracts
  action_buffer_overflow,   // values: dropped count
  instrument_rolled,        // values: venue, from instrument, to instrument
  unknown_instrument,       // values: venue, instrument
  risk_trigger_table_full,  // values: market, position id
  invalid_event,            // values: event index, 0, 0
  order_unanswered,         // values: client order id, venue, seconds since sent
  venue_liquidated,         // values: venue, instrument, contracts the venue closed
  future_delivered_open,    // values: venue, instrument, contracts still open at expiry (never rolled out)
  order_abandoned,          // values: client order id, venue, contracts released from flight
  abandoned_order_filled,   // values: client order id, venue, contracts booked (signed) after all
};

// Stable snake_case names for logs and metrics ("funding_guard_engaged").
[[nodiscard]] const char* to_string(AlertCode code) noexcept;

struct Alert {
  AlertCode code = AlertCode::invalid_event;
  std::array<std::int64_t, 3> values{};
};

using Action = std::variant<OrderIntent, CancelIntent, TransferIntent, Alert>;

static_assert(std::is_trivially_copyable_v<Action>);

} // namespace synthusd::hedging
