// Dated futures in the venue simulator: the premium path that converges to
// the index at expiry, delivery (settle) closing positions at the delivery
// price and refusing orders afterwards, id ranges per book, the futures
// settings, and the market data that lists and publishes them.

#include "synthusd/venue/dated_futures.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "matching_engine_test_support.hpp"
#include "synthusd/venue/fix_messages.hpp"
#include "synthusd/venue/inverse.hpp"
#include "synthusd/venue/ticker_feed.hpp"
#include "synthusd/venue/venue_config.hpp"

namespace {

using namespace synthusd::venue;
using namespace synthusd::venue::engine_test;
using synthusd::hedging::kYear;

TEST(VenueDatedFuturesTest, ThePremiumDecaysLinearlyToTheIndexAtExpiry) {
  const std::vector<PricePoint> index = path({60'000, 60'000, 61'000, 62'000, 63'000});
  // A 10 % annual basis, expiring between the third and fourth points.
  const Timestamp expiry{at_second(2).nanoseconds + kSecond / 2};
  const std::vector<PricePoint> future = future_price_path(index, expiry, Ratio::from_ppm(100'000));
  ASSERT_EQ(future.size(), 4U);
  // 60,000 * 0.1 * 2.5 s / 365 d, in 1e-8 dollars, rounded half to even.
  const std::int64_t premium = static_cast<std::int64_t>(
      (static_cast<__int128>(dollars(60'000).raw) * 10'000'000 * (expiry - at_second(0)).nanoseconds +
       static_cast<__int128>(Ratio::kScale) * kYear.nanoseconds / 2) /
      (static_cast<__int128>(Ratio::kScale) * kYear.nanoseconds));
  EXPECT_EQ(future[0].price.raw, dollars(60'000).raw + premium);
  EXPECT_GT(future[0].price, future[1].price); // less time left, less premium
  EXPECT_GT(future[2].price, dollars(61'000)); // still above the index
  EXPECT_EQ(future[3].time, expiry);           // the delivery point ...
  EXPECT_EQ(future[3].price, dollars(61'000)); // ... at the index in force
  EXPECT_THROW((void)future_price_path(index, at_second(0), Ratio{}), std::invalid_argument);
}

TEST(VenueDatedFuturesTest, EachBookHasItsOwnNameExpiryAndIdRange) {
  EngineConfig perpetual;
  const std::vector<FutureSettings> settings{{"BTC-5DEC26", Duration::from_seconds(30), Ratio::from_ppm(500'000)},
                                             {"BTC-6DEC26", Duration::from_seconds(600), Ratio::from_ppm(300'000)}};
  std::vector<PricePoint> index = path({60'000, 60'000, 60'000});
  std::vector<DatedFuture> books = make_dated_futures(perpetual, settings, index);
  ASSERT_EQ(books.size(), 2U);
  EXPECT_EQ(books[0].name, "BTC-5DEC26");
  EXPECT_EQ(books[0].expiry, at_second(30));
  EXPECT_EQ(books[1].expiry, at_second(600));
  EXPECT_EQ(books[1].engine.config().symbol, "BTC-6DEC26");
  // Above the index by basis * time left: 50 % over 30 s < 30 % over 600 s.
  EXPECT_GT(books[0].engine.quote().mark, dollars(60'000));
  EXPECT_GT(books[1].engine.quote().mark, books[0].engine.quote().mark);

  // OrderIDs and ExecIDs never repeat across the books.
  std::vector<Event> events;
  NewOrder order = market("f1", Side::sell, 10);
  order.symbol = "BTC-5DEC26";
  books[0].engine.new_order(kAlice, order, events);
  order.symbol = "BTC-6DEC26";
  books[1].engine.new_order(kAlice, order, events);
  const std::vector<ExecutionEvent> reports = executions(events);
  ASSERT_GE(reports.size(), 4U);
  EXPECT_EQ(reports.front().order_id, kBookIdentifierSpan + 1);
  EXPECT_EQ(reports.back().order_id, 2 * kBookIdentifierSpan + 1);
  EXPECT_GT(reports.back().execution_id, 2 * kBookIdentifierSpan);
}

class VenueSettlementTest : public VenueEngineTest {};

TEST_F(VenueSettlementTest, DeliveryClosesPositionsAtTheDeliveryPriceCancelsOrdersAndRefusesNewOnes) {
  config.symbol = "BTC-5DEC26";
  Engine engine = make(path({60'000, 60'000}));
  NewOrder sell = market("short", Side::sell, 600); // $6,000 short
  sell.symbol = "BTC-5DEC26";
  engine.new_order(kAlice, sell, events);
  NewOrder resting = limit("resting", Side::buy, 5, 50'000);
  resting.symbol = "BTC-5DEC26";
  engine.new_order(kAlice, resting, events);
  PositionRequest subscribe;
  subscribe.request_id = "positions";
  subscribe.subscription = '1';
  engine.request_positions(kAlice, subscribe, events);
  const AccountState before = engine.account(kAlice);
  ASSERT_EQ(before.position, Contracts{-600});
  events.clear();

  const Price delivery = dollars(50'000); // the short gains as the price fell
  engine.settle(delivery, events);
  const AccountState& after = engine.account(kAlice);
  EXPECT_TRUE(after.position.is_zero());
  const Sats gain = inverse_pnl(Contracts{-600}, config.contract_value, before.entry_price, delivery);
  EXPECT_GT(gain.value, 0);
  EXPECT_EQ(after.balance, before.balance + gain); // no fee on delivery
  EXPECT_EQ(engine.open_order_count(), 0U);
  const std::vector<ExecutionEvent> cancels = executions(events);
  ASSERT_EQ(cancels.size(), 1U);
  EXPECT_EQ(cancels[0].exec_type, ExecType::canceled);
  EXPECT_EQ(cancels[0].text, "instrument expired");
  const std::vector<PositionEvent> positions = only<PositionEvent>(events);
  ASSERT_EQ(positions.size(), 1U);
  EXPECT_TRUE(positions[0].position.is_zero());
  EXPECT_TRUE(engine.settled());

  events.clear();
  NewOrder late = market("late", Side::sell, 1);
  late.symbol = "BTC-5DEC26";
  engine.new_order(kAlice, late, events);
  const std::vector<ExecutionEvent> rejected = executions(events);
  ASSERT_EQ(rejected.size(), 1U);
  EXPECT_EQ(rejected[0].exec_type, ExecType::rejected);
  EXPECT_EQ(rejected[0].text, "instrument expired: settled at delivery");
}

// Several books, one account: one PositionReport with an entry per
// instrument, in both dialects (Deribit reads a report without entries as
// flat everywhere, so the runtime leads with an open position).
TEST(VenueDatedFuturesTest, APositionReportCarriesAnEntryPerInstrument) {
  PositionEvent event;
  event.account = "SYNTHUSD";
  event.request_id = "p1";
  event.symbol = "BTC-6DEC26";
  event.position = Contracts{-700};
  event.entry_price = dollars(60'010);
  event.mark_price = dollars(60'020);
  event.contract_value = UsdCents{1'000};
  event.other_positions = {{"BTC-PERPETUAL", Contracts{0}, Price{}, dollars(60'000), UsdCents{1'000}},
                           {"BTC-5DEC26", Contracts{-5}, dollars(60'001), dollars(60'002), UsdCents{1'000}}};
  for (const OutboundMessage& message : {encode(Event{event}), encode_deribit(Event{event}, false)}) {
    ASSERT_EQ(message.groups.size(), 1U);
    const std::vector<std::vector<Field>>& entries = message.groups[0].entries;
    ASSERT_EQ(entries.size(), 3U);
    std::vector<std::string> symbols;
    std::vector<std::string> shorts;
    for (const std::vector<Field>& entry : entries) {
      for (const Field& field : entry) {
        if (field.tag == 55) {
          symbols.push_back(field.value);
        } else if (field.tag == 705) {
          shorts.push_back(field.value);
        }
      }
    }
    EXPECT_EQ(symbols, (std::vector<std::string>{"BTC-6DEC26", "BTC-PERPETUAL", "BTC-5DEC26"}));
    EXPECT_EQ(shorts, (std::vector<std::string>{"700", "0", "5"}));
  }
}

TEST(VenueDatedFuturesConfigTest, ThreeParallelListsNameEachFuture) {
  const VenueConfig config = make_config({{"futures.names", "BTC-5DEC26,BTC-6DEC26"},
                                          {"futures.expiry_seconds", "30,600"},
                                          {"futures.annual_basis", "0.5,0.3"}});
  ASSERT_EQ(config.futures.size(), 2U);
  EXPECT_EQ(config.futures[1].name, "BTC-6DEC26");
  EXPECT_EQ(config.futures[0].expires_after, Duration::from_seconds(30));
  EXPECT_EQ(config.futures[1].annual_basis, Ratio::from_ppm(300'000));
  EXPECT_TRUE(make_config({}).futures.empty());
}

TEST(VenueDatedFuturesConfigTest, MismatchedOrUnboundedListsAreRefusedWithAReason) {
  EXPECT_THROW((void)make_config({{"futures.names", "BTC-5DEC26"}}), ConfigError); // no expiry
  EXPECT_THROW((void)make_config({{"futures.names", "BTC-5DEC26"}, {"futures.expiry_seconds", "30,60"}}), ConfigError);
  EXPECT_THROW((void)make_config({{"futures.names", "BTC-5DEC26"}, {"futures.expiry_seconds", "0"}}), ConfigError);
  EXPECT_THROW((void)make_config({{"futures.names", "BTC-5DEC26,BTC-5DEC26"}, {"futures.expiry_seconds", "1,2"}}),
               ConfigError);
  EXPECT_THROW((void)make_config({{"futures.names", "BTC-PERPETUAL"}, {"futures.expiry_seconds", "30"}}), ConfigError);
  EXPECT_THROW((void)make_config({{"futures.names", std::string(32, 'B')}, {"futures.expiry_seconds", "30"}}),
               ConfigError);
  EXPECT_THROW((void)make_config(
                   {{"futures.names", "BTC-5DEC26"}, {"futures.expiry_seconds", "30"}, {"futures.annual_basis", "2"}}),
               ConfigError);
  EXPECT_THROW(
      (void)make_config({{"futures.names", "A,B,C,D,E,F,G,H,I"}, {"futures.expiry_seconds", "1,2,3,4,5,6,7,8,9"}}),
      ConfigError);
}

TickerSnapshot snapshot(std::string_view name, std::int64_t expiration_ms) {
  TickerSnapshot snapshot;
  snapshot.instrument = name;
  snapshot.expiration_ms = expiration_ms;
  snapshot.quote.index = dollars(60'000);
  snapshot.quote.mark = dollars(60'001);
  snapshot.quote.bid = dollars(60'000.5);
  snapshot.quote.ask = dollars(60'001);
  snapshot.quote.funding_rate = Ratio{10'000};
  snapshot.contract_value = UsdCents{1'000};
  snapshot.tick_size = Price::from_cents(50);
  return snapshot;
}

TEST(VenueDatedFuturesMarketDataTest, InstrumentsListTheFutureWithItsExpiryAndItsTickerHasNoFunding) {
  const std::vector<TickerSnapshot> served{snapshot("BTC-PERPETUAL", 0), snapshot("BTC-5DEC26", 1'796'442'139'899)};
  const std::string listed = instruments_json(served);
  EXPECT_NE(listed.find(R"("instrument_name":"BTC-PERPETUAL","kind":"future","instrument_type":"reversed",)"
                        R"("settlement_period":"perpetual","expiration_timestamp":32503708800000)"),
            std::string::npos)
      << listed;
  EXPECT_NE(listed.find(R"("instrument_name":"BTC-5DEC26","kind":"future","instrument_type":"reversed",)"
                        R"("settlement_period":"month","expiration_timestamp":1796442139899,"is_active":true)"),
            std::string::npos)
      << listed;
  EXPECT_EQ(ticker_json(served[1]).find("funding"), std::string::npos);
  EXPECT_NE(ticker_json(served[0]).find(R"("funding_8h":0.0001)"), std::string::npos);
}

TEST(VenueDatedFuturesMarketDataTest, EachChannelGetsItsOwnInstrumentsTickerAndAnExpiredOneIsNotListed) {
  TickerFeed feed(std::vector<std::string>{"BTC-PERPETUAL", "BTC-5DEC26"});
  const std::vector<TickerSnapshot> served{snapshot("BTC-PERPETUAL", 0), snapshot("BTC-5DEC26", 1'796'442'139'899)};
  std::vector<WebSocketMessage> out;
  feed.on_message({1, R"({"jsonrpc":"2.0","id":1,"method":"public/subscribe","params":{"channels":)"
                      R"(["ticker.BTC-5DEC26.100ms","ticker.BTC-6DEC26.100ms"]}})"},
                  served, 0, out);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_NE(out[0].text.find(R"("result":["ticker.BTC-5DEC26.100ms"])"), std::string::npos) << out[0].text;
  out.clear();
  feed.publish(served[0], out); // nobody asked for the perpetual
  EXPECT_TRUE(out.empty());
  feed.publish(served[1], out);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_NE(out[0].text.find(R"("instrument_name":"BTC-5DEC26")"), std::string::npos);

  // Once settled, the runtime leaves the future out: not listed, no ticker.
  out.clear();
  const std::vector<TickerSnapshot> after{served[0]};
  feed.on_message({1, R"({"jsonrpc":"2.0","id":2,"method":"public/get_instruments","params":{"currency":"BTC"}})"},
                  after, 0, out);
  feed.on_message({1, R"({"jsonrpc":"2.0","id":3,"method":"public/ticker","params":{"instrument_name":"BTC-5DEC26"}})"},
                  after, 0, out);
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(out[0].text.find("BTC-5DEC26"), std::string::npos) << out[0].text;
  EXPECT_NE(out[1].text.find("unknown instrument_name"), std::string::npos) << out[1].text;
}

} // namespace
