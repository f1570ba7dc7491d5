// synthusd backtest: the kernel through the venue model over the bundled
// excerpt of the 2020-03-12 crash (tests/data/backtest), and over small
// scripted paths for liquidation and passive fills.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backtest/liquidation_distance.hpp"
#include "backtest_test_support.hpp"
#include "synthusd/engine/backtest_report.hpp"
#include "synthusd/engine/backtest_run.hpp"
#include "synthusd/engine/config_file.hpp"

namespace synthusd::engine {
namespace {

using hedging::Duration;
using hedging::Price;
using hedging::Ratio;
using hedging::Timestamp;
using hedging::UsdCents;

TEST(Backtest, default_policy_keeps_hedge_error_within_10_bps_through_the_crash_excerpt) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const BacktestInputs inputs = crash_inputs(seed);
    const PolicyResult result = run_backtest(inputs, policy_by_name("banded", inputs.kernel.bands));
    EXPECT_GE(result.worst_shortfall_centi_bps, -1'000) << "seed " << seed;
    EXPECT_LE(result.worst_excess_centi_bps, 1'000) << "seed " << seed;
    EXPECT_EQ(result.liquidations, 0U);
    EXPECT_EQ(result.time_beyond_tolerance.nanoseconds, 0);
    // The hedge is really there: it tracks the liability within the band.
    const BacktestSample& last = result.samples.back();
    EXPECT_GT(last.liability.value, 0);
    EXPECT_LE((last.hedge - last.liability).abs().value * 1'000, last.liability.value * 3) << "within 30 bps";
    EXPECT_GT(result.fees.value, 0);
    EXPECT_GT(result.taker_fills, 0U);
  }
}

TEST(Backtest, default_policy_rebalancing_halfway_back_trades_less_than_back_to_the_middle) {
  // Same +-10 bps band, same path: stopping halfway lets the next payment
  // the other way net inside the band instead of trading it back, and the
  // hedge error stays within the same 10 bps.
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const BacktestInputs inputs = crash_inputs(seed);
    const PolicyResult halfway = run_backtest(inputs, policy_by_name("banded", inputs.kernel.bands));
    const PolicyResult middle = run_backtest(inputs, policy_by_name("banded-10-0", inputs.kernel.bands));
    EXPECT_LT(halfway.contracts_traded * 100, middle.contracts_traded * 98) << "seed " << seed << ": 2 % fewer or more";
    EXPECT_LT(halfway.fees.value, middle.fees.value) << "seed " << seed;
    EXPECT_GE(middle.worst_shortfall_centi_bps, -1'000) << "seed " << seed;
    EXPECT_LE(middle.worst_excess_centi_bps, 1'000) << "seed " << seed;
  }
}

TEST(Backtest, stablesats_pays_less_than_any_taker_hedge_that_ends_hedged_only_by_ending_short) {
  // Why the default misses "fees <= stablesats'" (README, Hedge fidelity):
  // every taker contract costs 0.05 % of $10, and a hedge within 10 bps of
  // the final liability L (20 bps here, for whole contracts) has traded at
  // least 0.998 L / $10 contracts. stablesats comes in under that floor only
  // because it ends short of L.
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const BacktestInputs inputs = crash_inputs(seed);
    const PolicyResult stablesats = run_backtest(inputs, policy_by_name("stablesats", inputs.kernel.bands));
    const PolicyResult banded = run_backtest(inputs, policy_by_name("banded", inputs.kernel.bands));
    const std::int64_t final_liability = banded.final_liability.value;
    ASSERT_EQ(stablesats.final_liability.value, final_liability) << "same path, same payments";
    // 0.0005 * 0.998 * L, compared in units of 1/10,000 cent
    const std::int64_t fee_floor = final_liability * 998 / 1'000 * 5;
    EXPECT_GE(banded.fees.value * 10'000, fee_floor) << "seed " << seed;
    EXPECT_LT(stablesats.fees.value * 10'000, fee_floor) << "seed " << seed;
    const std::int64_t stablesats_hedge_cents = stablesats.contracts_traded * 1'000;
    EXPECT_LT(stablesats_hedge_cents * 100, final_liability * 99) << "seed " << seed << ": ends over 1 % short";
  }
}

TEST(Backtest, hybrid_policy_fills_part_as_maker_and_pays_less_than_banded_on_the_crash_excerpt) {
  // Taker only back to the +-10 bps edge, the rest to 1.00 post-only at the
  // touch: some contracts trade at the maker fee (0 on Deribit), so fees
  // fall, but the hedge waits nearer the edge (README, Hedge fidelity: it
  // passes 10 bps on the 30 m crash, so banded stays the default).
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const BacktestInputs inputs = crash_inputs(seed);
    const PolicyResult banded = run_backtest(inputs, policy_by_name("banded", inputs.kernel.bands));
    const PolicyResult hybrid = run_backtest(inputs, policy_by_name("hybrid", inputs.kernel.bands));
    EXPECT_GT(hybrid.maker_fills, 0U) << "seed " << seed;
    EXPECT_GT(hybrid.taker_fills, 0U) << "seed " << seed;
    EXPECT_GT(hybrid.cancels, 0U) << "seed " << seed << ": re-priced when the touch moves away";
    EXPECT_EQ(hybrid.maker_fees.value, 0) << "seed " << seed;
    EXPECT_LT(hybrid.fees.value, banded.fees.value) << "seed " << seed;
    EXPECT_EQ(banded.cancels, 0U);
    EXPECT_GE(hybrid.worst_shortfall_centi_bps, -1'000) << "seed " << seed;
    EXPECT_EQ(hybrid.liquidations, 0U);
  }
}

TEST(Backtest, stablesats_policy_shows_its_known_shortfall_on_the_crash_excerpt) {
  // Its band sells only below 0.95 and then only to 0.98: the hedge runs
  // 2-5 % short while the price falls, and customers' dollars lose value.
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const BacktestInputs inputs = crash_inputs(seed);
    const PolicyResult stablesats = run_backtest(inputs, policy_by_name("stablesats", inputs.kernel.bands));
    EXPECT_LT(stablesats.worst_shortfall_centi_bps, -2'000) << "seed " << seed << ": more than 20 bps short";
    EXPECT_LT(stablesats.orders, 100U);
    EXPECT_EQ(stablesats.liquidations, 0U);
  }
}

TEST(Backtest, same_input_twice_gives_byte_identical_reports) {
  const BacktestInputs inputs = crash_inputs(1);
  const std::vector<PolicySpec> policies = policies_from_list("stablesats,banded,passive", inputs.kernel.bands);
  BacktestDescription description;
  description.prices = "excerpt";
  description.points = inputs.path.size();
  std::vector<PolicyResult> first;
  std::vector<PolicyResult> second;
  for (const PolicySpec& policy : policies) {
    first.push_back(run_backtest(inputs, policy));
    second.push_back(run_backtest(inputs, policy));
  }
  EXPECT_EQ(backtest_json(description, first), backtest_json(description, second));
  EXPECT_EQ(backtest_html(description, first), backtest_html(description, second));
  EXPECT_EQ(backtest_table(description, first), backtest_table(description, second));
  // ... and the policies really differ.
  EXPECT_NE(first[0].orders, first[1].orders);
}

TEST(Backtest, price_jump_at_10x_leverage_is_a_liquidation_reported_as_such) {
  BacktestInputs inputs;
  inputs.kernel = load_config(SYNTHUSD_SOURCE_DIR "/config/backtest.toml").kernel;
  inputs.path = minute_path({20'000, 20'000, 20'000, 20'000, 23'000, 23'000, 20'000, 20'000});
  inputs.flows = {credit(inputs.path.front().time, 5'000'000, "deposit-1")};
  const PolicySpec policy = policy_by_name("banded", inputs.kernel.bands);

  // At 3x (the default collateral bands) a 15 % jump is far from liquidation.
  const PolicyResult at_three = run_backtest(inputs, policy);
  EXPECT_EQ(at_three.liquidations, 0U);
  EXPECT_GT(at_three.min_liquidation_distance, Ratio::from_ppm(150'000));
  EXPECT_GE(at_three.worst_shortfall_centi_bps, -1'000);

  // At 10x the venue liquidates at about +10 %: the jump goes through it.
  inputs.kernel.collateral.low_bound = Ratio::from_ppm(9'000'000);
  inputs.kernel.collateral.low_safe_bound = Ratio::from_ppm(10'000'000);
  inputs.kernel.collateral.high_safe_bound = Ratio::from_ppm(10'000'000);
  inputs.kernel.collateral.high_bound = Ratio::from_ppm(11'000'000);
  inputs.kernel.collateral.liquidation_alert_distance = Ratio::from_ppm(50'000);
  const PolicyResult at_ten = run_backtest(inputs, policy);
  EXPECT_EQ(at_ten.liquidations, 1U);
  EXPECT_LT(at_ten.min_liquidation_distance, Ratio::from_ppm(120'000));
  bool marked = false;
  for (const BacktestMarker& marker : at_ten.markers) {
    marked = marked || (marker.kind == "liquidation" && marker.time == inputs.path[4].time);
  }
  EXPECT_TRUE(marked);
  // The kernel saw it, asked for a deposit and, the deposit landing at
  // once, hedged again. The fall back to $20,000 then gives the short a
  // profit the venue will not release (this venue reports no payout, so the
  // kernel sizes from equity): a withdrawal is refused, then asked again only
  // after a fresh collateral report and for half the refused amount each
  // time (kernel_collateral.cpp), so the refusals are bounded by the halvings
  // down to the $100 minimum, not one per event: 3 before the path ends.
  bool alerted = false;
  bool deposited = false;
  int refused = 0;
  for (const BacktestMarker& marker : at_ten.markers) {
    alerted = alerted || (marker.kind == "alert" && marker.text == "venue_liquidated");
    deposited = deposited || (marker.kind == "transfer" && marker.time == inputs.path[4].time &&
                              marker.text.rfind("to venue", 0) == 0);
    refused += marker.kind == "transfer" && marker.text.find("failed") != std::string::npos ? 1 : 0;
  }
  EXPECT_TRUE(alerted);
  EXPECT_TRUE(deposited);
  EXPECT_EQ(refused, 3);
  const BacktestSample& last = at_ten.samples.back();
  EXPECT_LE((last.hedge - last.liability).abs().value * 1'000, last.liability.value * 3) << "within 30 bps";
  BacktestDescription description;
  const std::string table = backtest_table(description, {at_ten});
  const std::size_t row = table.find("\nliquidations ");
  ASSERT_NE(row, std::string::npos) << table;
  EXPECT_EQ(table.substr(table.find('\n', row + 1) - 2, 2), " 1") << table;
  EXPECT_NE(backtest_html(description, {at_ten}).find("liquidated the hedge"), std::string::npos);
}

TEST(Backtest, after_a_liquidation_at_10x_the_hedge_is_restored_when_the_deposit_lands) {
  BacktestInputs inputs;
  inputs.kernel = load_config(SYNTHUSD_SOURCE_DIR "/config/backtest.toml").kernel;
  inputs.path = minute_path({20'000, 20'000, 20'000, 20'000, 23'000, 23'000, 23'000, 23'000, 21'000, 20'000});
  inputs.flows = {credit(inputs.path.front().time, 5'000'000, "deposit-1")};
  inputs.kernel.collateral.low_bound = Ratio::from_ppm(9'000'000);
  inputs.kernel.collateral.low_safe_bound = Ratio::from_ppm(10'000'000);
  inputs.kernel.collateral.high_safe_bound = Ratio::from_ppm(10'000'000);
  inputs.kernel.collateral.high_bound = Ratio::from_ppm(11'000'000);
  inputs.transfer_delay = Duration::from_seconds(120);
  const PolicyResult result = run_backtest(inputs, policy_by_name("banded", inputs.kernel.bands));
  ASSERT_EQ(result.liquidations, 1U);
  ASSERT_EQ(result.samples.size(), inputs.path.size());
  // Liquidated at point 4; the deposit is on its way for two minutes, and
  // no order is sent that the venue would refuse for margin (the only
  // refusals are before the very first deposit lands, at the start).
  EXPECT_EQ(result.samples[5].hedge.value, 0);
  for (const BacktestMarker& marker : result.markers) {
    EXPECT_FALSE(marker.kind == "reject" && marker.time >= inputs.path[4].time) << marker.text;
  }
  // It lands at point 6: the hedge is back in the band from there on.
  for (std::size_t i = 6; i < result.samples.size(); ++i) {
    const BacktestSample& sample = result.samples[i];
    EXPECT_LE((sample.hedge - sample.liability).abs().value * 1'000, sample.liability.value * 3) << "point " << i;
  }
}

TEST(Backtest, post_only_orders_fill_only_when_the_price_trades_through_them) {
  BacktestInputs inputs;
  inputs.kernel = load_config(SYNTHUSD_SOURCE_DIR "/config/backtest.toml").kernel;
  inputs.post_only_wait = Duration::from_seconds(90);
  const PolicySpec passive = policy_by_name("passive", inputs.kernel.bands);

  // A flat price never reaches a sell resting at the ask: every hedge goes
  // through the taker fallback.
  inputs.path = minute_path(std::vector<std::int64_t>(12, 20'000));
  inputs.flows = {credit(inputs.path.front().time, 5'000'000, "deposit-1")};
  const PolicyResult flat = run_backtest(inputs, passive);
  EXPECT_EQ(flat.maker_fills, 0U);
  EXPECT_GT(flat.taker_fills, 0U);
  EXPECT_EQ(flat.contracts_traded, 4'998) << "halfway back: 0.9995 of $50,000 is 4,997.5 contracts";

  // A price that rises a dollar trades through it: filled as maker, no fee
  // (Deribit's maker fee is 0), at the old touch.
  inputs.path = minute_path({20'000, 20'001, 20'001, 20'001});
  const PolicyResult rising = run_backtest(inputs, passive);
  EXPECT_EQ(rising.taker_fills, 0U);
  EXPECT_GT(rising.maker_fills, 0U);
  EXPECT_EQ(rising.fees.value, 0);
  EXPECT_EQ(rising.contracts_traded, 4'998);
  EXPECT_LT(rising.slippage.value, 0) << "sold above the mark it was decided at";
}

// A venue model engine with `deposit` sats on account "a", short `contracts`
// at the bid of the path's first point; liquidation at L = 0.5 %, no fee.
venue::Engine shorted(venue::EngineConfig config, const hedging::InstrumentSpec& spec,
                      const std::vector<hedging::PricePoint>& path, hedging::Sats deposit,
                      hedging::Contracts contracts) {
  config.taker_fee = Ratio{0};
  config.initial_collateral = hedging::Sats{0};
  config.initial_margin = Ratio::from_ppm(20'000);
  config.liquidation_margin = spec.maintenance_margin;
  venue::Engine engine(config, path, venue::FundingSchedule{});
  std::vector<venue::Event> events;
  engine.deposit("a", deposit, events);
  venue::NewOrder order;
  order.client_order_id = "1";
  order.symbol = config.symbol;
  order.side = hedging::Side::sell;
  order.type = venue::OrderType::market;
  order.quantity = contracts;
  engine.new_order("a", order, events);
  return engine;
}

// The distance at the start lies in (low, high); at the path's second point
// it is under 0.01 % and the engine has not liquidated; at the third it has.
void expect_liquidated_where_the_distance_says(venue::Engine& engine, const hedging::InstrumentSpec& spec,
                                               const std::vector<hedging::PricePoint>& path, Ratio low, Ratio high) {
  const auto distance = [&] {
    return short_liquidation_distance(engine.account("a"), engine.terms(), spec.maintenance_margin,
                                      engine.quote().mark);
  };
  EXPECT_GT(distance(), low);
  EXPECT_LT(distance(), high);
  std::vector<venue::Event> events;
  engine.advance_to(path[1].time, events);
  EXPECT_EQ(engine.account("a").liquidations, 0);
  EXPECT_LT(distance(), Ratio::from_ppm(100));
  engine.advance_to(path[2].time, events);
  EXPECT_EQ(engine.account("a").liquidations, 1);
}

TEST(Backtest, liquidation_distance_is_where_the_venue_model_liquidates) {
  // A $10,000 short at $40,000 (0.25 BTC) on 0.025 BTC: 10x. With L = 0.5 %
  // the venue liquidates at 0.995 * $10,000 / 0.225 BTC = $44,222.22.
  const hedging::InstrumentSpec spec = load_config(SYNTHUSD_SOURCE_DIR "/config/backtest.toml").kernel.instruments[0];
  const std::vector<hedging::PricePoint> path = minute_path({40'000, 44'220, 44'225});
  venue::Engine engine =
      shorted(venue::EngineConfig{}, spec, path, hedging::Sats{2'500'000}, hedging::Contracts{1'000});
  ASSERT_EQ(engine.account("a").position, hedging::Contracts{-1'000});
  expect_liquidated_where_the_distance_says(engine, spec, path, Ratio::from_ppm(105'500), Ratio::from_ppm(105'600));
}

TEST(Backtest, a_linear_short_is_liquidated_where_its_distance_says) {
  // 1,000 contracts of 0.0001 BTC: a 0.1 BTC short at the $40,000 bid on
  // 0.01 BTC. With L = 0.5 % the venue liquidates at 0.1 * 40,000 / (1.005 *
  // 0.1 - 0.01) = $44,198.90 (a rise of 10.497 %).
  const hedging::KernelConfig kernel = load_config(SYNTHUSD_SOURCE_DIR "/config/backtest-linear.toml").kernel;
  const hedging::InstrumentSpec& spec = kernel.instruments[0];
  ASSERT_EQ(spec.kind, hedging::InstrumentKind::linear_perpetual);
  venue::EngineConfig config;
  config.kind = venue::ContractKind::linear;
  config.contract_size = spec.contract_size;
  const std::vector<hedging::PricePoint> path = minute_path({40'000, 44'195, 44'200});
  venue::Engine engine = shorted(config, spec, path, hedging::Sats{1'000'000}, hedging::Contracts{1'000});
  ASSERT_EQ(engine.account("a").position, hedging::Contracts{-1'000});
  expect_liquidated_where_the_distance_says(engine, spec, path, Ratio::from_ppm(104'950), Ratio::from_ppm(104'990));
}

TEST(Backtest, a_linear_hedge_is_resized_as_the_price_moves_and_stays_within_10_bps) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const BacktestInputs inverse = crash_inputs(seed);
    BacktestInputs linear = crash_inputs(seed);
    linear.kernel = load_config(SYNTHUSD_SOURCE_DIR "/config/backtest-linear.toml").kernel;
    const PolicySpec banded = policy_by_name("banded", linear.kernel.bands);
    const PolicyResult on_inverse = run_backtest(inverse, banded);
    const PolicyResult on_linear = run_backtest(linear, banded);
    EXPECT_GE(on_linear.worst_shortfall_centi_bps, -1'000) << "seed " << seed;
    EXPECT_LE(on_linear.worst_excess_centi_bps, 1'000) << "seed " << seed;
    EXPECT_EQ(on_linear.liquidations, 0U);
    // The re-hedging is what the linear contract costs: the price falls
    // 30 % in the excerpt, so its short grows by contracts the inverse
    // never trades.
    EXPECT_GT(on_linear.orders, 2 * on_inverse.orders) << "seed " << seed;
    EXPECT_GT(on_linear.fees.value, on_inverse.fees.value) << "seed " << seed;
    // The short really is BTC-sized: its USD value is the liability.
    const BacktestSample& last = on_linear.samples.back();
    EXPECT_LE((last.hedge - last.liability).abs().value * 1'000, last.liability.value * 3) << "within 30 bps";
  }
}

TEST(Backtest, policy_list_refuses_unknown_and_repeated_names) {
  const hedging::BandConfig bands;
  EXPECT_THROW((void)policies_from_list("stablesats,tight", bands), std::invalid_argument);
  EXPECT_THROW((void)policies_from_list("banded,banded", bands), std::invalid_argument);
  EXPECT_THROW((void)policies_from_list("banded,", bands), std::invalid_argument);
  EXPECT_THROW((void)policies_from_list("stablesats-10", bands), std::invalid_argument);
  EXPECT_THROW((void)policies_from_list("banded-10-20", bands), std::invalid_argument) << "back beyond the band";
  EXPECT_THROW((void)policies_from_list("banded-0", bands), std::invalid_argument);
  EXPECT_THROW((void)policies_from_list("banded-10-", bands), std::invalid_argument);
  EXPECT_EQ(policy_by_name("banded-10-5", bands).bands.low_safe_bound, Ratio::from_ppm(999'500));
  EXPECT_EQ(policy_by_name("banded-10-5", bands).bands.low_safe_bound,
            policy_by_name("banded", bands).bands.low_safe_bound)
      << "the default, by its numbers";
  EXPECT_EQ(policy_by_name("hybrid-20", bands).bands.policy, hedging::PolicyKind::hybrid);
  EXPECT_EQ(policy_by_name("hybrid-20", bands).bands.low_bound, Ratio::from_ppm(998'000));
  EXPECT_EQ(policy_by_name("hybrid-20", bands).execution, fix::ExecutionStyle::limit_ioc) << "its kernel posts";
  const std::vector<PolicySpec> specs = policies_from_list("stablesats,banded-40,passive,banded-40-0", bands);
  ASSERT_EQ(specs.size(), 4U);
  EXPECT_EQ(specs[0].bands.low_bound, Ratio::from_ppm(950'000));
  EXPECT_EQ(specs[1].bands.low_bound, Ratio::from_ppm(996'000));
  EXPECT_EQ(specs[1].bands.high_bound, Ratio::from_ppm(1'004'000));
  EXPECT_EQ(specs[1].bands.low_safe_bound, Ratio::from_ppm(998'000)) << "halfway back";
  EXPECT_EQ(specs[1].bands.high_safe_bound, Ratio::from_ppm(1'002'000));
  EXPECT_EQ(specs[2].execution, fix::ExecutionStyle::post_only);
  EXPECT_EQ(specs[3].bands.low_bound, Ratio::from_ppm(996'000));
  EXPECT_EQ(specs[3].bands.low_safe_bound, Ratio::one()) << "back to the middle";
  EXPECT_EQ(specs[3].bands.high_safe_bound, Ratio::one());
}

// Eight hours of one point a minute alternating around $20,000 by
// `swing_dollars`, with a $50,000 deposit and then a $30 credit (6 bps of
// the book) every ten minutes.
BacktestInputs swinging_inputs(std::int64_t swing_dollars) {
  BacktestInputs inputs;
  inputs.kernel = load_config(SYNTHUSD_SOURCE_DIR "/config/backtest.toml").kernel;
  std::vector<std::int64_t> dollars;
  for (int minute = 0; minute < 480; ++minute) {
    dollars.push_back(minute % 2 == 0 ? 20'000 : 20'000 + swing_dollars);
  }
  inputs.path = minute_path(dollars);
  inputs.flows = {credit(inputs.path.front().time, 5'000'000, "deposit")};
  for (std::size_t minute = 10; minute < inputs.path.size(); minute += 10) {
    inputs.flows.push_back(credit(inputs.path[minute].time, 3'000, "credit-" + std::to_string(minute)));
  }
  return inputs;
}

TEST(Backtest, a_volatility_scaled_band_trades_less_while_calm_and_like_banded_while_volatile) {
  const BacktestInputs calm = swinging_inputs(2); // 0.01 % a minute
  const PolicySpec scaled = policy_by_name("banded-10-5-x10-r600", calm.kernel.bands);
  const PolicyResult calm_banded = run_backtest(calm, policy_by_name("banded", calm.kernel.bands));
  const PolicyResult calm_scaled = run_backtest(calm, scaled);
  // banded rebalances every other credit (12 bps out of a 10 bps band);
  // the scaled band lets the credits add up once the estimate has settled
  EXPECT_GT(calm_banded.orders, 20U);
  EXPECT_LT(calm_scaled.orders * 2, calm_banded.orders);
  EXPECT_LT(calm_scaled.fees.value, calm_banded.fees.value);
  EXPECT_GE(calm_scaled.worst_shortfall_centi_bps, -1'000);

  // 2 % a minute (about 15 % an hour, above the 6 % reference): the same
  // band as banded, trade for trade
  const BacktestInputs swinging = swinging_inputs(400);
  const PolicyResult volatile_banded = run_backtest(swinging, policy_by_name("banded", swinging.kernel.bands));
  const PolicyResult volatile_scaled = run_backtest(swinging, scaled);
  EXPECT_EQ(volatile_scaled.orders, volatile_banded.orders);
  EXPECT_EQ(volatile_scaled.contracts_traded, volatile_banded.contracts_traded);
  EXPECT_EQ(volatile_scaled.fees.value, volatile_banded.fees.value);
}

TEST(Backtest, a_volatility_scaled_band_keeps_hedge_error_within_10_bps_through_the_crash_excerpt) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const BacktestInputs inputs = crash_inputs(seed);
    const PolicyResult result = run_backtest(inputs, policy_by_name("banded-10-5-x10-r600", inputs.kernel.bands));
    EXPECT_GE(result.worst_shortfall_centi_bps, -1'000) << "seed " << seed;
    EXPECT_LE(result.worst_excess_centi_bps, 1'000) << "seed " << seed;
    EXPECT_EQ(result.liquidations, 0U);
  }
}

TEST(Backtest, volatility_scaled_policy_names_carry_the_scale_and_the_reference) {
  const hedging::BandConfig bands;
  const PolicySpec scaled = policy_by_name("banded-10-5-x10-r600", bands);
  EXPECT_EQ(scaled.bands.maximum_band_scale, 10);
  EXPECT_EQ(scaled.bands.volatility_reference, Ratio::from_ppm(60'000));
  EXPECT_EQ(scaled.bands.low_bound, Ratio::from_ppm(999'000)) << "the band it starts from";
  EXPECT_EQ(policy_by_name("hybrid-20-10-x3", bands).bands.volatility_reference, Ratio::from_ppm(10'000))
      << "1 % an hour unless told";
  EXPECT_EQ(policy_by_name("hybrid-20-10-x3", bands).bands.policy, hedging::PolicyKind::hybrid);
  EXPECT_EQ(policy_by_name("banded", bands).bands.maximum_band_scale, 1) << "fixed unless asked";
  EXPECT_THROW((void)policy_by_name("banded-10-5-x1", bands), std::invalid_argument);
  EXPECT_THROW((void)policy_by_name("banded-10-5-x101", bands), std::invalid_argument);
  EXPECT_THROW((void)policy_by_name("banded-x5", bands), std::invalid_argument) << "a width first";
  EXPECT_THROW((void)policy_by_name("banded-10-5-x5-r0", bands), std::invalid_argument);
  try {
    (void)policy_by_name("banded-10-5-x5-r0", bands);
  } catch (const std::invalid_argument& error) {
    EXPECT_EQ(std::string(error.what()).rfind("--policy: 'banded-10-5-x5-r0': ", 0), 0U) << "the name as given";
  }
  EXPECT_THROW((void)policy_by_name("banded-10-5-x5-r", bands), std::invalid_argument);
}

TEST(Backtest, a_venue_whose_touch_the_collar_cannot_reach_is_asked_once_a_point_and_the_run_ends) {
  // At $50 a 0.5 tick is 1 % of the price, twice the 0.5 % collar: every
  // IOC buy at mark x 1.005 rounded down to the tick stays under an ask
  // rounded up to it, and the venue cancels it unfilled in the instant it
  // came. The run used to re-send at that instant forever.
  BacktestInputs inputs;
  inputs.kernel = load_config(SYNTHUSD_SOURCE_DIR "/config/backtest.toml").kernel;
  inputs.path = minute_path({20'000, 20'000, 20'000});
  for (int i = 0; i < 10; ++i) {
    inputs.path.push_back({inputs.path.back().time + Duration::from_seconds(60), Price{5'030'000'000}}); // $50.30
  }
  inputs.flows = {credit(inputs.path.front().time, 5'000'000, "deposit-1")};
  LiabilityFlow debit = credit(inputs.path[4].time, 2'000'000, "withdrawal-1");
  debit.credit = false;
  inputs.flows.push_back(debit);
  const PolicyResult result = run_backtest(inputs, policy_by_name("banded", inputs.kernel.bands));
  EXPECT_EQ(result.final_liability, UsdCents{3'000'000});
  // The buy back never fills: at most one order a point from the debit on.
  EXPECT_LE(result.orders, 20U);
  EXPECT_GE(result.orders, 9U);
  EXPECT_EQ(result.samples.size(), inputs.path.size()); // every point was reached
}

TEST(Backtest, instruments_the_venue_model_cannot_trade_are_refused_by_name) {
  const auto refusal = [](const hedging::InstrumentSpec& extra) {
    BacktestInputs inputs;
    inputs.kernel = hedging::reference_config();
    inputs.kernel.instruments.push_back(extra);
    inputs.path = minute_path({20'000, 20'000});
    try {
      (void)run_backtest(inputs, policy_by_name("banded", inputs.kernel.bands));
    } catch (const std::invalid_argument& error) {
      return std::string(error.what());
    }
    return std::string("no refusal");
  };
  hedging::InstrumentSpec second = hedging::reference_config().instruments[1];
  second.id = 4;
  second.symbol = "BTC-LINEAR";
  second.kind = hedging::InstrumentKind::linear_perpetual;
  second.contract_size = hedging::Sats{10'000};
  const std::string two_perpetuals = refusal(second);
  EXPECT_NE(two_perpetuals.find("'BTC-LINEAR'"), std::string::npos) << two_perpetuals;
  EXPECT_NE(two_perpetuals.find("one perpetual per venue"), std::string::npos) << two_perpetuals;

  hedging::InstrumentSpec expired = hedging::reference_config().instruments[1];
  expired.id = 4;
  expired.symbol = "BTC-29DEC23";
  expired.kind = hedging::InstrumentKind::inverse_future;
  expired.expiry = Timestamp{1'703'836'800'000'000'000}; // 2023-12-29 08:00 UTC, before the path
  const std::string too_late = refusal(expired);
  EXPECT_NE(too_late.find("'BTC-29DEC23'"), std::string::npos) << too_late;
  EXPECT_NE(too_late.find("expires before the price path starts"), std::string::npos) << too_late;
}

} // namespace
} // namespace synthusd::engine
