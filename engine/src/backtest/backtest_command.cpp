#include "synthusd/engine/backtest_command.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <stdexcept>

#include "synthusd/engine/backtest_futures.hpp"
#include "synthusd/engine/backtest_report.hpp"
#include "synthusd/engine/config_file.hpp"
#include "synthusd/venue/decimal.hpp"

namespace synthusd::engine {
namespace {

hedging::Timestamp parse_bound(const std::string& text, const char* option) {
  const std::optional<hedging::Timestamp> time = venue::parse_utc_time(text);
  if (!time) {
    throw std::invalid_argument(std::string(option) + ": not a UTC time: '" + text +
                                "' (expected 2020-03-12, 2020-03-12T10:00:00Z or epoch seconds)");
  }
  return *time;
}

void write_file(const std::string& path, const std::string& text, const char* option) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << text;
  file.flush();
  if (!file) {
    throw std::runtime_error(std::string(option) + ": cannot write " + path);
  }
}

// Whether `path` can be written: an existing file writable, or a new one
// in a writable folder.
bool writable(const std::string& path) {
  std::error_code error;
  if (std::filesystem::exists(path, error)) {
    return !std::filesystem::is_directory(path, error) && ::access(path.c_str(), W_OK) == 0;
  }
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  const std::string name = folder.empty() ? std::string(".") : folder.string();
  return std::filesystem::is_directory(name, error) && ::access(name.c_str(), W_OK | X_OK) == 0;
}

} // namespace

