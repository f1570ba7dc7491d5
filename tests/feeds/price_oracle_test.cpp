#include <gtest/gtest.h>

#include <stdexcept>

#include "synthusd/feeds/price_oracle.hpp"

namespace synthusd::feeds {
namespace {

using hedging::Duration;
using hedging::Price;
using hedging::Timestamp;

constexpr Timestamp kNow{1'700'000'000LL * 1'000'000'000};

Timestamp seconds_ago(std::int64_t s) { return kNow - Duration::from_seconds(s); }

TEST(PriceOracle, publishes_the_median_of_fresh_sources) {
  PriceOracle oracle({}, 3);
  oracle.update(0, Price::from_dollars(50'000), kNow);
  oracle.update(1, Price::from_dollars(50'100), kNow);
  oracle.update(2, Price::from_dollars(49'950), kNow);
  const OracleReading reading = oracle.read(kNow);
  EXPECT_EQ(reading.status, OracleStatus::trusted);
  EXPECT_EQ(reading.price, Price::from_dollars(50'000));
  EXPECT_EQ(reading.agreeing, 3u);
}

TEST(PriceOracle, drops_an_outlier_more_than_five_percent_from_the_median) {
  PriceOracle oracle({}, 3);
  oracle.update(0, Price::from_dollars(50'000), kNow);
  oracle.update(1, Price::from_dollars(50'200), kNow);
  oracle.update(2, Price::from_dollars(60'000), kNow); // +19.5 % from the median
  const OracleReading reading = oracle.read(kNow);
  EXPECT_EQ(reading.status, OracleStatus::trusted);
  EXPECT_EQ(reading.agreeing, 2u);
  EXPECT_EQ(reading.price, Price::from_dollars(50'100)); // median of the two that agree
}

TEST(PriceOracle, exactly_five_percent_from_the_median_still_agrees) {
  PriceOracle oracle({}, 3);
  oracle.update(0, Price::from_dollars(100'000), kNow);
  oracle.update(1, Price::from_dollars(100'000), kNow);
  oracle.update(2, Price::from_dollars(105'000), kNow);
  EXPECT_EQ(oracle.read(kNow).agreeing, 3u);
}

TEST(PriceOracle, two_sources_that_disagree_give_no_price) {
  PriceOracle oracle({}, 2);
  oracle.update(0, Price::from_dollars(50'000), kNow);
  oracle.update(1, Price::from_dollars(56'000), kNow); // each 5.7 % from the mean
  const OracleReading reading = oracle.read(kNow);
  EXPECT_EQ(reading.status, OracleStatus::no_agreement);
  EXPECT_EQ(reading.price, Price{}); // nothing trusted yet
}

TEST(PriceOracle, two_sources_ten_percent_apart_disagree_though_each_is_within_five_percent_of_their_midpoint) {
  PriceOracle oracle({}, 2);
  oracle.update(0, Price::from_dollars(50'000), kNow);
  oracle.update(1, Price::from_dollars(55'000), kNow); // midpoint 52,500: each 4.8 % from it, 9.5 % apart
  const OracleReading reading = oracle.read(kNow);
  EXPECT_EQ(reading.status, OracleStatus::no_agreement);
  EXPECT_EQ(reading.agreeing, 0u);
  EXPECT_FALSE(oracle.source(0).agreeing);
  EXPECT_FALSE(oracle.source(1).agreeing);
  // 5 % apart (of their midpoint) is still agreement
  oracle.update(1, Price::from_dollars(52'564), kNow); // 2,564 / 51,282 = 4.9996 %
  EXPECT_EQ(oracle.read(kNow).status, OracleStatus::trusted);
}

TEST(PriceOracle, three_sources_spread_wider_than_the_limit_give_no_price) {
  PriceOracle oracle({}, 3);
  oracle.update(0, Price::from_dollars(48'000), kNow);
  oracle.update(1, Price::from_dollars(50'000), kNow);
  oracle.update(2, Price::from_dollars(52'000), kNow); // each within 4 % of the median, 8 % apart
  EXPECT_EQ(oracle.read(kNow).status, OracleStatus::no_agreement);
}

TEST(PriceOracle, ignores_sources_older_than_sixty_seconds) {
  PriceOracle oracle({}, 3);
  oracle.update(0, Price::from_dollars(50'000), seconds_ago(61));
  oracle.update(1, Price::from_dollars(51'000), seconds_ago(60));
  oracle.update(2, Price::from_dollars(51'010), seconds_ago(1));
  const OracleReading reading = oracle.read(kNow);
  EXPECT_EQ(reading.fresh, 2u);
  EXPECT_EQ(reading.price, Price::from_dollars(51'005));
  // once the second goes stale too, a single fresh source is not enough
  EXPECT_EQ(oracle.read(kNow + Duration::from_seconds(1)).status, OracleStatus::no_fresh_source);
}

TEST(PriceOracle, a_single_configured_source_is_enough_on_its_own) {
  PriceOracle oracle({}, 1);
  oracle.update(0, Price::from_dollars(42'000), kNow);
  const OracleReading reading = oracle.read(kNow);
  EXPECT_EQ(reading.status, OracleStatus::trusted);
  EXPECT_EQ(reading.price, Price::from_dollars(42'000));
}

TEST(PriceOracle, a_jump_over_ten_percent_from_one_source_is_quarantined) {
  PriceOracle oracle({}, 1);
  oracle.update(0, Price::from_dollars(40'000), kNow);
  ASSERT_EQ(oracle.read(kNow).status, OracleStatus::trusted);
  oracle.update(0, Price::from_dollars(30'000), kNow + Duration::from_seconds(1)); // -25 %
  const OracleReading reading = oracle.read(kNow + Duration::from_seconds(1));
  EXPECT_EQ(reading.status, OracleStatus::quarantined);
  EXPECT_EQ(reading.price, Price::from_dollars(40'000)); // last trusted stays
  EXPECT_EQ(oracle.quarantines(), 1u);
  // back near the trusted price: the quarantine lifts
  oracle.update(0, Price::from_dollars(41'000), kNow + Duration::from_seconds(2));
  EXPECT_EQ(oracle.read(kNow + Duration::from_seconds(2)).status, OracleStatus::trusted);
}

TEST(PriceOracle, a_jump_is_released_once_two_sources_confirm_it) {
  OracleConfig config;
  config.min_agreeing = 1; // let one source speak, so confirmation is what gates the jump
  PriceOracle oracle(config, 3);
  oracle.update(0, Price::from_dollars(40'000), kNow);
  ASSERT_EQ(oracle.read(kNow).status, OracleStatus::trusted);
  // only source 0 is fresh and it jumped -20 %
  const Timestamp later = kNow + Duration::from_seconds(120);
  oracle.update(0, Price::from_dollars(32'000), later);
  EXPECT_EQ(oracle.read(later).status, OracleStatus::quarantined);
  oracle.update(1, Price::from_dollars(32'100), later);
  const OracleReading confirmed = oracle.read(later);
  EXPECT_EQ(confirmed.status, OracleStatus::trusted);
  EXPECT_EQ(confirmed.price, Price::from_dollars(32'050));
}

TEST(PriceOracle, a_move_of_exactly_ten_percent_is_not_a_jump) {
  PriceOracle oracle({}, 1);
  oracle.update(0, Price::from_dollars(40'000), kNow);
  (void)oracle.read(kNow);
  oracle.update(0, Price::from_dollars(44'000), kNow);
  EXPECT_EQ(oracle.read(kNow).status, OracleStatus::trusted);
}

TEST(PriceOracle, invalid_prices_and_unknown_sources_are_rejected_and_counted) {
  PriceOracle oracle({}, 2);
  oracle.update(0, Price{0}, kNow);
  oracle.update(0, Price{-5}, kNow);
  oracle.update(7, Price::from_dollars(1), kNow);
  EXPECT_EQ(oracle.rejected_updates(), 3u);
  EXPECT_EQ(oracle.read(kNow).status, OracleStatus::no_fresh_source);
}

TEST(PriceOracle, each_source_says_whether_it_agreed_at_the_last_reading) {
  PriceOracle oracle({}, 3);
  oracle.update(0, Price::from_dollars(50'000), kNow);
  oracle.update(1, Price::from_dollars(50'100), seconds_ago(61)); // stale
  oracle.update(2, Price::from_dollars(56'000), kNow);            // 10 % off
  EXPECT_FALSE(oracle.source(0).agreeing);                        // nothing read yet
  (void)oracle.read(kNow);
  // Two fresh sources, 50,000 and 56,000: the median 53,000 is within 5.7 %
  // of neither, so neither agrees and the stale one does not count.
  EXPECT_FALSE(oracle.source(0).agreeing);
  EXPECT_FALSE(oracle.source(1).agreeing);
  EXPECT_FALSE(oracle.source(2).agreeing);
  oracle.update(1, Price::from_dollars(50'100), kNow);
  EXPECT_EQ(oracle.read(kNow).status, OracleStatus::trusted);
  EXPECT_TRUE(oracle.source(0).agreeing);
  EXPECT_TRUE(oracle.source(1).agreeing);
  EXPECT_FALSE(oracle.source(2).agreeing);
  EXPECT_EQ(oracle.source(2).price, Price::from_dollars(56'000));
  EXPECT_TRUE(oracle.source(2).seen);
  EXPECT_EQ(oracle.config().min_agreeing, 2u); // resolved from 0
}

TEST(PriceOracle, configuration_errors_are_explained) {
  EXPECT_THROW(PriceOracle({}, 0), std::invalid_argument);
  OracleConfig config;
  config.min_agreeing = 3;
  EXPECT_THROW(PriceOracle(config, 2), std::invalid_argument);
  OracleConfig no_confirmation;
  no_confirmation.jump_confirmations = 0;
  EXPECT_THROW(PriceOracle(no_confirmation, 2), std::invalid_argument);
}

} // namespace
} // namespace synthusd::feeds
