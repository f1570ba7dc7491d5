#include "synthusd/engine/snapshot_file.hpp"

#include "little_endian.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <vector>

#include "synthusd/engine/journal.hpp"

namespace synthusd::engine {
namespace {

constexpr std::uint32_t kMagic = 0x31535553; // "SUS1" read little endian
// Version 2 added the backing ledger's section after the kernel's payload;
// a version 1 file is refused, so recovery replays the whole journal and
// rebuilds the ledger from it.
constexpr std::uint32_t kVersion = 2;
// magic, version, journal sequence, config digest, state digest, action
// hash, action events, payload bytes
constexpr std::size_t kHeaderBytes = 4 + 4 + 8 + 8 + 8 + 8 + 8 + 8;
constexpr std::size_t kPayloadBytesOffset = kHeaderBytes - 8;
constexpr std::size_t kCrcBytes = 4;

using little_endian::get_u32;
using little_endian::get_u64;
using little_endian::put_u32;
using little_endian::put_u64;

std::string hex(std::uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

// Owns a descriptor; close() reports its error, the destructor cannot.
class Descriptor {
public:
  explicit Descriptor(int fd) noexcept : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
  bool close() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0;
  }

private:
  int fd_;
};

[[noreturn]] void fail(const std::string& path, const std::string& what, int error) {
  throw std::runtime_error("snapshot " + path + ": " + what + ": " + std::strerror(error));
}

// Writes and fsyncs the temporary file; throws (errno intact in the message).
void write_durably(const std::string& path, const std::string& tmp, std::span<const std::uint8_t> bytes) {
  Descriptor fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    fail(path, "cannot create " + tmp, errno);
  }
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd.get(), bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      fail(path, "cannot write " + tmp, errno);
    }
    written += static_cast<std::size_t>(n);
  }
  // The data must be on disk before the rename makes it the snapshot.
  if (::fsync(fd.get()) != 0) {
    fail(path, "cannot fsync " + tmp, errno);
  }
  if (!fd.close()) {
    fail(path, "cannot close " + tmp, errno);
  }
}

} // namespace

namespace {

// Frames the payload and replaces the file durably and atomically.
void write_framed(const std::string& path, std::uint64_t journal_sequence, std::uint64_t config_digest,
                  std::uint64_t state_digest, std::uint64_t action_hash, std::uint64_t action_events,
                  std::span<const std::uint8_t> payload, std::span<const std::uint8_t> ledger) {
  std::vector<std::uint8_t> file;
  file.reserve(kHeaderBytes + payload.size() + 8 + ledger.size() + kCrcBytes);
  put_u32(file, kMagic);
  put_u32(file, kVersion);
  put_u64(file, journal_sequence);
  put_u64(file, config_digest);
  put_u64(file, state_digest);
  put_u64(file, action_hash);
  put_u64(file, action_events);
  put_u64(file, payload.size());
  file.insert(file.end(), payload.begin(), payload.end());
  put_u64(file, ledger.size()); // 0: no ledger section
  file.insert(file.end(), ledger.begin(), ledger.end());
  put_u32(file, crc32c(file));

  const std::string tmp = path + ".tmp";
  try {
    write_durably(path, tmp, file);
  } catch (...) {
    ::unlink(tmp.c_str()); // never leave a partial file behind
    throw;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    fail(path, "cannot rename " + tmp + " over it", error);
  }
  // The rename itself is durable only once the directory entry is.
  std::string directory = std::filesystem::path(path).parent_path().string();
  if (directory.empty()) {
    directory = ".";
  }
  Descriptor dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) {
    fail(path, "cannot open directory " + directory, errno);
  }
  if (::fsync(dir.get()) != 0) {
    fail(path, "cannot fsync directory " + directory, errno);
  }
}

} // namespace

void write_snapshot_file(const std::string& path, std::uint64_t journal_sequence, const hedging::Kernel& kernel,
                         std::uint64_t action_hash, std::uint64_t action_events, const hedging::BackingLedger* ledger) {
  std::vector<std::uint8_t> payload;
  kernel.write_snapshot(payload);
  std::vector<std::uint8_t> ledger_bytes;
  if (ledger != nullptr) {
    ledger->write_snapshot(ledger_bytes);
  }
  write_framed(path, journal_sequence, kernel.config_digest(), kernel.state_digest(), action_hash, action_events,
               payload, ledger_bytes);
}

