#include "synthusd/venue/venue_config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <limits>
#include <sstream>
#include <system_error>

#include "synthusd/venue/decimal.hpp"

namespace synthusd::venue {
namespace {

constexpr std::array kSettings{
    Setting{"acceptance", "acceptance", SettingKind::flag,
            "behave as QuickFIX's acceptance-test acceptor (ISLD <- TW44, echo application); needs --data-dictionary"},
    Setting{"fix.port", "fix-port", SettingKind::value, "FIX acceptor port; 0 picks a free one and prints it"},
    Setting{"fix.sender_comp_id", "sender-comp-id", SettingKind::value, "the venue's SenderCompID (DERIBITSERVER)"},
    Setting{"fix.target_comp_ids", "target-comp-id", SettingKind::list,
            "client CompIDs, one session and account each (SYNTHUSD); repeat or comma-separate"},
    Setting{"fix.store", "fix-store", SettingKind::value, "message store: memory (default) or file"},
    Setting{"fix.store_path", "fix-store-path", SettingKind::value,
            "directory of the file store, with --fix-store file (venue-store)"},
    Setting{"fix.log_path", "fix-log", SettingKind::value, "directory for QuickFIX's message log (none by default)"},
    Setting{"fix.data_dictionary", "data-dictionary", SettingKind::value,
            "QuickFIX XML spec to validate inbound messages against, e.g. FIX44.xml (none by default)"},
    Setting{"fix.validate_user_defined_fields", "validate-user-defined-fields", SettingKind::value,
            "with a dictionary: reject undefined tags >= 5000 (false)"},
    Setting{"fix.reset_on_logon", "reset-on-logon", SettingKind::value, "reset sequence numbers on logon (true)"},
    Setting{"fix.dialect", "fix-dialect", SettingKind::value,
            "reply shapes: fix44 (textbook) or deribit (Deribit's documented shapes)"},
    Setting{"fix.logon_secret", "logon-secret", SettingKind::value,
            "require Deribit-style logon: Password(554) = base64(sha256(RawData(96) + secret))"},
    Setting{"fix.cancel_on_disconnect", "cancel-on-disconnect", SettingKind::flag,
            "cancel a client's open orders when its session logs out"},
    Setting{"websocket.enabled", "websocket", SettingKind::value, "serve Deribit-format tickers over WebSocket (true)"},
    Setting{"websocket.port", "ws-port", SettingKind::value, "WebSocket port on 127.0.0.1; 0 picks a free one"},
    Setting{"websocket.ticker_interval_ms", "ticker-interval-ms", SettingKind::value,
            "wall-clock milliseconds between ticker notifications (100)"},
    Setting{"websocket.timestamps", "ticker-timestamps", SettingKind::value,
            "ticker timestamps: simulated (default) or wall"},
    Setting{"instrument.symbol", "symbol", SettingKind::value, "instrument name (BTC-PERPETUAL)"},
    Setting{"instrument.contract_value_usd", "contract-value", SettingKind::value, "USD per contract (10)"},
    Setting{"instrument.tick_size", "tick-size", SettingKind::value, "price tick in USD (0.5)"},
    Setting{"instrument.spread_ticks", "spread-ticks", SettingKind::value, "ask - bid, in ticks (1)"},
    Setting{"instrument.touch_size", "touch-size", SettingKind::value,
            "contracts available per side and path point; 0 = unlimited (0)"},
    Setting{"instrument.max_order_size", "max-order-size", SettingKind::value, "largest order, contracts (10000000)"},
    Setting{"futures.names", "future", SettingKind::list,
            "dated inverse futures served next to the perpetual, e.g. BTC-27DEC24; repeat or comma-separate (none)"},
    Setting{"futures.expiry_seconds", "future-expiry-seconds", SettingKind::list,
            "per future: simulated seconds from the start to its expiry and delivery (1 .. 31622400)"},
    Setting{"futures.annual_basis", "future-annual-basis", SettingKind::list,
            "per future: its premium over the index, annualised, decaying to 0 at expiry (-0.5 .. 1)"},
    Setting{"path.csv", "price-csv", SettingKind::value,
            "replay prices from this CSV (epoch_s/epoch_ms/timestamp + close/price columns) instead of GBM"},
    Setting{"path.seed", "seed", SettingKind::value, "GBM seed (1)"},
    Setting{"path.start_price", "start-price", SettingKind::value, "GBM start price, USD (60000)"},
    Setting{"path.start_time", "start-time", SettingKind::value,
            "GBM start, ISO 8601 UTC or epoch seconds (2024-01-01T00:00:00Z)"},
    Setting{"path.step_ms", "step-ms", SettingKind::value, "GBM step, simulated milliseconds (1000)"},
    Setting{"path.steps", "steps", SettingKind::value, "GBM steps (604800); the last price holds afterwards"},
    Setting{"path.drift", "drift", SettingKind::value, "GBM annual drift (0)"},
    Setting{"path.volatility", "volatility", SettingKind::value, "GBM annual volatility (0.8)"},
    Setting{"path.jumps_per_year", "jumps-per-year", SettingKind::value, "GBM jump intensity (12)"},
    Setting{"path.jump_mean", "jump-mean", SettingKind::value, "GBM mean log jump (0)"},
    Setting{"path.jump_volatility", "jump-volatility", SettingKind::value, "GBM log jump volatility (0.1)"},
    Setting{"clock.time_scale", "time-scale", SettingKind::value,
            "simulated seconds per wall-clock second (1); 0 freezes the simulated clock"},
    Setting{"fees.maker", "maker-fee", SettingKind::value, "maker fee rate, negative for a rebate (0)"},
    Setting{"fees.taker", "taker-fee", SettingKind::value, "taker fee rate (0.0005)"},
    Setting{"margin.initial", "initial-margin", SettingKind::value, "initial margin ratio I (0.02)"},
    Setting{"margin.liquidation", "liquidation-margin", SettingKind::value,
            "liquidation ratio L: liquidate when equity < position value * L (0.01)"},
    Setting{"margin.collateral_btc", "collateral", SettingKind::value, "each account's starting collateral, BTC (1)"},
    Setting{"funding.rate", "funding-rate", SettingKind::value, "constant 8-hour funding rate (0.0001)"},
    Setting{"funding.csv", "funding-csv", SettingKind::value,
            "funding rates from CSV (interest_8h or funding_rate column) instead of the constant"},
    Setting{"funding.interval_hours", "funding-interval-hours", SettingKind::value, "hours between fundings (8)"},
    Setting{"faults.fill_slices", "fill-slices", SettingKind::value, "split every fill into N execution reports (1)"},
    Setting{"faults.reject_every", "reject-every", SettingKind::value, "reject every Nth new order; 0 = never (0)"},
    Setting{"faults.reject_above", "reject-above", SettingKind::value,
            "reject orders above N contracts; 0 = never (0)"},
    Setting{"wallet.enabled", "wallet", SettingKind::value,
            "serve Deribit's private wallet methods and the test chain over HTTP (false)"},
    Setting{"wallet.port", "wallet-port", SettingKind::value, "wallet HTTP port on 127.0.0.1; 0 picks a free one"},
    Setting{"wallet.client_id", "wallet-client-id", SettingKind::value, "Basic auth user of the wallet methods"},
    Setting{"wallet.client_secret", "wallet-client-secret", SettingKind::value, "Basic auth password"},
    Setting{"wallet.account", "wallet-account", SettingKind::value,
            "the account (CompID) the credentials act for; empty: the first"},
    Setting{"wallet.credit_delay_ms", "wallet-credit-delay-ms", SettingKind::value,
            "deposits are credited this long after the chain saw them; -1 = never (1000)"},
    Setting{"wallet.withdrawal_delay_ms", "wallet-withdrawal-delay-ms", SettingKind::value,
            "withdrawals reach the chain this long after the request (1000)"},
    Setting{"wallet.tls_cert_file", "wallet-tls-cert", SettingKind::value,
            "serve the wallet API over TLS presenting this PEM certificate (with wallet.tls_key_file)"},
    Setting{"wallet.tls_key_file", "wallet-tls-key", SettingKind::value, "the PEM private key of wallet.tls_cert_file"},
    Setting{"wallet.idle_timeout_ms", "wallet-idle-timeout-ms", SettingKind::value,
            "close a wallet connection this long after it was accepted if its TLS handshake, request or answer is "
            "not done (10000; at most 64 connections are open at once)"},
};

// Names the setting both ways it can be given: the TOML key and the flag.
[[noreturn]] void bad(std::string_view key, const std::string& value, std::string_view expected) {
  std::string name(key);
  for (const Setting& setting : kSettings) {
    if (setting.key == key) {
      name += " (--" + std::string(setting.flag) + ")";
    }
  }
  throw ConfigError(name + ": '" + value + "' is not " + std::string(expected));
}

[[nodiscard]] bool to_bool(std::string_view key, const std::string& value) {
  if (value == "true" || value == "1" || value == "yes" || value == "on") {
    return true;
  }
  if (value == "false" || value == "0" || value == "no" || value == "off") {
    return false;
  }
  bad(key, value, "true or false");
}

[[nodiscard]] std::int64_t to_integer(std::string_view key, const std::string& value, std::int64_t minimum,
                                      std::int64_t maximum) {
  std::int64_t result = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), result);
  if (error != std::errc{} || end != value.data() + value.size() || result < minimum || result > maximum) {
    bad(key, value, "an integer from " + std::to_string(minimum) + " to " + std::to_string(maximum));
  }
  return result;
}

