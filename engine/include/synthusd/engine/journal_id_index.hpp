#pragma once
// The liability records of one sealed journal segment, in a small file of
// their own (`<segment>.ids`), so that start-up can rebuild the sources'
// deduplication over the whole history without reading the old segments
// (which an operator may have archived): it reads each sealed segment's
// index instead, a few dozen bytes per liability event and nothing for the
// far more numerous market data, timer and execution records.
//
// The index keeps the journaled LiabilityChange itself (encoded with the
// journal's own codec), not a derived fingerprint: the fingerprint is
// computed again at load, so a change to its definition can never turn an
// old payment into a false conflict, and a field added to the record later
// is carried by the codec without a new index format.
//
// The entries are the journal's own liability records (record type and
// payload, journal.hpp), so an entry keeps the payment id beside the event
// exactly as the segment does, and an older segment's records without one
// stay without one.
//
// File layout (little endian):
//   "SUI1" | u32 version | u64 first sequence | u64 last sequence |
//   u64 entry count | entries | u32 CRC32C of everything before it
// version 2 entries: u64 sequence | u8 record type | u32 payload bytes | payload
// version 1 entries (read, no longer written): u64 sequence | u32 payload
//   bytes | payload, all of record type 0 (no payment id)
// first..last are the segment's sequences (all of them, not only the
// liability records'), so a chain of indexes shows any gap.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "synthusd/hedging/events.hpp"

namespace synthusd::engine {

struct IndexedLiability {
  std::uint64_t sequence = 0;
  hedging::LiabilityChange change{};
  std::string payment_id; // the id it came from, byte for byte (empty: an older record without one)
  // A provider-interest change or risk position the intake took in with an
  // id (journal record types 137, 138) instead of a liability change: its id
  // counts for deduplication like a payment's.
  std::optional<hedging::Event> other{};
};

struct SegmentIdIndex {
  std::uint64_t first_sequence = 0;          // the segment's first record
  std::uint64_t last_sequence = 0;           // and its last
  std::vector<IndexedLiability> liabilities; // by sequence, in journal order
};

// `<segment path>.ids`.
[[nodiscard]] std::string id_index_path(const std::string& segment_path);

// Reads a sealed segment (whose first record is `first_sequence`) and
// collects its liability records. Throws std::runtime_error naming the file
// when it cannot be read or does not end cleanly after a valid record: a
// sealed segment was made durable before the next one was started, so any
// damage is damage, not a crash's torn tail.
[[nodiscard]] SegmentIdIndex build_id_index(const std::string& segment_path, std::uint64_t first_sequence);

// Writes durably and atomically (temporary file, fsync, rename, directory
// fsync). Throws std::runtime_error naming the path.
void write_id_index(const std::string& path, const SegmentIdIndex& index);

// nullopt when the file is missing (`problem` empty) or unusable (`problem`
// says why and names the file: truncated, bad magic, version, CRC32C,
// an entry that does not decode to a liability record).
[[nodiscard]] std::optional<SegmentIdIndex> read_id_index(const std::string& path, std::string& problem);

} // namespace synthusd::engine
