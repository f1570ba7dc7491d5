// Compiled as C++14 (target synthusd_fix_quickfix): includes QuickFIX. The
// position half of GatewaySession::Impl (gateway_session_internal.hpp):
// RequestForPositions out, PositionReport and RequestForPositionsAck in; and
// sending CollateralInquiry (the rest is in gateway_collateral.cpp).

#include "gateway_session_internal.hpp"

#include <quickfix/Values.h>
#include <quickfix/fix44/CollateralInquiry.h>
#include <quickfix/fix44/RequestForPositions.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {

namespace {

// "YYYYMMDD" (UTC) for a LocalMktDate field.
std::string business_date(std::int64_t nanoseconds) {
  const auto seconds = static_cast<std::time_t>(nanoseconds / kNanosecondsPerSecond);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::snprintf(text, sizeof text, "%04d%02d%02d", (utc.tm_year + 1900) % 10000, (utc.tm_mon + 1) % 100,
                utc.tm_mday % 100);
  return text;
}

} // namespace

SubmitResult GatewaySession::Impl::request_positions() {
  if (!logged_on()) {
    return SubmitResult::not_logged_on;
  }
  if (!spend_query_credits(positions_deferred_)) {
    positions_deferred_ = true;
    reconcile_wanted_ = true; // poll() asks again
    return SubmitResult::deferred;
  }
  positions_deferred_ = false;
  const std::int64_t now = transact_now();
  const std::string request_id = config_.client_order_id_prefix + "P" + std::to_string(++position_request_counter_);
  FIX44::RequestForPositions message;
  message.setField(kTagPosReqId, request_id);
  message.setField(kTagPosReqType, "0");                      // positions
  message.setField(FIX::FIELD::SubscriptionRequestType, "0"); // snapshot
  if (rules_.position_request_with_business_date) {
    // FIX 4.4 requires Account, AccountType and the Parties component on
    // AN; a validating counterparty rejects the request without them. Both
    // default to our SenderCompID, the identity the venue knows us by.
    const std::string& account = config_.position_account.empty() ? config_.sender_comp_id : config_.position_account;
    message.setField(FIX::FIELD::Account, account);
    message.setField(kTagAccountType, "1"); // account carried on the books of the counterparty
    FIX44::RequestForPositions::NoPartyIDs party;
    party.setField(FIX::FIELD::PartyID,
                   config_.position_party_id.empty() ? config_.sender_comp_id : config_.position_party_id);
    party.setField(FIX::FIELD::PartyIDSource, "D"); // proprietary / custom code
    party.setField(FIX::FIELD::PartyRole, "3");     // client ID
    message.addGroup(party);
    message.setField(kTagClearingBusinessDate, business_date(now));
    message.setField(FIX::TransactTime(to_timestamp(now), kMillisecondPrecision));
  }
  if (rules_.position_request_with_currency) {
    // Deribit answers an AN without Currency with every currency's
    // positions (docs.deribit.com/fix-api/production/request-for-positions).
    message.setField(kTagCurrency, config_.settlement_currency);
  }
  if (!send(message)) {
    return SubmitResult::send_failed;
  }
  ++counters_.position_requests_sent;
  outstanding_position_request_ = request_id;
  position_request_sent_at_ = steady_clock_ns();
  next_periodic_position_request_ =
      position_request_sent_at_ +
      static_cast<std::int64_t>(config_.position_request_interval_seconds) * kNanosecondsPerSecond;
  return SubmitResult::sent;
}

// CollateralInquiry(BB); see gateway_collateral.hpp.
SubmitResult GatewaySession::Impl::request_collateral() {
  if (!logged_on()) {
    return SubmitResult::not_logged_on;
  }
  if (!collateral_.supported()) {
    return SubmitResult::unsupported;
  }
  if (!spend_query_credits(collateral_deferred_)) {
    collateral_deferred_ = true; // poll() asks again
    return SubmitResult::deferred;
  }
  collateral_deferred_ = false;
  std::string inquiry_id;
  bool sent = false;
  if (rules_.collateral_by_user_request) {
    // Deribit: User Request(BE) 924=4 (docs.deribit.com/fix-api/production/user-request).
    FIX::Message message;
    message.getHeader().setField(FIX::MsgType(FIX::MsgType_UserRequest));
    inquiry_id = collateral_.prepare_user_request(message, config_.credentials.client_id, config_.settlement_currency);
    sent = send(message);
  } else {
    FIX44::CollateralInquiry message;
    inquiry_id = collateral_.prepare(message);
    sent = send(message);
  }
  if (!sent) {
    return SubmitResult::send_failed;
  }
  ++counters_.collateral_requests_sent;
  collateral_.sent(inquiry_id, steady_clock_ns());
  return SubmitResult::sent;
}

std::size_t GatewaySession::Impl::find_symbol(const std::string& symbol) const {
  for (std::size_t i = 0; i < config_.instruments.size(); ++i) {
    if (config_.instruments[i].symbol == symbol) {
      return i;
    }
  }
  return kNoInstrument;
}

