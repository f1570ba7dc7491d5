// Compiled as C++14 (target synthusd_fix_quickfix); see dialect.hpp.

#include "synthusd/fix/dialect.hpp"

#include "synthusd/fix/deribit.hpp"

#include <stdexcept>

namespace synthusd {
namespace fix {

namespace {

constexpr int kTagRawDataLength = 95;
constexpr int kTagRawData = 96;
constexpr int kTagUsername = 553;
constexpr int kTagPassword = 554;
constexpr int kTagDeribitCancelOnDisconnect = 9001;
constexpr int kTagDeribitReportFillsAsExecReports = 9015;

} // namespace

const char* to_string(Dialect dialect) {
  switch (dialect) {
  case Dialect::generic:
    return "generic";
  case Dialect::deribit:
    return "deribit";
  }
  return "generic";
}

bool parse_dialect(const std::string& text, Dialect& out) {
  for (const Dialect dialect : kDialects) {
    if (text == to_string(dialect)) {
      out = dialect;
      return true;
    }
  }
  return false;
}

DialectRules rules_for(Dialect dialect) {
  DialectRules rules;
  if (dialect == Dialect::deribit) {
    rules.order_quantity_in_units = true;
    rules.amend_with_original_client_order_id = true;
    rules.exec_inst_values_unspaced = true;
    rules.position_request_with_business_date = false;
    rules.position_request_with_currency = true;
    rules.empty_valid_position_report_is_flat = true;
    rules.position_report_is_whole_account = true;
    rules.market_orders_carry_price = true;
    rules.order_status_by_mass_status_request = true;
    rules.collateral_by_user_request = true;
  }
  return rules;
}

std::string exec_inst(Dialect dialect, bool post_only, bool reduce_only) {
  std::string value;
  if (post_only) {
    value += '6'; // Participate don't initiate
  }
  if (reduce_only) {
    if (!value.empty() && !rules_for(dialect).exec_inst_values_unspaced) {
      value += ' ';
    }
    value += 'E'; // Do not increase
  }
  return value;
}

std::vector<TagValue> logon_fields(Dialect dialect, const Credentials& credentials, std::int64_t timestamp_ms,
                                   bool cancel_on_disconnect) {
  std::vector<TagValue> fields;
  if (dialect == Dialect::deribit) {
    if (credentials.client_id.empty() || credentials.client_secret.empty()) {
      throw std::invalid_argument("Deribit logon needs a client id and a client secret");
    }
    const deribit::LogonAuthentication authentication =
        deribit::make_logon_authentication(timestamp_ms, credentials.client_secret.reveal());
    fields.push_back(TagValue{kTagRawDataLength, std::to_string(authentication.raw_data.size())});
    fields.push_back(TagValue{kTagRawData, authentication.raw_data});
    fields.push_back(TagValue{kTagUsername, credentials.client_id});
    fields.push_back(TagValue{kTagPassword, authentication.password});
    fields.push_back(TagValue{kTagDeribitCancelOnDisconnect, cancel_on_disconnect ? "Y" : "N"});
    fields.push_back(TagValue{kTagDeribitReportFillsAsExecReports, "Y"});
    return fields;
  }
  if (!credentials.client_id.empty()) {
    fields.push_back(TagValue{kTagUsername, credentials.client_id});
  }
  if (!credentials.client_secret.empty()) {
    fields.push_back(TagValue{kTagPassword, credentials.client_secret.reveal()});
  }
  return fields;
}

} // namespace fix
} // namespace synthusd
