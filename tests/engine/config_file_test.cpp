#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "config_test_support.hpp"
#include "synthusd/engine/config_file.hpp"

namespace synthusd::engine {
namespace {

using hedging::Ratio;
using hedging::UsdCents;

constexpr const char* kMinimal = R"(
[[venues]]
id = 1
name = "okx"

[[instruments]]
id = 1
venue = "okx"
symbol = "BTC-USD-SWAP"
contract_value_usd = 100
)";

std::vector<ConfigProblem> problems_of(const std::string& text) {
  try {
    (void)parse_config(text, "test.toml");
  } catch (const ConfigError& error) {
    return error.problems();
  }
  return {};
}

TEST(ConfigFile, the_shipped_config_loads_and_matches_the_reference_venues) {
  const EngineConfig config = load_config(SYNTHUSD_SOURCE_DIR "/config/synthusd.toml");
  const hedging::KernelConfig reference = hedging::reference_config();
  ASSERT_EQ(config.kernel.venues.size(), reference.venues.size());
  ASSERT_EQ(config.kernel.instruments.size(), reference.instruments.size());
  for (std::size_t i = 0; i < reference.instruments.size(); ++i) {
    EXPECT_EQ(config.kernel.instruments[i].contract_value, reference.instruments[i].contract_value) << i;
    EXPECT_EQ(config.kernel.instruments[i].symbol, reference.instruments[i].symbol) << i;
    EXPECT_EQ(config.kernel.instruments[i].tick_size, reference.instruments[i].tick_size) << i;
  }
  EXPECT_EQ(config.kernel.bands.policy, hedging::PolicyKind::banded);
  EXPECT_EQ(config.kernel.bands.low_bound, Ratio::from_ppm(999'000));
  EXPECT_EQ(config.kernel.bands.low_safe_bound, Ratio::from_ppm(999'500));
  EXPECT_EQ(config.kernel.collateral.minimum_transfer, UsdCents{10'000});
  EXPECT_EQ(config.kernel.funding_guard.engage_below, Ratio::from_ppm(-100));
}

TEST(ConfigFile, naming_a_policy_brings_its_own_bounds_and_explicit_bounds_override_them) {
  const auto bands_of = [](const std::string& section) {
    return parse_config(std::string(kMinimal) + "\n[bands]\n" + section, "test.toml").kernel.bands;
  };
  const hedging::BandConfig banded = bands_of("policy = \"banded\"\n");
  EXPECT_EQ(banded.policy, hedging::PolicyKind::banded);
  EXPECT_EQ(banded.low_bound, Ratio::from_ppm(999'000));
  EXPECT_EQ(banded.high_bound, Ratio::from_ppm(1'001'000));
  EXPECT_EQ(banded.low_safe_bound, Ratio::from_ppm(999'500)) << "halfway back";
  EXPECT_EQ(banded.high_safe_bound, Ratio::from_ppm(1'000'500));
  const hedging::BandConfig stablesats = bands_of("policy = \"stablesats\"\n");
  EXPECT_EQ(stablesats.policy, hedging::PolicyKind::stablesats);
  EXPECT_EQ(stablesats.low_bound, Ratio::from_ppm(950'000));
  EXPECT_EQ(stablesats.low_safe_bound, Ratio::from_ppm(980'000));
  EXPECT_EQ(stablesats.high_bound, Ratio::from_ppm(1'030'000));
  const hedging::BandConfig wider = bands_of("policy = \"banded\"\nlow_bound = 0.99\n");
  EXPECT_EQ(wider.low_bound, Ratio::from_ppm(990'000));
  EXPECT_EQ(wider.high_bound, Ratio::from_ppm(1'001'000));
}

TEST(ConfigFile, without_a_policy_the_bands_are_the_project_default_banded_ones) {
  // check-config used to say "policy stablesats" for a file without [bands]
  // policy, while the shipped config documents banded as the default.
  const hedging::BandConfig banded = hedging::default_bands(hedging::PolicyKind::banded);
  for (const std::string& extra : {std::string(), std::string("\n[bands]\nminimum_order_contracts = 2\n")}) {
    const hedging::BandConfig bands =
        parse_config(std::string(test_support::kTwoVenueKernel) + extra, "t").kernel.bands;
    EXPECT_EQ(bands.policy, hedging::PolicyKind::banded);
    EXPECT_EQ(bands.low_bound, banded.low_bound);
    EXPECT_EQ(bands.high_bound, banded.high_bound);
  }
  const hedging::BandConfig stablesats =
      parse_config(std::string(test_support::kTwoVenueKernel) + "\n[bands]\npolicy = \"stablesats\"\n", "t")
          .kernel.bands;
  EXPECT_EQ(stablesats.policy, hedging::PolicyKind::stablesats); // one key away
  EXPECT_EQ(stablesats.low_bound, hedging::Ratio::from_ppm(950'000));
}

TEST(ConfigFile, every_venue_at_weight_zero_is_refused_as_a_hedge_that_never_happens) {
  std::string text = test_support::kTwoVenueKernel;
  text.replace(text.find("name = \"okx\"\n"), 13, "name = \"okx\"\nweight = 0\n");
  text.replace(text.find("name = \"deribit\"\n"), 17, "name = \"deribit\"\nweight = 0\n");
  const auto problems = test_support::problems_of(text);
  ASSERT_EQ(problems.size(), 1u) << test_support::describe(problems);
  EXPECT_EQ(problems[0].key, "venues");
  EXPECT_EQ(problems[0].message, "every venue has weight 0: nothing would ever be hedged (give one a weight)");
  text.replace(text.find("name = \"okx\"\nweight = 0\n"), 23, "name = \"okx\"\n");
  EXPECT_TRUE(test_support::problems_of(text).empty());
}

TEST(ConfigFile, a_second_entry_for_the_same_contract_on_a_venue_is_refused_with_its_line) {
  const std::string text = std::string(test_support::kTwoVenueKernel) +
                           "\n[[instruments]]\nid = 3\nvenue = \"deribit\"\nsymbol = \"BTC-PERPETUAL\"\n"
                           "contract_value_usd = 10\n";
  const auto problems = test_support::problems_of(text);
  ASSERT_EQ(problems.size(), 1u) << test_support::describe(problems);
  EXPECT_EQ(problems[0].key, "instruments[2].symbol");
  EXPECT_EQ(problems[0].message, "venue 'deribit' already has an instrument 'BTC-PERPETUAL'");
  // The same symbol on another venue is another contract.
  std::string other = text;
  other.replace(other.rfind("venue = \"deribit\""), 17, "venue = \"okx\"");
  EXPECT_TRUE(test_support::problems_of(other).empty()) << test_support::describe(test_support::problems_of(other));
}

TEST(ConfigFile, numbers_are_read_exactly_without_float_rounding) {
  const EngineConfig config = parse_config(std::string(kMinimal) + R"(
[bands]
low_bound = 0.9301
minimum_liability_usd = "49.99"
[collateral]
liquidation_alert_distance = 0.15
low_safe_bound = 2.5
high_safe_bound = 2.5
deposit_above = 3.2
)",
                                           "test.toml");
  EXPECT_EQ(config.kernel.collateral.deposit_above, Ratio{320'000'000});
  EXPECT_EQ(config.kernel.collateral.high_safe_bound, Ratio{250'000'000});
  EXPECT_EQ(config.kernel.bands.low_bound, Ratio{93'010'000});
  EXPECT_EQ(config.kernel.bands.minimum_liability, UsdCents{4'999});
  EXPECT_EQ(config.kernel.collateral.liquidation_alert_distance, Ratio{15'000'000});
  EXPECT_EQ(config.kernel.instruments[0].contract_value, UsdCents{10'000});
}

TEST(ConfigFile, an_unknown_key_is_an_error_with_its_line) {
  const auto problems = problems_of(std::string(kMinimal) + "\n[bands]\nlow_bund = 0.9\n");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].key, "bands.low_bund");
  EXPECT_EQ(problems[0].line, 13u);
  EXPECT_EQ(problems[0].message, "unknown key");
  EXPECT_EQ(problems[0].to_string(), "test.toml:13: bands.low_bund: unknown key");
}

TEST(ConfigFile, every_problem_is_reported_in_one_pass) {
  const auto problems = problems_of(R"([[venues]]
id = "one"
name = "okx"

[[instruments]]
id = 1
venue = "kraken"
symbol = "BTC-USD-SWAP"
taker_fee = "a lot"

[bands]
policy = "yolo"
)");
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_EQ(problems[0].key, "venues[0].id");
  EXPECT_EQ(problems[0].line, 2u);
  EXPECT_EQ(problems[1].key, "instruments[0].venue");
  EXPECT_EQ(problems[1].line, 7u);
  EXPECT_NE(problems[1].message.find("kraken"), std::string::npos);
  EXPECT_EQ(problems[2].key, "instruments[0].taker_fee");
  EXPECT_EQ(problems[2].line, 9u);
  EXPECT_EQ(problems[3].key, "bands.policy");
  EXPECT_EQ(problems[3].line, 12u);
}

TEST(ConfigFile, a_missing_required_key_is_named) {
  const auto problems =
      problems_of("[[venues]]\nname = \"okx\"\n[[instruments]]\nid = 1\nvenue = \"okx\"\nsymbol = \"X\"\n");
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems[0].key, "venues[0].id");
  EXPECT_EQ(problems[0].message, "missing (required)");
}

TEST(ConfigFile, cross_field_rules_come_from_kernel_validation) {
  const auto problems =
      problems_of(std::string(kMinimal) + "\n[bands]\nlow_bound = 0.9996\n"); // above banded low_safe_bound 0.9995
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].message.find("low_bound <= low_safe_bound"), std::string::npos) << problems[0].message;
}

TEST(ConfigFile, toml_syntax_errors_carry_their_line) {
  const auto problems = problems_of("[[venues]]\nid = 1\nname = \"okx\n");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].line, 3u);
}

TEST(ConfigFile, a_missing_file_is_explained) {
  const auto problems = [] {
    try {
      (void)load_config("/nonexistent/synthusd.toml");
    } catch (const ConfigError& error) {
      return error.problems();
    }
    return std::vector<ConfigProblem>{};
  }();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].message, "cannot open the file");
}

// What `synthusd check-config <file>` prints on stderr: ConfigError::what()
// of load_config(), one "file:line: key: message" per problem.
std::string check_config_output(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + name;
  {
    std::ofstream out(path);
    out << text;
  }
  try {
    (void)load_config(path);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "ok";
}

constexpr const char* kTwoVenues = test_support::kTwoVenueKernel; // 19 lines

TEST(ConfigFile, check_config_names_the_protocols_and_dialects_the_stages_accept) {
  const std::string text = std::string(kTwoVenues) + R"(
[[feeds]]
venue = "deribit"
protocol = "bitmex"
host = "www.deribit.com"
symbols = ["BTC-PERPETUAL"]

[[gateways]]
venue = "deribit"
dialect = "Deribit"
port = 9881

[oracle]
min_sources = 1
jump_confirmations = 1
)";
  const std::string path = testing::TempDir() + "bad_names.toml";
  EXPECT_EQ(check_config_output("bad_names.toml", text),
            path + ":23: feeds[0].protocol: unknown protocol 'bitmex' (deribit, okx or binance)\n" + path +
                ":29: gateways[0].dialect: unknown dialect 'Deribit' (generic or deribit)\n");
}

TEST(ConfigFile, check_config_reports_a_feed_or_gateway_venue_that_is_not_configured_with_its_line) {
  const std::string text = std::string(kTwoVenues) + R"(
[[feeds]]
venue = "bybit"
protocol = "okx"
host = "stream.bybit.com"
symbols = ["BTCUSD"]

[[feeds]]
venue = "okx"
protocol = "okx"
host = "ws.okx.com"
symbols = ["BTC-USD-SWAP", "BTC-USDT-SWAP"]

[[gateways]]
venue = "okx"
port = 9000

[[gateways]]
venue = "bitmex"
port = 9001
)";
  const std::string path = testing::TempDir() + "bad_venues.toml";
  EXPECT_EQ(check_config_output("bad_venues.toml", text),
            path + ":22: feeds[0].venue: names no [[venues]] entry 'bybit'\n" + path +
                ":25: feeds[0].symbols: 'BTCUSD' is no [[instruments]] symbol of venue 'bybit'\n" + path +
                ":31: feeds[1].symbols: 'BTC-USDT-SWAP' is no [[instruments]] symbol of venue 'okx'\n" + path +
                ":38: gateways[1].venue: names no [[venues]] entry 'bitmex'\n");
}

TEST(ConfigFile, durations_are_exact_to_the_nanosecond_and_a_finer_or_negative_one_is_refused) {
  const EngineConfig config = parse_config(std::string(kMinimal) + R"(
[funding_guard]
engage_after_hours = 0.0005
move_after_seconds = 0.25
[carry]
roll_before_expiry_hours = 1.5
funding_average_hours = 0
repay_switch = false
)",
                                           "test.toml");
  // 0.0005 h is 1.8 s: once rounded to whole milli-hours it was 0, and the
  // guard engaged on the first negative reading.
  EXPECT_EQ(config.kernel.funding_guard.engage_after, hedging::Duration::from_milliseconds(1'800));
  EXPECT_EQ(config.kernel.carry.roll_before_expiry, hedging::Duration::from_seconds(5'400));
  EXPECT_EQ(config.kernel.carry.funding_average_window, hedging::Duration{}) << "0: the rate itself";
  EXPECT_FALSE(config.kernel.carry.repay_switch);
  EXPECT_EQ(config.kernel.funding_guard.move_after, hedging::Duration::from_milliseconds(250));
  EXPECT_EQ(parse_config(kMinimal, "test.toml").kernel.carry.funding_average_window, hedging::Duration::from_hours(24));
  const std::vector<ConfigProblem> problems = problems_of(std::string(kMinimal) + R"(
[funding_guard]
engage_after_hours = 0.0000000001
[risk_trigger]
close_after_seconds = -60
)");
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].key, "funding_guard.engage_after_hours");
  EXPECT_NE(problems[0].message.find("not a usable number"), std::string::npos) << problems[0].message;
  EXPECT_EQ(problems[1].key, "risk_trigger.close_after_seconds");
  EXPECT_EQ(problems[1].message, "must not be negative");
}

TEST(ConfigFile, risk_routes_send_a_markets_positions_to_an_instrument_of_its_venue) {
  const EngineConfig config = parse_config(std::string(kTwoVenues) + R"(
[[risk_routes]]
market = 7
instrument = 2
)",
                                           "test.toml");
  ASSERT_EQ(config.kernel.risk_routes.size(), 1u);
  EXPECT_EQ(config.kernel.risk_routes[0].market, 7);
  EXPECT_EQ(config.kernel.risk_routes[0].instrument, 2);
  EXPECT_EQ(config.kernel.risk_routes[0].venue, 2); // deribit's, from the instrument
  const std::string text = std::string(kTwoVenues) + R"(
[[risk_routes]]
market = 7
instrument = 9

[[risk_routes]]
market = 7
instrument = 1
)";
  const std::vector<ConfigProblem> problems = problems_of(text);
  ASSERT_EQ(problems.size(), 2u) << test_support::describe(problems);
  EXPECT_EQ(problems[0].key, "risk_routes[0].instrument");
  EXPECT_EQ(problems[0].message, "names no [[instruments]] id 9");
  EXPECT_EQ(problems[1].key, "risk_routes[1].market");
  EXPECT_EQ(problems[1].message, "market 7 already has a route");
}

TEST(ConfigFile, check_config_accepts_feeds_and_gateways_naming_configured_venues) {
  const std::string text = std::string(kTwoVenues) + R"(
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
  EXPECT_EQ(check_config_output("good_venues.toml", text), "ok");
  const EngineConfig config = load_config(testing::TempDir() + "good_venues.toml");
  ASSERT_EQ(config.run.feeds.size(), 1u);
  EXPECT_EQ(config.run.feeds[0].protocol, feeds::Venue::deribit);
  ASSERT_EQ(config.run.gateways.size(), 1u);
  EXPECT_EQ(config.run.gateways[0].dialect, fix::Dialect::deribit);
}

} // namespace
} // namespace synthusd::engine

namespace synthusd::engine {
namespace {

// The kernel sizes a linear contract as paying its P&L in BTC at every mark;
// a USD(C)-settled one would be over-hedged as the price falls. So a linear
// instrument says how it settles, and only "btc" is taken.
TEST(ConfigFile, a_linear_contract_must_say_it_settles_in_btc_and_a_usd_settled_one_is_refused_by_name) {
  const std::string linear = std::string(test_support::kTwoVenueKernel) + R"(
[[instruments]]
id = 3
venue = "deribit"
symbol = "BTC_USDC-PERPETUAL"
kind = "linear_perpetual"
contract_size_btc = 0.001
)";
  auto problems = test_support::problems_of(linear);
  ASSERT_EQ(problems.size(), 1u) << test_support::describe(problems);
  EXPECT_EQ(problems[0].key, "instruments[2].settlement");
  EXPECT_NE(problems[0].message.find("missing"), std::string::npos) << problems[0].message;

  problems = test_support::problems_of(linear + "settlement = \"usdc\"\n");
  ASSERT_EQ(problems.size(), 1u) << test_support::describe(problems);
  EXPECT_EQ(problems[0].key, "instruments[2].settlement");
  EXPECT_NE(problems[0].message.find("'usdc' is not supported"), std::string::npos) << problems[0].message;
  EXPECT_NE(problems[0].message.find("hedged by the BTC held"), std::string::npos) << problems[0].message;

  problems = test_support::problems_of(linear + "settlement = \"btc\"\n");
  EXPECT_TRUE(problems.empty()) << test_support::describe(problems);
  const EngineConfig config = parse_config(linear + "settlement = \"btc\"\n", "test.toml");
  EXPECT_EQ(config.kernel.instruments[2].kind, hedging::InstrumentKind::linear_perpetual);

  // An inverse contract always settles in BTC: the key may say so, nothing else.
  problems = test_support::problems_of(std::string(test_support::kTwoVenueKernel) + R"(
[[instruments]]
id = 3
venue = "okx"
symbol = "BTC-USD-241227"
kind = "inverse_future"
contract_value_usd = 100
settlement = "usd"
)");
  ASSERT_EQ(problems.size(), 1u) << test_support::describe(problems);
  EXPECT_EQ(problems[0].key, "instruments[2].settlement");
}

} // namespace
} // namespace synthusd::engine
