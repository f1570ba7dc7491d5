#pragma once
// What a contract is worth, by kind: the one place the venue model's account
// arithmetic (P&L, fees, funding, margin, entry price) depends on whether a
// contract is inverse or linear. Both kinds are margined and settled in BTC.
//
// Inverse (inverse.hpp): a contract is worth a fixed number of US dollars
// (Deribit's BTC-PERPETUAL: $10); its BTC value is value / price.
//
// Linear, coin-margined: a contract is a fixed amount of BTC (`size` sats);
// its USD value is size * price and moves with the price. Its P&L is earned
// in US dollars, size * (exit - entry), and paid in BTC at the exit price:
//   n * size * (exit - entry) / exit sats.
// The engine settles an open linear position's P&L into the BTC balance at
// every new price (mark to market; the entry becomes the mark). This is the
// contract the kernel sizes as linear_perpetual (contracts * size * mark).
// The backing ledger values a linear fill as a USD-settled contract,
// q * size * (index - fill) / index, which differs from this one's sum over
// marks once the price has moved in between. The BTC a short earns as the
// price falls is itself exposed to the price, so a short that covers a USD
// liability L holds the right amount only while contracts * size = L /
// price: the hedge must be re-sized as the price moves (an inverse short
// needs no such re-hedge).
//
// Rounding rule, as in inverse.hpp: in the venue's favour. Credits round
// down, debits and requirements round up.
// Range: |contracts| * size below 10^17 sats and prices below 10^15 raw
// keep every product below 2^127.

#include <cstdint>

#include "synthusd/hedging/types.hpp"
#include "synthusd/venue/inverse.hpp"

namespace synthusd::venue {

enum class ContractKind : std::uint8_t { inverse, linear };

// ---- linear arithmetic ------------------------------------------------------

// BTC of n contracts, exact (signed).
[[nodiscard]] constexpr int128 linear_size_sats(Contracts contracts, Sats size) noexcept {
  return static_cast<int128>(contracts.value) * size.value;
}

// P&L of `contracts` (signed: positive = long) from entry to exit, paid in
// BTC at exit: contracts * size * (exit - entry) / exit, rounded down.
[[nodiscard]] constexpr Sats linear_pnl(Contracts contracts, Sats size, Price entry, Price exit) noexcept {
  const int128 difference = static_cast<int128>(exit.raw) - entry.raw;
  return Sats{static_cast<std::int64_t>(
      hedging::divide(linear_size_sats(contracts, size) * difference, exit.raw, Rounding::down))};
}

// |contracts| * size * ratio, rounded up: a fee (ratio = the fee rate), a
// funding payment (signed contracts: longs pay a positive rate) or a margin
// requirement. The USD amount is size * price * ratio; paid in BTC at the
// same price, the price cancels.
[[nodiscard]] constexpr Sats linear_share(Contracts contracts, Sats size, Ratio ratio) noexcept {
  return Sats{static_cast<std::int64_t>(
      hedging::divide(linear_size_sats(contracts, size) * ratio.raw, Ratio::kScale, Rounding::up))};
}

// The average entry price after adding `added` at `price` to `held` at
// `entry` (same sign): the mean weighted by contracts, half to even.
[[nodiscard]] constexpr Price linear_average_entry_price(Contracts held, Price entry, Contracts added,
                                                         Price price) noexcept {
  if (held.is_zero()) {
    return price;
  }
  const int128 held_abs = held.abs().value;
  const int128 added_abs = added.abs().value;
  return Price{static_cast<std::int64_t>(
      hedging::divide(held_abs * entry.raw + added_abs * price.raw, held_abs + added_abs, Rounding::half_even))};
}

// ---- terms ------------------------------------------------------------------

struct ContractTerms {
  ContractKind kind = ContractKind::inverse;
  UsdCents value{1'000}; // inverse: USD per contract
  Sats size{0};          // linear: BTC per contract, in sats

  [[nodiscard]] constexpr bool is_valid() const noexcept {
    return kind == ContractKind::inverse ? value.value > 0 : size.value > 0;
  }

  // BTC value of n contracts at a price (linear: exact, whatever the price).
  [[nodiscard]] constexpr Sats value_sats(Contracts contracts, Price price, Rounding rounding) const noexcept {
    if (kind == ContractKind::inverse) {
      return contract_value_sats(contracts, value, price, rounding);
    }
    return Sats{static_cast<std::int64_t>(linear_size_sats(contracts, size))};
  }

  // Signed USD cents of n contracts at a price, rounded half to even.
  [[nodiscard]] constexpr int128 notional_cents_at(Contracts contracts, Price price) const noexcept {
    if (kind == ContractKind::inverse) {
      return notional_cents(contracts, value);
    }
    return hedging::divide(linear_size_sats(contracts, size) * price.raw, kSatsCentsScale, Rounding::half_even);
  }

  [[nodiscard]] constexpr Sats pnl(Contracts contracts, Price entry, Price exit) const noexcept {
    return kind == ContractKind::inverse ? inverse_pnl(contracts, value, entry, exit)
                                         : linear_pnl(contracts, size, entry, exit);
  }

  [[nodiscard]] constexpr Sats fee(Contracts contracts, Price price, Ratio rate) const noexcept {
    return kind == ContractKind::inverse ? trading_fee(contracts, value, price, rate)
                                         : linear_share(contracts.abs(), size, rate);
  }

  [[nodiscard]] constexpr Sats funding(Contracts position, Price mark, Ratio rate) const noexcept {
    return kind == ContractKind::inverse ? funding_payment(position, value, mark, rate)
                                         : linear_share(position, size, rate);
  }

  [[nodiscard]] constexpr Sats margin(Contracts position, Price mark, Ratio ratio) const noexcept {
    return kind == ContractKind::inverse ? margin_requirement(position, value, mark, ratio)
                                         : linear_share(position.abs(), size, ratio);
  }

  [[nodiscard]] constexpr Price average_entry(Contracts held, Price entry, Contracts added,
                                              Price price) const noexcept {
    return kind == ContractKind::inverse ? average_entry_price(held, entry, added, price)
                                         : linear_average_entry_price(held, entry, added, price);
  }
};

} // namespace synthusd::venue
