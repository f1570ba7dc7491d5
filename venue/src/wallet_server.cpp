#include "synthusd/venue/wallet_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <stdexcept>
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

// The first queued OpenSSL error, for a message ("no such file", "key
// values mismatch"), and the queue cleared.
std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) {
    return "unknown error";
  }
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

[[nodiscard]] bool again(int error) noexcept { return error == EAGAIN || error == EWOULDBLOCK || error == EINTR; }

int descriptor_of(BIO* bio) { return static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(bio))); }

// OpenSSL's own socket BIO writes with write(2), which raises SIGPIPE when
// the client has gone (the plain path sends with MSG_NOSIGNAL for the same
// reason): a client that hangs up mid-answer must not end the venue. This
// BIO sends with MSG_NOSIGNAL, as common/src/tls_stream.cpp's does.
int socket_bio_write(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::send(descriptor_of(bio), data, static_cast<std::size_t>(size), MSG_NOSIGNAL);
  if (n < 0 && again(errno)) {
    BIO_set_retry_write(bio);
  }
  return static_cast<int>(n);
}

int socket_bio_read(BIO* bio, char* data, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::recv(descriptor_of(bio), data, static_cast<std::size_t>(size), 0);
  if (n < 0 && again(errno)) {
    BIO_set_retry_read(bio);
  }
  return static_cast<int>(n);
}

long socket_bio_ctrl(BIO* /*bio*/, int command, long /*number*/, void* /*pointer*/) {
  return command == BIO_CTRL_FLUSH ? 1 : 0; // nothing is buffered here
}

int socket_bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

BIO_METHOD* socket_bio_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "synthusd venue wallet socket");
    if (m == nullptr || BIO_meth_set_write(m, socket_bio_write) != 1 || BIO_meth_set_read(m, socket_bio_read) != 1 ||
        BIO_meth_set_ctrl(m, socket_bio_ctrl) != 1 || BIO_meth_set_create(m, socket_bio_create) != 1) {
      throw std::runtime_error("cannot set up the wallet's TLS socket BIO");
    }
    return m;
  }();
  return method;
}

ssl_ctx_st* make_context(const std::string& certificate_file, const std::string& key_file) {
  if (certificate_file.empty() != key_file.empty()) {
    throw std::runtime_error("wallet TLS needs both a certificate file and a key file");
  }
  if (certificate_file.empty()) {
    return nullptr;
  }
  (void)socket_bio_method(); // built here, where a failure may throw
  SSL_CTX* context = SSL_CTX_new(TLS_server_method());
  if (context == nullptr) {
    throw std::runtime_error("wallet TLS: " + openssl_error());
  }
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  // A retried SSL_write may find the unsent rest of the answer moved.
  SSL_CTX_set_mode(context, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  std::string failure;
  if (SSL_CTX_use_certificate_chain_file(context, certificate_file.c_str()) != 1) {
    failure = "wallet TLS certificate " + certificate_file + ": " + openssl_error();
  } else if (SSL_CTX_use_PrivateKey_file(context, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    failure = "wallet TLS key " + key_file + ": " + openssl_error();
  } else if (SSL_CTX_check_private_key(context) != 1) {
    failure = "wallet TLS key " + key_file + " does not match " + certificate_file + ": " + openssl_error();
  }
  if (!failure.empty()) {
    SSL_CTX_free(context);
    throw std::runtime_error(failure);
  }
  return context;
}

} // namespace

WalletServer::WalletServer(std::uint16_t port, const std::string& tls_certificate_file, const std::string& tls_key_file,
                           std::chrono::milliseconds idle_timeout)
    : context_(nullptr), idle_timeout_(idle_timeout) {
  if (idle_timeout_.count() <= 0) {
    throw std::invalid_argument("wallet idle timeout must be above zero, not " + std::to_string(idle_timeout_.count()) +
                                " ms");
  }
  context_ = make_context(tls_certificate_file, tls_key_file);
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    const int failure = errno;
    SSL_CTX_free(context_);
    throw std::system_error(failure, std::generic_category(), "wallet socket");
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
    SSL_CTX_free(context_);
    throw std::system_error(failure, std::generic_category(), "wallet bind/listen on port " + std::to_string(port));
  }
  socklen_t length = sizeof address;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
}

WalletServer::~WalletServer() {
  for (auto& [fd, connection] : connections_) {
    SSL_free(connection.ssl);
    ::close(fd);
  }
  ::close(listen_fd_);
  SSL_CTX_free(context_);
}

void WalletServer::add_poll_fds(std::vector<pollfd>& fds) const {
  fds.push_back(pollfd{listen_fd_, POLLIN, 0});
  for (const auto& [fd, connection] : connections_) {
    fds.push_back(pollfd{fd, connection.wanted, 0});
  }
}

std::optional<WalletServer::Clock::time_point> WalletServer::next_deadline() const {
  std::optional<Clock::time_point> earliest;
  for (const auto& [fd, connection] : connections_) {
    if (!earliest || connection.deadline < *earliest) {
      earliest = connection.deadline;
    }
  }
  return earliest;
}

void WalletServer::close_expired(Clock::time_point now) {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    ++timed_out_connections_;
    close_connection(it->first, it->second);
    it = connections_.erase(it);
  }
}

