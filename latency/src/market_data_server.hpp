#pragma once
// Deribit v2 market data as the engine's feed expects it (the venue
// simulator's WebSocket server and its JSON-RPC replies): answers
// public/subscribe, set_heartbeat, test and hello, and writes ticker
// notifications to every subscribed connection when the harness says so.

#include <poll.h>

#include <cstdint>
#include <string>
#include <vector>

#include "synthusd/venue/websocket_server.hpp"

namespace synthusd::latency {

class MarketDataServer {
public:
  MarketDataServer(); // binds 127.0.0.1 on a free port

  [[nodiscard]] std::uint16_t port() const noexcept { return server_.port(); }
  [[nodiscard]] bool subscribed() const noexcept { return !subscriptions_.empty(); }

  void add_poll_fds(std::vector<pollfd>& fds) const { server_.add_poll_fds(fds); }
  void handle_ready(const std::vector<pollfd>& fds);

  // The notification text of one ticker (built off the timed path).
  [[nodiscard]] static std::string ticker_notification(const std::string& channel, const std::string& instrument,
                                                       std::int64_t price_cents, std::int64_t wall_milliseconds);
  // Writes a prepared notification to every subscriber of `channel`s
  // instrument; returns false if no connection took it.
  bool publish(const std::string& text);
  // The channel the engine subscribed to (its ticker channel), empty before.
  [[nodiscard]] const std::string& channel() const noexcept { return channel_; }

private:
  void on_message(const venue::WebSocketMessage& message);

  venue::WebSocketServer server_;
  std::vector<venue::ConnectionId> subscriptions_;
  std::string channel_;
};

} // namespace synthusd::latency
