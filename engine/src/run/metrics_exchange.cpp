#include "metrics_exchange.hpp"

#include <thread>

namespace synthusd::engine::run {

std::optional<std::string> MetricsExchange::request(EventCount& wakeup, std::chrono::milliseconds timeout) {
  const std::lock_guard<std::mutex> lock(requester_);
  if (outstanding()) {
    return std::nullopt;
  }
  const std::uint64_t generation = requested_.load(std::memory_order_relaxed) + 1;
  requested_.store(generation, std::memory_order_release);
  wakeup.notify();
  // Cold (an operator's scrape): polling every millisecond costs nothing
  // that matters, and the kernel thread's own idle wait is at most 1 ms.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (answered_.load(std::memory_order_acquire) != generation) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return text_;
}

void MetricsExchange::answer(std::uint64_t generation, std::string text) {
  text_ = std::move(text);
  answered_.store(generation, std::memory_order_release);
}

} // namespace synthusd::engine::run
