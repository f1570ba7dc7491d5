#pragma once
// The append-only journal of every kernel input. Replaying it through a
// fresh kernel reproduces the live action stream exactly (the kernel is
// deterministic), which is how the engine recovers after a crash and how
// `synthusd replay` audits a run.
//
// Record layout (little endian):
//   u32 magic "SUJ1" | u32 payload bytes | u64 sequence | u8 record type |
//   payload | u32 CRC32C of sequence..payload
// Record types 0..10 are hedging::Event's alternatives, the payload the
// event's fields, 8 bytes each. Type 128 (kLiabilityWithIdType) is a
// LiabilityChange with the payment id it came from: the event's fields, then
// the id's bytes (1 to 128, the rest of the payload), since the kernel's
// 64-bit id is only a hash of it. Types 128 + 9 and 128 + 10 are an
// ExternalRiskPosition and a ProviderInterestChange with the id the intake
// took them in with (liabilities/PROTOCOL.md), laid out the same way. A LiabilityChange of type 0 carries no id:
// written by engines before ids were journaled (still read: such a record
// deduplicates by the hash alone) and by the simulator, whose liabilities
// come from no payment. An engine older than type 128 stops reading at the
// first such record (it takes it for a corrupt tail): do not downgrade an
// engine over a journal a newer one wrote.
// Sequences start at 1 and increase by one per record, across segments.
//
// A journal is a chain of segment files (journal_segments.hpp): each holds
// the records from the sequence its name carries, and a segment's records
// simply continue where the previous segment's end. JournalReader and
// JournalWriter work on one file; `first_sequence` is the sequence its first
// record must carry (1 for a whole single-file journal).
//
// Durability: append() only buffers; commit() writes and fdatasync()s the
// whole batch (group commit) and advances durable_sequence(). A source's
// event is acknowledged only once its sequence is durable.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "synthusd/hedging/events.hpp"
#include "synthusd/liabilities/liability_id.hpp"

