// The gateway thread's own decisions, against the plain QuickFIX test venue
// (tests/fix/gateway_test_venue.hpp), not the simulator: consecutive venue
// rejects back off and are counted and alerted by reason; a post-only order
// that does not complete in time is canceled and the next order takes inside
// its collar; a venue that never answers a RequestForPositions is not called
// reconciled.

#include "gateway_test_support.hpp"
#include "run/gateway_worker.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

namespace synthusd::engine::run {
namespace {

using fix::testing::field;
using fix::testing::kTestInstrument;
using fix::testing::kTestVenueId;
using fix::testing::OrderMode;
using fix::testing::TestVenue;
using fix::testing::TestVenueConfig;

class GatewayWorkerTest : public ::testing::Test {
protected:
  void start(TestVenueConfig venue_config, fix::ExecutionOptions execution) {
    venue_ = std::make_unique<TestVenue>(venue_config);
    venue_->start();
    worker_ = std::make_unique<GatewayWorker>(fix::testing::test_gateway_config(venue_->port(), directory_), channel_,
                                              latency_, WaitMode::blocking, kernel_wakeup_, execution);
    thread_ = std::thread([this] { worker_->run(stop_, 200); });
  }

  void TearDown() override {
    stop_.store(true);
    if (thread_.joinable()) {
      thread_.join();
    }
    if (venue_) {
      venue_->stop();
    }
  }

  // Drains the worker's events into `events_` until `condition` holds.
  template <typename Condition>
  bool wait_for(Condition condition, int timeout_ms = 5000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      GatewayEvent event;
      while (channel_.events.pop(event)) {
        events_.push_back(event.event);
      }
      fix::GatewayAlert alert;
      while (channel_.alerts.pop(alert)) {
        alerts_.push_back(alert);
      }
      if (condition()) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  }

  bool venue_up() {
    return wait_for([&] {
      for (const hedging::Event& event : events_) {
        if (const auto* status = std::get_if<hedging::VenueStatus>(&event); status != nullptr && status->up) {
          return true;
        }
      }
      return false;
    });
  }

  bool has_status(hedging::ClientOrderId id, hedging::OrderStatus status) {
    return wait_for([&] {
      for (const hedging::Event& event : events_) {
        const auto* report = std::get_if<hedging::ExecutionReport>(&event);
        if (report != nullptr && report->client_order_id == id && report->status == status) {
          return true;
        }
      }
      return false;
    });
  }

  void send(const GatewayCommand& command) {
    ASSERT_TRUE(channel_.commands.push(command));
    channel_.gateway_wakeup.notify();
  }

  static GatewayCommand order(hedging::ClientOrderId id, hedging::OrderType type, std::int64_t dollars,
                              fix::TimeInForce time_in_force) {
    GatewayCommand command;
    command.kind = GatewayCommand::Kind::order;
    command.order.client_order_id = id;
    command.order.venue = kTestVenueId;
    command.order.instrument = kTestInstrument;
    command.order.side = hedging::Side::sell;
    command.order.quantity = hedging::Contracts{4};
    command.order.type = type;
    command.order.limit_price = hedging::Price::from_dollars(dollars);
    command.time_in_force = time_in_force;
    return command;
  }

  std::vector<std::string> orders_received() const {
    std::vector<std::string> out;
    for (const std::string& message : venue_->received()) {
      if (field(message, 35) == "D") {
        out.push_back(message);
      }
    }
    return out;
  }

