#include "synthusd/engine/journal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <type_traits>

#include "durable_file.hpp"

namespace synthusd::engine {
namespace {

constexpr std::uint32_t kMagic = 0x314a5553; // "SUJ1" read little endian

// ---- CRC32C -------------------------------------------------------------------

// Slicing-by-8 (eight tables, eight bytes per step): the start-up reads
// every id index and the tail segment through this, and the one-table loop
// was the largest part of that read.
using CrcTables = std::array<std::array<std::uint32_t, 256>, 8>;
constexpr CrcTables make_crc_tables() {
  CrcTables tables{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) {
      c = (c & 1U) != 0 ? (c >> 1) ^ 0x82F63B78U : c >> 1;
    }
    tables[0][i] = c;
  }
  for (std::uint32_t i = 0; i < 256; ++i) {
    for (std::size_t t = 1; t < 8; ++t) {
      tables[t][i] = (tables[t - 1][i] >> 8) ^ tables[0][tables[t - 1][i] & 0xFFU];
    }
  }
  return tables;
}
constexpr CrcTables kCrcTables = make_crc_tables();

// ---- field-by-field encoding: never raw struct bytes (padding is unspecified) ----

template <typename Visitor>
void fields(hedging::LiabilityChange& e, Visitor& v) {
  v(e.id);
  v(e.delta.value);
  v(e.sats.value);
  v(e.price.raw);
  v(e.time.nanoseconds);
}
template <typename Visitor>
void fields(hedging::MarketUpdate& e, Visitor& v) {
  v(e.venue);
  v(e.instrument);
  v(e.bid.raw);
  v(e.ask.raw);
  v(e.mark.raw);
  v(e.index.raw);
  v(e.funding_rate.raw);
  v(e.next_funding_time.nanoseconds);
  v(e.time.nanoseconds);
}
template <typename Visitor>
void fields(hedging::ExecutionReport& e, Visitor& v) {
  v(e.client_order_id);
  v(e.status);
  v(e.last_quantity.value);
  v(e.last_price.raw);
  v(e.time.nanoseconds);
}
template <typename Visitor>
void fields(hedging::PositionSnapshot& e, Visitor& v) {
  v(e.venue);
  v(e.instrument);
  v(e.position.value);
  v(e.time.nanoseconds);
}
template <typename Visitor>
void fields(hedging::CollateralSnapshot& e, Visitor& v) {
  v(e.venue);
  v(e.equity.value);
  v(e.time.nanoseconds);
  v(e.withdrawable.value); // last: a record written before it ends after the time (decode_event)
}
template <typename Visitor>
void fields(hedging::TransferCompleted& e, Visitor& v) {
  v(e.transfer_id);
  v(e.time.nanoseconds);
}
template <typename Visitor>
void fields(hedging::TransferFailed& e, Visitor& v) {
  v(e.transfer_id);
  v(e.time.nanoseconds);
}
template <typename Visitor>
void fields(hedging::VenueStatus& e, Visitor& v) {
  v(e.venue);
  v(e.up);
  v(e.time.nanoseconds);
}
template <typename Visitor>
void fields(hedging::Timer& e, Visitor& v) {
  v(e.time.nanoseconds);
}
template <typename Visitor>
void fields(hedging::ExternalRiskPosition& e, Visitor& v) {
  v(e.market);
  v(e.position_id);
  v(e.present);
  v(e.notional.value);
  v(e.vault_balance.value);
  v(e.shield_balance.value);
  v(e.pnl.value);
  v(e.profit_limit_interest.raw);
  v(e.time.nanoseconds);
}
template <typename Visitor>
void fields(hedging::ProviderInterestChange& e, Visitor& v) {
  v(e.provider_id);
  v(e.delta.value);
  v(e.time.nanoseconds);
}

template <typename T>
std::uint64_t to_wire(const T& value) {
  if constexpr (std::is_enum_v<T>) {
    return static_cast<std::uint64_t>(value);
  } else if constexpr (std::is_same_v<T, bool>) {
    return value ? 1U : 0U;
  } else {
    return static_cast<std::uint64_t>(value);
  }
}

struct Writer {
  std::span<std::uint8_t> out;
  std::size_t size = 0;
  bool ok = true;
  template <typename T>
  void operator()(T& value) {
    if (size + 8 > out.size()) {
      ok = false;
      return;
    }
    const std::uint64_t wire = to_wire(value);
    for (int i = 0; i < 8; ++i) {
      out[size++] = static_cast<std::uint8_t>(wire >> (8 * i));
    }
  }
};

struct Reader {
  std::span<const std::uint8_t> in;
  std::size_t offset = 0;
  bool ok = true;
  template <typename T>
  void operator()(T& value) {
    if (offset + 8 > in.size()) {
      ok = false;
      return;
    }
    std::uint64_t wire = 0;
    for (int i = 0; i < 8; ++i) {
      wire |= static_cast<std::uint64_t>(in[offset++]) << (8 * i);
    }
    if constexpr (std::is_same_v<T, bool>) {
      ok = ok && wire <= 1;
      value = wire == 1;
    } else {
      value = static_cast<T>(wire);
    }
  }
};

std::uint32_t read_u32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}
std::uint64_t read_u64(const std::uint8_t* p) {
  return static_cast<std::uint64_t>(read_u32(p)) | static_cast<std::uint64_t>(read_u32(p + 4)) << 32;
}
void write_u32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    p[i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
}
void write_u64(std::uint8_t* p, std::uint64_t v) {
  write_u32(p, static_cast<std::uint32_t>(v));
  write_u32(p + 4, static_cast<std::uint32_t>(v >> 32));
}

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw std::runtime_error("journal " + path + ": " + what + ": " + std::strerror(errno));
}

} // namespace

