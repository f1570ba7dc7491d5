#pragma once
// Binance COIN-M futures (dstream) WebSocket market data -> VenueTick.
//
//   bookTicker       b/B best bid price/quantity (contracts), a/A ask,
//                    u update id -> sequence (increasing, no previous id),
//                    T transaction time (else E event time) -> venue_time
//   markPriceUpdate  p mark, i index, r funding rate ("" on delivery
//                    contracts: absent), T next funding time (0: absent),
//                    E event time -> venue_time
//   {"result":null,"id":N} -> subscribed (the answer to SUBSCRIBE; also to
//   UNSUBSCRIBE and SET_PROPERTY, which we do not send); other results -> ignored;
//   {"code":..,"msg":..} or {"error":{..}} -> venue_error
//
// Accepts both the combined-stream envelope {"stream":..,"data":{..}} and
// raw events. The instrument is the event's "s" ("BTCUSD_PERP"); symbols are
// matched case-insensitively by storing them upper-cased. Other events
// (depthUpdate, aggTrade, ...) and unconfigured symbols are ignored.
//
// Thread safety: one parser per feed thread; parse() reuses its buffers.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "synthusd/feeds/venue_parser.hpp"
#include "synthusd/feeds/venue_tick.hpp"

namespace synthusd::feeds {

class BinanceParser {
public:
  // Throws std::invalid_argument on a bad symbol table (venue_parser.hpp),
  // std::bad_alloc if the parser buffers cannot be allocated.
  explicit BinanceParser(std::span<const SymbolMapping> symbols,
                         std::size_t max_message_bytes = kDefaultMaxMessageBytes);

  // Parses one message in place. Preconditions: data[0, capacity) is
  // readable and capacity >= length + kJsonPadding; otherwise, or if length
  // exceeds max_message_bytes, the result is malformed and nothing is read.
  // `out` is reset on every call and holds a tick only when tick is returned.
  // No allocation, no exceptions.
  [[nodiscard]] ParseStatus parse(const char* data, std::size_t length, std::size_t capacity, VenueTick& out) noexcept;

  [[nodiscard]] const SymbolTable& symbols() const noexcept { return symbols_; }

  // {"method":"SUBSCRIBE","params":["btcusd_perp@bookTicker","btcusd_perp@markPrice@1s"],"id":N}
  // for each symbol, lower-cased as stream names must be (Binance acknowledges
  // a misspelled stream and then sends nothing). Throws std::invalid_argument
  // on a bad symbol.
  [[nodiscard]] static std::string subscribe_message(std::span<const std::string_view> symbols,
                                                     std::uint64_t request_id);

private:
  SymbolTable symbols_;
  std::size_t max_message_bytes_;
};

} // namespace synthusd::feeds
