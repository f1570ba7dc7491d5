#pragma once
// The hedge kernel: a deterministic state machine, on(event) -> actions.
//
// Invariants: no clock reads (time arrives in events), no I/O, no randomness,
// no heap allocation after construction, no exceptions out of on(). The same
// event sequence always yields the same action sequence; replay and crash
// recovery depend on it. Single-threaded: one kernel thread owns it.

#include <optional>
#include <span>
#include <vector>

#include "synthusd/hedging/actions.hpp"
#include "synthusd/hedging/allocation.hpp"
#include "synthusd/hedging/band_policy.hpp"
#include "synthusd/hedging/carry.hpp"
#include "synthusd/hedging/config.hpp"
#include "synthusd/hedging/events.hpp"
#include "synthusd/hedging/order_table.hpp"

namespace synthusd::hedging {

struct KernelCounters {
  std::uint64_t events = 0;
  std::uint64_t invalid_events = 0; // rejected: bad prices, unknown ids
  std::uint64_t unknown_instrument_updates = 0;
  std::uint64_t orders = 0;
  std::uint64_t transfers = 0;
  std::uint64_t alerts = 0;
  std::uint64_t dropped_actions = 0; // action buffer full; never expected
  std::uint64_t duplicate_or_late_fills = 0;
};

// What the kernel knows about one venue instrument.
struct SlotState {
  InstrumentSpec spec;
  std::size_t venue_index = 0;
  Contracts position{};       // venue position, both purposes, short < 0
  Contracts risk_position{};  // the part owned by risk-trigger hedges
  Contracts in_flight{};      // signed open quantity of liability-hedge orders
  Contracts risk_in_flight{}; // signed open quantity of risk-trigger orders
  Price bid{}, ask{}, mark{}, index{};
  Ratio funding_rate{};
  Timestamp next_funding_time{};
  Timestamp market_time{};
  bool has_market = false;
  bool funding_below_guard = false;
  Timestamp negative_funding_since{}; // valid while funding_below_guard
  bool funding_guard_engaged = false;
  Timestamp guard_changed_at{}; // when the guard last engaged or released (0: never)
  Ratio annual_carry{};
  bool eligible = false;
  UsdCents target{};       // liability this slot hedges now
  Timestamp retry_after{}; // no new liability orders before (after a reject)
  // hybrid policy: the one resting post-only order (0: none) and the touch
  // it was posted at, to cancel it when the touch moves away
  ClientOrderId passive_order = 0;
  Price passive_price{};
  // a volatility-scaled band (bands.volatility_reference > 0): the mark's
  // last sample and its hourly variance (volatility.hpp; otherwise 0)
  Price volatility_mark{};
  Timestamp volatility_time{};
  std::uint64_t hourly_variance = 0;
  // a perpetual's funding rate averaged over carry.funding_average_window
  // (funding_average_time 0: no update yet); its carry is read from this
  Ratio funding_average{};
  Timestamp funding_average_time{};
};

struct VenueState {
  VenueConfig config;
  bool up = false;
  Sats collateral{};
  bool collateral_known = false; // no transfer decision before the first snapshot
  bool transfer_in_flight = false;
  bool snapshot_during_transfer = false;
  TransferId transfer_id = 0;
  TransferDirection transfer_direction = TransferDirection::wallet_to_exchange;
  Sats transfer_amount{};
  InstrumentId active = kNoInstrument; // instrument the liability hedge uses
  bool only_guarded = false;           // its only choices are funding-guarded perpetuals
  UsdCents allocation{};
  bool liquidation_alert_raised = false;
  // The venue closed our position (a liquidation): until a deposit lands no
  // order may grow a position there, since the venue refuses it for margin.
  bool liquidated = false;
  // What the venue last said it would pay out (kWithdrawableUnreported: the
  // collateral). A withdrawal is never sized above it.
  Sats withdrawable = kWithdrawableUnreported;
  // A withdrawal came back refused: the venue pays out less than
  // `withdrawal_refused_amount` (its payout moved after the report the amount
  // was sized from, or it holds equity it will not release). Not asked again
  // before a collateral report received after the refusal
  // (`reported_since_refusal`: a fill alone changes nothing we can see);
  // then for at most half the refused amount, or again in full once the
  // reported payout is a minimum transfer above `withdrawable_when_refused`.
  // Cleared when a transfer completes.
  bool withdrawal_refused = false;
  Sats withdrawable_when_refused{};
  Sats withdrawal_refused_amount{};
  bool reported_since_refusal = false;
};

struct RiskHedgeState {
  bool in_use = false;
  std::uint16_t market = 0;
  std::uint64_t position_id = 0;
  std::size_t slot = 0;
  bool source_present = false;
  bool at_risk = false; // the latest observation showed a risk
  bool hedged = false;  // an opening hedge was sent and not fully closed
  std::uint32_t open_orders = 0;
  Contracts committed{}; // signed contracts filled + in flight for this hedge
  Timestamp last_risk_time{};
};

class Kernel {
public:
  // Validates the config (throws std::invalid_argument) and allocates every
  // table the kernel will ever use.
  explicit Kernel(KernelConfig config);

