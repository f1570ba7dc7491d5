#include "index_publisher.hpp"

#include <algorithm>

namespace synthusd::engine::run {

namespace {

using feeds::OracleStatus;

// The price a feed's update says the index is; 0 when it says nothing usable.
hedging::Price source_price(const hedging::MarketUpdate& update, bool perpetual) noexcept {
  if (update.index.is_valid()) {
    return update.index;
  }
  if (!perpetual) {
    return {}; // a future's mark or mid carries its basis: not the index
  }
  if (update.mark.is_valid()) {
    return update.mark;
  }
  if (update.bid.is_valid() && update.ask.is_valid()) {
    return hedging::Price{(update.bid.raw + update.ask.raw) / 2};
  }
  return {};
}

// "5 %" for 0.05, "2.5 %" for 0.025: a ratio as a percentage, to 0.01 %.
std::string percent_text(hedging::Ratio ratio) {
  const std::int64_t hundredths = ratio.raw / 10'000; // Ratio scale 1e8: 1 % = 1e6
  std::string text = std::to_string(hundredths / 100);
  if (const std::int64_t fraction = hundredths % 100; fraction != 0) {
    text += (fraction < 10 ? ".0" : ".") + std::to_string(fraction % 10 == 0 ? fraction / 10 : fraction);
  }
  return text + " %";
}

std::string seconds_text(hedging::Duration duration) {
  const std::int64_t milliseconds = duration.nanoseconds / 1'000'000;
  if (milliseconds % 1000 == 0) {
    return std::to_string(milliseconds / 1000) + " s";
  }
  return std::to_string(milliseconds) + " ms";
}

double dollars(hedging::Price price) noexcept {
  // Display only (/metrics); nothing is booked from it.
  return static_cast<double>(price.raw) / static_cast<double>(hedging::Price::kScale);
}

} // namespace

IndexPublisher::IndexPublisher(const feeds::OracleConfig& config, std::size_t feed_count,
                               const hedging::KernelConfig& kernel, std::atomic<std::int64_t>& published)
    : feed_count_(feed_count), published_(published) {
  if (feed_count > 0) {
    oracle_.emplace(config, feed_count);
  }
  hedging::InstrumentId max_id = 0;
  for (const hedging::InstrumentSpec& spec : kernel.instruments) {
    max_id = std::max(max_id, spec.id);
  }
  perpetual_.assign(static_cast<std::size_t>(max_id) + 1, false);
  for (const hedging::InstrumentSpec& spec : kernel.instruments) {
    perpetual_[spec.id] = spec.kind != hedging::InstrumentKind::inverse_future;
  }
  published_.store(0, std::memory_order_relaxed); // nothing is trusted before the sources speak
}

void IndexPublisher::on_market(std::size_t feed, const hedging::MarketUpdate& update) noexcept {
  if (!oracle_) {
    return;
  }
  const bool perpetual = update.instrument < perpetual_.size() && perpetual_[update.instrument];
  const hedging::Price price = source_price(update, perpetual);
  if (price.is_valid()) {
    oracle_->update(feed, price, update.time);
  }
  read(update.time);
}

void IndexPublisher::on_clock(hedging::Timestamp now) noexcept { read(now); }

void IndexPublisher::read(hedging::Timestamp now) noexcept {
  if (!oracle_) {
    return;
  }
  // Inputs from several threads reach the kernel thread slightly out of
  // time order; age is measured from the latest time seen.
  clock_ = std::max(clock_, now);
  const feeds::OracleReading reading = oracle_->read(clock_);
  const bool valid = reading.status == OracleStatus::trusted;
  published_.store(valid ? reading.price.raw : 0, std::memory_order_relaxed);
  published_at_.store(clock_.nanoseconds, std::memory_order_relaxed);
  fresh_.store(reading.fresh, std::memory_order_relaxed);
  agreeing_.store(reading.agreeing, std::memory_order_relaxed);
  status_.store(static_cast<std::uint8_t>(reading.status), std::memory_order_relaxed);
}

hedging::Price IndexPublisher::valid_index() const noexcept {
  return hedging::Price{published_.load(std::memory_order_relaxed)};
}

std::string IndexPublisher::problem() const {
  if (!oracle_) {
    return "no valid index price: no [[feeds]] configured";
  }
  const feeds::OracleConfig& config = oracle_->config();
  const std::string fresh = std::to_string(fresh_.load(std::memory_order_relaxed));
  const std::string agreeing = std::to_string(agreeing_.load(std::memory_order_relaxed));
  const std::string required = std::to_string(config.min_agreeing);
  switch (static_cast<OracleStatus>(status_.load(std::memory_order_relaxed))) {
  case OracleStatus::trusted:
    return "";
  case OracleStatus::no_fresh_source:
    return "no valid index price: " + fresh + " of " + std::to_string(feed_count_) +
           " price sources fresh (a price within " + seconds_text(config.max_age) + "), " + required + " required";
  case OracleStatus::no_agreement:
    return "no valid index price: " + agreeing + " of " + fresh + " fresh price sources within " +
           percent_text(config.max_deviation) + " of their median and of each other, " + required + " required";
  case OracleStatus::quarantined:
    return "no valid index price: a move of more than " + percent_text(config.jump_threshold) +
           " from the last trusted price waits for " + std::to_string(config.jump_confirmations) +
           " agreeing sources (" + agreeing + " so far)";
  }
  return "no valid index price";
}

void IndexPublisher::write_metrics(PrometheusText& out) const {
  using Type = PrometheusText::Type;
  const hedging::Price index = valid_index();
  out.family("synthusd_oracle_index_price_usd", Type::gauge,
             "the index price sats are converted at (the price oracle's), 0 while there is no valid index");
  out.sample(dollars(index));
  out.gauge("synthusd_oracle_valid", "1 while the price oracle has a valid index", index.is_valid() ? 1 : 0);
  const auto status = static_cast<OracleStatus>(status_.load(std::memory_order_relaxed));
  out.gauge("synthusd_oracle_quarantined", "1 while a price jump waits for confirmation by more sources",
            status == OracleStatus::quarantined ? 1 : 0);
  out.gauge("synthusd_oracle_sources", "price sources (feeds) the oracle reads",
            static_cast<std::int64_t>(feed_count_));
  out.gauge("synthusd_oracle_sources_fresh", "price sources with a price within the staleness limit",
            fresh_.load(std::memory_order_relaxed));
  out.gauge("synthusd_oracle_sources_agreeing", "fresh price sources within the deviation limit of their median",
            agreeing_.load(std::memory_order_relaxed));
  if (!oracle_) {
    out.gauge("synthusd_oracle_min_sources", "agreeing sources required for a valid index", 0);
    return;
  }
  out.gauge("synthusd_oracle_min_sources", "agreeing sources required for a valid index",
            static_cast<std::int64_t>(oracle_->config().min_agreeing));
  out.counter("synthusd_oracle_quarantines_total", "price jumps quarantined", oracle_->quarantines());
  out.counter("synthusd_oracle_updates_rejected_total", "prices the oracle refused (not positive)",
              oracle_->rejected_updates());
  out.family("synthusd_oracle_source_price_usd", Type::gauge, "each feed's latest price as the oracle took it");
  for (std::size_t i = 0; i < feed_count_; ++i) {
    out.sample(dollars(oracle_->source(i).price), {{"feed", std::to_string(i)}});
  }
  out.family("synthusd_oracle_source_age_seconds", Type::gauge,
             "time since each feed's latest price, at the oracle's last reading (-1: none yet)");
  for (std::size_t i = 0; i < feed_count_; ++i) {
    const feeds::OracleSourceView source = oracle_->source(i);
    out.sample(source.seen ? static_cast<double>((clock_ - source.time).nanoseconds) / 1e9 : -1.0,
               {{"feed", std::to_string(i)}});
  }
  out.family("synthusd_oracle_source_agreeing", Type::gauge,
             "1 when the feed's price was fresh and agreed with the median at the last reading");
  for (std::size_t i = 0; i < feed_count_; ++i) {
    out.sample(oracle_->source(i).agreeing, {{"feed", std::to_string(i)}});
  }
}

} // namespace synthusd::engine::run
