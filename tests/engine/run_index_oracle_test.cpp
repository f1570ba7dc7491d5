// The index the liability sources convert sats at under `synthusd run`
// (engine/src/run/index_publisher.*): the price oracle over every feed,
// published by the kernel thread, 0 whenever there is no valid one. A dead
// feed and a wild feed during sats payments: nothing is converted at a bad
// price; the payment waits (Outcome::unpriced) until there is a good one.
//
// Event times are the tests' own (a tick's receive time, a timer's time), as
// the kernel thread hands them to the oracle: nothing here waits on a clock.

#include <gtest/gtest.h>

#include <string>

#include "kernel_pipeline.hpp"
#include "run/index_publisher.hpp"
#include "run_test_support.hpp"
#include "synthusd/engine/run_config.hpp"
#include "synthusd/liabilities/liability_sink.hpp"

namespace synthusd::engine::run {
namespace {

using namespace testing;
using hedging::Price;
using hedging::Timestamp;
using liabilities::Admission;

// A wallet paying sats through the channel the kernel worker publishes the
// index to, with the engine's clock at each payment's time.
class Wallet {
public:
  explicit Wallet(LiabilityChannel& channel)
      : admission_(channel, hedging::Ratio{}, liabilities::AdmissionLimits{}, [this] { return now_ms_; }) {}

