#pragma once
// What the competitor extractors share with the simdjson parsers: turning a
// number's text into VenueTick's fixed point with decimal.hpp, so that all
// three libraries must agree to the last unit before anything is timed.

#include <cstdint>
#include <string_view>

#include "synthusd/common/decimal.hpp"
#include "synthusd/feeds/decimal.hpp"
#include "synthusd/feeds/venue_tick.hpp"

namespace synthusd::perf {

// Fills a VenueTick from number texts; empty text means absent.
class FixedPointWriter {
public:
  explicit FixedPointWriter(feeds::VenueTick& tick) noexcept : tick_(tick) {}

  void price(std::string_view text, hedging::Price feeds::VenueTick::*member, std::uint32_t bit) noexcept {
    if (!text.empty()) {
      const common::DecimalResult<hedging::Price> result = feeds::parse_price(text);
      record(result.ok(), bit);
      tick_.*member = result.value;
    }
  }
  void size(std::string_view text, std::int64_t feeds::VenueTick::*member, std::uint32_t bit) noexcept {
    if (!text.empty()) {
      const common::DecimalResult<std::int64_t> result = common::parse_decimal(text, 8);
      record(result.ok(), bit);
      tick_.*member = result.value;
    }
  }
  void funding_rate(std::string_view text) noexcept {
    if (!text.empty()) {
      const common::DecimalResult<hedging::Ratio> result = feeds::parse_ratio(text);
      record(result.ok(), feeds::field::funding_rate);
      tick_.funding_rate = result.value;
    }
  }
  void venue_time_ms(std::uint64_t milliseconds) noexcept {
    tick_.venue_time = hedging::Timestamp{static_cast<std::int64_t>(milliseconds) * 1'000'000};
  }
  void venue_time_ms(std::string_view text) noexcept {
    std::uint64_t milliseconds = 0;
    for (const char c : text) {
      if (c < '0' || c > '9') {
        valid_ = false;
        return;
      }
      milliseconds = milliseconds * 10 + static_cast<std::uint64_t>(c - '0');
    }
    venue_time_ms(milliseconds);
  }
  void sequence(std::uint64_t value) noexcept {
    tick_.sequence = value;
    tick_.fields |= feeds::field::sequence;
  }
  void invalid() noexcept { valid_ = false; }

  [[nodiscard]] feeds::ParseStatus status() const noexcept {
    if (!valid_) {
      return feeds::ParseStatus::malformed;
    }
    return tick_.fields != 0 ? feeds::ParseStatus::tick : feeds::ParseStatus::ignored;
  }

private:
  void record(bool ok, std::uint32_t bit) noexcept {
    if (ok) {
      tick_.fields |= bit;
    } else {
      valid_ = false;
    }
  }

  feeds::VenueTick& tick_;
  bool valid_ = true;
};

[[nodiscard]] inline bool same(const feeds::VenueTick& a, const feeds::VenueTick& b) noexcept {
  return a.instrument == b.instrument && a.fields == b.fields && a.bid == b.bid && a.ask == b.ask &&
         a.bid_size == b.bid_size && a.ask_size == b.ask_size && a.mark == b.mark && a.index == b.index &&
         a.funding_rate == b.funding_rate && a.next_funding_time == b.next_funding_time &&
         a.venue_time == b.venue_time && a.sequence == b.sequence && a.previous_sequence == b.previous_sequence;
}

} // namespace synthusd::perf
