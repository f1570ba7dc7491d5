#pragma once
// The backing ledger: the money figures the status line, the run summary and
// /metrics report (the BTC taken in for customers' dollars, the hedge's P&L,
// fees, funding, and what it all is worth), computed from the kernel's inputs
// as a pure, deterministic function of the event stream. It lives beside the
// kernel, is snapshotted with it and replays from the journal with it, so its
// figures survive a restart (they used to be counted per process).
//
// Money rules, as in the kernel: fixed point only, every division names its
// rounding, and every rounding goes against the operator: what is held
// (backing, hedge cash, funding received) rounds down, what is owed or paid
// (fees, the hedge's value to unwind) rounds up. Arithmetic is int128 inside;
// a result that does not fit int64 saturates (to +-INT64_MAX, so it can always
// be negated) and is counted in overflows() instead of wrapping.

#include <cstdint>
#include <limits>
#include <span>
#include <variant>
#include <vector>

#include "synthusd/hedging/kernel.hpp"

namespace synthusd::hedging {

// ---- checked conversions ----------------------------------------------------
//
// The forms of types.hpp's conversions the ledger uses: the same formula and
// the same named rounding, but a result outside int64 saturates and sets
// `overflow` instead of wrapping. (backing_ledger.cpp asserts they agree with
// types.hpp wherever the result fits.)

// sats = cents * kCentsToSatsNumerator / price.raw; cents = sats * price.raw / kCentsToSatsNumerator.
inline constexpr int128 kCentsToSatsNumerator =
    static_cast<int128>(kSatsPerBitcoin) * Price::kScale / kCentsPerDollar; // 1e14

// value clamped to [-INT64_MAX, INT64_MAX]; sets overflow when it had to clamp.
[[nodiscard]] constexpr std::int64_t saturate(int128 value, bool& overflow) noexcept {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  if (value > kMax || value < -kMax) {
    overflow = true;
    return value > 0 ? kMax : -kMax;
  }
  return static_cast<std::int64_t>(value);
}

// cents_to_sats (types.hpp), checked. price must be valid.
[[nodiscard]] constexpr Sats checked_cents_to_sats(UsdCents cents, Price price, Rounding rounding,
                                                   bool& overflow) noexcept {
  // |cents| * 1e14 < 9.3e32: the product fits int128.
  return Sats{
      saturate(divide(static_cast<int128>(cents.value) * kCentsToSatsNumerator, price.raw, rounding), overflow)};
}

// sats_to_cents (types.hpp), checked.
[[nodiscard]] constexpr UsdCents checked_sats_to_cents(Sats sats, Price price, Rounding rounding,
                                                       bool& overflow) noexcept {
  // |sats| * |raw| < 8.6e37: the product fits int128.
  return UsdCents{
      saturate(divide(static_cast<int128>(sats.value) * price.raw, kCentsToSatsNumerator, rounding), overflow)};
}

// scale(Sats, Ratio) (types.hpp), checked.
[[nodiscard]] constexpr Sats checked_scale(Sats sats, Ratio ratio, Rounding rounding, bool& overflow) noexcept {
  return Sats{saturate(divide(static_cast<int128>(sats.value) * ratio.raw, Ratio::kScale, rounding), overflow)};
}

// The new conversions the ledger needs (exact products, so no rounding):
// USD face value of inverse contracts, contracts * contract_value ...
[[nodiscard]] constexpr UsdCents contracts_to_cents(Contracts contracts, UsdCents contract_value,
                                                    bool& overflow) noexcept {
  return UsdCents{saturate(static_cast<int128>(contracts.value) * contract_value.value, overflow)};
}
// ... and BTC size of linear contracts, contracts * contract_size.
[[nodiscard]] constexpr Sats contracts_to_sats(Contracts contracts, Sats contract_size, bool& overflow) noexcept {
  return Sats{saturate(static_cast<int128>(contracts.value) * contract_size.value, overflow)};
}

// ---- the ledger ---------------------------------------------------------------

struct LedgerFigures { // everything the status line, summary and /metrics read
  // Last price of a MarketUpdate the kernel accepted: its index, else its
  // mark (the kernel refuses an update without a valid mark). Zero before the
  // first one; every "value" below is then zero too.
  Price index{};
  UsdCents liability{}; // customers' dollars: sum of LiabilityChange::delta (== Kernel::liability())
  // BTC taken in for customers' dollars: credits +sats, debits -sats;
  // dollar-only changes converted at their applied price, else at the next
  // index price (held as unpriced cents until then), rounded down.
  Sats backing{};
  UsdCents unpriced{}; // dollar-only changes still waiting for a first price
  // Hedge P&L at the index over every instrument, in BTC: per slot, the BTC
  // booked at fill prices minus its USD booking valued at the index (rounded
  // up, so the P&L rounds down). Inverse: q * contract_value * (1/fill -
  // 1/index); linear: q * size * (index - fill) / index.
  Sats hedge_pnl{};
  Sats fees{};              // taker-fee estimate of every booked fill (rounded up)
  Sats funding{};           // received (> 0) or paid, accrued pro rata over event time (rounded down)
  UsdCents held_value{};    // (backing + hedge_pnl - fees + funding) at the index, rounded down
  UsdCents backing_value{}; // backing at the index, rounded down
  // As KernelWorker::publish_status: hedge_ratio(liability_hedge_exposure,
  // venue_hedge), 0 when venue_hedge <= 0; within_band also when venue_hedge
  // is below bands.minimum_liability (the rules then close the hedge).
  Ratio hedge_ratio{};
  bool within_band = false;
  // Largest |1 - ratio| over every sample() taken once hedging was
  // established (a sample within band with venue_hedge >= minimum_liability),
  // in band or out, as long as venue_hedge >= minimum_liability.
  Ratio max_deviation{};
  std::uint64_t liability_events = 0;
  std::uint64_t fills = 0;            // fills booked (reports the kernel books as fills of a known order)
  std::uint64_t filled_contracts = 0; // contracts of those fills
  std::uint64_t unbooked_fills = 0;   // fill reports for an order not in the kernel's table (duplicate, late, foreign)
  std::uint64_t fills_priced_at_mark = 0; // booked fills without a valid last_price: priced at the slot's mark
  bool overflowed = false;                // some figure saturated (in the ledger's state or while computing these)

