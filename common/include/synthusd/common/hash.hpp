#pragma once
// Hashing of short byte strings (ids, ClOrdIDs) for in-memory tables: not
// for anything stored or compared across processes. C++14, as the rest of
// synthusd_common: the QuickFIX half of fix/ includes it.

#include <cstddef>
#include <cstdint>

namespace synthusd {
namespace common {

constexpr std::uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;

// FNV-1a 64 over `size` bytes at `data`, continuing from `hash`.
constexpr std::uint64_t fnv1a64(const char* data, std::size_t size, std::uint64_t hash = kFnvOffsetBasis) noexcept {
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= static_cast<unsigned char>(data[i]);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// splitmix64's finaliser: every output bit depends on every input bit, so
// the low bits that pick a slot of a power-of-two table are well spread
// (FNV alone clusters there). Never 0, so that a table can keep 0 for an
// empty slot.
constexpr std::uint64_t mix_for_slot(std::uint64_t hash) noexcept {
  hash ^= hash >> 30;
  hash *= 0xbf58476d1ce4e5b9ULL;
  hash ^= hash >> 27;
  hash *= 0x94d049bb133111ebULL;
  hash ^= hash >> 31;
  return hash == 0 ? 1 : hash;
}

} // namespace common
} // namespace synthusd
