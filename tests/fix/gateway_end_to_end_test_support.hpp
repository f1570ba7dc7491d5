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

// The test venue in its Deribit shapes (gateway_test_venue_deribit.cpp).
inline TestVenueConfig deribit_test_venue() {
  TestVenueConfig venue;
  venue.sender_comp_id = "DERIBITSERVER";
  venue.deribit = true;
  venue.client_id = "deribit-client";
  venue.secret = "deribit-secret";
  venue.units_per_contract = 10;
  venue.mass_cancel_lists_orders = true;
  return venue;
}

// The test perpetual as Deribit lists it: $10 contracts.
inline hedging::InstrumentSpec deribit_test_perpetual() {
  hedging::InstrumentSpec perpetual;
  perpetual.id = kTestInstrument;
  perpetual.symbol = kTestSymbol;
  perpetual.contract_value = hedging::UsdCents{1'000};
  return perpetual;
}

// A gateway speaking Deribit's dialect to deribit_test_venue(), trading
// the perpetual.
inline void use_deribit_dialect(GatewayConfig& config) {
  config.dialect = Dialect::deribit;
  config.target_comp_id = "DERIBITSERVER";
  config.credentials.client_id = "deribit-client";
  config.credentials.client_secret = SecretString("deribit-secret");
  config.instruments = {gateway_instrument(deribit_test_perpetual(), Dialect::deribit)};
}

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
