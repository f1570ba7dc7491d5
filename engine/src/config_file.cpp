#include "synthusd/engine/config_file.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "synthusd/feeds/decimal.hpp"

namespace synthusd::engine {

std::string ConfigProblem::to_string() const {
  std::string text = file;
  if (line > 0) {
    text += ":" + std::to_string(line);
  }
  text += ": ";
  if (!key.empty()) {
    text += key + ": ";
  }
  return text + message;
}

namespace {

std::string join(const std::vector<ConfigProblem>& problems) {
  std::string text;
  for (const ConfigProblem& problem : problems) {
    text += problem.to_string() + "\n";
  }
  return text;
}

// Reads one TOML table, remembering which keys were understood so the rest
// can be reported as unknown.
class TableReader {
public:
  TableReader(std::vector<ConfigProblem>& problems, const toml::table& table, std::string path, std::string file)
      : problems_(problems), table_(table), path_(std::move(path)), file_(std::move(file)) {}

  ~TableReader() {
    for (const auto& [key, node] : table_) {
      if (known_.count(std::string(key.str())) == 0) {
        problem(node, std::string(key.str()), "unknown key");
      }
    }
  }

  TableReader(const TableReader&) = delete;
  TableReader& operator=(const TableReader&) = delete;

  const toml::node* find(std::string_view key) {
    known_.insert(std::string(key));
    return table_.get(key);
  }

  void problem(const toml::node& node, const std::string& key, const std::string& message) {
    problems_.push_back({file_, node.source().begin.line, qualified(key), message});
  }
  void problem_here(const std::string& key, const std::string& message) {
    problems_.push_back({file_, table_.source().begin.line, qualified(key), message});
  }

  // A decimal (TOML integer, float or "string") scaled by 10^decimals, exactly.
  bool decimal(std::string_view key, int decimals, std::int64_t& out, bool required = false) {
    const toml::node* node = find(key);
    if (node == nullptr) {
      if (required) {
        problem_here(std::string(key), "missing (required)");
      }
      return false;
    }
    std::string text;
    if (const auto* integer = node->as_integer()) {
      text = std::to_string(integer->get());
    } else if (const auto* floating = node->as_floating_point()) {
      // shortest round-trip text, then exact decimal parsing: 0.98 -> "0.98"
      char buffer[64];
      const auto result = std::to_chars(buffer, buffer + sizeof buffer, floating->get());
      text.assign(buffer, result.ptr);
    } else if (const auto* string = node->as_string()) {
      text = string->get();
    } else {
      problem(*node, std::string(key), "expected a number");
      return false;
    }
    const feeds::DecimalResult<std::int64_t> parsed = feeds::parse_decimal(text, decimals);
    if (!parsed.ok()) {
      problem(*node, std::string(key),
              "'" + text + "' is not a usable number (" + std::string(feeds::to_string(parsed.error)) + ")");
      return false;
    }
    out = parsed.value;
    return true;
  }

