#pragma once
// The kernel thread's surroundings for tests (run_kernel_worker_test.cpp,
// run_index_oracle_test.cpp): a journal, a kernel with one venue, pre-trade
// risk, a liability channel, market queues and a gateway channel, nothing on
// a thread of its own. Tests call KernelWorker::drain_once() themselves.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "run/journal_worker.hpp"
#include "run/kernel_worker.hpp"
#include "run_test_support.hpp"

namespace synthusd::engine::run::testing {

inline constexpr std::size_t kNoGatewayIndex = static_cast<std::size_t>(-1);

// Everything the kernel thread talks to, for one venue (id 1) with a gateway.
struct KernelPipeline {
  explicit KernelPipeline(std::size_t journal_capacity = 4096, std::uint64_t snapshot_every_events = 1'000'000'000,
                          WaitMode wait = WaitMode::blocking)
      : directory("kernel_worker"), journal_path(directory.file("journal")), writer(journal_path),
        kernel(one_venue_config()), ledger(kernel.slots().size()), risk(fix::RiskLimits{}, kernel.config().instruments),
        liabilities(4096, wakeup, index_price_raw), market(1024, 1), gateway(1024), alerts(1024), transfers(1024),
        journal(
            writer, journal_capacity, {&liabilities}, snapshot,
            [this](const SnapshotHandoff& handoff) {
              snapshots_written.fetch_add(1);
              if (writer.durable_sequence() < handoff.sequence) {
                snapshots_ahead_of_journal.fetch_add(1);
              }
            },
            wait),
        wait_mode(wait), snapshot_every(snapshot_every_events) {}

  // gateway_by_venue[1] = 0 unless told otherwise.
  // Another market queue: one more price source for the index oracle
  // (before start()).
  MarketQueue& add_feed() { return *more_markets.emplace_back(std::make_unique<MarketQueue>(1024, 1)); }

  KernelWorker& start(std::vector<std::size_t> gateway_by_venue = {kNoGatewayIndex, 0},
                      std::vector<fix::ExecutionOptions> execution_by_venue = {}) {
    KernelWorkerSetup setup{kernel,
                            ledger,
                            risk,
                            journal,
                            snapshot,
                            {&market},
                            {&liabilities},
                            {&gateway},
                            std::move(gateway_by_venue),
                            alerts,
                            transfers,
                            wakeup,
                            wait_mode,
                            writer.last_sequence() + 1,
                            100'000'000,
                            snapshot_every,
                            index_price_raw,
                            hedging::ActionStreamHash{},
                            latency,
                            oracle,
                            std::move(execution_by_venue)};
    for (const auto& more : more_markets) {
      setup.markets.push_back(more.get());
    }
    worker = std::make_unique<KernelWorker>(std::move(setup));
    return *worker;
  }

  // The journal thread's work, done here: append and commit what is queued.
  void flush_journal() {
    const std::atomic<bool> stop{true};
    journal.run(stop);
  }

  std::vector<GatewayCommand> take_commands() {
    std::vector<GatewayCommand> commands;
    GatewayCommand command;
    while (gateway.commands.pop(command)) {
      commands.push_back(command);
    }
    return commands;
  }

  void venue_up(hedging::Timestamp time) {
    ASSERT_TRUE(gateway.events.push(GatewayEvent{hedging::VenueStatus{1, true, time}}));
  }

  TempDir directory;
  std::string journal_path;
  JournalWriter writer;
  hedging::Kernel kernel;
  hedging::BackingLedger ledger;
  fix::PreTradeRisk risk;
  EventCount wakeup;
  std::atomic<std::int64_t> index_price_raw{0};
  LiabilityChannel liabilities;
  MarketQueue market;
  GatewayChannel gateway;
  SpscQueue<hedging::Alert> alerts;
  SpscQueue<hedging::TransferIntent> transfers;
  SnapshotHandoff snapshot;
  std::atomic<int> snapshots_written{0};
  std::atomic<int> snapshots_ahead_of_journal{0};
  JournalWorker journal;
  OrderLatency latency;
  WaitMode wait_mode;
  std::uint64_t snapshot_every;
  std::vector<std::unique_ptr<MarketQueue>> more_markets; // feeds 1.. (feed 0 is `market`)
  feeds::OracleConfig oracle;                             // [oracle] as the run config would give it
  std::unique_ptr<KernelWorker> worker;
};

} // namespace synthusd::engine::run::testing
