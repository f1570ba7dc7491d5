#include "synthusd/venue/fix_messages.hpp"

#include "fix_user_messages.hpp"

#include <string>
#include <string_view>

#include "synthusd/venue/decimal.hpp"

namespace synthusd::venue {
namespace {

namespace tag {
constexpr int avg_px = 6;
constexpr int account = 1;
constexpr int cl_ord_id = 11;
constexpr int commission = 12;
constexpr int comm_type = 13;
constexpr int cum_qty = 14;
constexpr int currency = 15;
constexpr int exec_id = 17;
constexpr int exec_inst = 18;
constexpr int last_px = 31;
constexpr int last_qty = 32;
constexpr int order_id = 37;
constexpr int order_qty = 38;
constexpr int ord_status = 39;
constexpr int ord_type = 40;
constexpr int orig_cl_ord_id = 41;
constexpr int price = 44;
constexpr int ref_seq_num = 45;
constexpr int side = 54;
constexpr int symbol = 55;
constexpr int text = 58;
constexpr int time_in_force = 59;
constexpr int transact_time = 60;
constexpr int cxl_rej_reason = 102;
constexpr int ord_rej_reason = 103;
constexpr int exec_type = 150;
constexpr int leaves_qty = 151;
constexpr int contract_multiplier = 231;
constexpr int subscription_request_type = 263;
constexpr int unsolicited_indicator = 325;
constexpr int ref_msg_type = 372;
constexpr int business_reject_ref_id = 379;
constexpr int business_reject_reason = 380;
constexpr int cxl_rej_response_to = 434;
constexpr int comm_currency = 479;
constexpr int mass_cancel_request_type = 530;
constexpr int mass_cancel_response = 531;
constexpr int mass_cancel_reject_reason = 532;
constexpr int total_affected_orders = 533;
constexpr int no_positions = 702;
constexpr int pos_type = 703;
constexpr int long_qty = 704;
constexpr int short_qty = 705;
constexpr int pos_req_id = 710;
constexpr int clearing_business_date = 715;
constexpr int pos_maint_rpt_id = 721;
constexpr int pos_req_type = 724;
constexpr int pos_req_result = 728;
constexpr int settl_price = 730;
constexpr int last_liquidity_ind = 851;
constexpr int qty_type = 854;
constexpr int underlying_end_price = 883;
constexpr int margin_excess = 899;
constexpr int total_net_value = 900;
constexpr int cash_outstanding = 901;
constexpr int coll_rpt_id = 908;
constexpr int coll_inquiry_id = 909;
constexpr int coll_status = 910;
constexpr int initial_margin = 9110;     // custom
constexpr int maintenance_margin = 9111; // custom
constexpr int unrealised_pnl = 9112;     // custom
constexpr int deribit_label = 100010;
} // namespace tag

// Field lookup over an inbound message: the first occurrence of a tag.
class Fields {
public:
  explicit Fields(const InboundMessage& message) : message_(message) {}

