// Feed thread -> kernel thread hand-off: round trip of a market update
// between two pinned threads, Boost.Lockfree spsc_queue against a
// std::mutex + std::deque queue, in the same binary and run. The echo
// thread spins; the benchmark thread sends one update and spins until it
// comes back, so one iteration is two hand-offs.

#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <boost/lockfree/spsc_queue.hpp>
#include <deque>
#include <mutex>
#include <thread>

#include "synthusd/feeds/conflating_queue.hpp"
#include "synthusd/hedging/events.hpp"

namespace {

using synthusd::hedging::MarketUpdate;

void pin_to(int cpu) {
  const int cpus = static_cast<int>(std::thread::hardware_concurrency());
  if (cpus <= 1) {
    return;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % cpus, &set);
  (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

class LockfreeQueue {
public:
  explicit LockfreeQueue(std::size_t capacity) : queue_(capacity) {}
  bool push(const MarketUpdate& u) { return queue_.push(u); }
  bool pop(MarketUpdate& u) { return queue_.pop(u); }

private:
  boost::lockfree::spsc_queue<MarketUpdate> queue_;
};

class ConflatingLockfreeQueue {
public:
  explicit ConflatingLockfreeQueue(std::size_t capacity) : queue_(capacity, 8) {}
  bool push(const MarketUpdate& u) { return queue_.publish(u); }
  bool pop(MarketUpdate& u) { return queue_.pop(u); }

private:
  synthusd::feeds::ConflatingQueue<MarketUpdate> queue_;
};

class MutexQueue {
public:
  explicit MutexQueue(std::size_t /*capacity*/) {}
  bool push(const MarketUpdate& u) {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(u);
    return true;
  }
  bool pop(MarketUpdate& u) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (queue_.empty()) {
      return false;
    }
    u = queue_.front();
    queue_.pop_front();
    return true;
  }

private:
  std::mutex mutex_;
  std::deque<MarketUpdate> queue_;
};

template <typename Queue>
void BM_round_trip(benchmark::State& state) {
  Queue to_echo(1024);
  Queue back(1024);
  std::atomic<bool> stop{false};
  std::thread echo([&] {
    pin_to(1);
    MarketUpdate u;
    while (!stop.load(std::memory_order_relaxed)) {
      if (to_echo.pop(u)) {
        while (!back.push(u)) {
        }
      }
    }
  });
  pin_to(0);
  MarketUpdate update;
  update.instrument = 1;
  MarketUpdate received;
  std::int64_t sequence = 0;
  for (auto _ : state) {
    update.time.nanoseconds = ++sequence;
    while (!to_echo.push(update)) {
    }
    while (!back.pop(received)) {
    }
    benchmark::DoNotOptimize(received);
  }
  stop = true;
  echo.join();
  if (received.time.nanoseconds != sequence) {
    state.SkipWithError("echo returned the wrong update");
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("items = round trips (2 hand-offs)");
}

BENCHMARK_TEMPLATE(BM_round_trip, LockfreeQueue)->UseRealTime();
BENCHMARK_TEMPLATE(BM_round_trip, ConflatingLockfreeQueue)->UseRealTime();
BENCHMARK_TEMPLATE(BM_round_trip, MutexQueue)->UseRealTime();

} // namespace
