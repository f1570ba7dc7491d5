// synthusd-venue's settings: TOML keys, command-line values, acceptance
// defaults and the errors a typo produces.

#include "synthusd/venue/venue_config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

namespace {

using namespace synthusd::venue;

TEST(VenueConfigTest, DefaultsAreDeribitLike) {
  const VenueConfig config = make_config({});
  EXPECT_EQ(config.fix.sender_comp_id, "DERIBITSERVER");
  EXPECT_EQ(config.fix.target_comp_ids, (std::vector<std::string>{"SYNTHUSD"}));
  EXPECT_EQ(config.engine.symbol, "BTC-PERPETUAL");
  EXPECT_EQ(config.engine.contract_value, UsdCents{1'000});
  EXPECT_EQ(config.engine.initial_margin, Ratio::from_ppm(20'000));
  EXPECT_EQ(config.engine.liquidation_margin, Ratio::from_ppm(10'000));
  EXPECT_TRUE(config.websocket_enabled);
  EXPECT_EQ(config.time_scale_millionths, 1'000'000);
}

TEST(VenueConfigTest, ReadsEverySectionOfATomlFile) {
  const SettingValues values = parse_toml(R"(
[fix]
port = 9881
target_comp_ids = ["GW1", "GW2"]
store = "file"

[instrument]
tick_size = "0.5"
touch_size = 500

[path]
csv = "prices.csv"
seed = 7

[clock]
time_scale = 60

[fees]
taker = 0.0005
maker = "-0.0001"

[margin]
initial = "0.1"
liquidation = "0.05"

[faults]
fill_slices = 3
)",
                                          "venue.toml");
  const VenueConfig config = make_config(values);
  EXPECT_EQ(config.fix.port, 9881);
  EXPECT_EQ(config.fix.target_comp_ids, (std::vector<std::string>{"GW1", "GW2"}));
  EXPECT_EQ(config.fix.file_store_path, "venue-store");
  EXPECT_EQ(make_config({{"fix.store_path", "elsewhere"}}).fix.file_store_path, ""); // memory unless store = file
  EXPECT_EQ(config.engine.tick_size, Price{50'000'000});
  EXPECT_EQ(config.engine.touch_size, Contracts{500});
  EXPECT_EQ(config.path.csv_path, "prices.csv");
  EXPECT_EQ(config.path.seed, 7U);
  EXPECT_EQ(config.time_scale_millionths, 60'000'000);
  EXPECT_EQ(config.engine.taker_fee, Ratio{50'000});
  EXPECT_EQ(config.engine.maker_fee, Ratio{-10'000});
  EXPECT_EQ(config.engine.initial_margin, Ratio{10'000'000});
  EXPECT_EQ(config.engine.fill_slices, 3);
}

TEST(VenueConfigTest, UnknownKeysAndBadValuesAreErrors) {
  EXPECT_THROW((void)parse_toml("[fix]\nprot = 1\n", "venue.toml"), ConfigError);
  EXPECT_THROW((void)parse_toml("[fix\n", "venue.toml"), ConfigError);
  EXPECT_THROW((void)make_config({{"fix.port", "70000"}}), ConfigError);
  EXPECT_THROW((void)make_config({{"fees.taker", "abc"}}), ConfigError);
  EXPECT_THROW((void)make_config({{"instrument.tick_size", "0.000000001"}}), ConfigError);
  EXPECT_THROW((void)make_config({{"no.such", "1"}}), ConfigError);
  // L above I would liquidate positions the venue just accepted.
  EXPECT_THROW((void)make_config({{"margin.initial", "0.01"}, {"margin.liquidation", "0.02"}}), ConfigError);
  try {
    (void)parse_toml("[fix]\nport = 1\nprot = 1\n", "venue.toml");
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()), "venue.toml:3: unknown key fix.prot");
  }
}

TEST(VenueConfigTest, AcceptanceModeLooksLikeQuickFixsTestAcceptor) {
  EXPECT_THROW((void)make_config({{"acceptance", "true"}}), ConfigError); // needs the dictionary
  const VenueConfig config = make_config({{"acceptance", "true"}, {"fix.data_dictionary", "FIX44.xml"}});
  EXPECT_TRUE(config.fix.acceptance);
  EXPECT_EQ(config.fix.sender_comp_id, "ISLD");
  EXPECT_EQ(config.fix.target_comp_ids, (std::vector<std::string>{"TW44"}));
  EXPECT_TRUE(config.fix.reset_on_logon);
  EXPECT_FALSE(config.websocket_enabled);
  // Explicit settings still win.
  EXPECT_EQ(make_config({{"acceptance", "true"}, {"fix.data_dictionary", "x"}, {"fix.sender_comp_id", "X"}})
                .fix.sender_comp_id,
            "X");
}

TEST(VenueConfigTest, TheExampleFileSpellsOutTheDefaults) {
  const std::filesystem::path file = std::filesystem::path(SYNTHUSD_SOURCE_DIR) / "venue" / "config" / "venue.toml";
  const VenueConfig example = make_config(read_toml(file.string()));
  const VenueConfig defaults = make_config({});
  EXPECT_EQ(example.fix.sender_comp_id, defaults.fix.sender_comp_id);
  EXPECT_EQ(example.engine.tick_size, defaults.engine.tick_size);
  EXPECT_EQ(example.engine.taker_fee, defaults.engine.taker_fee);
  EXPECT_EQ(example.engine.initial_margin, defaults.engine.initial_margin);
  EXPECT_EQ(example.engine.liquidation_margin, defaults.engine.liquidation_margin);
  EXPECT_EQ(example.engine.initial_collateral, defaults.engine.initial_collateral);
  EXPECT_EQ(example.funding_rate, defaults.funding_rate);
  EXPECT_EQ(example.path.steps, defaults.path.steps);
  EXPECT_EQ(example.path.start_time, defaults.path.start_time);
  EXPECT_EQ(example.time_scale_millionths, defaults.time_scale_millionths);
  EXPECT_EQ(example.wallet.idle_timeout_ms, defaults.wallet.idle_timeout_ms);
}

TEST(VenueConfigTest, EverySettingHasADistinctKeyAndFlag) {
  std::set<std::string_view> keys;
  std::set<std::string_view> flags;
  for (const Setting& setting : settings()) {
    EXPECT_TRUE(keys.insert(setting.key).second) << setting.key;
    EXPECT_TRUE(flags.insert(setting.flag).second) << setting.flag;
    EXPECT_FALSE(setting.help.empty()) << setting.key;
  }
}

TEST(VenueConfigTest, ThePricePathsParametersAreFiniteAndBounded) {
  EXPECT_DOUBLE_EQ(make_config({{"path.volatility", "1.5"}}).path.annual_volatility, 1.5);
  EXPECT_DOUBLE_EQ(make_config({{"path.drift", "-0.5"}}).path.annual_drift, -0.5);
  // from_chars reads these as numbers; the venue must not generate a path from them.
  for (const char* bad : {"nan", "inf", "-inf", "-1", "21", "1e300", ""}) {
    EXPECT_THROW((void)make_config({{"path.volatility", bad}}), ConfigError) << bad;
  }
  for (const auto& [key, bad] :
       std::initializer_list<std::pair<const char*, const char*>>{{"path.drift", "nan"},
                                                                  {"path.drift", "11"},
                                                                  {"path.jumps_per_year", "-1"},
                                                                  {"path.jump_mean", "inf"},
                                                                  {"path.jump_volatility", "-0.1"}}) {
    EXPECT_THROW((void)make_config({{key, bad}}), ConfigError) << key << " = " << bad;
  }
  try {
    (void)make_config({{"path.volatility", "nan"}});
    FAIL() << "nan accepted";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("path.volatility (--volatility)"), std::string::npos) << error.what();
  }
}

TEST(VenueConfigTest, ThePathHoldsAtMostTenMillionSteps) {
  EXPECT_EQ(make_config({{"path.steps", "10000000"}}).path.steps, 10'000'000);
  EXPECT_THROW((void)make_config({{"path.steps", "10000001"}}), ConfigError);
}

TEST(VenueConfigTest, TheWalletAccountIsOneOfTheSessionsCompIds) {
  EXPECT_EQ(make_config({{"fix.target_comp_ids", "A,B"}, {"wallet.account", "B"}}).wallet.account, "B");
  EXPECT_EQ(make_config({{"fix.target_comp_ids", "A,B"}}).wallet.account, ""); // the first
  try {
    (void)make_config({{"fix.target_comp_ids", "A,B"}, {"wallet.account", "C"}});
    FAIL() << "an unknown CompID was accepted";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("'C' is not one of fix.target_comp_ids (A, B)"), std::string::npos)
        << error.what();
  }
}

} // namespace

TEST(VenueConfigTest, TheWalletTlsFilesAreSetTogetherOrNotAtAll) {
  const SettingValues wallet = {{"wallet.enabled", "true"}, {"wallet.client_id", "id"}, {"wallet.client_secret", "s"}};
  SettingValues both = wallet;
  both.emplace("wallet.tls_cert_file", "venue.cert");
  both.emplace("wallet.tls_key_file", "venue.key");
  const VenueConfig config = make_config(both);
  EXPECT_EQ(config.wallet.tls_certificate_file, "venue.cert");
  EXPECT_EQ(config.wallet.tls_key_file, "venue.key");
  EXPECT_TRUE(make_config(wallet).wallet.tls_certificate_file.empty());
  SettingValues certificate_only = wallet;
  certificate_only.emplace("wallet.tls_cert_file", "venue.cert");
  EXPECT_THROW((void)make_config(certificate_only), ConfigError);
  SettingValues key_only = wallet;
  key_only.emplace("wallet.tls_key_file", "venue.key");
  EXPECT_THROW((void)make_config(key_only), ConfigError);
}

TEST(VenueConfigTest, TheWalletIdleTimeoutIsTenSecondsByDefaultAndBounded) {
  EXPECT_EQ(make_config({}).wallet.idle_timeout_ms, 10'000);
  EXPECT_EQ(make_config({{"wallet.idle_timeout_ms", "200"}}).wallet.idle_timeout_ms, 200);
  EXPECT_EQ(make_config({{"wallet.idle_timeout_ms", "3600000"}}).wallet.idle_timeout_ms, 3'600'000);
  for (const char* bad : {"0", "-1", "3600001", "ten", ""}) {
    EXPECT_THROW((void)make_config({{"wallet.idle_timeout_ms", bad}}), ConfigError) << bad;
  }
}
