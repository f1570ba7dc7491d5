#include "synthusd/feeds/tls.hpp"

#include "transport_test_support.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace synthusd::feeds {
namespace {

// The server end of a TLS session, also over memory BIOs, so a test moves
// the bytes between the two ends itself: no socket, no timing.
class MemoryTlsServer {
public:
  explicit MemoryTlsServer(const test::Certificate& certificate) {
    context_ = SSL_CTX_new(TLS_server_method());
    EXPECT_EQ(SSL_CTX_use_certificate_file(context_, certificate.certificate.c_str(), SSL_FILETYPE_PEM), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey_file(context_, certificate.key.c_str(), SSL_FILETYPE_PEM), 1);
    session_ = SSL_new(context_);
    incoming_ = BIO_new(BIO_s_mem());
    outgoing_ = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(incoming_, -1);
    SSL_set_bio(session_, incoming_, outgoing_);
    SSL_set_accept_state(session_);
  }
  ~MemoryTlsServer() {
    SSL_free(session_);
    SSL_CTX_free(context_);
  }
  MemoryTlsServer(const MemoryTlsServer&) = delete;
  MemoryTlsServer& operator=(const MemoryTlsServer&) = delete;

  void receive(const std::vector<std::uint8_t>& bytes) {
    if (!bytes.empty()) {
      BIO_write(incoming_, bytes.data(), static_cast<int>(bytes.size()));
    }
    if (SSL_is_init_finished(session_) == 0) {
      SSL_do_handshake(session_);
      ERR_clear_error(); // a client that rejects us makes the server fail too
    }
  }
  [[nodiscard]] std::vector<std::uint8_t> take_output() {
    std::vector<std::uint8_t> bytes(BIO_ctrl_pending(outgoing_));
    if (!bytes.empty()) {
      BIO_read(outgoing_, bytes.data(), static_cast<int>(bytes.size()));
    }
    return bytes;
  }
  [[nodiscard]] std::string read() {
    char buffer[4096];
    const int size = SSL_read(session_, buffer, sizeof(buffer));
    return size > 0 ? std::string(buffer, static_cast<std::size_t>(size)) : std::string();
  }
  void write(std::string_view text) { SSL_write(session_, text.data(), static_cast<int>(text.size())); }
  void shutdown() { SSL_shutdown(session_); }

private:
  SSL_CTX* context_ = nullptr;
  SSL* session_ = nullptr;
  BIO* incoming_ = nullptr;
  BIO* outgoing_ = nullptr;
};

std::vector<std::uint8_t> take_all(TlsClient& client) {
  std::vector<std::uint8_t> bytes(client.pending_output());
  EXPECT_EQ(client.take_output(bytes), bytes.size());
  return bytes;
}

// Runs the handshake to its end: established or failed.
TlsProgress handshake(TlsClient& client, MemoryTlsServer& server) {
  TlsProgress progress = TlsProgress::handshaking;
  for (int round = 0; round < 10 && progress == TlsProgress::handshaking; ++round) {
    server.receive(take_all(client));
    progress = client.receive(server.take_output());
  }
  server.receive(take_all(client)); // the client's Finished
  return progress;
}

class TlsTest : public testing::Test {
protected:
  test::TemporaryDirectory directory_;
  test::Certificate certificate_ = test::make_self_signed_certificate(directory_.path());

  [[nodiscard]] TlsOptions trusting() const {
    TlsOptions options;
    options.extra_ca_file = certificate_.certificate.string();
    return options;
  }
};

TEST_F(TlsTest, CompletesHandshakeAndExchangesDataWithTheExtraCa) {
  TlsClient client(trusting());
  MemoryTlsServer server(certificate_);
  ASSERT_TRUE(client.begin("localhost")) << client.error();
  EXPECT_GT(client.pending_output(), 0U) << "the ClientHello is queued by begin()";
  ASSERT_EQ(handshake(client, server), TlsProgress::established) << client.error();
  EXPECT_TRUE(client.established());

  const std::string request = "GET / HTTP/1.1\r\n\r\n";
  ASSERT_TRUE(client.write({reinterpret_cast<const std::uint8_t*>(request.data()), request.size()}));
  server.receive(take_all(client));
  EXPECT_EQ(server.read(), request);

  server.write("HTTP/1.1 101 Switching Protocols\r\n\r\n");
  ASSERT_EQ(client.receive(server.take_output()), TlsProgress::established);
  std::uint8_t buffer[256];
  const TlsRead read = client.read(buffer);
  ASSERT_EQ(read.status, TlsReadStatus::data);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buffer), read.size), "HTTP/1.1 101 Switching Protocols\r\n\r\n");
  EXPECT_EQ(client.read(buffer).status, TlsReadStatus::need_more);
}

