#include "synthusd/engine/http_ops.hpp"

#include <arpa/inet.h>
#include <charconv>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <list>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "http_request.hpp"
#include "synthusd/engine/prometheus_text.hpp"

namespace synthusd::engine {

namespace {

using Clock = std::chrono::steady_clock;

// epoll tags: connections are numbered from kFirstConnection, never reused,
// so an event for a connection closed earlier in the same pass finds nothing.
constexpr std::uint64_t kListenerTag = 0;
constexpr std::uint64_t kStopTag = 1;
constexpr std::uint64_t kFirstConnection = 2;
constexpr int kEventsPerPass = 64;
// New connections taken per pass: a burst of connects cannot starve the
// connections already open (their requests are read first).
constexpr int kAcceptsPerPass = 64;
// Out of file descriptors with nobody to evict: stop accepting for a while
// rather than spin on a listener that stays readable.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);
// Bytes read from a connection before it is closed, so that a request body
// still in flight does not turn the close into a reset that could cost the
// client its response.
constexpr std::size_t kDrainBeforeClose = 64 * 1024;

struct Connection {
  std::uint64_t tag = 0;
  int fd = -1;
  Clock::time_point deadline;
  std::string in;             // the request head (and body) so far
  std::size_t head_bytes = 0; // the head's length, once its end arrived
  std::size_t body_bytes = 0; // its Content-Length
  std::string out;
  std::size_t sent = 0;
  std::uint32_t watching = 0; // epoll events registered
};

using Connections = std::list<Connection>;

// A short answer for a connection about to be closed, if its socket takes
// it at once; never waited for.
void send_now(int fd, const std::string& text) {
  (void)::send(fd, text.data(), text.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

void add_counter(PrometheusText& out, std::string_view name, std::string_view help,
                 const std::atomic<std::uint64_t>& value) {
  out.counter(name, help, value.load());
}

} // namespace

struct HttpOps::Loop {
  explicit Loop(HttpOps& owner) : ops(owner) {}
  ~Loop() {
    for (Connections* list : {&reading, &writing}) {
      for (const Connection& connection : *list) {
        ::close(connection.fd);
      }
    }
  }
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  void run();

private:
  enum class Read { waiting, complete, oversize, oversize_body, bad_length, closed };
  struct Complete {
    std::uint64_t tag;
    bool mutating;
  };

  [[nodiscard]] std::size_t open() const noexcept { return reading.size() + writing.size(); }
  [[nodiscard]] int wait_milliseconds(Clock::time_point now) const;
  void accept_new(Clock::time_point now);
  void admit(int fd, Clock::time_point now);
  void evict_oldest_reading();
  void on_readable(Connections::iterator it);
  [[nodiscard]] Read read_from(Connection& connection) const;
  void respond(Connections::iterator it, std::string text);
  void write_some(Connections::iterator it);
  void watch(Connection& connection, std::uint32_t events);
  void close(Connections::iterator it, bool drain);
  void expire(Clock::time_point now);
  [[nodiscard]] std::string answer(const Connection& connection);
  [[nodiscard]] bool authorized(const http::RequestHead& request);
  [[nodiscard]] std::string metrics_page();

  HttpOps& ops;
  Connections reading; // waiting for their request head, oldest first (= earliest deadline)
  Connections writing; // being answered, in the order their responses were ready (= deadline order)
  std::unordered_map<std::uint64_t, Connections::iterator> by_tag;
  std::uint64_t next_tag = kFirstConnection;
  bool accepting = true;
  Clock::time_point resume_accepting;
  std::vector<Complete> complete; // request heads completed in this pass
};

HttpOps::HttpOps(HttpOpsOptions options, HttpOpsHandlers handlers)
    : options_(std::move(options)), handlers_(std::move(handlers)) {
  options_.max_connections = std::max<std::size_t>(options_.max_connections, 1);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(options_.port));
  if (::inet_pton(AF_INET, options_.address.c_str(), &address.sin_addr) != 1) {
    throw std::invalid_argument("http ops: address must be an IPv4 literal: " + options_.address);
  }
  const auto fail = [&](const std::string& what) {
    const std::string why = std::strerror(errno);
    for (const int fd : {listener_, epoll_, stop_event_}) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
    throw std::runtime_error("http ops: " + what + ": " + why);
  };
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int yes = 1;
  // SOMAXCONN: connections wait in the kernel's queue until the loop takes
  // them, instead of having their SYNs dropped and retried a second later.
  if (listener_ < 0 || ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes) != 0 ||
      ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener_, SOMAXCONN) != 0) {
    fail("cannot listen on " + options_.address + ":" + std::to_string(options_.port));
  }
  socklen_t length = sizeof address;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  stop_event_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_ < 0 || stop_event_ < 0) {
    fail("cannot create its event loop");
  }
  epoll_event listener_event{};
  listener_event.events = EPOLLIN;
  listener_event.data.u64 = kListenerTag;
  epoll_event stop_event{};
  stop_event.events = EPOLLIN;
  stop_event.data.u64 = kStopTag;
  if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, listener_, &listener_event) != 0 ||
      ::epoll_ctl(epoll_, EPOLL_CTL_ADD, stop_event_, &stop_event) != 0) {
    fail("cannot watch its sockets");
  }
  loop_ = std::make_unique<Loop>(*this);
  thread_ = std::thread([this] { loop_->run(); });
}

