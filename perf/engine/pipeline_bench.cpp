// The `synthusd run` pipeline in one process, without sockets: a liability
// event pushed into its source's SPSC channel, through the kernel thread
// (journal hand-off, Kernel::on, pre-trade risk) to the order on the
// gateway's SPSC queue, with the journal thread group-committing to a real
// file (fdatasync). Measures that hop per event, in both wait modes.
//
// Each iteration alternates a +$20,000 and a -$20,000 liability change
// around $100,000, so every event moves the hedge ratio out of its band and
// the kernel answers with exactly one order; the benchmark thread plays the
// venue and fills it at once. p50 / p99 are reported as counters (ns).

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>
#include <unistd.h>
#include <vector>

#include "run/journal_worker.hpp"
#include "run/kernel_worker.hpp"
#include "synthusd/fix/pre_trade_risk.hpp"
#include "synthusd/hedging/kernel.hpp"

namespace {

using namespace synthusd;
using namespace synthusd::engine::run;
using synthusd::engine::WaitMode;

// A Core Lightning credit's id ("cln:" and a payment hash): the bytes the
// kernel thread copies beside each liability change to the journal.
constexpr std::string_view kPaymentId = "cln:9f2c4d1e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d";

// Event times from the same clock as the kernel thread's timer events.
hedging::Timestamp now() { return hedging::Timestamp{wall_ns()}; }

hedging::KernelConfig one_venue() {
  hedging::KernelConfig config;
  config.venues = {{1, "okx", 1, hedging::UsdCents{INT64_MAX / 4}}};
  hedging::InstrumentSpec swap;
  swap.id = 1;
  swap.venue = 1;
  swap.symbol = "BTC-USD-SWAP";
  swap.contract_value = hedging::UsdCents{10'000};
  config.instruments = {swap};
  return config;
}

struct Pipeline {
  explicit Pipeline(WaitMode mode)
      : journal_path(std::filesystem::temp_directory_path() /
                     ("synthusd_pipeline_bench_" + std::to_string(::getpid()))),
        kernel(one_venue()), ledger(kernel.slots().size()), risk(permissive(), kernel.config().instruments),
        writer((std::filesystem::remove(journal_path), journal_path.string())), channel(4096, wakeup, index_price),
        gateway(1024), alerts(1024), transfers(64),
        journal(
            writer, 65'536, {&channel}, snapshot, [](const SnapshotHandoff&) {}, mode),
        market(64, 1), worker(KernelWorkerSetup{kernel,
                                                ledger,
                                                risk,
                                                journal,
                                                snapshot,
                                                {&market},
                                                {&channel},
                                                {&gateway},
                                                {static_cast<std::size_t>(-1), 0},
                                                alerts,
                                                transfers,
                                                wakeup,
                                                mode,
                                                1,
                                                1'000'000'000,
                                                UINT64_MAX,
                                                index_price,
                                                {},
                                                latency}) {
    journal_thread = std::thread([this] { journal.run(journal_stop); });
    kernel_thread = std::thread([this] { worker.run(kernel_stop); });
    const hedging::Timestamp time = now();
    push_event(hedging::VenueStatus{1, true, time});
    hedging::MarketUpdate update;
    update.venue = 1;
    update.instrument = 1;
    update.mark = hedging::Price::from_dollars(50'000);
    update.index = update.mark;
    update.bid = hedging::Price::from_dollars(49'999);
    update.ask = hedging::Price::from_dollars(50'001);
    update.funding_rate = hedging::Ratio::from_ppm(100);
    update.time = time;
    while (!market.publish(update)) {
    }
    wakeup.notify();
    (void)send_liability(10'000'000); // $100,000: the first hedge
  }
  ~Pipeline() {
    kernel_stop.store(true);
    wakeup.notify();
    kernel_thread.join();
    journal_stop.store(true);
    journal_thread.join();
    std::filesystem::remove(journal_path);
  }

  static fix::RiskLimits permissive() {
    fix::RiskLimits limits;
    limits.max_order_quantity = hedging::Contracts{1'000'000'000};
    limits.max_order_notional = hedging::UsdCents{INT64_MAX / 4};
    limits.max_position = hedging::Contracts{1'000'000'000};
    limits.max_aggregate_notional = hedging::UsdCents{INT64_MAX / 4};
    limits.max_reference_age = hedging::Duration::from_seconds(1'000'000'000);
    limits.order_rate = {};
    limits.message_rate = {};
    return limits;
  }

  void push_event(const hedging::Event& event) {
    while (!gateway.events.push(GatewayEvent{event})) {
    }
    wakeup.notify();
  }

  // Pushes a liability change; returns the nanoseconds until its order
  // reached the gateway queue, after filling that order.
  std::int64_t send_liability(std::int64_t cents) {
    const hedging::LiabilityChange change{++next_id, hedging::UsdCents{cents}, {}, {}, now()};
    const auto started = std::chrono::steady_clock::now();
    while (channel.submit(change, kPaymentId) == 0) {
    }
    GatewayCommand command;
    // The order (a cancel would be the kernel giving up on an unanswered
    // order: not expected, as every order is filled at once).
    while (!gateway.commands.pop(command) || command.kind != GatewayCommand::Kind::order) {
    }
    const auto elapsed = std::chrono::steady_clock::now() - started;
    hedging::ExecutionReport fill;
    fill.client_order_id = command.order.client_order_id;
    fill.status = hedging::OrderStatus::filled;
    fill.last_quantity = command.order.quantity;
    fill.last_price = hedging::Price::from_dollars(50'000);
    fill.time = now();
    push_event(fill);
    return std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count();
  }

  std::filesystem::path journal_path;
  hedging::Kernel kernel;
  hedging::BackingLedger ledger;
  fix::PreTradeRisk risk;
  engine::JournalWriter writer;
  EventCount wakeup;
  std::atomic<std::int64_t> index_price{0};
  LiabilityChannel channel;
  GatewayChannel gateway;
  SpscQueue<hedging::Alert> alerts;
  SpscQueue<hedging::TransferIntent> transfers;
  SnapshotHandoff snapshot;
  OrderLatency latency;
  JournalWorker journal;
  MarketQueue market;
  KernelWorker worker;
  std::atomic<bool> journal_stop{false};
  std::atomic<bool> kernel_stop{false};
  std::thread journal_thread;
  std::thread kernel_thread;
  std::uint64_t next_id = 0;
};

void liability_event_to_order(benchmark::State& state, WaitMode mode) {
  Pipeline pipeline(mode);
  std::vector<std::int64_t> samples;
  samples.reserve(1 << 20);
  bool up = true;
  for (auto _ : state) {
    const std::int64_t ns = pipeline.send_liability(up ? 2'000'000 : -2'000'000);
    up = !up;
    samples.push_back(ns);
    state.SetIterationTime(static_cast<double>(ns) / 1e9);
  }
  std::sort(samples.begin(), samples.end());
  if (!samples.empty()) {
    state.counters["p50_ns"] = static_cast<double>(samples[samples.size() / 2]);
    state.counters["p99_ns"] = static_cast<double>(samples[samples.size() * 99 / 100]);
  }
}

void BM_LiabilityEventToOrderSpin(benchmark::State& state) { liability_event_to_order(state, WaitMode::spin); }
void BM_LiabilityEventToOrderBlocking(benchmark::State& state) { liability_event_to_order(state, WaitMode::blocking); }

BENCHMARK(BM_LiabilityEventToOrderSpin)->UseManualTime()->Iterations(20'000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LiabilityEventToOrderBlocking)->UseManualTime()->Iterations(20'000)->Unit(benchmark::kMicrosecond);

} // namespace
