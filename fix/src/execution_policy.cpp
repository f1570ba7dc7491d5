#include "synthusd/fix/execution_policy.hpp"

#include <algorithm>

namespace synthusd::fix {

using hedging::Price;
using hedging::Ratio;
using hedging::Rounding;
using hedging::Side;

const char* to_string(ExecutionStyle style) noexcept {
  switch (style) {
  case ExecutionStyle::limit_ioc:
    return "limit_ioc";
  case ExecutionStyle::market:
    return "market";
  case ExecutionStyle::post_only:
    return "post_only";
  }
  return "limit_ioc";
}

bool parse_execution_style(std::string_view text, ExecutionStyle& out) noexcept {
  for (const ExecutionStyle style : {ExecutionStyle::limit_ioc, ExecutionStyle::market, ExecutionStyle::post_only}) {
    if (text == to_string(style)) {
      out = style;
      return true;
    }
  }
  return false;
}

Price collar_price(Side side, Price reference, Ratio collar, Price tick) noexcept {
  if (reference.raw <= 0 || tick.raw <= 0 || collar.raw < 0 || collar.raw >= Ratio::kScale) {
    return Price{};
  }
  // Every rounding keeps the price inside the collar: a buy never above
  // reference * (1 + collar), a sell never below reference * (1 - collar).
  if (side == Side::buy) {
    const Price bound = hedging::scale(reference, Ratio{Ratio::kScale + collar.raw}, Rounding::down);
    return hedging::round_to_tick(bound, tick, Rounding::down);
  }
  const Price bound = hedging::scale(reference, Ratio{Ratio::kScale - collar.raw}, Rounding::up);
  return hedging::round_to_tick(bound, tick, Rounding::up);
}

namespace {

// A post-only GTC limit at our side of the touch (buy at the bid, sell at
// the ask); nullopt without that side.
std::optional<ShapedOrder> rest_at_touch(ShapedOrder shaped, const Touch& touch) noexcept {
  const Price price = shaped.intent.side == Side::buy ? touch.bid : touch.ask;
  if (!price.is_valid()) {
    return std::nullopt;
  }
  shaped.intent.type = hedging::OrderType::limit;
  shaped.intent.limit_price = price;
  shaped.time_in_force = TimeInForce::good_till_cancel;
  shaped.post_only = true;
  return shaped;
}

} // namespace

std::optional<ShapedOrder> shape_order(const hedging::OrderIntent& intent, const Touch& touch, Price tick,
                                       const ExecutionOptions& options) noexcept {
  ShapedOrder shaped;
  shaped.intent = intent;
  if (intent.type == hedging::OrderType::limit) {
    shaped.time_in_force = TimeInForce::good_till_cancel;
    return shaped;
  }
  if (intent.passive) {
    // The kernel's own post-only order (hybrid policy), whatever the style:
    // it re-prices and converts it itself, so no taker fallback price.
    return rest_at_touch(shaped, touch);
  }
  switch (options.style) {
  case ExecutionStyle::market:
    shaped.time_in_force = TimeInForce::immediate_or_cancel;
    shaped.taker_limit_price = collar_price(intent.side, touch.reference, options.collar, tick);
    return shaped;
  case ExecutionStyle::limit_ioc: {
    const Price price = collar_price(intent.side, touch.reference, options.collar, tick);
    if (!price.is_valid()) {
      return std::nullopt;
    }
    shaped.intent.type = hedging::OrderType::limit;
    shaped.intent.limit_price = price;
    shaped.time_in_force = TimeInForce::immediate_or_cancel;
    return shaped;
  }
  case ExecutionStyle::post_only: {
    std::optional<ShapedOrder> passive = rest_at_touch(shaped, touch);
    if (passive) {
      passive->taker_limit_price = collar_price(intent.side, touch.reference, options.collar, tick);
    }
    return passive;
  }
  }
  return std::nullopt;
}

ShapedOrder taker_fallback(const ShapedOrder& passive) noexcept {
  ShapedOrder taker = passive;
  taker.intent.type = hedging::OrderType::limit;
  taker.intent.limit_price = passive.taker_limit_price;
  taker.time_in_force = TimeInForce::immediate_or_cancel;
  taker.post_only = false;
  taker.taker_limit_price = Price{};
  return taker;
}

hedging::Duration reject_backoff(const ExecutionOptions& options, std::uint32_t consecutive_rejects) noexcept {
  if (consecutive_rejects == 0) {
    return hedging::Duration{};
  }
  std::int64_t wait = options.reject_backoff_initial.nanoseconds;
  const std::int64_t maximum = options.reject_backoff_maximum.nanoseconds;
  for (std::uint32_t i = 1; i < consecutive_rejects && wait < maximum; ++i) {
    wait = wait > maximum / 2 ? maximum : wait * 2;
  }
  return hedging::Duration{std::min(wait, maximum)};
}

} // namespace synthusd::fix
