// Kernel state snapshots for crash recovery. The config digest that keeps a
// snapshot from being restored under another config is in
// kernel_config_digest.cpp.
//
// Wire format: a sequence of little-endian 64-bit words (never raw struct
// bytes, whose padding is unspecified):
//   magic | format version | config digest | state_digest() | slots |
//   venues | order table capacity | risk table capacity | visit_state()
//   fields | FNV-1a 64 of every byte before it
// The trailing digest makes any single damaged byte a refusal rather than a
// silently different state; the engine's snapshot file adds its own CRC.
// The state digest is informational here: it lets a holder of the bytes
// alone (the engine's snapshot writer) record which state they hold, and the
// snapshot file's reader compares it with the restored kernel's.

#include <limits>
#include <type_traits>
#include <utility>

#include "kernel_snapshot_internal.hpp"
#include "synthusd/hedging/digest.hpp"
#include "synthusd/hedging/kernel.hpp"

namespace synthusd::hedging {
namespace {

using snapshot_detail::digest_bytes;
using snapshot_detail::field_count;
using snapshot_detail::get_word;
using snapshot_detail::kSnapshotMagic;
using snapshot_detail::kWordBytes;
using snapshot_detail::put_word;

// 2: VenueState.liquidated, withdrawal_refused; 3: the hybrid policy's
// SlotState.passive_order, passive_price and OrderRecord.passive; 4: VenueState
// withdrawable, withdrawable_when_refused; 5: SlotState volatility_mark,
// volatility_time, hourly_variance (the volatility-scaled band); 6: VenueState
// withdrawal_refused_amount, reported_since_refusal; 7: SlotState
// funding_average, funding_average_time (the averaged funding carry),
// guard_changed_at (funding_guard.move_after); 8: OrderRecord.abandoned
constexpr std::uint64_t kSnapshotVersion = 8;
constexpr std::size_t kHeaderWords = 8;
constexpr std::size_t kStateDigestWord = 3; // the one header word not fixed by the config

// ---- the fields of each state struct, in declaration order ---------------------
//
// S is the struct or its const version. Checked below: each lists every
// field of its struct exactly once, but for the config it carries.

template <class S, class Visitor>
constexpr void visit_fields(S& counters,
                            Visitor& visitor) requires std::is_same_v<std::remove_const_t<S>, KernelCounters> {
  visitor.field(counters.events);
  visitor.field(counters.invalid_events);
  visitor.field(counters.unknown_instrument_updates);
  visitor.field(counters.orders);
  visitor.field(counters.transfers);
  visitor.field(counters.alerts);
  visitor.field(counters.dropped_actions);
  visitor.field(counters.duplicate_or_late_fills);
}

template <class S, class Visitor>
constexpr void visit_fields(S& slot, Visitor& visitor) requires std::is_same_v<std::remove_const_t<S>, SlotState> {
  // spec: config
  visitor.fixed(slot.venue_index);
  visitor.field(slot.position);
  visitor.field(slot.risk_position);
  visitor.field(slot.in_flight);
  visitor.field(slot.risk_in_flight);
  visitor.field(slot.bid);
  visitor.field(slot.ask);
  visitor.field(slot.mark);
  visitor.field(slot.index);
  visitor.field(slot.funding_rate);
  visitor.field(slot.next_funding_time);
  visitor.field(slot.market_time);
  visitor.field(slot.has_market);
  visitor.field(slot.funding_below_guard);
  visitor.field(slot.negative_funding_since);
  visitor.field(slot.funding_guard_engaged);
  visitor.field(slot.guard_changed_at);
  visitor.field(slot.annual_carry);
  visitor.field(slot.eligible);
  visitor.field(slot.target);
  visitor.field(slot.retry_after);
  visitor.field(slot.passive_order);
  visitor.field(slot.passive_price);
  visitor.field(slot.volatility_mark);
  visitor.field(slot.volatility_time);
  visitor.field(slot.hourly_variance);
  visitor.field(slot.funding_average);
  visitor.field(slot.funding_average_time);
}

template <class S, class Visitor>
constexpr void visit_fields(S& venue, Visitor& visitor) requires std::is_same_v<std::remove_const_t<S>, VenueState> {
  // config: config
  visitor.field(venue.up);
  visitor.field(venue.collateral);
  visitor.field(venue.collateral_known);
  visitor.field(venue.transfer_in_flight);
  visitor.field(venue.snapshot_during_transfer);
  visitor.field(venue.transfer_id);
  visitor.field(venue.transfer_direction);
  visitor.field(venue.transfer_amount);
  visitor.field(venue.active);
  visitor.field(venue.only_guarded);
  visitor.field(venue.allocation);
  visitor.field(venue.liquidation_alert_raised);
  visitor.field(venue.liquidated);
  visitor.field(venue.withdrawable);
  visitor.field(venue.withdrawal_refused);
  visitor.field(venue.withdrawable_when_refused);
  visitor.field(venue.withdrawal_refused_amount);
  visitor.field(venue.reported_since_refusal);
}

template <class S, class Visitor>
constexpr void visit_fields(S& hedge,
                            Visitor& visitor) requires std::is_same_v<std::remove_const_t<S>, RiskHedgeState> {
  visitor.field(hedge.in_use);
  visitor.field(hedge.market);
  visitor.field(hedge.position_id);
  visitor.field(hedge.slot);
  visitor.field(hedge.source_present);
  visitor.field(hedge.at_risk);
  visitor.field(hedge.hedged);
  visitor.field(hedge.open_orders);
  visitor.field(hedge.committed);
  visitor.field(hedge.last_risk_time);
}

template <class S, class Visitor>
constexpr void visit_fields(S& order, Visitor& visitor) requires std::is_same_v<std::remove_const_t<S>, OrderRecord> {
  visitor.field(order.client_order_id);
  visitor.field(order.slot);
  visitor.field(order.side);
  visitor.field(order.quantity);
  visitor.field(order.filled);
  visitor.field(order.purpose);
  visitor.field(order.risk_index);
  visitor.field(order.sent);
  visitor.field(order.cancel_requested);
  visitor.field(order.passive);
  visitor.field(order.abandoned);
}

// ---- guard: every field of every state struct is visited exactly once -----------
//
// FieldAddresses collects what visit_fields touches; field_count
// (kernel_snapshot_internal.hpp) counts an aggregate's fields. Equal counts
// with no address twice means no field is missed or listed twice. A field
// added to a struct fails to compile here until it is listed above (and, if
// it is an index, checked on restore).
struct FieldAddresses {
  const void* seen[64] = {};
  std::size_t count = 0;
  bool repeated = false;
  template <class T>
  constexpr void field(const T& value) {
    for (std::size_t i = 0; i < count; ++i) {
      repeated = repeated || seen[i] == &value;
    }
    seen[count++] = &value;
  }
  template <class T>
  constexpr void fixed(const T& value) {
    field(value);
  }
};

// How many distinct fields visit_fields lists for T, or 0 if one is repeated.
template <class T>
constexpr std::size_t visited_fields() {
  T value{}; // not const: a constexpr std::string (VenueConfig::name) writes itself while constructing
  FieldAddresses addresses;
  visit_fields(value, addresses);
  return addresses.repeated ? 0 : addresses.count;
}

static_assert(visited_fields<KernelCounters>() == field_count<KernelCounters>(),
              "KernelCounters: visit_fields must list every field once");
static_assert(visited_fields<SlotState>() == field_count<SlotState>() - 1, // spec
              "SlotState: visit_fields must list every field but spec once");
// VenueState holds a std::string (its config's name): clang 14 cannot build
// libstdc++'s in a constant expression, so GCC, the project's compiler, checks it.
#if defined(__GNUC__) && !defined(__clang__)
static_assert(visited_fields<VenueState>() == field_count<VenueState>() - 1, // config
              "VenueState: visit_fields must list every field but config once");
#endif
static_assert(visited_fields<RiskHedgeState>() == field_count<RiskHedgeState>(),
              "RiskHedgeState: visit_fields must list every field once");
static_assert(visited_fields<OrderRecord>() == field_count<OrderRecord>(),
              "OrderRecord: visit_fields must list every field once");
#if defined(__x86_64__) && defined(__GLIBCXX__)
// Kernel is no aggregate: its size stands in for its member list (a bool
// added beside the other two would hide in padding, so read visit_state too).
static_assert(sizeof(Kernel) - sizeof(KernelConfig) == 416, "a Kernel member changed: update Kernel::visit_state");
#endif

// ---- one field <-> one word ----------------------------------------------------

// The largest valid enumerator of each enum the state holds. A new enum
// type in the state fails to compile here until it is given one.
constexpr std::uint64_t max_enumerator(Side /*tag*/) { return static_cast<std::uint64_t>(Side::sell); }
constexpr std::uint64_t max_enumerator(OrderPurpose /*tag*/) {
  return static_cast<std::uint64_t>(OrderPurpose::risk_trigger_hedge);
}
constexpr std::uint64_t max_enumerator(TransferDirection /*tag*/) {
  return static_cast<std::uint64_t>(TransferDirection::exchange_to_wallet);
}

template <class T>
constexpr std::uint64_t to_word(const T& field) noexcept {
  if constexpr (std::is_same_v<T, bool>) {
    return field ? 1U : 0U;
  } else if constexpr (std::is_enum_v<T>) {
    return static_cast<std::uint64_t>(static_cast<std::underlying_type_t<T>>(field));
  } else if constexpr (std::is_integral_v<T>) {
    static_assert(std::is_unsigned_v<T>, "signed state fields are carried by the unit types");
    return static_cast<std::uint64_t>(field);
  } else if constexpr (requires { field.value; }) { // UsdCents, Sats, Contracts
    return static_cast<std::uint64_t>(field.value);
  } else if constexpr (requires { field.raw; }) { // Price, Ratio
    return static_cast<std::uint64_t>(field.raw);
  } else {
    return static_cast<std::uint64_t>(field.nanoseconds); // Timestamp
  }
}

// Returns false for a word the field cannot hold (a bool of 2, an enum past
// its last enumerator, a count wider than its type).
template <class T>
constexpr bool from_word(std::uint64_t word, T& field) noexcept {
  if constexpr (std::is_same_v<T, bool>) {
    field = word == 1;
    return word <= 1;
  } else if constexpr (std::is_enum_v<T>) {
    if (word > max_enumerator(T{})) {
      return false;
    }
    field = static_cast<T>(word);
    return true;
  } else if constexpr (std::is_integral_v<T>) {
    if constexpr (sizeof(T) < sizeof(std::uint64_t)) {
      if (word > std::numeric_limits<T>::max()) {
        return false;
      }
    }
    field = static_cast<T>(word);
    return true;
  } else if constexpr (requires { field.value; }) {
    field.value = static_cast<std::int64_t>(word); // two's complement, defined in C++20
    return true;
  } else if constexpr (requires { field.raw; }) {
    field.raw = static_cast<std::int64_t>(word);
    return true;
  } else {
    field.nanoseconds = static_cast<std::int64_t>(word);
    return true;
  }
}

// ---- visitors --------------------------------------------------------------------
//
// field(): a mutable value. fixed(): a value derived from the config (kept
// in the snapshot so a reader can check it, never restored). order_table():
// the table's size, which the reader rebuilds from the records.

struct WordCounter {
  std::size_t words = 0;
  template <class T>
  void field(const T& /*value*/) noexcept {
    ++words;
  }
  template <class T>
  void fixed(const T& /*value*/) noexcept {
    ++words;
  }
  void order_table(const OrderTable& /*table*/) noexcept { ++words; }
};

struct Writer {
  std::vector<std::uint8_t>& out;
  template <class T>
  void field(const T& value) {
    put_word(out, to_word(value));
  }
  template <class T>
  void fixed(const T& value) {
    put_word(out, to_word(value));
  }
  void order_table(const OrderTable& table) { put_word(out, table.size()); }
};

struct DigestVisitor {
  Digest& digest;
  template <class T>
  void field(const T& value) noexcept {
    digest.add(to_word(value));
  }
  template <class T>
  void fixed(const T& value) noexcept {
    digest.add(to_word(value));
  }
  void order_table(const OrderTable& table) noexcept { digest.add(static_cast<std::uint64_t>(table.size())); }
};

bool is_empty(const OrderRecord& record) noexcept {
  const OrderRecord empty{};
  return record.client_order_id == empty.client_order_id && record.slot == empty.slot && record.side == empty.side &&
         record.quantity == empty.quantity && record.filled == empty.filled && record.purpose == empty.purpose &&
         record.risk_index == empty.risk_index && record.sent == empty.sent &&
         record.cancel_requested == empty.cancel_requested;
}

// Reads into a staging copy of the kernel; the first bad word clears `ok`
// and every later call does nothing.
struct Reader {
  std::span<const std::uint8_t> bytes;
  std::size_t offset = 0;
  bool ok = true;

