// The runtime sections of the configuration file (engine/src/run_config.cpp):
// [engine], [[feeds]], [[gateways]], [liability], [intake], [lnd], [nats],
// [http], [risk] and [log], parsed into RunConfig, every problem with its
// key and line.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "config_test_support.hpp"

#include "synthusd/engine/config_file.hpp"

namespace synthusd::engine {
namespace {

using hedging::Ratio;
using hedging::UsdCents;

constexpr const char* kKernel = test_support::kTwoVenueKernel;
// A file with one feed says that it trusts one price source (run_config_oracle_test.cpp).
constexpr const char* kOneSource = "\n[oracle]\nmin_sources = 1\njump_confirmations = 1\n";
using test_support::describe;
using test_support::line_of;
using test_support::problems_of;

TEST(RunConfig, every_runtime_section_parses_into_run_config) {
  const EngineConfig config = parse_config(std::string(kKernel) + R"(
[engine]
wait = "blocking"
state_directory = "/var/lib/synthusd"
journal_archive_directory = "/archive/synthusd"
timer_interval_ms = 50
snapshot_every_events = 5000
liability_queue_capacity = 2048
market_queue_capacity = 512
command_queue_capacity = 256
journal_queue_capacity = 131072

[engine.cpus]
kernel = 0
fix-okx = 0
journal = -1

[[feeds]]
venue = "okx"
protocol = "okx"
host = "ws.okx.com"
port = 8443
path = "/ws/v5/public"
tls = false
ca_file = "extra-ca.pem"
symbols = ["BTC-USD-SWAP"]

[[feeds]]
venue = "deribit"
protocol = "deribit"
host = "www.deribit.com"
symbols = ["BTC-PERPETUAL"]

[[gateways]]
venue = "deribit"
dialect = "deribit"
host = "fix.deribit.com"
port = 9881
plain_tcp = true
sender_comp_id = "ME"
target_comp_id = "DERIBITSERVER"
heartbeat_seconds = 15
reconnect_seconds = 2
reset_on_logon = true
file_store = false
credentials_file = "/etc/synthusd/deribit.credentials"
log_messages = true
position_request_seconds = 0
collateral_inquiry = true
collateral_request_seconds = 5

[[gateways]]
venue = "okx"
port = 9000

[liability]
conversion_spread = 0.001

[intake]
unix_socket = "/run/synthusd/liability.sock"
tcp_host = "127.0.0.2"
tcp_port = 7441
max_line_bytes = 8192

[lnd]
host = "lnd.local"
port = 10009
tls = false
tls_cert_file = "tls.cert"
macaroon_file = "invoice.macaroon"

[nats]
url = "nats://10.0.0.1:4222"
stream = "S"
subject = "s.liability"
durable = "engine-2"
create_stream = true
credentials_file = "nats.creds"
ack_wait_seconds = 2.5

[http]
enabled = false
address = "127.0.0.3"
port = 0
token_environment = "MY_TOKEN"
token_file = "/etc/synthusd/admin.token"

[risk]
max_order_contracts = 500
max_order_notional_usd = 250000
price_collar = 0.02
max_reference_age_seconds = 2
max_position_contracts = 4000
max_aggregate_notional_usd = 3000000
max_open_orders = 32
orders_per_second = 10
order_burst = 20
messages_per_second = 40
message_burst = 80

[log]
level = "debug"
)",
                                           "test.toml");
  const RunConfig& run = config.run;
  EXPECT_EQ(run.engine.wait, WaitMode::blocking);
  std::map<std::string, int> cpus;
  for (const ThreadCpu& entry : run.engine.cpus) {
    cpus[entry.thread] = entry.cpu;
  }
  EXPECT_EQ(cpus, (std::map<std::string, int>{{"fix-okx", 0}, {"journal", -1}, {"kernel", 0}}));
  EXPECT_EQ(run.engine.state_directory, "/var/lib/synthusd");
  EXPECT_EQ(run.engine.journal_archive_directory, "/archive/synthusd");
  EXPECT_EQ(run.engine.timer_interval_ms, 50);
  EXPECT_EQ(run.engine.snapshot_every_events, 5000u);
  EXPECT_EQ(run.engine.liability_queue_capacity, 2048u);
  EXPECT_EQ(run.engine.market_queue_capacity, 512u);
  EXPECT_EQ(run.engine.command_queue_capacity, 256u);
  EXPECT_EQ(run.engine.journal_queue_capacity, 131072u);

