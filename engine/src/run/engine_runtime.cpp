#include "engine_runtime.hpp"
#include "hot_path_thread.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <spdlog/spdlog.h>

#include <filesystem>

#include "synthusd/engine/journal_segments.hpp"
#include "synthusd/engine/snapshot_file.hpp"
#include "synthusd/fix/gateway_alert_text.hpp"
#include "synthusd/liabilities/lnd_payment_source.hpp"
#include "synthusd/liabilities/lnd_source.hpp"
#include "synthusd/liabilities/nats_source.hpp"

namespace synthusd::engine::run {

namespace {

constexpr std::size_t kNoGateway = static_cast<std::size_t>(-1);

hedging::InstrumentId max_instrument(const hedging::KernelConfig& kernel) {
  hedging::InstrumentId max = 0;
  for (const hedging::InstrumentSpec& spec : kernel.instruments) {
    max = std::max(max, spec.id);
  }
  return max;
}

} // namespace

EngineRuntime::EngineRuntime(EngineConfig config)
    : config_(std::move(config)), threads_(run_threads(config_.run)),
      waits_(plan_waits(threads_, config_.run.engine.wait, std::thread::hardware_concurrency(),
                        config_.run.engine.spin_before_park_ns)) {
  const std::string& directory = config_.run.engine.state_directory;
  std::filesystem::create_directories(directory);
  if (one_thread()) {
    // Before any producer exists: they read the fd in EventCount::notify().
    hot_path_wakeup_.fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (hot_path_wakeup_.fd < 0) {
      throw std::system_error(errno, std::system_category(), "eventfd for the hot path thread");
    }
    kernel_wakeup_.wake_through(hot_path_wakeup_.fd);
  }
  journal_path_ = directory + "/journal";
  snapshot_path_ = directory + "/kernel.snapshot";
  recover();
  risk_ = std::make_unique<fix::PreTradeRisk>(config_.run.risk, config_.kernel.instruments);
  alerts_ = std::make_unique<SpscQueue<hedging::Alert>>(1024);
  transfers_ = std::make_unique<SpscQueue<hedging::TransferIntent>>(64);
  if (const TransferSection& section = config_.run.transfers; section.enabled) {
    hedging::VenueId venue = hedging::kNoVenue;
    for (const auto& candidate : config_.kernel.venues) {
      if (candidate.name == section.venue) {
        venue = candidate.id;
      }
    }
    transfer_worker_ = std::make_unique<TransferWorker>(section, venue, directory + "/transfers.journal");
    transfer_reports_ = std::make_unique<SpscQueue<TransferReport>>(64);
  }

  // Feeds: one conflating queue each.
  for (const FeedSection& section : config_.run.feeds) {
    feed_plans_.push_back(make_feed_plan(section, config_.kernel));
    markets_.push_back(
        std::make_unique<MarketQueue>(config_.run.engine.market_queue_capacity, max_instrument(config_.kernel)));
    feed_status_.push_back(std::make_unique<FeedStatus>());
  }
  // Gateways: QuickFIX sessions are built here so configuration errors stop
  // the start, but they connect only on their own thread.
  std::vector<std::size_t> gateway_by_venue;
  std::vector<fix::ExecutionOptions> execution_by_venue;
  for (const GatewaySection& section : config_.run.gateways) {
    auto channel = std::make_unique<GatewayChannel>(config_.run.engine.command_queue_capacity);
    fix::GatewayConfig gateway = make_gateway_config(section, config_.kernel, config_.run.engine.state_directory);
    if (gateway_by_venue.size() <= gateway.venue) {
      gateway_by_venue.resize(gateway.venue + 1U, kNoGateway);
      execution_by_venue.resize(gateway.venue + 1U);
    }
    gateway_by_venue[gateway.venue] = gateway_channels_.size();
    // One credit budget per venue: risk spends it for orders and cancels on
    // the kernel thread, the gateway for its own queries on its thread.
    gateway.request_credits = risk_->set_venue_credits(gateway.venue, section.credits);
    execution_by_venue[gateway.venue] = section.execution;
    gateway_workers_.push_back(std::make_unique<GatewayWorker>(std::move(gateway), *channel, order_latency_,
                                                               wait_of("fix-" + section.venue), kernel_wakeup_,
                                                               section.execution));
    gateway_channels_.push_back(std::move(channel));
  }
  // Liability sources: one channel each (the journal publishes their tickets).
  const std::pair<bool, const char*> sources[] = {
      {config_.run.intake.enabled, "intake"},
      {config_.run.lnd.enabled, "lnd"},
      {config_.run.lnd.enabled && config_.run.lnd.options.debits, "lnd-payments"},
      {config_.run.nats.enabled, "nats"}};
  // Every id ever journaled (read by recover(), before any thread appends)
  // goes to each source's deduplication.
  for (const auto& [enabled, name] : sources) {
    if (!enabled) {
      continue;
    }
    liability_channels_.push_back(std::make_unique<LiabilityChannel>(config_.run.engine.liability_queue_capacity,
                                                                     kernel_wakeup_, index_price_raw_));
    source_status_.push_back(std::make_unique<SourceStatus>());
    source_status_.back()->name = name;
    admissions_.push_back(std::make_unique<liabilities::LiabilityAdmission>(
        *liability_channels_.back(), config_.run.liability.conversion_spread, config_.run.liability.limits));
    remember_journaled(*admissions_.back(), journaled_);
  }
  journaled_ = {};
  std::vector<LiabilityChannel*> channels;
  for (const auto& channel : liability_channels_) {
    channels.push_back(channel.get());
  }
  journal_worker_ = std::make_unique<JournalWorker>(
      *journal_, config_.run.engine.journal_queue_capacity, channels, snapshot_,
      [this](const SnapshotHandoff& snapshot) {
        SnapshotInfo info;
        info.journal_sequence = snapshot.sequence;
        info.config_digest = snapshot.config_digest;
        info.state_digest = snapshot.state_digest;
        info.action_hash = snapshot.action_hash;
        info.action_events = snapshot.action_events;
        write_snapshot_payload_file(snapshot_path_, info, snapshot.bytes, snapshot.ledger_bytes);
        // The snapshot is durable: later starts read from the segment that
        // begins after it. A failed rotation only costs a longer read then.
        try {
          rotate_segment(*journal_, journal_path_);
        } catch (const std::exception& error) {
          spdlog::error("journal: cutting the segment after the snapshot at sequence {} failed ({}); appending to {}",
                        snapshot.sequence, error.what(), journal_->path());
        }
        archivable_through_.store(snapshot.sequence, std::memory_order_release);
      },
      wait_of("journal"));

  KernelWorkerSetup setup{*kernel_,
                          *ledger_,
                          *risk_,
                          *journal_worker_,
                          snapshot_,
                          {},
                          channels,
                          {},
                          gateway_by_venue,
                          *alerts_,
                          *transfers_,
                          kernel_wakeup_,
                          wait_of("kernel"),
                          journal_->last_sequence() + 1,
                          config_.run.engine.timer_interval_ms * 1'000'000,
                          config_.run.engine.snapshot_every_events,
                          index_price_raw_,
                          recovered_hash_,
                          order_latency_,
                          config_.run.oracle};
  setup.execution_by_venue = std::move(execution_by_venue);
  setup.transfer_reports = transfer_reports_.get();
  for (const auto& market : markets_) {
    setup.markets.push_back(market.get());
  }
  for (const auto& channel : gateway_channels_) {
    setup.gateways.push_back(channel.get());
  }
  kernel_worker_ = std::make_unique<KernelWorker>(std::move(setup));
  // The sources trust the published index only while the kernel thread keeps
  // re-reading the oracle (every tick and timer): a stalled kernel thread
  // must not leave a stale price that sats are converted at.
  const std::int64_t index_max_age_ns =
      std::max<std::int64_t>(5'000'000'000, 3 * config_.run.engine.timer_interval_ms * 1'000'000);
  for (const auto& channel : liability_channels_) {
    channel->set_index_lease(kernel_worker_->index_published_at(), index_max_age_ns);
  }
}

EngineRuntime::~EngineRuntime() { stop(); }

EngineRuntime::WakeupFd::~WakeupFd() {
  if (fd >= 0) {
    ::close(fd);
  }
}

void EngineRuntime::recover() {
  RecoveryPaths paths{journal_path_, snapshot_path_, {}};
  if (!config_.run.engine.journal_archive_directory.empty()) {
    paths.archive_directories.push_back(config_.run.engine.journal_archive_directory);
  }
  RecoveredState state = recover_state(config_.kernel, paths);
  kernel_ = std::move(state.kernel);
  ledger_ = std::move(state.ledger);
  recovered_hash_ = state.hash;
  journal_ = std::move(state.journal);
  journaled_ = std::move(state.liabilities);
  recovery_ = state.report;
  if (recovery_.snapshot_used) {
    archivable_through_.store(recovery_.snapshot_sequence);
  }
}

void EngineRuntime::archive_journal() {
  const std::string& archive = config_.run.engine.journal_archive_directory;
  const std::uint64_t covered = archivable_through_.load(std::memory_order_acquire);
  if (archive.empty() || covered <= archived_through_) {
    return;
  }
  try {
    const std::size_t moved = archive_sealed_segments(journal_path_, archive, covered);
    if (moved > 0) {
      spdlog::info("journal: {} sealed segment(s) covered by the snapshot at sequence {} moved to {}", moved, covered,
                   archive);
    }
    archived_through_ = covered;
  } catch (const std::exception& error) {
    // Left in place, the segments cost only disk; tried again after the
    // next snapshot.
    archived_through_ = covered;
    spdlog::error("journal: archiving to {} failed: {}", archive, error.what());
  }
}

int EngineRuntime::cpu_of(const std::string& name) const {
  for (const RunThread& thread : threads_) {
    if (thread.name == name) {
      return thread.cpu;
    }
  }
  return -1;
}

WaitMode EngineRuntime::wait_of(const std::string& name) const {
  for (std::size_t i = 0; i < threads_.size(); ++i) {
    if (threads_[i].name == name) {
      // The Idler spins before parking on its own when spin_before_park_us > 0.
      return waits_[i] == ThreadWait::spin ? WaitMode::spin : WaitMode::blocking;
    }
  }
  return WaitMode::blocking;
}

void EngineRuntime::spawn(const std::string& name, int cpu, std::function<void()> body) {
  std::thread thread([this, name, cpu, body = std::move(body)] {
    const std::string warning = name_and_pin_this_thread(name, cpu);
    if (!warning.empty()) {
      spdlog::warn("{}", warning);
    }
    try {
      body();
    } catch (const std::exception& error) {
      spdlog::critical("thread {} stopped: {}", name, error.what());
      fatal_.store(true);
    }
  });
  if (name.rfind("feed", 0) == 0) {
    feed_threads_.push_back(std::move(thread));
  } else if (name.rfind("fix", 0) == 0) {
    gateway_threads_.push_back(std::move(thread));
  } else if (name == "kernel" || name == "hot-path") {
    kernel_thread_ = std::move(thread);
  } else if (name == "journal") {
    journal_thread_ = std::move(thread);
  } else {
    source_threads_.push_back(std::move(thread));
  }
}

// First inputs of this life, on the kernel's thread before its loop: what
// the kernel believes open is cancelled, venues are down until reconciled,
// transfers in flight are settled from the executor's journal.
void EngineRuntime::inject_recovery_inputs() {
  const hedging::Timestamp now{wall_ns()};
  for (const hedging::OrderRecord& order : kernel_->order_table().records()) {
    if (order.client_order_id != 0) {
      hedging::ExecutionReport report;
      report.client_order_id = order.client_order_id;
      report.status = hedging::OrderStatus::canceled;
      report.time = now;
      kernel_worker_->inject(report);
      ++recovery_.open_orders_cancelled;
    }
  }
  for (const hedging::VenueState& venue : kernel_->venues()) {
    if (venue.up) {
      kernel_worker_->inject(hedging::VenueStatus{venue.config.id, false, now});
    }
    // Requested before the crash: the transfer executor resumes what its
    // journal holds and reports it; anything else never left the engine.
    if (venue.transfer_in_flight && (!transfer_worker_ || !transfer_worker_->knows(venue.transfer_id))) {
      kernel_worker_->inject(hedging::TransferFailed{venue.transfer_id, now});
    } else if (venue.transfer_in_flight) {
      // Finished in the executor's journal, its report lost with the
      // process before the kernel's journal had it: reported again.
      if (const std::optional<bool> completed = transfer_worker_->finished(venue.transfer_id); completed) {
        if (*completed) {
          kernel_worker_->inject(hedging::TransferCompleted{venue.transfer_id, now});
        } else {
          kernel_worker_->inject(hedging::TransferFailed{venue.transfer_id, now});
        }
      }
    }
  }
}

void EngineRuntime::start() {
  if (started_) {
    return;
  }
  started_ = true;
  for (std::size_t i = 0; i < threads_.size(); ++i) {
    spdlog::info("thread {}: {}, {}", threads_[i].name,
                 threads_[i].cpu < 0 ? std::string("not pinned") : "CPU " + std::to_string(threads_[i].cpu),
                 to_string(waits_[i]));
  }
  spawn("journal", cpu_of("journal"), [this] { journal_worker_->run(journal_stop_); });
  hot_path_sources_.resize(admissions_.size());
  if (one_thread()) {
    // The intake runs on the hot path (hot_path_thread.hpp): built here, so
    // that a socket it cannot listen on stops the start with the reason.
    for (std::size_t i = 0; i < admissions_.size(); ++i) {
      if (source_on_hot_path(config_.run, source_status_[i]->name)) {
        hot_path_sources_[i] = make_source(i);
      }
    }
    spawn("hot-path", cpu_of("hot-path"), [this] {
      inject_recovery_inputs();
      HotPathParts parts;
      for (std::size_t i = 0; i < feed_plans_.size(); ++i) {
        parts.feeds.push_back({&feed_plans_[i], markets_[i].get(), feed_status_[i].get()});
      }
      for (std::size_t i = 0; i < hot_path_sources_.size(); ++i) {
        if (hot_path_sources_[i]) {
          parts.sources.push_back({hot_path_sources_[i].get(), source_status_[i].get(), admissions_[i].get()});
        }
      }
      parts.kernel = kernel_worker_.get();
      for (const std::unique_ptr<GatewayWorker>& gateway : gateway_workers_) {
        parts.gateways.push_back(gateway.get());
      }
      parts.wakeup = &kernel_wakeup_;
      parts.wakeup_fd = hot_path_wakeup_.fd;
      parts.wait = wait_of("hot-path");
      run_hot_path(parts, kernel_stop_);
    });
  } else {
    spawn("kernel", cpu_of("kernel"), [this] {
      inject_recovery_inputs();
      kernel_worker_->run(kernel_stop_);
    });
    for (std::size_t i = 0; i < gateway_workers_.size(); ++i) {
      spawn("fix-" + config_.run.gateways[i].venue, cpu_of("fix-" + config_.run.gateways[i].venue),
            [this, i] { gateway_workers_[i]->run(gateways_stop_, 500); });
    }
    for (std::size_t i = 0; i < feed_plans_.size(); ++i) {
      spawn(feed_plans_[i].name, cpu_of(feed_plans_[i].name), [this, i] {
        run_feed(feed_plans_[i], *markets_[i], *feed_status_[i], kernel_wakeup_, wait_of(feed_plans_[i].name),
                 feeds_stop_);
      });
    }
  }
  if (transfer_worker_) { // joined with the sources (sources_stop_)
    spawn("transfers", cpu_of("transfers"),
          [this] { transfer_worker_->run(sources_stop_, *transfers_, *transfer_reports_, kernel_wakeup_); });
  }
  for (std::size_t i = 0; i < admissions_.size(); ++i) {
    if (hot_path_sources_[i]) {
      continue;
    }
    spawn(source_status_[i]->name, cpu_of(source_status_[i]->name), [this, i] {
      run_source([this, i] { return make_source(i); }, *source_status_[i], sources_stop_, {}, admissions_[i].get());
    });
  }
}

std::unique_ptr<liabilities::LiabilitySource> EngineRuntime::make_source(std::size_t index) {
  const std::string& name = source_status_[index]->name;
  liabilities::LiabilityAdmission& admission = *admissions_[index];
  // The options as parse_config() read them; only what is derived at run
  // time is added here.
  if (name == "intake") {
    auto intake = std::make_unique<liabilities::LiabilityIntake>(config_.run.intake.options, admission);
    intake_tcp_port_.store(intake->tcp_port());
    return intake;
  }
  if (name == "lnd") {
    liabilities::LndOptions options = config_.run.lnd.options;
    // The settle_index acknowledged (durable) so far: a restart resumes here.
    options.state_file = config_.run.engine.state_directory + "/lnd.settle_index";
    return std::make_unique<liabilities::LndInvoiceSource>(std::move(options), admission);
  }
  if (name == "lnd-payments") {
    liabilities::LndOptions options = config_.run.lnd.options;
    // The payment_index acknowledged (every payment up to it final, its debit durable).
    options.debits_state_file = config_.run.engine.state_directory + "/lnd.payment_index";
    return std::make_unique<liabilities::LndPaymentSource>(std::move(options), admission);
  }
  if (name == "nats") {
    // Its rejections (with the event id and stream sequence) are logged by
    // the source loop, rate-limited per reason (take_rejections).
    liabilities::NatsOptions options = config_.run.nats.options;
    return std::make_unique<liabilities::NatsLiabilitySource>(std::move(options), admission);
  }
  throw std::logic_error("no liability source named " + name);
}

void EngineRuntime::stop() {
  if (!started_ || stopped_) {
    return;
  }
  stopped_ = true;
  spdlog::info("shutdown: stopping liability intake");
  sources_stop_.store(true);
  for (std::thread& thread : source_threads_) {
    thread.join();
  }
  spdlog::info("shutdown: blocking new orders, cancelling open orders");
  risk_->engage_kill_switch();
  // Each gateway cancels all, forwards the answers, logs out. The one-thread
  // hot path has no gateway or feed thread: it stops its stages itself, in
  // this order, once kernel_stop_ is set (run_hot_path).
  gateways_stop_.store(true);
  for (std::thread& thread : gateway_threads_) {
    thread.join();
  }
  feeds_stop_.store(true);
  for (std::thread& thread : feed_threads_) {
    thread.join();
  }
  kernel_stop_.store(true);
  kernel_wakeup_.notify();
  if (kernel_thread_.joinable()) {
    kernel_thread_.join();
  }
  // The hot path's intake closes its sockets now, as a source thread's does
  // when it ends (clients see the end at once, not after the summary).
  hot_path_sources_.clear();
  journal_stop_.store(true);
  if (journal_thread_.joinable()) {
    journal_thread_.join();
  }
  spdlog::info("shutdown: journal durable at sequence {}", journal_worker_->stats().durable_sequence.load());
}

void EngineRuntime::kill() {
  risk_->engage_kill_switch();
  for (const auto& channel : gateway_channels_) {
    channel->cancel_all_requested.store(true);
    channel->gateway_wakeup.notify();
  }
  kernel_wakeup_.notify(); // the one-thread hot path polls the gateways
  spdlog::warn("kill switch engaged: new orders blocked, open orders cancelled");
  if (transfer_worker_) {
    transfer_worker_->halt(); // no collateral moves either until /resume
  }
}

void EngineRuntime::resume() {
  risk_->resume();
  if (transfer_worker_) {
    transfer_worker_->resume();
  }
  spdlog::warn("kill switch released");
}

bool EngineRuntime::approve_transfer(std::uint64_t id) {
  if (!transfer_worker_) {
    return false;
  }
  transfer_worker_->approve(id);
  return true;
}

std::optional<std::string> EngineRuntime::transfers_json() const {
  if (!transfer_worker_) {
    return std::nullopt;
  }
  return transfer_worker_->listing_json();
}

std::optional<std::pair<int, std::string>> EngineRuntime::settle_transfer(std::uint64_t id, std::string_view body) {
  if (!transfer_worker_) {
    return std::nullopt;
  }
  TransferWorker::SettleAnswer answer = transfer_worker_->settle(id, body);
  return std::pair<int, std::string>{answer.status, std::move(answer.text)};
}

bool EngineRuntime::killed() const noexcept { return risk_->kill_switch_engaged(); }

std::uint64_t EngineRuntime::liability_events_lost() const noexcept {
  // Taken from a source but never made durable (after stop(): the journal
  // drained every queue, so anything left here was lost).
  std::uint64_t lost = 0;
  for (const auto& channel : liability_channels_) {
    const std::uint64_t taken = channel->submitted();
    const std::uint64_t durable = channel->durable.load();
    lost += taken > durable ? taken - durable : 0;
  }
  return lost;
}

void EngineRuntime::log_alerts() {
  hedging::TransferIntent transfer;
  while (!transfer_worker_ && transfers_->pop(transfer)) { // else the transfer thread is the queue's consumer
    spdlog::warn("collateral transfer {} requested: {} sats {} venue {}; no transfer executor is wired into "
                 "`synthusd run`: move it by hand (it stays pending until a restart)",
                 transfer.transfer_id, transfer.amount.value,
                 transfer.direction == hedging::TransferDirection::wallet_to_exchange ? "to" : "from", transfer.venue);
  }
  hedging::Alert alert;
  while (alerts_->pop(alert)) {
    spdlog::warn("kernel alert {}: {} {} {}", hedging::to_string(alert.code), alert.values[0], alert.values[1],
                 alert.values[2]);
  }
  for (std::size_t i = 0; i < gateway_channels_.size(); ++i) {
    fix::GatewayAlert gateway_alert;
    while (gateway_channels_[i]->alerts.pop(gateway_alert)) {
      spdlog::warn("gateway {} alert {}", config_.run.gateways[i].venue, fix::describe(gateway_alert));
    }
  }
}

} // namespace synthusd::engine::run
