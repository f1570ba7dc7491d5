// The FIX gateway's hot path:
//
//   NewOrderSingle/BuildNew   a fresh FIX44::NewOrderSingle per order, set and serialised
//   NewOrderSingle/Reused     one message whose fields are overwritten (what the gateway does)
//   Gateway/SendOrder/store   GatewaySession::send_order to a loopback QuickFIX venue: order
//                             table, ClOrdID, field overwrite, Session::send (header, toString,
//                             store, socket write); store 0 = MemoryStore, 1 = FileStore
//   Gateway/RoundTrip         send_order, the venue's ExecutionReport back through QuickFIX,
//                             the hand-off queue and poll(), until the accepted event
//
// Session benchmarks also report p50/p99/max per iteration (ns) as counters.
// Setup (venue, logon) stays outside the timed loop. The venue runs in the
// same process, on its own QuickFIX thread: on a 2-vCPU machine it competes
// with the gateway's threads, so treat absolute numbers with that in mind.

#include <benchmark/benchmark.h>

#include "gateway_bench_quickfix.hpp"
#include "gateway_test_venue.hpp"
#include "synthusd/fix/gateway_session.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace synthusd::fix {
namespace {

void BM_NewOrderSingle_BuildNew(benchmark::State& state) {
  std::uint64_t n = 0;
  for (auto _ : state) {
    std::string wire = bench::new_order_build_and_serialize(n++);
    benchmark::DoNotOptimize(wire.data());
  }
}
BENCHMARK(BM_NewOrderSingle_BuildNew);

void BM_NewOrderSingle_Reused(benchmark::State& state) {
  bench::ReusedNewOrder order;
  std::string wire;
  // Check against the reference before timing: reuse must not change a byte.
  for (std::uint64_t n = 0; n < 200; ++n) {
    order.overwrite_and_serialize(n, wire);
    if (wire != bench::new_order_build_and_serialize(n)) {
      state.SkipWithError("reused message differs from a freshly built one");
      return;
    }
  }
  std::uint64_t n = 0;
  for (auto _ : state) {
    order.overwrite_and_serialize(n++, wire);
    benchmark::DoNotOptimize(wire.data());
  }
}
BENCHMARK(BM_NewOrderSingle_Reused);

class NullListener final : public GatewayListener {
public:
  void on_execution(const ExecutionEvent& event) override {
    if (event.kind == ExecutionKind::accepted) {
      last_accepted = event.user_order_id;
    }
  }
  void on_position(const PositionEvent&) override {}
  void on_alert(const GatewayAlert&) override {}
  std::uint64_t last_accepted = 0;
};

struct LoopbackSession {
  explicit LoopbackSession(bool file_store, testing::OrderMode mode)
      : directory(std::filesystem::temp_directory_path() / ("synthusd_bench_fix_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(directory);
    std::filesystem::create_directories(directory);
    testing::TestVenueConfig venue_config;
    venue_config.automatic = mode != testing::OrderMode::silent;
    venue = std::make_unique<testing::TestVenue>(venue_config);
    venue->set_order_mode(mode);
    venue->start();
    GatewayConfig config;
    config.port = venue->port();
    config.file_store = file_store;
    config.store_directory = (directory / "store").string();
    config.client_order_id_path = (directory / "client_order_id").string();
    config.client_order_id_block = 1 << 22; // no counter fsync inside the timed loop
    config.position_request_interval_seconds = 0;
    config.order_status_on_logon = false;
    config.inbound_queue_capacity = 1 << 16;
    config.instruments.push_back(GatewayInstrument{1, "BTC-PERPETUAL", 1, 1});
    session = std::make_unique<GatewaySession>(std::move(config), listener);
    session->start();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!session->logged_on() && std::chrono::steady_clock::now() < deadline) {
      session->poll();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    // Drain the logon reconciliation (RequestForPositions, CollateralInquiry and their answers).
    const auto settle = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
    while (std::chrono::steady_clock::now() < settle) {
      session->poll();
    }
  }
  ~LoopbackSession() {
    session->stop(500);
    session.reset();
    venue->stop();
    std::filesystem::remove_all(directory);
  }

  std::filesystem::path directory;
  NullListener listener;
  std::unique_ptr<testing::TestVenue> venue;
  std::unique_ptr<GatewaySession> session;
};

OrderRequest order(std::uint64_t id) {
  OrderRequest request;
  request.user_order_id = id;
  request.instrument = 1;
  request.side = id % 2 == 0 ? OrderSide::sell : OrderSide::buy;
  request.quantity = static_cast<std::int64_t>(id % 100 + 1);
  request.type = OrderType::limit;
  request.price_e8 = 4'300'000'000'000 + static_cast<std::int64_t>(id % 50) * 50'000'000;
  return request;
}

void report_percentiles(benchmark::State& state, std::vector<std::int64_t>& samples) {
  if (samples.empty()) {
    return;
  }
  std::sort(samples.begin(), samples.end());
  const auto at = [&](double q) {
    return static_cast<double>(samples[static_cast<std::size_t>(q * static_cast<double>(samples.size() - 1))]);
  };
  state.counters["p50_ns"] = at(0.50);
  state.counters["p99_ns"] = at(0.99);
  state.counters["max_ns"] = static_cast<double>(samples.back());
}

void BM_Gateway_SendOrder(benchmark::State& state) {
  LoopbackSession loopback(state.range(0) == 1, testing::OrderMode::silent);
  if (!loopback.session->logged_on()) {
    state.SkipWithError("no logon");
    return;
  }
  std::vector<std::int64_t> samples;
  samples.reserve(1 << 20);
  std::uint64_t id = 1;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    const SubmitResult result = loopback.session->send_order(order(id++));
    const auto stop = std::chrono::steady_clock::now();
    if (result != SubmitResult::sent) {
      state.SkipWithError(to_string(result));
      break;
    }
    samples.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(stop - start).count());
    if ((id & 1023) == 0) {
      loopback.session->poll();
    }
  }
  report_percentiles(state, samples);
}
BENCHMARK(BM_Gateway_SendOrder)->ArgName("file_store")->Arg(0)->Arg(1)->UseRealTime();

void BM_Gateway_RoundTrip(benchmark::State& state) {
  LoopbackSession loopback(false, testing::OrderMode::acknowledge);
  if (!loopback.session->logged_on()) {
    state.SkipWithError("no logon");
    return;
  }
  std::vector<std::int64_t> samples;
  samples.reserve(1 << 20);
  std::uint64_t id = 1;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    if (loopback.session->send_order(order(id)) != SubmitResult::sent) {
      state.SkipWithError("send failed");
      break;
    }
    std::uint64_t spins = 0;
    while (loopback.listener.last_accepted != id) {
      if (loopback.session->poll() == 0) {
        std::this_thread::yield(); // two QuickFIX threads need the CPUs more than this spin does
      }
      if ((++spins & 0xffff) == 0 && std::chrono::steady_clock::now() - start > std::chrono::seconds(5)) {
        state.SkipWithError("no acknowledgement within 5 s");
        return;
      }
    }
    const auto stop = std::chrono::steady_clock::now();
    samples.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(stop - start).count());
    ++id;
  }
  report_percentiles(state, samples);
}
BENCHMARK(BM_Gateway_RoundTrip)->UseRealTime();

} // namespace
} // namespace synthusd::fix
