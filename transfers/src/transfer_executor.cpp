#include "synthusd/transfers/transfer_executor.hpp"

#include <algorithm>
#include <charconv>

namespace synthusd::transfers {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;

bool parse_i64(const std::string& text, std::int64_t& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc{} && end == text.data() + text.size();
}

// A reason as one journal word.
std::string word(std::string text) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c <= ' ' || c == 0x7f; }, '_');
  if (text.empty()) {
    text = "-";
  }
  return text.substr(0, 200);
}

std::string label_of(hedging::TransferId id) { return "synthusd-transfer-" + std::to_string(id); }

bool terminal(TransferState state) { return state == TransferState::completed || state == TransferState::failed; }

} // namespace

const char* to_string(TransferState state) noexcept {
  switch (state) {
  case TransferState::awaiting_approval:
    return "awaiting_approval";
  case TransferState::getting_address:
    return "getting_address";
  case TransferState::sending:
    return "sending";
  case TransferState::awaiting_credit:
    return "awaiting_credit";
  case TransferState::requesting:
    return "requesting";
  case TransferState::awaiting_receipt:
    return "awaiting_receipt";
  case TransferState::needs_operator:
    return "needs_operator";
  case TransferState::completed:
    return "completed";
  case TransferState::failed:
    return "failed";
  }
  return "?";
}

TransferExecutor::TransferExecutor(TransferJournal& journal, NodeWallet& node, VenueWallet& venue,
                                   TransferLimits limits)
    : journal_(journal), node_(node), venue_(venue), limits_(limits) {
  for (const JournalLine& line : journal_.history()) {
    replay(line);
  }
}

TransferStatus* TransferExecutor::find(hedging::TransferId id) {
  for (TransferStatus& transfer : transfers_) {
    if (transfer.intent.transfer_id == id) {
      return &transfer;
    }
  }
  return nullptr;
}

std::vector<std::string> TransferExecutor::sent_txids(const TransferStatus& except) const {
  std::vector<std::string> txids;
  for (const TransferStatus& transfer : transfers_) {
    if (&transfer != &except && transfer.intent.direction == hedging::TransferDirection::wallet_to_exchange &&
        !transfer.reference.empty()) {
      txids.push_back(transfer.reference);
    }
  }
  return txids;
}

void TransferExecutor::replay(const JournalLine& line) {
  if (line.step == "requested") {
    std::int64_t venue = 0;
    std::int64_t sats = 0;
    TransferStatus transfer;
    if (line.fields.size() != 4 || !parse_i64(line.fields[0], venue) || !parse_i64(line.fields[2], sats) ||
        !parse_i64(line.fields[3], transfer.requested_unix_ms)) {
      last_error_ = "transfers: a requested line without venue, direction, sats and time";
      return;
    }
    transfer.intent.transfer_id = line.transfer_id;
    transfer.intent.venue = static_cast<hedging::VenueId>(venue);
    transfer.intent.direction = line.fields[1] == "deposit" ? hedging::TransferDirection::wallet_to_exchange
                                                            : hedging::TransferDirection::exchange_to_wallet;
    transfer.intent.amount = hedging::Sats{sats};
    transfer.state = limits_.require_approval ? TransferState::awaiting_approval : TransferState::getting_address;
    transfers_.push_back(std::move(transfer));
    return;
  }
  TransferStatus* transfer = find(line.transfer_id);
  if (transfer == nullptr) {
    return; // a step of a transfer whose request line is gone: nothing to resume
  }
  const std::string first = line.fields.empty() ? std::string() : line.fields[0];
  if (line.step == "approved") {
    transfer->state = TransferState::getting_address;
  } else if (line.step == "address") {
    transfer->address = first;
    transfer->state = transfer->intent.direction == hedging::TransferDirection::wallet_to_exchange
                          ? TransferState::sending
                          : TransferState::requesting;
  } else if (line.step == "sending" || line.step == "requesting") {
    // The counterparty was being asked when the journal ended here: the
    // next poll asks whether it happened (never asks it again blindly).
    transfer->note = "interrupted";
  } else if (line.step == "sent" || line.step == "requested_at_venue") {
    transfer->reference = first;
    if (line.fields.size() > 1) {
      (void)parse_i64(line.fields[1], transfer->moved_unix_ms);
    }
    transfer->note.clear();
    // An overdue before this line was the lookup's outage; the credit's own timer starts now.
    transfer->overdue = false;
    transfer->state = line.step == "sent" ? TransferState::awaiting_credit : TransferState::awaiting_receipt;
  } else if (line.step == "settled") {
    // The operator's decision on a needs_operator transfer (settle()).
    if (first == "sent" && line.fields.size() == 3) {
      transfer->reference = line.fields[1];
      (void)parse_i64(line.fields[2], transfer->moved_unix_ms);
      transfer->overdue = false;
      transfer->note.clear();
      transfer->state = transfer->intent.direction == hedging::TransferDirection::wallet_to_exchange
                            ? TransferState::awaiting_credit
                            : TransferState::awaiting_receipt;
    } else if (first == "not_sent") {
      transfer->settled_not_sent = true; // the next poll fails it
    } else {
      last_error_ = "transfers: a settled line that is neither \"sent <reference> <time>\" nor \"not_sent\"";
    }
  } else if (line.step == "overdue") {
    transfer->overdue = true;
  } else if (line.step == "needs_operator") {
    transfer->state = TransferState::needs_operator;
    transfer->note = first;
  } else if (line.step == "completed") {
    transfer->state = TransferState::completed;
  } else if (line.step == "failed") {
    transfer->state = TransferState::failed;
    transfer->note = first;
  }
}

