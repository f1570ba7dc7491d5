#pragma once
// A closed-loop hedge simulation: a price path drives the kernel; a simple
// venue model fills its orders at mark (taker fee), completes its transfers,
// pays funding, settles P&L in BTC exactly as a coin-margined venue does and
// liquidates an under-margined account. Users deposit and spend dollars at
// random. Used by `synthusd simulate`, the property tests and benchmarks.
//
// The kernel is the real one; the simulation only plays the outside world.
// Its venue is a simplified one (fills at mark, no book, no initial margin):
// the reference venue model is venue::Engine, which synthusd-venue runs and
// `synthusd backtest` drives in process (engine/include/synthusd/engine/
// backtest_run.hpp). This one stays because hedging/ cannot depend on venue/.

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "synthusd/hedging/digest.hpp"
#include "synthusd/hedging/kernel.hpp"
#include "synthusd/hedging/price_path.hpp"

namespace synthusd::hedging {

struct SimulationConfig {
  KernelConfig kernel = reference_config();
  PricePathConfig path;
  UsdCents initial_liability{10'000'000}; // $100,000 of user dollars at start
  std::uint32_t max_liability_events_per_step = 3;
  UsdCents max_liability_event{500'000};     // $5,000
  Ratio funding_rate = Ratio::from_ppm(100); // 0.01 % per 8 h, shorts receive
  std::uint64_t seed = 1;
};

// State after every step's events have been applied and the kernel's orders
// filled: what the property tests check.
struct StepRecord {
  Timestamp time{};
  Price price{};
  UsdCents liability{};
  UsdCents hedge_exposure{};   // signed liability-hedge exposure at this price (short < 0)
  UsdCents portfolio_value{};  // (wallet + exchange equity) * price
  UsdCents fees_paid{};        // cumulative, at the price of each fee
  UsdCents funding_received{}; // cumulative
  UsdCents liability_flow{};   // this step's liability change (users' deposits - spends)
  Ratio leverage{};            // worst venue
  bool rebalanced = false;     // the kernel traded during this step
};

struct SimulationReport {
  std::vector<StepRecord> steps;
  std::uint64_t kernel_events = 0;
  std::uint64_t liability_events = 0;
  std::uint64_t orders = 0;
  std::uint64_t fills = 0;
  std::uint64_t transfers = 0;
  std::uint64_t alerts = 0;
  std::array<std::uint64_t, 32> alerts_by_code{}; // indexed by AlertCode
  std::uint64_t liquidations = 0;
  std::uint64_t action_hash = 0;
  UsdCents largest_deviation{}; // max |value + fees - funding - liability|
};

class HedgeSimulation {
public:
  explicit HedgeSimulation(SimulationConfig config);
  [[nodiscard]] SimulationReport run();

  // Called with every event before the kernel sees it (e.g. to journal the
  // run for `synthusd replay`). Optional.
  void observe(std::function<void(const Event&)> observer) { observer_ = std::move(observer); }

private:
  struct Account {
    VenueId venue = kNoVenue;
    Sats deposited{}; // collateral moved in minus moved out
    Sats fees{};
    Sats funding{};
    Sats linear_settled{}; // linear P&L already settled into collateral
    int128 cost_basis = 0; // inverse: sum of signed fill values in sats
  };

  void feed(const Event& event);
  void execute(const Action& action);
  void fill(const OrderIntent& order);
  void settle_step(Price previous);
  [[nodiscard]] Sats equity(const Account& account) const;
  [[nodiscard]] Account& account_of(VenueId venue);
  [[nodiscard]] StepRecord record(UsdCents flow, bool rebalanced) const;
  void liquidate_if_needed();

  SimulationConfig config_;
  Kernel kernel_;
  Random random_;
  std::vector<Account> accounts_;
  std::vector<Contracts> positions_;         // venue truth, by instrument id
  std::vector<const InstrumentSpec*> specs_; // by instrument id
  std::vector<Event> pending_;
  Sats wallet_{};
  Price price_{};
  Timestamp time_{};
  SimulationReport report_;
  UsdCents fees_cents_{};
  UsdCents funding_cents_{};
  std::uint64_t orders_this_step_ = 0;
  std::function<void(const Event&)> observer_;
  ActionStreamHash stream_hash_;
};

} // namespace synthusd::hedging