  ASSERT_EQ(run.feeds.size(), 2u);
  EXPECT_EQ(run.feeds[0].venue, "okx");
  EXPECT_EQ(run.feeds[0].protocol, feeds::Venue::okx);
  EXPECT_EQ(run.feeds[0].host, "ws.okx.com");
  EXPECT_EQ(run.feeds[0].port, 8443);
  EXPECT_EQ(run.feeds[0].path, "/ws/v5/public");
  EXPECT_FALSE(run.feeds[0].tls);
  EXPECT_EQ(run.feeds[0].ca_file, "extra-ca.pem");
  EXPECT_EQ(run.feeds[0].symbols, std::vector<std::string>{"BTC-USD-SWAP"});
  EXPECT_EQ(run.feeds[1].venue, "deribit");
  EXPECT_EQ(run.feeds[1].protocol, feeds::Venue::deribit);
  EXPECT_EQ(run.feeds[1].port, 443); // defaults
  EXPECT_EQ(run.feeds[1].path, "/");
  EXPECT_TRUE(run.feeds[1].tls);
  EXPECT_EQ(run.feeds[1].symbols, std::vector<std::string>{"BTC-PERPETUAL"});

  ASSERT_EQ(run.gateways.size(), 2u);
  const GatewaySection& deribit = run.gateways[0];
  EXPECT_EQ(deribit.venue, "deribit");
  EXPECT_EQ(deribit.dialect, fix::Dialect::deribit);
  EXPECT_EQ(deribit.host, "fix.deribit.com");
  EXPECT_TRUE(deribit.plain_tcp);
  EXPECT_EQ(deribit.port, 9881);
  EXPECT_EQ(deribit.sender_comp_id, "ME");
  EXPECT_EQ(deribit.target_comp_id, "DERIBITSERVER");
  EXPECT_EQ(deribit.heartbeat_seconds, 15);
  EXPECT_EQ(deribit.reconnect_seconds, 2);
  EXPECT_TRUE(deribit.reset_on_logon);
  EXPECT_FALSE(deribit.file_store);
  EXPECT_EQ(deribit.credentials_file, "/etc/synthusd/deribit.credentials");
  EXPECT_TRUE(deribit.log_messages);
  EXPECT_EQ(deribit.position_request_seconds, 0);
  EXPECT_EQ(deribit.collateral_inquiry, 1);
  EXPECT_EQ(deribit.collateral_request_seconds, 5);
  EXPECT_EQ(run.gateways[1].collateral_inquiry, -1); // by dialect
  EXPECT_EQ(run.gateways[1].collateral_request_seconds, 60);
  EXPECT_EQ(run.gateways[1].venue, "okx");
  EXPECT_EQ(run.gateways[1].dialect, fix::Dialect::generic); // defaults
  EXPECT_EQ(run.gateways[1].host, "127.0.0.1");
  EXPECT_EQ(run.gateways[1].port, 9000);

