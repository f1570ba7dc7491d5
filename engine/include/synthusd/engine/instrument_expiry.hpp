#pragma once
// A dated future's expiry from its symbol, by each venue's documented naming
// and settlement time, so that no expiry is typed by hand:
//   Deribit      BTC-27DEC24      day, month, year; settles 08:00 UTC
//   OKX          BTC-USD-241227   year, month, day; settles 08:00 UTC
//   Binance COIN-M BTCUSD_241227  year, month, day; settles 08:00 UTC
// Cold path (configuration).

#include <optional>
#include <string_view>

#include "synthusd/hedging/types.hpp"

namespace synthusd::engine {

// nullopt when the symbol names no date in one of those forms (a perpetual,
// a typo, another venue's naming) or names a date that does not exist.
[[nodiscard]] std::optional<hedging::Timestamp> expiry_from_symbol(std::string_view symbol);

} // namespace synthusd::engine