  // Applies one event. The returned actions stay valid until the next call.
  [[nodiscard]] std::span<const Action> on(const Event& event) noexcept;

  // ---- read-only views (metrics, tests, the engine) ----
  [[nodiscard]] const KernelConfig& config() const noexcept { return config_; }
  [[nodiscard]] const KernelCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] Timestamp now() const noexcept { return now_; }
  [[nodiscard]] UsdCents liability() const noexcept { return liability_; }
  [[nodiscard]] UsdCents provider_interest() const noexcept { return provider_interest_; }
  [[nodiscard]] UsdCents venue_hedge() const noexcept { return venue_hedge_; }
  [[nodiscard]] UsdCents unallocated() const noexcept { return unallocated_; }
  [[nodiscard]] std::span<const SlotState> slots() const noexcept { return slots_; }
  [[nodiscard]] std::span<const VenueState> venues() const noexcept { return venues_; }
  [[nodiscard]] const SlotState* slot(InstrumentId instrument) const noexcept;
  [[nodiscard]] const VenueState* venue(VenueId venue) const noexcept;
  // Orders still working or waiting for an answer (given-up ones excluded).
  [[nodiscard]] std::size_t open_orders() const noexcept { return orders_.size() - orders_.abandoned(); }
  // The open orders themselves (recovery cancels what a crash left open).
  [[nodiscard]] const OrderTable& order_table() const noexcept { return orders_; }
  // Signed USD exposure of the liability hedge over all venues, cents (short < 0).
  [[nodiscard]] UsdCents liability_hedge_exposure() const noexcept;
  // 64-bit digest of the core kernel state (money, positions, orders, risk
  // hedges); equal states, equal digests. full_state_digest() covers every
  // mutable field.
  [[nodiscard]] std::uint64_t state_digest() const noexcept;

  // ---- snapshots for crash recovery (kernel_snapshot.cpp) ----
  // Cold path: these may allocate and are never called from on(). Recovery
  // restores the latest snapshot into a kernel built from the same config,
  // then replays the journal records after the snapshot's sequence.
  //
  // Serializes every piece of mutable state (not the config, not scratch) as
  // little-endian 64-bit words, guarded by the config digest, the table
  // sizes, state_digest() and a trailing digest of the bytes. Replaces the
  // contents of `out`.
  void write_snapshot(std::vector<std::uint8_t>& out) const;
  // Replaces the whole mutable state with a write_snapshot() result. Returns
  // false, leaving the kernel unchanged, when the bytes are truncated or
  // damaged, were written under another config (config_digest) or describe
  // tables of another size, hold values the kernel could never produce (an
  // index out of range, an order outside its bucket). The recorded
  // state_digest() is not checked here (see snapshot_state_digest).
  [[nodiscard]] bool restore_snapshot(std::span<const std::uint8_t> bytes) noexcept;
  // The state_digest() recorded in write_snapshot() bytes, for a holder of
  // the bytes without the kernel (compare it with state_digest() after a
  // restore); nullopt if the bytes are not an intact snapshot.
  [[nodiscard]] static std::optional<std::uint64_t> snapshot_state_digest(std::span<const std::uint8_t> bytes) noexcept;
  // Digest of the config fields that shape the state and decide actions
  // (venues, instruments, bands, carry, collateral, funding guard, risk
  // factors and routes, table sizes, timeouts). Excludes the first ids,
  // which only seed counters that the snapshot itself carries.
  [[nodiscard]] std::uint64_t config_digest() const noexcept;
  // Digest of exactly what a snapshot carries: every mutable field. Wider
  // than state_digest(), whose values stay as they are for existing users.
  [[nodiscard]] std::uint64_t full_state_digest() const noexcept;

private:
  // event handlers (kernel.cpp)
  void apply(const LiabilityChange& event) noexcept;
  void apply(const MarketUpdate& event) noexcept;
  void apply(const ExecutionReport& event) noexcept;
  void apply(const PositionSnapshot& event) noexcept;
  void apply(const CollateralSnapshot& event) noexcept;
  void apply(const TransferCompleted& event) noexcept;
  void apply(const TransferFailed& event) noexcept;
  void apply(const VenueStatus& event) noexcept;
  void apply(const Timer& event) noexcept;
  void apply(const ExternalRiskPosition& event) noexcept;
  void apply(const ProviderInterestChange& event) noexcept;

