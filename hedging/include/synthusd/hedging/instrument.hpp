#pragma once
// Instrument specifications and the value arithmetic that depends on them.

#include <array>
#include <string_view>

#include "synthusd/hedging/types.hpp"

namespace synthusd::hedging {

enum class InstrumentKind : std::uint8_t {
  inverse_perpetual, // USD-valued contract, margined and settled in BTC, funding every interval
  inverse_future,    // same, with an expiry and no funding
  linear_perpetual,  // BTC-sized contract; its USD exposure moves with the price
};

[[nodiscard]] constexpr bool is_inverse(InstrumentKind kind) noexcept {
  return kind != InstrumentKind::linear_perpetual;
}
[[nodiscard]] constexpr bool is_perpetual(InstrumentKind kind) noexcept {
  return kind != InstrumentKind::inverse_future;
}

// A short fixed-size name so specs stay trivially copyable and allocation free.
struct Symbol {
  static constexpr std::size_t kCapacity = 31;
  std::array<char, kCapacity + 1> text{};

  constexpr Symbol() noexcept = default;
  constexpr Symbol(std::string_view name) noexcept { // NOLINT(google-explicit-constructor)
    const std::size_t n = name.size() < kCapacity ? name.size() : kCapacity;
    for (std::size_t i = 0; i < n; ++i) {
      text[i] = name[i];
    }
  }
  constexpr Symbol(const char* name) noexcept : Symbol(std::string_view(name)) {} // NOLINT(google-explicit-constructor)
  [[nodiscard]] constexpr std::string_view view() const noexcept {
    std::size_t n = 0;
    while (n < kCapacity && text[n] != '\0') {
      ++n;
    }
    return {text.data(), n};
  }
  friend constexpr bool operator==(const Symbol& a, const Symbol& b) noexcept { return a.view() == b.view(); }
};

struct InstrumentSpec {
  InstrumentId id = kNoInstrument;
  VenueId venue = kNoVenue;
  Symbol symbol;
  InstrumentKind kind = InstrumentKind::inverse_perpetual;
  UsdCents contract_value{10'000}; // inverse: USD per contract (OKX $100, Deribit $10, Binance $100)
  Sats contract_size{0};           // linear: BTC per contract, in sats
  Price tick_size = Price::from_cents(50);
  Contracts lot_size{1}; // orders are whole multiples of this
  Contracts minimum_order{1};
  Ratio maker_fee = Ratio::from_ppm(200);            // 0.02 %
  Ratio taker_fee = Ratio::from_ppm(500);            // 0.05 %
  Ratio maintenance_margin = Ratio::from_ppm(5'000); // 0.5 %
  Timestamp expiry{};                                // inverse_future only
  Duration funding_interval = Duration::from_hours(8);
};

// USD exposure of a signed position, scaled by Ratio::kScale so that band
// comparisons stay exact: inverse = contracts * contract_value; linear =
// contracts * size * price. Linear needs a valid price.
[[nodiscard]] constexpr int128 scaled_exposure_cents(const InstrumentSpec& spec, Contracts position,
                                                     Price price) noexcept {
  if (is_inverse(spec.kind)) {
    return static_cast<int128>(position.value) * spec.contract_value.value * Ratio::kScale;
  }
  // sats * raw / 1e14 cents; multiply by Ratio::kScale (1e8) -> / 1e6.
  return divide(static_cast<int128>(position.value) * spec.contract_size.value * price.raw, 1'000'000,
                Rounding::half_even);
}

// USD value (scaled by Ratio::kScale) of one contract at price.
[[nodiscard]] constexpr int128 scaled_contract_cents(const InstrumentSpec& spec, Price price) noexcept {
  return scaled_exposure_cents(spec, Contracts{1}, price);
}

// Rounds a contract count to the instrument's lot size, toward zero.
[[nodiscard]] constexpr Contracts round_to_lot(const InstrumentSpec& spec, Contracts contracts) noexcept {
  if (spec.lot_size.value <= 1) {
    return contracts;
  }
  return Contracts{(contracts.value / spec.lot_size.value) * spec.lot_size.value};
}

} // namespace synthusd::hedging