TEST_F(TlsTest, ChecksAnIpLiteralAgainstTheIpSubjectAltName) {
  for (const char* host : {"127.0.0.1", "::1"}) {
    TlsClient client(trusting());
    MemoryTlsServer server(certificate_);
    ASSERT_TRUE(client.begin(host)) << client.error();
    EXPECT_EQ(handshake(client, server), TlsProgress::established) << host << ": " << client.error();
  }
}

TEST_F(TlsTest, RejectsASelfSignedCertificateWithoutTheExtraCa) {
  TlsClient client(TlsOptions{}); // the system store only
  MemoryTlsServer server(certificate_);
  ASSERT_TRUE(client.begin("localhost"));
  EXPECT_EQ(handshake(client, server), TlsProgress::failed);
  EXPECT_FALSE(client.established());
  EXPECT_NE(client.error().find("certificate verify failed"), std::string_view::npos) << client.error();
  EXPECT_NE(client.error().find("self-signed certificate"), std::string_view::npos) << client.error();
}

TEST_F(TlsTest, RejectsACertificateForAnotherHost) {
  for (const char* host : {"example.org", "127.0.0.2"}) {
    TlsClient client(trusting());
    MemoryTlsServer server(certificate_);
    ASSERT_TRUE(client.begin(host));
    EXPECT_EQ(handshake(client, server), TlsProgress::failed) << host;
    EXPECT_NE(client.error().find("certificate verify failed"), std::string_view::npos) << client.error();
    EXPECT_NE(client.error().find("mismatch"), std::string_view::npos) << client.error();
  }
}

TEST_F(TlsTest, AcceptsAnyCertificateWhenVerificationIsOff) {
  TlsOptions options;
  options.verify_peer = false;
  TlsClient client(options);
  MemoryTlsServer server(certificate_);
  ASSERT_TRUE(client.begin("example.org"));
  EXPECT_EQ(handshake(client, server), TlsProgress::established) << client.error();
}

TEST_F(TlsTest, ReportsTheServersCloseNotify) {
  TlsClient client(trusting());
  MemoryTlsServer server(certificate_);
  ASSERT_TRUE(client.begin("localhost"));
  ASSERT_EQ(handshake(client, server), TlsProgress::established);
  server.shutdown();
  ASSERT_EQ(client.receive(server.take_output()), TlsProgress::established);
  std::uint8_t buffer[64];
  TlsRead read = client.read(buffer);
  // TLS 1.3 session tickets may come first; they are not application data.
  while (read.status == TlsReadStatus::data) {
    read = client.read(buffer);
  }
  EXPECT_EQ(read.status, TlsReadStatus::closed);
}

TEST_F(TlsTest, ASecondSessionStartsCleanAfterAFailedOne) {
  TlsClient client(trusting());
  {
    MemoryTlsServer server(certificate_);
    ASSERT_TRUE(client.begin("example.org"));
    ASSERT_EQ(handshake(client, server), TlsProgress::failed);
  }
  MemoryTlsServer server(certificate_);
  ASSERT_TRUE(client.begin("localhost"));
  EXPECT_TRUE(client.error().empty());
  EXPECT_EQ(handshake(client, server), TlsProgress::established) << client.error();
}

TEST_F(TlsTest, ThrowsWhenTheCaFileCannotBeLoaded) {
  TlsOptions options;
  options.extra_ca_file = (directory_.path() / "missing.pem").string();
  try {
    TlsClient client(options);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("missing.pem"), std::string::npos) << error.what();
  }
}

} // namespace
} // namespace synthusd::feeds
