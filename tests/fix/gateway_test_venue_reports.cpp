// Compiled as C++14: includes QuickFIX. See gateway_test_venue.hpp.
// The test venue's reports: ExecutionReports (and order status), positions
// (RequestForPositions) and collateral (CollateralInquiry).

#include "gateway_test_venue_impl.hpp"

#include <utility>

namespace synthusd {
namespace fix {
namespace testing {

using namespace detail; // NOLINT(google-build-using-namespace)

void TestVenue::Impl::send_report(const VenueOrder& order, char exec_type, char status, std::int64_t last_quantity,
                                  std::int64_t last_price_e8, const std::string& report_id,
                                  const std::string& original_id, const std::string& text, int reject_reason) {
  FIX::Message report;
  report.getHeader().setField(FIX::MsgType(FIX::MsgType_ExecutionReport));
  report.setField(FIX::FIELD::OrderID, order.order_id);
  if (config_.deribit) {
    deribit_identify(report, order, exec_type);
  } else {
    report.setField(FIX::FIELD::ClOrdID, report_id);
    if (!original_id.empty()) {
      report.setField(FIX::FIELD::OrigClOrdID, original_id);
    }
  }
  if (!config_.deribit) {
    report.setField(FIX::FIELD::ExecID, "E" + std::to_string(++exec_counter_));
  }
  report.setField(FIX::FIELD::ExecType, std::string(1, exec_type));
  report.setField(FIX::FIELD::OrdStatus, std::string(1, status));
  report.setField(FIX::FIELD::Symbol, order.symbol);
  report.setField(FIX::FIELD::Side, std::string(1, order.side));
  report.setField(FIX::FIELD::OrderQty, std::to_string(order.quantity));
  if (order.price_e8 > 0) {
    report.setField(FIX::FIELD::Price, format_decimal_e8(order.price_e8));
  }
  report.setField(FIX::FIELD::CumQty, std::to_string(order.filled));
  report.setField(FIX::FIELD::LeavesQty, std::to_string(order.open ? order.quantity - order.filled : 0));
  if (last_quantity > 0) {
    report.setField(FIX::FIELD::LastQty, std::to_string(last_quantity));
    report.setField(FIX::FIELD::LastPx, format_decimal_e8(last_price_e8));
  }
  report.setField(FIX::FIELD::AvgPx, config_.deribit ? deribit_average_price(order)
                                                     : format_decimal_e8(order.filled > 0 ? average_price(order) : 0));
  report.setField(FIX::TransactTime(FIX::UtcTimeStamp(), 3));
  if (!text.empty()) {
    report.setField(FIX::FIELD::Text, text);
  }
  if (reject_reason >= 0) {
    report.setField(FIX::FIELD::OrdRejReason, std::to_string(reject_reason));
  }
  send_message(report);
}

std::int64_t TestVenue::Impl::average_price(const VenueOrder& order) const {
  auto it = notional_.find(order.order_id);
  if (it == notional_.end() || order.filled == 0) {
    return 0;
  }
  return static_cast<std::int64_t>(it->second / order.filled);
}

void TestVenue::Impl::on_status_request(const FIX::Message& message) {
  VenueOrder* order = find_for_request(message);
  if (order == nullptr) {
    // FIX 4.4: a status request for an order the venue does not know is
    // answered with ExecType I, OrdStatus 8 and OrdRejReason 5.
    VenueOrder unknown;
    unknown.client_order_id = get(message, FIX::FIELD::ClOrdID);
    unknown.current_id = unknown.client_order_id;
    unknown.order_id = "NONE";
    unknown.symbol = get(message, FIX::FIELD::Symbol);
    const std::string side = get(message, FIX::FIELD::Side);
    unknown.side = side.empty() ? '1' : side[0];
    send_report(unknown, FIX::ExecType_ORDER_STATUS, FIX::OrdStatus_REJECTED, 0, 0, unknown.current_id, "",
                "Unknown order", 5);
    return;
  }
  char status = FIX::OrdStatus_NEW;
  if (!order->open) {
    status = order->filled >= order->quantity ? FIX::OrdStatus_FILLED : FIX::OrdStatus_CANCELED;
  } else if (order->filled > 0) {
    status = FIX::OrdStatus_PARTIALLY_FILLED;
  }
  send_report(*order, FIX::ExecType_ORDER_STATUS, status, 0, 0, order->current_id, "", "");
}

void TestVenue::Impl::set_position(const std::string& symbol, std::int64_t position) {
  std::lock_guard<std::mutex> lock(mutex_);
  positions_[symbol] = position;
}

void TestVenue::Impl::on_position_request(const FIX::Message& message) {
  if (!config_.answer_position_requests) {
    return;
  }
  if (config_.deribit) {
    deribit_position_report(message);
    return;
  }
  if (config_.validate_position_request && !config_.deribit) { // Deribit documents its own AN shape
    for (const int required : {1, 581, 453, 715, 60}) {
      if (!message.isSetField(required)) {
        FIX::Message reject;
        reject.getHeader().setField(FIX::MsgType(FIX::MsgType_Reject));
        reject.setField(FIX::FIELD::RefSeqNum, get(message.getHeader(), FIX::FIELD::MsgSeqNum));
        reject.setField(FIX::FIELD::RefMsgType, FIX::MsgType_RequestForPositions);
        reject.setField(FIX::FIELD::RefTagID, std::to_string(required));
        reject.setField(FIX::FIELD::SessionRejectReason, "1"); // required tag missing
        reject.setField(FIX::FIELD::Text, "Required tag missing");
        send_message(reject);
        return;
      }
    }
  }
  const std::string request = get(message, 710);
  std::string body = "35=AP|721=R" + std::to_string(++report_counter_) + "|710=" + request + "|724=0|";
  std::vector<std::pair<std::string, std::int64_t>> held;
  for (const auto& entry : positions_) {
    if (entry.second != 0) {
      held.push_back(entry);
    }
  }
  if (held.empty()) {
    body += "728=2|";
    send(body);
    return;
  }
  if (config_.split_position_reports) {
    bool first = true;
    for (const auto& entry : held) {
      const std::int64_t long_quantity = entry.second > 0 ? entry.second : 0;
      const std::int64_t short_quantity = entry.second < 0 ? -entry.second : 0;
      const std::string report = "35=AP|721=R" + std::to_string(++report_counter_) + "|710=" + request +
                                 "|724=0|727=" + std::to_string(held.size()) + "|728=0|55=" + entry.first +
                                 "|702=1|703=TQ|704=" + std::to_string(long_quantity) +
                                 "|705=" + std::to_string(short_quantity) + "|";
      send(report);
      if (first && config_.repeat_first_position_report) {
        send(report);
      }
      first = false;
    }
    return;
  }
  body += "728=0|702=" + std::to_string(held.size()) + "|";
  for (const auto& entry : held) {
    const std::int64_t long_quantity = entry.second > 0 ? entry.second : 0;
    const std::int64_t short_quantity = entry.second < 0 ? -entry.second : 0;
    body += "703=TQ|704=" + std::to_string(long_quantity) + "|705=" + std::to_string(short_quantity) +
            "|55=" + entry.first + "|";
  }
  send(body);
}

void TestVenue::Impl::on_collateral_inquiry(const FIX::Message& message) {
  if (config_.collateral_btc.empty()) {
    return;
  }
  const std::string& amount = config_.collateral_btc;
  send("35=BA|1=" + config_.target_comp_id + "|15=BTC|899=" + amount + "|900=" + amount + "|901=" + amount + "|908=C" +
       std::to_string(++collateral_counter_) + "|909=" + get(message, 909) + "|910=3|9110=0|9111=0|9112=0|");
}

} // namespace testing
} // namespace fix
} // namespace synthusd
