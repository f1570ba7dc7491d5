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

namespace synthusd::transfers {
namespace {

struct Request {
  std::string method;
  std::string target;
  std::string headers;
  std::string body;
};

struct Reply {
  int status = 200;
  std::string body;
};

// One connection at a time on 127.0.0.1, Connection: close, as the client asks.
class LoopbackHttp {
public:
  explicit LoopbackHttp(std::function<Reply(const Request&)> handler) : handler_(std::move(handler)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(listener_, 8) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("cannot listen on loopback");
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~LoopbackHttp() {
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
  }
  [[nodiscard]] HttpEndpoint endpoint() const { return {"127.0.0.1", port_, std::chrono::milliseconds(5000)}; }
  std::vector<Request> requests() {
    const std::lock_guard lock(mutex_);
    return requests_;
  }

private:
  void serve() {
    for (;;) {
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        return;
      }
      std::string raw;
      char buffer[4096];
      std::size_t head_end = std::string::npos;
      std::size_t length = 0;
      while (head_end == std::string::npos || raw.size() < head_end + 4 + length) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) {
          break;
        }
        raw.append(buffer, static_cast<std::size_t>(n));
        if (head_end == std::string::npos && (head_end = raw.find("\r\n\r\n")) != std::string::npos) {
          const std::size_t at = raw.find("Content-Length: ");
          length = at < head_end ? std::stoul(raw.substr(at + 16)) : 0;
        }
      }
      Request request;
      const std::size_t space = raw.find(' ');
      request.method = raw.substr(0, space);
      request.target = raw.substr(space + 1, raw.find(' ', space + 1) - space - 1);
      request.headers = raw.substr(0, head_end);
      request.body = raw.substr(head_end + 4);
      Reply reply;
      {
        const std::lock_guard lock(mutex_);
        requests_.push_back(request);
        reply = handler_(request);
      }
      const std::string response =
          "HTTP/1.1 " + std::to_string(reply.status) +
          " X\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(reply.body.size()) +
          "\r\nConnection: close\r\n\r\n" + reply.body;
      (void)::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
      ::close(fd);
    }
  }

  std::function<Reply(const Request&)> handler_;
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<Request> requests_;
};

std::string field(const std::string& body, const std::string& name) {
  const std::string key = "\"" + name + "\":\"";
  const std::size_t at = body.find(key);
  return at == std::string::npos ? "" : body.substr(at + key.size(), body.find('"', at + key.size()) - at - key.size());
}

std::string query(const std::string& target, const std::string& name) {
  const std::size_t at = target.find(name + "=");
  return at == std::string::npos ? ""
                                 : target.substr(at + name.size() + 1, target.find('&', at) - at - name.size() - 1);
}

// lnd: sendcoins records a send (amount and label as sent), transactions
// lists them as lnd does (int64 as strings, outputs with addresses), and an
// incoming payment the test adds.
struct FakeLnd {
  struct Tx {
    std::string txid, address, label;
    std::int64_t amount = 0;
  };
  std::vector<Tx> txs;
  int addresses = 0;
  Reply operator()(const Request& request) {
    if (request.method == "POST" && request.target == "/v1/transactions") {
      txs.push_back({"lndtx" + std::to_string(txs.size() + 1), field(request.body, "addr"),
                     field(request.body, "label"), std::stoll(field(request.body, "amount"))});
      return {200, R"({"txid":")" + txs.back().txid + R"("})"};
    }
    if (request.target == "/v1/newaddress?type=WITNESS_PUBKEY_HASH") {
      return {200, R"({"address":"bcrt1qnode)" + std::to_string(++addresses) + R"("})"};
    }
    if (request.target == "/v1/transactions") {
      std::string body = R"({"transactions":[)";
      for (const Tx& tx : txs) {
        body += (&tx == txs.data() ? "" : ",");
        body += R"({"tx_hash":")" + tx.txid + R"(","amount":")" + std::to_string(tx.amount) +
                R"(","num_confirmations":1,"label":")" + tx.label +
                R"(","output_details":[{"output_type":"SCRIPT_TYPE_WITNESS_V0_PUBKEY_HASH","address":")" + tx.address +
                R"(","amount":")" + std::to_string(tx.amount) + R"(","is_our_address":false}]})";
      }
      return {200, body + "]}"};
    }
    return {404, R"({"code":5,"message":"Not Found"})"};
  }
};

