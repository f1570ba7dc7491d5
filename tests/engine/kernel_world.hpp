#pragma once
// A small deterministic world for kernel-state tests (snapshots, recovery):
// venues up with prices, then a seeded mix of liability changes, market
// updates, fills of the kernel's own orders, collateral and timers, so the
// kernel's tables (orders, positions, transfers) are busy when a test
// snapshots or recovers it.

#include <cstdint>
#include <span>
#include <vector>

#include "synthusd/hedging/config.hpp"
#include "synthusd/hedging/events.hpp"
#include "synthusd/hedging/simulation.hpp"

namespace synthusd::engine {

using namespace synthusd::hedging;

class World {
public:
  explicit World(std::uint64_t seed) : random_(seed) {}

  Event next(std::span<const Action> last) {
    for (const Action& action : last) {
      if (const auto* order = std::get_if<OrderIntent>(&action)) {
        open_.push_back(*order);
      } else if (const auto* transfer = std::get_if<TransferIntent>(&action)) {
        transfer_ = transfer->transfer_id;
      }
    }
    time_ = time_ + Duration::from_milliseconds(static_cast<std::int64_t>(1 + random_.next() % 3'000));
    const std::uint64_t roll = random_.next() % 100;
    if (roll < 30 && !open_.empty()) {
      const std::size_t pick = random_.next() % open_.size();
      OrderIntent& order = open_[pick];
      if (random_.next() % 3 == 0 && order.quantity.value > 1) {
        const Contracts part{order.quantity.value / 2};
        order.quantity -= part;
        return ExecutionReport{order.client_order_id, OrderStatus::partially_filled, part, Price::from_dollars(price_),
                               time_};
      }
      const ExecutionReport report{order.client_order_id, OrderStatus::filled, order.quantity,
                                   Price::from_dollars(price_), time_};
      open_.erase(open_.begin() + static_cast<std::ptrdiff_t>(pick));
      return report;
    }
    if (roll < 35 && transfer_ != 0) {
      const TransferId id = transfer_;
      transfer_ = 0;
      return TransferCompleted{id, time_};
    }
    if (roll < 60) {
      price_ += static_cast<std::int64_t>(random_.next() % 401) - 200;
      const auto venue = static_cast<VenueId>(1 + random_.next() % 3);
      MarketUpdate update;
      update.venue = venue;
      update.instrument = venue;
      update.mark = update.index = Price::from_dollars(price_);
      update.bid = Price::from_dollars(price_ - 1);
      update.ask = Price::from_dollars(price_ + 1);
      update.funding_rate = Ratio::from_ppm(100);
      update.time = time_;
      return update;
    }
    if (roll < 85) {
      return LiabilityChange{++liability_id_, UsdCents{static_cast<std::int64_t>(random_.next() % 1'000'000) - 400'000},
                             Sats{}, Price{}, time_};
    }
    if (roll < 92) {
      return CollateralSnapshot{static_cast<VenueId>(1 + random_.next() % 3),
                                Sats{static_cast<std::int64_t>(random_.next() % 2'000'000'000)}, time_};
    }
    return Timer{time_};
  }

  // Venues up, prices known: the kernel hedges from the first liability on.
  static std::vector<Event> start() {
    std::vector<Event> events;
    const Timestamp t0{1'700'000'000LL * 1'000'000'000};
    for (VenueId venue = 1; venue <= 3; ++venue) {
      events.emplace_back(VenueStatus{venue, true, t0});
      MarketUpdate update;
      update.venue = venue;
      update.instrument = venue;
      update.mark = update.index = Price::from_dollars(50'000);
      update.bid = Price::from_dollars(49'999);
      update.ask = Price::from_dollars(50'001);
      update.funding_rate = Ratio::from_ppm(100);
      update.time = t0;
      events.emplace_back(update);
      events.emplace_back(CollateralSnapshot{venue, Sats{100'000'000}, t0});
    }
    return events;
  }

private:
  Random random_;
  Timestamp time_{1'700'000'000LL * 1'000'000'000};
  std::int64_t price_ = 50'000;
  std::uint64_t liability_id_ = 0;
  std::vector<OrderIntent> open_;
  TransferId transfer_ = 0;
};

inline KernelConfig small_config() {
  KernelConfig config = reference_config();
  config.order_table_capacity = 16;
  config.risk_position_capacity = 2;
  return config;
}

} // namespace synthusd::engine
