#include "synthusd/liabilities/liability_intake.hpp"

#include "synthusd/liabilities/wire_protocol.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <iterator>
#include <stdexcept>

namespace synthusd::liabilities {

struct LiabilityIntake::Connection {
  // An answer waiting for durability: released once the sink is durable up
  // to `ticket` (0: at once), `bytes` long in `answers`.
  struct Waiting {
    std::uint64_t ticket = 0;
    std::size_t bytes = 0;
  };
  int fd = -1;
  std::string in; // bytes read and not yet handled (a partial line at the end)
  // Every answer not yet written, in line order: the first `released` bytes
  // may be sent; the rest wait for durability, one `waiting` entry each
  // (from waiting_head). Reused, so an answer allocates nothing once they
  // have grown to the connection's usual load.
  std::string answers;
  std::size_t released = 0;
  std::vector<Waiting> waiting;
  std::size_t waiting_head = 0;
  bool paused = false; // its answers reached max_output_bytes: not read until it reads them

  // An answer is written at the end of `answers` from `start`; this files it.
  void answer_from(std::size_t start, std::uint64_t ticket) { waiting.push_back({ticket, answers.size() - start}); }
  [[nodiscard]] bool has_waiting() const noexcept { return waiting_head < waiting.size(); }
  bool discarding = false;                       // inside an oversized line: drop bytes until its newline
  bool blocked = false;                          // the sink was full: handle `in` before reading more
  bool closing = false;                          // the peer stopped writing: close once nothing is pending
  bool gone = false;                             // the peer is gone both ways (hang-up, error, failed send): close now
  std::uint32_t interest = EPOLLIN | EPOLLRDHUP; // what epoll watches for it now
};

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("liability intake: " + what + ": " + std::strerror(errno));
}

// Bytes read from one connection per poll at most: a client writing a
// flood cannot hold the thread that polls (the engine's one-thread hot path
// also reads the market) for more than about a hundred lines; the rest
// stays in the socket, which keeps the descriptor readable for the next poll.
constexpr std::size_t kReadBudgetBytes = 16 * 1024;

void append_number(std::string& out, std::uint64_t value) {
  char digits[20];
  const auto result = std::to_chars(std::begin(digits), std::end(digits), value);
  out.append(digits, result.ptr);
}

} // namespace

LiabilityIntake::LiabilityIntake(IntakeOptions options, LiabilityAdmission& admission)
    : options_(std::move(options)), admission_(admission) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    fail("epoll_create1");
  }
  if (!options_.unix_socket_path.empty()) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (options_.unix_socket_path.size() >= sizeof(address.sun_path)) {
      throw std::invalid_argument("liability intake: unix socket path too long: " + options_.unix_socket_path);
    }
    std::strcpy(address.sun_path, options_.unix_socket_path.c_str());
    ::unlink(options_.unix_socket_path.c_str());
    unix_listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (unix_listener_ < 0 || ::bind(unix_listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(unix_listener_, 16) != 0) {
      fail("cannot listen on " + options_.unix_socket_path);
    }
    epoll_event event{EPOLLIN, {.fd = unix_listener_}};
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, unix_listener_, &event);
  }
  if (options_.tcp_port >= 0) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(options_.tcp_port));
    if (::inet_pton(AF_INET, options_.tcp_host.c_str(), &address.sin_addr) != 1) {
      throw std::invalid_argument("liability intake: tcp_host must be an IPv4 address: " + options_.tcp_host);
    }
    tcp_listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    const int yes = 1;
    ::setsockopt(tcp_listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (tcp_listener_ < 0 || ::bind(tcp_listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(tcp_listener_, 16) != 0) {
      fail("cannot listen on " + options_.tcp_host + ":" + std::to_string(options_.tcp_port));
    }
    socklen_t length = sizeof address;
    ::getsockname(tcp_listener_, reinterpret_cast<sockaddr*>(&address), &length);
    bound_tcp_port_ = ntohs(address.sin_port);
    epoll_event event{EPOLLIN, {.fd = tcp_listener_}};
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, tcp_listener_, &event);
  }
}

