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

// The hash of a whole run: folds each event's actions (and the event
// boundary, so [a][b] and [a b] differ) into one value. Live runs, the
// simulation and `synthusd replay` all print this.
class ActionStreamHash {
public:
  // Continues a hash saved with a snapshot (value() and events() then).
  [[nodiscard]] static ActionStreamHash resume(std::uint64_t value, std::uint64_t events) noexcept {
    ActionStreamHash hash;
    hash.value_ = value;
    hash.events_ = events;
    return hash;
  }
  void add(std::span<const Action> actions) noexcept {
    Digest digest;
    digest.add(value_);
    digest.add(static_cast<std::uint64_t>(actions.size()));
    add_actions(digest, actions);
    value_ = digest.value();
    ++events_;
  }
  [[nodiscard]] std::uint64_t value() const noexcept { return value_; }
  [[nodiscard]] std::uint64_t events() const noexcept { return events_; }

private:
  std::uint64_t value_ = 0;
  std::uint64_t events_ = 0;
};

} // namespace synthusd::hedging
