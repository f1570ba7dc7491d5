#pragma once
// Shared fixtures of the venue simulator's engine tests
// (venue_engine_test.cpp, venue_engine_accounts_test.cpp): a fixed start
// time, two accounts, path and order builders, event filters and the
// VenueEngineTest fixture.

#include "synthusd/venue/matching_engine.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace synthusd::venue::engine_test {

using synthusd::hedging::PricePathConfig;
using synthusd::hedging::PricePoint;

inline constexpr std::int64_t kSecond = 1'000'000'000;
inline constexpr Timestamp kStart{1'704'067'200LL * kSecond}; // 2024-01-01T00:00:00Z, a funding time
inline constexpr std::string_view kAlice = "ALICE";
inline constexpr std::string_view kBob = "BOB";

inline Price dollars(double value) { return Price{std::llround(value * 100) * 1'000'000}; }

// Path points one second apart, from kStart.
inline std::vector<PricePoint> path(std::initializer_list<double> prices) {
  std::vector<PricePoint> points;
  std::int64_t second = 0;
  for (const double price : prices) {
    points.push_back({Timestamp{kStart.nanoseconds + second * kSecond}, dollars(price)});
    ++second;
  }
  return points;
}

inline Timestamp at_second(std::int64_t second) { return Timestamp{kStart.nanoseconds + second * kSecond}; }

inline NewOrder limit(std::string id, Side side, std::int64_t quantity, double price,
                      TimeInForce time_in_force = TimeInForce::good_till_cancel) {
  NewOrder order;
  order.client_order_id = std::move(id);
  order.symbol = "BTC-PERPETUAL";
  order.side = side;
  order.type = OrderType::limit;
  order.time_in_force = time_in_force;
  order.quantity = Contracts{quantity};
  order.price = dollars(price);
  return order;
}

inline NewOrder market(std::string id, Side side, std::int64_t quantity) {
  NewOrder order = limit(std::move(id), side, quantity, 0);
  order.type = OrderType::market;
  order.price = Price{};
  return order;
}

template <typename T>
std::vector<T> only(const std::vector<Event>& events) {
  std::vector<T> result;
  for (const Event& event : events) {
    if (const T* value = std::get_if<T>(&event)) {
      result.push_back(*value);
    }
  }
  return result;
}

inline std::vector<ExecutionEvent> executions(const std::vector<Event>& events) { return only<ExecutionEvent>(events); }

class VenueEngineTest : public ::testing::Test {
protected:
  Engine make(std::vector<PricePoint> points, FundingSchedule funding = FundingSchedule(Ratio{})) {
    return Engine(config, std::move(points), std::move(funding));
  }

  EngineConfig config; // BTC-PERPETUAL, $10, tick 0.5, spread 1 tick, maker 0, taker 0.05 %
  std::vector<Event> events;
};

} // namespace synthusd::venue::engine_test