  void ratio(std::string_view key, hedging::Ratio& out) {
    std::int64_t raw = 0;
    if (decimal(key, 8, raw)) {
      out = hedging::Ratio{raw};
    }
  }
  void dollars(std::string_view key, hedging::UsdCents& out, bool required = false) {
    std::int64_t cents = 0;
    if (decimal(key, 2, cents, required)) {
      out = hedging::UsdCents{cents};
    }
  }
  void price(std::string_view key, hedging::Price& out) {
    std::int64_t raw = 0;
    if (decimal(key, 8, raw)) {
      out = hedging::Price{raw};
    }
  }
  void duration(std::string_view key, std::int64_t unit_seconds, hedging::Duration& out) {
    std::int64_t milli = 0;
    if (decimal(key, 3, milli)) {
      out = hedging::Duration{milli * unit_seconds * 1'000'000};
    }
  }
  template <typename Integer>
  bool integer(std::string_view key, Integer& out, std::int64_t minimum, std::int64_t maximum, bool required = false) {
    const toml::node* node = find(key);
    if (node == nullptr) {
      if (required) {
        problem_here(std::string(key), "missing (required)");
      }
      return false;
    }
    const auto* value = node->as_integer();
    if (value == nullptr) {
      problem(*node, std::string(key), "expected an integer");
      return false;
    }
    if (value->get() < minimum || value->get() > maximum) {
      problem(*node, std::string(key),
              "must be between " + std::to_string(minimum) + " and " + std::to_string(maximum));
      return false;
    }
    out = static_cast<Integer>(value->get());
    return true;
  }
  bool string(std::string_view key, std::string& out, bool required = false) {
    const toml::node* node = find(key);
    if (node == nullptr) {
      if (required) {
        problem_here(std::string(key), "missing (required)");
      }
      return false;
    }
    const auto* value = node->as_string();
    if (value == nullptr) {
      problem(*node, std::string(key), "expected a string");
      return false;
    }
    out = value->get();
    return true;
  }

  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }

private:
  std::string qualified(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  std::vector<ConfigProblem>& problems_;
  const toml::table& table_;
  std::string path_;
  std::string file_;
  std::set<std::string> known_;
};

const toml::table* subtable(TableReader& root, std::string_view key) {
  const toml::node* node = root.find(key);
  if (node == nullptr) {
    return nullptr;
  }
  if (const toml::table* table = node->as_table()) {
    return table;
  }
  root.problem(*node, std::string(key), "expected a table");
  return nullptr;
}

const toml::array* array_of_tables(TableReader& root, std::string_view key) {
  const toml::node* node = root.find(key);
  if (node == nullptr) {
    return nullptr;
  }
  if (const toml::array* array = node->as_array(); array != nullptr && array->is_array_of_tables()) {
    return array;
  }
  root.problem(*node, std::string(key), "expected an array of tables ([[" + std::string(key) + "]])");
  return nullptr;
}

void read_bands(TableReader& t, hedging::BandConfig& bands) {
  std::string policy;
  if (t.string("policy", policy) && !hedging::policy_from_name(policy, bands.policy)) {
    t.problem(*t.find("policy"), "policy", "unknown policy '" + policy + "' (expected stablesats or banded)");
  }
  t.ratio("low_bound", bands.low_bound);
  t.ratio("low_safe_bound", bands.low_safe_bound);
  t.ratio("high_safe_bound", bands.high_safe_bound);
  t.ratio("high_bound", bands.high_bound);
  t.dollars("minimum_liability_usd", bands.minimum_liability);
  t.integer("minimum_order_contracts", bands.minimum_order.value, 1, 1'000'000'000);
}

void read_collateral(TableReader& t, hedging::CollateralConfig& c) {
  t.ratio("low_bound", c.low_bound);
  t.ratio("low_safe_bound", c.low_safe_bound);
  t.ratio("high_safe_bound", c.high_safe_bound);
  t.ratio("high_bound", c.high_bound);
  t.dollars("minimum_transfer_usd", c.minimum_transfer);
  t.ratio("liquidation_alert_distance", c.liquidation_alert_distance);
}

std::optional<hedging::InstrumentKind> kind_from_name(std::string_view name) {
  if (name == "inverse_perpetual") {
    return hedging::InstrumentKind::inverse_perpetual;
  }
  if (name == "inverse_future") {
    return hedging::InstrumentKind::inverse_future;
  }
  if (name == "linear_perpetual") {
    return hedging::InstrumentKind::linear_perpetual;
  }
  return std::nullopt;
}

void read_instrument(TableReader& t, const std::map<std::string, hedging::VenueId>& venues,
                     hedging::InstrumentSpec& spec) {
  t.integer("id", spec.id, 0, hedging::kNoInstrument - 1, true);
  std::string venue;
  if (t.string("venue", venue, true)) {
    const auto found = venues.find(venue);
    if (found == venues.end()) {
      t.problem(*t.find("venue"), "venue", "names no [[venues]] entry '" + venue + "'");
    } else {
      spec.venue = found->second;
    }
  }
  std::string symbol;
  if (t.string("symbol", symbol, true)) {
    if (symbol.size() > hedging::Symbol::kCapacity) {
      t.problem(*t.find("symbol"), "symbol",
                "longer than " + std::to_string(hedging::Symbol::kCapacity) + " characters");
    }
    spec.symbol = hedging::Symbol(symbol);
  }
  std::string kind;
  if (t.string("kind", kind)) {
    if (const auto parsed = kind_from_name(kind)) {
      spec.kind = *parsed;
    } else {
      t.problem(*t.find("kind"), "kind",
                "unknown kind '" + kind + "' (inverse_perpetual, inverse_future, linear_perpetual)");
    }
  }
  t.dollars("contract_value_usd", spec.contract_value);
  std::int64_t size_sats = spec.contract_size.value;
  if (t.decimal("contract_size_btc", 8, size_sats)) {
    spec.contract_size = hedging::Sats{size_sats};
  }
  t.price("tick_size", spec.tick_size);
  t.integer("lot_size", spec.lot_size.value, 1, 1'000'000'000);
  t.integer("minimum_order", spec.minimum_order.value, 1, 1'000'000'000);
  t.ratio("maker_fee", spec.maker_fee);
  t.ratio("taker_fee", spec.taker_fee);
  t.ratio("maintenance_margin", spec.maintenance_margin);
  std::int64_t expiry_ms = 0;
  if (t.integer("expiry_unix_ms", expiry_ms, 0, INT64_MAX / 1'000'000)) {
    spec.expiry = hedging::Timestamp{expiry_ms * 1'000'000};
  }
  t.duration("funding_interval_hours", 3600, spec.funding_interval);
}

} // namespace

ConfigError::ConfigError(std::vector<ConfigProblem> problems)
    : std::runtime_error(join(problems)), problems_(std::move(problems)) {}

EngineConfig parse_config(std::string_view text, std::string_view file_name) {
  const std::string file(file_name);
  std::vector<ConfigProblem> problems;
  toml::table root_table;
  try {
    root_table = toml::parse(text, file_name);
  } catch (const toml::parse_error& error) {
    throw ConfigError({{file, error.source().begin.line, "", std::string(error.description())}});
  }

  EngineConfig config;
  hedging::KernelConfig& kernel = config.kernel;
  kernel.venues.clear();
  kernel.instruments.clear();
  {
    TableReader root(problems, root_table, "", file);
    std::map<std::string, hedging::VenueId> venue_ids;
    if (const toml::array* venues = array_of_tables(root, "venues")) {
      std::size_t index = 0;
      for (const toml::node& node : *venues) {
        TableReader t(problems, *node.as_table(), "venues[" + std::to_string(index++) + "]", file);
        hedging::VenueConfig venue;
        t.integer("id", venue.id, 0, hedging::kNoVenue - 1, true);
        t.string("name", venue.name, true);
        t.integer("weight", venue.weight, 0, 1'000'000);
        t.dollars("cap_usd", venue.cap);
        if (!venue.name.empty() && !venue_ids.emplace(venue.name, venue.id).second) {
          t.problem(*t.find("name"), "name", "duplicate venue name '" + venue.name + "'");
        }
        kernel.venues.push_back(venue);
      }
    } else {
      root.problem_here("venues", "at least one [[venues]] entry is required");
    }
    if (const toml::array* instruments = array_of_tables(root, "instruments")) {
      std::size_t index = 0;
      for (const toml::node& node : *instruments) {
        TableReader t(problems, *node.as_table(), "instruments[" + std::to_string(index++) + "]", file);
        hedging::InstrumentSpec spec;
        read_instrument(t, venue_ids, spec);
        kernel.instruments.push_back(spec);
      }
    } else {
      root.problem_here("instruments", "at least one [[instruments]] entry is required");
    }
    if (const toml::table* table = subtable(root, "bands")) {
      TableReader t(problems, *table, "bands", file);
      read_bands(t, kernel.bands);
    }
    if (const toml::table* table = subtable(root, "carry")) {
      TableReader t(problems, *table, "carry", file);
      t.ratio("switch_hysteresis", kernel.carry.switch_hysteresis);
      t.duration("roll_before_expiry_hours", 3600, kernel.carry.roll_before_expiry);
    }
    if (const toml::table* table = subtable(root, "collateral")) {
      TableReader t(problems, *table, "collateral", file);
      read_collateral(t, kernel.collateral);
    }
    if (const toml::table* table = subtable(root, "funding_guard")) {
      TableReader t(problems, *table, "funding_guard", file);
      t.ratio("engage_below", kernel.funding_guard.engage_below);
      t.duration("engage_after_hours", 3600, kernel.funding_guard.engage_after);
      t.ratio("release_at_or_above", kernel.funding_guard.release_at_or_above);
    }
    if (const toml::table* table = subtable(root, "risk_trigger")) {
      TableReader t(problems, *table, "risk_trigger", file);
      t.ratio("vault_factor", kernel.risk_factors.vault_factor);
      t.ratio("vault_profit_limit_factor", kernel.risk_factors.vault_profit_limit_factor);
      t.duration("close_after_seconds", 1, kernel.risk_factors.close_after_no_risk);
    }
    if (const toml::table* table = subtable(root, "kernel")) {
      TableReader t(problems, *table, "kernel", file);
      t.integer("first_client_order_id", kernel.first_client_order_id, 1, INT64_MAX);
      t.integer("order_table_capacity", kernel.order_table_capacity, 8, 1 << 20);
      t.integer("risk_position_capacity", kernel.risk_position_capacity, 1, 1 << 20);
      t.duration("order_retry_after_reject_seconds", 1, kernel.order_retry_after_reject);
      t.duration("cancel_unanswered_order_after_seconds", 1, kernel.cancel_unanswered_order_after);
    }
  } // readers report unknown keys as they close

  if (problems.empty()) {
    try {
      hedging::validate(kernel);
    } catch (const std::invalid_argument& error) {
      problems.push_back({file, 0, "", error.what()});
    }
  }
  if (!problems.empty()) {
    std::stable_sort(problems.begin(), problems.end(),
                     [](const ConfigProblem& a, const ConfigProblem& b) { return a.line < b.line; });
    throw ConfigError(std::move(problems));
  }
  return config;
}

EngineConfig load_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw ConfigError({{path, 0, "", "cannot open the file"}});
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path);
}

} // namespace synthusd::engine
