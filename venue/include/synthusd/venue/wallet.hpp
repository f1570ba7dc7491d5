#pragma once
// The simulator's BTC wallet and the "chain" it shares with a test node:
// what Deribit's private wallet methods (get_current_deposit_address,
// get_deposits, withdraw, get_withdrawals) report, modelled without sockets
// or clocks so that tests drive it with explicit wall-clock milliseconds.
//
//   chain --broadcast(txid, address, sats)--> a deposit "pending" when the
//     address is an account's deposit address; "completed" and credited to
//     the account's balance (through `credit`) credit_delay_ms later, or
//     never when credit_delay_ms < 0 (a deposit that never arrives);
//   withdraw(account, address, sats) --> debited at once (refused when more
//     than is available), "unconfirmed"; withdrawal_delay_ms later it is put
//     on the chain (a transaction to `address`) and "completed".
//
// Every input is bounded: addresses are plain tokens (letters, digits, '-',
// '_', at most 128), amounts 1 sat .. 21 million BTC, and the chain and both
// histories hold at most kMaxEntries (the oldest are forgotten).

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace synthusd::venue {

struct WalletConfig {
  bool enabled = false;
  std::uint16_t port = 0; // 127.0.0.1; 0 picks a free one
  std::string client_id;  // Basic auth of the private methods
  std::string client_secret;
  std::string account;                     // the FIX account the credentials act for; empty: the first CompID
  std::int64_t credit_delay_ms = 1000;     // < 0: deposits are never credited
  std::int64_t withdrawal_delay_ms = 1000; // until a withdrawal is on the chain
  // Both set: the API is served over TLS presenting this PEM certificate
  // (chain) and key, as Deribit's is HTTPS; both empty: plain HTTP.
  std::string tls_certificate_file;
  std::string tls_key_file;
  // A wallet API connection is closed this long after it was accepted
  // (handshake, request and answer not done: a silent or stalled client).
  std::int64_t idle_timeout_ms = 10'000;
};

struct ChainTransaction {
  std::string txid;
  std::string address;
  std::int64_t sats = 0;
  std::int64_t time_ms = 0;
};

struct WalletDeposit {
  std::string account;
  std::string transaction_id;
  std::string address;
  std::int64_t sats = 0;
  std::string state; // pending, completed
  std::int64_t received_ms = 0;
  std::int64_t updated_ms = 0;
};

struct WalletWithdrawal {
  std::string account;
  std::int64_t id = 0;
  std::string address;
  std::int64_t sats = 0;
  std::string state;          // unconfirmed, completed
  std::string transaction_id; // empty until on the chain
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
};

// Letters, digits, '-' and '_', 1..128 characters: safe in JSON and queries.
[[nodiscard]] bool wallet_token(std::string_view text) noexcept;

class Wallet {
public:
  static constexpr std::size_t kMaxEntries = 10'000;
  static constexpr std::int64_t kMaxSats = 2'100'000'000'000'000;

  // Moves collateral of an account: credit adds, debit takes all of the
  // amount and returns true, or nothing and returns false.
  using Credit = std::function<void(const std::string& account, std::int64_t sats)>;
  using Debit = std::function<bool(const std::string& account, std::int64_t sats)>;

  explicit Wallet(WalletConfig config);

  // The account's deposit address (one per account, stable).
  [[nodiscard]] static std::string deposit_address(std::string_view account);

  // A transaction seen on the chain: refused (with a reason) when malformed
  // or a txid already seen. `accounts` are those whose deposit addresses the
  // venue watches.
  [[nodiscard]] std::optional<std::string> broadcast(const ChainTransaction& transaction,
                                                     const std::vector<std::string>& accounts);

  // A withdrawal request; the error code and message are Deribit's when it
  // is refused.
  struct WithdrawResult {
    std::optional<WalletWithdrawal> withdrawal;
    int error_code = 0;
    std::string error_message;
  };
  [[nodiscard]] WithdrawResult withdraw(const std::string& account, const std::string& address, std::int64_t sats,
                                        std::int64_t now_ms, const Debit& debit);

  // Credits deposits and sends withdrawals whose delay has passed.
  void advance(std::int64_t now_ms, const Credit& credit);

  [[nodiscard]] const std::deque<ChainTransaction>& chain() const noexcept { return chain_; }
  [[nodiscard]] std::vector<WalletDeposit> deposits(const std::string& account) const;
  [[nodiscard]] std::vector<WalletWithdrawal> withdrawals(const std::string& account) const;
  [[nodiscard]] const WalletConfig& config() const noexcept { return config_; }

private:
  template <typename T>
  static void bounded_push(std::deque<T>& entries, T entry);

  WalletConfig config_;
  std::deque<ChainTransaction> chain_;
  std::deque<WalletDeposit> deposits_;
  std::deque<WalletWithdrawal> withdrawals_;
  std::int64_t next_withdrawal_id_ = 1;
};

} // namespace synthusd::venue