std::uint32_t crc32c(std::span<const std::uint8_t> bytes, std::uint32_t crc) noexcept {
  crc = ~crc;
  const std::uint8_t* p = bytes.data();
  std::size_t left = bytes.size();
  const auto& t = kCrcTables;
  while (left >= 8) {
    const std::uint32_t low = crc ^ (static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
                                     static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24);
    crc = t[7][low & 0xFFU] ^ t[6][(low >> 8) & 0xFFU] ^ t[5][(low >> 16) & 0xFFU] ^ t[4][low >> 24] ^ t[3][p[4]] ^
          t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
    p += 8;
    left -= 8;
  }
  for (; left > 0; --left, ++p) {
    crc = t[0][(crc ^ *p) & 0xFFU] ^ (crc >> 8);
  }
  return ~crc;
}

std::size_t encode_event(const hedging::Event& event, std::span<std::uint8_t> out) noexcept {
  Writer writer{out};
  hedging::Event copy = event; // the field visitors take mutable references
  std::visit([&writer](auto& e) { fields(e, writer); }, copy);
  return writer.ok ? writer.size : 0;
}

bool decode_event(std::uint8_t type, std::span<const std::uint8_t> payload, hedging::Event& out) noexcept {
  if (type >= std::variant_size_v<hedging::Event>) {
    return false;
  }
  // Construct the alternative named by `type`, then read its fields.
  bool ok = false;
  auto decode_as = [&]<std::size_t I>(std::integral_constant<std::size_t, I>) {
    if (type == I) {
      std::variant_alternative_t<I, hedging::Event> event{};
      Reader reader{payload};
      fields(event, reader);
      ok = reader.ok && reader.offset == payload.size();
      if constexpr (std::is_same_v<decltype(event), hedging::CollateralSnapshot>) {
        // Journals written before the withdrawable amount: venue, equity and
        // time only, replayed as "not reported" (what the kernel then saw).
        constexpr std::size_t kWithoutWithdrawableBytes = 3 * 8;
        ok = ok || (payload.size() == kWithoutWithdrawableBytes && reader.offset == payload.size());
      }
      out = event;
    }
  };
  [&]<std::size_t... I>(std::index_sequence<I...>) { (decode_as(std::integral_constant<std::size_t, I>{}), ...); }
  (std::make_index_sequence<std::variant_size_v<hedging::Event>>{});
  return ok;
}

