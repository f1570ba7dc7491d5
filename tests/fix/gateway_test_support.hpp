#pragma once
// Shared fixtures of the gateway's end-to-end and replay tests (C++20): a
// recording listener, a gateway configuration for the test venue, a
// temporary directory and a poll-until helper.

#include "gateway_test_venue.hpp"
#include "synthusd/fix/order_gateway.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <unistd.h>

namespace synthusd::fix::testing {

inline constexpr hedging::VenueId kTestVenueId = 2;
inline constexpr hedging::InstrumentId kTestInstrument = 7;
inline constexpr char kTestSymbol[] = "BTC-PERPETUAL";

// Collects what the gateway reports, on the polling thread.
class RecordingListener : public OrderGatewayListener {
public:
  void on_event(const hedging::Event& event) override { events.push_back(event); }
  void on_alert(const GatewayAlert& alert) override { alerts.push_back(alert); }
  void on_replaced(const ExecutionEvent& event) override { replaced.push_back(event); }

  [[nodiscard]] std::vector<hedging::ExecutionReport> executions() const { return of<hedging::ExecutionReport>(); }
  [[nodiscard]] std::vector<hedging::PositionSnapshot> positions() const { return of<hedging::PositionSnapshot>(); }
  [[nodiscard]] std::vector<hedging::VenueStatus> statuses() const { return of<hedging::VenueStatus>(); }
  [[nodiscard]] std::vector<hedging::CollateralSnapshot> collaterals() const {
    return of<hedging::CollateralSnapshot>();
  }
  [[nodiscard]] std::vector<GatewayAlert> alerts_of(AlertKind kind) const {
    std::vector<GatewayAlert> out;
    for (const GatewayAlert& alert : alerts) {
      if (alert.kind == kind) {
        out.push_back(alert);
      }
    }
    return out;
  }
  [[nodiscard]] std::vector<hedging::ExecutionReport> executions_for(hedging::ClientOrderId id) const {
    std::vector<hedging::ExecutionReport> out;
    for (const auto& report : executions()) {
      if (report.client_order_id == id) {
        out.push_back(report);
      }
    }
    return out;
  }

  std::vector<hedging::Event> events;
  std::vector<GatewayAlert> alerts;
  std::vector<ExecutionEvent> replaced;

private:
  template <typename T>
  [[nodiscard]] std::vector<T> of() const {
    std::vector<T> out;
    for (const hedging::Event& event : events) {
      if (const T* typed = std::get_if<T>(&event)) {
        out.push_back(*typed);
      }
    }
    return out;
  }
};

// A directory removed at scope exit.
class TemporaryDirectory {
public:
  TemporaryDirectory() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("synthusd_gw_" + std::to_string(::getpid()) + "_" + (info != nullptr ? info->name() : "x"));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TemporaryDirectory() { std::filesystem::remove_all(path_); }
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
  std::filesystem::path path_;
};

inline GatewayConfig test_gateway_config(int port, const TemporaryDirectory& directory) {
  GatewayConfig config;
  config.dialect = Dialect::generic;
  config.venue = kTestVenueId;
  config.sender_comp_id = "SYNTHUSD";
  config.target_comp_id = "VENUE";
  config.host = "127.0.0.1";
  config.port = port;
  config.heartbeat_interval_seconds = 30;
  config.reconnect_interval_seconds = 1;
  config.file_store = false;
  config.store_directory = directory.file("store");
  config.client_order_id_path = directory.file("client_order_id");
  config.client_order_id_prefix = "T";
  config.client_order_id_block = 100;
  config.position_request_interval_seconds = 0;
  config.collateral_request_interval_seconds = 0; // one CollateralInquiry, at logon
  config.instruments.push_back(GatewayInstrument{kTestInstrument, kTestSymbol, 1, 1});
  return config;
}

// Polls the gateway until condition() holds or timeout_ms passes.
inline bool poll_until(OrderGateway& gateway, const std::function<bool()>& condition, int timeout_ms = 5000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    gateway.poll();
    if (condition()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// Polls for a while without a condition: lets stray messages arrive.
inline void poll_for(OrderGateway& gateway, int milliseconds) {
  (void)poll_until(
      gateway, [] { return false; }, milliseconds);
}

inline hedging::OrderIntent limit_intent(hedging::ClientOrderId id, hedging::Side side, std::int64_t contracts,
                                         std::int64_t dollars) {
  hedging::OrderIntent intent;
  intent.client_order_id = id;
  intent.venue = kTestVenueId;
  intent.instrument = kTestInstrument;
  intent.side = side;
  intent.quantity = hedging::Contracts{contracts};
  intent.type = hedging::OrderType::limit;
  intent.limit_price = hedging::Price::from_dollars(dollars);
  return intent;
}

inline hedging::OrderIntent market_intent(hedging::ClientOrderId id, hedging::Side side, std::int64_t contracts) {
  hedging::OrderIntent intent = limit_intent(id, side, contracts, 0);
  intent.type = hedging::OrderType::market;
  intent.limit_price = hedging::Price{};
  return intent;
}

} // namespace synthusd::fix::testing
