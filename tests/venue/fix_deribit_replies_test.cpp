// The simulator's deribit reply mode (fix.dialect = "deribit"): the shapes of
// the Deribit-shaped test venue (tests/fix/gateway_test_venue_deribit.cpp),
// one test per shape.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "synthusd/venue/fix_messages.hpp"

namespace {

using namespace synthusd::venue;

InboundMessage inbound(std::string type, std::vector<Field> fields) {
  InboundMessage message;
  message.client = "SYNTHUSD";
  message.msg_type = std::move(type);
  message.message_sequence_number = 9;
  message.fields = std::move(fields);
  return message;
}

std::string value(const std::vector<Field>& fields, int tag) {
  for (const Field& field : fields) {
    if (field.tag == tag) {
      return field.value;
    }
  }
  return "<absent>";
}

ExecutionEvent execution(ExecType type, OrderStatus status) {
  ExecutionEvent event;
  event.account = "SYNTHUSD";
  event.order_id = 42;
  event.execution_id = 7;
  event.client_order_id = "ours-1";
  event.symbol = "BTC-PERPETUAL";
  event.exec_type = type;
  event.status = status;
  event.side = Side::sell;
  event.price = Price{5'000'000'000'000};
  event.quantity = Contracts{10};
  return event;
}

ExecutionEvent trade() {
  ExecutionEvent event = execution(ExecType::trade, OrderStatus::partially_filled);
  event.last_quantity = Contracts{4};
  event.last_price = Price{5'000'050'000'000};
  event.cumulative_quantity = Contracts{4};
  event.leaves_quantity = Contracts{6};
  event.average_price = Price{5'000'050'000'000};
  event.filled_notional = static_cast<synthusd::hedging::int128>(4) * 5'000'050'000'000;
  return event;
}

TEST(VenueDeribitRepliesTest, AcknowledgementIsAnOrderStatusWithDeribitsIdIn11AndOursIn41AndNoExecId) {
  const OutboundMessage message = encode_deribit(execution(ExecType::new_order, OrderStatus::new_order), true);
  EXPECT_EQ(message.msg_type, "8");
  EXPECT_EQ(value(message.fields, 150), "I");
  EXPECT_EQ(value(message.fields, 39), "0");
  EXPECT_EQ(value(message.fields, 11), "42");
  EXPECT_EQ(value(message.fields, 41), "ours-1");
  EXPECT_EQ(value(message.fields, 17), "<absent>");
  EXPECT_EQ(value(message.fields, 527), "<absent>"); // "may be absent in case of status reports"
}

TEST(VenueDeribitRepliesTest, ChangesCarrySecondaryExecIdInsteadOfExecId) {
  const OutboundMessage message = encode_deribit(execution(ExecType::canceled, OrderStatus::canceled), true);
  EXPECT_EQ(value(message.fields, 150), "4");
  EXPECT_EQ(value(message.fields, 17), "<absent>");
  EXPECT_EQ(value(message.fields, 527), "42#7");
  // The textbook mode is unchanged.
  EXPECT_EQ(value(encode(Event{execution(ExecType::canceled, OrderStatus::canceled)}).fields, 17), "7");
}

TEST(VenueDeribitRepliesTest, FillIsItsOwnReportWithLastQtyAndLastPxWhenTheLogonAskedFor9015) {
  const OutboundMessage message = encode_deribit(trade(), true);
  EXPECT_EQ(value(message.fields, 150), "F");
  EXPECT_EQ(value(message.fields, 32), "4");
  EXPECT_EQ(value(message.fields, 31), "50000.5");
  EXPECT_EQ(value(message.fields, 527), "42#7");
  EXPECT_TRUE(message.groups.empty());
}

TEST(VenueDeribitRepliesTest, FillArrivesInTheFillsGroupWithout9015) {
  const OutboundMessage message = encode_deribit(trade(), false);
  EXPECT_EQ(value(message.fields, 32), "<absent>");
  EXPECT_EQ(value(message.fields, 31), "<absent>");
  EXPECT_EQ(value(message.fields, 14), "4");
  ASSERT_EQ(message.groups.size(), 1U);
  const FieldGroup& fills = message.groups.front();
  EXPECT_EQ(fills.count_tag, 1362);
  EXPECT_EQ(fills.order, (std::vector<int>{1363, 1364, 1365}));
  ASSERT_EQ(fills.entries.size(), 1U);
  EXPECT_EQ(value(fills.entries[0], 1363), "F7");
  EXPECT_EQ(value(fills.entries[0], 1364), "50000.5");
  EXPECT_EQ(value(fills.entries[0], 1365), "4");
}

// One ExecutionEvent per level, as the matching engine reports a sweep.
ExecutionEvent fill_of(OrderId order, std::int64_t quantity, std::int64_t price_e8, std::int64_t cumulative,
                       synthusd::hedging::int128 notional) {
  ExecutionEvent event = trade();
  event.order_id = order;
  event.last_quantity = Contracts{quantity};
  event.last_price = Price{price_e8};
  event.cumulative_quantity = Contracts{cumulative};
  event.filled_notional = notional;
  event.average_price = Price{static_cast<std::int64_t>(notional / cumulative)}; // the engine's plain mean
  return event;
}

TEST(VenueDeribitRepliesTest, AveragePriceOfAMultiLevelFillIsWeightedByAmountAsOnAnInverseInstrument) {
  // 1 contract at 40,000 and 1 at 60,000: $20 for 1/4,000 + 1/6,000 BTC,
  // so 48,000 (USD amount over BTC amount), not the plain mean 50,000.
  const synthusd::hedging::int128 first = 4'000'000'000'000;
  EXPECT_EQ(value(encode_deribit(Event{fill_of(51, 1, 4'000'000'000'000, 1, first)}, true).fields, 6), "40000");
  const ExecutionEvent second = fill_of(51, 1, 6'000'000'000'000, 2, first + 6'000'000'000'000);
  EXPECT_EQ(value(encode(Event{second}).fields, 6), "50000") << "the textbook mode keeps the plain mean";
  EXPECT_EQ(value(encode_deribit(Event{second}, true).fields, 6), "48000");
  // A later status report of the order carries the same average.
  ExecutionEvent status = execution(ExecType::order_status, OrderStatus::filled);
  status.order_id = 51;
  status.cumulative_quantity = Contracts{2};
  status.filled_notional = second.filled_notional;
  EXPECT_EQ(value(encode_deribit(Event{status}, true).fields, 6), "48000");
}

TEST(VenueDeribitRepliesTest, AveragePriceKeepsMoreThanEightDecimals) {
  // 2 contracts at 50,000 then 1 at 50,000.5: 3 / (2/50,000 + 1/50,000.5) =
  // 50,000.1666655555562..., 12 decimals (8 would round it away).
  const synthusd::hedging::int128 first = static_cast<synthusd::hedging::int128>(2) * 5'000'000'000'000;
  (void)encode_deribit(Event{fill_of(52, 2, 5'000'000'000'000, 2, first)}, false);
  const ExecutionEvent second = fill_of(52, 1, 5'000'050'000'000, 3, first + 5'000'050'000'000);
  EXPECT_EQ(value(encode_deribit(Event{second}, false).fields, 6), "50000.166665555562");
  EXPECT_EQ(value(encode_deribit(Event{execution(ExecType::new_order, OrderStatus::new_order)}, true).fields, 6), "0");
}

TEST(VenueDeribitRepliesTest, AFillWhoseEarlierFillsWereNotSeenFallsBackToThePlainMean) {
  // Order 53's first fill never went through this encoder: the BTC amount
  // of the order is unknown, so AvgPx is the plain mean, not a wrong harmonic.
  const ExecutionEvent second = fill_of(53, 1, 6'000'000'000'000, 2,
                                        static_cast<synthusd::hedging::int128>(4'000'000'000'000) + 6'000'000'000'000);
  EXPECT_EQ(value(encode_deribit(Event{second}, true).fields, 6), "50000");
}

PositionEvent position(std::int64_t contracts) {
  PositionEvent event;
  event.account = "SYNTHUSD";
  event.request_id = "p1";
  event.report_id = 3;
  event.symbol = "BTC-PERPETUAL";
  event.position = Contracts{contracts};
  event.entry_price = Price{5'000'000'000'000}; // 50,000
  event.mark_price = Price{4'000'000'000'000};  // 40,000
  event.contract_value = UsdCents{1'000};
  return event;
}

TEST(VenueDeribitRepliesTest, PositionEntryCarriesRawDataWithTheFloatingPnl) {
  const OutboundMessage message = encode_deribit(Event{position(-100)}, true);
  EXPECT_EQ(value(message.fields, 728), "0");
  ASSERT_EQ(message.groups.size(), 1U);
  const FieldGroup& group = message.groups.front();
  EXPECT_EQ(group.count_tag, 702);
  EXPECT_EQ(group.order.back(), 96);
  ASSERT_EQ(group.entries.size(), 1U);
  EXPECT_EQ(value(group.entries[0], 705), "100");
  // Short $1,000 from 50,000 to 40,000 gains 1000/40000 - 1000/50000 = 0.005 BTC.
  EXPECT_EQ(value(group.entries[0], 96), "0;0;0.005");
}

TEST(VenueDeribitRepliesTest, EachPositionEntryCarriesItsOwnFloatingPnl) {
  PositionEvent event = position(-100);
  // A dated future long $500 from 40,000, marked at 50,000: +0.0025 BTC.
  event.other_positions.push_back(
      {"BTC-27MAR26", Contracts{50}, Price{4'000'000'000'000}, Price{5'000'000'000'000}, UsdCents{1'000}});
  const OutboundMessage message = encode_deribit(Event{event}, true);
  ASSERT_EQ(message.groups.size(), 1U);
  const FieldGroup& group = message.groups.front();
  ASSERT_EQ(group.entries.size(), 2U);
  EXPECT_EQ(value(group.entries[0], 96), "0;0;0.005");
  EXPECT_EQ(value(group.entries[1], 55), "BTC-27MAR26");
  EXPECT_EQ(value(group.entries[1], 96), "0;0;0.0025");
}

TEST(VenueDeribitRepliesTest, FlatAccountIsPosReqResultZeroWithNoEntries) {
  const OutboundMessage message = encode_deribit(Event{position(0)}, true);
  EXPECT_EQ(value(message.fields, 728), "0");
  EXPECT_TRUE(message.groups.empty());
  EXPECT_EQ(value(message.fields, 702), "<absent>");
}

TEST(VenueDeribitRepliesTest, UserRequestIsAnsweredWithAUserResponse) {
  const Decoded decoded = decode_deribit(inbound("BE", {{923, "u1"}, {924, "4"}, {553, "SYNTHUSD"}}), EngineConfig{});
  ASSERT_TRUE(decoded.command);
  CollateralEvent event;
  event.account = "SYNTHUSD";
  event.inquiry_id = std::get<CollateralInquiry>(*decoded.command).inquiry_id;
  event.user_request = std::get<CollateralInquiry>(*decoded.command).user_request;
  event.equity = Sats{150'000'000};
  const OutboundMessage message = encode_deribit(Event{event}, true);
  EXPECT_EQ(message.msg_type, "BF");
  EXPECT_EQ(value(message.fields, 923), "u1");
  EXPECT_EQ(value(message.fields, 100001), "1.5");
}

TEST(VenueDeribitRepliesTest, MassStatusRequestByOurClOrdIdAsksForThatOrder) {
  const Decoded decoded =
      decode_deribit(inbound("AF", {{584, "ours-1"}, {585, "7"}, {9014, "1"}, {55, "BTC-PERPETUAL"}}), EngineConfig{});
  ASSERT_TRUE(decoded.command);
  const auto& request = std::get<StatusRequest>(*decoded.command);
  EXPECT_EQ(request.client_order_id, "ours-1");
  EXPECT_FALSE(request.all_open);
}

TEST(VenueDeribitRepliesTest, MassStatusRequestByOrderIdOrForAllOpenOrders) {
  Decoded decoded = decode_deribit(inbound("AF", {{584, "42"}, {585, "1"}}), EngineConfig{});
  ASSERT_TRUE(decoded.command);
  EXPECT_EQ(std::get<StatusRequest>(*decoded.command).order_id, 42U);
  decoded = decode_deribit(inbound("AF", {{584, "m1"}, {585, "7"}}), EngineConfig{});
  ASSERT_TRUE(decoded.command);
  EXPECT_TRUE(std::get<StatusRequest>(*decoded.command).all_open);
}

TEST(VenueDeribitRepliesTest, MalformedMassStatusRequestsAreRefusedWithReasons) {
  for (const InboundMessage& message :
       {inbound("AF", {{584, "x"}, {585, "1"}}), inbound("AF", {{584, "ours-1"}, {585, "7"}, {9014, "1"}}),
        inbound("AF", {{584, "m1"}, {585, "8"}})}) {
    const Decoded decoded = decode_deribit(message, EngineConfig{});
    ASSERT_TRUE(decoded.reject);
    EXPECT_EQ(decoded.reject->msg_type, "j");
    EXPECT_NE(value(decoded.reject->fields, 58), "<absent>");
  }
}

TEST(VenueDeribitRepliesTest, OrderStatusRequestIsRefusedAsUnsupported) {
  const Decoded decoded = decode_deribit(inbound("H", {{11, "ours-1"}, {55, "BTC-PERPETUAL"}}), EngineConfig{});
  ASSERT_TRUE(decoded.reject);
  EXPECT_EQ(decoded.reject->msg_type, "j");
  EXPECT_EQ(value(decoded.reject->fields, 380), "3");
  EXPECT_EQ(value(decoded.reject->fields, 372), "H");
  EXPECT_EQ(value(decoded.reject->fields, 45), "9");
}

TEST(VenueDeribitRepliesTest, TextbookModeStillRefusesMassStatusRequests) {
  const Decoded decoded = decode(inbound("AF", {{584, "42"}, {585, "1"}}), EngineConfig{});
  ASSERT_TRUE(decoded.reject);
  EXPECT_EQ(decoded.reject->msg_type, "j");
}

} // namespace
