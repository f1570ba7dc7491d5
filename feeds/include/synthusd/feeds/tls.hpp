#pragma once
// A TLS client over OpenSSL memory BIOs: OpenSSL never touches the socket.
// The owner feeds ciphertext from its receives into receive(), reads the
// plaintext with read(), and sends what take_output() hands back. That keeps
// all I/O in the io_uring loop, with TLS as a pure transformation.
//
// Peer verification is on by default, against the system CA store plus an
// optional extra CA file; the certificate must match the host name (DNS
// name, or IP address for an IP literal). SNI is sent for names only, as
// RFC 6066 forbids IP literals there.
//
// One session at a time: begin() starts a new one for each TCP connection.
// Not thread-safe. Per-connection setup allocates (OpenSSL's SSL object);
// reading and writing on an established session normally does not.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

struct ssl_ctx_st;
struct ssl_st;
struct bio_st;

namespace synthusd::feeds {

struct TlsOptions {
  bool verify_peer = true;   // certificate chain and host name; turn off only for experiments
  std::string extra_ca_file; // PEM certificates trusted in addition to the system store (tests: a self-signed one)
};

enum class TlsProgress : std::uint8_t { handshaking, established, failed };

enum class TlsReadStatus : std::uint8_t {
  data,      // `size` bytes of plaintext were read
  need_more, // nothing to read until more ciphertext arrives
  closed,    // the peer sent close_notify
  failed,    // see error()
};

struct TlsRead {
  std::size_t size = 0;
  TlsReadStatus status = TlsReadStatus::need_more;
};

class TlsClient {
public:
  // Builds the SSL_CTX. Throws std::runtime_error with OpenSSL's reason when
  // the extra CA file cannot be loaded.
  explicit TlsClient(const TlsOptions& options);
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  // Starts a session for a new connection to `host` and queues the
  // ClientHello (take_output). False, with error() set, on setup failure.
  [[nodiscard]] bool begin(std::string_view host);
  // Ends the session (no close_notify); begin() may follow.
  void end() noexcept;

  // Ciphertext from the socket. During the handshake this advances it; the
  // answer may leave output to send.
  [[nodiscard]] TlsProgress receive(std::span<const std::uint8_t> ciphertext);
  // Plaintext decrypted from what receive() was given. Call until need_more.
  [[nodiscard]] TlsRead read(std::span<std::uint8_t> plaintext);
  // Encrypts plaintext (only once established); the records go to the output.
  [[nodiscard]] bool write(std::span<const std::uint8_t> plaintext);
  // Queues a close_notify alert.
  void shutdown() noexcept;

  // Ciphertext waiting to be sent, and moving it out.
  [[nodiscard]] std::size_t pending_output() const noexcept;
  [[nodiscard]] std::size_t take_output(std::span<std::uint8_t> out) noexcept;

  [[nodiscard]] bool established() const noexcept { return established_; }
  // Why the last operation failed, with OpenSSL's reason and, for a rejected
  // certificate, the verification error: "TLS handshake failed: certificate
  // verify failed (self-signed certificate)".
  [[nodiscard]] std::string_view error() const noexcept { return error_; }

private:
  void fail(std::string_view what);

  ssl_ctx_st* context_ = nullptr;
  ssl_st* session_ = nullptr;
  bio_st* incoming_ = nullptr; // owned by session_; ciphertext from the peer
  bio_st* outgoing_ = nullptr; // owned by session_; ciphertext for the peer
  bool established_ = false;
  std::string host_;
  std::string error_;
};

} // namespace synthusd::feeds
