// Contract terms: the linear (BTC-sized, coin-margined) arithmetic, its
// rounding in the venue's favour, the inverse terms forwarding to
// inverse.hpp, and the venue engine trading a linear perpetual.

#include "synthusd/venue/contract_terms.hpp"

#include "matching_engine_test_support.hpp"

namespace synthusd::venue::engine_test {
namespace {

constexpr Sats kMilliBitcoin{100'000}; // 0.001 BTC a contract
constexpr ContractTerms kLinear{ContractKind::linear, UsdCents{0}, kMilliBitcoin};
constexpr ContractTerms kInverse{ContractKind::inverse, UsdCents{1'000}, Sats{0}};

TEST(VenueContractTermsTest, LinearPnlIsEarnedInDollarsAndPaidInBitcoinAtTheExit) {
  // 100 contracts = 0.1 BTC; 40000 -> 50000 earns $1000 = 0.02 BTC at 50000.
  EXPECT_EQ(kLinear.pnl(Contracts{100}, dollars(40'000), dollars(50'000)), Sats{2'000'000});
  // The short loses the same, and gains 0.1 * 10000 / 30000 BTC on the way down.
  EXPECT_EQ(kLinear.pnl(Contracts{-100}, dollars(40'000), dollars(50'000)), Sats{-2'000'000});
  EXPECT_EQ(kLinear.pnl(Contracts{-100}, dollars(40'000), dollars(30'000)), Sats{3'333'333});
}

TEST(VenueContractTermsTest, InexactLinearPnlRoundsInTheVenuesFavour) {
  // 0.1 BTC * $10000 / $30000 = 3333333.33 sats: a gain of ...33, a loss of ...34.
  EXPECT_EQ(kLinear.pnl(Contracts{-100}, dollars(40'000), dollars(30'000)), Sats{3'333'333});
  EXPECT_EQ(kLinear.pnl(Contracts{100}, dollars(40'000), dollars(30'000)), Sats{-3'333'334});
}

TEST(VenueContractTermsTest, LinearFeeFundingAndMarginAreTheSizeTimesTheRate) {
  // 100 contracts = 10,000,000 sats whatever the price.
  EXPECT_EQ(kLinear.value_sats(Contracts{100}, dollars(40'000), Rounding::down), Sats{10'000'000});
  EXPECT_EQ(kLinear.value_sats(Contracts{100}, dollars(20'000), Rounding::up), Sats{10'000'000});
  EXPECT_EQ(kLinear.fee(Contracts{-100}, dollars(40'000), Ratio::from_ppm(500)), Sats{5'000});
  // A rebate rounds toward zero, a fee away from it: 3 contracts * 0.0333 %.
  EXPECT_EQ(kLinear.fee(Contracts{3}, dollars(40'000), Ratio::from_ppm(333)), Sats{100});
  EXPECT_EQ(kLinear.fee(Contracts{3}, dollars(40'000), Ratio::from_ppm(-333)), Sats{-99});
  // Longs pay a positive rate; a short receives it, without the fraction.
  EXPECT_EQ(kLinear.funding(Contracts{3}, dollars(40'000), Ratio::from_ppm(333)), Sats{100});
  EXPECT_EQ(kLinear.funding(Contracts{-3}, dollars(40'000), Ratio::from_ppm(333)), Sats{-99});
  EXPECT_EQ(kLinear.margin(Contracts{-100}, dollars(40'000), Ratio::from_ppm(10'000)), Sats{100'000});
  // USD notional: 0.1 BTC at 40000 = $4000.
  EXPECT_EQ(kLinear.notional_cents_at(Contracts{-100}, dollars(40'000)), -400'000);
}

TEST(VenueContractTermsTest, LinearEntryPriceIsTheMeanWeightedByContracts) {
  // 100 at 40000 + 300 at 50000 -> 47500 (inverse would give the harmonic mean).
  EXPECT_EQ(kLinear.average_entry(Contracts{100}, dollars(40'000), Contracts{300}, dollars(50'000)), dollars(47'500));
  EXPECT_EQ(kInverse.average_entry(Contracts{100}, dollars(40'000), Contracts{300}, dollars(50'000)),
            average_entry_price(Contracts{100}, dollars(40'000), Contracts{300}, dollars(50'000)));
  EXPECT_EQ(kLinear.average_entry(Contracts{}, Price{}, Contracts{-5}, dollars(41'000)), dollars(41'000));
}

TEST(VenueContractTermsTest, InverseTermsAreTheInverseArithmetic) {
  const Price entry = dollars(40'000);
  const Price exit = dollars(30'001);
  EXPECT_EQ(kInverse.pnl(Contracts{-7}, entry, exit), inverse_pnl(Contracts{-7}, UsdCents{1'000}, entry, exit));
  EXPECT_EQ(kInverse.fee(Contracts{7}, exit, Ratio::from_ppm(500)),
            trading_fee(Contracts{7}, UsdCents{1'000}, exit, Ratio::from_ppm(500)));
  EXPECT_EQ(kInverse.margin(Contracts{-7}, exit, Ratio::from_ppm(500)),
            margin_requirement(Contracts{-7}, UsdCents{1'000}, exit, Ratio::from_ppm(500)));
  EXPECT_EQ(kInverse.notional_cents_at(Contracts{-7}, exit), -7'000);
}

TEST(VenueContractTermsTest, TermsWithoutAValueOrASizeAreInvalid) {
  EXPECT_TRUE(kLinear.is_valid());
  EXPECT_FALSE((ContractTerms{ContractKind::linear, UsdCents{1'000}, Sats{0}}.is_valid()));
  EXPECT_FALSE((ContractTerms{ContractKind::inverse, UsdCents{0}, Sats{100}}.is_valid()));
}

// ---- the engine on linear terms --------------------------------------------------------

class VenueLinearEngineTest : public VenueEngineTest {
protected:
  VenueLinearEngineTest() {
    config.kind = ContractKind::linear;
    config.contract_value = UsdCents{0};
    config.contract_size = kMilliBitcoin;
    config.taker_fee = Ratio{};
  }
};

TEST_F(VenueLinearEngineTest, AShortIsMarkedToMarketIntoBitcoinAtEveryPrice) {
  Engine engine = make(path({40'000, 30'000, 36'000}));
  engine.new_order(kAlice, market("short", Side::sell, 100), events); // 0.1 BTC at the bid, 40000
  EXPECT_EQ(engine.account(kAlice).entry_price, dollars(40'000));
  engine.advance_to(at_second(1), events);
  // At 30000 the short's $1000 gain is paid in: 0.1 * 10000 / 30000 BTC,
  // and the mark becomes its entry.
  const Sats first = linear_pnl(Contracts{-100}, kMilliBitcoin, dollars(40'000), dollars(30'000));
  EXPECT_EQ(first, Sats{3'333'333});
  EXPECT_EQ(engine.account(kAlice).balance, Sats{100'000'000} + first);
  EXPECT_EQ(engine.account(kAlice).entry_price, dollars(30'000));
  EXPECT_EQ(engine.equity(kAlice), engine.account(kAlice).balance);
  engine.advance_to(at_second(2), events);
  // 30000 -> 36000 costs $600, paid at 36000: 0.1 * 6000 / 36000 BTC.
  const Sats second = linear_pnl(Contracts{-100}, kMilliBitcoin, dollars(30'000), dollars(36'000));
  EXPECT_EQ(second, Sats{-1'666'667});
  EXPECT_EQ(engine.account(kAlice).realised_pnl, first + second);
  engine.new_order(kAlice, market("close", Side::buy, 100), events); // at the ask, 36000.5
  const AccountState& alice = engine.account(kAlice);
  EXPECT_EQ(alice.position, Contracts{0});
  EXPECT_EQ(alice.realised_pnl,
            first + second + linear_pnl(Contracts{-100}, kMilliBitcoin, dollars(36'000), dollars(36'000.5)));
  EXPECT_EQ(alice.balance, Sats{100'000'000} + alice.realised_pnl);
}

TEST_F(VenueLinearEngineTest, FeesAndFundingAreChargedOnTheBitcoinSize) {
  config.taker_fee = Ratio::from_ppm(500);
  Engine engine = make(path({40'000}), FundingSchedule(Ratio{10'000})); // 0.01 % per 8 h
  engine.new_order(kAlice, market("short", Side::sell, 100), events);
  EXPECT_EQ(engine.account(kAlice).fees_paid, Sats{5'000}); // 0.1 BTC * 0.05 %
  engine.advance_to(kStart + Duration::from_hours(8), events);
  EXPECT_EQ(engine.account(kAlice).funding_paid, Sats{-1'000}); // the short receives 0.1 BTC * 0.01 %
}

TEST_F(VenueLinearEngineTest, InitialMarginIsTheSizeTimesTheRatioAtAnyPrice) {
  config.initial_collateral = Sats{1'000'000};      // 0.01 BTC
  config.initial_margin = Ratio::from_ppm(100'000); // I = 10 %: 0.1 BTC of contracts at most
  Engine engine = make(path({40'000}));
  engine.new_order(kAlice, market("too-big", Side::sell, 101), events);
  EXPECT_EQ(executions(events).back().exec_type, ExecType::rejected);
  events.clear();
  engine.new_order(kAlice, market("fits", Side::sell, 100), events);
  EXPECT_EQ(engine.account(kAlice).position, Contracts{-100});
}

TEST_F(VenueLinearEngineTest, ALinearShortIsLiquidatedWhenTheRiseEatsItsCollateral) {
  config.initial_collateral = Sats{1'000'000};         // 0.01 BTC
  config.initial_margin = Ratio::from_ppm(100'000);    // I = 10 %
  config.liquidation_margin = Ratio::from_ppm(50'000); // L = 5 %: 0.005 BTC for 100 contracts
  // Short 0.1 BTC at 40000: equity = 0.01 - 0.1 * (P - 40000) / P, below
  // 0.005 once P > 40000 / 0.95 = 42105.3.
  Engine engine = make(path({40'000, 42'100, 42'110}));
  engine.new_order(kAlice, market("short", Side::sell, 100), events);
  engine.advance_to(at_second(1), events);
  EXPECT_EQ(engine.account(kAlice).liquidations, 0);
  engine.advance_to(at_second(2), events);
  EXPECT_EQ(engine.account(kAlice).liquidations, 1);
  EXPECT_EQ(engine.account(kAlice).position, Contracts{0});
}

} // namespace
} // namespace synthusd::venue::engine_test
