// Rule 9: the risk-trigger strategy (DeHedge). Per external position:
//   remaining = vault + shield - pnl
//   drawdown     : vault * vault_factor > remaining
//   shield       : shield - pnl <= 0
//   profit limit : vault * profit_limit_factor * interest > remaining * interest
// Any risk and not hedged -> open the opposite hedge; hedged and no risk for
// 60 s -> close; source gone -> close. Booked apart from the liability hedge.

#include <gtest/gtest.h>

#include "kernel_fixture.hpp"
#include "synthusd/hedging/risk_trigger.hpp"

namespace synthusd::hedging {
namespace {

using namespace synthusd::hedging::testing;

ExternalRiskPosition position(std::int64_t vault, std::int64_t shield, std::int64_t pnl,
                              Ratio interest = Ratio::one()) {
  ExternalRiskPosition p;
  p.market = 7;
  p.position_id = 1;
  p.notional = UsdCents{500'000};
  p.vault_balance = UsdCents{vault};
  p.shield_balance = UsdCents{shield};
  p.pnl = UsdCents{pnl};
  p.profit_limit_interest = interest;
  return p;
}

RiskFactors factors(std::int64_t vault_ppm, std::int64_t profit_limit_ppm) {
  RiskFactors f;
  f.vault_factor = Ratio::from_ppm(vault_ppm);
  f.vault_profit_limit_factor = Ratio::from_ppm(profit_limit_ppm);
  return f;
}

// ---- assess_risk ----------------------------------------------------------------

TEST(AssessRisk, a_healthy_position_has_no_risk) {
  // remaining = 10,000 + 2,000 - 1,000 = 11,000; 8,000 > 11,000 no; 1,000 <= 0 no; 9,000 > 11,000 no
  const RiskAssessment r = assess_risk(RiskFactors{}, position(10'000, 2'000, 1'000));
  EXPECT_FALSE(r.vault_drawdown);
  EXPECT_FALSE(r.shield_pnl);
  EXPECT_FALSE(r.profit_limit);
  EXPECT_FALSE(r.any());
}

TEST(AssessRisk, shield_exactly_used_up_is_a_risk) {
  // shield - pnl = 0 <= 0; remaining 10,000: 8,000 and 9,000 are not above it
  const RiskAssessment r = assess_risk(RiskFactors{}, position(10'000, 1'000, 1'000));
  EXPECT_TRUE(r.shield_pnl);
  EXPECT_FALSE(r.vault_drawdown);
  EXPECT_FALSE(r.profit_limit);
  EXPECT_TRUE(r.any());
  // one cent of shield left: no risk at all
  EXPECT_FALSE(assess_risk(RiskFactors{}, position(10'000, 1'001, 1'000)).any());
}

TEST(AssessRisk, pnl_beyond_the_shield_is_a_shield_risk) {
  // shield - pnl = -500; remaining 9,500 > 9,000 > 8,000
  const RiskAssessment r = assess_risk(RiskFactors{}, position(10'000, 1'000, 1'500));
  EXPECT_TRUE(r.shield_pnl);
  EXPECT_FALSE(r.vault_drawdown);
  EXPECT_FALSE(r.profit_limit);
}

TEST(AssessRisk, vault_drawdown_alone) {
  // vault factor 1.2: 12,000 > remaining 11,000; profit 0.9: 9,000 > 11,000 no; shield 1,000 > 0
  const RiskAssessment r = assess_risk(factors(1'200'000, 900'000), position(10'000, 1'000, 0));
  EXPECT_TRUE(r.vault_drawdown);
  EXPECT_FALSE(r.shield_pnl);
  EXPECT_FALSE(r.profit_limit);
  EXPECT_TRUE(r.any());
}

TEST(AssessRisk, vault_drawdown_at_equality_is_not_a_risk) {
  // 1.1 * 10,000 = 11,000 = remaining: not greater
  EXPECT_FALSE(assess_risk(factors(1'100'000, 900'000), position(10'000, 1'000, 0)).vault_drawdown);
  // one cent less remaining (pnl 1) tips it: 11,000 > 10,999
  EXPECT_TRUE(assess_risk(factors(1'100'000, 900'000), position(10'000, 1'000, 1)).vault_drawdown);
}

TEST(AssessRisk, profit_limit_alone) {
  // profit factor 1.2: 12,000 * 1 > 11,000 * 1; drawdown 0.8: 8,000 > 11,000 no
  const RiskAssessment r = assess_risk(factors(800'000, 1'200'000), position(10'000, 1'000, 0));
  EXPECT_TRUE(r.profit_limit);
  EXPECT_FALSE(r.vault_drawdown);
  EXPECT_FALSE(r.shield_pnl);
  EXPECT_TRUE(r.any());
}

TEST(AssessRisk, profit_limit_at_equality_is_not_a_risk) {
  EXPECT_FALSE(assess_risk(factors(800'000, 1'100'000), position(10'000, 1'000, 0)).profit_limit);
  EXPECT_TRUE(assess_risk(factors(800'000, 1'100'000), position(10'000, 1'000, 1)).profit_limit);
}

TEST(AssessRisk, profit_limit_scales_both_sides_by_the_interest) {
  // interest 0.5: 10,000 * 1.2 * 0.5 = 6,000 > 11,000 * 0.5 = 5,500
  EXPECT_TRUE(
      assess_risk(factors(800'000, 1'200'000), position(10'000, 1'000, 0, Ratio::from_ppm(500'000))).profit_limit);
  // no interest: 0 > 0 is false
  EXPECT_FALSE(assess_risk(factors(800'000, 1'200'000), position(10'000, 1'000, 0, Ratio{0})).profit_limit);
}

TEST(AssessRisk, default_factors_profit_limit_fires_before_drawdown) {
  // remaining = 10,000 - 1,500 = 8,500: 9,000 > 8,500 but 8,000 is not
  const RiskAssessment r = assess_risk(RiskFactors{}, position(10'000, 0, 1'500));
  EXPECT_TRUE(r.profit_limit);
  EXPECT_FALSE(r.vault_drawdown);
  EXPECT_TRUE(r.shield_pnl);
}

TEST(AssessRisk, all_three_at_once) {
  // remaining 7,000: 8,000 > 7,000, 9,000 > 7,000, 0 - 3,000 <= 0
  const RiskAssessment r = assess_risk(RiskFactors{}, position(10'000, 0, 3'000));
  EXPECT_TRUE(r.vault_drawdown);
  EXPECT_TRUE(r.shield_pnl);
  EXPECT_TRUE(r.profit_limit);
}

// ---- kernel ---------------------------------------------------------------------

constexpr std::uint16_t kMarket = 7;
constexpr InstrumentId kSwap = 1;

Kernel risk_kernel() {
  KernelConfig config = single_venue_config();
  config.risk_routes = {{kMarket, 1, kSwap}};
  Kernel kernel(std::move(config));
  bring_up(kernel); // $50,000, $100 contracts
  return kernel;
}

// Vault $10,000, no shield, P&L $3,000 against the vault: all three risks.
ExternalRiskPosition risky(std::int64_t seconds, std::int64_t notional_cents = 500'000, std::uint64_t id = 42) {
  ExternalRiskPosition p;
  p.market = kMarket;
  p.position_id = id;
  p.present = true;
  p.notional = UsdCents{notional_cents};
  p.vault_balance = UsdCents{1'000'000};
  p.shield_balance = UsdCents{0};
  p.pnl = UsdCents{300'000};
  p.time = at_seconds(seconds);
  return p;
}

// Same position, healthy: vault $10,000, shield $2,000, P&L $1,000.
ExternalRiskPosition safe(std::int64_t seconds, std::int64_t notional_cents = 500'000, std::uint64_t id = 42) {
  ExternalRiskPosition p = risky(seconds, notional_cents, id);
  p.shield_balance = UsdCents{200'000};
  p.pnl = UsdCents{100'000};
  return p;
}

ExternalRiskPosition gone(std::int64_t seconds, std::uint64_t id = 42) {
  ExternalRiskPosition p = safe(seconds, 0, id);
  p.present = false;
  return p;
}

// Opens the hedge for risky(0) ($5,000 long -> sell 50) and returns the order.
OrderIntent open_hedge(Kernel& kernel, std::int64_t seconds = 0) {
  const auto orders = orders_in(kernel.on(risky(seconds)));
  EXPECT_EQ(orders.size(), 1U);
  return orders.empty() ? OrderIntent{} : orders[0];
}

TEST(KernelRiskTrigger, a_risky_long_external_position_is_hedged_with_an_opposite_sell) {
  Kernel kernel = risk_kernel();
  // $5,000 long / $100 contracts = 50 contracts sold
  const auto orders = orders_in(kernel.on(risky(0)));
  ASSERT_EQ(orders.size(), 1U);
  EXPECT_EQ(orders[0].purpose, OrderPurpose::risk_trigger_hedge);
  EXPECT_EQ(orders[0].venue, 1);
  EXPECT_EQ(orders[0].instrument, kSwap);
  EXPECT_EQ(signed_quantity(orders[0]), -50);
  EXPECT_FALSE(orders[0].reduce_only);
  EXPECT_EQ(kernel.slot(kSwap)->risk_in_flight, Contracts{-50});
  EXPECT_EQ(kernel.slot(kSwap)->in_flight, Contracts{0});
}

TEST(KernelRiskTrigger, a_risky_short_external_position_is_hedged_with_a_buy) {
  Kernel kernel = risk_kernel();
  const auto orders = orders_in(kernel.on(risky(0, -500'000)));
  ASSERT_EQ(orders.size(), 1U);
  EXPECT_EQ(signed_quantity(orders[0]), 50);
  EXPECT_EQ(orders[0].purpose, OrderPurpose::risk_trigger_hedge);
}

TEST(KernelRiskTrigger, hedge_size_rounds_half_to_even_contracts) {
  Kernel kernel = risk_kernel();
  const auto a = orders_in(kernel.on(risky(0, 505'000, 1))); // 50.5 -> 50
  const auto b = orders_in(kernel.on(risky(0, 515'000, 2))); // 51.5 -> 52
  ASSERT_EQ(a.size(), 1U);
  ASSERT_EQ(b.size(), 1U);
  EXPECT_EQ(signed_quantity(a[0]), -50);
  EXPECT_EQ(signed_quantity(b[0]), -52);
}

TEST(KernelRiskTrigger, a_healthy_position_is_not_hedged) {
  Kernel kernel = risk_kernel();
  EXPECT_TRUE(orders_in(kernel.on(safe(0))).empty());
  EXPECT_TRUE(orders_in(kernel.on(Timer{at_seconds(120)})).empty());
}

TEST(KernelRiskTrigger, a_position_still_at_risk_is_not_hedged_twice) {
  Kernel kernel = risk_kernel();
  const OrderIntent open = open_hedge(kernel);
  EXPECT_TRUE(orders_in(kernel.on(risky(1))).empty()); // order still in flight
  (void)fill(kernel, open, 50'000, at_seconds(2));
  EXPECT_TRUE(orders_in(kernel.on(risky(3))).empty());               // filled
  EXPECT_TRUE(orders_in(kernel.on(Timer{at_seconds(200)})).empty()); // at risk: never expires
  EXPECT_EQ(kernel.slot(kSwap)->risk_position, Contracts{-50});
}

TEST(KernelRiskTrigger, is_not_closed_before_sixty_seconds_without_risk) {
  Kernel kernel = risk_kernel();
  (void)fill(kernel, open_hedge(kernel), 50'000, at_seconds(0));
  EXPECT_TRUE(orders_in(kernel.on(safe(30))).empty());
  EXPECT_TRUE(orders_in(kernel.on(Timer{at_seconds(59)})).empty());
  EXPECT_EQ(kernel.slot(kSwap)->risk_position, Contracts{-50});
}

TEST(KernelRiskTrigger, is_closed_by_the_timer_sixty_seconds_after_the_last_risk) {
  Kernel kernel = risk_kernel();
  (void)fill(kernel, open_hedge(kernel), 50'000, at_seconds(0));
  (void)kernel.on(safe(30));
  const auto orders = orders_in(kernel.on(Timer{at_seconds(60)}));
  ASSERT_EQ(orders.size(), 1U);
  EXPECT_EQ(signed_quantity(orders[0]), 50);
  EXPECT_TRUE(orders[0].reduce_only);
  EXPECT_EQ(orders[0].purpose, OrderPurpose::risk_trigger_hedge);
  (void)fill(kernel, orders[0], 50'000, at_seconds(61));
  EXPECT_EQ(kernel.slot(kSwap)->risk_position, Contracts{0});
  EXPECT_EQ(kernel.slot(kSwap)->position, Contracts{0});
  EXPECT_TRUE(orders_in(kernel.on(Timer{at_seconds(200)})).empty()); // closed once
}

TEST(KernelRiskTrigger, a_healthy_observation_after_sixty_seconds_closes_directly) {
  Kernel kernel = risk_kernel();
  (void)fill(kernel, open_hedge(kernel), 50'000, at_seconds(0));
  const auto orders = orders_in(kernel.on(safe(61)));
  ASSERT_EQ(orders.size(), 1U);
  EXPECT_EQ(signed_quantity(orders[0]), 50);
}

TEST(KernelRiskTrigger, renewed_risk_restarts_the_sixty_seconds) {
  Kernel kernel = risk_kernel();
  (void)fill(kernel, open_hedge(kernel), 50'000, at_seconds(0));
  (void)kernel.on(safe(30));
  EXPECT_TRUE(orders_in(kernel.on(risky(50))).empty()); // still hedged: no second order
  (void)kernel.on(safe(70));
  EXPECT_TRUE(orders_in(kernel.on(Timer{at_seconds(109)})).empty()); // 59 s after the last risk
  const auto orders = orders_in(kernel.on(Timer{at_seconds(110)}));
  ASSERT_EQ(orders.size(), 1U);
  EXPECT_EQ(signed_quantity(orders[0]), 50);
}

TEST(KernelRiskTrigger, a_closed_hedge_is_reopened_when_risk_returns) {
  Kernel kernel = risk_kernel();
  (void)fill(kernel, open_hedge(kernel), 50'000, at_seconds(0));
  (void)kernel.on(safe(30));
  const auto close = orders_in(kernel.on(Timer{at_seconds(60)}));
  ASSERT_EQ(close.size(), 1U);
  (void)fill(kernel, close[0], 50'000, at_seconds(61));
  const auto reopen = orders_in(kernel.on(risky(70)));
  ASSERT_EQ(reopen.size(), 1U);
  EXPECT_EQ(signed_quantity(reopen[0]), -50);
}

TEST(KernelRiskTrigger, is_closed_at_once_when_the_source_position_is_gone) {
  Kernel kernel = risk_kernel();
  (void)fill(kernel, open_hedge(kernel), 50'000, at_seconds(0));
  const auto orders = orders_in(kernel.on(gone(5))); // well inside the 60 s
  ASSERT_EQ(orders.size(), 1U);
  EXPECT_EQ(signed_quantity(orders[0]), 50);
  EXPECT_TRUE(orders[0].reduce_only);
  EXPECT_EQ(orders[0].purpose, OrderPurpose::risk_trigger_hedge);
  (void)fill(kernel, orders[0], 50'000, at_seconds(6));
  EXPECT_EQ(kernel.open_orders(), 0U);
  EXPECT_EQ(kernel.slot(kSwap)->risk_position, Contracts{0});
  EXPECT_TRUE(orders_in(kernel.on(Timer{at_seconds(120)})).empty());
  EXPECT_TRUE(orders_in(kernel.on(gone(121))).empty());
}

TEST(KernelRiskTrigger, a_source_gone_before_it_was_ever_hedged_does_nothing) {
  Kernel kernel = risk_kernel();
  EXPECT_TRUE(orders_in(kernel.on(safe(0))).empty());
  EXPECT_TRUE(orders_in(kernel.on(gone(1))).empty());
  EXPECT_TRUE(orders_in(kernel.on(gone(2, 99))).empty()); // never seen at all
}

TEST(KernelRiskTrigger, closes_only_what_the_opening_order_filled) {
  Kernel kernel = risk_kernel();
  const OrderIntent open = open_hedge(kernel);
  (void)kernel.on(ExecutionReport{open.client_order_id, OrderStatus::partially_filled, Contracts{20},
                                  Price::from_dollars(50'000), at_seconds(1)});
  (void)kernel.on(ExecutionReport{open.client_order_id, OrderStatus::canceled, Contracts{0}, Price{}, at_seconds(2)});
  EXPECT_EQ(kernel.slot(kSwap)->risk_position, Contracts{-20});
  const auto orders = orders_in(kernel.on(gone(3)));
  ASSERT_EQ(orders.size(), 1U);
  EXPECT_EQ(signed_quantity(orders[0]), 20);
}

TEST(KernelRiskTrigger, a_rejected_opening_hedge_is_reopened_on_the_next_risky_event) {
  Kernel kernel = risk_kernel();
  const OrderIntent open = open_hedge(kernel);
  (void)kernel.on(ExecutionReport{open.client_order_id, OrderStatus::rejected, Contracts{0}, Price{}, at_seconds(1)});
  EXPECT_EQ(kernel.slot(kSwap)->risk_in_flight, Contracts{0});
  EXPECT_TRUE(orders_in(kernel.on(Timer{at_seconds(2)})).empty()); // a timer alone does not reopen
  const auto orders = orders_in(kernel.on(risky(3)));
  ASSERT_EQ(orders.size(), 1U);
  EXPECT_EQ(signed_quantity(orders[0]), -50);
  EXPECT_NE(orders[0].client_order_id, open.client_order_id);
}

TEST(KernelRiskTrigger, a_rejected_close_is_retried_by_the_timer) {
  Kernel kernel = risk_kernel();
  (void)fill(kernel, open_hedge(kernel), 50'000, at_seconds(0));
  (void)kernel.on(safe(30));
  const auto close = orders_in(kernel.on(Timer{at_seconds(60)}));
  ASSERT_EQ(close.size(), 1U);
  (void)kernel.on(
      ExecutionReport{close[0].client_order_id, OrderStatus::rejected, Contracts{0}, Price{}, at_seconds(61)});
  const auto retry = orders_in(kernel.on(Timer{at_seconds(62)}));
  ASSERT_EQ(retry.size(), 1U);
  EXPECT_EQ(signed_quantity(retry[0]), 50);
}

TEST(KernelRiskTrigger, a_rejected_close_of_a_gone_source_is_retried_by_the_timer) {
  Kernel kernel = risk_kernel();
  (void)fill(kernel, open_hedge(kernel), 50'000, at_seconds(0));
  const auto close = orders_in(kernel.on(gone(5)));
  ASSERT_EQ(close.size(), 1U);
  (void)kernel.on(
      ExecutionReport{close[0].client_order_id, OrderStatus::rejected, Contracts{0}, Price{}, at_seconds(6)});
  const auto retry = orders_in(kernel.on(Timer{at_seconds(7)}));
  ASSERT_EQ(retry.size(), 1U);
  EXPECT_EQ(signed_quantity(retry[0]), 50);
}

TEST(KernelRiskTrigger, its_fills_never_make_the_liability_hedge_trade) {
  Kernel kernel = risk_kernel();
  const auto liability_orders = orders_in(kernel.on(liability(1'000'000)));
  ASSERT_EQ(liability_orders.size(), 1U);
  EXPECT_EQ(signed_quantity(liability_orders[0]), -98);
  (void)fill(kernel, liability_orders[0], 50'000, kStart);

  // the risk hedge opens: exactly one order, the risk one
  const auto opened = orders_in(kernel.on(risky(1)));
  ASSERT_EQ(opened.size(), 1U);
  EXPECT_EQ(opened[0].purpose, OrderPurpose::risk_trigger_hedge);
  EXPECT_EQ(signed_quantity(opened[0]), -50);
  // and fills: the venue is 148 short, the liability hedge still sees its 98
  EXPECT_TRUE(orders_in(fill(kernel, opened[0], 50'000, at_seconds(2))).empty());
  EXPECT_EQ(kernel.slot(kSwap)->position, Contracts{-148});
  EXPECT_EQ(kernel.liability_hedge_exposure(), UsdCents{-980'000});
  EXPECT_TRUE(orders_in(kernel.on(Timer{at_seconds(3)})).empty());

  // more liability is sized off the liability hedge alone: $11,000 with 98
  // short (0.89) -> sell round((10,780 - 9,800) / 100) = round(9.8) = 10
  const auto more = orders_in(kernel.on(liability(100'000, at_seconds(4))));
  ASSERT_EQ(more.size(), 1U);
  EXPECT_EQ(more[0].purpose, OrderPurpose::liability_hedge);
  EXPECT_EQ(signed_quantity(more[0]), -10);
  (void)fill(kernel, more[0], 50'000, at_seconds(5));

  // the risk hedge closes: again exactly one order, the risk one
  const auto closed = orders_in(kernel.on(gone(6)));
  ASSERT_EQ(closed.size(), 1U);
  EXPECT_EQ(closed[0].purpose, OrderPurpose::risk_trigger_hedge);
  EXPECT_EQ(signed_quantity(closed[0]), 50);
  EXPECT_TRUE(orders_in(fill(kernel, closed[0], 50'000, at_seconds(7))).empty());
  EXPECT_EQ(kernel.slot(kSwap)->position, Contracts{-108});
  EXPECT_EQ(kernel.slot(kSwap)->risk_position, Contracts{0});
  EXPECT_EQ(kernel.liability_hedge_exposure(), UsdCents{-1'080'000});
}

TEST(KernelRiskTrigger, a_risk_order_in_flight_does_not_count_as_liability_hedge) {
  Kernel kernel = risk_kernel();
  (void)open_hedge(kernel); // 50 sell in flight, unfilled
  // $10,000 liability: the full 98 are sold for it
  const auto orders = orders_in(kernel.on(liability(1'000'000, at_seconds(1))));
  ASSERT_EQ(orders.size(), 1U);
  EXPECT_EQ(orders[0].purpose, OrderPurpose::liability_hedge);
  EXPECT_EQ(signed_quantity(orders[0]), -98);
}

TEST(KernelRiskTrigger, an_unrouted_market_is_reported) {
  Kernel kernel = risk_kernel();
  ExternalRiskPosition p = risky(0);
  p.market = 3;
  p.position_id = 11;
  const auto actions = kernel.on(p);
  EXPECT_TRUE(orders_in(actions).empty());
  const auto invalid = alerts_in(actions, AlertCode::invalid_event);
  ASSERT_EQ(invalid.size(), 1U);
  EXPECT_EQ(invalid[0].values[0], 3);
  EXPECT_EQ(invalid[0].values[1], 11);
}

} // namespace
} // namespace synthusd::hedging
