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
// File layout (little endian):
//   "SUI1" | u32 version | u64 first sequence | u64 last sequence |
//   u64 entry count | entries: u64 sequence | u32 payload bytes | payload |
//   u32 CRC32C of everything before it
// first..last are the segment's sequences (all of them, not only the
// liability records'), so a chain of indexes shows any gap.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "synthusd/hedging/events.hpp"

namespace synthusd::engine {

struct SegmentIdIndex {
  std::uint64_t first_sequence = 0;                                            // the segment's first record
  std::uint64_t last_sequence = 0;                                             // and its last
  std::vector<std::pair<std::uint64_t, hedging::LiabilityChange>> liabilities; // by sequence, in journal order
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
