#pragma once
// synthusd-venue's moving parts around the deterministic Engine:
//
//   QuickFIX socket thread --(inbox, eventfd)--> venue thread
//   venue thread: poll(stop fd, eventfd, WebSocket sockets)
//     - inbound FIX commands: advance the engine to the simulated now,
//       apply the command, send the resulting events through FixServer
//     - every ticker interval: advance the engine (resting fills, funding,
//       liquidations), publish tickers, send heartbeats
//     - WebSocket requests: answered by TickerFeed
//
// Only the venue thread touches the engine, the WebSocket server and the
// ticker feed. The QuickFIX thread only appends to the inbox under a mutex
// and never waits for the venue thread, so QuickFIX's session lock and the
// inbox lock cannot deadlock (fix.md: quickfix/quickfix#266).
//
// The simulated clock is simulated_start + wall_elapsed * time_scale, read
// once per command or tick. With the same arrival times the engine sees the
// same (time, command) sequence; with time scale 0 the clock is frozen and
// results depend only on the order of commands.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "synthusd/venue/dated_futures.hpp"
#include "synthusd/venue/fix_messages.hpp"
#include "synthusd/venue/fix_server.hpp"
#include "synthusd/venue/matching_engine.hpp"
#include "synthusd/venue/ticker_feed.hpp"
#include "synthusd/venue/venue_config.hpp"
#include "synthusd/venue/wallet_api.hpp"
#include "synthusd/venue/wallet_server.hpp"
#include "synthusd/venue/websocket_server.hpp"

namespace synthusd::venue {

// The price path the configuration asks for: the CSV file, or the seeded
// GBM-with-jumps path. Throws MarketDataError.
[[nodiscard]] std::vector<hedging::PricePoint> build_price_path(const PricePathSettings& settings);
// The funding schedule: the CSV (rebased onto the path if it does not cover
// its start) or the constant rate.
[[nodiscard]] FundingSchedule build_funding(const VenueConfig& config, Timestamp path_start);

class VenueRuntime final : public FixServerHandler {
public:
  // `futures`: the dated futures' books (dated_futures.hpp), served next to
  // the perpetual's `engine`; FIX commands go to the book their Symbol names.
  VenueRuntime(VenueConfig config, Engine engine, std::vector<DatedFuture> futures = {});
  ~VenueRuntime() override;
  VenueRuntime(const VenueRuntime&) = delete;
  VenueRuntime& operator=(const VenueRuntime&) = delete;

  // Starts the FIX acceptor and the WebSocket server. Throws on failure.
  void start();
  [[nodiscard]] std::uint16_t fix_port() const;
  [[nodiscard]] std::uint16_t websocket_port() const; // 0 when disabled
  [[nodiscard]] std::uint16_t wallet_port() const;    // 0 when disabled
  [[nodiscard]] bool wallet_tls() const;
  [[nodiscard]] const Engine& engine() const noexcept { return engine_; }

  // Runs the venue thread's loop until stop_fd becomes readable, then stops
  // the acceptor.
  void run(int stop_fd);

  // FixServerHandler: called on QuickFIX's thread.
  void on_logon(const std::string& client) override;
  void on_logout(const std::string& client) override;
  void on_message(InboundMessage message) override;

private:
  enum class InboxKind : std::uint8_t { logon, logout, message };
  struct InboxItem {
    InboxKind kind = InboxKind::message;
    InboundMessage message; // client is set for every kind
  };

  void post(InboxItem item);
  void drain_inbox();
  void tick();
  void handle_websocket(const std::vector<pollfd>& fds);
  void send_events();
  // The wallet ([wallet] enabled; venue_runtime_wallet.cpp).
  void start_wallet();
  void handle_wallet(const std::vector<pollfd>& fds);
  void advance_wallet();
  [[nodiscard]] Timestamp simulated_now() const;
  [[nodiscard]] std::int64_t wall_milliseconds() const;
  [[nodiscard]] TickerSnapshot snapshot() const;
  // The perpetual's snapshot, then each future's still trading.
  [[nodiscard]] std::vector<TickerSnapshot> snapshots() const;
  // The futures' books to the simulated now (before the perpetual's, which
  // takes what a settlement moves); futures past their expiry settle.
  void advance_futures();
  void settle_expired(DatedFuture& future);
  // The book a Symbol names: a future's (even settled: it rejects with a
  // reason), else the perpetual's (which rejects unknown symbols).
  [[nodiscard]] Engine& book(std::string_view symbol);
  void apply(const std::string& client, const Command& command);
  // The account's positions in the other books, into one PositionReport.
  void add_other_positions(PositionEvent& event);

  VenueConfig config_;
  Engine engine_;
  std::vector<DatedFuture> futures_;
  std::unique_ptr<FixServer> fix_;
  std::unique_ptr<WebSocketServer> websocket_;
  TickerFeed feed_;
  std::unique_ptr<Wallet> wallet_;
  std::unique_ptr<WalletApi> wallet_api_;
  std::unique_ptr<WalletServer> wallet_server_;
  std::vector<Event> events_; // reused
  std::chrono::steady_clock::time_point wall_start_;
  Timestamp simulated_start_{};
  std::int64_t wall_start_milliseconds_ = 0; // the system clock at start(), for expiries in wall time

  std::mutex inbox_mutex_;
  std::deque<InboxItem> inbox_;
  int wake_fd_ = -1; // eventfd: the inbox is not empty
};

} // namespace synthusd::venue
