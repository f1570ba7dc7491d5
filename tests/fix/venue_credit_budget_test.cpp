// One venue's request credits, spent from two threads (pre-trade risk on the
// kernel thread, the gateway's queries on its own): the arithmetic against
// Deribit's documented model, and no credit spent twice under contention.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

#include "synthusd/fix/venue_credit_budget.hpp"

namespace synthusd::fix {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kNow = 1'700'000'000LL * kSecond;

TEST(VenueCreditBudgetTest, a_full_pool_allows_a_burst_of_maximum_over_cost_then_refills_continuously) {
  VenueCreditBudget budget(kDeribitDefaultCredits); // 50,000 / 10,000 a second / 500
  for (int request = 0; request < 100; ++request) {
    ASSERT_TRUE(budget.try_spend(kNow)) << request;
  }
  EXPECT_FALSE(budget.try_spend(kNow));
  EXPECT_EQ(budget.available(kNow), 0);
  // 500 credits take 50 ms: at 49.999999 ms not yet, at 50 ms one request.
  EXPECT_FALSE(budget.try_spend(kNow + 49'999'999));
  EXPECT_TRUE(budget.try_spend(kNow + 50'000'000));
  EXPECT_FALSE(budget.try_spend(kNow + 50'000'000));
  // Idle for a minute: back to the maximum, not beyond.
  EXPECT_EQ(budget.available(kNow + 60 * kSecond), 50'000);
}

TEST(VenueCreditBudgetTest, a_query_keeping_a_reserve_stops_where_an_order_may_still_go) {
  VenueCreditBudget budget(CreditLimit{2'000, 100, 500}); // four requests
  EXPECT_TRUE(budget.try_spend(kNow, 1'000));             // 1,500 left
  EXPECT_TRUE(budget.try_spend(kNow, 1'000));             // 1,000 left: exactly the reserve
  EXPECT_FALSE(budget.try_spend(kNow, 1'000));            // would leave 500
  EXPECT_EQ(budget.available(kNow), 1'000) << "a refused request spends nothing";
  EXPECT_TRUE(budget.try_spend(kNow)); // an order takes the reserve
  EXPECT_TRUE(budget.try_spend(kNow));
  EXPECT_FALSE(budget.try_spend(kNow));
}

TEST(VenueCreditBudgetTest, a_request_that_must_go_spends_into_debt_down_to_minus_the_maximum) {
  VenueCreditBudget budget(CreditLimit{1'000, 500, 500});
  for (int cancel = 0; cancel < 10; ++cancel) {
    budget.spend(kNow);
  }
  EXPECT_EQ(budget.available(kNow), -1'000);
  // Orders wait the debt out: back to a request's 500 credits takes 3 s.
  EXPECT_FALSE(budget.try_spend(kNow + 3 * kSecond - 1));
  EXPECT_TRUE(budget.try_spend(kNow + 3 * kSecond));
}

TEST(VenueCreditBudgetTest, no_limit_and_unusable_limits) {
  VenueCreditBudget none(CreditLimit{});
  EXPECT_FALSE(none.limited());
  EXPECT_TRUE(none.try_spend(kNow, 1'000'000));
  EXPECT_THROW(VenueCreditBudget(CreditLimit{1'000, 0, 500}), std::invalid_argument);    // no refill
  EXPECT_THROW(VenueCreditBudget(CreditLimit{1'000, 10, 2'000}), std::invalid_argument); // cost above the pool
  EXPECT_THROW(VenueCreditBudget(CreditLimit{-1, 10, 5}), std::invalid_argument);
}

// Two threads spend as fast as they can at one instant: together they get
// exactly the pool's requests, never one more (a lost compare-and-swap
// retries on the fresh value instead of spending credits already gone).
TEST(VenueCreditBudgetTest, two_threads_never_spend_the_same_credits) {
  constexpr std::int64_t kRequests = 200'000;
  VenueCreditBudget budget(CreditLimit{kRequests * 5, 1, 5});
  std::atomic<bool> go{false};
  std::atomic<std::int64_t> granted{0};
  const auto spender = [&](std::int64_t keep) {
    while (!go.load(std::memory_order_acquire)) {
    }
    std::int64_t mine = 0;
    for (std::int64_t attempt = 0; attempt < kRequests; ++attempt) {
      mine += budget.try_spend(kNow, keep) ? 1 : 0;
    }
    granted.fetch_add(mine);
  };
  std::thread kernel(spender, 0);
  std::thread gateway(spender, 0);
  go.store(true, std::memory_order_release);
  kernel.join();
  gateway.join();
  EXPECT_EQ(granted.load(), kRequests);
  EXPECT_EQ(budget.available(kNow), 0);
}

} // namespace
} // namespace synthusd::fix
