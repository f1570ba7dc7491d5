#include "gateway_worker.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "synthusd/fix/credentials.hpp"

namespace synthusd::engine::run {

namespace {
constexpr std::int64_t kReconcileTimeoutNs = 3'000'000'000; // no position report: trust the venue is flat
}

fix::GatewayConfig make_gateway_config(const GatewaySection& section, const hedging::KernelConfig& kernel,
                                       const std::string& state_directory) {
  fix::GatewayConfig config;
  config.dialect = section.dialect;
  // parse_config() reported a venue the kernel does not have (check-config);
  // here one is a bug of whoever built the section.
  const hedging::VenueConfig* venue = nullptr;
  for (const hedging::VenueConfig& candidate : kernel.venues) {
    if (candidate.name == section.venue) {
      venue = &candidate;
    }
  }
  if (venue == nullptr) {
    throw std::logic_error("gateways: no venue named '" + section.venue + "' (parse_config checks this)");
  }
  config.venue = venue->id;
  config.sender_comp_id = section.sender_comp_id;
  config.target_comp_id = section.target_comp_id;
  config.host = section.host;
  config.port = section.port;
  config.heartbeat_interval_seconds = section.heartbeat_seconds;
  config.reconnect_interval_seconds = section.reconnect_seconds;
  config.reset_sequence_numbers_on_logon = section.reset_on_logon;
  if (!section.credentials_file.empty()) {
    config.credentials = fix::load_credentials_from_file(section.credentials_file);
  } else if (std::getenv(fix::kDefaultClientIdVariable) != nullptr) {
    config.credentials = fix::load_credentials_from_environment();
  }
  const std::string directory = state_directory + "/fix/" + section.venue;
  std::filesystem::create_directories(directory);
  config.file_store = section.file_store;
  config.store_directory = directory + "/store";
  config.client_order_id_path = directory + "/client_order_id";
  if (section.log_messages) {
    config.message_log_path = directory + "/messages.log";
  }
  config.position_request_interval_seconds = section.position_request_seconds;
  // Collateral requests: CollateralInquiry (generic) or, for Deribit, User
  // Request BE / User Response BF; on unless the gateway section says not.
  config.collateral_inquiry_supported = section.collateral_inquiry != 0;
  config.collateral_request_interval_seconds = section.collateral_request_seconds;
  for (const hedging::InstrumentSpec& spec : kernel.instruments) {
    if (spec.venue == venue->id) {
      config.instruments.push_back(fix::gateway_instrument(spec, config.dialect));
    }
  }
  return config;
}

GatewayWorker::GatewayWorker(fix::GatewayConfig config, GatewayChannel& channel, OrderLatency& latency, WaitMode wait,
                             EventCount& kernel_wakeup, fix::ExecutionOptions execution)
    : channel_(channel), latency_(latency), kernel_wakeup_(kernel_wakeup), idler_(wait, channel.gateway_wakeup),
      venue_(config.venue), execution_(execution) {
  gateway_ = std::make_unique<fix::OrderGateway>(std::move(config), *this);
}

void GatewayWorker::forward(const hedging::Event& event) {
  // Execution reports must never be lost: wait for room (counted). On the
  // one-thread hot path the kernel that makes room runs on this thread: it
  // is asked to drain (make_room_), or this would wait forever.
  while (!channel_.events.push(GatewayEvent{event})) {
    channel_.events_full.fetch_add(1, std::memory_order_relaxed);
    if (make_room_ != nullptr) {
      make_room_(make_room_context_);
    } else {
      __builtin_ia32_pause();
    }
  }
  kernel_wakeup_.notify();
}

void GatewayWorker::on_event(const hedging::Event& event) {
  if (const auto* status = std::get_if<hedging::VenueStatus>(&event)) {
    channel_.logged_on.store(status->up, std::memory_order_relaxed);
    if (status->up) {
      logon_pending_ = true;
      awaiting_reconciliation_ = true;
      awaiting_since_ns_ = monotonic_ns();
      held_up_ = *status;
      return; // told to the kernel once the positions are in
    }
    awaiting_reconciliation_ = false;
    channel_.reconciled.store(false, std::memory_order_relaxed);
    channel_.reconcile_overdue.store(false, std::memory_order_relaxed);
    forward(event);
    return;
  }
  if (const auto* report = std::get_if<hedging::ExecutionReport>(&event)) {
    SentOrder& sent = sent_[report->client_order_id % sent_.size()];
    if (sent.id == report->client_order_id && sent.id != 0) {
      latency_.order_to_acknowledgement.record(monotonic_ns() - sent.sent_ns);
      sent.id = 0;
    }
    if (report->status != hedging::OrderStatus::rejected) {
      consecutive_rejects_ = 0; // the venue takes orders again
    }
    if (report->status == hedging::OrderStatus::filled || report->status == hedging::OrderStatus::canceled ||
        report->status == hedging::OrderStatus::rejected) {
      for (PassiveOrder& passive : passive_) {
        if (passive.id == report->client_order_id) {
          passive = PassiveOrder{};
        }
      }
    }
  }
  forward(event);
  if (std::holds_alternative<hedging::PositionSnapshot>(event) && channel_.logged_on.load(std::memory_order_relaxed)) {
    // Only a position report reconciles, however late it comes.
    channel_.reconciled.store(true, std::memory_order_relaxed);
    channel_.reconcile_overdue.store(false, std::memory_order_relaxed);
    if (awaiting_reconciliation_) {
      awaiting_reconciliation_ = false;
      forward(held_up_);
    }
  }
}

void GatewayWorker::on_alert(const fix::GatewayAlert& alert) {
  if (!channel_.alerts.push(alert)) {
    channel_.alerts_dropped.fetch_add(1, std::memory_order_relaxed);
  }
}

// A venue reject: counted by reason, alerted with it, and the venue gets no
// order for a doubling wait (reject_backoff), so a venue that refuses every
// order (an order type it does not take, margin) is not hammered once a
// second forever. Any accepted or filled report ends the streak.
void GatewayWorker::on_venue_reject(const fix::ExecutionEvent& event) {
  ++consecutive_rejects_;
  const hedging::Duration wait = fix::reject_backoff(execution_, consecutive_rejects_);
  backoff_until_ns_ = monotonic_ns() + wait.nanoseconds;
  std::string reason = event.text.str();
  if (reason.empty()) {
    reason = event.exec_type != 0 ? "no text (ExecType " + std::string(1, event.exec_type) + ")" : "no text";
  }
  count_reject_reason(reason);
  for (PassiveOrder& passive : passive_) {
    if (passive.id == event.user_order_id) {
      set_taker_next(passive.instrument, true); // a post-only refused (it would take): the next one takes
    }
  }
  fix::GatewayAlert alert;
  alert.kind = fix::AlertKind::venue_reject;
  alert.receive_time_ns = event.receive_time_ns;
  alert.user_order_id = event.user_order_id;
  alert.client_order_id = event.client_order_id;
  alert.venue_order_id = event.venue_order_id;
  alert.exec_type = event.exec_type;
  alert.order_status = event.order_status;
  alert.text.assign(reason + "; " + std::to_string(consecutive_rejects_) + " in a row, no order to this venue for " +
                    std::to_string(wait.nanoseconds / 1'000'000) + " ms");
  on_alert(alert);
}

void GatewayWorker::count_reject_reason(const std::string& reason) {
  auto& slots = channel_.venue_rejects;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    auto& slot = slots[i];
    const bool last = i + 1 == slots.size();
    if (slot.count.load(std::memory_order_relaxed) == 0) {
      // Claim: text first, then the count (release) that publishes it.
      std::snprintf(slot.text, sizeof slot.text, "%s", last ? "other reasons" : reason.c_str());
      slot.count.store(1, std::memory_order_release);
      return;
    }
    if (last || std::strncmp(slot.text, reason.c_str(), sizeof slot.text - 1) == 0) {
      slot.count.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
}

bool GatewayWorker::taker_next(hedging::InstrumentId instrument) const noexcept {
  return instrument < taker_next_.size() && taker_next_[instrument];
}

void GatewayWorker::set_taker_next(hedging::InstrumentId instrument, bool value) noexcept {
  if (instrument < taker_next_.size()) {
    taker_next_[instrument] = value;
  }
}

// Refused here, never sent: the kernel hears "rejected" at once, so it
// releases the order's quantity and asks again after its reject delay.
void GatewayWorker::refuse_locally(hedging::ClientOrderId id) {
  forward(hedging::ExecutionReport{
      .client_order_id = id,
      .status = hedging::OrderStatus::rejected,
      .last_quantity = hedging::Contracts{0},
      .last_price = hedging::Price{0},
      .time = hedging::Timestamp{wall_ns()},
  });
}

void GatewayWorker::handle_command(const GatewayCommand& command) {
  if (command.kind == GatewayCommand::Kind::cancel) {
    (void)gateway_->submit(command.cancel);
    return;
  }
  if (monotonic_ns() < backoff_until_ns_) {
    channel_.orders_held_by_backoff.fetch_add(1, std::memory_order_relaxed);
    refuse_locally(command.order.client_order_id);
    return;
  }
  hedging::OrderIntent order = command.order;
  fix::TimeInForce time_in_force = command.time_in_force;
  bool post_only = command.post_only;
  if (order.type == hedging::OrderType::market) {
    order.limit_price = command.taker_limit_price; // Deribit's required Price(44): the collar price
  }
  if (post_only && taker_next(order.instrument) && command.taker_limit_price.is_valid()) {
    // The last post-only order on this instrument did not complete in time
    // (or was refused for taking): this one takes, inside the collar.
    order.limit_price = command.taker_limit_price;
    time_in_force = fix::TimeInForce::immediate_or_cancel;
    post_only = false;
    set_taker_next(order.instrument, false);
    channel_.post_only_fallbacks.fetch_add(1, std::memory_order_relaxed);
  }
  const fix::SubmitResult result = gateway_->submit(order, time_in_force, post_only);
  if (result == fix::SubmitResult::sent) {
    sent_[order.client_order_id % sent_.size()] = SentOrder{order.client_order_id, monotonic_ns()};
    if (post_only && !order.passive) { // the kernel itself cancels its own passive orders
      for (PassiveOrder& passive : passive_) {
        if (passive.id == 0) {
          passive = PassiveOrder{order.client_order_id, order.instrument,
                                 monotonic_ns() + execution_.post_only_wait.nanoseconds, false};
          break;
        }
      }
      // A full table (64 resting post-only orders) leaves the order to the
      // kernel's own unanswered-order cancel.
    }
    channel_.orders_sent.fetch_add(1, std::memory_order_relaxed);
    if (command.origin_wall_ns > 0) {
      const std::int64_t now = wall_ns();
      latency_.event_to_order.record(now - command.dequeued_wall_ns);
      if (command.caused_by_market) {
        latency_.tick_to_order.record(now - command.origin_wall_ns);
      }
      if (command.caused_by_payment) {
        latency_.payment_to_order.record(now - command.origin_wall_ns);
      }
    }
  } else {
    channel_.orders_refused.fetch_add(1, std::memory_order_relaxed); // the gateway delivered a reject
  }
}

void GatewayWorker::after_poll() {
  // Off the order path: the next ClOrdID block (file write and fsyncs) and
  // order table nodes are reserved here, before an order would wait for them.
  if (channel_.commands.read_available() == 0) {
    (void)gateway_->session().reserve_ahead();
  }
  if (logon_pending_) {
    logon_pending_ = false;
    (void)gateway_->cancel_all();
    channel_.cancel_all_sent.fetch_add(1, std::memory_order_relaxed);
  }
  if (awaiting_reconciliation_ && monotonic_ns() - awaiting_since_ns_ > kReconcileTimeoutNs) {
    // Not "reconciled": that comes only from a position report (the gateway
    // keeps asking). Trading resumes on the kernel's own positions, which the
    // journal rebuilt, and /health stays degraded until the venue answers.
    spdlog::warn("gateway {} alert positions_unreconciled: no position report within 3 s of logon; trading with "
                 "the kernel's positions until the venue answers a RequestForPositions",
                 venue_);
    awaiting_reconciliation_ = false;
    channel_.reconcile_overdue.store(true, std::memory_order_relaxed);
    forward(held_up_);
  }
  const std::int64_t now = monotonic_ns();
  if (now >= next_counter_copy_ns_) {
    next_counter_copy_ns_ = now + 100'000'000;
    const fix::GatewayCounters counters = gateway_->session().counters();
    constexpr auto relaxed = std::memory_order_relaxed;
    channel_.duplicate_reports.store(counters.duplicate_execution_reports, relaxed);
    channel_.exec_ids_reused.store(counters.exec_ids_reused, relaxed);
    channel_.resends_suppressed.store(counters.application_resends_suppressed, relaxed);
    channel_.unknown_order_reports.store(counters.unknown_orders, relaxed);
    channel_.late_reports.store(counters.late_reports, relaxed);
    channel_.logon_failures.store(counters.logon_failures, relaxed);
    channel_.queries_deferred_for_credits.store(counters.requests_deferred_for_credits, relaxed);
  }
  for (PassiveOrder& passive : passive_) {
    if (passive.id != 0 && !passive.cancel_sent && now >= passive.deadline_ns) {
      // Out of patience: cancel; what it filled stays filled, the kernel
      // re-decides on the cancel and its next order here takes.
      passive.cancel_sent = true;
      set_taker_next(passive.instrument, true);
      (void)gateway_->submit(hedging::CancelIntent{passive.id, venue_});
    }
  }
  if (channel_.cancel_all_requested.exchange(false, std::memory_order_acq_rel)) {
    (void)gateway_->cancel_all();
    channel_.cancel_all_sent.fetch_add(1, std::memory_order_relaxed);
  }
}

void GatewayWorker::run(const std::atomic<bool>& stop, int drain_ms) {
  start(channel_.gateway_wakeup);
  while (!stop.load(std::memory_order_acquire)) {
    if (!do_work()) {
      // Commands and QuickFIX's reports both notify the event count; the
      // timeout only paces after_poll()'s timers (post-only patience,
      // reconciliation, counters), which are milliseconds and more.
      idler_.idle([this] { return has_work(); }, kIdleTimeoutNs);
    }
  }
  // Shutdown: cancel what is open, forward the answers, then log out.
  begin_shutdown();
  const auto drain_until = [this](std::int64_t deadline, auto done) {
    while (monotonic_ns() < deadline && !done()) {
      if (!drain_step()) {
        idler_.idle([] { return false; }, 1'000'000);
      }
    }
  };
  drain_until(monotonic_ns() + static_cast<std::int64_t>(drain_ms) * 1'000'000, [] { return false; });
  begin_logout();
  drain_until(monotonic_ns() + kLogoutWaitNs, [this] { return logged_out(); });
  stop_session();
}

void GatewayWorker::start(EventCount& inbound_wakeup) {
  // QuickFIX's thread wakes the thread that polls the gateway for every
  // report it queues, so its idle wait needs no short timeout to notice them.
  gateway_->session().set_inbound_notifier([](void* wakeup) { static_cast<EventCount*>(wakeup)->notify(); },
                                           &inbound_wakeup);
  gateway_->start();
}

bool GatewayWorker::do_work() {
  bool worked = false;
  GatewayCommand command;
  while (channel_.commands.pop(command)) {
    handle_command(command);
    worked = true;
  }
  worked = gateway_->poll(256) > 0 || worked;
  after_poll();
  return worked;
}

bool GatewayWorker::has_work() const noexcept {
  return channel_.commands.read_available() > 0 || gateway_->session().has_inbound() ||
         channel_.cancel_all_requested.load(std::memory_order_relaxed);
}

void GatewayWorker::begin_shutdown() {
  if (gateway_->logged_on()) {
    (void)gateway_->cancel_all();
  }
}

bool GatewayWorker::drain_step() {
  GatewayCommand command;
  while (channel_.commands.pop(command)) {
    if (command.kind == GatewayCommand::Kind::cancel) {
      handle_command(command);
    }
  }
  return gateway_->poll(256) > 0;
}

void GatewayWorker::begin_logout() { (void)gateway_->begin_logout(); }

bool GatewayWorker::logged_out() const { return !gateway_->logged_on(); }

void GatewayWorker::stop_session() {
  gateway_->stop(0);
  (void)gateway_->poll();
}

} // namespace synthusd::engine::run
