#pragma once
// A stand-in for lightningd's JSON-RPC socket (lightning-rpc), shaped from
// Core Lightning's own schemas (doc/schemas/newaddr.json, withdraw.json,
// listtransactions.json, listfunds.json) and lightningd-rpc(7): JSON-RPC 2.0
// on a unix socket, each response followed by "\n\n", errors as
// {"code","message"} with the schema's codes (withdraw 301: not enough
// funds; -32602: bad parameters). `legacy` answers as versions before v23.11
// do: amounts as "NNNmsat" strings, no p2tr, no listfunds `spent` parameter.
//
// The scripts of the addresses it pays are a table computed outside this
// code (Python, from BIP 173/350 and base58check), so the client's own
// address decoding is checked against them, not against itself.
#include <simdjson.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace synthusd::transfers::test {

// Addresses and the scriptPubKeys they pay (regtest bech32 v0 / v1, testnet P2SH).
inline const std::map<std::string, std::string>& known_scripts() {
  static const std::map<std::string, std::string> scripts = {
      {"bcrt1qegf0xxuvha0jncngafjvyz3h702sk5uamk6kfx", "0014ca12f31b8cbf5f29e268ea64c20a37f3d50b539d"},
      {"bcrt1qzkcc5ujry4mf2uz0v63mrhwfxygeflra9s79ec", "001415b18a7243257695704f66a3b1ddc9311194fc7d"},
      {"bcrt1q8ddmr3h8kak6h290mz23dcjpgzn8l347mht7m0", "00143b5bb1c6e7b76daba8afd89516e24140a67fc6be"},
      {"bcrt1pprt4x8anym0sfc49dda8rwmp05mdm559hpex6qu4n3g35c4zt0cszll6yd",
       "512008d7531fb326df04e2a56b7a71bb617d36ddd285b8726d03959c511a62a25bf1"},
      {"bcrt1quc3d5g6626th8qlpmw9luu024xmp2m8varllru", "0014e622da235a56977383e1db8bfe71eaa9b6156cec"},
      {"2N8udZGBc1hLRCFsU9kGwB5Xm6ECzJctosJ", "a914abcd5e0c89b38652fdff7a66531165b92d3b6e9887"},
  };
  return scripts;
}
inline const std::vector<std::string> kNodeBech32 = {"bcrt1qegf0xxuvha0jncngafjvyz3h702sk5uamk6kfx",
                                                     "bcrt1qzkcc5ujry4mf2uz0v63mrhwfxygeflra9s79ec",
                                                     "bcrt1q8ddmr3h8kak6h290mz23dcjpgzn8l347mht7m0"};
inline const std::string kNodeTaproot = "bcrt1pprt4x8anym0sfc49dda8rwmp05mdm559hpex6qu4n3g35c4zt0cszll6yd";
inline const std::string kVenueP2sh = "2N8udZGBc1hLRCFsU9kGwB5Xm6ECzJctosJ";
inline const std::string kVenueBech32 = "bcrt1quc3d5g6626th8qlpmw9luu024xmp2m8varllru";

class FakeLightningRpc {
public:
  struct TxOutput {
    std::string script;
    std::int64_t msat = 0;
  };
  struct Tx {
    std::string hash;
    std::vector<TxOutput> outputs;
  };
  struct Fund {
    std::string txid, address, status;
    std::int64_t msat = 0;
  };
  enum class Misbehaviour { none, oversize, malformed, wrong_id, close_after_withdraw };