bool TransferExecutor::record(hedging::TransferId id, const std::string& step, std::vector<std::string> fields) {
  std::string error;
  if (!journal_.append({id, step, std::move(fields)}, error)) {
    // A step that is not durable must not be acted on, nor any after it.
    broken_ = true;
    last_error_ = error;
    return false;
  }
  return true;
}

void TransferExecutor::submit(const hedging::TransferIntent& intent, std::int64_t now_unix_ms) {
  if (broken_ || intent.transfer_id == 0 || find(intent.transfer_id) != nullptr) {
    return;
  }
  const bool deposit = intent.direction == hedging::TransferDirection::wallet_to_exchange;
  if (!record(intent.transfer_id, "requested",
              {std::to_string(intent.venue), deposit ? "deposit" : "withdrawal", std::to_string(intent.amount.value),
               std::to_string(now_unix_ms)})) {
    return;
  }
  replay({intent.transfer_id,
          "requested",
          {std::to_string(intent.venue), deposit ? "deposit" : "withdrawal", std::to_string(intent.amount.value),
           std::to_string(now_unix_ms)}});
}

void TransferExecutor::approve(hedging::TransferId id) {
  TransferStatus* transfer = find(id);
  if (transfer != nullptr && transfer->state == TransferState::awaiting_approval && record(id, "approved")) {
    transfer->state = TransferState::getting_address;
  }
}

std::string TransferExecutor::settle(hedging::TransferId id, Settlement settlement, std::int64_t now_unix_ms) {
  TransferStatus* transfer = find(id);
  if (transfer == nullptr) {
    return "no transfer " + std::to_string(id);
  }
  if (transfer->state != TransferState::needs_operator || transfer->settled_not_sent) {
    return "transfer " + std::to_string(id) + " is " +
           (transfer->state == TransferState::needs_operator ? std::string("already settled as not sent")
                                                             : std::string(to_string(transfer->state))) +
           "; only a transfer in needs_operator is settled";
  }
  if (const std::string problem = settlement_problem(transfer->intent.direction, settlement); !problem.empty()) {
    return problem;
  }
  if (broken_) {
    return "the transfer journal failed (" + last_error_ + "); restart synthusd";
  }
  const std::vector<std::string> fields =
      settlement.sent ? std::vector<std::string>{"sent", settlement.reference, std::to_string(now_unix_ms)}
                      : std::vector<std::string>{"not_sent"};
  if (!record(id, "settled", fields)) {
    return "the transfer journal failed: " + last_error_;
  }
  replay({id, "settled", fields});
  return {};
}

void TransferExecutor::finish(TransferStatus& transfer, bool completed, const std::string& why,
                              std::vector<TransferOutcome>& out) {
  const hedging::TransferId id = transfer.intent.transfer_id;
  if (!record(id, completed ? "completed" : "failed",
              completed ? std::vector<std::string>{} : std::vector<std::string>{word(why)})) {
    return;
  }
  transfer.state = completed ? TransferState::completed : TransferState::failed;
  transfer.note = completed ? std::string() : why;
  out.push_back({completed ? TransferOutcome::Kind::completed : TransferOutcome::Kind::failed, id, why});
}

