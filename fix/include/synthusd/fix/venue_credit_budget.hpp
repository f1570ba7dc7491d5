#pragma once
// One venue's request credits, as Deribit counts them
// (docs.deribit.com/articles/rate-limits): every request costs `cost`
// credits from a pool of at most `maximum`, refilled continuously at
// `refill_per_second`; a request that finds too few credits ends the session
// ("too_many_requests", error 10028).
//
// One budget per venue, spent by every thread that sends to it: pre-trade
// risk on the kernel thread (orders, cancels) and the gateway on its own
// thread (RequestForPositions, User Request, Order Mass Status Request,
// mass cancel). Lock-free, so the kernel's hot path never waits for the
// gateway: the whole state is one atomic word (see full_at_ns_).
//
// C++14: the gateway's QuickFIX half includes it (fix/CMakeLists.txt).

#include <atomic>
#include <cstdint>

namespace synthusd {
namespace fix {

struct CreditLimit {
  std::int64_t maximum = 0; // 0: the venue counts no credits
  std::int64_t refill_per_second = 0;
  std::int64_t cost = 0; // per request
};

// Deribit's documented default for non-matching-engine requests: 500 credits
// a request, at most 50,000, 10,000 a second back (20 requests a second,
// bursts of 100). Its matching-engine tiers (orders, cancels) may be lower
// for an account: read them from /private/get_account_summary and configure
// the lower of the two, since one budget here covers both.
constexpr CreditLimit kDeribitDefaultCredits{50'000, 10'000, 500};

class VenueCreditBudget {
public:
  // Throws std::invalid_argument unless maximum is 0 (no limit) or
  // 0 < cost <= maximum with a positive refill, in int64 nanosecond range.
  explicit VenueCreditBudget(CreditLimit limit);
  VenueCreditBudget(const VenueCreditBudget&) = delete;
  VenueCreditBudget& operator=(const VenueCreditBudget&) = delete;

  // Spends one request's credits if, after it, at least `keep_credits`
  // remain; false (nothing spent) otherwise. now_ns: wall-clock nanoseconds,
  // the same clock on every thread (the kernel's event time, which never
  // runs ahead of it, only makes the kernel's view more cautious).
  bool try_spend(std::int64_t now_ns, std::int64_t keep_credits = 0) noexcept;
  // Spends them whatever is left (a cancel must go): the pool may go into
  // debt, down to -maximum, which later requests wait out.
  void spend(std::int64_t now_ns) noexcept;
  // Whole credits left at now_ns (negative in debt). For tests and metrics.
  std::int64_t available(std::int64_t now_ns) const noexcept;
  bool limited() const noexcept { return limit_.maximum > 0; }
  const CreditLimit& limit() const noexcept { return limit_; }

private:
  CreditLimit limit_;
  std::int64_t cost_ns_ = 0;   // time one request's credits take to come back, rounded up
  std::int64_t window_ns_ = 0; // time an empty pool takes to fill, rounded down
  // The instant the pool is (or was) full again: credits at `now` are
  // maximum - refill * (max(full_at, now) - now). A request moves it one
  // cost_ns_ later, allowed while it stays within window_ns_ of now (the
  // generic cell rate algorithm). One word, so a compare-and-swap both
  // checks and spends: two threads can never spend the same credits.
  std::atomic<std::int64_t> full_at_ns_{0};
};

} // namespace fix
} // namespace synthusd
