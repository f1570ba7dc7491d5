// Warnings about a configuration that parses and validates but would not do
// what it seems to say. Cold path (check-config, the start of `run`).

#include <algorithm>
#include <chrono>

#include "synthusd/engine/config_file.hpp"
#include "synthusd/venue/decimal.hpp"

namespace synthusd::engine {

std::vector<std::string> config_warnings(const EngineConfig& config) {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return config_warnings(config,
                         hedging::Timestamp{std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count()});
}

std::vector<std::string> config_warnings(const EngineConfig& config, hedging::Timestamp now) {
  std::vector<std::string> warnings;
  const RunConfig& run = config.run;
  if (run.gateways.empty()) {
    return warnings; // a kernel-only configuration: nothing comes up by design
  }
  for (std::size_t i = 0; i < config.kernel.venues.size(); ++i) {
    const hedging::VenueConfig& venue = config.kernel.venues[i];
    const std::string key = "venues[" + std::to_string(i) + "]";
    const bool has_gateway = std::any_of(run.gateways.begin(), run.gateways.end(),
                                         [&](const GatewaySection& gateway) { return gateway.venue == venue.name; });
    const bool has_feed = std::any_of(run.feeds.begin(), run.feeds.end(),
                                      [&](const FeedSection& feed) { return feed.venue == venue.name; });
    // Every venue starts down and comes up only when its gateway has logged
    // on and reconciled (engine_runtime.hpp): without one it never trades
    // and its weight is given to the others.
    if (!has_gateway && venue.weight > 0) {
      warnings.push_back(key + ".weight: venue '" + venue.name + "' has weight " + std::to_string(venue.weight) +
                         " but no [[gateways]] entry: it never comes up and takes no share of the hedge (set "
                         "weight = 0 to keep it as a price source only, or give it a gateway)");
    }
    // A venue with no price has no instrument to choose (the kernel needs a
    // mark): it is up but takes no share either.
    if (has_gateway && !has_feed) {
      warnings.push_back(key + ": venue '" + venue.name +
                         "' has a [[gateways]] entry but no [[feeds]] entry: without prices it takes no share of "
                         "the hedge");
    }
  }
  // A dated future the kernel will not hedge on: it takes a future only
  // until roll_before_expiry ahead of its expiry (kernel_rebalance.cpp). A
  // symbol typed into the file goes stale; a `series` entry does not.
  const hedging::Duration roll = config.kernel.carry.roll_before_expiry;
  for (const hedging::InstrumentSpec& spec : config.kernel.instruments) {
    if (spec.kind != hedging::InstrumentKind::inverse_future || now < spec.expiry - roll ||
        std::find(config.series_instruments.begin(), config.series_instruments.end(), spec.id) !=
            config.series_instruments.end()) {
      continue; // a series' future rolls off by design, the next one is listed beside it
    }
    const auto named = std::find_if(config.kernel.venues.begin(), config.kernel.venues.end(),
                                    [&](const hedging::VenueConfig& venue) { return venue.id == spec.venue; });
    const std::string venue = named != config.kernel.venues.end() ? named->name : std::to_string(spec.venue);
    const std::string name = "instrument '" + std::string(spec.symbol.view()) + "' on " + venue;
    warnings.push_back(now >= spec.expiry
                           ? name + " expired at " + venue::format_utc_time(spec.expiry) +
                                 ": the kernel never hedges on it (remove it, or list a later future or a series)"
                           : name + " expires at " + venue::format_utc_time(spec.expiry) + ", within [carry] " +
                                 "roll_before_expiry_hours (" + std::to_string(roll.nanoseconds / 3'600'000'000'000) +
                                 " h): the kernel opens nothing on it and rolls out of it");
  }
  return warnings;
}

std::vector<std::string> describe_rules(const EngineConfig& config) {
  std::vector<std::string> lines;
  const RunConfig& run = config.run;
  const bool carried = run.intake.enabled || run.nats.enabled;
  lines.push_back(carried ? std::string("netting: on (provider_increase / provider_decrease lines on the ") +
                                (run.intake.enabled && run.nats.enabled ? "intake and NATS"
                                 : run.intake.enabled                   ? "intake"
                                                                        : "NATS") +
                                " are netted against the liability)"
                          : "netting: off (no [intake] or [nats] source carries provider interest)");
  const std::vector<hedging::RiskMarketRoute>& routes = config.kernel.risk_routes;
  if (routes.empty()) {
    lines.push_back("risk trigger: off (no [[risk_routes]] entry: the [risk_trigger] keys are unused)");
  } else {
    std::string text = "risk trigger: on for " + std::to_string(routes.size()) + " market(s):";
    for (const hedging::RiskMarketRoute& route : routes) {
      text += " " + std::to_string(route.market) + " -> instrument " + std::to_string(route.instrument) + ";";
    }
    text.back() = ' ';
    text += carried ? "([risk_trigger] keys active)" : "(but no [intake] or [nats] source carries risk_position lines)";
    lines.push_back(text);
  }
  // Only with a series = "venue" entry, so configurations without one read as before.
  for (const VenueFutureSeries& series : config.venue_series) {
    lines.push_back("dated futures: " + std::string(series.spec.symbol.view()) + " futures of " + series.venue +
                    " as its public/get_instruments lists them when `run` starts (ids " +
                    std::to_string(series.spec.id) + ".." + std::to_string(series.spec.id + kMaxListedFutures - 1) +
                    " reserved; none if it cannot be asked)");
  }
  return lines;
}

} // namespace synthusd::engine
