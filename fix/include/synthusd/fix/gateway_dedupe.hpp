#pragma once
// Remembers the last `capacity` ExecIDs in fixed memory, so that an
// ExecutionReport the venue sends twice (a resend after a gap, PossDupFlag or
// PossResend = Y) is processed once.
//
// Memory is bounded and allocated once: a ring of the last `capacity` keys
// (oldest evicted first) plus an open-addressing set over them (linear
// probing, backward-shift deletion, load factor <= 1/2). Keys are 64-bit
// hashes of the ExecID, not the text: two different ExecIDs collide with
// probability about capacity / 2^64 per lookup (~2e-16 for 4096), and even
// then the gateway books fills from CumQty, so a dropped report is caught up
// by the order's next one.
//
// C++14, header-only. Not thread-safe: the gateway uses it on QuickFIX's
// thread only.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "synthusd/common/hash.hpp"

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {

class ExecIdDeduplicator {
public:
  explicit ExecIdDeduplicator(std::size_t capacity) : ring_(capacity == 0 ? 1 : capacity, 0) {
    std::size_t table_size = 2;
    while (table_size < 2 * ring_.size()) {
      table_size *= 2;
    }
    table_.assign(table_size, 0);
    mask_ = table_size - 1;
  }

  // True if this ExecID was not among the last `capacity` seen (and now is);
  // false for a duplicate.
  bool insert(const char* data, std::size_t size) { return insert_hash(hash(data, size)); }

  bool contains(const char* data, std::size_t size) const { return find(hash(data, size)) != kNotFound; }

  // The same for an (order, ExecID) pair: a venue that reuses ExecIDs across
  // orders (or after its restart) must not have a real fill dropped.
  bool insert_pair(const char* order, std::size_t order_size, const char* exec_id, std::size_t exec_id_size) {
    return insert_hash(hash_pair(order, order_size, exec_id, exec_id_size));
  }
  static std::uint64_t hash_pair(const char* order, std::size_t order_size, const char* exec_id,
                                 std::size_t exec_id_size) {
    const Field fields[2] = {{order, order_size}, {exec_id, exec_id_size}};
    return hash_fields(fields, 2);
  }

  // The same for a key of several fields (an empty one counts: "a","" and
  // "","a" differ).
  struct Field {
    const char* data;
    std::size_t size;
  };
  bool insert_fields(const Field* fields, std::size_t count) { return insert_hash(hash_fields(fields, count)); }
  static std::uint64_t hash_fields(const Field* fields, std::size_t count) {
    // FNV-1a over the fields with a separator no FIX field holds between
    // them, and the same finalizer as hash().
    std::uint64_t h = common::kFnvOffsetBasis;
    for (std::size_t i = 0; i < count; ++i) {
      if (i != 0) {
        h = common::fnv1a64("\x01", 1, h);
      }
      h = common::fnv1a64(fields[i].data, fields[i].size, h);
    }
    return common::mix_for_slot(h);
  }

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return ring_.size(); }

  // FNV-1a followed by the splitmix64 finalizer (FNV alone clusters in the
  // low bits we index with). Never 0: 0 marks an empty slot.
  static std::uint64_t hash(const char* data, std::size_t size) {
    return common::mix_for_slot(common::fnv1a64(data, size));
  }

private:
  static constexpr std::size_t kNotFound = static_cast<std::size_t>(-1);

  bool insert_hash(std::uint64_t h) {
    if (find(h) != kNotFound) {
      return false;
    }
    if (size_ == ring_.size()) {
      erase(ring_[head_]); // evict the oldest
      --size_;
    }
    std::size_t slot = static_cast<std::size_t>(h) & mask_;
    while (table_[slot] != 0) {
      slot = (slot + 1) & mask_;
    }
    table_[slot] = h;
    ring_[head_] = h;
    head_ = head_ + 1 == ring_.size() ? 0 : head_ + 1;
    ++size_;
    return true;
  }

  std::size_t find(std::uint64_t h) const {
    std::size_t slot = static_cast<std::size_t>(h) & mask_;
    while (table_[slot] != 0) {
      if (table_[slot] == h) {
        return slot;
      }
      slot = (slot + 1) & mask_;
    }
    return kNotFound;
  }

  // Backward-shift deletion keeps every probe chain unbroken without
  // tombstones, so lookups never slow down as keys churn.
  void erase(std::uint64_t h) {
    std::size_t hole = find(h);
    if (hole == kNotFound) {
      return;
    }
    table_[hole] = 0;
    std::size_t next = hole;
    for (;;) {
      next = (next + 1) & mask_;
      if (table_[next] == 0) {
        return;
      }
      const std::size_t home = static_cast<std::size_t>(table_[next]) & mask_;
      // The entry at `next` may stay only if its home lies cyclically in
      // (hole, next]; otherwise the hole would cut it off from its home.
      const bool stays = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
      if (!stays) {
        table_[hole] = table_[next];
        table_[next] = 0;
        hole = next;
      }
    }
  }

  std::vector<std::uint64_t> ring_;
  std::vector<std::uint64_t> table_;
  std::size_t mask_ = 0;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

} // namespace fix
} // namespace synthusd
