// The journal thread of `synthusd run` (engine/src/run/journal_worker.*):
// group commit, durable tickets per liability source, snapshots that never
// get ahead of the journal, and a drain on stop.

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "run/journal_worker.hpp"
#include "run_test_support.hpp"
#include "synthusd/engine/snapshot_file.hpp"
#include "synthusd/hedging/kernel.hpp"

namespace synthusd::engine::run {
namespace {

using namespace testing;
using hedging::Event;

// A journal writer, two liability channels and the journal worker over them.
struct JournalFixture {
  explicit JournalFixture(
      std::size_t capacity = 1024,
      std::function<void(const SnapshotHandoff&)> write_snapshot = [](const SnapshotHandoff&) {})
      : directory("journal_worker"), journal_path(directory.file("journal")), writer(journal_path),
        intake(4096, wakeup, index_price_raw), nats(4096, wakeup, index_price_raw),
        worker(writer, capacity, {&intake, &nats}, snapshot, std::move(write_snapshot), WaitMode::blocking) {}

  void push(const Event& event, std::uint16_t source = kNoSource, std::uint64_t ticket = 0) {
    JournalItem item;
    item.event = event;
    item.source = source;
    item.ticket = ticket;
    item.sequence = ++pushed;
    ASSERT_TRUE(worker.push(item));
  }
  void push_snapshot(std::uint64_t sequence) {
    JournalItem item;
    item.kind = JournalItem::Kind::snapshot;
    item.sequence = sequence;
    ASSERT_TRUE(worker.push(item));
  }

