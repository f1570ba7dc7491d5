#pragma once
// The simulator wallet's HTTP/1.1 listener ([wallet] enabled): 127.0.0.1
// only, non-blocking and polled by the venue thread like the WebSocket
// server, one request per connection (answered with Connection: close).
// Requests are bounded (kMaxRequestBytes, kMaxConnections); what exceeds
// them or is not HTTP is answered 400/413 or dropped.
//
// With a certificate and key (wallet.tls_cert_file / tls_key_file) every
// connection is TLS, as Deribit's API is HTTPS: the handshake is driven by
// the same poll loop (non-blocking, so a client that stalls it holds only
// its own connection slot), and a connection that is not TLS (plain HTTP to
// the TLS port) fails its handshake, is counted and closed unanswered.
// Not bounded in time, plain or TLS: an idle connection keeps its slot
// until its client closes it.

#include <poll.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
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

  using Handler = std::function<WalletAnswer(const WalletRequest&)>;

  // Binds 127.0.0.1:port (0: any free port). Throws std::system_error. With
  // both PEM files given, serves TLS presenting them; throws
  // std::runtime_error naming the file when they cannot be loaded or do not
  // match.
  explicit WalletServer(std::uint16_t port, const std::string& tls_certificate_file = {},
                        const std::string& tls_key_file = {});
  ~WalletServer();
  WalletServer(const WalletServer&) = delete;
  WalletServer& operator=(const WalletServer&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] bool tls() const noexcept { return context_ != nullptr; }
  // Connections closed because their TLS handshake failed (not TLS, wrong
  // version, aborted).
  [[nodiscard]] std::uint64_t handshake_failures() const noexcept { return handshake_failures_; }
  void add_poll_fds(std::vector<pollfd>& fds) const;
  // Accepts, reads, answers complete requests through `handler`, writes.
  void handle_ready(const std::vector<pollfd>& fds, const Handler& handler);

private:
  struct Connection {
    std::string input;
    std::string output;
    bool answered = false;
    ssl_st* ssl = nullptr; // TLS only; owned, freed on close
    bool handshaken = false;
    short wanted = POLLIN; // what the connection waits for (TLS may need either way)
  };

  void accept_all();
  // false: close the connection.
  bool read_from(int fd, Connection& connection, const Handler& handler);
  bool flush(int fd, Connection& connection);
  // TLS: completes the handshake and reads what is there; false: close.
  bool read_tls(Connection& connection);
  bool flush_tls(Connection& connection);
  // Appends received bytes; false once the request is too large (answered 413).
  bool take(Connection& connection, const char* data, std::size_t size);
  void answer(Connection& connection, const Handler& handler);
  void close_connection(int fd, Connection& connection);

  int listen_fd_ = -1;
  ssl_ctx_st* context_ = nullptr;
  std::uint64_t handshake_failures_ = 0;
  std::uint16_t port_ = 0;
  std::map<int, Connection> connections_;
};

} // namespace synthusd::venue
