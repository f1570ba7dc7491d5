#include "synthusd/venue/wallet.hpp"

#include <algorithm>
#include <utility>

namespace synthusd::venue {
namespace {

// Deribit's JSON-RPC error codes for what withdraw can refuse here.
constexpr int kInvalidParams = -32602;
constexpr int kNotEnoughFunds = 10009;

} // namespace

bool wallet_token(std::string_view text) noexcept {
  if (text.empty() || text.size() > 128) {
    return false;
  }
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
  });
}

Wallet::Wallet(WalletConfig config) : config_(std::move(config)) {}

std::string Wallet::deposit_address(std::string_view account) {
  // Stable and distinct per account; only the token characters survive so
  // that the address is always a plain token (CompIDs are short).
  std::string address = "simdeposit";
  for (const char c : account) {
    if (wallet_token(std::string_view(&c, 1))) {
      address += c;
    }
  }
  return address.substr(0, 128);
}

template <typename T>
void Wallet::bounded_push(std::deque<T>& entries, T entry) {
  if (entries.size() >= kMaxEntries) {
    entries.pop_front();
  }
  entries.push_back(std::move(entry));
}

std::optional<std::string> Wallet::broadcast(const ChainTransaction& transaction,
                                             const std::vector<std::string>& accounts) {
  if (!wallet_token(transaction.txid) || !wallet_token(transaction.address)) {
    return "txid and address must be 1..128 letters, digits, '-' or '_'";
  }
  if (transaction.sats <= 0 || transaction.sats > kMaxSats) {
    return "amount must be 1.." + std::to_string(kMaxSats) + " sats";
  }
  for (const ChainTransaction& seen : chain_) {
    if (seen.txid == transaction.txid) {
      return "txid " + transaction.txid + " is already on the chain";
    }
  }
  bounded_push(chain_, transaction);
  for (const std::string& account : accounts) {
    if (deposit_address(account) == transaction.address) {
      bounded_push(deposits_, WalletDeposit{account, transaction.txid, transaction.address, transaction.sats, "pending",
                                            transaction.time_ms, transaction.time_ms});
      break;
    }
  }
  return std::nullopt;
}

Wallet::WithdrawResult Wallet::withdraw(const std::string& account, const std::string& address, std::int64_t sats,
                                        std::int64_t now_ms, const Debit& debit) {
  WithdrawResult result;
  if (!wallet_token(address) || sats <= 0 || sats > kMaxSats) {
    result.error_code = kInvalidParams;
    result.error_message = "Invalid params";
    return result;
  }
  if (!debit(account, sats)) {
    result.error_code = kNotEnoughFunds;
    result.error_message = "not_enough_funds";
    return result;
  }
  WalletWithdrawal withdrawal{account, next_withdrawal_id_++, address, sats, "unconfirmed", {}, now_ms, now_ms};
  bounded_push(withdrawals_, withdrawal);
  result.withdrawal = std::move(withdrawal);
  return result;
}

void Wallet::advance(std::int64_t now_ms, const Credit& credit) {
  if (config_.credit_delay_ms >= 0) {
    for (WalletDeposit& deposit : deposits_) {
      if (deposit.state == "pending" && now_ms - deposit.received_ms >= config_.credit_delay_ms) {
        deposit.state = "completed";
        deposit.updated_ms = now_ms;
        credit(deposit.account, deposit.sats);
      }
    }
  }
  for (WalletWithdrawal& withdrawal : withdrawals_) {
    if (withdrawal.state == "unconfirmed" && now_ms - withdrawal.created_ms >= config_.withdrawal_delay_ms) {
      withdrawal.state = "completed";
      withdrawal.updated_ms = now_ms;
      withdrawal.transaction_id = "simwithdrawal" + std::to_string(withdrawal.id);
      bounded_push(chain_, ChainTransaction{withdrawal.transaction_id, withdrawal.address, withdrawal.sats, now_ms});
    }
  }
}

std::vector<WalletDeposit> Wallet::deposits(const std::string& account) const {
  std::vector<WalletDeposit> out;
  for (const WalletDeposit& deposit : deposits_) {
    if (deposit.account == account) {
      out.push_back(deposit);
    }
  }
  return out;
}

std::vector<WalletWithdrawal> Wallet::withdrawals(const std::string& account) const {
  std::vector<WalletWithdrawal> out;
  for (const WalletWithdrawal& withdrawal : withdrawals_) {
    if (withdrawal.account == account) {
      out.push_back(withdrawal);
    }
  }
  return out;
}

} // namespace synthusd::venue
