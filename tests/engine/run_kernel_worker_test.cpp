// The kernel thread of `synthusd run` (engine/src/run/kernel_worker.*): its
// inputs (gateway events, market data, liability events) are journaled in
// order, applied to the kernel, and its orders pass pre-trade risk on their
// way to the venue's gateway queue; a refused order comes back as a reject.
// The event path allocates nothing.
//
// Most tests call drain_once() on the test thread (one pass over the input
// queues) and then drain the journal queue with JournalWorker::run() and a
// stop flag already set, so nothing here depends on thread timing.

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <csignal>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kernel_pipeline.hpp"
#include "run/journal_worker.hpp"
#include "run/kernel_worker.hpp"
#include "run_test_support.hpp"
#include "support/allocation_counter.hpp"

namespace synthusd::engine::run {
namespace {

using namespace testing;
using hedging::Contracts;
using hedging::ExecutionReport;
using hedging::OrderStatus;
using hedging::Price;

TEST(KernelWorker, a_liability_event_becomes_an_order_on_the_venue_gateway_once_the_venue_is_up_and_priced) {
  KernelPipeline p;
  KernelWorker& worker = p.start();
  // Priced, but the venue is not up: the kernel holds back.
  ASSERT_TRUE(p.market.publish(market_update(50'000, at_ms(1))));
  // $10,000, from a payment whose id has a control byte (the protocol allows it)
  ASSERT_EQ(p.liabilities.submit(liability_change(1, 1'000'000, at_ms(2)), "cln:\x01payment"), 1u);
  EXPECT_TRUE(worker.drain_once());
  EXPECT_TRUE(p.take_commands().empty());
  EXPECT_EQ(worker.status().orders.load(), 0u);

  p.venue_up(at_ms(3));
  EXPECT_TRUE(worker.drain_once());
  const std::vector<GatewayCommand> commands = p.take_commands();
  ASSERT_EQ(commands.size(), 1u);
  const GatewayCommand& command = commands[0];
  EXPECT_EQ(command.kind, GatewayCommand::Kind::order);
  EXPECT_EQ(command.order.venue, 1);
  EXPECT_EQ(command.order.instrument, 1);
  EXPECT_EQ(command.order.side, hedging::Side::sell);
  EXPECT_EQ(command.order.quantity, Contracts{98}); // to the low safe bound, $100 contracts
  // The default order type: a marketable limit IOC, 0.5 % through the mark.
  EXPECT_EQ(command.order.type, hedging::OrderType::limit);
  EXPECT_EQ(command.order.limit_price, Price::from_dollars(49'750));
  EXPECT_EQ(command.time_in_force, fix::TimeInForce::immediate_or_cancel);
  EXPECT_FALSE(command.post_only);
  EXPECT_FALSE(command.caused_by_market);
  EXPECT_GT(command.origin_wall_ns, 0);
  EXPECT_GE(command.dequeued_wall_ns, command.origin_wall_ns);
  EXPECT_EQ(worker.status().orders.load(), 1u);
  EXPECT_EQ(worker.stats().risk_rejects.load(), 0u);
  EXPECT_EQ(p.risk.passed(), 1u);
  EXPECT_FALSE(worker.drain_once()); // nothing left to take
  EXPECT_EQ(worker.last_sequence(), 3u);

  // Every input is journaled in the order the kernel saw it, numbered by the
  // kernel thread; the liability ticket becomes durable with it.
  EXPECT_EQ(p.liabilities.make_durable(), 0u);
  p.flush_journal();
  const std::vector<JournalRecord> records = read_journal(p.journal_path);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<hedging::MarketUpdate>(records[0].event));
  EXPECT_TRUE(std::holds_alternative<hedging::LiabilityChange>(records[1].event));
  EXPECT_TRUE(std::holds_alternative<hedging::VenueStatus>(records[2].event));
  // The payment id rode beside the event through both threads to the journal.
  EXPECT_EQ(records[1].liability_id.view(), "cln:\x01payment");
  EXPECT_TRUE(records[0].liability_id.empty());
  EXPECT_TRUE(records[2].liability_id.empty());
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].sequence, i + 1);
  }
  EXPECT_EQ(p.liabilities.make_durable(), 1u);
}

// A venue configured for market orders gets them (explicit opt-in only).
TEST(KernelWorker, a_venue_configured_for_market_orders_gets_unbounded_market_orders) {
  KernelPipeline p;
  fix::ExecutionOptions market;
  market.style = fix::ExecutionStyle::market;
  KernelWorker& worker = p.start({kNoGatewayIndex, 0}, {fix::ExecutionOptions{}, market});
  ASSERT_TRUE(p.market.publish(market_update(50'000, at_ms(1))));
  ASSERT_EQ(p.liabilities.submit(liability_change(1, 1'000'000, at_ms(2)), "w-test"), 1u);
  p.venue_up(at_ms(3));
  EXPECT_TRUE(worker.drain_once());
  const std::vector<GatewayCommand> commands = p.take_commands();
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_EQ(commands[0].order.type, hedging::OrderType::market);
  EXPECT_EQ(commands[0].time_in_force, fix::TimeInForce::immediate_or_cancel);
}

// Post-only needs our side of the touch: a market update with a mark but no
// bid or ask leaves nothing to rest at, so no order goes out (counted), and
// the kernel hears "rejected" and will ask again.
TEST(KernelWorker, deny_a_post_only_order_without_a_touch_to_rest_at) {
  KernelPipeline p;
  fix::ExecutionOptions post_only;
  post_only.style = fix::ExecutionStyle::post_only;
  KernelWorker& worker = p.start({kNoGatewayIndex, 0}, {fix::ExecutionOptions{}, post_only});
  hedging::MarketUpdate update = market_update(50'000, at_ms(1));
  update.bid = Price{};
  update.ask = Price{};
  ASSERT_TRUE(p.market.publish(update));
  ASSERT_EQ(p.liabilities.submit(liability_change(1, 1'000'000, at_ms(2)), "w-test"), 1u);
  p.venue_up(at_ms(3));
  EXPECT_TRUE(worker.drain_once());
  EXPECT_TRUE(p.take_commands().empty());
  EXPECT_EQ(worker.stats().orders_unpriced.load(), 1u);
  EXPECT_TRUE(worker.drain_once()); // the local reject goes back into the kernel
  EXPECT_EQ(p.kernel.open_orders(), 0u);

  // With a touch, the order rests at the ask (a sell), with its taker price.
  ASSERT_TRUE(p.market.publish(market_update(50'000, at_ms(2'000))));
  EXPECT_TRUE(worker.drain_once());
  const std::vector<GatewayCommand> commands = p.take_commands();
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_TRUE(commands[0].post_only);
  EXPECT_EQ(commands[0].order.limit_price, Price::from_dollars(50'001));
  EXPECT_EQ(commands[0].time_in_force, fix::TimeInForce::good_till_cancel);
  EXPECT_EQ(commands[0].taker_limit_price, Price::from_dollars(49'750));
}

TEST(KernelWorker, gateway_events_are_taken_before_market_data_and_market_data_before_liability_events) {
  KernelPipeline p;
  KernelWorker& worker = p.start();
  ASSERT_EQ(p.liabilities.submit(liability_change(1, 1'000'000, at_ms(3)), "w-test"), 1u);
  ASSERT_TRUE(p.market.publish(market_update(50'000, at_ms(2))));
  p.venue_up(at_ms(1));
  EXPECT_TRUE(worker.drain_once());
  // All three in one pass, so the order goes out at once.
  ASSERT_EQ(p.take_commands().size(), 1u);
  p.flush_journal();
  const std::vector<JournalRecord> records = read_journal(p.journal_path);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<hedging::VenueStatus>(records[0].event));
  EXPECT_TRUE(std::holds_alternative<hedging::MarketUpdate>(records[1].event));
  EXPECT_TRUE(std::holds_alternative<hedging::LiabilityChange>(records[2].event));
}

TEST(KernelWorker, an_order_caused_by_a_tick_carries_the_tick_receive_time_for_tick_to_order_latency) {
  KernelPipeline p;
  KernelWorker& worker = p.start();
  p.venue_up(at_ms(1));
  ASSERT_EQ(p.liabilities.submit(liability_change(1, 1'000'000, at_ms(2)), "w-test"), 1u);
  EXPECT_TRUE(worker.drain_once());
  EXPECT_TRUE(p.take_commands().empty()); // no price yet: nothing to size the hedge with

  const hedging::MarketUpdate tick = market_update(50'000, at_ms(3));
  ASSERT_TRUE(p.market.publish(tick));
  EXPECT_TRUE(worker.drain_once());
  const std::vector<GatewayCommand> commands = p.take_commands();
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_EQ(commands[0].kind, GatewayCommand::Kind::order);
  EXPECT_TRUE(commands[0].caused_by_market);
  EXPECT_EQ(commands[0].origin_wall_ns, tick.time.nanoseconds);
  EXPECT_GT(commands[0].dequeued_wall_ns, 0);
}

TEST(KernelWorker, an_order_caused_by_a_payment_carries_its_hand_off_time_for_payment_to_order_latency) {
  KernelPipeline p;
  KernelWorker& worker = p.start();
  p.venue_up(at_ms(1));
  ASSERT_TRUE(p.market.publish(market_update(50'000, at_ms(2))));
  EXPECT_TRUE(worker.drain_once());
  EXPECT_TRUE(p.take_commands().empty()); // no liability yet: nothing to hedge

  const std::int64_t before = wall_ns();
  ASSERT_EQ(p.liabilities.submit(liability_change(1, 1'000'000, at_ms(3)), "w-paid"), 1u);
  const std::int64_t after = wall_ns();
  EXPECT_TRUE(worker.drain_once());
  const std::vector<GatewayCommand> commands = p.take_commands();
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_TRUE(commands[0].caused_by_payment);
  EXPECT_FALSE(commands[0].caused_by_market);
  // Stamped by the source's hand-off (LiabilityChannel::submit), not when
  // the kernel thread took it.
  EXPECT_GE(commands[0].origin_wall_ns, before);
  EXPECT_LE(commands[0].origin_wall_ns, after);
  EXPECT_GE(commands[0].dequeued_wall_ns, commands[0].origin_wall_ns);
}

std::optional<hedging::ClientOrderId> only_open_order(const hedging::Kernel& kernel) {
  std::optional<hedging::ClientOrderId> id;
  for (const hedging::OrderRecord& record : kernel.order_table().records()) {
    if (record.client_order_id != 0) {
      if (id) {
        return std::nullopt;
      }
      id = record.client_order_id;
    }
  }
  return id;
}

TEST(KernelWorker, an_order_refused_by_pre_trade_risk_comes_back_as_a_journaled_reject) {
  KernelPipeline p;
  KernelWorker& worker = p.start();
  p.venue_up(at_ms(1));
  ASSERT_TRUE(p.market.publish(market_update(50'000, at_ms(2))));
  EXPECT_TRUE(worker.drain_once());
  p.risk.engage_kill_switch();

  ASSERT_EQ(p.liabilities.submit(liability_change(1, 1'000'000, at_ms(3)), "w-test"), 1u);
  EXPECT_TRUE(worker.drain_once());
  EXPECT_TRUE(p.take_commands().empty()); // nothing reached the gateway
  EXPECT_EQ(worker.stats().risk_rejects.load(), 1u);
  EXPECT_EQ(p.risk.rejects(fix::RiskReject::kill_switch), 1u);
  const std::optional<hedging::ClientOrderId> refused = only_open_order(p.kernel);
  ASSERT_TRUE(refused.has_value()); // the kernel still believes it in flight...

  EXPECT_TRUE(worker.drain_once()); // ...until the next pass hands it the reject
  EXPECT_EQ(p.kernel.open_orders(), 0u);
  EXPECT_EQ(p.kernel.slot(1)->in_flight, Contracts{0});
  EXPECT_FALSE(worker.drain_once());

  p.flush_journal();
  const std::vector<JournalRecord> records = read_journal(p.journal_path);
  ASSERT_EQ(records.size(), 4u); // venue up, tick, liability, reject
  const auto* reject = std::get_if<ExecutionReport>(&records[3].event);
  ASSERT_NE(reject, nullptr);
  EXPECT_EQ(records[3].sequence, 4u);
  EXPECT_EQ(reject->client_order_id, *refused);
  EXPECT_EQ(reject->status, OrderStatus::rejected);
  EXPECT_EQ(reject->last_quantity, Contracts{0});

  // Released, the kernel hedges again after its retry delay.
  p.risk.resume();
  ASSERT_TRUE(p.market.publish(market_update(50'000, at_ms(5'000))));
  EXPECT_TRUE(worker.drain_once());
  const std::vector<GatewayCommand> retried = p.take_commands();
  ASSERT_EQ(retried.size(), 1u);
  EXPECT_EQ(retried[0].order.quantity, Contracts{98});
  EXPECT_NE(retried[0].order.client_order_id, *refused);
}

TEST(KernelWorker, an_order_for_a_venue_without_a_gateway_is_rejected_back_into_the_kernel) {
  KernelPipeline p;
  KernelWorker& worker = p.start({}); // no gateway for any venue
  p.venue_up(at_ms(1));
  ASSERT_TRUE(p.market.publish(market_update(50'000, at_ms(2))));
  ASSERT_EQ(p.liabilities.submit(liability_change(1, 1'000'000, at_ms(3)), "w-test"), 1u);
  EXPECT_TRUE(worker.drain_once());
  EXPECT_EQ(worker.stats().no_gateway.load(), 1u);
  EXPECT_EQ(worker.status().orders.load(), 0u);
  EXPECT_TRUE(worker.drain_once()); // the reject
  EXPECT_EQ(p.kernel.open_orders(), 0u);
  p.flush_journal();
  const std::vector<JournalRecord> records = read_journal(p.journal_path);
  ASSERT_EQ(records.size(), 4u);
  ASSERT_TRUE(std::holds_alternative<ExecutionReport>(records[3].event));
  EXPECT_EQ(std::get<ExecutionReport>(records[3].event).status, OrderStatus::rejected);
}

// One round of the event path: a tick, a liability event (alternately
// $10,000 in and out, so the kernel sells and buys back), the orders it
// causes, and a fill for each of them from the "venue".
struct RoundCounts {
  std::uint64_t orders = 0;
  std::uint64_t fills = 0;
};

void round_trip(KernelPipeline& p, std::int64_t round, RoundCounts& counts) {
  const hedging::Timestamp time = at_ms(1'000 * round);
  (void)p.market.publish(market_update(50'000 + (round % 50), time));
  (void)p.liabilities.submit(
      liability_change(static_cast<std::uint64_t>(round), round % 2 == 1 ? 1'000'000 : -1'000'000, time),
      "cln:9f2c4d1e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d"); // a full-length payment id
  (void)p.worker->drain_once();
  GatewayCommand command;
  while (p.gateway.commands.pop(command)) {
    if (command.kind != GatewayCommand::Kind::order) {
      continue;
    }
    ++counts.orders;
    const ExecutionReport fill{command.order.client_order_id, OrderStatus::filled, command.order.quantity,
                               Price::from_dollars(50'000), time};
    if (p.gateway.events.push(GatewayEvent{fill})) {
      ++counts.fills;
    }
  }
  (void)p.worker->drain_once();
  hedging::Alert alert;
  while (p.alerts.pop(alert)) {
  }
}

TEST(KernelWorker, the_event_path_allocates_nothing_after_warm_up) {
  constexpr std::int64_t kWarmUp = 50;
  constexpr std::int64_t kRounds = 1'000;
  KernelPipeline p(1 << 14);
  KernelWorker& worker = p.start();
  p.venue_up(at_ms(0));
  RoundCounts warm_up;
  for (std::int64_t round = 1; round <= kWarmUp; ++round) {
    round_trip(p, round, warm_up);
  }
  ASSERT_GT(warm_up.orders, 0u);
  p.flush_journal(); // the journal thread's part, outside the measurement

  const std::uint64_t events_before = worker.status().events.load();
  RoundCounts counts;
  const std::int64_t allocations_before = test_support::allocation_count();
  for (std::int64_t round = kWarmUp + 1; round <= kWarmUp + kRounds; ++round) {
    round_trip(p, round, counts);
  }
  const std::int64_t allocations = test_support::allocation_count() - allocations_before;

  EXPECT_EQ(allocations, 0);
  // The measured path did the work: ticks, liability events, orders, fills.
  EXPECT_GE(counts.orders, static_cast<std::uint64_t>(kRounds));
  EXPECT_EQ(counts.fills, counts.orders);
  EXPECT_GE(worker.status().events.load() - events_before, static_cast<std::uint64_t>(3 * kRounds));
  EXPECT_GE(p.ledger.figures(p.kernel).fills, counts.fills); // the backing ledger booked every fill
  EXPECT_EQ(worker.stats().journal_waits.load(), 0u);
  p.flush_journal();
  EXPECT_EQ(p.liabilities.make_durable(), static_cast<std::uint64_t>(kWarmUp + kRounds));
}

TEST(KernelWorker, a_backfilled_liability_event_keeps_its_old_time_in_the_journal_but_never_moves_the_clock_back) {
  KernelPipeline p;
  KernelWorker& worker = p.start();
  ASSERT_TRUE(p.market.publish(market_update(50'000, at_ms(3'600'000))));
  EXPECT_TRUE(worker.drain_once());
  ASSERT_EQ(p.kernel.now(), at_ms(3'600'000));
  // Replayed history (liabilities/PROTOCOL.md, "backfill"): a day older.
  ASSERT_EQ(p.liabilities.submit(liability_change(7, 1'000, at_ms(3'600'000 - 86'400'000)), "cln:backfilled"), 1u);
  EXPECT_TRUE(worker.drain_once());
  EXPECT_EQ(p.kernel.now(), at_ms(3'600'000));
  EXPECT_EQ(p.kernel.liability(), hedging::UsdCents{1'000});
  p.flush_journal();
  const std::vector<JournalRecord> records = read_journal(p.journal_path);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(std::get<hedging::LiabilityChange>(records[1].event).time, at_ms(3'600'000 - 86'400'000));
}

TEST(KernelWorker, the_allocation_counter_sees_allocations_on_this_thread) {
  // Guards the test above against a counter that can never move.
  const std::int64_t before = test_support::allocation_count();
  auto* pointer = new int(3);
  asm volatile("" : : "g"(pointer) : "memory");
  delete pointer;
  EXPECT_EQ(test_support::allocation_count() - before, 1);
}

// The threads as `synthusd run` has them: the kernel thread sleeping on its
// event count, woken by a source's submit; the journal thread committing.
TEST(KernelWorker, on_its_own_thread_it_wakes_for_a_liability_event_routes_the_order_and_drains_on_stop) {
  KernelPipeline p(4096, 4);
  KernelWorker& worker = p.start();
  std::atomic<bool> kernel_stop{false};
  std::atomic<bool> journal_stop{false};
  std::thread journal_thread([&] { p.journal.run(journal_stop); });
  std::thread kernel_thread([&] { worker.run(kernel_stop); });

  const std::int64_t now = wall_ns();
  p.venue_up(hedging::Timestamp{now});
  p.wakeup.notify();
  ASSERT_TRUE(p.market.publish(market_update(50'000, hedging::Timestamp{now})));
  p.wakeup.notify();
  ASSERT_EQ(p.liabilities.submit(liability_change(1, 1'000'000, hedging::Timestamp{now}), "w-test"), 1u);

  GatewayCommand command;
  EXPECT_TRUE(eventually([&] { return p.gateway.commands.pop(command); }));
  EXPECT_EQ(command.kind, GatewayCommand::Kind::order);
  EXPECT_EQ(command.order.quantity, Contracts{98});
  EXPECT_TRUE(eventually([&] { return p.liabilities.make_durable() == 1; }));

  // A snapshot every 4 inputs: written by the journal thread after the records it includes.
  EXPECT_TRUE(eventually([&] { return p.snapshots_written.load() >= 1; }));

  // Queued just before the stop: still journaled, still made durable.
  ASSERT_EQ(p.liabilities.submit(liability_change(2, 5'000, hedging::Timestamp{now}), "w-test"), 2u);
  kernel_stop.store(true);
  p.wakeup.notify();
  kernel_thread.join();
  journal_stop.store(true);
  journal_thread.join();

  EXPECT_EQ(p.liabilities.make_durable(), 2u);
  const std::vector<JournalRecord> records = read_journal(p.journal_path);
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back().sequence, worker.last_sequence());
  std::size_t liability_events = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].sequence, i + 1);
    liability_events += std::holds_alternative<hedging::LiabilityChange>(records[i].event) ? 1 : 0;
  }
  EXPECT_EQ(liability_events, 2u);
  // Snapshots were never ahead of the journal, and the last one was handed back.
  EXPECT_EQ(p.snapshots_ahead_of_journal.load(), 0);
  EXPECT_FALSE(p.snapshot.busy.load());
  EXPECT_EQ(worker.status().liability_events.load(), 2u);
}

// A journal thread that died (a write or fdatasync that threw) used to
// leave the kernel thread spinning on the full journal queue forever, and
// the engine's shutdown joined it forever. Now the kernel halts: it applies
// exactly what was journaled and nothing after.
TEST(KernelWorker, halts_instead_of_waiting_forever_when_the_journal_thread_has_stopped) {
  KernelPipeline p(8);
  KernelWorker& worker = p.start();
  p.flush_journal(); // the journal thread ran and is gone: nothing drains the queue now
  ASSERT_TRUE(p.journal.stopped());
  for (std::uint64_t id = 1; id <= 40; ++id) {
    ASSERT_NE(p.liabilities.submit(liability_change(id, 100, at_ms(static_cast<std::int64_t>(id))), "w-halt"), 0u);
  }
  (void)worker.drain_once(); // without the guard: never returns
  EXPECT_TRUE(worker.halted());
  EXPECT_GT(worker.stats().journal_waits.load(), 0u);
  const hedging::UsdCents applied = p.kernel.liability();
  // Halted, its thread still empties its queues (so that no producer waits
  // on it) and applies none of it, until the stop.
  std::atomic<bool> stop{false};
  std::thread kernel_thread([&] { worker.run(stop); });
  EXPECT_TRUE(eventually([&] { return p.liabilities.queue.read_available() == 0; }));
  stop.store(true);
  p.wakeup.notify();
  kernel_thread.join();
  EXPECT_EQ(p.kernel.liability(), applied);

  // What is in the queue is journaled once a journal runs again, and it is
  // exactly what the kernel applied: no state without its record.
  p.flush_journal();
  const std::vector<JournalRecord> records = read_journal(p.journal_path);
  ASSERT_FALSE(records.empty());
  ASSERT_LT(records.size(), 40u);
  EXPECT_EQ(p.kernel.liability(), hedging::UsdCents{static_cast<std::int64_t>(records.size()) * 100});
  EXPECT_EQ(p.liabilities.make_durable(), records.size()); // the rest is never acknowledged
}

// Files may not grow while it lives (RLIMIT_FSIZE 0, SIGXFSZ ignored): a
// write past the end fails with EFBIG, as a full disk fails one.
class NoFileGrowth {
public:
  NoFileGrowth() {
    (void)::getrlimit(RLIMIT_FSIZE, &saved_);
    previous_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit none = saved_;
    none.rlim_cur = 0;
    EXPECT_EQ(::setrlimit(RLIMIT_FSIZE, &none), 0);
  }
  ~NoFileGrowth() {
    (void)::setrlimit(RLIMIT_FSIZE, &saved_);
    (void)std::signal(SIGXFSZ, previous_);
  }
  NoFileGrowth(const NoFileGrowth&) = delete;
  NoFileGrowth& operator=(const NoFileGrowth&) = delete;

private:
  rlimit saved_{};
  void (*previous_)(int) = nullptr;
};

// A journal whose writes fail stops its thread with the error; the kernel
// sees it before its next input, queue full or not, and applies nothing more.
TEST(KernelWorker, halts_at_its_next_input_once_the_journal_thread_failed) {
  KernelPipeline p;
  KernelWorker& worker = p.start();
  ASSERT_EQ(p.liabilities.submit(liability_change(1, 100, at_ms(1)), "w-full"), 1u);
  EXPECT_TRUE(worker.drain_once());
  EXPECT_EQ(p.kernel.liability(), hedging::UsdCents{100});
  {
    const NoFileGrowth full_disk;
    EXPECT_THROW(p.flush_journal(), std::runtime_error); // EFBIG
  }
  EXPECT_TRUE(p.journal.failed());
  EXPECT_EQ(p.liabilities.make_durable(), 0u); // never acknowledged

  ASSERT_EQ(p.liabilities.submit(liability_change(2, 200, at_ms(2)), "w-full"), 2u);
  (void)worker.drain_once();
  EXPECT_TRUE(worker.halted());
  EXPECT_EQ(p.kernel.liability(), hedging::UsdCents{100}); // the second input moved nothing
  EXPECT_EQ(worker.last_sequence(), 1u);                   // and was numbered for no record
}

// A journal thread that stopped without failing (a test's flush, the end of
// a run) halts nothing while its queue has room.
TEST(KernelWorker, a_journal_that_stopped_cleanly_does_not_halt_the_kernel) {
  KernelPipeline p;
  KernelWorker& worker = p.start();
  p.flush_journal();
  EXPECT_TRUE(p.journal.stopped());
  EXPECT_FALSE(p.journal.failed());
  ASSERT_EQ(p.liabilities.submit(liability_change(1, 100, at_ms(1)), "w-clean"), 1u);
  EXPECT_TRUE(worker.drain_once());
  EXPECT_FALSE(worker.halted());
  EXPECT_EQ(p.kernel.liability(), hedging::UsdCents{100});
}

// The reproduced failure: one scrape the kernel thread answered too late,
// and every later /metrics said "did not answer" until a restart. Here the
// first scrape is made before the kernel thread runs at all.
TEST(KernelWorker, a_scrape_after_one_it_answered_late_is_served) {
  KernelPipeline p;
  KernelWorker& worker = p.start();
  EXPECT_EQ(worker.metrics().request(p.wakeup, std::chrono::milliseconds(1)), std::nullopt);
  std::atomic<bool> kernel_stop{false};
  std::atomic<bool> journal_stop{false};
  std::thread journal_thread([&] { p.journal.run(journal_stop); });
  std::thread kernel_thread([&] { worker.run(kernel_stop); });
  // The late answer is rendered and discarded once the thread runs.
  EXPECT_TRUE(eventually([&] { return !worker.metrics().outstanding(); }));
  // 30 s only bounds a broken exchange; the kernel thread answers within its 1 ms idle wait.
  const std::optional<std::string> text = worker.metrics().request(p.wakeup, std::chrono::seconds(30));
  kernel_stop.store(true);
  p.wakeup.notify();
  kernel_thread.join();
  journal_stop.store(true);
  journal_thread.join();
  ASSERT_TRUE(text.has_value());
  EXPECT_NE(text->find("synthusd_liability_usd_cents 0"), std::string::npos) << *text;
  EXPECT_NE(text->find("synthusd_kernel_event_seconds"), std::string::npos);
}

TEST(KernelWorker, funding_is_accrued_on_the_short_at_the_feed_rate_over_the_engine_clock) {
  KernelPipeline p;
  KernelWorker& worker = p.start();
  std::atomic<bool> kernel_stop{false};
  std::atomic<bool> journal_stop{false};
  std::thread journal_thread([&] { p.journal.run(journal_stop); });
  std::thread kernel_thread([&] { worker.run(kernel_stop); });

  // Short 100 OKX contracts ($10,000) at $50,000 = 20,000,000 sats; funding
  // 0.0001 per 8 hours, longs paying shorts: 2,000 sats received over 8 h.
  const std::int64_t now = wall_ns();
  ASSERT_TRUE(
      p.gateway.events.push(GatewayEvent{hedging::PositionSnapshot{1, 1, Contracts{-100}, hedging::Timestamp{now}}}));
  ASSERT_TRUE(p.market.publish(market_update(50'000, hedging::Timestamp{now})));
  p.wakeup.notify();
  const std::uint64_t events = worker.status().events.load();
  EXPECT_TRUE(eventually([&] { return worker.status().events.load() >= events + 3; })); // a timer tick since
  ASSERT_TRUE(p.market.publish(market_update(50'000, hedging::Timestamp{now} + hedging::Duration::from_hours(8))));
  p.wakeup.notify();
  EXPECT_TRUE(eventually([&] { return worker.status().funding_sats.load() >= 1'999; }));
  kernel_stop.store(true);
  p.wakeup.notify();
  kernel_thread.join();
  journal_stop.store(true);
  journal_thread.join();
  EXPECT_GE(worker.status().funding_sats.load(), 1'999);
  EXPECT_LE(worker.status().funding_sats.load(), 2'001); // a few wall-clock milliseconds more at most
}

} // namespace
} // namespace synthusd::engine::run
