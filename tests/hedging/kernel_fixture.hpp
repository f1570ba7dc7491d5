#pragma once
// Shared helpers for kernel tests: a kernel with venues up, prices and
// collateral known, and small accessors for what it emitted.

#include <gtest/gtest.h>

#include <vector>

#include "synthusd/hedging/kernel.hpp"

namespace synthusd::hedging::testing {

inline constexpr Timestamp kStart{1'700'000'000LL * 1'000'000'000};

inline Timestamp at_seconds(std::int64_t seconds) { return kStart + Duration::from_seconds(seconds); }

// One venue (id 1), OKX's $100 inverse perpetual (instrument 1).
inline KernelConfig single_venue_config() {
  KernelConfig config;
  config.venues = {{1, "okx", 1, UsdCents{INT64_MAX / 4}}};
  InstrumentSpec swap;
  swap.id = 1;
  swap.venue = 1;
  swap.symbol = "BTC-USD-SWAP";
  swap.contract_value = UsdCents{10'000};
  config.instruments = {swap};
  return config;
}

inline MarketUpdate market(VenueId venue, InstrumentId instrument, std::int64_t dollars, Timestamp time,
                           Ratio funding = Ratio::from_ppm(100), Price index = Price{}) {
  MarketUpdate update;
  update.venue = venue;
  update.instrument = instrument;
  update.mark = Price::from_dollars(dollars);
  update.index = index.is_valid() ? index : update.mark;
  update.bid = Price::from_dollars(dollars - 1);
  update.ask = Price::from_dollars(dollars + 1);
  update.funding_rate = funding;
  update.time = time;
  return update;
}

inline LiabilityChange liability(std::int64_t cents, Timestamp time = kStart, std::uint64_t id = 0) {
  return LiabilityChange{id, UsdCents{cents}, Sats{}, Price{}, time};
}

inline std::vector<OrderIntent> orders_in(std::span<const Action> actions) {
  std::vector<OrderIntent> orders;
  for (const Action& action : actions) {
    if (const auto* order = std::get_if<OrderIntent>(&action)) {
      orders.push_back(*order);
    }
  }
  return orders;
}

inline std::vector<TransferIntent> transfers_in(std::span<const Action> actions) {
  std::vector<TransferIntent> transfers;
  for (const Action& action : actions) {
    if (const auto* transfer = std::get_if<TransferIntent>(&action)) {
      transfers.push_back(*transfer);
    }
  }
  return transfers;
}

inline std::vector<Alert> alerts_in(std::span<const Action> actions, AlertCode code) {
  std::vector<Alert> alerts;
  for (const Action& action : actions) {
    if (const auto* alert = std::get_if<Alert>(&action); alert != nullptr && alert->code == code) {
      alerts.push_back(*alert);
    }
  }
  return alerts;
}

inline std::int64_t signed_quantity(const OrderIntent& order) { return order.quantity.value * sign_of(order.side); }

// Brings every configured venue up with a price for every instrument.
inline void bring_up(Kernel& kernel, std::int64_t dollars = 50'000, Timestamp time = kStart) {
  for (const VenueConfig& venue : kernel.config().venues) {
    (void)kernel.on(VenueStatus{venue.id, true, time});
  }
  for (const InstrumentSpec& spec : kernel.config().instruments) {
    (void)kernel.on(market(spec.venue, spec.id, dollars, time));
  }
}

// Fills an order completely at the given price.
inline std::span<const Action> fill(Kernel& kernel, const OrderIntent& order, std::int64_t dollars, Timestamp time) {
  return kernel.on(
      ExecutionReport{order.client_order_id, OrderStatus::filled, order.quantity, Price::from_dollars(dollars), time});
}

} // namespace synthusd::hedging::testing
