#pragma once
// What `synthusd run` needs beyond the kernel's rules: threads and CPUs,
// market-data feeds, FIX gateways, liability sources, the journal and
// operations. Parsed from the same TOML file as the kernel's configuration
// (config_file.hpp) and checked by `synthusd check-config`; every key is
// optional unless marked, so a kernel-only file still parses (and `run`
// says what is missing).
//
// Names are parsed here, once, by the stage that owns them (feed protocols:
// feeds::parse_venue_protocol; FIX dialects: fix::parse_dialect), and every
// venue and symbol named is checked against the kernel's [[venues]] and
// [[instruments]], so a RunConfig from parse_config() starts without a
// configuration error at thread start. Liability sources hold their stage's
// own option structs; `run` adds only what it derives (LND's state file,
// NATS's rejection logger).

#include <cstdint>
#include <string>
#include <vector>

#include "synthusd/feeds/price_oracle.hpp"
#include "synthusd/feeds/venue_tick.hpp"
#include "synthusd/fix/dialect.hpp"
#include "synthusd/fix/execution_policy.hpp"
#include "synthusd/fix/pre_trade_risk.hpp"
#include "synthusd/hedging/types.hpp"
#include "synthusd/liabilities/liability_intake.hpp"
#include "synthusd/liabilities/liability_sink.hpp"
#include "synthusd/liabilities/lnd_source.hpp"
#include "synthusd/liabilities/nats_source.hpp"