  TempDir directory;
  std::string journal_path;
  JournalWriter writer;
  EventCount wakeup;
  std::atomic<std::int64_t> index_price_raw{0};
  LiabilityChannel intake; // source 0
  LiabilityChannel nats;   // source 1
  SnapshotHandoff snapshot;
  JournalWorker worker;
  std::uint64_t pushed = 0;
};

// Runs the worker's thread for the lifetime of the object.
class JournalThread {
public:
  explicit JournalThread(JournalWorker& worker) : thread_([this, &worker] { worker.run(stop_); }) {}
  ~JournalThread() { stop(); }
  void stop() {
    stop_.store(true);
    if (thread_.joinable()) {
      thread_.join();
    }
  }

private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(JournalWorker, items_are_journaled_with_the_kernel_sequence_numbers_and_tickets_become_durable_per_source) {
  JournalFixture f;
  const std::vector<Event> events = {
      liability_change(101, 10'000, at_ms(1)), // intake ticket 1
      market_update(50'000, at_ms(2)),
      liability_change(202, -500, at_ms(3)),  // nats ticket 1
      liability_change(102, 2'500, at_ms(4)), // intake ticket 2
      hedging::ExecutionReport{7, hedging::OrderStatus::rejected, hedging::Contracts{0}, hedging::Price{}, at_ms(5)},
  };
  f.push(events[0], 0, 1);
  f.push(events[1]);
  f.push(events[2], 1, 1);
  f.push(events[3], 0, 2);
  f.push(events[4]);
  // Nothing is durable before the journal thread has committed it.
  EXPECT_EQ(f.intake.make_durable(), 0u);
  EXPECT_EQ(f.nats.make_durable(), 0u);
  EXPECT_TRUE(read_journal(f.journal_path).empty());

  JournalThread thread(f.worker);
  ASSERT_TRUE(eventually([&] { return f.intake.make_durable() == 2 && f.nats.make_durable() == 1; }));
  const std::vector<JournalRecord> records = read_journal(f.journal_path);
  ASSERT_EQ(records.size(), events.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].sequence, i + 1);
    EXPECT_EQ(records[i].event.index(), events[i].index()) << i;
    EXPECT_EQ(hedging::time_of(records[i].event), hedging::time_of(events[i])) << i;
  }
  EXPECT_EQ(std::get<hedging::LiabilityChange>(records[2].event).id, 202u);
  EXPECT_EQ(std::get<hedging::LiabilityChange>(records[3].event).delta, hedging::UsdCents{2'500});
  thread.stop();
  EXPECT_EQ(f.worker.stats().records.load(), 5u);
  EXPECT_EQ(f.worker.stats().durable_sequence.load(), 5u);
  EXPECT_GE(f.worker.stats().commits.load(), 1u);
  EXPECT_EQ(f.worker.depth(f.pushed), 0u);
}

// Whoever sees a durable ticket (a source about to acknowledge upstream)
// must find its record in the journal file: durable is published only after
// the batch was written and synced.
TEST(JournalWorker, a_durable_ticket_is_published_only_after_its_record_is_in_the_journal_file) {
  constexpr std::uint64_t kEvents = 600;
  constexpr std::uint64_t kBatch = 8;
  JournalFixture f(kEvents + 16);
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> watched{0}; // the last ticket the watcher checked
  std::atomic<std::uint64_t> observed{0};
  std::atomic<std::uint64_t> missing{0};
  std::thread watcher([&] {
    std::uint64_t seen = 0;
    while (!done.load() || f.intake.make_durable() != seen) {
      const std::uint64_t durable = f.intake.make_durable();
      if (durable == seen) {
        std::this_thread::yield();
        continue;
      }
      seen = durable;
      observed.fetch_add(1);
      // Ticket t is sequence t here: the commit that made it durable has
      // returned, and the record is readable from the file.
      if (f.worker.stats().durable_sequence.load(std::memory_order_acquire) < durable) {
        missing.fetch_add(1);
      }
      const std::vector<JournalRecord> records = read_journal(f.journal_path);
      if (records.size() < durable || records[durable - 1].sequence != durable) {
        missing.fetch_add(1);
      }
      watched.store(seen, std::memory_order_release);
    }
  });
  {
    JournalThread thread(f.worker);
    for (std::uint64_t ticket = 1; ticket <= kEvents; ++ticket) {
      f.push(liability_change(ticket, 100, at_ms(static_cast<std::int64_t>(ticket))), 0, ticket);
      if (ticket % kBatch == 0) {
        // Until the watcher has checked this ticket: every batch is watched
        // however the threads are scheduled (a loaded machine could otherwise
        // run the whole test before the watcher first looks). Batches of 1 to
        // kBatch records form, as the journal thread catches up.
        ASSERT_TRUE(eventually([&] { return watched.load(std::memory_order_acquire) >= ticket; }));
      }
    }
    ASSERT_TRUE(eventually([&] { return f.intake.make_durable() == kEvents; }));
  }
  done.store(true);
  watcher.join();
  EXPECT_GE(observed.load(), kEvents / kBatch); // every batch was watched
  EXPECT_EQ(missing.load(), 0u);
  EXPECT_EQ(read_journal(f.journal_path).size(), kEvents);
}

TEST(JournalWorker, a_snapshot_is_written_after_the_records_before_it_are_durable_and_then_clears_busy) {
  struct AtSnapshot {
    int calls = 0;
    std::uint64_t durable_sequence = 0;
    std::uint64_t intake_durable = 0;
    std::size_t records_on_disk = 0;
  };
  auto at_snapshot = std::make_shared<AtSnapshot>();
  std::unique_ptr<JournalFixture> fixture;
  std::string snapshot_path;
  fixture = std::make_unique<JournalFixture>(1024, [&](const SnapshotHandoff& handoff) {
    JournalFixture& f = *fixture;
    ++at_snapshot->calls;
    at_snapshot->durable_sequence = f.writer.durable_sequence();
    at_snapshot->intake_durable = f.intake.make_durable();
    at_snapshot->records_on_disk = read_journal(f.journal_path).size();
    EXPECT_TRUE(handoff.busy.load()); // the kernel thread must not touch the bytes yet
    SnapshotInfo info;
    info.journal_sequence = handoff.sequence;
    info.config_digest = handoff.config_digest;
    info.state_digest = handoff.state_digest;
    write_snapshot_payload_file(snapshot_path, info, handoff.bytes);
  });
  JournalFixture& f = *fixture;
  snapshot_path = f.directory.file("kernel.snapshot");

  // The kernel thread's part: apply three inputs, journal them, hand over a
  // snapshot of the state after them, then go on with a fourth.
  hedging::Kernel kernel(one_venue_config());
  const std::vector<Event> before = {hedging::VenueStatus{1, true, at_ms(0)}, market_update(50'000, at_ms(1)),
                                     liability_change(1, 1'000'000, at_ms(2))};
  for (const Event& event : before) {
    (void)kernel.on(event);
  }
  f.push(before[0]);
  f.push(before[1]);
  f.push(before[2], 0, 1);
  kernel.write_snapshot(f.snapshot.bytes);
  f.snapshot.sequence = 3;
  f.snapshot.config_digest = kernel.config_digest();
  f.snapshot.state_digest = kernel.state_digest();
  f.snapshot.busy.store(true);
  f.push_snapshot(3);
  f.push(liability_change(2, 500, at_ms(3)), 0, 2);

  std::atomic<bool> stop{true}; // drain what is queued, then return
  f.worker.run(stop);

  EXPECT_EQ(at_snapshot->calls, 1);
  EXPECT_EQ(at_snapshot->durable_sequence, 3u); // everything the snapshot includes, and no more
  EXPECT_EQ(at_snapshot->records_on_disk, 3u);
  EXPECT_EQ(at_snapshot->intake_durable, 1u);
  EXPECT_FALSE(f.snapshot.busy.load());
  EXPECT_EQ(f.worker.stats().snapshots.load(), 1u);
  EXPECT_EQ(f.worker.stats().snapshot_failures.load(), 0u);
  EXPECT_EQ(f.intake.make_durable(), 2u);

  hedging::Kernel restored(one_venue_config());
  std::string problem;
  const std::optional<SnapshotInfo> loaded = load_snapshot_file(snapshot_path, restored, problem);
  ASSERT_TRUE(loaded.has_value()) << problem;
  EXPECT_EQ(loaded->journal_sequence, 3u);
  EXPECT_EQ(restored.state_digest(), kernel.state_digest());
}

TEST(JournalWorker, a_snapshot_that_cannot_be_written_is_counted_and_still_clears_busy) {
  JournalFixture f(1024, [](const SnapshotHandoff&) { throw std::runtime_error("disk full"); });
  f.push(market_update(50'000, at_ms(1)));
  f.snapshot.busy.store(true);
  f.push_snapshot(1);
  std::atomic<bool> stop{true};
  f.worker.run(stop);
  EXPECT_FALSE(f.snapshot.busy.load()); // the kernel thread may try again later
  EXPECT_EQ(f.worker.stats().snapshots.load(), 0u);
  EXPECT_EQ(f.worker.stats().snapshot_failures.load(), 1u);
  EXPECT_EQ(read_journal(f.journal_path).size(), 1u); // the journal itself is unaffected
}

TEST(JournalWorker, a_worker_told_to_stop_before_it_starts_still_journals_everything_queued) {
  JournalFixture f;
  for (std::uint64_t ticket = 1; ticket <= 100; ++ticket) {
    f.push(liability_change(ticket, 100, at_ms(static_cast<std::int64_t>(ticket))), 0, ticket);
  }
  const std::atomic<bool> stop{true};
  f.worker.run(stop);
  EXPECT_EQ(f.intake.make_durable(), 100u);
  EXPECT_EQ(f.writer.durable_sequence(), 100u);
  EXPECT_EQ(read_journal(f.journal_path).size(), 100u);
}

TEST(JournalWorker, on_stop_it_drains_everything_queued_and_commits_it) {
  constexpr std::uint64_t kEvents = 3'000;
  JournalFixture f(kEvents);
  {
    JournalThread thread(f.worker);
    for (std::uint64_t ticket = 1; ticket <= kEvents; ++ticket) {
      f.push(liability_change(ticket, 100, at_ms(static_cast<std::int64_t>(ticket))), 1, ticket);
    }
    thread.stop(); // immediately: most of the queue is still waiting
  }
  EXPECT_EQ(f.nats.make_durable(), kEvents);
  EXPECT_EQ(f.intake.make_durable(), 0u); // no intake event: nothing published for it
  EXPECT_EQ(f.worker.stats().durable_sequence.load(), kEvents);
  EXPECT_EQ(f.writer.durable_sequence(), kEvents);
  const std::vector<JournalRecord> records = read_journal(f.journal_path);
  ASSERT_EQ(records.size(), kEvents);
  EXPECT_EQ(records.back().sequence, kEvents);
  EXPECT_EQ(std::get<hedging::LiabilityChange>(records.back().event).id, kEvents);
}

TEST(JournalWorker, push_refuses_an_item_when_the_queue_is_full) {
  JournalFixture f(64);
  JournalItem item;
  std::size_t accepted = 0;
  while (f.worker.push(item)) {
    ++accepted;
    ASSERT_LE(accepted, 10'000u);
  }
  EXPECT_EQ(accepted, 64u);
}

} // namespace
} // namespace synthusd::engine::run
