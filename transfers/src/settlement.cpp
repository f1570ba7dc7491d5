#include "synthusd/transfers/settlement.hpp"

#include <algorithm>

namespace synthusd::transfers {
namespace {

constexpr std::size_t kTxidDigits = 64;
constexpr std::size_t kMaxWithdrawalIdDigits = 18; // fits an int64, as Deribit's integer ids do

bool hex_digit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool decimal_digit(char c) { return c >= '0' && c <= '9'; }

} // namespace

std::optional<Settlement> parse_settlement(std::string_view body, std::string& error) {
  if (body.size() > kMaxSettlementBytes) {
    error = "the body is over " + std::to_string(kMaxSettlementBytes) + " bytes; send \"sent <txid>\" or \"not_sent\"";
    return std::nullopt;
  }
  if (body.ends_with("\r\n")) {
    body.remove_suffix(2);
  } else if (body.ends_with('\n')) {
    body.remove_suffix(1);
  }
  if (body == "not_sent") {
    return Settlement{false, {}};
  }
  if (body.starts_with("sent ")) {
    const std::string_view reference = body.substr(5);
    if (reference.empty() ||
        std::any_of(reference.begin(), reference.end(), [](char c) { return c <= ' ' || c == 0x7f; })) {
      error = "\"sent\" needs one reference (the txid or the withdrawal id) without blanks";
      return std::nullopt;
    }
    return Settlement{true, std::string(reference)};
  }
  error = "the body must be \"sent <txid>\" (the operator found it) or \"not_sent\" (it never happened)";
  return std::nullopt;
}

std::string settlement_problem(hedging::TransferDirection direction, Settlement& settlement) {
  if (!settlement.sent) {
    return {};
  }
  std::string& reference = settlement.reference;
  if (direction == hedging::TransferDirection::wallet_to_exchange) {
    if (reference.size() != kTxidDigits || !std::all_of(reference.begin(), reference.end(), hex_digit)) {
      return "a deposit is settled with its on-chain txid: 64 hex digits";
    }
    std::transform(reference.begin(), reference.end(), reference.begin(),
                   [](char c) { return c >= 'A' && c <= 'F' ? static_cast<char>(c - 'A' + 'a') : c; });
    return {};
  }
  if (reference.empty() || reference.size() > kMaxWithdrawalIdDigits ||
      !std::all_of(reference.begin(), reference.end(), decimal_digit) || reference.front() == '0') {
    return "a withdrawal is settled with the venue's withdrawal id: a positive integer of at most " +
           std::to_string(kMaxWithdrawalIdDigits) + " digits";
  }
  return {};
}

} // namespace synthusd::transfers
