// The building blocks of the `synthusd run` pipeline (engine/src/run/): the
// latency histogram, the event count idle consumers sleep on, and the
// liability channel a source hands its events to.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "run/latency_histogram.hpp"
#include "run/pipeline.hpp"
#include "run/threads.hpp"
#include "run_test_support.hpp"

namespace synthusd::engine::run {
namespace {

using testing::finishes;

// ---- LatencyHistogram ----

// Values around every bucket edge from 0 to the top of the range (2^44 ns).
std::vector<std::uint64_t> edge_values() {
  std::vector<std::uint64_t> values;
  for (std::uint64_t v = 0; v < 4096; ++v) {
    values.push_back(v);
  }
  for (std::size_t index = 0; index < LatencyHistogram::kBuckets; ++index) {
    const auto bound = static_cast<std::uint64_t>(LatencyHistogram::upper_bound(index));
    values.push_back(bound);
    values.push_back(bound + 1);
    if (bound > 0) {
      values.push_back(bound - 1);
    }
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  // 2^44 and above fall in the last bucket by design (clamped), beyond its bound.
  values.erase(std::remove_if(values.begin(), values.end(), [](std::uint64_t v) { return v >= (1ULL << 44); }),
               values.end());
  return values;
}

TEST(LatencyHistogram, every_value_lies_in_the_bucket_whose_range_contains_it) {
  for (const std::uint64_t value : edge_values()) {
    const std::size_t index = LatencyHistogram::bucket(value);
    ASSERT_LT(index, LatencyHistogram::kBuckets) << value;
    EXPECT_LE(value, static_cast<std::uint64_t>(LatencyHistogram::upper_bound(index))) << value;
    if (index > 0) {
      // and not in a lower one: the previous bucket ends below it
      EXPECT_GT(value, static_cast<std::uint64_t>(LatencyHistogram::upper_bound(index - 1))) << value;
    }
  }
  EXPECT_EQ(LatencyHistogram::upper_bound(LatencyHistogram::kBuckets - 1), (std::int64_t{1} << 44) - 1);
}

TEST(LatencyHistogram, buckets_and_their_bounds_grow_with_the_value) {
  std::size_t previous = 0;
  for (const std::uint64_t value : edge_values()) {
    const std::size_t index = LatencyHistogram::bucket(value);
    EXPECT_GE(index, previous) << value;
    previous = index;
  }
  for (std::size_t index = 1; index < LatencyHistogram::kBuckets; ++index) {
    EXPECT_GT(LatencyHistogram::upper_bound(index), LatencyHistogram::upper_bound(index - 1)) << index;
  }
  // exact below 16 ns
  for (std::uint64_t value = 0; value < 16; ++value) {
    EXPECT_EQ(LatencyHistogram::upper_bound(LatencyHistogram::bucket(value)), static_cast<std::int64_t>(value));
  }
}

TEST(LatencyHistogram, quantiles_are_within_a_quarter_of_the_true_quantile) {
  // Log-uniform latencies from 100 ns to 10 ms (a deterministic LCG).
  LatencyHistogram histogram;
  std::vector<std::int64_t> values;
  std::uint64_t state = 12345;
  for (int i = 0; i < 100'000; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const double unit = static_cast<double>(state >> 11) / static_cast<double>(1ULL << 53);
    const auto value = static_cast<std::int64_t>(100.0 * std::pow(1e5, unit));
    values.push_back(value);
    histogram.record(value);
  }
  std::sort(values.begin(), values.end());
  ASSERT_EQ(histogram.count(), values.size());
  for (const double q : {0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    const auto rank = static_cast<std::size_t>(q * static_cast<double>(values.size()) + 0.5);
    const std::int64_t truth = values[rank - 1];
    const std::int64_t estimate = histogram.quantile(q);
    EXPECT_GE(estimate, truth) << "q=" << q; // the upper bound of the bucket holding it
    EXPECT_LE(static_cast<double>(estimate), 1.25 * static_cast<double>(truth)) << "q=" << q;
  }
}

TEST(LatencyHistogram, a_single_repeated_value_is_every_quantile) {
  LatencyHistogram histogram;
  for (int i = 0; i < 10; ++i) {
    histogram.record(7); // exact below 16 ns
  }
  EXPECT_EQ(histogram.quantile(0.001), 7);
  EXPECT_EQ(histogram.quantile(0.5), 7);
  EXPECT_EQ(histogram.quantile(1.0), 7);
}

TEST(LatencyHistogram, an_empty_histogram_reports_zero_and_a_negative_sample_counts_as_zero) {
  LatencyHistogram histogram;
  EXPECT_EQ(histogram.count(), 0u);
  EXPECT_EQ(histogram.quantile(0.5), 0);
  EXPECT_EQ(histogram.quantile(0.99), 0);
  histogram.record(-5); // a clock step backwards
  EXPECT_EQ(histogram.count(), 1u);
  EXPECT_EQ(histogram.quantile(0.5), 0);
}

struct RenderedBucket {
  std::string le;
  std::uint64_t count = 0;
};

std::vector<RenderedBucket> rendered_buckets(const std::string& text, const std::string& name) {
  std::vector<RenderedBucket> buckets;
  std::istringstream lines(text);
  std::string line;
  const std::string prefix = name + "_bucket{le=\"";
  while (std::getline(lines, line)) {
    if (line.rfind(prefix, 0) != 0) {
      continue;
    }
    const std::size_t close = line.find("\"} ", prefix.size());
    EXPECT_NE(close, std::string::npos) << line;
    buckets.push_back({line.substr(prefix.size(), close - prefix.size()), std::stoull(line.substr(close + 3))});
  }
  return buckets;
}

TEST(LatencyHistogram, render_emits_cumulative_prometheus_buckets_ending_in_inf_equal_to_the_count) {
  LatencyHistogram histogram;
  histogram.record(100);            // < 128 ns
  histogram.record(100);            // < 128 ns
  histogram.record(127);            // < 128 ns
  histogram.record(1'000);          // < 1,024 ns
  histogram.record(1'000'000);      // < 2^20 ns
  histogram.record(20'000'000'000); // 20 s: above the last finite bucket (2^34 ns)
  PrometheusText out;
  histogram.render(out, "test_latency_seconds", "what it measures");
  const std::string text = out.text();

  EXPECT_EQ(text.rfind("# HELP test_latency_seconds what it measures\n# TYPE test_latency_seconds histogram\n", 0), 0u)
      << text;
  const std::vector<RenderedBucket> buckets = rendered_buckets(text, "test_latency_seconds");
  ASSERT_EQ(buckets.size(), 34u - 7u + 1u + 1u) << text; // 2^7 .. 2^34 ns, then +Inf
  std::uint64_t previous = 0;
  double previous_bound = 0;
  for (std::size_t i = 0; i + 1 < buckets.size(); ++i) {
    EXPECT_GE(buckets[i].count, previous) << buckets[i].le; // cumulative
    previous = buckets[i].count;
    const double bound = std::stod(buckets[i].le);
    EXPECT_GT(bound, previous_bound) << buckets[i].le;
    previous_bound = bound;
  }
  EXPECT_EQ(buckets.front().le, "1.28e-07");
  EXPECT_EQ(buckets.front().count, 3u);
  EXPECT_EQ(buckets[3].le, "1.024e-06");
  EXPECT_EQ(buckets[3].count, 4u);
  EXPECT_EQ(buckets[13].le, "0.001048576");
  EXPECT_EQ(buckets[13].count, 5u);
  EXPECT_EQ(buckets[buckets.size() - 2].le, "17.1798692"); // 2^34 ns
  EXPECT_EQ(buckets[buckets.size() - 2].count, 5u);        // the 20 s sample is only in +Inf
  EXPECT_EQ(buckets.back().le, "+Inf");
  EXPECT_EQ(buckets.back().count, histogram.count());
  EXPECT_NE(text.find("\ntest_latency_seconds_count 6\n"), std::string::npos) << text;
}

// ---- EventCount and Idler ----

TEST(EventCount, a_wait_after_a_notify_since_prepare_returns_at_once) {
  // The epoch moved between prepare() and wait(): futex_wait must not sleep
  // (a 10 minute timeout would make this test hang).
  auto events = std::make_shared<EventCount>();
  EXPECT_TRUE(finishes([events] {
    const std::uint32_t key = events->prepare();
    events->notify();
    events->wait(key, 600'000'000'000);
    events->cancel();
  }));
}

TEST(EventCount, a_wait_returns_after_its_timeout_without_a_notify) {
  auto events = std::make_shared<EventCount>();
  EXPECT_TRUE(finishes([events] {
    const std::uint32_t key = events->prepare();
    events->wait(key, 1'000'000); // 1 ms
    events->cancel();
  }));
}

TEST(Idler, idle_returns_at_once_when_the_recheck_after_announcing_the_sleep_finds_work) {
  auto events = std::make_shared<EventCount>();
  auto rechecks = std::make_shared<std::atomic<int>>(0);
  EXPECT_TRUE(finishes([events, rechecks] {
    Idler idler(WaitMode::blocking, *events);
    idler.idle(
        [&] {
          rechecks->fetch_add(1);
          return true;
        },
        600'000'000'000); // would sleep 10 minutes without the re-check
  }));
  EXPECT_EQ(rechecks->load(), 1);
}

// A producer and a sleeping consumer play ping-pong many times: every item
// must wake the consumer, whenever it arrives relative to the consumer's
// prepare/re-check/wait steps. The consumer's wait has a 10 minute timeout,
// so a single lost wake-up makes the exchange miss its (generous) deadline.
TEST(Idler, a_consumer_sleeping_in_idle_is_woken_by_every_push_and_notify) {
  constexpr std::uint64_t kItems = 5'000;
  struct Shared {
    EventCount events;
    SpscQueue<std::uint64_t> queue{64};
    std::atomic<std::uint64_t> consumed{0};
    std::atomic<std::uint64_t> sum{0};
    std::atomic<std::uint64_t> sleeps{0};
  };
  auto shared = std::make_shared<Shared>();
  const bool finished = finishes(
      [shared] {
        std::thread consumer([shared] {
          Idler idler(WaitMode::blocking, shared->events);
          std::uint64_t item = 0;
          while (shared->consumed.load() < kItems) {
            if (shared->queue.pop(item)) {
              shared->sum.fetch_add(item);
              shared->consumed.fetch_add(1);
              continue;
            }
            shared->sleeps.fetch_add(1);
            idler.idle([&] { return shared->queue.read_available() > 0; }, 600'000'000'000);
          }
        });
        for (std::uint64_t i = 1; i <= kItems; ++i) {
          while (!shared->queue.push(i)) {
            std::this_thread::yield();
          }
          shared->events.notify();
          // Wait for the consumer to take it, so that it goes back to sleep
          // before the next item (every item tests a wake-up).
          while (shared->consumed.load() < i) {
            std::this_thread::yield();
          }
        }
        consumer.join();
      },
      std::chrono::seconds(60));
  ASSERT_TRUE(finished) << "a wake-up was lost after " << shared->consumed.load() << " items";
  EXPECT_EQ(shared->consumed.load(), kItems);
  EXPECT_EQ(shared->sum.load(), kItems * (kItems + 1) / 2);
  EXPECT_GT(shared->sleeps.load(), 0u); // the consumer did go idle
}

TEST(WaitMode, automatic_is_blocking_below_four_cpus_and_spin_otherwise) {
  const WaitMode expected = std::thread::hardware_concurrency() < 4 ? WaitMode::blocking : WaitMode::spin;
  EXPECT_EQ(resolve_wait_mode(WaitMode::automatic), expected);
  EXPECT_EQ(resolve_wait_mode(WaitMode::spin), WaitMode::spin);
  EXPECT_EQ(resolve_wait_mode(WaitMode::blocking), WaitMode::blocking);
  EventCount events;
  EXPECT_EQ(Idler(WaitMode::automatic, events).spinning(), expected == WaitMode::spin);
  EXPECT_TRUE(Idler(WaitMode::spin, events).spinning());
  EXPECT_FALSE(Idler(WaitMode::blocking, events).spinning());
}

// ---- LiabilityChannel ----

struct ChannelFixture {
  explicit ChannelFixture(std::size_t capacity) : channel(capacity, wakeup, index_price_raw) {}
  EventCount wakeup;
  std::atomic<std::int64_t> index_price_raw{0};
  LiabilityChannel channel;
};

hedging::LiabilityChange change(std::uint64_t id) { return testing::liability_change(id, 100 * id, testing::kStart); }

TEST(LiabilityChannel, tickets_start_at_one_and_increase_by_one) {
  ChannelFixture f(64);
  EXPECT_EQ(f.channel.submitted(), 0u);
  for (std::uint64_t i = 1; i <= 10; ++i) {
    EXPECT_EQ(f.channel.submit(change(i), "w-test"), i);
    EXPECT_EQ(f.channel.submitted(), i);
  }
  // The kernel side gets each event with its ticket, in order.
  LiabilityItem item;
  for (std::uint64_t i = 1; i <= 10; ++i) {
    ASSERT_TRUE(f.channel.queue.pop(item));
    EXPECT_EQ(item.ticket, i);
    EXPECT_EQ(std::get<hedging::LiabilityChange>(item.event).id, i);
    EXPECT_EQ(std::get<hedging::LiabilityChange>(item.event).delta,
              hedging::UsdCents{static_cast<std::int64_t>(100 * i)});
  }
  EXPECT_FALSE(f.channel.queue.pop(item));
}

TEST(LiabilityChannel, a_full_queue_returns_zero_takes_nothing_and_spends_no_ticket) {
  ChannelFixture f(16);
  std::uint64_t accepted = 0;
  while (f.channel.submit(change(accepted + 1), "w-test") != 0) {
    ++accepted;
    ASSERT_LE(accepted, 1'000u);
  }
  EXPECT_EQ(accepted, 16u);
  EXPECT_EQ(f.channel.submitted(), 16u);
  EXPECT_EQ(f.channel.queue.read_available(), 16u);
  EXPECT_EQ(f.channel.submit(change(999), "w-test"), 0u); // still full: still nothing taken
  EXPECT_EQ(f.channel.queue.read_available(), 16u);
  // Room again: the next ticket follows the last one handed out.
  LiabilityItem item;
  ASSERT_TRUE(f.channel.queue.pop(item));
  EXPECT_EQ(item.ticket, 1u);
  EXPECT_EQ(f.channel.submit(change(17), "w-test"), 17u);
  std::uint64_t last = 0;
  while (f.channel.queue.pop(item)) {
    last = item.ticket;
    EXPECT_NE(std::get<hedging::LiabilityChange>(item.event).id, 999u); // the refused event never entered the queue
  }
  EXPECT_EQ(last, 17u);
}

TEST(LiabilityChannel, make_durable_reports_only_what_the_journal_published) {
  ChannelFixture f(64);
  for (std::uint64_t i = 1; i <= 5; ++i) {
    ASSERT_EQ(f.channel.submit(change(i), "w-test"), i);
  }
  EXPECT_EQ(f.channel.make_durable(), 0u); // submitted is not durable
  f.channel.durable.store(3);
  EXPECT_EQ(f.channel.make_durable(), 3u);
  EXPECT_EQ(f.channel.submitted(), 5u);
  f.channel.durable.store(5);
  EXPECT_EQ(f.channel.make_durable(), 5u);
}

TEST(LiabilityChannel, a_submit_wakes_the_kernel_and_the_index_price_is_the_published_one) {
  auto f = std::make_shared<ChannelFixture>(64);
  EXPECT_TRUE(finishes([f] {
    const std::uint32_t key = f->wakeup.prepare();
    ASSERT_EQ(f->channel.submit(change(1), "w-test"), 1u);
    f->wakeup.wait(key, 600'000'000'000); // returns at once: submit() notified
    f->wakeup.cancel();
  }));
  EXPECT_FALSE(f->channel.index_price().is_valid());
  f->index_price_raw.store(hedging::Price::from_dollars(50'000).raw);
  EXPECT_EQ(f->channel.index_price(), hedging::Price::from_dollars(50'000));
}

// A kernel thread that stopped re-reading the oracle (stalled) leaves its
// last price behind; past the lease the sources must not convert at it.
TEST(LiabilityChannel, deny_an_index_the_kernel_thread_has_not_republished_within_its_lease) {
  ChannelFixture f(64);
  std::atomic<std::int64_t> published_at{0};
  constexpr std::int64_t kLeaseNs = 5'000'000'000;
  f.channel.set_index_lease(published_at, kLeaseNs);
  f.index_price_raw.store(hedging::Price::from_dollars(50'000).raw);
  published_at.store(wall_ns()); // just re-read
  EXPECT_EQ(f.channel.index_price(), hedging::Price::from_dollars(50'000));
  published_at.store(wall_ns() - 2 * kLeaseNs); // ten seconds without a re-read
  EXPECT_FALSE(f.channel.index_price().is_valid());
  published_at.store(wall_ns()); // the kernel thread is back
  EXPECT_EQ(f.channel.index_price(), hedging::Price::from_dollars(50'000));
}

} // namespace
} // namespace synthusd::engine::run
