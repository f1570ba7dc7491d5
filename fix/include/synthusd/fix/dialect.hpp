#pragma once
// Venue dialects of FIX 4.4: what differs between a textbook FIX 4.4 venue
// and Deribit, in one place.
//
//                      generic FIX 4.4                  Deribit
//   Logon              553/554 if credentials given     553 client id, 95/96 RawData, 554 =
//                                                       base64(SHA-256(RawData + secret)),
//                                                       9001 CancelOnDisconnect
//   OrderQty (38)      contracts                        USD with QtyType(854)=0 "Units":
//                                                       contracts * contract value ($10 for
//                                                       BTC-PERPETUAL); reports (14/32/151,
//                                                       704/705) come back in contracts
//   post-only          ExecInst 6                       ExecInst 6
//   reduce-only        ExecInst E (Do not increase)     ExecInst E (Deribit documents E for
//                                                       reduce-only)
//   both               "6 E" (MultipleCharValue)        "6E" (Deribit writes its combined
//                                                       values unspaced, e.g. "6A")
//   cancel/replace     new ClOrdID(11) +                ClOrdID(11) = the order's own id, no
//                      OrigClOrdID(41) = current id     41 (Deribit's 41 is its own order id)
//   ExecutionReport    our id in 11 (or 41 for the      Deribit's id in 11, ours in 41: the
//                      cancel/replace it answers)       gateway looks up 11, then 41
//   cancel-all         OrderMassCancelRequest(q)        OrderMassCancelRequest(q) 530=7
//                      530=7, if the venue supports it
//                      (else one cancel per order)
//   positions          RequestForPositions(AN) with     AN with 710, 724=0, 263=0, 15 Currency
//                      715 and 60 (FIX 4.4 required)    (else every currency's positions come
//                                                       back); each AP entry carries RawData(96)
//                                                       inside the group; PosReqResult 0 with no
//                                                       entries = flat (documented: 0, 1, 99)
//   market order       no Price(44)                     Price(44) required on every D: the
//                                                       collar price (worst acceptable)
//   order status       OrderStatusRequest(H)            Order Mass Status Request(AF) by our
//                                                       ClOrdID (585=7, 9014=1, 55): H is not
//                                                       in Deribit's message list
//   fills              one report per fill              fills group 1362 unless 9015=Y at logon;
//                                                       the gateway sends 9015=Y (one report per
//                                                       fill, LastQty/LastPx, SecondaryExecID 527
//                                                       and no ExecID 17)
//   collateral         CollateralInquiry(BB) / BA       User Request(BE, 924=4) / User Response
//                                                       (BF, 100001 equity ... 100004 maintenance
//                                                       margin, BTC)
//
// Sources: docs.deribit.com/fix-api/production/{logon, new-order-single,
// execution-reports, request-for-positions, position-report,
// order-mass-status-request, user-request, user-response}.
//
// C++14, no QuickFIX types.

#include <cstdint>
#include <string>
#include <vector>

#include "synthusd/fix/credentials.hpp"

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {

enum class Dialect : std::uint8_t { generic, deribit };

// Every dialect, in declaration order (configuration messages list the valid
// names from here).
constexpr Dialect kDialects[] = {Dialect::generic, Dialect::deribit};

// The dialect's name in a configuration file: "generic" or "deribit".
const char* to_string(Dialect dialect);
// The dialect whose to_string() is `text`; false (out untouched) for anything else.
bool parse_dialect(const std::string& text, Dialect& out);

struct DialectRules {
  bool order_quantity_in_units = false;             // send QtyType(854)=0 and OrderQty in USD units
  bool amend_with_original_client_order_id = false; // F and G carry the order's own ClOrdID in 11
  bool exec_inst_values_unspaced = false;           // "6E" rather than "6 E"
  bool position_request_with_business_date = true;  // AN carries 715 ClearingBusinessDate and 60
  bool position_request_with_currency = false;      // AN carries Currency(15) (Deribit)
  bool empty_valid_position_report_is_flat = false; // PosReqResult 0 with no entries = flat (Deribit)
  bool position_report_is_whole_account = false;    // one AP lists every open position (Deribit)
  bool market_orders_carry_price = false;           // Price(44) on market orders too (Deribit: required)
  bool order_status_by_mass_status_request = false; // AF by ClOrdID instead of H (Deribit)
  bool collateral_by_user_request = false;          // BE/BF instead of BB/BA (Deribit)
};

DialectRules rules_for(Dialect dialect);

// ExecInst (18) for the flags, or "" when neither is set.
std::string exec_inst(Dialect dialect, bool post_only, bool reduce_only);

struct TagValue {
  int tag = 0;
  std::string value;
};

// The fields a dialect adds to every outbound Logon(A). timestamp_ms must be
// strictly increasing across logons for Deribit (the caller guarantees it).
// Deribit requires credentials (throws std::invalid_argument without them).
// Deribit also gets ReportFillsAsExecReports(9015)=Y: each fill its own
// ExecutionReport with LastQty/LastPx, rather than one report with a fills
// group. ConnectionOnlyExecutionReports(9010) is deliberately not sent: it
// would hide reports for orders sent on an earlier connection (an order in
// flight across a reconnect) and for orders placed outside this session.
std::vector<TagValue> logon_fields(Dialect dialect, const Credentials& credentials, std::int64_t timestamp_ms,
                                   bool cancel_on_disconnect);

} // namespace fix
} // namespace synthusd
