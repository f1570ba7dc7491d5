// Compiled as C++14 (target synthusd_fix_quickfix); see gateway_dictionary.hpp.

#include "gateway_dictionary.hpp"

#include <quickfix/Values.h>

#include <initializer_list>

namespace synthusd {
namespace fix {
namespace {

// A group's fields, in order; the first is the delimiter.
FIX::DataDictionary group(std::initializer_list<int> fields) {
  FIX::DataDictionary dictionary;
  for (int field : fields) {
    dictionary.addField(field);
  }
  return dictionary;
}

void add_group(FIX::DataDictionary& dictionary, const char* message_type, int count_tag,
               std::initializer_list<int> fields) {
  dictionary.addGroup(message_type, count_tag, *fields.begin(), group(fields));
}

} // namespace

FIX::DataDictionary make_gateway_dictionary() {
  FIX::DataDictionary dictionary;
  // Fields the gateway never validates; QuickFIX must still know every field
  // an entry may hold, or an unknown one would end the group early. The lists
  // are generous on purpose (FIX 4.4 components plus Deribit's extensions).
  const std::initializer_list<int> parties = {448, 447, 452, 802};
  // Deribit puts RawData(96) ("maintenance margin;initial margin;floating
  // P/L") inside every NoPositions entry (docs.deribit.com/fix-api/production/
  // position-report): without 95/96 here QuickFIX ends the group at the
  // first entry's 96 and rejects a report with two positions.
  const std::initializer_list<int> position_quantities = {703, 704, 705, 706,    976,    539,   55,  854,
                                                          231, 883, 54,  730,    731,    732,   734, 898,
                                                          899, 95,  96,  100088, 100089, 100090};
  const std::initializer_list<int> position_amounts = {707, 708, 1055};
  const std::initializer_list<int> contra_brokers = {375, 337, 437, 438, 655};
  const std::initializer_list<int> misc_fees = {137, 138, 139, 891};
  const std::initializer_list<int> contract_amounts = {519, 520, 521};
  const std::initializer_list<int> fills = {1363, 1364, 1365, 1414, 1443, 1622};
  const std::initializer_list<int> security_alt_ids = {455, 456};
  const std::initializer_list<int> affected_orders = {41, 535, 536};

  add_group(dictionary, FIX::MsgType_ExecutionReport, 453, parties);
  add_group(dictionary, FIX::MsgType_ExecutionReport, 382, contra_brokers);
  add_group(dictionary, FIX::MsgType_ExecutionReport, 136, misc_fees);
  add_group(dictionary, FIX::MsgType_ExecutionReport, 518, contract_amounts);
  add_group(dictionary, FIX::MsgType_ExecutionReport, 1362, fills);
  add_group(dictionary, FIX::MsgType_ExecutionReport, 454, security_alt_ids);
  add_group(dictionary, FIX::MsgType_PositionReport, 702, position_quantities);
  add_group(dictionary, FIX::MsgType_PositionReport, 753, position_amounts);
  add_group(dictionary, FIX::MsgType_PositionReport, 453, parties);
  add_group(dictionary, FIX::MsgType_PositionReport, 454, security_alt_ids);
  add_group(dictionary, FIX::MsgType_RequestForPositionsAck, 453, parties);
  add_group(dictionary, FIX::MsgType_OrderMassCancelReport, 534, affected_orders);
  add_group(dictionary, FIX::MsgType_OrderCancelReject, 453, parties);
  add_group(dictionary, FIX::MsgType_CollateralReport, 453, parties);
  add_group(dictionary, FIX::MsgType_CollateralInquiryAck, 453, parties);
  // What the test venue and other acceptors parse from us.
  add_group(dictionary, FIX::MsgType_RequestForPositions, 453, parties);
  add_group(dictionary, FIX::MsgType_NewOrderSingle, 453, parties);
  add_group(dictionary, FIX::MsgType_CollateralInquiry, 453, parties);
  return dictionary;
}

FIX::DataDictionaryProvider make_gateway_dictionary_provider() {
  FIX::DataDictionaryProvider provider;
  provider.addTransportDataDictionary(
      FIX::BeginString(FIX::BeginString_FIX44),
      ptr::shared_ptr<FIX::DataDictionary>(new FIX::DataDictionary(make_gateway_dictionary())));
  return provider;
}

} // namespace fix
} // namespace synthusd