  explicit FakeLightningRpc(std::int64_t balance_sats, bool legacy = false)
      : legacy_(legacy), balance_sats_(balance_sats) {
    directory_ = std::filesystem::temp_directory_path() /
                 ("synthusd-cln-" + std::to_string(::getpid()) + "-" + std::to_string(++counter()));
    std::filesystem::create_directories(directory_);
    path_ = (directory_ / "lightning-rpc").string();
    listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path_.data(), path_.size());
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener_, 8) != 0) {
      throw std::runtime_error("cannot listen on " + path_);
    }
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeLightningRpc() {
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
    std::filesystem::remove_all(directory_);
  }
  FakeLightningRpc(const FakeLightningRpc&) = delete;
  FakeLightningRpc& operator=(const FakeLightningRpc&) = delete;

  [[nodiscard]] const std::string& socket_path() const { return path_; }
  void misbehave(Misbehaviour how) {
    const std::lock_guard lock(mutex_);
    misbehaviour_ = how;
  }
  // The next `count` calls of `method` answer CLN's error `code` / `message`
  // (lightningd's generic failure is -1, jsonrpc_errors.h) instead of a result.
  void fail_next(const std::string& method, int count, std::int64_t code = -1,
                 const std::string& message = "Unknown internal error") {
    const std::lock_guard lock(mutex_);
    failing_method_ = method;
    failing_count_ = count;
    failing_code_ = code;
    failing_message_ = message;
  }
  // A transaction the wallet sees (a send made earlier, outside or by a test).
  void add_send(const std::string& hash, const std::string& address, std::int64_t sats) {
    const std::lock_guard lock(mutex_);
    txs_.push_back({hash, {{known_scripts().at(address), sats * 1000}}});
  }
  // An output paid to the node (`status`: unconfirmed, confirmed, spent).
  void receive(const std::string& txid, const std::string& address, std::int64_t sats, const std::string& status) {
    const std::lock_guard lock(mutex_);
    funds_.push_back({txid, address, status, sats * 1000});
  }
  [[nodiscard]] std::vector<std::string> methods() {
    const std::lock_guard lock(mutex_);
    return methods_;
  }
  [[nodiscard]] std::vector<std::string> requests() {
    const std::lock_guard lock(mutex_);
    return requests_;
  }
  [[nodiscard]] std::size_t withdrawals() {
    const std::lock_guard lock(mutex_);
    return withdrawals_;
  }
  // The txids of the sends `withdraw` made, in order.
  [[nodiscard]] std::vector<std::string> sent_txids() {
    const std::lock_guard lock(mutex_);
    return sent_txids_;
  }

