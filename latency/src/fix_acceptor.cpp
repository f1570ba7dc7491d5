#include "fix_acceptor.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <system_error>

#include "monotonic_clock.hpp"

namespace synthusd::latency {
namespace {

constexpr std::size_t kMaxInputBytes = 1 << 20; // a peer that sends more without a message is dropped

[[noreturn]] void fail(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

std::int64_t to_integer(std::string_view text) {
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

} // namespace

FixAcceptor::FixAcceptor() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    fail("socket");
  }
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listen_fd_, 8) != 0) {
    ::close(listen_fd_);
    fail("bind/listen (FIX acceptor)");
  }
  socklen_t length = sizeof address;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
}

FixAcceptor::~FixAcceptor() {
  for (auto& [fd, connection] : connections_) {
    ::close(fd);
  }
  ::close(listen_fd_);
}

void FixAcceptor::add_poll_fds(std::vector<pollfd>& fds) const {
  fds.push_back({listen_fd_, POLLIN, 0});
  for (const auto& [fd, connection] : connections_) {
    fds.push_back({fd, POLLIN, 0});
  }
}

bool FixAcceptor::logged_on(std::string_view sender_comp_id) const {
  for (const auto& [fd, connection] : connections_) {
    if (connection.logged_on && connection.sender == sender_comp_id) {
      return true;
    }
  }
  return false;
}

void FixAcceptor::handle_ready(const std::vector<pollfd>& fds, std::vector<OrderSeen>& orders) {
  for (const pollfd& ready : fds) {
    if (ready.revents == 0) {
      continue;
    }
    if (ready.fd == listen_fd_) {
      accept_all();
      continue;
    }
    const auto found = connections_.find(ready.fd);
    if (found == connections_.end()) {
      continue;
    }
    if (!read_from(found->second, orders)) {
      ::close(found->first);
      connections_.erase(found);
    }
  }
}

void FixAcceptor::accept_all() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      return;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    connections_[fd].fd = fd;
  }
}

bool FixAcceptor::read_from(Connection& connection, std::vector<OrderSeen>& orders) {
  char buffer[16384];
  for (;;) {
    const ssize_t got = ::recv(connection.fd, buffer, sizeof buffer, 0);
    // Taken before any parsing: the order was on our side of the socket now.
    const std::int64_t read_nanoseconds = monotonic_nanoseconds();
    if (got == 0) {
      return false;
    }
    if (got < 0) {
      return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    }
    connection.input.append(buffer, static_cast<std::size_t>(got));
    for (;;) {
      const std::ptrdiff_t length = fix_wire::complete_message(connection.input);
      if (length < 0 || (length == 0 && connection.input.size() > kMaxInputBytes)) {
        ++messages_rejected_;
        return false;
      }
      if (length == 0) {
        break;
      }
      const std::string message = connection.input.substr(0, static_cast<std::size_t>(length));
      connection.input.erase(0, static_cast<std::size_t>(length));
      if (!on_message(connection, message, read_nanoseconds, orders)) {
        return false;
      }
    }
  }
}