  fix::testing::TemporaryDirectory directory_;
  GatewayChannel channel_{1024};
  OrderLatency latency_;
  EventCount kernel_wakeup_;
  std::atomic<bool> stop_{false};
  std::unique_ptr<TestVenue> venue_;
  std::unique_ptr<GatewayWorker> worker_;
  std::thread thread_;
  std::vector<hedging::Event> events_;
  std::vector<fix::GatewayAlert> alerts_;
};

// QuickFIX's example executor takes limit orders only. A market order is
// refused with the venue's reason; the next order within the backoff never
// reaches the venue (refused here, counted), the reason is on /metrics'
// counters and in an alert; once the backoff ends a limit order fills and
// ends the streak.
TEST_F(GatewayWorkerTest, a_venue_refusing_an_order_type_is_backed_off_counted_and_alerted_by_reason) {
  TestVenueConfig venue_config;
  fix::ExecutionOptions execution;
  execution.reject_backoff_initial = hedging::Duration::from_milliseconds(300);
  start(venue_config, execution);
  ASSERT_TRUE(venue_up());
  venue_->set_order_mode(OrderMode::limits_only);

  send(order(1, hedging::OrderType::market, 0, fix::TimeInForce::immediate_or_cancel));
  ASSERT_TRUE(has_status(1, hedging::OrderStatus::rejected));
  send(order(2, hedging::OrderType::market, 0, fix::TimeInForce::immediate_or_cancel));
  ASSERT_TRUE(has_status(2, hedging::OrderStatus::rejected));
  EXPECT_EQ(orders_received().size(), 1U) << "an order went out during the backoff";
  EXPECT_EQ(channel_.orders_held_by_backoff.load(), 1U);
  EXPECT_EQ(channel_.venue_rejects[0].count.load(), 1U);
  EXPECT_STREQ(channel_.venue_rejects[0].text, "Unsupported order type");
  ASSERT_TRUE(wait_for([&] { return !alerts_.empty(); }));
  const auto reject_alert = std::find_if(alerts_.begin(), alerts_.end(), [](const fix::GatewayAlert& alert) {
    return alert.kind == fix::AlertKind::venue_reject;
  });
  ASSERT_NE(reject_alert, alerts_.end());
  EXPECT_EQ(reject_alert->user_order_id, 1U);
  EXPECT_NE(reject_alert->text.str().find("Unsupported order type; 1 in a row"), std::string::npos)
      << reject_alert->text.str();

  std::this_thread::sleep_for(std::chrono::milliseconds(350)); // the backoff ends
  send(order(3, hedging::OrderType::limit, 43'000, fix::TimeInForce::fill_or_kill));
  ASSERT_TRUE(has_status(3, hedging::OrderStatus::filled));
  EXPECT_EQ(orders_received().size(), 2U);
  EXPECT_GE(latency_.order_to_acknowledgement.count(), 2U); // the reject and the fill were first reports
}

// The kernel's own post-only order (hybrid policy) rests until the kernel
// cancels it: the worker's post-only wait does not apply to it. Checked
// against a post-only order sent after it, whose shorter-lived wait ends first
// in the same scan, so no sleep decides the outcome.
TEST_F(GatewayWorkerTest, a_kernel_passive_order_is_left_resting_past_the_post_only_wait) {
  fix::ExecutionOptions execution;
  execution.style = fix::ExecutionStyle::post_only;
  execution.post_only_wait = hedging::Duration::from_milliseconds(100);
  start(TestVenueConfig(), execution);
  ASSERT_TRUE(venue_up());

  GatewayCommand kernel_owned = order(21, hedging::OrderType::limit, 43'100, fix::TimeInForce::good_till_cancel);
  kernel_owned.post_only = true;
  kernel_owned.order.passive = true;
  send(kernel_owned);
  ASSERT_TRUE(has_status(21, hedging::OrderStatus::accepted));
  GatewayCommand timed = kernel_owned;
  timed.order.client_order_id = 22;
  timed.order.passive = false;
  send(timed);
  ASSERT_TRUE(has_status(22, hedging::OrderStatus::canceled)); // its wait ran out
  for (const hedging::Event& event : events_) {
    const auto* report = std::get_if<hedging::ExecutionReport>(&event);
    EXPECT_FALSE(report != nullptr && report->client_order_id == 21 &&
                 report->status == hedging::OrderStatus::canceled);
  }
  EXPECT_EQ(channel_.post_only_fallbacks.load(), 0U);
}

// A post-only order rests; after its wait the worker cancels it, and the
// instrument's next post-only order goes as a limit IOC at its collared
// taker price, without ExecInst 6.
TEST_F(GatewayWorkerTest, a_post_only_order_that_does_not_complete_is_canceled_and_the_next_order_takes) {
  fix::ExecutionOptions execution;
  execution.style = fix::ExecutionStyle::post_only;
  execution.post_only_wait = hedging::Duration::from_milliseconds(200);
  start(TestVenueConfig(), execution);
  ASSERT_TRUE(venue_up());

  GatewayCommand passive = order(11, hedging::OrderType::limit, 43'100, fix::TimeInForce::good_till_cancel);
  passive.post_only = true;
  passive.taker_limit_price = hedging::Price::from_dollars(42'800);
  send(passive);
  ASSERT_TRUE(has_status(11, hedging::OrderStatus::accepted));
  ASSERT_TRUE(has_status(11, hedging::OrderStatus::canceled)); // out of patience
  ASSERT_EQ(orders_received().size(), 1U);
  EXPECT_EQ(field(orders_received()[0], 18), "6");
  EXPECT_EQ(field(orders_received()[0], 59), "1");

  GatewayCommand next = passive;
  next.order.client_order_id = 12;
  send(next);
  ASSERT_TRUE(has_status(12, hedging::OrderStatus::partially_filled)); // the test venue fills half an IOC
  const std::string taker = orders_received().at(1);
  EXPECT_EQ(field(taker, 18), "");
  EXPECT_EQ(field(taker, 59), "3");
  EXPECT_EQ(field(taker, 44), "42800");
  EXPECT_EQ(channel_.post_only_fallbacks.load(), 1U);

  GatewayCommand third = passive; // the fallback was for one order: post-only again
  third.order.client_order_id = 13;
  send(third);
  ASSERT_TRUE(has_status(13, hedging::OrderStatus::accepted));
  EXPECT_EQ(field(orders_received().at(2), 18), "6");
}

// "Reconciled" only from a position report: a venue that never answers AN
// lets the kernel trade on its own positions after the wait, but the
// channel (and so /health) says the positions are unconfirmed.
TEST_F(GatewayWorkerTest, a_venue_that_never_reports_positions_is_never_called_reconciled) {
  TestVenueConfig venue_config;
  venue_config.answer_position_requests = false;
  start(venue_config, fix::ExecutionOptions{});
  ASSERT_TRUE(wait_for([&] { return channel_.logged_on.load(); }));
  EXPECT_FALSE(channel_.reconcile_overdue.load());
  ASSERT_TRUE(venue_up()); // after the 3 s wait
  EXPECT_TRUE(channel_.reconcile_overdue.load());
  EXPECT_FALSE(channel_.reconciled.load());
  for (const hedging::Event& event : events_) {
    EXPECT_FALSE(std::holds_alternative<hedging::PositionSnapshot>(event));
  }
}

} // namespace
} // namespace synthusd::engine::run
