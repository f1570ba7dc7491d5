// Replaces the global allocation functions. This lives in its own translation
// unit because GCC's -Wmismatched-new-delete misfires when it can inline a
// malloc-based operator new into the same file as library code that deletes.

#include "allocation_counter.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<std::int64_t> count{0};

void* counted_allocate(std::size_t size) {
  count.fetch_add(1, std::memory_order_relaxed);
  if (void* pointer = std::malloc(size == 0 ? 1 : size)) {
    return pointer;
  }
  throw std::bad_alloc();
}
} // namespace

std::int64_t synthusd::test_support::allocation_count() noexcept { return count.load(std::memory_order_relaxed); }

// The nothrow, sized and array forms all forward to these by default.
void* operator new(std::size_t size) { return counted_allocate(size); }
void* operator new[](std::size_t size) { return counted_allocate(size); }
void operator delete(void* pointer) noexcept { std::free(pointer); }
void operator delete[](void* pointer) noexcept { std::free(pointer); }
void operator delete(void* pointer, std::size_t) noexcept { std::free(pointer); }
void operator delete[](void* pointer, std::size_t) noexcept { std::free(pointer); }
