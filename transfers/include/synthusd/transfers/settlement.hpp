#pragma once
// The operator's decision on a transfer held in needs_operator (a send or a
// withdrawal request interrupted by a crash and unknown to the
// counterparty): admin HTTP POST /transfers/settle/<id> with the body
//   "sent <reference>"  the operator found it: the deposit's on-chain txid,
//                       the withdrawal's id at the venue; the transfer goes
//                       on to wait for the credit (the receipt);
//   "not_sent"          it never happened: the transfer fails, the kernel
//                       gets TransferFailed and may ask again.
// TransferExecutor::settle journals the decision before acting on it.

#include <optional>
#include <string>
#include <string_view>

#include "synthusd/hedging/actions.hpp"

namespace synthusd::transfers {

struct Settlement {
  bool sent = false;
  std::string reference; // when sent: the txid (deposit) or the venue's withdrawal id
};

// The longest body parse_settlement reads ("sent " and a reference).
inline constexpr std::size_t kMaxSettlementBytes = 128;

// "sent <reference>" or "not_sent", one trailing line end allowed. nullopt
// with `error` naming what is wrong; the reference's format is checked by
// settlement_problem, which needs the transfer's direction.
[[nodiscard]] std::optional<Settlement> parse_settlement(std::string_view body, std::string& error);

// Why `settlement` cannot settle a transfer in `direction` (empty: it can).
// A deposit's reference is a Bitcoin txid: 64 hex digits (stored lowercase,
// as Deribit's get_deposits and lnd list them). A withdrawal's is Deribit's
// withdrawal id (private/withdraw's `id`): a positive integer of at most 18
// digits, the only venue wallet the executor has.
[[nodiscard]] std::string settlement_problem(hedging::TransferDirection direction, Settlement& settlement);

} // namespace synthusd::transfers
