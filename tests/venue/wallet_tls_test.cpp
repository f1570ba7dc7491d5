// The simulator wallet served over TLS (wallet.tls_cert_file/tls_key_file),
// called by the engine's own Deribit client (transfers::DeribitVenueWallet)
// with the venue's self-signed certificate pinned and its name checked, as
// the engine's [transfers] venue_tls does. The server runs its poll loop on
// a thread of its own, the client blocks on the test's thread: a handshake
// another client stalls, or a plain HTTP request to the TLS port, must not
// keep the client from being served; a handshake never finished is closed at
// the idle timeout; a client hanging up before its answer is written does
// not end the process (SIGPIPE).

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "support/default_sigpipe.hpp"
#include "support/tls_test_certificate.hpp"
#include "synthusd/transfers/wallet_clients.hpp"
#include "synthusd/venue/wallet.hpp"
#include "synthusd/venue/wallet_api.hpp"
#include "synthusd/venue/wallet_server.hpp"

namespace synthusd::venue {
namespace {

constexpr hedging::VenueId kVenue = 1;
constexpr const char* kAccount = "SYNTHUSD";

class VenueWalletTlsTest : public ::testing::Test {
protected:
  void SetUp() override {
    directory_ =
        std::filesystem::temp_directory_path() / ("synthusd_venue_wallet_tls_" + std::to_string(::getpid()) + "_" +
                                                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(directory_);
    std::filesystem::create_directories(directory_);
    // Names only localhost: the client, connected to 127.0.0.1, checks that name.
    certificate_ = test_support::make_certificate(directory_.string(), "venue", "DNS:localhost");
    WalletConfig config;
    config.enabled = true;
    config.client_id = "id";
    config.client_secret = "secret";
    wallet_ = std::make_unique<Wallet>(config);
    api_ = std::make_unique<WalletApi>(*wallet_, std::vector<std::string>{kAccount});
    server_ = std::make_unique<WalletServer>(0, certificate_.certificate, certificate_.key, idle_timeout());
    thread_ = std::thread([this] { serve(); });
  }

  void TearDown() override {
    stop_server();
    std::filesystem::remove_all(directory_);
  }

  // Joins the server thread; its counters may be read afterwards.
  void stop_server() {
    stop_.store(true);
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  void serve() {
    const Wallet::Debit debit = [this](const std::string&, std::int64_t sats) {
      if (sats > balance_sats_) {
        return false;
      }
      balance_sats_ -= sats;
      return true;
    };
    while (!stop_.load()) {
      std::vector<pollfd> fds;
      server_->add_poll_fds(fds);
      // The timeout only bounds how late the stop flag and deadlines are seen.
      if (::poll(fds.data(), fds.size(), 20) > 0) {
        server_->handle_ready(fds, [&](const WalletRequest& request) {
          ++requests_;
          on_request();
          return api_->answer(request, 1'000, debit);
        });
      }
      server_->close_expired();
    }
  }

  [[nodiscard]] virtual std::chrono::milliseconds idle_timeout() const { return WalletServer::kDefaultIdleTimeout; }
  // On the server thread, between reading a request and answering it.
  virtual void on_request() {}

  // The engine's client, TLS pinned to the venue's certificate.
  [[nodiscard]] transfers::HttpEndpoint endpoint() const {
    transfers::HttpEndpoint endpoint;
    endpoint.host = "127.0.0.1";
    endpoint.port = server_->port();
    endpoint.tls = common::TlsSettings{true, certificate_.certificate, "localhost"};
    return endpoint;
  }

  // Waits (bounded: a failure, not a speed) for the server to close `fd`:
  // true on end of stream or reset; what it sent is appended to `received`.
  static bool closed_by_server(int fd, std::string& received) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < give_up) {
      pollfd readable{fd, POLLIN, 0};
      if (::poll(&readable, 1, 100) <= 0) {
        continue;
      }
      char buffer[4096];
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n > 0) {
        received.append(buffer, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0 || errno == ECONNRESET) {
        return true;
      }
    }
    return false;
  }

  [[nodiscard]] int connect_raw() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(server_->port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    return fd;
  }

  std::filesystem::path directory_;
  test_support::Certificate certificate_;
  std::unique_ptr<Wallet> wallet_;
  std::unique_ptr<WalletApi> api_;
  std::unique_ptr<WalletServer> server_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  // The server thread's; read by the test after stop_server().
  std::int64_t balance_sats_ = 50'000'000;
  int requests_ = 0;
};

TEST_F(VenueWalletTlsTest, TheEnginesClientReadsTheDepositAddressAndWithdrawsOverTls) {
  transfers::DeribitVenueWallet venue(endpoint(), kVenue, "id", "secret");
  const transfers::Answer address = venue.deposit_address(kVenue);
  ASSERT_TRUE(address.ok) << address.error;
  EXPECT_EQ(address.value, Wallet::deposit_address(kAccount));

  const transfers::Answer withdrawal = venue.request_withdrawal(kVenue, "bcrt1qnode1", 12'345, "synthusd-9");
  ASSERT_TRUE(withdrawal.ok) << withdrawal.error;
  const transfers::Lookup found = venue.find_withdrawal(kVenue, "bcrt1qnode1", 12'345);
  ASSERT_TRUE(found.is_found()) << found.reason;
  EXPECT_EQ(found.value, withdrawal.value);
  EXPECT_EQ(venue.find_withdrawal(kVenue, "bcrt1qnode1", 12'346).outcome, transfers::Lookup::Outcome::absent);

  stop_server();
  EXPECT_EQ(balance_sats_, 50'000'000 - 12'345) << "the withdrawal took exactly its amount from the account";
  EXPECT_EQ(requests_, 4);
  EXPECT_EQ(server_->handshake_failures(), 0U);
  const std::vector<WalletWithdrawal> withdrawals = wallet_->withdrawals(kAccount);
  ASSERT_EQ(withdrawals.size(), 1U);
  EXPECT_EQ(withdrawals[0].address, "bcrt1qnode1");
  EXPECT_EQ(withdrawals[0].sats, 12'345);
}

TEST_F(VenueWalletTlsTest, AClientPinningAnotherCertificateIsRefusedAndNothingIsAnswered) {
  const test_support::Certificate other = test_support::make_certificate(directory_.string(), "other", "DNS:localhost");
  transfers::HttpEndpoint pinned_elsewhere = endpoint();
  pinned_elsewhere.tls.pinned_certificate_file = other.certificate;
  transfers::DeribitVenueWallet venue(pinned_elsewhere, kVenue, "id", "secret");
  const transfers::Answer address = venue.deposit_address(kVenue);
  EXPECT_FALSE(address.ok);
  EXPECT_NE(address.error.find("certificate verify failed"), std::string::npos) << address.error;
  stop_server();
  EXPECT_EQ(requests_, 0) << "the client secret never crossed the unverified connection";
}

TEST_F(VenueWalletTlsTest, PlainHttpToTheTlsPortIsClosedUnansweredAndTheServerKeepsServing) {
  const int plain = connect_raw();
  const std::string request = "GET /api/v2/private/get_current_deposit_address?currency=BTC HTTP/1.1\r\n"
                              "Host: 127.0.0.1\r\nAuthorization: Basic aWQ6c2VjcmV0\r\n\r\n";
  ASSERT_EQ(::send(plain, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
  std::string received;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::recv(plain, buffer, sizeof buffer, 0); // blocks until the server closes
    if (n <= 0) {
      break;
    }
    received.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(plain);
  EXPECT_EQ(received.find("HTTP/"), std::string::npos) << "no HTTP answer (and no address) in clear: " << received;
  EXPECT_EQ(received.find(Wallet::deposit_address(kAccount)), std::string::npos);

  transfers::DeribitVenueWallet venue(endpoint(), kVenue, "id", "secret");
  const transfers::Answer address = venue.deposit_address(kVenue);
  ASSERT_TRUE(address.ok) << address.error;
  stop_server();
  EXPECT_EQ(server_->handshake_failures(), 1U);
  EXPECT_EQ(requests_, 1) << "only the TLS request reached the wallet";
}

TEST_F(VenueWalletTlsTest, AClientStallingItsHandshakeDoesNotHoldOthersBack) {
  // One connection that never finishes its ClientHello (a record header
  // announcing 512 bytes, then nothing), one that never sends a byte: both
  // stay open while the client is served.
  const int stalled = connect_raw();
  const unsigned char header[] = {0x16, 0x03, 0x01, 0x02, 0x00};
  ASSERT_EQ(::send(stalled, header, sizeof header, MSG_NOSIGNAL), static_cast<ssize_t>(sizeof header));
  const int silent = connect_raw();

  transfers::DeribitVenueWallet venue(endpoint(), kVenue, "id", "secret");
  for (int call = 0; call < 3; ++call) {
    const transfers::Answer address = venue.deposit_address(kVenue);
    ASSERT_TRUE(address.ok) << address.error;
  }
  ::close(stalled);
  ::close(silent);
  stop_server();
  EXPECT_EQ(requests_, 3);
}

// The server runs on the real clock here, with a short idle timeout; the
// test waits for outcomes (closed), bounded only to fail a broken server.
class VenueWalletTlsDeadlineTest : public VenueWalletTlsTest {
protected:
  [[nodiscard]] std::chrono::milliseconds idle_timeout() const override { return std::chrono::milliseconds(200); }
};

TEST_F(VenueWalletTlsDeadlineTest, ConnectionsThatNeverFinishTheirHandshakeAreClosedAtTheDeadline) {
  // One opens TCP and never sends a byte; one sends a record header
  // announcing a 512-byte ClientHello, then nothing.
  const int silent = connect_raw();
  const int stalled = connect_raw();
  const unsigned char header[] = {0x16, 0x03, 0x01, 0x02, 0x00};
  ASSERT_EQ(::send(stalled, header, sizeof header, MSG_NOSIGNAL), static_cast<ssize_t>(sizeof header));
  std::string from_silent;
  std::string from_stalled;
  EXPECT_TRUE(closed_by_server(silent, from_silent));
  EXPECT_TRUE(closed_by_server(stalled, from_stalled));
  EXPECT_EQ(from_silent, "");
  EXPECT_EQ(from_stalled, "") << "no ServerHello for half a ClientHello";
  ::close(silent);
  ::close(stalled);
  stop_server();
  EXPECT_EQ(server_->timed_out_connections(), 2U);
  EXPECT_EQ(server_->handshake_failures(), 0U) << "timed out, not failed";
  EXPECT_EQ(server_->open_connections(), 0U);
  EXPECT_EQ(requests_, 0);
}

// The client hangs up between the server reading its request and writing
// the answer (the handler waits for it), with SIGPIPE's default action in
// force: were the server's TLS socket writes without MSG_NOSIGNAL, this test
// process would die of SIGPIPE.
class VenueWalletTlsHangUpTest : public VenueWalletTlsTest {
protected:
  void on_request() override {
    if (hang_up_requested_.exchange(true)) {
      return; // only the first request
    }
    request_read_.set_value();
    EXPECT_EQ(hung_up_.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready);
  }

  // Before SetUp starts the server thread, which inherits the signal mask.
  test_support::DefaultSigpipe default_sigpipe_;
  std::atomic<bool> hang_up_requested_{false};
  std::promise<void> request_read_;
  std::promise<void> hung_up_;
};

TEST_F(VenueWalletTlsHangUpTest, AClientHangingUpBeforeItsAnswerIsWrittenDoesNotEndTheProcess) {
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  ASSERT_NE(context, nullptr);
  SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nullptr); // what is tested is the server's write, not trust
  SSL* ssl = SSL_new(context);
  const int client = connect_raw();
  SSL_set_fd(ssl, client);
  ASSERT_EQ(SSL_connect(ssl), 1);
  const std::string request = "GET /api/v2/private/get_current_deposit_address?currency=BTC HTTP/1.1\r\n"
                              "Host: 127.0.0.1\r\nAuthorization: Basic aWQ6c2VjcmV0\r\n\r\n";
  ASSERT_EQ(SSL_write(ssl, request.data(), static_cast<int>(request.size())), static_cast<int>(request.size()));
  ASSERT_EQ(request_read_.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready);
  test_support::hang_up_after_fin(client);
  hung_up_.set_value();
  SSL_free(ssl); // the descriptor is already closed; SSL_free sends nothing
  SSL_CTX_free(context);

  // The venue is still up and serving.
  transfers::DeribitVenueWallet venue(endpoint(), kVenue, "id", "secret");
  const transfers::Answer address = venue.deposit_address(kVenue);
  ASSERT_TRUE(address.ok) << address.error;
  stop_server();
  EXPECT_EQ(requests_, 2);
  EXPECT_EQ(server_->open_connections(), 0U);
}

TEST(VenueWalletTlsFiles, AMissingOrMismatchedCertificateOrKeyIsRefusedNamingTheFile) {
  const std::filesystem::path directory =
      std::filesystem::temp_directory_path() / ("synthusd_venue_wallet_tls_files_" + std::to_string(::getpid()));
  std::filesystem::remove_all(directory);
  std::filesystem::create_directories(directory);
  const test_support::Certificate first = test_support::make_certificate(directory.string(), "first");
  const test_support::Certificate second = test_support::make_certificate(directory.string(), "second");
  const auto message = [](const std::string& certificate, const std::string& key) -> std::string {
    try {
      WalletServer server(0, certificate, key);
    } catch (const std::runtime_error& error) {
      return error.what();
    }
    return "accepted";
  };
  EXPECT_NE(message(directory.string() + "/absent.cert", first.key).find("absent.cert"), std::string::npos);
  EXPECT_NE(message(first.certificate, directory.string() + "/absent.key").find("absent.key"), std::string::npos);
  // OpenSSL compares the key with the certificate as it loads it ("key values mismatch").
  const std::string mismatched = message(first.certificate, second.key);
  EXPECT_NE(mismatched.find(second.key), std::string::npos) << mismatched;
  EXPECT_NE(mismatched.find("mismatch"), std::string::npos) << mismatched;
  EXPECT_NE(message(first.certificate, "").find("both"), std::string::npos);
  EXPECT_EQ(message(first.certificate, first.key), "accepted");
  std::filesystem::remove_all(directory);
}

} // namespace
} // namespace synthusd::venue
