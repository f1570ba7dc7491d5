#pragma once
// A non-blocking TCP connection with an optional TLS client on top, for the
// cold-path HTTP clients that own their socket and poll it themselves: the
// LND sources (liabilities/src/lnd_exchange.hpp) and the collateral transfer
// wallets (transfers/http_call.hpp). The owner polls fd() and drives it;
// nothing here blocks except name resolution (getaddrinfo), which an IP
// literal or an /etc/hosts name answers at once.
//
// TLS trusts either one pinned PEM file as the only anchor (lnd's
// self-signed tls.cert) or the system CA store (a public HTTPS API). Either
// way the certificate must name the server: server_name, or the host
// connected to (DNS name, or IP address for an IP literal). SNI is sent for
// names only, as RFC 6066 forbids IP literals there.
//
// The feeds' TLS (feeds/tls.hpp) is a different shape on purpose: memory
// BIOs driven by the io_uring loop, where OpenSSL never touches the socket.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

struct ssl_ctx_st;
struct ssl_st;

namespace synthusd::common {

struct TlsSettings {
  bool enabled = false;
  // PEM certificate(s) trusted as the only anchors, self-signed included
  // (lnd's tls.cert). Empty: the system CA store.
  std::string pinned_certificate_file;
  // The name the certificate must carry, also sent as SNI. Empty: the host
  // connected to (set it when connecting to an address the certificate does
  // not name, e.g. a tunnel's loopback port).
  std::string server_name;
};

class TlsStream {
public:
  enum class Io : std::uint8_t {
    done,       // the step completed (bytes moved, connection established)
    wait_read,  // try again once fd() is readable
    wait_write, // try again once fd() is writable
    closed,     // the peer ended the connection
    failed,     // error() says why
  };

  // With TLS enabled, builds the context and loads its trust anchors once;
  // throws std::runtime_error naming the file (or the system store) when
  // they cannot be loaded.
  TlsStream(std::string host, int port, const TlsSettings& tls);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // Starts a non-blocking connect (closing any previous connection):
  // wait_write, or failed.
  Io connect();
  // Completes the connect, then the TLS handshake: done once bytes can flow.
  // `revents` are poll()'s for fd().
  Io establish(short revents);
  Io read(char* buffer, std::size_t size, std::size_t& got);
  Io write(const char* data, std::size_t size, std::size_t& sent);
  // Drops the connection (no close_notify: the stream is abandoned).
  void close() noexcept;

  [[nodiscard]] int fd() const noexcept { return socket_.fd; }
  [[nodiscard]] bool tls() const noexcept { return context_ != nullptr; }
  [[nodiscard]] bool tcp_connected() const noexcept { return tcp_connected_; }
  // Decrypted bytes held inside OpenSSL, which poll() cannot announce.
  [[nodiscard]] bool pending() const noexcept;
  // Why the last step failed: "TLS handshake with 127.0.0.1:8080 failed:
  // certificate verify failed (self-signed certificate)".
  [[nodiscard]] const std::string& error() const noexcept { return error_; }
  [[nodiscard]] const std::string& host() const noexcept { return host_; }
  [[nodiscard]] int port() const noexcept { return port_; }

  // What the TLS socket BIO reads through: the descriptor, the first bytes
  // the server sent (to tell a plain HTTP answer from a TLS failure), and
  // whether the stream ended.
  struct Socket {
    int fd = -1;
    char first_bytes[5] = {};
    std::size_t first_count = 0;
    bool end_of_stream = false; // recv() returned 0
  };

private:
  Io fail(std::string why);
  [[nodiscard]] std::string tls_error(std::string_view what) const;
  [[nodiscard]] std::string peer() const { return host_ + ":" + std::to_string(port_); }

  std::string host_;
  int port_;
  std::string server_name_;
  ssl_ctx_st* context_ = nullptr; // null: plain TCP
  ssl_st* session_ = nullptr;
  Socket socket_;
  bool tcp_connected_ = false;
  std::uint32_t attempts_ = 0; // picks the next address of a name that resolves to several
  std::string error_;
};

} // namespace synthusd::common
