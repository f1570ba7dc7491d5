#pragma once
// Loopback HTTP stand-ins for lnd's REST gateway and Deribit's private wallet
// API, answering as their documentation shows (int64 as strings for lnd, BTC
// as JSON numbers and JSON-RPC {result}/{error} for Deribit), over plain HTTP
// or TLS. Shared by the wallet client tests and the engine's transfer thread
// test (link OpenSSL::SSL).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "synthusd/transfers/http_call.hpp"

namespace synthusd::transfers::test {

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

// One connection at a time on 127.0.0.1, Connection: close, as the client
// asks. With a server context it serves TLS as lnd (Go's crypto/tls) does,
// answering a plain HTTP request with Go's own 400.
class LoopbackHttp {
public:
  explicit LoopbackHttp(std::function<Reply(const Request&)> handler, SSL_CTX* tls = nullptr)
      : handler_(std::move(handler)), tls_(tls) {
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
  [[nodiscard]] HttpEndpoint endpoint() const { return {"127.0.0.1", port_, std::chrono::milliseconds(5000), {}}; }
  // Changes a fake's state without racing the server thread.
  template <typename Change>
  void locked(Change&& change) {
    const std::lock_guard lock(mutex_);
    change();
  }
  std::vector<Request> requests() {
    const std::lock_guard lock(mutex_);
    return requests_;
  }
  // Whether a TLS answer ends with close_notify (Go's servers, lnd's among
  // them, send it; Python's ssl servers just close). Set before requests.
  bool close_notify = true;
  // Connections whose TLS handshake failed (the client refused us, or spoke plain HTTP).
  [[nodiscard]] int handshake_failures() const noexcept { return handshake_failures_; }

private:
  void serve() {
    for (;;) {
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        return;
      }
      const timeval two_seconds{2, 0}; // a client that stalls never hangs the server
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &two_seconds, sizeof two_seconds);
      SSL* ssl = tls_ == nullptr ? nullptr : accept_tls(fd);
      if (tls_ == nullptr || ssl != nullptr) {
        answer(fd, ssl);
      }
      SSL_free(ssl);
      ::close(fd);
    }
  }

  // The TLS session, or null after answering or counting a failed handshake.
  SSL* accept_tls(int fd) {
    // Go's crypto/tls, seeing a first record that is not a handshake (0x16)
    // but looks like HTTP, answers in plain HTTP and closes.
    char first = 0;
    if (::recv(fd, &first, 1, MSG_PEEK) == 1 && first != 0x16) {
      ++handshake_failures_;
      // The request read first: closing with it unread would reset the
      // connection and could discard the answer before the client reads it.
      std::string request;
      char buffer[4096];
      long n = 0;
      while (request.find("\r\n\r\n") == std::string::npos && (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) {
        request.append(buffer, static_cast<std::size_t>(n));
      }
      const std::string go = "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";
      (void)::send(fd, go.data(), go.size(), MSG_NOSIGNAL);
      return nullptr;
    }
    SSL* ssl = SSL_new(tls_);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) {
      ++handshake_failures_;
      SSL_free(ssl);
      return nullptr;
    }
    return ssl;
  }

  void answer(int fd, SSL* ssl) {
    std::string raw;
    char buffer[4096];
    std::size_t head_end = std::string::npos;
    std::size_t length = 0;
    while (head_end == std::string::npos || raw.size() < head_end + 4 + length) {
      const long n = ssl != nullptr ? SSL_read(ssl, buffer, sizeof buffer) : ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) {
        break;
      }
      raw.append(buffer, static_cast<std::size_t>(n));
      if (head_end == std::string::npos && (head_end = raw.find("\r\n\r\n")) != std::string::npos) {
        const std::size_t at = raw.find("Content-Length: ");
        length = at < head_end ? std::stoul(raw.substr(at + 16)) : 0;
      }
    }
    if (head_end == std::string::npos) {
      return; // not a request: nothing to answer
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
    if (ssl != nullptr) {
      (void)SSL_write(ssl, response.data(), static_cast<int>(response.size()));
      if (close_notify) {
        (void)SSL_shutdown(ssl);
      }
    } else {
      (void)::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
    }
  }

  std::function<Reply(const Request&)> handler_;
  SSL_CTX* tls_;
  std::atomic<int> handshake_failures_{0};
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<Request> requests_;
};

inline std::string field(const std::string& body, const std::string& name) {
  const std::string key = "\"" + name + "\":\"";
  const std::size_t at = body.find(key);
  return at == std::string::npos ? "" : body.substr(at + key.size(), body.find('"', at + key.size()) - at - key.size());
}

inline std::string query(const std::string& target, const std::string& name) {
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
  // Deribit's documented example (its checksum is not valid base58check);
  // a test that decodes the address sets a valid one.
  std::string deposit_address = "2N8udZGBc1hLRCFsU9kGwB5Xm6ECzHrBYwE";
  std::vector<std::string> credited_txids;
  std::vector<std::pair<std::string, std::string>> withdrawals; // address, amount text
  static std::string ok(const std::string& result) { return R"({"jsonrpc":"2.0","result":)" + result + "}"; }
  Reply operator()(const Request& request) {
    if (request.headers.find("Authorization: Basic aWQ6c2VjcmV0") == std::string::npos) { // id:secret
      return {400, R"({"jsonrpc":"2.0","error":{"message":"unauthorized","code":13009}})"};
    }
    const std::string& t = request.target;
    if (t.starts_with("/api/v2/private/get_current_deposit_address?currency=BTC")) {
      return {200, ok(R"({"address":")" + deposit_address +
                      R"(","creation_timestamp":1550575165170,"currency":"BTC","type":"deposit"})")};
    }
    if (t.starts_with("/api/v2/private/get_deposits?")) {
      std::string data;
      for (const std::string& txid : credited_txids) {
        data += (data.empty() ? "" : ",");
        data +=
            R"({"address":")" + deposit_address +
            R"(","amount":0.0005,"currency":"BTC","received_timestamp":1550574558607,"state":"completed","transaction_id":")" +
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

} // namespace synthusd::transfers::test