// A decimal at `decimals` places, exactly (no rounding), within bounds.
[[nodiscard]] std::int64_t to_scaled(std::string_view key, const std::string& value, int decimals, std::int64_t minimum,
                                     std::int64_t maximum) {
  const std::optional<std::int64_t> scaled = parse_exact_decimal(value, decimals);
  if (!scaled || *scaled < minimum || *scaled > maximum) {
    bad(key, value, "a decimal with at most " + std::to_string(decimals) + " places in range");
  }
  return *scaled;
}

// The price model's parameters only (floating point by nature); never money.
// from_chars reads "nan" and "inf", so the range check is what refuses them.
[[nodiscard]] double to_double(std::string_view key, const std::string& value, double low, double high) {
  double result = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), result);
  if (error != std::errc{} || end != value.data() + value.size() || !(result >= low && result <= high)) {
    std::ostringstream expected;
    expected << "a number from " << low << " to " << high;
    bad(key, value, expected.str());
  }
  return result;
}

[[nodiscard]] std::vector<std::string> to_list(const std::string& value) {
  std::vector<std::string> items;
  std::stringstream stream(value);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (!item.empty()) {
      items.push_back(item);
    }
  }
  return items;
}

constexpr std::int64_t kMaxInt = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kRatioScale = Ratio::kScale;
// The generated path is held in memory, 16 bytes a point (more with dated
// futures): ten million points (116 days at 1 s) is 160 MB.
constexpr std::int64_t kMaxPathSteps = 10'000'000;

