#include "synthusd/common/tls_stream.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace synthusd::common {
namespace {

[[nodiscard]] bool is_ip_literal(const std::string& host) noexcept {
  unsigned char address[16];
  return ::inet_pton(AF_INET, host.c_str(), address) == 1 || ::inet_pton(AF_INET6, host.c_str(), address) == 1;
}

[[nodiscard]] bool again(int error) noexcept { return error == EAGAIN || error == EWOULDBLOCK || error == EINTR; }

TlsStream::Socket& socket_of(BIO* bio) { return *static_cast<TlsStream::Socket*>(BIO_get_data(bio)); }

// OpenSSL's own socket BIO writes with write(2), which raises SIGPIPE when
// the peer has gone; this one sends with MSG_NOSIGNAL instead, so a library
// does not have to change the process's signal handling.
int socket_bio_write(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::send(socket_of(bio).fd, data, static_cast<std::size_t>(size), MSG_NOSIGNAL);
  if (n < 0 && again(errno)) {
    BIO_set_retry_write(bio);
  }
  return static_cast<int>(n);
}

int socket_bio_read(BIO* bio, char* data, int size) {
  BIO_clear_retry_flags(bio);
  TlsStream::Socket& socket = socket_of(bio);
  const ssize_t n = ::recv(socket.fd, data, static_cast<std::size_t>(size), 0);
  if (n < 0 && again(errno)) {
    BIO_set_retry_read(bio);
  }
  socket.end_of_stream = socket.end_of_stream || n == 0;
  // Kept to name a server that answers a ClientHello in plain HTTP.
  if (n > 0 && socket.first_count < sizeof socket.first_bytes) {
    const std::size_t take = std::min(sizeof socket.first_bytes - socket.first_count, static_cast<std::size_t>(n));
    std::memcpy(socket.first_bytes + socket.first_count, data, take);
    socket.first_count += take;
  }
  return static_cast<int>(n);
}

long socket_bio_ctrl(BIO* bio, int command, long /*number*/, void* /*pointer*/) {
  switch (command) {
  case BIO_CTRL_FLUSH:
    return 1; // nothing is buffered here
  case BIO_CTRL_EOF:
    // What lets SSL_OP_IGNORE_UNEXPECTED_EOF see a peer that closed without
    // close_notify (Python's ssl servers do) as a close, not a read error.
    return socket_of(bio).end_of_stream ? 1 : 0;
  default:
    return 0;
  }
}

int socket_bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

BIO_METHOD* socket_bio_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "synthusd tls socket");
    if (m == nullptr || BIO_meth_set_write(m, socket_bio_write) != 1 || BIO_meth_set_read(m, socket_bio_read) != 1 ||
        BIO_meth_set_ctrl(m, socket_bio_ctrl) != 1 || BIO_meth_set_create(m, socket_bio_create) != 1) {
      throw std::runtime_error("cannot set up the TLS socket BIO");
    }
    return m;
  }();
  return method;
}

// The oldest queued OpenSSL error's reason (or errno's), clearing the queue.
[[nodiscard]] std::string queued_reason() {
  const int saved_errno = errno;
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code != 0) {
    const char* reason = ERR_reason_error_string(code);
    if (reason != nullptr) {
      return reason;
    }
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return text;
  }
  return saved_errno != 0 ? std::strerror(saved_errno) : std::string{};
}

} // namespace

