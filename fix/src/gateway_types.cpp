// The names of the gateway's public enums (gateway_types.hpp).

#include "synthusd/fix/gateway_types.hpp"

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {

const char* to_string(SubmitResult result) {
  switch (result) {
  case SubmitResult::sent:
    return "sent";
  case SubmitResult::not_logged_on:
    return "not_logged_on";
  case SubmitResult::unknown_instrument:
    return "unknown_instrument";
  case SubmitResult::invalid_order:
    return "invalid_order";
  case SubmitResult::duplicate_order:
    return "duplicate_order";
  case SubmitResult::unknown_order:
    return "unknown_order";
  case SubmitResult::request_pending:
    return "request_pending";
  case SubmitResult::client_order_id_failure:
    return "client_order_id_failure";
  case SubmitResult::send_failed:
    return "send_failed";
  case SubmitResult::unsupported:
    return "unsupported";
  case SubmitResult::deferred:
    return "deferred";
  }
  return "send_failed";
}

const char* to_string(ExecutionKind kind) {
  switch (kind) {
  case ExecutionKind::accepted:
    return "accepted";
  case ExecutionKind::partially_filled:
    return "partially_filled";
  case ExecutionKind::filled:
    return "filled";
  case ExecutionKind::canceled:
    return "canceled";
  case ExecutionKind::rejected:
    return "rejected";
  case ExecutionKind::replaced:
    return "replaced";
  }
  return "accepted";
}

const char* to_string(AlertKind kind) {
  switch (kind) {
  case AlertKind::logon:
    return "logon";
  case AlertKind::logout:
    return "logout";
  case AlertKind::unknown_order:
    return "unknown_order";
  case AlertKind::late_fill:
    return "late_fill";
  case AlertKind::cancel_reject:
    return "cancel_reject";
  case AlertKind::replace_reject:
    return "replace_reject";
  case AlertKind::business_reject:
    return "business_reject";
  case AlertKind::session_reject:
    return "session_reject";
  case AlertKind::mass_cancel_reject:
    return "mass_cancel_reject";
  case AlertKind::position_request_reject:
    return "position_request_reject";
  case AlertKind::invalid_report:
    return "invalid_report";
  case AlertKind::unsupported_message:
    return "unsupported_message";
  case AlertKind::inbound_queue_full:
    return "inbound_queue_full";
  case AlertKind::collateral_reject:
    return "collateral_reject";
  case AlertKind::resend_suppressed:
    return "resend_suppressed";
  case AlertKind::logon_failed:
    return "logon_failed";
  case AlertKind::exec_id_reused:
    return "exec_id_reused";
  case AlertKind::sequence_reset:
    return "sequence_reset";
  case AlertKind::venue_reject:
    return "venue_reject";
  }
  return "logon";
}

} // namespace fix
} // namespace synthusd