void write_snapshot_payload_file(const std::string& path, const SnapshotInfo& info,
                                 std::span<const std::uint8_t> payload, std::span<const std::uint8_t> ledger) {
  // The bytes name the state they hold: a payload from another moment than
  // the digests (a reused buffer, a race) must never be framed as theirs.
  const std::optional<std::uint64_t> recorded = hedging::Kernel::snapshot_state_digest(payload);
  if (!recorded) {
    throw std::runtime_error("snapshot " + path + ": the payload is not an intact kernel snapshot");
  }
  if (*recorded != info.state_digest) {
    throw std::runtime_error("snapshot " + path + ": the payload holds state digest " + hex(*recorded) + ", not " +
                             hex(info.state_digest));
  }
  write_framed(path, info.journal_sequence, info.config_digest, info.state_digest, info.action_hash, info.action_events,
               payload, ledger);
}

std::optional<SnapshotInfo> load_snapshot_file(const std::string& path, hedging::Kernel& kernel, std::string& problem,
                                               hedging::BackingLedger* ledger) {
  problem.clear();
  const auto refuse = [&](const std::string& why) {
    problem = "snapshot " + path + ": " + why;
    return std::nullopt;
  };

  Descriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) {
      return std::nullopt; // no snapshot yet: not a problem, replay everything
    }
    return refuse(std::string("cannot open: ") + std::strerror(errno));
  }
  std::vector<std::uint8_t> file;
  std::uint8_t chunk[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return refuse(std::string("cannot read: ") + std::strerror(errno));
    }
    if (n == 0) {
      break;
    }
    file.insert(file.end(), chunk, chunk + n);
  }

  if (file.size() < kHeaderBytes + 8 + kCrcBytes) {
    return refuse("truncated: " + std::to_string(file.size()) + " bytes is shorter than the header");
  }
  const std::uint8_t* p = file.data();
  if (get_u32(p) != kMagic) {
    return refuse("bad magic: not a synthusd kernel snapshot");
  }
  if (get_u32(p + 4) != kVersion) {
    return refuse("unsupported version " + std::to_string(get_u32(p + 4)));
  }
  // Both lengths are checked against the file before either is used.
  const std::uint64_t payload_bytes = get_u64(p + kPayloadBytesOffset);
  const std::uint64_t room = file.size() - kHeaderBytes - 8 - kCrcBytes;
  if (payload_bytes > room) {
    return refuse("payload length " + std::to_string(payload_bytes) + " does not fit the file size " +
                  std::to_string(file.size()) + " (truncated)");
  }
  const std::uint64_t ledger_bytes = get_u64(p + kHeaderBytes + payload_bytes);
  if (ledger_bytes != room - payload_bytes) {
    return refuse("payload lengths " + std::to_string(payload_bytes) + " + " + std::to_string(ledger_bytes) +
                  " do not match the file size " + std::to_string(file.size()) + " (truncated or extended)");
  }
  const std::size_t checked = file.size() - kCrcBytes;
  const std::uint32_t stored_crc = get_u32(p + checked);
  const std::uint32_t actual_crc = crc32c({p, checked});
  if (stored_crc != actual_crc) {
    return refuse("CRC32C mismatch (stored " + hex(stored_crc) + ", computed " + hex(actual_crc) + "): corrupt file");
  }

  SnapshotInfo info;
  info.journal_sequence = get_u64(p + 8);
  const std::uint64_t config_digest = get_u64(p + 16);
  info.config_digest = config_digest;
  info.state_digest = get_u64(p + 24);
  info.action_hash = get_u64(p + 32);
  info.action_events = get_u64(p + 40);
  if (config_digest != kernel.config_digest()) {
    return refuse("config digest mismatch (snapshot " + hex(config_digest) + ", current config " +
                  hex(kernel.config_digest()) + "): written under another config");
  }

  // Restore into a copy: a refusal must leave the caller's kernel fresh for
  // the full journal replay.
  hedging::Kernel staged = kernel;
  if (!staged.restore_snapshot({p + kHeaderBytes, static_cast<std::size_t>(payload_bytes)})) {
    return refuse("payload refused by the kernel (damaged, or laid out for other tables)");
  }
  if (staged.state_digest() != info.state_digest) {
    return refuse("state digest mismatch after restore (stored " + hex(info.state_digest) + ", restored " +
                  hex(staged.state_digest()) + ")");
  }
  if (ledger != nullptr) {
    if (ledger_bytes == 0) {
      return refuse("no backing ledger section: written without the ledger");
    }
    // restore_snapshot validates everything before it changes anything, so
    // a refusal leaves the caller's ledger fresh for the full replay too.
    if (!ledger->restore_snapshot({p + kHeaderBytes + payload_bytes + 8, static_cast<std::size_t>(ledger_bytes)})) {
      return refuse("backing ledger section refused (damaged, or laid out for other tables)");
    }
  }
  kernel = std::move(staged);
  return info;
}

} // namespace synthusd::engine
