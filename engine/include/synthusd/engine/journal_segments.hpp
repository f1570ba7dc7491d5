#pragma once
// The journal as a chain of segment files, cut at snapshots.
//
// Naming: a journal's base path (`<state_directory>/journal`) names no file
// of its own; its segments are `<base>.<first sequence>` with the sequence
// written in 20 digits (`journal.00000000000000000001`), so that a
// directory listing shows them in order. Each segment holds the records
// from that sequence on, up to the record before the next segment's first:
// the chain has no gap and no overlap, which every reader checks.
//
// Cutting: right after a snapshot at sequence S is durable, the journal
// thread starts segment S + 1 (JournalWriter::start_segment) and writes the
// sealed segment's id index (journal_id_index.hpp). Start-up replays from
// the segment that holds S + 1 (the last one whose first sequence is at most
// S + 1: derived, not stored in the snapshot, so a snapshot whose rotation
// failed or was cut short by a crash still names the right place) and takes
// the liability ids of everything before it from the id indexes.
//
// Archiving: a sealed segment whose records all lie at or before the last
// durable snapshot is needed by nothing at start-up but its id index, which
// stays beside the live segments; the segment may be moved to an archive
// directory (by an operator, or by archive_sealed_segments with
// `[engine] journal_archive_directory`). Readers look for segments in the
// archive directories too; replaying the whole history (`synthusd replay`,
// or a start-up whose snapshot cannot be used) needs every segment.
//
// Migration: a single-file journal of an older version (the base path is a
// file) is the segment that starts at sequence 1. The engine renames it so
// (migrate_single_file_journal); readers take it as it is.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "synthusd/engine/journal.hpp"

namespace synthusd::engine {

inline constexpr int kSegmentSequenceDigits = 20;

// `<base>.<first_sequence in 20 digits>`.
[[nodiscard]] std::string segment_path(const std::string& base, std::uint64_t first_sequence);

// A directory stands for its journal `<directory>/journal`; any other path is
// a base path (or a single-file journal) as it is.
[[nodiscard]] std::string journal_base(const std::string& path_or_directory);

struct JournalSegment {
  std::uint64_t first_sequence = 0;
  std::string path;
};

struct JournalFiles {
  std::vector<JournalSegment> segments;        // by first sequence; the last one is the active segment
  std::vector<std::uint64_t> indexed_segments; // first sequences that have an id index beside the base
};

// The segments of `base` in its directory and in each archive directory,
// ordered by first sequence (a segment in base's directory wins over an
// archived copy of itself), and the id indexes in base's directory. A
// single-file journal at `base` is the segment from sequence 1. Throws
// std::runtime_error naming both files when that file and the segment it
// would be both exist. Missing directories hold nothing.
[[nodiscard]] JournalFiles list_journal_files(const std::string& base,
                                              const std::vector<std::string>& archive_directories = {});

// Throws std::runtime_error naming the index and the last segment when an id
// index shows a segment at or after the last one present was sealed: a
// later segment existed and is gone. Recovery and replay call it.
void refuse_missing_last_segments(const JournalFiles& files, const std::string& base);

// Renames a single-file journal at `base` to the segment from sequence 1
// (durably). Returns true if it did, false when there was none. Throws
// std::runtime_error naming the files when it cannot.
bool migrate_single_file_journal(const std::string& base);

// Reads consecutive segments in order as one journal. Throws
// std::runtime_error naming the files when the chain has a gap or an
// overlap, or when a segment other than the last one is damaged (sealed
// segments were durable before the next one began, so only the last, active
// segment can have a torn tail: tail() reports it as JournalReader does).
class SegmentChainReader {
public:
  explicit SegmentChainReader(std::vector<JournalSegment> segments);
  [[nodiscard]] bool next(JournalRecord& record);
  [[nodiscard]] TailState tail() const noexcept { return tail_; }
  [[nodiscard]] std::uint64_t last_sequence() const noexcept { return last_sequence_; }
  // Which of the segments the last record came from.
  [[nodiscard]] std::size_t segment_index() const noexcept { return current_; }

private:
  std::vector<JournalSegment> segments_;
  std::unique_ptr<JournalReader> reader_;
  std::size_t current_ = 0;
  std::uint64_t last_sequence_ = 0;
  TailState tail_ = TailState::clean;
  bool done_ = false;
};

// Opens the writer on the active (last) segment of `base` in its own
// directory, creating segment 1 for a new journal; a torn or corrupt tail is
// cut there, and only there. Throws std::runtime_error naming the file.
[[nodiscard]] std::unique_ptr<JournalWriter> open_active_segment(const std::string& base,
                                                                 std::size_t buffer_bytes = 1 << 20);

// After a durable snapshot: commits, starts the next segment at
// writer.last_sequence() + 1 and writes the id index of the one just
// sealed. Does nothing (returns false) while the active segment holds no
// record. Throws std::runtime_error naming the file; the journal stays
// whole either way (a segment sealed without its index gets one at the
// next start).
bool rotate_segment(JournalWriter& writer, const std::string& base);

// Moves each sealed segment of base's directory whose records all lie at or
// before `covered_sequence` (a durable snapshot's) and whose id index is in
// place to `archive_directory` (created if needed), durably: the archived
// copy is complete and synced before the original is unlinked. Returns how
// many were moved. Throws std::runtime_error naming the file.
std::size_t archive_sealed_segments(const std::string& base, const std::string& archive_directory,
                                    std::uint64_t covered_sequence);

} // namespace synthusd::engine
