// synthusd backtest on dated futures: Deribit's weeklies listed over the
// path (backtest_futures.hpp), rolled by the kernel before expiry, delivered
// by the venue model at expiry, their premium's decay kept apart from the
// hedge error as carry.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "backtest/backtest_books.hpp"
#include "backtest_test_support.hpp"
#include "synthusd/engine/backtest_futures.hpp"

namespace synthusd::engine {
namespace {

using hedging::Duration;
using hedging::InstrumentKind;
using hedging::Ratio;
using hedging::Timestamp;

bool has_marker(const PolicyResult& result, const std::string& kind, const std::string& text) {
  return std::any_of(result.markers.begin(), result.markers.end(), [&](const BacktestMarker& marker) {
    return marker.kind == kind && marker.text.find(text) != std::string::npos;
  });
}

BacktestInputs crash_on(HedgeInstruments instruments, std::uint64_t seed, Ratio basis) {
  BacktestInputs inputs = crash_inputs(seed);
  inputs.future_annual_basis = basis;
  add_weekly_futures(inputs.kernel, inputs.path.front().time, inputs.path.back().time, instruments);
  return inputs;
}

TEST(BacktestFutures, weeklies_are_listed_from_the_first_friday_after_the_start) {
  hedging::KernelConfig config = load_config(SYNTHUSD_SOURCE_DIR "/config/backtest.toml").kernel;
  const Timestamp start{1'583'992'800'000'000'000}; // 2020-03-12 06:00 UTC, a Thursday
  add_weekly_futures(config, start, start + Duration::from_hours(10), HedgeInstruments::carry);
  ASSERT_EQ(config.instruments.size(), 4U);
  EXPECT_EQ(config.instruments[0].kind, InstrumentKind::inverse_perpetual);
  EXPECT_EQ(config.instruments[1].symbol.view(), "BTC-13MAR20");
  EXPECT_EQ(config.instruments[1].expiry, Timestamp{1'584'086'400'000'000'000}); // Friday 08:00 UTC
  EXPECT_EQ(config.instruments[2].symbol.view(), "BTC-20MAR20");
  EXPECT_EQ(config.instruments[3].symbol.view(), "BTC-27MAR20");
  for (std::size_t i = 1; i < config.instruments.size(); ++i) {
    EXPECT_EQ(config.instruments[i].kind, InstrumentKind::inverse_future);
    EXPECT_EQ(config.instruments[i].id, config.instruments[0].id + i);
    EXPECT_EQ(config.instruments[i].contract_value, config.instruments[0].contract_value);
  }

  hedging::KernelConfig replaced = load_config(SYNTHUSD_SOURCE_DIR "/config/backtest.toml").kernel;
  add_weekly_futures(replaced, start, start + Duration::from_hours(24 * 15), HedgeInstruments::futures);
  ASSERT_EQ(replaced.instruments.size(), 5U) << "two weeks spanned, plus three";
  EXPECT_TRUE(std::none_of(replaced.instruments.begin(), replaced.instruments.end(),
                           [](const hedging::InstrumentSpec& spec) { return hedging::is_perpetual(spec.kind); }));
}

TEST(BacktestFutures, refuses_a_configuration_without_an_inverse_perpetual_and_an_unknown_choice) {
  hedging::KernelConfig linear = load_config(SYNTHUSD_SOURCE_DIR "/config/backtest-linear.toml").kernel;
  const Timestamp start{1'583'992'800'000'000'000};
  EXPECT_THROW(add_weekly_futures(linear, start, start, HedgeInstruments::futures), std::invalid_argument);
  EXPECT_THROW((void)parse_hedge_instruments("quarterlies"), std::invalid_argument);
  EXPECT_EQ(parse_hedge_instruments("carry"), HedgeInstruments::carry);
}

TEST(BacktestFutures, the_hedge_rolls_into_the_next_weekly_a_day_before_expiry_and_stays_within_10_bps) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const BacktestInputs inputs = crash_on(HedgeInstruments::futures, seed, Ratio::from_ppm(50'000));
    const PolicyResult result = run_backtest(inputs, policy_by_name("banded", inputs.kernel.bands));
    // 13MAR20 settles 2020-03-13 08:00: the kernel leaves it at 03-12 08:00,
    // two hours into the excerpt, for 20MAR20.
    EXPECT_EQ(result.rolls, 1U) << "seed " << seed;
    EXPECT_TRUE(has_marker(result, "roll", "from instrument 2 to 3")) << "seed " << seed;
    EXPECT_GE(result.worst_shortfall_centi_bps, -1'000) << "seed " << seed;
    EXPECT_LE(result.worst_excess_centi_bps, 1'000) << "seed " << seed;
    EXPECT_EQ(result.liquidations, 0U);
    EXPECT_EQ(result.rejected_orders, 0U) << "the roll's new short finds its margin in the old book";
    EXPECT_EQ(result.funding_paid.value, 0) << "futures pay no funding";
    EXPECT_GT(result.basis_earned.value, 0) << "the short earns the 5 % premium as it decays";
    const BacktestSample& last = result.samples.back();
    // The face covers the liability plus the premium (about 10 bps at the
    // end), within the band's 30.
    EXPECT_LE((last.hedge - last.liability).abs().value * 1'000, last.liability.value * 4) << "seed " << seed;
  }
}

TEST(BacktestFutures, a_future_at_a_premium_is_sized_by_its_index_value_so_the_crash_opens_no_gap) {
  // 50 % a year: 20MAR20 starts 1.1 % over the index. Sized by its face,
  // the short would cover 1/1.011 of the index's 25 % fall: a 27 bps gap.
  const BacktestInputs inputs = crash_on(HedgeInstruments::futures, 1, Ratio::from_ppm(500'000));
  const PolicyResult result = run_backtest(inputs, policy_by_name("banded", inputs.kernel.bands));
  EXPECT_GE(result.worst_shortfall_centi_bps, -1'000);
  EXPECT_LE(result.worst_excess_centi_bps, 1'000);
  const BacktestSample& last = result.samples.back();
  EXPECT_GT(last.hedge.value * 1'000, last.liability.value * 1'003) << "the face exceeds the liability by the premium";
}

TEST(BacktestFutures, without_a_premium_the_futures_earn_no_carry_and_hedge_like_the_perpetual) {
  const BacktestInputs futures = crash_on(HedgeInstruments::futures, 2, Ratio{0});
  const BacktestInputs perpetual = crash_inputs(2);
  const PolicySpec banded = policy_by_name("banded", futures.kernel.bands);
  const PolicyResult on_futures = run_backtest(futures, banded);
  const PolicyResult on_perpetual = run_backtest(perpetual, banded);
  EXPECT_EQ(on_futures.basis_earned.value, 0);
  EXPECT_GE(on_futures.worst_shortfall_centi_bps, -1'000);
  // The roll closes and reopens the whole short: that is what it costs.
  EXPECT_GT(on_futures.contracts_traded, on_perpetual.contracts_traded);
  EXPECT_GT(on_futures.fees.value, on_perpetual.fees.value);
}

TEST(BacktestFutures, carry_leaves_the_perpetual_while_its_shorts_pay_funding) {
  const BacktestInputs carry = crash_on(HedgeInstruments::carry, 1, Ratio::from_ppm(50'000));
  const PolicySpec banded = policy_by_name("banded", carry.kernel.bands);
  const PolicyResult on_carry = run_backtest(carry, banded);
  const PolicyResult on_perpetual = run_backtest(crash_inputs(1), banded);
  // Deribit's funding was negative through the crash (shorts paid).
  EXPECT_GT(on_perpetual.funding_paid.value, 10'000);
  EXPECT_LT(on_carry.funding_paid.value, on_perpetual.funding_paid.value / 10);
  EXPECT_GE(on_carry.rolls, 1U);
  EXPECT_GE(on_carry.worst_shortfall_centi_bps, -1'000);
}

TEST(BacktestFutures, a_future_held_to_expiry_is_delivered_and_the_hedge_moves_to_the_next) {
  BacktestInputs inputs;
  inputs.kernel = load_config(SYNTHUSD_SOURCE_DIR "/config/backtest.toml").kernel;
  inputs.kernel.carry.roll_before_expiry = Duration{}; // held to the last moment
  hedging::InstrumentSpec first = inputs.kernel.instruments[0];
  first.kind = InstrumentKind::inverse_future;
  inputs.path = minute_path({40'000, 40'000, 40'100, 40'200, 40'300, 40'400, 40'500, 40'600, 40'700, 40'800, 40'900,
                             41'000, 41'000, 41'000, 41'000, 41'000});
  first.symbol = "BTC-FIRST";
  first.expiry = inputs.path[10].time;
  hedging::InstrumentSpec second = first;
  second.id = first.id + 1;
  second.symbol = "BTC-SECOND";
  second.expiry = inputs.path.front().time + Duration::from_hours(24);
  inputs.kernel.instruments = {first, second};
  inputs.future_annual_basis = Ratio{0};
  inputs.flows = {credit(inputs.path[0].time, 1'000'000, "c1")};
  // Deposits take five minutes: a delivery taken for a liquidation would
  // hold the new short until one landed.
  inputs.transfer_delay = Duration::from_seconds(300);
  const PolicyResult result = run_backtest(inputs, policy_by_name("banded", inputs.kernel.bands));
  EXPECT_TRUE(has_marker(result, "expiry", "BTC-FIRST delivered at 40900")) << "held, so delivered open";
  EXPECT_TRUE(has_marker(result, "expiry", "contracts open"));
  EXPECT_TRUE(has_marker(result, "alert", "future_delivered_open"));
  EXPECT_FALSE(has_marker(result, "alert", "venue_liquidated"));
  EXPECT_FALSE(has_marker(result, "alert", "position_mismatch"));
  EXPECT_EQ(result.rolls, 1U);
  EXPECT_EQ(result.liquidations, 0U);
  // Orders are refused only while the first deposit is on its way.
  for (const BacktestMarker& marker : result.markers) {
    EXPECT_FALSE(marker.kind == "reject" && marker.time >= inputs.path[5].time) << marker.text;
  }
  // Before, at and after the delivery the liability is hedged, in the band.
  for (const std::size_t point : {std::size_t{6}, std::size_t{10}, std::size_t{11}, std::size_t{15}}) {
    const BacktestSample& sample = result.samples[point];
    EXPECT_LE((sample.hedge - sample.liability).abs().value * 1'000, sample.liability.value * 3) << point;
    EXPECT_GE(sample.error_centi_bps, -1'000) << point;
  }
}

TEST(BacktestFutures, a_roll_back_to_the_perpetual_closes_the_future_first_so_its_collateral_moves_with_the_hedge) {
  // Collateral held at 3.9x: a book keeps a quarter of its position's value
  // while it holds one, so the perpetual's short (initial margin 2 %) finds
  // its margin only once the future it replaces is closed. The kernel sends
  // the perpetual's order first (it has the lower id).
  BacktestInputs inputs;
  inputs.kernel = load_config(SYNTHUSD_SOURCE_DIR "/config/backtest.toml").kernel;
  inputs.kernel.collateral.low_bound = Ratio::from_ppm(3'800'000);
  inputs.kernel.collateral.low_safe_bound = Ratio::from_ppm(3'900'000);
  inputs.kernel.collateral.high_safe_bound = Ratio::from_ppm(3'900'000);
  inputs.kernel.collateral.high_bound = Ratio::from_ppm(4'000'000);
  inputs.kernel.carry.funding_average_window = Duration{}; // the funding flip moves the hedge at once
  std::vector<std::int64_t> flat(40, 40'000);
  inputs.path = minute_path(flat);
  hedging::InstrumentSpec future = inputs.kernel.instruments[0];
  future.id = 2;
  future.symbol = "BTC-FUTURE";
  future.kind = InstrumentKind::inverse_future;
  future.expiry = inputs.path.front().time + Duration::from_hours(24 * 30);
  inputs.kernel.instruments.push_back(future);
  inputs.future_annual_basis = Ratio::from_ppm(50'000);
  // Shorts pay 0.1 % per 8 h at first (the future's 5 % a year is better),
  // then receive 0.3 % from minute 15: back to the perpetual.
  inputs.funding = venue::FundingSchedule(std::vector<venue::FundingPoint>{
      {inputs.path.front().time, Ratio::from_ppm(-1'000)}, {inputs.path[15].time, Ratio::from_ppm(3'000)}});
  inputs.flows = {credit(inputs.path[0].time, 1'000'000, "c1")};
  const PolicyResult result = run_backtest(inputs, policy_by_name("banded", inputs.kernel.bands));
  EXPECT_TRUE(has_marker(result, "roll", "from instrument 1 to 2"));
  EXPECT_TRUE(has_marker(result, "roll", "from instrument 2 to 1"));
  EXPECT_EQ(result.rejected_orders, 0U);
  for (std::size_t point = 2; point < result.samples.size(); ++point) {
    const BacktestSample& sample = result.samples[point];
    EXPECT_LE((sample.hedge - sample.liability).abs().value * 1'000, sample.liability.value * 4) << point;
  }
}

TEST(BacktestFutures, a_book_keeps_a_quarter_of_what_its_resting_orders_could_make_its_position) {
  hedging::KernelConfig config = load_config(SYNTHUSD_SOURCE_DIR "/config/backtest.toml").kernel;
  const std::vector<hedging::PricePoint> path = minute_path({40'000, 40'000});
  hedging::InstrumentSpec future = config.instruments[0];
  future.id = 2;
  future.symbol = "BTC-FUTURE";
  future.kind = InstrumentKind::inverse_future;
  future.expiry = path.front().time + Duration::from_hours(24 * 7);
  config.instruments.push_back(future);
  VenueBooks books(config, path, venue::FundingSchedule{}, Ratio::from_ppm(20'000), Ratio{0});
  ASSERT_EQ(books.books().size(), 2U);
  const BookEvents ignore = [](std::size_t, std::vector<venue::Event>&) {};
  std::vector<venue::Event> events;
  books.books()[1].engine->deposit(kBacktestAccount, hedging::Sats{10'000'000}, events); // 0.1 BTC on the future
  // A resting sell of 1,000 contracts ($10,000, 0.25 BTC) far above the touch.
  venue::NewOrder order;
  order.client_order_id = "rest";
  order.symbol = "BTC-FUTURE";
  order.side = hedging::Side::sell;
  order.type = venue::OrderType::limit;
  order.quantity = hedging::Contracts{1'000};
  order.price = hedging::Price::from_dollars(60'000);
  books.books()[1].engine->new_order(kBacktestAccount, order, events);
  ASSERT_EQ(books.books()[1].engine->open_order_count(), 1U);
  books.gather_collateral(0, ignore); // an order on the perpetual wants it
  // A quarter of 0.25 BTC stays; the rest moves.
  EXPECT_EQ(books.books()[1].engine->equity(kBacktestAccount), hedging::Sats{6'250'000});
  EXPECT_EQ(books.books()[0].engine->equity(kBacktestAccount), hedging::Sats{3'750'000});
  EXPECT_EQ(books.venue_equity(1), hedging::Sats{10'000'000});
}

} // namespace
} // namespace synthusd::engine
