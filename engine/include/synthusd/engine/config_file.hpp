#pragma once
// The engine's TOML configuration: parsing into typed settings, with every
// problem reported as "file:line: key: what is wrong". Unknown keys are
// errors (a typo must never silently fall back to a default). Cold path:
// exceptions and allocation are fine here.

#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "synthusd/engine/instrument_expiry.hpp"
#include "synthusd/engine/run_config.hpp"
#include "synthusd/hedging/config.hpp"

namespace synthusd::engine {

struct ConfigProblem {
  std::string file;
  std::size_t line = 0; // 0 when the problem is not tied to one line
  std::string key;      // dotted path, e.g. "instruments[1].contract_value_usd"
  std::string message;
  [[nodiscard]] std::string to_string() const;
};

class ConfigError : public std::runtime_error {
public:
  explicit ConfigError(std::vector<ConfigProblem> problems);
  [[nodiscard]] const std::vector<ConfigProblem>& problems() const noexcept { return problems_; }

private:
  std::vector<ConfigProblem> problems_;
};

// An [[instruments]] entry with series = "venue": the venue's dated futures
// of one currency, as its public/get_instruments lists them when `run`
// starts (future_discovery.hpp). It reserves ids spec.id ..
// spec.id + kMaxListedFutures - 1.
struct VenueFutureSeries {
  hedging::InstrumentSpec spec; // the template: symbol is the currency ("BTC")
  std::string venue;            // the [[venues]] name; its [[feeds]] entry is asked
};
inline constexpr std::size_t kMaxListedFutures = 8;

struct EngineConfig {
  hedging::KernelConfig kernel;
  RunConfig run; // threads, feeds, gateways, sources, operations (run_config.hpp)
  std::vector<VenueFutureSeries> venue_series;
  // Ids of the instruments a series added (add_listed_futures): the
  // calendar's current futures, never a stale symbol typed into the file.
  std::vector<hedging::InstrumentId> series_instruments;
};

// Adds dated futures to the kernel's instruments from a series' template
// (ids spec.id, spec.id + 1, ... in the order given, up to the last id) and
// their symbols to every [[feeds]] entry of `venue`. The one path both series
// kinds take: "deribit" at parse time, "venue" when `run` starts. With `now`,
// a future expired by then is not subscribed (the venue no longer lists it).
// Returns how many were added.
std::size_t add_listed_futures(EngineConfig& config, const hedging::InstrumentSpec& spec, std::string_view venue,
                               std::span<const ListedFuture> listed,
                               std::optional<hedging::Timestamp> now = std::nullopt);

// Parses TOML text (file_name is used in messages). Collects every problem
// it can find before throwing ConfigError, so one run of check-config shows
// them all.
[[nodiscard]] EngineConfig parse_config(std::string_view text, std::string_view file_name);
// The same as of `now`: an [[instruments]] entry with series = "deribit"
// stands for the dated futures Deribit lists at `now` by its expiry calendar
// (deribit_futures_listed), ids id, id + 1, ... by expiry, so the kernel
// rolls from one into the next with no config edit. The two-argument form
// uses the wall clock.
[[nodiscard]] EngineConfig parse_config(std::string_view text, std::string_view file_name, hedging::Timestamp now);
[[nodiscard]] EngineConfig load_config(const std::string& path);

// What a valid configuration does that its reader may not expect, one
// sentence each naming the key: a venue that never comes up (no
// [[gateways]] entry) yet has a weight, a traded venue without a feed (no
// price, no share), [risk_trigger] keys with no route. check-config prints
// them, `run` logs them at start. Also a dated future already expired, or
// inside its roll window, at `now` (the one-argument form: the wall clock).
// Empty for a config without gateways (the kernel-only commands: simulate,
// replay, whose clocks are their paths').
[[nodiscard]] std::vector<std::string> config_warnings(const EngineConfig& config);
[[nodiscard]] std::vector<std::string> config_warnings(const EngineConfig& config, hedging::Timestamp now);

// Which of the kernel's input-driven rules a configuration switches on, one
// line each, for check-config: netting (provider interest arrives on the
// intake or NATS), the risk trigger ([[risk_routes]]; without a route
// the [risk_trigger] keys do nothing, and the line says so), and one line per
// series = "venue" entry (its futures are only known when `run` starts).
[[nodiscard]] std::vector<std::string> describe_rules(const EngineConfig& config);

} // namespace synthusd::engine
