// Warnings about a configuration that parses and validates but would not do
// what it seems to say. Cold path (check-config, the start of `run`).

#include <algorithm>

#include "synthusd/engine/config_file.hpp"

namespace synthusd::engine {

std::vector<std::string> config_warnings(const EngineConfig& config) {
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
