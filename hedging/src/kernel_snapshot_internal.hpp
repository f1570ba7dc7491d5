#pragma once
// Private to the snapshot translation units: what the kernel's snapshot
// (kernel_snapshot.cpp), the config digest (kernel_config_digest.cpp) and
// the backing ledger's snapshot (backing_ledger.cpp) share.

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "synthusd/hedging/digest.hpp"

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

// Snapshots are little-endian 64-bit words with an FNV-1a 64 trailer; the
// kernel's and the backing ledger's share these.
inline void put_word(std::vector<std::uint8_t>& out, std::uint64_t word) {
  for (std::size_t i = 0; i < kWordBytes; ++i) {
    out.push_back(static_cast<std::uint8_t>(word >> (8 * i)));
  }
}

[[nodiscard]] inline std::uint64_t get_word(std::span<const std::uint8_t> bytes, std::size_t offset) noexcept {
  std::uint64_t word = 0;
  for (std::size_t i = 0; i < kWordBytes; ++i) {
    word |= static_cast<std::uint64_t>(bytes[offset + i]) << (8 * i);
  }
  return word;
}

// FNV-1a 64 over bytes; equal to Digest::add of each little-endian word.
[[nodiscard]] inline std::uint64_t digest_bytes(std::span<const std::uint8_t> bytes) noexcept {
  Digest digest;
  for (std::size_t offset = 0; offset + kWordBytes <= bytes.size(); offset += kWordBytes) {
    digest.add(get_word(bytes, offset));
  }
  return digest.value();
}

} // namespace synthusd::hedging::snapshot_detail
