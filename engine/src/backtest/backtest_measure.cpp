#include "backtest_measure.hpp"

#include <algorithm>

namespace synthusd::engine {

using namespace synthusd::hedging;

std::int64_t centi_bps(std::int64_t error_cents, std::int64_t liability_cents) {
  if (liability_cents <= 0) {
    return 0;
  }
  return static_cast<std::int64_t>(
      divide(static_cast<int128>(error_cents) * 1'000'000, liability_cents, Rounding::half_even));
}

std::int64_t integer_sqrt(int128 value) {
  if (value <= 0) {
    return 0;
  }
  int128 low = 0;
  int128 high = 1;
  while (high * high <= value) {
    high *= 2;
  }
  // Invariant: low * low <= value < high * high.
  while (high - low > 1) {
    const int128 middle = (low + high) / 2;
    (middle * middle <= value ? low : high) = middle;
  }
  return static_cast<std::int64_t>(low);
}

void HedgeErrorMeasure::record(PolicyResult& result, const PointHeld& point) {
  BacktestSample sample;
  sample.time = point.time;
  sample.price = point.price;
  sample.liability = point.liability;
  sample.hedge = point.books.hedge;
  sample.value = sats_to_cents(point.held, point.price, Rounding::half_even);
  sample.error_centi_bps = centi_bps((sample.value - sample.liability).value, sample.liability.value);
  sample.fees = result.fees;
  sample.funding_paid = result.funding_paid - result.funding_received;
  sample.leverage = point.books.worst_leverage;
  sample.liquidation_distance = point.books.nearest_liquidation;
  sample.has_position = point.books.any_short;

  result.worst_shortfall_centi_bps = std::min(result.worst_shortfall_centi_bps, sample.error_centi_bps);
  result.worst_excess_centi_bps = std::max(result.worst_excess_centi_bps, sample.error_centi_bps);
  squares_ += static_cast<int128>(sample.error_centi_bps) * sample.error_centi_bps;
  const std::int64_t magnitude = sample.error_centi_bps < 0 ? -sample.error_centi_bps : sample.error_centi_bps;
  if (magnitude > tolerance_centi_bps_) {
    result.time_beyond_tolerance.nanoseconds += point.until_next.nanoseconds;
  }
  result.max_leverage = std::max(result.max_leverage, point.books.worst_leverage);
  if (point.books.any_short) {
    result.min_liquidation_distance = result.any_position
                                          ? std::min(result.min_liquidation_distance, point.books.nearest_liquidation)
                                          : point.books.nearest_liquidation;
    result.any_position = true;
  }
  result.samples.push_back(sample);
}

void HedgeErrorMeasure::finish(PolicyResult& result) const {
  const std::vector<BacktestSample>& samples = result.samples;
  result.rms_centi_bps = integer_sqrt(divide(squares_, static_cast<int128>(samples.size()), Rounding::half_even));
  result.final_centi_bps = samples.back().error_centi_bps;
  result.final_liability = samples.back().liability;
  result.final_value = samples.back().value;
  result.duration = samples.back().time - samples.front().time;
}

} // namespace synthusd::engine
