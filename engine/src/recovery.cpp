#include "synthusd/engine/recovery.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "synthusd/engine/journal_id_index.hpp"
#include "synthusd/engine/journal_segments.hpp"
#include "synthusd/engine/snapshot_file.hpp"

namespace synthusd::engine {
namespace {

std::string where(const std::string& base, const std::vector<std::string>& archive_directories) {
  std::string text = base + ".*";
  for (const std::string& archive : archive_directories) {
    text += " or " + archive;
  }
  return text;
}

} // namespace

JournalScan scan_journal(const std::string& base, const std::vector<std::string>& archive_directories,
                         std::uint64_t replay_from, const std::function<void(const JournalRecord&)>& replay,
                         bool write_indexes) {
  JournalScan scan;
  const JournalFiles files = list_journal_files(base, archive_directories);
  refuse_missing_last_segments(files, base);
  if (files.segments.empty()) {
    return scan;
  }
  const auto has_index = [&files](std::uint64_t first) {
    return std::binary_search(files.indexed_segments.begin(), files.indexed_segments.end(), first);
  };
  const auto remember = [&scan](const hedging::LiabilityChange& change, std::string_view payment_id) {
    scan.liabilities.push_back({change.id, liabilities::liability_fingerprint(change), std::string(payment_id)});
  };
  // A provider-interest change or risk position the intake journaled with
  // its id: deduplicated by that id like a payment.
  const auto remember_other = [&scan](const hedging::Event& event, std::string_view id) {
    scan.liabilities.push_back(
        {liabilities::liability_event_id(id), liabilities::input_fingerprint(event), std::string(id)});
  };

  // Reading begins with the last segment whose first sequence is at most
  // replay_from: the one that holds it (or the active one, ending before it).
  const auto begin = std::upper_bound(files.segments.begin(), files.segments.end(), replay_from,
                                      [](std::uint64_t sequence, const JournalSegment& segment) {
                                        return sequence < segment.first_sequence;
                                      }) -
                     1;
  if (begin < files.segments.begin()) {
    throw std::runtime_error("journal " + base + ": replay must start at sequence " + std::to_string(replay_from) +
                             " but the first segment in " + where(base, archive_directories) + " is " +
                             files.segments.front().path +
                             "; restore the archived segments (or name their directory with [engine] "
                             "journal_archive_directory)");
  }
  const std::uint64_t begin_first = begin->first_sequence;
  scan.replay_segment_first = begin_first;

  // Everything before it counts only for deduplication: its ids come from
  // the sealed segments' indexes, or from the segment when its index is
  // missing or damaged.
  std::uint64_t expected = 1;
  while (expected < begin_first) {
    const std::string index_path = id_index_path(segment_path(base, expected));
    std::string problem;
    std::optional<SegmentIdIndex> index;
    if (has_index(expected)) {
      index = read_id_index(index_path, problem);
    }
    if (index && (index->first_sequence != expected || index->last_sequence >= begin_first)) {
      problem = "journal id index " + index_path + ": covers sequences " + std::to_string(index->first_sequence) +
                ".." + std::to_string(index->last_sequence) + ", not a segment from " + std::to_string(expected) +
                " ending before " + std::to_string(begin_first);
      index.reset();
    }
    if (index) {
      ++scan.id_indexes_read;
    } else {
      const auto segment = std::find_if(files.segments.begin(), begin,
                                        [expected](const JournalSegment& s) { return s.first_sequence == expected; });
      if (segment == begin) {
        throw std::runtime_error(
            "journal " + base + ": the liability ids of sequences from " + std::to_string(expected) +
            " are needed (deduplication covers the whole history) but neither the segment " +
            segment_path(base, expected) + " (in " + where(base, archive_directories) + ") nor its id index " +
            index_path + " is there" + (problem.empty() ? "" : " (" + problem + ")") + "; restore it from the archive");
      }
      if (!problem.empty()) {
        scan.index_problems.push_back(problem);
      }
      index = build_id_index(segment->path, expected);
      if (index->last_sequence >= begin_first) {
        throw std::runtime_error("journal: " + segment->path + " ends at " + std::to_string(index->last_sequence) +
                                 " but " + begin->path + " starts at " + std::to_string(begin_first) +
                                 ": the segments overlap");
      }
      if (write_indexes) {
        write_id_index(index_path, *index);
        ++scan.id_indexes_written;
      }
    }
    for (const IndexedLiability& entry : index->liabilities) {
      if (entry.other) {
        remember_other(*entry.other, entry.payment_id);
      } else {
        remember(entry.change, entry.payment_id);
      }
    }
    expected = index->last_sequence + 1;
  }

  // From there on record by record: the kernel replays what the snapshot
  // does not cover, every liability record counts for deduplication, and a
  // sealed segment read whole gets its index if it has none (a crash came
  // between its rotation and the index).
  SegmentChainReader reader({begin, files.segments.end()});
  SegmentIdIndex sealed;
  sealed.first_sequence = begin_first;
  std::size_t segment = 0;
  JournalRecord record;
  while (reader.next(record)) {
    if (reader.segment_index() != segment) {
      sealed.last_sequence = record.sequence - 1;
      if (write_indexes && !has_index(sealed.first_sequence)) {
        write_id_index(id_index_path(segment_path(base, sealed.first_sequence)), sealed);
        ++scan.id_indexes_written;
      }
      sealed = SegmentIdIndex{record.sequence, 0, {}};
      segment = reader.segment_index();
    }
    if (const auto* change = std::get_if<hedging::LiabilityChange>(&record.event)) {
      remember(*change, record.liability_id.view());
      sealed.liabilities.push_back({record.sequence, *change, std::string(record.liability_id.view()), {}});
    } else if (!record.liability_id.empty()) {
      remember_other(record.event, record.liability_id.view());
      sealed.liabilities.push_back({record.sequence, {}, std::string(record.liability_id.view()), record.event});
    }
    if (record.sequence >= replay_from && replay) {
      replay(record);
    }
  }
  scan.segments_read = static_cast<std::uint64_t>(files.segments.end() - begin);
  scan.last_sequence = reader.last_sequence();
  scan.tail = reader.tail();
  return scan;
}

RecoveredState recover_state(const hedging::KernelConfig& config, const RecoveryPaths& paths) {
  RecoveredState state;
  RecoveryReport& report = state.report;
  const std::string& base = paths.journal_base;
  report.migrated_single_file = migrate_single_file_journal(base);
  if (report.migrated_single_file) {
    spdlog::info("recovery: single-file journal {} is now the segment {}", base, segment_path(base, 1));
  }

  state.kernel = std::make_unique<hedging::Kernel>(config);
  state.ledger = std::make_unique<hedging::BackingLedger>(state.kernel->slots().size());
  std::string problem;
  const std::optional<SnapshotInfo> snapshot =
      load_snapshot_file(paths.snapshot, *state.kernel, problem, state.ledger.get());
  if (!snapshot && !problem.empty()) {
    spdlog::warn("recovery: snapshot {} not used ({}); replaying the whole journal", paths.snapshot, problem);
    report.snapshot_problem = problem;
    state.kernel = std::make_unique<hedging::Kernel>(config);
    state.ledger = std::make_unique<hedging::BackingLedger>(state.kernel->slots().size());
  }
  if (snapshot) {
    report.snapshot_used = true;
    report.snapshot_sequence = snapshot->journal_sequence;
    state.hash = hedging::ActionStreamHash::resume(snapshot->action_hash, snapshot->action_events);
  }

  JournalScan scan;
  try {
    scan = scan_journal(
        base, paths.archive_directories, report.snapshot_sequence + 1,
        [&state, &report](const JournalRecord& record) {
          state.hash.add(hedging::apply_input(*state.kernel, *state.ledger, record.event));
          ++report.replayed_records;
        },
        true);
  } catch (const std::runtime_error& error) {
    if (!report.snapshot_problem.empty()) {
      throw std::runtime_error(std::string(error.what()) + " (the whole history is needed because the snapshot " +
                               "was not used: " + report.snapshot_problem + ")");
    }
    throw;
  }
  for (const std::string& index_problem : scan.index_problems) {
    spdlog::warn("recovery: {}; rebuilt from its segment", index_problem);
  }
  if (snapshot && scan.last_sequence < report.snapshot_sequence) {
    throw std::runtime_error("recovery: the snapshot includes journal sequence " +
                             std::to_string(report.snapshot_sequence) + " but the journal " + base + " ends at " +
                             std::to_string(scan.last_sequence) +
                             "; the journal was replaced or cut: refusing to start on a state that cannot be audited");
  }

  state.journal = open_active_segment(base);
  report.journal_tail = state.journal->recovered_tail();
  report.truncated_bytes = state.journal->truncated_bytes();
  report.journal_last_sequence = state.journal->last_sequence();
  if (report.journal_tail != TailState::clean) {
    spdlog::warn("recovery: journal segment {} had a {} tail: {} bytes cut after sequence {}", state.journal->path(),
                 report.journal_tail == TailState::torn ? "torn" : "corrupt", report.truncated_bytes,
                 report.journal_last_sequence);
  }
  if (state.journal->last_sequence() != scan.last_sequence) {
    throw std::runtime_error("recovery: journal reader and writer disagree on the last sequence of " + base + " (" +
                             std::to_string(scan.last_sequence) + " vs " +
                             std::to_string(state.journal->last_sequence()) + ")");
  }
  // The active segment ends exactly at the snapshot: the run stopped (or
  // crashed) between writing the snapshot and starting the next segment.
  // Starting it now keeps the next start from reading this segment again.
  if (snapshot && state.journal->last_sequence() == report.snapshot_sequence && rotate_segment(*state.journal, base)) {
    report.rotation_completed = true;
    spdlog::info("recovery: segment {} started after the snapshot at sequence {}", state.journal->path(),
                 report.snapshot_sequence);
  }

  report.replay_segment_first = scan.replay_segment_first;
  report.segments_read = scan.segments_read;
  report.id_indexes_read = scan.id_indexes_read;
  report.id_indexes_written = scan.id_indexes_written;
  report.liability_ids = scan.liabilities.size();
  state.liabilities = std::move(scan.liabilities);
  report.state_digest = state.kernel->state_digest();
  spdlog::info("recovery: {} snapshot at sequence {}, {} records replayed from {} segment(s) (from sequence {}), "
               "liability ids of {} earlier segment(s) from their indexes ({} written), {} liability ids, journal "
               "ends at {}, state digest {:016x}",
               report.snapshot_used ? "used" : "no", report.snapshot_sequence, report.replayed_records,
               report.segments_read, report.replay_segment_first, report.id_indexes_read, report.id_indexes_written,
               report.liability_ids, report.journal_last_sequence, report.state_digest);
  return state;
}

} // namespace synthusd::engine
