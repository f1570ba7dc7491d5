#include "hot_path_thread.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <memory>

#include "synthusd/feeds/event_loop.hpp"

namespace synthusd::engine::run {

namespace {

// The gateway's report queue is full and the kernel that drains it runs on
// this thread: drain it now (GatewayWorker::set_make_room).
void drain_kernel(void* kernel) { (void)static_cast<KernelWorker*>(kernel)->drain_once(); }

// prepare() ... cancel() of EventCount, also when what runs between throws
// (a sleeper left announced would make every producer write the eventfd).
class AnnouncedSleep {
public:
  explicit AnnouncedSleep(EventCount& events) : events_(events) { (void)events_.prepare(); }
  ~AnnouncedSleep() { events_.cancel(); }
  AnnouncedSleep(const AnnouncedSleep&) = delete;
  AnnouncedSleep& operator=(const AnnouncedSleep&) = delete;

private:
  EventCount& events_;
};

class HotPath {
public:
  explicit HotPath(const HotPathParts& parts) : parts_(parts), kernel_(*parts.kernel) {
    loop_.watch_wakeup(parts.wakeup_fd);
    for (const HotPathFeed& feed : parts.feeds) {
      feeds_.push_back(std::make_unique<FeedRunner>(*feed.plan, loop_, *feed.queue, *feed.status, *parts.wakeup));
    }
    for (const HotPathSource& source : parts.sources) {
      sources_.push_back({std::make_unique<SourcePoller>(*source.source, *source.status, source.admission),
                          loop_.watch_readable(source.source->readiness_fd())});
      (void)sources_.back().poller->poll(0); // publishes it as up (listening since construction)
    }
  }

  void run(const std::atomic<bool>& stop) {
    kernel_.begin();
    for (GatewayWorker* gateway : parts_.gateways) {
      gateway->set_make_room(drain_kernel, &kernel_);
      gateway->start(*parts_.wakeup);
      ++gateways_started_;
    }
    const bool spin = resolve_wait_mode(parts_.wait) == WaitMode::spin;
    const std::int64_t spin_before_park_ns = spin_before_park();
    std::int64_t idle_since_ns = 0;
    bool parked_by_timeout = false;
    while (!stop.load(std::memory_order_acquire)) {
      if (cycle(true)) {
        idle_since_ns = 0;
        parked_by_timeout = false;
        continue;
      }
      // Nothing to do: the sources make room for their next events here
      // (their deduplication sets), off the path of those events, one
      // bounded step per idle cycle: an event arriving meanwhile waits
      // tens of microseconds at most.
      for (Source& source : sources_) {
        (void)source.poller->source().reserve_ahead();
      }
      if (spin) {
        continue;
      }
      // [engine] spin_before_park_us: keep cycling that long after the last
      // work before sleeping (not again after a sleep that timed out, so an
      // idle engine does not spin).
      if (spin_before_park_ns > 0 && !parked_by_timeout) {
        const std::int64_t now = monotonic_ns();
        idle_since_ns = idle_since_ns == 0 ? now : idle_since_ns;
        if (now - idle_since_ns < spin_before_park_ns) {
          continue;
        }
      }
      // Announce the sleep, then look again: a producer that pushed before
      // the announcement is seen here; one that pushes after it sees a
      // sleeper and writes the eventfd, which ends the wait below.
      const AnnouncedSleep announced(*parts_.wakeup);
      if (!has_work(stop)) {
        std::int64_t timeout = std::min(kernel_.idle_timeout_ns(), GatewayWorker::kIdleTimeoutNs);
        if (const std::int64_t deferred = next_deferred_poll_ns(); deferred > 0) {
          timeout = std::min(timeout, std::max<std::int64_t>(deferred - monotonic_ns(), 0));
        }
        parked_by_timeout = loop_.run_once(feeds::WaitMode::blocking, std::chrono::nanoseconds(timeout)) == 0;
        idle_since_ns = 0;
        if (loop_.wakeup_failures() != wakeup_failures_) {
          wakeup_failures_ = loop_.wakeup_failures();
          kernel_.set_hot_path_wakeup_failures(wakeup_failures_);
        }
      }
    }
  }

