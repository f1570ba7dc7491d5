#pragma once
// The harness's FIX 4.4 acceptor: the venue the engine (and the QuickFIX
// default-path peer) logs on to. It answers the session layer (Logon,
// TestRequest, Logout, ResendRequest with a gap fill), fills every
// NewOrderSingle at once (so the engine's position follows its orders and
// the next trigger finds the hedge where the schedule expects it), and
// answers RequestForPositions with the position those fills made. Each
// NewOrderSingle is reported to the owner with the time its bytes were read.
// Single-threaded: the owner's poll loop drives it.

#include <poll.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fix_wire.hpp"

namespace synthusd::latency {

struct OrderSeen {
  std::string sender_comp_id; // whose order: the engine's or the default path's
  std::int64_t read_nanoseconds = 0;
  std::int64_t quantity = 0;        // OrderQty, contracts
  std::int64_t position_before = 0; // the symbol's position before this order's fill
};

class FixAcceptor {
public:
  // Binds 127.0.0.1 on a free port and listens; throws std::system_error.
  FixAcceptor();
  ~FixAcceptor();
  FixAcceptor(const FixAcceptor&) = delete;
  FixAcceptor& operator=(const FixAcceptor&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  // The price a market order (no tag 44) is filled at.
  void set_market_price(std::string price) { market_price_ = std::move(price); }

  void add_poll_fds(std::vector<pollfd>& fds) const;
  // Reads whatever is ready; orders read go to `orders` with the monotonic
  // time taken right after the read that completed them.
  void handle_ready(const std::vector<pollfd>& fds, std::vector<OrderSeen>& orders);

  [[nodiscard]] bool logged_on(std::string_view sender_comp_id) const;
  [[nodiscard]] std::uint64_t orders_received() const noexcept { return orders_received_; }
  [[nodiscard]] std::uint64_t messages_rejected() const noexcept { return messages_rejected_; }

private:
  struct Connection {
    int fd = -1;
    std::string input;
    std::string sender; // the peer's SenderCompID (our TargetCompID)
    std::string target; // the peer's TargetCompID (our SenderCompID)
    std::uint64_t next_sequence = 1;
    bool logged_on = false;
  };

  void accept_all();
  // false: drop the connection.
  bool read_from(Connection& connection, std::vector<OrderSeen>& orders);
  bool on_message(Connection& connection, std::string_view message, std::int64_t read_nanoseconds,
                  std::vector<OrderSeen>& orders);
  void fill(Connection& connection, std::string_view order);
  void answer_positions(Connection& connection, std::string_view request);
  void send(Connection& connection);

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::map<int, Connection> connections_;
  fix_wire::MessageBuilder builder_;
  std::string market_price_ = "50000";
  std::map<std::string, std::int64_t> positions_; // per symbol, contracts (long > 0)
  std::uint64_t next_id_ = 1;
  std::uint64_t orders_received_ = 0;
  std::uint64_t messages_rejected_ = 0;
};

} // namespace synthusd::latency
