// The run config's [transfers] section: the collateral transfer executor in
// `run` (engine/src/run/transfer_worker.hpp). Off by default; enabled, it
// needs a venue the kernel knows and both counterparties' ports.
#include <gtest/gtest.h>

#include <string>

#include "config_test_support.hpp"
#include "synthusd/engine/config_file.hpp"

namespace synthusd::engine {
namespace {

using test_support::problems_of;

constexpr const char* kKernel = test_support::kTwoVenueKernel;

std::string all_problems(const std::string& text) { return test_support::describe(problems_of(text)); }

TEST(RunConfigTransfers, transfers_are_off_by_default_with_one_btc_per_transfer_and_five_per_day) {
  const RunConfig run = parse_config(kKernel, "t").run;
  EXPECT_FALSE(run.transfers.enabled);
  EXPECT_EQ(run.transfers.max_transfer_sats, 100'000'000);
  EXPECT_EQ(run.transfers.max_daily_sats, 500'000'000);
  EXPECT_FALSE(run.transfers.require_approval);
  EXPECT_TRUE(run.transfers.node_tls) << "lnd's REST is TLS";
  EXPECT_TRUE(run.transfers.venue_tls) << "Deribit's API is HTTPS";
  EXPECT_TRUE(run.transfers.venue_tls_cert_file.empty()) << "the system CA store";
}

TEST(RunConfigTransfers, every_key_is_read) {
  const RunConfig run = parse_config(std::string(kKernel) + R"(
[transfers]
enabled = true
venue = "deribit"
venue_host = "10.0.0.2"
venue_port = 8443
venue_client_id_environment = "ID_VAR"
venue_client_secret_environment = "SECRET_VAR"
node_host = "10.0.0.3"
node_port = 8080
macaroon_file = "/secrets/admin.macaroon"
node_tls = true
node_tls_cert_file = "/var/lib/lnd/tls.cert"
node_tls_server_name = "lnd.internal"
venue_tls = true
venue_tls_cert_file = "/etc/synthusd/venue-ca.pem"
venue_tls_server_name = "www.deribit.com"
max_transfer_sats = 2000000
max_daily_sats = 9000000
require_approval = true
credit_timeout_seconds = 600
poll_ms = 250
timeout_ms = 3000
)",
                                     "t")
                            .run;
  const TransferSection& t = run.transfers;
  EXPECT_TRUE(t.enabled);
  EXPECT_EQ(t.venue, "deribit");
  EXPECT_EQ(t.venue_host, "10.0.0.2");
  EXPECT_EQ(t.venue_port, 8443);
  EXPECT_EQ(t.venue_client_id_environment, "ID_VAR");
  EXPECT_EQ(t.venue_client_secret_environment, "SECRET_VAR");
  EXPECT_EQ(t.node_host, "10.0.0.3");
  EXPECT_EQ(t.node_port, 8080);
  EXPECT_EQ(t.macaroon_file, "/secrets/admin.macaroon");
  EXPECT_TRUE(t.node_tls);
  EXPECT_EQ(t.node_tls_cert_file, "/var/lib/lnd/tls.cert");
  EXPECT_EQ(t.node_tls_server_name, "lnd.internal");
  EXPECT_TRUE(t.venue_tls);
  EXPECT_EQ(t.venue_tls_cert_file, "/etc/synthusd/venue-ca.pem");
  EXPECT_EQ(t.venue_tls_server_name, "www.deribit.com");
  EXPECT_EQ(t.max_transfer_sats, 2'000'000);
  EXPECT_EQ(t.max_daily_sats, 9'000'000);
  EXPECT_TRUE(t.require_approval);
  EXPECT_EQ(t.credit_timeout_seconds, 600);
  EXPECT_EQ(t.poll_ms, 250);
  EXPECT_EQ(t.timeout_ms, 3000);
}

TEST(RunConfigTransfers, enabled_without_a_known_venue_or_ports_is_refused_with_each_reason) {
  const std::string problems = all_problems(std::string(kKernel) + R"(
[transfers]
enabled = true
venue = "bitmex"
max_transfer_sats = 0
)");
  EXPECT_NE(problems.find("transfers.venue"), std::string::npos) << problems;
  EXPECT_NE(problems.find("transfers.venue_port"), std::string::npos) << problems;
  EXPECT_NE(problems.find("transfers.node_port"), std::string::npos) << problems;
  EXPECT_NE(problems.find("transfers.max_transfer_sats"), std::string::npos) << problems;
}

TEST(RunConfigTransfers, tls_to_lnd_needs_its_tls_cert_to_pin) {
  const std::string problems = all_problems(std::string(kKernel) + R"(
[transfers]
enabled = true
venue = "deribit"
venue_host = "www.deribit.com"
venue_port = 443
node_port = 8080
)");
  EXPECT_NE(problems.find("transfers.node_tls_cert_file: missing: lnd's REST port is TLS"), std::string::npos)
      << problems;
  EXPECT_EQ(problems.find("transfers.venue"), std::string::npos) << "the system CA store needs no file: " << problems;
}

TEST(RunConfigTransfers, plain_http_is_refused_to_a_host_that_is_not_loopback) {
  const std::string problems = all_problems(std::string(kKernel) + R"(
[transfers]
enabled = true
venue = "deribit"
venue_host = "www.deribit.com"
venue_port = 80
venue_tls = false
node_host = "10.0.0.3"
node_port = 8080
node_tls = false
)");
  EXPECT_NE(problems.find("transfers.node_tls: false with node_host '10.0.0.3', which is not loopback"),
            std::string::npos)
      << problems;
  EXPECT_NE(problems.find("transfers.venue_tls: false with venue_host 'www.deribit.com', which is not loopback"),
            std::string::npos)
      << problems;
}

TEST(RunConfigTransfers, plain_http_on_loopback_is_accepted_for_the_simulator_and_local_tunnels) {
  const RunConfig run = parse_config(std::string(kKernel) + R"(
[transfers]
enabled = true
venue = "deribit"
venue_host = "127.0.0.1"
venue_port = 18443
venue_tls = false
node_host = "localhost"
node_port = 8080
node_tls = false
)",
                                     "t")
                            .run;
  EXPECT_FALSE(run.transfers.node_tls);
  EXPECT_FALSE(run.transfers.venue_tls);
}

