// Compiled as C++14: includes QuickFIX. See gateway_test_venue.hpp.
// The test venue's Deribit shapes, written from Deribit's FIX pages rather
// than from textbook FIX 4.4 (each handler names its page under
// docs.deribit.com/fix-api/production/):
//   execution-reports       Deribit's order id in ClOrdID(11), ours in
//                           OrigClOrdID(41); SecondaryExecID(527) "ID of the
//                           order change, may be absent in case of status
//                           reports"; no ExecID(17). ExecType I "order
//                           status" acknowledges an order (the page's ExecType
//                           list, as read for issue 13, has no 0 New).
//                           Fills: a fills group (1362: 1363 FillExecID,
//                           1364 FillPx, 1365 FillQty) unless the logon had
//                           ReportFillsAsExecReports(9015)=Y, then one report
//                           per fill with LastQty(32) / LastPx(31).
//                           Quantities in contracts.
//   position-report         PosReqResult(728) 0 valid / 1 invalid / 99 other;
//                           each NoPositions entry carries RawData(96)
//                           "maintenance margin;initial margin;floating P/L".
//   request-for-positions   Currency(15) selects the currency; without it
//                           every currency's positions come back.
//   order-mass-status-request  AF: 584 MassStatusReqID, 585 type (1 = one
//                           order by its OrderID, 7 = all, or with 9014=1 the
//                           order whose ClOrdID is 584, Symbol or Currency
//                           required), answered with ExecType I reports.
//   user-request / user-response  BE 924=4 -> BF with 100001 equity, 100002
//                           balance, 100003 initial margin, 100004
//                           maintenance margin (BTC floats).
//   (message list)          no OrderStatusRequest(H), no CollateralInquiry(BB):
//                           refused with BusinessMessageReject 380=3.
//   articles/rate-limits    credits per request; "If a request arrives when
//                           no credits remain, we immediately send a
//                           too_many_requests (code 10028) or similar error
//                           and terminate the session."

#include "gateway_test_venue_impl.hpp"

#include <algorithm>
#include <cstdio>