HttpOps::~HttpOps() {
  const std::uint64_t one = 1;
  (void)::write(stop_event_, &one, sizeof one);
  if (thread_.joinable()) {
    thread_.join();
  }
  loop_.reset(); // closes every connection
  ::close(stop_event_);
  ::close(epoll_);
  ::close(listener_);
}

HttpOpsCounters HttpOps::counters() const noexcept {
  HttpOpsCounters c;
  c.connections_accepted = counts_.connections_accepted.load();
  c.connections_evicted = counts_.connections_evicted.load();
  c.connections_refused = counts_.connections_refused.load();
  c.connections_timed_out = counts_.connections_timed_out.load();
  c.oversize_requests = counts_.oversize_requests.load();
  c.unauthorized = counts_.unauthorized.load();
  c.bad_requests = counts_.bad_requests.load();
  c.open_connections = counts_.open_connections.load();
  return c;
}

void HttpOps::Loop::run() {
  std::vector<epoll_event> events(kEventsPerPass);
  while (true) {
    const int ready = ::epoll_wait(ops.epoll_, events.data(), kEventsPerPass, wait_milliseconds(Clock::now()));
    if (ready < 0 && errno != EINTR) {
      return; // cannot happen with a valid epoll descriptor; the destructor still joins
    }
    bool listener_ready = false;
    complete.clear();
    for (int i = 0; i < ready; ++i) {
      const std::uint64_t tag = events[i].data.u64;
      if (tag == kStopTag) {
        return;
      }
      if (tag == kListenerTag) {
        listener_ready = true;
        continue;
      }
      const auto found = by_tag.find(tag);
      if (found == by_tag.end()) {
        continue; // closed earlier in this pass
      }
      if (found->second->out.empty()) {
        on_readable(found->second);
      } else {
        write_some(found->second);
      }
    }
    // Mutating requests first: the operator's POST /kill does not wait for
    // the scrapes that completed in the same pass.
    std::stable_partition(complete.begin(), complete.end(), [](const Complete& c) { return c.mutating; });
    for (const Complete& request : complete) {
      const auto found = by_tag.find(request.tag);
      if (found != by_tag.end()) {
        respond(found->second, answer(*found->second));
      }
    }
    const Clock::time_point now = Clock::now();
    if (!accepting && now >= resume_accepting) {
      epoll_event listener_event{};
      listener_event.events = EPOLLIN;
      listener_event.data.u64 = kListenerTag;
      accepting = ::epoll_ctl(ops.epoll_, EPOLL_CTL_ADD, ops.listener_, &listener_event) == 0;
      listener_ready = accepting;
    }
    if (listener_ready) {
      accept_new(now);
    }
    expire(Clock::now());
  }
}

