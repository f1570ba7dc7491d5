#pragma once
// The venue's FIX 4.4 dialect: inbound messages (as flat field lists from
// fix_server.hpp) to engine commands, and engine events to outbound
// messages. Deribit-like where Deribit differs from plain FIX 4.4.
//
// Inbound
//   D  NewOrderSingle: 11, 55, 54 (1/2), 38 (contracts; USD when 854=0, a
//      multiple of the contract value), 40 (1 market, 2 limit), 44 (limit),
//      59 (0/1 good till cancel, 3 IOC, 4 FOK; default 1), 18 ExecInst
//      characters: 6 post-only, 6A post-only rejected instead of repriced,
//      E reduce-only. 100010 label is echoed.
//   F  OrderCancelRequest: 11, 41 (or 37).
//   G  OrderCancelReplaceRequest: 11, 41 (or 37), 54, 38 (new total), 44
//      (absent or 0: keep the price).
//   q  OrderMassCancelRequest: 11, 530 (1 symbol with 55, 5 security type,
//      7 all).
//   AN RequestForPositions: 710, 724 (0), 263 (0 snapshot, 1 subscribe:
//      a PositionReport after every fill and funding, 2 unsubscribe).
//   BB CollateralInquiry: 909 CollInquiryID.
//   BE User Request (Deribit's account equity): 923 UserRequestID, 924=4
//      (anything else is refused with a BusinessMessageReject), 553, 15.
// Outbound
//   8  ExecutionReport: 37 (NONE on rejects), 11, 41, 17, 150, 39, 55, 54,
//      38, 40, 44, 59, 18, 32/31 (trades), 14, 151, 6, 60 (simulated time),
//      103, 58, 12/13/479 (fee in BTC on trades), 851 (1 maker, 2 taker),
//      854=1, 100010.
//   9  OrderCancelReject: 37, 11, 41, 39, 434, 102, 58.
//   r  OrderMassCancelReport: 11, 37, 530, 531, 532, 533, 58; each
//      cancelled order also gets its own ExecutionReport (150=4).
//   AP PositionReport, as Deribit: 721, 710, 724, 728, 715, 325 (Y on
//      subscription updates), 58, and a 702 group with 703=TQ, 704 long,
//      705 short, 55, 854=1, 231 (USD per contract), 883 mark, 54, 730
//      average entry price. A flat account reports 704=0 and 705=0.
//   BA CollateralReport: 908 CollRptID, 909 (the inquiry's), 910=3, 1
//      (account), 15=BTC, 900
//      TotalNetValue = equity, 901 CashOutstanding = balance, 899
//      MarginExcess = equity - initial margin, 60, and custom tags 9110
//      initial margin, 9111 maintenance margin, 9112 unrealised P&L (BTC).
//   BF User Response (to BE, as Deribit): 923, 553 (account), 926=1, 15=BTC,
//      100001 equity, 100002 balance, 100003 initial margin, 100004
//      maintenance margin (BTC).
//   j  BusinessMessageReject for messages that cannot be decoded: 45, 372,
//      379, 380, 58.
//
// Deribit replies (fix.dialect = "deribit"; fix_deribit_replies.cpp), the
// shapes of the Deribit-shaped test venue (tests/fix/gateway_test_venue_deribit.cpp):
//   8  Deribit's order id in 11, ours in 41; no ExecID(17); SecondaryExecID
//      (527) on every change, absent on status reports; acknowledgements are
//      ExecType I; a trade carries a one-entry fills group (1362: 1363, 1364,
//      1365) without 31/32 unless the client's Logon had 9015=Y. AvgPx has 12
//      decimals (the mean fill price unrounded to 1e-12, not 1e-8).
//   AP each 702 entry carries RawData(96) "0;0;floating P/L" (margins are
//      account-wide, in BF); a flat account is 728=0 with no entries.
//   AF Order Mass Status Request: 585=1 (584 = OrderID), 585=7 with 9014=1
//      (584 = our ClOrdID, 55 required), 585=7 alone (every open order);
//      answered with one 150=I report per matching order.
//   H  refused with BusinessMessageReject 380=3 (not in Deribit's list).

#include <optional>
#include <variant>

#include "synthusd/venue/fix_server.hpp"
#include "synthusd/venue/matching_engine.hpp"

namespace synthusd::venue {

using Command =
    std::variant<NewOrder, CancelOrder, ReplaceOrder, MassCancel, PositionRequest, StatusRequest, CollateralInquiry>;

// Exactly one of command and reject is set.
struct Decoded {
  std::optional<Command> command;
  std::optional<OutboundMessage> reject;
};

[[nodiscard]] Decoded decode(const InboundMessage& message, const EngineConfig& config);

[[nodiscard]] OutboundMessage encode(const Event& event);

// The Deribit reply mode (above): AF and H, then decode().
[[nodiscard]] Decoded decode_deribit(const InboundMessage& message, const EngineConfig& config);
// encode(), reshaped; fills_as_reports: the client's Logon had 9015=Y.
[[nodiscard]] OutboundMessage encode_deribit(const Event& event, bool fills_as_reports);

// The account an event is for.
[[nodiscard]] const std::string& account_of(const Event& event);

} // namespace synthusd::venue
