#pragma once
// /metrics asks the kernel thread for its part of the page: the kernel's
// state is the kernel thread's own, so that thread renders it and hands the
// text over. Requests are numbered (generations): an answer counts only for
// the request it was rendered for, so a slow answer to an abandoned request
// is discarded instead of leaving the exchange stuck, and the next scrape
// after the kernel caught up is served as usual.
//
// One requester at a time (a mutex; the HTTP thread is the only caller in
// `synthusd run`), one answerer (the kernel thread, lock-free: it only
// checks pending() on its loop and calls answer() when it is true).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "threads.hpp"

namespace synthusd::engine::run {

class MetricsExchange {
public:
  // Requester. Asks for a fresh rendering, wakes the kernel thread, and
  // waits up to `timeout` for the answer to this very request; nullopt if it
  // did not come. While an earlier request is still unanswered (the kernel
  // thread is stalled), returns nullopt at once without asking again: a
  // stalled kernel must not hold the HTTP thread, and with it POST /kill,
  // for `timeout` on every scrape. Once the kernel answered (late), the next
  // request is served as usual.
  [[nodiscard]] std::optional<std::string> request(EventCount& wakeup, std::chrono::milliseconds timeout);

  // Answerer (kernel thread): the generation to render for, 0 when nothing
  // is asked. Render, then answer(generation, text).
  [[nodiscard]] std::uint64_t pending() const noexcept {
    const std::uint64_t requested = requested_.load(std::memory_order_acquire);
    return requested != answered_.load(std::memory_order_relaxed) ? requested : 0;
  }
  void answer(std::uint64_t generation, std::string text);

  // Whether the last request is still unanswered (for tests and for the
  // page's note on why the kernel's part is missing).
  [[nodiscard]] bool outstanding() const noexcept {
    return requested_.load(std::memory_order_acquire) != answered_.load(std::memory_order_acquire);
  }

private:
  std::mutex requester_;
  std::atomic<std::uint64_t> requested_{0};
  std::atomic<std::uint64_t> answered_{0};
  // Written by the answerer only while requested_ != answered_, read by the
  // requester only once answered_ == requested_ == its generation: never both.
  std::string text_;
};

} // namespace synthusd::engine::run