namespace {

// The inputs a source hands in with an id of its own (liability sources and
// the intake's provider-interest and risk-position kinds): journaled with it,
// so deduplication survives a restart.
bool carries_source_id(std::size_t alternative) noexcept {
  return alternative == hedging::Event(hedging::LiabilityChange{}).index() ||
         alternative == hedging::Event(hedging::ProviderInterestChange{}).index() ||
         alternative == hedging::Event(hedging::ExternalRiskPosition{}).index();
}

// The payload bytes of alternative `type`'s fields (each 8 bytes), from a
// default instance: the same visitor that writes them counts them.
std::size_t field_bytes(std::size_t type) noexcept {
  std::size_t bytes = 0;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((type == I ? (void)(bytes =
                             [] {
                               std::uint8_t scratch[kMaxPayload];
                               return encode_event(hedging::Event(std::variant_alternative_t<I, hedging::Event>{}),
                                                   scratch);
                             }())
                : (void)0),
     ...);
  }
  (std::make_index_sequence<std::variant_size_v<hedging::Event>>{});
  return bytes;
}

} // namespace

std::uint8_t record_type(const hedging::Event& event, std::string_view liability_id) noexcept {
  const bool with_id = !liability_id.empty() && carries_source_id(event.index());
  return static_cast<std::uint8_t>(with_id ? kLiabilityWithIdType + event.index() : event.index());
}

std::size_t encode_record(const hedging::Event& event, std::string_view liability_id,
                          std::span<std::uint8_t> out) noexcept {
  const std::size_t size = encode_event(event, out);
  if (size == 0 || record_type(event, liability_id) < kLiabilityWithIdType) {
    return size;
  }
  if (liability_id.size() > liabilities::kMaxLiabilityIdBytes || out.size() - size < liability_id.size()) {
    return 0;
  }
  std::copy(liability_id.begin(), liability_id.end(), out.begin() + static_cast<std::ptrdiff_t>(size));
  return size + liability_id.size();
}

bool decode_record(std::uint8_t type, std::span<const std::uint8_t> payload, hedging::Event& out,
                   liabilities::LiabilityId& liability_id) noexcept {
  liability_id.clear();
  if (type < kLiabilityWithIdType) {
    return decode_event(type, payload, out);
  }
  const std::size_t alternative = type - kLiabilityWithIdType;
  if (alternative >= std::variant_size_v<hedging::Event> || !carries_source_id(alternative)) {
    return false;
  }
  const std::size_t fields = field_bytes(alternative);
  const std::size_t id_bytes = payload.size() < fields ? 0 : payload.size() - fields;
  if (id_bytes == 0 || !decode_event(static_cast<std::uint8_t>(alternative), payload.first(fields), out)) {
    return false;
  }
  const std::span<const std::uint8_t> id = payload.subspan(fields);
  return liability_id.assign({reinterpret_cast<const char*>(id.data()), id.size()});
}

// ---- reader ---------------------------------------------------------------------

JournalReader::JournalReader(const std::string& path, std::uint64_t first_sequence)
    : last_sequence_(first_sequence - 1) {
  // One read per chunk into a buffer sized from the file (a stream iterator
  // copied byte by byte and was most of a start-up's reading time).
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat info {};
  if (fd < 0 || ::fstat(fd, &info) != 0) {
    const int error = errno;
    if (fd >= 0) {
      ::close(fd);
    }
    throw std::runtime_error("journal " + path + ": cannot open for reading: " + std::strerror(error));
  }
  data_.resize(static_cast<std::size_t>(info.st_size));
  std::size_t size = 0;
  while (true) {
    if (size == data_.size()) {
      data_.resize(size + 65'536); // the file grew since fstat (a writer is appending)
    }
    const ssize_t n = ::read(fd, data_.data() + size, data_.size() - size);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      throw std::runtime_error("journal " + path + ": cannot read: " + std::strerror(error));
    }
    if (n == 0) {
      break;
    }
    size += static_cast<std::size_t>(n);
  }
  ::close(fd);
  data_.resize(size);
}

