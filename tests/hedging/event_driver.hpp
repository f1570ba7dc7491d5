#pragma once
// A seeded stream of every kind of kernel event, answering the kernel's own
// orders and transfers with fills, partial fills, rejects and completions, so
// long runs exercise every code path. Allocation free after construction.

#include <array>

#include "synthusd/hedging/kernel.hpp"
#include "synthusd/hedging/price_path.hpp"

namespace synthusd::hedging::testing {

class EventDriver {
public:
  explicit EventDriver(std::uint64_t seed) : random_(seed) {}

  // The next event for the kernel, given what it did last.
  Event next(std::span<const Action> last_actions) noexcept {
    remember(last_actions);
    time_ = time_ + Duration::from_milliseconds(static_cast<std::int64_t>(random_.next() % 2'000));
    const std::uint64_t roll = random_.next() % 100;
    if (roll < 25 && open_count_ > 0) {
      return execution();
    }
    if (roll < 50) {
      price_ = std::max<std::int64_t>(1'000, price_ + static_cast<std::int64_t>(random_.next() % 801) - 400);
      const VenueId venue = static_cast<VenueId>(1 + random_.next() % 3);
      MarketUpdate update;
      update.venue = venue;
      update.instrument = venue;
      update.mark = update.index = Price::from_dollars(price_);
      update.bid = Price::from_dollars(price_ - 1);
      update.ask = Price::from_dollars(price_ + 1);
      update.funding_rate = Ratio{static_cast<std::int64_t>(random_.next() % 40'000) - 15'000};
      update.time = time_;
      return update;
    }
    if (roll < 75) {
      const std::int64_t cents = static_cast<std::int64_t>(random_.next() % 2'000'000) - 900'000;
      return LiabilityChange{++liability_id_, UsdCents{cents}, Sats{}, Price{}, time_};
    }
    if (roll < 80 && transfer_pending_ != 0) {
      const TransferId id = transfer_pending_;
      transfer_pending_ = 0;
      if (random_.next() % 5 == 0) {
        return TransferFailed{id, time_};
      }
      return TransferCompleted{id, time_};
    }
    if (roll < 85) {
      return CollateralSnapshot{static_cast<VenueId>(1 + random_.next() % 3),
                                Sats{static_cast<std::int64_t>(random_.next() % 5'000'000'000)}, time_};
    }
    if (roll < 88) {
      return VenueStatus{static_cast<VenueId>(1 + random_.next() % 3), random_.next() % 4 != 0, time_};
    }
    if (roll < 92) {
      ExternalRiskPosition risk;
      risk.market = 1;
      risk.position_id = random_.next() % 8;
      risk.present = random_.next() % 6 != 0;
      risk.notional = UsdCents{static_cast<std::int64_t>(random_.next() % 1'000'000) - 500'000};
      risk.vault_balance = UsdCents{1'000'000};
      risk.shield_balance = UsdCents{100'000};
      risk.pnl = UsdCents{static_cast<std::int64_t>(random_.next() % 400'000)};
      risk.time = time_;
      return risk;
    }
    if (roll < 95) {
      return ProviderInterestChange{random_.next() % 10,
                                    UsdCents{static_cast<std::int64_t>(random_.next() % 200'000) - 90'000}, time_};
    }
    if (roll < 97) {
      const InstrumentId instrument = static_cast<InstrumentId>(1 + random_.next() % 3);
      return PositionSnapshot{instrument, instrument, Contracts{-static_cast<std::int64_t>(random_.next() % 500)},
                              time_};
    }
    return Timer{time_};
  }

private:
  void remember(std::span<const Action> actions) noexcept {
    for (const Action& action : actions) {
      if (const auto* order = std::get_if<OrderIntent>(&action); order != nullptr && open_count_ < open_.size()) {
        open_[open_count_++] = *order;
      } else if (const auto* transfer = std::get_if<TransferIntent>(&action)) {
        transfer_pending_ = transfer->transfer_id;
      }
    }
  }

  Event execution() noexcept {
    const std::size_t pick = random_.next() % open_count_;
    OrderIntent& order = open_[pick];
    const std::uint64_t roll = random_.next() % 10;
    ExecutionReport report{order.client_order_id, OrderStatus::filled, order.quantity, Price::from_dollars(price_),
                           time_};
    if (roll < 2 && order.quantity.value > 1) {
      report.status = OrderStatus::partially_filled;
      report.last_quantity = Contracts{order.quantity.value / 2};
      order.quantity -= report.last_quantity;
      return report;
    }
    if (roll == 2) {
      report.status = OrderStatus::rejected;
      report.last_quantity = Contracts{0};
    } else if (roll == 3) {
      report.status = OrderStatus::canceled;
      report.last_quantity = Contracts{0};
    }
    open_[pick] = open_[--open_count_];
    return report;
  }

  Random random_;
  Timestamp time_{1'700'000'000LL * 1'000'000'000};
  std::int64_t price_ = 40'000;
  std::uint64_t liability_id_ = 0;
  std::array<OrderIntent, 1024> open_{};
  std::size_t open_count_ = 0;
  TransferId transfer_pending_ = 0;
};

// Reference config plus a risk route, so every rule is live.
inline KernelConfig full_config() {
  KernelConfig config = reference_config();
  config.risk_routes = {{1, 1, 1}};
  config.order_table_capacity = 1024;
  return config;
}

} // namespace synthusd::hedging::testing