  // In the order the thread-per-stage layout stops its threads: the
  // gateways cancel what is open and forward the answers while the kernel
  // still takes them, then log out; the feeds close; the kernel journals
  // what is still queued. Also after an exception, for the gateways that
  // had started (orders must not stay open behind a dead thread); the first
  // error of the shutdown itself is rethrown once every step was tried.
  void shut_down() {
    std::exception_ptr error;
    const auto attempt = [&error](auto&& step) {
      try {
        step();
      } catch (...) {
        error = error ? error : std::current_exception();
      }
    };
    // Runs `step` (true when it did something; else a 1 ms wait in the
    // loop) until `deadline`, or sooner once `done`.
    const auto drain_until = [&](std::int64_t deadline, auto done, auto step) {
      while (monotonic_ns() < deadline && !done()) {
        bool worked = false;
        attempt([&] { worked = step(); });
        if (!worked) {
          attempt([&] { (void)loop_.run_once(feeds::WaitMode::blocking, std::chrono::milliseconds(1)); });
        }
      }
    };
    // Gateways only draining: their reports still reach the kernel.
    const auto drain_gateways = [&] { return cycle(false); };
    // First the intake, as the thread-per-stage layout stops its sources
    // first: what became durable meanwhile is acknowledged (the kernel and
    // the journal still run), for at most what run_source's drain allows.
    const SourceWorkerTiming timing;
    drain_until(
        monotonic_ns() + std::int64_t{timing.drain_polls} * timing.drain_poll_ms * 1'000'000,
        [this] { return !unacknowledged(); },
        [&] {
          const bool polled = poll_sources(true);
          return kernel_.do_work() || polled;
        });
    for (Source& source : sources_) {
      attempt([&] { source.poller->finish(); });
    }
    for (std::size_t i = 0; i < gateways_started_; ++i) {
      attempt([&] { parts_.gateways[i]->begin_shutdown(); });
    }
    drain_until(
        monotonic_ns() + static_cast<std::int64_t>(parts_.gateway_drain_ms) * 1'000'000, [] { return false; },
        drain_gateways);
    // Every venue is asked to log out at once, and their reports are still
    // taken while they answer (one after another, a venue's cancel reports
    // would wait in QuickFIX's queue during the others' logouts).
    for (std::size_t i = 0; i < gateways_started_; ++i) {
      attempt([&] { parts_.gateways[i]->begin_logout(); });
    }
    drain_until(
        monotonic_ns() + GatewayWorker::kLogoutWaitNs, [this] { return all_logged_out(); }, drain_gateways);
    for (std::size_t i = 0; i < gateways_started_; ++i) {
      attempt([&] { parts_.gateways[i]->stop_session(); });
    }
    for (const std::unique_ptr<FeedRunner>& feed : feeds_) {
      attempt([&] { feed->stop(); });
    }
    for (int i = 0; i < 200 && !all_feeds_stopped(); ++i) {
      attempt([&] { (void)loop_.run_once(feeds::WaitMode::blocking, std::chrono::milliseconds(5)); });
      attempt([&] { (void)kernel_.do_work(); });
    }
    for (const std::unique_ptr<FeedRunner>& feed : feeds_) {
      attempt([&] { feed->after_loop(); });
      feed->mark_closed();
    }
    attempt([&] { kernel_.finish(); });
    if (error) {
      std::rethrow_exception(error);
    }
  }

private:
  // One pass: socket completions (the feeds parse and publish inside them),
  // then the kernel takes what was published, then the gateways send what
  // the kernel routed (or, shutting down, only its cancels). True when any
  // stage did something.
  bool cycle(bool gateways_running) {
    bool worked = loop_.run_once(feeds::WaitMode::spin) > 0;
    for (const std::unique_ptr<FeedRunner>& feed : feeds_) {
      feed->after_loop();
    }
    if (gateways_running) {
      worked = poll_sources(false) || worked;
    }
    worked = kernel_.do_work() || worked;
    for (std::size_t i = 0; i < gateways_started_; ++i) {
      GatewayWorker* gateway = parts_.gateways[i];
      worked = (gateways_running ? gateway->do_work() : gateway->drain_step()) || worked;
    }
    return worked;
  }

