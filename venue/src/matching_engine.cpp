#include "synthusd/venue/matching_engine.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <utility>

#include "synthusd/venue/decimal.hpp"

namespace synthusd::venue {
namespace {

using hedging::int128;

[[nodiscard]] bool is_marketable(Side side, Price limit, const Quote& quote) noexcept {
  return side == Side::buy ? limit >= quote.ask : limit <= quote.bid;
}

[[nodiscard]] std::string btc(Sats sats) { return format_sats_as_btc(sats) + " BTC"; }

} // namespace

Engine::Engine(EngineConfig config, std::vector<hedging::PricePoint> path, FundingSchedule funding)
    : config_(std::move(config)), path_(std::move(path)), funding_(std::move(funding)) {
  if (path_.empty()) {
    throw std::invalid_argument("venue engine: the price path is empty");
  }
  for (std::size_t i = 0; i < path_.size(); ++i) {
    if (!path_[i].price.is_valid() || (i > 0 && path_[i].time <= path_[i - 1].time)) {
      throw std::invalid_argument("venue engine: the price path needs positive prices in increasing time");
    }
  }
  if (!terms().is_valid() || !config_.tick_size.is_valid() || config_.spread_ticks < 1 || config_.fill_slices < 1 ||
      config_.max_order_size.value <= 0 || config_.touch_size.value < 0 || config_.reject_every < 0 ||
      config_.reject_above.value < 0 || config_.initial_margin.raw <= 0 || config_.liquidation_margin.raw < 0 ||
      config_.funding_interval.nanoseconds <= 0) {
    throw std::invalid_argument("venue engine: invalid configuration");
  }
  next_order_id_ = config_.first_identifier;
  next_execution_id_ = config_.first_identifier;
  now_ = path_.front().time;
  set_market_price(path_.front().price, now_);
  const std::int64_t interval = config_.funding_interval.nanoseconds;
  const auto periods = static_cast<std::int64_t>(hedging::divide(now_.nanoseconds, interval, hedging::Rounding::down));
  next_funding_ = Timestamp{(periods + 1) * interval};
}

// ---- time ----------------------------------------------------------------

void Engine::advance_to(Timestamp time, std::vector<Event>& out) {
  while (true) {
    const bool has_point = path_index_ + 1 < path_.size();
    const Timestamp next_point =
        has_point ? path_[path_index_ + 1].time : Timestamp{std::numeric_limits<std::int64_t>::max()};
    if (has_point && next_point <= time && next_point <= next_funding_) {
      ++path_index_;
      now_ = next_point;
      set_market_price(path_[path_index_].price, now_);
      if (terms().kind == ContractKind::linear) {
        settle_linear_pnl(out);
      }
      match_resting(out);
      check_margins(out);
    } else if (next_funding_ <= time) {
      now_ = next_funding_;
      apply_funding(now_, out);
      check_margins(out);
      next_funding_ = next_funding_ + config_.funding_interval;
    } else {
      break;
    }
  }
  if (time > now_) {
    now_ = time;
  }
  quote_.funding_rate = funding_.rate_at(now_);
}

Price Engine::round_to_tick(Price price) const noexcept {
  const std::int64_t tick = config_.tick_size.raw;
  return Price{static_cast<std::int64_t>(hedging::divide(price.raw, tick, hedging::Rounding::half_even)) * tick};
}

void Engine::set_market_price(Price price, Timestamp time) {
  const std::int64_t tick = config_.tick_size.raw;
  const Price mid = round_to_tick(price);
  Price bid{mid.raw - (config_.spread_ticks / 2) * tick};
  if (bid.raw < tick) {
    bid = Price{tick};
  }
  quote_.time = time;
  quote_.index = price;
  quote_.mark = price;
  quote_.bid = bid;
  quote_.ask = Price{bid.raw + config_.spread_ticks * tick};
  quote_.bid_size = config_.touch_size;
  quote_.ask_size = config_.touch_size;
  quote_.funding_rate = funding_.rate_at(time);
  bid_available_ = config_.touch_size;
  ask_available_ = config_.touch_size;
}

// ---- orders ------------------------------------------------------------------

Contracts& Engine::available(Side taker_side) noexcept {
  return taker_side == Side::buy ? ask_available_ : bid_available_;
}

Contracts Engine::fillable(const Order& order, Contracts wanted) {
  if (!order.reduce_only) {
    return wanted;
  }
  const Contracts position = account_state(order.account).position;
  const Contracts reducible = order.side == Side::buy ? Contracts{std::max<std::int64_t>(0, -position.value)}
                                                      : Contracts{std::max<std::int64_t>(0, position.value)};
  return std::min(wanted, reducible);
}

ExecutionEvent Engine::report(const Order& order, ExecType exec_type) const {
  ExecutionEvent event;
  event.account = order.account;
  event.order_id = order.id;
  event.client_order_id = order.client_order_id;
  event.symbol = order.symbol;
  event.label = order.label;
  event.exec_type = exec_type;
  event.side = order.side;
  event.type = order.type;
  event.time_in_force = order.time_in_force;
  event.post_only = order.post_only;
  event.reduce_only = order.reduce_only;
  event.price = order.type == OrderType::limit ? order.price : Price{};
  event.quantity = order.quantity;
  event.cumulative_quantity = order.filled;
  event.filled_notional = order.filled_notional;
  if (!order.filled.is_zero()) {
    event.average_price = Price{static_cast<std::int64_t>(
        hedging::divide(order.filled_notional, order.filled.value, hedging::Rounding::half_even))};
  }
  if (exec_type == ExecType::canceled) {
    event.status = OrderStatus::canceled;
  } else if (order.filled == order.quantity) {
    event.status = OrderStatus::filled;
  } else if (!order.filled.is_zero()) {
    event.status = OrderStatus::partially_filled;
  } else {
    event.status = OrderStatus::new_order;
  }
  const bool done = event.status == OrderStatus::canceled || event.status == OrderStatus::filled;
  event.leaves_quantity = done ? Contracts{} : order.quantity - order.filled;
  event.time = now_;
  return event;
}

void Engine::fill(Order& order, Contracts quantity, Price price, bool maker, std::vector<Event>& out) {
  if (quantity.value <= 0) {
    return;
  }
  AccountState& account = account_state(order.account);
  const std::int64_t slices = std::min(config_.fill_slices, quantity.value);
  const std::int64_t base = quantity.value / slices;
  const std::int64_t extra = quantity.value % slices;
  for (std::int64_t slice = 0; slice < slices; ++slice) {
    const Contracts part{base + (slice < extra ? 1 : 0)};
    const Sats fees_before = account.fees_paid;
    apply_fill_to_account(account, order.side, part, price, maker);
    order.filled += part;
    order.filled_notional += static_cast<int128>(part.value) * price.raw;
    ExecutionEvent event = report(order, ExecType::trade);
    event.execution_id = next_execution_id_++;
    event.last_quantity = part;
    event.last_price = price;
    event.fee = account.fees_paid - fees_before;
    event.maker = maker;
    emit(std::move(event), out);
  }
  position_update(order.account, out);
}

Contracts Engine::take_liquidity(Order& order, Contracts wanted, std::vector<Event>& out) {
  if (order.type == OrderType::limit && !is_marketable(order.side, order.price, quote_)) {
    return Contracts{};
  }
  Contracts quantity = fillable(order, wanted);
  if (!config_.touch_size.is_zero()) {
    quantity = std::min(quantity, available(order.side));
    available(order.side) -= quantity;
  }
  fill(order, quantity, order.side == Side::buy ? quote_.ask : quote_.bid, false, out);
  return quantity;
}

void Engine::match_resting(std::vector<Event>& out) {
  std::vector<std::pair<Price, OrderId>> buys;
  std::vector<std::pair<Price, OrderId>> sells;
  for (const auto& [id, order] : orders_) {
    if (is_marketable(order.side, order.price, quote_)) {
      (order.side == Side::buy ? buys : sells).emplace_back(order.price, id);
    }
  }
  // Best price first, then oldest (lower id).
  std::sort(buys.begin(), buys.end(),
            [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  std::sort(sells.begin(), sells.end());
  for (const auto* side : {&buys, &sells}) {
    for (const auto& [price, id] : *side) {
      const auto it = orders_.find(id);
      if (it == orders_.end()) {
        continue;
      }
      Order& order = it->second;
      Contracts quantity = fillable(order, order.quantity - order.filled);
      if (!config_.touch_size.is_zero()) {
        quantity = std::min(quantity, available(order.side));
        available(order.side) -= quantity;
      }
      fill(order, quantity, order.price, true, out);
      if (order.filled == order.quantity) {
        orders_.erase(it);
      } else if (order.reduce_only && fillable(order, order.quantity - order.filled).is_zero()) {
        cancel(it, order.client_order_id, "reduce-only: the position is closed", out);
      }
    }
  }
}

void Engine::reject_new_order(std::string_view account, const NewOrder& order, RejectReason reason, std::string text,
                              std::vector<Event>& out) {
  ExecutionEvent event;
  event.account = std::string(account);
  event.execution_id = next_execution_id_++;
  event.client_order_id = order.client_order_id;
  event.symbol = order.symbol;
  event.label = order.label;
  event.exec_type = ExecType::rejected;
  event.status = OrderStatus::rejected;
  event.side = order.side;
  event.type = order.type;
  event.time_in_force = order.time_in_force;
  event.post_only = order.post_only;
  event.reduce_only = order.reduce_only;
  event.price = order.type == OrderType::limit ? order.price : Price{};
  event.quantity = order.quantity;
  event.reject_reason = reason;
  event.text = std::move(text);
  event.time = now_;
  emit(std::move(event), out);
}

std::map<OrderId, Engine::Order>::iterator Engine::find_order(std::string_view account,
                                                              std::string_view client_order_id, OrderId order_id) {
  for (auto it = orders_.begin(); it != orders_.end(); ++it) {
    const Order& order = it->second;
    if (order.account != account) {
      continue;
    }
    if (!client_order_id.empty() ? order.client_order_id == client_order_id : order.id == order_id) {
      return it;
    }
  }
  return orders_.end();
}

void Engine::cancel(std::map<OrderId, Order>::iterator it, std::string client_order_id, std::string_view text,
                    std::vector<Event>& out) {
  Order order = std::move(it->second);
  orders_.erase(it);
  ExecutionEvent event = report(order, ExecType::canceled);
  event.execution_id = next_execution_id_++;
  if (client_order_id != order.client_order_id) {
    event.original_client_order_id = order.client_order_id;
    event.client_order_id = std::move(client_order_id);
  }
  event.text = std::string(text);
  emit(std::move(event), out);
}

void Engine::new_order(std::string_view account_name, const NewOrder& request, std::vector<Event>& out) {
  ++new_order_count_;
  const std::string account(account_name);
  if (request.client_order_id.empty()) {
    reject_new_order(account, request, RejectReason::other, "ClOrdID is empty", out);
    return;
  }
  if (find_order(account, request.client_order_id, 0) != orders_.end()) {
    reject_new_order(account, request, RejectReason::duplicate_order, "duplicate ClOrdID of an open order", out);
    return;
  }
  if (request.symbol != config_.symbol || settled_) {
    reject_new_order(account, request, RejectReason::unknown_symbol,
                     settled_ ? "instrument expired: settled at delivery" : "unknown symbol", out);
    return;
  }
  if (request.quantity.value <= 0) {
    reject_new_order(account, request, RejectReason::incorrect_quantity, "quantity must be positive", out);
    return;
  }
  if (request.quantity > config_.max_order_size) {
    reject_new_order(account, request, RejectReason::exceeds_limit, "quantity above the maximum order size", out);
    return;
  }
  if (config_.reject_every > 0 && new_order_count_ % config_.reject_every == 0) {
    reject_new_order(account, request, RejectReason::exchange_option,
                     "simulated reject: every " + std::to_string(config_.reject_every) + "th order", out);
    return;
  }
  if (!config_.reject_above.is_zero() && request.quantity > config_.reject_above) {
    reject_new_order(account, request, RejectReason::exceeds_limit,
                     "simulated reject: above " + std::to_string(config_.reject_above.value) + " contracts", out);
    return;
  }
  if (request.type == OrderType::limit &&
      (!request.price.is_valid() || request.price.raw % config_.tick_size.raw != 0)) {
    reject_new_order(account, request, RejectReason::other, "price must be a positive multiple of the tick size", out);
    return;
  }
  if (request.type == OrderType::market && request.post_only) {
    reject_new_order(account, request, RejectReason::unsupported, "a market order cannot be post-only", out);
    return;
  }

  Order order;
  order.account = account;
  order.client_order_id = request.client_order_id;
  order.symbol = request.symbol;
  order.label = request.label;
  order.side = request.side;
  order.type = request.type;
  order.time_in_force = request.time_in_force;
  order.post_only = request.post_only;
  order.reduce_only = request.reduce_only;
  order.price = request.type == OrderType::limit ? request.price : Price{};
  order.quantity = request.quantity;

  if (order.reduce_only && fillable(order, order.quantity).is_zero()) {
    reject_new_order(account, request, RejectReason::other, "reduce-only order would increase the position", out);
    return;
  }
  if (order.post_only && is_marketable(order.side, order.price, quote_)) {
    if (request.reject_post_only) {
      reject_new_order(account, request, RejectReason::other, "post-only order would take liquidity", out);
      return;
    }
    const std::int64_t tick = config_.tick_size.raw;
    order.price = order.side == Side::buy ? Price{quote_.ask.raw - tick} : Price{quote_.bid.raw + tick};
    if (!order.price.is_valid()) {
      reject_new_order(account, request, RejectReason::other, "post-only order cannot be repriced", out);
      return;
    }
  }
  if (!order.reduce_only) {
    const Contracts before = worst_case_exposure(account, order.side, Contracts{});
    const Contracts after = worst_case_exposure(account, order.side, order.quantity);
    if (after > before) {
      const Sats required = terms().margin(after, quote_.mark, config_.initial_margin);
      const Sats equity = equity_of(account_state(account));
      if (required > equity) {
        reject_new_order(account, request, RejectReason::exceeds_limit,
                         "not enough funds: initial margin " + btc(required) + " exceeds equity " + btc(equity), out);
        return;
      }
    }
  }

  order.id = next_order_id_++;
  {
    ExecutionEvent accepted = report(order, ExecType::new_order);
    accepted.execution_id = next_execution_id_++;
    emit(std::move(accepted), out);
  }

  const bool marketable = order.type == OrderType::market || is_marketable(order.side, order.price, quote_);
  if (order.time_in_force == TimeInForce::fill_or_kill) {
    Contracts possible = marketable ? fillable(order, order.quantity) : Contracts{};
    if (!config_.touch_size.is_zero()) {
      possible = std::min(possible, available(order.side));
    }
    if (possible < order.quantity) {
      const auto it = orders_.emplace(order.id, std::move(order)).first;
      cancel(it, it->second.client_order_id, "fill or kill: not enough liquidity at the touch", out);
      return;
    }
  }
  if (marketable) {
    take_liquidity(order, order.quantity, out);
  }
  const Contracts remaining = order.quantity - order.filled;
  if (remaining.is_zero()) {
    return;
  }
  std::string reason;
  if (order.type == OrderType::market) {
    reason = "market order: no more liquidity at the touch";
  } else if (order.time_in_force != TimeInForce::good_till_cancel) {
    reason = "immediate or cancel: remainder cancelled";
  } else if (order.reduce_only && fillable(order, remaining).is_zero()) {
    reason = "reduce-only: the position is closed";
  }
  const auto it = orders_.emplace(order.id, std::move(order)).first;
  if (!reason.empty()) {
    cancel(it, it->second.client_order_id, reason, out);
  }
}

void Engine::cancel_order(std::string_view account, const CancelOrder& request, std::vector<Event>& out) {
  const auto it = find_order(account, request.original_client_order_id, request.order_id);
  if (it == orders_.end()) {
    CancelRejectEvent reject;
    reject.account = std::string(account);
    reject.client_order_id = request.client_order_id;
    reject.original_client_order_id = request.original_client_order_id;
    reject.order_id = request.order_id;
    reject.reason = 1;
    reject.text = "unknown order";
    out.emplace_back(std::move(reject));
    return;
  }
  cancel(it, request.client_order_id, "cancelled on request", out);
}

void Engine::replace_order(std::string_view account, const ReplaceOrder& request, std::vector<Event>& out) {
  const auto it = find_order(account, request.original_client_order_id, request.order_id);
  CancelRejectEvent reject;
  reject.account = std::string(account);
  reject.client_order_id = request.client_order_id;
  reject.original_client_order_id = request.original_client_order_id;
  reject.order_id = request.order_id;
  reject.replace = true;
  if (it == orders_.end()) {
    reject.reason = 1;
    reject.text = "unknown order";
    out.emplace_back(std::move(reject));
    return;
  }
  Order& order = it->second;
  reject.order_id = order.id;
  reject.status = order.filled.is_zero() ? OrderStatus::new_order : OrderStatus::partially_filled;
  Order replaced = order;
  replaced.client_order_id = request.client_order_id;
  replaced.quantity = request.quantity;
  if (request.price.raw != 0) {
    replaced.price = request.price;
  }
  if (request.side != order.side) {
    reject.text = "side does not match the order";
  } else if (request.client_order_id.empty() || (request.client_order_id != order.client_order_id &&
                                                 find_order(account, request.client_order_id, 0) != orders_.end())) {
    reject.text = "ClOrdID is empty or a duplicate of an open order";
  } else if (replaced.quantity <= order.filled || replaced.quantity > config_.max_order_size) {
    reject.text = "quantity must exceed the filled quantity and stay within the maximum order size";
  } else if (!replaced.price.is_valid() || replaced.price.raw % config_.tick_size.raw != 0) {
    reject.text = "price must be a positive multiple of the tick size";
  } else if (replaced.post_only && is_marketable(replaced.side, replaced.price, quote_)) {
    reject.text = "post-only order would take liquidity";
  }
  if (reject.text.empty() && !replaced.reduce_only) {
    const Contracts before = worst_case_exposure(reject.account, order.side, Contracts{});
    const Contracts change = replaced.quantity - order.quantity;
    const Contracts after = worst_case_exposure(reject.account, order.side, change);
    if (change.value > 0 && after > before) {
      const Sats required = terms().margin(after, quote_.mark, config_.initial_margin);
      const Sats equity = equity_of(account_state(account));
      if (required > equity) {
        reject.text = "not enough funds: initial margin " + btc(required) + " exceeds equity " + btc(equity);
      }
    }
  }
  if (!reject.text.empty()) {
    reject.reason = 99;
    out.emplace_back(std::move(reject));
    return;
  }
  const std::string previous_client_order_id = order.client_order_id;
  order = std::move(replaced);
  ExecutionEvent event = report(order, ExecType::replaced);
  event.execution_id = next_execution_id_++;
  event.original_client_order_id = previous_client_order_id;
  emit(std::move(event), out);
  if (is_marketable(order.side, order.price, quote_)) {
    take_liquidity(order, order.quantity - order.filled, out);
  }
  if (order.filled == order.quantity) {
    orders_.erase(it);
  } else if (order.reduce_only && fillable(order, order.quantity - order.filled).is_zero()) {
    cancel(it, order.client_order_id, "reduce-only: the position is closed", out);
  }
}

void Engine::cancel_all(std::string_view account, std::string_view reason, std::vector<Event>& out) {
  for (auto it = orders_.begin(); it != orders_.end();) {
    if (it->second.account != account) {
      ++it;
      continue;
    }
    auto next = std::next(it);
    cancel(it, it->second.client_order_id, reason, out);
    it = next;
  }
}

void Engine::mass_cancel(std::string_view account, const MassCancel& request, std::vector<Event>& out) {
  MassCancelEvent report;
  report.account = std::string(account);
  report.client_order_id = request.client_order_id;
  report.report_id = next_report_id_++;
  report.scope = request.scope;
  if (request.scope == MassCancelScope::symbol && request.symbol != config_.symbol) {
    report.accepted = false;
    report.text = "unknown symbol";
    out.emplace_back(std::move(report));
    return;
  }
  const std::size_t before = orders_.size();
  cancel_all(account, "mass cancel", out);
  report.affected_orders = static_cast<std::int64_t>(before - orders_.size());
  report.text = "success";
  out.emplace_back(std::move(report));
}

} // namespace synthusd::venue

namespace synthusd::venue {

void Engine::emit(ExecutionEvent event, std::vector<Event>& out) {
  // Remember the latest report of every ClOrdID (bounded, oldest forgotten
  // first), so an OrderStatusRequest can be answered for an order that is
  // done, and "unknown" means the venue never saw that id.
  const auto remember = [&](const std::string& id) {
    if (id.empty()) {
      return;
    }
    std::string key = event.account + '\x01' + id;
    const auto [it, inserted] = last_reports_.insert_or_assign(key, event);
    (void)it;
    if (inserted) {
      report_order_.push_back(std::move(key));
      while (report_order_.size() > kRememberedReports) {
        last_reports_.erase(report_order_.front());
        report_order_.pop_front();
      }
    }
  };
  remember(event.client_order_id);
  if (event.original_client_order_id != event.client_order_id) {
    remember(event.original_client_order_id);
  }
  out.emplace_back(std::move(event));
}

void Engine::order_status(std::string_view account, const StatusRequest& request, std::vector<Event>& out) {
  if (request.all_open) {
    for (const auto& [id, order] : orders_) {
      if (order.account == account) {
        ExecutionEvent event = report(order, ExecType::order_status);
        event.execution_id = next_execution_id_++;
        out.emplace_back(std::move(event));
      }
    }
    return;
  }
  const auto it = find_order(account, request.client_order_id, request.order_id);
  ExecutionEvent event;
  if (it != orders_.end()) {
    event = report(it->second, ExecType::order_status);
  } else if (const auto found = last_reports_.find(std::string(account) + '\x01' + request.client_order_id);
             found != last_reports_.end()) {
    event = found->second;
    event.exec_type = ExecType::order_status;
    event.last_quantity = Contracts{};
    event.last_price = Price{};
    event.fee = Sats{};
    event.time = now_;
  } else {
    // FIX 4.4: ExecType I, OrdStatus 8 with OrdRejReason 5 for an order the
    // venue does not know.
    event.account = std::string(account);
    event.client_order_id = request.client_order_id;
    event.symbol = request.symbol;
    event.side = request.side;
    event.exec_type = ExecType::order_status;
    event.status = OrderStatus::rejected;
    event.reject_reason = RejectReason::unknown_order;
    event.text = "unknown order";
    event.time = now_;
  }
  event.execution_id = next_execution_id_++;
  out.emplace_back(std::move(event)); // a status is not itself remembered
}

} // namespace synthusd::venue
