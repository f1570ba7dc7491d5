#pragma once
// `synthusd run` assembled: recovery, then the threads.
//
// Recovery (constructor, recovery.hpp): load the latest kernel snapshot (its
// state digest is checked on load), replay the journal segments from the one
// holding the record after it, take the liability ids of older segments from
// their id indexes, cut a torn or corrupt tail of the active segment
// (warning, never a crash). Then, first inputs of the
// new life, journaled like any other: every order the kernel still believes
// open is cancelled (the gateway mass-cancels at logon, so none can fill
// unseen) and every venue is marked down until its gateway has logged on
// and reported positions; the kernel then hedges any difference. ClOrdIDs
// come from the gateway's persisted counter, reserved before use, so none
// is ever sent twice across crashes.
//
// Shutdown (stop): liability sources stop taking events; the kill switch
// blocks new orders and every gateway cancels what is open; the kernel and
// then the journal thread finish (a last group commit + fdatasync); the
// gateways log out.

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "feed_worker.hpp"
#include "gateway_worker.hpp"
#include "journal_worker.hpp"
#include "kernel_worker.hpp"
#include "source_worker.hpp"
#include "synthusd/engine/config_file.hpp"
#include "synthusd/engine/journal.hpp"
#include "synthusd/engine/journal_liability_sink.hpp"
#include "synthusd/engine/recovery.hpp"
#include "synthusd/engine/thread_placement.hpp"
#include "synthusd/liabilities/liability_intake.hpp"
#include "transfer_worker.hpp"

namespace synthusd::engine::run {

class EngineRuntime {
public:
  explicit EngineRuntime(EngineConfig config); // recovers; throws on what the operator must fix
  ~EngineRuntime();
  EngineRuntime(const EngineRuntime&) = delete;
  EngineRuntime& operator=(const EngineRuntime&) = delete;

  void start();
  void stop(); // ordered shutdown; idempotent

  // Kill switch (any thread): blocks new orders, cancels everything open.
  void kill();
  void resume();
  // Passes an operator's approval to the transfer thread; false when
  // [transfers] is off. Any thread.
  bool approve_transfer(std::uint64_t id);
  // GET /transfers and POST /transfers/settle/<id> (TransferWorker::
  // listing_json, settle); nullopt when [transfers] is off. Any thread.
  [[nodiscard]] std::optional<std::string> transfers_json() const;
  [[nodiscard]] std::optional<std::pair<int, std::string>> settle_transfer(std::uint64_t id, std::string_view body);
  [[nodiscard]] bool killed() const noexcept;

  [[nodiscard]] const RecoveryReport& recovery() const noexcept { return recovery_; }
  [[nodiscard]] const KernelWorker& kernel_worker() const noexcept { return *kernel_worker_; }
  [[nodiscard]] const JournalStats& journal_stats() const noexcept { return journal_worker_->stats(); }
  [[nodiscard]] std::string metrics_text(); // HTTP thread
  [[nodiscard]] std::string health_problems() const;
  [[nodiscard]] bool fatal() const noexcept { return fatal_.load(); }
  // The journal's base path: its segments are <base>.<first sequence>.
  [[nodiscard]] const std::string& journal_path() const noexcept { return journal_path_; }
  [[nodiscard]] int intake_tcp_port() const noexcept { return intake_tcp_port_.load(); }
  // Drains alert queues into the log (supervisor thread).
  void log_alerts();
  [[nodiscard]] std::uint64_t liability_events_lost() const noexcept;
  // Moves sealed segments the last snapshot covers to
  // `[engine] journal_archive_directory`, when one is set (supervisor
  // thread; the journal thread only ever appends to the active segment).
  void archive_journal();

private:
  void recover();
  void inject_recovery_inputs();
  [[nodiscard]] bool one_thread() const noexcept { return config_.run.engine.hot_path == HotPath::one_thread; }
  void spawn(const std::string& name, int cpu, std::function<void()> body);
  // [engine.cpus] and the wait rule for the thread called `name`
  // (thread_placement.hpp): its CPU (-1: not pinned) and how it idles.
  [[nodiscard]] int cpu_of(const std::string& name) const;
  [[nodiscard]] WaitMode wait_of(const std::string& name) const;
  // Builds source `index` (its name says which) for run_source().
  [[nodiscard]] std::unique_ptr<liabilities::LiabilitySource> make_source(std::size_t index);

