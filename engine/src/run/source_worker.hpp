#pragma once
// One loop for every liability source thread (intake, LND, NATS): build the
// source (retrying while its server is not there yet), poll it, publish its
// counters for /metrics, log each new error once, and on shutdown drain it
// so that what became durable is acknowledged upstream.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "synthusd/liabilities/liability_sink.hpp"
#include "synthusd/liabilities/liability_source.hpp"
#include "synthusd/liabilities/rejection_log.hpp"

namespace synthusd::engine::run {

// A source's figures, written by its thread and read by the HTTP thread.
struct SourceStatus {
  std::atomic<std::uint64_t> lines{0};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> duplicates{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> backpressure{0};
  std::atomic<std::uint64_t> conflicts{0}; // an id already admitted came back with another amount
  // The admission's deduplication set (liabilities/seen_ids.hpp): ids it
  // holds (it grows with the history), and times admitting one had to grow
  // it on the spot because the room made ahead ran out.
  std::atomic<std::uint64_t> known_ids{0};
  std::atomic<std::uint64_t> dedup_growths_on_path{0};
  std::atomic<bool> up{false};
  std::string name;

  void publish(const liabilities::SourceCounters& counters) noexcept {
    lines.store(counters.messages, std::memory_order_relaxed);
    accepted.store(counters.accepted, std::memory_order_relaxed);
    duplicates.store(counters.duplicates, std::memory_order_relaxed);
    rejected.store(counters.rejected, std::memory_order_relaxed);
    backpressure.store(counters.held, std::memory_order_relaxed);
  }
};

struct SourceWorkerTiming {
  int poll_ms = 50;      // each poll's wait for input (bounds how late a stop is seen)
  int retry_ms = 1000;   // between attempts to build the source
  int drain_polls = 20;  // on stop, at most this many more polls ...
  int drain_poll_ms = 5; // ... of this wait each, while anything is unacknowledged
};

// One poll of a source and what follows it on the thread that polls: its
// rejections logged (rate-limited per reason), its counters and up state
// published, a new id conflict or error logged once. Used by run_source and
// by the one-thread hot path, which polls the intake without a thread of
// its own.
class SourcePoller {
public:
  SourcePoller(liabilities::LiabilitySource& source, SourceStatus& status,
               const liabilities::LiabilityAdmission* admission);
  SourcePoller(const SourcePoller&) = delete;
  SourcePoller& operator=(const SourcePoller&) = delete;

  // source.poll_once(timeout_ms), then the bookkeeping. Returns its count.
  std::size_t poll(int timeout_ms);
  // At the end: the last rejections logged, the counters published, down.
  void finish();

  [[nodiscard]] liabilities::LiabilitySource& source() noexcept { return source_; }

private:
  liabilities::LiabilitySource& source_;
  SourceStatus& status_;
  const liabilities::LiabilityAdmission* admission_;
  liabilities::RejectionLog rejections_; // every rejected input's reason, rate-limited per reason
  std::string reported_error_;
  std::uint64_t reported_conflicts_ = 0;
};

// Runs on the source's own thread until `stop`. `make` builds the source
// and may throw (its server is not up yet): the error is logged and retried.
// `admission`, when given, is the source's (used on this thread only): its
// id conflicts are published and each new one is logged as a warning.
void run_source(const std::function<std::unique_ptr<liabilities::LiabilitySource>()>& make, SourceStatus& status,
                const std::atomic<bool>& stop, SourceWorkerTiming timing = {},
                const liabilities::LiabilityAdmission* admission = nullptr);

} // namespace synthusd::engine::run
