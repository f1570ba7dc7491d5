#pragma once
// Dated inverse futures served next to the perpetual: each is a book of its
// own (an Engine with its own id range and margin), priced off the same
// index path with a premium that decays linearly to zero at expiry, and
// settled at expiry against the index.
//
// Price model. At time t before the expiry T, the future's mark is
//   index(t) * (1 + annual_basis * (T - t) / year)
// so a short earns annual_basis a year as the premium converges (what the
// engine's carry rule reads back). The book's path stops at T with a point at
// the index price, which is the delivery price.
//
// Margin. A future's account is isolated: it starts with the venue's
// collateral like the perpetual's. At delivery, what the future's account
// gained or lost (realised P&L and fees) moves to the perpetual's account,
// the one CollateralReports describe.

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "synthusd/hedging/price_path.hpp"
#include "synthusd/venue/matching_engine.hpp"
#include "synthusd/venue/venue_config.hpp"

namespace synthusd::venue {

struct DatedFuture {
  std::string name;
  Timestamp expiry{};
  Engine engine;
};

// The future's path: the index path's points before `expiry` with the
// premium applied, then one point at `expiry` at the index price in force.
// Throws std::invalid_argument if the expiry is not after the first point.
[[nodiscard]] std::vector<hedging::PricePoint> future_price_path(std::span<const hedging::PricePoint> index,
                                                                 Timestamp expiry, Ratio annual_basis);

// One book per future: the perpetual's settings with the future's name, no
// funding, and ids from (ordinal + 1) * kBookIdentifierSpan + 1 so that
// OrderIDs and ExecIDs never repeat across books.
[[nodiscard]] std::vector<DatedFuture> make_dated_futures(const EngineConfig& perpetual,
                                                          std::span<const FutureSettings> futures,
                                                          std::span<const hedging::PricePoint> index);

inline constexpr std::uint64_t kBookIdentifierSpan = 1'000'000'000'000;

} // namespace synthusd::venue
