#pragma once
// The simulator wallet's HTTP/1.1 listener ([wallet] enabled): 127.0.0.1
// only, non-blocking and polled by the venue thread like the WebSocket
// server, one request per connection (answered with Connection: close).
// Requests are bounded (kMaxRequestBytes, kMaxConnections); what exceeds
// them or is not HTTP is answered 400/413 or dropped.

#include <poll.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "synthusd/venue/wallet_api.hpp"

namespace synthusd::venue {

class WalletServer {
public:
  static constexpr std::size_t kMaxRequestBytes = 64 * 1024;
  static constexpr std::size_t kMaxConnections = 64;

  using Handler = std::function<WalletAnswer(const WalletRequest&)>;

  // Binds 127.0.0.1:port (0: any free port). Throws std::system_error.
  explicit WalletServer(std::uint16_t port);
  ~WalletServer();
  WalletServer(const WalletServer&) = delete;
  WalletServer& operator=(const WalletServer&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  void add_poll_fds(std::vector<pollfd>& fds) const;
  // Accepts, reads, answers complete requests through `handler`, writes.
  void handle_ready(const std::vector<pollfd>& fds, const Handler& handler);

private:
  struct Connection {
    std::string input;
    std::string output;
    bool answered = false;
  };

  void accept_all();
  // false: close the connection.
  bool read_from(int fd, Connection& connection, const Handler& handler);
  bool flush(int fd, Connection& connection);

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::map<int, Connection> connections_;
};

} // namespace synthusd::venue