  Admission pay_sats(const std::string& id, std::int64_t sats, Timestamp at) {
    now_ms_ = at.nanoseconds / 1'000'000;
    liabilities::LiabilityRequest request;
    request.id = id;
    request.sats = sats;
    request.ts_ms = now_ms_;
    return admission_.admit(request);
  }

private:
  std::int64_t now_ms_ = 0;
  liabilities::LiabilityAdmission admission_;
};

// The prices journaled with each liability event (what sats were converted at).
std::vector<Price> journaled_conversion_prices(KernelPipeline& p) {
  p.flush_journal();
  std::vector<Price> prices;
  for (const JournalRecord& record : read_journal(p.journal_path)) {
    if (const auto* change = std::get_if<hedging::LiabilityChange>(&record.event)) {
      prices.push_back(change->price);
    }
  }
  return prices;
}

TEST(IndexOracle, a_dead_feed_of_two_leaves_no_valid_index_after_the_staleness_limit_and_sats_wait) {
  KernelPipeline p;
  p.oracle = kDefaultOracle; // two agreeing sources, 60 s
  MarketQueue& second = p.add_feed();
  KernelWorker& worker = p.start();
  Wallet wallet(p.liabilities);
  EXPECT_EQ(wallet.pay_sats("early", 10'000, at_ms(0)).outcome, Admission::Outcome::unpriced); // nothing yet
  EXPECT_EQ(worker.index_problem(),
            "no valid index price: 0 of 2 price sources fresh (a price within 60 s), 2 required");

  ASSERT_TRUE(p.market.publish(market_update(50'000, at_ms(0))));
  ASSERT_TRUE(second.publish(market_update(50'010, at_ms(0))));
  EXPECT_TRUE(worker.drain_once());
  EXPECT_EQ(worker.valid_index(), Price::from_dollars(50'005));
  EXPECT_EQ(worker.index_problem(), "");
  const Admission first = wallet.pay_sats("p-1", 100'000, at_ms(1'000));
  ASSERT_EQ(first.outcome, Admission::Outcome::accepted);
  EXPECT_EQ(first.event.price, Price::from_dollars(50'005));
  EXPECT_EQ(first.event.delta, hedging::UsdCents{5'000}); // 0.001 BTC at $50,005, rounded down

  // The second feed dies; the first goes on. 60 s after its last price the
  // second no longer counts, and one source is not enough.
  ASSERT_TRUE(p.market.publish(market_update(50'020, at_ms(60'000))));
  EXPECT_TRUE(worker.drain_once());
  EXPECT_EQ(worker.valid_index(), Price::from_dollars(50'015)); // 60 s old is still fresh
  ASSERT_TRUE(p.market.publish(market_update(50'030, at_ms(60'001))));
  EXPECT_TRUE(worker.drain_once());
  EXPECT_EQ(worker.valid_index(), Price{});
  EXPECT_EQ(worker.index_problem(),
            "no valid index price: 1 of 2 price sources fresh (a price within 60 s), 2 required");
  const Admission held = wallet.pay_sats("p-2", 100'000, at_ms(61'000));
  EXPECT_EQ(held.outcome, Admission::Outcome::unpriced);
  EXPECT_STREQ(held.reason, "no valid index price to convert sats");

  // It comes back: the payment that waited is converted at the new index.
  ASSERT_TRUE(second.publish(market_update(49'990, at_ms(62'000))));
  EXPECT_TRUE(worker.drain_once());
  EXPECT_EQ(worker.valid_index(), Price::from_dollars(50'010));
  const Admission later = wallet.pay_sats("p-2", 100'000, at_ms(62'500));
  ASSERT_EQ(later.outcome, Admission::Outcome::accepted);
  EXPECT_EQ(later.event.price, Price::from_dollars(50'010));
  EXPECT_TRUE(worker.drain_once());
  EXPECT_EQ(journaled_conversion_prices(p),
            (std::vector<Price>{Price::from_dollars(50'005), Price::from_dollars(50'010)}));
}

TEST(IndexOracle, feeds_that_all_fall_silent_go_stale_on_the_timer_without_another_tick) {
  KernelPipeline p;
  p.oracle = kDefaultOracle;
  MarketQueue& second = p.add_feed();
  KernelWorker& worker = p.start();
  ASSERT_TRUE(p.market.publish(market_update(50'000, at_ms(0))));
  ASSERT_TRUE(second.publish(market_update(50'000, at_ms(0))));
  EXPECT_TRUE(worker.drain_once());
  ASSERT_EQ(worker.valid_index(), Price::from_dollars(50'000));
  worker.inject(hedging::Timer{at_ms(60'000)});
  EXPECT_EQ(worker.valid_index(), Price::from_dollars(50'000));
  worker.inject(hedging::Timer{at_ms(60'001)}); // the kernel thread's timer: no tick needed
  EXPECT_EQ(worker.valid_index(), Price{});
  EXPECT_EQ(p.index_price_raw.load(), 0); // what the liability channels read
  EXPECT_FALSE(p.liabilities.index_price().is_valid());
}

TEST(IndexOracle, a_wild_feed_of_three_is_left_out_and_the_median_of_the_others_holds) {
  KernelPipeline p;
  p.oracle = kDefaultOracle;
  MarketQueue& second = p.add_feed();
  MarketQueue& wild = p.add_feed();
  KernelWorker& worker = p.start();
  Wallet wallet(p.liabilities);
  ASSERT_TRUE(p.market.publish(market_update(50'000, at_ms(0))));
  ASSERT_TRUE(second.publish(market_update(50'100, at_ms(0))));
  ASSERT_TRUE(wild.publish(market_update(55'000, at_ms(0)))); // 10 % off
  EXPECT_TRUE(worker.drain_once());
  // Not the last tick's 55,000, not the median of all three (50,100): the
  // median of the two that agree.
  EXPECT_EQ(worker.valid_index(), Price::from_dollars(50'050));
  const Admission paid = wallet.pay_sats("p-1", 100'000, at_ms(1'000));
  ASSERT_EQ(paid.outcome, Admission::Outcome::accepted);
  EXPECT_EQ(paid.event.price, Price::from_dollars(50'050));
  // The wild feed speaking again (last) moves nothing.
  ASSERT_TRUE(wild.publish(market_update(56'000, at_ms(2'000))));
  EXPECT_TRUE(worker.drain_once());
  EXPECT_EQ(worker.valid_index(), Price::from_dollars(50'050));
  EXPECT_EQ(wallet.pay_sats("p-2", 100'000, at_ms(2'500)).event.price, Price::from_dollars(50'050));
}

TEST(IndexOracle, two_feeds_ten_percent_apart_give_no_valid_index_and_sats_wait) {
  KernelPipeline p;
  p.oracle = kDefaultOracle;
  MarketQueue& wild = p.add_feed();
  KernelWorker& worker = p.start();
  Wallet wallet(p.liabilities);
  ASSERT_TRUE(p.market.publish(market_update(50'000, at_ms(0))));
  ASSERT_TRUE(wild.publish(market_update(55'000, at_ms(0))));
  EXPECT_TRUE(worker.drain_once());
  EXPECT_EQ(worker.valid_index(), Price{});
  EXPECT_EQ(worker.index_problem(),
            "no valid index price: 0 of 2 fresh price sources within 5 % of their median and of each other, "
            "2 required");
  EXPECT_EQ(wallet.pay_sats("p-1", 100'000, at_ms(1'000)).outcome, Admission::Outcome::unpriced);
  EXPECT_TRUE(journaled_conversion_prices(p).empty());
  // The wild one comes back into line.
  ASSERT_TRUE(wild.publish(market_update(50'020, at_ms(3'000))));
  EXPECT_TRUE(worker.drain_once());
  EXPECT_EQ(worker.valid_index(), Price::from_dollars(50'010));
}

TEST(IndexOracle, a_jump_waiting_for_confirmation_publishes_no_index_not_the_last_trusted_one) {
  KernelPipeline p;
  p.oracle = kDefaultOracle;
  p.oracle.min_agreeing = 1; // one source may speak alone, so confirmation is what gates the jump
  MarketQueue& second = p.add_feed();
  KernelWorker& worker = p.start();
  Wallet wallet(p.liabilities);
  ASSERT_TRUE(p.market.publish(market_update(50'000, at_ms(0))));
  EXPECT_TRUE(worker.drain_once());
  ASSERT_EQ(worker.valid_index(), Price::from_dollars(50'000));
  ASSERT_TRUE(p.market.publish(market_update(40'000, at_ms(1'000)))); // -20 %, one source
  EXPECT_TRUE(worker.drain_once());
  EXPECT_EQ(worker.valid_index(), Price{});
  EXPECT_EQ(worker.index_problem(), "no valid index price: a move of more than 10 % from the last trusted price "
                                    "waits for 2 agreeing sources (1 so far)");
  EXPECT_EQ(wallet.pay_sats("p-1", 100'000, at_ms(1'500)).outcome, Admission::Outcome::unpriced);
  ASSERT_TRUE(second.publish(market_update(40'100, at_ms(2'000)))); // confirmed
  EXPECT_TRUE(worker.drain_once());
  EXPECT_EQ(worker.valid_index(), Price::from_dollars(40'050));
  EXPECT_EQ(wallet.pay_sats("p-1", 100'000, at_ms(2'500)).event.price, Price::from_dollars(40'050));
}

TEST(IndexPublisher, takes_a_perpetuals_mark_when_an_update_has_no_index_but_never_a_futures) {
  hedging::KernelConfig kernel = one_venue_config();
  hedging::InstrumentSpec future = kernel.instruments[0];
  future.id = 2;
  future.symbol = "BTC-USD-FUT";
  future.kind = hedging::InstrumentKind::inverse_future;
  future.expiry = at_ms(86'400'000);
  kernel.instruments.push_back(future);
  std::atomic<std::int64_t> published{0};
  IndexPublisher index(feeds::OracleConfig{.min_agreeing = 1}, 1, kernel, published);
  hedging::MarketUpdate basis = market_update(52'000, at_ms(0)); // a future 4 % over the index
  basis.instrument = 2;
  basis.index = Price{};
  index.on_market(0, basis);
  EXPECT_EQ(index.valid_index(), Price{});
  hedging::MarketUpdate perpetual = market_update(50'000, at_ms(1));
  perpetual.index = Price{};
  index.on_market(0, perpetual);
  EXPECT_EQ(index.valid_index(), Price::from_dollars(50'000)); // its mark
  EXPECT_EQ(published.load(), Price::from_dollars(50'000).raw);
}

TEST(IndexPublisher, without_feeds_there_is_never_an_index_and_health_says_why) {
  std::atomic<std::int64_t> published{Price::from_dollars(1).raw};
  IndexPublisher index(kDefaultOracle, 0, one_venue_config(), published);
  EXPECT_EQ(published.load(), 0);
  index.on_clock(at_ms(0));
  EXPECT_EQ(index.valid_index(), Price{});
  EXPECT_EQ(index.problem(), "no valid index price: no [[feeds]] configured");
}

TEST(IndexPublisher, metrics_show_the_index_the_sources_and_which_one_is_off) {
  std::atomic<std::int64_t> published{0};
  IndexPublisher index(kDefaultOracle, 3, one_venue_config(), published);
  index.on_market(0, market_update(50'000, at_ms(0)));
  index.on_market(1, market_update(50'100, at_ms(0)));
  index.on_market(2, market_update(55'000, at_ms(0)));
  index.on_clock(at_ms(1'500));
  PrometheusText out;
  index.write_metrics(out);
  const std::string& text = out.text();
  for (const char* line :
       {"synthusd_oracle_index_price_usd 50050\n", "synthusd_oracle_valid 1\n", "synthusd_oracle_quarantined 0\n",
        "synthusd_oracle_sources 3\n", "synthusd_oracle_sources_fresh 3\n", "synthusd_oracle_sources_agreeing 2\n",
        "synthusd_oracle_min_sources 2\n", "synthusd_oracle_source_agreeing{feed=\"0\"} 1\n",
        "synthusd_oracle_source_agreeing{feed=\"2\"} 0\n", "synthusd_oracle_source_price_usd{feed=\"2\"} 55000\n",
        "synthusd_oracle_source_age_seconds{feed=\"1\"} 1.5\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << " not in\n" << text;
  }
}

} // namespace
} // namespace synthusd::engine::run
