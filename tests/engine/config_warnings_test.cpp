// config_warnings(): what check-config says about a configuration that is
// valid but would not do what it seems to (a venue that never comes up).

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "config_test_support.hpp"
#include "synthusd/engine/config_file.hpp"
#include "synthusd/venue/decimal.hpp"

namespace synthusd::engine {
namespace {

// okx (weight 1 by default) and deribit; deribit has a feed and a gateway.
const std::string kDeribitTrades = std::string(test_support::kTwoVenueKernel) + R"(
[[feeds]]
venue = "deribit"
protocol = "deribit"
host = "www.deribit.com"
symbols = ["BTC-PERPETUAL"]

[[gateways]]
venue = "deribit"
dialect = "deribit"
port = 9881

[oracle]
min_sources = 1
jump_confirmations = 1
)";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

TEST(ConfigWarnings, warn_about_a_weighted_venue_without_a_gateway_naming_the_key) {
  const std::vector<std::string> warnings = config_warnings(parse_config(kDeribitTrades, "test.toml"));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].rfind("venues[0].weight: venue 'okx' has weight 1 but no [[gateways]] entry", 0), 0u)
      << warnings[0];
}

TEST(ConfigWarnings, a_price_source_only_venue_says_so_with_weight_zero_and_is_not_warned_about) {
  const std::string text = replace(kDeribitTrades, "name = \"okx\"\n", "name = \"okx\"\nweight = 0\n");
  EXPECT_TRUE(config_warnings(parse_config(text, "test.toml")).empty());
}

TEST(ConfigWarnings, warn_about_a_venue_with_a_gateway_but_no_feed) {
  std::string text = replace(kDeribitTrades, "name = \"okx\"\n", "name = \"okx\"\nweight = 0\n");
  text += R"(
[[gateways]]
venue = "okx"
port = 9882
target_comp_id = "OKX"
)";
  const std::vector<std::string> warnings = config_warnings(parse_config(text, "test.toml"));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].rfind("venues[0]: venue 'okx' has a [[gateways]] entry but no [[feeds]] entry", 0), 0u)
      << warnings[0];
}

TEST(ConfigWarnings, a_kernel_only_config_without_gateways_is_not_warned_about) {
  EXPECT_TRUE(config_warnings(parse_config(test_support::kTwoVenueKernel, "test.toml")).empty());
}

TEST(ConfigWarnings, the_shipped_configs_list_no_venue_that_never_comes_up) {
  EXPECT_TRUE(config_warnings(load_config(SYNTHUSD_SOURCE_DIR "/config/synthusd.toml")).empty());
}

// Deribit's BTC-27DEC24 settles 2024-12-27 08:00 UTC; the kernel rolls out a
// day before by default.
const std::string kWithDecemberFuture = kDeribitTrades + R"(
[[instruments]]
id = 3
venue = "deribit"
symbol = "BTC-27DEC24"
kind = "inverse_future"
contract_value_usd = 10
)";

hedging::Timestamp utc(const char* text) { return *venue::parse_utc_time(text); }

std::vector<std::string> warnings_about(const std::vector<std::string>& warnings, const std::string& needle) {
  std::vector<std::string> found;
  for (const std::string& warning : warnings) {
    if (warning.find(needle) != std::string::npos) {
      found.push_back(warning);
    }
  }
  return found;
}

TEST(ConfigWarnings, warn_about_a_dated_future_that_has_expired_naming_it_and_when) {
  const EngineConfig config = parse_config(kWithDecemberFuture, "test.toml", utc("2024-12-01T00:00:00Z"));
  const std::vector<std::string> after =
      warnings_about(config_warnings(config, utc("2025-01-05T00:00:00Z")), "BTC-27DEC24");
  ASSERT_EQ(after.size(), 1u);
  EXPECT_NE(after[0].find("instrument 'BTC-27DEC24' on deribit expired at 2024-12-27T08:00:00Z"), std::string::npos)
      << after[0];
  // Up to a day before expiry it is hedged on; inside the roll window the
  // warning says what the kernel does instead.
  EXPECT_TRUE(warnings_about(config_warnings(config, utc("2024-12-26T07:59:59Z")), "BTC-27DEC24").empty());
  const std::vector<std::string> inside =
      warnings_about(config_warnings(config, utc("2024-12-26T08:00:00Z")), "BTC-27DEC24");
  ASSERT_EQ(inside.size(), 1u);
  EXPECT_NE(inside[0].find("expires at 2024-12-27T08:00:00Z, within [carry] roll_before_expiry_hours (24 h)"),
            std::string::npos)
      << inside[0];
}

TEST(ConfigWarnings, a_series_weekly_inside_its_roll_window_is_not_warned_about) {
  // series = "deribit" lists the calendar's futures at load: the weekly
  // rolling off is by design, the next one is listed beside it.
  const std::string text = kDeribitTrades + R"(
[[instruments]]
id = 10
venue = "deribit"
symbol = "BTC"
kind = "inverse_future"
series = "deribit"
contract_value_usd = 10
)";
  const hedging::Timestamp thursday_noon = utc("2024-12-05T12:00:00Z"); // BTC-6DEC24 expires in 20 h
  const EngineConfig config = parse_config(text, "test.toml", thursday_noon);
  ASSERT_TRUE(std::any_of(config.kernel.instruments.begin(), config.kernel.instruments.end(),
                          [](const hedging::InstrumentSpec& spec) { return spec.symbol.view() == "BTC-6DEC24"; }));
  EXPECT_TRUE(warnings_about(config_warnings(config, thursday_noon), "BTC-6DEC24").empty());
}

TEST(ConfigRules, check_config_says_whether_netting_and_the_risk_trigger_are_live) {
  const std::vector<std::string> off = describe_rules(parse_config(kDeribitTrades, "test.toml"));
  ASSERT_EQ(off.size(), 2u);
  EXPECT_EQ(off[0], "netting: off (no [intake] or [nats] source carries provider interest)");
  EXPECT_EQ(off[1], "risk trigger: off (no [[risk_routes]] entry: the [risk_trigger] keys are unused)");
  const std::vector<std::string> on = describe_rules(parse_config(kDeribitTrades + R"(
[intake]
unix_socket = "liability.sock"

[[risk_routes]]
market = 7
instrument = 2
)",
                                                                  "test.toml"));
  ASSERT_EQ(on.size(), 2u);
  EXPECT_EQ(on[0], "netting: on (provider_increase / provider_decrease lines on the intake are netted against the "
                   "liability)");
  EXPECT_EQ(on[1], "risk trigger: on for 1 market(s): 7 -> instrument 2 ([risk_trigger] keys active)");
}

} // namespace
} // namespace synthusd::engine