namespace synthusd::engine {

// Which threads carry the order path (engine/src/run/hot_path_thread.hpp).
enum class HotPath : std::uint8_t {
  thread_per_stage, // kernel, each gateway and each feed on its own thread, joined by SPSC queues
  one_thread,       // feeds, kernel and gateways as one duty cycle on the thread "hot-path": no hop on the order path
};

enum class WaitMode : std::uint8_t {
  automatic, // spin where the CPU count leaves each spinning thread its own CPU (thread_placement.hpp)
  spin,      // busy-poll the queues on threads pinned to a CPU of their own (lowest latency, burns it)
  blocking,  // sleep on an event count until a producer signals
};

// One [engine.cpus] entry: `thread = cpu` (thread_placement.hpp names them).
struct ThreadCpu {
  std::string thread;
  int cpu = -1;         // -1: not pinned
  std::size_t line = 0; // for problems found once every section is read
};

struct EngineSection {
  WaitMode wait = WaitMode::automatic;
  HotPath hot_path = HotPath::thread_per_stage;
  // Blocking waits: how long an idle consumer keeps polling its queues after
  // its last work before it parks on the futex (0: park at once). Spinning
  // saves the futex wake-up (a few to tens of microseconds) of an input that
  // arrives soon after the last one, at the cost of that much CPU per input.
  std::int64_t spin_before_park_ns = 0;
  std::vector<ThreadCpu> cpus;                  // [engine.cpus]; threads not named there are not pinned
  std::string state_directory = "var/synthusd"; // journal, snapshots, ClOrdID counter, FIX store
  // Touch this file to stop trading: the kill switch engages (new orders
  // blocked, open orders cancelled) within one status tick. Removing it does
  // not resume; POST /resume does. Empty: <state_directory>/kill.
  std::string kill_file;
  // Sealed journal segments that the last snapshot covers are moved here
  // (their id indexes stay in state_directory); start-up and replay look
  // here for segments too. Empty: segments stay in state_directory.
  std::string journal_archive_directory;
  std::int64_t timer_interval_ms = 100; // Timer events into the kernel
  std::uint64_t snapshot_every_events = 10'000;
  std::size_t liability_queue_capacity = 4096; // per source
  std::size_t market_queue_capacity = 1024;    // per feed
  std::size_t command_queue_capacity = 1024;   // kernel -> gateway, gateway -> kernel
  std::size_t journal_queue_capacity = 65'536;
};

struct FeedSection {
  std::string venue;                             // a [[venues]] name
  feeds::Venue protocol = feeds::Venue::deribit; // the message dialect (feeds::to_string names it)
  std::string host;
  int port = 443;
  std::string path = "/";
  bool tls = true;
  std::string ca_file;              // empty: the system store
  std::vector<std::string> symbols; // [[instruments]] symbols of that venue
};

struct GatewaySection {
  std::string venue;                            // a [[venues]] name
  fix::Dialect dialect = fix::Dialect::generic; // fix::to_string names it
  std::string host = "127.0.0.1";
  int port = 0;
  // Clear-text FIX to a host that is not loopback: refused by check-config
  // unless this says it is meant (production goes through a TLS tunnel on
  // loopback, engine/DEPLOYMENT.md).
  bool plain_tcp = false;
  std::string sender_comp_id = "SYNTHUSD";
  std::string target_comp_id = "VENUE";
  int heartbeat_seconds = 30;
  int reconnect_seconds = 5;
  bool reset_on_logon = false;
  bool file_store = true;
  std::string credentials_file; // empty: SYNTHUSD_FIX_CLIENT_ID / _SECRET, if set
  bool log_messages = false;    // FIX message log (secrets masked) in the state directory
  int position_request_seconds = 60;
  // CollateralInquiry (BB; Deribit: User Request BE) at logon and then every
  // collateral_request_seconds: the venue's equity becomes the kernel's
  // collateral (leverage, distance to liquidation, transfers).
  int collateral_inquiry = -1; // -1: default (on: BB in generic, BE in deribit); 0 off; 1 on
  int collateral_request_seconds = 60;
  // The venue's request credits, one budget per venue spent by pre-trade
  // risk (orders, cancels) and the gateway (its queries: AN, BE, AF):
  // request_credits (pool), request_credits_refill_per_second,
  // request_credits_per_request. Default: Deribit's documented 50,000 /
  // 10,000 / 500 for the deribit dialect, none for generic.
  fix::CreditLimit credits{};
  // How the kernel's orders go out on this venue (fix/execution_policy.hpp):
  // order_type, order_collar, post_only_wait_ms, reject_backoff_initial_ms,
  // reject_backoff_max_ms.
  fix::ExecutionOptions execution;
};

struct LiabilitySection {
  // Converting sats to dollars (events without usd_cents): the index price
  // moved against the user by this much (a credit buys fewer dollars).
  hedging::Ratio conversion_spread{};
  // Bounds on every admitted payment, whatever the source (the stage's own
  // struct; [liability] max_event_usd, max_event_btc, max_daily_usd,
  // max_future_seconds).
  liabilities::AdmissionLimits limits;
};

// A liability source ([intake], [lnd], [nats]): off unless its table is
// present (then on unless `enabled = false`), with the source's own options
// as the TOML reader filled them in (the liabilities stage's defaults for
// every key left out).
template <typename Options>
struct SourceSection {
  bool enabled = false;
  Options options;
};

using IntakeSection = SourceSection<liabilities::IntakeOptions>;
// options.state_file is not read from the file: `run` sets it to
// <state_directory>/lnd.settle_index.
using LndSection = SourceSection<liabilities::LndOptions>;
// ack_wait_seconds becomes options.ack_wait_ms (JetStream's AckWait of the
// durable consumer: a message delivered to an engine that died before acking
// it comes back after this long). options.on_reject is set by `run`.
using NatsSection = SourceSection<liabilities::NatsOptions>;

struct HttpSection {
  bool enabled = true;
  std::string address = "127.0.0.1";
  int port = 9464;
  std::string token_environment = "SYNTHUSD_ADMIN_TOKEN";
  std::string token_file; // owner-only; used when the variable is unset
};

// [transfers]: the collateral transfer executor (transfers/) in `run`. Off
// by default: with it off the kernel's transfer intents are only logged.
// One venue's wallet (Deribit's private wallet API over HTTP) and one node:
// lnd (REST, node_host/node_port/macaroon_file) or Core Lightning (its
// JSON-RPC unix socket, node_rpc_socket); the venue's client id and secret
// come from the environment.
struct TransferSection {
  bool enabled = false;
  std::string venue; // a [[venues]] name: the venue whose intents are executed
  std::string venue_host = "127.0.0.1";
  int venue_port = 0;
  std::string venue_client_id_environment = "SYNTHUSD_VENUE_CLIENT_ID";
  std::string venue_client_secret_environment = "SYNTHUSD_VENUE_CLIENT_SECRET";
  std::string node = "lnd"; // lnd | cln
  std::string node_host = "127.0.0.1";
  int node_port = 0;
  std::string macaroon_file; // owner-only; empty: none (lnd --no-macaroons)
  // TLS on by default, as the counterparties serve it: lnd always (its
  // tls.cert, pinned: node_tls_cert_file is required), Deribit's HTTPS API
  // (the system CAs, or venue_tls_cert_file pinned). Plain HTTP (false) is
  // for loopback only (tests, the simulator, a local TLS tunnel):
  // check-config refuses it to another host. A server name, when given, is
  // what the certificate must name instead of the host (and the SNI).
  bool node_tls = true;
  std::string node_tls_cert_file;
  std::string node_tls_server_name;
  bool venue_tls = true;
  std::string venue_tls_cert_file; // empty: the system CA store
  std::string venue_tls_server_name;
  std::string node_rpc_socket;              // cln: <lightning-dir>/<network>/lightning-rpc
  std::string node_address_type = "bech32"; // cln newaddr: bech32 | p2tr (v23.08+)
  std::string node_feerate;                 // cln withdraw: slow | normal | urgent | NNNperkw | NNNperkb; empty: CLN's
  std::int64_t max_transfer_sats = 100'000'000;
  std::int64_t max_daily_sats = 500'000'000;
  bool require_approval = false;
  std::int64_t credit_timeout_seconds = 3600;
  std::int64_t poll_ms = 1000;    // between executor steps
  std::int64_t timeout_ms = 5000; // each counterparty call
};

// [oracle]: the index price sats are converted at, from every [[feeds]]
// entry (each feed is one source; the feeds stage's own struct). Two
// agreeing sources by default: a file with one feed must say min_sources = 1.
inline constexpr feeds::OracleConfig kDefaultOracle{.min_agreeing = 2};
// "min_sources 2, max_staleness_seconds 60, ...": the [oracle] keys in force.
[[nodiscard]] std::string describe(const feeds::OracleConfig& oracle);

struct RunConfig {
  EngineSection engine;
  std::vector<FeedSection> feeds;
  feeds::OracleConfig oracle = kDefaultOracle;
  std::vector<GatewaySection> gateways;
  LiabilitySection liability;
  IntakeSection intake;
  LndSection lnd;
  NatsSection nats;
  HttpSection http;
  TransferSection transfers;
  fix::RiskLimits risk;
  std::string log_level = "info";
};

[[nodiscard]] const char* to_string(WaitMode mode) noexcept;

} // namespace synthusd::engine
