#pragma once
// The operator's node as Core Lightning: its JSON-RPC over the unix socket
// (cln_rpc.hpp), for operators who run CLN rather than lnd. Calls, per CLN's
// schemas (doc/schemas/*.json):
//   newaddr {addresstype}          -> {bech32} or {p2tr} (field named by the type;
//                                     before v23.08 only bech32 existed)
//   withdraw {destination, satoshi (integer sats), feerate?} -> {tx, txid, psbt}
//   listtransactions {}            -> {transactions: [{hash, blockheight,
//                                     outputs: [{index, amount_msat, scriptPubKey}]}]}
//   listfunds {spent: true}        -> {outputs: [{txid, amount_msat, address,
//                                     status: unconfirmed|confirmed|spent|immature}]}
// amount_msat is an integer from v23.11 on and a "NNNmsat" string before:
// both are read, exactly (parse_cln_msat).
//
// CLN's withdraw takes no label, so a send is found again by what it paid:
// an output with the destination's scriptPubKey (bitcoin_address.hpp:
// listtransactions shows scripts, not addresses) and exactly the amount.
// The venue's deposit address is reused (Deribit's get_current_deposit_address
// answers the same address until a new one is created), so two deposits of
// the same amount look alike: find_unmatched_send skips the txids earlier
// transfers already took (the executor passes them from its journal), and
// when more than one candidate is left it finds none (the transfer is then
// held for the operator, never guessed; an
// answer CLN could not give decides nothing: Lookup::unknown). The limit that remains: a send of
// exactly the same amount to that address made outside synthusd, and no
// send of ours, would be taken for ours.
//
// Incoming payments (withdrawals from the venue) go to a fresh newaddr each,
// so address and amount identify them; listfunds is asked with spent=true so
// an output already spent again still counts, and only a confirmed (or since
// spent) output counts as received.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "synthusd/transfers/cln_rpc.hpp"
#include "synthusd/transfers/transfer_executor.hpp"

namespace synthusd::transfers {

struct ClnWalletOptions {
  ClnRpcEndpoint endpoint;
  std::string address_type = "bech32"; // newaddr's addresstype: bech32 (every version) or p2tr (v23.08+)
  std::string feerate; // withdraw's feerate (slow, normal, urgent, NNNperkw, NNNperkb); empty: CLN's default
};

class ClnNodeWallet final : public NodeWallet {
public:
  // Throws std::invalid_argument for an address type or feerate CLN would refuse.
  explicit ClnNodeWallet(ClnWalletOptions options);
  Answer send(const std::string& address, std::int64_t sats, const std::string& label) override;
  // Lookups: absent only from a result without error that was read in
  // full (or an address no send could have gone to); a socket, RPC or
  // parse failure is Lookup::unknown with CLN's reason.
  Lookup find_send(const std::string& address, std::int64_t sats, const std::string& label) override;
  Lookup find_unmatched_send(const std::string& address, std::int64_t sats, const std::string& label,
                             const std::vector<std::string>& matched_txids) override;
  Answer new_address() override;
  Lookup find_incoming(const std::string& address, std::int64_t sats) override;
  // Why the last find_* did not find (the node could not be asked, answered
  // nonsense, or the match was ambiguous; empty when it simply had no match):
  // the same as the Lookup's reason, kept for the worker's log.
  [[nodiscard]] const std::string& last_error() const noexcept { return last_error_; }

private:
  ClnWalletOptions options_;
  std::string last_error_;
};

// withdraw's feerate as CLN takes it (lightning-feerates(7)): slow, normal,
// urgent, minimum, or digits with perkw / perkb. What passes needs no
// escaping in the JSON request.
[[nodiscard]] bool valid_cln_feerate(std::string_view rate);

} // namespace synthusd::transfers