// Deribit: one deposit address; deposits the test lists as completed;
// withdrawals recorded with BTC amounts as JSON numbers.
struct FakeDeribit {
  std::vector<std::string> credited_txids;
  std::vector<std::pair<std::string, std::string>> withdrawals; // address, amount text
  static std::string ok(const std::string& result) { return R"({"jsonrpc":"2.0","result":)" + result + "}"; }
  Reply operator()(const Request& request) {
    if (request.headers.find("Authorization: Basic aWQ6c2VjcmV0") == std::string::npos) { // id:secret
      return {400, R"({"jsonrpc":"2.0","error":{"message":"unauthorized","code":13009}})"};
    }
    const std::string& t = request.target;
    if (t.starts_with("/api/v2/private/get_current_deposit_address?currency=BTC")) {
      return {
          200,
          ok(R"({"address":"2N8udZGBc1hLRCFsU9kGwB5Xm6ECzHrBYwE","creation_timestamp":1550575165170,"currency":"BTC","type":"deposit"})")};
    }
    if (t.starts_with("/api/v2/private/get_deposits?")) {
      std::string data;
      for (const std::string& txid : credited_txids) {
        data += (data.empty() ? "" : ",");
        data +=
            R"({"address":"2N8udZGBc1hLRCFsU9kGwB5Xm6ECzHrBYwE","amount":0.0005,"currency":"BTC","received_timestamp":1550574558607,"state":"completed","transaction_id":")" +
            txid + R"(","updated_timestamp":1550574558807})";
      }
      return {200, ok(R"({"count":)" + std::to_string(credited_txids.size()) + R"(,"data":[)" + data + "]}")};
    }
    if (t.starts_with("/api/v2/private/withdraw?")) {
      withdrawals.emplace_back(query(t, "address"), query(t, "amount"));
      return {200, ok(R"({"address":")" + withdrawals.back().first + R"(","amount":)" + withdrawals.back().second +
                      R"(,"currency":"BTC","fee":0.0001,"id":)" + std::to_string(withdrawals.size()) +
                      R"(,"priority":1,"state":"unconfirmed","transaction_id":null})")};
    }
    if (t.starts_with("/api/v2/private/get_withdrawals?")) {
      std::string data;
      for (std::size_t i = 0; i < withdrawals.size(); ++i) {
        data += (data.empty() ? "" : ",");
        data += R"({"address":")" + withdrawals[i].first + R"(","amount":)" + withdrawals[i].second +
                R"(,"currency":"BTC","id":)" + std::to_string(i + 1) + R"(,"state":"unconfirmed"})";
      }
      return {200, ok(R"({"count":)" + std::to_string(withdrawals.size()) + R"(,"data":[)" + data + "]}")};
    }
    return {400, R"({"jsonrpc":"2.0","error":{"message":"Method not found","code":-32601}})"};
  }
};

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
  EXPECT_EQ(node.find_send("bcrt1qvenue", 50'000, "synthusd-7"), std::optional<std::string>("lndtx1"));
  EXPECT_EQ(node.find_send("bcrt1qvenue", 50'001, "synthusd-7"), std::nullopt);
  EXPECT_EQ(node.find_send("bcrt1qvenue", 50'000, "synthusd-8"), std::nullopt);
  EXPECT_EQ(node.find_incoming("bcrt1qvenue", 50'000), std::optional<std::string>("lndtx1"));
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
  HttpEndpoint nowhere{"127.0.0.1", 1, std::chrono::milliseconds(2000)};
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
  EXPECT_FALSE(venue.deposit_credited(kVenue, "abc"));
  deribit.credited_txids.push_back("abc");
  EXPECT_TRUE(venue.deposit_credited(kVenue, "abc"));
  const Answer withdrawal = venue.request_withdrawal(kVenue, "bcrt1qnode1", 12'345, "synthusd-9");
  ASSERT_TRUE(withdrawal.ok) << withdrawal.error;
  EXPECT_EQ(withdrawal.value, "1");
  EXPECT_EQ(deribit.withdrawals.at(0).second, "0.00012345");
  EXPECT_EQ(venue.find_withdrawal(kVenue, "bcrt1qnode1", 12'345), std::optional<std::string>("1"));
  EXPECT_EQ(venue.find_withdrawal(kVenue, "bcrt1qnode1", 12'346), std::nullopt);
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
