// Event intake and bookkeeping. What the venue says of our orders and
// positions is in kernel_execution.cpp; decisions live in kernel_rebalance.cpp,
// kernel_collateral.cpp and kernel_risk_trigger.cpp.

#include "synthusd/hedging/kernel.hpp"
#include "synthusd/hedging/volatility.hpp"

#include <algorithm>

namespace synthusd::hedging {
namespace {

template <class... Handlers>
struct Overloaded : Handlers... {
  using Handlers::operator()...;
};

// Enough room for every order, cancel, transfer and alert one event can cause:
// at most two orders and an alert per slot, a transfer and two alerts per
// venue, a close per risk hedge, a cancel and an alert per open order, plus
// a few global alerts.
std::size_t action_capacity(const KernelConfig& config) {
  return 3 * config.instruments.size() + 3 * config.venues.size() + 2 * config.risk_position_capacity +
         2 * config.order_table_capacity + 16;
}

} // namespace

Kernel::Kernel(KernelConfig config)
    : config_(std::move(config)), next_client_order_id_(config_.first_client_order_id),
      next_transfer_id_(config_.first_transfer_id), orders_(config_.order_table_capacity) {
  validate(config_);
  VenueId max_venue = 0;
  for (const VenueConfig& venue : config_.venues) {
    max_venue = std::max(max_venue, venue.id);
  }
  venue_by_id_.assign(static_cast<std::size_t>(max_venue) + 1, kNoIndex);
  // venues in id order so iteration order never depends on config order
  std::vector<VenueConfig> sorted_venues = config_.venues;
  std::sort(sorted_venues.begin(), sorted_venues.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  for (const VenueConfig& venue : sorted_venues) {
    venue_by_id_[venue.id] = venues_.size();
    VenueState state;
    state.config = venue;
    venues_.push_back(state);
  }

  std::vector<InstrumentSpec> sorted_instruments = config_.instruments;
  std::sort(sorted_instruments.begin(), sorted_instruments.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  slot_by_instrument_.assign(static_cast<std::size_t>(sorted_instruments.back().id) + 1, kNoIndex);
  for (const InstrumentSpec& spec : sorted_instruments) {
    slot_by_instrument_[spec.id] = slots_.size();
    SlotState slot;
    slot.spec = spec;
    slot.venue_index = venue_by_id_[spec.venue];
    slots_.push_back(slot);
  }

  std::uint16_t max_market = 0;
  for (const RiskMarketRoute& route : config_.risk_routes) {
    max_market = std::max(max_market, route.market);
  }
  route_by_market_.assign(static_cast<std::size_t>(max_market) + 1, kNoIndex);
  for (const RiskMarketRoute& route : config_.risk_routes) {
    route_by_market_[route.market] = slot_by_instrument_[route.instrument];
  }
  risk_hedges_.resize(config_.risk_position_capacity);

  actions_.resize(action_capacity(config_));
  share_inputs_.resize(venues_.size());
  share_outputs_.resize(venues_.size());
  carry_scratch_.resize(slots_.size());
}

std::span<const Action> Kernel::on(const Event& event) noexcept {
  action_count_ = 0;
  ++counters_.events;
  const Timestamp time = time_of(event);
  if (time > now_) {
    now_ = time; // time never runs backwards inside the kernel
  }
  std::visit([this](const auto& e) { apply(e); }, event);
  return {actions_.data(), action_count_};
}

// ---- liability ---------------------------------------------------------------

void Kernel::apply(const LiabilityChange& event) noexcept {
  // Checked: a sum that would leave int64 is refused (an invalid event with
  // an alert), never wrapped. The sources bound each payment far below
  // this; the kernel does not rely on them.
  std::int64_t sum = 0;
  if (__builtin_add_overflow(liability_.value, event.delta.value, &sum)) {
    ++counters_.invalid_events;
    alert(AlertCode::invalid_event, static_cast<std::int64_t>(event.id), event.delta.value);
    return;
  }
  liability_ = UsdCents{sum};
  if (liability_.value < 0) {
    alert(AlertCode::negative_liability, liability_.value);
  }
  rebalance();
}

void Kernel::apply(const ProviderInterestChange& event) noexcept {
  provider_interest_ += event.delta;
  if (provider_interest_.value < 0) {
    ++counters_.invalid_events;
    alert(AlertCode::invalid_event, static_cast<std::int64_t>(event.provider_id), provider_interest_.value);
    provider_interest_ = UsdCents{0};
  }
  rebalance();
}

// ---- market data -------------------------------------------------------------

void Kernel::apply(const MarketUpdate& event) noexcept {
  const std::size_t index = slot_index(event.instrument);
  if (index == kNoIndex || slots_[index].spec.venue != event.venue) {
    ++counters_.unknown_instrument_updates;
    return;
  }
  // A corrupt price must never move the hedge: the whole update is refused.
  if (!event.mark.is_valid() || event.bid.raw < 0 || event.ask.raw < 0 || event.index.raw < 0 ||
      (event.bid.is_valid() && event.ask.is_valid() && event.bid > event.ask)) {
    ++counters_.invalid_events;
    return;
  }
  SlotState& slot = slots_[index];
  slot.bid = event.bid;
  slot.ask = event.ask;
  slot.mark = event.mark;
  slot.index = event.index;
  slot.funding_rate = event.funding_rate;
  slot.next_funding_time = event.next_funding_time;
  slot.market_time = event.time;
  slot.has_market = true;
  if (is_perpetual(slot.spec.kind)) {
    average_funding(slot, event.funding_rate, event.time); // a future's carry is its basis
  }
  if (config_.bands.volatility_reference.raw > 0) {
    VolatilitySample sample{slot.volatility_mark, slot.volatility_time, slot.hourly_variance};
    const auto reference = static_cast<std::uint64_t>(config_.bands.volatility_reference.raw);
    observe_mark(sample, event.mark, event.time, reference * reference);
    slot.volatility_mark = sample.mark;
    slot.volatility_time = sample.time;
    slot.hourly_variance = sample.hourly_variance;
  }
  rebalance();
}

// An average in which each update weighs its share of the window (all of
// it after a gap as long as the window): ticks every 100 ms and one update
// an hour average the same way. The first update starts it.
void Kernel::average_funding(SlotState& slot, Ratio rate, Timestamp time) const noexcept {
  const std::int64_t window = config_.carry.funding_average_window.nanoseconds;
  if (window <= 0 || slot.funding_average_time.nanoseconds == 0) {
    slot.funding_average = rate;
    slot.funding_average_time = time;
    return;
  }
  const std::int64_t elapsed = (time - slot.funding_average_time).nanoseconds;
  if (elapsed <= 0) {
    return;
  }
  const std::int64_t weight = elapsed < window ? elapsed : window;
  // |rate - average| < 2^64 Ratio units and weight <= window < 2^63: int128.
  const int128 step =
      divide((static_cast<int128>(rate.raw) - slot.funding_average.raw) * weight, window, Rounding::half_even);
  slot.funding_average = Ratio{static_cast<std::int64_t>(slot.funding_average.raw + step)};
  slot.funding_average_time = time;
}

// ---- collateral and transfers ------------------------------------------------

void Kernel::apply(const CollateralSnapshot& event) noexcept {
  const std::size_t index = venue_index(event.venue);
  if (index == kNoIndex || event.equity.value < 0 || event.withdrawable < kWithdrawableUnreported) {
    ++counters_.invalid_events;
    return;
  }
  VenueState& venue = venues_[index];
  venue.collateral = event.equity;
  venue.withdrawable = event.withdrawable;
  venue.collateral_known = true;
  venue.reported_since_refusal = true;
  // A snapshot taken while a transfer is in flight may or may not include
  // it: its completion must then not be added on top (see TransferCompleted).
  venue.snapshot_during_transfer = venue.transfer_in_flight;
  rebalance();
}

void Kernel::apply(const TransferCompleted& event) noexcept {
  for (VenueState& venue : venues_) {
    if (venue.transfer_in_flight && venue.transfer_id == event.transfer_id) {
      if (venue.snapshot_during_transfer) {
        // Counting the amount could count it twice: decide nothing more
        // until the venue reports its collateral again.
        venue.collateral_known = false;
      } else {
        const Sats moved = venue.transfer_direction == TransferDirection::wallet_to_exchange ? venue.transfer_amount
                                                                                             : -venue.transfer_amount;
        venue.collateral += moved;
        if (venue.withdrawable.value >= 0) { // a deposit is paid out again at once; a withdrawal left
          venue.withdrawable = std::max(venue.withdrawable + moved, Sats{0});
        }
      }
      venue.snapshot_during_transfer = false;
      venue.transfer_in_flight = false;
      venue.withdrawal_refused = false;
      if (venue.transfer_direction == TransferDirection::wallet_to_exchange && venue.liquidated) {
        end_liquidation(venue);
      }
      rebalance();
      return;
    }
  }
  ++counters_.invalid_events;
  alert(AlertCode::unknown_transfer, static_cast<std::int64_t>(event.transfer_id));
}

void Kernel::apply(const TransferFailed& event) noexcept {
  for (VenueState& venue : venues_) {
    if (venue.transfer_in_flight && venue.transfer_id == event.transfer_id) {
      venue.transfer_in_flight = false;
      venue.snapshot_during_transfer = false;
      if (venue.transfer_direction == TransferDirection::exchange_to_wallet) {
        venue.withdrawal_refused = true;
        venue.withdrawable_when_refused = withdrawable_of(venue);
        venue.withdrawal_refused_amount = venue.transfer_amount;
        venue.reported_since_refusal = false;
      }
      alert(AlertCode::transfer_failed, static_cast<std::int64_t>(event.transfer_id), venue.config.id,
            venue.transfer_amount.value);
      return; // no immediate retry: the next event re-evaluates (a withdrawal: see withdrawal_refused)
    }
  }
  ++counters_.invalid_events;
  alert(AlertCode::unknown_transfer, static_cast<std::int64_t>(event.transfer_id));
}

void Kernel::apply(const VenueStatus& event) noexcept {
  const std::size_t index = venue_index(event.venue);
  if (index == kNoIndex) {
    ++counters_.invalid_events;
    return;
  }
  venues_[index].up = event.up;
  rebalance();
}

void Kernel::apply(const Timer& /*event*/) noexcept {
  cancel_unanswered_orders();
  evaluate_risk_hedges();
  rebalance();
}

// ---- helpers -------------------------------------------------------------------

bool Kernel::send_order(std::size_t index, Contracts signed_quantity, OrderPurpose purpose, std::size_t risk_index,
                        bool passive) noexcept {
  SlotState& slot = slots_[index];
  const ClientOrderId id = next_client_order_id_;
  if (OrderRecord& occupant = orders_.occupant(id); occupant.client_order_id != 0 && occupant.abandoned) {
    orders_.erase(occupant); // a given-up order's bucket goes to the next order that needs it
  }
  if (!orders_.can_insert(id)) {
    alert(AlertCode::order_table_full, slot.spec.venue, slot.spec.id, signed_quantity.value);
    return false;
  }
  ++next_client_order_id_;
  const Side side = signed_quantity.value > 0 ? Side::buy : Side::sell;
  // Reduce-only when the order only shrinks the slot's total open position.
  const Contracts total = slot.position + slot.in_flight + slot.risk_in_flight;
  const bool reduces = (signed_quantity.value > 0 && total.value < 0 && signed_quantity.value <= -total.value) ||
                       (signed_quantity.value < 0 && total.value > 0 && -signed_quantity.value <= total.value);

  OrderIntent intent;
  intent.client_order_id = id;
  intent.venue = slot.spec.venue;
  intent.instrument = slot.spec.id;
  intent.side = side;
  intent.quantity = signed_quantity.abs();
  intent.type = OrderType::market;
  intent.reduce_only = reduces;
  intent.purpose = purpose;
  intent.passive = passive;
  emit(intent);

  OrderRecord record;
  record.client_order_id = id;
  record.slot = index;
  record.side = side;
  record.quantity = signed_quantity.abs();
  record.purpose = purpose;
  record.risk_index = risk_index;
  record.sent = now_;
  record.passive = passive;
  orders_.insert(record);
  if (purpose == OrderPurpose::liability_hedge) {
    slot.in_flight += signed_quantity;
  } else {
    slot.risk_in_flight += signed_quantity;
  }
  ++counters_.orders;
  return true;
}

void Kernel::emit(const Action& action) noexcept {
  if (action_count_ == actions_.size()) {
    // Sized for the worst case at construction; reaching this is a bug. The
    // last slot carries an overflow alert so the loss is never silent.
    ++counters_.dropped_actions;
    actions_.back() =
        Alert{AlertCode::action_buffer_overflow, {static_cast<std::int64_t>(counters_.dropped_actions), 0, 0}};
    return;
  }
  actions_[action_count_++] = action;
  if (std::holds_alternative<Alert>(action)) {
    ++counters_.alerts;
  } else if (std::holds_alternative<TransferIntent>(action)) {
    ++counters_.transfers;
  }
}

void Kernel::alert(AlertCode code, std::int64_t a, std::int64_t b, std::int64_t c) noexcept {
  emit(Alert{code, {a, b, c}});
}

std::size_t Kernel::slot_index(InstrumentId instrument) const noexcept {
  return instrument < slot_by_instrument_.size() ? slot_by_instrument_[instrument] : kNoIndex;
}

std::size_t Kernel::venue_index(VenueId venue) const noexcept {
  return venue < venue_by_id_.size() ? venue_by_id_[venue] : kNoIndex;
}

const SlotState* Kernel::slot(InstrumentId instrument) const noexcept {
  const std::size_t index = slot_index(instrument);
  return index == kNoIndex ? nullptr : &slots_[index];
}

const VenueState* Kernel::venue(VenueId venue) const noexcept {
  const std::size_t index = venue_index(venue);
  return index == kNoIndex ? nullptr : &venues_[index];
}

// An inverse future's contract is worth its face in USD at the future's
// price. At a premium p over the index (mark = index * (1 + p)) its BTC P&L,
// valued in USD, moves 1/(1 + p) as much as the index does: a short whose
// face equals the liability under-hedges by p of every price move (a 2 %
// premium through a 30 % fall: 60 bps). So the liability hedge counts a
// future at face * index / mark, and holds (1 + p) times the liability in
// face; the extra is the premium it earns as the future converges.
int128 Kernel::index_equivalent(const SlotState& slot, int128 face) noexcept {
  if (slot.spec.kind != InstrumentKind::inverse_future || !slot.index.is_valid() || !slot.mark.is_valid()) {
    return face;
  }
  return divide(face * slot.index.raw, slot.mark.raw, Rounding::half_even);
}

int128 Kernel::slot_exposure(const SlotState& slot) const noexcept {
  const Contracts liability_contracts = slot.position - slot.risk_position + slot.in_flight;
  return index_equivalent(slot, scaled_exposure_cents(slot.spec, liability_contracts, slot.mark));
}

UsdCents Kernel::liability_hedge_exposure() const noexcept {
  int128 total = 0;
  for (const SlotState& slot : slots_) {
    total += slot_exposure(slot);
  }
  return UsdCents{static_cast<std::int64_t>(divide(total, Ratio::kScale, Rounding::half_even))};
}

Price Kernel::reference_price(std::size_t index) const noexcept {
  // the active instrument's mark, else any mark the venue has published
  const VenueState& venue = venues_[index];
  const std::size_t active = slot_index(venue.active);
  if (active != kNoIndex && slots_[active].has_market) {
    return slots_[active].mark;
  }
  for (const SlotState& slot : slots_) {
    if (slot.venue_index == index && slot.has_market) {
      return slot.mark;
    }
  }
  return Price{};
}

} // namespace synthusd::hedging
