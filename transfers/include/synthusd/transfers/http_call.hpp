#pragma once
// One blocking HTTP/1.1 request at a time, bounded in time and size, over
// plain TCP or TLS (common/tls_stream.hpp, the connection the LND sources
// use too): what the wallet clients (wallet_clients.hpp) need from the
// executor's I/O thread, where a call may block for a bounded time
// (transfer_executor.hpp).
//
// TLS as the counterparties serve it: lnd's REST port always speaks TLS with
// its own self-signed tls.cert, which the client pins (the only trust
// anchor); Deribit's API is public HTTPS, checked against the system CA
// store. Either way the certificate must name the server (server_name, or
// the host). Plain HTTP is for loopback (tests, the simulator, a local
// TLS-terminating tunnel); check-config refuses it to any other host.

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "synthusd/common/tls_stream.hpp"

namespace synthusd::transfers {

struct HttpEndpoint {
  // An IP literal or a name /etc/hosts answers; a name with several
  // addresses (localhost: ::1, 127.0.0.1) is tried one address per call.
  std::string host = "127.0.0.1";
  int port = 0;
  std::chrono::milliseconds timeout{5000}; // the whole call: connect, handshake, send, receive
  common::TlsSettings tls;                 // off: plain HTTP
};

struct HttpResult {
  bool ok = false;   // a complete response was read (any status)
  int status = 0;    // the HTTP status code
  std::string body;  // the decoded body (Content-Length, chunked, or until close)
  std::string error; // why not ok: which step failed ("TLS handshake with ... failed: ...")
};

// The largest response body read; a longer one fails the call rather than
// growing without bound.
constexpr std::size_t kMaxHttpBody = 1U << 20U;

class HttpClient {
public:
  // Loads the TLS trust anchors once; throws std::runtime_error naming the
  // certificate file (or the system store) when they cannot be loaded.
  explicit HttpClient(HttpEndpoint endpoint);

  // One request on a new connection (Connection: close). `headers` are
  // "Name: value" pairs written as given; Host, Content-Length and
  // Connection: close are added.
  [[nodiscard]] HttpResult call(const std::string& method, const std::string& target,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                const std::string& body);

  [[nodiscard]] const HttpEndpoint& endpoint() const noexcept { return endpoint_; }

private:
  HttpEndpoint endpoint_;
  common::TlsStream stream_;
};

} // namespace synthusd::transfers
