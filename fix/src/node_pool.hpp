#pragma once
// A free list of node-sized blocks for the gateway's order table (owner
// thread only, no locking). std::unordered_map allocates one node per insert
// and frees it per erase; with this allocator an insert takes a block from
// the list and an erase returns it, and the list grows a chunk of blocks at
// a time, so the order path allocates once per kChunk orders at most until
// the table's peak size is reached, and never after. reserve_ahead(), called
// by the owner while idle, grows the list before it runs out, so that the
// growth too stays off the order path.
//
// The pool serves single-object allocations of the first size it is asked
// for (the container's node); anything else (bucket arrays) goes to
// operator new. deallocate() sees the same type and count as allocate(), so
// it always returns a block to where it came from. C++14: this header is
// included by translation units that include QuickFIX.

#include <cstddef>
#include <memory>
#include <new>
#include <vector>

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {

class NodePool {
public:
  static constexpr std::size_t kChunk = 256; // blocks per growth

  NodePool() = default;
  NodePool(const NodePool&) = delete;
  NodePool& operator=(const NodePool&) = delete;

  // True when blocks of `size` bytes come from this pool.
  bool serves(std::size_t size) noexcept {
    if (block_size_ == 0) {
      block_size_ = size < sizeof(Free) ? sizeof(Free) : size;
      requested_size_ = size;
    }
    return size == requested_size_;
  }
  void* take() {
    if (free_ == nullptr) {
      grow();
    }
    Free* block = free_;
    free_ = block->next;
    --free_count_;
    return block;
  }
  void give(void* pointer) noexcept {
    Free* block = static_cast<Free*>(pointer);
    block->next = free_;
    free_ = block;
    ++free_count_;
  }
  // Grows a chunk ahead once at most half of one is left, so that the
  // owner, calling this while idle, keeps the growth off the order path.
  // Nothing before the first allocation (the block size is not known yet).
  // True when it grew; throws std::bad_alloc like take().
  bool reserve_ahead() {
    if (block_size_ == 0 || free_count_ > kChunk / 2) {
      return false;
    }
    grow();
    return true;
  }

private:
  struct Free {
    Free* next;
  };
  void grow() {
    // Blocks are aligned as max_align_t: node types need no more.
    const std::size_t stride =
        (block_size_ + alignof(std::max_align_t) - 1) / alignof(std::max_align_t) * alignof(std::max_align_t);
    // Rounded up: sizeof(max_align_t) (32 on x86-64) can exceed the
    // alignment (16) the stride is a multiple of.
    const std::size_t elements = (stride * kChunk + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t);
    chunks_.emplace_back(new std::max_align_t[elements]);
    unsigned char* base = reinterpret_cast<unsigned char*>(chunks_.back().get());
    for (std::size_t i = kChunk; i-- > 0;) {
      give(base + i * stride);
    }
  }

  std::size_t block_size_ = 0;
  std::size_t requested_size_ = 0;
  Free* free_ = nullptr;
  std::size_t free_count_ = 0;
  std::vector<std::unique_ptr<std::max_align_t[]>> chunks_;
};

template <typename T>
class NodePoolAllocator {
public:
  using value_type = T;

  explicit NodePoolAllocator(NodePool& pool) noexcept : pool_(&pool) {}
  template <typename U>
  NodePoolAllocator(const NodePoolAllocator<U>& other) noexcept : pool_(other.pool()) {} // NOLINT: rebinding

  T* allocate(std::size_t count) {
    static_assert(alignof(T) <= alignof(std::max_align_t), "over-aligned node");
    if (count == 1 && pool_->serves(sizeof(T))) {
      return static_cast<T*>(pool_->take());
    }
    return static_cast<T*>(::operator new(count * sizeof(T)));
  }
  void deallocate(T* pointer, std::size_t count) noexcept {
    if (count == 1 && pool_->serves(sizeof(T))) {
      pool_->give(pointer);
    } else {
      ::operator delete(pointer);
    }
  }
  NodePool* pool() const noexcept { return pool_; }

  template <typename U>
  bool operator==(const NodePoolAllocator<U>& other) const noexcept {
    return pool_ == other.pool();
  }
  template <typename U>
  bool operator!=(const NodePoolAllocator<U>& other) const noexcept {
    return pool_ != other.pool();
  }

private:
  NodePool* pool_;
};

} // namespace fix
} // namespace synthusd