int HttpOps::Loop::wait_milliseconds(Clock::time_point now) const {
  std::optional<Clock::time_point> next;
  const auto consider = [&](Clock::time_point when) { next = next ? std::min(*next, when) : when; };
  if (!reading.empty()) {
    consider(reading.front().deadline);
  }
  if (!writing.empty()) {
    consider(writing.front().deadline);
  }
  if (!accepting) {
    consider(resume_accepting);
  }
  if (!next) {
    return -1;
  }
  if (*next <= now) {
    return 0;
  }
  // Rounded up: waking a little before a deadline would only spin.
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*next - now).count();
  return static_cast<int>(std::min<std::int64_t>(wait, 60'000));
}

void HttpOps::Loop::accept_new(Clock::time_point now) {
  for (int i = 0; i < kAcceptsPerPass; ++i) {
    const int fd = ::accept4(ops.listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) {
        continue;
      }
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        if (!reading.empty()) {
          evict_oldest_reading(); // frees a descriptor for the one waiting
          continue;
        }
        ::epoll_ctl(ops.epoll_, EPOLL_CTL_DEL, ops.listener_, nullptr);
        accepting = false;
        resume_accepting = now + kAcceptPause;
      }
      return; // EAGAIN: nobody else is waiting
    }
    if (open() >= ops.options_.max_connections) {
      if (reading.empty()) {
        // Every connection is being answered: they finish by their write
        // deadline; this one is told to come back.
        ops.counts_.connections_refused.fetch_add(1);
        send_now(fd, http::response(503, "Service Unavailable", "too many connections\n"));
        ::close(fd);
        continue;
      }
      evict_oldest_reading();
    }
    admit(fd, now);
  }
}

void HttpOps::Loop::admit(int fd, Clock::time_point now) {
  const std::uint64_t tag = next_tag++;
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = tag;
  if (::epoll_ctl(ops.epoll_, EPOLL_CTL_ADD, fd, &event) != 0) {
    ::close(fd);
    return;
  }
  Connection& connection = reading.emplace_back();
  connection.tag = tag;
  connection.fd = fd;
  connection.deadline = now + ops.options_.head_deadline;
  connection.watching = EPOLLIN;
  by_tag.emplace(tag, std::prev(reading.end()));
  ops.counts_.connections_accepted.fetch_add(1);
  ops.counts_.open_connections.store(open());
}

void HttpOps::Loop::evict_oldest_reading() {
  ops.counts_.connections_evicted.fetch_add(1);
  send_now(reading.front().fd, http::response(503, "Service Unavailable", "too many connections\n"));
  close(reading.begin(), false);
}

void HttpOps::Loop::on_readable(Connections::iterator it) {
  switch (read_from(*it)) {
  case Read::waiting:
    return;
  case Read::closed:
    close(it, false);
    return;
  case Read::oversize:
    ops.counts_.oversize_requests.fetch_add(1);
    respond(it, http::response(431, "Request Header Fields Too Large",
                               "request head over " + std::to_string(ops.options_.max_head_bytes) + " bytes\n"));
    return;
  case Read::oversize_body:
    ops.counts_.oversize_requests.fetch_add(1);
    respond(it, http::response(413, "Content Too Large",
                               "request body over " + std::to_string(ops.options_.max_body_bytes) + " bytes\n"));
    return;
  case Read::bad_length:
    ops.counts_.bad_requests.fetch_add(1);
    respond(it, http::response(400, "Bad Request", "Content-Length must be one non-negative decimal\n"));
    return;
  case Read::complete:
    // Answered after every readable connection of this pass was read.
    watch(*it, 0);
    complete.push_back({it->tag, http::parse_head(it->in).method == "POST"});
    return;
  }
}

