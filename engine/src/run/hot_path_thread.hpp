#pragma once
// The one-thread hot path (`[engine] hot_path = "one_thread"`): the feeds,
// the kernel and the FIX gateways run as one duty cycle on one thread, as
// Aeron runs several agents in a CompositeAgent. A tick is read, parsed,
// applied by the kernel, checked by pre-trade risk and handed to QuickFIX's
// Session::send in the same cycle, without the two thread hops (feed ->
// kernel -> gateway) and their futex wake-ups, which on a loaded 2-core
// machine each wait for a CPU (README, Performance).
//
// What stays: the stages and their SPSC queues are the same objects as in
// the thread-per-stage layout (a push here is popped later in the same
// cycle); the kernel's other producers (LND and NATS sources, the transfer
// thread, QuickFIX's own receiving thread, /metrics) and the journal keep
// their threads. The liability intake runs here too: its epoll descriptor
// is one more poll on the io_uring (feeds::EventLoop::watch_readable), so a
// payment is read, admitted, applied and sent as an order in one cycle.
// Its answers wait for the journal's durability as on its own thread; while
// some do, the cycle looks again every 250 us.
//
// Idle: spinning, the cycle polls the io_uring without entering the kernel.
// Blocking, it sleeps in the feeds' io_uring wait; the kernel's EventCount
// then writes an eventfd (EventCount::wake_through) that the loop keeps a
// poll armed on (feeds::EventLoop::watch_wakeup), so a payment, an
// execution report or a /metrics request ends the wait as a socket read
// does. The announce-then-recheck protocol is EventCount's (threads.hpp).

#include <atomic>
#include <vector>

#include "feed_worker.hpp"
#include "gateway_worker.hpp"
#include "kernel_worker.hpp"
#include "pipeline.hpp"
#include "source_worker.hpp"
#include "threads.hpp"

namespace synthusd::engine::run {

struct HotPathFeed {
  const FeedPlan* plan = nullptr;
  MarketQueue* queue = nullptr;
  FeedStatus* status = nullptr;
};

// A liability source with a readiness descriptor (the intake): polled on
// this thread, without waiting, when its descriptor is readable.
struct HotPathSource {
  liabilities::LiabilitySource* source = nullptr;
  SourceStatus* status = nullptr;
  const liabilities::LiabilityAdmission* admission = nullptr;
};

struct HotPathParts {
  std::vector<HotPathFeed> feeds;
  std::vector<HotPathSource> sources;
  KernelWorker* kernel = nullptr;
  std::vector<GatewayWorker*> gateways;
  EventCount* wakeup = nullptr; // the kernel's, already wake_through(wakeup_fd)
  int wakeup_fd = -1;           // eventfd (EFD_NONBLOCK) the loop watches
  WaitMode wait = WaitMode::blocking;
  int gateway_drain_ms = 500; // after stop: cancel all, forward the answers this long, log out
};

// Thread body. Runs until `stop`, then shuts down in the thread-per-stage
// order: the gateways cancel what is open and forward the answers while the
// kernel still takes them, log out; the feeds close; the kernel journals
// what is still queued. Construction problems are thrown before the loop.
void run_hot_path(const HotPathParts& parts, const std::atomic<bool>& stop);

} // namespace synthusd::engine::run
