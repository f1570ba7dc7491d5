// `synthusd run`: logging, signals, operations HTTP, the status line and the
// summary around an EngineRuntime.

#include "synthusd/engine/run_command.hpp"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <ostream>
#include <unistd.h>

#include "engine_runtime.hpp"
#include "synthusd/engine/future_discovery.hpp"
#include "synthusd/engine/http_ops.hpp"

namespace synthusd::engine {

namespace {

void start_logging(const std::string& level) {
  // Async: the logging thread formats and writes; callers only enqueue.
  // Nothing on the event path logs at all (it counts instead).
  spdlog::init_thread_pool(8192, 1);
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::async_logger>("synthusd", sink, spdlog::thread_pool(),
                                                       spdlog::async_overflow_policy::overrun_oldest);
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
}

std::string dollars(std::int64_t cents) {
  char text[48];
  std::snprintf(text, sizeof text, "%s$%lld.%02lld", cents < 0 ? "-" : "", std::llabs(cents) / 100,
                std::llabs(cents) % 100);
  return text;
}

std::string hex16(std::uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

std::string micros(std::int64_t nanoseconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1fus", static_cast<double>(nanoseconds) / 1000.0);
  return text;
}

struct Summary {
  std::uint64_t events = 0, liability_events = 0, orders = 0, fills = 0, filled_contracts = 0, lost = 0;
  std::int64_t liability_cents = 0, exposure_cents = 0, price_raw = 0, fees_sats = 0, usd_value_cents = 0;
  std::int64_t max_deviation_raw = 0, ratio_raw = 0, p50 = 0, p99 = 0, event_p50 = 0, event_p99 = 0;
  std::uint64_t ticks_to_orders = 0;
  std::int64_t payment_p50 = 0, payment_p99 = 0;
  std::uint64_t payments_to_orders = 0;
  std::int64_t backing_value_cents = 0;
  std::int64_t collateral_sats = 0;
  std::int64_t funding_sats = 0;
  std::int64_t backing_sats = 0, hedge_pnl_sats = 0;
  std::uint64_t ledger_digest = 0;
  bool ledger_overflowed = false;
  bool within_band = false;
  std::uint64_t action_hash = 0, action_events = 0, journal_sequence = 0;
};

Summary summarize(const run::EngineRuntime& runtime) {
  const run::StatusBoard& s = runtime.kernel_worker().status();
  Summary m;
  m.events = s.events.load();
  m.liability_events = s.liability_events.load();
  m.orders = s.orders.load();
  m.fills = s.fills.load();
  m.filled_contracts = s.filled_contracts.load();
  m.liability_cents = s.liability_cents.load();
  m.exposure_cents = s.hedge_exposure_cents.load();
  m.price_raw = s.index_price_raw.load();
  m.collateral_sats = s.collateral_sats.load();
  m.fees_sats = s.fees_sats.load();
  m.funding_sats = s.funding_sats.load();
  m.max_deviation_raw = s.max_deviation_raw.load();
  m.ratio_raw = s.hedge_ratio_raw.load();
  m.within_band = s.within_band.load();
  const run::OrderLatency& latency = runtime.kernel_worker().order_latency();
  m.p50 = latency.tick_to_order.quantile(0.50);
  m.p99 = latency.tick_to_order.quantile(0.99);
  m.ticks_to_orders = latency.tick_to_order.count();
  m.event_p50 = latency.event_to_order.quantile(0.50);
  m.event_p99 = latency.event_to_order.quantile(0.99);
  m.payment_p50 = latency.payment_to_order.quantile(0.50);
  m.payment_p99 = latency.payment_to_order.quantile(0.99);
  m.payments_to_orders = latency.payment_to_order.count();
  m.lost = runtime.liability_events_lost();
  m.action_hash = runtime.kernel_worker().action_hash();
  m.action_events = runtime.kernel_worker().action_events();
  m.journal_sequence = runtime.journal_stats().durable_sequence.load();
  // The backing ledger's figures (hedging/backing_ledger.hpp): the BTC held
  // for the customers plus the hedge's P&L, less fees, plus funding, at the
  // index, rounded against the operator.
  m.usd_value_cents = s.usd_value_cents.load();
  m.backing_value_cents = s.backing_value_cents.load();
  m.backing_sats = s.backing_sats.load();
  m.hedge_pnl_sats = s.hedge_pnl_sats.load();
  m.ledger_digest = s.ledger_digest.load();
  m.ledger_overflowed = s.ledger_overflowed.load();
  return m;
}

// Short exposure over the collateral the venues reported, at today's price;
// before any venue reported, over the BTC held for the customers (synthUSD's
// model: that BTC is the collateral), marked with a "~".
std::string leverage(const Summary& m) {
  const std::int64_t collateral_cents =
      m.collateral_sats > 0 && m.price_raw > 0
          ? hedging::sats_to_cents(hedging::Sats{m.collateral_sats}, hedging::Price{m.price_raw},
                                   hedging::Rounding::down)
                .value
          : m.backing_value_cents;
  if (collateral_cents <= 0) {
    return "-";
  }
  char text[32];
  std::snprintf(text, sizeof text, "%s%.2fx", m.collateral_sats > 0 ? "" : "~",
                static_cast<double>(std::llabs(m.exposure_cents)) / static_cast<double>(collateral_cents));
  return text;
}

void print_status(const run::EngineRuntime& runtime, std::ostream& out) {
  const Summary m = summarize(runtime);
  const std::string tick_p50 = m.ticks_to_orders > 0 ? micros(m.p50) : "-";
  const std::string tick_p99 = m.ticks_to_orders > 0 ? micros(m.p99) : "-";
  const std::string payment_p50 = m.payments_to_orders > 0 ? micros(m.payment_p50) : "-";
  const std::string payment_p99 = m.payments_to_orders > 0 ? micros(m.payment_p99) : "-";
  const run::StatusBoard& board = runtime.kernel_worker().status();
  // What each spans: a tick from its parse on the feed thread, a payment
  // from its source's hand-off (after read, parse, admission), every order
  // from the kernel thread taking its input; each to the order handed to FIX.
  char line[640];
  std::snprintf(line, sizeof line,
                "price %.2f | liability %s | hedge %s | ratio %.4f | leverage %s | tick parsed->order p50 %s p99 %s "
                "| payment admitted->order p50 %s p99 %s (kernel input->order p50 %s p99 %s) | events %llu "
                "orders %llu fills %llu | venues up %u/%u | funding guards %u | providers netted %s",
                static_cast<double>(m.price_raw) / 1e8, dollars(m.liability_cents).c_str(),
                dollars(m.exposure_cents).c_str(), static_cast<double>(m.ratio_raw) / 1e8, leverage(m).c_str(),
                tick_p50.c_str(), tick_p99.c_str(), payment_p50.c_str(), payment_p99.c_str(),
                micros(m.event_p50).c_str(), micros(m.event_p99).c_str(), static_cast<unsigned long long>(m.events),
                static_cast<unsigned long long>(m.orders), static_cast<unsigned long long>(m.fills),
                board.venues_up.load(), board.venues.load(), board.funding_guards_engaged.load(),
                dollars(board.provider_interest_cents.load()).c_str());
  out << line << std::endl;
}

void print_summary(const Summary& m, std::ostream& out, const std::string& json_path) {
  out << "summary:\n"
      << "  events " << m.events << " (liability " << m.liability_events << "), journal durable at sequence "
      << m.journal_sequence << "\n"
      << "  orders " << m.orders << ", fills " << m.fills << " (" << m.filled_contracts << " contracts)\n"
      << "  fees (taker estimate) " << m.fees_sats << " sats\n"
      << "  funding received " << m.funding_sats
      << " sats (estimate: the feed's rate on the position, over the engine's clock)\n"
      << "  largest hedge deviation once hedged " << static_cast<double>(m.max_deviation_raw) / 1e6 << " %\n"
      << "  customers' dollars " << dollars(m.liability_cents) << ", USD value held for them "
      << dollars(m.usd_value_cents) << (m.ledger_overflowed ? " (LEDGER OVERFLOWED: figures unreliable)" : "") << "\n"
      << "  backing " << m.backing_sats << " sats, hedge P&L " << m.hedge_pnl_sats << " sats, ledger digest "
      << hex16(m.ledger_digest) << "\n"
      << "  hedge ratio " << static_cast<double>(m.ratio_raw) / 1e8 << (m.within_band ? " (within" : " (OUTSIDE")
      << " band)\n"
      << "  tick->order p50 " << micros(m.p50) << " p99 " << micros(m.p99) << " over " << m.ticks_to_orders
      << " tick-caused orders; payment->order p50 " << micros(m.payment_p50) << " p99 " << micros(m.payment_p99)
      << " over " << m.payments_to_orders << " payment-caused orders; event->order p50 " << micros(m.event_p50)
      << " p99 " << micros(m.event_p99) << "\n"
      << "  liability events lost " << m.lost << "\n"
      << "  action-stream hash " << hex16(m.action_hash) << " over " << m.action_events << " events\n";
  if (!json_path.empty()) {
    std::ofstream json(json_path);
    json << "{\"events\":" << m.events << ",\"liability_events\":" << m.liability_events << ",\"orders\":" << m.orders
         << ",\"fills\":" << m.fills << ",\"filled_contracts\":" << m.filled_contracts
         << ",\"fees_sats\":" << m.fees_sats << ",\"funding_sats\":" << m.funding_sats
         << ",\"liability_cents\":" << m.liability_cents << ",\"usd_value_cents\":" << m.usd_value_cents
         << ",\"hedge_exposure_cents\":" << m.exposure_cents
         << ",\"hedge_ratio\":" << static_cast<double>(m.ratio_raw) / 1e8
         << ",\"max_deviation\":" << static_cast<double>(m.max_deviation_raw) / 1e8
         << ",\"max_deviation_raw\":" << m.max_deviation_raw
         << ",\"within_band\":" << (m.within_band ? "true" : "false") << ",\"events_lost\":" << m.lost
         << ",\"tick_to_order_p50_ns\":" << m.p50 << ",\"tick_to_order_p99_ns\":" << m.p99
         << ",\"event_to_order_p50_ns\":" << m.event_p50 << ",\"event_to_order_p99_ns\":" << m.event_p99
         << ",\"payment_to_order_p50_ns\":" << m.payment_p50 << ",\"payment_to_order_p99_ns\":" << m.payment_p99
         << ",\"journal_sequence\":" << m.journal_sequence << ",\"action_hash\":\"" << hex16(m.action_hash) << "\""
         << ",\"backing_sats\":" << m.backing_sats << ",\"hedge_pnl_sats\":" << m.hedge_pnl_sats
         << ",\"ledger_digest\":\"" << hex16(m.ledger_digest) << "\""
         << ",\"ledger_overflowed\":" << (m.ledger_overflowed ? "true" : "false") << "}\n";
  }
}

} // namespace

int run_engine(const RunOptions& options, std::ostream& out) {
  EngineConfig config = load_config(options.config_path); // ConfigError: exit 2 in main
  for (const std::string& warning : config_warnings(config)) {
    spdlog::warn("config {}: {}", options.config_path, warning);
  }
  // SIGINT/SIGTERM go to this thread only and are taken with sigtimedwait.
  // They are blocked before ANY thread starts, the logger's included: a
  // thread that had them unblocked could take a SIGTERM with its default
  // action and end the process without a clean shutdown.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  start_logging(config.run.log_level);
  if (!config.venue_series.empty()) {
    // series = "venue": the venue's own list of dated futures, asked once
    // before the kernel is built (future_discovery.hpp).
    const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    const hedging::Timestamp now{std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count()};
    for (const std::string& line : discover_venue_futures(config, now, std::chrono::milliseconds(5'000))) {
      spdlog::info("futures discovery: {}", line);
    }
  }

  const HttpSection http_section = config.run.http;
  const std::string kill_file =
      config.run.engine.kill_file.empty() ? config.run.engine.state_directory + "/kill" : config.run.engine.kill_file;
  run::set_spin_before_park(config.run.engine.spin_before_park_ns); // before any thread's Idler exists
  run::EngineRuntime runtime(std::move(config));
  std::unique_ptr<HttpOps> http;
  if (http_section.enabled) {
    HttpOpsOptions http_options;
    http_options.address = http_section.address;
    http_options.port = http_section.port;
    try {
      http_options.token = load_admin_token(http_section.token_environment.c_str(), http_section.token_file);
    } catch (const std::exception& error) {
      spdlog::warn("admin token: {}; POST /kill and /resume are refused", error.what());
    }
    http = std::make_unique<HttpOps>(
        http_options,
        HttpOpsHandlers{
            [&runtime] { return runtime.metrics_text(); }, [&runtime] { return runtime.health_problems(); },
            [&runtime] { runtime.kill(); }, [&runtime] { runtime.resume(); },
            [&runtime](std::uint64_t id) { return runtime.approve_transfer(id); },
            [&runtime] { return runtime.transfers_json(); },
            [&runtime](std::uint64_t id, std::string_view body) { return runtime.settle_transfer(id, body); }});
  }
  runtime.start();
  out << "RUNNING journal " << runtime.journal_path() << " replayed " << runtime.recovery().replayed_records
      << " records" << (http ? " http " + std::to_string(http->port()) : std::string()) << std::endl;
  spdlog::info("synthusd running: http {}, journal {}", http ? std::to_string(http->port()) : "off",
               runtime.journal_path());

  const auto started = std::chrono::steady_clock::now();
  auto next_status = started;
  timespec tick{0, 100'000'000};
  while (true) {
    const int signal = sigtimedwait(&signals, nullptr, &tick);
    if (signal == SIGINT || signal == SIGTERM) {
      spdlog::info("signal {}: shutting down", signal);
      break;
    }
    runtime.log_alerts();
    runtime.archive_journal();
    // The operator's kill file, checked every tick (100 ms): engaging it is
    // idempotent and only ever stops trading.
    if (!runtime.killed() && ::access(kill_file.c_str(), F_OK) == 0) {
      spdlog::warn("kill file {} present: engaging the kill switch", kill_file);
      runtime.kill();
    }
    const auto now = std::chrono::steady_clock::now();
    if (options.duration_seconds > 0 && now - started >= std::chrono::duration<double>(options.duration_seconds)) {
      break;
    }
    if (options.status_every_seconds > 0 && now >= next_status) {
      next_status = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                              std::chrono::duration<double>(options.status_every_seconds));
      print_status(runtime, out);
    }
    if (runtime.fatal()) {
      spdlog::critical("a thread failed: shutting down");
      break;
    }
  }
  http.reset(); // no more operator calls during shutdown
  runtime.stop();
  runtime.log_alerts();
  const Summary summary = summarize(runtime);
  print_summary(summary, out, options.summary_json);
  spdlog::shutdown();
  return (summary.within_band && summary.lost == 0 && !runtime.fatal()) ? 0 : 1;
}

} // namespace synthusd::engine
