#pragma once
// Operations over HTTP on 127.0.0.1 (configurable): GET /metrics
// (Prometheus text), GET /health (200 "ok" or 503 "degraded: ..."), and the
// mutating POST /kill and POST /resume, which need "Authorization: Bearer
// <token>". A small HTTP/1.1 server on its own thread: one request per
// connection, bodies ignored, nothing here is on the event path.

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace synthusd::engine {

struct HttpOpsOptions {
  std::string address = "127.0.0.1"; // IPv4 literal
  int port = 9464;                   // 0: pick a free one (port() tells)
  std::string token;                 // required for POST; empty: mutating calls are refused
};

struct HttpOpsHandlers {
  std::function<std::string()> metrics;         // Prometheus text
  std::function<std::string()> health_problems; // empty: healthy
  std::function<void()> kill;
  std::function<void()> resume;
};

class HttpOps {
public:
  // Binds and starts serving; throws std::runtime_error naming the address.
  HttpOps(HttpOpsOptions options, HttpOpsHandlers handlers);
  ~HttpOps(); // stops the thread
  HttpOps(const HttpOps&) = delete;
  HttpOps& operator=(const HttpOps&) = delete;

  [[nodiscard]] int port() const noexcept { return port_; }
  [[nodiscard]] std::uint64_t unauthorized() const noexcept { return unauthorized_.load(); }

private:
  void serve();
  void handle(int fd);

  HttpOpsOptions options_;
  HttpOpsHandlers handlers_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> unauthorized_{0};
  std::thread thread_;
};

// Reads the admin token: the environment variable if set, else the file,
// which must be readable by its owner only. Throws naming the problem
// (never the token).
[[nodiscard]] std::string load_admin_token(const char* environment_variable, const std::string& file);

} // namespace synthusd::engine
