#include "synthusd/engine/liability_intake.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <simdjson.h>
#include <stdexcept>

namespace synthusd::engine {

struct LiabilityIntake::Connection {
  int fd = -1;
  std::string in;          // bytes of an unfinished line
  std::string pending;     // answers of this batch, released after the journal commit
  std::string out;         // answers not yet written
  bool discarding = false; // inside an oversized line: drop bytes until its newline
};

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("liability intake: " + what + ": " + std::strerror(errno));
}

// JSON string escaping for ids and reasons echoed back.
std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

bool positive_integer(simdjson::ondemand::value value, std::int64_t& out) {
  std::int64_t v = 0;
  if (value.get_int64().get(v) != simdjson::SUCCESS || v <= 0) {
    return false;
  }
  out = v;
  return true;
}

} // namespace

std::uint64_t liability_event_id(std::string_view id) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : id) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

bool parse_liability_line(std::string_view line, LiabilityRequest& out, std::string& reason) {
  out = LiabilityRequest{};
  // One parser per thread, reused: building one allocates its buffers.
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string padded(line);
  simdjson::ondemand::document document;
  simdjson::ondemand::object object;
  if (parser.iterate(padded).get(document) != simdjson::SUCCESS ||
      document.get_object().get(object) != simdjson::SUCCESS) {
    reason = "not a JSON object";
    return false;
  }
  bool has_id = false;
  bool has_kind = false;
  bool has_ts = false;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
      reason = "bad JSON";
      return false;
    }
    simdjson::ondemand::value value;
    if (field.value().get(value) != simdjson::SUCCESS) {
      reason = "bad JSON";
      return false;
    }
    if (key == "id") {
      std::string_view id;
      if (value.get_string().get(id) != simdjson::SUCCESS || id.empty() || id.size() > 128) {
        reason = "id must be a string of 1 to 128 bytes";
        return false;
      }
      out.id = std::string(id);
      has_id = true;
    } else if (key == "kind") {
      std::string_view kind;
      if (value.get_string().get(kind) != simdjson::SUCCESS || (kind != "usd_credit" && kind != "usd_debit")) {
        reason = "kind must be usd_credit or usd_debit";
        return false;
      }
      out.credit = kind == "usd_credit";
      has_kind = true;
    } else if (key == "usd_cents" || key == "sats") {
      std::int64_t amount = 0;
      if (!positive_integer(value, amount)) {
        reason = std::string(key) + " must be a positive integer";
        return false;
      }
      (key == "sats" ? out.sats : out.usd_cents) = amount;
    } else if (key == "ts") {
      if (value.get_int64().get(out.ts_ms) != simdjson::SUCCESS || out.ts_ms < 0) {
        reason = "ts must be Unix milliseconds";
        return false;
      }
      has_ts = true;
    } else if (key == "pay_index") {
      std::uint64_t pay_index = 0;
      if (value.get_uint64().get(pay_index) != simdjson::SUCCESS) {
        reason = "pay_index must be a non-negative integer";
        return false;
      }
      out.pay_index = pay_index;
    }
    // other fields are ignored, as the protocol says
  }
  // current_location() is OUT_OF_BOUNDS exactly when every token was consumed
  if (document.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    reason = "not a JSON object";
    return false;
  }
  if (!has_id || !has_kind || !has_ts) {
    reason = !has_id ? "id is missing" : (!has_kind ? "kind is missing" : "ts is missing");
    return false;
  }
  if (!out.usd_cents && !out.sats) {
    reason = "usd_cents or sats is required";
    return false;
  }
  return true;
}

