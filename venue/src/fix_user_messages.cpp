// See fix_user_messages.hpp.

#include "fix_user_messages.hpp"

#include <utility>

#include "synthusd/venue/decimal.hpp"

namespace synthusd::venue {
namespace {

constexpr int kCurrency = 15;
constexpr int kUsername = 553;
constexpr int kUserRequestId = 923;
constexpr int kUserRequestType = 924;
constexpr int kUserStatus = 926;
constexpr int kDeribitUserEquity = 100001;
constexpr int kDeribitUserBalance = 100002;
constexpr int kDeribitUserInitialMargin = 100003;
constexpr int kDeribitUserMaintenanceMargin = 100004;

std::string text_of(const InboundMessage& message, int tag) {
  for (const Field& field : message.fields) {
    if (field.tag == tag) {
      return field.value;
    }
  }
  return std::string();
}

} // namespace

std::optional<CollateralInquiry> decode_user_request(const InboundMessage& message, std::string& problem) {
  if (text_of(message, kUserRequestType) != "4") {
    problem = "UserRequestType(924) must be 4 (account equity)";
    return std::nullopt;
  }
  CollateralInquiry inquiry;
  inquiry.inquiry_id = text_of(message, kUserRequestId);
  inquiry.user_request = true;
  return inquiry;
}

OutboundMessage encode_user_response(const CollateralEvent& event) {
  OutboundMessage message;
  message.msg_type = "BF";
  message.fields = {
      {kUserRequestId, event.inquiry_id},
      {kUsername, event.account},
      {kUserStatus, "1"}, // logged in
      {kCurrency, "BTC"},
      {kDeribitUserEquity, format_sats_as_btc(event.equity)},
      {kDeribitUserBalance, format_sats_as_btc(event.balance)},
      {kDeribitUserInitialMargin, format_sats_as_btc(event.initial_margin)},
      {kDeribitUserMaintenanceMargin, format_sats_as_btc(event.maintenance_margin)},
  };
  return message;
}

} // namespace synthusd::venue
