// Position reports against the test venue: which answers say a configured
// instrument is flat. A venue lists open positions only (Deribit's AP, as its
// private/get_positions), so an instrument a complete answer leaves out has
// been closed there (liquidated, delivered, traded by hand); an answer known
// to be partial says nothing about the instruments it leaves out.

#include "gateway_end_to_end_test_support.hpp"

#include <string>

namespace synthusd::fix::testing {
namespace {

constexpr hedging::InstrumentId kFutureInstrument = 8;
constexpr char kFutureSymbol[] = "BTC-27MAR26";

class PositionReportTest : public GatewayEndToEndTest {
protected:
  // The test perpetual and a dated future, on one session.
  void start_with_future(TestVenueConfig venue, Dialect dialect) {
    start(venue, [dialect](GatewayConfig& config) {
      if (dialect == Dialect::deribit) {
        use_deribit_dialect(config);
      }
      hedging::InstrumentSpec future = deribit_test_perpetual();
      future.id = kFutureInstrument;
      future.symbol = kFutureSymbol;
      config.instruments.push_back(gateway_instrument(future, dialect));
    });
  }

  // Asks for positions and returns what the answer booked, in order.
  std::vector<hedging::PositionSnapshot> answer(std::size_t expected) {
    const std::size_t before = listener_.positions().size();
    EXPECT_EQ(gateway_->request_positions(), SubmitResult::sent);
    EXPECT_TRUE(poll_until(*gateway_, [&] { return listener_.positions().size() >= before + expected; }));
    // One report's positions are all booked in the one poll that reads it.
    const auto positions = listener_.positions();
    return {positions.begin() + static_cast<std::ptrdiff_t>(before), positions.end()};
  }

  static const hedging::PositionSnapshot* of(const std::vector<hedging::PositionSnapshot>& events,
                                             hedging::InstrumentId instrument) {
    for (const hedging::PositionSnapshot& event : events) {
      if (event.instrument == instrument) {
        return &event;
      }
    }
    return nullptr;
  }
};

TEST_F(PositionReportTest, deribit_books_an_instrument_its_report_leaves_out_as_flat) {
  start_with_future(deribit_test_venue(), Dialect::deribit);
  venue_->set_position(kTestSymbol, -30);
  venue_->set_position(kFutureSymbol, 12);
  auto booked = answer(2);
  ASSERT_EQ(booked.size(), 2U);
  EXPECT_EQ(of(booked, kTestInstrument)->position, hedging::Contracts{-30});

  // The perpetual is closed at the venue (a liquidation): the AP lists only
  // the future. The perpetual must read flat, not keep its -30.
  venue_->set_position(kTestSymbol, 0);
  booked = answer(2);
  ASSERT_EQ(booked.size(), 2U);
  ASSERT_NE(of(booked, kTestInstrument), nullptr) << "the perpetual left out of the report was not booked";
  EXPECT_EQ(of(booked, kTestInstrument)->position, hedging::Contracts{0});
  EXPECT_EQ(of(booked, kFutureInstrument)->position, hedging::Contracts{12});
  EXPECT_EQ(field(venue_->sent().back(), 35), "AP");
  EXPECT_EQ(venue_->sent().back().find(std::string("55=") + kTestSymbol), std::string::npos);
}

TEST_F(PositionReportTest, a_split_answer_flattens_what_none_of_its_reports_listed_once_all_have_come) {
  TestVenueConfig venue;
  venue.split_position_reports = true;
  start_with_future(venue, Dialect::generic);
  venue_->set_position(kTestSymbol, -30);
  venue_->set_position(kFutureSymbol, 12);
  auto booked = answer(2);
  ASSERT_EQ(booked.size(), 2U) << "two reports (727=2), each listing one instrument: nothing flattened";
  EXPECT_EQ(of(booked, kTestInstrument)->position, hedging::Contracts{-30});
  EXPECT_EQ(of(booked, kFutureInstrument)->position, hedging::Contracts{12});

  venue_->set_position(kTestSymbol, 0);
  booked = answer(2);
  ASSERT_EQ(booked.size(), 2U);
  ASSERT_NE(of(booked, kTestInstrument), nullptr);
  EXPECT_EQ(of(booked, kTestInstrument)->position, hedging::Contracts{0});
  EXPECT_EQ(of(booked, kFutureInstrument)->position, hedging::Contracts{12});
  EXPECT_EQ(field(venue_->sent().back(), 727), "1");
}

TEST_F(PositionReportTest, a_report_sent_twice_does_not_complete_a_split_answer_early) {
  // 727=2, the perpetual's report twice, then the future's: counted twice,
  // the answer would look complete before the future's report and book the
  // future flat, and the kernel would hedge it all again.
  TestVenueConfig venue;
  venue.split_position_reports = true;
  venue.repeat_first_position_report = true;
  start_with_future(venue, Dialect::generic);
  venue_->set_position(kTestSymbol, -30);
  venue_->set_position(kFutureSymbol, 12);
  const auto booked = answer(3);
  ASSERT_EQ(booked.size(), 3U);
  for (const hedging::PositionSnapshot& position : booked) {
    EXPECT_EQ(position.position, hedging::Contracts{position.instrument == kTestInstrument ? -30 : 12})
        << "instrument " << position.instrument;
  }
}

TEST_F(PositionReportTest, a_generic_report_without_a_count_says_nothing_of_what_it_leaves_out) {
  start_with_future(TestVenueConfig(), Dialect::generic);
  venue_->set_position(kTestSymbol, -30);
  venue_->set_position(kFutureSymbol, 12);
  ASSERT_EQ(answer(2).size(), 2U);
  venue_->set_position(kTestSymbol, 0);
  const auto booked = answer(1);
  ASSERT_EQ(booked.size(), 1U) << "FIX 4.4 reports one position per message: the rest may be in another";
  EXPECT_EQ(booked[0].instrument, kFutureInstrument);
}

} // namespace
} // namespace synthusd::fix::testing
