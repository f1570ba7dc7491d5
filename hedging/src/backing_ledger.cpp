// The backing ledger (backing_ledger.hpp): booking of every kernel input,
// the figures, band samples and the snapshot.

#include "synthusd/hedging/backing_ledger.hpp"

#include <algorithm>
#include <type_traits>

#include "kernel_snapshot_internal.hpp"
#include "synthusd/hedging/band_policy.hpp"
#include "synthusd/hedging/digest.hpp"

namespace synthusd::hedging {

// The checked conversions are types.hpp's wherever the result fits int64 ...
namespace {
constexpr bool agrees_with_types(std::int64_t amount, Price price, Ratio ratio, Rounding rounding) {
  bool overflow = false;
  return checked_cents_to_sats(UsdCents{amount}, price, rounding, overflow) ==
             cents_to_sats(UsdCents{amount}, price, rounding) &&
         checked_sats_to_cents(Sats{amount}, price, rounding, overflow) ==
             sats_to_cents(Sats{amount}, price, rounding) &&
         checked_scale(Sats{amount}, ratio, rounding, overflow) == scale(Sats{amount}, ratio, rounding) && !overflow;
}
constexpr Price kOddPrice{4'000'001'234'567}; // $40,000.01234567
constexpr Ratio kOddRatio{50'001};            // 0.050001 %
} // namespace
static_assert(agrees_with_types(2'500, kOddPrice, kOddRatio, Rounding::down));
static_assert(agrees_with_types(-2'500, kOddPrice, kOddRatio, Rounding::down));
static_assert(agrees_with_types(2'500, kOddPrice, kOddRatio, Rounding::up));
static_assert(agrees_with_types(-2'500, kOddPrice, kOddRatio, Rounding::up));
static_assert(agrees_with_types(123'456'789'012, kOddPrice, kOddRatio, Rounding::half_even));
// ... and saturate instead of wrapping where it does not.
static_assert([] {
  bool overflow = false;
  const Sats sats = checked_cents_to_sats(UsdCents{std::numeric_limits<std::int64_t>::max()}, Price::from_dollars(1),
                                          Rounding::down, overflow);
  return overflow && sats.value == std::numeric_limits<std::int64_t>::max();
}());

namespace {

constexpr int128 kInt128Max = static_cast<int128>((static_cast<unsigned __int128>(1) << 127) - 1);

// int128 arithmetic that saturates at +-kInt128Max and flags instead of wrapping.
int128 saturating_mul(int128 a, int128 b, bool& overflow) noexcept {
  int128 product = 0;
  if (__builtin_mul_overflow(a, b, &product) || product < -kInt128Max) {
    overflow = true;
    return (a < 0) != (b < 0) ? -kInt128Max : kInt128Max;
  }
  return product;
}

int128 saturating_add(int128 a, int128 b, bool& overflow) noexcept {
  int128 sum = 0;
  if (__builtin_add_overflow(a, b, &sum) || sum < -kInt128Max) {
    overflow = true;
    return a < 0 ? -kInt128Max : kInt128Max;
  }
  return sum;
}

// acc += delta for a unit type, saturating.
template <typename Tag>
void accumulate(Quantity<Tag>& acc, Quantity<Tag> delta, bool& overflow) noexcept {
  acc = Quantity<Tag>{saturate(static_cast<int128>(acc.value) + delta.value, overflow)};
}

void count(std::uint64_t& counter, std::uint64_t amount) noexcept {
  counter = counter > std::numeric_limits<std::uint64_t>::max() - amount ? std::numeric_limits<std::uint64_t>::max()
                                                                         : counter + amount;
}

// OrderTable::find without mutation: ClOrdIDs live in bucket id % capacity
// (order_table.hpp), and 0 marks a free bucket.
const OrderRecord* find_order(const OrderTable& table, ClientOrderId id) noexcept {
  const std::vector<OrderRecord>& records = table.records();
  if (id == 0 || records.empty()) {
    return nullptr;
  }
  const OrderRecord& record = records[id % records.size()];
  return record.client_order_id == id ? &record : nullptr;
}

// Whether Kernel::apply(MarketUpdate) takes the update: a price the kernel
// refuses (unknown instrument, no valid mark, a negative or crossed price)
// must not value the books either. Keep in step with kernel.cpp.
bool kernel_accepts(const MarketUpdate& update, const Kernel& kernel) noexcept {
  const SlotState* slot = kernel.slot(update.instrument);
  if (slot == nullptr || slot->spec.venue != update.venue) {
    return false;
  }
  return update.mark.is_valid() && update.bid.raw >= 0 && update.ask.raw >= 0 && update.index.raw >= 0 &&
         !(update.bid.is_valid() && update.ask.is_valid() && update.bid > update.ask);
}

// The band check of KernelWorker::publish_status.
struct BandSample {
  Ratio ratio{};
  bool hedging = false; // venue_hedge >= bands.minimum_liability: there is a hedge to hold in band
  bool within = false;
};

BandSample band_sample(const Kernel& kernel) noexcept {
  const std::int64_t hedge = kernel.venue_hedge().value;
  const std::int64_t exposure = kernel.liability_hedge_exposure().value;
  BandSample sample;
  if (hedge > 0) {
    sample.ratio =
        hedge_ratio(static_cast<int128>(exposure) * Ratio::kScale, static_cast<int128>(hedge) * Ratio::kScale);
  }
  const BandConfig& bands = kernel.config().bands;
  sample.hedging = hedge >= bands.minimum_liability.value;
  // Below the minimum liability the rules close the hedge: nothing to hold in a band.
  sample.within = !sample.hedging || (sample.ratio >= bands.low_bound && sample.ratio <= bands.high_bound);
  return sample;
}

// ---- snapshot words ------------------------------------------------------------
//
// As kernel_snapshot.cpp: little-endian 64-bit words, never raw struct bytes.

using snapshot_detail::digest_bytes;
using snapshot_detail::get_word;
using snapshot_detail::kWordBytes;
using snapshot_detail::put_word;
constexpr std::uint64_t kSnapshotVersion = 1;
constexpr std::size_t kHeaderWords = 3; // magic, version, slot count

constexpr std::uint64_t magic_word(const char (&text)[9]) noexcept {
  std::uint64_t word = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    word |= static_cast<std::uint64_t>(static_cast<unsigned char>(text[i])) << (8 * i);
  }
  return word;
}
constexpr std::uint64_t kSnapshotMagic = magic_word("SULEDGR1"); // not the kernel's "SUKSNAP1"

template <class T>
constexpr std::uint64_t to_word(const T& field) noexcept {
  if constexpr (std::is_same_v<T, bool>) {
    return field ? 1U : 0U;
  } else if constexpr (std::is_same_v<T, std::uint64_t>) {
    return field;
  } else if constexpr (requires { field.value; }) { // UsdCents, Sats
    return static_cast<std::uint64_t>(field.value);
  } else if constexpr (requires { field.raw; }) { // Price, Ratio
    return static_cast<std::uint64_t>(field.raw);
  } else {
    return static_cast<std::uint64_t>(field.nanoseconds); // Timestamp
  }
}

// Decodes a word, refusing what the ledger never writes: a bool other than
// 0/1, a negative time, price or deviation, INT64_MIN in a money field
// (saturation stops at -INT64_MAX).
template <class T>
constexpr bool from_word(std::uint64_t word, T& field) noexcept {
  const auto value = static_cast<std::int64_t>(word); // two's complement, defined in C++20
  if constexpr (std::is_same_v<T, bool>) {
    field = word == 1;
    return word <= 1;
  } else if constexpr (std::is_same_v<T, std::uint64_t>) {
    field = word;
    return true;
  } else if constexpr (requires { field.value; }) {
    field.value = value;
    return value != std::numeric_limits<std::int64_t>::min();
  } else if constexpr (requires { field.raw; }) {
    field.raw = value;
    return value >= 0;
  } else {
    field.nanoseconds = value;
    return value >= 0;
  }
}

// An int128 is two words, low then high.
constexpr std::uint64_t low_word(int128 value) noexcept {
  return static_cast<std::uint64_t>(static_cast<unsigned __int128>(value));
}
constexpr std::uint64_t high_word(int128 value) noexcept {
  return static_cast<std::uint64_t>(static_cast<unsigned __int128>(value) >> 64);
}
constexpr int128 from_words(std::uint64_t low, std::uint64_t high) noexcept {
  return static_cast<int128>((static_cast<unsigned __int128>(high) << 64) | low);
}

// ---- visitors: field() is one word, wide() two ------------------------------------

struct WordCounter {
  std::size_t words = 0;
  template <class T>
  void field(const T& /*value*/) noexcept {
    ++words;
  }
  void wide(const int128& /*value*/) noexcept { words += 2; }
};

struct Writer {
  std::vector<std::uint8_t>& out;
  template <class T>
  void field(const T& value) {
    put_word(out, to_word(value));
  }
  void wide(const int128& value) {
    put_word(out, low_word(value));
    put_word(out, high_word(value));
  }
};

struct DigestVisitor {
  Digest& digest;
  template <class T>
  void field(const T& value) noexcept {
    digest.add(to_word(value));
  }
  void wide(const int128& value) noexcept {
    digest.add(low_word(value));
    digest.add(high_word(value));
  }
};

// Reads words the caller has already sized exactly. Apply = false only
// validates (so a refusal leaves the ledger untouched without a staging
// copy, which would allocate); Apply = true writes.
template <bool Apply>
struct Reader {
  std::span<const std::uint8_t> bytes;
  std::size_t offset = 0;
  bool ok = true;

  std::uint64_t next() noexcept {
    const std::uint64_t word = get_word(bytes, offset);
    offset += kWordBytes;
    return word;
  }
  template <class T>
  void field(T& value) noexcept {
    T decoded{};
    ok = from_word(next(), decoded) && ok;
    if constexpr (Apply) {
      value = decoded;
    }
  }
  void wide(int128& value) noexcept {
    const std::uint64_t low = next();
    const int128 decoded = from_words(low, next());
    ok = decoded >= -kInt128Max && ok; // saturation stops at -kInt128Max
    if constexpr (Apply) {
      value = decoded;
    }
  }
};

} // namespace

// ---- the ledger ------------------------------------------------------------------

BackingLedger::BackingLedger(std::size_t instrument_slots) : slots_(instrument_slots) {}

void BackingLedger::on(const Event& event, const Kernel& kernel) noexcept {
  bool overflow = false;
  // The kernel's clock: the latest event time, never backwards. The state
  // the kernel holds now (before this event) was in force since clock_.
  const Timestamp time = time_of(event);
  if (time > clock_) {
    if (clock_.nanoseconds != 0) { // a first event does not accrue from the epoch
      accrue_funding(time, kernel, overflow);
    }
    clock_ = time;
  }
  if (const auto* change = std::get_if<LiabilityChange>(&event)) {
    book(*change, overflow);
  } else if (const auto* update = std::get_if<MarketUpdate>(&event)) {
    book(*update, kernel, overflow);
  } else if (const auto* report = std::get_if<ExecutionReport>(&event)) {
    book(*report, kernel, overflow);
  }
  if (overflow) {
    count(overflows_, 1);
  }
}

void BackingLedger::book(const LiabilityChange& change, bool& overflow) noexcept {
  count(liability_events_, 1);
  accumulate(liability_, change.delta, overflow);
  if (change.sats.value != 0) {
    // The source said how much BTC moved (a magnitude): in on a credit, out on a debit.
    const int128 magnitude = change.sats.value < 0 ? -static_cast<int128>(change.sats.value) : change.sats.value;
    accumulate(backing_, Sats{saturate(change.delta.value < 0 ? -magnitude : magnitude, overflow)}, overflow);
  } else if (change.price.is_valid()) {
    // Dollars at the price the source applied. Rounding::down (floor) for
    // both signs: a credit adds the fewer sats, a debit removes the more.
    accumulate(backing_, checked_cents_to_sats(change.delta, change.price, Rounding::down, overflow), overflow);
  } else {
    // Dollars only: their BTC at the index, or at the next index price when
    // none is known yet.
    accumulate(unpriced_, change.delta, overflow);
    convert_unpriced(index_, overflow);
  }
}

void BackingLedger::convert_unpriced(Price price, bool& overflow) noexcept {
  if (unpriced_.is_zero() || !price.is_valid()) {
    return;
  }
  accumulate(backing_, checked_cents_to_sats(unpriced_, price, Rounding::down, overflow), overflow);
  unpriced_ = UsdCents{0};
}

void BackingLedger::book(const MarketUpdate& update, const Kernel& kernel, bool& overflow) noexcept {
  if (!kernel_accepts(update, kernel)) {
    return;
  }
  index_ = update.index.is_valid() ? update.index : update.mark;
  convert_unpriced(index_, overflow);
}

void BackingLedger::book(const ExecutionReport& report, const Kernel& kernel, bool& overflow) noexcept {
  // Exactly what Kernel::apply(ExecutionReport) books as a fill: a fill
  // status, |last_quantity| contracts (an overfill too).
  const bool fills = report.status == OrderStatus::partially_filled || report.status == OrderStatus::filled;
  if (!fills || report.last_quantity.is_zero()) {
    return;
  }
  const OrderRecord* order = find_order(kernel.order_table(), report.client_order_id);
  if (order == nullptr || order->slot >= slots_.size() || order->slot >= kernel.slots().size()) {
    count(unbooked_fills_, 1); // the kernel ignores it too (duplicate_or_late_fills)
    return;
  }
  const SlotState& slot = kernel.slots()[order->slot];
  const InstrumentSpec& spec = slot.spec;
  Price price = report.last_price;
  if (!price.is_valid()) {
    // The kernel moves the position whatever the price says: book it at the
    // mark the kernel holds rather than leave the P&L without it.
    if (!slot.mark.is_valid()) {
      count(unbooked_fills_, 1);
      return;
    }
    price = slot.mark;
    count(fills_priced_at_mark_, 1);
  }
  const int128 quantity = report.last_quantity.value < 0 ? -static_cast<int128>(report.last_quantity.value)
                                                         : static_cast<int128>(report.last_quantity.value);
  const Contracts filled{saturate(quantity, overflow)};
  count(fills_, 1);
  count(filled_contracts_, static_cast<std::uint64_t>(filled.value));

  const Contracts signed_quantity{filled.value * sign_of(order->side)};
  SlotBook& book = slots_[order->slot];
  Sats notional{}; // |quantity| in BTC at the fill price: the fee's base
  if (is_inverse(spec.kind)) {
    // USD contracts: the face value is exact; its BTC at the fill is what the
    // position is worth to us, so it rounds down (a short's cash is
    // negative: down makes it more so).
    const UsdCents face = contracts_to_cents(signed_quantity, spec.contract_value, overflow);
    accumulate(book.sats, checked_cents_to_sats(face, price, Rounding::down, overflow), overflow);
    accumulate(book.cents, face, overflow);
    notional = checked_cents_to_sats(face.abs(), price, Rounding::up, overflow);
  } else {
    // BTC contracts: the size is exact; the USD paid (received, if < 0) at
    // the fill rounds up.
    const Sats size = contracts_to_sats(signed_quantity, spec.contract_size, overflow);
    accumulate(book.sats, size, overflow);
    accumulate(book.cents, checked_sats_to_cents(size, price, Rounding::up, overflow), overflow);
    notional = size.abs();
  }
  // A market order pays the taker fee: an estimate of a cost, rounded up.
  accumulate(fees_, checked_scale(notional, spec.taker_fee, Rounding::up, overflow), overflow);
}

void BackingLedger::accrue_funding(Timestamp to, const Kernel& kernel, bool& overflow) noexcept {
  const std::int64_t elapsed = (to - clock_).nanoseconds; // > 0: both are event times, to > clock_ > 0
  const std::span<const SlotState> slots = kernel.slots();
  for (std::size_t i = 0; i < std::min(slots.size(), slots_.size()); ++i) {
    const SlotState& slot = slots[i];
    const InstrumentSpec& spec = slot.spec;
    if (!is_perpetual(spec.kind) || spec.funding_interval.nanoseconds <= 0 || !slot.mark.is_valid() ||
        slot.position.is_zero() || slot.funding_rate.raw == 0) {
      continue; // a dated future has no funding
    }
    // Funding received per interval, in sats * Ratio::kScale: the position's
    // BTC value at the mark times the rate, negated (a positive rate makes
    // longs pay shorts, so a short, < 0, receives). Inverse: its USD value
    // in BTC at the mark, rounded down (received less, paid more); linear:
    // its size, exact.
    int128 per_interval = 0;
    if (is_inverse(spec.kind)) {
      const int128 face = -static_cast<int128>(slot.position.value) * spec.contract_value.value; // cents
      per_interval =
          divide(saturating_mul(saturating_mul(face, kCentsToSatsNumerator, overflow), slot.funding_rate.raw, overflow),
                 slot.mark.raw, Rounding::down);
    } else {
      const int128 size = -static_cast<int128>(slot.position.value) * spec.contract_size.value; // sats
      per_interval = saturating_mul(size, slot.funding_rate.raw, overflow);
    }
    slots_[i].funding = saturating_add(slots_[i].funding, saturating_mul(per_interval, elapsed, overflow), overflow);
  }
}

void BackingLedger::sample(const Kernel& kernel) noexcept {
  const BandSample band = band_sample(kernel);
  if (!band.hedging) {
    return;
  }
  established_ = established_ || band.within;
  if (!established_) {
    return; // the first build-up to the band is not a deviation
  }
  // Every sample from here on counts, in band or not: an excursion's worst
  // sample is its deviation, not its first.
  const int128 deviation = static_cast<int128>(band.ratio.raw) - Ratio::kScale;
  bool overflow = false;
  const Ratio magnitude{saturate(deviation < 0 ? -deviation : deviation, overflow)};
  max_deviation_ = std::max(max_deviation_, magnitude);
  if (overflow) {
    count(overflows_, 1);
  }
}

LedgerFigures BackingLedger::figures(const Kernel& kernel) const noexcept {
  bool overflow = false;
  LedgerFigures f;
  f.index = index_;
  f.liability = liability_;
  f.backing = backing_;
  f.unpriced = unpriced_;
  f.fees = fees_;

  // Funding: per slot, its numerator over its interval (rounded down), then
  // sats * kScale to sats (rounded down): received rounds down, paid up.
  int128 funding_scaled = 0;
  const std::span<const SlotState> slots = kernel.slots();
  for (std::size_t i = 0; i < std::min(slots.size(), slots_.size()); ++i) {
    const std::int64_t interval = slots[i].spec.funding_interval.nanoseconds;
    if (interval > 0) {
      funding_scaled = saturating_add(funding_scaled, divide(slots_[i].funding, interval, Rounding::down), overflow);
    }
  }
  f.funding = Sats{saturate(divide(funding_scaled, Ratio::kScale, Rounding::down), overflow)};

  if (index_.is_valid()) {
    // P&L per slot: BTC booked at the fills minus the USD booked, in BTC at
    // the index rounded up (what unwinding costs), so the P&L rounds down.
    int128 pnl = 0;
    for (const SlotBook& book : slots_) {
      pnl += static_cast<int128>(book.sats.value) -
             checked_cents_to_sats(book.cents, index_, Rounding::up, overflow).value;
    }
    f.hedge_pnl = Sats{saturate(pnl, overflow)};
    const int128 held = pnl + backing_.value - fees_.value + f.funding.value; // far inside int128
    f.held_value = checked_sats_to_cents(Sats{saturate(held, overflow)}, index_, Rounding::down, overflow);
    f.backing_value = checked_sats_to_cents(backing_, index_, Rounding::down, overflow);
  }

  const BandSample band = band_sample(kernel);
  f.hedge_ratio = band.ratio;
  f.within_band = band.within;
  f.max_deviation = max_deviation_;
  f.liability_events = liability_events_;
  f.fills = fills_;
  f.filled_contracts = filled_contracts_;
  f.unbooked_fills = unbooked_fills_;
  f.fills_priced_at_mark = fills_priced_at_mark_;
  f.overflowed = overflows_ != 0 || overflow;
  return f;
}

// ---- snapshot ----------------------------------------------------------------------

// Every mutable field, once, in wire order. Not here: nothing else; the slot
// count is the header's.
template <class Self, class Visitor>
void BackingLedger::visit_state(Self& self, Visitor& visitor) {
#if defined(__x86_64__) && defined(__GLIBCXX__)
  // A member added to the ledger or a slot book must be listed here (and
  // checked in from_word if it has values the ledger never writes).
  static_assert(sizeof(BackingLedger) == 136, "a BackingLedger member changed: update visit_state");
  static_assert(sizeof(SlotBook) == 32, "a SlotBook member changed: update visit_state");
#endif
  visitor.field(self.clock_);
  visitor.field(self.index_);
  visitor.field(self.liability_);
  visitor.field(self.backing_);
  visitor.field(self.unpriced_);
  visitor.field(self.fees_);
  visitor.field(self.established_);
  visitor.field(self.max_deviation_);
  visitor.field(self.liability_events_);
  visitor.field(self.fills_);
  visitor.field(self.filled_contracts_);
  visitor.field(self.unbooked_fills_);
  visitor.field(self.fills_priced_at_mark_);
  visitor.field(self.overflows_);
  for (auto& book : self.slots_) {
    visitor.field(book.sats);
    visitor.field(book.cents);
    visitor.wide(book.funding);
  }
}

void BackingLedger::write_snapshot(std::vector<std::uint8_t>& out) const {
  WordCounter counter;
  visit_state(*this, counter);
  out.clear();
  out.reserve((kHeaderWords + counter.words + 1) * kWordBytes);
  put_word(out, kSnapshotMagic);
  put_word(out, kSnapshotVersion);
  put_word(out, slots_.size());
  Writer writer{out};
  visit_state(*this, writer);
  put_word(out, digest_bytes(out));
}

bool BackingLedger::restore_snapshot(std::span<const std::uint8_t> bytes) noexcept {
  WordCounter counter;
  visit_state(*this, counter);
  if (bytes.size() != (kHeaderWords + counter.words + 1) * kWordBytes) {
    return false;
  }
  const std::size_t body_end = bytes.size() - kWordBytes;
  if (digest_bytes(bytes.first(body_end)) != get_word(bytes, body_end) || get_word(bytes, 0) != kSnapshotMagic ||
      get_word(bytes, kWordBytes) != kSnapshotVersion || get_word(bytes, 2 * kWordBytes) != slots_.size()) {
    return false;
  }
  Reader<false> check{bytes.first(body_end), kHeaderWords * kWordBytes};
  visit_state(*this, check); // Apply = false: reads only
  if (!check.ok) {
    return false;
  }
  Reader<true> reader{bytes.first(body_end), kHeaderWords * kWordBytes};
  visit_state(*this, reader);
  return true;
}

std::uint64_t BackingLedger::state_digest() const noexcept {
  Digest digest;
  digest.add(static_cast<std::uint64_t>(slots_.size()));
  DigestVisitor visitor{digest};
  visit_state(*this, visitor);
  return digest.value();
}

} // namespace synthusd::hedging
