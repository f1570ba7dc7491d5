// Kernel::on() cost per event type, on a warmed-up kernel with three venues,
// positions and collateral. Setup stays outside the timed loop; every loop
// feeds events that keep the kernel in a steady state so that iterations are
// comparable.

#include <benchmark/benchmark.h>

#include "synthusd/hedging/kernel.hpp"

namespace synthusd::hedging {
namespace {

constexpr Timestamp kStart{1'700'000'000LL * 1'000'000'000};

MarketUpdate market(VenueId venue, std::int64_t dollars, Timestamp time) {
  MarketUpdate update;
  update.venue = venue;
  update.instrument = venue;
  update.mark = update.index = Price::from_dollars(dollars);
  update.bid = Price::from_dollars(dollars - 1);
  update.ask = Price::from_dollars(dollars + 1);
  update.funding_rate = Ratio::from_ppm(100);
  update.time = time;
  return update;
}

// A kernel hedging $1M over three venues, every order filled.
Kernel warmed_kernel() {
  Kernel kernel(reference_config());
  for (VenueId venue = 1; venue <= 3; ++venue) {
    (void)kernel.on(VenueStatus{venue, true, kStart});
    (void)kernel.on(market(venue, 50'000, kStart));
    (void)kernel.on(CollateralSnapshot{venue, Sats{200'000'000}, kStart});
  }
  for (const Action& action : kernel.on(LiabilityChange{1, UsdCents{100'000'000}, Sats{}, Price{}, kStart})) {
    if (const auto* order = std::get_if<OrderIntent>(&action)) {
      (void)kernel.on(ExecutionReport{order->client_order_id, OrderStatus::filled, order->quantity,
                                      Price::from_dollars(50'000), kStart});
    }
  }
  return kernel;
}

void BM_market_update_in_band(benchmark::State& state) {
  Kernel kernel = warmed_kernel();
  std::int64_t i = 0;
  for (auto _ : state) {
    const auto actions = kernel.on(market(static_cast<VenueId>(1 + i % 3), 50'000 + i % 100, kStart + Duration{i}));
    benchmark::DoNotOptimize(actions.data());
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_market_update_in_band);

void BM_liability_change_in_band(benchmark::State& state) {
  Kernel kernel = warmed_kernel();
  std::int64_t i = 0;
  for (auto _ : state) {
    // +$10 / -$10 alternately: the ratio stays inside the band
    const auto actions = kernel.on(LiabilityChange{
        static_cast<std::uint64_t>(i), UsdCents{(i % 2 == 0) ? 1'000 : -1'000}, Sats{}, Price{}, kStart + Duration{i}});
    benchmark::DoNotOptimize(actions.data());
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_liability_change_in_band);

// A liability change that crosses the band (an order comes out) followed by
// the fill of that order: the two events of every real hedge.
void BM_liability_change_with_order_and_fill(benchmark::State& state) {
  Kernel kernel = warmed_kernel();
  std::int64_t i = 0;
  for (auto _ : state) {
    const std::int64_t delta = (i % 2 == 0) ? 20'000'000 : -20'000'000; // +-$200k
    const auto actions = kernel.on(
        LiabilityChange{static_cast<std::uint64_t>(i), UsdCents{delta}, Sats{}, Price{}, kStart + Duration{i}});
    for (const Action& action : actions) {
      if (const auto* order = std::get_if<OrderIntent>(&action)) {
        const OrderIntent intent = *order;
        benchmark::DoNotOptimize(kernel
                                     .on(ExecutionReport{intent.client_order_id, OrderStatus::filled, intent.quantity,
                                                         Price::from_dollars(50'000), kStart + Duration{i}})
                                     .data());
        break;
      }
    }
    ++i;
  }
  state.SetItemsProcessed(state.iterations() * 2);
  state.SetLabel("items = events (liability change + fill)");
}
BENCHMARK(BM_liability_change_with_order_and_fill);

void BM_timer(benchmark::State& state) {
  Kernel kernel = warmed_kernel();
  std::int64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(kernel.on(Timer{kStart + Duration{i++}}).data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_timer);

void BM_position_snapshot(benchmark::State& state) {
  Kernel kernel = warmed_kernel();
  const Contracts position = kernel.slot(1)->position;
  std::int64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(kernel.on(PositionSnapshot{1, 1, position, kStart + Duration{i++}}).data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_position_snapshot);

void BM_collateral_snapshot(benchmark::State& state) {
  Kernel kernel = warmed_kernel();
  const Sats collateral = kernel.venue(1)->collateral;
  std::int64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(kernel.on(CollateralSnapshot{1, collateral, kStart + Duration{i++}}).data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_collateral_snapshot);

void BM_external_risk_position_no_risk(benchmark::State& state) {
  KernelConfig config = reference_config();
  config.risk_routes = {{1, 1, 1}};
  Kernel kernel(config);
  (void)kernel.on(VenueStatus{1, true, kStart});
  (void)kernel.on(market(1, 50'000, kStart));
  ExternalRiskPosition risk;
  risk.market = 1;
  risk.notional = UsdCents{1'000'000};
  risk.vault_balance = UsdCents{10'000'000};
  risk.shield_balance = UsdCents{1'000'000};
  std::int64_t i = 0;
  for (auto _ : state) {
    risk.position_id = static_cast<std::uint64_t>(i % 64);
    risk.time = kStart + Duration{i++};
    benchmark::DoNotOptimize(kernel.on(risk).data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_external_risk_position_no_risk);

} // namespace
} // namespace synthusd::hedging
