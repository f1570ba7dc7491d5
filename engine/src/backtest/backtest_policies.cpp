#include "synthusd/engine/backtest_run.hpp"

#include <charconv>
#include <optional>
#include <stdexcept>

namespace synthusd::engine {

namespace {

// One whole number of basis points from text, or nothing.
std::optional<std::int64_t> whole_bps(std::string_view digits, std::int64_t lowest) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc{} || end != digits.data() + digits.size() || value < lowest || value > 1'000) {
    return std::nullopt;
  }
  return value;
}

hedging::Ratio one_plus_bps(std::int64_t bps) { return hedging::Ratio{hedging::Ratio::kScale + bps * 10'000}; }

} // namespace

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
  // around 1.00 instead of the default, rebalanced halfway back (to +-10) as
  // the default is; "banded-20-5": the same band rebalanced to +-5 bps
  // ("banded-10-0" is the earlier default, back to 1.00), for comparing.
  std::string_view base = name;
  std::optional<std::int64_t> width_bps;
  std::optional<std::int64_t> back_to_bps;
  // "banded-10-5-x5" (also passive-, hybrid-): the band widens up to 5 times
  // while the hourly volatility is below 1 %; "-x5-r50": below 0.50 %
  std::optional<std::int64_t> band_scale;
  std::optional<std::int64_t> reference_bps;
  const std::string whole_name(name); // name loses its -x... part below; the message quotes it all
  const auto bad_scale = [&] {
    return std::invalid_argument("--policy: '" + whole_name +
                                 "': a volatility-scaled band is banded-N-M-xK[-rR]: up to K (2 to 100) times "
                                 "as wide while the hourly volatility is below R bps (1 to 1000, 100 if not given)");
  };
  if (const std::size_t scaled = name.find("-x"); scaled != std::string_view::npos) {
    std::string_view scale = name.substr(scaled + 2);
    name = name.substr(0, scaled);
    if (const std::size_t reference = scale.find("-r"); reference != std::string_view::npos) {
      reference_bps = whole_bps(scale.substr(reference + 2), 1);
      scale = scale.substr(0, reference);
      if (!reference_bps) {
        throw bad_scale();
      }
    }
    band_scale = whole_bps(scale, 2);
    if (!band_scale || *band_scale > 100 || name.find('-') == std::string_view::npos) {
      throw bad_scale();
    }
  }
  if (const std::size_t dash = name.find('-'); dash != std::string_view::npos) {
    base = name.substr(0, dash);
    std::string_view widths = name.substr(dash + 1);
    const std::size_t second = widths.find('-');
    const bool back_to_given = second != std::string_view::npos;
    if (back_to_given) {
      back_to_bps = whole_bps(widths.substr(second + 1), 0);
      widths = widths.substr(0, second);
    }
    width_bps = whole_bps(widths, 1);
    if (!width_bps || (back_to_given && (!back_to_bps || *back_to_bps > *width_bps)) || base == "stablesats") {
      throw std::invalid_argument("--policy: '" + std::string(name) +
                                  "': a width is banded-N or banded-N-M (passive-, hybrid-): a band of +-N "
                                  "whole basis points, 1 to 1000, rebalanced to +-M (0 to N; N/2 if not given)");
    }
  }
  if (base == "stablesats") {
    spec.bands = with_policy(hedging::PolicyKind::stablesats);
  } else if (base == "banded" || base == "passive" || base == "hybrid") {
    spec.bands = with_policy(base == "hybrid" ? hedging::PolicyKind::hybrid : hedging::PolicyKind::banded);
    if (width_bps) {
      // halfway back unless told: N * 10,000 / 2 in Ratio units is exact
      const std::int64_t back_to = back_to_bps ? *back_to_bps * 10'000 : *width_bps * 5'000;
      spec.bands.low_bound = one_plus_bps(-*width_bps);
      spec.bands.low_safe_bound = hedging::Ratio{hedging::Ratio::kScale - back_to};
      spec.bands.high_safe_bound = hedging::Ratio{hedging::Ratio::kScale + back_to};
      spec.bands.high_bound = one_plus_bps(*width_bps);
    }
    if (band_scale) {
      spec.bands.maximum_band_scale = *band_scale;
      spec.bands.volatility_reference = hedging::Ratio{reference_bps.value_or(100) * 10'000};
    }
    if (base == "passive") {
      spec.execution = fix::ExecutionStyle::post_only;
    }
  } else {
    throw std::invalid_argument(
        "--policy: unknown policy '" + std::string(name) +
        "' (expected stablesats, banded, passive, hybrid, banded-N[-M], passive-N[-M] or hybrid-N[-M])");
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
