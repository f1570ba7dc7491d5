#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "synthusd/feeds/conflating_queue.hpp"
#include "synthusd/hedging/events.hpp"

namespace synthusd::feeds {
namespace {

using hedging::MarketUpdate;
using hedging::Timestamp;

MarketUpdate update(hedging::InstrumentId instrument, std::int64_t sequence) {
  MarketUpdate u;
  u.instrument = instrument;
  u.mark = hedging::Price{sequence};
  u.time = Timestamp{sequence};
  return u;
}

TEST(ConflatingQueue, delivers_in_order_while_there_is_room) {
  ConflatingQueue<MarketUpdate> queue(8, 4);
  for (std::int64_t i = 1; i <= 5; ++i) {
    ASSERT_TRUE(queue.publish(update(static_cast<hedging::InstrumentId>(i % 3), i)));
  }
  MarketUpdate out;
  for (std::int64_t i = 1; i <= 5; ++i) {
    ASSERT_TRUE(queue.pop(out));
    EXPECT_EQ(out.time.nanoseconds, i);
  }
  EXPECT_FALSE(queue.pop(out));
  EXPECT_EQ(queue.conflated(), 0u);
}

TEST(ConflatingQueue, a_full_queue_conflates_per_instrument_latest_wins) {
  ConflatingQueue<MarketUpdate> queue(2, 4);
  ASSERT_TRUE(queue.publish(update(1, 1)));
  ASSERT_TRUE(queue.publish(update(1, 2))); // queue now full
  ASSERT_TRUE(queue.publish(update(2, 3))); // parked
  ASSERT_TRUE(queue.publish(update(1, 4))); // parked
  ASSERT_TRUE(queue.publish(update(2, 5))); // replaces 3
  ASSERT_TRUE(queue.publish(update(1, 6))); // replaces 4
  EXPECT_EQ(queue.conflated(), 2u);
  EXPECT_EQ(queue.parked_count(), 2u);

  MarketUpdate out;
  std::vector<std::int64_t> seen;
  while (queue.pop(out)) {
    seen.push_back(out.time.nanoseconds);
  }
  queue.flush(); // room again: parked updates go out, oldest instrument first
  while (queue.pop(out)) {
    seen.push_back(out.time.nanoseconds);
  }
  EXPECT_EQ(seen, (std::vector<std::int64_t>{1, 2, 5, 6}));
  EXPECT_EQ(queue.published(), 6u);
  EXPECT_EQ(queue.delivered() + queue.conflated(), queue.published());
}

TEST(ConflatingQueue, a_new_update_waits_behind_parked_ones) {
  ConflatingQueue<MarketUpdate> queue(1, 4);
  ASSERT_TRUE(queue.publish(update(1, 1)));
  ASSERT_TRUE(queue.publish(update(1, 2))); // parked
  MarketUpdate out;
  ASSERT_TRUE(queue.pop(out));
  EXPECT_EQ(out.time.nanoseconds, 1);
  ASSERT_TRUE(queue.publish(update(1, 3))); // flush sends 2 first, so 3 parks
  ASSERT_TRUE(queue.pop(out));
  EXPECT_EQ(out.time.nanoseconds, 2);
  queue.flush();
  ASSERT_TRUE(queue.pop(out));
  EXPECT_EQ(out.time.nanoseconds, 3);
}

TEST(ConflatingQueue, refuses_an_instrument_beyond_the_configured_range) {
  ConflatingQueue<MarketUpdate> queue(4, 2);
  EXPECT_FALSE(queue.publish(update(3, 1)));
}

// Two threads: each instrument's sequence arrives strictly increasing, the
// last one always arrives, and nothing is lost without being counted.
TEST(ConflatingQueue, two_threads_never_reorder_or_silently_lose_an_instrument) {
  constexpr int kInstruments = 4;
  constexpr std::int64_t kPerInstrument = 200'000;
  ConflatingQueue<MarketUpdate> queue(64, kInstruments);
  std::atomic<bool> done{false};
  std::vector<std::int64_t> last(kInstruments, 0);
  std::uint64_t received = 0;
  bool ordered = true;
  std::thread consumer([&] {
    MarketUpdate out;
    while (true) {
      if (queue.pop(out)) {
        ++received;
        ordered = ordered && out.time.nanoseconds > last[out.instrument];
        last[out.instrument] = out.time.nanoseconds;
      } else if (done.load(std::memory_order_acquire) && queue.depth() == 0) {
        break;
      }
    }
  });
  for (std::int64_t s = 1; s <= kPerInstrument; ++s) {
    for (int i = 0; i < kInstruments; ++i) {
      ASSERT_TRUE(queue.publish(update(static_cast<hedging::InstrumentId>(i), s)));
    }
  }
  while (queue.parked_count() > 0) {
    queue.flush();
  }
  done.store(true, std::memory_order_release);
  consumer.join();
  EXPECT_TRUE(ordered);
  for (int i = 0; i < kInstruments; ++i) {
    EXPECT_EQ(last[i], kPerInstrument) << "instrument " << i;
  }
  EXPECT_EQ(received, queue.delivered());
  EXPECT_EQ(queue.delivered() + queue.conflated(), queue.published());
}

} // namespace
} // namespace synthusd::feeds
