#include "feed_worker.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "synthusd/feeds/event_loop.hpp"
#include "synthusd/feeds/websocket_client.hpp"

namespace synthusd::engine::run {

namespace {

void log_feed_line(std::string_view line) noexcept { spdlog::warn("feed: {}", line); }

} // namespace

FeedPlan make_feed_plan(const FeedSection& section, const hedging::KernelConfig& kernel) {
  FeedPlan plan;
  plan.name = "feed-" + section.venue;
  feeds::FeedSessionConfig& session = plan.session;
  session.venue = section.protocol;
  session.log = log_feed_line;
  // parse_config() reported a venue or symbol the kernel does not have
  // (check-config); here one is a bug of whoever built the section.
  const hedging::VenueConfig* venue = nullptr;
  for (const hedging::VenueConfig& candidate : kernel.venues) {
    if (candidate.name == section.venue) {
      venue = &candidate;
    }
  }
  if (venue == nullptr) {
    throw std::logic_error("feeds: no venue named '" + section.venue + "' (parse_config checks this)");
  }
  session.venue_id = venue->id;
  for (const std::string& symbol : section.symbols) {
    const std::size_t before = session.instruments.size();
    for (const hedging::InstrumentSpec& spec : kernel.instruments) {
      if (spec.venue == session.venue_id && spec.symbol.view() == symbol) {
        session.instruments.push_back({symbol, spec.id});
      }
    }
    if (session.instruments.size() == before) {
      throw std::logic_error("feeds: '" + symbol + "' is no instrument of venue '" + section.venue +
                             "' (parse_config checks this)");
    }
  }
  plan.client = feeds::venue_client_options(session.venue);
  plan.client.host = section.host;
  plan.client.port = static_cast<std::uint16_t>(section.port);
  plan.client.path = section.path;
  plan.client.tls = section.tls;
  plan.client.tls_options.extra_ca_file = section.ca_file;
  return plan;
}

FeedRunner::FeedRunner(const FeedPlan& plan, feeds::EventLoop& loop, MarketQueue& queue, FeedStatus& status,
                       EventCount& kernel_wakeup)
    : queue_(queue), status_(status), kernel_wakeup_(kernel_wakeup), session_(plan.session, queue),
      client_(loop, session_, plan.client) {
  session_.attach(client_);
  client_.start();
}

void FeedRunner::after_loop() {
  queue_.flush(); // updates parked while the queue was full
  const feeds::FeedCounters& counters = session_.counters();
  if (counters.published != published_) {
    published_ = counters.published;
    status_.last_message_wall_ns.store(wall_ns(), std::memory_order_relaxed);
    kernel_wakeup_.notify();
  }
  status_.open.store(client_.state() == feeds::WebSocketState::open, std::memory_order_relaxed);
  status_.messages.store(counters.messages, std::memory_order_relaxed);
  status_.published.store(counters.published, std::memory_order_relaxed);
  status_.malformed.store(counters.malformed, std::memory_order_relaxed);
  status_.gaps.store(counters.gaps, std::memory_order_relaxed);
  status_.reconnects.store(client_.counters().reconnects, std::memory_order_relaxed);
}

void FeedRunner::stop() { client_.stop(); }

bool FeedRunner::stopped() const { return client_.stopped(); }

void run_feed(const FeedPlan& plan, MarketQueue& queue, FeedStatus& status, EventCount& kernel_wakeup, WaitMode wait,
              const std::atomic<bool>& stop) {
  feeds::EventLoop loop;
  FeedRunner feed(plan, loop, queue, status, kernel_wakeup);
  const feeds::WaitMode loop_wait =
      resolve_wait_mode(wait) == WaitMode::spin ? feeds::WaitMode::spin : feeds::WaitMode::blocking;
  while (!stop.load(std::memory_order_acquire)) {
    (void)loop.run_once(loop_wait, std::chrono::milliseconds(5));
    feed.after_loop();
  }
  feed.stop();
  for (int i = 0; i < 200 && !feed.stopped(); ++i) {
    (void)loop.run_once(feeds::WaitMode::blocking, std::chrono::milliseconds(5));
  }
  feed.mark_closed();
}

} // namespace synthusd::engine::run