  [[nodiscard]] bool has_work(const std::atomic<bool>& stop) const {
    return stop.load(std::memory_order_acquire) || kernel_.has_input() ||
           std::any_of(parts_.gateways.begin(), parts_.gateways.end(),
                       [](const GatewayWorker* gateway) { return gateway->has_work(); });
  }

  // Polls each source whose descriptor became readable, and those whose
  // deferred work is due (each call when `always`): answers waiting for
  // durability every kDurabilityPollNs, input held back (a full queue, no
  // price yet) every kHeldBackPollNs. Work is what a poll handled: a
  // readiness that brought nothing new does not keep the thread cycling.
  bool poll_sources(bool always) {
    bool worked = false;
    const std::int64_t now = sources_.empty() ? 0 : monotonic_ns();
    for (Source& source : sources_) {
      const bool readable = loop_.take_readable(source.watch);
      const bool due = always || (source.next_deferred_poll_ns != 0 && now >= source.next_deferred_poll_ns);
      if (!readable && !due) {
        continue;
      }
      worked = source.poller->poll(0) > 0 || worked;
      // Due again counted from the poll that left the work, not from every cycle.
      switch (source.poller->source().deferred_work()) {
      case liabilities::DeferredWork::none:
        source.next_deferred_poll_ns = 0;
        break;
      case liabilities::DeferredWork::durability:
        source.next_deferred_poll_ns = now + kDurabilityPollNs;
        break;
      case liabilities::DeferredWork::held_back:
        source.next_deferred_poll_ns = now + kHeldBackPollNs;
        break;
      }
    }
    return worked;
  }

  // When the earliest deferred poll is due (monotonic ns), 0 for none.
  [[nodiscard]] std::int64_t next_deferred_poll_ns() const {
    std::int64_t next = 0;
    for (const Source& source : sources_) {
      if (source.next_deferred_poll_ns != 0 && (next == 0 || source.next_deferred_poll_ns < next)) {
        next = source.next_deferred_poll_ns;
      }
    }
    return next;
  }

  [[nodiscard]] bool unacknowledged() const {
    return std::any_of(sources_.begin(), sources_.end(),
                       [](const Source& source) { return source.poller->source().unacknowledged() > 0; });
  }

  [[nodiscard]] bool all_logged_out() const {
    for (std::size_t i = 0; i < gateways_started_; ++i) {
      if (!parts_.gateways[i]->logged_out()) {
        return false;
      }
    }
    return true;
  }

  [[nodiscard]] bool all_feeds_stopped() const {
    return std::all_of(feeds_.begin(), feeds_.end(),
                       [](const std::unique_ptr<FeedRunner>& feed) { return feed->stopped(); });
  }

  const HotPathParts& parts_;
  KernelWorker& kernel_;
  feeds::EventLoop loop_;
  std::vector<std::unique_ptr<FeedRunner>> feeds_;
  // Answers wait for the journal thread, which does not wake this one: how
  // often a source whose answers wait for durability is looked at again
  // (its own thread looked every 1 ms), and one whose input is held back
  // (a full queue, which this thread drains, or no index price, which may
  // last: not 4,000 wake-ups a second for that).
  static constexpr std::int64_t kDurabilityPollNs = 250'000;
  static constexpr std::int64_t kHeldBackPollNs = 5'000'000;
  struct Source {
    std::unique_ptr<SourcePoller> poller;
    std::size_t watch = 0;                  // loop_.watch_readable's index
    std::int64_t next_deferred_poll_ns = 0; // 0: no deferred work
  };
  std::vector<Source> sources_;
  std::size_t gateways_started_ = 0;
  std::uint64_t wakeup_failures_ = 0;
};

} // namespace

void run_hot_path(const HotPathParts& parts, const std::atomic<bool>& stop) {
  HotPath hot_path(parts);
  try {
    hot_path.run(stop);
  } catch (...) {
    try {
      hot_path.shut_down();
    } catch (...) {
      // The first error is the one to report.
    }
    throw;
  }
  hot_path.shut_down();
}

} // namespace synthusd::engine::run
