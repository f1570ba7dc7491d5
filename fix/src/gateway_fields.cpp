// Compiled as C++14 (target synthusd_fix_quickfix): includes QuickFIX. Field
// values and clocks the parts of GatewaySession::Impl share
// (gateway_session_internal.hpp): wall and steady clocks, TransactTime, and
// reading an inbound message into the Inbound record (QuickFIX's thread).

#include "gateway_session_internal.hpp"

#include "synthusd/fix/gateway_decimal.hpp"
#include "synthusd/fix/gateway_timestamp.hpp"

#include <quickfix/FieldConvertors.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <string>

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {

namespace {

void read_decimal(const std::string& value, int tag, Decimal& out, Inbound& inbound) {
  if (parse_decimal_e8(value, out.value)) {
    out.present = true;
  } else if (!inbound.malformed) {
    inbound.malformed = true;
    inbound.text.assign("tag " + std::to_string(tag) + " is not a decimal: " + value);
  }
}

void read_decimal_half_even(const std::string& value, int tag, Decimal& out, Inbound& inbound) {
  if (parse_decimal_e8_half_even(value, out.value)) {
    out.present = true;
  } else if (!inbound.malformed) {
    inbound.malformed = true;
    inbound.text.assign("tag " + std::to_string(tag) + " is not a decimal: " + value);
  }
}

} // namespace

namespace gateway_detail {

std::int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t steady_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

FIX::UtcTimeStamp to_timestamp(std::int64_t nanoseconds) {
  std::int64_t seconds = nanoseconds / kNanosecondsPerSecond;
  std::int64_t remainder = nanoseconds % kNanosecondsPerSecond;
  if (remainder < 0) {
    seconds -= 1;
    remainder += kNanosecondsPerSecond;
  }
  return FIX::UtcTimeStamp(static_cast<time_t>(seconds), static_cast<int>(remainder / kNanosecondsPerMillisecond),
                           kMillisecondPrecision);
}

} // namespace gateway_detail

// UtcTimeStampConvertor::convert's digits, written into `out`.
void write_utc_timestamp_milliseconds(std::int64_t nanoseconds, char* out) noexcept {
  const FIX::UtcTimeStamp time = gateway_detail::to_timestamp(nanoseconds);
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int millisecond = 0;
  time.getYMD(year, month, day);
  time.getHMS(hour, minute, second, millisecond, kMillisecondPrecision);
  FIX::integer_to_string_padded(out, 4, year);
  FIX::integer_to_string_padded(out + 4, 2, month);
  FIX::integer_to_string_padded(out + 6, 2, day);
  out[8] = '-';
  FIX::integer_to_string_padded(out + 9, 2, hour);
  out[11] = ':';
  FIX::integer_to_string_padded(out + 12, 2, minute);
  out[14] = ':';
  FIX::integer_to_string_padded(out + 15, 2, second);
  out[17] = '.';
  FIX::integer_to_string_padded(out + 18, 3, millisecond);
}

namespace gateway_detail {

std::int64_t read_integer(const std::string& value) {
  std::int64_t result = 0;
  if (!parse_decimal_e8(value, result) || result % kDecimalScale != 0) {
    return -1;
  }
  return result / kDecimalScale;
}

// One pass over a field map, picking the fields any report of ours may carry.
void read_fields(const FIX::FieldMap& fields, Inbound& inbound) {
  for (const FIX::FieldBase& field : fields) {
    const std::string& value = field.getString();
    switch (field.getTag()) {
    case FIX::FIELD::ClOrdID:
      inbound.client_order_id.assign(value);
      break;
    case FIX::FIELD::OrigClOrdID:
      inbound.original_client_order_id.assign(value);
      break;
    case FIX::FIELD::OrderID:
      inbound.venue_order_id.assign(value);
      break;
    case FIX::FIELD::ExecID:
      inbound.exec_id.assign(value);
      break;
    case kTagSecondaryExecId:
      if (inbound.exec_id.empty()) { // an ExecID(17), wherever it stands, wins
        inbound.exec_id.assign(value);
      }
      break;
    case FIX::FIELD::Symbol:
      inbound.symbol.assign(value);
      break;
    case FIX::FIELD::ExecType:
      inbound.exec_type = value.empty() ? '\0' : value[0];
      break;
    case FIX::FIELD::OrdStatus:
      inbound.order_status = value.empty() ? '\0' : value[0];
      break;
    case FIX::FIELD::Side:
      inbound.side = value.empty() ? '\0' : value[0];
      break;
    case FIX::FIELD::CxlRejResponseTo:
      inbound.response_to = value.empty() ? '\0' : value[0];
      break;
    case FIX::FIELD::OrderQty:
      read_decimal(value, FIX::FIELD::OrderQty, inbound.order_quantity, inbound);
      break;
    case FIX::FIELD::LastQty:
      read_decimal(value, FIX::FIELD::LastQty, inbound.last_quantity, inbound);
      break;
    case FIX::FIELD::CumQty:
      read_decimal(value, FIX::FIELD::CumQty, inbound.cumulative_quantity, inbound);
      break;
    case FIX::FIELD::LeavesQty:
      read_decimal(value, FIX::FIELD::LeavesQty, inbound.leaves_quantity, inbound);
      break;
    case FIX::FIELD::LastPx:
      read_decimal(value, FIX::FIELD::LastPx, inbound.last_price, inbound);
      break;
    case FIX::FIELD::AvgPx:
      // An average of several prices: more than 8 decimals is a real value
      // (Deribit, inverse instruments), rounded by the one named rule.
      read_decimal_half_even(value, FIX::FIELD::AvgPx, inbound.average_price, inbound);
      break;
    case FIX::FIELD::Price:
      read_decimal(value, FIX::FIELD::Price, inbound.price, inbound);
      break;
    case FIX::FIELD::LongQty:
      read_decimal(value, FIX::FIELD::LongQty, inbound.long_quantity, inbound);
      break;
    case FIX::FIELD::ShortQty:
      read_decimal(value, FIX::FIELD::ShortQty, inbound.short_quantity, inbound);
      break;
    case FIX::FIELD::PosType:
      inbound.position_type.assign(value);
      break;
    case FIX::FIELD::Text:
      if (!inbound.malformed) {
        inbound.text.assign(value);
      }
      break;
    case FIX::FIELD::TransactTime:
      try {
        const FIX::UtcTimeStamp time = FIX::UtcTimeStampConvertor::convert(value);
        inbound.transact_time_ns =
            static_cast<std::int64_t>(time.getTimeT()) * kNanosecondsPerSecond + time.getNanosecond();
      } catch (const std::exception&) {
        inbound.transact_time_ns = 0; // informational only
      }
      break;
    case FIX::FIELD::RefSeqNum:
      inbound.reference_sequence_number = read_integer(value);
      break;
    case FIX::FIELD::RefTagID:
      inbound.reference_tag = static_cast<int>(read_integer(value));
      break;
    case FIX::FIELD::RefMsgType:
      inbound.reference_message_type.assign(value);
      break;
    case FIX::FIELD::BusinessRejectRefID:
    case kTagPosReqId:
      inbound.reference.assign(value);
      break;
    case kTagTotalNumPosReports:
      inbound.total_reports = static_cast<int>(std::min<std::int64_t>(read_integer(value), 1 << 20));
      break;
    case FIX::FIELD::MassCancelResponse:
      inbound.response_to = value.empty() ? '\0' : value[0];
      break;
    case FIX::FIELD::CxlRejReason:
    case FIX::FIELD::BusinessRejectReason:
    case FIX::FIELD::SessionRejectReason:
    case FIX::FIELD::MassCancelRejectReason:
    case kTagPosReqResult:
    case kTagPosReqStatus:
    case FIX::FIELD::OrdRejReason:
      if (inbound.reason < 0 || field.getTag() == kTagPosReqStatus) {
        inbound.reason = static_cast<int>(read_integer(value));
      }
      break;
    default:
      break;
    }
  }
}

// The fills group of an ExecutionReport: every entry's FillQty and FillPx,
// summed (QuickFIX's thread; no allocation beyond QuickFIX's own).
void read_fills_group(const FIX::FieldMap& message, Inbound& inbound) {
  const std::size_t entries = message.groupCount(kTagNoFills);
  for (std::size_t i = 1; i <= entries; ++i) {
    const FIX::FieldMap& entry = message.getGroupRef(static_cast<int>(i), kTagNoFills);
    std::int64_t quantity = 0;
    std::int64_t price = 0;
    if (!entry.isSetField(kTagFillQty) || !entry.isSetField(kTagFillPx) ||
        !parse_decimal_e8(entry.getField(kTagFillQty), quantity) ||
        !parse_decimal_e8_half_even(entry.getField(kTagFillPx), price) || quantity <= 0 ||
        __builtin_add_overflow(inbound.fills_quantity_e8, quantity, &inbound.fills_quantity_e8)) {
      // Not usable for the price: the report's AvgPx still is.
      inbound.fills_quantity_e8 = 0;
      inbound.fills_notional_e16 = 0;
      return;
    }
    inbound.fills_notional_e16 += static_cast<__int128>(quantity) * price;
  }
}

} // namespace gateway_detail

} // namespace fix
} // namespace synthusd
