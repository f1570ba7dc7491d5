// The venue simulator's FIX dialect: inbound field lists to engine
// commands (and rejects), engine events to outbound field lists.

#include "synthusd/venue/fix_messages.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace synthusd::venue;

InboundMessage inbound(std::string type, std::vector<Field> fields) {
  InboundMessage message;
  message.client = "SYNTHUSD";
  message.msg_type = std::move(type);
  message.message_sequence_number = 7;
  message.fields = std::move(fields);
  return message;
}

std::string value(const OutboundMessage& message, int tag) {
  for (const Field& field : message.fields) {
    if (field.tag == tag) {
      return field.value;
    }
  }
  return "<absent>";
}

std::vector<int> tags(const std::vector<Field>& fields) {
  std::vector<int> result;
  result.reserve(fields.size());
  for (const Field& field : fields) {
    result.push_back(field.tag);
  }
  return result;
}

TEST(VenueFixMessagesTest, DecodesALimitOrderWithDeribitInstructions) {
  const Decoded decoded = decode(inbound("D", {{11, "c1"},
                                               {55, "BTC-PERPETUAL"},
                                               {54, "2"},
                                               {38, "25"},
                                               {40, "2"},
                                               {44, "43251.5"},
                                               {59, "1"},
                                               {18, "6AE"},
                                               {100010, "hedge"}}),
                                 EngineConfig{});
  ASSERT_TRUE(decoded.command);
  const auto& order = std::get<NewOrder>(*decoded.command);
  EXPECT_EQ(order.client_order_id, "c1");
  EXPECT_EQ(order.side, Side::sell);
  EXPECT_EQ(order.quantity, Contracts{25});
  EXPECT_EQ(order.type, OrderType::limit);
  EXPECT_EQ(order.price, Price{4'325'150'000'000});
  EXPECT_EQ(order.time_in_force, TimeInForce::good_till_cancel);
  EXPECT_TRUE(order.post_only);
  EXPECT_TRUE(order.reject_post_only);
  EXPECT_TRUE(order.reduce_only);
  EXPECT_EQ(order.label, "hedge");
}

TEST(VenueFixMessagesTest, QtyTypeUnitsMeansUsdInContractValueMultiples) {
  const EngineConfig config;
  Decoded decoded = decode(
      inbound("D", {{11, "c1"}, {55, "BTC-PERPETUAL"}, {54, "1"}, {38, "250"}, {854, "0"}, {40, "1"}, {59, "3"}}),
      config);
  ASSERT_TRUE(decoded.command);
  EXPECT_EQ(std::get<NewOrder>(*decoded.command).quantity, Contracts{25});
  EXPECT_EQ(std::get<NewOrder>(*decoded.command).time_in_force, TimeInForce::immediate_or_cancel);

  decoded =
      decode(inbound("D", {{11, "c1"}, {55, "BTC-PERPETUAL"}, {54, "1"}, {38, "255"}, {854, "0"}, {40, "1"}}), config);
  ASSERT_TRUE(decoded.reject);
  EXPECT_EQ(decoded.reject->msg_type, "8");
  EXPECT_EQ(value(*decoded.reject, 39), "8");
  EXPECT_EQ(value(*decoded.reject, 103), "13");
}

TEST(VenueFixMessagesTest, BadOrdersAreRejectedAgainstTheirClOrdId) {
  const EngineConfig config;
  Decoded decoded =
      decode(inbound("D", {{11, "c1"}, {55, "BTC-PERPETUAL"}, {54, "1"}, {38, "2.5"}, {40, "1"}}), config);
  ASSERT_TRUE(decoded.reject);
  EXPECT_EQ(value(*decoded.reject, 11), "c1");
  EXPECT_EQ(value(*decoded.reject, 37), "NONE");
  EXPECT_EQ(value(*decoded.reject, 150), "8");

  decoded = decode(inbound("D", {{11, "c1"}, {55, "BTC-PERPETUAL"}, {54, "1"}, {38, "1"}, {40, "3"}}), config);
  ASSERT_TRUE(decoded.reject);
  EXPECT_EQ(value(*decoded.reject, 103), "11");

  decoded = decode(inbound("D", {{11, "c1"}, {55, "BTC-PERPETUAL"}, {54, "1"}, {38, "1"}, {40, "2"}}), config);
  ASSERT_TRUE(decoded.reject); // limit without a price
}

TEST(VenueFixMessagesTest, UnidentifiableMessagesGetABusinessReject) {
  const Decoded decoded = decode(inbound("D", {{55, "BTC-PERPETUAL"}, {54, "1"}, {38, "1"}}), EngineConfig{});
  ASSERT_TRUE(decoded.reject);
  EXPECT_EQ(decoded.reject->msg_type, "j");
  EXPECT_EQ(value(*decoded.reject, 45), "7");
  EXPECT_EQ(value(*decoded.reject, 372), "D");
  EXPECT_EQ(value(*decoded.reject, 380), "5");
}

