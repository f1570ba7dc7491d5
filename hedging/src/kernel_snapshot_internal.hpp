#pragma once
// Private to the kernel's snapshot translation units: what the snapshot
// (kernel_snapshot.cpp) and the config digest (kernel_config_digest.cpp)
// share.

#include <cstddef>
#include <cstdint>
#include <utility>

namespace synthusd::hedging::snapshot_detail {

inline constexpr std::uint64_t kSnapshotMagic = 0x3150414e534b5553ULL; // "SUKSNAP1" read little endian
inline constexpr std::size_t kWordBytes = 8;

// field_count counts an aggregate's fields by brace-initializing it with ever
// more "convert to anything" values: the compile-time guards of both files
// compare it with what they list.
struct AnyField {
  template <class T>
  operator T() const noexcept; // NOLINT(google-explicit-constructor): declared only, never called
};

template <class T, std::size_t... I>
constexpr bool brace_constructible(std::index_sequence<I...> /*fields*/) {
  return requires { T{(static_cast<void>(I), AnyField{})...}; };
}

template <class T, std::size_t N = 0>
constexpr std::size_t field_count() {
  if constexpr (brace_constructible<T>(std::make_index_sequence<N + 1>{})) {
    return field_count<T, N + 1>();
  } else {
    return N;
  }
}

} // namespace synthusd::hedging::snapshot_detail
