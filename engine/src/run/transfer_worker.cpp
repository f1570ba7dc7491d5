#include "transfer_worker.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <thread>

#include "synthusd/transfers/transfer_listing.hpp"

namespace synthusd::engine::run {
namespace {

std::string from_environment(const std::string& name) {
  const char* value = name.empty() ? nullptr : std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error("[transfers]: set the environment variable " + name);
  }
  return value;
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace

TransferWorker::TransferWorker(const TransferSection& section, hedging::VenueId venue, const std::string& journal_path)
    : section_(section) {
  const std::chrono::milliseconds timeout(section.timeout_ms);
  const common::TlsSettings node_tls{section.node_tls, section.node_tls_cert_file, section.node_tls_server_name};
  const common::TlsSettings venue_tls{section.venue_tls, section.venue_tls_cert_file, section.venue_tls_server_name};
  if (section.node == "cln") {
    transfers::ClnWalletOptions options;
    options.endpoint.socket_path = section.node_rpc_socket;
    options.endpoint.timeout = timeout;
    options.address_type = section.node_address_type;
    options.feerate = section.node_feerate;
    auto cln = std::make_unique<transfers::ClnNodeWallet>(std::move(options));
    cln_ = cln.get();
    node_ = std::move(cln);
  } else {
    std::string macaroon =
        section.macaroon_file.empty() ? std::string{} : transfers::read_owner_only_file_hex(section.macaroon_file);
    try {
      node_ = std::make_unique<transfers::LndNodeWallet>(
          transfers::HttpEndpoint{section.node_host, section.node_port, timeout, node_tls}, std::move(macaroon));
    } catch (const std::runtime_error& error) {
      throw std::runtime_error(std::string("[transfers] node TLS: ") + error.what());
    }
  }
  std::string client_id = from_environment(section.venue_client_id_environment);
  std::string client_secret = from_environment(section.venue_client_secret_environment);
  try {
    venue_ = std::make_unique<transfers::DeribitVenueWallet>(
        transfers::HttpEndpoint{section.venue_host, section.venue_port, timeout, venue_tls}, venue,
        std::move(client_id), std::move(client_secret));
  } catch (const std::runtime_error& error) {
    throw std::runtime_error(std::string("[transfers] venue TLS: ") + error.what());
  }
  journal_ = std::make_unique<transfers::TransferJournal>(journal_path);
  transfers::TransferLimits limits;
  limits.max_transfer_sats = section.max_transfer_sats;
  limits.max_daily_sats = section.max_daily_sats;
  limits.require_approval = section.require_approval;
  limits.credit_timeout = std::chrono::seconds(section.credit_timeout_seconds);
  executor_ = std::make_unique<transfers::TransferExecutor>(*journal_, *node_, *venue_, limits);
  count();
}

void TransferWorker::count() {
  std::uint64_t overdue = 0;
  std::uint64_t needs_operator = 0;
  std::uint64_t completed = 0;
  std::uint64_t failed = 0;
  for (const transfers::TransferStatus& status : executor_->transfers()) {
    switch (status.state) {
    case transfers::TransferState::completed:
      ++completed;
      break;
    case transfers::TransferState::failed:
      ++failed;
      break;
    case transfers::TransferState::needs_operator:
      ++needs_operator;
      break;
    default:
      overdue += status.overdue ? 1U : 0U;
      break;
    }
  }
  counts_.overdue.store(overdue);
  counts_.lookups_failed.store(executor_->lookups_failed());
  counts_.needs_operator.store(needs_operator);
  counts_.completed.store(completed);
  counts_.failed.store(failed);
  publish();
}

void TransferWorker::publish() {
  // Every transfer, not the listing's recent ones: knows() and finished()
  // answer for any id the journal holds. A few hundred bytes each.
  std::vector<transfers::TransferStatus> view(executor_->transfers().begin(), executor_->transfers().end());
  const std::lock_guard lock(view_mutex_);
  view_.swap(view);
}

std::string TransferWorker::listing_json() const {
  std::deque<transfers::TransferStatus> all;
  {
    const std::lock_guard lock(view_mutex_);
    all.assign(view_.begin(), view_.end());
  }
  const std::string venue = section_.venue;
  return transfers::transfers_json(transfers::recent_transfers(all),
                                   [&venue](hedging::VenueId) { return venue; }); // one venue per worker
}

TransferWorker::SettleAnswer TransferWorker::settle(hedging::TransferId id, std::string_view body) {
  const auto refuse = [this, id](int status, const std::string& why) {
    settlements_refused_.fetch_add(1);
    spdlog::warn("collateral transfer {}: settlement refused: {}", id, why);
    return SettleAnswer{status, why + "\n"};
  };
  std::string error;
  std::optional<transfers::Settlement> settlement = transfers::parse_settlement(body, error);
  if (!settlement) {
    return refuse(400, error);
  }
  const std::lock_guard lock(view_mutex_);
  const auto it = std::find_if(view_.begin(), view_.end(), [id](const transfers::TransferStatus& status) {
    return status.intent.transfer_id == id;
  });
  if (it == view_.end()) {
    return refuse(404, "no transfer " + std::to_string(id));
  }
  if (it->state != transfers::TransferState::needs_operator || it->settled_not_sent) {
    return refuse(409, "transfer " + std::to_string(id) + " is " +
                           (it->settled_not_sent ? std::string("already settled as not sent")
                                                 : std::string(transfers::to_string(it->state))) +
                           "; only a transfer in needs_operator is settled");
  }
  for (const QueuedSettlement& queued : settlements_) {
    if (queued.id == id) {
      return refuse(409, "a settlement of transfer " + std::to_string(id) + " is already queued");
    }
  }
  if (const std::string problem = transfers::settlement_problem(it->intent.direction, *settlement); !problem.empty()) {
    return refuse(400, problem);
  }
  settlements_.push_back({id, std::move(*settlement)});
  return {202, "settlement of transfer " + std::to_string(id) +
                   " passed to the transfer executor; GET /transfers shows its state\n"};
}

void TransferWorker::apply_settlements() {
  std::vector<QueuedSettlement> settlements;
  {
    const std::lock_guard lock(view_mutex_);
    settlements.swap(settlements_);
  }
  for (QueuedSettlement& queued : settlements) {
    const bool sent = queued.settlement.sent;
    const std::string reference = queued.settlement.reference;
    if (const std::string why = executor_->settle(queued.id, std::move(queued.settlement), wall_ms()); !why.empty()) {
      // Between the HTTP check and this pass: a second request, a journal failure.
      settlements_refused_.fetch_add(1);
      spdlog::error("collateral transfer {}: settlement refused by the executor: {}", queued.id, why);
      continue;
    }
    settled_.fetch_add(1);
    if (sent) {
      spdlog::warn("collateral transfer {} settled by the operator: sent as {}; waiting for it to arrive", queued.id,
                   reference);
    } else {
      spdlog::warn("collateral transfer {} settled by the operator: never sent; it fails", queued.id);
    }
  }
  if (!settlements.empty()) {
    count(); // at once, so that a second request sees the new state, not a pass-old one
  }
}

void TransferWorker::write_metrics(PrometheusText& out) const {
  out.gauge("synthusd_transfers_overdue",
            "collateral transfers sent but not credited (or received) within credit_timeout_seconds",
            static_cast<std::int64_t>(counts_.overdue.load()));
  out.gauge("synthusd_transfers_needing_operator", "collateral transfers a restart left for the operator",
            static_cast<std::int64_t>(counts_.needs_operator.load()));
  out.gauge("synthusd_transfers_completed", "collateral transfers completed (in the transfer journal)",
            static_cast<std::int64_t>(counts_.completed.load()));
  out.gauge("synthusd_transfers_failed", "collateral transfers failed (in the transfer journal)",
            static_cast<std::int64_t>(counts_.failed.load()));
  out.counter("synthusd_transfer_lookups_failed_total",
              "lookups (an interrupted send or withdrawal, a credit, a receipt) the node or venue could not answer "
              "since start; each is asked again, none decides",
              counts_.lookups_failed.load());
  out.counter("synthusd_transfers_settled_total",
              "needs_operator transfers the operator settled (POST /transfers/settle) since start", settled_.load());
  out.counter("synthusd_transfers_settlements_refused_total",
              "settlements refused since start: malformed, unknown transfer, not in needs_operator, already queued",
              settlements_refused_.load());
}

std::string TransferWorker::problems() const {
  std::string text;
  if (const std::uint64_t overdue = counts_.overdue.load(); overdue > 0) {
    text = std::to_string(overdue) +
           " collateral transfer(s) overdue (not credited, or the counterparty not answering, within "
           "credit_timeout_seconds)";
  }
  if (const std::uint64_t held = counts_.needs_operator.load(); held > 0) {
    text += (text.empty() ? "" : "; ") + std::to_string(held) + " collateral transfer(s) need the operator";
  }
  return text;
}

bool TransferWorker::knows(hedging::TransferId id) const {
  const std::lock_guard lock(view_mutex_);
  return std::any_of(view_.begin(), view_.end(),
                     [id](const transfers::TransferStatus& status) { return status.intent.transfer_id == id; });
}

std::optional<bool> TransferWorker::finished(hedging::TransferId id) const {
  const std::lock_guard lock(view_mutex_);
  for (const transfers::TransferStatus& status : view_) {
    if (status.intent.transfer_id == id) {
      if (status.state == transfers::TransferState::completed) {
        return true;
      }
      if (status.state == transfers::TransferState::failed) {
        return false;
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

void TransferWorker::approve(hedging::TransferId id) {
  const std::lock_guard lock(approvals_mutex_);
  approvals_.push_back(id);
}

void TransferWorker::run(const std::atomic<bool>& stop, SpscQueue<hedging::TransferIntent>& intents,
                         SpscQueue<TransferReport>& reports, EventCount& kernel_wakeup) {
  const auto interval = std::chrono::milliseconds(section_.poll_ms);
  while (!stop.load()) {
    if (halt_requested_.load() != executor_->halted()) {
      if (halt_requested_.load()) {
        executor_->halt();
        spdlog::warn("transfers halted by the kill switch");
      } else {
        executor_->resume();
        spdlog::warn("transfers resumed");
      }
    }
    std::vector<hedging::TransferId> approvals;
    {
      const std::lock_guard lock(approvals_mutex_);
      approvals.swap(approvals_);
    }
    hedging::TransferIntent intent;
    while (intents.pop(intent)) {
      spdlog::info("collateral transfer {} requested: {} sats {} venue {}", intent.transfer_id, intent.amount.value,
                   intent.direction == hedging::TransferDirection::wallet_to_exchange ? "to" : "from", intent.venue);
      executor_->submit(intent, wall_ms());
    }
    for (const hedging::TransferId id : approvals) { // after the intents: an approval may follow its intent closely
      spdlog::warn("collateral transfer {} approved by the operator", id);
      executor_->approve(id);
    }
    apply_settlements();
    for (const transfers::TransferOutcome& outcome : executor_->poll(wall_ms())) {
      switch (outcome.kind) {
      case transfers::TransferOutcome::Kind::completed:
      case transfers::TransferOutcome::Kind::failed: {
        const bool completed = outcome.kind == transfers::TransferOutcome::Kind::completed;
        if (completed) {
          spdlog::info("collateral transfer {} completed {}", outcome.transfer_id, outcome.detail);
        } else {
          spdlog::warn("collateral transfer {} failed: {}", outcome.transfer_id, outcome.detail);
        }
        // The kernel drains this queue every pass; a full queue (64
        // outcomes unread) waits here rather than lose one.
        while (!reports.push(TransferReport{outcome.transfer_id, completed}) && !stop.load()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        kernel_wakeup.notify();
        break;
      }
      case transfers::TransferOutcome::Kind::overdue:
        spdlog::warn("collateral transfer {} overdue: {}", outcome.transfer_id, outcome.detail);
        break;
      case transfers::TransferOutcome::Kind::needs_operator:
        spdlog::critical("collateral transfer {} needs the operator (never re-sent): {}", outcome.transfer_id,
                         outcome.detail);
        break;
      }
    }
    count();
    // A node or venue that cannot answer: once per streak at warn (its
    // reason), every pass at debug below; the counter has them all.
    const bool failed_now = executor_->lookups_failed() != lookups_failed_seen_;
    lookups_failed_seen_ = executor_->lookups_failed();
    if (failed_now && !lookup_streak_) {
      spdlog::warn("transfers: a lookup went unanswered, asked again every pass, nothing decided: {}",
                   executor_->last_error());
    } else if (!failed_now && lookup_streak_) {
      spdlog::info("transfers: lookups answered again (or none asked)");
    }
    lookup_streak_ = failed_now;
    if (!executor_->last_error().empty()) {
      spdlog::debug("transfers: {}", executor_->last_error());
    }
    if (cln_ != nullptr && !cln_->last_error().empty()) {
      spdlog::debug("transfers: core lightning: {}", cln_->last_error());
    }
    // Sleeps in short slices so that a stop is seen promptly.
    for (auto slept = std::chrono::milliseconds(0); slept < interval && !stop.load();
         slept += std::chrono::milliseconds(10)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

} // namespace synthusd::engine::run