void TransferExecutor::moved(TransferStatus& transfer, const std::string& reference, std::int64_t now_unix_ms) {
  const bool deposit = transfer.intent.direction == hedging::TransferDirection::wallet_to_exchange;
  const std::vector<std::string> fields{word(reference), std::to_string(now_unix_ms)};
  if (record(transfer.intent.transfer_id, deposit ? "sent" : "requested_at_venue", fields)) {
    replay({transfer.intent.transfer_id, deposit ? "sent" : "requested_at_venue", fields});
    transfer.unanswered_since_unix_ms = 0;
  }
}

void TransferExecutor::unanswered(TransferStatus& transfer, const Lookup& lookup, std::int64_t now_unix_ms,
                                  std::vector<TransferOutcome>& out) {
  const hedging::TransferId id = transfer.intent.transfer_id;
  const bool deposit = transfer.intent.direction == hedging::TransferDirection::wallet_to_exchange;
  ++lookups_failed_;
  last_error_ = "transfer " + std::to_string(id) + ": " + (deposit ? "the node" : "the venue") +
                " could not tell whether the " + (deposit ? "send" : "withdrawal request") +
                " happened (asked again on the next poll): " + lookup.reason;
  if (transfer.unanswered_since_unix_ms == 0) {
    transfer.unanswered_since_unix_ms = now_unix_ms;
  }
  const std::int64_t timeout_ms = std::chrono::duration_cast<std::chrono::milliseconds>(limits_.credit_timeout).count();
  if (!transfer.overdue && now_unix_ms - transfer.unanswered_since_unix_ms >= timeout_ms && record(id, "overdue")) {
    transfer.overdue = true;
    out.push_back({TransferOutcome::Kind::overdue, id,
                   std::string(deposit ? "the node" : "the venue") + " has not said for " +
                       std::to_string(timeout_ms / 1000) + " s whether the " +
                       (deposit ? "send" : "withdrawal request") + " interrupted here happened (" + lookup.reason +
                       "): still asking, nothing decided"});
  }
}

std::vector<TransferOutcome> TransferExecutor::poll(std::int64_t now_unix_ms) {
  std::vector<TransferOutcome> out;
  if (halted_ || broken_) {
    return out;
  }
  // One at a time: the first transfer not finished is the only one moving.
  for (TransferStatus& transfer : transfers_) {
    if (terminal(transfer.state)) {
      continue;
    }
    step(transfer, now_unix_ms, out);
    break;
  }
  return out;
}