HttpOps::Loop::Read HttpOps::Loop::read_from(Connection& connection) const {
  char buffer[4096];
  while (true) {
    const ssize_t n = ::recv(connection.fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      const std::size_t searched = connection.in.size();
      connection.in.append(buffer, static_cast<std::size_t>(n));
      if (connection.head_bytes == 0) {
        const std::size_t end = http::head_end(connection.in, searched);
        if (end == std::string::npos) {
          if (connection.in.size() > ops.options_.max_head_bytes) {
            return Read::oversize;
          }
          continue;
        }
        if (end > ops.options_.max_head_bytes) {
          return Read::oversize;
        }
        // A body (POST /transfers/settle/<id>) is read whole, bounded;
        // the deadline for the head covers it too.
        const long long length = http::parse_head(std::string_view(connection.in).substr(0, end)).content_length;
        if (length < 0) {
          return Read::bad_length;
        }
        if (static_cast<unsigned long long>(length) > ops.options_.max_body_bytes) {
          return Read::oversize_body;
        }
        connection.head_bytes = end;
        connection.body_bytes = static_cast<std::size_t>(length);
      }
      if (connection.in.size() >= connection.head_bytes + connection.body_bytes) {
        connection.in.resize(connection.head_bytes + connection.body_bytes); // a pipelined rest is ignored
        return Read::complete;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return Read::waiting;
    }
    return Read::closed; // the client closed (0) or the connection failed
  }
}

void HttpOps::Loop::respond(Connections::iterator it, std::string text) {
  it->out = std::move(text);
  it->sent = 0;
  it->deadline = Clock::now() + ops.options_.write_deadline;
  writing.splice(writing.end(), reading, it); // iterators stay valid
  write_some(it);
}

void HttpOps::Loop::write_some(Connections::iterator it) {
  Connection& connection = *it;
  while (connection.sent < connection.out.size()) {
    const ssize_t n = ::send(connection.fd, connection.out.data() + connection.sent,
                             connection.out.size() - connection.sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      connection.sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      watch(connection, EPOLLOUT); // the rest when the socket takes it
      return;
    }
    close(it, false); // the client went away
    return;
  }
  close(it, true);
}

void HttpOps::Loop::watch(Connection& connection, std::uint32_t events) {
  if (connection.watching == events) {
    return;
  }
  epoll_event event{};
  event.events = events;
  event.data.u64 = connection.tag;
  ::epoll_ctl(ops.epoll_, EPOLL_CTL_MOD, connection.fd, &event);
  connection.watching = events;
}

void HttpOps::Loop::close(Connections::iterator it, bool drain) {
  if (drain) {
    char sink[4096];
    std::size_t drained = 0;
    ssize_t n = 0;
    while (drained < kDrainBeforeClose && (n = ::recv(it->fd, sink, sizeof sink, MSG_DONTWAIT)) > 0) {
      drained += static_cast<std::size_t>(n);
    }
  }
  const int fd = it->fd;
  by_tag.erase(it->tag);
  (it->out.empty() ? reading : writing).erase(it);
  ops.counts_.open_connections.store(open());
  ::close(fd); // last, so the counters are up to date when the client sees it; also leaves the epoll set
}

void HttpOps::Loop::expire(Clock::time_point now) {
  while (!reading.empty() && reading.front().deadline <= now) {
    ops.counts_.connections_timed_out.fetch_add(1);
    send_now(reading.front().fd, http::response(408, "Request Timeout", "request head not received in time\n"));
    close(reading.begin(), false);
  }
  while (!writing.empty() && writing.front().deadline <= now) {
    ops.counts_.connections_timed_out.fetch_add(1);
    close(writing.begin(), false);
  }
}

bool HttpOps::Loop::authorized(const http::RequestHead& request) {
  const std::string_view prefix = "Bearer ";
  const std::string_view authorization = request.authorization;
  if (authorization.starts_with(prefix) && http::same_token(ops.options_.token, authorization.substr(prefix.size()))) {
    return true;
  }
  ops.counts_.unauthorized.fetch_add(1);
  return false;
}

std::string HttpOps::Loop::answer(const Connection& connection) {
  const std::string_view text = connection.in;
  const http::RequestHead request = http::parse_head(text.substr(0, connection.head_bytes));
  const std::string_view body = text.substr(connection.head_bytes);
  const HttpOpsHandlers& handlers = ops.handlers_;
  const auto unauthorized = [] { return http::response(401, "Unauthorized", "a valid admin token is required\n"); };
  const auto no_executor = [] {
    return http::response(409, "Conflict", "no transfer executor runs ([transfers] enabled = false)\n");
  };
  try {
    if (request.path == "/metrics" || request.path == "/health" || request.path == "/transfers") {
      if (request.method != "GET") {
        return http::response(405, "Method Not Allowed", "use GET\n");
      }
      if (request.path == "/metrics") {
        return http::response(200, "OK", metrics_page(), "text/plain; version=0.0.4");
      }
      if (request.path == "/transfers") {
        const std::optional<std::string> listing = handlers.list_transfers ? handlers.list_transfers() : std::nullopt;
        return listing ? http::response(200, "OK", *listing, "application/json") : no_executor();
      }
      const std::string problems = handlers.health_problems ? handlers.health_problems() : std::string();
      return problems.empty() ? http::response(200, "OK", "ok\n")
                              : http::response(503, "Service Unavailable", "degraded: " + problems + "\n");
    }
    if (request.path == "/kill" || request.path == "/resume") {
      if (request.method != "POST") {
        return http::response(405, "Method Not Allowed", "use POST\n");
      }
      if (!authorized(request)) {
        return unauthorized();
      }
      const bool kill = request.path == "/kill";
      if (const auto& action = kill ? handlers.kill : handlers.resume; action) {
        action();
      }
      return http::response(200, "OK", kill ? "kill switch engaged\n" : "resumed\n");
    }
    const std::string_view approve = "/transfers/approve/";
    const std::string_view settle = "/transfers/settle/";
    if (request.path.starts_with(approve) || request.path.starts_with(settle)) {
      if (request.method != "POST") {
        return http::response(405, "Method Not Allowed", "use POST\n");
      }
      if (!authorized(request)) {
        return unauthorized();
      }
      const bool approving = request.path.starts_with(approve);
      const std::uint64_t id = http::positive_id_after(request.path, approving ? approve : settle);
      if (id == 0) {
        ops.counts_.bad_requests.fetch_add(1);
        return http::response(400, "Bad Request", "the transfer id must be a positive integer\n");
      }
      if (approving) {
        if (!handlers.approve_transfer || !handlers.approve_transfer(id)) {
          return no_executor();
        }
        return http::response(200, "OK", "approval passed to the transfer executor\n");
      }
      const std::optional<std::pair<int, std::string>> settled =
          handlers.settle_transfer ? handlers.settle_transfer(id, body) : std::nullopt;
      if (!settled) {
        return no_executor();
      }
      return http::response(settled->first, http::reason_of(settled->first), settled->second);
    }
    return http::response(404, "Not Found", "unknown path\n");
  } catch (const std::exception& error) {
    // A handler's failure is this request's, not the server's.
    return http::response(500, "Internal Server Error", std::string("handler failed: ") + error.what() + "\n");
  }
}

std::string HttpOps::Loop::metrics_page() {
  std::string page = ops.handlers_.metrics ? ops.handlers_.metrics() : std::string();
  if (!page.empty() && page.back() != '\n') {
    page += '\n';
  }
  const Counts& counts = ops.counts_;
  PrometheusText out;
  add_counter(out, "synthusd_ops_http_connections_accepted_total", "connections the ops HTTP server admitted",
              counts.connections_accepted);
  add_counter(out, "synthusd_ops_http_connections_evicted_total",
              "connections closed before their request head arrived, to make room at the connection cap",
              counts.connections_evicted);
  add_counter(out, "synthusd_ops_http_connections_refused_total",
              "connections closed on arrival: at the cap with every connection being answered",
              counts.connections_refused);
  add_counter(out, "synthusd_ops_http_connections_timed_out_total",
              "connections closed at their request head or response deadline", counts.connections_timed_out);
  add_counter(out, "synthusd_ops_http_oversize_requests_total",
              "request heads or bodies over their size limits (431, 413)", counts.oversize_requests);
  add_counter(out, "synthusd_ops_http_unauthorized_total", "mutating calls (POST) without the admin token (401)",
              counts.unauthorized);
  add_counter(out, "synthusd_ops_http_bad_requests_total",
              "requests refused as malformed (400: a transfer id, a Content-Length)", counts.bad_requests);
  out.gauge("synthusd_ops_http_open_connections", "connections open on the ops HTTP server",
            static_cast<std::int64_t>(open()));
  return page + out.take();
}

} // namespace synthusd::engine
