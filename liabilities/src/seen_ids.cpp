#include "synthusd/liabilities/seen_ids.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <type_traits>

#include "synthusd/common/hash.hpp"
#include "synthusd/liabilities/liability_id.hpp"

namespace synthusd::liabilities {

namespace {

constexpr std::size_t kMinimumSlots = 1024;
// Past this share of slots in use (those still to move from the old table
// counted), insert() grows on the spot: probe sequences lengthen quickly
// above it, and an empty slot must end every probe. reserve_ahead() keeps
// use at half.
constexpr std::size_t kMaxLoadNumerator = 3;
constexpr std::size_t kMaxLoadDenominator = 4;
constexpr std::size_t kHeadroomBytes = SeenIds::kHeadroomIds * kMaxLiabilityIdBytes;
static_assert(kHeadroomBytes <= SeenIds::kChunkBytes, "one spare chunk holds the headroom's bytes");

} // namespace

SeenIds::SeenIds() {
  static_assert(std::is_trivially_copyable_v<Slot> && std::is_trivially_destructible_v<Slot>,
                "slots live in calloc'd memory, all zero bytes meaning empty");
}

std::uint64_t SeenIds::hash_of(std::string_view id) noexcept {
  // FNV-1a over the bytes, then a finaliser so that the low bits that pick
  // the slot depend on every byte (never 0: 0 marks an empty slot).
  return common::mix_for_slot(common::fnv1a64(id.data(), id.size()));
}

SeenIds::Table SeenIds::allocate(std::size_t capacity) {
  // calloc: large blocks come as fresh zero pages, touched only as slots
  // are written, so growing costs nothing up front.
  void* memory = std::calloc(capacity, sizeof(Slot));
  if (memory == nullptr) {
    throw std::bad_alloc();
  }
  Table table;
  table.slots.reset(static_cast<Slot*>(memory));
  table.capacity = capacity;
  return table;
}

const SeenIds::Slot* SeenIds::probe(const Table& table, std::string_view id, std::uint64_t hash) noexcept {
  if (table.capacity == 0) {
    return nullptr;
  }
  const std::size_t mask = table.capacity - 1;
  for (std::size_t index = hash & mask;; index = (index + 1) & mask) {
    const Slot& slot = table.slots[index];
    if (slot.hash == 0) {
      return nullptr; // the load stays below 3/4: an empty slot ends every probe
    }
    if (slot.hash == hash && slot.size == id.size() && std::memcmp(slot.bytes, id.data(), id.size()) == 0) {
      return &slot;
    }
  }
}

void SeenIds::place(Table& table, const Slot& slot) noexcept {
  const std::size_t mask = table.capacity - 1;
  std::size_t index = slot.hash & mask;
  while (table.slots[index].hash != 0) {
    index = (index + 1) & mask;
  }
  table.slots[index] = slot;
  ++table.used;
}

const SeenIds::Entry* SeenIds::find(std::string_view id) const noexcept {
  const std::uint64_t hash = hash_of(id);
  if (const Slot* slot = probe(table_, id, hash); slot != nullptr) {
    return &slot->entry;
  }
  // Not moved yet: still in the table before the growth.
  if (const Slot* slot = probe(draining_, id, hash); slot != nullptr) {
    return &slot->entry;
  }
  return nullptr;
}

void SeenIds::begin_growth(std::size_t capacity) {
  migrate(draining_.capacity); // a growth still under way ends first
  Table grown = allocate(capacity);
  draining_ = std::move(table_);
  table_ = std::move(grown);
  drain_next_ = 0;
  if (draining_.used == 0) {
    draining_ = Table{};
  }
}

void SeenIds::migrate(std::size_t slots) noexcept {
  // `draining_.used` counts the slots still to move.
  for (std::size_t moved = 0; moved < slots && drain_next_ < draining_.capacity; ++moved, ++drain_next_) {
    const Slot& slot = draining_.slots[drain_next_];
    if (slot.hash != 0) {
      place(table_, slot);
      --draining_.used;
    }
  }
  if (draining_.capacity != 0 && (drain_next_ == draining_.capacity || draining_.used == 0)) {
    draining_ = Table{};
    drain_next_ = 0;
  }
}

bool SeenIds::reserve_ahead() {
  if (draining_.capacity != 0) {
    migrate(kMigrateSlotsPerStep);
  } else if ((size_ + kHeadroomIds) * 2 > table_.capacity) {
    // Twice the headroom once it grows, so that the next few inserts do not
    // make the next idle moment grow it again. Nothing moves in this call.
    std::size_t capacity = std::max(kMinimumSlots, table_.capacity);
    while ((size_ + 2 * kHeadroomIds) * 2 > capacity) {
      capacity *= 2;
    }
    begin_growth(capacity);
  }
  if (draining_.capacity != 0) {
    return true; // one step a call
  }
  if (kChunkBytes - chunk_used_ < kHeadroomBytes && !spare_) {
    spare_.reset(new char[kChunkBytes]); // not zeroed: its pages are touched as ids are written
  }
  if (chunks_.size() == chunks_.capacity()) {
    chunks_.reserve(std::max<std::size_t>(8, chunks_.capacity() * 2));
  }
  return false;
}

void SeenIds::add_chunk() {
  if (!spare_) {
    ++growths_on_path_;
    spare_.reset(new char[kChunkBytes]);
  }
  if (chunks_.size() == chunks_.capacity()) {
    ++growths_on_path_;
  }
  chunks_.push_back(std::move(spare_));
  chunk_used_ = 0;
}

const char* SeenIds::store(std::string_view id) {
  if (chunks_.empty() || kChunkBytes - chunk_used_ < id.size()) {
    add_chunk();
  }
  char* at = chunks_.back().get() + chunk_used_;
  std::memcpy(at, id.data(), id.size());
  chunk_used_ += id.size();
  return at;
}

void SeenIds::insert(std::string_view id, Entry entry) {
  if ((table_.used + draining_.used + 1) * kMaxLoadDenominator > table_.capacity * kMaxLoadNumerator) {
    // The room reserve_ahead() kept is used up: grow here, all at once.
    ++growths_on_path_;
    begin_growth(std::max(kMinimumSlots, table_.capacity * 2));
    migrate(draining_.capacity);
  }
  const std::uint64_t hash = hash_of(id);
  place(table_, Slot{hash, store(id), static_cast<std::uint32_t>(id.size()), entry});
  ++size_;
}

} // namespace synthusd::liabilities
