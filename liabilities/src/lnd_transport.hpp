#pragma once
// The byte stream under the LND source (lnd_source.hpp): a non-blocking TCP
// connection to LND's REST port, with TLS pinned to LND's tls.cert, or plain
// for loopback tests. The owner polls fd() and drives it; nothing here blocks
// except name resolution (getaddrinfo), which a configured IP literal or
// /etc/hosts name answers at once.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

struct ssl_ctx_st;
struct ssl_st;

namespace synthusd::liabilities::detail {

class LndTransport {
public:
  enum class Io : std::uint8_t {
    done,       // the step completed (bytes moved, connection established)
    wait_read,  // try again once fd() is readable
    wait_write, // try again once fd() is writable
    closed,     // the peer ended the connection
    failed,     // error() says why
  };

  // With `tls`, loads tls_cert_file as the only trust anchor; throws
  // std::runtime_error when it cannot.
  LndTransport(std::string host, int port, bool tls, const std::string& tls_cert_file);
  ~LndTransport();
  LndTransport(const LndTransport&) = delete;
  LndTransport& operator=(const LndTransport&) = delete;

  // Starts a non-blocking connect: wait_write, or failed.
  Io connect();
  // Completes the connect, then the TLS handshake: done once bytes can flow.
  // `revents` are poll()'s for fd().
  Io establish(short revents);
  Io read(char* buffer, std::size_t size, std::size_t& got);
  Io write(const char* data, std::size_t size, std::size_t& sent);
  // Drops the connection (no close_notify: the stream is abandoned).
  void close() noexcept;

  [[nodiscard]] int fd() const noexcept { return fd_; }
  [[nodiscard]] bool tcp_connected() const noexcept { return tcp_connected_; }
  // Decrypted bytes held inside OpenSSL, which poll() cannot announce.
  [[nodiscard]] bool pending() const noexcept;
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

private:
  Io fail(std::string why);
  [[nodiscard]] std::string tls_error(std::string_view what) const;

  std::string host_;
  int port_;
  ssl_ctx_st* context_ = nullptr; // null: plain TCP
  ssl_st* session_ = nullptr;
  int fd_ = -1;
  bool tcp_connected_ = false;
  std::uint32_t attempts_ = 0; // picks the next address of a name that resolves to several
  std::string error_;
};

} // namespace synthusd::liabilities::detail
