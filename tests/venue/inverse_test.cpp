// Inverse-contract arithmetic of the venue simulator: exact values, and the
// "in the venue's favour" rounding rule.

#include "synthusd/venue/inverse.hpp"

#include <gtest/gtest.h>

namespace {

using namespace synthusd::venue;

constexpr UsdCents kTenDollars{1'000};

TEST(VenueInverseTest, LongGainIsContractsTimesValueTimesReciprocalDifference) {
  // 100 contracts of $10 = $1000; 1000 * (1/40000 - 1/50000) = 0.005 BTC.
  EXPECT_EQ(inverse_pnl(Contracts{100}, kTenDollars, Price::from_dollars(40'000), Price::from_dollars(50'000)),
            Sats{500'000});
}

TEST(VenueInverseTest, ShortLosesWhatTheLongGains) {
  EXPECT_EQ(inverse_pnl(Contracts{-100}, kTenDollars, Price::from_dollars(40'000), Price::from_dollars(50'000)),
            Sats{-500'000});
  EXPECT_EQ(inverse_pnl(Contracts{-100}, kTenDollars, Price::from_dollars(50'000), Price::from_dollars(40'000)),
            Sats{500'000});
}

TEST(VenueInverseTest, InexactPnlRoundsInTheVenuesFavour) {
  // 10 * (1/30000 - 1/30001) = 1.111 sats: a gain of 1, a loss of 2.
  EXPECT_EQ(inverse_pnl(Contracts{1}, kTenDollars, Price::from_dollars(30'000), Price::from_dollars(30'001)), Sats{1});
  EXPECT_EQ(inverse_pnl(Contracts{-1}, kTenDollars, Price::from_dollars(30'000), Price::from_dollars(30'001)),
            Sats{-2});
}

TEST(VenueInverseTest, PnlAtFractionalPricesIsExact) {
  // $10000 * (1/40000.5 - 1/40010.5) = 10000 * 10 / (40000.5 * 40010.5) BTC.
  const Sats pnl = inverse_pnl(Contracts{1'000}, kTenDollars, Price{4'000'050'000'000}, Price{4'001'050'000'000});
  // 1e4 * 10 * 1e8 / 1600440005.25 = 6248.281... sats, rounded down.
  EXPECT_EQ(pnl, Sats{6'248});
}

TEST(VenueInverseTest, ContractValueInSatoshis) {
  EXPECT_EQ(contract_value_sats(Contracts{400}, kTenDollars, Price::from_dollars(40'000), Rounding::down),
            Sats{10'000'000});
  EXPECT_EQ(contract_value_sats(Contracts{1}, kTenDollars, Price::from_dollars(30'000), Rounding::up), Sats{33'334});
}

TEST(VenueInverseTest, TakerFeeIsNotionalTimesRateRoundedUp) {
  const Ratio taker = Ratio::from_ppm(500); // 0.05 %
  // $1000 at 40000 = 0.025 BTC; * 0.0005 = 1250 sats exactly.
  EXPECT_EQ(trading_fee(Contracts{100}, kTenDollars, Price::from_dollars(40'000), taker), Sats{1'250});
  // Sign of the fill does not matter.
  EXPECT_EQ(trading_fee(Contracts{-100}, kTenDollars, Price::from_dollars(40'000), taker), Sats{1'250});
  // $1000 at 30000 * 0.0005 = 1666.67 sats -> 1667.
  EXPECT_EQ(trading_fee(Contracts{100}, kTenDollars, Price::from_dollars(30'000), taker), Sats{1'667});
}

TEST(VenueInverseTest, MakerRebateRoundsTowardZero) {
  // -0.025 % of 0.0333 BTC = -833.33 sats -> -833 (the venue keeps the fraction).
  EXPECT_EQ(trading_fee(Contracts{100}, kTenDollars, Price::from_dollars(30'000), Ratio::from_ppm(-250)), Sats{-833});
  EXPECT_EQ(trading_fee(Contracts{100}, kTenDollars, Price::from_dollars(30'000), Ratio{}), Sats{0});
}

TEST(VenueInverseTest, LongsPayPositiveFunding) {
  const Ratio rate{10'000}; // 0.01 %
  // 1000 contracts = $10000 = 0.25 BTC at 40000; * 0.0001 = 2500 sats.
  EXPECT_EQ(funding_payment(Contracts{1'000}, kTenDollars, Price::from_dollars(40'000), rate), Sats{2'500});
  EXPECT_EQ(funding_payment(Contracts{-1'000}, kTenDollars, Price::from_dollars(40'000), rate), Sats{-2'500});
  EXPECT_EQ(funding_payment(Contracts{1'000}, kTenDollars, Price::from_dollars(40'000), Ratio{-10'000}), Sats{-2'500});
}

TEST(VenueInverseTest, FundingPayerPaysTheFractionReceiverDoesNotGetIt) {
  const Ratio rate{10'000};
  // 0.3333 BTC * 0.0001 = 3333.33 sats.
  EXPECT_EQ(funding_payment(Contracts{1'000}, kTenDollars, Price::from_dollars(30'000), rate), Sats{3'334});
  EXPECT_EQ(funding_payment(Contracts{-1'000}, kTenDollars, Price::from_dollars(30'000), rate), Sats{-3'333});
}

TEST(VenueInverseTest, MarginRequirementUsesTheAbsolutePositionAndRoundsUp) {
  const Ratio ten_percent = Ratio::from_ppm(100'000);
  EXPECT_EQ(margin_requirement(Contracts{-400}, kTenDollars, Price::from_dollars(40'000), ten_percent),
            Sats{1'000'000});
  EXPECT_EQ(margin_requirement(Contracts{1}, kTenDollars, Price::from_dollars(30'000), ten_percent), Sats{3'334});
}

TEST(VenueInverseTest, AverageEntryIsTheHarmonicMeanWeightedByContracts) {
  // 200 / (100/40000 + 100/50000) = 44444.444... -> 44444.44444444 at 1e-8.
  EXPECT_EQ(
      average_entry_price(Contracts{100}, Price::from_dollars(40'000), Contracts{100}, Price::from_dollars(50'000)),
      Price{4'444'444'444'444});
  EXPECT_EQ(
      average_entry_price(Contracts{-100}, Price::from_dollars(40'000), Contracts{-300}, Price::from_dollars(40'000)),
      Price::from_dollars(40'000));
  EXPECT_EQ(average_entry_price(Contracts{}, Price{}, Contracts{5}, Price::from_dollars(123)),
            Price::from_dollars(123));
}

TEST(VenueInverseTest, HarmonicEntryKeepsTheBtcCostBasis) {
  // Closing both lots at one exit gives the same P&L as closing each lot.
  const Price entry =
      average_entry_price(Contracts{100}, Price::from_dollars(40'000), Contracts{100}, Price::from_dollars(50'000));
  const Price exit = Price::from_dollars(45'000);
  const Sats together = inverse_pnl(Contracts{200}, kTenDollars, entry, exit);
  const Sats separately = inverse_pnl(Contracts{100}, kTenDollars, Price::from_dollars(40'000), exit) +
                          inverse_pnl(Contracts{100}, kTenDollars, Price::from_dollars(50'000), exit);
  EXPECT_LE((together - separately).abs(), Sats{2});
}

} // namespace
