#pragma once
// How far the price can rise before the venue model liquidates a short
// (venue::Engine: equity below the maintenance margin L at the mark).

#include "synthusd/hedging/types.hpp"
#include "synthusd/venue/contract_terms.hpp"
#include "synthusd/venue/matching_engine.hpp"

namespace synthusd::engine {

// A short entered at E with balance B is liquidated at the price P where its
// equity falls to L times its value:
//   inverse, n contracts of v USD: B + n*v*(1/P - 1/E) < L*n*v/P, so
//     P = (1 - L) * n*v / (n*v/E - B);
//   linear, n contracts of s BTC: B - n*s*(P - E)/P < L*n*s, so
//     P = n*s*E / ((1 + L)*n*s - B). The venue marks a linear position to
//     market at every point (B moves, E becomes the mark), and a rise in
//     steps loses sum n*s*dP/P_k >= n*s*(P - E)/P: the price of one jump,
//     so a gradual rise is liquidated a little earlier than this says.
// Returns (P - mark) / mark, capped at 100 (10,000 %), and 100 when B covers
// the whole short (no such price). For a long or flat account it returns
// 100 too: the kernel's liability hedge is short.
[[nodiscard]] hedging::Ratio short_liquidation_distance(const venue::AccountState& account,
                                                        const venue::ContractTerms& terms,
                                                        hedging::Ratio maintenance_margin, hedging::Price mark);

} // namespace synthusd::engine
