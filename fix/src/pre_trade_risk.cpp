#include "synthusd/fix/pre_trade_risk.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace synthusd::fix {

using hedging::divide;
using hedging::int128;
using hedging::Rounding;

std::string_view to_string(RiskReject reason) noexcept {
  switch (reason) {
  case RiskReject::none:
    return "none";
  case RiskReject::kill_switch:
    return "kill_switch";
  case RiskReject::session_not_logged_on:
    return "session_not_logged_on";
  case RiskReject::unknown_instrument:
    return "unknown_instrument";
  case RiskReject::invalid_order:
    return "invalid_order";
  case RiskReject::max_order_quantity:
    return "max_order_quantity";
  case RiskReject::max_order_notional:
    return "max_order_notional";
  case RiskReject::no_reference_price:
    return "no_reference_price";
  case RiskReject::stale_reference_price:
    return "stale_reference_price";
  case RiskReject::price_collar:
    return "price_collar";
  case RiskReject::max_position:
    return "max_position";
  case RiskReject::max_aggregate_notional:
    return "max_aggregate_notional";
  case RiskReject::max_open_orders:
    return "max_open_orders";
  case RiskReject::order_rate:
    return "order_rate";
  case RiskReject::message_rate:
    return "message_rate";
  case RiskReject::venue_credits:
    return "venue_credits";
  case RiskReject::duplicate_client_order_id:
    return "duplicate_client_order_id";
  case RiskReject::count_:
    break;
  }
  return "unknown";
}

// ---- token bucket -----------------------------------------------------------------

TokenBucket::TokenBucket(TokenBucketLimit limit) noexcept
    : capacity_(static_cast<std::int64_t>(limit.burst) * kUnit), rate_(limit.per_second), tokens_(capacity_),
      unlimited_(limit.per_second == 0) {}

bool TokenBucket::try_take(Timestamp now) noexcept {
  if (unlimited_) {
    return true;
  }
  if (started_ && now > last_) {
    // tokens += rate * elapsed_seconds, in nano-tokens: rate * elapsed_ns
    const int128 refill = static_cast<int128>(rate_) * (now - last_).nanoseconds;
    tokens_ = static_cast<std::int64_t>(std::min<int128>(capacity_, tokens_ + refill));
  }
  if (!started_ || now > last_) {
    last_ = now;
  }
  started_ = true;
  if (tokens_ < kUnit) {
    return false;
  }
  tokens_ -= kUnit;
  return true;
}

// ---- checks -----------------------------------------------------------------------

PreTradeRisk::PreTradeRisk(RiskLimits limits, std::span<const hedging::InstrumentSpec> instruments,
                           std::size_t order_capacity)
    : limits_(limits), open_(order_capacity), order_bucket_(limits.order_rate), message_bucket_(limits.message_rate) {
  if (limits_.max_order_quantity.value <= 0 || limits_.max_order_notional.value <= 0 || limits_.price_collar.raw <= 0 ||
      limits_.max_position.value <= 0 || limits_.max_aggregate_notional.value <= 0 || limits_.max_open_orders == 0 ||
      limits_.max_reference_age.nanoseconds <= 0) {
    throw std::invalid_argument("risk limits: every limit must be > 0");
  }
  if (order_capacity < limits_.max_open_orders) {
    throw std::invalid_argument("risk limits: max_open_orders exceeds the order table capacity");
  }
  hedging::InstrumentId max_id = 0;
  hedging::VenueId max_venue = 0;
  for (const hedging::InstrumentSpec& spec : instruments) {
    max_id = std::max(max_id, spec.id);
    max_venue = std::max(max_venue, spec.venue);
  }
  instruments_.resize(static_cast<std::size_t>(max_id) + 1);
  session_up_.assign(static_cast<std::size_t>(max_venue) + 1, 0);
  for (const hedging::InstrumentSpec& spec : instruments) {
    instruments_[spec.id].configured = true;
    instruments_[spec.id].spec = spec;
  }
}

std::shared_ptr<VenueCreditBudget> PreTradeRisk::set_venue_credits(hedging::VenueId venue, CreditLimit limit) {
  auto budget = std::make_shared<VenueCreditBudget>(limit); // validates the limit
  if (credits_.size() <= venue) {
    credits_.resize(static_cast<std::size_t>(venue) + 1);
  }
  credits_[venue] = budget->limited() ? budget : nullptr;
  return credits_[venue];
}

