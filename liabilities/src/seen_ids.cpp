#include "synthusd/liabilities/seen_ids.hpp"

#include <algorithm>
#include <cstring>

#include "synthusd/liabilities/liability_id.hpp"

namespace synthusd::liabilities {

namespace {

constexpr std::size_t kMinimumSlots = 1024;
// Past this share of slots in use, insert() grows on the spot (probe
// sequences lengthen quickly above it); reserve_ahead() keeps use at half.
constexpr std::size_t kMaxLoadNumerator = 3;
constexpr std::size_t kMaxLoadDenominator = 4;

} // namespace

SeenIds::SeenIds() = default;

std::uint64_t SeenIds::hash_of(std::string_view id) noexcept {
  // FNV-1a over the bytes, then a 64-bit finaliser (splitmix64's) so that
  // the low bits that pick the slot depend on every byte.
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : id) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  hash ^= hash >> 30;
  hash *= 0xbf58476d1ce4e5b9ULL;
  hash ^= hash >> 27;
  hash *= 0x94d049bb133111ebULL;
  hash ^= hash >> 31;
  return hash == 0 ? 1 : hash;
}

const SeenIds::Entry* SeenIds::find(std::string_view id) const noexcept {
  if (slots_.empty()) {
    return nullptr;
  }
  const std::uint64_t hash = hash_of(id);
  for (std::size_t index = hash & mask_;; index = (index + 1) & mask_) {
    const Slot& slot = slots_[index];
    if (slot.hash == 0) {
      return nullptr; // the load stays below 3/4: an empty slot ends every probe
    }
    if (slot.hash == hash && slot.size == id.size() && std::memcmp(slot.bytes, id.data(), id.size()) == 0) {
      return &slot.entry;
    }
  }
}

bool SeenIds::needs_room(std::size_t ids, std::size_t bytes) const noexcept {
  if ((size_ + ids) * 2 > slots_.size()) {
    return true;
  }
  const std::size_t free_bytes = kChunkBytes - chunk_used_ + (spare_ ? kChunkBytes : 0);
  return free_bytes < bytes || chunks_.size() == chunks_.capacity();
}

void SeenIds::reserve_ahead() {
  constexpr std::size_t kHeadroomBytes = kHeadroomIds * kMaxLiabilityIdBytes;
  static_assert(kHeadroomBytes <= kChunkBytes, "one spare chunk holds the headroom's bytes");
  if (!needs_room(kHeadroomIds, kHeadroomBytes)) {
    return;
  }
  if ((size_ + kHeadroomIds) * 2 > slots_.size()) {
    // Twice the headroom once it grows, so that the next few inserts do not
    // make the next idle moment grow it again.
    std::size_t capacity = std::max(kMinimumSlots, slots_.size());
    while ((size_ + 2 * kHeadroomIds) * 2 > capacity) {
      capacity *= 2;
    }
    grow_slots(capacity);
  }
  if (kChunkBytes - chunk_used_ < kHeadroomBytes && !spare_) {
    spare_ = std::make_unique<char[]>(kChunkBytes);
  }
  if (chunks_.size() == chunks_.capacity()) {
    chunks_.reserve(std::max<std::size_t>(8, chunks_.capacity() * 2));
  }
}

void SeenIds::grow_slots(std::size_t capacity) {
  std::vector<Slot> old(capacity);
  old.swap(slots_);
  mask_ = capacity - 1;
  for (const Slot& slot : old) {
    if (slot.hash == 0) {
      continue;
    }
    std::size_t index = slot.hash & mask_;
    while (slots_[index].hash != 0) {
      index = (index + 1) & mask_;
    }
    slots_[index] = slot;
  }
}

void SeenIds::add_chunk() {
  if (!spare_) {
    ++growths_on_path_;
    spare_ = std::make_unique<char[]>(kChunkBytes);
  }
  if (chunks_.size() == chunks_.capacity()) {
    ++growths_on_path_;
  }
  chunks_.push_back(std::move(spare_));
  chunk_used_ = 0;
}

const char* SeenIds::store(std::string_view id) {
  if (kChunkBytes - chunk_used_ < id.size()) {
    add_chunk();
  }
  char* at = chunks_.back().get() + chunk_used_;
  std::memcpy(at, id.data(), id.size());
  chunk_used_ += id.size();
  return at;
}

void SeenIds::insert(std::string_view id, Entry entry) {
  if ((size_ + 1) * kMaxLoadDenominator > slots_.size() * kMaxLoadNumerator) {
    ++growths_on_path_;
    grow_slots(std::max(kMinimumSlots, slots_.size() * 2));
  }
  const std::uint64_t hash = hash_of(id);
  std::size_t index = hash & mask_;
  while (slots_[index].hash != 0) {
    index = (index + 1) & mask_;
  }
  slots_[index] = Slot{hash, store(id), static_cast<std::uint32_t>(id.size()), entry};
  ++size_;
}

} // namespace synthusd::liabilities
