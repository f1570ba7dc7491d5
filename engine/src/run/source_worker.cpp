#include "source_worker.hpp"

#include <chrono>
#include <exception>
#include <thread>

#include <spdlog/spdlog.h>

#include "synthusd/liabilities/rejection_log.hpp"

namespace synthusd::engine::run {

namespace {
constexpr int kReserveStepsPerPoll = 64;
} // namespace

void run_source(const std::function<std::unique_ptr<liabilities::LiabilitySource>()>& make, SourceStatus& status,
                const std::atomic<bool>& stop, SourceWorkerTiming timing,
                const liabilities::LiabilityAdmission* admission) {
  std::unique_ptr<liabilities::LiabilitySource> source;
  while (source == nullptr && !stop.load(std::memory_order_acquire)) {
    try {
      source = make();
    } catch (const std::exception& error) {
      spdlog::error("{}: {}; retrying in {} ms", status.name, error.what(), timing.retry_ms);
      // Sleep in steps so that a stop is seen within one step.
      for (int waited = 0; waited < timing.retry_ms && !stop.load(std::memory_order_acquire); waited += 50) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }
  if (source == nullptr) {
    return;
  }
  SourcePoller poller(*source, status, admission);
  while (!stop.load(std::memory_order_acquire)) {
    (void)poller.poll(timing.poll_ms);
    // This thread's events have left for the kernel: room for the next
    // ones is made now, not while one waits to be admitted (a few bounded
    // steps a poll, so a growth of the deduplication set ends within
    // seconds even at one poll every poll_ms).
    for (int step = 0; step < kReserveStepsPerPoll && source->reserve_ahead(); ++step) {
    }
  }
  // What became durable meanwhile is acknowledged now; the rest is re-sent
  // by the upstream to the next engine and deduplicated there.
  for (int i = 0; i < timing.drain_polls && source->unacknowledged() > 0; ++i) {
    (void)poller.poll(timing.drain_poll_ms);
  }
  poller.finish();
}

SourcePoller::SourcePoller(liabilities::LiabilitySource& source, SourceStatus& status,
                           const liabilities::LiabilityAdmission* admission)
    : source_(source), status_(status), admission_(admission),
      // A burst of bad lines is neither reduced to its last reason nor logged line by line.
      rejections_(status.name, [](const std::string& line) { spdlog::warn("{}", line); }) {}

std::size_t SourcePoller::poll(int timeout_ms) {
  const std::size_t handled = source_.poll_once(timeout_ms);
  rejections_.add(source_.take_rejections(), std::chrono::steady_clock::now());
  status_.up.store(source_.up(), std::memory_order_relaxed);
  status_.publish(source_.source_counters());
  if (admission_ != nullptr) {
    status_.known_ids.store(admission_->seen_ids().size(), std::memory_order_relaxed);
    status_.dedup_growths_on_path.store(admission_->seen_ids().growths_on_path(), std::memory_order_relaxed);
  }
  if (admission_ != nullptr && admission_->counters().conflicts > reported_conflicts_) {
    // Money at stake: a source said two different things about one
    // payment. The first booking stands; the operator must look.
    reported_conflicts_ = admission_->counters().conflicts;
    status_.conflicts.store(reported_conflicts_, std::memory_order_relaxed);
    spdlog::warn("{}: {} payment id(s) came back with another kind or amount and were refused (see the source's "
                 "rejects)",
                 status_.name, reported_conflicts_);
  }
  // A rejection's reason is the rejection log's to write, rate-limited.
  if (std::string error = source_.last_error();
      !error.empty() && error != reported_error_ && error.rfind("rejected: ", 0) != 0) {
    spdlog::warn("{}: {}", status_.name, error);
    reported_error_ = std::move(error);
  }
  return handled;
}

void SourcePoller::finish() {
  rejections_.add(source_.take_rejections(), std::chrono::steady_clock::now());
  rejections_.flush(std::chrono::steady_clock::now(), true);
  status_.publish(source_.source_counters());
  status_.up.store(false);
}

} // namespace synthusd::engine::run