int run_backtest_command(const BacktestOptions& options, std::ostream& out, std::ostream& progress) {
  if (options.liabilities_path.empty() == !options.flows_seed.has_value()) {
    throw std::invalid_argument("give exactly one of --liabilities FILE and --flows SEED");
  }
  BacktestInputs inputs;
  inputs.kernel = load_config(options.config_path).kernel;
  const std::vector<PolicySpec> policies = policies_from_list(options.policies, inputs.kernel.bands);

  std::vector<PriceBar> bars = load_price_bars(options.prices_path);
  if (!options.from.empty() || !options.to.empty()) {
    const hedging::Timestamp from = options.from.empty() ? bars.front().time : parse_bound(options.from, "--from");
    const hedging::Timestamp to = options.to.empty() ? bars.back().time : parse_bound(options.to, "--to");
    std::erase_if(bars, [&](const PriceBar& bar) { return bar.time < from || bar.time > to; });
    if (bars.empty()) {
      throw std::invalid_argument(options.prices_path + ": no rows between --from and --to");
    }
  }
  inputs.path = replay_path(bars);
  const HedgeInstruments hedge_on = parse_hedge_instruments(options.hedge_on);
  const std::optional<std::int64_t> basis = venue::parse_exact_decimal(options.future_basis, 8);
  if (!basis || *basis < -hedging::Ratio::kScale / 2 || *basis > hedging::Ratio::kScale) {
    throw std::invalid_argument("--future-basis: '" + options.future_basis +
                                "' (expected a yearly premium from -0.5 to 1, at most 8 decimals: 0.05 is 5 %)");
  }
  inputs.future_annual_basis = hedging::Ratio{*basis};
  add_weekly_futures(inputs.kernel, inputs.path.front().time, inputs.path.back().time, hedge_on);
  BacktestDescription description;
  if (hedge_on != HedgeInstruments::perpetual) {
    description.instruments =
        std::string(hedge_on == HedgeInstruments::futures ? "weekly futures in place of" : "weekly futures beside") +
        " each inverse perpetual, priced at the index plus " + options.future_basis + " a year decaying to expiry";
  }
  description.prices = options.prices_path;
  description.config = options.config_path;
  description.points = inputs.path.size();
  if (!options.funding_path.empty()) {
    inputs.funding = venue::FundingSchedule(venue::load_funding_csv(options.funding_path));
    // Funding from another period moved onto these prices would be made up:
    // the file must cover them (the venue simulator's rebase() is for its
    // generated paths).
    if (const std::optional<std::string> error =
            inputs.funding.coverage_error(inputs.path.front().time, inputs.path.back().time)) {
      throw std::invalid_argument(options.funding_path + ": " + *error + " (--funding must cover --prices)");
    }
    description.funding = options.funding_path;
  } else {
    description.funding = "none (rate 0)";
  }
  if (options.flows_seed) {
    FlowGeneratorConfig flows;
    flows.seed = *options.flows_seed;
    inputs.flows = generate_flows(inputs.path, flows);
    description.liabilities = "generated, seed " + std::to_string(*options.flows_seed) + " (" +
                              std::to_string(inputs.flows.size()) + " payments)";
  } else {
    inputs.flows = load_liability_lines(options.liabilities_path);
    description.liabilities = options.liabilities_path + " (" + std::to_string(inputs.flows.size()) +
                              (inputs.flows.size() == 1 ? " line" : " lines");
    // Lines before the first price are the book the window opens with (the
    // run admits them at its first point); lines after the last are left
    // out, and said to be.
    // The lines are in time order (load_liability_lines): two bounds split them.
    const hedging::Timestamp first = inputs.path.front().time;
    const hedging::Timestamp last = inputs.path.back().time;
    const auto inside = std::partition_point(inputs.flows.begin(), inputs.flows.end(),
                                             [&](const LiabilityFlow& flow) { return flow.time < first; });
    const auto beyond =
        std::partition_point(inside, inputs.flows.end(), [&](const LiabilityFlow& flow) { return flow.time <= last; });
    const auto before = static_cast<std::size_t>(inside - inputs.flows.begin());
    const auto after = static_cast<std::size_t>(inputs.flows.end() - beyond);
    if (inside == beyond && after > 0) {
      throw std::invalid_argument(options.liabilities_path + ": no line falls between the prices' first point " +
                                  venue::format_utc_time(first) + " and last " + venue::format_utc_time(last) +
                                  " (ts is Unix milliseconds)");
    }
    if (before > 0) {
      description.liabilities += "; " + std::to_string(before) + " before the first price, admitted at it";
    }
    if (after > 0) {
      description.liabilities += "; " + std::to_string(after) + " after the last price, left out (first: line " +
                                 std::to_string(beyond->line) + ")";
    }
    description.liabilities += ")";
  }
  // Bounded well inside Duration's nanoseconds (and inside any window of
  // history a run covers): a week for a transfer, a day for a resting order.
  constexpr std::int64_t kMaxTransferDelaySeconds = 7 * 24 * 3600;
  constexpr std::int64_t kMaxPostOnlyWaitSeconds = 24 * 3600;
  if (options.transfer_delay_seconds < 0 || options.transfer_delay_seconds > kMaxTransferDelaySeconds) {
    throw std::invalid_argument("--transfer-delay: " + std::to_string(options.transfer_delay_seconds) +
                                " (expected 0 to " + std::to_string(kMaxTransferDelaySeconds) + " seconds)");
  }
  if (options.post_only_wait_seconds <= 0 || options.post_only_wait_seconds > kMaxPostOnlyWaitSeconds) {
    throw std::invalid_argument("--post-only-wait: " + std::to_string(options.post_only_wait_seconds) +
                                " (expected 1 to " + std::to_string(kMaxPostOnlyWaitSeconds) + " seconds)");
  }
  inputs.transfer_delay = hedging::Duration::from_seconds(options.transfer_delay_seconds);
  inputs.post_only_wait = hedging::Duration::from_seconds(options.post_only_wait_seconds);

  // An output that cannot be written is found before the runs, not after,
  // and without leaving a file behind if a run then fails.
  for (const auto& [path, option] :
       {std::pair{options.json_path, "--json"}, std::pair{options.report_path, "--report"}}) {
    if (!path.empty() && !writable(path)) {
      throw std::runtime_error(std::string(option) + ": cannot write " + path);
    }
  }
  std::vector<PolicyResult> results;
  for (const PolicySpec& policy : policies) {
    std::size_t last_percent = 101;
    results.push_back(run_backtest(inputs, policy, [&](std::size_t done, std::size_t total) {
      const std::size_t percent = done * 100 / total;
      if (percent / 10 != last_percent / 10 || done == total) {
        progress << "backtest: " << policy.name << " " << percent << "% (" << done << "/" << total << " points)\n"
                 << std::flush;
        last_percent = percent;
      }
    }));
  }
  // The admission's refusals are the same under every policy (they depend
  // on the lines and the prices only): the first few, once, with their line.
  if (!results.empty() && results.front().lines_refused > 0) {
    std::size_t shown = 0;
    for (const BacktestMarker& marker : results.front().markers) {
      if (marker.kind == "refused" && shown++ < 5) {
        progress << "backtest: refused " << marker.text << "\n";
      }
    }
    progress << "backtest: " << results.front().lines_refused
             << " intake lines refused in all (the report's event list has each)\n";
  }
  out << backtest_table(description, results);
  if (!options.json_path.empty()) {
    write_file(options.json_path, backtest_json(description, results), "--json");
  }
  if (!options.report_path.empty()) {
    write_file(options.report_path, backtest_html(description, results), "--report");
  }
  for (const PolicyResult& result : results) {
    if (result.liquidations > 0) {
      return 1;
    }
  }
  return 0;
}

} // namespace synthusd::engine