bool JournalReader::next(JournalRecord& record) {
  if (offset_ == data_.size()) {
    tail_ = TailState::clean;
    return false;
  }
  const std::size_t left = data_.size() - offset_;
  const std::uint8_t* p = data_.data() + offset_;
  if (left < 8) {
    tail_ = TailState::torn;
    return false;
  }
  const std::uint32_t length = read_u32(p + 4);
  if (read_u32(p) != kMagic || length > kMaxPayload) {
    tail_ = TailState::corrupt;
    return false;
  }
  if (left < kRecordOverhead + length) {
    tail_ = TailState::torn;
    return false;
  }
  const std::size_t checked = 8 + 1 + length; // sequence, type, payload
  const std::uint32_t stored = read_u32(p + 8 + checked);
  if (crc32c({p + 8, checked}) != stored) {
    tail_ = TailState::corrupt;
    return false;
  }
  const std::uint64_t sequence = read_u64(p + 8);
  if (sequence != last_sequence_ + 1 || !decode_record(p[16], {p + 17, length}, record.event, record.liability_id)) {
    tail_ = TailState::corrupt;
    return false;
  }
  record.sequence = sequence;
  last_sequence_ = sequence;
  offset_ += kRecordOverhead + length;
  valid_bytes_ = offset_;
  return true;
}

std::optional<JournalReader::WholeRecord> JournalReader::whole_record_after_stop() const noexcept {
  // Torn too: damage to a length field reads as a record running past the
  // end, yet whole records may follow inside that span.
  if (tail_ == TailState::clean) {
    return std::nullopt;
  }
  for (std::size_t at = offset_; at + kRecordOverhead <= data_.size(); ++at) {
    const std::uint8_t* p = data_.data() + at;
    const std::uint32_t length = read_u32(p + 4);
    if (read_u32(p) != kMagic || length > kMaxPayload || data_.size() - at < kRecordOverhead + length) {
      continue;
    }
    const std::size_t checked = 8 + 1 + length; // sequence, type, payload
    if (crc32c({p + 8, checked}) == read_u32(p + 8 + checked)) {
      // A run of 16 zero bytes: a range never written (see WholeRecord).
      std::size_t run = 0;
      bool zeros = false;
      for (std::size_t i = offset_; i < at && !zeros; ++i) {
        run = data_[i] == 0 ? run + 1 : 0;
        zeros = run >= 16;
      }
      return WholeRecord{at, read_u64(p + 8), zeros};
    }
  }
  return std::nullopt;
}

// ---- writer ---------------------------------------------------------------------

JournalWriter::JournalWriter(const std::string& path, std::size_t buffer_bytes, std::uint64_t first_sequence)
    : path_(path), file_first_sequence_(first_sequence), buffer_(buffer_bytes), last_sequence_(first_sequence - 1) {
  if (buffer_bytes < kRecordOverhead + kMaxPayload) {
    throw std::invalid_argument("journal buffer smaller than one record");
  }
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    fail("cannot open for appending", path);
  }
  try {
    // One writer per file, taken before the file is read or cut: a second
    // engine (a restart overlapping the old process, a second intake) would
    // take the live writer's last records for a torn tail and interleave
    // its own with them. Released when the file is closed, or the process
    // dies.
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      throw std::runtime_error("journal " + path + ": " +
                               (errno == EWOULDBLOCK ? std::string("in use by another process (it holds the file's "
                                                                   "lock); two writers would interleave their records: "
                                                                   "stop the other one first")
                                                     : "cannot lock: " + std::string(std::strerror(errno))));
    }
    struct stat info {};
    if (::fstat(fd_, &info) != 0) {
      fail("cannot stat", path);
    }
    JournalReader reader(path, first_sequence);
    JournalRecord record;
    while (reader.next(record)) {
    }
    last_sequence_ = reader.last_sequence();
    recovered_tail_ = reader.tail();
    const std::optional<JournalReader::WholeRecord> whole = reader.whole_record_after_stop();
    if (whole && !whole->after_zeros) {
      throw std::runtime_error(
          "journal " + path + ": the record after sequence " + std::to_string(last_sequence_) + " (byte " +
          std::to_string(reader.valid_bytes()) + ") is damaged or out of place, yet a whole record with sequence " +
          std::to_string(whole->sequence) + " follows at byte " + std::to_string(whole->offset) +
          ": this is not a crash's torn tail (a misnamed or foreign segment, media damage, or a newer version's "
          "record), and records after it may have been acknowledged; refusing to cut them. Restore the segment, "
          "or, accepting the loss of everything after sequence " +
          std::to_string(last_sequence_) + ", copy the file aside and cut it yourself: truncate -s " +
          std::to_string(reader.valid_bytes()) + " " + path);
    }
    truncated_bytes_ = static_cast<std::uint64_t>(info.st_size) - reader.valid_bytes();
    if (truncated_bytes_ > 0) {
      // Cut only as a crash's tail, but what it held stays readable.
      (void)keep_beside("journal " + path + ": keeping the cut tail", path, ".cut-", reader.unread());
      if (::ftruncate(fd_, static_cast<off_t>(reader.valid_bytes())) != 0) {
        fail("cannot cut off the damaged tail", path);
      }
    }
  } catch (...) {
    ::close(fd_); // the destructor does not run for a constructor that throws
    fd_ = -1;
    throw;
  }
  durable_sequence_ = last_sequence_;
}

