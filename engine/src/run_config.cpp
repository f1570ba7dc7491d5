// The runtime sections of the configuration file: [engine], [[feeds]],
// [oracle], [[gateways]], [liability], [intake], [lnd], [nats], [http],
// [risk], [log].
// Cold path; every problem names its key and line.

#include "synthusd/engine/run_config.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <climits>
#include <iterator>

#include <thread>

#include "config_reader.hpp"
#include "synthusd/common/decimal.hpp"
#include "synthusd/engine/thread_placement.hpp"
#include "synthusd/feeds/venue_tick.hpp"
#include "synthusd/fix/dialect.hpp"
#include "synthusd/hedging/types.hpp"
#include "synthusd/transfers/cln_node_wallet.hpp"

namespace synthusd::engine {

const char* to_string(WaitMode mode) noexcept {
  switch (mode) {
  case WaitMode::automatic:
    return "auto";
  case WaitMode::spin:
    return "spin";
  case WaitMode::blocking:
    return "blocking";
  }
  return "?";
}

std::string describe(const feeds::OracleConfig& oracle) {
  return "min_sources " + std::to_string(oracle.min_agreeing) + ", max_staleness_seconds " +
         common::format_decimal(oracle.max_age.nanoseconds / 1'000'000, 3) + ", max_deviation " +
         common::format_decimal(oracle.max_deviation.raw, 8) + ", jump_threshold " +
         common::format_decimal(oracle.jump_threshold.raw, 8) + ", jump_confirmations " +
         std::to_string(oracle.jump_confirmations);
}

namespace {

// "a, b or c": the names a stage accepts (its own list, never a copy), for
// messages.
template <typename Values, typename Name>
std::string one_of(const Values& values, Name name) {
  std::string text;
  const std::size_t count = std::size(values);
  std::size_t index = 0;
  for (const auto& value : values) {
    if (index > 0) {
      text += index + 1 == count ? " or " : ", ";
    }
    text += name(value);
    ++index;
  }
  return text;
}

// The feeds stage's protocol names and the fix stage's dialect names.
std::string feed_protocols() {
  return one_of(feeds::kVenues, [](feeds::Venue venue) { return std::string(feeds::to_string(venue)); });
}
std::string gateway_dialects() {
  return one_of(fix::kDialects, [](fix::Dialect dialect) { return std::string(fix::to_string(dialect)); });
}

bool names_venue(const hedging::KernelConfig& kernel, const std::string& name) {
  return std::any_of(kernel.venues.begin(), kernel.venues.end(),
                     [&](const hedging::VenueConfig& venue) { return venue.name == name; });
}

void read_engine(TableReader& t, EngineSection& engine) {
  std::string wait;
  if (t.string("wait", wait)) {
    if (wait == "auto") {
      engine.wait = WaitMode::automatic;
    } else if (wait == "spin") {
      engine.wait = WaitMode::spin;
    } else if (wait == "blocking") {
      engine.wait = WaitMode::blocking;
    } else {
      t.problem(*t.find("wait"), "wait", "unknown wait mode '" + wait + "' (auto, spin or blocking)");
    }
  }
  std::string hot_path;
  if (t.string("hot_path", hot_path)) {
    if (hot_path == "thread_per_stage") {
      engine.hot_path = HotPath::thread_per_stage;
    } else if (hot_path == "one_thread") {
      engine.hot_path = HotPath::one_thread;
    } else {
      t.problem(*t.find("hot_path"), "hot_path",
                "unknown hot path '" + hot_path + "' (thread_per_stage or one_thread)");
    }
  }
  std::int64_t spin_microseconds = engine.spin_before_park_ns / 1000;
  if (t.integer("spin_before_park_us", spin_microseconds, 0, 100'000)) {
    engine.spin_before_park_ns = spin_microseconds * 1000;
  }
  // The per-kind keys pinned every gateway (every feed, every I/O thread)
  // to one CPU; say what replaced them rather than "unknown key".
  for (const char* old_key : {"kernel_cpu", "gateway_cpu", "feed_cpu", "io_cpu"}) {
    if (const toml::node* node = t.find(old_key)) {
      t.problem(*node, old_key, "replaced by [engine.cpus]: one CPU per thread, e.g. kernel = 2, fix-deribit = 3");
    }
  }
  if (const toml::node* node = t.find("cpus")) {
    if (const toml::table* cpus = node->as_table()) {
      for (const auto& [key, value] : *cpus) {
        const std::string name = "cpus." + std::string(key.str());
        const auto* cpu = value.as_integer();
        if (cpu == nullptr || cpu->get() < -1 || cpu->get() > 4095) {
          t.problem(value, name, "expected a CPU number (0-4095) or -1 (not pinned)");
          continue;
        }
        engine.cpus.push_back({std::string(key.str()), static_cast<int>(cpu->get()), value.source().begin.line});
      }
    } else {
      t.problem(*node, "cpus", "expected a table: thread = cpu");
    }
  }
  t.string("state_directory", engine.state_directory);
  t.string("kill_file", engine.kill_file);
  t.string("journal_archive_directory", engine.journal_archive_directory);
  t.integer("timer_interval_ms", engine.timer_interval_ms, 1, 60'000);
  t.integer("snapshot_every_events", engine.snapshot_every_events, 1, INT64_MAX);
  t.integer("liability_queue_capacity", engine.liability_queue_capacity, 16, 1 << 24);
  t.integer("market_queue_capacity", engine.market_queue_capacity, 16, 1 << 24);
  t.integer("command_queue_capacity", engine.command_queue_capacity, 16, 1 << 24);
  t.integer("journal_queue_capacity", engine.journal_queue_capacity, 64, 1 << 26);
}

void read_feed(TableReader& t, const hedging::KernelConfig& kernel, FeedSection& feed) {
  if (t.string("venue", feed.venue, true) && !names_venue(kernel, feed.venue)) {
    t.problem(*t.find("venue"), "venue", "names no [[venues]] entry '" + feed.venue + "'");
  }
  std::string protocol;
  if (t.string("protocol", protocol, true) && !feeds::parse_venue_protocol(protocol, feed.protocol)) {
    t.problem(*t.find("protocol"), "protocol", "unknown protocol '" + protocol + "' (" + feed_protocols() + ")");
  }
  t.string("host", feed.host, true);
  t.integer("port", feed.port, 1, 65535);
  t.string("path", feed.path);
  t.boolean("tls", feed.tls);
  t.string("ca_file", feed.ca_file);
  if (t.strings("symbols", feed.symbols)) {
    for (const std::string& symbol : feed.symbols) {
      const bool known = std::any_of(kernel.instruments.begin(), kernel.instruments.end(), [&](const auto& spec) {
        return spec.symbol.view() == symbol && kernel.venues.size() > 0 &&
               std::any_of(kernel.venues.begin(), kernel.venues.end(),
                           [&](const auto& venue) { return venue.id == spec.venue && venue.name == feed.venue; });
      });
      if (!known) {
        t.problem(*t.find("symbols"), "symbols",
                  "'" + symbol + "' is no [[instruments]] symbol of venue '" + feed.venue + "'");
      }
    }
  } else {
    t.problem_here("symbols", "missing (required): the instruments to subscribe");
  }
}

// [oracle]; `feeds` is the number of [[feeds]] entries (the price sources).
void read_oracle(TableReader& t, std::size_t feeds, feeds::OracleConfig& oracle) {
  // A fraction of the price: more than 0 (0 would refuse every source or
  // quarantine every tick) and at most 1.
  const auto fraction = [&](std::string_view key, hedging::Ratio& out) {
    hedging::Ratio value = out;
    t.ratio(key, value);
    if (value.raw <= 0 || value > hedging::Ratio::one()) {
      t.problem(*t.find(key), std::string(key), "must be more than 0 and at most 1");
    } else {
      out = value;
    }
  };
  fraction("max_deviation", oracle.max_deviation);
  fraction("jump_threshold", oracle.jump_threshold);
  std::int64_t staleness_ms = oracle.max_age.nanoseconds / 1'000'000;
  if (t.decimal("max_staleness_seconds", 3, staleness_ms)) {
    if (staleness_ms <= 0 || staleness_ms > 3'600'000) {
      t.problem(*t.find("max_staleness_seconds"), "max_staleness_seconds", "must be more than 0 and at most 3600");
    } else {
      oracle.max_age = hedging::Duration::from_milliseconds(staleness_ms);
    }
  }
  // Never more than there are feeds: an index that can never be valid
  // would hold every sats payment, and a jump that can never be confirmed
  // would hold the index until the price came back.
  const std::string available =
      std::to_string(feeds) + (feeds == 1 ? " [[feeds]] entry (price source)" : " [[feeds]] entries (price sources)");
  if (t.integer("min_sources", oracle.min_agreeing, 1, 64) && feeds > 0 && oracle.min_agreeing > feeds) {
    t.problem(*t.find("min_sources"), "min_sources", "exceeds the " + available);
  }
  if (t.integer("jump_confirmations", oracle.jump_confirmations, 1, 64) && feeds > 0 &&
      oracle.jump_confirmations > feeds) {
    t.problem(*t.find("jump_confirmations"), "jump_confirmations",
              "exceeds the " + available + ": a jump could never be confirmed");
  }
}

constexpr hedging::Ratio kMaxConversionSpread = hedging::Ratio::from_ppm(100'000);

// 127.0.0.0/8, ::1 or "localhost": a connection that never leaves the host.
bool is_loopback_host(const std::string& host) {
  if (host == "localhost" || host == "::1") {
    return true;
  }
  in_addr address{};
  return ::inet_pton(AF_INET, host.c_str(), &address) == 1 && (ntohl(address.s_addr) >> 24) == 127;
}

// [transfers] TLS keys. Only an enabled section is checked: a disabled one
// (the config reference's commented example) connects nowhere.
void read_transfer_tls(TableReader& t, TransferSection& transfers) {
  const bool lnd = transfers.node == "lnd"; // Core Lightning is reached over a unix socket: no TLS
  t.boolean("node_tls", transfers.node_tls);
  t.string("node_tls_cert_file", transfers.node_tls_cert_file);
  t.string("node_tls_server_name", transfers.node_tls_server_name);
  t.boolean("venue_tls", transfers.venue_tls);
  t.string("venue_tls_cert_file", transfers.venue_tls_cert_file);
  t.string("venue_tls_server_name", transfers.venue_tls_server_name);
  if (!transfers.enabled) {
    return;
  }
  // lnd serves REST only over TLS with its own self-signed tls.cert: no CA
  // vouches for it, so the client must be given the file to pin.
  if (lnd && transfers.node_tls && transfers.node_tls_cert_file.empty()) {
    t.problem_here("node_tls_cert_file",
                   "missing: lnd's REST port is TLS with its own tls.cert (lnd's directory), which is pinned; "
                   "or node_tls = false for plain HTTP on loopback");
  }
  // The macaroon and the venue's client secret go in every request's
  // headers: in clear text only over a connection that never leaves the host.
  if (lnd && !transfers.node_tls && !is_loopback_host(transfers.node_host)) {
    t.problem(*t.find("node_tls"), "node_tls", // false is only ever set explicitly
              "false with node_host '" + transfers.node_host +
                  "', which is not loopback: the macaroon would cross the network in clear text (use TLS, or a "
                  "local TLS tunnel on 127.0.0.1)");
  }
  if (!transfers.venue_tls && !is_loopback_host(transfers.venue_host)) {
    t.problem(*t.find("venue_tls"), "venue_tls",
              "false with venue_host '" + transfers.venue_host +
                  "', which is not loopback: the client secret would cross the network in clear text (use TLS, or "
                  "a local TLS tunnel on 127.0.0.1)");
  }
}

void read_gateway(TableReader& t, const hedging::KernelConfig& kernel, GatewaySection& gateway) {
  if (t.string("venue", gateway.venue, true) && !names_venue(kernel, gateway.venue)) {
    t.problem(*t.find("venue"), "venue", "names no [[venues]] entry '" + gateway.venue + "'");
  }
  std::string dialect;
  if (t.string("dialect", dialect) && !fix::parse_dialect(dialect, gateway.dialect)) {
    t.problem(*t.find("dialect"), "dialect", "unknown dialect '" + dialect + "' (" + gateway_dialects() + ")");
  }
  t.string("host", gateway.host);
  t.integer("port", gateway.port, 1, 65535, true);
  // The gateway speaks FIX in clear text (QuickFIX 1.15.1's SSL initiator
  // checks no host name): anything beyond loopback goes through a local TLS
  // tunnel (engine/DEPLOYMENT.md, stunnel with checkHost), or says so.
  t.boolean("plain_tcp", gateway.plain_tcp);
  if (!gateway.plain_tcp && !is_loopback_host(gateway.host)) {
    t.problem(*t.find("host"), "host",
              "'" + gateway.host +
                  "' is not loopback and FIX here is clear text: connect through a TLS tunnel on 127.0.0.1 "
                  "(engine/DEPLOYMENT.md) or set plain_tcp = true");
  }
  t.string("sender_comp_id", gateway.sender_comp_id);
  t.string("target_comp_id", gateway.target_comp_id);
  t.integer("heartbeat_seconds", gateway.heartbeat_seconds, 1, 3600);
  t.integer("reconnect_seconds", gateway.reconnect_seconds, 1, 3600);
  t.boolean("reset_on_logon", gateway.reset_on_logon);
  t.boolean("file_store", gateway.file_store);
  t.string("credentials_file", gateway.credentials_file);
  t.boolean("log_messages", gateway.log_messages);
  t.integer("position_request_seconds", gateway.position_request_seconds, 0, 86'400);
  bool collateral = false;
  if (t.boolean("collateral_inquiry", collateral)) {
    gateway.collateral_inquiry = collateral ? 1 : 0;
  }
  t.integer("collateral_request_seconds", gateway.collateral_request_seconds, 0, 86'400);
  // The venue's request credits, counted by pre-trade risk
  // (fix::CreditLimit). Deribit's documented default unless set; none for
  // generic venues unless set. request_credits = 0 turns them off.
  fix::CreditLimit& credits = gateway.credits;
  if (gateway.dialect == fix::Dialect::deribit) {
    credits = fix::kDeribitDefaultCredits;
  }
  constexpr std::int64_t kMaximumCredits = 1'000'000'000; // nano-credit arithmetic stays in int64
  t.integer("request_credits", credits.maximum, 0, kMaximumCredits);
  t.integer("request_credits_refill_per_second", credits.refill_per_second, 0, kMaximumCredits);
  t.integer("request_credits_per_request", credits.cost, 0, kMaximumCredits);
  if (credits.maximum > 0 && (credits.cost <= 0 || credits.cost > credits.maximum)) {
    t.problem_here("request_credits_per_request", "must be above 0 and at most request_credits");
  }
  if (credits.maximum > 0 && credits.refill_per_second <= 0) {
    t.problem_here("request_credits_refill_per_second", "must be above 0 when request_credits is set");
  }
  fix::ExecutionOptions& execution = gateway.execution;
  std::string order_type;
  if (t.string("order_type", order_type) && !fix::parse_execution_style(order_type, execution.style)) {
    t.problem(*t.find("order_type"), "order_type",
              "unknown order type '" + order_type + "' (limit_ioc, market, post_only)");
  }
  t.ratio("order_collar", execution.collar);
  if (execution.collar.raw <= 0 || execution.collar.raw >= hedging::Ratio::kScale / 10) {
    t.problem_here("order_collar", "must be above 0 and below 0.1 (10 %)");
  }
  const auto milliseconds = [&](std::string_view key, hedging::Duration& out, std::int64_t maximum) {
    std::int64_t value = out.nanoseconds / 1'000'000;
    if (t.integer(key, value, 1, maximum)) {
      out = hedging::Duration::from_milliseconds(value);
    }
  };
  milliseconds("post_only_wait_ms", execution.post_only_wait, 600'000);
  milliseconds("reject_backoff_initial_ms", execution.reject_backoff_initial, 600'000);
  milliseconds("reject_backoff_max_ms", execution.reject_backoff_maximum, 3'600'000);
  if (execution.reject_backoff_maximum < execution.reject_backoff_initial) {
    t.problem_here("reject_backoff_max_ms", "must not be below reject_backoff_initial_ms");
  }
}

void read_risk(TableReader& t, fix::RiskLimits& risk) {
  t.integer("max_order_contracts", risk.max_order_quantity.value, 1, INT64_MAX);
  // What fix::PreTradeRisk refuses at start, said here by key, so that
  // check-config passes only what run will start with.
  const auto positive_dollars = [&](std::string_view key, hedging::UsdCents& out) {
    t.dollars(key, out);
    if (t.find(key) != nullptr && out.value <= 0) {
      t.problem(*t.find(key), std::string(key), "must be above 0");
    }
  };
  positive_dollars("max_order_notional_usd", risk.max_order_notional);
  if (t.ratio("price_collar", risk.price_collar) &&
      (risk.price_collar.raw <= 0 || risk.price_collar >= hedging::Ratio::one())) {
    t.problem(*t.find("price_collar"), "price_collar", "must be above 0 and below 1 (0.05 is 5 %)");
  }
  t.duration("max_reference_age_seconds", 1, risk.max_reference_age);
  t.integer("max_position_contracts", risk.max_position.value, 1, INT64_MAX);
  positive_dollars("max_aggregate_notional_usd", risk.max_aggregate_notional);
  t.integer("max_open_orders", risk.max_open_orders, 1, fix::kDefaultOrderCapacity);
  t.integer("orders_per_second", risk.order_rate.per_second, 0, 1'000'000);
  t.integer("order_burst", risk.order_rate.burst, 0, 1'000'000);
  t.integer("messages_per_second", risk.message_rate.per_second, 0, 1'000'000);
  t.integer("message_burst", risk.message_rate.burst, 0, 1'000'000);
}

template <typename Read>
void each_table(TableReader& root, std::vector<ConfigProblem>& problems, std::string_view key, Read read) {
  if (const toml::array* array = array_of_tables(root, key)) {
    std::size_t index = 0;
    for (const toml::node& node : *array) {
      TableReader t(problems, *node.as_table(), std::string(key) + "[" + std::to_string(index++) + "]", root.file());
      read(t);
    }
  }
}

template <typename Read>
void one_table(TableReader& root, std::vector<ConfigProblem>& problems, std::string_view key, Read read) {
  if (const toml::table* table = subtable(root, key)) {
    TableReader t(problems, *table, std::string(key), root.file());
    read(t);
  }
}

} // namespace

void read_run_sections(TableReader& root, std::vector<ConfigProblem>& problems, const hedging::KernelConfig& kernel,
                       RunConfig& run) {
  one_table(root, problems, "engine", [&](TableReader& t) { read_engine(t, run.engine); });
  each_table(root, problems, "feeds", [&](TableReader& t) { read_feed(t, kernel, run.feeds.emplace_back()); });
  bool oracle_table = false;
  one_table(root, problems, "oracle", [&](TableReader& t) {
    oracle_table = true;
    read_oracle(t, run.feeds.size(), run.oracle);
  });
  if (!oracle_table && !run.feeds.empty() &&
      (run.oracle.min_agreeing > run.feeds.size() || run.oracle.jump_confirmations > run.feeds.size())) {
    // The defaults ask for two agreeing sources: trusting one venue's price
    // alone must be written down.
    problems.push_back({root.file(), 0, "oracle",
                        "the defaults need " + std::to_string(run.oracle.min_agreeing) +
                            " agreeing price sources and there is " + std::to_string(run.feeds.size()) +
                            " [[feeds]] entry: add a feed, or set [oracle] min_sources = 1 and "
                            "jump_confirmations = 1 to trust one venue's price alone"});
  }
  each_table(root, problems, "gateways", [&](TableReader& t) {
    GatewaySection& gateway = run.gateways.emplace_back();
    read_gateway(t, kernel, gateway);
    for (std::size_t i = 0; i + 1 < run.gateways.size(); ++i) {
      if (!gateway.venue.empty() && run.gateways[i].venue == gateway.venue) {
        t.problem(*t.find("venue"), "venue", "venue '" + gateway.venue + "' already has a [[gateways]] entry");
      }
    }
  });
  one_table(root, problems, "liability", [&](TableReader& t) {
    // Against the user, and less than 10 %: a spread of 1 or more would book
    // a credit at a price <= 0 (a credit lowering the user's dollars), and a
    // negative one would quietly pay users at the operator's expense.
    if (t.ratio("conversion_spread", run.liability.conversion_spread) &&
        (run.liability.conversion_spread.raw < 0 || run.liability.conversion_spread > kMaxConversionSpread)) {
      t.problem(*t.find("conversion_spread"), "conversion_spread", "must be from 0 to 0.1 (10 %)");
    }
    liabilities::AdmissionLimits& limits = run.liability.limits;
    // A positive amount of dollars (cents) or BTC (sats) at `decimals`.
    const auto positive = [&](std::string_view key, int decimals, std::int64_t& value) {
      if (t.decimal(key, decimals, value) && value <= 0) {
        t.problem_here(std::string(key), "must be positive");
      }
    };
    positive("max_event_usd", 2, limits.max_event_usd_cents);
    positive("max_event_btc", 8, limits.max_event_sats);
    positive("max_daily_usd", 2, limits.max_daily_usd_cents);
    // Seconds with up to 3 decimals (milliseconds), at most a day each way.
    const auto window = [&](std::string_view key, std::int64_t& milliseconds) {
      std::int64_t value = milliseconds;
      if (!t.decimal(key, 3, value)) {
        return;
      }
      if (value < 0 || value > 86'400'000) {
        t.problem(*t.find(key), std::string(key), "must be between 0 and 86400");
      } else {
        milliseconds = value;
      }
    };
    window("max_future_seconds", limits.max_future_ms);
    window("max_past_seconds", limits.max_past_ms);
    std::int64_t backfill_days = 0;
    if (t.integer("max_backfill_days", backfill_days, 1, 36'500)) {
      limits.max_backfill_ms = backfill_days * 86'400'000;
    }
  });
  one_table(root, problems, "intake", [&](TableReader& t) {
    liabilities::IntakeOptions& intake = run.intake.options;
    run.intake.enabled = true;
    t.boolean("enabled", run.intake.enabled);
    t.string("unix_socket", intake.unix_socket_path);
    // The line protocol has no authentication: anyone who reaches the port
    // can credit dollars. Loopback only; a wallet elsewhere comes through a
    // local proxy that authenticates it, or through NATS (PROTOCOL.md).
    if (t.string("tcp_host", intake.tcp_host) && !is_loopback_host(intake.tcp_host)) {
      t.problem(*t.find("tcp_host"), "tcp_host",
                "'" + intake.tcp_host +
                    "' is not loopback: the intake's line protocol has no authentication, so anyone who reaches "
                    "the port could credit dollars (bind 127.0.0.1 or ::1)");
    }
    t.integer("tcp_port", intake.tcp_port, -1, 65535);
    t.integer("max_line_bytes", intake.max_line_bytes, 64, 1 << 20);
    t.integer("max_output_bytes", intake.max_output_bytes, 4096, 1 << 26);
    if (run.intake.enabled && intake.unix_socket_path.empty() && intake.tcp_port < 0) {
      t.problem_here("unix_socket", "give unix_socket and/or tcp_port (or enabled = false)");
    }
  });
  one_table(root, problems, "lnd", [&](TableReader& t) {
    liabilities::LndOptions& lnd = run.lnd.options;
    run.lnd.enabled = true;
    t.boolean("enabled", run.lnd.enabled);
    t.string("host", lnd.host);
    t.integer("port", lnd.port, 1, 65535);
    t.boolean("tls", lnd.tls);
    t.string("tls_cert_file", lnd.tls_cert_file);
    t.string("macaroon_file", lnd.macaroon_file);
    // lnd sends nothing on an idle invoice stream: resubscribe after this
    // much silence (0: never; TCP keepalive still finds a dead peer).
    std::int64_t idle_seconds = lnd.idle_resubscribe_ms / 1000;
    if (t.integer("idle_resubscribe_seconds", idle_seconds, 0, 86'400)) {
      lnd.idle_resubscribe_ms = static_cast<int>(idle_seconds * 1000);
    }
    t.integer("backfill_from_add_index", lnd.backfill_from_add_index, -1, INT64_MAX);
    t.integer("backfill_page_size", lnd.backfill_page_size, 1, 10'000);
    t.boolean("debits", lnd.debits);
    t.integer("debits_from_payment_index", lnd.debits_from_payment_index, 0, INT64_MAX);
    t.integer("debits_poll_ms", lnd.debits_poll_ms, 100, 3'600'000);
    t.integer("debits_page_size", lnd.debits_page_size, 1, 10'000);
  });
  one_table(root, problems, "nats", [&](TableReader& t) {
    liabilities::NatsOptions& nats = run.nats.options;
    run.nats.enabled = true;
    t.boolean("enabled", run.nats.enabled);
    t.string("url", nats.url);
    t.string("stream", nats.stream);
    t.string("subject", nats.subject);
    t.string("durable", nats.durable);
    t.boolean("create_stream", nats.create_stream);
    t.string("credentials_file", nats.credentials_file);
    // Seconds with up to 3 decimals, exactly: milliseconds.
    std::int64_t ack_wait_ms = nats.ack_wait_ms;
    if (t.decimal("ack_wait_seconds", 3, ack_wait_ms)) {
      constexpr std::int64_t kMaxAckWaitMs = INT_MAX / 1000 * 1000; // NatsOptions::ack_wait_ms is an int
      if (ack_wait_ms < 100) {
        t.problem_here("ack_wait_seconds", "must be at least 0.1");
      } else if (ack_wait_ms > kMaxAckWaitMs) {
        t.problem_here("ack_wait_seconds", "must be at most " + std::to_string(kMaxAckWaitMs / 1000));
      } else {
        nats.ack_wait_ms = static_cast<int>(ack_wait_ms);
      }
    }
  });
  one_table(root, problems, "http", [&](TableReader& t) {
    t.boolean("enabled", run.http.enabled);
    t.string("address", run.http.address);
    t.integer("port", run.http.port, 0, 65535);
    t.string("token_environment", run.http.token_environment);
    t.string("token_file", run.http.token_file);
  });
  one_table(root, problems, "transfers", [&](TableReader& t) {
    TransferSection& transfers = run.transfers;
    t.boolean("enabled", transfers.enabled);
    if (t.string("venue", transfers.venue, transfers.enabled) && !names_venue(kernel, transfers.venue)) {
      t.problem_here("venue", "names no [[venues]] entry");
    }
    t.string("venue_host", transfers.venue_host);
    t.integer("venue_port", transfers.venue_port, 1, 65535, transfers.enabled);
    t.string("venue_client_id_environment", transfers.venue_client_id_environment);
    t.string("venue_client_secret_environment", transfers.venue_client_secret_environment);
    if (t.string("node", transfers.node) && transfers.node != "lnd" && transfers.node != "cln") {
      t.problem_here("node", "must be lnd or cln");
    }
    const bool cln = transfers.node == "cln";
    t.string("node_host", transfers.node_host);
    t.integer("node_port", transfers.node_port, 1, 65535, transfers.enabled && !cln);
    t.string("macaroon_file", transfers.macaroon_file);
    if (t.string("node_rpc_socket", transfers.node_rpc_socket, transfers.enabled && cln) &&
        transfers.node_rpc_socket.size() > 107) {
      t.problem_here("node_rpc_socket", "longer than 107 bytes, a unix socket path's limit");
    }
    if (t.string("node_address_type", transfers.node_address_type) && transfers.node_address_type != "bech32" &&
        transfers.node_address_type != "p2tr") {
      t.problem_here("node_address_type", "must be bech32 or p2tr");
    }
    if (t.string("node_feerate", transfers.node_feerate) && !transfers.node_feerate.empty() &&
        !transfers::valid_cln_feerate(transfers.node_feerate)) {
      t.problem_here("node_feerate", "must be slow, normal, urgent, minimum, NNNperkw or NNNperkb");
    }
    read_transfer_tls(t, transfers);
    t.integer("max_transfer_sats", transfers.max_transfer_sats, 1, hedging::kBitcoinSupplySats);
    t.integer("max_daily_sats", transfers.max_daily_sats, 1, hedging::kBitcoinSupplySats);
    t.boolean("require_approval", transfers.require_approval);
    t.integer("credit_timeout_seconds", transfers.credit_timeout_seconds, 1, 30 * 86'400);
    t.integer("poll_ms", transfers.poll_ms, 10, 60'000);
    t.integer("timeout_ms", transfers.timeout_ms, 100, 60'000);
  });
  one_table(root, problems, "risk", [&](TableReader& t) { read_risk(t, run.risk); });
  // A collared order must pass pre-trade risk's own price band, or every
  // order on that venue would be refused.
  for (std::size_t i = 0; i < run.gateways.size(); ++i) {
    const fix::ExecutionOptions& execution = run.gateways[i].execution;
    if (execution.style != fix::ExecutionStyle::market && execution.collar >= run.risk.price_collar) {
      problems.push_back({root.file(), 0, "gateways[" + std::to_string(i) + "].order_collar",
                          "must be below [risk] price_collar, or pre-trade risk refuses every order"});
    }
  }
  // [engine.cpus] names threads that the other sections create.
  for (ConfigProblem& problem : placement_problems(run, std::thread::hardware_concurrency(), root.file())) {
    problems.push_back(std::move(problem));
  }
  one_table(root, problems, "log", [&](TableReader& t) {
    if (t.string("level", run.log_level) && run.log_level != "debug" && run.log_level != "info" &&
        run.log_level != "warn" && run.log_level != "error") {
      t.problem(*t.find("level"), "level", "unknown level '" + run.log_level + "' (debug, info, warn, error)");
    }
  });
}

} // namespace synthusd::engine
