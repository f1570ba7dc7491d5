#pragma once
// A dated future's expiry from its symbol, by each venue's documented naming
// and settlement time, so that no expiry is typed by hand:
//   Deribit      BTC-27DEC24      day, month, year; settles 08:00 UTC
//   OKX          BTC-USD-241227   year, month, day; settles 08:00 UTC
//   Binance COIN-M BTCUSD_241227  year, month, day; settles 08:00 UTC
// Cold path (configuration).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "synthusd/hedging/types.hpp"

namespace synthusd::engine {

// nullopt when the symbol names no date in one of those forms (a perpetual,
// a typo, another venue's naming) or names a date that does not exist.
[[nodiscard]] std::optional<hedging::Timestamp> expiry_from_symbol(std::string_view symbol);

// A Deribit option (BTC-27DEC24-100000-C, -P): its ticker's mark_price is
// in BTC (a fraction of the underlying index), not USD, so the feeds would
// publish it as a USD price; the configuration refuses options for that.
[[nodiscard]] bool is_option_symbol(std::string_view symbol);

// Deribit's dated futures by its documented expiry calendar, so the next
// future to roll into is known without typing it: every future expires on a
// Friday at 08:00 UTC; weeklies on the nearest Fridays, monthlies on a
// month's last Friday, quarterlies on the last Friday of March, June,
// September and December. How many of each are listed at once is Deribit's
// choice and changes; the counts below are what it listed in 2024-25 and are
// parameters, and the engine only ever needs the nearest few.
struct FutureCalendar {
  std::size_t weeklies = 4;
  std::size_t monthlies = 3;
  std::size_t quarterlies = 4;
};

struct ListedFuture {
  std::string symbol; // BTC-27DEC24 (Deribit's day has no leading zero)
  hedging::Timestamp expiry;
};

// The futures of `currency` not yet expired at `now` (expiry > now), by
// expiry, each once (a month's last Friday is a weekly and a monthly).
[[nodiscard]] std::vector<ListedFuture> deribit_futures_listed(hedging::Timestamp now,
                                                               std::string_view currency = "BTC",
                                                               FutureCalendar calendar = FutureCalendar());

} // namespace synthusd::engine
