#pragma once
// Carries out the kernel's collateral transfer intents (hedging::
// TransferIntent), one at a time, every step journaled (transfer_journal.hpp).
//
// Deposit (wallet_to_exchange), as stablesats moves collateral:
//   requested -> [approved] -> address (the venue's deposit address, e.g.
//   Deribit private/get_current_deposit_address) -> sending (journaled
//   BEFORE the node is asked) -> sent <txid> (Core Lightning `withdraw`,
//   LND `sendcoins`) -> credited (the venue lists the deposit as completed,
//   Deribit private/get_deposits) -> completed.
// Withdrawal (exchange_to_wallet):
//   requested -> [approved] -> address (a new address of the operator's
//   node: CLN `newaddr`, LND `newaddress`) -> requesting (journaled before
//   the venue is asked) -> requested_at_venue <id> (Deribit private/withdraw)
//   -> received <txid> (the node sees the incoming transaction) -> completed.
//
// Never twice: a restart that finds `sending` (or `requesting`) without its
// result asks the node (the venue) whether that send (withdrawal) exists
// (NodeWallet::find_unmatched_send / VenueWallet::find_withdrawal); found,
// the transfer goes on; not found, it is NOT sent again but held for the
// operator (state needs_operator, an alert), since a send can be in flight
// without the node having recorded it yet. "Not found" is only what a
// complete, successful answer says (Lookup::absent); a counterparty that
// could not be reached or answered an error (Lookup::unknown) decides
// nothing: the transfer stays in sending (requesting), the reason goes to
// last_error(), lookups_failed() counts it (no journal line per attempt),
// and the next poll asks again. After credit_timeout of such answers the
// overdue alert is raised (an outage the operator should hear of), and
// still nothing is decided. The same holds for the credit / receipt checks:
// an error there is not a "no". The operator settles it
// (settle(), settlement.hpp): "sent <txid>" goes on to wait for the credit
// (receipt) with that reference; "not_sent" fails it (TransferFailed to the
// kernel, which may ask again). Until then it holds the line: transfers
// are one at a time.
//
// Guards: a transfer above max_transfer_sats, or one that would take the
// UTC day's requested total above max_daily_sats, is refused (journaled,
// reported failed); with require_approval, nothing moves until approve(id);
// halt() (the kill switch) stops every step until resume(). A deposit not
// credited (a withdrawal not received) within credit_timeout raises one
// alert (overdue) and keeps waiting.
//
// Not the kernel's hot path: one I/O thread calls poll(); the counterparty
// calls may block for a bounded time each (their implementations' timeouts).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "synthusd/hedging/actions.hpp"
#include "synthusd/transfers/settlement.hpp"
#include "synthusd/transfers/transfer_journal.hpp"

