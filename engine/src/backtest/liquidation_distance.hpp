#pragma once
// How far the price can rise before the venue model liquidates a short
// (venue::Engine: equity below the maintenance margin at the mark).

#include "synthusd/hedging/instrument.hpp"
#include "synthusd/venue/matching_engine.hpp"

namespace synthusd::engine {

// A short of n contracts of value v, entered at E, with balance B, is
// liquidated when B + n*v*(1/P - 1/E) < L*n*v/P, i.e. at
// P = (1 - L) * n*v / (n*v/E - B). Returns (P - mark) / mark, capped at 100
// (10,000 %) and 100 when B covers the whole short (no such price). For a
// long or flat account it returns 100 too: the kernel's liability hedge is
// short.
[[nodiscard]] hedging::Ratio short_liquidation_distance(const venue::AccountState& account,
                                                        const hedging::InstrumentSpec& spec, hedging::Price mark);

} // namespace synthusd::engine
