#pragma once
// synthusd-venue's configuration: one table of settings, each reachable as a
// command-line flag (--fix-port) and as a TOML key (fix.port). Values from
// the command line override the TOML file; unknown TOML keys are errors.
// Cold path: exceptions and allocation are fine here.

#include <cstdint>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "synthusd/venue/fix_server.hpp"
#include "synthusd/venue/matching_engine.hpp"
#include "synthusd/venue/wallet.hpp"

namespace synthusd::venue {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct PricePathSettings {
  std::string csv_path; // non-empty: replay this CSV; otherwise GBM with jumps
  std::uint64_t seed = 1;
  Price start_price = Price::from_dollars(60'000);
  Timestamp start_time{1'704'067'200LL * 1'000'000'000}; // 2024-01-01T00:00:00Z
  Duration step = Duration::from_seconds(1);
  std::int64_t steps = 7 * 86'400; // a week of one-second steps
  // Analytics inputs of hedging::generate_price_path (doubles by design).
  double annual_drift = 0.0;
  double annual_volatility = 0.8;
  double jumps_per_year = 12.0;
  double jump_mean = 0.0;
  double jump_volatility = 0.1;
};

// One dated future served next to the perpetual (dated_futures.hpp).
struct FutureSettings {
  std::string name;         // e.g. BTC-27DEC24 (Deribit naming)
  Duration expires_after{}; // simulated time from the price path's start
  Ratio annual_basis{};     // premium over the index, annualised
};
inline constexpr std::size_t kMaxFutures = 8;

struct VenueConfig {
  FixServerConfig fix; // fix.file_store_path is derived from the two below
  bool file_store = false;
  std::string file_store_path = "venue-store";
  bool websocket_enabled = true;
  std::uint16_t websocket_port = 0;
  Duration ticker_interval = Duration::from_milliseconds(100);
  bool wall_clock_timestamps = false; // ticker "timestamp": simulated (false) or wall clock
  EngineConfig engine;
  // Dated futures next to the perpetual, from the three parallel lists
  // futures.names, futures.expiry_seconds, futures.annual_basis.
  std::vector<FutureSettings> futures;
  PricePathSettings path;
  Ratio funding_rate{10'000}; // 0.01 % per 8 h, when no funding CSV is given
  std::string funding_csv;
  std::int64_t time_scale_millionths = 1'000'000; // simulated seconds per wall second, * 1e6
  bool cancel_on_disconnect = false;
  WalletConfig wallet;
};

enum class SettingKind : std::uint8_t { value, flag, list };

struct Setting {
  std::string_view key;  // TOML, dotted
  std::string_view flag; // command line, without the leading "--"
  SettingKind kind;
  std::string_view help;
};

// Every setting, in the order they are applied.
[[nodiscard]] std::span<const Setting> settings();

// Values by TOML key. Lists are comma-separated; flags are "true"/"false".
using SettingValues = std::map<std::string, std::string, std::less<>>;

// Reads a TOML file into values. Throws ConfigError naming the file, the
// key and the problem (syntax error, unknown key, wrong type).
[[nodiscard]] SettingValues read_toml(const std::string& path);
[[nodiscard]] SettingValues parse_toml(std::string_view text, std::string_view source);

// Defaults, then acceptance-mode defaults if values["acceptance"] is true,
// then every value. Throws ConfigError on a bad value.
[[nodiscard]] VenueConfig make_config(const SettingValues& values);

} // namespace synthusd::venue