namespace synthusd::transfers {

// What a counterparty call gave: a value, or why not (a reason for the log).
struct Answer {
  bool ok = false;
  std::string value; // an address, a txid, a withdrawal id
  std::string error;
  static Answer of(std::string value) { return {true, std::move(value), {}}; }
  static Answer failure(std::string why) { return {false, {}, std::move(why)}; }
};

// What a lookup at a counterparty gave: found (with the txid / withdrawal
// id), absent (a complete, successful answer that holds no match: HTTP 200
// with its list read, a CLN result without error), or unknown (no
// connection, an error status, an unreadable answer: it could not tell,
// and `reason` says why). Only `absent` may be read as "did not happen".
struct Lookup {
  enum class Outcome : std::uint8_t { found, absent, unknown };
  Outcome outcome = Outcome::unknown;
  std::string value;  // found: the txid, the withdrawal id
  std::string reason; // unknown: why it could not tell; absent: why nothing matched, when that says more
  static Lookup found(std::string value) { return {Outcome::found, std::move(value), {}}; }
  static Lookup absent(std::string reason = {}) { return {Outcome::absent, {}, std::move(reason)}; }
  static Lookup unknown(std::string reason) { return {Outcome::unknown, {}, std::move(reason)}; }
  [[nodiscard]] bool is_found() const noexcept { return outcome == Outcome::found; }
  [[nodiscard]] bool is_absent() const noexcept { return outcome == Outcome::absent; }
  [[nodiscard]] bool is_unknown() const noexcept { return outcome == Outcome::unknown; }
};

// The operator's node: Core Lightning (withdraw, newaddr, listtransactions,
// listfunds: cln_node_wallet.hpp) or LND (sendcoins, newaddress,
// GetTransactions: wallet_clients.hpp).
class NodeWallet {
public:
  virtual ~NodeWallet() = default;
  // One on-chain send of `sats` to `address`; `label` names it (LND's
  // sendcoins label; CLN has none and matches by address and amount).
  virtual Answer send(const std::string& address, std::int64_t sats, const std::string& label) = 0;
  // The txid of a send made earlier for `label` / `address` + `sats`, if the
  // node has one: how a restart learns whether an interrupted send happened.
  virtual Lookup find_send(const std::string& address, std::int64_t sats, const std::string& label) = 0;
  // find_send, never answering a txid in `matched_txids` (the sends earlier
  // transfers already took). A node that labels its sends (LND) needs no
  // more than this default; one that matches by address and amount only
  // (Core Lightning) overrides it, since the venue's deposit address is
  // reused and two deposits of one amount look alike.
  virtual Lookup find_unmatched_send(const std::string& address, std::int64_t sats, const std::string& label,
                                     const std::vector<std::string>& matched_txids) {
    Lookup found = find_send(address, sats, label);
    if (found.is_found() && std::find(matched_txids.begin(), matched_txids.end(), found.value) != matched_txids.end()) {
      return Lookup::absent("the only send found (" + found.value + ") belongs to another transfer");
    }
    return found;
  }
  virtual Answer new_address() = 0;
  // The txid of a confirmed incoming payment of `sats` to `address`, if any.
  virtual Lookup find_incoming(const std::string& address, std::int64_t sats) = 0;
};

// The venue's private wallet API (Deribit: private/get_current_deposit_address,
// private/get_deposits, private/withdraw, private/get_withdrawals).
class VenueWallet {
public:
  virtual ~VenueWallet() = default;
  virtual Answer deposit_address(hedging::VenueId venue) = 0;
  // Found (value: `txid`) when the deposit with `txid` is credited to the
  // account (completed); absent while it is not (yet).
  virtual Lookup deposit_credited(hedging::VenueId venue, const std::string& txid) = 0;
  virtual Answer request_withdrawal(hedging::VenueId venue, const std::string& address, std::int64_t sats,
                                    const std::string& label) = 0;
  // The id of a withdrawal requested earlier for this address and amount.
  virtual Lookup find_withdrawal(hedging::VenueId venue, const std::string& address, std::int64_t sats) = 0;
};

struct TransferLimits {
  std::int64_t max_transfer_sats = 100'000'000; // 1 BTC
  std::int64_t max_daily_sats = 500'000'000;    // 5 BTC requested per UTC day
  bool require_approval = false;
  std::chrono::seconds credit_timeout{3600}; // then the overdue alert
};

enum class TransferState : std::uint8_t {
  awaiting_approval,
  getting_address,
  sending, // deposit: the node is asked (or was, before a crash)
  awaiting_credit,
  requesting, // withdrawal: the venue is asked (or was)
  awaiting_receipt,
  needs_operator, // an interrupted send that the counterparty does not know: not repeated
  completed,
  failed,
};

struct TransferStatus {
  hedging::TransferIntent intent;
  TransferState state = TransferState::getting_address;
  std::int64_t requested_unix_ms = 0;
  std::string address;
  std::string reference;          // the txid or the venue's withdrawal id
  std::int64_t moved_unix_ms = 0; // when the send / the withdrawal request went out (the timeout's start)
  bool overdue = false;           // the alert was raised
  // sending / requesting: when lookups began to fail without an answer
  // (0: they did not). Not journaled: a restart starts the count again.
  std::int64_t unanswered_since_unix_ms = 0;
  std::string note; // why it failed / needs the operator
  // The operator settled it as never sent (journaled); the failure follows
  // on the next poll.
  bool settled_not_sent = false;
};

// What the owner reports to the kernel (TransferCompleted / TransferFailed)
// and to the operator.
struct TransferOutcome {
  enum class Kind : std::uint8_t { completed, failed, overdue, needs_operator };
  Kind kind = Kind::completed;
  hedging::TransferId transfer_id = 0;
  std::string detail;
};

class TransferExecutor {
public:
  // Rebuilds every transfer from the journal; the wallets and the journal
  // must outlive this.
  TransferExecutor(TransferJournal& journal, NodeWallet& node, VenueWallet& venue, TransferLimits limits);

