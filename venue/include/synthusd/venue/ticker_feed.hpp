#pragma once
// Deribit API v2 market data, as the venue simulator serves it over
// WebSocket (JSON-RPC 2.0), so the engine's Deribit feed code runs
// unchanged against the simulator.
//
// Requests answered:
//   public/subscribe {channels}   -> result: the accepted channels, i.e.
//                                    ticker.<instrument>.<100ms|raw|agg2>
//                                    for each instrument served
//   public/unsubscribe {channels}, public/unsubscribe_all
//   public/set_heartbeat {interval >= 10} -> "ok"; then every interval a
//                                    {"method":"heartbeat","params":{"type":
//                                    "test_request"}}; a client that has not
//                                    called public/test by the next one is
//                                    disconnected
//   public/disable_heartbeat      -> "ok"
//   public/test, public/hello     -> {"version": ...}
//   public/get_time               -> milliseconds (the ticker clock)
//   public/ticker {instrument_name} -> the ticker object
//   public/get_instruments {currency, kind?} -> the instruments served, in
//                                    Deribit's shape (instruments_json), so
//                                    a client discovers what it may trade;
//                                    [] for another currency or kind
// Anything else gets a JSON-RPC error (-32601 method not found, -32602 bad
// params, -32700 parse error).
//
// Every publish() sends each subscribed channel a notification:
//   {"jsonrpc":"2.0","method":"subscription","params":{"channel":
//    "ticker.BTC-PERPETUAL.100ms","data":{"timestamp":..,"state":"open",
//    "instrument_name":..,"index_price":..,"mark_price":..,"last_price":..,
//    "best_bid_price":..,"best_ask_price":..,"best_bid_amount":..,
//    "best_ask_amount":..,"current_funding":..,"funding_8h":..,
//    "estimated_delivery_price":..,"open_interest":0}}}
// Amounts are USD (contracts * contract value), as Deribit's; an unlimited
// touch is shown as 10,000,000 USD. current_funding and funding_8h are both
// the 8-hour rate in force.

#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "synthusd/venue/matching_engine.hpp"
#include "synthusd/venue/websocket_server.hpp"

namespace synthusd::venue {

struct TickerSnapshot {
  std::string_view instrument;
  std::int64_t expiration_ms = 0; // a dated future's expiry in the timestamp's clock; 0 = perpetual
  Quote quote;
  Timestamp timestamp{}; // what the notification's "timestamp" says
  UsdCents contract_value{};
  Contracts touch_size{}; // 0 = unlimited
  Price tick_size{};
};

// The "data" object of a ticker notification.
[[nodiscard]] std::string ticker_json(const TickerSnapshot& snapshot);

// public/get_instruments' result: the served instruments as Deribit lists
// them (kind "future", instrument_type "reversed", contract_size in USD;
// the perpetual with settlement_period "perpetual" and Deribit's far-future
// expiration_timestamp 32503708800000, a dated future with "month" and its
// expiry in milliseconds). A dated future's ticker has no funding fields.
[[nodiscard]] std::string instruments_json(std::span<const TickerSnapshot> snapshots);
[[nodiscard]] inline std::string instruments_json(const TickerSnapshot& snapshot) {
  return instruments_json({&snapshot, 1});
}

class TickerFeed {
public:
  explicit TickerFeed(std::string instrument) : instruments_{std::move(instrument)} {}
  // Several instruments: channels may name any of them.
  explicit TickerFeed(std::vector<std::string> instruments) : instruments_(std::move(instruments)) {}

  // Handles one JSON-RPC request; replies go to `out`. wall_milliseconds
  // drives heartbeats. `snapshots` are the instruments trading now (the
  // first is the clock for public/get_time); an expired one is left out.
  void on_message(const WebSocketMessage& message, std::span<const TickerSnapshot> snapshots,
                  std::int64_t wall_milliseconds, std::vector<WebSocketMessage>& out);
  void on_message(const WebSocketMessage& message, const TickerSnapshot& snapshot, std::int64_t wall_milliseconds,
                  std::vector<WebSocketMessage>& out) {
    on_message(message, {&snapshot, 1}, wall_milliseconds, out);
  }
  void on_close(ConnectionId connection) { clients_.erase(connection); }

  // One notification per subscribed channel of the snapshot's instrument.
  void publish(const TickerSnapshot& snapshot, std::vector<WebSocketMessage>& out) const;
  // Sends due test_requests; connections that left the previous one
  // unanswered go to `expired` (the caller closes them).
  void heartbeat(std::int64_t wall_milliseconds, std::vector<WebSocketMessage>& out,
                 std::vector<ConnectionId>& expired);
  [[nodiscard]] bool has_subscribers() const noexcept;

private:
  struct Client {
    std::set<std::string> channels;
    std::int64_t heartbeat_interval_ms = 0; // 0 = off
    std::int64_t next_heartbeat_ms = 0;
    bool awaiting_test = false;
  };

  [[nodiscard]] bool is_ticker_channel(std::string_view channel) const;

  std::vector<std::string> instruments_;
  std::map<ConnectionId, Client> clients_;
};

} // namespace synthusd::venue
