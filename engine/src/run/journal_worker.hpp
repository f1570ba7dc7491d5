#pragma once
// The journal thread: appends every kernel input the kernel thread hands it,
// group-commits (one write + fdatasync per batch: whatever is queued when the
// previous commit ends, up to max_batch), then publishes each liability
// source's durable ticket. Snapshots ride the same queue, so a snapshot is
// written only after every record it includes is durable: a snapshot can
// never be ahead of the journal it will be replayed with.

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "pipeline.hpp"
#include "synthusd/engine/journal.hpp"

namespace synthusd::engine::run {

// Bytes of a kernel snapshot, filled by the kernel thread while `busy` is
// false, written by the journal thread, which then clears `busy`.
struct SnapshotHandoff {
  std::vector<std::uint8_t> bytes;        // Kernel::write_snapshot
  std::vector<std::uint8_t> ledger_bytes; // BackingLedger::write_snapshot, taken at the same input
  std::uint64_t sequence = 0;
  std::uint64_t config_digest = 0;
  std::uint64_t state_digest = 0;
  std::uint64_t action_hash = 0;   // the action-stream hash up to `sequence`
  std::uint64_t action_events = 0; // events folded into it
  std::atomic<bool> busy{false};
};

struct JournalStats {
  std::atomic<std::uint64_t> records{0};
  std::atomic<std::uint64_t> commits{0};
  std::atomic<std::uint64_t> durable_sequence{0};
  std::atomic<std::uint64_t> appended_sequence{0};
  std::atomic<std::uint64_t> snapshots{0};
  std::atomic<std::uint64_t> snapshot_failures{0};
  std::atomic<std::int64_t> last_commit_ns{0};
};

class JournalWorker {
public:
  JournalWorker(JournalWriter& writer, std::size_t capacity, std::vector<LiabilityChannel*> sources,
                SnapshotHandoff& snapshot, std::function<void(const SnapshotHandoff&)> write_snapshot, WaitMode wait);

  // Kernel thread: false when the queue is full (the caller waits; nothing
  // may be dropped).
  bool push(const JournalItem& item) noexcept {
    if (!queue_.push(item)) {
      return false;
    }
    wakeup_.notify();
    return true;
  }

  // Journal thread: runs until `stop` and the queue is drained, then commits.
  // However it ends (a write that throws too), stopped() says so afterwards.
  void run(const std::atomic<bool>& stop);

  // Any thread: the journal thread has left run(). A kernel thread waiting
  // for room in the queue checks this, so a journal that died (a failed
  // write or fdatasync) stops the kernel instead of spinning it forever and
  // hanging the engine's shutdown behind it.
  [[nodiscard]] bool stopped() const noexcept { return stopped_.load(std::memory_order_acquire); }
  // Any thread: run() ended by an exception (a write or fdatasync failed).
  // The kernel checks it before each input: nothing more is applied once
  // the journal is known to be dead, queue full or not.
  [[nodiscard]] bool failed() const noexcept { return failed_.load(std::memory_order_acquire); }

  [[nodiscard]] const JournalStats& stats() const noexcept { return stats_; }
  // Records handed over and not yet appended, given the last sequence the
  // kernel thread numbered (any thread; approximate while both run).
  [[nodiscard]] std::size_t depth(std::uint64_t numbered) const noexcept {
    const std::uint64_t appended = stats_.appended_sequence.load(std::memory_order_relaxed);
    return numbered > appended ? static_cast<std::size_t>(numbered - appended) : 0;
  }

private:
  void commit_batch();

  JournalWriter& writer_;
  SpscQueue<JournalItem> queue_;
  std::vector<LiabilityChannel*> sources_;
  std::vector<std::uint64_t> batch_tickets_; // highest ticket per source appended, not yet durable
  SnapshotHandoff& snapshot_;
  std::function<void(const SnapshotHandoff&)> write_snapshot_;
  EventCount wakeup_;
  Idler idler_;
  JournalStats stats_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> failed_{false};
};

} // namespace synthusd::engine::run
