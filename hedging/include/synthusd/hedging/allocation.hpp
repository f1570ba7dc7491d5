#pragma once
// Splitting the hedge across venues: by weight, capped per venue
// (counterparty limit), with capped-off excess going to the venues with the
// better carry first. Deterministic: same inputs, same split.

#include <span>

#include "synthusd/hedging/types.hpp"

namespace synthusd::hedging {

struct VenueShareInput {
  VenueId venue = kNoVenue;
  bool available = false; // up and with an instrument to hedge on
  std::uint32_t weight = 0;
  UsdCents cap{};
  Ratio carry{}; // of the instrument the venue would hedge on
};

// Writes each venue's allocation (0 for unavailable ones) into `out`
// (same length as `venues`) and returns what no venue could take.
UsdCents split_hedge(UsdCents total, std::span<const VenueShareInput> venues, std::span<UsdCents> out) noexcept;

} // namespace synthusd::hedging
