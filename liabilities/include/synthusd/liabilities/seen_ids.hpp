#pragma once
// Every payment id admission has seen, by its bytes, with what it needs to
// answer a repeat (its ticket and fingerprint): the deduplication set.
//
// An open-addressing table (linear probing, power-of-two slots) over id
// bytes kept in large chunks, so that admitting a payment allocates nothing:
// no node, no string. It grows only in reserve_ahead(), which the source's
// thread calls while it has nothing to do (as the FIX gateway reserves its
// ClOrdID blocks), keeping room for kHeadroomIds more ids. A burst larger
// than that with no idle moment still fits: insert() then grows on the
// spot, and counts it (growths_on_path), rather than refuse a payment.
//
// Bounded by the history's ids, as the journal that rebuilds it at start-up.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace synthusd::liabilities {

class SeenIds {
public:
  struct Entry {
    std::uint64_t ticket = 0;      // the sink's ticket (0: durable before this run)
    std::uint64_t fingerprint = 0; // liability_fingerprint / input_fingerprint (0: unknown)
  };

  // Ids kept room for by reserve_ahead(): about a second of a busy wallet's
  // payments between two idle moments.
  static constexpr std::size_t kHeadroomIds = 4096;
  // Id bytes per chunk (ids are at most 128 bytes: at least 8,192 per
  // chunk, so one spare chunk holds the headroom's ids).
  static constexpr std::size_t kChunkBytes = 1024 * 1024;

  SeenIds();

  // The entry of `id`, or null. No allocation.
  [[nodiscard]] const Entry* find(std::string_view id) const noexcept;
  // Adds `id` (not present; at most kChunkBytes bytes). Allocates only when
  // the room reserve_ahead() kept is used up.
  void insert(std::string_view id, Entry entry);
  // Grows the table and the id storage, if needed, so that kHeadroomIds more
  // ids of up to 128 bytes fit without allocating. Cheap when nothing is due.
  void reserve_ahead();

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  // Times insert() had to allocate because the reserved room ran out.
  [[nodiscard]] std::uint64_t growths_on_path() const noexcept { return growths_on_path_; }

private:
  struct Slot {
    std::uint64_t hash = 0; // 0: empty (a real hash of 0 is stored as 1)
    const char* bytes = nullptr;
    std::uint32_t size = 0;
    Entry entry;
  };

  [[nodiscard]] static std::uint64_t hash_of(std::string_view id) noexcept;
  [[nodiscard]] bool needs_room(std::size_t ids, std::size_t bytes) const noexcept;
  void grow_slots(std::size_t capacity);
  void add_chunk();
  const char* store(std::string_view id);

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
  // Id bytes: filled in order; `spare_` is the next chunk, allocated ahead.
  std::vector<std::unique_ptr<char[]>> chunks_;
  std::unique_ptr<char[]> spare_;
  std::size_t chunk_used_ = kChunkBytes; // bytes used of chunks_.back() (full: none yet)
  std::uint64_t growths_on_path_ = 0;
};

} // namespace synthusd::liabilities