  bool next(std::uint64_t& word) noexcept {
    if (!ok || bytes.size() - offset < kWordBytes) {
      ok = false;
      return false;
    }
    word = get_word(bytes, offset);
    offset += kWordBytes;
    return true;
  }
  template <class T>
  void field(T& value) noexcept {
    std::uint64_t word = 0;
    if (next(word) && !from_word(word, value)) {
      ok = false;
    }
  }
  template <class T>
  void fixed(const T& value) noexcept {
    std::uint64_t word = 0;
    if (next(word) && word != to_word(value)) {
      ok = false; // the snapshot was laid out for another config
    }
  }
  // The records are already in place; rebuild the table from them so its
  // private count is right, and refuse a record outside its bucket (find()
  // could never reach it) or a count that does not match the records.
  void order_table(OrderTable& table) {
    std::uint64_t declared = 0;
    if (!next(declared)) {
      return;
    }
    OrderTable rebuilt(table.capacity());
    const std::vector<OrderRecord>& records = table.records();
    for (std::size_t i = 0; i < records.size(); ++i) {
      const OrderRecord& record = records[i];
      if (record.client_order_id == 0) {
        // erase() resets a bucket to OrderRecord{}: a free bucket holding
        // anything else was never written by a kernel (and the rebuild
        // below would silently drop it)
        if (!is_empty(record)) {
          ok = false;
          return;
        }
        continue;
      }
      if (record.client_order_id % records.size() != i || !rebuilt.can_insert(record.client_order_id)) {
        ok = false;
        return;
      }
      rebuilt.insert(record);
    }
    if (rebuilt.size() != declared) {
      ok = false;
      return;
    }
    table = std::move(rebuilt);
  }
};

} // namespace

// Every mutable field, once, in wire order. Not here: the config (venue
// configs, instrument specs), the lookup tables built from it
// (slot_by_instrument_, venue_by_id_, route_by_market_) and the scratch
// buffers, which hold nothing between events.
template <class Self, class Visitor>
void Kernel::visit_state(Self& self, Visitor& visitor) {
  visitor.field(self.now_);
  visitor.field(self.liability_);
  visitor.field(self.provider_interest_);
  visitor.field(self.venue_hedge_);
  visitor.field(self.unallocated_);
  visitor.field(self.unallocated_alert_raised_);
  visitor.field(self.fallback_to_guarded_);
  visitor.field(self.next_client_order_id_);
  visitor.field(self.next_transfer_id_);

  visit_fields(self.counters_, visitor);
  for (auto& slot : self.slots_) {
    visit_fields(slot, visitor);
  }
  for (auto& venue : self.venues_) {
    visit_fields(venue, visitor);
  }
  for (auto& hedge : self.risk_hedges_) {
    visit_fields(hedge, visitor);
  }
  for (auto& order : self.orders_.records()) { // every bucket, free ones too
    visit_fields(order, visitor);
  }
  visitor.order_table(self.orders_);
}

void Kernel::write_snapshot(std::vector<std::uint8_t>& out) const {
  WordCounter counter;
  visit_state(*this, counter);
  out.clear();
  out.reserve((kHeaderWords + counter.words + 1) * kWordBytes);
  put_word(out, kSnapshotMagic);
  put_word(out, kSnapshotVersion);
  put_word(out, config_digest());
  put_word(out, state_digest());
  put_word(out, slots_.size());
  put_word(out, venues_.size());
  put_word(out, orders_.capacity());
  put_word(out, risk_hedges_.size());
  Writer writer{out};
  visit_state(*this, writer);
  put_word(out, digest_bytes(out));
}

bool Kernel::restore_snapshot(std::span<const std::uint8_t> bytes) noexcept {
  try {
    // The shape first: this kernel's tables fix the exact size.
    WordCounter counter;
    visit_state(*this, counter);
    if (bytes.size() != (kHeaderWords + counter.words + 1) * kWordBytes) {
      return false;
    }
    const std::size_t body_end = bytes.size() - kWordBytes;
    if (digest_bytes(bytes.first(body_end)) != get_word(bytes, body_end)) {
      return false;
    }
    const std::uint64_t header[kHeaderWords] = {
        kSnapshotMagic, kSnapshotVersion, config_digest(),    0 /* state digest: informational */,
        slots_.size(),  venues_.size(),   orders_.capacity(), risk_hedges_.size()};
    for (std::size_t i = 0; i < kHeaderWords; ++i) {
      if (i != kStateDigestWord && get_word(bytes, i * kWordBytes) != header[i]) {
        return false;
      }
    }

    // Decode into a copy so a refusal leaves this kernel untouched.
    Kernel staged = *this;
    Reader reader{bytes.first(body_end), kHeaderWords * kWordBytes};
    visit_state(staged, reader);
    if (!reader.ok || reader.offset != body_end) {
      return false;
    }

    // Indices the handlers dereference without checking: a value the kernel
    // could never have written must not become an out-of-range access later.
    for (std::size_t v = 0; v < staged.venues_.size(); ++v) {
      const InstrumentId active = staged.venues_[v].active;
      if (active == kNoInstrument) {
        continue;
      }
      const std::size_t index = staged.slot_index(active);
      if (index == kNoIndex || staged.slots_[index].venue_index != v) {
        return false;
      }
    }
    for (const RiskHedgeState& hedge : staged.risk_hedges_) {
      if (hedge.slot >= staged.slots_.size()) {
        return false;
      }
    }
    for (const OrderRecord& order : staged.orders_.records()) {
      if (order.client_order_id != 0 &&
          (order.slot >= staged.slots_.size() || order.risk_index >= staged.risk_hedges_.size())) {
        return false;
      }
    }

    *this = std::move(staged);
    return true;
  } catch (...) { // the staging copy could not be allocated
    return false;
  }
}

std::optional<std::uint64_t> Kernel::snapshot_state_digest(std::span<const std::uint8_t> bytes) noexcept {
  if (bytes.size() < (kHeaderWords + 1) * kWordBytes || bytes.size() % kWordBytes != 0) {
    return std::nullopt;
  }
  const std::size_t body_end = bytes.size() - kWordBytes;
  if (get_word(bytes, 0) != kSnapshotMagic || get_word(bytes, kWordBytes) != kSnapshotVersion ||
      digest_bytes(bytes.first(body_end)) != get_word(bytes, body_end)) {
    return std::nullopt;
  }
  return get_word(bytes, kStateDigestWord * kWordBytes);
}

std::uint64_t Kernel::full_state_digest() const noexcept {
  Digest digest;
  DigestVisitor visitor{digest};
  visit_state(*this, visitor);
  return digest.value();
}

} // namespace synthusd::hedging
