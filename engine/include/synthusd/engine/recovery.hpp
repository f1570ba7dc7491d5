#pragma once
// Start-up from the state directory: the kernel and backing ledger from the
// last snapshot plus the journal records after it, and the liability ids of
// the whole history for the sources' deduplication.
//
// What is read (journal_segments.hpp): the snapshot, the id index of every
// sealed segment before the one that holds the snapshot's sequence + 1, and
// the segments from that one to the active one. The cost therefore grows
// with the records since the last snapshot and with the number of liability
// records ever journaled (one small index entry each), not with the market
// data, timers and execution reports of the history, which are nearly all
// of it.
//
// Refusals (std::runtime_error naming the file): a segment or id index the
// start needs is missing (archived without its index, or the snapshot cannot
// be used and the archived history is not reachable), a sealed segment is
// damaged, the chain has a gap or an overlap, or the snapshot is ahead of
// the journal. A torn or corrupt tail of the active segment is cut (a crash
// mid-write), never refused.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "synthusd/engine/journal.hpp"
#include "synthusd/engine/journal_liability_sink.hpp"
#include "synthusd/hedging/backing_ledger.hpp"
#include "synthusd/hedging/digest.hpp"
#include "synthusd/hedging/kernel.hpp"

namespace synthusd::engine {

struct JournalScan {
  std::uint64_t last_sequence = 0;             // of the last valid record (0: no record)
  TailState tail = TailState::clean;           // of the active segment
  std::uint64_t replay_segment_first = 0;      // the first sequence of the segment reading began with
  std::uint64_t segments_read = 0;             // segments read record by record
  std::uint64_t id_indexes_read = 0;           // sealed segments whose ids came from their index
  std::uint64_t id_indexes_written = 0;        // indexes missing or damaged, built from their segment
  std::vector<JournaledLiability> liabilities; // every liability record of the history, in journal order
  std::vector<std::string> index_problems;     // damaged indexes that were rebuilt, for the log
};

// Reads what a start needs: `replay` gets every record from `replay_from`
// on, in order. With `write_indexes`, an id index found missing or damaged
// is written again from its segment (the engine's start; readers that must
// not write, like `synthusd intake`'s seeding, pass false).
[[nodiscard]] JournalScan scan_journal(const std::string& base, const std::vector<std::string>& archive_directories,
                                       std::uint64_t replay_from,
                                       const std::function<void(const JournalRecord&)>& replay, bool write_indexes);

struct RecoveryPaths {
  std::string journal_base;                     // <state_directory>/journal
  std::string snapshot;                         // <state_directory>/kernel.snapshot
  std::vector<std::string> archive_directories; // where sealed segments may have been moved
};

struct RecoveryReport {
  bool snapshot_used = false;
  std::string snapshot_problem; // why a snapshot was not used ("" when there was none)
  std::uint64_t snapshot_sequence = 0;
  std::uint64_t replayed_records = 0;
  std::uint64_t journal_last_sequence = 0;
  TailState journal_tail = TailState::clean;
  std::uint64_t truncated_bytes = 0;
  std::uint64_t open_orders_cancelled = 0;
  std::uint64_t state_digest = 0;
  bool migrated_single_file = false; // an older version's single-file journal became segment 1
  bool rotation_completed = false;   // a crash between a snapshot and its new segment, finished now
  std::uint64_t replay_segment_first = 0;
  std::uint64_t segments_read = 0;
  std::uint64_t id_indexes_read = 0;
  std::uint64_t id_indexes_written = 0;
  std::uint64_t liability_ids = 0;
};

struct RecoveredState {
  std::unique_ptr<hedging::Kernel> kernel;
  std::unique_ptr<hedging::BackingLedger> ledger;
  hedging::ActionStreamHash hash;         // the action stream through the last record
  std::unique_ptr<JournalWriter> journal; // open on the active segment
  std::vector<JournaledLiability> liabilities;
  RecoveryReport report;
};

// Migrates a single-file journal, loads the snapshot (falling back to the
// whole history when it cannot be used), replays, opens the active segment
// for appending, and finishes a rotation a crash interrupted (the active
// segment ends exactly at the snapshot). Logs what it did.
[[nodiscard]] RecoveredState recover_state(const hedging::KernelConfig& config, const RecoveryPaths& paths);

} // namespace synthusd::engine
