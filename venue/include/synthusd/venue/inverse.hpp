#pragma once
// Inverse-contract arithmetic for the venue simulator, in satoshis, exact.
//
// An inverse contract is worth a fixed number of US dollars (Deribit's
// BTC-PERPETUAL: $10) and is margined and settled in BTC, so its BTC value
// is value / price and the P&L of a position of n contracts from entry price
// E to exit price X is n * value * (1/E - 1/X) BTC.
//
// Rounding rule, everywhere: in the venue's favour. Amounts credited to an
// account round down, amounts debited round up, and requirements (margins)
// round up. A reader can therefore predict every satoshi.
//
// Range: |contracts| * value must stay below 10^13 cents ($10^11), and
// prices below 10^15 raw ($10^7 per BTC); the venue caps order sizes far
// below that. Intermediate products are int128.

#include "synthusd/hedging/types.hpp"

namespace synthusd::venue {

using hedging::Contracts;
using hedging::int128;
using hedging::Price;
using hedging::Ratio;
using hedging::Rounding;
using hedging::Sats;
using hedging::UsdCents;

// sats per (cent / raw price unit): BTC = USD / price, so
// sats = cents / 100 * 1e8 / (raw / 1e8) = cents * 1e14 / raw.
inline constexpr int128 kSatsCentsScale = 100'000'000'000'000;

// Signed cents of n contracts.
[[nodiscard]] constexpr int128 notional_cents(Contracts contracts, UsdCents contract_value) noexcept {
  return static_cast<int128>(contracts.value) * contract_value.value;
}

// BTC value of n contracts at a price, in sats, with the given rounding.
// Precondition: price.is_valid().
[[nodiscard]] constexpr Sats contract_value_sats(Contracts contracts, UsdCents contract_value, Price price,
                                                 Rounding rounding) noexcept {
  return Sats{static_cast<std::int64_t>(
      hedging::divide(notional_cents(contracts, contract_value) * kSatsCentsScale, price.raw, rounding))};
}

// P&L of `contracts` (signed: positive = long) opened at `entry` and closed
// at `exit`: contracts * value * (1/entry - 1/exit) BTC, rounded down (a
// gain is credited without its fraction of a sat; a loss is debited with
// it). Preconditions: both prices valid.
[[nodiscard]] constexpr Sats inverse_pnl(Contracts contracts, UsdCents contract_value, Price entry,
                                         Price exit) noexcept {
  // value * (exit - entry) / (entry * exit), as one fraction so that it is
  // rounded once. At the edge of the documented range the numerator can
  // overflow int128; then the two terms are rounded separately (each in the
  // venue's favour), which can cost the account one more sat.
  const int128 notional = notional_cents(contracts, contract_value) * kSatsCentsScale;
  const int128 difference = static_cast<int128>(exit.raw) - entry.raw;
  int128 numerator = 0;
  if (!__builtin_mul_overflow(notional, difference, &numerator)) {
    return Sats{static_cast<std::int64_t>(
        hedging::divide(numerator, static_cast<int128>(entry.raw) * exit.raw, Rounding::down))};
  }
  const int128 at_entry = hedging::divide(notional, entry.raw, Rounding::down);
  const int128 at_exit = hedging::divide(notional, exit.raw, Rounding::up);
  return Sats{static_cast<std::int64_t>(at_entry - at_exit)};
}

// Fee on a fill of |contracts| at price: |notional in BTC| * rate, rounded
// up (a rebate, with a negative rate, is therefore rounded toward zero).
[[nodiscard]] constexpr Sats trading_fee(Contracts contracts, UsdCents contract_value, Price price,
                                         Ratio rate) noexcept {
  const int128 numerator = notional_cents(contracts.abs(), contract_value) * kSatsCentsScale * rate.raw;
  return Sats{static_cast<std::int64_t>(
      hedging::divide(numerator, static_cast<int128>(price.raw) * Ratio::kScale, Rounding::up))};
}

// Funding paid by a position (negative: received) at mark with an 8-hour
// rate: position value in BTC * rate. Longs pay a positive rate. Rounded up,
// so a payer pays the fraction of a sat and a receiver does not get it.
[[nodiscard]] constexpr Sats funding_payment(Contracts position, UsdCents contract_value, Price mark,
                                             Ratio rate) noexcept {
  const int128 numerator = notional_cents(position, contract_value) * kSatsCentsScale * rate.raw;
  return Sats{static_cast<std::int64_t>(
      hedging::divide(numerator, static_cast<int128>(mark.raw) * Ratio::kScale, Rounding::up))};
}

// A margin requirement: |position value in BTC| * ratio, rounded up.
[[nodiscard]] constexpr Sats margin_requirement(Contracts position, UsdCents contract_value, Price mark,
                                                Ratio ratio) noexcept {
  const int128 numerator = notional_cents(position.abs(), contract_value) * kSatsCentsScale * ratio.raw;
  return Sats{static_cast<std::int64_t>(
      hedging::divide(numerator, static_cast<int128>(mark.raw) * Ratio::kScale, Rounding::up))};
}

// The average entry price after adding `added` contracts at `price` to
// `held` contracts at `entry` (same sign): the harmonic mean weighted by
// contracts, (held + added) / (held / entry + added / price), which keeps
// the position's BTC cost basis. Rounded half to even to the price scale.
// Preconditions: held and added have the same sign, held + added != 0.
[[nodiscard]] constexpr Price average_entry_price(Contracts held, Price entry, Contracts added, Price price) noexcept {
  if (held.is_zero()) {
    return price;
  }
  const int128 held_abs = held.abs().value;
  const int128 added_abs = added.abs().value;
  const int128 numerator = (held_abs + added_abs) * entry.raw * price.raw;
  const int128 denominator = held_abs * price.raw + added_abs * entry.raw;
  return Price{static_cast<std::int64_t>(hedging::divide(numerator, denominator, Rounding::half_even))};
}

} // namespace synthusd::venue
