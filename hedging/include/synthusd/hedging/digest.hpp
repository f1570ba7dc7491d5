#pragma once
// FNV-1a 64 over explicitly listed fields (never raw struct bytes, whose
// padding is unspecified): the action-stream hash that replay compares, and
// the kernel state digest that recovery checks.

#include <cstdint>
#include <span>

#include "synthusd/hedging/actions.hpp"

namespace synthusd::hedging {

class Digest {
public:
  constexpr void add(std::uint64_t value) noexcept {
    for (int i = 0; i < 8; ++i) {
      hash_ ^= (value >> (8 * i)) & 0xffU;
      hash_ *= 0x100000001b3ULL;
    }
  }
  constexpr void add(std::int64_t value) noexcept { add(static_cast<std::uint64_t>(value)); }
  constexpr void add(bool value) noexcept { add(static_cast<std::uint64_t>(value ? 1 : 0)); }
  [[nodiscard]] constexpr std::uint64_t value() const noexcept { return hash_; }

private:
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

void add_action(Digest& digest, const Action& action) noexcept;

inline void add_actions(Digest& digest, std::span<const Action> actions) noexcept {
  for (const Action& action : actions) {
    add_action(digest, action);
  }
}

} // namespace synthusd::hedging
