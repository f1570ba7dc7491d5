// What the runtime shows on the ops HTTP endpoints: the /metrics page (the
// kernel thread's part plus the I/O stages' counters) and /health's problems.
// Read from the HTTP thread: only atomics and the kernel's metrics exchange.
#include "engine_runtime.hpp"

#include <string>

namespace synthusd::engine::run {

std::string EngineRuntime::metrics_text() {
  // The kernel thread answers within its idle wait (1 ms) unless it is
  // stalled; 2 s says it is, and a stalled kernel costs the HTTP thread that
  // wait once, not on every scrape (MetricsExchange::request).
  const std::optional<std::string> text = kernel_worker_->metrics().request(kernel_wakeup_, std::chrono::seconds(2));
  using Type = PrometheusText::Type;
  PrometheusText out;
  if (!text) {
    out.comment("the kernel thread has not answered (stalled for 2 s or more): its part of the page is missing");
  } else {
    out.append_written(*text);
  }
  const auto per_feed = [&](std::string_view name, Type type, std::string_view help, auto value_of) {
    out.family(name, type, help);
    for (std::size_t i = 0; i < feed_status_.size(); ++i) {
      out.sample(value_of(*feed_status_[i]), {{"feed", feed_plans_[i].name}});
    }
  };
  per_feed("synthusd_feed_up", Type::gauge, "1 while the feed's WebSocket session is open",
           [](const FeedStatus& feed) { return std::uint64_t{feed.open.load() ? 1U : 0U}; });
  per_feed("synthusd_feed_messages_total", Type::counter, "messages received from the feed",
           [](const FeedStatus& feed) { return std::uint64_t{feed.messages.load()}; });
  per_feed("synthusd_feed_malformed_total", Type::counter, "feed messages the parser refused",
           [](const FeedStatus& feed) { return std::uint64_t{feed.malformed.load()}; });
  per_feed("synthusd_feed_reconnects_total", Type::counter, "feed reconnections",
           [](const FeedStatus& feed) { return std::uint64_t{feed.reconnects.load()}; });
  per_feed("synthusd_feed_gaps_total", Type::counter, "sequence gaps seen in the feed's book updates",
           [](const FeedStatus& feed) { return std::uint64_t{feed.gaps.load()}; });
  const auto per_gateway = [&](std::string_view name, Type type, std::string_view help, auto value_of) {
    out.family(name, type, help);
    for (std::size_t i = 0; i < gateway_channels_.size(); ++i) {
      out.sample(value_of(*gateway_channels_[i]), {{"venue", config_.run.gateways[i].venue}});
    }
  };
  per_gateway("synthusd_gateway_logged_on", Type::gauge, "1 while the FIX session is logged on",
              [](const GatewayChannel& channel) { return std::uint64_t{channel.logged_on.load() ? 1U : 0U}; });
  per_gateway("synthusd_gateway_reconciled", Type::gauge, "1 once the venue's positions were reconciled",
              [](const GatewayChannel& channel) { return std::uint64_t{channel.reconciled.load() ? 1U : 0U}; });
  per_gateway("synthusd_gateway_orders_sent_total", Type::counter, "orders sent to the venue",
              [](const GatewayChannel& channel) { return std::uint64_t{channel.orders_sent.load()}; });
  per_gateway("synthusd_gateway_orders_refused_total", Type::counter, "orders the gateway could not send",
              [](const GatewayChannel& channel) { return std::uint64_t{channel.orders_refused.load()}; });
  per_gateway("synthusd_gateway_cancel_all_total", Type::counter, "cancel-all requests sent",
              [](const GatewayChannel& channel) { return std::uint64_t{channel.cancel_all_sent.load()}; });
  per_gateway("synthusd_gateway_event_queue_full_total", Type::counter,
              "venue events that found the queue into the kernel full",
              [](const GatewayChannel& channel) { return std::uint64_t{channel.events_full.load()}; });
  per_gateway("synthusd_gateway_alerts_dropped_total", Type::counter, "gateway alerts lost to a full log queue",
              [](const GatewayChannel& channel) { return std::uint64_t{channel.alerts_dropped.load()}; });
  per_gateway("synthusd_gateway_reconcile_overdue", Type::gauge,
              "1 when no position report came within the wait after logon (trading on the kernel's positions)",
              [](const GatewayChannel& channel) { return std::uint64_t{channel.reconcile_overdue.load() ? 1U : 0U}; });
  per_gateway("synthusd_gateway_duplicate_reports_total", Type::counter,
              "execution reports dropped as the same order and ExecID again",
              [](const GatewayChannel& channel) { return std::uint64_t{channel.duplicate_reports.load()}; });
  per_gateway("synthusd_gateway_exec_ids_reused_total", Type::counter,
              "execution reports whose ExecID was seen on another order (booked, alerted)",
              [](const GatewayChannel& channel) { return std::uint64_t{channel.exec_ids_reused.load()}; });
  per_gateway("synthusd_gateway_resends_suppressed_total", Type::counter,
              "NewOrderSingles the venue asked for again: gap-filled, never re-sent",
              [](const GatewayChannel& channel) { return std::uint64_t{channel.resends_suppressed.load()}; });
  per_gateway("synthusd_gateway_unknown_order_reports_total", Type::counter,
              "execution reports for orders this gateway did not send (a position request follows)",
              [](const GatewayChannel& channel) { return std::uint64_t{channel.unknown_order_reports.load()}; });
  per_gateway("synthusd_gateway_late_reports_total", Type::counter, "reports for orders already done, no new fill",
              [](const GatewayChannel& channel) { return std::uint64_t{channel.late_reports.load()}; });
  per_gateway("synthusd_gateway_logon_failures_total", Type::counter, "sessions that ended before logon completed",
              [](const GatewayChannel& channel) { return std::uint64_t{channel.logon_failures.load()}; });
  per_gateway("synthusd_gateway_queries_deferred_for_credits_total", Type::counter,
              "AN, BE, AF held back until the venue's request credits refill (then sent)",
              [](const GatewayChannel& channel) { return std::uint64_t{channel.queries_deferred_for_credits.load()}; });
  per_gateway("synthusd_gateway_orders_held_by_backoff_total", Type::counter,
              "orders refused locally while backing off after consecutive venue rejects",
              [](const GatewayChannel& channel) { return std::uint64_t{channel.orders_held_by_backoff.load()}; });
  per_gateway("synthusd_gateway_post_only_fallbacks_total", Type::counter,
              "orders sent as collared limit IOC after a post-only order did not complete in time",
              [](const GatewayChannel& channel) { return std::uint64_t{channel.post_only_fallbacks.load()}; });
  out.family("synthusd_gateway_venue_rejects_total", Type::counter, "orders the venue refused, by its reason");
  for (std::size_t i = 0; i < gateway_channels_.size(); ++i) {
    for (const GatewayChannel::RejectReason& slot : gateway_channels_[i]->venue_rejects) {
      const std::uint64_t count = slot.count.load(std::memory_order_acquire); // publishes slot.text
      if (count > 0) {
        out.sample(count, {{"venue", config_.run.gateways[i].venue}, {"reason", slot.text}});
      }
    }
  }
  const auto per_source = [&](std::string_view name, Type type, std::string_view help, auto value_of) {
    out.family(name, type, help);
    for (const auto& source : source_status_) {
      out.sample(value_of(*source), {{"source", source->name}});
    }
  };
  per_source("synthusd_liability_source_up", Type::gauge, "1 while the liability source is connected or listening",
             [](const SourceStatus& source) { return std::uint64_t{source.up.load() ? 1U : 0U}; });
  per_source("synthusd_liability_lines_total", Type::counter, "lines or messages read from the source",
             [](const SourceStatus& source) { return std::uint64_t{source.lines.load()}; });
  per_source("synthusd_liability_accepted_total", Type::counter, "new liability events admitted",
             [](const SourceStatus& source) { return std::uint64_t{source.accepted.load()}; });
  per_source("synthusd_liability_duplicates_total", Type::counter, "events whose id was already admitted",
             [](const SourceStatus& source) { return std::uint64_t{source.duplicates.load()}; });
  per_source("synthusd_liability_rejected_total", Type::counter, "events refused with a reason",
             [](const SourceStatus& source) { return std::uint64_t{source.rejected.load()}; });
  per_source("synthusd_liability_conflicts_total", Type::counter,
             "payment ids that came back with another kind or amount (refused)",
             [](const SourceStatus& source) { return std::uint64_t{source.conflicts.load()}; });
  per_source("synthusd_liability_backpressure_total", Type::counter,
             "events held back (kernel queue full, or sats while there is no valid index price)",
             [](const SourceStatus& source) { return std::uint64_t{source.backpressure.load()}; });
  per_source("synthusd_liability_known_ids", Type::gauge,
             "payment ids in the source's deduplication set (every id it admitted, and those rebuilt from the journal)",
             [](const SourceStatus& source) { return std::uint64_t{source.known_ids.load()}; });
  per_source("synthusd_liability_dedup_growths_on_path_total", Type::counter,
             "times admitting an event grew the deduplication set on the spot (the room made ahead while idle ran out)",
             [](const SourceStatus& source) { return std::uint64_t{source.dedup_growths_on_path.load()}; });
  if (transfer_worker_) {
    transfer_worker_->write_metrics(out);
  }
  out.gauge("synthusd_kill_switch_engaged", "1 while new orders are blocked", killed() ? 1 : 0);
  out.gauge("synthusd_recovery_replayed_records", "journal records replayed at the last start",
            static_cast<std::int64_t>(recovery_.replayed_records));
  return out.take();
}

std::string EngineRuntime::health_problems() const {
  std::string problems;
  const auto add = [&](const std::string& problem) { problems += (problems.empty() ? "" : "; ") + problem; };
  if (fatal_.load()) {
    add("a thread stopped on an error (see the log)");
  }
  if (killed()) {
    add("kill switch engaged");
  }
  const std::int64_t now = wall_ns();
  for (std::size_t i = 0; i < feed_status_.size(); ++i) {
    const FeedStatus& feed = *feed_status_[i];
    if (!feed.open.load()) {
      add(feed_plans_[i].name + " disconnected");
    } else if (now - feed.last_message_wall_ns.load() > 10'000'000'000) {
      add(feed_plans_[i].name + " silent for more than 10 s");
    }
  }
  for (std::size_t i = 0; i < gateway_channels_.size(); ++i) {
    if (!gateway_channels_[i]->logged_on.load()) {
      add("FIX " + config_.run.gateways[i].venue + " not logged on");
    } else if (gateway_channels_[i]->reconcile_overdue.load()) {
      add("FIX " + config_.run.gateways[i].venue + " positions not reconciled (no position report since logon)");
    } else if (!gateway_channels_[i]->reconciled.load()) {
      add("FIX " + config_.run.gateways[i].venue + " reconciling");
    }
  }
  for (const auto& source : source_status_) {
    if (!source->up.load()) {
      add("liability source " + source->name + " down");
    }
  }
  if (const std::string transfers = transfer_worker_ ? transfer_worker_->problems() : std::string();
      !transfers.empty()) {
    add(transfers);
  }
  if (!kernel_worker_->status().within_band.load()) {
    add("hedge outside its band");
  }
  // Sats payments wait (or are refused) while this lasts: never converted at
  // an unconfirmed price.
  if (const std::string index = kernel_worker_->index_problem(); !index.empty()) {
    add(index);
  }
  return problems;
}

} // namespace synthusd::engine::run
