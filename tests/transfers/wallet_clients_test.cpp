// The real wallet clients (wallet_clients.hpp) against loopback HTTP servers
// that answer as lnd's REST gateway and Deribit's private wallet API do, per
// their documentation, and the executor driven through them end to end.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "synthusd/transfers/transfer_executor.hpp"
#include "synthusd/transfers/wallet_clients.hpp"
#include "wallet_http_fakes.hpp"

namespace synthusd::transfers {
namespace {

using namespace test; // NOLINT(google-build-using-namespace): the fakes

constexpr hedging::VenueId kVenue = 1;

TEST(LndNodeWallet, sendcoins_posts_amount_and_label_and_returns_the_txid_it_can_find_again) {
  FakeLnd lnd;
  LoopbackHttp server([&](const Request& r) { return lnd(r); });
  LndNodeWallet node(server.endpoint(), "0201abcd");
  const Answer sent = node.send("bcrt1qvenue", 50'000, "synthusd-7");
  ASSERT_TRUE(sent.ok) << sent.error;
  EXPECT_EQ(sent.value, "lndtx1");
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_NE(requests[0].headers.find("Grpc-Metadata-macaroon: 0201abcd"), std::string::npos);
  EXPECT_EQ(requests[0].body, R"({"addr":"bcrt1qvenue","amount":"50000","label":"synthusd-7"})");
  EXPECT_EQ(node.find_send("bcrt1qvenue", 50'000, "synthusd-7").value, "lndtx1");
  EXPECT_TRUE(node.find_send("bcrt1qvenue", 50'000, "synthusd-7").is_found());
  EXPECT_TRUE(node.find_send("bcrt1qvenue", 50'001, "synthusd-7").is_absent());
  EXPECT_TRUE(node.find_send("bcrt1qvenue", 50'000, "synthusd-8").is_absent());
  EXPECT_EQ(node.find_incoming("bcrt1qvenue", 50'000).value, "lndtx1");
  EXPECT_TRUE(node.find_incoming("bcrt1qvenue", 50'001).is_absent());
}

TEST(LndNodeWallet, an_error_status_or_a_malformed_address_is_a_failure_not_a_send) {
  LoopbackHttp server([](const Request&) {
    return Reply{500, R"({"code":2,"message":"insufficient funds available"})"};
  });
  LndNodeWallet node(server.endpoint(), "");
  const Answer sent = node.send("bcrt1qvenue", 50'000, "synthusd-7");
  EXPECT_FALSE(sent.ok);
  EXPECT_NE(sent.error.find("insufficient funds"), std::string::npos);
  EXPECT_FALSE(node.send("bad\"address", 1, "x").ok);
  EXPECT_EQ(server.requests().size(), 1U) << "a malformed address never reaches the node";
}

TEST(LndNodeWallet, an_unreachable_node_is_a_failure_with_a_reason) {
  HttpEndpoint nowhere{"127.0.0.1", 1, std::chrono::milliseconds(2000), {}};
  LndNodeWallet node(nowhere, "");
  const Answer answer = node.new_address();
  EXPECT_FALSE(answer.ok);
  EXPECT_NE(answer.error.find("cannot connect"), std::string::npos) << answer.error;
}

TEST(DeribitVenueWallet, reads_the_address_deposits_and_withdrawals_with_exact_btc_amounts) {
  FakeDeribit deribit;
  LoopbackHttp server([&](const Request& r) { return deribit(r); });
  DeribitVenueWallet venue(server.endpoint(), kVenue, "id", "secret");
  const Answer address = venue.deposit_address(kVenue);
  ASSERT_TRUE(address.ok) << address.error;
  EXPECT_EQ(address.value, "2N8udZGBc1hLRCFsU9kGwB5Xm6ECzHrBYwE");
  EXPECT_TRUE(venue.deposit_credited(kVenue, "abc").is_absent());
  server.locked([&] { deribit.credited_txids.push_back("abc"); });
  EXPECT_TRUE(venue.deposit_credited(kVenue, "abc").is_found());
  const Answer withdrawal = venue.request_withdrawal(kVenue, "bcrt1qnode1", 12'345, "synthusd-9");
  ASSERT_TRUE(withdrawal.ok) << withdrawal.error;
  EXPECT_EQ(withdrawal.value, "1");
  EXPECT_EQ(deribit.withdrawals.at(0).second, "0.00012345");
  EXPECT_EQ(venue.find_withdrawal(kVenue, "bcrt1qnode1", 12'345).value, "1");
  EXPECT_TRUE(venue.find_withdrawal(kVenue, "bcrt1qnode1", 12'346).is_absent());
  EXPECT_FALSE(venue.deposit_address(kVenue + 1).ok) << "one client serves one venue";
}

TEST(DeribitVenueWallet, a_json_rpc_error_is_a_failure_with_its_message) {
  FakeDeribit deribit;
  LoopbackHttp server([&](const Request& r) { return deribit(r); });
  DeribitVenueWallet venue(server.endpoint(), kVenue, "id", "wrong");
  const Answer address = venue.deposit_address(kVenue);
  EXPECT_FALSE(address.ok);
  EXPECT_NE(address.error.find("unauthorized"), std::string::npos) << address.error;
}

std::string fresh_journal(const char* name) {
  const auto path = std::filesystem::temp_directory_path() /
                    (std::string("synthusd_wallet_clients_") + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove(path);
  return path.string();
}

TEST(WalletClients, a_deposit_interrupted_after_the_send_resumes_from_the_nodes_record_without_sending_again) {
  FakeLnd lnd;
  FakeDeribit deribit;
  LoopbackHttp node_server([&](const Request& r) { return lnd(r); });
  LoopbackHttp venue_server([&](const Request& r) { return deribit(r); });
  LndNodeWallet node(node_server.endpoint(), "");
  DeribitVenueWallet venue(venue_server.endpoint(), kVenue, "id", "secret");
  const std::string path = fresh_journal("resume");
  const hedging::TransferIntent intent{7, kVenue, hedging::TransferDirection::wallet_to_exchange,
                                       hedging::Sats{50'000}};
  {
    TransferJournal journal(path);
    TransferExecutor executor(journal, node, venue, TransferLimits{});
    executor.submit(intent, 1'000);
    for (int i = 0; i < 5 && lnd.txs.empty(); ++i) {
      (void)executor.poll(1'000 + i);
    }
    ASSERT_EQ(lnd.txs.size(), 1U);
    EXPECT_EQ(lnd.txs[0].address, "2N8udZGBc1hLRCFsU9kGwB5Xm6ECzHrBYwE");
  }
  // A crash between the node's send and the journal's "sent" line: drop
  // that line, as if it was never written.
  {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::size_t sent = text.find("7 sent");
    ASSERT_NE(sent, std::string::npos) << text;
    text.erase(sent, text.find('\n', sent) + 1 - sent);
    std::ofstream(path, std::ios::trunc) << text;
  }
  deribit.credited_txids.push_back("lndtx1");
  TransferJournal journal(path);
  TransferExecutor executor(journal, node, venue, TransferLimits{});
  std::vector<TransferOutcome> outcomes;
  for (int i = 0; i < 5 && outcomes.empty(); ++i) {
    outcomes = executor.poll(2'000 + i);
  }
  ASSERT_EQ(outcomes.size(), 1U);
  EXPECT_EQ(outcomes[0].kind, TransferOutcome::Kind::completed) << outcomes[0].detail;
  EXPECT_EQ(lnd.txs.size(), 1U) << "never sent twice";
  std::filesystem::remove(path);
}

} // namespace
} // namespace synthusd::transfers