  EXPECT_EQ(run.liability.conversion_spread, Ratio::from_ppm(1'000));

  EXPECT_TRUE(run.intake.enabled); // a present [intake] is enabled
  EXPECT_EQ(run.intake.options.unix_socket_path, "/run/synthusd/liability.sock");
  EXPECT_EQ(run.intake.options.tcp_host, "127.0.0.2");
  EXPECT_EQ(run.intake.options.tcp_port, 7441);
  EXPECT_EQ(run.intake.options.max_line_bytes, 8192u);

  EXPECT_TRUE(run.lnd.enabled);
  EXPECT_EQ(run.lnd.options.host, "lnd.local");
  EXPECT_EQ(run.lnd.options.port, 10009);
  EXPECT_FALSE(run.lnd.options.tls);
  EXPECT_EQ(run.lnd.options.tls_cert_file, "tls.cert");
  EXPECT_EQ(run.lnd.options.macaroon_file, "invoice.macaroon");

  EXPECT_TRUE(run.nats.enabled);
  EXPECT_EQ(run.nats.options.url, "nats://10.0.0.1:4222");
  EXPECT_EQ(run.nats.options.stream, "S");
  EXPECT_EQ(run.nats.options.subject, "s.liability");
  EXPECT_EQ(run.nats.options.durable, "engine-2");
  EXPECT_TRUE(run.nats.options.create_stream);
  EXPECT_EQ(run.nats.options.credentials_file, "nats.creds");
  EXPECT_EQ(run.nats.options.ack_wait_ms, 2'500);

  EXPECT_FALSE(run.http.enabled);
  EXPECT_EQ(run.http.address, "127.0.0.3");
  EXPECT_EQ(run.http.port, 0);
  EXPECT_EQ(run.http.token_environment, "MY_TOKEN");
  EXPECT_EQ(run.http.token_file, "/etc/synthusd/admin.token");

  EXPECT_EQ(run.risk.max_order_quantity, hedging::Contracts{500});
  EXPECT_EQ(run.risk.max_order_notional, UsdCents{25'000'000});
  EXPECT_EQ(run.risk.price_collar, Ratio::from_ppm(20'000));
  EXPECT_EQ(run.risk.max_reference_age, hedging::Duration::from_seconds(2));
  EXPECT_EQ(run.risk.max_position, hedging::Contracts{4'000});
  EXPECT_EQ(run.risk.max_aggregate_notional, UsdCents{300'000'000});
  EXPECT_EQ(run.risk.max_open_orders, 32u);
  EXPECT_EQ(run.risk.order_rate.per_second, 10u);
  EXPECT_EQ(run.risk.order_rate.burst, 20u);
  EXPECT_EQ(run.risk.message_rate.per_second, 40u);
  EXPECT_EQ(run.risk.message_rate.burst, 80u);

  EXPECT_EQ(run.log_level, "debug");
}

TEST(RunConfig, a_kernel_only_file_gets_the_runtime_defaults_with_every_source_off) {
  const RunConfig run = parse_config(kKernel, "test.toml").run;
  EXPECT_EQ(run.engine.wait, WaitMode::automatic);
  EXPECT_TRUE(run.engine.cpus.empty());
  EXPECT_EQ(run.engine.state_directory, "var/synthusd");
  EXPECT_TRUE(run.engine.journal_archive_directory.empty()); // segments stay in state_directory
  EXPECT_TRUE(run.feeds.empty());
  EXPECT_TRUE(run.gateways.empty());
  EXPECT_FALSE(run.intake.enabled);
  EXPECT_FALSE(run.lnd.enabled);
  EXPECT_FALSE(run.nats.enabled);
  EXPECT_EQ(run.nats.options.ack_wait_ms, 30'000);
  EXPECT_TRUE(run.http.enabled);
  EXPECT_EQ(run.log_level, "info");
}

TEST(RunConfig, hot_path_is_thread_per_stage_by_default_or_one_thread) {
  EXPECT_EQ(parse_config(std::string(kKernel), "t").run.engine.hot_path, HotPath::thread_per_stage);
  EXPECT_EQ(parse_config(std::string(kKernel) + "[engine]\nhot_path = \"one_thread\"\n", "t").run.engine.hot_path,
            HotPath::one_thread);
  const std::string text = std::string(kKernel) + "\n[engine]\nhot_path = \"single\"\n";
  const auto problems = problems_of(text);
  ASSERT_EQ(problems.size(), 1u) << describe(problems);
  EXPECT_EQ(problems[0].key, "engine.hot_path");
  EXPECT_EQ(problems[0].line, line_of(text, "hot_path = \"single\""));
  EXPECT_EQ(problems[0].message, "unknown hot path 'single' (thread_per_stage or one_thread)");
}

TEST(RunConfig, wait_modes_are_auto_spin_or_blocking) {
  EXPECT_EQ(parse_config(std::string(kKernel) + "[engine]\nwait = \"auto\"\n", "t").run.engine.wait,
            WaitMode::automatic);
  EXPECT_EQ(parse_config(std::string(kKernel) + "[engine]\nwait = \"spin\"\n", "t").run.engine.wait, WaitMode::spin);
  const std::string text = std::string(kKernel) + "\n[engine]\ntimer_interval_ms = 10\nwait = \"fast\"\n";
  const auto problems = problems_of(text);
  ASSERT_EQ(problems.size(), 1u) << describe(problems);
  EXPECT_EQ(problems[0].key, "engine.wait");
  EXPECT_EQ(problems[0].line, line_of(text, "wait = \"fast\""));
  EXPECT_EQ(problems[0].message, "unknown wait mode 'fast' (auto, spin or blocking)");
}

TEST(RunConfig, spin_before_park_is_microseconds_up_to_a_tenth_of_a_second) {
  EXPECT_EQ(parse_config(std::string(kKernel) + "[engine]\n", "t").run.engine.spin_before_park_ns, 0);
  EXPECT_EQ(
      parse_config(std::string(kKernel) + "[engine]\nspin_before_park_us = 50\n", "t").run.engine.spin_before_park_ns,
      50'000);
  for (const char* bad : {"-1", "100001"}) {
    const std::string text = std::string(kKernel) + "\n[engine]\nspin_before_park_us = " + bad + "\n";
    const auto problems = problems_of(text);
    ASSERT_EQ(problems.size(), 1u) << describe(problems);
    EXPECT_EQ(problems[0].key, "engine.spin_before_park_us") << bad;
    EXPECT_EQ(problems[0].line, line_of(text, "spin_before_park_us"));
  }
}

TEST(RunConfig, an_unknown_key_in_engine_feeds_or_gateways_is_reported_with_its_line) {
  const std::string text = std::string(kKernel) + R"(
[engine]
kernel_cpus = 2

[[feeds]]
venue = "okx"
protocol = "okx"
host = "ws.okx.com"
symbols = ["BTC-USD-SWAP"]

[[feeds]]
venue = "deribit"
protocol = "deribit"
host = "www.deribit.com"
symbols = ["BTC-PERPETUAL"]
reconnect = 5

[[gateways]]
venue = "deribit"
port = 9881
pasword = "hunter2"
)";
  const auto problems = problems_of(text);
  ASSERT_EQ(problems.size(), 3u) << describe(problems);
  EXPECT_EQ(problems[0].key, "engine.kernel_cpus");
  EXPECT_EQ(problems[0].line, line_of(text, "kernel_cpus"));
  EXPECT_EQ(problems[0].message, "unknown key");
  EXPECT_EQ(problems[1].key, "feeds[1].reconnect");
  EXPECT_EQ(problems[1].line, line_of(text, "reconnect = 5"));
  EXPECT_EQ(problems[1].message, "unknown key");
  EXPECT_EQ(problems[2].key, "gateways[0].pasword");
  EXPECT_EQ(problems[2].line, line_of(text, "pasword"));
  EXPECT_EQ(problems[2].message, "unknown key");
  EXPECT_EQ(problems[2].to_string(),
            "test.toml:" + std::to_string(line_of(text, "pasword")) + ": gateways[0].pasword: unknown key");
}

TEST(RunConfig, a_feed_naming_an_unknown_venue_is_reported) {
  const std::string text = std::string(kKernel) + R"(
[[feeds]]
venue = "kraken"
protocol = "okx"
host = "ws.kraken.com"
symbols = ["BTC-USD-SWAP"]
)" + kOneSource;
  const auto problems = problems_of(text);
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems[0].key, "feeds[0].venue");
  EXPECT_EQ(problems[0].line, line_of(text, "\"kraken\""));
  EXPECT_EQ(problems[0].message, "names no [[venues]] entry 'kraken'");
}

TEST(RunConfig, a_feed_symbol_of_another_venue_is_reported) {
  // BTC-PERPETUAL is an instrument, but of deribit, not of okx.
  const std::string text = std::string(kKernel) + R"(
[[feeds]]
venue = "okx"
protocol = "okx"
host = "ws.okx.com"
symbols = ["BTC-USD-SWAP", "BTC-PERPETUAL"]
)" + kOneSource;
  const auto problems = problems_of(text);
  ASSERT_EQ(problems.size(), 1u) << describe(problems);
  EXPECT_EQ(problems[0].key, "feeds[0].symbols");
  EXPECT_EQ(problems[0].line, line_of(text, "symbols ="));
  EXPECT_EQ(problems[0].message, "'BTC-PERPETUAL' is no [[instruments]] symbol of venue 'okx'");
}

TEST(RunConfig, a_feed_without_symbols_is_reported) {
  const std::string text =
      std::string(kKernel) + "\n[[feeds]]\nvenue = \"okx\"\nprotocol = \"okx\"\nhost = \"h\"\n" + kOneSource;
  const auto problems = problems_of(text);
  ASSERT_EQ(problems.size(), 1u) << describe(problems);
  EXPECT_EQ(problems[0].key, "feeds[0].symbols");
  EXPECT_EQ(problems[0].line, line_of(text, "[[feeds]]"));
}

TEST(RunConfig, two_gateways_for_one_venue_are_reported_at_the_second) {
  const std::string text = std::string(kKernel) + R"(
[[gateways]]
venue = "deribit"
port = 9881

[[gateways]]
venue = "okx"
port = 9000

[[gateways]]
venue = "deribit"
port = 9882
)";
  const auto problems = problems_of(text);
  ASSERT_EQ(problems.size(), 1u) << describe(problems);
  EXPECT_EQ(problems[0].key, "gateways[2].venue");
  EXPECT_EQ(problems[0].line, line_of(text, "port = 9882") - 1);
  EXPECT_EQ(problems[0].message, "venue 'deribit' already has a [[gateways]] entry");

  const std::string adjacent =
      std::string(kKernel) + "\n[[gateways]]\nvenue = \"okx\"\nport = 1\n\n[[gateways]]\nvenue = \"okx\"\nport = 2\n";
  const auto twice = problems_of(adjacent);
  ASSERT_EQ(twice.size(), 1u) << describe(twice);
  EXPECT_EQ(twice[0].key, "gateways[1].venue");
  EXPECT_EQ(twice[0].line, line_of(adjacent, "port = 2") - 1);
}

TEST(RunConfig, every_feed_protocol_the_feeds_stage_names_parses_into_its_venue) {
  for (const feeds::Venue venue : feeds::kVenues) {
    const std::string text = std::string(kKernel) + "\n[[feeds]]\nvenue = \"okx\"\nprotocol = \"" +
                             std::string(feeds::to_string(venue)) + "\"\nhost = \"h\"\nsymbols = [\"BTC-USD-SWAP\"]\n" +
                             kOneSource;
    const auto problems = problems_of(text);
    ASSERT_TRUE(problems.empty()) << describe(problems);
    EXPECT_EQ(parse_config(text, "t").run.feeds.at(0).protocol, venue) << feeds::to_string(venue);
  }
  const std::string binance =
      std::string(kKernel) +
      "\n[[feeds]]\nvenue = \"okx\"\nprotocol = \"binance\"\nhost = \"h\"\nsymbols = [\"BTC-USD-SWAP\"]\n" + kOneSource;
  EXPECT_EQ(parse_config(binance, "t").run.feeds.at(0).protocol, feeds::Venue::binance_coin_m);
}

TEST(RunConfig, an_unknown_feed_protocol_is_reported_with_the_names_the_feeds_stage_accepts) {
  const std::string text = std::string(kKernel) + R"(
[[feeds]]
venue = "okx"
protocol = "kraken"
host = "ws.okx.com"
symbols = ["BTC-USD-SWAP"]
)" + kOneSource;
  const auto problems = problems_of(text);
  ASSERT_EQ(problems.size(), 1u) << describe(problems);
  EXPECT_EQ(problems[0].key, "feeds[0].protocol");
  EXPECT_EQ(problems[0].line, line_of(text, "\"kraken\""));
  EXPECT_EQ(problems[0].message, "unknown protocol 'kraken' (deribit, okx or binance)");
  for (const feeds::Venue venue : feeds::kVenues) { // the list is the stage's, whatever it holds
    EXPECT_NE(problems[0].message.find(std::string(feeds::to_string(venue))), std::string::npos)
        << feeds::to_string(venue);
  }
}

TEST(RunConfig, an_unknown_gateway_dialect_is_reported_with_the_names_the_fix_stage_accepts) {
  const std::string text = std::string(kKernel) + R"(
[[gateways]]
venue = "deribit"
port = 9881
dialect = "fix50"
)";
  const auto problems = problems_of(text);
  ASSERT_EQ(problems.size(), 1u) << describe(problems);
  EXPECT_EQ(problems[0].key, "gateways[0].dialect");
  EXPECT_EQ(problems[0].line, line_of(text, "\"fix50\""));
  EXPECT_EQ(problems[0].message, "unknown dialect 'fix50' (generic or deribit)");
  for (const fix::Dialect dialect : fix::kDialects) {
    EXPECT_NE(problems[0].message.find(fix::to_string(dialect)), std::string::npos) << fix::to_string(dialect);
  }
  // Every name the fix stage gives parses back to its dialect.
  for (const fix::Dialect dialect : fix::kDialects) {
    const std::string named = std::string(kKernel) + "\n[[gateways]]\nvenue = \"deribit\"\nport = 1\ndialect = \"" +
                              fix::to_string(dialect) + "\"\n";
    EXPECT_EQ(parse_config(named, "t").run.gateways.at(0).dialect, dialect) << fix::to_string(dialect);
  }
}

TEST(RunConfig, a_gateway_naming_a_venue_that_is_not_configured_is_reported_with_its_line) {
  const std::string text = std::string(kKernel) + R"(
[[gateways]]
venue = "okx"
port = 9000

[[gateways]]
port = 9881
venue = "kraken"
)";
  const auto problems = problems_of(text);
  ASSERT_EQ(problems.size(), 1u) << describe(problems);
  EXPECT_EQ(problems[0].key, "gateways[1].venue");
  EXPECT_EQ(problems[0].line, line_of(text, "\"kraken\""));
  EXPECT_EQ(problems[0].message, "names no [[venues]] entry 'kraken'");
  EXPECT_EQ(problems[0].to_string(), "test.toml:" + std::to_string(line_of(text, "\"kraken\"")) +
                                         ": gateways[1].venue: names no [[venues]] entry 'kraken'");
}

TEST(RunConfig, gateway_order_types_parse_and_default_to_a_collared_limit_ioc) {
  const std::string text = std::string(kKernel) + R"(
[[gateways]]
venue = "deribit"
port = 1
order_type = "post_only"
order_collar = 0.002
post_only_wait_ms = 1500
reject_backoff_initial_ms = 250
reject_backoff_max_ms = 30000

[[gateways]]
venue = "okx"
port = 2
)";
  const RunConfig run = parse_config(text, "t").run;
  ASSERT_EQ(run.gateways.size(), 2u);
  const fix::ExecutionOptions& set = run.gateways[0].execution;
  EXPECT_EQ(set.style, fix::ExecutionStyle::post_only);
  EXPECT_EQ(set.collar, hedging::Ratio::from_ppm(2'000));
  EXPECT_EQ(set.post_only_wait, hedging::Duration::from_milliseconds(1'500));
  EXPECT_EQ(set.reject_backoff_initial, hedging::Duration::from_milliseconds(250));
  EXPECT_EQ(set.reject_backoff_maximum, hedging::Duration::from_seconds(30));
  const fix::ExecutionOptions& defaults = run.gateways[1].execution;
  EXPECT_EQ(defaults.style, fix::ExecutionStyle::limit_ioc);
  EXPECT_EQ(defaults.collar, hedging::Ratio::from_ppm(5'000));
}

TEST(RunConfig, an_unknown_order_type_and_a_collar_outside_the_risk_band_are_reported) {
  const std::string text = std::string(kKernel) + R"(
[[gateways]]
venue = "deribit"
port = 1
order_type = "limit"

[[gateways]]
venue = "okx"
port = 2
order_collar = 0.06
)";
  const auto problems = problems_of(text);
  ASSERT_EQ(problems.size(), 2u) << describe(problems);
  // Problems without a line of their own (the cross-check) sort first.
  EXPECT_EQ(problems[0].key, "gateways[1].order_collar");
  EXPECT_EQ(problems[0].message, "must be below [risk] price_collar, or pre-trade risk refuses every order");
  EXPECT_EQ(problems[1].key, "gateways[0].order_type");
  EXPECT_EQ(problems[1].message, "unknown order type 'limit' (limit_ioc, market, post_only)");
  EXPECT_EQ(problems[1].line, line_of(text, "\"limit\""));
}

TEST(RunConfig, the_shipped_config_parses_with_its_runtime_sections) {
  const EngineConfig config = load_config(SYNTHUSD_SOURCE_DIR "/config/synthusd.toml");
  const RunConfig& run = config.run;
  EXPECT_EQ(run.engine.wait, WaitMode::automatic);
  EXPECT_EQ(run.engine.snapshot_every_events, 10'000u);
  ASSERT_EQ(run.feeds.size(), 3u); // three price sources for the index oracle
  EXPECT_EQ(run.feeds[0].venue, "deribit");
  EXPECT_EQ(run.feeds[0].symbols, std::vector<std::string>{"BTC-PERPETUAL"});
  EXPECT_EQ(run.feeds[1].protocol, feeds::Venue::okx);
  EXPECT_EQ(run.feeds[2].protocol, feeds::Venue::binance_coin_m);
  EXPECT_EQ(run.oracle.min_agreeing, 2u);
  ASSERT_EQ(run.gateways.size(), 1u);
  EXPECT_EQ(run.gateways[0].dialect, fix::Dialect::deribit);
  // Through a local TLS tunnel (engine/DEPLOYMENT.md), never clear text out.
  EXPECT_EQ(run.gateways[0].host, "127.0.0.1");
  EXPECT_EQ(run.gateways[0].port, 19883);
  EXPECT_FALSE(run.gateways[0].plain_tcp);
  EXPECT_TRUE(run.intake.enabled);
  EXPECT_FALSE(run.intake.options.unix_socket_path.empty());
  EXPECT_EQ(run.http.port, 9464);
  EXPECT_EQ(run.risk.max_open_orders, 64u);
  EXPECT_EQ(run.log_level, "info");
}

TEST(RunConfig, the_demo_config_parses_once_its_placeholders_are_filled_in) {
  std::ifstream file(SYNTHUSD_SOURCE_DIR "/config/demo.toml");
  ASSERT_TRUE(file.good());
  std::stringstream buffer;
  buffer << file.rdbuf();
  std::string text = buffer.str();
  const std::map<std::string, std::string> values = {
      {"RUN_DIRECTORY", "/tmp/synthusd-demo"}, {"WEBSOCKET_PORT", "18443"}, {"FIX_PORT", "19881"}};
  // @NAME@ placeholders (upper case and underscores), as scripts/demo fills
  // them in. No std::regex: GCC 12 warns inside it in the sanitizer build.
  for (std::size_t at = text.find('@'); at != std::string::npos; at = text.find('@', at)) {
    const std::size_t end = text.find('@', at + 1);
    if (end == std::string::npos) {
      break;
    }
    const std::string name = text.substr(at + 1, end - at - 1);
    if (name.empty() || name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != std::string::npos) {
      at = end; // "@...@" in a comment
      continue;
    }
    const auto value = values.find(name);
    ASSERT_NE(value, values.end()) << "unexpected placeholder @" << name << "@";
    text.replace(at, end - at + 1, value->second);
    at += value->second.size();
  }
  const auto problems = problems_of(text);
  ASSERT_TRUE(problems.empty()) << describe(problems);
  const RunConfig run = parse_config(text, "demo.toml").run;
  EXPECT_EQ(run.engine.state_directory, "/tmp/synthusd-demo/state");
  ASSERT_EQ(run.feeds.size(), 1u);
  EXPECT_EQ(run.oracle.min_agreeing, 1u); // the simulator is the only price source, trusted alone
  EXPECT_EQ(run.feeds[0].port, 18443);
  EXPECT_FALSE(run.feeds[0].tls);
  ASSERT_EQ(run.gateways.size(), 1u);
  EXPECT_EQ(run.gateways[0].port, 19881);
  EXPECT_EQ(run.intake.options.unix_socket_path, "/tmp/synthusd-demo/liability.sock");
  EXPECT_EQ(run.liability.conversion_spread, Ratio::from_ppm(1'000));
}

} // namespace
} // namespace synthusd::engine
