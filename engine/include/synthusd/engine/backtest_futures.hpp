#pragma once
// Dated futures for `synthusd backtest --hedge-on futures|carry`: the
// weekly BTC futures Deribit lists (instrument_expiry.hpp: every Friday at
// 08:00 UTC) over the price path, added to each venue that trades an inverse
// perpetual, with that perpetual's contract terms. The venue model prices
// them off the index with a constant annualised premium that decays to zero
// at expiry (venue::future_price_path), since ../shared/data has no futures
// prices. Cold path (command line).

#include <string_view>

#include "synthusd/hedging/config.hpp"

namespace synthusd::engine {

enum class HedgeInstruments {
  perpetual, // the configuration's instruments as they are
  futures,   // each inverse perpetual replaced by the weeklies: the kernel rolls from one to the next
  carry,     // the perpetual and the weeklies side by side: the kernel picks by carry, as it does live
};

// "perpetual", "futures" or "carry"; throws std::invalid_argument naming
// the option otherwise.
[[nodiscard]] HedgeInstruments parse_hedge_instruments(std::string_view text);
[[nodiscard]] std::string_view to_string(HedgeInstruments instruments) noexcept;

// Adds, per venue with an inverse perpetual, inverse futures for the
// Friday settlements after `start`: as many as whole weeks from `start` to
// `end`, plus three (those that settle after the end: the kernel leaves a
// future roll_before_expiry early and prefers one that repays the switch),
// with new ids after the highest configured one. `futures` removes the perpetuals they
// replace. A venue without an inverse perpetual is left alone; if no venue
// has one, throws std::invalid_argument. The result is validated.
void add_weekly_futures(hedging::KernelConfig& config, hedging::Timestamp start, hedging::Timestamp end,
                        HedgeInstruments instruments);

} // namespace synthusd::engine
