#pragma once
// Deribit API v2 (JSON-RPC over WebSocket) market data -> VenueTick.
//
//   ticker.<instrument>.<interval>  mark_price, index_price, best_bid/ask price
//                                   and amount (USD), current_funding, timestamp
//   book.<instrument>.<interval>    change_id -> sequence, prev_change_id ->
//                                   previous_sequence (a snapshot has none)
//   heartbeat {"type":"test_request"}  -> heartbeat_request (answer with heartbeat_response())
//   a reply with an array "result" (public/subscribe) -> subscribed; other
//   replies (public/test, public/set_heartbeat) -> ignored; "error" -> venue_error
//
// The instrument comes from the channel name; other channels (trades,
// perpetual, grouped books) and unconfigured instruments are ignored.
// Numbers are JSON numbers, parsed exactly from their text; null is absent
// (Deribit sends null for an empty book side).
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

class DeribitParser {
public:
  // Throws std::invalid_argument on a bad symbol table (venue_parser.hpp),
  // std::bad_alloc if the parser buffers cannot be allocated.
  explicit DeribitParser(std::span<const SymbolMapping> symbols,
                         std::size_t max_message_bytes = kDefaultMaxMessageBytes);

  // Parses one message in place. Preconditions: data[0, capacity) is
  // readable and capacity >= length + kJsonPadding; otherwise, or if length
  // exceeds max_message_bytes, the result is malformed and nothing is read.
  // `out` is reset on every call and holds a tick only when tick is returned.
  // No allocation, no exceptions.
  [[nodiscard]] ParseStatus parse(const char* data, std::size_t length, std::size_t capacity, VenueTick& out) noexcept;

  [[nodiscard]] const SymbolTable& symbols() const noexcept { return symbols_; }

  // public/subscribe to ticker.<instrument>.<interval> for each instrument.
  // "100ms" is public; "raw" needs an authorised connection. Throws
  // std::invalid_argument on a bad instrument name (or one containing '.').
  [[nodiscard]] static std::string subscribe_message(std::span<const std::string_view> instruments,
                                                     std::uint64_t request_id, std::string_view interval = "100ms");

  // public/set_heartbeat: Deribit then sends a test_request every
  // interval_seconds (at least 10) and closes the connection if unanswered.
  [[nodiscard]] static std::string set_heartbeat_message(std::uint32_t interval_seconds, std::uint64_t request_id);

  // The answer to a test_request (public/test), written into `buffer`.
  // Returns the bytes written, or 0 if the buffer is smaller than
  // kHeartbeatResponseMaxBytes. No allocation: it runs on the feed thread.
  static constexpr std::size_t kHeartbeatResponseMaxBytes = 96;
  [[nodiscard]] static std::size_t heartbeat_response(std::uint64_t request_id, std::span<char> buffer) noexcept;

private:
  SymbolTable symbols_;
  std::size_t max_message_bytes_;
};

} // namespace synthusd::feeds
