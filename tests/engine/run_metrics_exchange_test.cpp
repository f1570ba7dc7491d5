// The /metrics hand-over between the HTTP thread and the kernel thread
// (engine/src/run/metrics_exchange.*). The reproduced failure: after one
// answer came later than the scrape waited, every later scrape said "did not
// answer" until a restart. Here the kernel thread is played by the test (a
// kernel that does not answer at all, then one that answers late) or by a
// small answering thread; no assertion depends on how fast anything runs.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "run/metrics_exchange.hpp"
#include "run_test_support.hpp"

namespace synthusd::engine::run {
namespace {

using namespace std::chrono_literals;
using testing::eventually;

// The kernel thread's side, on its own thread: answers whatever is asked
// with the generation it answers, until stopped.
class Answerer {
public:
  explicit Answerer(MetricsExchange& exchange)
      : thread_([this, &exchange] {
          while (!stop_.load()) {
            if (const std::uint64_t generation = exchange.pending(); generation != 0) {
              exchange.answer(generation, "answer to request " + std::to_string(generation));
            }
            std::this_thread::sleep_for(100us);
          }
        }) {}
  ~Answerer() {
    stop_.store(true);
    thread_.join();
  }
  Answerer(const Answerer&) = delete;
  Answerer& operator=(const Answerer&) = delete;

private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(MetricsExchange, a_request_is_answered_with_the_text_rendered_for_it) {
  MetricsExchange exchange;
  EventCount wakeup;
  const Answerer answerer(exchange);
  // 30 s: only a broken exchange waits that long; the answer takes about a millisecond.
  EXPECT_EQ(exchange.request(wakeup, 30s), "answer to request 1");
  EXPECT_EQ(exchange.request(wakeup, 30s), "answer to request 2");
  EXPECT_FALSE(exchange.outstanding());
}

TEST(MetricsExchange, after_a_late_answer_the_next_scrape_is_served_and_the_late_text_is_not_taken_for_it) {
  MetricsExchange exchange;
  EventCount wakeup;
  // The kernel thread is stalled: nobody answers request 1.
  EXPECT_EQ(exchange.request(wakeup, 1ms), std::nullopt);
  EXPECT_TRUE(exchange.outstanding());
  // The kernel thread catches up and answers request 1, long after the scrape gave up.
  const std::uint64_t late = exchange.pending();
  ASSERT_EQ(late, 1u);
  exchange.answer(late, "late answer to request 1");
  EXPECT_FALSE(exchange.outstanding());
  EXPECT_EQ(exchange.pending(), 0u);
  // The next scrape asks again and gets its own answer, not the late one.
  const Answerer answerer(exchange);
  EXPECT_EQ(exchange.request(wakeup, 30s), "answer to request 2");
  EXPECT_EQ(exchange.request(wakeup, 30s), "answer to request 3");
}

TEST(MetricsExchange, while_the_kernel_thread_is_stalled_a_scrape_does_not_wait_again) {
  MetricsExchange exchange;
  EventCount wakeup;
  EXPECT_EQ(exchange.request(wakeup, 1ms), std::nullopt);
  // Still stalled: this scrape must return at once rather than hold the
  // HTTP thread (and POST /kill behind it) for its timeout. Its 60 s are
  // only there to make a wait visible: returning takes microseconds, and the
  // 30 s bound below is far from both.
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(exchange.request(wakeup, 60s), std::nullopt);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s);
  // It did not ask again: the stalled kernel answers one request when it wakes.
  EXPECT_EQ(exchange.pending(), 1u);
  const Answerer answerer(exchange);
  EXPECT_TRUE(eventually([&] { return !exchange.outstanding(); }));
  EXPECT_EQ(exchange.request(wakeup, 30s), "answer to request 2");
}

} // namespace
} // namespace synthusd::engine::run