RiskReject PreTradeRisk::reject(RiskReject reason) noexcept {
  ++rejects_[static_cast<std::size_t>(reason)];
  return reason;
}

int128 PreTradeRisk::notional_cents(const InstrumentState& state, Contracts quantity) const noexcept {
  const int128 scaled = hedging::scaled_exposure_cents(state.spec, quantity.abs(), state.reference);
  return divide(scaled, Ratio::kScale, Rounding::up);
}

// The larger of the position if every open buy fills and if every open sell fills.
int128 PreTradeRisk::worst_exposure(const InstrumentState& state) const noexcept {
  const std::int64_t if_buys = state.position.value + state.open_buy.value;
  const std::int64_t if_sells = state.position.value - state.open_sell.value;
  return std::max<int128>(if_buys < 0 ? -static_cast<int128>(if_buys) : if_buys,
                          if_sells < 0 ? -static_cast<int128>(if_sells) : if_sells);
}

RiskReject PreTradeRisk::check_limits(const hedging::OrderIntent& order, const InstrumentState& state,
                                      Timestamp now) const noexcept {
  const bool is_limit = order.type == hedging::OrderType::limit;
  if (order.quantity.value <= 0 || is_limit != order.limit_price.is_valid()) {
    return RiskReject::invalid_order;
  }
  if (order.quantity > limits_.max_order_quantity) {
    return RiskReject::max_order_quantity;
  }
  if (!state.reference.is_valid()) {
    return RiskReject::no_reference_price;
  }
  if (now - state.reference_time > limits_.max_reference_age) {
    return RiskReject::stale_reference_price;
  }
  if (notional_cents(state, order.quantity) > limits_.max_order_notional.value) {
    return RiskReject::max_order_notional;
  }
  if (is_limit) {
    // |limit - reference| <= collar * reference, exactly
    const int128 distance = static_cast<int128>(order.limit_price.raw) - state.reference.raw;
    if ((distance < 0 ? -distance : distance) * Ratio::kScale >
        static_cast<int128>(limits_.price_collar.raw) * state.reference.raw) {
      return RiskReject::price_collar;
    }
  }
  InstrumentState after = state;
  (order.side == hedging::Side::buy ? after.open_buy : after.open_sell) += order.quantity;
  if (worst_exposure(after) > limits_.max_position.value) {
    return RiskReject::max_position;
  }
  int128 aggregate = 0;
  for (const InstrumentState& other : instruments_) {
    if (!other.configured) {
      continue;
    }
    const InstrumentState& counted = other.spec.id == state.spec.id ? after : other;
    if (!counted.reference.is_valid() && hedging::is_inverse(counted.spec.kind) == false) {
      continue; // a linear instrument without a price holds nothing we could value
    }
    aggregate += notional_cents(counted, Contracts{static_cast<std::int64_t>(worst_exposure(counted))});
  }
  if (aggregate > limits_.max_aggregate_notional.value) {
    return RiskReject::max_aggregate_notional;
  }
  if (open_count_ >= limits_.max_open_orders) {
    return RiskReject::max_open_orders;
  }
  return RiskReject::none;
}

RiskReject PreTradeRisk::check_order(const hedging::OrderIntent& order, Timestamp now) noexcept {
  if (killed_.load(std::memory_order_acquire)) {
    return reject(RiskReject::kill_switch);
  }
  if (order.venue >= session_up_.size() || session_up_[order.venue] == 0) {
    return reject(RiskReject::session_not_logged_on);
  }
  if (order.instrument >= instruments_.size() || !instruments_[order.instrument].configured ||
      instruments_[order.instrument].spec.venue != order.venue) {
    return reject(RiskReject::unknown_instrument);
  }
  // ClOrdIDs only ever increase (the kernel issues them in order), so
  // anything not above the highest one seen is a duplicate or a replay.
  if (order.client_order_id <= highest_id_) {
    return reject(RiskReject::duplicate_client_order_id);
  }
  const InstrumentState& state = instruments_[order.instrument];
  if (const RiskReject reason = check_limits(order, state, now); reason != RiskReject::none) {
    return reject(reason);
  }
  OpenOrder& slot = open_[order.client_order_id % open_.size()];
  if (slot.id != 0) {
    return reject(RiskReject::max_open_orders); // bucket still held by an old open order
  }
  // Rate limits last, so a refused order does not spend a token.
  if (!message_bucket_.try_take(now)) {
    return reject(RiskReject::message_rate);
  }
  if (!order_bucket_.try_take(now)) {
    return reject(RiskReject::order_rate);
  }
  if (order.venue < credits_.size() && credits_[order.venue] != nullptr &&
      !credits_[order.venue]->try_spend(now.nanoseconds)) {
    return reject(RiskReject::venue_credits);
  }
  highest_id_ = order.client_order_id;
  slot = OpenOrder{order.client_order_id, order.instrument, order.side, order.quantity};
  ++open_count_;
  InstrumentState& mutable_state = instruments_[order.instrument];
  (order.side == hedging::Side::buy ? mutable_state.open_buy : mutable_state.open_sell) += order.quantity;
  ++passed_;
  return RiskReject::none;
}

