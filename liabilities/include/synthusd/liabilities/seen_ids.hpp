#pragma once
// Every payment id admission has seen, by its bytes, with what it needs to
// answer a repeat (its ticket and fingerprint): the deduplication set.
//
// An open-addressing table (linear probing, power-of-two slots) over id
// bytes kept in large chunks, so that admitting a payment allocates nothing:
// no node, no string. It grows only in reserve_ahead(), which the source's
// thread calls while it has nothing to do (as the FIX gateway reserves its
// ClOrdID blocks), keeping room for kHeadroomIds more ids. Growing is
// incremental, so that no single call holds the thread (the engine's
// one-thread hot path also reads the market) for long: the bigger table is
// taken from the allocator as untouched zero pages, and each call moves at
// most kMigrateSlotsPerStep slots of the old one; until they are all moved,
// a lookup that misses the new table looks in the old one. A burst larger
// than the headroom with no idle moment still fits: insert() then finishes
// the move and grows on the spot, and counts it (growths_on_path), rather
// than refuse a payment.
//
// Bounded by the history's ids, as the journal that rebuilds it at start-up.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
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
  // Slots of the old table moved per reserve_ahead() call while growing:
  // tens of microseconds.
  static constexpr std::size_t kMigrateSlotsPerStep = 4096;

  SeenIds();

  // The entry of `id`, or null. No allocation.
  [[nodiscard]] const Entry* find(std::string_view id) const noexcept;
  // Adds `id` (not present; at most kChunkBytes bytes). Allocates only when
  // the room reserve_ahead() kept is used up.
  void insert(std::string_view id, Entry entry);
  // One bounded step toward room for kHeadroomIds more ids of up to 128
  // bytes without allocating: starts growing the table, or moves the next
  // slots into the grown one, or allocates the next chunk of id bytes.
  // Cheap when nothing is due. Returns true while a move is under way.
  bool reserve_ahead();

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  // Times insert() had to allocate because the reserved room ran out.
  [[nodiscard]] std::uint64_t growths_on_path() const noexcept { return growths_on_path_; }

private:
  // All zero bytes is an empty slot, so that a table can come from calloc
  // (untouched zero pages: no cost at allocation, a page at a time later).
  struct Slot {
    std::uint64_t hash; // 0: empty (a real hash of 0 is stored as 1)
    const char* bytes;
    std::uint32_t size;
    Entry entry;
  };
  struct FreeSlots {
    void operator()(Slot* slots) const noexcept { std::free(slots); }
  };
  struct Table {
    std::unique_ptr<Slot[], FreeSlots> slots;
    std::size_t capacity = 0; // a power of two, or 0
    std::size_t used = 0;
  };

  [[nodiscard]] static std::uint64_t hash_of(std::string_view id) noexcept;
  [[nodiscard]] static const Slot* probe(const Table& table, std::string_view id, std::uint64_t hash) noexcept;
  static void place(Table& table, const Slot& slot) noexcept;
  [[nodiscard]] static Table allocate(std::size_t capacity);
  // Starts moving every slot into a table of `capacity`.
  void begin_growth(std::size_t capacity);
  // Moves up to `slots` slots of the old table; frees it once all are moved.
  void migrate(std::size_t slots) noexcept;
  void add_chunk();
  const char* store(std::string_view id);

  Table table_;    // where inserts go
  Table draining_; // the table before the last growth, while its slots move
  std::size_t drain_next_ = 0;
  std::size_t size_ = 0;
  // Id bytes: filled in order; `spare_` is the next chunk, allocated ahead.
  std::vector<std::unique_ptr<char[]>> chunks_;
  std::unique_ptr<char[]> spare_;
  std::size_t chunk_used_ = kChunkBytes; // bytes used of chunks_.back() (full: none yet)
  std::uint64_t growths_on_path_ = 0;
};

} // namespace synthusd::liabilities
