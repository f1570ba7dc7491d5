#pragma once
// How a kernel order goes to a venue: the order type and time in force, per
// venue, from configuration. The kernel asks for "this many contracts now"
// (a market OrderIntent); this turns that into what is sent:
//
//   limit_ioc (default)  a marketable limit, immediate-or-cancel, bounded by
//                        a collar around the instrument's reference price:
//                        buy at reference * (1 + collar) rounded down to the
//                        tick, sell at reference * (1 - collar) rounded up.
//                        It cannot trade through the collar in a crash; what
//                        it cannot fill is canceled and the kernel asks again.
//   market               an unbounded market order, immediate-or-cancel.
//                        Explicit opt-in only.
//   post_only            a passive limit at our side of the touch (buy at the
//                        bid, sell at the ask), ExecInst 6, good till cancel;
//                        after post_only_wait without completing it is
//                        canceled and the next order for that instrument goes
//                        as limit_ioc (the taker fallback, priced here too).
//
// Without a price to bound it (no reference, or no touch for post_only) an
// order is not sent: never unbounded by accident. Limit intents the kernel
// prices itself pass through unchanged (good till cancel).
//
// Pure functions: no clock, no I/O. Prices are hedging::Price (1e-8 USD).

#include <optional>
#include <string_view>

#include "synthusd/fix/gateway_types.hpp"
#include "synthusd/hedging/actions.hpp"
#include "synthusd/hedging/types.hpp"

namespace synthusd::fix {

enum class ExecutionStyle : std::uint8_t { limit_ioc, market, post_only };

[[nodiscard]] const char* to_string(ExecutionStyle style) noexcept;
// "limit_ioc", "market" or "post_only"; false (out untouched) for anything else.
[[nodiscard]] bool parse_execution_style(std::string_view text, ExecutionStyle& out) noexcept;

struct ExecutionOptions {
  ExecutionStyle style = ExecutionStyle::limit_ioc;
  hedging::Ratio collar = hedging::Ratio::from_ppm(5'000); // 0.5 %: well inside pre-trade risk's 5 % band
  hedging::Duration post_only_wait = hedging::Duration::from_seconds(2);
  // Consecutive venue rejects: no order to the venue for initial, then
  // doubling up to maximum; any accepted or filled order resets it.
  hedging::Duration reject_backoff_initial = hedging::Duration::from_seconds(1);
  hedging::Duration reject_backoff_maximum = hedging::Duration::from_seconds(60);
};

// The market as the policy needs it, for one instrument.
struct Touch {
  hedging::Price bid{};
  hedging::Price ask{};
  hedging::Price reference{}; // the mark, else the mid: what the collar is around
};

struct ShapedOrder {
  hedging::OrderIntent intent{}; // type and limit price as sent
  TimeInForce time_in_force = TimeInForce::immediate_or_cancel;
  bool post_only = false;
  // post_only: the limit_ioc price of the taker fallback (0 when there is no
  // reference to bound it: then there is no fallback, only the cancel).
  // market: the collar price itself, sent as Price(44) where the venue
  // requires one on market orders (Deribit); 0 when there is no reference.
  hedging::Price taker_limit_price{};
};

// The collar price of a marketable limit for side, or an invalid price
// (raw 0) when reference or tick is not positive or the result is not.
[[nodiscard]] hedging::Price collar_price(hedging::Side side, hedging::Price reference, hedging::Ratio collar,
                                          hedging::Price tick) noexcept;

// What to send for intent; nullopt when the style needs a price that touch
// does not have.
[[nodiscard]] std::optional<ShapedOrder> shape_order(const hedging::OrderIntent& intent, const Touch& touch,
                                                     hedging::Price tick, const ExecutionOptions& options) noexcept;

// The taker fallback of a post-only order: the same intent as a limit IOC at
// taker_limit_price.
[[nodiscard]] ShapedOrder taker_fallback(const ShapedOrder& passive) noexcept;

// The wait after `consecutive_rejects` (>= 1) venue rejects in a row.
[[nodiscard]] hedging::Duration reject_backoff(const ExecutionOptions& options,
                                               std::uint32_t consecutive_rejects) noexcept;

} // namespace synthusd::fix
