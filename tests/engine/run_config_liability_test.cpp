// The run config's liability sections ([liability], [intake], [lnd],
// [nats]): they fill the liabilities stage's own option structs and bounds.
#include <gtest/gtest.h>

#include <string>
#include <type_traits>

#include "config_test_support.hpp"
#include "synthusd/engine/config_file.hpp"

namespace synthusd::engine {
namespace {

using test_support::describe;
using test_support::line_of;
using test_support::problems_of;
constexpr const char* kKernel = test_support::kTwoVenueKernel;

TEST(RunConfig, an_intake_needs_a_unix_socket_or_a_tcp_port_unless_disabled) {
  const std::string text = std::string(kKernel) + "\n[intake]\ntcp_host = \"127.0.0.1\"\n";
  const auto problems = problems_of(text);
  ASSERT_EQ(problems.size(), 1u) << describe(problems);
  EXPECT_EQ(problems[0].key, "intake.unix_socket");
  EXPECT_EQ(problems[0].line, line_of(text, "[intake]"));
  EXPECT_EQ(problems[0].message, "give unix_socket and/or tcp_port (or enabled = false)");

  EXPECT_TRUE(problems_of(std::string(kKernel) + "\n[intake]\ntcp_port = 0\n").empty()); // any free port
  EXPECT_TRUE(problems_of(std::string(kKernel) + "\n[intake]\nunix_socket = \"s.sock\"\n").empty());
  const RunConfig disabled = parse_config(std::string(kKernel) + "\n[intake]\nenabled = false\n", "t").run;
  EXPECT_FALSE(disabled.intake.enabled);
}

TEST(RunConfig, a_conversion_spread_outside_zero_to_ten_percent_is_refused) {
  // 1.5 booked a credit at a negative price, lowering the user's dollars;
  // a negative one pays users at the operator's expense.
  for (const char* spread : {"1.5", "-0.01", "0.1000001"}) {
    const std::string text = std::string(kKernel) + "\n[liability]\nconversion_spread = " + spread + "\n";
    const auto problems = problems_of(text);
    ASSERT_EQ(problems.size(), 1u) << spread << ": " << describe(problems);
    EXPECT_EQ(problems[0].key, "liability.conversion_spread");
    EXPECT_EQ(problems[0].message, "must be from 0 to 0.1 (10 %)");
  }
  for (const char* spread : {"0", "0.005", "0.1"}) {
    EXPECT_TRUE(problems_of(std::string(kKernel) + "\n[liability]\nconversion_spread = " + spread + "\n").empty())
        << spread;
  }
}

TEST(RunConfig, an_intake_listening_beyond_loopback_is_refused) {
  // The line protocol has no authentication: on 0.0.0.0 anyone on the
  // network could credit dollars.
  for (const char* host : {"0.0.0.0", "10.0.0.5", "::", "wallet.example"}) {
    const std::string text = std::string(kKernel) + "\n[intake]\ntcp_host = \"" + host + "\"\ntcp_port = 0\n";
    const auto problems = problems_of(text);
    ASSERT_EQ(problems.size(), 1u) << host << ": " << describe(problems);
    EXPECT_EQ(problems[0].key, "intake.tcp_host");
    EXPECT_NE(problems[0].message.find("is not loopback"), std::string::npos) << problems[0].message;
  }
  for (const char* host : {"127.0.0.1", "::1", "localhost"}) {
    EXPECT_TRUE(problems_of(std::string(kKernel) + "\n[intake]\ntcp_host = \"" + host + "\"\ntcp_port = 0\n").empty())
        << host;
  }
}

TEST(RunConfig, a_nats_ack_wait_below_a_tenth_of_a_second_is_refused) {
  const std::string text = std::string(kKernel) + "\n[nats]\nack_wait_seconds = 0.05\n";
  const auto problems = problems_of(text);
  ASSERT_EQ(problems.size(), 1u) << describe(problems);
  EXPECT_EQ(problems[0].key, "nats.ack_wait_seconds");
  EXPECT_EQ(problems[0].line, line_of(text, "[nats]"));
  EXPECT_EQ(problems[0].message, "must be at least 0.1");

  const RunConfig at_limit = parse_config(std::string(kKernel) + "\n[nats]\nack_wait_seconds = 0.1\n", "t").run;
  EXPECT_EQ(at_limit.nats.options.ack_wait_ms, 100);
}

TEST(RunConfig, a_nats_ack_wait_beyond_an_int_of_milliseconds_is_refused) {
  // NatsOptions::ack_wait_ms is an int: a longer wait must not wrap around.
  const std::string text = std::string(kKernel) + "\n[nats]\nack_wait_seconds = 2147484\n";
  const auto problems = problems_of(text);
  ASSERT_EQ(problems.size(), 1u) << describe(problems);
  EXPECT_EQ(problems[0].key, "nats.ack_wait_seconds");
  EXPECT_EQ(problems[0].message, "must be at most 2147483");

  const RunConfig at_limit = parse_config(std::string(kKernel) + "\n[nats]\nack_wait_seconds = 2147483\n", "t").run;
  EXPECT_EQ(at_limit.nats.options.ack_wait_ms, 2'147'483'000);
}

TEST(RunConfig, the_liability_sections_fill_the_liabilities_stage_option_structs) {
  static_assert(std::is_same_v<decltype(IntakeSection::options), liabilities::IntakeOptions>);
  static_assert(std::is_same_v<decltype(LndSection::options), liabilities::LndOptions>);
  static_assert(std::is_same_v<decltype(NatsSection::options), liabilities::NatsOptions>);
  const RunConfig run = parse_config(std::string(kKernel) + R"(
[intake]
unix_socket = "/run/synthusd/liability.sock"
max_line_bytes = 65536

[lnd]
host = "10.0.0.9"
macaroon_file = "/etc/synthusd/invoice.macaroon"
tls_cert_file = "/etc/synthusd/lnd.cert"
idle_resubscribe_seconds = 900
backfill_from_add_index = 0
backfill_page_size = 250
debits = true
debits_from_payment_index = 41
debits_poll_ms = 5000

[nats]
durable = "standby"
ack_wait_seconds = 12.25
)",
                                     "test.toml")
                            .run;
  const liabilities::IntakeOptions& intake = run.intake.options;
  EXPECT_TRUE(run.intake.enabled);
  EXPECT_EQ(intake.unix_socket_path, "/run/synthusd/liability.sock");
  EXPECT_EQ(intake.max_line_bytes, 65'536u);

  const liabilities::LndOptions& lnd = run.lnd.options;
  EXPECT_TRUE(run.lnd.enabled);
  EXPECT_EQ(lnd.host, "10.0.0.9");
  EXPECT_EQ(lnd.macaroon_file, "/etc/synthusd/invoice.macaroon");
  EXPECT_EQ(lnd.tls_cert_file, "/etc/synthusd/lnd.cert");
  EXPECT_EQ(lnd.idle_resubscribe_ms, 900'000);
  EXPECT_EQ(lnd.backfill_from_add_index, 0);
  EXPECT_EQ(lnd.backfill_page_size, 250);
  EXPECT_TRUE(lnd.debits);
  EXPECT_EQ(lnd.debits_from_payment_index, 41);
  EXPECT_EQ(lnd.debits_poll_ms, 5000);
  EXPECT_EQ(lnd.debits_page_size, liabilities::LndOptions{}.debits_page_size);
  EXPECT_TRUE(lnd.debits_state_file.empty()); // derived by `run`
  EXPECT_TRUE(lnd.state_file.empty());        // derived by `run`, never read from the file
  const liabilities::LndOptions lnd_defaults;
  EXPECT_EQ(lnd.max_line_bytes, lnd_defaults.max_line_bytes); // not a file key: the stage's default
  EXPECT_EQ(lnd.reconnect_max_ms, lnd_defaults.reconnect_max_ms);

  const liabilities::NatsOptions& nats = run.nats.options;
  EXPECT_TRUE(run.nats.enabled);
  EXPECT_EQ(nats.durable, "standby");
  EXPECT_EQ(nats.ack_wait_ms, 12'250);
  EXPECT_FALSE(nats.on_reject); // set by `run`
  EXPECT_EQ(nats.fetch_batch, liabilities::NatsOptions{}.fetch_batch);
}

TEST(RunConfig, lnd_backfill_and_idle_keys_out_of_range_are_refused_by_name) {
  const std::string text =
      std::string(kKernel) +
      "\n[lnd]\nbackfill_from_add_index = -2\nbackfill_page_size = 0\nidle_resubscribe_seconds = -1\n";
  const auto problems = problems_of(text);
  ASSERT_EQ(problems.size(), 3u) << describe(problems);
  EXPECT_EQ(problems[0].key, "lnd.backfill_from_add_index");
  EXPECT_EQ(problems[1].key, "lnd.backfill_page_size");
  EXPECT_EQ(problems[2].key, "lnd.idle_resubscribe_seconds");
}

TEST(RunConfig, a_present_liability_table_without_keys_gets_the_engine_defaults) {
  // The defaults `synthusd run` used before the sections held the stage's
  // structs (the two agreed on every key).
  const RunConfig run =
      parse_config(std::string(kKernel) + "\n[intake]\ntcp_port = 0\n\n[lnd]\n\n[nats]\n", "test.toml").run;
  EXPECT_TRUE(run.intake.enabled);
  EXPECT_TRUE(run.intake.options.unix_socket_path.empty());
  EXPECT_EQ(run.intake.options.tcp_host, "127.0.0.1");
  EXPECT_EQ(run.intake.options.max_line_bytes, 4096u);
  EXPECT_TRUE(run.lnd.enabled);
  EXPECT_EQ(run.lnd.options.host, "127.0.0.1");
  EXPECT_EQ(run.lnd.options.port, 8080);
  EXPECT_TRUE(run.lnd.options.tls);
  EXPECT_TRUE(run.lnd.options.macaroon_file.empty());
  EXPECT_TRUE(run.nats.enabled);
  EXPECT_EQ(run.nats.options.url, "nats://127.0.0.1:4222");
  EXPECT_EQ(run.nats.options.stream, "SYNTHUSD_LIABILITY");
  EXPECT_EQ(run.nats.options.subject, "synthusd.liability");
  EXPECT_EQ(run.nats.options.durable, "synthusd-engine");
  EXPECT_FALSE(run.nats.options.create_stream);
  EXPECT_EQ(run.nats.options.ack_wait_ms, 30'000);
}

TEST(RunConfig, the_liability_limits_fill_the_admissions_limits) {
  const RunConfig run = parse_config(std::string(test_support::kTwoVenueKernel) +
                                         "\n[liability]\nmax_event_usd = 2500.50\nmax_event_btc = 0.5\n"
                                         "max_daily_usd = 100000\nmax_future_seconds = 1.5\n"
                                         "max_past_seconds = 120\nmax_backfill_days = 30\n",
                                     "t")
                            .run;
  EXPECT_EQ(run.liability.limits.max_event_usd_cents, 250'050);
  EXPECT_EQ(run.liability.limits.max_event_sats, 50'000'000);
  EXPECT_EQ(run.liability.limits.max_daily_usd_cents, 10'000'000);
  EXPECT_EQ(run.liability.limits.max_future_ms, 1'500);
  EXPECT_EQ(run.liability.limits.max_past_ms, 120'000);
  EXPECT_EQ(run.liability.limits.max_backfill_ms, 30 * 86'400'000LL);
  const RunConfig defaults = parse_config(std::string(test_support::kTwoVenueKernel), "t").run;
  EXPECT_EQ(defaults.liability.limits.max_event_usd_cents, liabilities::AdmissionLimits{}.max_event_usd_cents);
  // The issue's window: 10 minutes each way for live payments.
  EXPECT_EQ(defaults.liability.limits.max_future_ms, 600'000);
  EXPECT_EQ(defaults.liability.limits.max_past_ms, 600'000);
  EXPECT_EQ(defaults.liability.limits.max_backfill_ms, 3'650 * 86'400'000LL);
}

TEST(RunConfig, liability_limits_outside_their_range_are_problems_with_their_line) {
  const std::string text =
      std::string(test_support::kTwoVenueKernel) +
      "\n[liability]\nmax_event_usd = 0\nmax_future_seconds = 100000\nmax_past_seconds = -1\nmax_backfill_days = 0\n";
  const auto problems = problems_of(text);
  ASSERT_EQ(problems.size(), 4u) << describe(problems);
  EXPECT_EQ(problems[0].key, "liability.max_event_usd");
  EXPECT_EQ(problems[0].message, "must be positive");
  EXPECT_EQ(problems[0].line, line_of(text, "[liability]"));
  EXPECT_EQ(problems[1].key, "liability.max_future_seconds");
  EXPECT_EQ(problems[1].line, line_of(text, "max_future_seconds"));
  EXPECT_EQ(problems[2].key, "liability.max_past_seconds");
  EXPECT_EQ(problems[2].message, "must be between 0 and 86400");
  EXPECT_EQ(problems[3].key, "liability.max_backfill_days");
  EXPECT_EQ(problems[3].message, "must be between 1 and 36500");
}

} // namespace
} // namespace synthusd::engine
