#pragma once
// The inputs of `synthusd backtest`: a price history (timestamp + close, or
// OHLC candles), liability flows (JSON lines in the intake's format, or a
// seeded generator) and the price path the venue model replays. Cold path:
// bad input throws InputError naming the file, line and column.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "synthusd/hedging/events.hpp"
#include "synthusd/hedging/price_path.hpp"
#include "synthusd/hedging/types.hpp"
#include "synthusd/liabilities/liability_sink.hpp"

namespace synthusd::engine {

// "file:line:column: what is wrong" (line and column from 1).
class InputError : public std::runtime_error {
public:
  InputError(std::string_view source, std::size_t line, std::size_t column, const std::string& message);
};

// One row of a price file. Candles (open, high, low, close) when the file
// has those columns; otherwise open = high = low = close.
struct PriceBar {
  hedging::Timestamp time{}; // the candle's open time, or the price's time
  hedging::Price open{};
  hedging::Price high{};
  hedging::Price low{};
  hedging::Price close{};
  bool candle = false;
};

// CSV with a header. Time: the first of epoch_ms, epoch_s, timestamp,
// timestamp_utc, time (ISO 8601 UTC or epoch seconds); price: open, high,
// low and close together, else the first of close, price, mark_price,
// index_price. Rows in strictly increasing time, prices positive and, for
// candles, low <= open, close <= high.
[[nodiscard]] std::vector<PriceBar> parse_price_bars(std::string_view text, std::string_view source);
[[nodiscard]] std::vector<PriceBar> load_price_bars(const std::string& path);

// The path the venue replays. A close-only row is one point. A candle is
// four points inside its interval (to the next row's time, the last one the
// median interval): open at the start, then the extreme the bar reached
// first by the usual convention (the low first when the bar closed up, the
// high first when it closed down), the other extreme, and the close three
// quarters in, so resting orders and liquidations see the whole range.
[[nodiscard]] std::vector<hedging::PricePoint> replay_path(const std::vector<PriceBar>& bars);

// One intake line (PROTOCOL.md): a payment, a stable provider's interest
// change or a risk position. The backtest admits it when its time comes as
// the intake does (liabilities::LiabilityAdmission: duplicates applied once,
// conflicts and amounts beyond the intake's limits refused, counted, with
// the line), a payment's sats converted at that moment's price.
struct LiabilityFlow {
  hedging::Timestamp time{};
  std::string id;
  bool credit = true;
  std::optional<std::int64_t> usd_cents; // when absent, sats at the price of the moment
  std::optional<std::int64_t> sats;
  std::size_t line = 0; // in the --liabilities file; 0: generated
  liabilities::RequestKind kind = liabilities::RequestKind::liability;
  std::string provider;                 // provider_interest
  hedging::ExternalRiskPosition risk{}; // risk_position
};

// JSON lines, one intake line per line (blank lines skipped), in
// non-decreasing ts. Refuses, with the line, what the intake cannot parse;
// what it would refuse on admission is refused when the run reaches it.
[[nodiscard]] std::vector<LiabilityFlow> parse_liability_lines(std::string_view text, std::string_view source);
[[nodiscard]] std::vector<LiabilityFlow> load_liability_lines(const std::string& path);

// Seeded Lightning credits and debits over a path. The first event is
// `initial` dollars at the path's start. Then, per hour on average,
// `events_per_hour` payments of up to `max_event` dollars (uniform), both
// scaled by 1 + volatility_factor * (recent absolute return / typical
// absolute return): people move more money when the price moves. Credits
// are slightly more likely than debits, and after a fall much more likely
// (people flee to dollars in a crash); the liability never goes below zero.
struct FlowGeneratorConfig {
  std::uint64_t seed = 1;
  hedging::UsdCents initial{5'000'000}; // $50,000
  // About $1,000 an hour each way in quiet markets on a $50k book (half the
  // book a day), several times that when the price moves.
  std::int64_t events_per_hour = 6;
  hedging::UsdCents max_event{20'000}; // $200
  std::int64_t volatility_factor = 2;
};

[[nodiscard]] std::vector<LiabilityFlow> generate_flows(const std::vector<hedging::PricePoint>& path,
                                                        const FlowGeneratorConfig& config);

} // namespace synthusd::engine
