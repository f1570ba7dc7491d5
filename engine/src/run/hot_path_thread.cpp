#include "hot_path_thread.hpp"

#include <algorithm>
#include <chrono>
#include <memory>

#include "synthusd/feeds/event_loop.hpp"

namespace synthusd::engine::run {

namespace {

// The gateway's report queue is full and the kernel that drains it runs on
// this thread: drain it now (GatewayWorker::set_make_room).
void drain_kernel(void* kernel) { (void)static_cast<KernelWorker*>(kernel)->drain_once(); }

} // namespace

void run_hot_path(const HotPathParts& parts, const std::atomic<bool>& stop) {
  KernelWorker& kernel = *parts.kernel;
  feeds::EventLoop loop;
  loop.watch_wakeup(parts.wakeup_fd);
  std::vector<std::unique_ptr<FeedRunner>> feeds;
  for (const HotPathFeed& feed : parts.feeds) {
    feeds.push_back(std::make_unique<FeedRunner>(*feed.plan, loop, *feed.queue, *feed.status, *parts.wakeup));
  }
  kernel.begin();
  for (GatewayWorker* gateway : parts.gateways) {
    gateway->set_make_room(drain_kernel, &kernel);
    gateway->start(*parts.wakeup);
  }
  const bool spin = resolve_wait_mode(parts.wait) == WaitMode::spin;

  // One cycle: socket completions (the feeds parse and publish inside
  // them), then the kernel takes what was published, then the gateways send
  // what the kernel routed. Returns whether any stage did something.
  auto cycle = [&](bool gateways_running) {
    bool worked = loop.run_once(feeds::WaitMode::spin) > 0;
    for (const std::unique_ptr<FeedRunner>& feed : feeds) {
      feed->after_loop();
    }
    worked = kernel.do_work() || worked;
    for (GatewayWorker* gateway : parts.gateways) {
      worked = (gateways_running ? gateway->do_work() : gateway->drain_step()) || worked;
    }
    return worked;
  };
  auto has_work = [&] {
    if (kernel.has_input()) {
      return true;
    }
    return std::any_of(parts.gateways.begin(), parts.gateways.end(),
                       [](const GatewayWorker* gateway) { return gateway->has_work(); });
  };

  while (!stop.load(std::memory_order_acquire)) {
    if (cycle(true) || spin) {
      continue;
    }
    // Announce the sleep, then look again: a producer that pushed before
    // the announcement is seen here; one that pushes after it sees a
    // sleeper and writes the eventfd, which ends the wait below.
    (void)parts.wakeup->prepare();
    if (!has_work()) {
      const std::int64_t timeout = std::min(kernel.idle_timeout_ns(), GatewayWorker::kIdleTimeoutNs);
      (void)loop.run_once(feeds::WaitMode::blocking, std::chrono::nanoseconds(timeout));
    }
    parts.wakeup->cancel();
  }

  // Shutdown, in the order the thread-per-stage layout stops its threads.
  for (GatewayWorker* gateway : parts.gateways) {
    gateway->begin_shutdown();
  }
  const std::int64_t deadline = monotonic_ns() + static_cast<std::int64_t>(parts.gateway_drain_ms) * 1'000'000;
  while (monotonic_ns() < deadline) {
    if (!cycle(false)) {
      (void)loop.run_once(feeds::WaitMode::blocking, std::chrono::milliseconds(1));
    }
  }
  for (GatewayWorker* gateway : parts.gateways) {
    gateway->finish();
  }
  for (const std::unique_ptr<FeedRunner>& feed : feeds) {
    feed->stop();
  }
  for (int i = 0; i < 200; ++i) {
    if (std::all_of(feeds.begin(), feeds.end(),
                    [](const std::unique_ptr<FeedRunner>& feed) { return feed->stopped(); })) {
      break;
    }
    (void)loop.run_once(feeds::WaitMode::blocking, std::chrono::milliseconds(5));
    (void)kernel.do_work();
  }
  for (const std::unique_ptr<FeedRunner>& feed : feeds) {
    feed->after_loop();
    feed->mark_closed();
  }
  kernel.finish();
}

} // namespace synthusd::engine::run
