#pragma once
// ClOrdIDs that stay unique across restarts and crashes.
//
// A ClOrdID is "<prefix><counter>". The counter lives in a small file that
// records the first counter NOT yet handed out by any run ("reserved
// limit"). On start-up the allocator takes the whole block [limit, limit +
// block_size) and writes limit + block_size to the file, fsync'd, before the
// first id of the block is used; when the block runs out it reserves the next
// one the same way. A crash therefore skips at most the unused rest of one
// block and never reuses an id, whatever point the crash hits: the file is
// replaced atomically (write a temporary, fsync, rename, fsync the directory),
// so it always holds either the old or the new limit.
//
// C++14 (seen by the QuickFIX translation units). Not thread-safe: one owner
// thread calls next() and reserve_ahead(); reserve_in_background() adds a
// writer thread of the allocator's own, which the owner only signals.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {

class ClientOrderIdAllocator {
public:
  static constexpr std::uint64_t kDefaultBlockSize = 1024;

  // Opens the counter file (created, with the counter starting at 1, if it
  // does not exist) and reserves the first block. Throws std::runtime_error
  // naming the path if the file is corrupt or cannot be read, written or
  // synced, and std::invalid_argument if block_size is 0.
  explicit ClientOrderIdAllocator(std::string path, std::uint64_t block_size = kDefaultBlockSize);
  ~ClientOrderIdAllocator(); // stops and joins the background writer, if any
  ClientOrderIdAllocator(const ClientOrderIdAllocator&) = delete;
  ClientOrderIdAllocator& operator=(const ClientOrderIdAllocator&) = delete;

  // From now on reserve_ahead() does not write the file itself: it asks a
  // thread of this allocator (an eventfd write, no lock) to write and sync
  // the next limit, and next() uses a block only once that thread has
  // published it as durable. The owner thread (the FIX gateway's, or the
  // engine's one-thread hot path that also reads the feeds and runs the
  // kernel) then never waits for the disk unless the writer falls a whole
  // half block behind, when next() reserves as before (counted in
  // reservations_in_next). Cold path; throws std::system_error when the
  // thread or its eventfd cannot be made. Call once, from the owner.
  void reserve_in_background();
  // Background writes that failed (disk full, I/O error): each leaves the
  // reservation to next(), which throws if the file still cannot be written.
  std::uint64_t background_failures() const;
  // The writer was asked for a limit it has not made durable yet.
  bool reservation_pending() const noexcept;

  // The next counter. Reserves a new block (a file write and two fsyncs) once
  // every block_size calls; throws std::runtime_error if that fails, in which
  // case no id is handed out.
  std::uint64_t next();

  // Reserves the next block ahead (the same write and fsyncs) once at most
  // half of the current one is left, so that next() never touches the file
  // when the owner calls this while idle: the sync stays off the order path.
  // A crash then skips at most one and a half blocks. Returns true when it
  // wrote; throws like next().
  bool reserve_ahead();

  // How many blocks next() itself had to reserve (on the order path): 0 when
  // reserve_ahead() keeps up.
  std::uint64_t reservations_in_next() const { return reservations_in_next_; }

  // The first counter of the next block: every id below it may have been
  // handed out by this or an earlier run.
  std::uint64_t reserved_limit() const { return limit_; }
  const std::string& path() const { return path_; }

private:
  struct Background;
  void reserve_block();
  void refresh_limit();

  std::string path_;
  std::uint64_t block_size_;
  std::uint64_t next_ = 0;
  std::uint64_t limit_ = 0;
  std::uint64_t reservations_in_next_ = 0;
  std::unique_ptr<Background> background_;
};

// The longest counter in decimal (UINT64_MAX has 20 digits).
constexpr std::size_t kMaxClientOrderIdCounterDigits = 20;

// "<prefix><counter>", e.g. "SU17".
std::string format_client_order_id(const std::string& prefix, std::uint64_t counter);
// The same text written into out[0, capacity) without allocating (the order
// path's form): its length, or 0 (nothing written) when it does not fit.
std::size_t write_client_order_id(const std::string& prefix, std::uint64_t counter, char* out,
                                  std::size_t capacity) noexcept;

// The counter of an id made by format_client_order_id with this prefix, or
// 0 if text is not one (ids start at 1).
std::uint64_t parse_client_order_id(const std::string& prefix, const char* text, std::size_t size);

} // namespace fix
} // namespace synthusd