// Sums, per symbol, the entries whose PosType is TQ (trade quantity) or
// absent; a symbol with none of those uses its first entry. Once the answer
// to our request is complete (position_answer_), a configured instrument it
// did not list is flat at the venue.
void GatewaySession::Impl::handle_position_report(const Inbound& report) {
  if (!report.reference.empty() && report.reference.equals(outstanding_position_request_)) {
    position_answer_.request = outstanding_position_request_;
    position_answer_.reports.clear();
    position_answer_.listed.assign(config_.instruments.size(), false);
    outstanding_position_request_.clear();
  }
  // A possible duplicate (43=Y, a resend from the venue's store) may answer
  // an earlier request that had the same id (ids restart with the process):
  // its positions are booked as ever, but it proves nothing of the rest.
  const bool answers_request = !position_answer_.request.empty() && !report.possible_duplicate &&
                               report.reference.equals(position_answer_.request);
  std::vector<PositionEntry> entries;
  entries.swap(position_entries_);
  const int result = report.reason;
  if (entries.empty()) {
    // PosReqResult 2 (FIX 4.4: no positions found), or Deribit's 0 (valid
    // request; it documents only 0, 1 and 99) with no entries: flat
    // everywhere. 1 (invalid request) and 99 (other) are refusals.
    // A possible duplicate may be an old answer from when the account was
    // flat (ids restart with the process): it flattens nothing.
    const bool flat = result == 2 || (result == 0 && rules_.empty_valid_position_report_is_flat);
    if (flat && !report.possible_duplicate) {
      for (const GatewayInstrument& instrument : config_.instruments) {
        emit_position(instrument, 0, report);
      }
    } else if (!flat && result > 0) {
      listener_.on_alert(alert_from(AlertKind::position_request_reject, report));
    }
    if (answers_request) {
      position_answer_.request.clear(); // answered, or refused: nothing more to infer
    }
    return;
  }
  const std::string body_symbol = report.symbol.str();
  std::vector<std::string> symbols;
  for (PositionEntry& entry : entries) {
    if (entry.symbol.empty()) {
      entry.symbol = body_symbol;
    }
    if (std::find(symbols.begin(), symbols.end(), entry.symbol) == symbols.end()) {
      symbols.push_back(entry.symbol);
    }
  }
  for (const std::string& symbol : symbols) {
    const std::size_t index = find_symbol(symbol);
    if (index == kNoInstrument) {
      continue; // another instrument on the account: not ours to hedge
    }
    if (answers_request) {
      position_answer_.listed[index] = true;
    }
    std::int64_t net_e8 = 0;
    bool matched = false;
    const PositionEntry* first = nullptr;
    for (const PositionEntry& entry : entries) {
      if (entry.symbol != symbol) {
        continue;
      }
      if (first == nullptr) {
        first = &entry;
      }
      if (entry.position_type.empty() || entry.position_type == "TQ") {
        net_e8 += entry.long_e8 - entry.short_e8;
        matched = true;
      }
    }
    if (!matched) {
      net_e8 = first->long_e8 - first->short_e8;
    }
    std::int64_t contracts = 0;
    const GatewayInstrument& instrument = config_.instruments[index];
    if (!to_contracts(instrument, net_e8, contracts)) {
      GatewayAlert alert = alert_from(AlertKind::invalid_report, report);
      alert.text.assign("position for " + symbol + " is not a whole number of contracts; rounded toward zero");
      listener_.on_alert(alert);
    }
    emit_position(instrument, contracts, report);
  }
  if (answers_request) {
    std::string key = body_symbol;
    for (const std::string& symbol : symbols) {
      key += '|' + symbol;
    }
    flatten_unlisted_positions(report, key);
  }
}

// Complete: Deribit's one AP lists the account's every open position (the
// dialect rule); a venue that splits its answer says how many reports make
// it (TotalNumPosReports, 727). Without either, an instrument missing from
// one report says nothing about it, and its position stays as it was.
void GatewaySession::Impl::flatten_unlisted_positions(const Inbound& report, const std::string& report_key) {
  if (report.reason > 0) { // a refusal that still carried entries: nothing to infer
    position_answer_.request.clear();
    return;
  }
  std::vector<std::string>& reports = position_answer_.reports;
  if (std::find(reports.begin(), reports.end(), report_key) == reports.end()) {
    reports.push_back(report_key);
  }
  const bool complete = rules_.position_report_is_whole_account ||
                        (report.total_reports > 0 && reports.size() >= static_cast<std::size_t>(report.total_reports));
  if (!complete) {
    return;
  }
  for (std::size_t i = 0; i < config_.instruments.size(); ++i) {
    if (!position_answer_.listed[i]) {
      emit_position(config_.instruments[i], 0, report);
    }
  }
  position_answer_.request.clear();
}

void GatewaySession::Impl::emit_position(const GatewayInstrument& instrument, std::int64_t contracts,
                                         const Inbound& report) {
  PositionEvent event;
  event.venue = config_.venue;
  event.instrument = instrument.instrument;
  event.position = contracts;
  event.receive_time_ns = report.receive_time_ns;
  event.symbol.assign(instrument.symbol);
  event.position_request_id = report.reference;
  listener_.on_position(event);
}

void GatewaySession::Impl::handle_position_request_ack(const Inbound& inbound) {
  // PosReqStatus 0 = completed; anything else (2 = rejected) is an alert.
  // PosReqResult 2 (no positions found) means flat.
  if (inbound.reason == 0) {
    return;
  }
  if (inbound.reference.equals(outstanding_position_request_)) {
    outstanding_position_request_.clear();
  }
  listener_.on_alert(alert_from(AlertKind::position_request_reject, inbound));
}

} // namespace fix
} // namespace synthusd
