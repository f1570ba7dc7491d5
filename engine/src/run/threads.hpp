#pragma once
// Threads of `synthusd run`: names, CPU pinning and how an idle consumer
// waits for its producers.
//
// Waiting: in spin mode a consumer busy-polls its queues (lowest latency,
// one core each). In blocking mode it sleeps on an EventCount: producers
// bump an epoch after every push and wake the futex only when a consumer
// announced it is about to sleep, so a busy pipeline makes no system calls.
// Memory ordering: the consumer announces itself (sleepers) and reads the
// epoch BEFORE re-checking its queues; a producer pushes, then bumps the
// epoch and reads sleepers. All four are sequentially consistent: with
// weaker orders the producer's read of sleepers and the consumer's read of
// its queue could both see the old values (store-load reordering), and the
// wake-up would be lost. Either the consumer's re-check sees the item, or
// the epoch changed and futex_wait returns at once.

#include <atomic>
#include <cstdint>
#include <string>

#include "synthusd/engine/run_config.hpp"

namespace synthusd::engine::run {

// Names the calling thread (15 characters: the kernel's limit) and pins it
// to `cpu` when >= 0. Returns an explanation when pinning failed, else "".
std::string name_and_pin_this_thread(const std::string& name, int cpu);

// automatic -> blocking below 4 online CPUs, else spin.
[[nodiscard]] WaitMode resolve_wait_mode(WaitMode mode) noexcept;

class EventCount {
public:
  // Producers, after publishing an item.
  void notify() noexcept {
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) != 0) {
      wake();
    }
  }
  // Consumer: key = prepare(); re-check the queues; if still empty wait(key).
  [[nodiscard]] std::uint32_t prepare() noexcept {
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    return epoch_.load(std::memory_order_seq_cst);
  }
  void cancel() noexcept { sleepers_.fetch_sub(1, std::memory_order_acq_rel); }
  // The consumer sleeps in an io_uring wait instead of wait() (the one-thread
  // hot path, feeds::EventLoop::watch_wakeup): notify() writes to this
  // eventfd instead of waking the futex. Set before any producer starts.
  void wake_through(int event_fd) noexcept { event_fd_ = event_fd; }
  // Sleeps until notify() after prepare(), or timeout_ns. False when the
  // timeout expired with no notify.
  bool wait(std::uint32_t key, std::int64_t timeout_ns) noexcept;

private:
  void wake() noexcept;
  std::atomic<std::uint32_t> epoch_{0};
  std::atomic<std::uint32_t> sleepers_{0};
  int event_fd_ = -1;
};

// `[engine] spin_before_park_us`, set once by `run` before any thread
// starts (every Idler constructed after reads it).
void set_spin_before_park(std::int64_t nanoseconds) noexcept;
[[nodiscard]] std::int64_t spin_before_park() noexcept;

[[nodiscard]] std::int64_t monotonic_ns() noexcept;

// A consumer's idle step: spin (a pause instruction), or the EventCount,
// optionally after spinning for spin_before_park() since the idle spell
// began. The spell begins at the first idle() after work; a park that ends
// by timeout (no notify: the periodic look of the gateway and timer
// threads) does not begin a new one, so an idle engine does not spin.
class Idler {
public:
  Idler(WaitMode mode, EventCount& events)
      : spin_(resolve_wait_mode(mode) == WaitMode::spin), spin_before_park_ns_(spin_before_park()), events_(events) {}
  // `has_work` re-checks the queues after announcing the sleep.
  template <typename HasWork>
  void idle(HasWork has_work, std::int64_t timeout_ns) noexcept {
    if (spin_) {
      __builtin_ia32_pause();
      return;
    }
    if (spin_before_park_ns_ > 0 && !parked_by_timeout_) {
      const std::int64_t now = monotonic_ns();
      if (spell_start_ns_ == 0) {
        spell_start_ns_ = now;
      }
      if (now - spell_start_ns_ < spin_before_park_ns_) {
        __builtin_ia32_pause();
        return;
      }
    }
    const std::uint32_t key = events_.prepare();
    if (has_work()) {
      events_.cancel();
      begin_new_spell();
      return;
    }
    const bool notified = events_.wait(key, timeout_ns);
    events_.cancel();
    if (notified) {
      begin_new_spell();
    } else {
      parked_by_timeout_ = true;
    }
  }
  [[nodiscard]] bool spinning() const noexcept { return spin_; }

private:
  void begin_new_spell() noexcept {
    spell_start_ns_ = 0;
    parked_by_timeout_ = false;
  }

  bool spin_;
  std::int64_t spin_before_park_ns_;
  std::int64_t spell_start_ns_ = 0;
  bool parked_by_timeout_ = false;
  EventCount& events_;
};

// Monotonic nanoseconds (CLOCK_MONOTONIC): latency measurement across threads
// (declared above, for the Idler).
// Wall clock nanoseconds since the epoch: the time the kernel is told.
[[nodiscard]] std::int64_t wall_ns() noexcept;

} // namespace synthusd::engine::run