  friend bool operator==(const LedgerFigures&, const LedgerFigures&) noexcept = default;
};

class BackingLedger {
public:
  // instrument_slots: kernel.slots().size() (one book per kernel slot, in
  // slot order). Allocates here and in write_snapshot() only.
  explicit BackingLedger(std::size_t instrument_slots);

  // Call with every kernel input, BEFORE kernel.on(event): the kernel's order
  // table still holds a filled order's slot and side then, and the slots
  // still hold the positions, marks and funding rates in force from the
  // previous event up to this one (funding for that time accrues on them).
  // Never allocates, never throws.
  void on(const Event& event, const Kernel& kernel) noexcept;

  // A band sample: the engine calls it after each Timer event is applied. A
  // function of the ledger and the kernel state only, so replay reproduces it.
  void sample(const Kernel& kernel) noexcept;

  [[nodiscard]] LedgerFigures figures(const Kernel& kernel) const noexcept;

  // How many operations saturated; figures are unreliable once non-zero.
  [[nodiscard]] std::uint64_t overflows() const noexcept { return overflows_; }
  [[nodiscard]] bool overflowed() const noexcept { return overflows_ != 0; }

  // Snapshot of every mutable field, as little-endian 64-bit words in the
  // kernel snapshot's conventions (magic, version, slot count, fields,
  // trailing FNV-1a 64 of every byte before it), so snapshot + journal tail
  // rebuilds the same figures. Replaces the contents of `out`.
  void write_snapshot(std::vector<std::uint8_t>& out) const;
  // Replaces the whole mutable state with a write_snapshot() result. Returns
  // false, leaving the ledger unchanged, when the bytes are truncated,
  // damaged, of another format or slot count, or hold a value the ledger
  // could never have written.
  [[nodiscard]] bool restore_snapshot(std::span<const std::uint8_t> bytes) noexcept;
  // FNV-1a 64 (digest.hpp) over every mutable field: equal states, equal digests.
  [[nodiscard]] std::uint64_t state_digest() const noexcept;

private:
  // What one kernel slot's fills and funding booked.
  struct SlotBook {
    // inverse: sum of q * contract_value in BTC at each fill price (rounded
    //          down); linear: sum of q * contract_size (exact).
    Sats sats{};
    // inverse: sum of q * contract_value (exact); linear: sum of q *
    //          contract_size in USD at each fill price (rounded up).
    UsdCents cents{};
    // Funding received, in sats * Ratio::kScale * nanoseconds per funding
    // interval: divided by the interval only when read, so the sum over many
    // short steps is exact in time.
    int128 funding{};
  };

  void accrue_funding(Timestamp to, const Kernel& kernel, bool& overflow) noexcept;
  void book(const LiabilityChange& change, bool& overflow) noexcept;
  void book(const MarketUpdate& update, const Kernel& kernel, bool& overflow) noexcept;
  void book(const ExecutionReport& report, const Kernel& kernel, bool& overflow) noexcept;
  void convert_unpriced(Price price, bool& overflow) noexcept;

  // Every mutable field once, in wire order (backing_ledger.cpp), for the
  // snapshot writer, reader and state_digest alike.
  template <class Self, class Visitor>
  static void visit_state(Self& self, Visitor& visitor);

  std::vector<SlotBook> slots_;
  Timestamp clock_{}; // time of the latest event (kernel.now() semantics); 0 before the first
  Price index_{};
  UsdCents liability_{};
  Sats backing_{};
  UsdCents unpriced_{};
  Sats fees_{};
  bool established_ = false; // a sample was within band with venue_hedge >= minimum_liability
  Ratio max_deviation_{};
  std::uint64_t liability_events_ = 0;
  std::uint64_t fills_ = 0;
  std::uint64_t filled_contracts_ = 0;
  std::uint64_t unbooked_fills_ = 0;
  std::uint64_t fills_priced_at_mark_ = 0;
  std::uint64_t overflows_ = 0;
};

// One kernel input applied to the kernel and its ledger, in the one order
// that live runs, recovery and replay share: the ledger first (it reads the
// filled order's slot and side before the kernel retires the order), then
// the kernel, then a band sample after each Timer. Same inputs, same figures.
[[nodiscard]] inline std::span<const Action> apply_input(Kernel& kernel, BackingLedger& ledger,
                                                         const Event& event) noexcept {
  ledger.on(event, kernel);
  const std::span<const Action> actions = kernel.on(event);
  if (std::holds_alternative<Timer>(event)) {
    ledger.sample(kernel);
  }
  return actions;
}

} // namespace synthusd::hedging
