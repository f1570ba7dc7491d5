#pragma once
// One HTTP/1.1 GET to lnd's REST port, driven without blocking: connect
// (TCP, then TLS pinned to tls.cert), send the request with the macaroon,
// read the response head, decode the body. Shared by the invoice stream
// (a body that never ends), the first-start invoice backfill and the
// payment pages (bodies that do). The owner polls fd() for poll_events()
// and calls advance(); nothing here keeps time (deadlines are the owner's).
//
// lnd's REST gateway (grpc-gateway) writes the response head of a streaming
// call only together with its first message: an idle invoice stream is a
// connection with the request sent and nothing read. request_sent() is
// therefore what "connected" means for a stream, not a received head.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "synthusd/common/tls_stream.hpp"
#include "synthusd/liabilities/lnd_source.hpp"
#include "synthusd/liabilities/lnd_stream_parser.hpp"

namespace synthusd::liabilities::detail {

// The macaroon file's bytes in hex, for the Grpc-Metadata-macaroon header
// ("" for no file: lnd --no-macaroons). Throws std::runtime_error when the
// file cannot be read or is empty. The raw bytes are wiped after use.
[[nodiscard]] std::string read_macaroon_hex(const std::string& file);

// The reconnect backoff both lnd sources use (reconnect_min_ms..max_ms, 20 %
// jitter, seeded from the clock), after checking the port: throws
// std::invalid_argument when it is not 1 to 65535.
[[nodiscard]] common::ReconnectBackoff checked_reconnect_backoff(const LndOptions& options);

class LndExchange {
public:
  enum class Status : std::uint8_t {
    working, // call advance() again when poll() says so (or at once if more_to_read())
    done,    // a 200 response's body ended
    failed,  // error() says why (the connection is closed)
  };

  // `macaroon_hex` must outlive this. Throws std::invalid_argument for TLS without
  // tls_cert_file, std::runtime_error when that file cannot be loaded.
  LndExchange(const LndOptions& options, const std::string& macaroon_hex);
  ~LndExchange();
  LndExchange(const LndExchange&) = delete;
  LndExchange& operator=(const LndExchange&) = delete;

  // Closes whatever was open and starts GET `target` (path and query).
  // failed: error() says why.
  Status start(const std::string& target);
  // Drives the exchange with poll()'s `revents` for fd() (0: just try).
  // Appends at most one read's worth of body to `body`; reads nothing when
  // `read` is false (the owner is holding a message: TCP backpressure then
  // reaches lnd).
  Status advance(short revents, std::string& body, bool read);
  void close() noexcept;

  [[nodiscard]] bool active() const noexcept { return phase_ != Phase::idle; }
  [[nodiscard]] int fd() const noexcept { return transport_->fd(); }
  [[nodiscard]] short poll_events() const noexcept;
  // Decrypted bytes inside OpenSSL, or a read that filled the buffer: call
  // advance() again without waiting for poll().
  [[nodiscard]] bool more_to_read() const noexcept { return more_ || transport_->pending(); }
  // The request is on the wire: lnd has it, whether or not it answered yet.
  [[nodiscard]] bool request_sent() const noexcept { return phase_ >= Phase::reading_head; }
  [[nodiscard]] bool has_head() const noexcept { return phase_ == Phase::body; }
  // lnd answered 200 (a head was read and it says OK).
  [[nodiscard]] bool answered_ok() const noexcept { return phase_ == Phase::body && response_.status == 200; }
  [[nodiscard]] bool tcp_connected() const noexcept { return transport_->tcp_connected(); }
  [[nodiscard]] std::uint64_t connections() const noexcept { return connections_; }
  // A failure since the last call closed an established TCP connection.
  [[nodiscard]] bool take_dropped() noexcept { return std::exchange(dropped_, false); }
  // When the last byte arrived from lnd (or the request was sent).
  [[nodiscard]] std::chrono::steady_clock::time_point last_received() const noexcept { return last_received_; }
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

private:
  enum class Phase : std::uint8_t { idle, connecting, sending, reading_head, body };
  Status fail(std::string why);
  Status on_bytes(std::string_view bytes, std::string& body);

  const LndOptions& options_;
  const std::string& macaroon_hex_;
  std::unique_ptr<common::TlsStream> transport_;
  Phase phase_ = Phase::idle;
  bool want_write_ = false;
  bool more_ = false;
  std::string target_;
  std::string out_; // the request (it carries the macaroon)
  std::size_t out_sent_ = 0;
  std::string head_;
  HttpResponseHead response_;
  HttpBodyDecoder decoder_;
  std::string error_body_; // a non-200 answer's body, for error()
  std::uint64_t connections_ = 0;
  bool dropped_ = false;
  std::chrono::steady_clock::time_point last_received_{};
  std::string error_;
};

// Milliseconds from now until `when` for a poll() timeout: 0 when due,
// rounded up (waking a little early would only spin until the moment),
// capped at 1,000 s.
inline int milliseconds_until(std::chrono::steady_clock::time_point when, std::chrono::steady_clock::time_point now) {
  if (when <= now) {
    return 0;
  }
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(when - now).count();
  return static_cast<int>(std::min<std::int64_t>(ms, 1'000'000));
}

} // namespace synthusd::liabilities::detail
