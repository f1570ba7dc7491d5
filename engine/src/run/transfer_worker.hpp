#pragma once
// `run`'s collateral transfer thread ([transfers] enabled): takes the
// kernel's TransferIntents, carries them out through transfers::
// TransferExecutor (one at a time, journaled in <state>/transfers.journal)
// against the venue's wallet API and the operator's lnd, and hands each
// completion or failure back to the kernel as TransferCompleted /
// TransferFailed. Its calls block for a bounded time each, which is why it
// is a thread of its own and never the kernel's.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline.hpp"
#include "synthusd/engine/prometheus_text.hpp"
#include "synthusd/engine/run_config.hpp"
#include "synthusd/hedging/actions.hpp"
#include "synthusd/transfers/cln_node_wallet.hpp"
#include "synthusd/transfers/transfer_executor.hpp"
#include "synthusd/transfers/wallet_clients.hpp"

namespace synthusd::engine::run {

class TransferWorker {
public:
  // Opens the journal and rebuilds its transfers; reads the venue's client
  // id and secret from the environment and the macaroon file. Throws
  // std::runtime_error when any of it cannot be had.
  TransferWorker(const TransferSection& section, hedging::VenueId venue, const std::string& journal_path);

  // Whether the executor's journal holds this transfer: after a restart, a
  // transfer the kernel believes in flight that the executor never took is
  // failed back to the kernel instead of waited for. Any thread.
  [[nodiscard]] bool knows(hedging::TransferId id) const;
  // The transfer's end as the journal holds it: true completed, false
  // failed, nullopt not finished (or unknown). After a restart, a transfer
  // the kernel believes in flight that the executor already finished (its
  // report died with the process) is reported to the kernel again. Any thread.
  [[nodiscard]] std::optional<bool> finished(hedging::TransferId id) const;

  // Until `stop`: submits what `intents` holds, steps the executor every
  // poll_ms, pushes outcomes to `reports` and wakes the kernel.
  void run(const std::atomic<bool>& stop, SpscQueue<hedging::TransferIntent>& intents,
           SpscQueue<TransferReport>& reports, EventCount& kernel_wakeup);

  // The operator's kill switch (admin HTTP /kill, /resume): any thread.
  void halt() noexcept { halt_requested_.store(true); }
  void resume() noexcept { halt_requested_.store(false); }
  // What /metrics and /health show, counted after every pass: transfers
  // overdue (sent, not credited or received within credit_timeout_seconds:
  // the alert; also a send or withdrawal request whose lookup after a
  // restart went unanswered that long) and waiting for the operator, those
  // finished, and the lookups a counterparty could not answer.
  struct Counts {
    std::atomic<std::uint64_t> overdue{0};
    std::atomic<std::uint64_t> lookups_failed{0};
    std::atomic<std::uint64_t> needs_operator{0};
    std::atomic<std::uint64_t> completed{0};
    std::atomic<std::uint64_t> failed{0};
  };
  [[nodiscard]] const Counts& counts() const noexcept { return counts_; }
  // The counts as /metrics gauges (synthusd_transfers_*), and what /health
  // reports of them (empty: nothing); any thread.
  void write_metrics(PrometheusText& out) const;
  [[nodiscard]] std::string problems() const;

  // The operator's approval of a held transfer (require_approval): any
  // thread; the worker's next pass hands it to the executor.
  void approve(hedging::TransferId id);

  // GET /transfers: the transfers as of the last pass (transfer_listing.hpp).
  // Any thread.
  [[nodiscard]] std::string listing_json() const;

  // POST /transfers/settle/<id> with `body` (settlement.hpp), any thread:
  // checked against the last pass's view (400 a malformed body or
  // reference, 404 an unknown id, 409 a transfer not in needs_operator or
  // already being settled), then queued for the worker's next pass, which
  // journals it before acting (202). Every refusal is counted.
  struct SettleAnswer {
    int status = 202;
    std::string text;
  };
  [[nodiscard]] SettleAnswer settle(hedging::TransferId id, std::string_view body);

private:
  struct QueuedSettlement {
    hedging::TransferId id = 0;
    transfers::Settlement settlement;
  };

  void count();
  void publish(); // the view for the other threads, after every pass
  void apply_settlements();

  TransferSection section_;
  std::unique_ptr<transfers::TransferJournal> journal_;
  std::unique_ptr<transfers::NodeWallet> node_; // lnd or Core Lightning ([transfers] node)
  transfers::ClnNodeWallet* cln_ = nullptr;     // node_ when it is CLN: its lookup failures are logged
  std::unique_ptr<transfers::DeribitVenueWallet> venue_;
  std::unique_ptr<transfers::TransferExecutor> executor_;
  std::atomic<bool> halt_requested_{false};
  Counts counts_;
  std::mutex approvals_mutex_;
  std::vector<hedging::TransferId> approvals_; // waiting for the worker's next pass
  // The executor's transfers as of the last pass (view_), and the
  // settlements waiting for the next one: read and queued by the HTTP
  // thread, never the executor itself (whose calls block).
  mutable std::mutex view_mutex_;
  std::vector<transfers::TransferStatus> view_;
  std::vector<QueuedSettlement> settlements_;
  std::atomic<std::uint64_t> settled_{0};
  std::atomic<std::uint64_t> settlements_refused_{0};
  // The worker thread's: failed lookups seen by the last pass, and whether
  // the last pass had one (a streak of them is logged once, at its start).
  std::uint64_t lookups_failed_seen_ = 0;
  bool lookup_streak_ = false;
};

} // namespace synthusd::engine::run
