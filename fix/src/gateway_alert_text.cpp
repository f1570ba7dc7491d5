#include "synthusd/fix/gateway_alert_text.hpp"

#include <cstdio>

#include "synthusd/fix/gateway_decimal.hpp"

namespace synthusd::fix {

namespace {

void quoted(std::string& out, const char* text, std::size_t size) {
  out += '"';
  for (std::size_t i = 0; i < size; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

template <std::size_t Capacity>
void text_field(std::string& out, const char* key, const FixedText<Capacity>& value) {
  if (value.empty()) {
    return;
  }
  out += ' ';
  out += key;
  out += '=';
  quoted(out, value.data, value.size);
  if (value.truncated) {
    out += "...";
  }
}

void integer_field(std::string& out, const char* key, std::int64_t value) {
  out += ' ';
  out += key;
  out += '=';
  out += std::to_string(value);
}

void char_field(std::string& out, const char* key, char value) {
  if (value == 0) {
    return;
  }
  out += ' ';
  out += key;
  out += '=';
  quoted(out, &value, 1);
}

void decimal_field(std::string& out, const char* key, std::int64_t value_e8) {
  if (value_e8 == 0) {
    return;
  }
  out += ' ';
  out += key;
  out += '=';
  out += format_decimal_e8(value_e8);
}

} // namespace

std::string describe(const GatewayAlert& alert) {
  std::string out = to_string(alert.kind);
  text_field(out, "RefMsgType", alert.reference_message_type);
  if (alert.reference_tag != 0) {
    integer_field(out, "RefTagID", alert.reference_tag);
  }
  if (alert.reason >= 0) {
    integer_field(out, "reason", alert.reason);
  }
  text_field(out, "ClOrdID", alert.client_order_id);
  text_field(out, "OrigClOrdID", alert.original_client_order_id);
  if (alert.user_order_id != 0) {
    integer_field(out, "order", static_cast<std::int64_t>(alert.user_order_id));
  }
  text_field(out, "OrderID", alert.venue_order_id);
  text_field(out, "ExecID", alert.exec_id);
  text_field(out, "Symbol", alert.symbol);
  text_field(out, "reference", alert.reference);
  char_field(out, "ExecType", alert.exec_type);
  char_field(out, "OrdStatus", alert.order_status);
  char_field(out, "Side", alert.side);
  if (alert.reference_sequence_number != 0) {
    integer_field(out, "RefSeqNum", alert.reference_sequence_number);
  }
  decimal_field(out, "OrderQty", alert.order_quantity_e8);
  decimal_field(out, "LastQty", alert.last_quantity_e8);
  decimal_field(out, "CumQty", alert.cumulative_quantity_e8);
  decimal_field(out, "LeavesQty", alert.leaves_quantity_e8);
  decimal_field(out, "LastPx", alert.last_price_e8);
  decimal_field(out, "Price", alert.price_e8);
  text_field(out, "text", alert.text);
  return out;
}

} // namespace synthusd::fix