RiskReject PreTradeRisk::check_cancel(const hedging::CancelIntent& cancel, Timestamp now) noexcept {
  // Cancels reduce risk: the kill switch never blocks them.
  if (!message_bucket_.try_take(now)) {
    return reject(RiskReject::message_rate);
  }
  // The venue counts the cancel's credits whatever happens: spent, never
  // refused here (a later order waits the debt out instead).
  if (cancel.venue < credits_.size() && credits_[cancel.venue] != nullptr) {
    credits_[cancel.venue]->spend(now.nanoseconds);
  }
  return RiskReject::none;
}

// ---- bookkeeping ----------------------------------------------------------------------

PreTradeRisk::OpenOrder* PreTradeRisk::find_open(hedging::ClientOrderId id) noexcept {
  OpenOrder& slot = open_[id % open_.size()];
  return slot.id == id && id != 0 ? &slot : nullptr;
}

void PreTradeRisk::release(OpenOrder& order, Contracts quantity) noexcept {
  InstrumentState& state = instruments_[order.instrument];
  const Contracts released = std::min(quantity, order.remaining);
  (order.side == hedging::Side::buy ? state.open_buy : state.open_sell) -= released;
  order.remaining -= released;
}

void PreTradeRisk::on_send_failed(hedging::ClientOrderId id) noexcept {
  if (OpenOrder* order = find_open(id)) {
    release(*order, order->remaining);
    *order = OpenOrder{};
    --open_count_;
  }
}

void PreTradeRisk::on_execution(const hedging::ExecutionReport& report) noexcept {
  OpenOrder* order = find_open(report.client_order_id);
  if (order == nullptr) {
    return;
  }
  const bool fills =
      report.status == hedging::OrderStatus::partially_filled || report.status == hedging::OrderStatus::filled;
  if (fills) {
    const Contracts filled = report.last_quantity.abs();
    instruments_[order->instrument].position += Contracts{filled.value * hedging::sign_of(order->side)};
    release(*order, filled);
  }
  const bool done = report.status == hedging::OrderStatus::filled || report.status == hedging::OrderStatus::canceled ||
                    report.status == hedging::OrderStatus::rejected || order->remaining.value <= 0;
  if (done) {
    release(*order, order->remaining);
    *order = OpenOrder{};
    --open_count_;
  }
}

void PreTradeRisk::on_position(hedging::InstrumentId instrument, Contracts position) noexcept {
  if (instrument < instruments_.size() && instruments_[instrument].configured) {
    instruments_[instrument].position = position;
  }
}

void PreTradeRisk::on_reference_price(hedging::InstrumentId instrument, Price price, Timestamp time) noexcept {
  if (instrument < instruments_.size() && instruments_[instrument].configured && price.is_valid()) {
    instruments_[instrument].reference = price;
    instruments_[instrument].reference_time = time;
  }
}

void PreTradeRisk::on_session(hedging::VenueId venue, bool logged_on) noexcept {
  if (venue < session_up_.size()) {
    session_up_[venue] = logged_on ? 1 : 0;
  }
}

bool PreTradeRisk::poll_kill_file(const char* path) noexcept {
  struct stat info {};
  const bool exists = path != nullptr && ::stat(path, &info) == 0;
  if (exists) {
    engage_kill_switch();
  }
  return exists;
}

std::size_t PreTradeRisk::open_orders(std::span<hedging::ClientOrderId> out) const noexcept {
  std::size_t n = 0;
  for (const OpenOrder& order : open_) {
    if (order.id != 0 && n < out.size()) {
      out[n++] = order.id;
    }
  }
  return n;
}

} // namespace synthusd::fix
