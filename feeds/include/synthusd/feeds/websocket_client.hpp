#pragma once
// One market-data WebSocket connection, driven by an EventLoop:
//
//   TCP connect -> TLS handshake (wss) -> HTTP upgrade -> subscribe -> open
//        ^                                                               |
//        +---- backoff (exponential, jittered) <---- disconnect <--------+
//
// - Subscribing: after every upgrade the handler's subscribe() sends the
//   subscribe messages with send_text(), so a reconnect resubscribes.
// - Messages reach on_message() whole (fragments reassembled by the codec),
//   in the codec's buffer with websocket::kPadding readable bytes after them,
//   so a parser can use simdjson in place.
// - Pings are answered with pongs; a server close is answered with a close
//   and the connection is then dropped and re-established; stop() sends a
//   close (1000) and waits up to close_timeout for the server's.
// - Keep-alive: optionally a text message (OKX: "ping") every interval.
// - Stale feed: no bytes at all for stale_timeout drops the connection.
// - Gaps: the handler detects them and calls request_resubscribe(). By
//   default (ResubscribeMode::reconnect) that drops the connection and
//   reconnects at once, without backoff, so the venue starts over with a
//   fresh snapshot on a fresh session: venues do not all re-send a snapshot
//   for a second subscribe on a live connection, and some reject it as
//   already subscribed. ResubscribeMode::resend calls subscribe() again on
//   the same connection instead.
// - A protocol error or a message over max_message_size sends a close (1002
//   or 1009), discards what still arrives until the server closes TCP (at
//   most close_timeout, so that it reads the code), and reconnects with
//   backoff.
//
// Threading: everything runs on the loop's thread, inside run_once(), or in
// calls made from that thread. No allocation per message: buffers are sized
// at construction; connecting (DNS, TLS session, upgrade request) allocates.
// DNS resolution is blocking and happens at the first connect and again after
// every address failed to connect; use numeric hosts to keep it off the loop.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sys/socket.h>

#include "synthusd/common/reconnect_backoff.hpp"
#include "synthusd/feeds/event_loop.hpp"
#include "synthusd/feeds/tls.hpp"
#include "synthusd/feeds/websocket_codec.hpp"

namespace synthusd::feeds {

class WebSocketClient;

class WebSocketHandler {
public:
  // Sends the subscribe messages with client.send_text(). Called after every
  // upgrade (first connect and reconnects), and by request_resubscribe() in
  // ResubscribeMode::resend.
  virtual void subscribe(WebSocketClient& client) = 0;
  // One complete message (text or binary), valid during the call only.
  // data[0, capacity) is readable and capacity >= size + websocket::kPadding.
  virtual void on_message(const char* data, std::size_t size, std::size_t capacity) = 0;
  // An open session ended; a reconnect follows unless stop() was called.
  // Book state built from this session is no longer current.
  virtual void on_disconnect(std::string_view reason) { static_cast<void>(reason); }

protected:
  ~WebSocketHandler() = default;
};

enum class AddressFamily : std::uint8_t { any, ipv4, ipv6 };

enum class ResubscribeMode : std::uint8_t {
  reconnect, // drop the connection and reconnect at once (default)
  resend,    // call subscribe() again on the open connection
};

struct WebSocketClientOptions {
  std::string host; // DNS name or IP literal: used to connect, for SNI, the certificate check and Host
  std::uint16_t port = 443;
  std::string path = "/"; // with query, e.g. "/ws/v5/public"
  bool tls = true;        // wss://
  AddressFamily family = AddressFamily::any;
  TlsOptions tls_options;
  std::size_t max_message_size = 1 << 20;          // larger messages drop the connection (codec's message_too_big)
  std::chrono::milliseconds connect_timeout{5000}; // TCP + TLS + upgrade
  std::chrono::milliseconds stale_timeout{5000};   // no bytes for this long while open: reconnect (0: off)
  std::chrono::milliseconds keepalive_interval{0}; // send keepalive_text this often while open (0: off)
  std::string keepalive_text = "ping";             // OKX's keep-alive; it answers "pong"
  std::chrono::milliseconds close_timeout{1000};   // how long a closing handshake may take
  std::chrono::milliseconds backoff_initial{100};  // first reconnect delay; doubles per failed attempt
  std::chrono::milliseconds backoff_max{10'000};   // (ReconnectBackoff); reset when a session opens
  double backoff_jitter = 0.5;                     // the delay is drawn uniformly from [(1 - jitter) * d, d]
  std::uint64_t seed = 0; // for jitter, mask keys and Sec-WebSocket-Key; 0 draws one from std::random_device
  ResubscribeMode resubscribe_mode = ResubscribeMode::reconnect;
};

struct WebSocketCounters {
  std::uint64_t connect_attempts = 0; // TCP connects started
  std::uint64_t connects = 0;         // upgrades accepted: sessions opened
  std::uint64_t reconnects = 0;       // sessions opened after the first one
  std::uint64_t connect_failures = 0; // attempts that ended before the session opened (refused, TLS, upgrade, timeout)
  std::uint64_t disconnects = 0;      // open sessions that ended, for whatever reason
  std::uint64_t stale_drops = 0;      // disconnects because no bytes came for stale_timeout
  std::uint64_t protocol_errors = 0;  // frames the codec rejected
  std::uint64_t oversized_messages = 0; // messages over max_message_size
  std::uint64_t resubscribes = 0;       // request_resubscribe() calls acted upon
  std::uint64_t pings_answered = 0;
  std::uint64_t keepalives_sent = 0;
  std::uint64_t messages = 0;       // delivered to on_message
  std::uint64_t bytes_received = 0; // from the socket (ciphertext for wss)
};

enum class WebSocketState : std::uint8_t {
  idle,       // not started
  connecting, // TCP connect in flight
  tls_handshake,
  upgrading,     // upgrade request sent, waiting for 101
  open,          // subscribed; messages flow
  closing,       // stop(): our close frame sent, waiting for the server's
  disconnecting, // the socket is being closed
  backoff,       // waiting to reconnect
  stopped,
};

[[nodiscard]] std::string_view to_string(WebSocketState state) noexcept;

class WebSocketClient final : private ConnectionHandler {
public:
  // Takes a slot in `loop`, which must outlive the client. Throws on a bad
  // TLS CA file (TlsClient) or when the loop has no free slot.
  WebSocketClient(EventLoop& loop, WebSocketHandler& handler, WebSocketClientOptions options);
  // Releases the slot; an open socket is closed without a closing handshake
  // (call stop() and run the loop until stopped() for a clean one).
  ~WebSocketClient();

