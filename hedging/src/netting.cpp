#include "synthusd/hedging/netting.hpp"

namespace synthusd::hedging {
namespace {

int128 positive_sum(std::span<const UsdCents> values) noexcept {
  int128 sum = 0;
  for (const UsdCents v : values) {
    sum += v.value > 0 ? v.value : 0;
  }
  return sum;
}

// matched_i = min(v_i, v_i * numerator / denominator), floored.
void match_side(std::span<const UsdCents> interests, std::span<UsdCents> matched, int128 numerator,
                int128 denominator) noexcept {
  for (std::size_t i = 0; i < interests.size() && i < matched.size(); ++i) {
    const int128 interest = interests[i].value > 0 ? interests[i].value : 0;
    if (numerator >= denominator || denominator == 0) {
      matched[i] = UsdCents{static_cast<std::int64_t>(denominator == 0 ? 0 : interest)};
      continue;
    }
    matched[i] = UsdCents{static_cast<std::int64_t>(divide(interest * numerator, denominator, Rounding::down))};
  }
}

} // namespace

NettingTotals match_pro_rata(std::span<const UsdCents> receivers, std::span<const UsdCents> providers,
                             std::span<UsdCents> receiver_matched, std::span<UsdCents> provider_matched) noexcept {
  const int128 sum_x = positive_sum(receivers);
  const int128 sum_y = positive_sum(providers);
  // Receivers: X_i * R = X_i * sumY / sumX. Providers: Y_j / R = Y_j * sumX / sumY.
  // With sum X = 0 nothing can be matched (R undefined): everyone gets 0.
  if (sum_x == 0 || sum_y == 0) {
    match_side(receivers, receiver_matched, 0, 0);
    match_side(providers, provider_matched, 0, 0);
  } else {
    match_side(receivers, receiver_matched, sum_y, sum_x);
    match_side(providers, provider_matched, sum_x, sum_y);
  }
  return net_totals(UsdCents{static_cast<std::int64_t>(sum_x)}, UsdCents{static_cast<std::int64_t>(sum_y)});
}

} // namespace synthusd::hedging
