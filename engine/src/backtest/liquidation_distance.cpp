#include "liquidation_distance.hpp"

#include <algorithm>

namespace synthusd::engine {

using hedging::int128;
using hedging::Ratio;
using hedging::Rounding;

Ratio short_liquidation_distance(const venue::AccountState& account, const venue::ContractTerms& terms,
                                 Ratio maintenance_margin, hedging::Price mark) {
  const Ratio none{100 * Ratio::kScale};
  if (account.position.value >= 0 || !mark.is_valid() || !account.entry_price.is_valid()) {
    return none;
  }
  const hedging::Contracts contracts = account.position.abs();
  int128 numerator = 0;
  int128 denominator = 0;
  if (terms.kind == venue::ContractKind::inverse) {
    const hedging::Sats at_entry = terms.value_sats(contracts, account.entry_price, Rounding::down);
    denominator = static_cast<int128>(at_entry.value) - account.balance.value;
    numerator = venue::notional_cents(contracts, terms.value) * venue::kSatsCentsScale *
                (Ratio::kScale - maintenance_margin.raw) / Ratio::kScale;
  } else {
    const int128 size = venue::linear_size_sats(contracts, terms.size);
    denominator = size * (Ratio::kScale + maintenance_margin.raw) / Ratio::kScale - account.balance.value;
    numerator = size * account.entry_price.raw;
  }
  if (denominator <= 0) {
    return none;
  }
  const int128 liquidation_raw = hedging::divide(numerator, denominator, Rounding::down);
  const int128 distance = hedging::divide((liquidation_raw - mark.raw) * Ratio::kScale, mark.raw, Rounding::down);
  return Ratio{static_cast<std::int64_t>(std::min<int128>(distance, none.raw))};
}

} // namespace synthusd::engine
