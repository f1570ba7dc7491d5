#include "synthusd/engine/journal_id_index.hpp"

#include "little_endian.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "durable_file.hpp"
#include "synthusd/engine/journal.hpp"

namespace synthusd::engine {
namespace {

constexpr std::uint32_t kMagic = 0x31495553;           // "SUI1" read little endian
constexpr std::uint32_t kVersion = 2;                  // entries carry their record type (payment ids)
constexpr std::uint32_t kVersionWithoutRecordType = 1; // every entry of type 0
// magic, version, first sequence, last sequence, entry count
constexpr std::size_t kHeaderBytes = 4 + 4 + 8 + 8 + 8;
constexpr std::size_t kEntryHeaderBytes = 8 + 1 + 4;        // sequence, record type, payload bytes
constexpr std::size_t kEntryHeaderBytesWithoutType = 8 + 4; // version 1: sequence, payload bytes
constexpr std::size_t kCrcBytes = 4;

using little_endian::get_u32;
using little_endian::get_u64;
using little_endian::put_u32;
using little_endian::put_u64;

constexpr std::uint8_t kLiabilityType = 0; // LiabilityChange's index in hedging::Event
static_assert(std::is_same_v<std::variant_alternative_t<kLiabilityType, hedging::Event>, hedging::LiabilityChange>);

} // namespace

std::string id_index_path(const std::string& segment_path) { return segment_path + ".ids"; }

SegmentIdIndex build_id_index(const std::string& segment_path, std::uint64_t first_sequence) {
  SegmentIdIndex index;
  index.first_sequence = first_sequence;
  JournalReader reader(segment_path, first_sequence);
  JournalRecord record;
  while (reader.next(record)) {
    if (const auto* change = std::get_if<hedging::LiabilityChange>(&record.event)) {
      index.liabilities.push_back({record.sequence, *change, std::string(record.liability_id.view()), {}});
    } else if (!record.liability_id.empty()) {
      index.liabilities.push_back({record.sequence, {}, std::string(record.liability_id.view()), record.event});
    }
  }
  if (reader.tail() != TailState::clean) {
    throw std::runtime_error("journal segment " + segment_path + ": sealed but damaged after sequence " +
                             std::to_string(reader.last_sequence()) + " (byte " + std::to_string(reader.valid_bytes()) +
                             "); restore it from a copy or the archive");
  }
  if (reader.last_sequence() < first_sequence) {
    throw std::runtime_error("journal segment " + segment_path + ": sealed but holds no record");
  }
  index.last_sequence = reader.last_sequence();
  return index;
}

void write_id_index(const std::string& path, const SegmentIdIndex& index) {
  std::vector<std::uint8_t> file;
  file.reserve(kHeaderBytes + index.liabilities.size() * (kEntryHeaderBytes + 48 + 80) + kCrcBytes);
  put_u32(file, kMagic);
  put_u32(file, kVersion);
  put_u64(file, index.first_sequence);
  put_u64(file, index.last_sequence);
  put_u64(file, index.liabilities.size());
  std::uint8_t payload[kMaxPayload];
  for (const IndexedLiability& entry : index.liabilities) {
    const hedging::Event event = entry.other ? *entry.other : hedging::Event(entry.change);
    const std::size_t size = encode_record(event, entry.payment_id, payload);
    if (size == 0) {
      throw std::runtime_error("journal id index " + path + ": the payment id of sequence " +
                               std::to_string(entry.sequence) + " does not fit a record");
    }
    put_u64(file, entry.sequence);
    file.push_back(record_type(event, entry.payment_id));
    put_u32(file, static_cast<std::uint32_t>(size));
    file.insert(file.end(), payload, payload + size);
  }
  put_u32(file, crc32c(file));
  replace_file_durably("journal id index " + path, path, file);
}

std::optional<SegmentIdIndex> read_id_index(const std::string& path, std::string& problem) {
  problem.clear();
  const auto refuse = [&](const std::string& why) {
    problem = "journal id index " + path + ": " + why;
    return std::nullopt;
  };
  std::vector<std::uint8_t> file;
  if (!read_whole_file(path, file)) {
    if (errno == ENOENT) {
      return std::nullopt;
    }
    return refuse(std::string("cannot read: ") + std::strerror(errno));
  }
  if (file.size() < kHeaderBytes + kCrcBytes) {
    return refuse("truncated: " + std::to_string(file.size()) + " bytes is shorter than the header");
  }
  const std::uint8_t* p = file.data();
  if (get_u32(p) != kMagic) {
    return refuse("bad magic: not a synthusd journal id index");
  }
  const std::uint32_t version = get_u32(p + 4);
  if (version != kVersion && version != kVersionWithoutRecordType) {
    return refuse("unsupported version " + std::to_string(version));
  }
  const std::size_t entry_header_bytes = version == kVersion ? kEntryHeaderBytes : kEntryHeaderBytesWithoutType;
  const std::size_t checked = file.size() - kCrcBytes;
  if (crc32c({p, checked}) != get_u32(p + checked)) {
    return refuse("CRC32C mismatch: corrupt file");
  }
  SegmentIdIndex index;
  index.first_sequence = get_u64(p + 8);
  index.last_sequence = get_u64(p + 16);
  const std::uint64_t count = get_u64(p + 24);
  if (index.first_sequence == 0 || index.last_sequence < index.first_sequence) {
    return refuse("sequences " + std::to_string(index.first_sequence) + ".." + std::to_string(index.last_sequence) +
                  " are not a segment's");
  }
  // Each entry takes at least its header: a count the file cannot hold is
  // refused before anything is reserved for it.
  if (count > (checked - kHeaderBytes) / entry_header_bytes) {
    return refuse("entry count " + std::to_string(count) + " does not fit the file");
  }
  index.liabilities.reserve(count);
  std::size_t offset = kHeaderBytes;
  std::uint64_t previous = index.first_sequence - 1;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (checked - offset < entry_header_bytes) {
      return refuse("entry " + std::to_string(i) + " is cut off");
    }
    const std::uint64_t sequence = get_u64(p + offset);
    const std::uint8_t type = version == kVersion ? p[offset + 8] : kLiabilityType;
    const std::uint32_t size = get_u32(p + offset + entry_header_bytes - 4);
    offset += entry_header_bytes;
    if (size > checked - offset) {
      return refuse("entry " + std::to_string(i) + " is cut off");
    }
    hedging::Event event;
    liabilities::LiabilityId payment_id;
    if (!decode_record(type, {p + offset, size}, event, payment_id) ||
        (!std::holds_alternative<hedging::LiabilityChange>(event) && payment_id.empty())) {
      return refuse("entry " + std::to_string(i) + " is not a liability record");
    }
    if (sequence <= previous || sequence > index.last_sequence) {
      return refuse("entry " + std::to_string(i) + " has sequence " + std::to_string(sequence) +
                    " out of order or outside the segment");
    }
    previous = sequence;
    offset += size;
    if (const auto* change = std::get_if<hedging::LiabilityChange>(&event)) {
      index.liabilities.push_back({sequence, *change, std::string(payment_id.view()), {}});
    } else {
      index.liabilities.push_back({sequence, {}, std::string(payment_id.view()), event});
    }
  }
  if (offset != checked) {
    return refuse("bytes after the last entry");
  }
  return index;
}

} // namespace synthusd::engine
