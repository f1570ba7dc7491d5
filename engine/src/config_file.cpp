#include "synthusd/engine/config_file.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "config_reader.hpp"
#include "synthusd/engine/instrument_expiry.hpp"
#include "synthusd/engine/run_config.hpp"

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

void read_bands(TableReader& t, hedging::BandConfig& bands) {
  std::string policy;
  if (t.string("policy", policy)) {
    hedging::PolicyKind kind = hedging::PolicyKind::stablesats;
    if (hedging::policy_from_name(policy, kind)) {
      // The bounds default to the named policy's own (one key switches
      // between stablesats and banded); explicit bounds below override.
      const hedging::BandConfig defaults = hedging::default_bands(kind);
      bands.policy = kind;
      bands.low_bound = defaults.low_bound;
      bands.low_safe_bound = defaults.low_safe_bound;
      bands.high_safe_bound = defaults.high_safe_bound;
      bands.high_bound = defaults.high_bound;
    } else {
      t.problem(*t.find("policy"), "policy", "unknown policy '" + policy + "' (expected stablesats, banded or hybrid)");
    }
  }
  t.ratio("low_bound", bands.low_bound);
  t.ratio("low_safe_bound", bands.low_safe_bound);
  t.ratio("high_safe_bound", bands.high_safe_bound);
  t.ratio("high_bound", bands.high_bound);
  t.dollars("minimum_liability_usd", bands.minimum_liability);
  t.integer("minimum_order_contracts", bands.minimum_order.value, 1, 1'000'000'000);
  t.ratio("volatility_reference", bands.volatility_reference);
  t.integer("maximum_band_scale", bands.maximum_band_scale, 1, 100);
}

void read_collateral(TableReader& t, hedging::CollateralConfig& c) {
  t.ratio("low_bound", c.low_bound);
  t.ratio("low_safe_bound", c.low_safe_bound);
  t.ratio("high_safe_bound", c.high_safe_bound);
  t.ratio("high_bound", c.high_bound);
  t.ratio("deposit_above", c.deposit_above);
  t.dollars("minimum_transfer_usd", c.minimum_transfer);
  t.dollars("keep_at_venue_usd", c.keep_at_venue);
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

void subscribe_feeds(std::vector<FeedSection>& feeds, std::string_view venue, const std::string& symbol) {
  for (FeedSection& feed : feeds) {
    if (feed.venue == venue && std::find(feed.symbols.begin(), feed.symbols.end(), symbol) == feed.symbols.end()) {
      feed.symbols.push_back(symbol);
    }
  }
}

// series: "" for one instrument, "deribit" for Deribit's calendar of dated
// futures, "venue" for the futures the venue lists at run start (the symbol
// then names the currency: "BTC").
void read_instrument(TableReader& t, const std::map<std::string, hedging::VenueId>& venues,
                     hedging::InstrumentSpec& spec, std::string& series) {
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
    if (is_option_symbol(symbol)) {
      t.problem(*t.find("symbol"), "symbol",
                "'" + symbol +
                    "' is a Deribit option: its ticker's mark_price is in BTC of the underlying "
                    "index, not USD, and options are not supported (inverse_perpetual, "
                    "inverse_future, linear_perpetual)");
    }
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
  // How the contract pays its P&L. Only in BTC: an inverse contract always
  // is, and a linear one is sized by the kernel as marked to market into BTC
  // at every mark (contracts x size x mark = liability). A USD(C)-settled
  // linear contract keeps its P&L in dollars; its hedge is the BTC held,
  // which this kernel does not compute, so it would over-hedge as the price
  // falls: refused by name rather than mis-hedged (README, Hedge fidelity).
  std::string settlement;
  if (t.string("settlement", settlement)) {
    if (settlement != "btc") {
      t.problem(*t.find("settlement"), "settlement",
                "'" + settlement +
                    "' is not supported: only \"btc\". A USD(C)-settled linear contract (Deribit "
                    "BTC_USDC-PERPETUAL, Binance USD-M, OKX USDT-margined swaps) is hedged by the BTC held, not by "
                    "contracts x size x mark = liability, which is how this kernel sizes linear_perpetual");
    }
  } else if (spec.kind == hedging::InstrumentKind::linear_perpetual) {
    t.problem_here("settlement", "missing: a linear_perpetual must say how it pays its P&L; only \"btc\" (marked "
                                 "to market into BTC at every mark) is supported");
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
  const bool typed = t.integer("expiry_unix_ms", expiry_ms, 0, INT64_MAX / 1'000'000);
  if (typed) {
    spec.expiry = hedging::Timestamp{expiry_ms * 1'000'000};
  }
  if (t.string("series", series) &&
      ((series != "deribit" && series != "venue") || spec.kind != hedging::InstrumentKind::inverse_future || typed)) {
    t.problem(*t.find("series"), "series",
              "only \"deribit\" (Deribit's expiry calendar) or \"venue\" (the venue's public/get_instruments at "
              "run start), on an inverse_future without expiry_unix_ms");
    series.clear();
  }
  // A dated future's expiry comes from its symbol by the venue's naming
  // (instrument_expiry.hpp); a typed one must agree with it.
  if (spec.kind == hedging::InstrumentKind::inverse_future && series.empty()) {
    const std::string symbol(spec.symbol.view());
    const std::optional<hedging::Timestamp> derived = expiry_from_symbol(symbol);
    if (!typed && !derived) {
      t.problem_here("expiry_unix_ms", "missing, and the symbol '" + symbol +
                                           "' names no expiry in Deribit (BTC-27DEC24), OKX (BTC-USD-241227) or "
                                           "Binance (BTCUSD_241227) form");
    } else if (typed && derived && *derived != spec.expiry) {
      t.problem(*t.find("expiry_unix_ms"), "expiry_unix_ms",
                std::to_string(expiry_ms) + " is not the expiry the symbol '" + symbol + "' names (" +
                    std::to_string(derived->nanoseconds / 1'000'000) + ", 08:00 UTC)");
    } else if (!typed) {
      spec.expiry = *derived;
    }
  }
  t.duration("funding_interval_hours", 3600, spec.funding_interval);
}

} // namespace

ConfigError::ConfigError(std::vector<ConfigProblem> problems)
    : std::runtime_error(join(problems)), problems_(std::move(problems)) {}

EngineConfig parse_config(std::string_view text, std::string_view file_name) {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return parse_config(text, file_name,
                      hedging::Timestamp{std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count()});
}

EngineConfig parse_config(std::string_view text, std::string_view file_name, hedging::Timestamp now) {
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
  std::vector<std::pair<std::string, std::string>> series_symbols; // (venue, future) of series = "deribit"
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
      if (!kernel.venues.empty() && std::none_of(kernel.venues.begin(), kernel.venues.end(),
                                                 [](const hedging::VenueConfig& venue) { return venue.weight > 0; })) {
        root.problem_here("venues", "every venue has weight 0: nothing would ever be hedged (give one a weight)");
      }
    } else {
      root.problem_here("venues", "at least one [[venues]] entry is required");
    }
    if (const toml::array* instruments = array_of_tables(root, "instruments")) {
      std::size_t index = 0;
      for (const toml::node& node : *instruments) {
        TableReader t(problems, *node.as_table(), "instruments[" + std::to_string(index++) + "]", file);
        hedging::InstrumentSpec spec;
        std::string series;
        read_instrument(t, venue_ids, spec, series);
        std::string venue_name;
        t.string("venue", venue_name);
        // Two entries for one contract would split its position and its
        // prices between two kernel slots (the feeds and the gateway match
        // by symbol).
        if (series.empty() && !spec.symbol.view().empty() &&
            std::any_of(kernel.instruments.begin(), kernel.instruments.end(),
                        [&](const hedging::InstrumentSpec& other) {
                          return other.venue == spec.venue && other.symbol.view() == spec.symbol.view();
                        })) {
          t.problem(*t.find("symbol"), "symbol",
                    "venue '" + venue_name + "' already has an instrument '" + std::string(spec.symbol.view()) + "'");
        }
        if (series.empty()) {
          kernel.instruments.push_back(spec);
        } else if (series == "venue") {
          config.venue_series.push_back({spec, venue_name});
        } else {
          const std::vector<ListedFuture> listed = deribit_futures_listed(now, spec.symbol.view());
          if (add_listed_futures(config, spec, venue_name, listed) < listed.size()) {
            t.problem_here("id", "the series' ids run past the last instrument id");
          }
          for (const ListedFuture& future : listed) {
            series_symbols.emplace_back(venue_name, future.symbol);
          }
        }
      }
    } else {
      root.problem_here("instruments", "at least one [[instruments]] entry is required");
    }
    // The project's default policy when [bands] does not name one
    // (stablesats is one key away): KernelConfig's own default is the
    // reference rules that kernel tests start from.
    kernel.bands = hedging::default_bands(hedging::PolicyKind::banded);
    if (const toml::table* table = subtable(root, "bands")) {
      TableReader t(problems, *table, "bands", file);
      read_bands(t, kernel.bands);
    }
    if (const toml::table* table = subtable(root, "carry")) {
      TableReader t(problems, *table, "carry", file);
      t.ratio("switch_hysteresis", kernel.carry.switch_hysteresis);
      t.duration("roll_before_expiry_hours", 3600, kernel.carry.roll_before_expiry);
      t.duration("funding_average_hours", 3600, kernel.carry.funding_average_window);
      t.boolean("repay_switch", kernel.carry.repay_switch);
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
      t.duration("move_after_seconds", 1, kernel.funding_guard.move_after);
    }
    if (const toml::table* table = subtable(root, "risk_trigger")) {
      TableReader t(problems, *table, "risk_trigger", file);
      t.ratio("vault_factor", kernel.risk_factors.vault_factor);
      t.ratio("vault_profit_limit_factor", kernel.risk_factors.vault_profit_limit_factor);
      t.duration("close_after_seconds", 1, kernel.risk_factors.close_after_no_risk);
    }
    // Rule 9's routes: where the risk-trigger strategy hedges the external
    // positions of one market (the intake's risk_position lines name it).
    if (const toml::array* routes = array_of_tables(root, "risk_routes")) {
      std::size_t index = 0;
      for (const toml::node& node : *routes) {
        TableReader t(problems, *node.as_table(), "risk_routes[" + std::to_string(index++) + "]", file);
        hedging::RiskMarketRoute route;
        t.integer("market", route.market, 0, 65'535, true);
        if (t.integer("instrument", route.instrument, 0, hedging::kNoInstrument - 1, true)) {
          const auto spec = std::find_if(kernel.instruments.begin(), kernel.instruments.end(),
                                         [&](const hedging::InstrumentSpec& s) { return s.id == route.instrument; });
          if (spec == kernel.instruments.end()) {
            t.problem(*t.find("instrument"), "instrument",
                      "names no [[instruments]] id " + std::to_string(route.instrument));
          } else {
            route.venue = spec->venue;
          }
        }
        for (const hedging::RiskMarketRoute& other : kernel.risk_routes) {
          if (other.market == route.market) {
            t.problem(*t.find("market"), "market", "market " + std::to_string(route.market) + " already has a route");
          }
        }
        kernel.risk_routes.push_back(route);
      }
    }
    if (const toml::table* table = subtable(root, "kernel")) {
      TableReader t(problems, *table, "kernel", file);
      t.integer("first_client_order_id", kernel.first_client_order_id, 1, INT64_MAX);
      t.integer("order_table_capacity", kernel.order_table_capacity, 8, 1 << 20);
      t.integer("risk_position_capacity", kernel.risk_position_capacity, 1, 1 << 20);
      t.duration("order_retry_after_reject_seconds", 1, kernel.order_retry_after_reject);
      t.duration("cancel_unanswered_order_after_seconds", 1, kernel.cancel_unanswered_order_after);
    }
    read_run_sections(root, problems, kernel, config.run);
    // A series' futures are not typed in a feed's symbols (they change with
    // the calendar): every feed of the series' venue subscribes to them.
    for (const auto& [venue, symbol] : series_symbols) {
      subscribe_feeds(config.run.feeds, venue, symbol);
    }
    // A series takes ids id, id + 1, ...: none may be another's. A venue's
    // series reserves its whole range now, as its futures are known later.
    std::set<hedging::InstrumentId> ids;
    const auto claim = [&](hedging::InstrumentId id, std::string_view what) {
      if (!ids.insert(id).second) {
        root.problem_here("instruments",
                          "instrument id " + std::to_string(id) + " is used twice (" + std::string(what) + ")");
      }
    };
    for (const hedging::InstrumentSpec& spec : kernel.instruments) {
      claim(spec.id, spec.symbol.view());
    }
    for (const VenueFutureSeries& series : config.venue_series) {
      const std::string what = std::string(series.spec.symbol.view()) + " futures listed by " + series.venue;
      if (series.spec.id + kMaxListedFutures > hedging::kNoInstrument) {
        root.problem_here("instruments", "the series of instrument id " + std::to_string(series.spec.id) + " needs " +
                                             std::to_string(kMaxListedFutures) + " ids below " +
                                             std::to_string(hedging::kNoInstrument));
        continue;
      }
      for (std::size_t i = 0; i < kMaxListedFutures; ++i) {
        claim(static_cast<hedging::InstrumentId>(series.spec.id + i), what);
      }
      const bool has_feed = std::any_of(config.run.feeds.begin(), config.run.feeds.end(), [&](const FeedSection& f) {
        return f.venue == series.venue && f.protocol == feeds::Venue::deribit;
      });
      if (!has_feed) {
        root.problem_here("instruments", "series = \"venue\" on " + series.venue +
                                             " needs a [[feeds]] entry of that venue with protocol \"deribit\" "
                                             "(its public/get_instruments lists the futures)");
      }
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

std::size_t add_listed_futures(EngineConfig& config, const hedging::InstrumentSpec& spec, std::string_view venue,
                               std::span<const ListedFuture> listed, std::optional<hedging::Timestamp> now) {
  std::size_t added = 0;
  hedging::InstrumentSpec future = spec;
  for (const ListedFuture& entry : listed) {
    if (future.id >= hedging::kNoInstrument) {
      break;
    }
    future.symbol = hedging::Symbol(entry.symbol);
    future.expiry = entry.expiry;
    config.kernel.instruments.push_back(future);
    config.series_instruments.push_back(future.id);
    if (!now || entry.expiry > *now) {
      subscribe_feeds(config.run.feeds, venue, entry.symbol);
    }
    ++future.id;
    ++added;
  }
  return added;
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
