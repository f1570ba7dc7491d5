// Start-up from segments: a live kernel journals every input and snapshots
// with a segment cut after each snapshot, as `synthusd run` does; then a
// "crash" at each point of the cut (files constructed as the crash leaves
// them), and recover_state must rebuild the live kernel, ledger, action
// hash and every liability id, reading only the segment after the snapshot.

#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "journal_test_files.hpp"
#include "kernel_world.hpp"
#include "synthusd/engine/journal_id_index.hpp"
#include "synthusd/engine/journal_segments.hpp"
#include "synthusd/engine/recovery.hpp"
#include "synthusd/engine/snapshot_file.hpp"
#include "synthusd/hedging/backing_ledger.hpp"

namespace synthusd::engine {
namespace {

namespace fs = std::filesystem;

// Where the last snapshot's segment cut stops.
enum class Crash : std::uint8_t {
  none,               // the cut completed
  before_new_segment, // the snapshot is durable, the next segment not created
  before_index,       // the next segment exists, the sealed one has no id index
  mid_index_write,    // a partial temporary index file is left behind
  index_torn,         // an index of the wrong length (a foreign or broken writer)
};

struct Live {
  Kernel kernel{small_config()};
  BackingLedger ledger{kernel.slots().size()};
  ActionStreamHash hash;
  std::vector<std::uint64_t> liability_ids;
  std::uint64_t last_snapshot = 0;
};

class LiveRun {
public:
  explicit LiveRun(const TempDir& dir) : paths_{dir.file("journal"), dir.file("kernel.snapshot"), {}} {}

  // `events` World inputs (after the venues' start), a snapshot and segment
  // cut every `snapshot_every`; the last cut stops at `crash`.
  void live(int events, int snapshot_every, Crash crash = Crash::none) {
    std::unique_ptr<JournalWriter> writer = open_active_segment(paths_.journal_base);
    const auto apply = [&](const Event& event) {
      const std::uint64_t sequence = writer->append(event);
      if (const auto* change = std::get_if<LiabilityChange>(&event)) {
        live_.liability_ids.push_back(change->id);
      }
      last_ = apply_input(live_.kernel, live_.ledger, event);
      live_.hash.add(last_);
      return sequence;
    };
    for (const Event& event : World::start()) {
      apply(event);
    }
    World world(9);
    for (int i = 1; i <= events; ++i) {
      const std::uint64_t sequence = apply(world.next(last_));
      if (i % snapshot_every != 0) {
        continue;
      }
      writer->commit();
      write_snapshot_file(paths_.snapshot, sequence, live_.kernel, live_.hash.value(), live_.hash.events(),
                          &live_.ledger);
      live_.last_snapshot = sequence;
      const bool last_cut = i + snapshot_every > events;
      if (!last_cut || crash == Crash::none) {
        ASSERT_TRUE(rotate_segment(*writer, paths_.journal_base));
        continue;
      }
      // The crash: nothing after this point reached the disk.
      const std::string sealed = writer->path();
      const std::uint64_t sealed_first = writer->file_first_sequence();
      const std::string index = id_index_path(sealed);
      if (crash != Crash::before_new_segment) {
        writer->start_segment(segment_path(paths_.journal_base, sequence + 1));
      }
      if (crash == Crash::mid_index_write) {
        write_bytes(index + ".tmp", {'S', 'U', 'I', '1', 1, 0});
      }
      if (crash == Crash::index_torn) {
        write_id_index(index, build_id_index(sealed, sealed_first));
        std::vector<std::uint8_t> bytes = read_bytes(index);
        bytes.resize(bytes.size() - 7);
        write_bytes(index, bytes);
      }
      return;
    }
    writer->commit();
  }