  // rebalancing (kernel_rebalance.cpp)
  void rebalance() noexcept;
  void update_funding_guards() noexcept;
  void choose_instruments() noexcept;
  void allocate_venues() noexcept;
  void hedge_slot(std::size_t slot_index) noexcept;
  void hedge_slot_hybrid(std::size_t slot_index, const BandConfig& bands, const BandInput& input) noexcept;
  // collateral (kernel_collateral.cpp)
  void manage_collateral() noexcept;
  // What a withdrawal may ask for: the venue's reported withdrawable amount, never above the collateral.
  [[nodiscard]] static Sats withdrawable_of(const VenueState& venue) noexcept;
  // What a withdrawal the band wants (`wanted`) asks for now, or nothing (kernel_collateral.cpp).
  [[nodiscard]] std::optional<Sats> withdrawal_amount(const VenueState& venue, Sats wanted, bool position_open,
                                                      Price mark) const noexcept;
  void check_liquidation(std::size_t venue_index) noexcept;
  void note_liquidation(const SlotState& slot) noexcept;
  void end_liquidation(VenueState& venue) noexcept;
  // risk-trigger strategy (kernel_risk_trigger.cpp)
  void evaluate_risk_hedges() noexcept;
  void cancel_unanswered_orders() noexcept;
  bool abandon_unanswered_orders(std::size_t slot_index, Timestamp snapshot_time) noexcept;
  void apply_abandoned_report(OrderRecord& order, const ExecutionReport& event, bool fills) noexcept;
  void close_risk_hedge(RiskHedgeState& hedge) noexcept;
  void book_risk_fill(const OrderRecord& order, Contracts signed_quantity, bool order_done) noexcept;

  // shared helpers (kernel.cpp)
  bool send_order(std::size_t slot_index, Contracts signed_quantity, OrderPurpose purpose, std::size_t risk_index,
                  bool passive = false) noexcept;
  void emit(const Action& action) noexcept;
  void alert(AlertCode code, std::int64_t a = 0, std::int64_t b = 0, std::int64_t c = 0) noexcept;
  [[nodiscard]] std::size_t slot_index(InstrumentId instrument) const noexcept;
  [[nodiscard]] std::size_t venue_index(VenueId venue) const noexcept;
  [[nodiscard]] Price reference_price(std::size_t venue_index) const noexcept;
  [[nodiscard]] int128 slot_exposure(const SlotState& slot) const noexcept;
  void average_funding(SlotState& slot, Ratio rate, Timestamp time) const noexcept;
  // USD of a dated future's face value (scaled cents) at the index: face *
  // index / mark. Anything else, or without both prices: the face itself.
  [[nodiscard]] static int128 index_equivalent(const SlotState& slot, int128 face) noexcept;

  // snapshots (kernel_snapshot.cpp): lists every mutable field exactly once,
  // in wire order, for the writer, the reader and full_state_digest alike, so
  // they can never disagree. Self is Kernel or const Kernel.
  template <class Self, class Visitor>
  static void visit_state(Self& self, Visitor& visitor);

  KernelConfig config_;
  KernelCounters counters_{};
  Timestamp now_{};
  UsdCents liability_{};
  UsdCents provider_interest_{};
  UsdCents venue_hedge_{};
  UsdCents unallocated_{};
  bool unallocated_alert_raised_ = false;
  bool fallback_to_guarded_ = false; // every venue is funding-guarded: hedge there anyway
  ClientOrderId next_client_order_id_ = 1;
  TransferId next_transfer_id_ = 1;

  std::vector<SlotState> slots_;
  std::vector<VenueState> venues_;
  std::vector<std::size_t> slot_by_instrument_; // instrument id -> slot index (npos if none)
  std::vector<std::size_t> venue_by_id_;        // venue id -> venue index (npos if none)
  std::vector<RiskHedgeState> risk_hedges_;
  std::vector<std::size_t> route_by_market_; // market -> slot index (npos if none)
  OrderTable orders_;

  // scratch, sized at construction so rebalance never allocates
  std::vector<Action> actions_;
  std::size_t action_count_ = 0;
  std::vector<VenueShareInput> share_inputs_;
  std::vector<UsdCents> share_outputs_;
  std::vector<CarryCandidate> carry_scratch_;
};

inline constexpr std::size_t kNoIndex = static_cast<std::size_t>(-1);

} // namespace synthusd::hedging
