#include <gtest/gtest.h>

#include <string>

#include "synthusd/engine/kernel_metrics.hpp"

namespace synthusd::engine {
namespace {

TEST(KernelMetrics, reports_liability_positions_and_counters_by_name) {
  hedging::Kernel kernel(hedging::reference_config());
  (void)kernel.on(hedging::LiabilityChange{1, hedging::UsdCents{123'456}, {}, {}, {}});
  const std::string text = kernel_metrics(kernel);
  EXPECT_NE(text.find("synthusd_liability_usd_cents 123456"), std::string::npos);
  EXPECT_NE(text.find("synthusd_position_contracts{venue=\"1\",instrument=\"BTC-USD-SWAP\"} 0"), std::string::npos);
  EXPECT_NE(text.find("synthusd_collateral_sats{venue=\"deribit\"} 0"), std::string::npos);
  EXPECT_NE(text.find("synthusd_kernel_events_total 1"), std::string::npos);
  EXPECT_NE(text.find("# TYPE synthusd_kernel_orders_total counter"), std::string::npos);
}

TEST(KernelMetrics, leverage_and_liquidation_distance_appear_once_the_venue_reported_collateral) {
  hedging::Kernel kernel(hedging::reference_config());
  hedging::MarketUpdate update;
  update.venue = 1; // okx: BTC-USD-SWAP, $100 contracts, maintenance 0.5 %
  update.instrument = 1;
  update.bid = hedging::Price::from_dollars(49'999);
  update.ask = hedging::Price::from_dollars(50'001);
  update.mark = hedging::Price::from_dollars(50'000);
  update.index = hedging::Price::from_dollars(50'000);
  update.time = hedging::Timestamp{1'000'000'000};
  (void)kernel.on(update);
  (void)kernel.on(hedging::PositionSnapshot{1, 1, hedging::Contracts{-100}, hedging::Timestamp{1'000'000'001}});
  EXPECT_EQ(kernel_metrics(kernel).find("synthusd_leverage{"), std::string::npos); // no collateral known: no guess
  // 0.1 BTC = $5,000 against a $10,000 short: leverage 2; liquidated after a
  // rise of (5,000 - 0.005 * 10,000) / (10,000 - 5,000) = 99 %.
  (void)kernel.on(hedging::CollateralSnapshot{1, hedging::Sats{10'000'000}, hedging::Timestamp{1'000'000'002},
                                              hedging::Sats{4'000'000}});
  const std::string text = kernel_metrics(kernel);
  EXPECT_NE(text.find("synthusd_withdrawable_sats{venue=\"okx\"} 4000000\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("synthusd_withdrawable_sats{venue=\"deribit\"}"), std::string::npos) << "never reported";
  EXPECT_NE(text.find("synthusd_transfer_in_flight_sats{venue=\"okx\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("synthusd_leverage{venue=\"okx\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("synthusd_liquidation_distance{venue=\"okx\"} 0.99\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("synthusd_leverage{venue=\"deribit\"}"), std::string::npos);
  // Up with nothing owed: the short is closed and everything withdrawn, but
  // no more than the venue pays out; a withdrawal is shown negative.
  (void)kernel.on(hedging::VenueStatus{1, true, hedging::Timestamp{1'000'000'003}});
  EXPECT_NE(kernel_metrics(kernel).find("synthusd_transfer_in_flight_sats{venue=\"okx\"} -4000000\n"),
            std::string::npos);
}

TEST(KernelMetrics, the_funding_guard_venue_state_and_netted_provider_interest_are_exported) {
  hedging::KernelConfig config = hedging::reference_config();
  config.funding_guard.engage_after = hedging::Duration::from_seconds(10);
  hedging::Kernel kernel(config);
  hedging::MarketUpdate update;
  update.venue = 1; // okx's perpetual, shorts paying 0.05 % per interval
  update.instrument = 1;
  update.bid = hedging::Price::from_dollars(49'999);
  update.ask = hedging::Price::from_dollars(50'001);
  update.mark = hedging::Price::from_dollars(50'000);
  update.index = hedging::Price::from_dollars(50'000);
  update.funding_rate = hedging::Ratio::from_ppm(-500);
  update.time = hedging::Timestamp{1'000'000'000};
  (void)kernel.on(update);
  (void)kernel.on(hedging::VenueStatus{1, true, hedging::Timestamp{1'000'000'001}});
  (void)kernel.on(hedging::ProviderInterestChange{7, hedging::UsdCents{40'000}, hedging::Timestamp{1'000'000'002}});
  const std::string before = kernel_metrics(kernel);
  EXPECT_NE(before.find("synthusd_funding_guard_engaged{venue=\"1\",instrument=\"BTC-USD-SWAP\"} 0\n"),
            std::string::npos)
      << before;
  EXPECT_NE(before.find("synthusd_venue_up{venue=\"okx\"} 1\n"), std::string::npos) << before;
  EXPECT_NE(before.find("synthusd_venue_up{venue=\"deribit\"} 0\n"), std::string::npos) << before;
  EXPECT_NE(before.find("synthusd_provider_interest_usd_cents 40000\n"), std::string::npos) << before;
  update.time = hedging::Timestamp{11'000'000'000}; // still below the threshold 10 s later: engaged
  (void)kernel.on(update);
  const std::string after = kernel_metrics(kernel);
  EXPECT_NE(after.find("synthusd_funding_guard_engaged{venue=\"1\",instrument=\"BTC-USD-SWAP\"} 1\n"),
            std::string::npos)
      << after;
}

} // namespace
} // namespace synthusd::engine
