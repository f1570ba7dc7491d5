#include "synthusd/engine/backtest_run.hpp"

#include <charconv>
#include <optional>
#include <stdexcept>

namespace synthusd::engine {

PolicySpec policy_by_name(std::string_view name, const hedging::BandConfig& configured) {
  PolicySpec spec;
  spec.name = std::string(name);
  // The minimum liability and minimum order are the configuration's; the
  // band shape is the policy's.
  const auto with_policy = [&](hedging::PolicyKind kind) {
    hedging::BandConfig bands = hedging::default_bands(kind);
    bands.minimum_liability = configured.minimum_liability;
    bands.minimum_order = configured.minimum_order;
    return bands;
  };
  // "banded-20" / "passive-20": the banded policy with its band +-20 bps
  // around 1.00 instead of the default, for comparing widths.
  std::string_view base = name;
  std::optional<std::int64_t> width_bps;
  if (const std::size_t dash = name.find('-'); dash != std::string_view::npos) {
    base = name.substr(0, dash);
    const std::string_view digits = name.substr(dash + 1);
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc{} || end != digits.data() + digits.size() || value < 1 || value > 1'000 ||
        base == "stablesats") {
      throw std::invalid_argument("--policy: '" + std::string(name) +
                                  "': a width is banded-N or passive-N, N whole basis points from 1 to 1000");
    }
    width_bps = value;
  }
  if (base == "stablesats") {
    spec.bands = with_policy(hedging::PolicyKind::stablesats);
  } else if (base == "banded" || base == "passive") {
    spec.bands = with_policy(hedging::PolicyKind::banded);
    if (width_bps) {
      spec.bands.low_bound = hedging::Ratio{hedging::Ratio::kScale - *width_bps * 10'000};
      spec.bands.high_bound = hedging::Ratio{hedging::Ratio::kScale + *width_bps * 10'000};
    }
    if (base == "passive") {
      spec.execution = fix::ExecutionStyle::post_only;
    }
  } else {
    throw std::invalid_argument("--policy: unknown policy '" + std::string(name) +
                                "' (expected stablesats, banded, passive, banded-N or passive-N)");
  }
  return spec;
}

std::vector<PolicySpec> policies_from_list(std::string_view comma_separated, const hedging::BandConfig& configured) {
  std::vector<PolicySpec> policies;
  std::size_t start = 0;
  while (start <= comma_separated.size()) {
    const std::size_t comma = comma_separated.find(',', start);
    const std::size_t end = comma == std::string_view::npos ? comma_separated.size() : comma;
    const std::string_view name = comma_separated.substr(start, end - start);
    if (name.empty()) {
      throw std::invalid_argument("--policy: an empty name in '" + std::string(comma_separated) + "'");
    }
    for (const PolicySpec& existing : policies) {
      if (existing.name == name) {
        throw std::invalid_argument("--policy: '" + std::string(name) + "' is listed twice");
      }
    }
    policies.push_back(policy_by_name(name, configured));
    if (comma == std::string_view::npos) {
      break;
    }
    start = comma + 1;
  }
  return policies;
}

} // namespace synthusd::engine