void apply_wallet(WalletConfig& wallet, std::string_view key, const std::string& value) {
  constexpr std::int64_t kDay = 86'400'000;
  constexpr std::int64_t kHour = 3'600'000;
  if (key == "wallet.enabled") {
    wallet.enabled = to_bool(key, value);
  } else if (key == "wallet.port") {
    wallet.port = static_cast<std::uint16_t>(to_integer(key, value, 0, 65'535));
  } else if (key == "wallet.client_id") {
    wallet.client_id = value;
  } else if (key == "wallet.client_secret") {
    wallet.client_secret = value;
  } else if (key == "wallet.account") {
    wallet.account = value;
  } else if (key == "wallet.credit_delay_ms") {
    wallet.credit_delay_ms = to_integer(key, value, -1, kDay);
  } else if (key == "wallet.withdrawal_delay_ms") {
    wallet.withdrawal_delay_ms = to_integer(key, value, 0, kDay);
  } else if (key == "wallet.tls_cert_file") {
    wallet.tls_certificate_file = value;
  } else if (key == "wallet.tls_key_file") {
    wallet.tls_key_file = value;
  } else if (key == "wallet.idle_timeout_ms") {
    wallet.idle_timeout_ms = to_integer(key, value, 1, kHour);
  }
}

void apply(VenueConfig& config, std::string_view key, const std::string& value) {
  EngineConfig& engine = config.engine;
  PricePathSettings& path = config.path;
  if (key == "acceptance") {
    config.fix.acceptance = to_bool(key, value);
  } else if (key == "fix.port") {
    config.fix.port = static_cast<std::uint16_t>(to_integer(key, value, 0, 65'535));
  } else if (key == "fix.sender_comp_id") {
    config.fix.sender_comp_id = value;
  } else if (key == "fix.target_comp_ids") {
    config.fix.target_comp_ids = to_list(value);
    if (config.fix.target_comp_ids.empty()) {
      bad(key, value, "a list of CompIDs");
    }
  } else if (key == "fix.store") {
    if (value != "memory" && value != "file") {
      bad(key, value, "memory or file");
    }
    config.file_store = value == "file";
  } else if (key == "fix.store_path") {
    config.file_store_path = value;
  } else if (key == "fix.log_path") {
    config.fix.log_path = value;
  } else if (key == "fix.data_dictionary") {
    config.fix.data_dictionary = value;
  } else if (key == "fix.validate_user_defined_fields") {
    config.fix.validate_user_defined_fields = to_bool(key, value);
  } else if (key == "fix.reset_on_logon") {
    config.fix.reset_on_logon = to_bool(key, value);
  } else if (key == "fix.dialect") {
    if (value != "fix44" && value != "deribit") {
      bad(key, value, "fix44 or deribit");
    }
    config.fix.deribit_replies = value == "deribit";
  } else if (key == "fix.logon_secret") {
    config.fix.logon_secret = value;
  } else if (key == "fix.cancel_on_disconnect") {
    config.cancel_on_disconnect = to_bool(key, value);
  } else if (key.starts_with("wallet.")) {
    apply_wallet(config.wallet, key, value);
  } else if (key == "websocket.enabled") {
    config.websocket_enabled = to_bool(key, value);
  } else if (key == "websocket.port") {
    config.websocket_port = static_cast<std::uint16_t>(to_integer(key, value, 0, 65'535));
  } else if (key == "websocket.ticker_interval_ms") {
    config.ticker_interval = Duration::from_milliseconds(to_integer(key, value, 1, 3'600'000));
  } else if (key == "websocket.timestamps") {
    if (value != "simulated" && value != "wall") {
      bad(key, value, "simulated or wall");
    }
    config.wall_clock_timestamps = value == "wall";
  } else if (key == "instrument.symbol") {
    engine.symbol = value;
  } else if (key == "instrument.contract_value_usd") {
    engine.contract_value = UsdCents{to_scaled(key, value, 2, 1, 100'000'000)};
  } else if (key == "instrument.tick_size") {
    engine.tick_size = Price{to_scaled(key, value, 8, 1, kMaxInt)};
  } else if (key == "instrument.spread_ticks") {
    engine.spread_ticks = to_integer(key, value, 1, 1'000'000);
  } else if (key == "instrument.touch_size") {
    engine.touch_size = Contracts{to_integer(key, value, 0, kMaxInt)};
  } else if (key == "instrument.max_order_size") {
    engine.max_order_size = Contracts{to_integer(key, value, 1, 10'000'000)};
  } else if (key == "futures.names") {
    const std::vector<std::string> names = to_list(value);
    if (names.size() > kMaxFutures) {
      bad(key, value, "at most " + std::to_string(kMaxFutures) + " names");
    }
    config.futures.resize(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (names[i].size() > 31 || names[i] == engine.symbol) {
        bad(key, names[i], "a name of at most 31 characters other than the perpetual's");
      }
      for (std::size_t j = 0; j < i; ++j) {
        if (names[j] == names[i]) {
          bad(key, names[i], "a name listed once");
        }
      }
      config.futures[i].name = names[i];
    }
  } else if (key == "futures.expiry_seconds" || key == "futures.annual_basis") {
    const std::vector<std::string> items = to_list(value);
    if (items.size() != config.futures.size()) {
      bad(key, value, "a list as long as futures.names (" + std::to_string(config.futures.size()) + ")");
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (key == "futures.expiry_seconds") {
        config.futures[i].expires_after = Duration::from_seconds(to_integer(key, items[i], 1, 366 * 86'400));
      } else {
        config.futures[i].annual_basis = Ratio{to_scaled(key, items[i], 8, -kRatioScale / 2, kRatioScale)};
      }
    }
  } else if (key == "path.csv") {
    path.csv_path = value;
  } else if (key == "path.seed") {
    path.seed = static_cast<std::uint64_t>(to_integer(key, value, 0, kMaxInt));
  } else if (key == "path.start_price") {
    path.start_price = Price{to_scaled(key, value, 8, 1, kMaxInt)};
  } else if (key == "path.start_time") {
    const std::optional<Timestamp> time = parse_utc_time(value);
    if (!time) {
      bad(key, value, "an ISO 8601 UTC time or epoch seconds");
    }
    path.start_time = *time;
  } else if (key == "path.step_ms") {
    path.step = Duration::from_milliseconds(to_integer(key, value, 1, 86'400'000));
  } else if (key == "path.steps") {
    path.steps = to_integer(key, value, 1, kMaxPathSteps);
  } else if (key == "path.drift") {
    path.annual_drift = to_double(key, value, -10, 10); // -1000 % to +1000 % a year
  } else if (key == "path.volatility") {
    path.annual_volatility = to_double(key, value, 0, 20);
  } else if (key == "path.jumps_per_year") {
    path.jumps_per_year = to_double(key, value, 0, 1e6);
  } else if (key == "path.jump_mean") {
    path.jump_mean = to_double(key, value, -2, 2); // log: e^-2 to e^2
  } else if (key == "path.jump_volatility") {
    path.jump_volatility = to_double(key, value, 0, 2);
  } else if (key == "clock.time_scale") {
    config.time_scale_millionths = to_scaled(key, value, 6, 0, 1'000'000'000'000);
  } else if (key == "fees.maker") {
    engine.maker_fee = Ratio{to_scaled(key, value, 8, -kRatioScale, kRatioScale)};
  } else if (key == "fees.taker") {
    engine.taker_fee = Ratio{to_scaled(key, value, 8, -kRatioScale, kRatioScale)};
  } else if (key == "margin.initial") {
    engine.initial_margin = Ratio{to_scaled(key, value, 8, 1, kRatioScale)};
  } else if (key == "margin.liquidation") {
    engine.liquidation_margin = Ratio{to_scaled(key, value, 8, 0, kRatioScale)};
  } else if (key == "margin.collateral_btc") {
    engine.initial_collateral = Sats{to_scaled(key, value, 8, 0, 21'000'000 * hedging::kSatsPerBitcoin)};
  } else if (key == "funding.rate") {
    config.funding_rate = Ratio{to_scaled(key, value, 8, -kRatioScale, kRatioScale)};
  } else if (key == "funding.csv") {
    config.funding_csv = value;
  } else if (key == "funding.interval_hours") {
    engine.funding_interval = Duration::from_hours(to_integer(key, value, 1, std::int64_t{24} * 365));
  } else if (key == "faults.fill_slices") {
    engine.fill_slices = to_integer(key, value, 1, 1'000);
  } else if (key == "faults.reject_every") {
    engine.reject_every = to_integer(key, value, 0, kMaxInt);
  } else if (key == "faults.reject_above") {
    engine.reject_above = Contracts{to_integer(key, value, 0, kMaxInt)};
  } else {
    throw ConfigError("unknown setting " + std::string(key));
  }
}

[[nodiscard]] const Setting* find_setting(std::string_view key) {
  for (const Setting& setting : kSettings) {
    if (setting.key == key) {
      return &setting;
    }
  }
  return nullptr;
}

[[nodiscard]] std::string scalar_text(const toml::node& node, std::string_view key, std::string_view source) {
  if (const auto* text = node.as_string()) {
    return text->get();
  }
  if (const auto* integer = node.as_integer()) {
    return std::to_string(integer->get());
  }
  if (const auto* boolean = node.as_boolean()) {
    return boolean->get() ? "true" : "false";
  }
  if (const auto* floating = node.as_floating_point()) {
    // Shortest text that reads back as the same double: "0.0005" stays
    // "0.0005". Write decimals as strings to avoid binary floating point.
    std::array<char, 64> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), floating->get());
    return {buffer.data(), result.ptr};
  }
  throw ConfigError(std::string(source) + ": " + std::string(key) + ": expected a string, number or boolean");
}

void collect(const toml::table& table, const std::string& prefix, std::string_view source, SettingValues& out) {
  for (const auto& [name, node] : table) {
    const std::string key = prefix.empty() ? std::string(name.str()) : prefix + "." + std::string(name.str());
    if (const auto* child = node.as_table()) {
      collect(*child, key, source, out);
      continue;
    }
    const Setting* setting = find_setting(key);
    if (setting == nullptr) {
      std::ostringstream message;
      message << source << ':' << node.source().begin.line << ": unknown key " << key;
      throw ConfigError(message.str());
    }
    if (const auto* array = node.as_array()) {
      if (setting->kind != SettingKind::list) {
        throw ConfigError(std::string(source) + ": " + key + ": expected a single value");
      }
      std::string joined;
      for (const toml::node& item : *array) {
        joined += joined.empty() ? "" : ",";
        joined += scalar_text(item, key, source);
      }
      out[key] = joined;
    } else {
      out[key] = scalar_text(node, key, source);
    }
  }
}

} // namespace

std::span<const Setting> settings() { return kSettings; }

SettingValues parse_toml(std::string_view text, std::string_view source) {
  // Debian builds toml++ with exceptions: a syntax error throws.
  toml::table table;
  try {
    table = toml::parse(text, source);
  } catch (const toml::parse_error& error) {
    std::ostringstream message;
    message << source << ':' << error.source().begin.line << ": " << error.description();
    throw ConfigError(message.str());
  }
  SettingValues values;
  collect(table, "", source, values);
  return values;
}

SettingValues read_toml(const std::string& path) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& error) {
    std::ostringstream message;
    message << path << ':' << error.source().begin.line << ": " << error.description();
    throw ConfigError(message.str());
  }
  SettingValues values;
  collect(table, "", path, values);
  return values;
}

VenueConfig make_config(const SettingValues& values) {
  VenueConfig config;
  const auto acceptance = values.find("acceptance");
  if (acceptance != values.end() && to_bool("acceptance", acceptance->second)) {
    // QuickFIX's test/setup.sh: the FIX.4.4 session ISLD <- TW44.
    config.fix.sender_comp_id = "ISLD";
    config.fix.target_comp_ids = {"TW44"};
    config.fix.reset_on_logon = true;
    config.websocket_enabled = false;
  }
  for (const Setting& setting : kSettings) {
    const auto found = values.find(setting.key);
    if (found != values.end()) {
      apply(config, setting.key, found->second);
    }
  }
  for (const auto& [key, value] : values) {
    if (find_setting(key) == nullptr) {
      throw ConfigError("unknown setting " + key);
    }
  }
  const bool expiry_given = values.contains("futures.expiry_seconds");
  if (!config.futures.empty() && !expiry_given) {
    throw ConfigError("futures.expiry_seconds: required with futures.names, one per future");
  }
  config.fix.file_store_path = config.file_store ? config.file_store_path : std::string();
  if (config.fix.acceptance && config.fix.data_dictionary.empty()) {
    throw ConfigError("acceptance: --data-dictionary (FIX44.xml) is required, as the reference acceptor validates");
  }
  if (config.wallet.enabled && (config.wallet.client_id.empty() || config.wallet.client_secret.empty())) {
    throw ConfigError("wallet: client_id and client_secret are required when the wallet is enabled");
  }
  if (config.wallet.tls_certificate_file.empty() != config.wallet.tls_key_file.empty()) {
    throw ConfigError("wallet: tls_cert_file and tls_key_file are set together (TLS) or not at all (plain HTTP)");
  }
  if (config.engine.liquidation_margin > config.engine.initial_margin) {
    throw ConfigError("margin: the liquidation ratio L must not exceed the initial margin ratio I");
  }
  // The wallet acts for one FIX account: a CompID no session uses would
  // move collateral of an account nobody trades (a typo, not a choice).
  if (!config.wallet.account.empty() && std::find(config.fix.target_comp_ids.begin(), config.fix.target_comp_ids.end(),
                                                  config.wallet.account) == config.fix.target_comp_ids.end()) {
    std::string known;
    for (const std::string& id : config.fix.target_comp_ids) {
      known += (known.empty() ? "" : ", ") + id;
    }
    throw ConfigError("wallet.account: '" + config.wallet.account + "' is not one of fix.target_comp_ids (" + known +
                      ")");
  }
  return config;
}

} // namespace synthusd::venue
