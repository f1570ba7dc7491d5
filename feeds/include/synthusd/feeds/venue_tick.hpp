#pragma once
// What one venue message says about one instrument, in fixed point. Venues
// split an instrument's state over several channels (OKX: tickers,
// mark-price, funding-rate, books5), so each field carries a presence bit;
// the feed session merges ticks into a full hedging::MarketUpdate.

#include <cstdint>
#include <string_view>

#include "synthusd/hedging/types.hpp"

namespace synthusd::feeds {

enum class Venue : std::uint8_t { deribit, okx, binance_coin_m };

// Every venue protocol, in declaration order (configuration messages list
// the valid names from here).
inline constexpr Venue kVenues[] = {Venue::deribit, Venue::okx, Venue::binance_coin_m};

// The protocol's name in a configuration file ([[feeds]] protocol): "deribit",
// "okx" or "binance" (Binance COIN-M).
[[nodiscard]] constexpr std::string_view to_string(Venue venue) noexcept {
  switch (venue) {
  case Venue::deribit:
    return "deribit";
  case Venue::okx:
    return "okx";
  case Venue::binance_coin_m:
    return "binance";
  }
  return "?";
}

// The venue whose to_string() is `name`; false (out untouched) for anything else.
[[nodiscard]] constexpr bool parse_venue_protocol(std::string_view name, Venue& out) noexcept {
  for (const Venue venue : kVenues) {
    if (to_string(venue) == name) {
      out = venue;
      return true;
    }
  }
  return false;
}

namespace field {
inline constexpr std::uint32_t bid = 1U << 0;
inline constexpr std::uint32_t ask = 1U << 1;
inline constexpr std::uint32_t bid_size = 1U << 2;
inline constexpr std::uint32_t ask_size = 1U << 3;
inline constexpr std::uint32_t mark = 1U << 4;
inline constexpr std::uint32_t index = 1U << 5;
inline constexpr std::uint32_t funding_rate = 1U << 6;
inline constexpr std::uint32_t next_funding_time = 1U << 7;
inline constexpr std::uint32_t sequence = 1U << 8;          // sequence and previous_sequence are set
inline constexpr std::uint32_t previous_sequence = 1U << 9; // the venue sent the previous id too
} // namespace field

struct VenueTick {
  hedging::InstrumentId instrument = hedging::kNoInstrument; // resolved from the venue symbol
  std::uint32_t fields = 0;                                  // field:: bits present
  hedging::Price bid{};
  hedging::Price ask{};
  std::int64_t bid_size = 0; // venue units (contracts or USD), scaled by 1e8
  std::int64_t ask_size = 0;
  hedging::Price mark{};
  hedging::Price index{};
  hedging::Ratio funding_rate{}; // per funding interval
  hedging::Timestamp next_funding_time{};
  hedging::Timestamp venue_time{}; // the venue's own timestamp
  // Gap detection: Deribit change_id / prev_change_id, OKX seqId / prevSeqId,
  // Binance bookTicker u (monotonic; no previous id).
  std::uint64_t sequence = 0;
  std::uint64_t previous_sequence = 0;

  [[nodiscard]] constexpr bool has(std::uint32_t bits) const noexcept { return (fields & bits) == bits; }
};

// What a parser made of one message.
enum class ParseStatus : std::uint8_t {
  tick,              // `out` holds a tick for a configured instrument
  ignored,           // a well-formed message we do not need (other channel, other instrument, stats)
  subscribed,        // the venue acknowledged a subscription
  heartbeat_request, // the venue asks for an answer (Deribit test_request): send heartbeat_response()
  pong,              // answer to our keep-alive
  venue_error,       // a well-formed error from the venue (bad subscription...)
  malformed,         // not JSON, or JSON missing/garbling a field we need: counted and dropped
};

} // namespace synthusd::feeds
