#include "source_worker.hpp"

#include <chrono>
#include <exception>
#include <thread>

#include <spdlog/spdlog.h>

#include "synthusd/liabilities/rejection_log.hpp"

namespace synthusd::engine::run {

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
  std::string reported_error;
  std::uint64_t reported_conflicts = 0;
  // Every rejected input's reason, rate-limited per reason (a burst of bad
  // lines is not reduced to its last reason, nor logged line by line).
  liabilities::RejectionLog rejections(status.name, [](const std::string& line) { spdlog::warn("{}", line); });
  while (!stop.load(std::memory_order_acquire)) {
    (void)source->poll_once(timing.poll_ms);
    rejections.add(source->take_rejections(), std::chrono::steady_clock::now());
    status.up.store(source->up(), std::memory_order_relaxed);
    status.publish(source->source_counters());
    if (admission != nullptr && admission->counters().conflicts > reported_conflicts) {
      // Money at stake: a source said two different things about one
      // payment. The first booking stands; the operator must look.
      reported_conflicts = admission->counters().conflicts;
      status.conflicts.store(reported_conflicts, std::memory_order_relaxed);
      spdlog::warn("{}: {} payment id(s) came back with another kind or amount and were refused (see the source's "
                   "rejects)",
                   status.name, reported_conflicts);
    }
    // A rejection's reason is the rejection log's to write, rate-limited.
    if (std::string error = source->last_error();
        !error.empty() && error != reported_error && error.rfind("rejected: ", 0) != 0) {
      spdlog::warn("{}: {}", status.name, error);
      reported_error = std::move(error);
    }
  }
  // What became durable meanwhile is acknowledged now; the rest is re-sent
  // by the upstream to the next engine and deduplicated there.
  for (int i = 0; i < timing.drain_polls && source->unacknowledged() > 0; ++i) {
    (void)source->poll_once(timing.drain_poll_ms);
  }
  rejections.add(source->take_rejections(), std::chrono::steady_clock::now());
  rejections.flush(std::chrono::steady_clock::now(), true);
  status.publish(source->source_counters());
  status.up.store(false);
}

} // namespace synthusd::engine::run
