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
#include "synthusd/feeds/event_loop.hpp"
#include "synthusd/feeds/feed_session.hpp"
#include "synthusd/feeds/websocket_client.hpp"
#include "synthusd/hedging/config.hpp"
#include "threads.hpp"

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

// One feed on a loop someone else runs: its session and WebSocket client,
// and what it publishes. after_loop() goes after every run_once() of the
// loop: it hands on updates parked while the kernel's queue was full, wakes
// the kernel when something was published and updates the status.
class FeedRunner {
public:
  FeedRunner(const FeedPlan& plan, feeds::EventLoop& loop, MarketQueue& queue, FeedStatus& status,
             EventCount& kernel_wakeup);
  void after_loop();
  void stop();                        // closes the connection; run the loop until stopped()
  [[nodiscard]] bool stopped() const; // the client's connection is closed
  void mark_closed() noexcept { status_.open.store(false); }

private:
  MarketQueue& queue_;
  FeedStatus& status_;
  EventCount& kernel_wakeup_;
  feeds::FeedSession session_;
  feeds::WebSocketClient client_;
  std::uint64_t published_ = 0;
};

// Feed thread body: runs until `stop`; construction problems are thrown
// before the loop starts (the caller's thread wrapper logs them).
void run_feed(const FeedPlan& plan, MarketQueue& queue, FeedStatus& status, EventCount& kernel_wakeup, WaitMode wait,
              const std::atomic<bool>& stop);

} // namespace synthusd::engine::run