JournalWriter::~JournalWriter() {
  if (fd_ >= 0) {
    try {
      // (commit() refuses once a write or sync has failed: nothing is written twice)
      commit();
    } catch (...) {
      // a destructor cannot report; the records stay unacknowledged
    }
    ::close(fd_);
  }
}

std::uint64_t JournalWriter::append(const hedging::Event& event, std::string_view liability_id) {
  if (buffer_.size() - used_ < kRecordOverhead + kMaxPayload) {
    commit();
  }
  std::uint8_t* p = buffer_.data() + used_;
  const std::size_t length = encode_record(event, liability_id, {p + 17, kMaxPayload});
  if (length == 0) {
    // Only an id longer than the protocol allows gets here (admission
    // refuses those): better no record, and no acknowledgement, than a
    // record that cannot be matched back to its payment.
    throw std::invalid_argument("journal " + path_ + ": liability id of " + std::to_string(liability_id.size()) +
                                " bytes is longer than " + std::to_string(liabilities::kMaxLiabilityIdBytes));
  }
  const std::uint64_t sequence = last_sequence_ + 1;
  write_u32(p, kMagic);
  write_u32(p + 4, static_cast<std::uint32_t>(length));
  write_u64(p + 8, sequence);
  p[16] = record_type(event, liability_id);
  write_u32(p + 17 + length, crc32c({p + 8, 9 + length}));
  used_ += kRecordOverhead + length;
  last_sequence_ = sequence;
  return sequence;
}

std::uint64_t JournalWriter::commit() {
  // After a failed write or sync the file's state is unknown (part of the
  // buffer may be in it, and a second fdatasync can report success for
  // pages the kernel already dropped): nothing more is written through this
  // writer, the destructor's commit included. Recovery reads what is there.
  if (failed_) {
    throw std::runtime_error("journal " + path_ + ": an earlier write or fdatasync failed; nothing more is written");
  }
  std::size_t written = 0;
  while (written < used_) {
    const ssize_t n = ::write(fd_, buffer_.data() + written, used_ - written);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      failed_ = true;
      fail("write failed", path_);
    }
    written += static_cast<std::size_t>(n);
  }
  if (used_ > 0) {
    if (::fdatasync(fd_) != 0) {
      failed_ = true;
      fail("fdatasync failed", path_);
    }
    ++commits_;
  }
  used_ = 0;
  durable_sequence_ = last_sequence_;
  return durable_sequence_;
}

void JournalWriter::start_segment(const std::string& path) {
  commit();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    fail("cannot create the new segment", path);
  }
  // Locked like the first, at once: a second process that lists the
  // directory from now on finds the new last segment held.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    ::unlink(path.c_str()); // empty: nothing was appended to it
    errno = error;
    fail("cannot lock the new segment (another process opened it)", path);
  }
  // The new (empty) file and its name must be on disk before anything is
  // appended to it: recovery finds segments by name.
  std::string directory = std::filesystem::path(path).parent_path().string();
  const int dir = ::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (::fsync(fd) != 0 || dir < 0 || ::fsync(dir) != 0) {
    const int error = errno;
    if (dir >= 0) {
      ::close(dir);
    }
    ::close(fd);
    ::unlink(path.c_str()); // empty: nothing was appended to it
    errno = error;
    fail("cannot make the new segment durable", path);
  }
  ::close(dir);
  ::close(fd_);
  fd_ = fd;
  path_ = path;
  file_first_sequence_ = last_sequence_ + 1;
}

} // namespace synthusd::engine
