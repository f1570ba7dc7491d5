#pragma once
// Pre-trade risk: every order intent passes these checks before it reaches a
// FIX session, whatever produced it. Separate code from the kernel on
// purpose: a kernel bug must not be able to switch its own limits off.
//
// Hot path: check_order() is a handful of array lookups and integer
// arithmetic; no allocation, no locks, no exceptions. Single-threaded: the
// thread between the kernel and the FIX gateway owns it. The kill switch
// flag may be set from another thread (an atomic); everything else may not.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "synthusd/fix/venue_credit_budget.hpp"
#include "synthusd/hedging/actions.hpp"
#include "synthusd/hedging/events.hpp"
#include "synthusd/hedging/instrument.hpp"

namespace synthusd::fix {

using hedging::Contracts;
using hedging::Duration;
using hedging::Price;
using hedging::Ratio;
using hedging::Timestamp;
using hedging::UsdCents;

enum class RiskReject : std::uint8_t {
  none,
  kill_switch,
  session_not_logged_on,
  unknown_instrument,
  invalid_order, // zero quantity, limit without price, market with price
  max_order_quantity,
  max_order_notional,
  no_reference_price,
  stale_reference_price,
  price_collar,
  max_position,
  max_aggregate_notional,
  max_open_orders,
  order_rate,
  message_rate,
  duplicate_client_order_id,
  venue_credits, // the venue's request credits are spent (Deribit would end the session: error 10028)
  count_,
};

inline constexpr std::size_t kRiskRejectCount = static_cast<std::size_t>(RiskReject::count_);

// Stable names for metrics labels and logs ("price_collar", ...).
[[nodiscard]] std::string_view to_string(RiskReject reason) noexcept;

struct TokenBucketLimit {
  std::uint32_t per_second = 0; // 0: unlimited
  std::uint32_t burst = 0;
};

struct RiskLimits {
  Contracts max_order_quantity{10'000};
  UsdCents max_order_notional{100'000'000};     // $1,000,000
  Ratio price_collar = Ratio::from_ppm(50'000); // limit price within 5 % of the reference
  Duration max_reference_age = Duration::from_seconds(5);
  Contracts max_position{100'000};                // per instrument, counting open orders
  UsdCents max_aggregate_notional{1'000'000'000}; // $10,000,000 over every instrument
  std::uint32_t max_open_orders = 64;
  TokenBucketLimit order_rate{50, 100};
  TokenBucketLimit message_rate{200, 400}; // orders and cancels
};

// A token bucket in integer nano-tokens: refill = rate * elapsed.
class TokenBucket {
public:
  TokenBucket() = default;
  explicit TokenBucket(TokenBucketLimit limit) noexcept;
  [[nodiscard]] bool try_take(Timestamp now) noexcept;

private:
  static constexpr std::int64_t kUnit = 1'000'000'000;
  std::int64_t capacity_ = 0; // burst * kUnit
  std::int64_t rate_ = 0;     // tokens per second
  std::int64_t tokens_ = 0;
  Timestamp last_{};
  bool unlimited_ = true;
  bool started_ = false;
};

// Open orders pre-trade risk tracks unless told otherwise (max_open_orders
// may not exceed it).
inline constexpr std::size_t kDefaultOrderCapacity = 1024;

class PreTradeRisk {
public:
  // Throws std::invalid_argument on an unusable limit. The instrument table
  // is copied; ids index flat arrays.
  PreTradeRisk(RiskLimits limits, std::span<const hedging::InstrumentSpec> instruments,
               std::size_t order_capacity = kDefaultOrderCapacity);

  // Checks an order; when it passes, books it as open (its quantity counts
  // towards position and notional limits until a final execution report).
  [[nodiscard]] RiskReject check_order(const hedging::OrderIntent& order, Timestamp now) noexcept;
  // The venue's request credits (CreditLimit): orders to `venue` are refused
  // (venue_credits) while too few are left; cancels always pass and spend
  // theirs. Cold path; a venue without a limit set has none. Returns the
  // budget, for the venue's gateway to spend its own requests from
  // (GatewayConfig::request_credits); throws std::invalid_argument on an
  // unusable limit.
  std::shared_ptr<VenueCreditBudget> set_venue_credits(hedging::VenueId venue, CreditLimit limit);

  // A cancel spends message rate (and the venue's credits, never refused).
  [[nodiscard]] RiskReject check_cancel(const hedging::CancelIntent& cancel, Timestamp now) noexcept;

  // The order passed risk but never reached the venue (send failed).
  void on_send_failed(hedging::ClientOrderId id) noexcept;
  void on_execution(const hedging::ExecutionReport& report) noexcept;
  void on_position(hedging::InstrumentId instrument, Contracts position) noexcept;
  void on_reference_price(hedging::InstrumentId instrument, Price price, Timestamp time) noexcept;
  void on_session(hedging::VenueId venue, bool logged_on) noexcept;

  // Kill switch: engaged, nothing new passes until resumed. The caller
  // cancels every open order (open_orders() lists them). Any thread.
  void engage_kill_switch() noexcept { killed_.store(true, std::memory_order_release); }
  void resume() noexcept { killed_.store(false, std::memory_order_release); }
  [[nodiscard]] bool kill_switch_engaged() const noexcept { return killed_.load(std::memory_order_acquire); }
  // Cold path: engages the switch when `path` exists (an operator can `touch`
  // it), and reports whether it exists. Resuming stays an explicit act.
  bool poll_kill_file(const char* path) noexcept;

  [[nodiscard]] std::uint64_t rejects(RiskReject reason) const noexcept {
    return rejects_[static_cast<std::size_t>(reason)];
  }
  [[nodiscard]] std::uint64_t passed() const noexcept { return passed_; }
  [[nodiscard]] std::size_t open_order_count() const noexcept { return open_count_; }
  // Client order ids of open orders (for cancel-all), into `out`; returns count.
  std::size_t open_orders(std::span<hedging::ClientOrderId> out) const noexcept;

private:
  struct InstrumentState {
    bool configured = false;
    hedging::InstrumentSpec spec{};
    Contracts position{};
    Contracts open_buy{};
    Contracts open_sell{};
    Price reference{};
    Timestamp reference_time{};
  };
  struct OpenOrder {
    hedging::ClientOrderId id = 0;
    hedging::InstrumentId instrument = hedging::kNoInstrument;
    hedging::Side side = hedging::Side::buy;
    Contracts remaining{};
  };

  RiskReject reject(RiskReject reason) noexcept;
  [[nodiscard]] RiskReject check_limits(const hedging::OrderIntent& order, const InstrumentState& state,
                                        Timestamp now) const noexcept;
  [[nodiscard]] hedging::int128 notional_cents(const InstrumentState& state, Contracts quantity) const noexcept;
  [[nodiscard]] hedging::int128 worst_exposure(const InstrumentState& state) const noexcept;
  OpenOrder* find_open(hedging::ClientOrderId id) noexcept;
  void release(OpenOrder& order, Contracts quantity) noexcept;

  RiskLimits limits_;
  std::vector<InstrumentState> instruments_;
  std::vector<OpenOrder> open_; // id % capacity buckets, like the kernel's order table
  std::size_t open_count_ = 0;
  std::vector<std::uint8_t> session_up_; // by venue id
  // By venue id; null (unlimited) unless set_venue_credits(). Shared with
  // the venue's gateway thread: the budget is lock-free.
  std::vector<std::shared_ptr<VenueCreditBudget>> credits_;
  TokenBucket order_bucket_;
  TokenBucket message_bucket_;
  hedging::ClientOrderId highest_id_ = 0;
  std::array<std::uint64_t, kRiskRejectCount> rejects_{};
  std::uint64_t passed_ = 0;
  std::atomic<bool> killed_{false};
};

} // namespace synthusd::fix
