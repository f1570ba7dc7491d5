#include "synthusd/venue/wallet_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string_view>
#include <system_error>

#include "synthusd/common/http_head.hpp"

namespace synthusd::venue {
namespace {

std::string reason_of(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 404:
    return "Not Found";
  case 413:
    return "Content Too Large";
  default:
    return "Error";
  }
}

std::string response(const WalletAnswer& answer) {
  return "HTTP/1.1 " + std::to_string(answer.status) + " " + reason_of(answer.status) +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(answer.body.size()) +
         "\r\nConnection: close\r\n\r\n" + answer.body;
}

enum class Parsed { incomplete, complete, malformed };

// Splits a complete request (head and Content-Length body) into `request`.
Parsed parse(const std::string& input, WalletRequest& request) {
  const std::size_t head_end = input.find("\r\n\r\n");
  if (head_end == std::string::npos) {
    return Parsed::incomplete;
  }
  const std::string_view head(input.data(), head_end);
  const std::size_t line_end = head.find("\r\n");
  const std::string_view line = head.substr(0, line_end);
  const std::size_t first_space = line.find(' ');
  const std::size_t second_space = line.find(' ', first_space + 1);
  if (first_space == std::string_view::npos || second_space == std::string_view::npos) {
    return Parsed::malformed;
  }
  request.method = std::string(line.substr(0, first_space));
  request.target = std::string(line.substr(first_space + 1, second_space - first_space - 1));
  std::size_t length = 0;
  const bool readable = common::for_each_header_field(head, [&](std::string_view name, std::string_view value) {
    if (common::equals_ignoring_case(name, "content-length")) {
      return std::from_chars(value.data(), value.data() + value.size(), length).ec == std::errc{} &&
             length <= WalletServer::kMaxRequestBytes;
    }
    if (common::equals_ignoring_case(name, "authorization")) {
      request.authorization = std::string(value);
    }
    return true;
  });
  if (!readable) {
    return Parsed::malformed;
  }
  if (input.size() < head_end + 4 + length) {
    return Parsed::incomplete;
  }
  request.body = input.substr(head_end + 4, length);
  return Parsed::complete;
}

} // namespace

WalletServer::WalletServer(std::uint16_t port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    throw std::system_error(errno, std::generic_category(), "wallet socket");
  }
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    const int failure = errno;
    ::close(listen_fd_);
    throw std::system_error(failure, std::generic_category(), "wallet bind/listen on port " + std::to_string(port));
  }
  socklen_t length = sizeof address;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
}

WalletServer::~WalletServer() {
  for (const auto& [fd, connection] : connections_) {
    ::close(fd);
  }
  ::close(listen_fd_);
}

void WalletServer::add_poll_fds(std::vector<pollfd>& fds) const {
  fds.push_back(pollfd{listen_fd_, POLLIN, 0});
  for (const auto& [fd, connection] : connections_) {
    fds.push_back(pollfd{fd, static_cast<short>(connection.output.empty() ? POLLIN : POLLOUT), 0});
  }
}

void WalletServer::accept_all() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      return;
    }
    if (connections_.size() >= kMaxConnections) {
      ::close(fd); // bounded: a flood of idle connections cannot grow the venue
      continue;
    }
    connections_.emplace(fd, Connection{});
  }
}

bool WalletServer::read_from(int fd, Connection& connection, const Handler& handler) {
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n == 0) {
      return false;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        break;
      }
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    connection.input.append(buffer, static_cast<std::size_t>(n));
    if (connection.input.size() > kMaxRequestBytes + 8192) {
      connection.output = response({413, R"({"error":"request too large"})"});
      connection.answered = true;
      return true;
    }
  }
  WalletRequest request;
  switch (parse(connection.input, request)) {
  case Parsed::incomplete:
    return true;
  case Parsed::malformed:
    connection.output = response({400, R"({"error":"malformed HTTP request"})"});
    break;
  case Parsed::complete:
    connection.output = response(handler(request));
    break;
  }
  connection.answered = true;
  return true;
}

bool WalletServer::flush(int fd, Connection& connection) {
  while (!connection.output.empty()) {
    const ssize_t n = ::send(fd, connection.output.data(), connection.output.size(), MSG_NOSIGNAL);
    if (n < 0) {
      return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    }
    connection.output.erase(0, static_cast<std::size_t>(n));
  }
  return !connection.answered; // answered and written: close
}

void WalletServer::handle_ready(const std::vector<pollfd>& fds, const Handler& handler) {
  for (const pollfd& entry : fds) {
    if (entry.revents == 0) {
      continue;
    }
    if (entry.fd == listen_fd_) {
      accept_all();
      continue;
    }
    const auto found = connections_.find(entry.fd);
    if (found == connections_.end()) {
      continue; // another server's descriptor
    }
    bool keep = true;
    if ((entry.revents & (POLLERR | POLLNVAL)) != 0) {
      keep = false;
    } else if (!found->second.answered && (entry.revents & (POLLIN | POLLHUP)) != 0) {
      keep = read_from(entry.fd, found->second, handler);
    }
    if (keep && found->second.answered) {
      keep = flush(entry.fd, found->second);
    }
    if (!keep) {
      ::close(entry.fd);
      connections_.erase(found);
    }
  }
}

} // namespace synthusd::venue