void TransferExecutor::step(TransferStatus& transfer, std::int64_t now_unix_ms, std::vector<TransferOutcome>& out) {
  const hedging::TransferId id = transfer.intent.transfer_id;
  const std::int64_t sats = transfer.intent.amount.value;
  const bool deposit = transfer.intent.direction == hedging::TransferDirection::wallet_to_exchange;
  const std::string label = label_of(id);
  switch (transfer.state) {
  case TransferState::needs_operator:
    if (transfer.settled_not_sent) {
      finish(transfer, false, "settled by the operator: never sent", out);
    }
    return;
  case TransferState::awaiting_approval:
  case TransferState::completed:
  case TransferState::failed:
    return;
  case TransferState::getting_address: {
    // The guards, before anything is asked of anyone.
    if (sats <= 0 || sats > limits_.max_transfer_sats) {
      finish(transfer, false, "amount outside 1.." + std::to_string(limits_.max_transfer_sats) + " sats", out);
      return;
    }
    const std::int64_t day = transfer.requested_unix_ms / kDayMs;
    std::int64_t before = 0;
    for (const TransferStatus& other : transfers_) {
      if (&other == &transfer) {
        break;
      }
      if (other.requested_unix_ms / kDayMs == day && other.state != TransferState::failed) {
        before += other.intent.amount.value;
      }
    }
    if (before + sats > limits_.max_daily_sats) {
      finish(transfer, false, "over the daily limit of " + std::to_string(limits_.max_daily_sats) + " sats", out);
      return;
    }
    const Answer address = deposit ? venue_.deposit_address(transfer.intent.venue) : node_.new_address();
    if (!address.ok) {
      last_error_ = "transfer " + std::to_string(id) + ": no address: " + address.error;
      return; // asked again on the next poll
    }
    if (record(id, "address", {word(address.value)})) {
      transfer.address = word(address.value);
      transfer.state = deposit ? TransferState::sending : TransferState::requesting;
    }
    return;
  }
  case TransferState::sending: {
    if (transfer.note == "interrupted") {
      // A crash after "sending" (or a failed send the node could not be
      // asked about): did the node send it?
      const Lookup found = node_.find_unmatched_send(transfer.address, sats, label, sent_txids(transfer));
      if (found.is_found()) {
        moved(transfer, found.value, now_unix_ms);
        return;
      }
      if (found.is_unknown()) {
        unanswered(transfer, found, now_unix_ms, out);
        return;
      }
      const std::string why = "send interrupted by a restart and unknown to the node" +
                              (found.reason.empty() ? std::string() : " (" + found.reason + ")") +
                              ": check the wallet, never resent";
      if (record(id, "needs_operator", {word(why)})) {
        transfer.state = TransferState::needs_operator;
        transfer.note = why;
        out.push_back({TransferOutcome::Kind::needs_operator, id, why});
      }
      return;
    }
    if (!record(id, "sending")) {
      return;
    }
    const Answer sent = node_.send(transfer.address, sats, label);
    if (sent.ok) {
      moved(transfer, sent.value, now_unix_ms);
      return;
    }
    // An error can follow a broadcast (a timeout): look before concluding.
    const Lookup found = node_.find_unmatched_send(transfer.address, sats, label, sent_txids(transfer));
    if (found.is_found()) {
      moved(transfer, found.value, now_unix_ms);
    } else if (found.is_absent()) {
      finish(transfer, false, "the node refused the send: " + sent.error, out);
    } else {
      // Neither the send nor the lookup answered: it may have gone out, so
      // it is neither failed (the kernel would ask again) nor resent.
      transfer.note = "interrupted";
      unanswered(transfer, Lookup::unknown("send: " + sent.error + "; lookup: " + found.reason), now_unix_ms, out);
    }
    return;
  }
  case TransferState::requesting: {
    if (transfer.note == "interrupted") {
      const Lookup request = venue_.find_withdrawal(transfer.intent.venue, transfer.address, sats);
      if (request.is_found()) {
        moved(transfer, request.value, now_unix_ms);
        return;
      }
      if (request.is_unknown()) {
        unanswered(transfer, request, now_unix_ms, out);
        return;
      }
      const std::string why =
          "withdrawal request interrupted by a restart and unknown to the venue: never re-requested";
      if (record(id, "needs_operator", {word(why)})) {
        transfer.state = TransferState::needs_operator;
        transfer.note = why;
        out.push_back({TransferOutcome::Kind::needs_operator, id, why});
      }
      return;
    }
    if (!record(id, "requesting")) {
      return;
    }
    const Answer requested = venue_.request_withdrawal(transfer.intent.venue, transfer.address, sats, label);
    if (requested.ok) {
      moved(transfer, requested.value, now_unix_ms);
      return;
    }
    const Lookup found = venue_.find_withdrawal(transfer.intent.venue, transfer.address, sats);
    if (found.is_found()) {
      moved(transfer, found.value, now_unix_ms);
    } else if (found.is_absent()) {
      finish(transfer, false, "the venue refused the withdrawal: " + requested.error, out);
    } else {
      transfer.note = "interrupted";
      unanswered(transfer, Lookup::unknown("withdraw: " + requested.error + "; lookup: " + found.reason), now_unix_ms,
                 out);
    }
    return;
  }
  case TransferState::awaiting_credit:
  case TransferState::awaiting_receipt: {
    const Lookup arrived = transfer.state == TransferState::awaiting_credit
                               ? venue_.deposit_credited(transfer.intent.venue, transfer.reference)
                               : node_.find_incoming(transfer.address, sats);
    if (arrived.is_found()) {
      finish(transfer, true, transfer.reference, out);
      return;
    }
    if (arrived.is_unknown()) {
      // Not a "no": counted and logged; the overdue timer below runs either way.
      ++lookups_failed_;
      last_error_ = "transfer " + std::to_string(id) + ": " + (deposit ? "credit" : "receipt") +
                    " check could not tell: " + arrived.reason;
    }
    const std::int64_t timeout_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(limits_.credit_timeout).count();
    if (!transfer.overdue && now_unix_ms - transfer.moved_unix_ms >= timeout_ms && record(id, "overdue")) {
      transfer.overdue = true;
      out.push_back({TransferOutcome::Kind::overdue, id,
                     std::string(deposit ? "deposit " : "withdrawal ") + transfer.reference + " not " +
                         (deposit ? "credited by the venue" : "received by the node") + " after " +
                         std::to_string(timeout_ms / 1000) + " s"});
    }
    return;
  }
  }
}

} // namespace synthusd::transfers
