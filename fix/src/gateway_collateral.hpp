#pragma once
// The collateral half of the gateway session, kept out of
// gateway_session.cpp: CollateralInquiry (BB) out; CollateralReport (BA)
// and CollateralInquiryAck (BG) in. Private to synthusd_fix_quickfix and
// compiled as C++14 (it includes QuickFIX).
//
// Threads: read_collateral_fields() runs on QuickFIX's thread and writes
// only into the fixed-size record it is given (it crosses to the owner
// thread in the session's hand-off queue); CollateralInquiries lives on the
// owner thread, like the rest of the session's bookkeeping.

#include <cstdint>
#include <string>

#include <quickfix/FieldMap.h>

#include "synthusd/fix/gateway_types.hpp"

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {

// What a BA or BG carries. Amounts in satoshis: the venue's BTC decimals
// times 1e8, exactly (a 9th significant decimal is malformed, not rounded).
struct CollateralFields {
  enum : std::uint8_t {
    kEquity = 1,            // 900 TotalNetValue; BF 100001
    kBalance = 2,           // 901 CashOutstanding; BF 100002
    kMarginExcess = 4,      // 899 MarginExcess
    kInitialMargin = 8,     // 9110 (custom); BF 100003
    kMaintenanceMargin = 16 // 9111 (custom); BF 100004
  };
  std::int64_t equity_sats = 0;
  std::int64_t balance_sats = 0;
  std::int64_t margin_excess_sats = 0;
  std::int64_t initial_margin_sats = 0;
  std::int64_t maintenance_margin_sats = 0;
  std::uint8_t present = 0; // the k* bits above
  int inquiry_status = -1;  // 945 CollInquiryStatus (BG): 0 accepted ... 4 rejected
  int inquiry_result = -1;  // 946 CollInquiryResult (BG): 0 successful, else why not
  bool malformed = false;   // then `problem` says which field and why
};

// QuickFIX's thread: one pass over the body of a BA, BG or Deribit's BF
// (100001 equity, 100002 balance, 100003 initial and 100004 maintenance
// margin: floats, rounded half to even to the satoshi). inquiry_id gets
// CollInquiryID(909) or UserRequestID(923); problem gets the first malformed value (an amount that
// is not an exact BTC decimal, a negative margin, an amount in another
// currency than BTC, a non-integer 945/946). Never throws.
void read_collateral_fields(const FIX::FieldMap& fields, CollateralFields& out, IdText& inquiry_id, LongText& problem);

// Owner thread: when to send the next CollateralInquiry, and what BA and BG
// become (CollateralEvent or alerts).
class CollateralInquiries {
public:
  explicit CollateralInquiries(const GatewayConfig& config);

  bool supported() const { return supported_; }

  // Fills message (a FIX44::CollateralInquiry) with a new CollInquiryID(909)
  // "<prefix>C<n>", SubscriptionRequestType(263)=0 (snapshot) and
  // Account(1) if configured. Returns the id.
  std::string prepare(FIX::FieldMap& message);
  // The same for Deribit's User Request (BE): UserRequestID(923) "<prefix>C<n>",
  // UserRequestType(924)=4, Username(553), Currency(15). Answered by a User
  // Response (BF) that read_collateral_fields() reads like a BA.
  std::string prepare_user_request(FIX::FieldMap& message, const std::string& username, const std::string& currency);
  // After prepare()'s message went out: one inquiry outstanding, and the next
  // periodic one due an interval from now.
  void sent(const std::string& inquiry_id, std::int64_t steady_now_ns);
  // True when the periodic inquiry is due: supported, an interval set, not
  // refused this session, and no inquiry outstanding (an unanswered one
  // stops counting after 10 s).
  bool due(std::int64_t steady_now_ns);
  // Logon or logout: nothing outstanding, periodic inquiries allowed again.
  void reset();
  // A fill was booked: with Deribit's BE/BF, due() is true as soon as no
  // request is outstanding (generic venues: the periodic schedule only).
  void fill_booked();
  // The venue rejected a CollateralInquiry (BusinessMessageReject or
  // Reject(3) with RefMsgType BB): no periodic inquiries until the next
  // logon (the reject itself is alerted by the session).
  void refused();

  // A CollateralReport: on_collateral(), or an invalid_report alert when a
  // value is malformed or TotalNetValue(900) is missing.
  void on_report(const CollateralFields& fields, const IdText& inquiry_id, const LongText& text, bool malformed,
                 std::int64_t receive_time_ns, GatewayListener& listener);
  // A CollateralInquiryAck: a collateral_reject alert when it
  // refuses (945 = 4 or 946 other than 0), invalid_report if malformed,
  // nothing otherwise (the report follows).
  void on_ack(const CollateralFields& fields, const IdText& inquiry_id, const LongText& text, bool malformed,
              std::int64_t receive_time_ns, GatewayListener& listener);

private:
  const std::uint16_t venue_;
  const bool supported_;
  const std::int64_t interval_ns_;
  const std::string id_prefix_;
  const std::string account_;
  std::uint64_t counter_ = 0;
  std::string outstanding_;
  std::int64_t sent_at_ns_ = 0;
  std::int64_t next_periodic_ns_ = 0; // 0: none armed yet (armed by the logon inquiry)
  bool refused_ = false;
  bool fill_booked_ = false;
  const bool user_response_; // answered by Deribit's BF (not a BA)
};

} // namespace fix
} // namespace synthusd
