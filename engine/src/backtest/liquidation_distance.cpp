#include "liquidation_distance.hpp"

#include <algorithm>

#include "synthusd/venue/inverse.hpp"

namespace synthusd::engine {

using hedging::int128;
using hedging::Ratio;
using hedging::Rounding;

Ratio short_liquidation_distance(const venue::AccountState& account, const hedging::InstrumentSpec& spec,
                                 hedging::Price mark) {
  const Ratio none{100 * Ratio::kScale};
  if (account.position.value >= 0 || !mark.is_valid() || !account.entry_price.is_valid()) {
    return none;
  }
  const hedging::Contracts contracts = account.position.abs();
  const hedging::Sats at_entry =
      venue::contract_value_sats(contracts, spec.contract_value, account.entry_price, Rounding::down);
  const int128 denominator = static_cast<int128>(at_entry.value) - account.balance.value;
  if (denominator <= 0) {
    return none;
  }
  const int128 notional = venue::notional_cents(contracts, spec.contract_value);
  const int128 numerator =
      notional * venue::kSatsCentsScale * (Ratio::kScale - spec.maintenance_margin.raw) / Ratio::kScale;
  const int128 liquidation_raw = hedging::divide(numerator, denominator, Rounding::down);
  const int128 distance = hedging::divide((liquidation_raw - mark.raw) * Ratio::kScale, mark.raw, Rounding::down);
  return Ratio{static_cast<std::int64_t>(std::min<int128>(distance, none.raw))};
}

} // namespace synthusd::engine