TEST(VenueFixMessagesTest, DecodesCancelReplaceMassCancelPositionsAndCollateral) {
  const EngineConfig config;
  Decoded decoded = decode(inbound("F", {{11, "c2"}, {41, "c1"}, {55, "BTC-PERPETUAL"}}), config);
  EXPECT_EQ(std::get<CancelOrder>(*decoded.command).original_client_order_id, "c1");

  decoded = decode(inbound("F", {{11, "c2"}, {37, "12"}}), config);
  EXPECT_EQ(std::get<CancelOrder>(*decoded.command).order_id, 12U);

  decoded = decode(inbound("F", {{11, "c2"}}), config);
  ASSERT_TRUE(decoded.reject);
  EXPECT_EQ(decoded.reject->msg_type, "9");
  EXPECT_EQ(value(*decoded.reject, 434), "1");

  decoded = decode(inbound("G", {{11, "c3"}, {41, "c1"}, {54, "1"}, {38, "30"}, {44, "40000"}}), config);
  const auto& replace = std::get<ReplaceOrder>(*decoded.command);
  EXPECT_EQ(replace.quantity, Contracts{30});
  EXPECT_EQ(replace.price, Price::from_dollars(40'000));

  decoded = decode(inbound("q", {{11, "m"}, {530, "1"}, {55, "BTC-PERPETUAL"}}), config);
  EXPECT_EQ(std::get<MassCancel>(*decoded.command).scope, MassCancelScope::symbol);
  decoded = decode(inbound("q", {{11, "m"}, {530, "10"}}), config);
  ASSERT_TRUE(decoded.reject);
  EXPECT_EQ(decoded.reject->msg_type, "r");
  EXPECT_EQ(value(*decoded.reject, 531), "0");

  decoded = decode(inbound("AN", {{710, "p"}, {724, "0"}, {263, "1"}}), config);
  EXPECT_EQ(std::get<PositionRequest>(*decoded.command).subscription, '1');
  decoded = decode(inbound("BB", {{909, "inq"}}), config);
  EXPECT_EQ(std::get<CollateralInquiry>(*decoded.command).inquiry_id, "inq");
  decoded = decode(inbound("H", {{11, "o1"}, {54, "2"}, {55, "BTC-PERPETUAL"}}), config);
  EXPECT_EQ(std::get<StatusRequest>(*decoded.command).client_order_id, "o1");
  EXPECT_EQ(std::get<StatusRequest>(*decoded.command).side, Side::sell);
  decoded = decode(inbound("H", {{54, "2"}}), config); // neither 11 nor 37
  ASSERT_TRUE(decoded.reject);
  EXPECT_EQ(decoded.reject->msg_type, "j");
}

TEST(VenueFixMessagesTest, EncodesAFillAsAnExecutionReport) {
  ExecutionEvent fill;
  fill.account = "SYNTHUSD";
  fill.order_id = 5;
  fill.execution_id = 9;
  fill.client_order_id = "c1";
  fill.symbol = "BTC-PERPETUAL";
  fill.exec_type = ExecType::trade;
  fill.status = OrderStatus::partially_filled;
  fill.side = Side::buy;
  fill.type = OrderType::limit;
  fill.price = Price::from_dollars(40'100);
  fill.quantity = Contracts{10};
  fill.last_quantity = Contracts{4};
  fill.last_price = Price{4'000'050'000'000};
  fill.cumulative_quantity = Contracts{4};
  fill.leaves_quantity = Contracts{6};
  fill.average_price = Price{4'000'050'000'000};
  fill.fee = Sats{50};
  fill.time = Timestamp{1'704'067'200LL * 1'000'000'000};
  const OutboundMessage message = encode(Event{fill});
  EXPECT_EQ(message.msg_type, "8");
  EXPECT_EQ(tags(message.fields), (std::vector<int>{37, 11, 17, 150, 39,  55,  54, 38,  40, 44, 59,
                                                    32, 31, 12, 13,  479, 851, 14, 151, 6,  60, 854}));
  EXPECT_EQ(value(message, 37), "5");
  EXPECT_EQ(value(message, 150), "F");
  EXPECT_EQ(value(message, 39), "1");
  EXPECT_EQ(value(message, 31), "40000.5");
  EXPECT_EQ(value(message, 32), "4");
  EXPECT_EQ(value(message, 12), "0.0000005");
  EXPECT_EQ(value(message, 851), "2");
  EXPECT_EQ(value(message, 60), "20240101-00:00:00.000");
  EXPECT_EQ(account_of(Event{fill}), "SYNTHUSD");
}

TEST(VenueFixMessagesTest, EncodesAPositionReportLikeDeribit) {
  PositionEvent position;
  position.account = "SYNTHUSD";
  position.request_id = "p1";
  position.report_id = 3;
  position.symbol = "BTC-PERPETUAL";
  position.position = Contracts{-40};
  position.entry_price = Price::from_dollars(50'000);
  position.mark_price = Price{4'000'050'000'000};
  position.contract_value = UsdCents{1'000};
  position.time = Timestamp{1'704'067'200LL * 1'000'000'000};
  const OutboundMessage message = encode(Event{position});
  EXPECT_EQ(message.msg_type, "AP");
  EXPECT_EQ(value(message, 721), "P3");
  EXPECT_EQ(value(message, 710), "p1");
  EXPECT_EQ(value(message, 728), "0");
  EXPECT_EQ(value(message, 715), "20240101");
  ASSERT_EQ(message.groups.size(), 1U);
  const FieldGroup& group = message.groups[0];
  EXPECT_EQ(group.count_tag, 702);
  EXPECT_EQ(group.order, (std::vector<int>{703, 704, 705, 55, 854, 231, 883, 54, 730}));
  ASSERT_EQ(group.entries.size(), 1U);
  const std::vector<Field>& entry = group.entries[0];
  EXPECT_EQ(tags(entry), group.order);
  EXPECT_EQ(entry[1].value, "0");       // 704 long
  EXPECT_EQ(entry[2].value, "40");      // 705 short
  EXPECT_EQ(entry[5].value, "10");      // 231 USD per contract
  EXPECT_EQ(entry[6].value, "40000.5"); // 883 mark
  EXPECT_EQ(entry[7].value, "2");       // 54
  EXPECT_EQ(entry[8].value, "50000");   // 730 entry
}

TEST(VenueFixMessagesTest, EncodesCollateralInBtc) {
  CollateralEvent report;
  report.account = "SYNTHUSD";
  report.inquiry_id = "inq";
  report.report_id = 4;
  report.balance = Sats{100'000'000};
  report.unrealised_pnl = Sats{-1'250};
  report.equity = Sats{99'998'750};
  report.initial_margin = Sats{400'000};
  report.maintenance_margin = Sats{200'000};
  report.available = Sats{99'598'750};
  const OutboundMessage message = encode(Event{report});
  EXPECT_EQ(message.msg_type, "BA");
  EXPECT_EQ(value(message, 908), "C4");
  EXPECT_EQ(value(message, 909), "inq");
  EXPECT_EQ(value(message, 15), "BTC");
  EXPECT_EQ(value(message, 900), "0.9999875");
  EXPECT_EQ(value(message, 901), "1");
  EXPECT_EQ(value(message, 899), "0.9959875");
  EXPECT_EQ(value(message, 9110), "0.004");
  EXPECT_EQ(value(message, 9112), "-0.0000125");
}

// Deribit's account equity over FIX: User Request (BE, 924=4) answered by a
// User Response (BF) with 100001..100004 (docs.deribit.com/fix-api/production/
// user-request, user-response); any other UserRequestType is refused.
TEST(VenueFixMessagesTest, AUserRequestForEquityIsAnsweredWithAUserResponse) {
  const EngineConfig config;
  Decoded decoded = decode(inbound("BE", {{923, "u1"}, {924, "4"}, {553, "client"}, {15, "BTC"}}), config);
  ASSERT_TRUE(decoded.command);
  const CollateralInquiry& inquiry = std::get<CollateralInquiry>(*decoded.command);
  EXPECT_EQ(inquiry.inquiry_id, "u1");
  EXPECT_TRUE(inquiry.user_request);
  decoded = decode(inbound("BE", {{923, "u2"}, {924, "1"}}), config); // a logon by message: not Deribit's
  ASSERT_TRUE(decoded.reject);
  EXPECT_EQ(decoded.reject->msg_type, "j");

  CollateralEvent report;
  report.account = "SYNTHUSD";
  report.inquiry_id = "u1";
  report.user_request = true;
  report.balance = Sats{100'000'000};
  report.equity = Sats{99'998'750};
  report.initial_margin = Sats{400'000};
  report.maintenance_margin = Sats{200'000};
  const OutboundMessage message = encode(Event{report});
  EXPECT_EQ(message.msg_type, "BF");
  EXPECT_EQ(value(message, 923), "u1");
  EXPECT_EQ(value(message, 15), "BTC");
  EXPECT_EQ(value(message, 100001), "0.9999875");
  EXPECT_EQ(value(message, 100002), "1");
  EXPECT_EQ(value(message, 100003), "0.004");
  EXPECT_EQ(value(message, 100004), "0.002");
  EXPECT_EQ(value(message, 900), "<absent>");
}

TEST(VenueFixMessagesTest, EncodesCancelRejectsAndMassCancelReports) {
  CancelRejectEvent reject;
  reject.client_order_id = "c2";
  reject.original_client_order_id = "c1";
  reject.replace = true;
  reject.reason = 1;
  OutboundMessage message = encode(Event{reject});
  EXPECT_EQ(message.msg_type, "9");
  EXPECT_EQ(value(message, 37), "NONE");
  EXPECT_EQ(value(message, 39), "8");
  EXPECT_EQ(value(message, 434), "2");
  EXPECT_EQ(value(message, 102), "1");

  MassCancelEvent mass;
  mass.client_order_id = "m";
  mass.report_id = 2;
  mass.affected_orders = 3;
  message = encode(Event{mass});
  EXPECT_EQ(message.msg_type, "r");
  EXPECT_EQ(value(message, 530), "7");
  EXPECT_EQ(value(message, 531), "7");
  EXPECT_EQ(value(message, 533), "3");
}

} // namespace
