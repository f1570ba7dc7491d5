// The wallet clients over TLS, as the counterparties serve it: lnd's REST
// port with its own self-signed tls.cert, which the client pins; Deribit's
// HTTPS, checked against the system CA store. Loopback servers present
// certificates generated for each test (support/tls_test_certificate.hpp).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "support/tls_test_certificate.hpp"
#include "synthusd/transfers/transfer_executor.hpp"
#include "synthusd/transfers/wallet_clients.hpp"
#include "wallet_http_fakes.hpp"

namespace synthusd::transfers {
namespace {

using namespace test; // NOLINT(google-build-using-namespace): the fakes
using test_support::Certificate;
using test_support::make_certificate;
using test_support::server_context;

constexpr hedging::VenueId kVenue = 1;

class WalletTls : public ::testing::Test {
protected:
  void SetUp() override {
    directory_ =
        std::filesystem::temp_directory_path() / ("synthusd_wallet_tls_" + std::to_string(::getpid()) + "_" +
                                                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(directory_);
    std::filesystem::create_directories(directory_);
    // As lnd writes its tls.cert: localhost, the loopback addresses.
    node_certificate_ = make_certificate(directory_.string(), "tls", "DNS:localhost,IP:127.0.0.1,IP:::1");
    context_ = server_context(node_certificate_);
  }
  void TearDown() override {
    SSL_CTX_free(context_);
    std::filesystem::remove_all(directory_);
  }

  // The server's endpoint with TLS pinned to `pinned`.
  static HttpEndpoint pinned(const LoopbackHttp& server, const std::string& pinned, std::string server_name = {}) {
    HttpEndpoint endpoint = server.endpoint();
    endpoint.tls = common::TlsSettings{true, pinned, std::move(server_name)};
    return endpoint;
  }

  std::filesystem::path directory_;
  Certificate node_certificate_;
  SSL_CTX* context_ = nullptr;
};

TEST_F(WalletTls, lnd_over_tls_pinned_to_its_tls_cert_sends_and_finds_the_send) {
  FakeLnd lnd;
  LoopbackHttp server([&](const Request& r) { return lnd(r); }, context_);
  LndNodeWallet node(pinned(server, node_certificate_.certificate), "0201abcd");
  const Answer sent = node.send("bcrt1qvenue", 50'000, "synthusd-7");
  ASSERT_TRUE(sent.ok) << sent.error;
  EXPECT_EQ(sent.value, "lndtx1");
  EXPECT_EQ(node.find_send("bcrt1qvenue", 50'000, "synthusd-7").value, "lndtx1");
  const Answer address = node.new_address();
  ASSERT_TRUE(address.ok) << address.error;
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3U);
  EXPECT_NE(requests[0].headers.find("Grpc-Metadata-macaroon: 0201abcd"), std::string::npos);
  EXPECT_EQ(requests[0].body, R"({"addr":"bcrt1qvenue","amount":"50000","label":"synthusd-7"})");
  EXPECT_EQ(server.handshake_failures(), 0);
}

TEST_F(WalletTls, an_answer_ended_without_close_notify_is_read_to_its_end) {
  FakeLnd lnd;
  LoopbackHttp server([&](const Request& r) { return lnd(r); }, context_);
  server.close_notify = false;
  LndNodeWallet node(pinned(server, node_certificate_.certificate), "");
  const Answer address = node.new_address();
  ASSERT_TRUE(address.ok) << address.error;
  EXPECT_EQ(address.value, "bcrt1qnode1");
}

TEST_F(WalletTls, a_node_presenting_another_certificate_is_refused_before_the_macaroon_is_sent) {
  const Certificate other = make_certificate(directory_.string(), "other", "DNS:localhost,IP:127.0.0.1");
  FakeLnd lnd;
  LoopbackHttp server([&](const Request& r) { return lnd(r); }, context_);
  LndNodeWallet node(pinned(server, other.certificate), "0201abcd");
  const Answer sent = node.send("bcrt1qvenue", 50'000, "synthusd-7");
  EXPECT_FALSE(sent.ok);
  EXPECT_NE(sent.error.find("lnd sendcoins: TLS handshake with 127.0.0.1:" + std::to_string(server.endpoint().port) +
                            " failed: certificate verify failed"),
            std::string::npos)
      << sent.error;
  EXPECT_NE(sent.error.find("self-signed certificate"), std::string::npos) << "which check failed: " << sent.error;
  EXPECT_TRUE(server.requests().empty()) << "nothing, macaroon included, crosses an unverified connection";
  EXPECT_TRUE(lnd.txs.empty());
}

TEST_F(WalletTls, without_a_pinned_file_the_system_store_is_used_and_a_self_signed_certificate_is_refused) {
  FakeDeribit deribit;
  LoopbackHttp server([&](const Request& r) { return deribit(r); }, context_);
  DeribitVenueWallet venue(pinned(server, ""), kVenue, "id", "secret");
  const Answer address = venue.deposit_address(kVenue);
  EXPECT_FALSE(address.ok);
  EXPECT_NE(address.error.find("deribit get_current_deposit_address: TLS handshake with"), std::string::npos)
      << address.error;
  EXPECT_NE(address.error.find("certificate verify failed"), std::string::npos) << address.error;
  EXPECT_TRUE(server.requests().empty()) << "the client secret never crosses an unverified connection";
}

TEST_F(WalletTls, the_venue_over_tls_with_its_certificate_pinned_and_its_server_name_checked) {
  FakeDeribit deribit;
  LoopbackHttp server([&](const Request& r) { return deribit(r); }, context_);
  // Connected by address, verified (and SNI sent) by the name the certificate carries.
  DeribitVenueWallet venue(pinned(server, node_certificate_.certificate, "localhost"), kVenue, "id", "secret");
  const Answer address = venue.deposit_address(kVenue);
  ASSERT_TRUE(address.ok) << address.error;
  EXPECT_EQ(address.value, "2N8udZGBc1hLRCFsU9kGwB5Xm6ECzHrBYwE");
  const Answer withdrawal = venue.request_withdrawal(kVenue, "bcrt1qnode1", 12'345, "synthusd-9");
  ASSERT_TRUE(withdrawal.ok) << withdrawal.error;
  EXPECT_EQ(deribit.withdrawals.at(0).second, "0.00012345");
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_NE(requests[0].headers.find("Host: localhost"), std::string::npos) << requests[0].headers;
}

TEST_F(WalletTls, a_certificate_for_another_name_is_refused_when_verifying_the_host_name) {
  FakeDeribit deribit;
  LoopbackHttp server([&](const Request& r) { return deribit(r); }, context_);
  DeribitVenueWallet by_name(pinned(server, node_certificate_.certificate, "www.deribit.com"), kVenue, "id", "secret");
  const Answer named = by_name.deposit_address(kVenue);
  EXPECT_FALSE(named.ok);
  EXPECT_NE(named.error.find("certificate verify failed (hostname mismatch)"), std::string::npos) << named.error;
  // An IP address the certificate does not list, connected to directly.
  const Certificate elsewhere = make_certificate(directory_.string(), "elsewhere", "DNS:localhost,IP:127.0.0.2");
  SSL_CTX* elsewhere_context = server_context(elsewhere);
  {
    LoopbackHttp other([&](const Request& r) { return deribit(r); }, elsewhere_context);
    DeribitVenueWallet by_address(pinned(other, elsewhere.certificate), kVenue, "id", "secret");
    const Answer addressed = by_address.deposit_address(kVenue);
    EXPECT_FALSE(addressed.ok);
    EXPECT_NE(addressed.error.find("(IP address mismatch)"), std::string::npos) << addressed.error;
    EXPECT_TRUE(other.requests().empty());
  }
  SSL_CTX_free(elsewhere_context);
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(WalletTls, a_plain_http_server_where_tls_is_expected_fails_naming_it) {
  // A plain HTTP server answering the ClientHello as a malformed request, as
  // Go's net/http does: 400, then close. (LoopbackHttp answers complete
  // request heads only.)
  int port = 0;
  {
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), length), 0);
    ASSERT_EQ(::listen(listener, 1), 0);
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(address.sin_port);
    std::thread server([listener] {
      const int fd = ::accept(listener, nullptr, nullptr);
      // The whole ClientHello record read first: closing with some of it
      // unread would reset the connection and could discard the answer.
      std::string hello;
      char buffer[4096];
      long n = 0;
      while ((hello.size() < 5 ||
              hello.size() < 5 + (static_cast<std::size_t>(static_cast<unsigned char>(hello[3])) << 8U) +
                                 static_cast<unsigned char>(hello[4])) &&
             (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) {
        hello.append(buffer, static_cast<std::size_t>(n));
      }
      const std::string answer = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                 "Connection: close\r\n\r\n400 Bad Request";
      (void)::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
      ::close(fd);
    });
    LndNodeWallet node(HttpEndpoint{"127.0.0.1", port, std::chrono::milliseconds(5000),
                                    common::TlsSettings{true, node_certificate_.certificate, {}}},
                       "");
    const Answer answer = node.new_address();
    server.join();
    ::close(listener);
    EXPECT_FALSE(answer.ok);
    EXPECT_NE(answer.error.find("TLS handshake with 127.0.0.1:" + std::to_string(port) + " failed"), std::string::npos)
        << answer.error;
    EXPECT_NE(answer.error.find("the server answered in plain HTTP"), std::string::npos) << answer.error;
  }
}

TEST_F(WalletTls, plain_http_to_lnds_tls_port_gets_lnds_own_answer_as_the_error) {
  FakeLnd lnd;
  LoopbackHttp server([&](const Request& r) { return lnd(r); }, context_);
  LndNodeWallet node(server.endpoint(), "0201abcd"); // TLS off by mistake
  const Answer answer = node.new_address();
  EXPECT_FALSE(answer.ok);
  EXPECT_NE(answer.error.find("HTTP 400: Client sent an HTTP request to an HTTPS server."), std::string::npos)
      << answer.error;
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(WalletTls, a_certificate_file_that_cannot_be_loaded_fails_the_construction_naming_the_file) {
  const std::string missing = (directory_ / "no-such-tls.cert").string();
  HttpEndpoint endpoint{"127.0.0.1", 1, std::chrono::milliseconds(1000), common::TlsSettings{true, missing, {}}};
  try {
    LndNodeWallet node(endpoint, "");
    FAIL() << "constructed with a missing certificate file";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("cannot load the TLS certificate " + missing), std::string::npos)
        << error.what();
  }
  const std::string garbage = (directory_ / "garbage.cert").string();
  std::ofstream(garbage) << "not a certificate\n";
  endpoint.tls.pinned_certificate_file = garbage;
  EXPECT_THROW(DeribitVenueWallet(endpoint, kVenue, "id", "secret"), std::runtime_error);
}

TEST_F(WalletTls, the_executor_completes_a_deposit_over_tls_to_both_counterparties) {
  FakeLnd lnd;
  FakeDeribit deribit;
  LoopbackHttp node_server([&](const Request& r) { return lnd(r); }, context_);
  LoopbackHttp venue_server([&](const Request& r) { return deribit(r); }, context_);
  LndNodeWallet node(pinned(node_server, node_certificate_.certificate), "");
  DeribitVenueWallet venue(pinned(venue_server, node_certificate_.certificate), kVenue, "id", "secret");
  const std::string path = (directory_ / "transfers.journal").string();
  TransferJournal journal(path);
  TransferExecutor executor(journal, node, venue, TransferLimits{});
  executor.submit({7, kVenue, hedging::TransferDirection::wallet_to_exchange, hedging::Sats{50'000}}, 1'000);
  for (int i = 0; i < 5 && lnd.txs.empty(); ++i) {
    (void)executor.poll(1'000 + i);
  }
  ASSERT_EQ(lnd.txs.size(), 1U);
  deribit.credited_txids.push_back(lnd.txs[0].txid);
  std::vector<TransferOutcome> outcomes;
  for (int i = 0; i < 5 && outcomes.empty(); ++i) {
    outcomes = executor.poll(2'000 + i);
  }
  ASSERT_EQ(outcomes.size(), 1U);
  EXPECT_EQ(outcomes[0].kind, TransferOutcome::Kind::completed) << outcomes[0].detail;
  EXPECT_EQ(node_server.handshake_failures() + venue_server.handshake_failures(), 0);
}

} // namespace
} // namespace synthusd::transfers
