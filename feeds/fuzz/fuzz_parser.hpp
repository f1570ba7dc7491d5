#pragma once
// The libFuzzer harness shared by the venue parser targets. Each input is
// copied into a heap buffer of exactly length + kJsonPadding bytes, so that
// AddressSanitizer reports any read past the padding, and the parser's
// contract is checked on every result. A broken invariant traps, which
// libFuzzer reports as a crash (and the ctest run fails).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "synthusd/feeds/venue_parser.hpp"
#include "synthusd/feeds/venue_tick.hpp"

namespace synthusd::feeds::fuzz {

inline void check(bool condition) {
  if (!condition) {
    __builtin_trap();
  }
}

inline constexpr std::uint32_t kAllFields = (field::previous_sequence << 1) - 1;

[[nodiscard]] inline bool same(const VenueTick& a, const VenueTick& b) noexcept {
  return a.instrument == b.instrument && a.fields == b.fields && a.bid == b.bid && a.ask == b.ask &&
         a.bid_size == b.bid_size && a.ask_size == b.ask_size && a.mark == b.mark && a.index == b.index &&
         a.funding_rate == b.funding_rate && a.next_funding_time == b.next_funding_time &&
         a.venue_time == b.venue_time && a.sequence == b.sequence && a.previous_sequence == b.previous_sequence;
}

[[nodiscard]] inline bool is_configured(const SymbolTable& symbols, hedging::InstrumentId instrument) noexcept {
  for (std::size_t i = 0; i < symbols.size(); ++i) {
    if (symbols.instrument(i) == instrument) {
      return true;
    }
  }
  return false;
}

template <typename Parser>
void fuzz_one(Parser& parser, const std::uint8_t* data, std::size_t size) {
  const std::size_t capacity = size + kJsonPadding;
  const std::unique_ptr<char[]> buffer(new char[capacity]);
  if (size > 0) {
    std::memcpy(buffer.get(), data, size);
  }
  std::memset(buffer.get() + size, '}', kJsonPadding); // the padding must never be read as data

  VenueTick tick;
  const ParseStatus status = parser.parse(buffer.get(), size, capacity, tick);
  if (status == ParseStatus::tick) {
    check(tick.instrument != hedging::kNoInstrument && is_configured(parser.symbols(), tick.instrument));
    check(tick.fields != 0 && (tick.fields & ~kAllFields) == 0);
    check(!tick.has(field::previous_sequence) || tick.has(field::sequence));
    check(tick.venue_time.nanoseconds >= 0 && tick.next_funding_time.nanoseconds >= 0);
  } else {
    // Every other status leaves the tick empty.
    check(tick.instrument == hedging::kNoInstrument && tick.fields == 0);
  }

  // The parser keeps no state between messages: the same bytes give the same result.
  VenueTick again;
  check(parser.parse(buffer.get(), size, capacity, again) == status && same(again, tick));

  // One byte short of the padding contract is always refused.
  check(parser.parse(buffer.get(), size, capacity - 1, again) == ParseStatus::malformed);
  check(again.instrument == hedging::kNoInstrument && again.fields == 0);
}

} // namespace synthusd::feeds::fuzz
