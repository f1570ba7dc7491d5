// Compiled as C++14: this file includes QuickFIX (see quickfix_boundary.hpp).

#include "synthusd/fix/quickfix_boundary.hpp"

#include "synthusd/fix/gateway_decimal.hpp"

#include <quickfix/Exceptions.h>
#include <quickfix/FieldConvertors.h>
#include <quickfix/Message.h>
#include <quickfix/fix44/NewOrderSingle.h>

#include <exception>
#include <limits>
#include <string>
#include <utility>

namespace synthusd {
namespace fix {
namespace {

constexpr std::int64_t kNanosecondsPerSecond = 1000000000;
constexpr std::int64_t kNanosecondsPerMillisecond = 1000000;
constexpr int kPriceDecimals = 8;
constexpr int kMillisecondPrecision = 3;

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

bool parse_time_in_force(const std::string& text, TimeInForce& out) {
  const TimeInForce all[] = {TimeInForce::day, TimeInForce::good_till_cancel, TimeInForce::immediate_or_cancel,
                             TimeInForce::fill_or_kill};
  for (TimeInForce candidate : all) {
    if (text.size() == 1 && text[0] == time_in_force_code(candidate)) {
      out = candidate;
      return true;
    }
  }
  return false;
}

FIX::UtcTimeStamp to_timestamp(std::int64_t nanoseconds) {
  // Floor division so that times before 1970 still land on the right second.
  std::int64_t seconds = nanoseconds / kNanosecondsPerSecond;
  std::int64_t remainder = nanoseconds % kNanosecondsPerSecond;
  if (remainder < 0) {
    seconds -= 1;
    remainder += kNanosecondsPerSecond;
  }
  const int milliseconds = static_cast<int>(remainder / kNanosecondsPerMillisecond);
  return FIX::UtcTimeStamp(static_cast<time_t>(seconds), milliseconds, kMillisecondPrecision);
}

std::int64_t to_nanoseconds(const FIX::UtcTimeStamp& timestamp) {
  return static_cast<std::int64_t>(timestamp.getTimeT()) * kNanosecondsPerSecond + timestamp.getNanosecond();
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Strict: digits only, at least one, value must fit int64.
bool parse_integer(const std::string& text, std::int64_t& out) {
  if (text.empty()) {
    return false;
  }
  std::int64_t value = 0;
  for (char c : text) {
    if (!is_digit(c)) {
      return false;
    }
    const int digit = c - '0';
    if (value > (std::numeric_limits<std::int64_t>::max() - digit) / 10) {
      return false;
    }
    value = value * 10 + digit;
  }
  out = value;
  return true;
}

// Strict FIX Price: optional '-', digits, optional '.' and at most 8 decimals.
// More decimals would need rounding, which is a decision this layer should
// not take silently, so it is an error, even as trailing zeros ("1.000000000"),
// which parse_decimal_e8 alone would accept.
bool parse_price(const std::string& text, std::int64_t& out) {
  const std::size_t point = text.find('.');
  if (point != std::string::npos && text.size() - point - 1 > static_cast<std::size_t>(kPriceDecimals)) {
    return false;
  }
  return parse_decimal_e8(text, out);
}

ParsedNewOrderSingle failure(std::string error) {
  ParsedNewOrderSingle result;
  result.error = std::move(error);
  return result;
}

} // namespace

bool operator==(const NewOrderSingle& a, const NewOrderSingle& b) {
  return a.sender_comp_id == b.sender_comp_id && a.target_comp_id == b.target_comp_id &&
         a.message_sequence_number == b.message_sequence_number &&
         a.sending_time_nanoseconds == b.sending_time_nanoseconds && a.client_order_id == b.client_order_id &&
         a.symbol == b.symbol && a.side == b.side && a.order_quantity == b.order_quantity &&
         a.order_type == b.order_type && a.price_e8 == b.price_e8 && a.time_in_force == b.time_in_force;
}

std::string encode_new_order_single(const NewOrderSingle& order) {
  const FIX::UtcTimeStamp sending_time = to_timestamp(order.sending_time_nanoseconds);
  FIX44::NewOrderSingle message(FIX::ClOrdID(order.client_order_id), FIX::Side(side_code(order.side)),
                                FIX::TransactTime(sending_time, kMillisecondPrecision),
                                FIX::OrdType(order_type_code(order.order_type)));
  FIX::Header& header = message.getHeader();
  header.setField(FIX::SenderCompID(order.sender_comp_id));
  header.setField(FIX::TargetCompID(order.target_comp_id));
  // QuickFIX 1.15.1 types MsgSeqNum as int and OrderQty as double; set the
  // text directly so neither narrows nor rounds an int64.
  header.setField(FIX::FIELD::MsgSeqNum, std::to_string(order.message_sequence_number));
  header.setField(FIX::SendingTime(sending_time, kMillisecondPrecision));
  message.set(FIX::Symbol(order.symbol));
  message.setField(FIX::FIELD::OrderQty, std::to_string(order.order_quantity));
  if (order.order_type == OrderType::limit) {
    // Exact text ("43251.5"): QuickFIX's PriceField would go through double.
    message.setField(FIX::FIELD::Price, format_decimal_e8(order.price_e8));
  }
  message.set(FIX::TimeInForce(time_in_force_code(order.time_in_force)));
  return message.toString();
}

ParsedNewOrderSingle parse_new_order_single(const std::string& wire) {
  try {
    // validate = true makes QuickFIX check BodyLength and CheckSum.
    const FIX::Message message(wire, true);
    const FIX::Header& header = message.getHeader();
    if (header.getField(FIX::FIELD::BeginString) != FIX::BeginString_FIX44) {
      return failure("BeginString is not FIX.4.4");
    }
    if (header.getField(FIX::FIELD::MsgType) != FIX::MsgType_NewOrderSingle) {
      return failure("MsgType is not D (NewOrderSingle)");
    }

    ParsedNewOrderSingle result;
    NewOrderSingle& order = result.order;
    order.sender_comp_id = header.getField(FIX::FIELD::SenderCompID);
    order.target_comp_id = header.getField(FIX::FIELD::TargetCompID);
    if (!parse_integer(header.getField(FIX::FIELD::MsgSeqNum), order.message_sequence_number)) {
      return failure("MsgSeqNum is not a non-negative integer");
    }
    order.sending_time_nanoseconds =
        to_nanoseconds(FIX::UtcTimeStampConvertor::convert(header.getField(FIX::FIELD::SendingTime)));
    order.client_order_id = message.getField(FIX::FIELD::ClOrdID);
    order.symbol = message.getField(FIX::FIELD::Symbol);

    const std::string& side = message.getField(FIX::FIELD::Side);
    if (side.size() != 1 || (side[0] != FIX::Side_BUY && side[0] != FIX::Side_SELL)) {
      return failure("Side is neither 1 (buy) nor 2 (sell): " + side);
    }
    order.side = side[0] == FIX::Side_BUY ? OrderSide::buy : OrderSide::sell;

    if (!parse_integer(message.getField(FIX::FIELD::OrderQty), order.order_quantity)) {
      return failure("OrderQty is not a whole number");
    }

    const std::string& order_type = message.getField(FIX::FIELD::OrdType);
    if (order_type.size() != 1 || (order_type[0] != FIX::OrdType_MARKET && order_type[0] != FIX::OrdType_LIMIT)) {
      return failure("OrdType is neither 1 (market) nor 2 (limit): " + order_type);
    }
    order.order_type = order_type[0] == FIX::OrdType_MARKET ? OrderType::market : OrderType::limit;
    const bool has_price = message.isSetField(FIX::FIELD::Price);
    if (order.order_type == OrderType::limit) {
      if (!has_price) {
        return failure("limit order without Price");
      }
      if (!parse_price(message.getField(FIX::FIELD::Price), order.price_e8)) {
        return failure("Price is not a decimal with at most 8 decimals");
      }
    } else if (has_price) {
      return failure("market order with Price");
    }

    const std::string& time_in_force = message.getField(FIX::FIELD::TimeInForce);
    if (!parse_time_in_force(time_in_force, order.time_in_force)) {
      return failure("unsupported TimeInForce: " + time_in_force);
    }

    result.ok = true;
    return result;
  } catch (const FIX::FieldNotFound& error) {
    // Its what() does not name the tag.
    return failure("required field missing: tag " + std::to_string(error.field));
  } catch (const std::exception& error) {
    // FIX::InvalidMessage, FieldNotFound and FieldConvertError all derive
    // from std::logic_error; their what() names the problem and the field.
    return failure(error.what());
  }
}

} // namespace fix
} // namespace synthusd