  // A new intent from the kernel, at wall time `now_unix_ms`. An id seen
  // before is ignored (the kernel re-sends nothing, but a replay might).
  void submit(const hedging::TransferIntent& intent, std::int64_t now_unix_ms);
  void approve(hedging::TransferId id);
  // The operator's settlement of a transfer in needs_operator, at wall time
  // `now_unix_ms` (a "sent" one's credit timeout starts then). Journaled
  // ("settled") before anything acts on it; a "not_sent" transfer fails on
  // the next poll (not while halted), reported like any failure. Returns
  // why it was refused (unknown id, another state, a malformed reference,
  // the journal), empty when taken.
  std::string settle(hedging::TransferId id, Settlement settlement, std::int64_t now_unix_ms);
  void halt() noexcept { halted_ = true; }
  void resume() noexcept { halted_ = false; }
  [[nodiscard]] bool halted() const noexcept { return halted_; }

  // Takes the steps due for the transfer at the head of the line (one at a
  // time). Returns what happened, for the kernel and the log.
  std::vector<TransferOutcome> poll(std::int64_t now_unix_ms);

  [[nodiscard]] const std::deque<TransferStatus>& transfers() const noexcept { return transfers_; }
  [[nodiscard]] const std::string& last_error() const noexcept { return last_error_; }
  // Lookups (a send, a withdrawal, a credit, a receipt) the counterparty
  // could not answer (Lookup::unknown), since construction.
  [[nodiscard]] std::uint64_t lookups_failed() const noexcept { return lookups_failed_; }

private:
  bool record(hedging::TransferId id, const std::string& step, std::vector<std::string> fields = {});
  void replay(const JournalLine& line);
  TransferStatus* find(hedging::TransferId id);
  // The txids every other deposit already recorded as sent.
  [[nodiscard]] std::vector<std::string> sent_txids(const TransferStatus& except) const;
  void step(TransferStatus& transfer, std::int64_t now_unix_ms, std::vector<TransferOutcome>& out);
  void finish(TransferStatus& transfer, bool completed, const std::string& why, std::vector<TransferOutcome>& out);
  // A lookup for an interrupted send (withdrawal request) that could not
  // tell: logged, counted, overdue after credit_timeout, never decided.
  void unanswered(TransferStatus& transfer, const Lookup& lookup, std::int64_t now_unix_ms,
                  std::vector<TransferOutcome>& out);
  // The interrupted send (request) was found: journaled, and on to the credit (receipt).
  void moved(TransferStatus& transfer, const std::string& reference, std::int64_t now_unix_ms);

  TransferJournal& journal_;
  NodeWallet& node_;
  VenueWallet& venue_;
  TransferLimits limits_;
  std::deque<TransferStatus> transfers_; // every transfer this journal holds, in request order
  bool halted_ = false;
  bool broken_ = false; // the journal failed: no more steps until a restart
  std::string last_error_;
  std::uint64_t lookups_failed_ = 0;
};

[[nodiscard]] const char* to_string(TransferState state) noexcept;

} // namespace synthusd::transfers
