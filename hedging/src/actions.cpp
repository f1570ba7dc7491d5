#include "synthusd/hedging/actions.hpp"

namespace synthusd::hedging {

const char* to_string(AlertCode code) noexcept {
  switch (code) {
  case AlertCode::liquidation_distance_low:
    return "liquidation_distance_low";
  case AlertCode::funding_guard_engaged:
    return "funding_guard_engaged";
  case AlertCode::funding_guard_released:
    return "funding_guard_released";
  case AlertCode::venue_capacity_exhausted:
    return "venue_capacity_exhausted";
  case AlertCode::position_mismatch:
    return "position_mismatch";
  case AlertCode::unknown_execution_report:
    return "unknown_execution_report";
  case AlertCode::transfer_failed:
    return "transfer_failed";
  case AlertCode::unknown_transfer:
    return "unknown_transfer";
  case AlertCode::negative_liability:
    return "negative_liability";
  case AlertCode::order_table_full:
    return "order_table_full";
  case AlertCode::action_buffer_overflow:
    return "action_buffer_overflow";
  case AlertCode::instrument_rolled:
    return "instrument_rolled";
  case AlertCode::future_delivered_open:
    return "future_delivered_open";
  case AlertCode::order_abandoned:
    return "order_abandoned";
  case AlertCode::abandoned_order_filled:
    return "abandoned_order_filled";
  case AlertCode::unknown_instrument:
    return "unknown_instrument";
  case AlertCode::risk_trigger_table_full:
    return "risk_trigger_table_full";
  case AlertCode::invalid_event:
    return "invalid_event";
  case AlertCode::order_unanswered:
    return "order_unanswered";
  case AlertCode::venue_liquidated:
    return "venue_liquidated";
  }
  return "unknown_alert";
}

} // namespace synthusd::hedging