  // recover_state, checked against the live run.
  RecoveredState recover_and_check() {
    RecoveredState state = recover_state(small_config(), paths_);
    EXPECT_EQ(state.kernel->state_digest(), live_.kernel.state_digest());
    EXPECT_EQ(state.ledger->state_digest(), live_.ledger.state_digest());
    EXPECT_EQ(state.hash.value(), live_.hash.value());
    EXPECT_EQ(state.hash.events(), live_.hash.events());
    std::vector<std::uint64_t> ids;
    for (const JournaledLiability& liability : state.liabilities) {
      ids.push_back(liability.id);
    }
    EXPECT_EQ(ids, live_.liability_ids);
    return state;
  }

  [[nodiscard]] const RecoveryPaths& paths() const { return paths_; }
  RecoveryPaths& paths() { return paths_; }
  [[nodiscard]] const Live& state() const { return live_; }

private:
  RecoveryPaths paths_;
  Live live_;
  std::span<const Action> last_;
};

TEST(JournalRecovery, reads_only_the_segment_after_the_snapshot_and_every_id_from_the_indexes) {
  TempDir dir;
  LiveRun run(dir);
  run.live(3'050, 500);
  const RecoveredState state = run.recover_and_check();
  const RecoveryReport& report = state.report;
  EXPECT_TRUE(report.snapshot_used);
  EXPECT_EQ(report.snapshot_sequence, run.state().last_snapshot);
  EXPECT_EQ(report.replayed_records, 50u);
  EXPECT_EQ(report.segments_read, 1u);
  EXPECT_EQ(report.id_indexes_read, 6u);
  EXPECT_EQ(report.id_indexes_written, 0u);
  EXPECT_EQ(report.replay_segment_first, run.state().last_snapshot + 1);
  EXPECT_FALSE(report.rotation_completed);
  EXPECT_GT(report.liability_ids, 500u);
}

TEST(JournalRecovery, a_crash_at_each_point_of_the_segment_cut_recovers_the_live_state) {
  for (const Crash crash :
       {Crash::none, Crash::before_new_segment, Crash::before_index, Crash::mid_index_write, Crash::index_torn}) {
    SCOPED_TRACE(static_cast<int>(crash));
    TempDir dir;
    LiveRun run(dir);
    run.live(2'000, 400, crash); // the crash comes at the last snapshot, 2,000
    const std::uint64_t snapshot = run.state().last_snapshot;
    RecoveredState state = run.recover_and_check();
    EXPECT_EQ(state.report.replayed_records, 0u);
    // Whatever the crash left, the journal goes on in the segment after the
    // snapshot, and every sealed segment has its index again.
    EXPECT_EQ(state.journal->path(), segment_path(run.paths().journal_base, snapshot + 1));
    EXPECT_EQ(state.report.rotation_completed, crash == Crash::before_new_segment);
    const JournalFiles files = list_journal_files(run.paths().journal_base);
    EXPECT_EQ(files.indexed_segments.size(), files.segments.size() - 1);
    std::string problem;
    EXPECT_TRUE(read_id_index(id_index_path(files.segments.end()[-2].path), problem).has_value()) << problem;

    // The next life appends there, and a later start reads only it.
    state.journal->append(Timer{Timestamp{1'800'000'000LL * 1'000'000'000}});
    state.journal->commit();
    state.journal.reset();
    const RecoveredState again = recover_state(small_config(), run.paths());
    EXPECT_EQ(again.report.segments_read, 1u);
    EXPECT_EQ(again.report.replayed_records, 1u);
    EXPECT_EQ(again.report.id_indexes_written, 0u);
    EXPECT_EQ(again.liabilities.size(), run.state().liability_ids.size());
  }
}

TEST(JournalRecovery, a_torn_tail_in_the_active_segment_is_cut_and_the_records_before_it_replayed) {
  TempDir dir;
  LiveRun run(dir);
  run.live(1'100, 500);
  const std::string active = list_journal_files(run.paths().journal_base).segments.back().path;
  append_bytes(active, {'S', 'U', 'J', '1', 40, 0, 0, 0, 1, 2, 3});
  const RecoveredState state = run.recover_and_check();
  EXPECT_EQ(state.report.journal_tail, TailState::torn);
  EXPECT_EQ(state.report.truncated_bytes, 11u);
  EXPECT_EQ(state.report.replayed_records, 100u);
}

TEST(JournalRecovery, a_second_engine_on_the_same_state_is_refused_while_the_first_holds_the_journal) {
  TempDir dir;
  LiveRun run(dir);
  run.live(1'100, 500);
  RecoveredState first = run.recover_and_check();
  // The first engine's last records, not yet durable: to a second reader
  // they look like a torn tail it would cut.
  first.journal->append(Timer{Timestamp{1'800'000'000LL * 1'000'000'000}});
  first.journal->commit();
  append_bytes(first.journal->path(), {'S', 'U', 'J', '1', 40, 0});
  const std::vector<std::uint8_t> before = read_bytes(first.journal->path());
  try {
    (void)recover_state(small_config(), run.paths());
    FAIL() << "two engines recovered the same journal";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("in use by another process"), std::string::npos) << error.what();
  }
  EXPECT_EQ(read_bytes(first.journal->path()), before); // nothing cut under the live writer
  // Once the first is gone the journal is the next engine's.
  first.journal.reset();
  EXPECT_EQ(recover_state(small_config(), run.paths()).report.journal_tail, TailState::torn);
}

TEST(JournalRecovery, damage_in_a_sealed_segment_the_start_must_read_is_refused_naming_it) {
  TempDir dir;
  LiveRun run(dir);
  run.live(1'000, 400);             // sealed: ..400, ..800; active from 801 (+ the start events)
  fs::remove(run.paths().snapshot); // so the whole history must be read
  const std::string sealed = list_journal_files(run.paths().journal_base).segments[1].path;
  append_bytes(sealed, {'S', 'U', 'J', '1'});
  try {
    (void)recover_state(small_config(), run.paths());
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(sealed), std::string::npos) << error.what();
  }
}

TEST(JournalRecovery, an_older_single_file_journal_and_its_snapshot_are_migrated_and_recovered) {
  // A run whose segments are then joined into one file at the base path,
  // as an older version left its journal.
  TempDir old_dir;
  LiveRun old(old_dir);
  old.live(1'000, 400);
  const JournalFiles old_files = list_journal_files(old.paths().journal_base);
  std::vector<std::uint8_t> single;
  for (const JournalSegment& segment : old_files.segments) {
    const std::vector<std::uint8_t> bytes = read_bytes(segment.path);
    single.insert(single.end(), bytes.begin(), bytes.end());
    fs::remove(segment.path);
    fs::remove(id_index_path(segment.path));
  }
  write_bytes(old.paths().journal_base, single);
  const RecoveredState state = old.recover_and_check();
  EXPECT_TRUE(state.report.migrated_single_file);
  EXPECT_FALSE(fs::exists(old.paths().journal_base));
  EXPECT_EQ(state.report.replay_segment_first, 1u);
  EXPECT_EQ(state.report.replayed_records, 200u);
}

TEST(JournalRecovery, archived_history_is_needed_only_when_the_snapshot_cannot_be_used) {
  TempDir dir;
  TempDir archive("journal_archive");
  LiveRun run(dir);
  run.live(2'100, 500);
  ASSERT_EQ(archive_sealed_segments(run.paths().journal_base, archive.path(), run.state().last_snapshot), 4u);
  (void)run.recover_and_check(); // the snapshot and the indexes suffice

  std::vector<std::uint8_t> snapshot = read_bytes(run.paths().snapshot);
  snapshot[60] ^= 0x40;
  write_bytes(run.paths().snapshot, snapshot);
  try {
    (void)recover_state(small_config(), run.paths());
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find("replay must start at sequence 1"), std::string::npos) << what;
    EXPECT_NE(what.find("CRC32C mismatch"), std::string::npos) << what; // why the whole history
  }
  run.paths().archive_directories.push_back(archive.path());
  const RecoveredState state = run.recover_and_check(); // the whole history, from the archive
  EXPECT_FALSE(state.report.snapshot_used);
  EXPECT_EQ(state.report.segments_read, 5u);
}

} // namespace
} // namespace synthusd::engine