namespace synthusd {
namespace fix {
namespace testing {

using namespace detail; // NOLINT(google-build-using-namespace)

namespace {

constexpr __int128 kInverseScale = static_cast<__int128>(1000000000000000LL) * 1000000000000000LL; // 1e30

std::string with_decimals(__int128 scaled, int decimals) {
  __int128 unit = 1;
  for (int i = 0; i < decimals; ++i) {
    unit *= 10;
  }
  const long long whole = static_cast<long long>(scaled / unit);
  const long long fraction = static_cast<long long>(scaled % unit);
  char text[64];
  std::snprintf(text, sizeof text, "%lld.%0*lld", whole, decimals, fraction);
  return text;
}

} // namespace

void TestVenue::Impl::deribit_identify(FIX::Message& report, const VenueOrder& order, char exec_type) {
  report.setField(FIX::FIELD::ClOrdID, order.order_id); // Deribit's own id in 11
  report.setField(FIX::FIELD::OrigClOrdID, order.client_order_id);
  if (exec_type != FIX::ExecType_ORDER_STATUS) {
    report.setField(527, order.order_id + "#" + std::to_string(++secondary_exec_counter_));
  }
}

std::string TestVenue::Impl::deribit_average_price(const VenueOrder& order) const {
  auto it = inverse_value_.find(order.order_id);
  if (order.filled <= 0 || it == inverse_value_.end() || it->second <= 0) {
    return "0";
  }
  // AvgPx = contracts / sum(contracts_i / price_i). In 1e-12 units:
  // filled * 1e30 * 1e12 / (sum * 1e8), i.e. filled * 1e34 / sum.
  const __int128 numerator = static_cast<__int128>(order.filled) * kInverseScale * 10000;
  return with_decimals(numerator / it->second, 12);
}

void TestVenue::Impl::deribit_execute(VenueOrder& order,
                                      const std::vector<std::pair<std::int64_t, std::int64_t>>& levels) {
  const bool per_fill = fills_as_reports_.load() && !config_.fills_group_always;
  std::vector<std::pair<std::int64_t, std::int64_t>> done;
  for (const auto& level : levels) {
    const std::int64_t quantity = std::min(level.first, order.quantity - order.filled);
    if (quantity <= 0 || level.second <= 0) {
      continue;
    }
    order.filled += quantity;
    inverse_value_[order.order_id] += static_cast<__int128>(quantity) * kInverseScale / level.second;
    positions_[order.symbol] += order.side == '1' ? quantity : -quantity;
    order.open = order.filled < order.quantity;
    done.push_back(std::make_pair(quantity, level.second));
    if (per_fill) {
      send_report(order, FIX::ExecType_TRADE, order.open ? FIX::OrdStatus_PARTIALLY_FILLED : FIX::OrdStatus_FILLED,
                  quantity, level.second, order.current_id, "", "");
    }
  }
  if (per_fill || done.empty()) {
    return;
  }
  // One report for the whole match, its fills in the group, no 31/32.
  std::string body = "35=8|37=" + order.order_id + "|11=" + order.order_id + "|41=" + order.client_order_id +
                     "|527=" + order.order_id + "#" + std::to_string(++secondary_exec_counter_) +
                     "|150=F|39=" + (order.open ? "1" : "2") + "|55=" + order.symbol + "|54=" + order.side +
                     "|38=" + std::to_string(order.quantity) + "|14=" + std::to_string(order.filled) +
                     "|151=" + std::to_string(order.open ? order.quantity - order.filled : 0) +
                     "|6=" + deribit_average_price(order) +
                     "|60=20260101-00:00:00.000|1362=" + std::to_string(done.size()) + "|";
  for (const auto& fill : done) {
    body += "1363=F" + std::to_string(++exec_counter_) + "|1364=" + format_decimal_e8(fill.second) +
            "|1365=" + std::to_string(fill.first) + "|";
  }
  send(body);
}

void TestVenue::Impl::deribit_position_report(const FIX::Message& message) {
  const std::string request = get(message, 710);
  std::string body = "35=AP|721=R" + std::to_string(++report_counter_) + "|710=" + request + "|724=0|";
  if (request.empty()) {
    send(body + "728=1|58=PosReqID is required|"); // 1 = invalid or unsupported request
    return;
  }
  const std::string currency = get(message, FIX::FIELD::Currency);
  std::vector<std::pair<std::string, std::int64_t>> held;
  for (const auto& entry : positions_) {
    const bool in_currency = currency.empty() || entry.first.compare(0, currency.size() + 1, currency + "-") == 0;
    if (entry.second != 0 && in_currency) {
      held.push_back(entry);
    }
  }
  body += "728=0|"; // a valid request, whether or not anything is held
  if (!held.empty()) {
    body += "702=" + std::to_string(held.size()) + "|";
    for (const auto& entry : held) {
      const std::int64_t long_quantity = entry.second > 0 ? entry.second : 0;
      const std::int64_t short_quantity = entry.second < 0 ? -entry.second : 0;
      body += "703=TQ|704=" + std::to_string(long_quantity) + "|705=" + std::to_string(short_quantity) +
              "|55=" + entry.first + "|883=" + format_decimal_e8(config_.market_price_e8) +
              "|96=0.00012345;0.00024691;-0.000001|";
    }
  }
  send(body);
}

void TestVenue::Impl::on_mass_status_request(const FIX::Message& message) {
  const std::string request = get(message, 584);
  const std::string type = get(message, 585);
  const std::string id_type = get(message, 9014);
  std::vector<VenueOrder*> matched;
  for (VenueOrder& order : orders_) {
    if (type == "1" && order.order_id == request) {
      matched.push_back(&order);
    } else if (type == "7" && id_type == "1" && order.client_order_id == request &&
               (!get(message, FIX::FIELD::Symbol).empty() || !get(message, FIX::FIELD::Currency).empty())) {
      matched.push_back(&order);
    } else if (type == "7" && id_type.empty() && order.open) {
      matched.push_back(&order);
    }
  }
  for (VenueOrder* order : matched) {
    char status = FIX::OrdStatus_NEW;
    if (!order->open) {
      status = order->filled >= order->quantity ? FIX::OrdStatus_FILLED : FIX::OrdStatus_CANCELED;
    } else if (order->filled > 0) {
      status = FIX::OrdStatus_PARTIALLY_FILLED;
    }
    send_report(*order, FIX::ExecType_ORDER_STATUS, status, 0, 0, order->current_id, "", "");
  }
}

void TestVenue::Impl::on_user_request(const FIX::Message& message) {
  if (get(message, 924) != "4") {
    reject_unsupported(message);
    return;
  }
  send("35=BF|923=" + get(message, 923) + "|553=" + get(message, 553) + "|926=1|15=" + get(message, 15) +
       "|100001=" + config_.equity_btc + "|100002=" + config_.balance_btc + "|100003=" + config_.initial_margin_btc +
       "|100004=" + config_.maintenance_margin_btc + "|");
}

void TestVenue::Impl::reject_unsupported(const FIX::Message& message) {
  FIX::Message reject;
  reject.getHeader().setField(FIX::MsgType(FIX::MsgType_BusinessMessageReject));
  reject.setField(FIX::FIELD::RefSeqNum, get(message.getHeader(), FIX::FIELD::MsgSeqNum));
  reject.setField(FIX::FIELD::RefMsgType, get(message.getHeader(), FIX::FIELD::MsgType));
  const std::string id = get(message, FIX::FIELD::ClOrdID);
  if (!id.empty()) {
    reject.setField(FIX::FIELD::BusinessRejectRefID, id); // names our ClOrdID, as a venue may
  }
  reject.setField(FIX::FIELD::BusinessRejectReason, "3"); // unsupported message type
  reject.setField(FIX::FIELD::Text, "unsupported message type");
  send_message(reject);
}

bool TestVenue::Impl::spend_credits() {
  if (config_.credit_pool <= 0) {
    return true;
  }
  const auto now = std::chrono::steady_clock::now();
  if (config_.credit_refill_per_second > 0) {
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - credits_at_).count();
    credits_ = std::min(config_.credit_pool, credits_ + elapsed * config_.credit_refill_per_second / 1000);
  }
  credits_at_ = now;
  if (credits_ < config_.credit_cost) {
    rate_limit_logouts_.fetch_add(1);
    rate_limit_logout_pending_.store(true);
    session_->logout("too_many_requests (10028)");
    // The client must wait for the refill before it logs on again; tests
    // have no timing, so the next session starts from a full pool.
    credits_ = config_.credit_pool;
    return false;
  }
  credits_ -= config_.credit_cost;
  return true;
}

} // namespace testing
} // namespace fix
} // namespace synthusd