void WalletServer::accept_all(Clock::time_point now) {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      return;
    }
    if (connections_.size() >= kMaxConnections) {
      // Bounded: a flood of idle connections cannot grow the venue; the
      // idle timeout frees the slots they hold.
      ++refused_connections_;
      ::close(fd);
      continue;
    }
    Connection connection;
    connection.deadline = now + idle_timeout_;
    if (context_ != nullptr) {
      connection.ssl = SSL_new(context_);
      BIO* bio = connection.ssl == nullptr ? nullptr : BIO_new(socket_bio_method());
      if (bio == nullptr) {
        SSL_free(connection.ssl);
        ERR_clear_error();
        ::close(fd);
        continue;
      }
      BIO_set_data(bio, reinterpret_cast<void*>(static_cast<std::intptr_t>(fd)));
      SSL_set_bio(connection.ssl, bio, bio); // the SSL owns the BIO
      SSL_set_accept_state(connection.ssl);
    }
    connections_.emplace(fd, connection);
  }
}

bool WalletServer::take(Connection& connection, const char* data, std::size_t size) {
  connection.input.append(data, size);
  if (connection.input.size() > kMaxRequestBytes + 8192) {
    connection.output = response({413, R"({"error":"request too large"})"});
    connection.answered = true;
    connection.wanted = POLLOUT;
    return false;
  }
  return true;
}

void WalletServer::answer(Connection& connection, const Handler& handler) {
  WalletRequest request;
  switch (parse(connection.input, request)) {
  case Parsed::incomplete:
    return;
  case Parsed::malformed:
    connection.output = response({400, R"({"error":"malformed HTTP request"})"});
    break;
  case Parsed::complete:
    connection.output = response(handler(request));
    break;
  }
  connection.answered = true;
  connection.wanted = POLLOUT;
}

bool WalletServer::read_from(int fd, Connection& connection, const Handler& handler) {
  if (connection.ssl != nullptr) {
    if (!read_tls(connection)) {
      return false;
    }
  } else {
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
      if (!take(connection, buffer, static_cast<std::size_t>(n))) {
        return true;
      }
    }
  }
  if (!connection.answered) {
    answer(connection, handler);
  }
  return true;
}

// After an SSL_accept, SSL_read or SSL_write that moved nothing: true, with
// the poll events set, when OpenSSL waits for the socket; false when the
// connection is closed or broken.
bool WalletServer::tls_waits_for_socket(Connection& connection, int result) {
  const int error = SSL_get_error(connection.ssl, result);
  ERR_clear_error();
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
    connection.wanted = error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
    return true;
  }
  return false;
}

bool WalletServer::read_tls(Connection& connection) {
  if (!connection.handshaken) {
    const int accepted = SSL_accept(connection.ssl);
    if (accepted != 1) {
      if (tls_waits_for_socket(connection, accepted)) {
        return true;
      }
      ++handshake_failures_; // not TLS (plain HTTP), a refused version, or aborted: nothing to answer over
      return false;
    }
    connection.handshaken = true;
  }
  char buffer[8192];
  for (;;) {
    const int n = SSL_read(connection.ssl, buffer, sizeof buffer);
    if (n > 0) {
      if (!take(connection, buffer, static_cast<std::size_t>(n))) {
        return true;
      }
      continue;
    }
    return tls_waits_for_socket(connection, n); // else closed before the request was complete, or broken
  }
}

bool WalletServer::flush(int fd, Connection& connection) {
  if (connection.ssl != nullptr) {
    return flush_tls(connection);
  }
  while (!connection.output.empty()) {
    const ssize_t n = ::send(fd, connection.output.data(), connection.output.size(), MSG_NOSIGNAL);
    if (n < 0) {
      return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    }
    connection.output.erase(0, static_cast<std::size_t>(n));
  }
  return false; // answered and written: close
}

bool WalletServer::flush_tls(Connection& connection) {
  while (!connection.output.empty()) {
    const int size = static_cast<int>(connection.output.size()); // bounded by kMaxRequestBytes-sized answers
    const int n = SSL_write(connection.ssl, connection.output.data(), size);
    if (n > 0) {
      connection.output.erase(0, static_cast<std::size_t>(n));
      continue;
    }
    return tls_waits_for_socket(connection, n);
  }
  // The answer carries its Content-Length, so the client needs no
  // close_notify; one is sent (best effort, never waited for).
  SSL_shutdown(connection.ssl);
  ERR_clear_error();
  return false;
}

void WalletServer::close_connection(int fd, Connection& connection) {
  SSL_free(connection.ssl);
  connection.ssl = nullptr;
  ::close(fd);
}

void WalletServer::handle_ready(const std::vector<pollfd>& fds, const Handler& handler, Clock::time_point now) {
  for (const pollfd& entry : fds) {
    if (entry.revents == 0) {
      continue;
    }
    if (entry.fd == listen_fd_) {
      accept_all(now);
      continue;
    }
    const auto found = connections_.find(entry.fd);
    if (found == connections_.end()) {
      continue; // another server's descriptor
    }
    bool keep = true;
    if ((entry.revents & (POLLERR | POLLNVAL)) != 0) {
      keep = false;
      if (found->second.ssl != nullptr && !found->second.handshaken) {
        ++handshake_failures_;
      }
    } else if (!found->second.answered) {
      // POLLOUT too: a TLS handshake or read may wait to write.
      keep = read_from(entry.fd, found->second, handler);
    }
    if (keep && found->second.answered) {
      keep = flush(entry.fd, found->second);
    }
    if (!keep) {
      close_connection(entry.fd, found->second);
      connections_.erase(found);
    }
  }
}

} // namespace synthusd::venue
