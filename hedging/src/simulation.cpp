#include "synthusd/hedging/simulation.hpp"

#include <algorithm>
#include <stdexcept>

namespace synthusd::hedging {
namespace {

constexpr int128 kSatsCentsScale = static_cast<int128>(kSatsPerBitcoin) * Price::kScale / kCentsPerDollar; // 1e14

// Value in sats of a signed inverse position at price: contracts * cv / P.
int128 inverse_value_sats(const InstrumentSpec& spec, Contracts position, Price price) {
  return divide(static_cast<int128>(position.value) * spec.contract_value.value * kSatsCentsScale, price.raw,
                Rounding::half_even);
}

} // namespace

HedgeSimulation::HedgeSimulation(SimulationConfig config)
    : config_(std::move(config)), kernel_(config_.kernel), random_(config_.seed ^ 0x5eed) {
  InstrumentId max_id = 0;
  for (const InstrumentSpec& spec : kernel_.config().instruments) {
    max_id = std::max(max_id, spec.id);
  }
  positions_.assign(static_cast<std::size_t>(max_id) + 1, Contracts{0});
  specs_.assign(static_cast<std::size_t>(max_id) + 1, nullptr);
  for (const InstrumentSpec& spec : kernel_.config().instruments) {
    specs_[spec.id] = &spec;
  }
  for (const VenueConfig& venue : kernel_.config().venues) {
    Account account;
    account.venue = venue.id;
    accounts_.push_back(account);
  }
}

HedgeSimulation::Account& HedgeSimulation::account_of(VenueId venue) {
  for (Account& account : accounts_) {
    if (account.venue == venue) {
      return account;
    }
  }
  throw std::logic_error("simulation: unknown venue");
}

Sats HedgeSimulation::equity(const Account& account) const {
  int128 value = static_cast<int128>(account.deposited.value) - account.fees.value + account.funding.value +
                 account.linear_settled.value + account.cost_basis;
  for (const InstrumentSpec& spec : kernel_.config().instruments) {
    if (spec.venue == account.venue && is_inverse(spec.kind)) {
      value -= inverse_value_sats(spec, positions_[spec.id], price_);
    }
  }
  return Sats{static_cast<std::int64_t>(value)};
}

void HedgeSimulation::feed(const Event& first) {
  // Events the venue model produces in answer to actions are applied in
  // order, breadth first, exactly like the engine's queues would.
  pending_.clear();
  pending_.push_back(first);
  for (std::size_t next = 0; next < pending_.size(); ++next) {
    const Event event = pending_[next];
    if (observer_) {
      observer_(event);
    }
    const std::span<const Action> actions = kernel_.on(event);
    ++report_.kernel_events;
    stream_hash_.add(actions);
    report_.action_hash = stream_hash_.value();
    for (const Action& action : actions) {
      execute(action);
    }
  }
}

void HedgeSimulation::execute(const Action& action) {
  if (const auto* order = std::get_if<OrderIntent>(&action)) {
    ++report_.orders;
    ++orders_this_step_;
    fill(*order);
  } else if (const auto* transfer = std::get_if<TransferIntent>(&action)) {
    ++report_.transfers;
    Account& account = account_of(transfer->venue);
    if (transfer->direction == TransferDirection::wallet_to_exchange) {
      const Sats amount = std::min(transfer->amount, wallet_);
      wallet_ -= amount;
      account.deposited += amount;
    } else {
      const Sats amount = std::min(transfer->amount, std::max(equity(account), Sats{0}));
      account.deposited -= amount;
      wallet_ += amount;
    }
    pending_.push_back(TransferCompleted{transfer->transfer_id, time_});
    pending_.push_back(CollateralSnapshot{transfer->venue, equity(account), time_});
  } else if (const auto* alert = std::get_if<Alert>(&action)) {
    ++report_.alerts;
    ++report_.alerts_by_code[static_cast<std::size_t>(alert->code) % report_.alerts_by_code.size()];
  }
}

void HedgeSimulation::fill(const OrderIntent& order) {
  const InstrumentSpec& spec = *specs_[order.instrument];
  Account& account = account_of(order.venue);
  const Contracts signed_quantity{order.quantity.value * sign_of(order.side)};
  positions_[order.instrument] += signed_quantity;
  ++report_.fills;
  // Taker fee on the notional, in BTC.
  int128 notional_sats = 0;
  if (is_inverse(spec.kind)) {
    const int128 value = inverse_value_sats(spec, signed_quantity, price_);
    account.cost_basis += value;
    notional_sats = value < 0 ? -value : value;
  } else {
    notional_sats = static_cast<int128>(order.quantity.value) * spec.contract_size.value;
  }
  const Sats fee{static_cast<std::int64_t>(divide(notional_sats * spec.taker_fee.raw, Ratio::kScale, Rounding::up))};
  account.fees += fee;
  fees_cents_ += sats_to_cents(fee, price_, Rounding::half_even);
  pending_.push_back(ExecutionReport{order.client_order_id, OrderStatus::filled, order.quantity, price_, time_});
}

void HedgeSimulation::settle_step(Price previous) {
  const bool funding_due = (time_.nanoseconds / Duration::from_hours(8).nanoseconds) !=
                           ((time_ - config_.path.step).nanoseconds / Duration::from_hours(8).nanoseconds);
  for (const InstrumentSpec& spec : kernel_.config().instruments) {
    Account& account = account_of(spec.venue);
    const Contracts position = positions_[spec.id];
    if (!is_inverse(spec.kind)) {
      // Coin-margined linear: the USD P&L is paid in BTC at the new price.
      const int128 settled =
          divide(static_cast<int128>(position.value) * spec.contract_size.value * (price_.raw - previous.raw),
                 price_.raw, Rounding::half_even);
      account.linear_settled += Sats{static_cast<std::int64_t>(settled)};
    }
    if (funding_due && is_perpetual(spec.kind) && !position.is_zero()) {
      // Longs pay shorts a positive rate on the position's BTC value.
      const int128 value = is_inverse(spec.kind) ? inverse_value_sats(spec, position, price_)
                                                 : static_cast<int128>(position.value) * spec.contract_size.value;
      const Sats paid{
          static_cast<std::int64_t>(divide(-value * config_.funding_rate.raw, Ratio::kScale, Rounding::half_even))};
      account.funding += paid;
      funding_cents_ += sats_to_cents(paid, price_, Rounding::half_even);
    }
  }
}

void HedgeSimulation::liquidate_if_needed() {
  for (Account& account : accounts_) {
    int128 margin = 0;
    bool has_position = false;
    for (const InstrumentSpec& spec : kernel_.config().instruments) {
      if (spec.venue != account.venue || positions_[spec.id].is_zero()) {
        continue;
      }
      has_position = true;
      const int128 value = is_inverse(spec.kind)
                               ? inverse_value_sats(spec, positions_[spec.id], price_)
                               : static_cast<int128>(positions_[spec.id].value) * spec.contract_size.value;
      margin += divide((value < 0 ? -value : value) * spec.maintenance_margin.raw, Ratio::kScale, Rounding::up);
    }
    if (has_position && equity(account).value < margin) {
      // The venue closes everything at mark; the hedge is gone.
      ++report_.liquidations;
      for (const InstrumentSpec& spec : kernel_.config().instruments) {
        if (spec.venue == account.venue && !positions_[spec.id].is_zero()) {
          const Sats left = equity(account);
          positions_[spec.id] = Contracts{0};
          account.cost_basis = 0;
          account.deposited = left;
          account.fees = account.funding = account.linear_settled = Sats{0};
          feed(PositionSnapshot{spec.venue, spec.id, Contracts{0}, time_});
        }
      }
    }
  }
}

StepRecord HedgeSimulation::record(UsdCents flow, bool rebalanced) const {
  StepRecord step;
  step.time = time_;
  step.price = price_;
  step.liability = kernel_.liability();
  step.hedge_exposure = kernel_.liability_hedge_exposure();
  Sats total = wallet_;
  Ratio worst{0};
  for (const Account& account : accounts_) {
    const Sats venue_equity = equity(account);
    total += venue_equity;
    const VenueState* venue = kernel_.venue(account.venue);
    const UsdCents collateral = sats_to_cents(venue_equity, price_, Rounding::down);
    if (venue != nullptr && collateral.value > 0) {
      int128 gross = 0;
      for (const SlotState& slot : kernel_.slots()) {
        if (slot.spec.venue == account.venue) {
          const int128 e = scaled_exposure_cents(slot.spec, slot.position, price_);
          gross += e < 0 ? -e : e;
        }
      }
      const Ratio leverage{static_cast<std::int64_t>(divide(gross, collateral.value, Rounding::half_even))};
      worst = std::max(worst, leverage);
    }
  }
  step.portfolio_value = sats_to_cents(total, price_, Rounding::half_even);
  step.fees_paid = fees_cents_;
  step.funding_received = funding_cents_;
  step.liability_flow = flow;
  step.leverage = worst;
  step.rebalanced = rebalanced;
  return step;
}

SimulationReport HedgeSimulation::run() {
  const std::vector<PricePoint> path = generate_price_path(config_.path);
  price_ = path.front().price;
  time_ = path.front().time;
  for (const VenueConfig& venue : kernel_.config().venues) {
    feed(VenueStatus{venue.id, true, time_});
    feed(CollateralSnapshot{venue.id, Sats{0}, time_});
  }
  Price previous = price_;
  for (std::size_t step = 0; step < path.size(); ++step) {
    orders_this_step_ = 0;
    price_ = path[step].price;
    time_ = path[step].time;
    settle_step(previous);
    previous = price_;
    for (const InstrumentSpec& spec : kernel_.config().instruments) {
      MarketUpdate update;
      update.venue = spec.venue;
      update.instrument = spec.id;
      update.mark = update.index = price_;
      update.bid = Price{price_.raw - spec.tick_size.raw};
      update.ask = Price{price_.raw + spec.tick_size.raw};
      update.funding_rate = is_perpetual(spec.kind) ? config_.funding_rate : Ratio{0};
      update.time = time_;
      feed(update);
    }
    liquidate_if_needed();
    UsdCents flow{0};
    const std::uint32_t events =
        step == 0 ? 1 : static_cast<std::uint32_t>(random_.next() % (config_.max_liability_events_per_step + 1));
    for (std::uint32_t i = 0; i < events; ++i) {
      UsdCents delta = config_.initial_liability;
      if (step != 0) {
        delta = UsdCents{
            static_cast<std::int64_t>(random_.next() % static_cast<std::uint64_t>(config_.max_liability_event.value)) +
            1};
        // users spend slightly less often than they receive, never below zero
        if (random_.uniform() < 0.45 && kernel_.liability() > delta) {
          delta = -delta;
        }
      }
      // A credit brings the user's sats in; a debit pays sats out, both at this price.
      wallet_ += delta.value > 0 ? cents_to_sats(delta, price_, Rounding::up)
                                 : -cents_to_sats(delta.abs(), price_, Rounding::down);
      flow += delta;
      ++report_.liability_events;
      feed(LiabilityChange{report_.liability_events, delta, Sats{}, price_, time_});
    }
    for (const Account& account : accounts_) {
      feed(CollateralSnapshot{account.venue, equity(account), time_});
    }
    const StepRecord step_record = record(flow, orders_this_step_ > 0);
    const UsdCents deviation =
        (step_record.portfolio_value + step_record.fees_paid - step_record.funding_received - step_record.liability)
            .abs();
    report_.largest_deviation = std::max(report_.largest_deviation, deviation);
    report_.steps.push_back(step_record);
  }
  return report_;
}

} // namespace synthusd::hedging
