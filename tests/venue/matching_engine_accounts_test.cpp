// The venue simulator's engine, accounts: accounting (P&L, fees, funding),
// margin and liquidation, reports, and determinism. Matching:
// venue_engine_test.cpp.

#include "matching_engine_test_support.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include "synthusd/venue/fix_messages.hpp"
#include "synthusd/venue/inverse.hpp"

namespace synthusd::venue::engine_test {
namespace {

// ---- accounting --------------------------------------------------------------------

TEST_F(VenueEngineTest, RoundTripRealisesTheInversePnl) {
  config.taker_fee = Ratio{};
  Engine engine = make(path({40'000, 39'990, 50'010}));
  engine.new_order(kAlice, limit("buy", Side::buy, 1'000, 40'000), events);
  engine.advance_to(at_second(1), events); // ask 39990.5 <= 40000: bought at 40000
  EXPECT_EQ(engine.account(kAlice).position, Contracts{1'000});
  EXPECT_EQ(engine.account(kAlice).entry_price, dollars(40'000));
  engine.new_order(kAlice, limit("sell", Side::sell, 1'000, 50'000), events);
  engine.advance_to(at_second(2), events); // bid 50010 >= 50000: sold at 50000
  const AccountState& alice = engine.account(kAlice);
  EXPECT_EQ(alice.position, Contracts{0});
  EXPECT_EQ(alice.entry_price, Price{});
  // $10000 * (1/40000 - 1/50000) = 0.05 BTC.
  EXPECT_EQ(alice.realised_pnl, Sats{5'000'000});
  EXPECT_EQ(alice.balance, Sats{105'000'000});
}

TEST_F(VenueEngineTest, PartialCloseKeepsTheEntryAndAFlipOpensAtTheFillPrice) {
  config.taker_fee = Ratio{};
  Engine engine = make(path({40'000, 50'000}));
  engine.new_order(kAlice, market("b", Side::buy, 100), events); // at 40000.5
  engine.advance_to(at_second(1), events);
  engine.new_order(kAlice, market("s1", Side::sell, 40), events); // at 50000
  EXPECT_EQ(engine.account(kAlice).position, Contracts{60});
  EXPECT_EQ(engine.account(kAlice).entry_price, dollars(40'000.5));
  EXPECT_EQ(engine.account(kAlice).realised_pnl,
            inverse_pnl(Contracts{40}, config.contract_value, dollars(40'000.5), dollars(50'000)));
  engine.new_order(kAlice, market("s2", Side::sell, 100), events);
  EXPECT_EQ(engine.account(kAlice).position, Contracts{-40});
  EXPECT_EQ(engine.account(kAlice).entry_price, dollars(50'000));
}

TEST_F(VenueEngineTest, FundingIsExchangedEveryEightHoursAtTheMark) {
  config.taker_fee = Ratio{};
  Engine engine = make(path({40'000}), FundingSchedule(Ratio{10'000})); // 0.01 % per 8 h
  engine.new_order(kAlice, market("long", Side::buy, 1'000), events);
  engine.new_order(kBob, market("short", Side::sell, 1'000), events);
  const Sats alice_before = engine.account(kAlice).balance;
  const Sats bob_before = engine.account(kBob).balance;

  engine.advance_to(Timestamp{kStart.nanoseconds + Duration::from_hours(8).nanoseconds - 1}, events);
  EXPECT_EQ(engine.account(kAlice).funding_paid, Sats{0});

  engine.advance_to(kStart + Duration::from_hours(8), events);
  // $10000 at 40000 = 0.25 BTC; * 0.0001 = 2500 sats from the long to the short.
  EXPECT_EQ(engine.account(kAlice).funding_paid, Sats{2'500});
  EXPECT_EQ(engine.account(kAlice).balance, alice_before - Sats{2'500});
  EXPECT_EQ(engine.account(kBob).funding_paid, Sats{-2'500});
  EXPECT_EQ(engine.account(kBob).balance, bob_before + Sats{2'500});

  engine.advance_to(kStart + Duration::from_hours(24), events);
  EXPECT_EQ(engine.account(kAlice).funding_paid, Sats{7'500});
}

TEST_F(VenueEngineTest, FundingFollowsTheScheduledRate) {
  config.taker_fee = Ratio{};
  FundingSchedule schedule(
      std::vector<FundingPoint>{{kStart, Ratio{10'000}}, {kStart + Duration::from_hours(10), Ratio{-20'000}}});
  Engine engine = make(path({40'000}), schedule);
  engine.new_order(kAlice, market("long", Side::buy, 1'000), events);
  engine.advance_to(kStart + Duration::from_hours(16), events);
  EXPECT_EQ(engine.account(kAlice).funding_paid, Sats{2'500 - 5'000});
  EXPECT_EQ(engine.quote().funding_rate, Ratio{-20'000});
}

// ---- collateral transfers ---------------------------------------------------------

TEST_F(VenueEngineTest, DepositAddsToTheBalanceAndWithdrawLeavesTheInitialMargin) {
  config.taker_fee = Ratio{};
  config.initial_collateral = Sats{0};
  config.initial_margin = Ratio::from_ppm(100'000); // I = 10 %
  Engine engine = make(path({40'000}));
  // Without collateral the order is refused; after a deposit it fits.
  engine.new_order(kAlice, market("early", Side::sell, 1'000), events);
  EXPECT_EQ(engine.account(kAlice).position, Contracts{0});
  engine.deposit(kAlice, Sats{10'000'000}, events); // 0.1 BTC
  engine.new_order(kAlice, market("short", Side::sell, 1'000), events);
  EXPECT_EQ(engine.account(kAlice).position, Contracts{-1'000});
  // $10000 at about 40000 = 0.25 BTC; I = 10 % keeps about 0.025 BTC.
  const Sats required =
      margin_requirement(Contracts{1'000}, config.contract_value, dollars(40'000), config.initial_margin);
  const Sats free = engine.equity(kAlice) - required;
  EXPECT_EQ(engine.withdraw(kAlice, Sats{100'000'000}, events), free) << "capped at what is free";
  EXPECT_EQ(engine.equity(kAlice), required);
  EXPECT_EQ(engine.withdraw(kAlice, Sats{1}, events), Sats{0});
  EXPECT_EQ(engine.withdraw(kAlice, Sats{-5}, events), Sats{0}) << "a negative amount moves nothing";
}

// ---- margin -------------------------------------------------------------------------

TEST_F(VenueEngineTest, OrdersBeyondTheInitialMarginAreRejected) {
  config.initial_collateral = Sats{1'000'000};      // 0.01 BTC
  config.initial_margin = Ratio::from_ppm(100'000); // I = 10 %
  config.liquidation_margin = Ratio::from_ppm(50'000);
  Engine engine = make(path({40'000}));
  // 400 contracts at 40000 = 0.1 BTC; at I that is exactly the 0.01 BTC of equity.
  engine.new_order(kAlice, limit("fits", Side::buy, 400, 39'000), events);
  EXPECT_EQ(executions(events).back().exec_type, ExecType::new_order);
  engine.new_order(kAlice, limit("over", Side::buy, 1, 39'000), events);
  EXPECT_EQ(executions(events).back().exec_type, ExecType::rejected);
  EXPECT_EQ(executions(events).back().reject_reason, RejectReason::exceeds_limit);
  // A sell does not raise the worst case (|0 + 400| vs |0 - 100|).
  engine.new_order(kAlice, limit("hedge", Side::sell, 100, 41'000), events);
  EXPECT_EQ(executions(events).back().exec_type, ExecType::new_order);
}

TEST_F(VenueEngineTest, LiquidatesWhenEquityFallsBelowPositionValueTimesL) {
  config.initial_collateral = Sats{1'000'000};         // 0.01 BTC
  config.initial_margin = Ratio::from_ppm(100'000);    // I = 10 %
  config.liquidation_margin = Ratio::from_ppm(50'000); // L = 5 %
  config.taker_fee = Ratio{};
  Engine engine = make(path({40'000, 18'100, 17'900}));
  engine.new_order(kAlice, market("long", Side::buy, 30), events); // $300 at 40000.5
  engine.new_order(kAlice, limit("open", Side::sell, 5, 60'000), events);

  engine.advance_to(at_second(1), events);
  // equity = 0.01 + 300/40000.5 - 300/18100 = 0.000925 BTC >= 300/18100 * 0.05 = 0.000829 BTC
  const Sats pnl_at_18100 = inverse_pnl(Contracts{30}, config.contract_value, dollars(40'000.5), dollars(18'100));
  EXPECT_EQ(engine.equity(kAlice), Sats{1'000'000} + pnl_at_18100);
  EXPECT_GE(engine.equity(kAlice),
            margin_requirement(Contracts{30}, config.contract_value, dollars(18'100), config.liquidation_margin));
  EXPECT_EQ(engine.account(kAlice).position, Contracts{30});
  EXPECT_EQ(engine.account(kAlice).liquidations, 0);

  events.clear();
  engine.advance_to(at_second(2), events);
  // equity = 0.000740 BTC < 300/17900 * 0.05 = 0.000838 BTC: closed at the mark.
  const AccountState& alice = engine.account(kAlice);
  EXPECT_EQ(alice.position, Contracts{0});
  EXPECT_EQ(alice.liquidations, 1);
  EXPECT_EQ(alice.balance,
            Sats{1'000'000} + inverse_pnl(Contracts{30}, config.contract_value, dollars(40'000.5), dollars(17'900)));
  const auto reports = executions(events);
  ASSERT_EQ(reports.size(), 2U);
  EXPECT_EQ(reports[0].exec_type, ExecType::canceled); // the open order goes first
  EXPECT_EQ(reports[1].exec_type, ExecType::trade);
  EXPECT_EQ(reports[1].side, Side::sell);
  EXPECT_EQ(reports[1].last_price, dollars(17'900));
  EXPECT_NE(reports[1].text.find("liquidation"), std::string::npos);
  EXPECT_EQ(engine.open_order_count(), 0U);
}

TEST_F(VenueEngineTest, AGapPastTheBankruptcyPriceLeavesEquityAtZeroAndTheInsuranceFundPays) {
  config.initial_collateral = Sats{1'000'000};         // 0.01 BTC
  config.initial_margin = Ratio::from_ppm(100'000);    // I = 10 %
  config.liquidation_margin = Ratio::from_ppm(50'000); // L = 5 %
  config.taker_fee = Ratio{};
  // A $3,000 short at 40,000 on 0.01 BTC; the price gaps to 50,000, past the
  // bankruptcy price: 3000/40000 - 3000/50000 = 0.015 BTC lost, 0.01 held.
  Engine engine = make(path({40'000, 50'000}));
  engine.new_order(kAlice, market("short", Side::sell, 300), events);
  events.clear();
  engine.advance_to(at_second(1), events);
  const AccountState& alice = engine.account(kAlice);
  EXPECT_EQ(alice.position, Contracts{0});
  EXPECT_EQ(alice.liquidations, 1);
  // Closed at the 50,000 mark: 0.01 - 0.015 BTC = -0.005 BTC, floored at 0.
  EXPECT_EQ(alice.realised_pnl, Sats{-1'500'000});
  EXPECT_EQ(alice.balance, Sats{0});
  EXPECT_EQ(engine.equity(kAlice), Sats{0});
  EXPECT_EQ(alice.insurance_fund_loss, Sats{500'000});
  const auto reports = executions(events);
  ASSERT_EQ(reports.size(), 1U);
  EXPECT_NE(reports[0].text.find("insurance fund"), std::string::npos) << reports[0].text;
  // The account trades again once collateral arrives.
  engine.deposit(kAlice, Sats{1'000'000}, events);
  EXPECT_EQ(engine.equity(kAlice), Sats{1'000'000});
}

TEST_F(VenueEngineTest, OpenOrdersThatNoLongerFitAreCancelledNewestFirst) {
  config.initial_collateral = Sats{1'000'000};
  config.initial_margin = Ratio::from_ppm(100'000);
  config.liquidation_margin = Ratio::from_ppm(50'000);
  Engine engine = make(path({40'000, 19'000}));
  engine.new_order(kAlice, limit("old", Side::sell, 100, 60'000), events);
  engine.new_order(kAlice, limit("mid", Side::sell, 100, 61'000), events);
  engine.new_order(kAlice, limit("new", Side::sell, 200, 62'000), events);
  EXPECT_EQ(engine.open_order_count(), 3U);
  events.clear();
  // 400 contracts at 19000 = 0.2105 BTC; * L = 0.0105 > 0.01 BTC of equity.
  // Cancel until the rest fits at I: without "new" 0.0105 still does not,
  // without "mid" too 0.0053 does.
  engine.advance_to(at_second(1), events);
  const auto reports = executions(events);
  ASSERT_EQ(reports.size(), 2U);
  EXPECT_EQ(reports[0].client_order_id, "new");
  EXPECT_EQ(reports[1].client_order_id, "mid");
  EXPECT_EQ(engine.open_order_count(), 1U);
}

// ---- reports -------------------------------------------------------------------------

TEST_F(VenueEngineTest, PositionSnapshotAndSubscriptionUpdates) {
  Engine engine = make(path({40'000}));
  engine.new_order(kAlice, market("b", Side::buy, 100), events);
  events.clear();
  engine.request_positions(kAlice, PositionRequest{"pos1", 0, '1'}, events);
  auto positions = only<PositionEvent>(events);
  ASSERT_EQ(positions.size(), 1U);
  EXPECT_EQ(positions[0].request_id, "pos1");
  EXPECT_EQ(positions[0].position, Contracts{100});
  EXPECT_EQ(positions[0].entry_price, dollars(40'000.5));
  EXPECT_EQ(positions[0].mark_price, dollars(40'000));
  EXPECT_FALSE(positions[0].unsolicited);

  events.clear();
  engine.new_order(kAlice, market("s", Side::sell, 30), events);
  positions = only<PositionEvent>(events);
  ASSERT_EQ(positions.size(), 1U);
  EXPECT_TRUE(positions[0].unsolicited);
  EXPECT_EQ(positions[0].position, Contracts{70});

  events.clear();
  engine.request_positions(kAlice, PositionRequest{"pos2", 0, '2'}, events);
  engine.new_order(kAlice, market("s2", Side::sell, 30), events);
  EXPECT_EQ(only<PositionEvent>(events).size(), 1U); // the answer to pos2 only

  events.clear();
  engine.request_positions(kAlice, PositionRequest{"bad", 1, '0'}, events);
  EXPECT_FALSE(only<PositionEvent>(events).at(0).valid_request);
}

TEST_F(VenueEngineTest, CollateralReportAddsUpToEquity) {
  config.taker_fee = Ratio{};
  Engine engine = make(path({40'000, 50'000}));
  engine.new_order(kAlice, limit("b", Side::buy, 1'000, 40'000.5), events); // takes the ask
  engine.advance_to(at_second(1), events);
  engine.new_order(kAlice, limit("s", Side::sell, 100, 60'000), events);
  events.clear();
  engine.inquire_collateral(kAlice, CollateralInquiry{"inq"}, events);
  const auto reports = only<CollateralEvent>(events);
  ASSERT_EQ(reports.size(), 1U);
  const CollateralEvent& report = reports[0];
  EXPECT_EQ(report.inquiry_id, "inq");
  EXPECT_EQ(report.balance, Sats{100'000'000});
  EXPECT_EQ(report.unrealised_pnl,
            inverse_pnl(Contracts{1'000}, config.contract_value, dollars(40'000.5), dollars(50'000)));
  EXPECT_EQ(report.equity, report.balance + report.unrealised_pnl);
  // The worst case is the long 1000 (the sell only reduces it): 0.2 BTC * 2 %.
  EXPECT_EQ(report.initial_margin, Sats{400'000});
  EXPECT_EQ(report.maintenance_margin, Sats{200'000});
  EXPECT_EQ(report.available, report.equity - report.initial_margin);
}

// ---- determinism -----------------------------------------------------------------------

// A scripted session against a seeded GBM path: the encoded FIX messages.
std::vector<std::string> scripted_session(std::uint64_t seed) {
  PricePathConfig gbm;
  gbm.start = Price::from_dollars(60'000);
  gbm.start_time = kStart;
  gbm.step = Duration::from_seconds(1);
  gbm.steps = 20'000;
  gbm.seed = seed;
  EngineConfig config;
  config.touch_size = Contracts{500};
  config.fill_slices = 2;
  Engine engine(config, synthusd::hedging::generate_price_path(gbm), FundingSchedule(Ratio{10'000}));
  std::vector<Event> events;
  std::vector<std::string> wire;
  for (std::int64_t i = 0; i < 400; ++i) {
    engine.advance_to(at_second(i * 37), events);
    const std::string id = "o" + std::to_string(i);
    const std::string_view account = i % 3 == 0 ? kBob : kAlice;
    const Side side = i % 2 == 0 ? Side::buy : Side::sell;
    const Price mark = engine.quote().mark;
    const std::int64_t offset = (i % 7 - 3) * 50; // dollars from the mark
    const std::int64_t tick = 50'000'000;
    const std::int64_t on_tick = mark.raw - mark.raw % tick;
    const double price = static_cast<double>(on_tick + offset * Price::kScale) / 1e8;
    switch (i % 5) {
    case 0:
      engine.new_order(account, market(id, side, 1 + i % 40), events);
      break;
    case 1:
    case 2:
      engine.new_order(account, limit(id, side, 10 + i % 90, price), events);
      break;
    case 3:
      engine.new_order(account, limit(id, side, 5, price, TimeInForce::immediate_or_cancel), events);
      break;
    default:
      engine.cancel_order(account, CancelOrder{"c" + id, "o" + std::to_string(i - 3), 0, ""}, events);
      break;
    }
  }
  engine.advance_to(at_second(20'000), events);
  for (const Event& event : events) {
    const OutboundMessage message = encode(event);
    std::string text = account_of(event) + " " + message.msg_type;
    for (const Field& field : message.fields) {
      text += "|" + std::to_string(field.tag) + "=" + field.value;
    }
    wire.push_back(std::move(text));
  }
  return wire;
}

TEST_F(VenueEngineTest, SameSeedAndSameOrdersGiveTheSameFills) {
  const std::vector<std::string> first = scripted_session(42);
  const std::vector<std::string> second = scripted_session(42);
  ASSERT_GT(first.size(), 400U);
  EXPECT_EQ(first, second);
  std::size_t trades = 0;
  for (const std::string& line : first) {
    trades += line.find("|150=F|") != std::string::npos ? 1 : 0;
  }
  EXPECT_GT(trades, 50U);
  EXPECT_NE(first, scripted_session(43));
}

} // namespace
} // namespace synthusd::venue::engine_test

namespace synthusd::venue::engine_test {
namespace {

// ---- order status requests (H) -------------------------------------------------

// A status request answers ExecType I for an order that is open, for one that
// is done (its last report, no new fill), and OrdStatus 8 with OrdRejReason 5
// for an id the venue never saw: that is how a client resolves an order it
// gap-filled instead of re-sending.
TEST_F(VenueEngineTest, StatusRequestAnswersOpenDoneAndUnknownOrders) {
  Engine engine = make(path({40'000}));
  engine.new_order(kAlice, limit("rest", Side::buy, 10, 39'000), events);
  engine.new_order(kAlice, market("done", Side::sell, 4), events);
  events.clear();

  const auto status_of = [](std::string id) {
    StatusRequest request;
    request.client_order_id = std::move(id);
    request.symbol = "BTC-PERPETUAL";
    return request;
  };
  engine.order_status(kAlice, status_of("rest"), events);
  engine.order_status(kAlice, status_of("done"), events);
  engine.order_status(kAlice, status_of("never"), events);
  engine.order_status(kBob, status_of("done"), events); // another account's id
  const auto reports = executions(events);
  ASSERT_EQ(reports.size(), 4U);
  for (const ExecutionEvent& report : reports) {
    EXPECT_EQ(report.exec_type, ExecType::order_status);
  }
  EXPECT_EQ(reports[0].status, OrderStatus::new_order);
  EXPECT_EQ(reports[0].leaves_quantity, Contracts{10});
  EXPECT_EQ(reports[1].status, OrderStatus::filled);
  EXPECT_EQ(reports[1].cumulative_quantity, Contracts{4});
  EXPECT_EQ(reports[1].last_quantity, Contracts{0}); // a status books no fill
  EXPECT_EQ(reports[2].status, OrderStatus::rejected);
  EXPECT_EQ(reports[2].reject_reason, RejectReason::unknown_order);
  EXPECT_EQ(reports[2].client_order_id, "never");
  EXPECT_EQ(reports[3].status, OrderStatus::rejected);
  EXPECT_NE(reports[0].execution_id, reports[1].execution_id);
}

// Deribit's AF 585=7 without 9014: one status report per open order of the
// asking account, and none for done orders or another account's.
TEST_F(VenueEngineTest, StatusRequestForAllOpenOrdersReportsEachOpenOrderOfTheAccount) {
  Engine engine = make(path({40'000}));
  engine.new_order(kAlice, limit("rest-1", Side::buy, 10, 39'000), events);
  engine.new_order(kAlice, limit("rest-2", Side::buy, 5, 38'000), events);
  engine.new_order(kAlice, market("done", Side::sell, 4), events);
  engine.new_order(kBob, limit("bobs", Side::buy, 3, 39'000), events);
  events.clear();

  StatusRequest request;
  request.all_open = true;
  engine.order_status(kAlice, request, events);
  const auto reports = executions(events);
  ASSERT_EQ(reports.size(), 2U);
  EXPECT_EQ(reports[0].client_order_id, "rest-1");
  EXPECT_EQ(reports[1].client_order_id, "rest-2");
  for (const ExecutionEvent& report : reports) {
    EXPECT_EQ(report.exec_type, ExecType::order_status);
    EXPECT_EQ(report.status, OrderStatus::new_order);
  }
}

} // namespace
} // namespace synthusd::venue::engine_test
