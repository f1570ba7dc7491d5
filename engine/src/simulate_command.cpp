#include "synthusd/engine/simulate_command.hpp"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <ostream>
#include <stdexcept>

#include "synthusd/engine/config_file.hpp"
#include "synthusd/engine/journal.hpp"
#include "synthusd/hedging/band_policy.hpp"
#include "synthusd/hedging/simulation.hpp"

namespace synthusd::engine {
namespace {

using namespace synthusd::hedging;

std::string dollars(UsdCents cents) {
  char buffer[48];
  const std::int64_t v = cents.value;
  std::snprintf(buffer, sizeof buffer, "%s$%lld.%02lld", v < 0 ? "-" : "",
                static_cast<long long>((v < 0 ? -v : v) / 100), static_cast<long long>((v < 0 ? -v : v) % 100));
  return buffer;
}

std::string hex16(std::uint64_t value) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(value));
  return buffer;
}

std::string ratio_text(Ratio ratio) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4f", static_cast<double>(ratio.raw) / Ratio::kScale); // display only
  return buffer;
}

} // namespace

int run_simulate(const SimulateOptions& options, std::ostream& out) {
  SimulationConfig config;
  if (!options.config_path.empty()) {
    config.kernel = load_config(options.config_path).kernel;
  }
  if (!options.policy.empty() && !policy_from_name(options.policy, config.kernel.bands.policy)) {
    throw std::invalid_argument("--policy: unknown policy '" + options.policy +
                                "' (expected stablesats, banded or hybrid)");
  }
  config.seed = options.seed;
  config.path.seed = options.seed;
  config.path.steps = options.steps;
  if (options.with_crash && options.steps > 126) {
    config.path.shocks = {{60, 6, -0.5}, {120, 6, 1.0}};
  }
  HedgeSimulation simulation(config);
  std::unique_ptr<JournalWriter> journal;
  if (!options.journal_path.empty()) {
    // Checked before the writer opens it: the writer cuts a file back to its
    // last valid record, which for any file that is not a journal (or one
    // whose first record is damaged) is all of it.
    std::error_code error;
    if (std::filesystem::exists(options.journal_path, error) || error) {
      throw std::invalid_argument("--journal: " + options.journal_path + " already exists; give a new file");
    }
    journal = std::make_unique<JournalWriter>(options.journal_path);
    simulation.observe([&journal](const Event& event) { (void)journal->append(event); });
  }
  const SimulationReport report = simulation.run();
  if (journal) {
    journal->commit();
  }

  out << "synthusd simulate: seed " << options.seed << ", policy " << policy_name(config.kernel.bands.policy)
      << ", venues";
  for (const VenueConfig& venue : config.kernel.venues) {
    out << " " << venue.name << "(" << venue.weight << ")";
  }
  out << "\n";
  out << "  step        price      liability    hedge exposure   ratio   leverage   value+fees-funding\n";
  for (std::size_t i = 0; i < report.steps.size(); ++i) {
    const StepRecord& s = report.steps[i];
    if (i % options.print_every != 0 && i + 1 != report.steps.size()) {
      continue;
    }
    const UsdCents net_value = s.portfolio_value + s.fees_paid - s.funding_received;
    char line[256];
    std::snprintf(line, sizeof line, "%6zu %12s %14s %17s %7s %10s %20s\n", i,
                  dollars(sats_to_cents(Sats{kSatsPerBitcoin}, s.price, Rounding::half_even)).c_str(),
                  dollars(s.liability).c_str(), dollars(s.hedge_exposure).c_str(),
                  ratio_text(hedge_ratio(static_cast<int128>(s.hedge_exposure.value), s.liability.value)).c_str(),
                  ratio_text(s.leverage).c_str(), dollars(net_value).c_str());
    out << line;
  }
  const StepRecord& last = report.steps.back();
  const Ratio final_ratio = hedge_ratio(static_cast<int128>(last.hedge_exposure.value), last.liability.value);
  const BandConfig& bands = config.kernel.bands;
  const bool in_band = final_ratio >= bands.low_bound && final_ratio <= bands.high_bound;
  out << "summary: " << report.kernel_events << " kernel events, " << report.liability_events << " liability events, "
      << report.orders << " orders, " << report.fills << " fills, " << report.transfers << " transfers, "
      << report.alerts << " alerts, " << report.liquidations << " liquidations\n";
  for (std::size_t code = 0; code < report.alerts_by_code.size(); ++code) {
    if (report.alerts_by_code[code] > 0) {
      out << "  alert " << to_string(static_cast<AlertCode>(code)) << ": " << report.alerts_by_code[code] << "\n";
    }
  }
  out << "  fees " << dollars(last.fees_paid) << ", funding received " << dollars(last.funding_received)
      << ", largest deviation of customers' USD value from their dollars " << dollars(report.largest_deviation) << "\n";
  out << "  final hedge ratio " << ratio_text(final_ratio) << (in_band ? " (inside band)" : " (OUTSIDE band)")
      << ", action stream hash " << hex16(report.action_hash) << "\n";
  return in_band && report.liquidations == 0 ? 0 : 1;
}

} // namespace synthusd::engine
