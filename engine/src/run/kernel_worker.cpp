#include "kernel_worker.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "synthusd/engine/kernel_metrics.hpp"
#include "synthusd/hedging/band_policy.hpp"

namespace synthusd::engine::run {

namespace {

constexpr std::size_t kNoGateway = static_cast<std::size_t>(-1);
constexpr std::size_t kBurst = 64; // inputs taken from one queue before looking at the others

hedging::Price reference_price(const hedging::MarketUpdate& update) noexcept {
  if (update.mark.is_valid()) {
    return update.mark;
  }
  if (update.bid.is_valid() && update.ask.is_valid()) {
    return hedging::Price{(update.bid.raw + update.ask.raw) / 2};
  }
  return update.index;
}

} // namespace

KernelWorker::KernelWorker(KernelWorkerSetup setup)
    : setup_(std::move(setup)),
      index_(setup_.oracle, setup_.markets.size(), setup_.kernel.config(), setup_.index_price_raw),
      hash_(setup_.action_hash), next_sequence_(setup_.next_sequence), idler_(setup_.wait, setup_.wakeup) {
  for (const hedging::InstrumentSpec& spec : setup_.kernel.config().instruments) {
    if (spec.id >= ticks_.size()) {
      ticks_.resize(spec.id + 1U);
      touches_.resize(spec.id + 1U);
    }
    ticks_[spec.id] = spec.tick_size;
  }
  action_hash_value_.store(hash_.value());
  action_events_.store(hash_.events());
  last_sequence_.store(next_sequence_ - 1);
}

void KernelWorker::inject(const hedging::Event& event) { process(event, kNoSource, 0, Origin{}); }

bool KernelWorker::has_input() const noexcept {
  // A /metrics request counts: the HTTP thread notifies after asking, and a
  // request made between this thread's last look and its announced sleep
  // would otherwise wait for the idle timeout.
  if (local_count_ > 0 || (setup_.transfer_reports != nullptr && setup_.transfer_reports->read_available() > 0) ||
      metrics_.pending() != 0) {
    return true;
  }
  for (const GatewayChannel* gateway : setup_.gateways) {
    if (gateway->events.read_available() > 0) {
      return true;
    }
  }
  for (const MarketQueue* market : setup_.markets) {
    if (market->depth() > 0) {
      return true;
    }
  }
  for (const LiabilityChannel* channel : setup_.liabilities) {
    if (channel->queue.read_available() > 0) {
      return true;
    }
  }
  return false;
}

void KernelWorker::run(const std::atomic<bool>& stop) {
  begin();
  // A halted kernel still drains its queues (dropping what it takes) until
  // the stop, so that no producer waits on a full queue behind it.
  while (!stop.load(std::memory_order_acquire)) {
    if (!do_work()) {
      // Every producer (feeds, sources, gateways, /metrics) notifies the
      // event count after its push, so the timeout is only a backstop
      // besides the timer: 10 ms (100 idle wake-ups a second; with 1 ms it
      // was 1,000, each competing for the CPUs the order path needs).
      idler_.idle([this] { return has_input(); }, idle_timeout_ns());
    }
  }
  finish();
}

void KernelWorker::begin() { next_timer_ns_ = wall_ns(); }

bool KernelWorker::do_work() {
  const bool worked = drain_once();
  const std::int64_t now = wall_ns();
  if (now >= next_timer_ns_) {
    next_timer_ns_ = now + setup_.timer_interval_ns;
    process(hedging::Timer{hedging::Timestamp{now}}, kNoSource, 0, Origin{.wall_ns = now});
    publish_status();
  }
  maybe_snapshot();
  if (const std::uint64_t generation = metrics_.pending(); generation != 0) {
    serve_metrics(generation);
  }
  return worked;
}

std::int64_t KernelWorker::idle_timeout_ns() const noexcept {
  return std::clamp<std::int64_t>(next_timer_ns_ - wall_ns(), 0, 10'000'000);
}

void KernelWorker::finish() {
  // Stopping: whatever the sources and gateways already queued is still a
  // kernel input; journal it rather than leave it behind.
  while (drain_once()) {
  }
  publish_status();
}

bool KernelWorker::drain_once() {
  bool worked = false;
  while (local_count_ > 0) {
    const hedging::ClientOrderId id = local_rejects_[local_head_];
    local_head_ = (local_head_ + 1) % local_rejects_.size();
    --local_count_;
    hedging::ExecutionReport report;
    report.client_order_id = id;
    report.status = hedging::OrderStatus::rejected;
    report.time = setup_.kernel.now();
    process(report, kNoSource, 0, Origin{});
    worked = true;
  }
  for (GatewayChannel* gateway : setup_.gateways) {
    GatewayEvent item;
    for (std::size_t n = 0; n < kBurst && gateway->events.pop(item); ++n) {
      process(item.event, kNoSource, 0, Origin{});
      worked = true;
    }
  }
  for (std::size_t feed = 0; feed < setup_.markets.size(); ++feed) {
    hedging::MarketUpdate update;
    for (std::size_t n = 0; n < kBurst && setup_.markets[feed]->pop(update); ++n) {
      process(update, kNoSource, 0, Origin{.wall_ns = update.time.nanoseconds, .market = true, .feed = feed});
      worked = true;
    }
  }
  if (setup_.transfer_reports != nullptr) {
    TransferReport report;
    while (setup_.transfer_reports->pop(report)) {
      const hedging::Timestamp now = setup_.kernel.now();
      if (report.completed) {
        process(hedging::TransferCompleted{report.transfer_id, now}, kNoSource, 0, Origin{});
      } else {
        process(hedging::TransferFailed{report.transfer_id, now}, kNoSource, 0, Origin{});
      }
      worked = true;
    }
  }
  for (std::size_t source = 0; source < setup_.liabilities.size(); ++source) {
    LiabilityItem item;
    for (std::size_t n = 0; n < kBurst && setup_.liabilities[source]->queue.pop(item); ++n) {
      process(item.event, static_cast<std::uint16_t>(source), item.ticket,
              Origin{.wall_ns = item.handed_off_wall_ns,
                     .payment = std::holds_alternative<hedging::LiabilityChange>(item.event)},
              &item.payment_id);
      worked = true;
    }
  }
  return worked;
}

bool KernelWorker::push_to_journal(const JournalItem& item) noexcept {
  // The journal must not lose a record: wait for room (counted; it means
  // the disk is slower than the event rate), unless its thread is gone.
  while (!setup_.journal.push(item)) {
    stats_.journal_waits.fetch_add(1, std::memory_order_relaxed);
    if (setup_.journal.stopped()) {
      halt_without_journal(item.sequence);
      return false;
    }
    __builtin_ia32_pause();
  }
  return true;
}

void KernelWorker::halt_without_journal(std::uint64_t sequence) noexcept {
  halted_.store(true, std::memory_order_release);
  spdlog::critical("kernel: the journal thread has stopped, so input {} cannot be journaled; the kernel applies "
                   "nothing more (the engine shuts down)",
                   sequence);
}

void KernelWorker::process(const hedging::Event& event, std::uint16_t source, std::uint64_t ticket, Origin origin,
                           const liabilities::LiabilityId* payment_id) {
  if (halted_.load(std::memory_order_relaxed)) {
    return; // an input taken from its queue after the halt is not applied: nothing journaled it
  }
  if (setup_.journal.failed()) [[unlikely]] {
    halt_without_journal(next_sequence_);
    return;
  }
  const std::int64_t started = monotonic_ns();
  // One clock read: when the kernel thread took the input, and its origin
  // too unless it carries an earlier one (a tick's receive time).
  origin.dequeued_wall_ns = wall_ns();
  if (origin.wall_ns == 0) {
    origin.wall_ns = origin.dequeued_wall_ns;
  }
  JournalItem item;
  item.kind = JournalItem::Kind::event;
  item.event = event;
  item.source = source;
  item.ticket = ticket;
  item.sequence = next_sequence_++;
  if (payment_id != nullptr) {
    item.payment_id = *payment_id; // a fixed buffer: copied, never allocated
  }
  // Nothing is applied that is not journaled: with the journal thread gone
  // the kernel stops here (halted) and the engine shuts down.
  if (!push_to_journal(item)) {
    return;
  }
  last_sequence_.store(item.sequence, std::memory_order_relaxed);
  feed_risk(event);
  publish_index(event, origin);
  const std::span<const hedging::Action> actions = hedging::apply_input(setup_.kernel, setup_.ledger, event);
  hash_.add(actions);
  ++events_since_snapshot_;
  route(actions, origin);
  event_latency_.record(monotonic_ns() - started);
  status_.events.fetch_add(1, std::memory_order_relaxed);
}

void KernelWorker::feed_risk(const hedging::Event& event) noexcept {
  fix::PreTradeRisk& risk = setup_.risk;
  if (const auto* update = std::get_if<hedging::MarketUpdate>(&event)) {
    const hedging::Price price = reference_price(*update);
    if (price.is_valid()) {
      risk.on_reference_price(update->instrument, price, update->time);
    }
    if (update->instrument < touches_.size()) {
      touches_[update->instrument] = fix::Touch{update->bid, update->ask, price};
    }
  } else if (const auto* report = std::get_if<hedging::ExecutionReport>(&event)) {
    risk.on_execution(*report);
  } else if (const auto* position = std::get_if<hedging::PositionSnapshot>(&event)) {
    risk.on_position(position->instrument, position->position);
  } else if (const auto* status = std::get_if<hedging::VenueStatus>(&event)) {
    risk.on_session(status->venue, status->up);
  }
}

void KernelWorker::publish_index(const hedging::Event& event, Origin origin) noexcept {
  // The price the liability sources convert sats at: the oracle's, over
  // every feed (index_publisher.hpp). Injected inputs are not a feed's.
  if (const auto* update = std::get_if<hedging::MarketUpdate>(&event)) {
    if (origin.market) {
      index_.on_market(origin.feed, *update);
    }
  } else if (const auto* timer = std::get_if<hedging::Timer>(&event)) {
    index_.on_clock(timer->time);
  }
}

void KernelWorker::route(std::span<const hedging::Action> actions, Origin origin) {
  for (const hedging::Action& action : actions) {
    if (const auto* order = std::get_if<hedging::OrderIntent>(&action)) {
      route_order(*order, origin);
    } else if (const auto* cancel = std::get_if<hedging::CancelIntent>(&action)) {
      if (setup_.risk.check_cancel(*cancel, setup_.kernel.now()) != fix::RiskReject::none) {
        stats_.risk_rejects.fetch_add(1, std::memory_order_relaxed);
        continue; // the kernel asks again after its timeout
      }
      const std::size_t index =
          cancel->venue < setup_.gateway_by_venue.size() ? setup_.gateway_by_venue[cancel->venue] : kNoGateway;
      if (index == kNoGateway) {
        continue;
      }
      GatewayCommand command;
      command.kind = GatewayCommand::Kind::cancel;
      command.cancel = *cancel;
      command.origin_wall_ns = origin.wall_ns;
      if (!setup_.gateways[index]->commands.push(command)) {
        stats_.gateway_full.fetch_add(1, std::memory_order_relaxed);
      } else {
        setup_.gateways[index]->gateway_wakeup.notify();
      }
    } else if (const auto* transfer = std::get_if<hedging::TransferIntent>(&action)) {
      // With [transfers] enabled the transfer thread carries it out and
      // reports back (transfer_reports); otherwise the request is logged for
      // the operator and stays pending in the kernel (which asks for no
      // other transfer on that venue meanwhile). The kernel asks for one
      // transfer per venue at a time, so the queue (64) cannot fill while
      // its consumer runs.
      if (setup_.transfer_reports == nullptr) {
        stats_.transfers_unexecuted.fetch_add(1, std::memory_order_relaxed);
      }
      if (!setup_.transfers.push(*transfer)) {
        stats_.alerts_dropped.fetch_add(1, std::memory_order_relaxed);
      }
    } else if (const auto* alert = std::get_if<hedging::Alert>(&action)) {
      if (!setup_.alerts.push(*alert)) {
        stats_.alerts_dropped.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
}

void KernelWorker::route_order(const hedging::OrderIntent& order, Origin origin) {
  const std::size_t index =
      order.venue < setup_.gateway_by_venue.size() ? setup_.gateway_by_venue[order.venue] : kNoGateway;
  if (index == kNoGateway) {
    stats_.no_gateway.fetch_add(1, std::memory_order_relaxed);
    reject_locally(order.client_order_id);
    return;
  }
  // The venue's order type: a market intent becomes a collared limit IOC
  // (or post-only at the touch); risk then checks what is actually sent. No
  // price to bound it: not sent, and the kernel retries after its delay.
  static const fix::ExecutionOptions kDefaultExecution{};
  const fix::ExecutionOptions& execution =
      order.venue < setup_.execution_by_venue.size() ? setup_.execution_by_venue[order.venue] : kDefaultExecution;
  const fix::Touch touch = order.instrument < touches_.size() ? touches_[order.instrument] : fix::Touch{};
  const hedging::Price tick = order.instrument < ticks_.size() ? ticks_[order.instrument] : hedging::Price{};
  const std::optional<fix::ShapedOrder> shaped = fix::shape_order(order, touch, tick, execution);
  if (!shaped) {
    stats_.orders_unpriced.fetch_add(1, std::memory_order_relaxed);
    reject_locally(order.client_order_id);
    return;
  }
  if (setup_.risk.check_order(shaped->intent, setup_.kernel.now()) != fix::RiskReject::none) {
    stats_.risk_rejects.fetch_add(1, std::memory_order_relaxed);
    reject_locally(order.client_order_id);
    return;
  }
  GatewayCommand command;
  command.kind = GatewayCommand::Kind::order;
  command.order = shaped->intent;
  command.time_in_force = shaped->time_in_force;
  command.post_only = shaped->post_only;
  command.taker_limit_price = shaped->taker_limit_price;
  command.origin_wall_ns = origin.wall_ns;
  command.dequeued_wall_ns = origin.dequeued_wall_ns;
  command.caused_by_market = origin.market;
  command.caused_by_payment = origin.payment;
  if (!setup_.gateways[index]->commands.push(command)) {
    stats_.gateway_full.fetch_add(1, std::memory_order_relaxed);
    setup_.risk.on_send_failed(order.client_order_id);
    reject_locally(order.client_order_id);
    return;
  }
  setup_.gateways[index]->gateway_wakeup.notify();
  status_.orders.fetch_add(1, std::memory_order_relaxed);
}

void KernelWorker::reject_locally(hedging::ClientOrderId id) {
  if (local_count_ == local_rejects_.size()) {
    // Cannot happen while the kernel's order table is smaller than the ring;
    // the kernel's unanswered-order timeout would still recover it.
    stats_.local_inputs_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  local_rejects_[(local_head_ + local_count_) % local_rejects_.size()] = id;
  ++local_count_;
}

void KernelWorker::publish_status() noexcept {
  const hedging::Kernel& kernel = setup_.kernel;
  const hedging::LedgerFigures figures = setup_.ledger.figures(kernel);
  hedging::Sats collateral{};
  std::uint32_t venues_up = 0;
  for (const hedging::VenueState& venue : kernel.venues()) {
    collateral = collateral + venue.collateral;
    venues_up += venue.up ? 1U : 0U;
  }
  std::uint32_t guards = 0;
  for (const hedging::SlotState& slot : kernel.slots()) {
    guards += slot.funding_guard_engaged ? 1U : 0U;
  }
  constexpr auto relaxed = std::memory_order_relaxed;
  status_.index_price_raw.store(figures.index.raw, relaxed);
  status_.liability_cents.store(figures.liability.value, relaxed);
  status_.venue_hedge_cents.store(kernel.venue_hedge().value, relaxed);
  status_.hedge_exposure_cents.store(kernel.liability_hedge_exposure().value, relaxed);
  status_.hedge_ratio_raw.store(figures.hedge_ratio.raw, relaxed);
  status_.collateral_sats.store(collateral.value, relaxed);
  status_.max_deviation_raw.store(figures.max_deviation.raw, relaxed);
  status_.liability_events.store(figures.liability_events, relaxed);
  status_.fills.store(figures.fills, relaxed);
  status_.filled_contracts.store(figures.filled_contracts, relaxed);
  status_.fees_sats.store(figures.fees.value, relaxed);
  status_.funding_sats.store(figures.funding.value, relaxed);
  status_.backing_sats.store(figures.backing.value, relaxed);
  status_.hedge_pnl_sats.store(figures.hedge_pnl.value, relaxed);
  status_.usd_value_cents.store(figures.held_value.value, relaxed);
  status_.backing_value_cents.store(figures.backing_value.value, relaxed);
  status_.ledger_digest.store(setup_.ledger.state_digest(), relaxed);
  status_.ledger_overflowed.store(figures.overflowed, relaxed);
  status_.open_orders.store(kernel.open_orders(), relaxed);
  status_.within_band.store(figures.within_band, relaxed);
  status_.venues_up.store(venues_up, relaxed);
  status_.venues.store(static_cast<std::uint32_t>(kernel.venues().size()), relaxed);
  status_.funding_guards_engaged.store(guards, relaxed);
  status_.provider_interest_cents.store(kernel.provider_interest().value, relaxed);
  action_hash_value_.store(hash_.value(), relaxed);
  action_events_.store(hash_.events(), relaxed);
}

void KernelWorker::maybe_snapshot() {
  if (halted() || events_since_snapshot_ < setup_.snapshot_every_events ||
      setup_.snapshot.busy.load(std::memory_order_acquire)) {
    return;
  }
  // Cold: every snapshot_every_events inputs. The buffer keeps its capacity,
  // so after the first snapshot this does not allocate.
  SnapshotHandoff& snapshot = setup_.snapshot;
  setup_.kernel.write_snapshot(snapshot.bytes);
  setup_.ledger.write_snapshot(snapshot.ledger_bytes);
  snapshot.sequence = next_sequence_ - 1;
  snapshot.config_digest = setup_.kernel.config_digest();
  snapshot.state_digest = setup_.kernel.state_digest();
  snapshot.action_hash = hash_.value();
  snapshot.action_events = hash_.events();
  snapshot.busy.store(true, std::memory_order_release);
  JournalItem item;
  item.kind = JournalItem::Kind::snapshot;
  item.sequence = snapshot.sequence;
  if (!push_to_journal(item)) {
    snapshot.busy.store(false, std::memory_order_release);
    return;
  }
  events_since_snapshot_ = 0;
}

void KernelWorker::serve_metrics(std::uint64_t generation) {
  // Cold: only when an operator scrapes /metrics.
  using Type = PrometheusText::Type;
  PrometheusText out;
  write_kernel_metrics(setup_.kernel, out);
  index_.write_metrics(out);
  out.family("synthusd_risk_rejects_total", Type::counter, "orders and cancels refused by pre-trade risk, by reason");
  for (std::size_t i = 1; i < fix::kRiskRejectCount; ++i) {
    const auto reason = static_cast<fix::RiskReject>(i);
    out.sample(setup_.risk.rejects(reason), {{"reason", fix::to_string(reason)}});
  }
  out.family("synthusd_orders_unpriced_total", Type::counter,
             "orders not sent: no reference price (or touch, for post-only) to bound them");
  out.sample(stats_.orders_unpriced.load(std::memory_order_relaxed));
  out.family("synthusd_queue_depth", Type::gauge, "items waiting in each queue into the kernel thread");
  for (std::size_t i = 0; i < setup_.markets.size(); ++i) {
    out.sample(std::uint64_t{setup_.markets[i]->depth()}, {{"queue", "market"}, {"index", std::to_string(i)}});
  }
  for (std::size_t i = 0; i < setup_.liabilities.size(); ++i) {
    out.sample(std::uint64_t{setup_.liabilities[i]->queue.read_available()},
               {{"queue", "liability"}, {"index", std::to_string(i)}});
  }
  for (std::size_t i = 0; i < setup_.gateways.size(); ++i) {
    out.sample(std::uint64_t{setup_.gateways[i]->events.read_available()},
               {{"queue", "gateway_events"}, {"index", std::to_string(i)}});
  }
  out.sample(std::uint64_t{setup_.journal.depth(next_sequence_ - 1)}, {{"queue", "journal"}, {"index", "0"}});
  out.family("synthusd_market_updates_conflated_total", Type::counter,
             "market updates replaced by a newer one before the kernel saw them");
  for (std::size_t i = 0; i < setup_.markets.size(); ++i) {
    out.sample(std::uint64_t{setup_.markets[i]->conflated()}, {{"index", std::to_string(i)}});
  }
  out.counter("synthusd_kernel_journal_waits_total", "times the kernel thread waited for room in the journal queue",
              stats_.journal_waits.load());
  out.counter("synthusd_orders_dropped_gateway_queue_full_total", "orders rejected because the gateway queue was full",
              stats_.gateway_full.load());
  out.counter("synthusd_orders_without_gateway_total", "orders for a venue with no gateway configured",
              stats_.no_gateway.load());
  out.counter("synthusd_transfers_unexecuted_total",
              "collateral transfers the kernel asked for and no executor carried out",
              stats_.transfers_unexecuted.load());
  out.counter("synthusd_alerts_dropped_total", "kernel alerts lost because the log queue was full",
              stats_.alerts_dropped.load());
  out.counter("synthusd_hot_path_wakeup_failures_total",
              "one-thread hot path: polls of its wake-up eventfd that failed (wake-ups then wait up to 2 ms)",
              stats_.hot_path_wakeup_failures.load());
  out.counter("synthusd_journal_records_total", "records written to the journal",
              setup_.journal.stats().records.load());
  out.counter("synthusd_journal_commits_total", "group commits (fdatasync) of the journal",
              setup_.journal.stats().commits.load());
  out.counter("synthusd_snapshots_total", "kernel state snapshots written", setup_.journal.stats().snapshots.load());
  // The backing ledger: what is held for the customers, at the index.
  const hedging::LedgerFigures figures = setup_.ledger.figures(setup_.kernel);
  out.gauge("synthusd_customers_usd_value_cents",
            "USD value held for the customers (backing + hedge P&L - fees + funding) at the index, in cents",
            figures.held_value.value);
  out.gauge("synthusd_backing_sats", "BTC taken in for the customers' dollars, in sats", figures.backing.value);
  out.gauge("synthusd_hedge_pnl_sats", "the hedge's P&L at the index, in sats", figures.hedge_pnl.value);
  out.gauge("synthusd_fees_sats", "taker-fee estimate of every fill, in sats", figures.fees.value);
  out.gauge("synthusd_funding_sats", "funding received (> 0) or paid, in sats", figures.funding.value);
  out.family("synthusd_max_hedge_deviation", Type::gauge, "largest |1 - hedge ratio| over every sample once hedged");
  out.sample(static_cast<double>(figures.max_deviation.raw) / hedging::Ratio::kScale);
  out.gauge("synthusd_ledger_overflowed", "1 when a ledger figure saturated (figures unreliable)",
            figures.overflowed ? 1 : 0);
  event_latency_.render(out, "synthusd_kernel_event_seconds", "time from dequeue to routed actions per input");
  setup_.order_latency.tick_to_order.render(out, "synthusd_tick_to_order_seconds",
                                            "tick parsed by its feed thread to order handed to FIX (tick-caused "
                                            "orders; TLS, WebSocket and parse time not included)");
  setup_.order_latency.payment_to_order.render(out, "synthusd_payment_to_order_seconds",
                                               "payment handed off by its liability source (read, parsed, admitted) "
                                               "to order handed to FIX (payment-caused orders)");
  setup_.order_latency.event_to_order.render(out, "synthusd_event_to_order_seconds",
                                             "kernel input taken to order handed to FIX (every order)");
  setup_.order_latency.order_to_acknowledgement.render(
      out, "synthusd_order_to_acknowledgement_seconds",
      "order handed to FIX to the venue's first report of it (accepted, filled or rejected)");
  metrics_.answer(generation, out.take());
}

} // namespace synthusd::engine::run
