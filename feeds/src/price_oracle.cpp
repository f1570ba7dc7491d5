#include "synthusd/feeds/price_oracle.hpp"

#include <algorithm>
#include <stdexcept>

namespace synthusd::feeds {
namespace {

using hedging::divide;
using hedging::int128;
using hedging::Price;
using hedging::Ratio;
using hedging::Rounding;

// Median of a sorted, non-empty range; the mean of the middle two for an
// even count, rounded half-even so the result does not drift upwards.
std::int64_t median_of_sorted(const std::int64_t* values, std::size_t count) noexcept {
  if (count % 2 == 1) {
    return values[count / 2];
  }
  const int128 sum = static_cast<int128>(values[count / 2 - 1]) + values[count / 2];
  return static_cast<std::int64_t>(divide(sum, 2, Rounding::half_even));
}

// |value / reference - 1| > limit, exactly.
bool deviates(std::int64_t value, std::int64_t reference, Ratio limit) noexcept {
  const int128 difference = static_cast<int128>(value) - reference;
  const int128 magnitude = difference < 0 ? -difference : difference;
  return magnitude * Ratio::kScale > static_cast<int128>(limit.raw) * reference;
}

// (highest - lowest) / reference > limit, exactly (lowest <= highest).
bool spread_exceeds(std::int64_t lowest, std::int64_t highest, std::int64_t reference, Ratio limit) noexcept {
  return (static_cast<int128>(highest) - lowest) * Ratio::kScale > static_cast<int128>(limit.raw) * reference;
}

} // namespace

PriceOracle::PriceOracle(OracleConfig config, std::size_t source_count)
    : config_(config), sources_(source_count), scratch_(source_count), agreeing_(source_count) {
  if (source_count == 0) {
    throw std::invalid_argument("oracle: at least one price source is required");
  }
  if (config_.min_agreeing == 0) {
    config_.min_agreeing = source_count >= 2 ? 2 : 1;
  }
  if (config_.min_agreeing > source_count) {
    throw std::invalid_argument("oracle.min_agreeing: exceeds the number of sources");
  }
  if (config_.max_deviation.raw <= 0 || config_.jump_threshold.raw <= 0 || config_.max_age.nanoseconds <= 0) {
    throw std::invalid_argument("oracle: max_deviation, jump_threshold and max_age must be > 0");
  }
  if (config_.jump_confirmations == 0) {
    // 0 would let any jump through unconfirmed: the rule would be off.
    throw std::invalid_argument("oracle.jump_confirmations: must be at least 1");
  }
}

void PriceOracle::update(std::size_t source, Price price, hedging::Timestamp time) noexcept {
  if (source >= sources_.size() || !price.is_valid()) {
    ++rejected_updates_;
    return;
  }
  sources_[source] = Source{price, time, true};
}

OracleReading PriceOracle::read(hedging::Timestamp now) noexcept {
  OracleReading reading;
  reading.price = last_trusted_;
  std::size_t fresh = 0;
  for (Source& source : sources_) {
    source.agreeing = false;
    if (source.seen && now - source.time <= config_.max_age) {
      scratch_[fresh++] = source.price.raw;
    }
  }
  reading.fresh = static_cast<std::uint32_t>(fresh);
  if (fresh < config_.min_agreeing || fresh == 0) {
    reading.status = OracleStatus::no_fresh_source;
    return reading;
  }
  std::sort(scratch_.begin(), scratch_.begin() + static_cast<std::ptrdiff_t>(fresh));
  const std::int64_t median = median_of_sorted(scratch_.data(), fresh);
  std::size_t agreeing = 0;
  for (std::size_t i = 0; i < fresh; ++i) {
    if (!deviates(scratch_[i], median, config_.max_deviation)) {
      agreeing_[agreeing++] = scratch_[i]; // stays sorted
    }
  }
  // Those left must also agree with each other. With two sources (or an
  // even split) the median is a midpoint nobody quoted: each may sit
  // max_deviation from it while they are twice that apart, and neither
  // can be called the outlier. Then no source agrees.
  if (agreeing >= 2 && spread_exceeds(agreeing_[0], agreeing_[agreeing - 1], median, config_.max_deviation)) {
    agreeing = 0;
  }
  reading.agreeing = static_cast<std::uint32_t>(agreeing);
  for (Source& source : sources_) {
    source.agreeing = agreeing > 0 && source.seen && now - source.time <= config_.max_age &&
                      !deviates(source.price.raw, median, config_.max_deviation);
  }
  if (agreeing < config_.min_agreeing || agreeing == 0) {
    reading.status = OracleStatus::no_agreement;
    return reading;
  }
  const Price candidate{median_of_sorted(agreeing_.data(), agreeing)};
  if (last_trusted_.is_valid() && deviates(candidate.raw, last_trusted_.raw, config_.jump_threshold) &&
      agreeing < config_.jump_confirmations) {
    if (!in_quarantine_) {
      in_quarantine_ = true;
      ++quarantines_;
    }
    reading.status = OracleStatus::quarantined;
    return reading;
  }
  in_quarantine_ = false;
  last_trusted_ = candidate;
  reading.status = OracleStatus::trusted;
  reading.price = candidate;
  return reading;
}

} // namespace synthusd::feeds