  [[nodiscard]] const std::string* find(int wanted) const {
    for (const Field& field : message_.fields) {
      if (field.tag == wanted) {
        return &field.value;
      }
    }
    return nullptr;
  }
  [[nodiscard]] std::string text(int wanted) const {
    const std::string* value = find(wanted);
    return value == nullptr ? std::string() : *value;
  }
  [[nodiscard]] bool has(int wanted) const { return find(wanted) != nullptr && !find(wanted)->empty(); }

private:
  const InboundMessage& message_;
};

void add(OutboundMessage& message, int field_tag, std::string value) {
  message.fields.push_back(Field{field_tag, std::move(value)});
}

void add(OutboundMessage& message, int field_tag, char value) { add(message, field_tag, std::string(1, value)); }

void add(std::vector<Field>& fields, int field_tag, std::string value) {
  fields.push_back(Field{field_tag, std::move(value)});
}

OutboundMessage business_reject(const InboundMessage& message, int reason, std::string reference, std::string text) {
  OutboundMessage reject;
  reject.msg_type = "j";
  add(reject, tag::ref_seq_num, std::to_string(message.message_sequence_number));
  add(reject, tag::ref_msg_type, message.msg_type);
  if (!reference.empty()) {
    add(reject, tag::business_reject_ref_id, std::move(reference));
  }
  add(reject, tag::business_reject_reason, std::to_string(reason));
  add(reject, tag::text, std::move(text));
  return reject;
}

Decoded reject_with(OutboundMessage message) {
  Decoded decoded;
  decoded.reject = std::move(message);
  return decoded;
}

Decoded command(Command value) {
  Decoded decoded;
  decoded.command = std::move(value);
  return decoded;
}

[[nodiscard]] std::optional<Side> parse_side(const std::string& text) {
  if (text == "1") {
    return Side::buy;
  }
  if (text == "2") {
    return Side::sell;
  }
  return std::nullopt;
}

// Whole contracts; with 854=0 (units) a USD amount that is a multiple of the
// contract value.
[[nodiscard]] std::optional<Contracts> parse_quantity(const Fields& fields, const EngineConfig& config) {
  if (fields.text(tag::qty_type) == "0") {
    const std::optional<std::int64_t> cents = parse_exact_decimal(fields.text(tag::order_qty), 2);
    if (!cents || *cents % config.contract_value.value != 0) {
      return std::nullopt;
    }
    return Contracts{*cents / config.contract_value.value};
  }
  const std::optional<std::int64_t> contracts = parse_exact_decimal(fields.text(tag::order_qty), 0);
  return contracts ? std::optional<Contracts>(Contracts{*contracts}) : std::nullopt;
}

// A NewOrderSingle problem after ClOrdID, Side and Symbol are known: an
// ExecutionReport reject, so the client sees it against its order.
OutboundMessage order_reject(const Fields& fields, RejectReason reason, std::string text) {
  ExecutionEvent event;
  event.client_order_id = fields.text(tag::cl_ord_id);
  event.symbol = fields.text(tag::symbol);
  event.side = *parse_side(fields.text(tag::side));
  event.exec_type = ExecType::rejected;
  event.status = OrderStatus::rejected;
  event.type = fields.text(tag::ord_type) == "1" ? OrderType::market : OrderType::limit;
  event.reject_reason = reason;
  event.label = fields.text(tag::deribit_label);
  event.text = std::move(text);
  OutboundMessage message = encode(Event{std::move(event)});
  return message;
}

Decoded decode_new_order(const InboundMessage& message, const EngineConfig& config) {
  const Fields fields(message);
  if (!fields.has(tag::cl_ord_id) || !fields.has(tag::symbol) || !parse_side(fields.text(tag::side))) {
    return reject_with(business_reject(message, 5, fields.text(tag::cl_ord_id),
                                       "NewOrderSingle needs ClOrdID(11), Symbol(55) and Side(54) 1 or 2"));
  }
  NewOrder order;
  order.client_order_id = fields.text(tag::cl_ord_id);
  order.symbol = fields.text(tag::symbol);
  order.side = *parse_side(fields.text(tag::side));
  order.label = fields.text(tag::deribit_label);
  const std::optional<Contracts> quantity = parse_quantity(fields, config);
  if (!quantity) {
    return reject_with(order_reject(fields, RejectReason::incorrect_quantity,
                                    "OrderQty(38) must be whole contracts (or, with QtyType 0, a multiple of the "
                                    "contract value in USD)"));
  }
  order.quantity = *quantity;
  const std::string type = fields.text(tag::ord_type);
  if (type == "1") {
    order.type = OrderType::market;
  } else if (type == "2") {
    order.type = OrderType::limit;
    const std::optional<std::int64_t> price = parse_decimal(fields.text(tag::price), 8);
    if (!price) {
      return reject_with(order_reject(fields, RejectReason::other, "a limit order needs Price(44)"));
    }
    order.price = Price{*price};
  } else {
    return reject_with(order_reject(fields, RejectReason::unsupported, "OrdType(40) must be 1 (market) or 2 (limit)"));
  }
  const std::string time_in_force = fields.text(tag::time_in_force);
  if (time_in_force.empty() || time_in_force == "0" || time_in_force == "1") {
    order.time_in_force = TimeInForce::good_till_cancel;
  } else if (time_in_force == "3") {
    order.time_in_force = TimeInForce::immediate_or_cancel;
  } else if (time_in_force == "4") {
    order.time_in_force = TimeInForce::fill_or_kill;
  } else {
    return reject_with(order_reject(fields, RejectReason::unsupported, "TimeInForce(59) must be 0, 1, 3 or 4"));
  }
  for (const char instruction : fields.text(tag::exec_inst)) {
    if (instruction == '6') {
      order.post_only = true;
    } else if (instruction == 'A') {
      order.reject_post_only = true;
    } else if (instruction == 'E') {
      order.reduce_only = true;
    }
  }
  order.reject_post_only = order.reject_post_only && order.post_only;
  return command(std::move(order));
}

// OrderID(37) as the engine's number; 0 when absent or not a number.
[[nodiscard]] OrderId parse_order_id(const Fields& fields) {
  const std::optional<std::int64_t> id = parse_exact_decimal(fields.text(tag::order_id), 0);
  return id && *id > 0 ? static_cast<OrderId>(*id) : 0;
}

OutboundMessage cancel_reject(const Fields& fields, bool replace, std::string text) {
  CancelRejectEvent event;
  event.client_order_id = fields.text(tag::cl_ord_id);
  event.original_client_order_id = fields.text(tag::orig_cl_ord_id);
  event.order_id = parse_order_id(fields);
  event.replace = replace;
  event.reason = 99;
  event.text = std::move(text);
  return encode(Event{std::move(event)});
}

Decoded decode_cancel(const InboundMessage& message) {
  const Fields fields(message);
  if (!fields.has(tag::cl_ord_id)) {
    return reject_with(business_reject(message, 5, "", "OrderCancelRequest needs ClOrdID(11)"));
  }
  CancelOrder request;
  request.client_order_id = fields.text(tag::cl_ord_id);
  request.original_client_order_id = fields.text(tag::orig_cl_ord_id);
  request.order_id = parse_order_id(fields);
  request.symbol = fields.text(tag::symbol);
  if (request.original_client_order_id.empty() && request.order_id == 0) {
    return reject_with(cancel_reject(fields, false, "OrigClOrdID(41) or OrderID(37) is required"));
  }
  return command(std::move(request));
}

Decoded decode_status_request(const InboundMessage& message) {
  const Fields fields(message);
  if (!fields.has(tag::cl_ord_id) && !fields.has(tag::order_id)) {
    return reject_with(business_reject(message, 5, "", "OrderStatusRequest needs ClOrdID(11) or OrderID(37)"));
  }
  StatusRequest request;
  request.client_order_id = fields.text(tag::cl_ord_id);
  request.order_id = parse_order_id(fields);
  request.symbol = fields.text(tag::symbol);
  request.side = parse_side(fields.text(tag::side)).value_or(Side::buy);
  return command(std::move(request));
}

Decoded decode_replace(const InboundMessage& message, const EngineConfig& config) {
  const Fields fields(message);
  if (!fields.has(tag::cl_ord_id)) {
    return reject_with(business_reject(message, 5, "", "OrderCancelReplaceRequest needs ClOrdID(11)"));
  }
  ReplaceOrder request;
  request.client_order_id = fields.text(tag::cl_ord_id);
  request.original_client_order_id = fields.text(tag::orig_cl_ord_id);
  request.order_id = parse_order_id(fields);
  request.symbol = fields.text(tag::symbol);
  const std::optional<Side> side = parse_side(fields.text(tag::side));
  const std::optional<Contracts> quantity = parse_quantity(fields, config);
  if (request.original_client_order_id.empty() && request.order_id == 0) {
    return reject_with(cancel_reject(fields, true, "OrigClOrdID(41) or OrderID(37) is required"));
  }
  if (!side || !quantity) {
    return reject_with(cancel_reject(fields, true, "Side(54) and a whole OrderQty(38) are required"));
  }
  request.side = *side;
  request.quantity = *quantity;
  if (fields.has(tag::price)) {
    const std::optional<std::int64_t> price = parse_decimal(fields.text(tag::price), 8);
    if (!price) {
      return reject_with(cancel_reject(fields, true, "bad Price(44)"));
    }
    request.price = Price{*price};
  }
  return command(std::move(request));
}

Decoded decode_mass_cancel(const InboundMessage& message) {
  const Fields fields(message);
  if (!fields.has(tag::cl_ord_id)) {
    return reject_with(business_reject(message, 5, "", "OrderMassCancelRequest needs ClOrdID(11)"));
  }
  MassCancel request;
  request.client_order_id = fields.text(tag::cl_ord_id);
  request.symbol = fields.text(tag::symbol);
  const std::string type = fields.text(tag::mass_cancel_request_type);
  if (type == "1") {
    request.scope = MassCancelScope::symbol;
  } else if (type == "5") {
    request.scope = MassCancelScope::security_type;
  } else if (type == "7") {
    request.scope = MassCancelScope::all;
  } else {
    OutboundMessage report;
    report.msg_type = "r";
    add(report, tag::cl_ord_id, request.client_order_id);
    add(report, tag::order_id, "NONE");
    add(report, tag::mass_cancel_request_type, type.empty() ? "7" : type);
    add(report, tag::mass_cancel_response, '0');
    add(report, tag::mass_cancel_reject_reason, std::string("99"));
    add(report, tag::total_affected_orders, '0');
    add(report, tag::text, std::string("MassCancelRequestType(530) must be 1, 5 or 7"));
    return reject_with(std::move(report));
  }
  return command(std::move(request));
}

Decoded decode_position_request(const InboundMessage& message) {
  const Fields fields(message);
  if (!fields.has(tag::pos_req_id)) {
    return reject_with(business_reject(message, 5, "", "RequestForPositions needs PosReqID(710)"));
  }
  PositionRequest request;
  request.request_id = fields.text(tag::pos_req_id);
  const std::optional<std::int64_t> type = parse_exact_decimal(fields.text(tag::pos_req_type), 0);
  request.request_type = fields.has(tag::pos_req_type) ? (type ? static_cast<int>(*type) : -1) : 0;
  const std::string subscription = fields.text(tag::subscription_request_type);
  request.subscription = subscription.size() == 1 ? subscription[0] : (subscription.empty() ? '0' : '?');
  return command(std::move(request));
}

Decoded decode_collateral_inquiry(const InboundMessage& message) {
  const Fields fields(message);
  CollateralInquiry inquiry;
  inquiry.inquiry_id = fields.text(tag::coll_inquiry_id);
  return command(std::move(inquiry));
}

[[nodiscard]] std::string contracts_text(Contracts contracts) { return std::to_string(contracts.value); }

[[nodiscard]] char side_code(Side side) { return side == Side::buy ? '1' : '2'; }

[[nodiscard]] char time_in_force_code(TimeInForce time_in_force) {
  switch (time_in_force) {
  case TimeInForce::good_till_cancel:
    return '1';
  case TimeInForce::immediate_or_cancel:
    return '3';
  case TimeInForce::fill_or_kill:
    return '4';
  }
  return '1';
}

[[nodiscard]] std::string order_id_text(OrderId id) { return id == 0 ? std::string("NONE") : std::to_string(id); }

OutboundMessage encode_execution(const ExecutionEvent& event) {
  OutboundMessage message;
  message.msg_type = "8";
  add(message, tag::order_id, order_id_text(event.order_id));
  add(message, tag::cl_ord_id, event.client_order_id);
  if (!event.original_client_order_id.empty()) {
    add(message, tag::orig_cl_ord_id, event.original_client_order_id);
  }
  add(message, tag::exec_id, std::to_string(event.execution_id));
  add(message, tag::exec_type, static_cast<char>(event.exec_type));
  add(message, tag::ord_status, static_cast<char>(event.status));
  add(message, tag::symbol, event.symbol);
  add(message, tag::side, side_code(event.side));
  add(message, tag::order_qty, contracts_text(event.quantity));
  add(message, tag::ord_type, event.type == OrderType::market ? '1' : '2');
  if (event.type == OrderType::limit && event.price.raw != 0) {
    add(message, tag::price, format_price(event.price));
  }
  add(message, tag::time_in_force, time_in_force_code(event.time_in_force));
  if (event.post_only || event.reduce_only) {
    add(message, tag::exec_inst,
        event.post_only && event.reduce_only ? std::string("6 E") : std::string(event.post_only ? "6" : "E"));
  }
  if (event.exec_type == ExecType::trade) {
    add(message, tag::last_qty, contracts_text(event.last_quantity));
    add(message, tag::last_px, format_price(event.last_price));
    add(message, tag::commission, format_sats_as_btc(event.fee));
    add(message, tag::comm_type, '3'); // absolute
    add(message, tag::comm_currency, std::string("BTC"));
    add(message, tag::last_liquidity_ind, event.maker ? '1' : '2');
  }
  add(message, tag::cum_qty, contracts_text(event.cumulative_quantity));
  add(message, tag::leaves_qty, contracts_text(event.leaves_quantity));
  add(message, tag::avg_px, format_price(event.average_price));
  add(message, tag::transact_time, format_fix_timestamp(event.time));
  if (event.reject_reason != RejectReason::none) {
    add(message, tag::ord_rej_reason, std::to_string(static_cast<int>(event.reject_reason)));
  }
  if (!event.text.empty()) {
    add(message, tag::text, event.text);
  }
  add(message, tag::qty_type, '1');
  if (!event.label.empty()) {
    add(message, tag::deribit_label, event.label);
  }
  return message;
}

OutboundMessage encode_cancel_reject(const CancelRejectEvent& event) {
  OutboundMessage message;
  message.msg_type = "9";
  add(message, tag::order_id, order_id_text(event.order_id));
  add(message, tag::cl_ord_id, event.client_order_id);
  add(message, tag::orig_cl_ord_id, event.original_client_order_id);
  add(message, tag::ord_status, static_cast<char>(event.status));
  add(message, tag::cxl_rej_response_to, event.replace ? '2' : '1');
  add(message, tag::cxl_rej_reason, std::to_string(event.reason));
  if (!event.text.empty()) {
    add(message, tag::text, event.text);
  }
  return message;
}

OutboundMessage encode_mass_cancel(const MassCancelEvent& event) {
  OutboundMessage message;
  message.msg_type = "r";
  const std::string scope = std::to_string(static_cast<int>(event.scope));
  add(message, tag::cl_ord_id, event.client_order_id);
  add(message, tag::order_id, "M" + std::to_string(event.report_id));
  add(message, tag::mass_cancel_request_type, scope);
  add(message, tag::mass_cancel_response, event.accepted ? scope : std::string("0"));
  if (!event.accepted) {
    add(message, tag::mass_cancel_reject_reason, '1'); // unknown security
  }
  add(message, tag::total_affected_orders, std::to_string(event.affected_orders));
  if (!event.text.empty()) {
    add(message, tag::text, event.text);
  }
  return message;
}

OutboundMessage encode_position(const PositionEvent& event) {
  OutboundMessage message;
  message.msg_type = "AP";
  add(message, tag::pos_maint_rpt_id, "P" + std::to_string(event.report_id));
  add(message, tag::pos_req_id, event.request_id);
  add(message, tag::pos_req_type, '0');
  add(message, tag::pos_req_result, event.valid_request ? '0' : '1');
  add(message, tag::clearing_business_date, format_fix_date(event.time));
  if (event.unsolicited) {
    add(message, tag::unsolicited_indicator, 'Y');
  }
  if (!event.text.empty()) {
    add(message, tag::text, event.text);
  }
  if (!event.valid_request) {
    return message;
  }
  FieldGroup group;
  group.count_tag = tag::no_positions;
  group.order = {tag::pos_type,
                 tag::long_qty,
                 tag::short_qty,
                 tag::symbol,
                 tag::qty_type,
                 tag::contract_multiplier,
                 tag::underlying_end_price,
                 tag::side,
                 tag::settl_price};
  const auto add_entry = [&](const PositionEntry& position) {
    std::vector<Field> entry;
    const bool is_long = position.position.value >= 0;
    add(entry, tag::pos_type, "TQ");
    add(entry, tag::long_qty, contracts_text(is_long ? position.position : Contracts{}));
    add(entry, tag::short_qty, contracts_text(is_long ? Contracts{} : position.position.abs()));
    add(entry, tag::symbol, position.symbol);
    add(entry, tag::qty_type, "1");
    add(entry, tag::contract_multiplier, format_decimal(position.contract_value.value, 2));
    add(entry, tag::underlying_end_price, format_price(position.mark_price));
    add(entry, tag::side, std::string(1, is_long ? '1' : '2'));
    add(entry, tag::settl_price, format_price(position.entry_price));
    group.entries.push_back(std::move(entry));
  };
  add_entry({event.symbol, event.position, event.entry_price, event.mark_price, event.contract_value});
  for (const PositionEntry& other : event.other_positions) {
    add_entry(other);
  }
  message.groups.push_back(std::move(group));
  return message;
}

OutboundMessage encode_collateral(const CollateralEvent& event) {
  if (event.user_request) {
    return encode_user_response(event);
  }
  OutboundMessage message;
  message.msg_type = "BA";
  add(message, tag::account, event.account);
  add(message, tag::currency, std::string("BTC"));
  add(message, tag::transact_time, format_fix_timestamp(event.time));
  add(message, tag::margin_excess, format_sats_as_btc(event.available));
  add(message, tag::total_net_value, format_sats_as_btc(event.equity));
  add(message, tag::cash_outstanding, format_sats_as_btc(event.balance));
  if (!event.inquiry_id.empty()) {
    add(message, tag::coll_inquiry_id, event.inquiry_id);
  }
  add(message, tag::coll_rpt_id, "C" + std::to_string(event.report_id));
  add(message, tag::coll_status, '3'); // assigned
  add(message, tag::initial_margin, format_sats_as_btc(event.initial_margin));
  add(message, tag::maintenance_margin, format_sats_as_btc(event.maintenance_margin));
  add(message, tag::unrealised_pnl, format_sats_as_btc(event.unrealised_pnl));
  return message;
}

} // namespace

Decoded decode(const InboundMessage& message, const EngineConfig& config) {
  if (message.msg_type == "D") {
    return decode_new_order(message, config);
  }
  if (message.msg_type == "F") {
    return decode_cancel(message);
  }
  if (message.msg_type == "G") {
    return decode_replace(message, config);
  }
  if (message.msg_type == "q") {
    return decode_mass_cancel(message);
  }
  if (message.msg_type == "AN") {
    return decode_position_request(message);
  }
  if (message.msg_type == "H") {
    return decode_status_request(message);
  }
  if (message.msg_type == "BB") {
    return decode_collateral_inquiry(message);
  }
  if (message.msg_type == "BE") {
    std::string problem;
    if (std::optional<CollateralInquiry> inquiry = decode_user_request(message, problem)) {
      return command(std::move(*inquiry));
    }
    return reject_with(business_reject(message, 5, "", problem));
  }
  return reject_with(business_reject(message, 3, "", "unsupported message type"));
}

OutboundMessage encode(const Event& event) {
  return std::visit(
      [](const auto& value) -> OutboundMessage {
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, ExecutionEvent>) {
          return encode_execution(value);
        } else if constexpr (std::is_same_v<T, CancelRejectEvent>) {
          return encode_cancel_reject(value);
        } else if constexpr (std::is_same_v<T, MassCancelEvent>) {
          return encode_mass_cancel(value);
        } else if constexpr (std::is_same_v<T, PositionEvent>) {
          return encode_position(value);
        } else {
          return encode_collateral(value);
        }
      },
      event);
}

const std::string& account_of(const Event& event) {
  return std::visit([](const auto& value) -> const std::string& { return value.account; }, event);
}

} // namespace synthusd::venue