TlsStream::TlsStream(std::string host, int port, const TlsSettings& tls)
    : host_(std::move(host)), port_(port), server_name_(tls.server_name.empty() ? host_ : tls.server_name) {
  if (!tls.enabled) {
    return;
  }
  context_ = SSL_CTX_new(TLS_client_method());
  if (context_ == nullptr) {
    throw std::runtime_error("SSL_CTX_new failed: " + queued_reason());
  }
  SSL_CTX_set_min_proto_version(context_, TLS1_2_VERSION);
  SSL_CTX_set_verify(context_, SSL_VERIFY_PEER, nullptr);
  // A closed TCP stream is a disconnect either way; this keeps the reason plain.
  SSL_CTX_set_options(context_, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(context_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (tls.pinned_certificate_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(context_) != 1) {
      const std::string reason = queued_reason();
      SSL_CTX_free(context_);
      throw std::runtime_error("cannot use the system CA store: " + reason);
    }
    return;
  }
  // The pinned file is the only trust anchor (no system store). PARTIAL_CHAIN
  // lets a certificate anchor itself even when it is not marked as a CA.
  if (SSL_CTX_load_verify_locations(context_, tls.pinned_certificate_file.c_str(), nullptr) != 1) {
    const std::string reason = queued_reason();
    SSL_CTX_free(context_);
    throw std::runtime_error("cannot load the TLS certificate " + tls.pinned_certificate_file + ": " + reason);
  }
  X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(context_), X509_V_FLAG_PARTIAL_CHAIN);
}

TlsStream::~TlsStream() {
  close();
  SSL_CTX_free(context_);
}

std::string TlsStream::tls_error(std::string_view what) const {
  std::string text(what);
  const std::string reason = queued_reason();
  if (!reason.empty()) {
    text += ": " + reason;
  }
  if (session_ != nullptr) {
    // "certificate verify failed" alone does not say which check failed
    const long verify = SSL_get_verify_result(session_);
    if (verify != X509_V_OK) {
      text += " (";
      text += X509_verify_cert_error_string(verify);
      text += ")";
    }
  }
  if (std::string_view(socket_.first_bytes, socket_.first_count) == "HTTP/") {
    text += " (the server answered in plain HTTP: it does not serve TLS on this port)";
  }
  return text;
}

TlsStream::Io TlsStream::fail(std::string why) {
  error_ = std::move(why);
  return Io::failed;
}

