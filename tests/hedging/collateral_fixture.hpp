#pragma once
// The kernel collateral tests' venue: one OKX venue hedging $10,000 (collateral_test.cpp,
// collateral_withdrawal_test.cpp).

#include "kernel_fixture.hpp"

namespace synthusd::hedging::testing {

constexpr VenueId kVenue = 1;
constexpr InstrumentId kSwap = 1;

inline CollateralSnapshot collateral(std::int64_t sats, Timestamp time) {
  return CollateralSnapshot{kVenue, Sats{sats}, time};
}

// Single OKX venue at `dollars`; $10,000 liability; the 98-contract short
// sent and, if `filled`, filled. No collateral snapshot yet.
inline Kernel hedged(std::int64_t dollars, bool filled = true) {
  Kernel kernel(single_venue_config());
  bring_up(kernel, dollars);
  const auto actions = kernel.on(liability(1'000'000));
  EXPECT_TRUE(transfers_in(actions).empty()); // collateral unknown: never a transfer
  const auto orders = orders_in(actions);
  EXPECT_EQ(orders.size(), 1U);
  if (filled && !orders.empty()) {
    (void)fill(kernel, orders[0], dollars, kStart);
  }
  return kernel;
}

inline CollateralSnapshot collateral(std::int64_t sats, std::int64_t withdrawable, Timestamp time) {
  return CollateralSnapshot{kVenue, Sats{sats}, time, Sats{withdrawable}};
}

} // namespace synthusd::hedging::testing