TEST(RunConfigTransfers, a_disabled_section_is_not_checked_for_tls) {
  EXPECT_TRUE(all_problems(std::string(kKernel) + R"(
[transfers]
enabled = false
node_host = "10.0.0.3"
node_tls = false
)")
                  .empty());
}

TEST(RunConfigTransfers, the_node_is_lnd_by_default_and_core_lightning_is_reached_over_its_rpc_socket) {
  EXPECT_EQ(parse_config(kKernel, "t").run.transfers.node, "lnd");
  const RunConfig run = parse_config(std::string(kKernel) + R"(
[transfers]
enabled = true
venue = "deribit"
venue_port = 8443
node = "cln"
node_rpc_socket = "/var/lib/lightning/bitcoin/lightning-rpc"
node_address_type = "p2tr"
node_feerate = "2500perkw"
)",
                                     "t")
                            .run;
  const TransferSection& t = run.transfers;
  EXPECT_EQ(t.node, "cln");
  EXPECT_EQ(t.node_rpc_socket, "/var/lib/lightning/bitcoin/lightning-rpc");
  EXPECT_EQ(t.node_address_type, "p2tr");
  EXPECT_EQ(t.node_feerate, "2500perkw");
  EXPECT_EQ(t.node_port, 0) << "no lnd port needed";
}

TEST(RunConfigTransfers, a_cln_node_without_its_socket_or_with_a_bad_type_rate_or_node_is_refused_with_each_reason) {
  std::string problems = all_problems(std::string(kKernel) + R"(
[transfers]
enabled = true
venue = "deribit"
venue_port = 8443
node = "cln"
node_address_type = "p2sh-segwit"
node_feerate = "fast"
)");
  EXPECT_NE(problems.find("transfers.node_rpc_socket"), std::string::npos) << problems;
  EXPECT_NE(problems.find("transfers.node_address_type"), std::string::npos) << problems;
  EXPECT_NE(problems.find("transfers.node_feerate"), std::string::npos) << problems;
  EXPECT_EQ(problems.find("transfers.node_port"), std::string::npos) << "CLN needs no port: " << problems;
  EXPECT_EQ(problems.find("transfers.node_tls"), std::string::npos) << "a unix socket needs no TLS: " << problems;
  problems = all_problems(std::string(kKernel) + R"(
[transfers]
node = "eclair"
node_rpc_socket = ")" + std::string(108, 's') +
                          R"("
)");
  EXPECT_NE(problems.find("transfers.node: must be lnd or cln"), std::string::npos) << problems;
  EXPECT_NE(problems.find("transfers.node_rpc_socket"), std::string::npos) << problems;
}

} // namespace
} // namespace synthusd::engine
