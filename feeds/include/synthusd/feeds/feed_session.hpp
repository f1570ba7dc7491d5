#pragma once
// One venue feed from WebSocket messages to the kernel's queue: parse in
// place, merge partial ticks per instrument, publish full MarketUpdates to the
// conflating SPSC queue, answer heartbeats, and ask the client for a fresh
// snapshot when a sequence gap shows the book is no longer continuous.
//
// Runs on the feed thread inside the WebSocket client's callbacks: no
// allocation and no blocking per message. A malformed or venue-error message
// is counted and dropped; a log line about it is rate limited.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "synthusd/feeds/binance_parser.hpp"
#include "synthusd/feeds/conflating_queue.hpp"
#include "synthusd/feeds/deribit_parser.hpp"
#include "synthusd/feeds/okx_parser.hpp"
#include "synthusd/feeds/tick_merger.hpp"
#include "synthusd/feeds/websocket_client.hpp"
#include "synthusd/hedging/events.hpp"

namespace synthusd::feeds {

struct FeedInstrument {
  std::string venue_symbol; // "BTC-PERPETUAL", "BTC-USD-SWAP", "BTCUSD_PERP"
  hedging::InstrumentId instrument = hedging::kNoInstrument;
};

struct FeedSessionConfig {
  Venue venue = Venue::deribit;
  hedging::VenueId venue_id = hedging::kNoVenue;
  std::vector<FeedInstrument> instruments;
  std::uint32_t deribit_heartbeat_seconds = 10;          // public/set_heartbeat; 0: off
  std::chrono::milliseconds log_interval{1000};          // at most one log line per interval
  hedging::Timestamp (*clock)() noexcept = nullptr;      // receive time; null: CLOCK_REALTIME
  void (*log)(std::string_view line) noexcept = nullptr; // null: stderr
};

struct FeedCounters {
  std::uint64_t messages = 0;
  std::uint64_t ticks = 0;
  std::uint64_t published = 0; // MarketUpdates handed to the queue
  std::uint64_t ignored = 0;
  std::uint64_t malformed = 0;
  std::uint64_t venue_errors = 0;
  std::uint64_t gaps = 0; // each one asked for a resubscribe
  std::uint64_t heartbeats_answered = 0;
  std::uint64_t subscribed = 0;
  std::uint64_t log_lines_suppressed = 0;
};

// The venue's public endpoint and keep-alive: Deribit wss://www.deribit.com
// /ws/api/v2 (its heartbeat is set by subscribe()), OKX wss://ws.okx.com:8443
// /ws/v5/public with a text "ping" every 20 s (OKX drops a connection idle
// for 30 s), Binance COIN-M wss://dstream.binance.com/ws (SUBSCRIBE frames).
// Tests and the venue simulator override host, port and tls.
[[nodiscard]] WebSocketClientOptions venue_client_options(Venue venue);

class FeedSession final : public WebSocketHandler {
public:
  using Queue = ConflatingQueue<hedging::MarketUpdate>;

  // Throws std::invalid_argument on a bad symbol (the parsers check them).
  FeedSession(FeedSessionConfig config, Queue& queue);

  // Called by the owner once the client exists (the client needs the handler
  // first); the session uses it to answer heartbeats and resubscribe.
  void attach(WebSocketClient& client) noexcept { client_ = &client; }

  void subscribe(WebSocketClient& client) override;
  void on_message(const char* data, std::size_t size, std::size_t capacity) override;
  void on_disconnect(std::string_view reason) override;

  [[nodiscard]] const FeedCounters& counters() const noexcept { return counters_; }

private:
  using Parser = std::variant<DeribitParser, OkxParser, BinanceParser>;
  static Parser make_parser(const FeedSessionConfig& config, std::span<const SymbolMapping> symbols);
  void log_limited(std::string_view what, const char* data, std::size_t size) noexcept;

  FeedSessionConfig config_;
  Queue& queue_;
  std::vector<SymbolMapping> symbols_; // views into config_.instruments
  Parser parser_;
  TickMerger merger_;
  WebSocketClient* client_ = nullptr;
  FeedCounters counters_;
  std::uint64_t next_request_id_ = 1;
  hedging::Timestamp last_log_{};
  bool logged_once_ = false;
  std::vector<std::string> subscribe_messages_; // built once
};

} // namespace synthusd::feeds