LiabilityIntake::~LiabilityIntake() {
  for (const auto& connection : connections_) {
    ::close(connection->fd);
  }
  for (const int fd : {unix_listener_, tcp_listener_, epoll_fd_}) {
    if (fd >= 0) {
      ::close(fd);
    }
  }
  if (!options_.unix_socket_path.empty()) {
    ::unlink(options_.unix_socket_path.c_str());
  }
}

void LiabilityIntake::accept_from(int listener) {
  while (true) {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      return;
    }
    auto connection = std::make_unique<Connection>();
    connection->fd = fd;
    epoll_event event{EPOLLIN | EPOLLRDHUP, {.fd = fd}};
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
    connections_.push_back(std::move(connection));
    ++counters_.connections;
  }
}

bool LiabilityIntake::read_from(Connection& connection) {
  char buffer[4096];
  // Bounded: a client that floods us while the kernel's queue is full is
  // simply not read (TCP backpressure) until the queue drains.
  std::size_t budget = kReadBudgetBytes;
  while (!connection.blocked && connection.in.size() < options_.max_line_bytes * 16 && budget > 0) {
    if (output_full(connection)) {
      // A client that writes and does not read its answers: stop reading it
      // (TCP backpressure reaches it) and wait until it can take more, so
      // its answers cannot grow without bound (update_interest: no EPOLLIN).
      if (!connection.paused) {
        connection.paused = true;
        ++counters_.paused;
      }
      return true;
    }
    const ssize_t n = ::read(connection.fd, buffer, std::min(sizeof buffer, budget));
    if (n == 0) {
      return false;
    }
    if (n < 0) {
      return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    }
    budget -= static_cast<std::size_t>(n);
    connection.in.append(buffer, static_cast<std::size_t>(n));
    process_lines(connection);
  }
  return true;
}

void LiabilityIntake::update_interest(Connection& connection) {
  // Level-triggered: whatever is watched and ready reports again on every
  // wait, so only what this poll can act on is watched. A connection held
  // back (the sink was full, or no price yet) or paused is not read; its
  // socket's unread bytes must not make every wait return at once (the
  // one-thread hot path would spin). Hang-ups and errors are reported
  // whatever the mask. Answers that did not fit into the socket ask for
  // EPOLLOUT only while they wait.
  // A closing connection (the peer sent its last line) is not read again:
  // its end of input would report on every wait.
  std::uint32_t wanted = connection.blocked || connection.paused || connection.closing ? 0U : EPOLLIN | EPOLLRDHUP;
  if (connection.released > 0) {
    wanted |= EPOLLOUT;
  }
  if (wanted != connection.interest) {
    epoll_event event{wanted, {.fd = connection.fd}};
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection.fd, &event);
    connection.interest = wanted;
  }
}

void LiabilityIntake::process_lines(Connection& connection) {
  std::size_t start = 0;
  connection.blocked = false;
  while (start < connection.in.size()) {
    const std::size_t newline = connection.in.find('\n', start);
    if (newline == std::string::npos) {
      // An unfinished line already over the limit: drop its bytes as they
      // come, and answer once its newline arrives.
      if (connection.discarding || connection.in.size() - start > options_.max_line_bytes) {
        connection.discarding = true;
        start = connection.in.size();
      }
      break;
    }
    if (connection.discarding || newline - start > options_.max_line_bytes) {
      connection.discarding = false;
      ++counters_.lines;
      ++counters_.rejected;
      const std::string reason = "line longer than " + std::to_string(options_.max_line_bytes) + " bytes";
      rejections_.record(reason);
      const std::size_t answer_start = connection.answers.size();
      connection.answers += "{\"reject\":\"\",\"reason\":";
      append_json_string(connection.answers, reason);
      connection.answers += "}\n";
      connection.answer_from(answer_start, 0);
      start = newline + 1;
      continue;
    }
    if (!handle_line(connection, std::string_view(connection.in).substr(start, newline - start))) {
      connection.blocked = true;
      ++counters_.backpressure;
      break;
    }
    start = newline + 1;
  }
  connection.in.erase(0, start);
}