private:
  static int& counter() {
    static int value = 0;
    return value;
  }
  std::string amount(std::int64_t msat) const {
    return legacy_ ? "\"" + std::to_string(msat) + "msat\"" : std::to_string(msat);
  }
  static std::string txid_for(std::size_t n) {
    std::string hex = std::to_string(n);
    return std::string(64 - hex.size(), 'c') + hex;
  }
  static std::string error(std::int64_t code, const std::string& message) {
    return R"("error":{"code":)" + std::to_string(code) + R"(,"message":")" + message + "\"}";
  }

  // The reply's body after "id":N, (a "result" or an "error" member).
  std::string answer(simdjson::ondemand::document& doc, const std::string& method) {
    using simdjson::ondemand::object;
    if (method == "newaddr") {
      std::string type = "p2tr"; // the schema's default
      std::string_view asked;
      if (doc["params"]["addresstype"].get_string().get(asked) == simdjson::SUCCESS) {
        type = std::string(asked);
      }
      if (type == "p2tr" && legacy_) {
        return error(-32602, "addresstype: Invalid argument");
      }
      const std::string address = type == "p2tr" ? kNodeTaproot : kNodeBech32.at(addresses_++ % kNodeBech32.size());
      return R"("result":{")" + type + R"(":")" + address + "\"}";
    }
    if (method == "withdraw") {
      std::string_view destination;
      std::int64_t sats = 0;
      if (doc["params"]["destination"].get_string().get(destination) != simdjson::SUCCESS ||
          doc["params"]["satoshi"].get_int64().get(sats) != simdjson::SUCCESS) {
        return error(-32602, "destination or satoshi: Invalid argument");
      }
      const auto script = known_scripts().find(std::string(destination));
      if (script == known_scripts().end()) {
        return error(-32602, "Could not parse destination address, destination should be a valid address");
      }
      if (sats > balance_sats_) {
        return error(301, "Could not afford " + std::to_string(sats) +
                              "sat using all 1 available UTXOs: " + std::to_string(sats - balance_sats_) + "sat short");
      }
      balance_sats_ -= sats;
      ++withdrawals_;
      const std::string txid = txid_for(txs_.size() + 1);
      sent_txids_.push_back(txid);
      // The payment and the change, as CLN's withdraw builds it.
      txs_.push_back({txid, {{script->second, sats * 1000}, {"0014" + std::string(40, '9'), balance_sats_ * 1000}}});
      return R"("result":{"tx":"02000000000101)" + std::string(40, 'a') + R"(","txid":")" + txid +
             R"(","psbt":"cHNidP8BAgQCAAAAAQMEbwAAAAEEAQpsbt91"})";
    }
    if (method == "listtransactions") {
      std::string body = R"("result":{"transactions":[)";
      for (std::size_t i = 0; i < txs_.size(); ++i) {
        body += (i == 0 ? "" : ",");
        body += R"({"hash":")" + txs_[i].hash + R"(","rawtx":"0200000001","blockheight":)" + std::to_string(100 + i) +
                R"(,"txindex":1,"locktime":0,"version":2,"inputs":[{"txid":")" + std::string(64, 'e') +
                R"(","index":0,"sequence":4294967293}],"outputs":[)";
        for (std::size_t j = 0; j < txs_[i].outputs.size(); ++j) {
          body += (j == 0 ? "" : ",");
          body += R"({"index":)" + std::to_string(j) + R"(,"amount_msat":)" + amount(txs_[i].outputs[j].msat) +
                  R"(,"scriptPubKey":")" + txs_[i].outputs[j].script + "\"}";
        }
        body += "]}";
      }
      return body + "]}";
    }
    if (method == "listfunds") {
      bool spent = false;
      bool asked_spent = doc["params"]["spent"].get_bool().get(spent) == simdjson::SUCCESS;
      if (asked_spent && legacy_) {
        return error(-32602, "'spent': Unknown parameter");
      }
      std::string body = R"("result":{"outputs":[)";
      bool first = true;
      for (const Fund& fund : funds_) {
        if (fund.status == "spent" && !spent) {
          continue;
        }
        body += first ? "" : ",";
        first = false;
        body += R"({"txid":")" + fund.txid + R"(","output":0,"amount_msat":)" + amount(fund.msat) +
                R"(,"scriptpubkey":")" + known_scripts().at(fund.address) + R"(","address":")" + fund.address +
                R"(","status":")" + fund.status + "\"" + (fund.status == "confirmed" ? R"(,"blockheight":141)" : "") +
                R"(,"reserved":false})";
      }
      return body + R"(],"channels":[]})";
    }
    return error(-32601, "Unknown command '" + method + "'");
  }

  void serve() {
    for (;;) {
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        return;
      }
      std::string raw;
      char buffer[4096];
      // One request per connection, as the client sends: read until the
      // top-level object closes (braces outside strings).
      int depth = 0;
      bool in_string = false;
      bool escaped = false;
      bool complete = false;
      while (!complete) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) {
          break;
        }
        for (ssize_t i = 0; i < n && !complete; ++i) {
          const char c = buffer[i];
          raw.push_back(c);
          if (in_string) {
            escaped = !escaped && c == '\\';
            in_string = escaped || c != '"';
          } else if (c == '"') {
            in_string = true;
          } else if (c == '{') {
            ++depth;
          } else if (c == '}') {
            complete = --depth == 0;
          }
        }
      }
      std::string reply;
      bool close_early = false;
      {
        const std::lock_guard lock(mutex_);
        requests_.push_back(raw);
        simdjson::ondemand::parser parser;
        const simdjson::padded_string json(raw);
        simdjson::ondemand::document doc = parser.iterate(json);
        std::uint64_t id = 0;
        std::string_view method;
        if (doc["id"].get_uint64().get(id) != simdjson::SUCCESS ||
            doc["method"].get_string().get(method) != simdjson::SUCCESS) {
          reply = R"({"jsonrpc":"2.0","id":null,)" + error(-32600, "Invalid request") + "}\n\n";
        } else {
          const std::string name(method);
          methods_.push_back(name);
          doc.rewind();
          std::string body;
          if (name == failing_method_ && failing_count_ > 0) {
            --failing_count_;
            body = error(failing_code_, failing_message_);
          } else {
            body = answer(doc, name);
          }
          switch (misbehaviour_) {
          case Misbehaviour::none:
            reply = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + "," + body + "}\n\n";
            break;
          case Misbehaviour::oversize:
            reply = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"result":{"padding":")" +
                    std::string(4U << 20U, 'x') + "\"}}\n\n";
            break;
          case Misbehaviour::malformed:
            reply = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"result":{"txid":)" + "\n\n";
            break;
          case Misbehaviour::wrong_id:
            reply = R"({"jsonrpc":"2.0","id":)" + std::to_string(id + 1000) + "," + body + "}\n\n";
            break;
          case Misbehaviour::close_after_withdraw:
            // The send is made, then the connection drops before the answer
            // (lightningd killed, the socket torn down).
            close_early = name == "withdraw";
            reply = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + "," + body + "}\n\n";
            break;
          }
        }
      }
      std::size_t sent = 0;
      while (!close_early && sent < reply.size()) {
        const ssize_t n = ::send(fd, reply.data() + sent, reply.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) {
          break;
        }
        sent += static_cast<std::size_t>(n);
      }
      ::close(fd);
    }
  }

  bool legacy_;
  std::int64_t balance_sats_;
  std::filesystem::path directory_;
  std::string path_;
  int listener_ = -1;
  std::thread thread_;
  std::mutex mutex_;
  Misbehaviour misbehaviour_ = Misbehaviour::none;
  std::string failing_method_;
  int failing_count_ = 0;
  std::int64_t failing_code_ = -1;
  std::string failing_message_;
  std::vector<Tx> txs_;
  std::vector<Fund> funds_;
  std::vector<std::string> methods_;
  std::vector<std::string> requests_;
  std::size_t addresses_ = 0;
  std::size_t withdrawals_ = 0;
  std::vector<std::string> sent_txids_;
};

} // namespace synthusd::transfers::test
