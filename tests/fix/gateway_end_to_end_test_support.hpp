#pragma once
// The fixture of the gateway's end-to-end tests against the QuickFIX test
// venue on loopback (gateway_end_to_end_test.cpp,
// gateway_end_to_end_session_test.cpp): starts a venue and a logged-on
// gateway, and inspects what the venue received.

#include "gateway_test_support.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace synthusd::fix::testing {

using hedging::OrderStatus;

class GatewayEndToEndTest : public ::testing::Test {
protected:
  void start(TestVenueConfig venue_config = TestVenueConfig(),
             const std::function<void(GatewayConfig&)>& adjust = nullptr) {
    venue_ = std::make_unique<TestVenue>(venue_config);
    venue_->start();
    GatewayConfig config = test_gateway_config(venue_->port(), directory_);
    if (adjust) {
      adjust(config);
    }
    gateway_ = std::make_unique<OrderGateway>(std::move(config), listener_, policy_);
    gateway_->start();
    ASSERT_TRUE(poll_until(*gateway_, [&] { return !listener_.alerts_of(AlertKind::logon).empty(); }));
    // Reconciliation at logon: RequestForPositions, answered "no positions".
    ASSERT_TRUE(poll_until(*gateway_, [&] { return !listener_.positions().empty(); }));
  }

  void TearDown() override {
    if (gateway_) {
      gateway_->stop();
    }
    if (venue_) {
      venue_->stop();
    }
  }

  // Application messages of one type the venue received, in order.
  std::vector<std::string> received(const std::string& type) const {
    std::vector<std::string> out;
    for (const std::string& message : venue_->received()) {
      if (field(message, 35) == type) {
        out.push_back(message);
      }
    }
    return out;
  }

  std::string client_order_id_of_last_order() const {
    const auto orders = received("D");
    return orders.empty() ? std::string() : field(orders.back(), 11);
  }

  bool wait_status(hedging::ClientOrderId id, OrderStatus status) {
    return poll_until(*gateway_, [&] {
      for (const auto& report : listener_.executions_for(id)) {
        if (report.status == status) {
          return true;
        }
      }
      return false;
    });
  }

  TemporaryDirectory directory_;
  RecordingListener listener_;
  OrderPolicy policy_;
  std::unique_ptr<TestVenue> venue_;
  std::unique_ptr<OrderGateway> gateway_;
};

} // namespace synthusd::fix::testing
