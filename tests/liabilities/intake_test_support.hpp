#pragma once
// What the intake's tests share: a loopback client, the engine clock at a
// fixed time, a send-and-serve exchange, and a look at a descriptor.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "synthusd/liabilities/liability_intake.hpp"

namespace synthusd::liabilities::intake_test {

inline int connect_tcp(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  return fd;
}

// The engine's clock at a fixed time: the lines' ts must lie within the
// live window around it (liabilities/PROTOCOL.md).
inline std::function<std::int64_t()> clock_at(std::int64_t milliseconds) {
  return [milliseconds] { return milliseconds; };
}

// Reads what has arrived on `fd` without waiting, and moves each complete
// line (without its newline) out of `partial` into `lines`.
inline void take_lines(int fd, std::string& partial, std::vector<std::string>& lines) {
  char buffer[65536];
  const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
  if (n <= 0) {
    return;
  }
  partial.append(buffer, static_cast<std::size_t>(n));
  for (std::size_t newline = partial.find('\n'); newline != std::string::npos; newline = partial.find('\n')) {
    lines.push_back(partial.substr(0, newline));
    partial.erase(0, newline + 1);
  }
}

// Sends `text`, then serves the intake until `lines` answers arrived.
inline std::vector<std::string> exchange(LiabilityIntake& intake, int fd, const std::string& text, std::size_t lines) {
  EXPECT_EQ(::send(fd, text.data(), text.size(), 0), static_cast<ssize_t>(text.size()));
  std::string received;
  std::vector<std::string> answers;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (answers.size() < lines && std::chrono::steady_clock::now() < deadline) {
    (void)intake.poll_once(10);
    take_lines(fd, received, answers);
  }
  return answers;
}

inline bool descriptor_readable(int fd, int timeout_ms = 0) {
  pollfd entry{fd, POLLIN, 0};
  return ::poll(&entry, 1, timeout_ms) == 1 && (entry.revents & POLLIN) != 0;
}

} // namespace synthusd::liabilities::intake_test
