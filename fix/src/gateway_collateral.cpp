// Compiled as C++14 (target synthusd_fix_quickfix): includes QuickFIX. See
// gateway_collateral.hpp.

#include "gateway_collateral.hpp"

#include "synthusd/fix/gateway_decimal.hpp"

#include <quickfix/Field.h>
#include <quickfix/Values.h>

namespace synthusd {
namespace fix {
namespace {

constexpr int kTagMarginExcess = 899;
constexpr int kTagTotalNetValue = 900;
constexpr int kTagCashOutstanding = 901;
constexpr int kTagCollInquiryId = 909;
constexpr int kTagCollInquiryStatus = 945;
constexpr int kTagCollInquiryResult = 946;
constexpr int kTagInitialMargin = 9110;     // the simulator's custom tag
constexpr int kTagMaintenanceMargin = 9111; // the simulator's custom tag
constexpr int kCollInquiryStatusRejected = 4;
constexpr int kCollInquiryResultSuccessful = 0;
constexpr std::int64_t kNanosecondsPerSecond = 1000000000;
constexpr std::int64_t kInquiryTimeoutNs = 10 * kNanosecondsPerSecond;

void mark_malformed(CollateralFields& out, LongText& problem, const std::string& why) {
  if (!out.malformed) {
    out.malformed = true;
    problem.assign(why);
  }
}

// A BTC amount: 1 sat = 1e-8 BTC, so the exact 1e8-scaled decimal is the
// amount in satoshis.
void read_amount(const std::string& value, int tag, std::uint8_t bit, bool non_negative, std::int64_t& target,
                 CollateralFields& out, LongText& problem) {
  std::int64_t sats = 0;
  if (!parse_decimal_e8(value, sats)) {
    mark_malformed(out, problem,
                   "tag " + std::to_string(tag) + " is not a BTC amount with at most 8 decimals: " + value);
    return;
  }
  if (non_negative && sats < 0) {
    mark_malformed(out, problem, "tag " + std::to_string(tag) + " is negative: " + value);
    return;
  }
  target = sats;
  out.present = static_cast<std::uint8_t>(out.present | bit);
}

void read_code(const std::string& value, int tag, int& target, CollateralFields& out, LongText& problem) {
  std::int64_t scaled = 0;
  if (!parse_decimal_e8(value, scaled) || scaled < 0 || scaled % kDecimalScale != 0 ||
      scaled / kDecimalScale > 1000000) {
    mark_malformed(out, problem, "tag " + std::to_string(tag) + " is not a code: " + value);
    return;
  }
  target = static_cast<int>(scaled / kDecimalScale);
}

} // namespace

void read_collateral_fields(const FIX::FieldMap& fields, CollateralFields& out, IdText& inquiry_id, LongText& problem) {
  for (const FIX::FieldBase& field : fields) {
    const std::string& value = field.getString();
    switch (field.getTag()) {
    case kTagTotalNetValue:
      read_amount(value, kTagTotalNetValue, CollateralFields::kEquity, false, out.equity_sats, out, problem);
      break;
    case kTagCashOutstanding:
      read_amount(value, kTagCashOutstanding, CollateralFields::kBalance, false, out.balance_sats, out, problem);
      break;
    case kTagMarginExcess:
      read_amount(value, kTagMarginExcess, CollateralFields::kMarginExcess, false, out.margin_excess_sats, out,
                  problem);
      break;
    case kTagInitialMargin:
      read_amount(value, kTagInitialMargin, CollateralFields::kInitialMargin, true, out.initial_margin_sats, out,
                  problem);
      break;
    case kTagMaintenanceMargin:
      read_amount(value, kTagMaintenanceMargin, CollateralFields::kMaintenanceMargin, true, out.maintenance_margin_sats,
                  out, problem);
      break;
    case kTagCollInquiryId:
      inquiry_id.assign(value);
      break;
    case kTagCollInquiryStatus:
      read_code(value, kTagCollInquiryStatus, out.inquiry_status, out, problem);
      break;
    case kTagCollInquiryResult:
      read_code(value, kTagCollInquiryResult, out.inquiry_result, out, problem);
      break;
    case FIX::FIELD::Currency:
      if (value != "BTC" && value != "XBT") {
        mark_malformed(out, problem, "collateral reported in " + value + ", not BTC");
      }
      break;
    default:
      break;
    }
  }
}

CollateralInquiries::CollateralInquiries(const GatewayConfig& config)
    : venue_(config.venue), supported_(config.collateral_inquiry_supported),
      interval_ns_(static_cast<std::int64_t>(config.collateral_request_interval_seconds) * kNanosecondsPerSecond),
      id_prefix_(config.client_order_id_prefix + "C"), account_(config.position_account) {}

std::string CollateralInquiries::prepare(FIX::FieldMap& message) {
  const std::string inquiry_id = id_prefix_ + std::to_string(++counter_);
  message.setField(kTagCollInquiryId, inquiry_id);
  message.setField(FIX::FIELD::SubscriptionRequestType, "0"); // snapshot
  if (!account_.empty()) {
    message.setField(FIX::FIELD::Account, account_);
  }
  return inquiry_id;
}

void CollateralInquiries::sent(const std::string& inquiry_id, std::int64_t steady_now_ns) {
  outstanding_ = inquiry_id;
  sent_at_ns_ = steady_now_ns;
  next_periodic_ns_ = steady_now_ns + interval_ns_;
}

bool CollateralInquiries::due(std::int64_t steady_now_ns) {
  if (!supported_ || refused_ || interval_ns_ <= 0 || next_periodic_ns_ == 0 || steady_now_ns < next_periodic_ns_) {
    return false;
  }
  if (!outstanding_.empty() && steady_now_ns - sent_at_ns_ <= kInquiryTimeoutNs) {
    return false; // the last one may still be answered
  }
  outstanding_.clear();
  return true;
}

void CollateralInquiries::reset() {
  outstanding_.clear();
  refused_ = false;
}

void CollateralInquiries::refused() {
  outstanding_.clear();
  refused_ = true;
}

void CollateralInquiries::on_report(const CollateralFields& fields, const IdText& inquiry_id, const LongText& text,
                                    bool malformed, std::int64_t receive_time_ns, GatewayListener& listener) {
  outstanding_.clear(); // answered (venues need not echo 909): another may go
  std::int64_t initial_margin = fields.initial_margin_sats;
  const bool derive_initial_margin = (fields.present & CollateralFields::kInitialMargin) == 0 &&
                                     (fields.present & CollateralFields::kMarginExcess) != 0;
  bool overflow = false;
  if (derive_initial_margin && (fields.present & CollateralFields::kEquity) != 0) {
    overflow = __builtin_sub_overflow(fields.equity_sats, fields.margin_excess_sats, &initial_margin);
  }
  std::string problem;
  if (malformed || fields.malformed) {
    problem = text.str();
  } else if ((fields.present & CollateralFields::kEquity) == 0) {
    problem = "no TotalNetValue(900)";
  } else if (overflow) {
    problem = "TotalNetValue(900) - MarginExcess(899) overflows";
  }
  if (!problem.empty()) {
    GatewayAlert alert;
    alert.kind = AlertKind::invalid_report;
    alert.receive_time_ns = receive_time_ns;
    alert.reference = inquiry_id;
    alert.reference_message_type.assign(FIX::MsgType_CollateralReport);
    alert.text.assign("CollateralReport: " + problem);
    listener.on_alert(alert);
    return;
  }
  CollateralEvent event;
  event.venue = venue_;
  event.equity_sats = fields.equity_sats;
  event.balance_sats = fields.balance_sats;
  event.initial_margin_sats = initial_margin;
  event.maintenance_margin_sats = fields.maintenance_margin_sats;
  event.receive_time_ns = receive_time_ns;
  listener.on_collateral(event);
}

void CollateralInquiries::on_ack(const CollateralFields& fields, const IdText& inquiry_id, const LongText& text,
                                 bool malformed, std::int64_t receive_time_ns, GatewayListener& listener) {
  GatewayAlert alert;
  alert.receive_time_ns = receive_time_ns;
  alert.reference = inquiry_id;
  alert.reference_message_type.assign(FIX::MsgType_CollateralInquiryAck);
  if (malformed || fields.malformed) {
    outstanding_.clear();
    alert.kind = AlertKind::invalid_report;
    alert.text.assign("CollateralInquiryAck: " + text.str());
    listener.on_alert(alert);
    return;
  }
  const bool refuses = fields.inquiry_status == kCollInquiryStatusRejected ||
                       (fields.inquiry_result >= 0 && fields.inquiry_result != kCollInquiryResultSuccessful);
  if (!refuses) {
    return; // accepted: the CollateralReport follows
  }
  if (inquiry_id.equals(outstanding_) || inquiry_id.empty()) {
    outstanding_.clear();
  }
  alert.kind = AlertKind::collateral_reject;
  alert.reason = fields.inquiry_result >= 0 ? fields.inquiry_result : fields.inquiry_status;
  alert.text = text;
  listener.on_alert(alert);
}

} // namespace fix
} // namespace synthusd