namespace synthusd::engine {

// CRC32C (Castagnoli), as used by iSCSI, ext4 and most journals.
[[nodiscard]] std::uint32_t crc32c(std::span<const std::uint8_t> bytes, std::uint32_t crc = 0) noexcept;

// Event <-> bytes. encode returns the payload size written (0 if `out` is too
// small); decode returns false for an unknown type or a size mismatch.
[[nodiscard]] std::size_t encode_event(const hedging::Event& event, std::span<std::uint8_t> out) noexcept;
[[nodiscard]] bool decode_event(std::uint8_t type, std::span<const std::uint8_t> payload, hedging::Event& out) noexcept;

inline constexpr std::size_t kMaxPayload = 256;
inline constexpr std::size_t kRecordOverhead = 4 + 4 + 8 + 1 + 4;

// 128 + the alternative's index: an event with the source's id after its fields.
inline constexpr std::uint8_t kLiabilityWithIdType = 128;
static_assert(std::variant_size_v<hedging::Event> < kLiabilityWithIdType);
static_assert(std::is_same_v<std::variant_alternative_t<9, hedging::Event>, hedging::ExternalRiskPosition> &&
                  std::is_same_v<std::variant_alternative_t<10, hedging::Event>, hedging::ProviderInterestChange>,
              "record types 137 and 138 are journaled: the alternatives keep their index");

// A record (event, and for a liability change its payment id) <-> its type
// and payload. An empty `liability_id` (or any other event) gives the
// event's own type. encode_record returns the payload size (0 if `out` is
// too small or the id longer than liabilities::kMaxLiabilityIdBytes);
// decode_record returns false for an unknown type or a size mismatch and
// leaves `liability_id` empty for a record without one.
[[nodiscard]] std::uint8_t record_type(const hedging::Event& event, std::string_view liability_id) noexcept;
[[nodiscard]] std::size_t encode_record(const hedging::Event& event, std::string_view liability_id,
                                        std::span<std::uint8_t> out) noexcept;
[[nodiscard]] bool decode_record(std::uint8_t type, std::span<const std::uint8_t> payload, hedging::Event& out,
                                 liabilities::LiabilityId& liability_id) noexcept;

struct JournalRecord {
  std::uint64_t sequence = 0;
  hedging::Event event{};
  liabilities::LiabilityId liability_id{}; // the source's id of a liability change, provider interest or
                                           // risk position (empty: none journaled)
};

enum class TailState : std::uint8_t {
  clean,   // the file ends exactly after a valid record
  torn,    // the last record is incomplete (a crash mid-write)
  corrupt, // a record's checksum, magic, length, type or sequence is wrong
};

// Reads a journal file from the start, stopping at the first bad record.
class JournalReader {
public:
  // Throws std::runtime_error naming the path if it cannot be opened.
  explicit JournalReader(const std::string& path, std::uint64_t first_sequence = 1);
  [[nodiscard]] bool next(JournalRecord& record);
  [[nodiscard]] TailState tail() const noexcept { return tail_; }
  [[nodiscard]] std::uint64_t valid_bytes() const noexcept { return valid_bytes_; }
  // The last valid record's sequence (first_sequence - 1 before any).
  [[nodiscard]] std::uint64_t last_sequence() const noexcept { return last_sequence_; }
  // After a corrupt or torn stop: the first whole record (magic, length and
  // checksum hold) at or past where reading stopped, if any. A crash tears
  // only the end of a file; damage followed by whole records is media
  // damage, a misnamed or foreign segment, or a newer version's record, and
  // the records after it may have been acknowledged.
  struct WholeRecord {
    std::uint64_t offset = 0;
    std::uint64_t sequence = 0;
    // A run of at least 16 zero bytes between the stop and it: a crash's
    // tail after all. A file system may persist a later page of the last,
    // unsynced (so unacknowledged) write before an earlier one, which reads
    // back as zeros. (A sector lost to media damage and read as zeros looks
    // the same: cut too, its bytes kept beside the file.)
    bool after_zeros = false;
  };
  [[nodiscard]] std::optional<WholeRecord> whole_record_after_stop() const noexcept;
  // The bytes after the last valid record (what a writer would cut).
  [[nodiscard]] std::span<const std::uint8_t> unread() const noexcept {
    return {data_.data() + valid_bytes_, data_.size() - valid_bytes_};
  }

private:
  std::vector<std::uint8_t> data_;
  std::size_t offset_ = 0;
  std::uint64_t valid_bytes_ = 0;
  std::uint64_t last_sequence_ = 0;
  TailState tail_ = TailState::clean;
};

class JournalWriter {
public:
  // Opens (creating if needed) and recovers: a torn or corrupt tail is cut
  // off (reported by recovered_tail()), its bytes first kept beside the file
  // as `<path>.cut-<n>`. Damage followed by a whole record
  // (JournalReader::whole_record_after_stop) is not a crash's tail: it is
  // refused, never cut. Throws std::runtime_error naming the path when the
  // file cannot be used.
  // `first_sequence`: the sequence of the file's first record (a segment's).
  explicit JournalWriter(const std::string& path, std::size_t buffer_bytes = 1 << 20, std::uint64_t first_sequence = 1);
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  // Buffers one event (a liability change with the payment id it came
  // from); returns its sequence. Commits first when the buffer is full. No
  // allocation.
  std::uint64_t append(const hedging::Event& event, std::string_view liability_id = {});
  // Writes and fdatasyncs everything appended; returns the durable sequence.
  std::uint64_t commit();
  // Commits, then continues in a new file at `path` whose first record will
  // be last_sequence() + 1 (a new journal segment). The new file is created
  // (never reused: it must not exist), fsynced and its directory entry made
  // durable before the old file is closed, so a crash leaves either the old
  // file as the last one or both. Throws std::runtime_error naming the path;
  // the old file then stays the one appended to, nothing is lost.
  void start_segment(const std::string& path);

  [[nodiscard]] std::uint64_t last_sequence() const noexcept { return last_sequence_; }
  [[nodiscard]] std::uint64_t durable_sequence() const noexcept { return durable_sequence_; }
  [[nodiscard]] TailState recovered_tail() const noexcept { return recovered_tail_; }
  [[nodiscard]] std::uint64_t truncated_bytes() const noexcept { return truncated_bytes_; }
  [[nodiscard]] std::uint64_t commits() const noexcept { return commits_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  // The sequence the current file's first record carries (or will carry).
  [[nodiscard]] std::uint64_t file_first_sequence() const noexcept { return file_first_sequence_; }

private:
  int fd_ = -1;
  std::string path_;
  std::uint64_t file_first_sequence_ = 1;
  std::vector<std::uint8_t> buffer_;
  std::size_t used_ = 0;
  std::uint64_t last_sequence_ = 0;
  std::uint64_t durable_sequence_ = 0;
  TailState recovered_tail_ = TailState::clean;
  std::uint64_t truncated_bytes_ = 0;
  std::uint64_t commits_ = 0;
  bool failed_ = false; // a write or fdatasync failed: commit() refuses from then on
};

} // namespace synthusd::engine
