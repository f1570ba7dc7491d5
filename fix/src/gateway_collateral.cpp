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
// Deribit's User Response(BF) to a User Request(BE) with 924=4
// (docs.deribit.com/fix-api/production/user-response): account values of
// the Currency asked for, as BTC floats.
constexpr int kTagUserRequestId = 923;
constexpr int kTagUserRequestType = 924;
constexpr int kTagUsername = 553;
constexpr int kTagCurrency = 15;
constexpr int kTagDeribitUserEquity = 100001;
constexpr int kTagDeribitUserBalance = 100002;
constexpr int kTagDeribitUserInitialMargin = 100003;
constexpr int kTagDeribitUserMaintenanceMargin = 100004;
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
// exact: a CollateralReport amount, refused beyond 8 decimals. Otherwise a
// Deribit float, rounded half to even to the satoshi (parse_decimal_e8_half_even).
void read_amount(const std::string& value, int tag, std::uint8_t bit, bool non_negative, std::int64_t& target,
                 CollateralFields& out, LongText& problem, bool exact = true) {
  std::int64_t sats = 0;
  if (exact ? !parse_decimal_e8(value, sats) : !parse_decimal_e8_half_even(value, sats)) {
    mark_malformed(out, problem,
                   "tag " + std::to_string(tag) + " is not a BTC amount" + (exact ? " with at most 8 decimals" : "") +
                       ": " + value);
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
    case kTagDeribitUserEquity:
      read_amount(value, kTagDeribitUserEquity, CollateralFields::kEquity, false, out.equity_sats, out, problem, false);
      break;
    case kTagDeribitUserBalance:
      read_amount(value, kTagDeribitUserBalance, CollateralFields::kBalance, false, out.balance_sats, out, problem,
                  false);
      break;
    case kTagDeribitUserInitialMargin:
      read_amount(value, kTagDeribitUserInitialMargin, CollateralFields::kInitialMargin, true, out.initial_margin_sats,
                  out, problem, false);
      break;
    case kTagDeribitUserMaintenanceMargin:
      read_amount(value, kTagDeribitUserMaintenanceMargin, CollateralFields::kMaintenanceMargin, true,
                  out.maintenance_margin_sats, out, problem, false);
      break;
    case kTagCollInquiryId:
    case kTagUserRequestId:
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
      id_prefix_(config.client_order_id_prefix + "C"), account_(config.position_account),
      user_response_(rules_for(config.dialect).collateral_by_user_request) {}

std::string CollateralInquiries::prepare_user_request(FIX::FieldMap& message, const std::string& username,
                                                      const std::string& currency) {
  const std::string request_id = id_prefix_ + std::to_string(++counter_);
  message.setField(kTagUserRequestId, request_id);
  message.setField(kTagUserRequestType, "4"); // Deribit: the account's equity and margins
  message.setField(kTagUsername, username);
  message.setField(kTagCurrency, currency);
  return request_id;
}

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
  if (!supported_ || refused_) {
    return false;
  }
  if (fill_booked_ && outstanding_.empty()) {
    // Equity and margin move with every fill (fees, the new position's
    // margin): ask again at once, one request at a time.
    fill_booked_ = false;
    return true;
  }
  if (interval_ns_ <= 0 || next_periodic_ns_ == 0 || steady_now_ns < next_periodic_ns_) {
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
  fill_booked_ = false;
}

// Deribit only (its BF is cheap and its equity is not otherwise pushed);
// a generic venue's CollateralReport keeps the periodic schedule.
void CollateralInquiries::fill_booked() { fill_booked_ = supported_ && user_response_; }

void CollateralInquiries::refused() {
  outstanding_.clear();
  refused_ = true;
}

namespace {

// min(equity - initial margin, balance), at least 0; without a balance
// (a CollateralReport without 901) equity less margin.
std::int64_t withdrawable_sats(const CollateralFields& fields, std::int64_t initial_margin) {
  std::int64_t free = 0;
  if (__builtin_sub_overflow(fields.equity_sats, initial_margin, &free)) {
    free = 0;
  }
  if ((fields.present & CollateralFields::kBalance) != 0 && fields.balance_sats < free) {
    free = fields.balance_sats;
  }
  return free > 0 ? free : 0;
}

} // namespace

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
    problem = "no equity: no TotalNetValue(900), or DeribitUserEquity(100001) in a User Response";
  } else if (overflow) {
    problem = "TotalNetValue(900) - MarginExcess(899) overflows";
  }
  if (!problem.empty()) {
    GatewayAlert alert;
    alert.kind = AlertKind::invalid_report;
    alert.receive_time_ns = receive_time_ns;
    alert.reference = inquiry_id;
    alert.reference_message_type.assign(user_response_ ? FIX::MsgType_UserResponse : FIX::MsgType_CollateralReport);
    alert.text.assign(std::string(user_response_ ? "UserResponse: " : "CollateralReport: ") + problem);
    listener.on_alert(alert);
    return;
  }
  CollateralEvent event;
  event.venue = venue_;
  event.equity_sats = fields.equity_sats;
  event.balance_sats = fields.balance_sats;
  event.initial_margin_sats = initial_margin;
  event.maintenance_margin_sats = fields.maintenance_margin_sats;
  event.withdrawable_sats = withdrawable_sats(fields, initial_margin);
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
