#include "journal_worker.hpp"

#include <spdlog/spdlog.h>

#include <exception>

namespace synthusd::engine::run {

JournalWorker::JournalWorker(JournalWriter& writer, std::size_t capacity, std::vector<LiabilityChannel*> sources,
                             SnapshotHandoff& snapshot, std::function<void(const SnapshotHandoff&)> write_snapshot,
                             WaitMode wait)
    : writer_(writer), queue_(capacity), sources_(std::move(sources)), batch_tickets_(sources_.size(), 0),
      snapshot_(snapshot), write_snapshot_(std::move(write_snapshot)), idler_(wait, wakeup_) {
  stats_.durable_sequence.store(writer_.durable_sequence());
  stats_.appended_sequence.store(writer_.last_sequence());
}

void JournalWorker::commit_batch() {
  const std::int64_t started = monotonic_ns();
  stats_.durable_sequence.store(writer_.commit(), std::memory_order_release);
  stats_.commits.fetch_add(1, std::memory_order_relaxed);
  stats_.last_commit_ns.store(monotonic_ns() - started, std::memory_order_relaxed);
  // Only now may the sources acknowledge: their events are on disk.
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    if (batch_tickets_[i] != 0) {
      sources_[i]->durable.store(batch_tickets_[i], std::memory_order_release);
      batch_tickets_[i] = 0;
    }
  }
}

void JournalWorker::run(const std::atomic<bool>& stop) {
  // Set on every way out, an exception's included (release: whatever this
  // thread did is visible to whoever sees the flag).
  struct MarkStopped {
    std::atomic<bool>& stopped;
    std::atomic<bool>& failed;
    int exceptions = std::uncaught_exceptions();
    ~MarkStopped() {
      if (std::uncaught_exceptions() > exceptions) {
        failed.store(true, std::memory_order_release);
      }
      stopped.store(true, std::memory_order_release);
    }
  } mark_stopped{stopped_, failed_};
  stopped_.store(false, std::memory_order_relaxed); // tests run it more than once
  constexpr std::size_t kMaxBatch = 4096;
  JournalItem item;
  while (true) {
    std::size_t appended = 0;
    while (appended < kMaxBatch && queue_.pop(item)) {
      if (item.kind == JournalItem::Kind::snapshot) {
        commit_batch();
        try {
          write_snapshot_(snapshot_);
          stats_.snapshots.fetch_add(1, std::memory_order_relaxed);
        } catch (const std::exception& error) {
          stats_.snapshot_failures.fetch_add(1, std::memory_order_relaxed);
          spdlog::error("journal: snapshot at sequence {} not written: {}", item.sequence, error.what());
        }
        snapshot_.busy.store(false, std::memory_order_release);
        continue;
      }
      const std::uint64_t sequence = writer_.append(item.event, item.payment_id.view());
      if (sequence != item.sequence) {
        // The kernel thread numbers records itself; a mismatch means two
        // writers or a lost record: stop trusting the journal loudly.
        spdlog::critical("journal: record numbered {} by the kernel thread got sequence {}", item.sequence, sequence);
      }
      if (item.source < sources_.size()) {
        batch_tickets_[item.source] = item.ticket;
      }
      stats_.records.fetch_add(1, std::memory_order_relaxed);
      stats_.appended_sequence.store(sequence, std::memory_order_relaxed);
      ++appended;
    }
    if (appended > 0) {
      commit_batch();
      continue;
    }
    if (stop.load(std::memory_order_acquire)) {
      if (queue_.read_available() == 0) {
        break;
      }
      continue;
    }
    idler_.idle([this] { return queue_.read_available() > 0; }, 5'000'000);
  }
  commit_batch();
}

} // namespace synthusd::engine::run