bool LiabilityIntake::handle_line(Connection& connection, std::string_view line) {
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  if (line.empty()) {
    return true;
  }
  // request_ and reason_ are reused line after line (their strings keep
  // their capacity), and answers are written straight into the
  // connection's buffer: an accepted payment allocates nothing here.
  LiabilityRequest& request = request_;
  std::string& reason = reason_;
  std::string& out = connection.answers;
  const std::size_t answer_start = out.size();
  const auto reject = [&](std::string_view id, std::string_view why) {
    ++counters_.lines;
    ++counters_.rejected;
    rejections_.record(why, id.empty() ? std::string() : "id " + std::string(id)); // cold: a tally by reason
    out += "{\"reject\":";
    append_json_string(out, id);
    out += ",\"reason\":";
    append_json_string(out, why);
    out += "}\n";
    connection.answer_from(answer_start, 0);
  };
  const auto close_ack = [&] {
    if (request.pay_index) {
      out += ",\"pay_index\":";
      append_number(out, *request.pay_index);
    }
    out += "}\n";
  };
  if (!parse_liability_line(line, request, reason)) {
    reject("", reason);
    return true;
  }
  if (request.kind == RequestKind::liability && !request.usd_cents && !admission_.sink().index_price().is_valid()) {
    // Sats with no valid index price to convert them (none yet, or the
    // price oracle lost its sources): hold the line, as for a full queue,
    // rather than refuse a payment the source may never send again.
    return false;
  }
  const Admission admission = admission_.admit(request);
  switch (admission.outcome) {
  case Admission::Outcome::full:
  case Admission::Outcome::unpriced: // the index went invalid since the check above
    return false;                    // not counted as a line yet: it is handled again on the next poll
  case Admission::Outcome::rejected:
    reject(request.id, admission.reason);
    return true;
  case Admission::Outcome::duplicate:
    ++counters_.lines;
    ++counters_.duplicates;
    out += "{\"ack\":";
    append_json_string(out, request.id);
    out += ",\"duplicate\":true";
    close_ack();
    connection.answer_from(answer_start, admission.ticket);
    return true;
  case Admission::Outcome::accepted:
    ++counters_.lines;
    ++counters_.accepted;
    out += "{\"ack\":";
    append_json_string(out, request.id);
    out += ",\"sequence\":";
    append_number(out, admission.ticket);
    close_ack();
    connection.answer_from(answer_start, admission.ticket);
    return true;
  }
  return true;
}

void LiabilityIntake::close_connection(std::size_t index) {
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, connections_[index]->fd, nullptr);
  ::close(connections_[index]->fd);
  connections_.erase(connections_.begin() + static_cast<std::ptrdiff_t>(index));
}

void LiabilityIntake::release_answers(std::uint64_t durable) {
  for (const auto& connection : connections_) {
    // In order: an answer waits for every answer before it on its connection.
    while (connection->has_waiting() && connection->waiting[connection->waiting_head].ticket <= durable) {
      connection->released += connection->waiting[connection->waiting_head].bytes;
      ++connection->waiting_head;
    }
    if (!connection->has_waiting()) {
      connection->waiting.clear(); // keeps its capacity for the next answers
      connection->waiting_head = 0;
    } else if (connection->waiting_head >= 64 && connection->waiting_head * 2 >= connection->waiting.size()) {
      // A journal that is always a commit behind never empties the list:
      // the released entries go (a move within its capacity), so it holds
      // what waits, not every answer since the connection opened.
      connection->waiting.erase(connection->waiting.begin(),
                                connection->waiting.begin() + static_cast<std::ptrdiff_t>(connection->waiting_head));
      connection->waiting_head = 0;
    }
    while (connection->released > 0 && !connection->gone) {
      const ssize_t n = ::send(connection->fd, connection->answers.data(), connection->released, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        connection->gone = true; // EPIPE, ECONNRESET: nobody will read these answers
        break;
      }
      if (n <= 0) {
        break; // EAGAIN: the rest goes out when EPOLLOUT says it can
      }
      connection->answers.erase(0, static_cast<std::size_t>(n));
      connection->released -= static_cast<std::size_t>(n);
    }
    if (connection->answers.empty() && connection->answers.capacity() > options_.max_output_bytes) {
      std::string().swap(connection->answers); // a burst's buffer is given back, not kept per connection
    }
    if (connection->paused && !output_full(*connection)) {
      // It read its answers: read it again, starting with what it had sent.
      connection->paused = false;
      process_lines(*connection);
    }
    if (!connection->gone) {
      update_interest(*connection);
    }
  }
}

