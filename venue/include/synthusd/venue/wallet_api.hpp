#pragma once
// The simulator wallet's HTTP routes, apart from any socket:
//
//   GET /api/v2/private/get_current_deposit_address?currency=BTC
//   GET /api/v2/private/get_deposits?currency=BTC[&count=N][&offset=N]
//   GET /api/v2/private/withdraw?currency=BTC&address=A&amount=BTC
//   GET /api/v2/private/get_withdrawals?currency=BTC[&count=N][&offset=N]
//     Deribit's documented private wallet methods over HTTP GET, with its
//     JSON-RPC envelope ({"jsonrpc":"2.0","result":...} or "error":{code,
//     message}) and Basic auth with the configured client id and secret.
//   POST /chain/broadcast {"txid":..,"address":..,"amount":"<sats>"}
//   GET  /chain/transactions
//     the test chain: a node double "broadcasts" its sends here and learns
//     the venue's withdrawals from the list. No auth: the listener is
//     loopback only and this is a simulator.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "synthusd/venue/wallet.hpp"

namespace synthusd::venue {

struct WalletRequest {
  std::string method; // GET, POST
  std::string target; // path and query
  std::string authorization;
  std::string body;
};

struct WalletAnswer {
  int status = 200;
  std::string body; // JSON
};

class WalletApi {
public:
  // `accounts`: the venue's accounts (their deposit addresses are watched);
  // the credentials act for config.account, or the first account.
  WalletApi(Wallet& wallet, std::vector<std::string> accounts);

  [[nodiscard]] WalletAnswer answer(const WalletRequest& request, std::int64_t now_ms, const Wallet::Debit& debit);
  [[nodiscard]] const std::string& account() const noexcept { return account_; }

private:
  WalletAnswer private_method(std::string_view method, std::string_view query, std::int64_t now_ms,
                              const Wallet::Debit& debit);
  WalletAnswer broadcast(const std::string& body, std::int64_t now_ms);
  [[nodiscard]] WalletAnswer chain_transactions() const;

  Wallet& wallet_;
  std::vector<std::string> accounts_;
  std::string account_;
  std::string expected_authorization_;
};

} // namespace synthusd::venue
