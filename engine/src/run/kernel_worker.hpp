#pragma once
// The kernel thread: drains its input queues (gateway events first: they
// release in-flight quantity; then market data; then liability events),
// hands every input to the journal thread with its sequence number, applies
// it to the kernel, and routes the actions: orders through pre-trade risk to
// the venue's gateway thread, alerts to the supervisor's log queue.
//
// Hot path rules: no locks, no allocation, no exceptions, no printing. A
// queue that is full is counted; an order that cannot be queued is rejected
// back into the kernel as a venue reject would be (it retries later); a
// journal record is never dropped (the thread waits for room and counts it).

#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "index_publisher.hpp"
#include "journal_worker.hpp"
#include "latency_histogram.hpp"
#include "metrics_exchange.hpp"
#include "pipeline.hpp"
#include "synthusd/feeds/price_oracle.hpp"
#include "synthusd/fix/execution_policy.hpp"
#include "synthusd/fix/pre_trade_risk.hpp"
#include "synthusd/hedging/backing_ledger.hpp"
#include "synthusd/hedging/digest.hpp"
#include "synthusd/hedging/kernel.hpp"

namespace synthusd::engine::run {

// Numbers for the status line and the demo's summary, published by the
// kernel thread on every timer tick and when it stops; any thread reads them.
// The money figures are the backing ledger's (hedging/backing_ledger.hpp),
// copied field by field: a reader may see two ticks mixed while the kernel
// runs, never a torn number; after the kernel thread stopped they agree.
struct StatusBoard {
  std::atomic<std::int64_t> index_price_raw{0};
  std::atomic<std::int64_t> liability_cents{0};
  std::atomic<std::int64_t> venue_hedge_cents{0};
  std::atomic<std::int64_t> hedge_exposure_cents{0}; // short < 0
  std::atomic<std::int64_t> hedge_ratio_raw{0};      // Ratio scale
  std::atomic<std::int64_t> collateral_sats{0};
  std::atomic<std::int64_t> max_deviation_raw{0}; // largest |1 - ratio| over every sample once hedged (Ratio scale)
  std::atomic<std::uint64_t> events{0};
  std::atomic<std::uint64_t> liability_events{0};
  std::atomic<std::uint64_t> orders{0};
  std::atomic<std::uint64_t> fills{0};
  std::atomic<std::uint64_t> filled_contracts{0};
  std::atomic<std::int64_t> fees_sats{0};    // taker fee estimate of every fill (the venue's own figure may differ)
  std::atomic<std::int64_t> funding_sats{0}; // received (> 0) or paid, from the feed's rate over event time
  std::atomic<std::int64_t> backing_sats{0}; // BTC taken in for the customers' dollars
  std::atomic<std::int64_t> hedge_pnl_sats{0};
  std::atomic<std::int64_t> usd_value_cents{0};     // what is held for the customers, at the index
  std::atomic<std::int64_t> backing_value_cents{0}; // their BTC alone, at the index
  std::atomic<std::uint64_t> ledger_digest{0};      // BackingLedger::state_digest(), to compare with a replay
  std::atomic<bool> ledger_overflowed{false};
  std::atomic<std::uint64_t> open_orders{0};
  std::atomic<bool> within_band{false};
  // Rules 5, 6 and 8 at a glance: how many venues trade, how many
  // perpetuals the funding guard keeps out, what netting took off.
  std::atomic<std::uint32_t> venues_up{0};
  std::atomic<std::uint32_t> venues{0};
  std::atomic<std::uint32_t> funding_guards_engaged{0};
  std::atomic<std::int64_t> provider_interest_cents{0};
};

struct KernelThreadStats {
  std::atomic<std::uint64_t> journal_waits{0}; // the journal queue was full
  std::atomic<std::uint64_t> gateway_full{0};  // an order found the gateway queue full (rejected locally)
  std::atomic<std::uint64_t> no_gateway{0};    // an order for a venue without a gateway
  std::atomic<std::uint64_t> transfers_unexecuted{0};
  std::atomic<std::uint64_t> alerts_dropped{0};
  std::atomic<std::uint64_t> risk_rejects{0};
  std::atomic<std::uint64_t> local_inputs_dropped{0};
  std::atomic<std::uint64_t> orders_unpriced{0}; // no reference (or touch) to bound the order: not sent
  // One-thread hot path: polls of its wake-up eventfd that failed (each may
  // leave wake-ups to the 2 ms idle limit until re-armed).
  std::atomic<std::uint64_t> hot_path_wakeup_failures{0};
};

struct KernelWorkerSetup {
  hedging::Kernel& kernel;
  hedging::BackingLedger& ledger; // fed every input beside the kernel (apply_input)
  fix::PreTradeRisk& risk;
  JournalWorker& journal;
  SnapshotHandoff& snapshot;
  std::vector<MarketQueue*> markets;
  std::vector<LiabilityChannel*> liabilities;
  std::vector<GatewayChannel*> gateways;     // by gateway index
  std::vector<std::size_t> gateway_by_venue; // venue id -> gateway index (npos: none)
  SpscQueue<hedging::Alert>& alerts;
  SpscQueue<hedging::TransferIntent>& transfers; // requested transfers, for the operator's log
  EventCount& wakeup;
  WaitMode wait;
  std::uint64_t next_sequence; // the journal's last sequence + 1
  std::int64_t timer_interval_ns;
  std::uint64_t snapshot_every_events;
  std::atomic<std::int64_t>& index_price_raw; // the oracle's valid index, for the sources' sats conversion
  hedging::ActionStreamHash action_hash;      // continued from the recovery
  OrderLatency& order_latency;                // recorded by the gateway threads
  feeds::OracleConfig oracle{};               // [oracle]: each market queue is one price source
  // venue id -> how its orders go out (order type, collar); a venue not
  // listed gets the defaults (limit IOC inside a 0.5 % collar).
  std::vector<fix::ExecutionOptions> execution_by_venue{};
  // [transfers] enabled: the transfer thread's completions and failures
  // (TransferCompleted / TransferFailed inputs); null otherwise.
  SpscQueue<TransferReport>* transfer_reports = nullptr;
};

class KernelWorker {
public:
  explicit KernelWorker(KernelWorkerSetup setup);

