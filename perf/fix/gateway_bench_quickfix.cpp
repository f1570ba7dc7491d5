// Compiled as C++14: includes QuickFIX. See gateway_bench_quickfix.hpp.

#include "gateway_bench_quickfix.hpp"

#include "synthusd/fix/gateway_decimal.hpp"

#include <quickfix/Message.h>
#include <quickfix/Values.h>
#include <quickfix/fix44/NewOrderSingle.h>

namespace synthusd {
namespace fix {
namespace bench {
namespace {

constexpr std::int64_t kPriceBase = 4300000000000; // 43000

// The fields GatewaySession::send_order sets, plus the header that
// Session::send fills in (BeginString, CompIDs, MsgSeqNum, SendingTime).
void fill(FIX44::NewOrderSingle& message, std::uint64_t n, const FIX::UtcTimeStamp& time) {
  FIX::Header& header = message.getHeader();
  header.setField(FIX::BeginString(FIX::BeginString_FIX44));
  header.setField(FIX::SenderCompID("SYNTHUSD"));
  header.setField(FIX::TargetCompID("DERIBITSERVER"));
  header.setField(FIX::FIELD::MsgSeqNum, std::to_string(n + 1));
  header.setField(FIX::SendingTime(time, 3));
  message.setField(FIX::FIELD::ClOrdID, "SU" + std::to_string(n));
  message.setField(FIX::Side(n % 2 == 0 ? FIX::Side_SELL : FIX::Side_BUY));
  message.setField(FIX::TransactTime(time, 3));
  message.setField(FIX::OrdType(FIX::OrdType_LIMIT));
  message.setField(FIX::FIELD::Symbol, "BTC-PERPETUAL");
  message.setField(FIX::FIELD::OrderQty, std::to_string(n % 100 + 1));
  message.setField(FIX::FIELD::Price, format_decimal_e8(kPriceBase + static_cast<std::int64_t>(n % 50) * 50000000));
  message.setField(FIX::TimeInForce(FIX::TimeInForce_GOOD_TILL_CANCEL));
}

const FIX::UtcTimeStamp& fixed_time() {
  static const FIX::UtcTimeStamp time(static_cast<time_t>(1704067200), 123, 3);
  return time;
}

} // namespace

std::string new_order_build_and_serialize(std::uint64_t n) {
  FIX44::NewOrderSingle message;
  fill(message, n, fixed_time());
  return message.toString();
}

struct ReusedNewOrder::Impl {
  FIX44::NewOrderSingle message;
};

ReusedNewOrder::ReusedNewOrder() : impl_(new Impl) {}
ReusedNewOrder::~ReusedNewOrder() = default;

void ReusedNewOrder::overwrite_and_serialize(std::uint64_t n, std::string& out) {
  fill(impl_->message, n, fixed_time());
  impl_->message.toString(out);
}

} // namespace bench
} // namespace fix
} // namespace synthusd
