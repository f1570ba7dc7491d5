#pragma once
// Dated futures by the venue's own list: an [[instruments]] entry with
// series = "venue" stands for the futures its venue's public/get_instruments
// answer lists (Deribit's documented shape, which the simulator serves:
// result[] with instrument_name, kind "future", settlement_period,
// expiration_timestamp in ms, contract_size in USD, is_active).
//
// When `synthusd run` starts, before the kernel is built, the venue's
// [[feeds]] endpoint is asked once; what it lists enters the kernel's
// instruments through the same path as the "deribit" calendar series
// (add_listed_futures), so the kernel rolls out of the expiring one into the
// next by carry with no restart. Cold path: blocking, bounded by a timeout.
//
// Every answer is bounded and checked: size, entry count, names (at most
// 31 characters of [A-Z0-9_-], the currency's prefix), the contract size
// (the template's contract value: a different one would size orders
// wrongly), and expiries in (now, now + 400 days]. An entry that fails is
// skipped with its reason; the perpetual and inactive entries are skipped
// silently. At most kMaxListedFutures, nearest expiry first.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "synthusd/engine/config_file.hpp"
#include "synthusd/engine/instrument_expiry.hpp"

namespace synthusd::engine {

inline constexpr std::size_t kMaxInstrumentsAnswerBytes = 1 << 20;
inline constexpr std::size_t kMaxInstrumentsAnswerEntries = 2'000;
inline constexpr hedging::Duration kMaxListedHorizon = hedging::Duration::from_hours(400 * 24);

struct ListedFutures {
  std::vector<ListedFuture> futures; // nearest expiry first
  std::vector<std::string> skipped;  // one reason per entry left out
  std::string problem;               // non-empty: the whole answer was refused
};

// Reads one JSON-RPC answer to public/get_instruments.
[[nodiscard]] ListedFutures parse_listed_futures(std::string_view answer, const hedging::InstrumentSpec& spec,
                                                 hedging::Timestamp now);

// Asks the feed's endpoint (ws or wss) once; the answer's text, or throws
// std::runtime_error with the reason (connect failed, timeout, too large).
[[nodiscard]] std::string request_instruments(const FeedSection& feed, std::string_view currency,
                                              std::chrono::milliseconds timeout);

// Ids never change meaning within a state directory: the journal names
// instruments by id, and a restart replays it under the instruments of that
// start. So each series keeps <state_directory>/listed_futures.<id>, the
// futures it has given ids to, in id order, and a start takes those first
// (expired ones too: ineligible, not subscribed) and gives ids to newly
// listed ones after them, while the series' ids last. The file is bounded
// (kMaxListedFutures lines of "<symbol> <expiry ms>"); a damaged one stops
// the start (std::runtime_error) rather than renumber.
[[nodiscard]] std::vector<ListedFuture> read_remembered_futures(const std::string& path);
// `remembered`, then what `listed` adds (by symbol), at most
// kMaxListedFutures; a listed future left without an id is a report line.
[[nodiscard]] std::vector<ListedFuture> merge_listed_futures(std::vector<ListedFuture> remembered,
                                                             const std::vector<ListedFuture>& listed,
                                                             std::vector<std::string>& report);

// Resolves every series = "venue" entry of `config` (add_listed_futures) and
// validates the kernel again. A venue that cannot be asked, or lists none,
// adds only what the state directory remembers (its other instruments still
// hedge); each such outcome is a line in the returned report, as is each
// future added.
[[nodiscard]] std::vector<std::string> discover_venue_futures(EngineConfig& config, hedging::Timestamp now,
                                                              std::chrono::milliseconds timeout);

} // namespace synthusd::engine
