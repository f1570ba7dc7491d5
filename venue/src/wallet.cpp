#include "synthusd/venue/wallet.hpp"

#include "synthusd/common/bech32.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

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
  // Stable and distinct per account, and a well-formed regtest address
  // (bech32, witness v0, 20-byte program: BIP 173), so that a node client
  // that finds its sends by the output script (Core Lightning's
  // listtransactions) can decode it. The program is a hash of the account,
  // not a key anyone holds: the simulator's chain is not Bitcoin's.
  std::array<std::uint8_t, 20> program{};
  std::uint64_t hash = 1469598103934665603ULL; // FNV-1a
  for (std::size_t i = 0; i < program.size(); ++i) {
    for (const char c : account) {
      hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    }
    hash = (hash ^ i) * 1099511628211ULL;
    program[i] = static_cast<std::uint8_t>(hash >> 56U);
  }
  std::vector<std::uint8_t> data{0}; // witness version 0, then the program in 5-bit groups
  std::uint32_t accumulator = 0;
  unsigned bits = 0;
  for (const std::uint8_t byte : program) {
    accumulator = (accumulator << 8U) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      data.push_back(static_cast<std::uint8_t>((accumulator >> bits) & 31U));
    }
  }
  if (bits > 0) {
    data.push_back(static_cast<std::uint8_t>((accumulator << (5 - bits)) & 31U));
  }
  static constexpr std::string_view kHrp = "bcrt";
  std::vector<std::uint8_t> values = common::bech32_hrp_expand(kHrp);
  values.insert(values.end(), data.begin(), data.end());
  values.insert(values.end(), 6, 0);
  const std::uint32_t checksum = common::bech32_polymod(values) ^ common::kBech32Constant; // witness v0
  for (int i = 0; i < 6; ++i) {
    data.push_back(static_cast<std::uint8_t>((checksum >> (5 * (5 - i))) & 31U));
  }
  std::string address(kHrp);
  address += '1';
  for (const std::uint8_t value : data) {
    address += common::kBech32Charset[value];
  }
  return address;
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
