// Rule 6: pro-rata netting of stable receivers (X) against stable providers
// (Y), and what reaches the venues.

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "kernel_fixture.hpp"
#include "synthusd/hedging/netting.hpp"

namespace synthusd::hedging {
namespace {

using namespace synthusd::hedging::testing;

std::vector<UsdCents> cents(std::initializer_list<std::int64_t> values) {
  std::vector<UsdCents> out;
  out.reserve(values.size());
  for (const std::int64_t v : values) {
    out.emplace_back(v);
  }
  return out;
}

std::vector<std::int64_t> raw(const std::vector<UsdCents>& values) {
  std::vector<std::int64_t> out;
  out.reserve(values.size());
  for (const UsdCents v : values) {
    out.push_back(v.value);
  }
  return out;
}

struct Match {
  std::vector<std::int64_t> receivers;
  std::vector<std::int64_t> providers;
  NettingTotals totals;
};

Match match(std::initializer_list<std::int64_t> x, std::initializer_list<std::int64_t> y) {
  const std::vector<UsdCents> receivers = cents(x);
  const std::vector<UsdCents> providers = cents(y);
  // pre-filled with garbage so a participant the function forgets shows up
  std::vector<UsdCents> receiver_matched(receivers.size(), UsdCents{-777});
  std::vector<UsdCents> provider_matched(providers.size(), UsdCents{-777});
  const NettingTotals totals = match_pro_rata(receivers, providers, receiver_matched, provider_matched);
  return Match{raw(receiver_matched), raw(provider_matched), totals};
}

using Values = std::vector<std::int64_t>;

// ---- net_totals -----------------------------------------------------------------

TEST(NetTotals, only_the_unmatched_part_of_the_receivers_goes_to_venues) {
  constexpr NettingTotals more_receivers = net_totals(UsdCents{1'000}, UsdCents{300});
  static_assert(more_receivers.matched == UsdCents{300});
  static_assert(more_receivers.venue_hedge == UsdCents{700});

  constexpr NettingTotals more_providers = net_totals(UsdCents{300}, UsdCents{1'000});
  static_assert(more_providers.matched == UsdCents{300});
  static_assert(more_providers.venue_hedge == UsdCents{0}); // never a long hedge

  const NettingTotals equal = net_totals(UsdCents{500}, UsdCents{500});
  EXPECT_EQ(equal.matched, UsdCents{500});
  EXPECT_EQ(equal.venue_hedge, UsdCents{0});
}

TEST(NetTotals, negative_sides_count_as_zero) {
  const NettingTotals negative_receivers = net_totals(UsdCents{-50}, UsdCents{100});
  EXPECT_EQ(negative_receivers.receivers, UsdCents{0});
  EXPECT_EQ(negative_receivers.matched, UsdCents{0});
  EXPECT_EQ(negative_receivers.venue_hedge, UsdCents{0});
  const NettingTotals negative_providers = net_totals(UsdCents{500}, UsdCents{-20});
  EXPECT_EQ(negative_providers.providers, UsdCents{0});
  EXPECT_EQ(negative_providers.venue_hedge, UsdCents{500});
}

// ---- match_pro_rata -------------------------------------------------------------

TEST(MatchProRata, nobody_is_matched_when_there_are_no_receivers) {
  // sum X = 0: R is undefined, everyone is matched 0
  const Match m = match({0, 0}, {500, 300});
  EXPECT_EQ(m.receivers, (Values{0, 0}));
  EXPECT_EQ(m.providers, (Values{0, 0}));
  EXPECT_EQ(m.totals.receivers, UsdCents{0});
  EXPECT_EQ(m.totals.providers, UsdCents{800});
  EXPECT_EQ(m.totals.matched, UsdCents{0});
  EXPECT_EQ(m.totals.venue_hedge, UsdCents{0});

  const Match negative = match({-100, 0}, {500});
  EXPECT_EQ(negative.receivers, (Values{0, 0}));
  EXPECT_EQ(negative.providers, (Values{0}));
}

TEST(MatchProRata, nobody_is_matched_when_there_are_no_providers) {
  const Match m = match({600, 400}, {0});
  EXPECT_EQ(m.receivers, (Values{0, 0}));
  EXPECT_EQ(m.providers, (Values{0}));
  EXPECT_EQ(m.totals.matched, UsdCents{0});
  EXPECT_EQ(m.totals.venue_hedge, UsdCents{1'000});
}

TEST(MatchProRata, r_below_one_matches_receivers_pro_rata_and_providers_fully) {
  // R = 500 / 1000 = 0.5: receivers 600 * 0.5, 400 * 0.5; providers min(Y, Y / 0.5) = Y
  const Match m = match({600, 400}, {300, 200});
  EXPECT_EQ(m.receivers, (Values{300, 200}));
  EXPECT_EQ(m.providers, (Values{300, 200}));
  EXPECT_EQ(m.totals.receivers, UsdCents{1'000});
  EXPECT_EQ(m.totals.providers, UsdCents{500});
  EXPECT_EQ(m.totals.matched, UsdCents{500});
  EXPECT_EQ(m.totals.venue_hedge, UsdCents{500});
}

TEST(MatchProRata, r_below_one_floors_each_receiver_to_a_whole_cent) {
  // R = 100 / 300: 100 / 3 = 33.33 -> 33; 200 / 3 = 66.67 -> 66 (never 67)
  const Match m = match({100, 200}, {100});
  EXPECT_EQ(m.receivers, (Values{33, 66}));
  EXPECT_EQ(m.providers, (Values{100}));
  EXPECT_EQ(m.totals.matched, UsdCents{100});
  EXPECT_EQ(m.totals.venue_hedge, UsdCents{200});

  // R = 10 / 23: 50/23 = 2.17 -> 2; 70/23 = 3.04 -> 3; 110/23 = 4.78 -> 4
  const Match odd = match({5, 7, 11}, {10});
  EXPECT_EQ(odd.receivers, (Values{2, 3, 4}));
  EXPECT_EQ(odd.providers, (Values{10}));
}

TEST(MatchProRata, r_above_one_matches_receivers_fully_and_providers_pro_rata) {
  // R = 600 / 300 = 2: providers Y / 2
  const Match m = match({100, 200}, {450, 150});
  EXPECT_EQ(m.receivers, (Values{100, 200}));
  EXPECT_EQ(m.providers, (Values{225, 75}));
  EXPECT_EQ(m.totals.matched, UsdCents{300});
  EXPECT_EQ(m.totals.venue_hedge, UsdCents{0});

  // R = 150 / 100: 50 / 1.5 = 33.33 -> 33; 100 / 1.5 = 66.67 -> 66
  const Match floored = match({100}, {50, 100});
  EXPECT_EQ(floored.receivers, (Values{100}));
  EXPECT_EQ(floored.providers, (Values{33, 66}));
}

TEST(MatchProRata, r_equal_to_one_matches_everyone_fully) {
  const Match m = match({250, 750}, {400, 600});
  EXPECT_EQ(m.receivers, (Values{250, 750}));
  EXPECT_EQ(m.providers, (Values{400, 600}));
  EXPECT_EQ(m.totals.matched, UsdCents{1'000});
  EXPECT_EQ(m.totals.venue_hedge, UsdCents{0});
}

TEST(MatchProRata, negative_interests_count_as_zero) {
  // sum X = 500, sum Y = 250 -> R = 0.5
  const Match m = match({500, -200}, {250, -50});
  EXPECT_EQ(m.receivers, (Values{250, 0}));
  EXPECT_EQ(m.providers, (Values{250, 0}));
  EXPECT_EQ(m.totals.receivers, UsdCents{500});
  EXPECT_EQ(m.totals.providers, UsdCents{250});
  EXPECT_EQ(m.totals.venue_hedge, UsdCents{250});
}

TEST(MatchProRata, never_over_matches_and_loses_under_a_cent_per_participant) {
  // Deterministic pseudo-random books (LCG): every match is within
  // [0, interest] and each side's sum is the total matched, less at most one
  // cent per participant lost to flooring.
  std::uint64_t state = 12345;
  const auto next = [&state](std::int64_t bound) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::int64_t>((state >> 33) % static_cast<std::uint64_t>(bound));
  };
  for (int round = 0; round < 500; ++round) {
    std::vector<UsdCents> receivers(1 + static_cast<std::size_t>(next(6)));
    std::vector<UsdCents> providers(1 + static_cast<std::size_t>(next(6)));
    for (UsdCents& x : receivers) {
      x = UsdCents{next(2'000'000) - 100'000};
    }
    for (UsdCents& y : providers) {
      y = UsdCents{next(2'000'000) - 100'000};
    }
    std::vector<UsdCents> rm(receivers.size());
    std::vector<UsdCents> pm(providers.size());
    const NettingTotals totals = match_pro_rata(receivers, providers, rm, pm);
    std::int64_t sum_x = 0;
    std::int64_t sum_y = 0;
    for (std::size_t i = 0; i < receivers.size(); ++i) {
      const std::int64_t interest = receivers[i].value > 0 ? receivers[i].value : 0;
      ASSERT_GE(rm[i].value, 0);
      ASSERT_LE(rm[i].value, interest);
      sum_x += rm[i].value;
    }
    for (std::size_t j = 0; j < providers.size(); ++j) {
      const std::int64_t interest = providers[j].value > 0 ? providers[j].value : 0;
      ASSERT_GE(pm[j].value, 0);
      ASSERT_LE(pm[j].value, interest);
      sum_y += pm[j].value;
    }
    ASSERT_LE(sum_x, totals.matched.value);
    ASSERT_GT(sum_x, totals.matched.value - static_cast<std::int64_t>(receivers.size()));
    ASSERT_LE(sum_y, totals.matched.value);
    ASSERT_GT(sum_y, totals.matched.value - static_cast<std::int64_t>(providers.size()));
    ASSERT_EQ(totals.venue_hedge.value, totals.receivers.value - totals.matched.value);
  }
}

// ---- kernel ---------------------------------------------------------------------

ProviderInterestChange provider(std::int64_t delta_cents, Timestamp time = kStart, std::uint64_t id = 1) {
  return ProviderInterestChange{id, UsdCents{delta_cents}, time};
}

Kernel ready_kernel() {
  Kernel kernel(single_venue_config());
  bring_up(kernel);
  return kernel;
}

// $10,000 liability hedged with 98 filled contracts short.
Kernel hedged_kernel() {
  Kernel kernel = ready_kernel();
  const auto orders = orders_in(kernel.on(liability(1'000'000)));
  EXPECT_EQ(orders.size(), 1U);
  if (!orders.empty()) {
    EXPECT_EQ(signed_quantity(orders[0]), -98);
    (void)fill(kernel, orders[0], 50'000, kStart);
  }
  return kernel;
}

TEST(KernelNetting, provider_interest_reduces_the_hedge_sent_to_venues) {
  Kernel kernel = ready_kernel();
  EXPECT_TRUE(orders_in(kernel.on(provider(300'000))).empty()); // nothing to net against yet
  EXPECT_EQ(kernel.provider_interest(), UsdCents{300'000});
  EXPECT_EQ(kernel.venue_hedge(), UsdCents{0});

  // $10,000 - $3,000 = $7,000 on venues: sell round(0.98 * 7,000 / 100) = round(68.6) = 69
  const auto orders = orders_in(kernel.on(liability(1'000'000)));
  EXPECT_EQ(kernel.liability(), UsdCents{1'000'000});
  EXPECT_EQ(kernel.venue_hedge(), UsdCents{700'000});
  ASSERT_EQ(orders.size(), 1U);
  EXPECT_EQ(signed_quantity(orders[0]), -69);
}

TEST(KernelNetting, new_provider_interest_buys_back_the_part_now_offset_internally) {
  Kernel kernel = hedged_kernel();
  // venue hedge $7,000 against a $9,800 short: ratio 1.4 > 1.03 -> buy back
  // to 1.00: (9,800 - 7,000) / 100 = 28
  const auto orders = orders_in(kernel.on(provider(300'000, at_seconds(1))));
  EXPECT_EQ(kernel.venue_hedge(), UsdCents{700'000});
  ASSERT_EQ(orders.size(), 1U);
  EXPECT_EQ(signed_quantity(orders[0]), 28);
  EXPECT_TRUE(orders[0].reduce_only);
}

TEST(KernelNetting, withdrawn_provider_interest_is_hedged_on_venues_again) {
  Kernel kernel = ready_kernel();
  (void)kernel.on(provider(300'000));
  const auto first = orders_in(kernel.on(liability(1'000'000)));
  ASSERT_EQ(first.size(), 1U);
  (void)fill(kernel, first[0], 50'000, kStart); // 69 short = $6,900
  // provider leaves: venue hedge $10,000, ratio 0.69 -> sell round((9,800 - 6,900) / 100) = 29
  const auto orders = orders_in(kernel.on(provider(-300'000, at_seconds(1))));
  EXPECT_EQ(kernel.provider_interest(), UsdCents{0});
  EXPECT_EQ(kernel.venue_hedge(), UsdCents{1'000'000});
  ASSERT_EQ(orders.size(), 1U);
  EXPECT_EQ(signed_quantity(orders[0]), -29);
}

TEST(KernelNetting, provider_interest_equal_to_the_liability_needs_no_venue_hedge) {
  Kernel kernel = ready_kernel();
  (void)kernel.on(provider(1'000'000));
  EXPECT_TRUE(orders_in(kernel.on(liability(1'000'000))).empty());
  EXPECT_EQ(kernel.venue_hedge(), UsdCents{0});
}

TEST(KernelNetting, excess_provider_interest_closes_the_short_and_never_goes_long) {
  Kernel kernel = hedged_kernel();
  // providers $15,000 > receivers $10,000: venue hedge 0 -> close the 98 short, no more
  const auto orders = orders_in(kernel.on(provider(1'500'000, at_seconds(1))));
  EXPECT_EQ(kernel.venue_hedge(), UsdCents{0});
  ASSERT_EQ(orders.size(), 1U);
  EXPECT_EQ(signed_quantity(orders[0]), 98);
  EXPECT_TRUE(orders[0].reduce_only);
  (void)fill(kernel, orders[0], 50'000, at_seconds(1));
  EXPECT_EQ(kernel.slot(1)->position, Contracts{0});

  // more provider interest, more receivers but still fewer: nothing at all
  EXPECT_TRUE(orders_in(kernel.on(provider(500'000, at_seconds(2)))).empty());
  EXPECT_TRUE(orders_in(kernel.on(liability(500'000, at_seconds(3)))).empty());
  EXPECT_TRUE(orders_in(kernel.on(Timer{at_seconds(4)})).empty());
  EXPECT_EQ(kernel.venue_hedge(), UsdCents{0});
  EXPECT_EQ(kernel.slot(1)->position, Contracts{0});
  EXPECT_EQ(kernel.liability_hedge_exposure(), UsdCents{0});
}

TEST(KernelNetting, a_netted_hedge_below_the_minimum_liability_closes_the_short) {
  Kernel kernel = hedged_kernel();
  // $10,000 - $9,960 = $40 < $50 minimum: close all 98
  const auto orders = orders_in(kernel.on(provider(996'000, at_seconds(1))));
  EXPECT_EQ(kernel.venue_hedge(), UsdCents{4'000});
  ASSERT_EQ(orders.size(), 1U);
  EXPECT_EQ(signed_quantity(orders[0]), 98);
}

TEST(KernelNetting, provider_interest_never_goes_negative) {
  Kernel kernel = ready_kernel();
  const auto actions = kernel.on(provider(-10'000, kStart, 7));
  const auto invalid = alerts_in(actions, AlertCode::invalid_event);
  ASSERT_EQ(invalid.size(), 1U);
  EXPECT_EQ(invalid[0].values, (std::array<std::int64_t, 3>{7, -10'000, 0}));
  EXPECT_EQ(kernel.provider_interest(), UsdCents{0});
  EXPECT_EQ(kernel.counters().invalid_events, 1U);
  // the clamp does not leak into the hedge: $10,000 is hedged in full
  const auto orders = orders_in(kernel.on(liability(1'000'000)));
  ASSERT_EQ(orders.size(), 1U);
  EXPECT_EQ(signed_quantity(orders[0]), -98);
}

} // namespace
} // namespace synthusd::hedging
