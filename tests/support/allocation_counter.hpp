#pragma once
// Counts global allocations so that a test can assert a code path makes none:
//
//   const auto before = synthusd::test_support::allocation_count();
//   hot_path();
//   EXPECT_EQ(synthusd::test_support::allocation_count() - before, 0);
//
// Link the test with synthusd_test_support. The count is process-wide, so
// keep other threads idle while measuring.

#include <cstdint>

namespace synthusd::test_support {

// Calls to the global operator new and operator new[] so far, in every thread.
[[nodiscard]] std::int64_t allocation_count() noexcept;
// The same, made by the calling thread only.
[[nodiscard]] std::int64_t this_thread_allocation_count() noexcept;

} // namespace synthusd::test_support