bool LiabilityIntake::output_full(const Connection& connection) const noexcept {
  return connection.answers.size() >= options_.max_output_bytes;
}

std::size_t LiabilityIntake::poll_once(int timeout_ms) {
  bool waiting = false;
  for (const auto& connection : connections_) {
    waiting = waiting || connection->blocked || connection->has_waiting();
  }
  epoll_event events[32];
  // While answers wait for durability, look again soon.
  const int ready = ::epoll_wait(epoll_fd_, events, 32, waiting ? std::min(timeout_ms, 1) : timeout_ms);
  const std::uint64_t lines_before = counters_.lines;
  for (const auto& connection : connections_) {
    if (connection->blocked) {
      process_lines(*connection);
    }
  }
  for (int i = 0; i < ready; ++i) {
    const int fd = events[i].data.fd;
    if (fd == unix_listener_ || fd == tcp_listener_) {
      accept_from(fd);
      continue;
    }
    for (const auto& connection : connections_) {
      if (connection->fd != fd || connection->gone) {
        continue;
      }
      if (connection->closing) {
        // Only EPOLLOUT (its answers) or a hang-up is watched now; the
        // answers go out in release_answers below.
        connection->gone = (events[i].events & (EPOLLHUP | EPOLLERR)) != 0;
        continue;
      }
      if ((events[i].events & (EPOLLHUP | EPOLLERR)) != 0) {
        // Gone both ways: what it sent is still read (and admitted, so that
        // the journal has what the client may have counted as sent), but
        // no answer can reach it.
        (void)read_from(*connection);
        connection->gone = true;
      } else if (!read_from(*connection) || (connection->paused && (events[i].events & EPOLLRDHUP) != 0)) {
        // Done writing (a paused connection is not read, so its end of
        // input is seen here): answered until its answers are out.
        connection->closing = true;
      }
      if (connection->gone) {
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
      }
    }
  }
  // One durability step for the whole batch, then every answer whose event
  // is durable: nothing is acknowledged before it is.
  release_answers(admission_.make_durable());
  for (std::size_t i = connections_.size(); i-- > 0;) {
    const Connection& connection = *connections_[i];
    if (connection.gone || (connection.closing && connection.answers.empty() && !connection.blocked)) {
      close_connection(i);
    }
  }
  return static_cast<std::size_t>(counters_.lines - lines_before);
}

std::size_t LiabilityIntake::unacknowledged() const noexcept {
  std::size_t waiting = 0;
  for (const auto& connection : connections_) {
    waiting += connection->waiting.size() - connection->waiting_head + (connection->released > 0 ? 1 : 0);
  }
  return waiting;
}

DeferredWork LiabilityIntake::deferred_work() const noexcept {
  // Answers that did not fit into a socket are not deferred work: EPOLLOUT
  // reports when they can go. A connection to close is closed by the poll
  // that found it so.
  bool held_back = false;
  for (const auto& connection : connections_) {
    if (connection->has_waiting()) {
      return DeferredWork::durability;
    }
    held_back = held_back || connection->blocked;
  }
  return held_back ? DeferredWork::held_back : DeferredWork::none;
}

std::size_t LiabilityIntake::buffered_answer_bytes() const noexcept {
  std::size_t bytes = 0;
  for (const auto& connection : connections_) {
    bytes += connection->answers.size();
  }
  return bytes;
}

} // namespace synthusd::liabilities
