#pragma once
// Loopback clients for the ops HTTP server tests (http_ops_*_test.cpp).
// Every read has a limit, so a server that never answers fails the test
// instead of hanging it; the limits are generous (seconds) because they only
// bound a broken server, never measure a working one.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>

namespace synthusd::engine::http_testing {

using namespace std::chrono_literals;

class Client {
public:
  // Connects to 127.0.0.1:port. receive_buffer > 0 fixes the socket's
  // receive buffer (set before connecting, so the window is small from the
  // start): a client that stops reading then really holds the server's
  // response back.
  explicit Client(int port, int receive_buffer = 0) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  [[nodiscard]] bool connected() const noexcept { return connected_; }

  bool send(std::string_view text) {
    std::size_t sent = 0;
    while (sent < text.size()) {
      const ssize_t n = ::send(fd_, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  // Reads until the server closes the connection (end of stream or reset),
  // `bytes` arrived (0: no such stop), or `limit` passed.
  struct Reply {
    std::string text;
    bool closed = false; // by the server, before the limit
  };
  Reply read(std::chrono::milliseconds limit = 10s, std::size_t bytes = 0) {
    Reply reply;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    char buffer[65536];
    while (bytes == 0 || reply.text.size() < bytes) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd ready{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&ready, 1, static_cast<int>(left.count())) <= 0) {
        return reply;
      }
      const std::size_t want = bytes == 0 ? sizeof buffer : std::min(sizeof buffer, bytes - reply.text.size());
      const ssize_t n = ::recv(fd_, buffer, want, 0);
      if (n <= 0) {
        reply.closed = true;
        return reply;
      }
      reply.text.append(buffer, static_cast<std::size_t>(n));
    }
    return reply;
  }

  // Whether the server closed the connection or sent anything, without waiting.
  [[nodiscard]] bool heard_from_server() const {
    pollfd ready{fd_, POLLIN, 0};
    return ::poll(&ready, 1, 0) > 0;
  }

private:
  int fd_;
  bool connected_ = false;
};

// One request, the whole response (the server closes after answering).
inline std::string request(int port, std::string_view text) {
  Client client(port);
  EXPECT_TRUE(client.connected());
  EXPECT_TRUE(client.send(text));
  const Client::Reply reply = client.read();
  EXPECT_TRUE(reply.closed) << "no complete response within the limit: " << reply.text;
  return reply.text;
}

// Raises the soft limit on open descriptors toward the hard one; false when
// `needed` is beyond reach.
inline bool have_descriptors(rlim_t needed) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return false;
  }
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= needed) {
    return true;
  }
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < needed) {
    return false;
  }
  limit.rlim_cur = needed;
  return ::setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

// Polls `condition` until it holds or `limit` passes.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

} // namespace synthusd::engine::http_testing
