// Replaces the global allocation functions. This lives in its own translation
// unit because GCC's -Wmismatched-new-delete misfires when it can inline a
// malloc-based operator new into the same file as library code that deletes.

#include "allocation_counter.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<std::int64_t> count{0};
// Per thread too: a path measured on one thread while others (a venue, a
// socket reader) allocate concurrently. A plain integer of trivial type
// needs no TLS initialisation, so operator new may touch it at any time.
thread_local std::int64_t thread_count = 0;

void* counted_allocate(std::size_t size) {
  count.fetch_add(1, std::memory_order_relaxed);
  ++thread_count;
  if (void* pointer = std::malloc(size == 0 ? 1 : size)) {
    return pointer;
  }
  throw std::bad_alloc();
}
} // namespace

std::int64_t synthusd::test_support::allocation_count() noexcept { return count.load(std::memory_order_relaxed); }
std::int64_t synthusd::test_support::this_thread_allocation_count() noexcept { return thread_count; }

// The sized and array forms forward to these by default.
void* operator new(std::size_t size) { return counted_allocate(size); }
void* operator new[](std::size_t size) { return counted_allocate(size); }
void operator delete(void* pointer) noexcept { std::free(pointer); }
void operator delete[](void* pointer) noexcept { std::free(pointer); }
void operator delete(void* pointer, std::size_t) noexcept { std::free(pointer); }
void operator delete[](void* pointer, std::size_t) noexcept { std::free(pointer); }
// Replaced explicitly too: under ASan the default nothrow forms are ASan's
// own, and freeing their memory through the replacements above reports an
// alloc-dealloc mismatch (simdjson allocates with new (std::nothrow)).
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return counted_allocate(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return counted_allocate(size);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* pointer, const std::nothrow_t&) noexcept { std::free(pointer); }
void operator delete[](void* pointer, const std::nothrow_t&) noexcept { std::free(pointer); }
