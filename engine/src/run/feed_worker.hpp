#pragma once
// A feed thread: one io_uring event loop, one WebSocket client and one
// FeedSession per [[feeds]] entry, publishing MarketUpdates into the
// kernel's conflating queue. Built on its own thread (the io_uring ring is
// single-issuer).

#include <atomic>
#include <memory>
#include <string>

#include "pipeline.hpp"
#include "synthusd/engine/run_config.hpp"
#include "synthusd/feeds/feed_session.hpp"
#include "synthusd/hedging/config.hpp"

namespace synthusd::engine::run {

// What the HTTP thread and the status line read about a feed.
struct FeedStatus {
  std::atomic<bool> open{false};
  std::atomic<std::uint64_t> messages{0};
  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> malformed{0};
  std::atomic<std::uint64_t> reconnects{0};
  std::atomic<std::uint64_t> gaps{0};
  std::atomic<std::int64_t> last_message_wall_ns{0};
};

struct FeedPlan {
  std::string name; // "feed-<venue>"
  feeds::FeedSessionConfig session;
  feeds::WebSocketClientOptions client;
};

[[nodiscard]] FeedPlan make_feed_plan(const FeedSection& section, const hedging::KernelConfig& kernel);

// Feed thread body: runs until `stop`; construction problems are thrown
// before the loop starts (the caller's thread wrapper logs them).
void run_feed(const FeedPlan& plan, MarketQueue& queue, FeedStatus& status, EventCount& kernel_wakeup, WaitMode wait,
              const std::atomic<bool>& stop);

} // namespace synthusd::engine::run