TlsStream::Io TlsStream::connect() {
  close();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* addresses = nullptr;
  const std::string port = std::to_string(port_);
  if (const int status = ::getaddrinfo(host_.c_str(), port.c_str(), &hints, &addresses); status != 0) {
    return fail("cannot resolve " + host_ + ": " + ::gai_strerror(status));
  }
  std::size_t count = 0;
  for (const addrinfo* a = addresses; a != nullptr; a = a->ai_next) {
    ++count;
  }
  // A name with several addresses (localhost: ::1 and 127.0.0.1) is tried
  // one address per attempt, so one that refuses does not block the others.
  const addrinfo* address = addresses;
  for (std::size_t skip = attempts_++ % count; skip > 0; --skip) {
    address = address->ai_next;
  }
  socket_.fd = ::socket(address->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const bool started =
      socket_.fd >= 0 && (::connect(socket_.fd, address->ai_addr, address->ai_addrlen) == 0 || errno == EINPROGRESS);
  const int error = errno;
  ::freeaddrinfo(addresses);
  if (!started) {
    close();
    return fail("cannot connect to " + peer() + ": " + std::strerror(error));
  }
  return Io::wait_write; // a non-blocking connect completes when the socket turns writable
}

TlsStream::Io TlsStream::establish(short revents) {
  if (!tcp_connected_) {
    if ((revents & (POLLOUT | POLLERR | POLLHUP)) == 0) {
      return Io::wait_write;
    }
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(socket_.fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
      return fail("cannot connect to " + peer() + ": " + std::strerror(error));
    }
    tcp_connected_ = true;
    // A stream may stay silent for long (lnd's invoice stream while no
    // invoice changes): only TCP keepalive notices a peer or a path that
    // died silently. A short call never gets to the first probe.
    const int on = 1;
    const int idle_s = 60;
    const int interval_s = 10;
    const int probes = 6;
    ::setsockopt(socket_.fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    ::setsockopt(socket_.fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof idle_s);
    ::setsockopt(socket_.fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof interval_s);
    ::setsockopt(socket_.fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
    if (context_ == nullptr) {
      return Io::done;
    }
    session_ = SSL_new(context_);
    BIO* bio = session_ == nullptr ? nullptr : BIO_new(socket_bio_method());
    if (bio == nullptr) {
      return fail(tls_error("TLS setup failed"));
    }
    BIO_set_data(bio, &socket_);
    SSL_set_bio(session_, bio, bio);
    bool ok = true;
    if (is_ip_literal(server_name_)) {
      ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(session_), server_name_.c_str()) == 1;
    } else {
      SSL_set_hostflags(session_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      // SNI for names only: RFC 6066 forbids IP literals there.
      ok = SSL_set_tlsext_host_name(session_, server_name_.c_str()) == 1 &&
           SSL_set1_host(session_, server_name_.c_str()) == 1;
    }
    if (!ok) {
      return fail(tls_error("TLS setup failed for server name " + server_name_));
    }
    SSL_set_connect_state(session_);
  }
  if (session_ == nullptr) {
    return Io::done;
  }
  ERR_clear_error();
  errno = 0;
  const int result = SSL_do_handshake(session_);
  if (result == 1) {
    return Io::done;
  }
  switch (SSL_get_error(session_, result)) {
  case SSL_ERROR_WANT_READ:
    return Io::wait_read;
  case SSL_ERROR_WANT_WRITE:
    return Io::wait_write;
  case SSL_ERROR_ZERO_RETURN:
    return fail("TLS handshake with " + peer() + " failed: the server closed the connection");
  default:
    return fail(tls_error("TLS handshake with " + peer() + " failed"));
  }
}

TlsStream::Io TlsStream::read(char* buffer, std::size_t size, std::size_t& got) {
  got = 0;
  if (session_ != nullptr) {
    ERR_clear_error();
    if (SSL_read_ex(session_, buffer, size, &got) == 1) {
      return Io::done;
    }
    switch (SSL_get_error(session_, 0)) {
    case SSL_ERROR_WANT_READ:
      return Io::wait_read;
    case SSL_ERROR_WANT_WRITE:
      return Io::wait_write;
    case SSL_ERROR_ZERO_RETURN:
      return Io::closed;
    default:
      return fail(tls_error("TLS read failed"));
    }
  }
  const ssize_t n = ::recv(socket_.fd, buffer, size, 0);
  if (n > 0) {
    got = static_cast<std::size_t>(n);
    return Io::done;
  }
  if (n == 0) {
    return Io::closed;
  }
  return again(errno) ? Io::wait_read : fail(std::string("read failed: ") + std::strerror(errno));
}

TlsStream::Io TlsStream::write(const char* data, std::size_t size, std::size_t& sent) {
  sent = 0;
  if (session_ != nullptr) {
    ERR_clear_error();
    if (SSL_write_ex(session_, data, size, &sent) == 1) {
      return Io::done;
    }
    switch (SSL_get_error(session_, 0)) {
    case SSL_ERROR_WANT_READ:
      return Io::wait_read;
    case SSL_ERROR_WANT_WRITE:
      return Io::wait_write;
    default:
      return fail(tls_error("TLS write failed"));
    }
  }
  const ssize_t n = ::send(socket_.fd, data, size, MSG_NOSIGNAL);
  if (n >= 0) {
    sent = static_cast<std::size_t>(n);
    return Io::done;
  }
  return again(errno) ? Io::wait_write : fail(std::string("write failed: ") + std::strerror(errno));
}

void TlsStream::close() noexcept {
  if (session_ != nullptr) {
    SSL_free(session_); // frees the BIO too
    session_ = nullptr;
  }
  if (socket_.fd >= 0) {
    ::close(socket_.fd);
  }
  socket_ = Socket{};
  tcp_connected_ = false;
}

bool TlsStream::pending() const noexcept { return session_ != nullptr && SSL_pending(session_) > 0; }

} // namespace synthusd::common
