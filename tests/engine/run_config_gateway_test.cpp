// The run config's [[gateways]] transport and request credits: clear-text
// FIX only to loopback unless plain_tcp says otherwise (TLS goes through a
// local tunnel, engine/DEPLOYMENT.md), and each venue's request credits for
// pre-trade risk, Deribit's documented default for the deribit dialect.
#include <gtest/gtest.h>

#include <string>

#include "config_test_support.hpp"
#include "synthusd/engine/config_file.hpp"

namespace synthusd::engine {
namespace {

using test_support::describe;
using test_support::line_of;
using test_support::problems_of;

constexpr const char* kKernel = test_support::kTwoVenueKernel;

// FIX goes out in clear text: to a host beyond loopback only through a
// local TLS tunnel, or with the explicit opt-in.
TEST(RunConfig, deny_clear_text_fix_to_a_host_that_is_not_loopback_without_plain_tcp) {
  const std::string text = std::string(kKernel) + R"(
[[gateways]]
venue = "deribit"
host = "fix.deribit.com"
port = 9881

[[gateways]]
venue = "okx"
host = "localhost"
port = 19883
)";
  const auto problems = problems_of(text);
  ASSERT_EQ(problems.size(), 1u) << describe(problems);
  EXPECT_EQ(problems[0].key, "gateways[0].host");
  EXPECT_EQ(problems[0].line, line_of(text, "\"fix.deribit.com\""));
  EXPECT_NE(problems[0].message.find("plain_tcp = true"), std::string::npos) << problems[0].message;
}

// Deribit's request credits (docs.deribit.com/articles/rate-limits) are
// the deribit dialect's default; a generic venue has none unless set.
TEST(RunConfig, gateway_request_credits_default_to_deribits_and_refuse_a_cost_above_the_pool) {
  const std::string text = std::string(kKernel) + R"(
[[gateways]]
venue = "deribit"
dialect = "deribit"
port = 1

[[gateways]]
venue = "okx"
port = 2
request_credits = 1000
request_credits_refill_per_second = 100
request_credits_per_request = 10
)";
  const RunConfig run = parse_config(text, "t").run;
  ASSERT_EQ(run.gateways.size(), 2u);
  EXPECT_EQ(run.gateways[0].credits.maximum, 50'000);
  EXPECT_EQ(run.gateways[0].credits.refill_per_second, 10'000);
  EXPECT_EQ(run.gateways[0].credits.cost, 500);
  EXPECT_EQ(run.gateways[1].credits.maximum, 1'000);
  EXPECT_EQ(run.gateways[1].credits.cost, 10);

  const std::string bad = std::string(kKernel) + R"(
[[gateways]]
venue = "deribit"
dialect = "deribit"
port = 1
request_credits_per_request = 60000
)";
  const auto problems = problems_of(bad);
  ASSERT_EQ(problems.size(), 1u) << describe(problems);
  EXPECT_EQ(problems[0].key, "gateways[0].request_credits_per_request");
}

} // namespace
} // namespace synthusd::engine
