#pragma once
// Kernel snapshot files for crash recovery. Restart = load the latest
// snapshot, replay the journal records after its sequence, compare the state
// digest. A snapshot only shortens the replay: when it cannot be used the
// caller replays the whole journal into a fresh kernel instead.
//
// File layout (little endian):
//   "SUS1" | u32 version | u64 journal sequence | u64 config digest |
//   u64 state digest | u64 action-stream hash | u64 action-stream events |
//   u64 payload bytes | payload (Kernel::write_snapshot) |
//   u64 ledger bytes | ledger (BackingLedger::write_snapshot; 0 bytes: none) |
//   u32 CRC32C of everything before it
// The journal sequence is that of the last record the kernel had applied;
// the action-stream hash (ActionStreamHash value() and events()) covers the
// same records, so a recovered run can go on printing the live run's hash.

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "synthusd/hedging/backing_ledger.hpp"
#include "synthusd/hedging/kernel.hpp"

namespace synthusd::engine {

// Writes durably and atomically: path + ".tmp", fsync, rename over path,
// fsync the directory. A crash leaves either the old file or the new one,
// never a mix. Throws std::runtime_error naming the path on failure (the
// temporary file is removed).
// `ledger`, when given, is written beside the kernel (the backing ledger
// is fed the same inputs, so it must be restored from the same point).
void write_snapshot_file(const std::string& path, std::uint64_t journal_sequence, const hedging::Kernel& kernel,
                         std::uint64_t action_hash = 0, std::uint64_t action_events = 0,
                         const hedging::BackingLedger* ledger = nullptr);

struct SnapshotInfo {
  std::uint64_t journal_sequence = 0; // replay the journal from journal_sequence + 1
  std::uint64_t state_digest = 0;     // Kernel::state_digest() when it was written
  std::uint64_t config_digest = 0;    // Kernel::config_digest() of the writer
  std::uint64_t action_hash = 0;      // ActionStreamHash::value() through journal_sequence (0: not recorded)
  std::uint64_t action_events = 0;    // ActionStreamHash::events() alike
};

// The same from bytes the kernel's own thread serialized (write_snapshot)
// with the digests it took at that moment, for a writer thread that must
// not touch the kernel. Throws std::runtime_error naming the path if the
// bytes are not an intact kernel snapshot or record another state digest.
void write_snapshot_payload_file(const std::string& path, const SnapshotInfo& info,
                                 std::span<const std::uint8_t> payload, std::span<const std::uint8_t> ledger = {});

// Restores `kernel` (built from the current config) from the file. On
// failure returns nullopt and leaves the kernel unchanged; `problem` is empty
// when there is simply no file and otherwise says what was wrong (unreadable,
// truncated, bad magic, unsupported version, CRC32C mismatch, config digest
// mismatch, payload refused by the kernel, state digest mismatch). With a
// `ledger`, the file must also carry an intact ledger section, restored into
// it; on failure the ledger is unchanged too.
[[nodiscard]] std::optional<SnapshotInfo> load_snapshot_file(const std::string& path, hedging::Kernel& kernel,
                                                             std::string& problem,
                                                             hedging::BackingLedger* ledger = nullptr);

} // namespace synthusd::engine
