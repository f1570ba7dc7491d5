// Heap allocations per order on the gateway's half of the order path:
// OrderGateway::submit (what the gateway worker calls for each order it takes
// off the kernel's SPSC queue) through QuickFIX's send, against the test
// venue on loopback. The kernel's half (kernel input -> risk -> SPSC) makes
// none: engine_run_kernel_worker_test asserts that.
//
// Counted on the calling thread only, so the venue's and QuickFIX's socket
// threads (which allocate as they receive) do not blur the count. The test
// asserts the ceiling reached so far: an added allocation on the path fails
// it. What remains is listed at kAllocationsPerOrder.

#include "gateway_end_to_end_test_support.hpp"
#include "support/allocation_counter.hpp"

#include <cstdint>
#include <cstdio>

namespace synthusd::fix::testing {
namespace {

using hedging::Side;

// Measured on this build (QuickFIX 1.15.1, libstdc++), limit orders, no
// FileStore: 10.11 per order before the order table's nodes came from a
// pool, 8.13 after (1,626 over 200; the fraction: each pool growing a chunk
// of 256 nodes, and QuickFIX's occasional buffer growth). What remains is the FIX
// message: our formatted quantity, price and ExecInst strings handed to
// setField, and QuickFIX's own: field strings beyond the small-string
// buffer, the header fields (SendingTime, MsgSeqNum) and the serialised
// message in Session::send.
constexpr std::int64_t kAllocationsPerOrder = 9;

class GatewayOrderAllocations : public GatewayEndToEndTest {};

TEST_F(GatewayOrderAllocations, an_order_from_submit_to_the_quickfix_send_allocates_at_most_the_measured_count) {
  start();
  // Warm-up: the first orders grow the order table, the message's field map
  // and QuickFIX's buffers to their steady size.
  constexpr hedging::ClientOrderId kWarmUp = 64;
  constexpr std::int64_t kOrders = 200;
  for (hedging::ClientOrderId id = 1; id <= kWarmUp; ++id) {
    ASSERT_EQ(gateway_->submit(limit_intent(id, Side::sell, 1, 43'000)), SubmitResult::sent);
  }
  const std::int64_t before = test_support::this_thread_allocation_count();
  for (hedging::ClientOrderId id = kWarmUp + 1; id <= kWarmUp + kOrders; ++id) {
    if (gateway_->submit(limit_intent(id, Side::sell, 1, 43'000)) != SubmitResult::sent) {
      FAIL() << "order " << id << " was not sent";
    }
  }
  const std::int64_t allocations = test_support::this_thread_allocation_count() - before;
  const std::int64_t per_order = (allocations + kOrders - 1) / kOrders;
  std::printf("heap allocations per order, submit -> QuickFIX send: %.2f (%lld over %lld orders)\n",
              static_cast<double>(allocations) / kOrders, static_cast<long long>(allocations),
              static_cast<long long>(kOrders));
  EXPECT_LE(per_order, kAllocationsPerOrder);
  // The measured path reached the venue.
  EXPECT_TRUE(poll_until(*gateway_, [&] { return received("D").size() == kWarmUp + kOrders; }));
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
