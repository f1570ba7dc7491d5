#pragma once
// One blocking HTTP/1.1 request over plain TCP, bounded in time and size:
// what the wallet clients (wallet_clients.hpp) need from the executor's I/O
// thread, where a call may block for a bounded time (transfer_executor.hpp).
// Plain TCP only: the counterparties are reached on loopback or through a
// local TLS-terminating tunnel (stunnel, lnd's REST behind a proxy); native
// TLS is not built yet.

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace synthusd::transfers {

struct HttpEndpoint {
  std::string host = "127.0.0.1"; // an IP literal or a name /etc/hosts answers
  int port = 0;
  std::chrono::milliseconds timeout{5000}; // the whole call: connect, send, receive
};

struct HttpResult {
  bool ok = false;   // a complete response was read (any status)
  int status = 0;    // the HTTP status code
  std::string body;  // the decoded body (Content-Length, chunked, or until close)
  std::string error; // why not ok
};

// The largest response body read; a longer one fails the call rather than
// growing without bound.
constexpr std::size_t kMaxHttpBody = 1U << 20U;

// `headers` are "Name: value" pairs written as given; Host, Content-Length and
// Connection: close are added.
[[nodiscard]] HttpResult http_call(const HttpEndpoint& endpoint, const std::string& method, const std::string& target,
                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                   const std::string& body);

} // namespace synthusd::transfers