bool FixAcceptor::on_message(Connection& connection, std::string_view message, std::int64_t read_nanoseconds,
                             std::vector<OrderSeen>& orders) {
  const std::string_view type = fix_wire::field(message, 35);
  if (type == "A") {
    connection.sender = std::string(fix_wire::field(message, 49));
    connection.target = std::string(fix_wire::field(message, 56));
    if (fix_wire::field(message, 141) == "Y") {
      connection.next_sequence = 1;
    }
    builder_.start("A", connection.target, connection.sender, connection.next_sequence);
    builder_.add(98, std::int64_t{0});
    const std::string_view heartbeat = fix_wire::field(message, 108);
    builder_.add(108, heartbeat.empty() ? std::string_view("30") : heartbeat);
    if (fix_wire::field(message, 141) == "Y") {
      builder_.add(141, std::string_view("Y"));
    }
    send(connection);
    connection.logged_on = true;
    return true;
  }
  if (!connection.logged_on) {
    ++messages_rejected_;
    return false;
  }
  if (type == "D") {
    ++orders_received_;
    orders.push_back({connection.sender, read_nanoseconds, to_integer(fix_wire::field(message, 38)),
                      positions_[std::string(fix_wire::field(message, 55))]});
    fill(connection, message);
  } else if (type == "1") {
    builder_.start("0", connection.target, connection.sender, connection.next_sequence);
    builder_.add(112, fix_wire::field(message, 112));
    send(connection);
  } else if (type == "2") {
    // Nothing worth resending (fills are reported again by position
    // reports): gap-fill to our next sequence number.
    builder_.start("4", connection.target, connection.sender, to_integer(fix_wire::field(message, 7)));
    builder_.add(43, std::string_view("Y"));
    builder_.add(123, std::string_view("Y"));
    builder_.add(36, static_cast<std::int64_t>(connection.next_sequence));
    const std::string_view text = builder_.finish();
    ::send(connection.fd, text.data(), text.size(), MSG_NOSIGNAL);
  } else if (type == "q") {
    // OrderMassCancelReport: nothing was open (every order is filled at once).
    builder_.start("r", connection.target, connection.sender, connection.next_sequence);
    builder_.add(11, fix_wire::field(message, 11));
    builder_.add(37, "M" + std::to_string(next_id_++));
    builder_.add(530, fix_wire::field(message, 530));
    builder_.add(531, fix_wire::field(message, 530));
    builder_.add(533, std::int64_t{0});
    send(connection);
  } else if (type == "AN") {
    answer_positions(connection, message);
  } else if (type == "5") {
    builder_.start("5", connection.target, connection.sender, connection.next_sequence);
    send(connection);
    return false;
  }
  // Heartbeats, order status and collateral requests need no answer here:
  // every order is filled at once, so none is ever open.
  return true;
}

void FixAcceptor::fill(Connection& connection, std::string_view order) {
  const std::string_view quantity = fix_wire::field(order, 38);
  const std::string_view symbol = fix_wire::field(order, 55);
  const std::string_view side = fix_wire::field(order, 54);
  std::string_view price = fix_wire::field(order, 44);
  if (price.empty()) {
    price = market_price_;
  }
  const std::int64_t contracts = to_integer(quantity);
  positions_[std::string(symbol)] += side == "1" ? contracts : -contracts;
  const std::string id = std::to_string(next_id_++);
  builder_.start("8", connection.target, connection.sender, connection.next_sequence);
  builder_.add(37, "O" + id);
  builder_.add(11, fix_wire::field(order, 11));
  builder_.add(17, "E" + id);
  builder_.add(150, std::string_view("F"));
  builder_.add(39, std::string_view("2"));
  builder_.add(55, symbol);
  builder_.add(54, side);
  builder_.add(38, quantity);
  builder_.add(32, quantity);
  builder_.add(31, price);
  builder_.add(14, quantity);
  builder_.add(151, std::int64_t{0});
  builder_.add(6, price);
  builder_.add(60, fix_wire::utc_timestamp());
  send(connection);
}

void FixAcceptor::answer_positions(Connection& connection, std::string_view request) {
  builder_.start("AP", connection.target, connection.sender, connection.next_sequence);
  builder_.add(721, "P" + std::to_string(next_id_++));
  builder_.add(710, fix_wire::field(request, 710));
  builder_.add(724, std::int64_t{0});
  builder_.add(715, std::string_view("20260101"));
  std::int64_t open = 0;
  for (const auto& [symbol, position] : positions_) {
    open += position != 0 ? 1 : 0;
  }
  if (open == 0) {
    builder_.add(728, std::int64_t{2}); // no positions found: flat
    builder_.add(727, std::int64_t{0});
  } else {
    builder_.add(728, std::int64_t{0});
    builder_.add(727, std::int64_t{1});
    builder_.add(702, open);
    for (const auto& [symbol, position] : positions_) {
      if (position != 0) {
        builder_.add(703, std::string_view("TQ"));
        builder_.add(704, position > 0 ? position : 0);
        builder_.add(705, position < 0 ? -position : 0);
        builder_.add(55, symbol);
      }
    }
  }
  send(connection);
}

void FixAcceptor::send(Connection& connection) {
  const std::string_view text = builder_.finish();
  ++connection.next_sequence;
  std::size_t sent = 0;
  while (sent < text.size()) {
    const ssize_t wrote = ::send(connection.fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (wrote < 0 && (errno == EAGAIN || errno == EINTR)) {
      continue; // loopback with small replies: the buffer frees at once
    }
    if (wrote <= 0) {
      return;
    }
    sent += static_cast<std::size_t>(wrote);
  }
}

} // namespace synthusd::latency
