#pragma once
// OKX API v5 public WebSocket market data -> VenueTick.
//
//   tickers         bidPx askPx bidSz askSz (contracts) ts
//   mark-price      markPx ts
//   funding-rate    fundingRate, fundingTime (when that rate settles) -> next_funding_time, ts
//   books5, bbo-tbt the first bid and ask level, seqId -> sequence,
//                   prevSeqId -> previous_sequence (absent or -1 on snapshots), ts
//   index-tickers   idxPx -> index (map the index name, e.g. "BTC-USD", to an instrument)
//   {"event":"subscribe"} -> subscribed, {"event":"error"} -> venue_error,
//   the text "pong" -> pong
//
// The instrument is arg.instId (else the data's instId). Every number is a
// JSON string; "" is absent, not malformed. A push whose data array holds
// several entries yields the last value of each field. Other channels (books,
// trades, ...) and unconfigured instruments are ignored.
//
// Thread safety: one parser per feed thread; parse() reuses its buffers.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "synthusd/feeds/venue_parser.hpp"
#include "synthusd/feeds/venue_tick.hpp"

namespace synthusd::feeds {

class OkxParser {
public:
  // Throws std::invalid_argument on a bad symbol table (venue_parser.hpp),
  // std::bad_alloc if the parser buffers cannot be allocated.
  explicit OkxParser(std::span<const SymbolMapping> symbols, std::size_t max_message_bytes = kDefaultMaxMessageBytes);

  // Parses one message in place. Preconditions: data[0, capacity) is
  // readable and capacity >= length + kJsonPadding; otherwise, or if length
  // exceeds max_message_bytes, the result is malformed and nothing is read.
  // `out` is reset on every call and holds a tick only when tick is returned.
  // No allocation, no exceptions.
  [[nodiscard]] ParseStatus parse(const char* data, std::size_t length, std::size_t capacity, VenueTick& out) noexcept;

  [[nodiscard]] const SymbolTable& symbols() const noexcept { return symbols_; }

  // {"op":"subscribe","args":[...]}: tickers, mark-price, books5 and, for
  // perpetual swaps (instId ending in -SWAP), funding-rate, per instrument.
  // Throws std::invalid_argument on a bad instrument name.
  [[nodiscard]] static std::string subscribe_message(std::span<const std::string_view> instruments);

  // Send as a text frame when the connection has been quiet for a while
  // (OKX closes it after 30 s without traffic); the answer parses as pong.
  [[nodiscard]] static constexpr std::string_view ping_message() noexcept { return "ping"; }

private:
  SymbolTable symbols_;
  std::size_t max_message_bytes_;
};

} // namespace synthusd::feeds
