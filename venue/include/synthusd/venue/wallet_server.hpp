#pragma once
// The simulator wallet's HTTP/1.1 listener ([wallet] enabled): 127.0.0.1
// only, non-blocking and polled by the venue thread like the WebSocket
// server, one request per connection (answered with Connection: close).
// Requests are bounded (kMaxRequestBytes, kMaxConnections, the idle
// timeout below); what exceeds them or is not HTTP is answered 400/413 or
// dropped.
//
// With a certificate and key (wallet.tls_cert_file / tls_key_file) every
// connection is TLS, as Deribit's API is HTTPS: the handshake is driven by
// the same poll loop (non-blocking, so a client that stalls it holds only
// its own connection slot), and a connection that is not TLS (plain HTTP to
// the TLS port) fails its handshake, is counted and closed unanswered.
//
// Bounded in time: every connection has a deadline, its accept time plus
// the idle timeout (wallet.idle_timeout_ms, 10 s by default). As each
// connection carries one request, that one bound covers a TLS handshake that
// never finishes, a request (head and body) never completed, a client that
// sends nothing, and an answer the client does not read. Past it the
// connection is closed (close_expired) and counted; the owner's poll loop
// waits no longer than next_deadline(), so no sleep and no thread is needed.
// Together with kMaxConnections this is what keeps slow or silent clients
// from holding the port: at the cap new connections are closed at once
// (counted), and the timeout frees the slots they hold.

#include <poll.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "synthusd/venue/wallet_api.hpp"

struct ssl_ctx_st;
struct ssl_st;

namespace synthusd::venue {

class WalletServer {
public:
  static constexpr std::size_t kMaxRequestBytes = 64 * 1024;
  static constexpr std::size_t kMaxConnections = 64;

  static constexpr std::chrono::milliseconds kDefaultIdleTimeout{10'000};

  using Clock = std::chrono::steady_clock;
  using Handler = std::function<WalletAnswer(const WalletRequest&)>;

  // Binds 127.0.0.1:port (0: any free port). Throws std::system_error. With
  // both PEM files given, serves TLS presenting them; throws
  // std::runtime_error naming the file when they cannot be loaded or do not
  // match. Throws std::invalid_argument for an idle timeout not above zero.
  explicit WalletServer(std::uint16_t port, const std::string& tls_certificate_file = {},
                        const std::string& tls_key_file = {},
                        std::chrono::milliseconds idle_timeout = kDefaultIdleTimeout);
  ~WalletServer();
  WalletServer(const WalletServer&) = delete;
  WalletServer& operator=(const WalletServer&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] bool tls() const noexcept { return context_ != nullptr; }
  // Connections closed because their TLS handshake failed (not TLS, wrong
  // version, aborted).
  [[nodiscard]] std::uint64_t handshake_failures() const noexcept { return handshake_failures_; }
  // Connections closed at their deadline (handshake, request or answer not
  // done within the idle timeout).
  [[nodiscard]] std::uint64_t timed_out_connections() const noexcept { return timed_out_connections_; }
  // Connections closed on accept because kMaxConnections were open.
  [[nodiscard]] std::uint64_t refused_connections() const noexcept { return refused_connections_; }
  [[nodiscard]] std::size_t open_connections() const noexcept { return connections_.size(); }
  [[nodiscard]] std::chrono::milliseconds idle_timeout() const noexcept { return idle_timeout_; }

  void add_poll_fds(std::vector<pollfd>& fds) const;
  // The earliest deadline of an open connection (none open: nullopt); the
  // owner's poll waits no longer than this before calling close_expired.
  [[nodiscard]] std::optional<Clock::time_point> next_deadline() const;
  // Accepts (a new connection's deadline is `now` + the idle timeout),
  // reads, answers complete requests through `handler`, writes.
  void handle_ready(const std::vector<pollfd>& fds, const Handler& handler, Clock::time_point now = Clock::now());
  // Closes every connection whose deadline is at or before `now`, counted
  // in timed_out_connections().
  void close_expired(Clock::time_point now = Clock::now());

private:
  struct Connection {
    std::string input;
    std::string output;
    bool answered = false;
    ssl_st* ssl = nullptr; // TLS only; owned, freed on close
    bool handshaken = false;
    short wanted = POLLIN; // what the connection waits for (TLS may need either way)
    Clock::time_point deadline;
  };

  void accept_all(Clock::time_point now);
  // false: close the connection.
  bool read_from(int fd, Connection& connection, const Handler& handler);
  bool flush(int fd, Connection& connection);
  // TLS: completes the handshake and reads what is there; false: close.
  bool read_tls(Connection& connection);
  static bool tls_waits_for_socket(Connection& connection, int result);
  bool flush_tls(Connection& connection);
  // Appends received bytes; false once the request is too large (answered 413).
  bool take(Connection& connection, const char* data, std::size_t size);
  void answer(Connection& connection, const Handler& handler);
  void close_connection(int fd, Connection& connection);

  int listen_fd_ = -1;
  ssl_ctx_st* context_ = nullptr;
  std::chrono::milliseconds idle_timeout_;
  std::uint64_t handshake_failures_ = 0;
  std::uint64_t timed_out_connections_ = 0;
  std::uint64_t refused_connections_ = 0;
  std::uint16_t port_ = 0;
  std::map<int, Connection> connections_;
};

} // namespace synthusd::venue
