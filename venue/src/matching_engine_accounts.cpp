// Engine: accounts, fees, funding, margin and liquidation, and the position and
// collateral reports (the order book, matching and commands are in engine.cpp).

#include "synthusd/venue/matching_engine.hpp"

#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

namespace synthusd::venue {

// ---- funding -----------------------------------------------------------------

void Engine::apply_funding(Timestamp time, std::vector<Event>& out) {
  const Ratio rate = funding_.rate_charged_at(time);
  for (auto& [name, account] : accounts_) {
    if (account.position.is_zero()) {
      continue;
    }
    const Sats payment = terms().funding(account.position, quote_.mark, rate);
    account.balance -= payment;
    account.funding_paid += payment;
    position_update(name, out);
  }
}

// ---- accounts and margin -----------------------------------------------------

AccountState& Engine::account_state(std::string_view name) {
  auto it = accounts_.find(name);
  if (it == accounts_.end()) {
    AccountState fresh;
    fresh.balance = config_.initial_collateral;
    it = accounts_.emplace(std::string(name), fresh).first;
  }
  return it->second;
}

const AccountState& Engine::account(std::string_view name) { return account_state(name); }

Sats Engine::equity(std::string_view name) { return equity_of(account_state(name)); }

Sats Engine::unrealised_pnl(const AccountState& account) const noexcept {
  if (account.position.is_zero()) {
    return Sats{};
  }
  return terms().pnl(account.position, account.entry_price, quote_.mark);
}

Sats Engine::equity_of(const AccountState& account) const noexcept { return account.balance + unrealised_pnl(account); }

void Engine::deposit(std::string_view name, Sats amount, std::vector<Event>& out) {
  if (amount.value <= 0) {
    return;
  }
  account_state(name).balance += amount;
  check_margins(out);
}

Sats Engine::withdraw(std::string_view name, Sats amount, std::vector<Event>& out) {
  AccountState& state = account_state(name);
  const std::string account(name);
  const Contracts total = worst_case_exposure(account, Side::buy, Contracts{});
  const Sats required = terms().margin(total, quote_.mark, config_.initial_margin);
  const Sats free = std::min(equity_of(state) - required, state.balance);
  const Sats taken = std::max(Sats{}, std::min(amount, free));
  state.balance -= taken;
  check_margins(out);
  return taken;
}

Contracts Engine::worst_case_exposure(const std::string& account, Side extra_side, Contracts extra) const {
  const auto found = accounts_.find(account);
  const Contracts position = found == accounts_.end() ? Contracts{} : found->second.position;
  Contracts buys = extra_side == Side::buy ? extra : Contracts{};
  Contracts sells = extra_side == Side::sell ? extra : Contracts{};
  for (const auto& [id, order] : orders_) {
    if (order.account != account || order.reduce_only) {
      continue;
    }
    (order.side == Side::buy ? buys : sells) += order.quantity - order.filled;
  }
  return std::max((position + buys).abs(), (position - sells).abs());
}

void Engine::check_margins(std::vector<Event>& out) {
  std::vector<std::string> names;
  names.reserve(accounts_.size());
  for (const auto& [name, account] : accounts_) {
    names.push_back(name);
  }
  for (const std::string& name : names) {
    const AccountState& account = accounts_.find(name)->second;
    const Sats equity = equity_of(account);
    if (!account.position.is_zero() &&
        equity < terms().margin(account.position, quote_.mark, config_.liquidation_margin)) {
      liquidate(name, out);
      continue;
    }
    const Contracts total = worst_case_exposure(name, Side::buy, Contracts{});
    if (total != account.position.abs() && terms().margin(total, quote_.mark, config_.liquidation_margin) > equity) {
      cancel_for_margin(name, out);
    }
  }
}

void Engine::liquidate(const std::string& account, std::vector<Event>& out) {
  cancel_all(account, "liquidation", out);
  AccountState& state = account_state(account);
  Order order;
  order.id = next_order_id_++;
  order.account = account;
  order.client_order_id = "liquidation-" + std::to_string(order.id);
  order.symbol = config_.symbol;
  order.side = state.position.value > 0 ? Side::sell : Side::buy;
  order.type = OrderType::market;
  order.time_in_force = TimeInForce::immediate_or_cancel;
  order.quantity = state.position.abs();
  ++state.liquidations;
  const std::size_t first = out.size();
  fill(order, order.quantity, quote_.mark, false, out);
  // A price that gapped past the bankruptcy price leaves the balance below
  // zero: the venue's insurance fund absorbs that, never the next deposit.
  std::string text = "liquidation: equity below the liquidation margin";
  if (state.balance.value < 0) {
    state.insurance_fund_loss -= state.balance;
    text += "; the insurance fund absorbed " + std::to_string(-state.balance.value) + " sats";
    state.balance = Sats{};
  }
  for (std::size_t i = first; i < out.size(); ++i) {
    if (auto* execution = std::get_if<ExecutionEvent>(&out[i])) {
      execution->text = text;
    }
  }
}

void Engine::cancel_for_margin(const std::string& account, std::vector<Event>& out) {
  // Newest first, until position and remaining orders fit at I (seed 004).
  for (auto it = orders_.end(); it != orders_.begin();) {
    --it;
    if (it->second.account != account) {
      continue;
    }
    const Sats equity = equity_of(account_state(account));
    const Contracts total = worst_case_exposure(account, Side::buy, Contracts{});
    if (terms().margin(total, quote_.mark, config_.initial_margin) <= equity) {
      return;
    }
    auto next = std::next(it);
    cancel(it, it->second.client_order_id, "margin: open orders exceed the collateral", out);
    it = next;
  }
}

// ---- fills on accounts --------------------------------------------------------

void Engine::apply_fill_to_account(AccountState& account, Side side, Contracts quantity, Price price, bool maker) {
  const Contracts signed_quantity{hedging::sign_of(side) * quantity.value};
  const Contracts held = account.position;
  if (held.is_zero() || (held.value > 0) == (signed_quantity.value > 0)) {
    account.entry_price = terms().average_entry(held, account.entry_price, signed_quantity, price);
    account.position = held + signed_quantity;
  } else {
    const std::int64_t closed = std::min(quantity.value, held.abs().value);
    const Contracts closed_signed{held.value > 0 ? closed : -closed};
    const Sats pnl = terms().pnl(closed_signed, account.entry_price, price);
    account.balance += pnl;
    account.realised_pnl += pnl;
    account.position = held + signed_quantity;
    if (account.position.is_zero()) {
      account.entry_price = Price{};
    } else if ((account.position.value > 0) != (held.value > 0)) {
      account.entry_price = price; // flipped: the remainder opened here
    }
  }
  const Sats fee = terms().fee(quantity, price, maker ? config_.maker_fee : config_.taker_fee);
  account.balance -= fee;
  account.fees_paid += fee;
}

// Linear positions are marked to market at every price point: what they
// gained or lost since their entry is paid into the balance in BTC at the
// new mark, which becomes their entry (contract_terms.hpp).
void Engine::settle_linear_pnl(std::vector<Event>& out) {
  for (auto& [name, account] : accounts_) {
    if (account.position.is_zero() || account.entry_price == quote_.mark) {
      continue;
    }
    const Sats pnl = terms().pnl(account.position, account.entry_price, quote_.mark);
    account.balance += pnl;
    account.realised_pnl += pnl;
    account.entry_price = quote_.mark;
    position_update(name, out);
  }
}

// ---- delivery ------------------------------------------------------------------

void Engine::settle(Price delivery, std::vector<Event>& out) {
  if (settled_) {
    return;
  }
  settled_ = true;
  while (!orders_.empty()) {
    const auto oldest = orders_.begin();
    cancel(oldest, oldest->second.client_order_id, "instrument expired", out);
  }
  for (auto& [name, account] : accounts_) {
    if (account.position.is_zero()) {
      continue;
    }
    // Delivery closes at the delivery price like a fill, without a fee.
    const Sats pnl = terms().pnl(account.position, account.entry_price, delivery);
    account.balance += pnl;
    account.realised_pnl += pnl;
    account.position = Contracts{};
    account.entry_price = Price{};
    position_update(name, out);
  }
}

// ---- reports -----------------------------------------------------------------

void Engine::position_update(const std::string& account, std::vector<Event>& out) {
  const AccountState& state = account_state(account);
  if (!state.position_subscription) {
    return;
  }
  PositionEvent event;
  event.account = account;
  event.request_id = state.position_request_id;
  event.report_id = next_report_id_++;
  event.unsolicited = true;
  event.symbol = config_.symbol;
  event.position = state.position;
  event.entry_price = state.entry_price;
  event.mark_price = quote_.mark;
  event.contract_value = config_.contract_value;
  event.time = now_;
  out.emplace_back(std::move(event));
}

void Engine::request_positions(std::string_view account, const PositionRequest& request, std::vector<Event>& out) {
  AccountState& state = account_state(account);
  PositionEvent event;
  event.account = std::string(account);
  event.request_id = request.request_id;
  event.report_id = next_report_id_++;
  event.symbol = config_.symbol;
  event.contract_value = config_.contract_value;
  event.mark_price = quote_.mark;
  event.time = now_;
  if (request.request_type != 0 || (request.subscription < '0' || request.subscription > '2')) {
    event.valid_request = false;
    event.text = "unsupported PosReqType or SubscriptionRequestType";
    out.emplace_back(std::move(event));
    return;
  }
  state.position_subscription = request.subscription == '1';
  state.position_request_id = request.request_id;
  event.position = state.position;
  event.entry_price = state.entry_price;
  out.emplace_back(std::move(event));
}

void Engine::inquire_collateral(std::string_view account, const CollateralInquiry& inquiry, std::vector<Event>& out) {
  const AccountState& state = account_state(account);
  CollateralEvent event;
  event.account = std::string(account);
  event.inquiry_id = inquiry.inquiry_id;
  event.user_request = inquiry.user_request;
  event.report_id = next_report_id_++;
  event.balance = state.balance;
  event.unrealised_pnl = unrealised_pnl(state);
  event.equity = equity_of(state);
  const Contracts total = worst_case_exposure(event.account, Side::buy, Contracts{});
  event.initial_margin = terms().margin(total, quote_.mark, config_.initial_margin);
  event.maintenance_margin = terms().margin(state.position, quote_.mark, config_.liquidation_margin);
  event.available = event.equity - event.initial_margin;
  event.time = now_;
  out.emplace_back(std::move(event));
}

} // namespace synthusd::venue