  // The one-thread hot path's eventfd (its EventLoop watches it; the
  // kernel's event count writes it). Declared first so that it is closed
  // last, after the gateways whose QuickFIX threads may still notify.
  struct WakeupFd {
    int fd = -1;
    WakeupFd() = default;
    WakeupFd(const WakeupFd&) = delete;
    WakeupFd& operator=(const WakeupFd&) = delete;
    ~WakeupFd();
  };
  WakeupFd hot_path_wakeup_;
  EngineConfig config_;
  std::vector<RunThread> threads_;
  std::vector<ThreadWait> waits_; // per threads_ entry
  std::string journal_path_;
  std::string snapshot_path_;
  RecoveryReport recovery_;
  hedging::ActionStreamHash recovered_hash_;
  std::vector<JournaledLiability> journaled_; // the whole history's liability ids, for the sources (start only)
  // Sealed segments whose records all lie at or before this sequence (a
  // durable snapshot's) may be archived.
  std::atomic<std::uint64_t> archivable_through_{0};
  std::uint64_t archived_through_ = 0; // supervisor thread
  std::unique_ptr<hedging::Kernel> kernel_;
  std::unique_ptr<hedging::BackingLedger> ledger_; // the kernel's money figures, recovered with it
  std::unique_ptr<JournalWriter> journal_;
  std::unique_ptr<fix::PreTradeRisk> risk_;
  SnapshotHandoff snapshot_;
  std::unique_ptr<JournalWorker> journal_worker_;
  std::unique_ptr<KernelWorker> kernel_worker_;
  EventCount kernel_wakeup_;
  std::atomic<std::int64_t> index_price_raw_{0};
  std::unique_ptr<SpscQueue<hedging::Alert>> alerts_;
  std::unique_ptr<SpscQueue<hedging::TransferIntent>> transfers_;
  std::unique_ptr<TransferWorker> transfer_worker_;             // [transfers] enabled
  std::unique_ptr<SpscQueue<TransferReport>> transfer_reports_; // its outcomes, for the kernel

  std::vector<std::unique_ptr<MarketQueue>> markets_;
  std::vector<std::unique_ptr<FeedStatus>> feed_status_;
  std::vector<FeedPlan> feed_plans_;
  std::vector<std::unique_ptr<GatewayChannel>> gateway_channels_;
  std::vector<std::unique_ptr<GatewayWorker>> gateway_workers_;
  std::vector<std::unique_ptr<LiabilityChannel>> liability_channels_;
  std::vector<std::unique_ptr<SourceStatus>> source_status_;
  std::vector<std::unique_ptr<liabilities::LiabilityAdmission>>
      admissions_; // by source, built (and seeded) before threads
  // By source: those the hot-path thread polls (the intake with
  // hot_path = "one_thread"), built by start(); null for a source on its own
  // thread. Destroyed after the threads are joined.
  std::vector<std::unique_ptr<liabilities::LiabilitySource>> hot_path_sources_;
  OrderLatency order_latency_;

  std::atomic<bool> sources_stop_{false};
  std::atomic<bool> feeds_stop_{false};
  std::atomic<bool> gateways_stop_{false};
  std::atomic<bool> kernel_stop_{false};
  std::atomic<bool> journal_stop_{false};
  std::atomic<bool> fatal_{false};
  std::atomic<int> intake_tcp_port_{-1};
  std::vector<std::thread> source_threads_, feed_threads_, gateway_threads_;
  std::thread kernel_thread_, journal_thread_;
  bool started_ = false;
  bool stopped_ = false;
};

} // namespace synthusd::engine::run