LiabilityIntake::LiabilityIntake(IntakeOptions options, JournalWriter& journal,
                                 std::function<hedging::Price()> current_price,
                                 std::function<void(const hedging::LiabilityChange&)> on_event)
    : options_(std::move(options)), journal_(journal), current_price_(std::move(current_price)),
      on_event_(std::move(on_event)) {
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

void LiabilityIntake::remember_journal(const std::string& journal_path) {
  JournalReader reader(journal_path);
  JournalRecord record;
  while (reader.next(record)) {
    if (const auto* change = std::get_if<hedging::LiabilityChange>(&record.event)) {
      seen_.insert(change->id);
    }
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
  while (true) {
    const ssize_t n = ::read(connection.fd, buffer, sizeof buffer);
    if (n == 0) {
      return false;
    }
    if (n < 0) {
      return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    }
    for (ssize_t i = 0; i < n; ++i) {
      const char c = buffer[i];
      if (c == '\n') {
        if (connection.discarding) {
          connection.discarding = false;
          ++counters_.lines;
          ++counters_.rejected;
          connection.pending += "{\"reject\":\"\",\"reason\":\"line longer than " +
                                std::to_string(options_.max_line_bytes) + " bytes\"}\n";
        } else {
          handle_line(connection, connection.in);
        }
        connection.in.clear();
      } else if (!connection.discarding) {
        connection.in += c;
        if (connection.in.size() > options_.max_line_bytes) {
          connection.in.clear();
          connection.discarding = true;
        }
      }
    }
  }
}

void LiabilityIntake::handle_line(Connection& connection, std::string_view line) {
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  if (line.empty()) {
    return;
  }
  ++counters_.lines;
  LiabilityRequest request;
  std::string reason;
  const auto reject = [&](const std::string& id, const std::string& why) {
    ++counters_.rejected;
    connection.pending += "{\"reject\":" + json_string(id) + ",\"reason\":" + json_string(why) + "}\n";
  };
  if (!parse_liability_line(line, request, reason)) {
    reject("", reason);
    return;
  }
  const std::uint64_t event_id = liability_event_id(request.id);
  std::string pay_index = request.pay_index ? ",\"pay_index\":" + std::to_string(*request.pay_index) : "";
  if (seen_.count(event_id) != 0) {
    ++counters_.duplicates;
    connection.pending += "{\"ack\":" + json_string(request.id) + ",\"duplicate\":true" + pay_index + "}\n";
    return;
  }
  hedging::LiabilityChange change;
  change.id = event_id;
  change.time = hedging::Timestamp{request.ts_ms * 1'000'000};
  change.sats = hedging::Sats{request.sats.value_or(0)};
  if (request.usd_cents) {
    change.delta = hedging::UsdCents{*request.usd_cents};
  } else {
    const hedging::Price price = current_price_ ? current_price_() : hedging::Price{};
    if (!price.is_valid()) {
      reject(request.id, "no index price to convert sats");
      return;
    }
    // The spread goes against the user: a credit buys fewer dollars, a debit
    // costs more; rounding also favours the operator by under a cent.
    const hedging::Ratio spread = options_.conversion_spread;
    const hedging::Ratio factor = request.credit ? hedging::Ratio::one() - spread : hedging::Ratio::one() + spread;
    const hedging::Price applied = hedging::scale(price, factor, hedging::Rounding::half_even);
    change.price = applied;
    change.delta =
        hedging::sats_to_cents(change.sats, applied, request.credit ? hedging::Rounding::down : hedging::Rounding::up);
  }
  if (!request.credit) {
    change.delta = -change.delta;
  }
  const std::uint64_t sequence = journal_.append(change);
  seen_.insert(event_id);
  ++counters_.accepted;
  if (on_event_) {
    on_event_(change);
  }
  connection.pending +=
      "{\"ack\":" + json_string(request.id) + ",\"sequence\":" + std::to_string(sequence) + pay_index + "}\n";
}

void LiabilityIntake::close_connection(std::size_t index) {
  ::close(connections_[index]->fd);
  connections_.erase(connections_.begin() + static_cast<std::ptrdiff_t>(index));
}

std::size_t LiabilityIntake::poll_once(int timeout_ms) {
  epoll_event events[32];
  const int ready = ::epoll_wait(epoll_fd_, events, 32, timeout_ms);
  const std::uint64_t lines_before = counters_.lines;
  std::vector<int> closed;
  for (int i = 0; i < ready; ++i) {
    const int fd = events[i].data.fd;
    if (fd == unix_listener_ || fd == tcp_listener_) {
      accept_from(fd);
      continue;
    }
    for (const auto& connection : connections_) {
      if (connection->fd == fd && !read_from(*connection)) {
        closed.push_back(fd);
      }
    }
  }
  // One fdatasync for the whole batch, then every answer of the batch, in
  // order: nothing is acknowledged before it is durable.
  journal_.commit();
  for (const auto& connection : connections_) {
    connection->out += connection->pending;
    connection->pending.clear();
    while (!connection->out.empty()) {
      const ssize_t n = ::send(connection->fd, connection->out.data(), connection->out.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        break; // EAGAIN: the rest goes out on a later poll
      }
      connection->out.erase(0, static_cast<std::size_t>(n));
    }
  }
  for (const int fd : closed) {
    for (std::size_t i = 0; i < connections_.size(); ++i) {
      if (connections_[i]->fd == fd) {
        close_connection(i);
        break;
      }
    }
  }
  return static_cast<std::size_t>(counters_.lines - lines_before);
}

} // namespace synthusd::engine