  // Starts connecting (idle or stopped only).
  void start();
  // Sends a close and ends the session; stopped() once the socket is closed.
  void stop();
  [[nodiscard]] bool stopped() const noexcept { return state_ == WebSocketState::stopped; }

  // Sends one text frame. Only while open (including from subscribe());
  // false otherwise, or when the send queue is full, which drops the connection.
  [[nodiscard]] bool send_text(std::string_view text);
  // The handler saw a sequence gap: see ResubscribeMode. Ignored unless open
  // (a reconnect in progress resubscribes anyway).
  void request_resubscribe();

  [[nodiscard]] WebSocketState state() const noexcept { return state_; }
  [[nodiscard]] const WebSocketCounters& counters() const noexcept { return counters_; }
  // Why the last connection attempt or session ended.
  [[nodiscard]] std::string_view last_error() const noexcept { return last_error_; }
  [[nodiscard]] const WebSocketClientOptions& options() const noexcept { return options_; }

private:
  // ConnectionHandler
  void on_connected(int result) override;
  void on_received(const std::uint8_t* data, std::size_t size, std::size_t capacity) override;
  void on_receive_ended(int result) override;
  void on_send_failed(int result) override;
  void on_timer() override;
  void on_closed() override;

  void connect_now();
  [[nodiscard]] bool resolve();
  void send_upgrade();
  void consume_plaintext(const std::uint8_t* data, std::size_t size);
  void consume_upgrade_response(const std::uint8_t* data, std::size_t size);
  void decode_frames(std::span<const std::uint8_t> input);
  void on_server_close();
  void open_session();
  [[nodiscard]] bool send_control(websocket::Opcode opcode, std::span<const std::uint8_t> payload);
  [[nodiscard]] bool send_close(std::uint16_t code);
  [[nodiscard]] bool transmit(std::span<const std::uint8_t> bytes);
  [[nodiscard]] bool flush_tls();
  // How drop() ends the socket.
  enum class Teardown : std::uint8_t {
    abort,       // close now
    after_sends, // close once the queued sends (a close frame) are out
    await_close, // read and discard until the server closes TCP (or close_timeout passes): closing
                 // with unread data would reset the connection before the server reads our close frame
  };
  void drop(std::string_view reason, Teardown teardown = Teardown::abort, bool reconnect_at_once = false);
  void schedule_reconnect();
  void rearm_timer();

  EventLoop& loop_;
  WebSocketHandler& handler_;
  WebSocketClientOptions options_;
  ConnectionId id_;
  std::unique_ptr<TlsClient> tls_; // null for ws://
  websocket::FrameDecoder decoder_;

  WebSocketState state_ = WebSocketState::idle;
  bool stopping_ = false;
  bool session_was_open_ = false;
  bool reconnect_at_once_ = false;
  WebSocketCounters counters_;
  std::string last_error_;

  std::vector<sockaddr_storage> addresses_;
  std::vector<socklen_t> address_lengths_;
  std::size_t address_index_ = 0;

  common::SplitMix64 random_; // mask keys and Sec-WebSocket-Key nonces
  common::ReconnectBackoff backoff_;
  std::string key_;                      // Sec-WebSocket-Key of the current attempt
  std::string response_;                 // the upgrade response as it arrives (capacity reserved)
  std::vector<std::uint8_t> frame_;      // one outgoing frame (capacity reserved)
  std::vector<std::uint8_t> plaintext_;  // TLS: decrypted bytes on the way in
  std::vector<std::uint8_t> ciphertext_; // TLS: records on the way out (apart: a pong is sent mid-decode)

  Clock::time_point last_data_{};
  Clock::time_point next_keepalive_{};
  Clock::time_point deadline_{};       // of the current connecting, closing or backoff phase
  Clock::time_point armed_deadline_{}; // what the loop's timer is set to, if armed
  bool timer_armed_ = false;
};

} // namespace synthusd::feeds