  // Inputs the engine itself decides at start-up (recovery: cancel what the
  // kernel believes open, mark venues down until reconciled). Journaled
  // like any other input. Call before run(), on the kernel thread.
  void inject(const hedging::Event& event);

  void run(const std::atomic<bool>& stop);

  // run() in steps, for a thread that runs other stages between them (the
  // one-thread hot path, hot_path_thread.hpp): begin() once, then do_work()
  // (inputs, timer, snapshot, /metrics; true when it took input) until
  // stopping, idling no longer than idle_timeout_ns() when nothing has
  // input; finish() journals what is still queued. Kernel thread only.
  void begin();
  bool do_work();
  [[nodiscard]] std::int64_t idle_timeout_ns() const noexcept;
  void finish();
  // Whether any input queue holds something (any thread may ask; the answer
  // may be stale by the time it returns).
  [[nodiscard]] bool has_input() const noexcept;

  // One pass over the input queues: the body of run() without its timer,
  // snapshots, metrics or idling. Public so that tests can drive the event
  // path on their own thread; call it only from the thread that owns the
  // kernel (and never while run() is running). Returns whether it took input.
  bool drain_once();

  [[nodiscard]] const StatusBoard& status() const noexcept { return status_; }
  [[nodiscard]] const KernelThreadStats& stats() const noexcept { return stats_; }
  // The one-thread hot path's feeds::EventLoop::wakeup_failures(), for /metrics.
  void set_hot_path_wakeup_failures(std::uint64_t failures) noexcept {
    stats_.hot_path_wakeup_failures.store(failures, std::memory_order_relaxed);
  }
  [[nodiscard]] const OrderLatency& order_latency() const noexcept { return setup_.order_latency; }
  [[nodiscard]] const LatencyHistogram& event_latency() const noexcept { return event_latency_; }
  [[nodiscard]] MetricsExchange& metrics() noexcept { return metrics_; }
  [[nodiscard]] std::uint64_t action_hash() const noexcept { return action_hash_value_.load(); }
  [[nodiscard]] std::uint64_t action_events() const noexcept { return action_events_.load(); }
  [[nodiscard]] std::uint64_t last_sequence() const noexcept { return last_sequence_.load(); }
  // Any thread: the journal thread stopped under the kernel, which then
  // applies nothing more (an input it cannot journal must not move state).
  [[nodiscard]] bool halted() const noexcept { return halted_.load(std::memory_order_acquire); }
  // Any thread: the price oracle's valid index (0: none), the price sats
  // are converted at; also a reference for order price checks.
  [[nodiscard]] hedging::Price valid_index() const noexcept { return index_.valid_index(); }
  [[nodiscard]] const std::atomic<std::int64_t>& index_published_at() const noexcept { return index_.published_at(); }
  // Any thread: "" while the index is valid, else why not (for /health).
  [[nodiscard]] std::string index_problem() const { return index_.problem(); }

private:
  struct Origin {
    std::int64_t wall_ns = 0; // 0: when dequeued
    std::int64_t dequeued_wall_ns = 0;
    bool market = false;
    bool payment = false; // a liability source's event; wall_ns is its hand-off
    std::size_t feed = 0; // market: the queue (price source) it came from
  };
  // payment_id: a liability change's, journaled beside it (nullptr for every other input).
  void process(const hedging::Event& event, std::uint16_t source, std::uint64_t ticket, Origin origin,
               const liabilities::LiabilityId* payment_id = nullptr);
  void feed_risk(const hedging::Event& event) noexcept;
  void route(std::span<const hedging::Action> actions, Origin origin);
  void route_order(const hedging::OrderIntent& order, Origin origin);
  void reject_locally(hedging::ClientOrderId id);
  void publish_index(const hedging::Event& event, Origin origin) noexcept;
  void publish_status() noexcept;
  void maybe_snapshot();
  // False (and the kernel halted) when the journal thread is gone.
  bool push_to_journal(const JournalItem& item) noexcept;
  [[gnu::cold, gnu::noinline]] void halt_without_journal(std::uint64_t sequence) noexcept;
  void serve_metrics(std::uint64_t generation); // answers MetricsExchange request `generation`

  KernelWorkerSetup setup_;
  // Per instrument id: the last touch and reference price seen, and the
  // tick, for shaping orders (fix::shape_order). Sized at construction.
  std::vector<fix::Touch> touches_;
  std::vector<hedging::Price> ticks_;
  IndexPublisher index_;
  hedging::ActionStreamHash hash_;
  std::atomic<std::uint64_t> action_hash_value_{0};
  std::atomic<std::uint64_t> action_events_{0};
  std::atomic<std::uint64_t> last_sequence_{0};
  std::atomic<bool> halted_{false};
  std::uint64_t next_sequence_;
  std::uint64_t events_since_snapshot_ = 0;
  std::int64_t next_timer_ns_ = 0;
  // risk-refused orders go back into the kernel as rejects: fixed ring
  std::array<hedging::ClientOrderId, 1024> local_rejects_{};

  std::size_t local_head_ = 0;
  std::size_t local_count_ = 0;
  StatusBoard status_;
  KernelThreadStats stats_;
  LatencyHistogram event_latency_;
  MetricsExchange metrics_;
  Idler idler_;
};

} // namespace synthusd::engine::run
