// Heap allocations per order on the gateway's half of the order path:
// OrderGateway::submit (what the gateway worker calls for each order it takes
// off the kernel's SPSC queue) up to QuickFIX's Session::send, against the
// test venue on loopback, per dialect and per message shape. The kernel's
// half (kernel input -> risk -> SPSC) makes none: engine_run_kernel_worker_test
// asserts that.
//
// The session's send observer splits each order's count in two: ours
// (building the message before send, the order table after it), which must
// be exactly 0 once warm, and QuickFIX's inside Session::send (header fields,
// the serialised message, the store), which is out of our hands and only
// printed. Counted on the calling thread only, so the venue's and QuickFIX's
// socket threads (which allocate as they receive) do not blur the count.

#include "gateway_end_to_end_test_support.hpp"
#include "support/allocation_counter.hpp"

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace synthusd::fix::testing {
namespace {

using hedging::Side;

// Before and after each call into QuickFIX's Session::send.
struct SendSplit {
  std::int64_t before_send = 0;
  std::int64_t inside_send = 0;
  std::int64_t sends = 0;

  static void observe(void* context, GatewaySession::SendPhase phase) {
    SendSplit& split = *static_cast<SendSplit*>(context);
    const std::int64_t now = test_support::this_thread_allocation_count();
    if (phase == GatewaySession::SendPhase::before_send) {
      split.before_send = now;
    } else {
      split.inside_send += now - split.before_send;
      ++split.sends;
    }
  }
};

struct OrderCounts {
  std::int64_t orders = 0;
  std::int64_t ours = 0;     // submit -> send, and after send
  std::int64_t quickfix = 0; // inside Session::send
};

class GatewayOrderAllocations : public GatewayEndToEndTest {
protected:
  static constexpr int kWarmUpRounds = 16;
  static constexpr int kMeasuredRounds = 100;

  // One round: one order of each intent, each counted between the start of
  // submit and its return. Between orders the gateway is given its idle
  // call, as the gateway worker does when its queue is empty.
  OrderCounts round(hedging::ClientOrderId& next_id, const std::vector<hedging::OrderIntent>& intents,
                    const std::vector<bool>& post_only) {
    OrderCounts counts;
    for (std::size_t i = 0; i < intents.size(); ++i) {
      hedging::OrderIntent intent = intents[i];
      intent.client_order_id = next_id++;
      const TimeInForce time_in_force =
          intent.type == hedging::OrderType::limit ? TimeInForce::good_till_cancel : TimeInForce::immediate_or_cancel;
      split_ = SendSplit{};
      const std::int64_t before = test_support::this_thread_allocation_count();
      const SubmitResult result = gateway_->submit(intent, time_in_force, post_only[i]);
      const std::int64_t total = test_support::this_thread_allocation_count() - before;
      EXPECT_EQ(result, SubmitResult::sent) << "order " << intent.client_order_id;
      EXPECT_EQ(split_.sends, 1) << "order " << intent.client_order_id;
      counts.orders += 1;
      counts.quickfix += split_.inside_send;
      counts.ours += total - split_.inside_send;
      EXPECT_TRUE(gateway_->session().reserve_ahead());
      // Idle time, as the engine's gateway has between orders: the ClOrdID
      // writer thread finishes the block it was asked for (the bound only
      // ends a broken test).
      for (int wait = 0; wait < 5000 && gateway_->session().client_order_id_reservation_pending(); ++wait) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    return counts;
  }

  // Warms up, then measures; prints both counts and returns them.
  OrderCounts measure(const char* label, const std::vector<hedging::OrderIntent>& intents,
                      const std::vector<bool>& post_only) {
    gateway_->session().set_send_observer(&SendSplit::observe, &split_);
    hedging::ClientOrderId next_id = 1;
    for (int i = 0; i < kWarmUpRounds; ++i) {
      (void)round(next_id, intents, post_only);
    }
    OrderCounts total;
    for (int i = 0; i < kMeasuredRounds; ++i) {
      const OrderCounts one = round(next_id, intents, post_only);
      total.orders += one.orders;
      total.ours += one.ours;
      total.quickfix += one.quickfix;
    }
    std::printf("%s: heap allocations per order over %lld orders: submit -> Session::send (ours) %.2f, "
                "inside QuickFIX's Session::send %.2f\n",
                label, static_cast<long long>(total.orders), static_cast<double>(total.ours) / total.orders,
                static_cast<double>(total.quickfix) / total.orders);
    // The measured path reached the venue.
    const std::size_t sent = static_cast<std::size_t>(next_id - 1);
    EXPECT_TRUE(poll_until(*gateway_, [&] { return received("D").size() == sent; }));
    return total;
  }

  SendSplit split_;
};

TEST_F(GatewayOrderAllocations, generic_orders_of_every_shape_allocate_nothing_from_submit_to_the_quickfix_send) {
  start();
  hedging::OrderIntent reduce_only_limit = limit_intent(0, Side::buy, 3, 42'000);
  reduce_only_limit.reduce_only = true;
  hedging::OrderIntent reduce_only_market = market_intent(0, Side::sell, 2);
  reduce_only_market.reduce_only = true;
  // The shapes alternate: a field that came and went with them (Price,
  // ExecInst) would allocate here.
  const OrderCounts counts = measure("generic",
                                     {limit_intent(0, Side::sell, 1, 43'000), market_intent(0, Side::buy, 1),
                                      limit_intent(0, Side::sell, 2, 43'250), reduce_only_limit, reduce_only_market},
                                     {false, false, true, true, false});
  EXPECT_EQ(counts.ours, 0);
  EXPECT_GT(counts.quickfix, 0); // the split sees QuickFIX's side (the counter works)
}

// As `synthusd run` may configure it: QuickFIX's FileStore and our message
// log (which copies each message inside Session::send) add to QuickFIX's
// side only.
TEST_F(GatewayOrderAllocations, with_the_file_store_and_message_log_the_gateway_still_allocates_nothing_before_send) {
  start(TestVenueConfig(), [this](GatewayConfig& config) {
    config.file_store = true;
    config.message_log_path = directory_.file("messages.log");
  });
  const OrderCounts counts =
      measure("generic, FileStore + message log",
              {limit_intent(0, Side::sell, 1, 43'000), market_intent(0, Side::buy, 1)}, {false, false});
  EXPECT_EQ(counts.ours, 0);
  EXPECT_GT(counts.quickfix, 0);
}

TEST_F(GatewayOrderAllocations, deribit_orders_allocate_nothing_from_submit_to_the_quickfix_send) {
  start(deribit_test_venue(), use_deribit_dialect);
  // Deribit's market orders carry the collar price (Price(44) required).
  hedging::OrderIntent market = market_intent(0, Side::buy, 4);
  market.limit_price = hedging::Price::from_dollars(44'000);
  hedging::OrderIntent reduce_only_limit = limit_intent(0, Side::buy, 3, 42'000);
  reduce_only_limit.reduce_only = true;
  const OrderCounts counts =
      measure("deribit", {limit_intent(0, Side::sell, 1, 43'000), market, reduce_only_limit}, {true, false, true});
  EXPECT_EQ(counts.ours, 0);
  EXPECT_GT(counts.quickfix, 0);
}

TEST_F(GatewayOrderAllocations, the_per_thread_counter_sees_this_threads_allocations_only) {
  const std::int64_t before = test_support::this_thread_allocation_count();
  auto* pointer = new int(3);
  asm volatile("" : : "g"(pointer) : "memory");
  delete pointer;
  EXPECT_EQ(test_support::this_thread_allocation_count() - before, 1);
}

} // namespace
} // namespace synthusd::fix::testing
