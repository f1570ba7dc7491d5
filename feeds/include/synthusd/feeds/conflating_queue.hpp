#pragma once
// The hand-off from a feed thread to the kernel thread: a Boost.Lockfree
// spsc_queue of fixed capacity, plus conflation on the producer side so the
// network thread never blocks. When the queue is full an update is parked
// in a per-instrument slot; a newer update for the same instrument replaces
// the parked one (latest wins) and is counted as a conflation. Parked
// updates go out first, oldest instrument first, as soon as there is room,
// so an instrument's updates are never delivered out of order.
//
// Threading: publish()/flush() from exactly one producer thread, pop()/
// consume_all() from exactly one consumer thread. Counters are atomics that
// any thread may read (relaxed: they are metrics, not synchronisation).

#include <atomic>
#include <boost/lockfree/spsc_queue.hpp>
#include <cstdint>
#include <vector>

#include "synthusd/hedging/types.hpp"

namespace synthusd::feeds {

// T must be trivially copyable and have an `instrument` member (InstrumentId).
template <typename T>
class ConflatingQueue {
public:
  ConflatingQueue(std::size_t capacity, hedging::InstrumentId max_instrument)
      : queue_(capacity), parked_(static_cast<std::size_t>(max_instrument) + 1),
        parked_order_(static_cast<std::size_t>(max_instrument) + 1) {}

  // Producer. Never blocks, never allocates. Returns false only for an
  // instrument id beyond max_instrument (counted nowhere else: the caller
  // configured it, so it is a bug to report).
  bool publish(const T& update) noexcept {
    published_.fetch_add(1, std::memory_order_relaxed);
    if (update.instrument >= parked_.size()) {
      return false;
    }
    flush();
    if (parked_count_ == 0 && queue_.push(update)) {
      return true;
    }
    Slot& slot = parked_[update.instrument];
    if (slot.occupied) {
      conflated_.fetch_add(1, std::memory_order_relaxed);
    } else {
      slot.occupied = true;
      parked_order_[(parked_head_ + parked_count_) % parked_order_.size()] = update.instrument;
      ++parked_count_;
      parked_total_.fetch_add(1, std::memory_order_relaxed);
    }
    slot.update = update;
    return true;
  }

  // Producer: moves parked updates into the queue while there is room. Call
  // it from the feed loop when idle so parked prices do not wait for the next
  // message.
  void flush() noexcept {
    while (parked_count_ > 0) {
      Slot& slot = parked_[parked_order_[parked_head_]];
      if (!queue_.push(slot.update)) {
        return;
      }
      slot.occupied = false;
      parked_head_ = (parked_head_ + 1) % parked_order_.size();
      --parked_count_;
    }
  }

  // Consumer.
  bool pop(T& out) noexcept {
    if (!queue_.pop(out)) {
      return false;
    }
    delivered_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  [[nodiscard]] std::size_t parked_count() const noexcept { return parked_count_; }    // producer only
  [[nodiscard]] std::size_t depth() const noexcept { return queue_.read_available(); } // consumer only
  [[nodiscard]] std::uint64_t published() const noexcept { return published_.load(std::memory_order_relaxed); }
  // updates that found the queue full and waited in a slot
  [[nodiscard]] std::uint64_t parked() const noexcept { return parked_total_.load(std::memory_order_relaxed); }
  // updates replaced by a newer one for the same instrument before delivery
  [[nodiscard]] std::uint64_t conflated() const noexcept { return conflated_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t delivered() const noexcept { return delivered_.load(std::memory_order_relaxed); }

private:
  struct Slot {
    T update{};
    bool occupied = false;
  };

  boost::lockfree::spsc_queue<T> queue_;
  // producer-only state
  std::vector<Slot> parked_;
  std::vector<hedging::InstrumentId> parked_order_; // FIFO ring of parked instruments
  std::size_t parked_head_ = 0;
  std::size_t parked_count_ = 0;
  // Producer and consumer counters on separate cache lines so that counting
  // does not make the two threads share a line.
  alignas(64) std::atomic<std::uint64_t> published_{0};
  std::atomic<std::uint64_t> parked_total_{0};
  std::atomic<std::uint64_t> conflated_{0};
  alignas(64) std::atomic<std::uint64_t> delivered_{0};
};

} // namespace synthusd::feeds
