// Kernel snapshots: a kernel restored from a snapshot taken mid-run must be
// indistinguishable from the one that took it, event after event; anything
// else (another config, damaged or truncated bytes) is refused and leaves
// the kernel as it was.

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "event_driver.hpp"
#include "kernel_fixture.hpp"
#include "kernel_snapshot_fixture.hpp"
#include "synthusd/hedging/digest.hpp"

namespace synthusd::hedging {
namespace {

using namespace synthusd::hedging::testing;

std::uint64_t digest_of(std::span<const Action> actions) {
  Digest digest;
  digest.add(static_cast<std::uint64_t>(actions.size()));
  add_actions(digest, actions);
  return digest.value();
}

// Every field the public views show, one by one (the private rest is
// proven by identical behaviour afterwards).
void expect_same_visible_state(const Kernel& a, const Kernel& b) {
  EXPECT_EQ(a.now(), b.now());
  EXPECT_EQ(a.liability(), b.liability());
  EXPECT_EQ(a.provider_interest(), b.provider_interest());
  EXPECT_EQ(a.venue_hedge(), b.venue_hedge());
  EXPECT_EQ(a.unallocated(), b.unallocated());
  EXPECT_EQ(a.open_orders(), b.open_orders());
  const KernelCounters& ca = a.counters();
  const KernelCounters& cb = b.counters();
  EXPECT_EQ(ca.events, cb.events);
  EXPECT_EQ(ca.invalid_events, cb.invalid_events);
  EXPECT_EQ(ca.unknown_instrument_updates, cb.unknown_instrument_updates);
  EXPECT_EQ(ca.orders, cb.orders);
  EXPECT_EQ(ca.transfers, cb.transfers);
  EXPECT_EQ(ca.alerts, cb.alerts);
  EXPECT_EQ(ca.dropped_actions, cb.dropped_actions);
  EXPECT_EQ(ca.duplicate_or_late_fills, cb.duplicate_or_late_fills);
  ASSERT_EQ(a.slots().size(), b.slots().size());
  for (std::size_t i = 0; i < a.slots().size(); ++i) {
    const SlotState& x = a.slots()[i];
    const SlotState& y = b.slots()[i];
    SCOPED_TRACE(i);
    EXPECT_EQ(x.venue_index, y.venue_index);
    EXPECT_EQ(x.position, y.position);
    EXPECT_EQ(x.risk_position, y.risk_position);
    EXPECT_EQ(x.in_flight, y.in_flight);
    EXPECT_EQ(x.risk_in_flight, y.risk_in_flight);
    EXPECT_EQ(x.bid, y.bid);
    EXPECT_EQ(x.ask, y.ask);
    EXPECT_EQ(x.mark, y.mark);
    EXPECT_EQ(x.index, y.index);
    EXPECT_EQ(x.funding_rate, y.funding_rate);
    EXPECT_EQ(x.next_funding_time, y.next_funding_time);
    EXPECT_EQ(x.market_time, y.market_time);
    EXPECT_EQ(x.has_market, y.has_market);
    EXPECT_EQ(x.funding_below_guard, y.funding_below_guard);
    EXPECT_EQ(x.negative_funding_since, y.negative_funding_since);
    EXPECT_EQ(x.funding_guard_engaged, y.funding_guard_engaged);
    EXPECT_EQ(x.annual_carry, y.annual_carry);
    EXPECT_EQ(x.eligible, y.eligible);
    EXPECT_EQ(x.target, y.target);
    EXPECT_EQ(x.retry_after, y.retry_after);
  }
  ASSERT_EQ(a.venues().size(), b.venues().size());
  for (std::size_t i = 0; i < a.venues().size(); ++i) {
    const VenueState& x = a.venues()[i];
    const VenueState& y = b.venues()[i];
    SCOPED_TRACE(i);
    EXPECT_EQ(x.up, y.up);
    EXPECT_EQ(x.collateral, y.collateral);
    EXPECT_EQ(x.collateral_known, y.collateral_known);
    EXPECT_EQ(x.transfer_in_flight, y.transfer_in_flight);
    EXPECT_EQ(x.snapshot_during_transfer, y.snapshot_during_transfer);
    EXPECT_EQ(x.transfer_id, y.transfer_id);
    EXPECT_EQ(x.transfer_direction, y.transfer_direction);
    EXPECT_EQ(x.transfer_amount, y.transfer_amount);
    EXPECT_EQ(x.active, y.active);
    EXPECT_EQ(x.only_guarded, y.only_guarded);
    EXPECT_EQ(x.allocation, y.allocation);
    EXPECT_EQ(x.liquidation_alert_raised, y.liquidation_alert_raised);
    EXPECT_EQ(x.liquidated, y.liquidated);
    EXPECT_EQ(x.withdrawable, y.withdrawable);
    EXPECT_EQ(x.withdrawal_refused, y.withdrawal_refused);
    EXPECT_EQ(x.withdrawable_when_refused, y.withdrawable_when_refused);
    EXPECT_EQ(x.withdrawal_refused_amount, y.withdrawal_refused_amount);
    EXPECT_EQ(x.reported_since_refusal, y.reported_since_refusal);
  }
  EXPECT_EQ(a.state_digest(), b.state_digest());
  EXPECT_EQ(a.full_state_digest(), b.full_state_digest());
}

// Tracks, from the kernel's outputs and the driver's reports, which orders
// are open and which of them are partly filled.
class OrderBook {
public:
  void saw(std::span<const Action> actions) {
    for (const Action& action : actions) {
      if (const auto* order = std::get_if<OrderIntent>(&action)) {
        open_[order->client_order_id] = false;
      }
    }
  }
  void saw(const Event& event) {
    const auto* report = std::get_if<ExecutionReport>(&event);
    if (report == nullptr) {
      return;
    }
    const auto it = open_.find(report->client_order_id);
    if (it == open_.end()) {
      return;
    }
    if (report->status == OrderStatus::partially_filled) {
      it->second = true;
    } else if (report->status != OrderStatus::accepted) {
      open_.erase(it);
    }
  }
  [[nodiscard]] bool has_partly_filled_order() const {
    for (const auto& [id, partly] : open_) {
      if (partly) {
        return true;
      }
    }
    return false;
  }

private:
  std::map<ClientOrderId, bool> open_; // id -> partly filled
};

bool transfer_open(const Kernel& kernel) {
  for (const VenueState& venue : kernel.venues()) {
    if (venue.transfer_in_flight) {
      return true;
    }
  }
  return false;
}

TEST(KernelSnapshot, a_kernel_restored_mid_run_acts_exactly_like_the_original_from_then_on) {
  Kernel original(full_config());
  EventDriver driver(42);
  OrderBook book;
  std::span<const Action> actions;

  // Run until the state is as busy as it gets: liability orders partly
  // filled, a risk-trigger order and a collateral transfer all in flight.
  std::size_t steps = 0;
  for (; steps < 200'000; ++steps) {
    if (steps > 3'000 && book.has_partly_filled_order() && risk_hedge_open(original) && transfer_open(original)) {
      break;
    }
    const Event event = driver.next(actions);
    book.saw(event);
    actions = original.on(event);
    book.saw(actions);
  }
  ASSERT_LT(steps, 200'000u) << "the driver never produced a busy state";
  ASSERT_GT(original.open_orders(), 0u);

  const std::vector<std::uint8_t> bytes = snapshot_of(original);

  // The restored kernel first lives a different life, so any field the
  // restore forgot would still hold that life's value.
  Kernel restored(full_config());
  EventDriver other(7);
  std::span<const Action> other_actions;
  for (int i = 0; i < 3'000; ++i) {
    other_actions = restored.on(other.next(other_actions));
  }
  ASSERT_NE(restored.full_state_digest(), original.full_state_digest());

  ASSERT_TRUE(restored.restore_snapshot(bytes));
  expect_same_visible_state(original, restored);
  EXPECT_EQ(snapshot_of(restored), bytes) << "a restored kernel must write the very same snapshot";

  ActionStreamHash original_stream;
  ActionStreamHash restored_stream;
  std::uint64_t orders = 0;
  for (int i = 0; i < 10'000; ++i) {
    const Event event = driver.next(actions);
    actions = original.on(event);
    const std::span<const Action> replayed = restored.on(event);
    original_stream.add(actions);
    restored_stream.add(replayed);
    orders += orders_in(actions).size();
    ASSERT_EQ(digest_of(actions), digest_of(replayed)) << "actions diverged at event " << i;
    ASSERT_EQ(original.state_digest(), restored.state_digest()) << "state diverged at event " << i;
    if (i % 16 == 0) { // the wider digest is costlier: a sample of steps is enough
      ASSERT_EQ(original.full_state_digest(), restored.full_state_digest()) << "state diverged at event " << i;
    }
  }
  EXPECT_EQ(original_stream.value(), restored_stream.value());
  EXPECT_GT(orders, 100u) << "the continuation must trade for the comparison to mean anything";
  expect_same_visible_state(original, restored);
}

// Venue caps far below the liability the driver builds up: the hedge does
// not fit, so the latched capacity alert is part of the state.
KernelConfig capped_config() {
  KernelConfig config = full_config();
  for (VenueConfig& venue : config.venues) {
    venue.cap = UsdCents{3'000'000}; // $30,000
  }
  return config;
}

// Restores into a fresh kernel every 1,000 events and follows the original
// (on a copy) for 300 more: any state the snapshot missed shows up as a
// different action or digest soon after.
void expect_every_snapshot_continues_identically(const KernelConfig& config, std::uint64_t seed) {
  Kernel original(config);
  EventDriver driver(seed);
  std::span<const Action> actions;
  for (int i = 0; i < 12'000; ++i) {
    actions = original.on(driver.next(actions));
    if (i % 1'000 != 999) {
      continue;
    }
    SCOPED_TRACE(i);
    Kernel restored(config);
    ASSERT_TRUE(restored.restore_snapshot(snapshot_of(original)));
    expect_same_visible_state(original, restored);
    Kernel follower = original;
    EventDriver branch = driver; // the main run goes on undisturbed
    std::span<const Action> follower_actions = actions;
    for (int j = 0; j < 300; ++j) {
      const Event event = branch.next(follower_actions);
      follower_actions = follower.on(event);
      ASSERT_EQ(digest_of(follower_actions), digest_of(restored.on(event))) << "event " << j;
      ASSERT_EQ(follower.full_state_digest(), restored.full_state_digest()) << "event " << j;
    }
  }
}

TEST(KernelSnapshot, snapshots_taken_anywhere_in_a_run_continue_identically) {
  expect_every_snapshot_continues_identically(full_config(), 1234);
}

// Guards a premise: some slot in the first 12,000 events holds what the snapshot must carry.
template <class Predicate>
bool some_slot_reaches(const KernelConfig& config, std::uint64_t seed, Predicate predicate) {
  Kernel probe(config);
  EventDriver driver(seed);
  std::span<const Action> actions;
  for (int i = 0; i < 12'000; ++i) {
    actions = probe.on(driver.next(actions));
    for (const SlotState& slot : probe.slots()) {
      if (predicate(slot)) {
        return true;
      }
    }
  }
  return false;
}

TEST(KernelSnapshot, snapshots_of_the_hybrid_policy_with_resting_orders_continue_identically) {
  KernelConfig config = full_config();
  config.bands = default_bands(PolicyKind::hybrid);
  ASSERT_TRUE(some_slot_reaches(config, 77, [](const SlotState& slot) { return slot.passive_order != 0; }));
  expect_every_snapshot_continues_identically(config, 77);
}

TEST(KernelSnapshot, snapshots_of_a_volatility_scaled_band_continue_identically) {
  KernelConfig config = full_config();
  config.bands = default_bands(PolicyKind::banded);
  config.bands.volatility_reference = Ratio::from_ppm(40'000);
  config.bands.maximum_band_scale = 5;
  // the estimate starts at the reference squared and must move away from it
  constexpr std::uint64_t kStarted = 4'000'000ULL * 4'000'000ULL;
  ASSERT_TRUE(some_slot_reaches(
      config, 91, [](const SlotState& slot) { return slot.hourly_variance != 0 && slot.hourly_variance != kStarted; }));
  expect_every_snapshot_continues_identically(config, 91);
}

TEST(KernelSnapshot, snapshots_taken_while_venue_capacity_is_exhausted_continue_identically) {
  // guards the premise: the capacity alert must be latched somewhere in the run
  Kernel probe(capped_config());
  EventDriver driver(99);
  std::span<const Action> actions;
  bool exhausted = false;
  for (int i = 0; i < 12'000 && !exhausted; ++i) {
    actions = probe.on(driver.next(actions));
    exhausted = probe.unallocated().value > 0;
  }
  ASSERT_TRUE(exhausted);
  expect_every_snapshot_continues_identically(capped_config(), 99);
}

TEST(KernelSnapshot, writing_is_deterministic_and_little_endian_words) {
  Kernel kernel(full_config());
  EventDriver driver(5);
  std::span<const Action> actions;
  for (int i = 0; i < 2'000; ++i) {
    actions = kernel.on(driver.next(actions));
  }
  const std::vector<std::uint8_t> first = snapshot_of(kernel);
  EXPECT_EQ(snapshot_of(kernel), first);
  ASSERT_EQ(first.size() % 8, 0u);
  // "SUKSNAP1", then format version 8 (7 had no OrderRecord.abandoned: refused)
  const std::vector<std::uint8_t> magic(first.begin(), first.begin() + 8);
  EXPECT_EQ(magic, (std::vector<std::uint8_t>{'S', 'U', 'K', 'S', 'N', 'A', 'P', '1'}));
  EXPECT_EQ(first[8], 8);
}

TEST(KernelSnapshot, a_fresh_kernel_round_trips_too) {
  Kernel a(full_config());
  Kernel b(full_config());
  ASSERT_TRUE(b.restore_snapshot(snapshot_of(a)));
  expect_same_visible_state(a, b);
}

TEST(KernelSnapshot, is_refused_by_a_kernel_with_another_config) {
  const Kernel source = busy_kernel(full_config(), 42, 3'000);
  const std::vector<std::uint8_t> bytes = snapshot_of(source);

  std::vector<KernelConfig> others;
  KernelConfig bands = full_config(); // same shape, other behaviour
  bands.bands.high_bound = Ratio::from_ppm(1'050'000);
  others.push_back(bands);
  KernelConfig spec = full_config();
  spec.instruments[1].contract_value = UsdCents{10'000};
  others.push_back(spec);
  KernelConfig capacity = full_config();
  capacity.order_table_capacity = 512;
  others.push_back(capacity);
  KernelConfig risk = full_config();
  risk.risk_position_capacity = 16;
  others.push_back(risk);
  KernelConfig fewer = full_config();
  fewer.venues.pop_back();
  fewer.instruments.pop_back();
  others.push_back(fewer);
  KernelConfig routes = full_config();
  routes.risk_routes = {{1, 2, 2}};
  others.push_back(routes);

  for (std::size_t i = 0; i < others.size(); ++i) {
    SCOPED_TRACE(i);
    Kernel target = busy_kernel(others[i], 9, 500);
    const std::uint64_t before = target.full_state_digest();
    EXPECT_NE(target.config_digest(), source.config_digest());
    EXPECT_FALSE(target.restore_snapshot(bytes));
    EXPECT_EQ(target.full_state_digest(), before);
  }
}

TEST(KernelSnapshot, the_config_digest_ignores_order_and_first_ids_but_not_behaviour) {
  const Kernel base(full_config());
  KernelConfig reordered = full_config();
  std::swap(reordered.venues[0], reordered.venues[2]);
  std::swap(reordered.instruments[0], reordered.instruments[1]);
  EXPECT_EQ(Kernel(reordered).config_digest(), base.config_digest());

  // The snapshot carries the id counters that these only seed.
  KernelConfig ids = full_config();
  ids.first_client_order_id = 1'000'000;
  ids.first_transfer_id = 77;
  EXPECT_EQ(Kernel(ids).config_digest(), base.config_digest());

  KernelConfig renamed = full_config();
  renamed.instruments[2].symbol = "BTCUSD_240628";
  EXPECT_NE(Kernel(renamed).config_digest(), base.config_digest());
  KernelConfig timeout = full_config();
  timeout.cancel_unanswered_order_after = Duration::from_seconds(11);
  EXPECT_NE(Kernel(timeout).config_digest(), base.config_digest());
  KernelConfig guard = full_config();
  guard.funding_guard.engage_after = Duration::from_hours(4);
  EXPECT_NE(Kernel(guard).config_digest(), base.config_digest());
  KernelConfig scaled = full_config();
  scaled.bands.volatility_reference = Ratio::from_ppm(40'000);
  scaled.bands.maximum_band_scale = 2;
  EXPECT_NE(Kernel(scaled).config_digest(), base.config_digest());
}

TEST(KernelSnapshot, restores_across_a_changed_first_client_order_id_and_keeps_the_snapshot_ids) {
  const Kernel source = busy_kernel(full_config(), 42, 3'000);
  KernelConfig ids = full_config();
  ids.first_client_order_id = 1'000'000;
  Kernel target(ids);
  ASSERT_TRUE(target.restore_snapshot(snapshot_of(source)));
  EXPECT_EQ(target.full_state_digest(), source.full_state_digest());
}

TEST(KernelSnapshot, every_truncation_and_every_extension_is_refused) {
  const Kernel source = busy_kernel(small_config(), 42, 2'000);
  const std::vector<std::uint8_t> bytes = snapshot_of(source);
  Kernel target = busy_kernel(small_config(), 3, 700);
  const std::uint64_t before = target.full_state_digest();
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    ASSERT_FALSE(target.restore_snapshot(std::span(bytes).first(length))) << "length " << length;
  }
  std::vector<std::uint8_t> longer = bytes;
  for (int extra = 0; extra < 16; ++extra) {
    longer.push_back(0);
    ASSERT_FALSE(target.restore_snapshot(longer)) << "extra " << extra + 1;
  }
  EXPECT_EQ(target.full_state_digest(), before);
  EXPECT_TRUE(target.restore_snapshot(bytes)); // the target was able to accept all along
}

TEST(KernelSnapshot, every_damaged_byte_is_refused_and_leaves_the_kernel_unchanged) {
  const Kernel source = busy_kernel(small_config(), 42, 2'000);
  const std::vector<std::uint8_t> bytes = snapshot_of(source);
  Kernel target = busy_kernel(small_config(), 3, 700);
  const std::uint64_t before = target.full_state_digest();
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (const std::uint8_t mask : {0x01, 0x80, 0xff}) {
      std::vector<std::uint8_t> damaged = bytes;
      damaged[i] ^= mask;
      ASSERT_FALSE(target.restore_snapshot(damaged)) << "byte " << i << " mask " << int{mask};
    }
  }
  EXPECT_EQ(target.full_state_digest(), before);
}

} // namespace
} // namespace synthusd::hedging
