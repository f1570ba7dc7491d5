#pragma once
// Operations over HTTP on 127.0.0.1 (configurable): GET /metrics
// (Prometheus text), GET /health (200 "ok" or 503 "degraded: ..."), GET
// /transfers (the collateral transfers, JSON), and the mutating POST /kill,
// /resume, /transfers/approve/<id> and /transfers/settle/<id>, which need
// "Authorization: Bearer <token>". One request per connection; a body
// (Content-Length, at most max_body_bytes) is read whole and handed to the
// handler that takes one (settle); nothing here is on the event path.
//
// One thread, event-driven (epoll, non-blocking sockets), so that no client
// can hold off another: an idle or slow client costs a file descriptor and a
// few bytes, never the thread. The operator's POST /kill must get through
// whatever else is connected:
//  - each connection has a deadline to deliver its request head, and another
//    to take its response; it is closed when either passes;
//  - a request head is bounded (431 and closed beyond max_head_bytes), a
//    body too (413 beyond max_body_bytes; 400 for a malformed length);
//  - a response is written as the socket takes it (EPOLLOUT), never waited on;
//  - at max_connections, the connection that has waited longest for its
//    request head is closed to make room for the new one (evicted): a crowd
//    of idle clients cannot lock the operator out, they can only push one
//    another out. Only when every connection is already being answered is
//    the new one refused (closed at once).
//  - requests that complete in the same pass are answered mutating ones
//    first (/kill, /resume), then the rest.
// The handlers run on this thread; a handler that blocks holds everything
// (EngineRuntime::metrics_text waits at most 2 s, and only once while the
// kernel thread is stalled).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace synthusd::engine {

struct HttpOpsOptions {
  std::string address = "127.0.0.1"; // IPv4 literal
  int port = 9464;                   // 0: pick a free one (port() tells)
  std::string token;                 // required for POST; empty: mutating calls are refused
  // From accept to the blank line ending the request head (and its body).
  std::chrono::milliseconds head_deadline{5000};
  // From the response being ready to its last byte taken by the socket.
  std::chrono::milliseconds write_deadline{5000};
  std::size_t max_head_bytes = 8 * 1024;
  // A settlement is one short line; anything longer is not one.
  std::size_t max_body_bytes = 1024;
  // Open connections at most (each is a file descriptor; see the process's
  // RLIMIT_NOFILE). Beyond it the oldest still sending its head is evicted.
  std::size_t max_connections = 1024;
};

struct HttpOpsHandlers {
  std::function<std::string()> metrics;         // Prometheus text
  std::function<std::string()> health_problems; // empty: healthy
  std::function<void()> kill;
  std::function<void()> resume;
  // POST /transfers/approve/<id> ([transfers] require_approval): false when
  // no transfer executor runs. The executor ignores an id it does not hold.
  std::function<bool(std::uint64_t)> approve_transfer;
  // GET /transfers: the JSON listing; nullopt when no transfer executor runs.
  std::function<std::optional<std::string>()> list_transfers;
  // POST /transfers/settle/<id> with the request body ("sent <txid>" or
  // "not_sent"): the status (202, 400, 404, 409) and its text; nullopt when
  // no transfer executor runs.
  std::function<std::optional<std::pair<int, std::string>>(std::uint64_t, std::string_view)> settle_transfer;
};

// What the server saw since it started; /metrics carries the same figures as
// synthusd_ops_http_*.
struct HttpOpsCounters {
  std::uint64_t connections_accepted = 0; // admitted (evicted and refused ones not counted here)
  std::uint64_t connections_evicted = 0;  // closed before their head arrived, to make room at the cap
  std::uint64_t connections_refused = 0;  // closed on arrival: at the cap with every connection being answered
  std::uint64_t connections_timed_out = 0;
  std::uint64_t oversize_requests = 0; // head larger than max_head_bytes (431)
  std::uint64_t unauthorized = 0;      // mutating calls without the right token (401)
  std::uint64_t bad_requests = 0;      // malformed transfer ids and Content-Lengths (400)
  std::uint64_t open_connections = 0;
};

class HttpOps {
public:
  // Binds and starts serving; throws std::runtime_error naming the address.
  HttpOps(HttpOpsOptions options, HttpOpsHandlers handlers);
  ~HttpOps(); // stops the thread, closes every connection
  HttpOps(const HttpOps&) = delete;
  HttpOps& operator=(const HttpOps&) = delete;

  [[nodiscard]] int port() const noexcept { return port_; }
  [[nodiscard]] std::uint64_t unauthorized() const noexcept { return counts_.unauthorized.load(); }
  [[nodiscard]] HttpOpsCounters counters() const noexcept; // any thread

private:
  struct Loop; // the event loop's state, on the server thread only
  struct Counts {
    std::atomic<std::uint64_t> connections_accepted{0};
    std::atomic<std::uint64_t> connections_evicted{0};
    std::atomic<std::uint64_t> connections_refused{0};
    std::atomic<std::uint64_t> connections_timed_out{0};
    std::atomic<std::uint64_t> oversize_requests{0};
    std::atomic<std::uint64_t> unauthorized{0};
    std::atomic<std::uint64_t> bad_requests{0};
    std::atomic<std::uint64_t> open_connections{0};
  };

  HttpOpsOptions options_;
  HttpOpsHandlers handlers_;
  int listener_ = -1;
  int epoll_ = -1;
  int stop_event_ = -1; // eventfd: wakes the loop to stop
  int port_ = 0;
  Counts counts_;
  std::unique_ptr<Loop> loop_;
  std::thread thread_;
};

// Reads the admin token: the environment variable if set, else the file,
// which must be readable by its owner only. Throws naming the problem
// (never the token).
[[nodiscard]] std::string load_admin_token(const char* environment_variable, const std::string& file);

} // namespace synthusd::engine
