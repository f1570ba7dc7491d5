// The backing ledger: every figure computed by hand in the comments (1e14 =
// sats per BTC * Price::kScale / cents per dollar: sats = cents * 1e14 /
// price.raw), snapshot + tail == uninterrupted, no allocation, no wrapping.

#include "synthusd/hedging/backing_ledger.hpp"

#include <gtest/gtest.h>

#include <array>
#include <limits>
#include <ostream>
#include <vector>

#include "event_driver.hpp"
#include "kernel_fixture.hpp"
#include "support/allocation_counter.hpp"

namespace synthusd::hedging {

// Readable failures for figure comparisons (found by ADL).
void PrintTo(const LedgerFigures& f, std::ostream* os) {
  *os << "{index " << f.index.raw << ", liability " << f.liability.value << ", backing " << f.backing.value
      << ", unpriced " << f.unpriced.value << ", hedge_pnl " << f.hedge_pnl.value << ", fees " << f.fees.value
      << ", funding " << f.funding.value << ", held_value " << f.held_value.value << ", backing_value "
      << f.backing_value.value << ", hedge_ratio " << f.hedge_ratio.raw << ", within_band " << f.within_band
      << ", max_deviation " << f.max_deviation.raw << ", liability_events " << f.liability_events << ", fills "
      << f.fills << ", filled_contracts " << f.filled_contracts << ", unbooked_fills " << f.unbooked_fills
      << ", fills_priced_at_mark " << f.fills_priced_at_mark << ", overflowed " << f.overflowed << "}";
}

namespace {

using namespace synthusd::hedging::testing;

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kHour = 3'600; // seconds

// A kernel and its ledger, driven the way the engine drives them: the ledger
// sees each event before the kernel, and samples the band after each Timer.
struct Rig {
  explicit Rig(KernelConfig config) : kernel(std::move(config)), ledger(kernel.slots().size()) {}

  std::span<const Action> on(const Event& event) {
    ledger.on(event, kernel);
    const std::span<const Action> actions = kernel.on(event);
    if (std::holds_alternative<Timer>(event)) {
      ledger.sample(kernel);
    }
    return actions;
  }
  [[nodiscard]] LedgerFigures figures() const { return ledger.figures(kernel); }

  Kernel kernel;
  BackingLedger ledger;
};

// single_venue_config ($100 inverse perpetual, taker fee 0.05 %) with the
// band's safe zone pinned at 1.00, so the kernel shorts exactly the liability.
KernelConfig full_hedge_config() {
  KernelConfig config = single_venue_config();
  config.bands.low_safe_bound = Ratio::one();
  config.bands.high_safe_bound = Ratio::one();
  return config;
}

// $1 contracts on a venue that stays down: the kernel sends no orders, so
// positions come from PositionSnapshots and the hedge ratio is exactly
// -position / liability dollars.
KernelConfig one_dollar_contract_config() {
  KernelConfig config = single_venue_config();
  config.instruments[0].contract_value = UsdCents{100};
  return config;
}

LiabilityChange change(std::int64_t cents, std::int64_t sats, Price price, Timestamp time = kStart) {
  return LiabilityChange{0, UsdCents{cents}, Sats{sats}, price, time};
}

MarketUpdate no_funding_market(std::int64_t dollars, Timestamp time = kStart) {
  return market(1, 1, dollars, time, Ratio{0});
}

// Venue 1 up, mark and index $50,000, no funding.
void bring_up(Rig& rig) {
  (void)rig.on(VenueStatus{1, true, kStart});
  (void)rig.on(no_funding_market(50'000));
}

// $40,000.01
constexpr Price kOddPrice{4'000'001'000'000};
// $49,999.99
constexpr Price kFillPrice{4'999'999'000'000};

TEST(BackingLedger, credit_in_sats_adds_backing) {
  Rig rig(single_venue_config());
  // The source said 4,210 sats: they are the backing, whatever the applied
  // price would give ($25.00 at $50,000 would be 5,000 sats).
  (void)rig.on(change(2'500, 4'210, Price::from_dollars(50'000)));
  LedgerFigures f = rig.figures();
  EXPECT_EQ(f.liability, UsdCents{2'500});
  EXPECT_EQ(f.liability, rig.kernel.liability());
  EXPECT_EQ(f.backing, Sats{4'210});
  EXPECT_EQ(f.unpriced, UsdCents{0});
  EXPECT_EQ(f.liability_events, 1u);
  EXPECT_EQ(f.backing_value, UsdCents{0}); // no index price yet: nothing is valued
  EXPECT_FALSE(f.index.is_valid());

  (void)rig.on(no_funding_market(50'000));
  f = rig.figures();
  EXPECT_EQ(f.index, Price::from_dollars(50'000));
  // 4,210 * 5e12 / 1e14 = 210.5 cents, rounded down
  EXPECT_EQ(f.backing_value, UsdCents{210});
  EXPECT_EQ(f.held_value, UsdCents{210});
}

TEST(BackingLedger, dollar_only_credit_waits_for_first_index_price) {
  Rig rig(single_venue_config());
  (void)rig.on(change(2'500, 0, Price{}));
  LedgerFigures f = rig.figures();
  EXPECT_EQ(f.backing, Sats{0});
  EXPECT_EQ(f.unpriced, UsdCents{2'500});
  EXPECT_EQ(f.liability, UsdCents{2'500});

  // The first index price: $40,000.01 (the mark, $40,000, is not used).
  (void)rig.on(market(1, 1, 40'000, kStart, Ratio{0}, kOddPrice));
  f = rig.figures();
  EXPECT_EQ(f.index, kOddPrice);
  // 2,500 * 1e14 / 4,000,001,000,000 = 62,499.98 sats, rounded down
  EXPECT_EQ(f.backing, Sats{62'499});
  EXPECT_EQ(f.unpriced, UsdCents{0});

  // Once a price is known, dollars convert at once: 1,000 * 1e14 /
  // 4,000,001,000,000 = 24,999.99 -> 24,999.
  (void)rig.on(change(1'000, 0, Price{}));
  EXPECT_EQ(rig.figures().backing, Sats{62'499 + 24'999});
}

TEST(BackingLedger, market_update_the_kernel_refuses_neither_prices_nor_converts) {
  Rig rig(single_venue_config());
  (void)rig.on(change(2'500, 0, Price{}));
  (void)rig.on(market(1, 9, 40'000, kStart)); // no instrument 9
  MarketUpdate crossed = market(1, 1, 40'000, kStart);
  crossed.bid = Price::from_dollars(40'002); // bid above ask: corrupt, the kernel refuses it
  (void)rig.on(crossed);
  const LedgerFigures f = rig.figures();
  EXPECT_FALSE(f.index.is_valid());
  EXPECT_EQ(f.unpriced, UsdCents{2'500});
  EXPECT_EQ(f.backing, Sats{0});
}

TEST(BackingLedger, debit_removes_backing) {
  Rig rig(single_venue_config());
  (void)rig.on(change(50'000, 1'250'000, Price::from_dollars(40'000))); // $500 = 0.0125 BTC
  (void)rig.on(change(-1'000, 25'000, Price::from_dollars(40'000)));    // sats are a magnitude: out on a debit
  EXPECT_EQ(rig.figures().backing, Sats{1'225'000});
  // Dollars at the applied price: -2,500 * 1e14 / 4,000,001,000,000 =
  // -62,499.98, rounded down to -62,500 (a debit removes the more; the old
  // truncation removed 62,499).
  (void)rig.on(change(-2'500, 0, kOddPrice));
  const LedgerFigures f = rig.figures();
  EXPECT_EQ(f.backing, Sats{1'225'000 - 62'500});
  EXPECT_EQ(f.liability, UsdCents{50'000 - 1'000 - 2'500});
  EXPECT_EQ(f.liability, rig.kernel.liability());
  EXPECT_EQ(f.liability_events, 3u);
}

TEST(BackingLedger, short_fill_books_cash_and_value_and_fee_rounded_up) {
  Rig rig(full_hedge_config());
  bring_up(rig); // venue up, mark and index $50,000
  const std::vector<OrderIntent> orders = orders_in(rig.on(change(100'000, 0, Price{}))); // $1,000
  ASSERT_EQ(orders.size(), 1u);
  ASSERT_EQ(signed_quantity(orders[0]), -10); // 10 x $100

  (void)rig.on(ExecutionReport{orders[0].client_order_id, OrderStatus::filled, Contracts{10}, kFillPrice, kStart});
  LedgerFigures f = rig.figures();
  EXPECT_EQ(f.fills, 1u);
  EXPECT_EQ(f.filled_contracts, 10u);
  EXPECT_EQ(f.unbooked_fills, 0u);
  // notional: 100,000 cents * 1e14 / 4,999,999,000,000 = 2,000,000.4 sats,
  // up to 2,000,001; fee 0.05 %: 2,000,001 * 50,000 / 1e8 = 1,000.0005, up
  // to 1,001 (the old truncating code said 1,000).
  EXPECT_EQ(f.fees, Sats{1'001});
  // cash: -100,000 cents at the fill = -2,000,000.4, down to -2,000,001;
  // value: -100,000 cents at the $50,000 index = -2,000,000 sats (exact);
  // P&L = -2,000,001 - (-2,000,000) = -1.
  EXPECT_EQ(f.hedge_pnl, Sats{-1});
  // backing 100,000 * 1e14 / 5e12 = 2,000,000; held = 2,000,000 - 1 - 1,001
  // = 1,998,998 sats = 99,949.9 cents, down to 99,949.
  EXPECT_EQ(f.backing, Sats{2'000'000});
  EXPECT_EQ(f.held_value, UsdCents{99'949});

  // The same books at a $25,000 index: value -100,000 * 1e14 / 2.5e12 =
  // -4,000,000, so P&L = -2,000,001 + 4,000,000 = 1,999,999.
  (void)rig.on(no_funding_market(25'000));
  f = rig.figures();
  EXPECT_EQ(f.hedge_pnl, Sats{1'999'999});
  // a second book of the same fill would show here: it must not exist
  EXPECT_EQ(f.fees, Sats{1'001});
}

TEST(BackingLedger, linear_fill_books_size_and_usd_cost) {
  KernelConfig config = full_hedge_config();
  InstrumentSpec& linear = config.instruments[0];
  linear.kind = InstrumentKind::linear_perpetual;
  linear.contract_size = Sats{1'000'000}; // 0.01 BTC
  Rig rig(config);
  bring_up(rig);
  const std::vector<OrderIntent> orders = orders_in(rig.on(change(100'000, 0, Price{}))); // $1,000
  ASSERT_EQ(orders.size(), 1u);
  ASSERT_EQ(signed_quantity(orders[0]), -2); // $1,000 / $50,000 / 0.01 BTC

  (void)rig.on(ExecutionReport{orders[0].client_order_id, OrderStatus::filled, Contracts{2}, kFillPrice, kStart});
  LedgerFigures f = rig.figures();
  // size -2,000,000 sats; USD: -2,000,000 * 4,999,999,000,000 / 1e14 =
  // -99,999.98 cents, up to -99,999 (a sale's proceeds round down).
  // fee: 2,000,000 * 50,000 / 1e8 = 1,000 exactly.
  EXPECT_EQ(f.fees, Sats{1'000});
  // P&L at $50,000: -2,000,000 - ceil(-99,999 * 1e14 / 5e12 = -1,999,980) = -20
  EXPECT_EQ(f.hedge_pnl, Sats{-20});
  (void)rig.on(no_funding_market(25'000));
  // at $25,000: -2,000,000 - (-99,999 * 1e14 / 2.5e12 = -3,999,960) = 1,999,960
  EXPECT_EQ(rig.figures().hedge_pnl, Sats{1'999'960});
}

TEST(BackingLedger, hedge_pnl_offsets_backing_loss_when_price_falls) {
  KernelConfig config = full_hedge_config();
  config.instruments[0].taker_fee = Ratio{0};
  Rig rig(config);
  bring_up(rig);
  // $1,000 in, 2,000,000 sats taken in for it
  const std::vector<OrderIntent> orders = orders_in(rig.on(change(100'000, 2'000'000, Price::from_dollars(50'000))));
  ASSERT_EQ(orders.size(), 1u);
  ASSERT_EQ(signed_quantity(orders[0]), -10);
  (void)rig.on(ExecutionReport{orders[0].client_order_id, OrderStatus::filled, Contracts{10},
                               Price::from_dollars(50'000), kStart});

  for (const Price index : {Price::from_dollars(50'000), Price{4'567'891'234'567}, Price{3'712'345'678'901},
                            Price{3'141'592'653'589}, Price{2'500'000'000'001}, Price::from_dollars(25'000)}) {
    MarketUpdate update = no_funding_market(50'000);
    update.mark = update.index = index;
    update.bid = update.ask = Price{};
    (void)rig.on(update);
    const LedgerFigures f = rig.figures();
    SCOPED_TRACE(index.raw);
    EXPECT_EQ(f.index, index);
    // Customers' dollars are whole to the cent, never more (held rounds down):
    // held = floor(1e19 / raw) sats, worth at least 100,000 - raw / 1e14 cents.
    EXPECT_LE(f.held_value.value, 100'000);
    EXPECT_GE(f.held_value.value, 100'000 - 1);
  }
  const LedgerFigures f = rig.figures();
  // At $25,000 the backing alone is worth half; the short's 2,000,000 sats
  // of P&L make up the rest exactly.
  EXPECT_EQ(f.backing_value, UsdCents{50'000});
  EXPECT_EQ(f.hedge_pnl, Sats{2'000'000});
  EXPECT_EQ(f.held_value, UsdCents{100'000});
}

TEST(BackingLedger, funding_received_by_a_short_at_positive_rate_pro_rata) {
  Rig rig(single_venue_config()); // venue down: no orders
  // 10 x $100 short at a $50,000 mark: 0.02 BTC = 2,000,000 sats; 0.01 %
  // per 8 h interval: 200 sats per interval, received by the short.
  (void)rig.on(market(1, 1, 50'000, kStart, Ratio{10'000}));
  (void)rig.on(PositionSnapshot{1, 1, Contracts{-10}, kStart});
  EXPECT_EQ(rig.figures().funding, Sats{0});

  (void)rig.on(Timer{at_seconds(3'601)});
  // 200 * 3,601 / 28,800 = 25.007 sats, down to 25
  EXPECT_EQ(rig.figures().funding, Sats{25});
  (void)rig.on(Timer{at_seconds(8 * kHour)});
  // The two steps add up exactly (time is kept exact per slot): 200.
  EXPECT_EQ(rig.figures().funding, Sats{200});

  // Now long 10: the long pays. One second later 200 - 0.0069 = 199.993,
  // down to 199 (paid rounds up).
  (void)rig.on(PositionSnapshot{1, 1, Contracts{10}, at_seconds(8 * kHour)});
  (void)rig.on(Timer{at_seconds(8 * kHour + 1)});
  EXPECT_EQ(rig.figures().funding, Sats{199});
  // A whole interval long pays back the 200.
  (void)rig.on(Timer{at_seconds(16 * kHour)});
  EXPECT_EQ(rig.figures().funding, Sats{0});
}

TEST(BackingLedger, funding_accrues_on_the_state_before_the_event) {
  Rig rig(single_venue_config());
  (void)rig.on(market(1, 1, 50'000, kStart, Ratio{10'000}));
  (void)rig.on(PositionSnapshot{1, 1, Contracts{-10}, kStart});
  // The position closes 8 h later: the 8 h before it were short, so 200 sats.
  (void)rig.on(PositionSnapshot{1, 1, Contracts{0}, at_seconds(8 * kHour)});
  EXPECT_EQ(rig.figures().funding, Sats{200});
  (void)rig.on(Timer{at_seconds(16 * kHour)});
  EXPECT_EQ(rig.figures().funding, Sats{200});
  // Time never runs backwards: an old event accrues nothing.
  (void)rig.on(PositionSnapshot{1, 1, Contracts{-10}, at_seconds(16 * kHour)});
  (void)rig.on(Timer{at_seconds(3600)});
  EXPECT_EQ(rig.figures().funding, Sats{200});
}

TEST(BackingLedger, max_deviation_counts_every_sample_of_an_excursion) {
  Rig rig(one_dollar_contract_config());
  (void)rig.on(change(10'000, 0, Price{})); // $100 of liability, above the $50 minimum
  std::int64_t second = 0;
  const auto sample_at = [&](std::int64_t position) {
    (void)rig.on(PositionSnapshot{1, 1, Contracts{position}, at_seconds(++second)});
    (void)rig.on(Timer{at_seconds(++second)});
    return rig.figures();
  };
  // Before hedging is established, the build-up is no deviation.
  LedgerFigures f = sample_at(-150);
  EXPECT_EQ(f.hedge_ratio, Ratio{150'000'000});
  EXPECT_FALSE(f.within_band);
  EXPECT_EQ(f.max_deviation, Ratio{0});
  f = sample_at(-100); // 1.00: established
  EXPECT_TRUE(f.within_band);
  EXPECT_EQ(f.max_deviation, Ratio{0});
  // An excursion of three samples: 4 %, 7 %, 6 % (the band ends at 3 %).
  f = sample_at(-104);
  EXPECT_FALSE(f.within_band);
  EXPECT_EQ(f.max_deviation, Ratio{4'000'000});
  f = sample_at(-107);
  EXPECT_EQ(f.hedge_ratio, Ratio{107'000'000});
  // The old rule counted only an excursion's first sample: it said 4 %.
  EXPECT_EQ(f.max_deviation, Ratio{7'000'000});
  f = sample_at(-106);
  EXPECT_EQ(f.max_deviation, Ratio{7'000'000});
  f = sample_at(-100);
  EXPECT_TRUE(f.within_band);
  EXPECT_EQ(f.max_deviation, Ratio{7'000'000});
  // Below the minimum liability ($40 < $50) there is nothing to hold in band:
  // within_band, and not a sample, however far the ratio (25 %).
  (void)rig.on(change(-6'000, 0, Price{}));
  f = sample_at(-10);
  EXPECT_TRUE(f.within_band);
  EXPECT_EQ(f.hedge_ratio, Ratio{25'000'000});
  EXPECT_EQ(f.max_deviation, Ratio{7'000'000});
}

TEST(BackingLedger, a_restored_ledger_keeps_counting_an_established_hedge) {
  Rig rig(one_dollar_contract_config());
  (void)rig.on(change(10'000, 0, Price{}));
  (void)rig.on(PositionSnapshot{1, 1, Contracts{-100}, at_seconds(1)});
  (void)rig.on(Timer{at_seconds(2)}); // 1.00: established
  std::vector<std::uint8_t> kernel_bytes;
  std::vector<std::uint8_t> ledger_bytes;
  rig.kernel.write_snapshot(kernel_bytes);
  rig.ledger.write_snapshot(ledger_bytes);

  Rig restored(one_dollar_contract_config());
  ASSERT_TRUE(restored.kernel.restore_snapshot(kernel_bytes));
  ASSERT_TRUE(restored.ledger.restore_snapshot(ledger_bytes));
  // An excursion right after the restart still counts: 1.05 -> 5 %.
  (void)restored.on(PositionSnapshot{1, 1, Contracts{-105}, at_seconds(3)});
  (void)restored.on(Timer{at_seconds(4)});
  EXPECT_EQ(restored.figures().max_deviation, Ratio{5'000'000});
}

TEST(BackingLedger, unknown_order_fill_is_counted_not_booked) {
  Rig rig(full_hedge_config());
  bring_up(rig);
  const std::vector<OrderIntent> orders = orders_in(rig.on(change(100'000, 0, Price{})));
  ASSERT_EQ(orders.size(), 1u);
  // An id the kernel never issued.
  (void)rig.on(ExecutionReport{orders[0].client_order_id + 77, OrderStatus::filled, Contracts{5},
                               Price::from_dollars(50'000), kStart});
  LedgerFigures f = rig.figures();
  EXPECT_EQ(f.unbooked_fills, 1u);
  EXPECT_EQ(f.fills, 0u);
  EXPECT_EQ(f.fees, Sats{0});
  EXPECT_EQ(f.hedge_pnl, Sats{0});

  // The real fill, then the same report again (the order is closed by then).
  const ExecutionReport fill{orders[0].client_order_id, OrderStatus::filled, Contracts{10}, Price::from_dollars(50'000),
                             kStart};
  (void)rig.on(fill);
  (void)rig.on(fill);
  f = rig.figures();
  EXPECT_EQ(f.fills, 1u);
  EXPECT_EQ(f.filled_contracts, 10u);
  EXPECT_EQ(f.unbooked_fills, 2u);
  // one fee: 2,000,000 sats * 0.05 % = 1,000
  EXPECT_EQ(f.fees, Sats{1'000});
  EXPECT_EQ(rig.kernel.slot(1)->position, Contracts{-10});
}

TEST(BackingLedger, only_what_the_kernel_books_as_a_fill_is_booked) {
  Rig rig(full_hedge_config());
  bring_up(rig);
  const std::vector<OrderIntent> orders = orders_in(rig.on(change(100'000, 0, Price{})));
  ASSERT_EQ(orders.size(), 1u);
  // A cancel that (wrongly) carries a quantity: the kernel moves no position,
  // so the ledger books nothing either.
  (void)rig.on(ExecutionReport{orders[0].client_order_id, OrderStatus::canceled, Contracts{4},
                               Price::from_dollars(50'000), kStart});
  const LedgerFigures f = rig.figures();
  EXPECT_EQ(rig.kernel.slot(1)->position, Contracts{0});
  EXPECT_EQ(f.fills, 0u);
  EXPECT_EQ(f.unbooked_fills, 0u);
  EXPECT_EQ(f.fees, Sats{0});
  EXPECT_EQ(f.hedge_pnl, Sats{0});
}

TEST(BackingLedger, a_fill_without_a_price_is_booked_at_the_mark) {
  Rig rig(full_hedge_config());
  bring_up(rig);
  const std::vector<OrderIntent> orders = orders_in(rig.on(change(100'000, 0, Price{})));
  ASSERT_EQ(orders.size(), 1u);
  (void)rig.on(ExecutionReport{orders[0].client_order_id, OrderStatus::filled, Contracts{10}, Price{}, kStart});
  const LedgerFigures f = rig.figures();
  EXPECT_EQ(f.fills, 1u);
  EXPECT_EQ(f.fills_priced_at_mark, 1u);
  // at the $50,000 mark: cash -2,000,000 sats, value -2,000,000 at the
  // index: no P&L; fee 2,000,000 * 0.05 % = 1,000
  EXPECT_EQ(f.hedge_pnl, Sats{0});
  EXPECT_EQ(f.fees, Sats{1'000});
}

TEST(BackingLedger, overflow_is_flagged_not_wrapped) {
  Rig rig(single_venue_config());
  // INT64_MAX cents at $50,000 is 1.8e20 sats: more than int64 holds. The
  // ledger saturates and says so; it never wraps to some other number.
  const LiabilityChange absurd = change(kInt64Max, 0, Price::from_dollars(50'000));
  rig.ledger.on(absurd, rig.kernel); // the ledger only: the kernel's own sum is not checked
  EXPECT_TRUE(rig.ledger.overflowed());
  EXPECT_EQ(rig.ledger.overflows(), 1u);
  LedgerFigures f = rig.figures();
  EXPECT_TRUE(f.overflowed);
  EXPECT_EQ(f.backing, Sats{kInt64Max});
  EXPECT_EQ(f.liability, UsdCents{kInt64Max});
  // Twice: the liability sum saturates instead of turning negative.
  rig.ledger.on(absurd, rig.kernel);
  f = rig.figures();
  EXPECT_EQ(f.liability, UsdCents{kInt64Max});
  EXPECT_EQ(f.backing, Sats{kInt64Max});
  EXPECT_EQ(rig.ledger.overflows(), 2u);
}

TEST(BackingLedger, in_range_figures_are_not_flagged) {
  Rig rig(single_venue_config());
  (void)rig.on(change(kInt64Max / 1'000'000'000, 0, Price::from_dollars(50'000))); // $92 million: fits
  EXPECT_FALSE(rig.ledger.overflowed());
  EXPECT_FALSE(rig.figures().overflowed);
}

// ---- determinism, snapshots, allocation ---------------------------------------

constexpr std::size_t kEvents = 2'000;
constexpr std::array<std::size_t, 5> kSnapshotAt = {0, 1, 137, 1'000, kEvents - 1};

struct Recording {
  std::vector<Event> events;
  // kernel and ledger snapshots taken before event kSnapshotAt[j]
  std::array<std::vector<std::uint8_t>, kSnapshotAt.size()> kernel_snapshots;
  std::array<std::vector<std::uint8_t>, kSnapshotAt.size()> ledger_snapshots;
  LedgerFigures figures;
  std::uint64_t ledger_digest = 0;
  std::uint64_t kernel_digest = 0;
};

Recording record(std::uint64_t seed) {
  Rig rig(full_config());
  EventDriver driver(seed);
  Recording out;
  std::span<const Action> actions;
  for (std::size_t i = 0; i < kEvents; ++i) {
    for (std::size_t j = 0; j < kSnapshotAt.size(); ++j) {
      if (kSnapshotAt[j] == i) {
        rig.kernel.write_snapshot(out.kernel_snapshots[j]);
        rig.ledger.write_snapshot(out.ledger_snapshots[j]);
      }
    }
    const Event event = driver.next(actions);
    out.events.push_back(event);
    actions = rig.on(event);
    EXPECT_EQ(rig.figures().liability, rig.kernel.liability()) << "event " << i;
  }
  out.figures = rig.figures();
  out.ledger_digest = rig.ledger.state_digest();
  out.kernel_digest = rig.kernel.full_state_digest();
  return out;
}

TEST(BackingLedger, snapshot_then_tail_equals_uninterrupted_run) {
  const Recording run = record(7);
  // The run exercises what the ledger books.
  EXPECT_GT(run.figures.fills, 100u);
  EXPECT_GT(run.figures.liability_events, 300u);
  EXPECT_NE(run.figures.funding, Sats{0});
  EXPECT_NE(run.figures.hedge_pnl, Sats{0});
  EXPECT_GT(run.figures.fees, Sats{0});
  EXPECT_GT(run.figures.max_deviation, Ratio{0});
  EXPECT_FALSE(run.figures.overflowed);

  for (std::size_t j = 0; j < kSnapshotAt.size(); ++j) {
    const std::size_t k = kSnapshotAt[j];
    SCOPED_TRACE(k);
    Rig restored(full_config());
    ASSERT_TRUE(restored.kernel.restore_snapshot(run.kernel_snapshots[j]));
    ASSERT_TRUE(restored.ledger.restore_snapshot(run.ledger_snapshots[j]));
    for (std::size_t i = k; i < kEvents; ++i) {
      (void)restored.on(run.events[i]);
    }
    EXPECT_EQ(restored.figures(), run.figures);
    EXPECT_EQ(restored.ledger.state_digest(), run.ledger_digest);
    EXPECT_EQ(restored.kernel.full_state_digest(), run.kernel_digest);
  }
  // A ledger that missed the head (a fresh one, as the old per-process
  // counters were after a restart) ends elsewhere.
  Rig fresh(full_config());
  ASSERT_TRUE(fresh.kernel.restore_snapshot(run.kernel_snapshots[3]));
  for (std::size_t i = kSnapshotAt[3]; i < kEvents; ++i) {
    (void)fresh.on(run.events[i]);
  }
  EXPECT_NE(fresh.figures(), run.figures);
  EXPECT_NE(fresh.ledger.state_digest(), run.ledger_digest);
}

TEST(BackingLedger, restore_refuses_damaged_or_foreign_bytes_and_keeps_its_state) {
  Rig rig(full_config());
  EventDriver driver(11);
  std::span<const Action> actions;
  for (std::size_t i = 0; i < 500; ++i) {
    actions = rig.on(driver.next(actions));
  }
  std::vector<std::uint8_t> bytes;
  rig.ledger.write_snapshot(bytes);
  const std::uint64_t digest = rig.ledger.state_digest();

  BackingLedger other(rig.kernel.slots().size());
  const std::uint64_t empty_digest = other.state_digest();
  ASSERT_NE(digest, empty_digest);
  for (std::size_t byte = 0; byte < bytes.size(); byte += 13) {
    std::vector<std::uint8_t> damaged = bytes;
    damaged[byte] ^= 0x40;
    EXPECT_FALSE(other.restore_snapshot(damaged)) << "byte " << byte;
  }
  EXPECT_FALSE(other.restore_snapshot(std::span(bytes).first(bytes.size() - 8)));
  BackingLedger wider(rig.kernel.slots().size() + 1);
  EXPECT_FALSE(wider.restore_snapshot(bytes));
  EXPECT_EQ(other.state_digest(), empty_digest);

  ASSERT_TRUE(other.restore_snapshot(bytes));
  EXPECT_EQ(other.state_digest(), digest);
  EXPECT_EQ(other.figures(rig.kernel), rig.ledger.figures(rig.kernel));
}

TEST(BackingLedger, on_never_allocates) {
  Rig rig(full_config());
  EventDriver driver(3);
  std::span<const Action> actions;
  std::int64_t allocations = 0;
  std::uint64_t fills_seen = 0;
  for (std::size_t i = 0; i < 20'000; ++i) {
    const Event event = driver.next(actions);
    const std::int64_t before = test_support::allocation_count();
    rig.ledger.on(event, rig.kernel);
    allocations += test_support::allocation_count() - before;
    actions = rig.kernel.on(event);
    const std::int64_t after_kernel = test_support::allocation_count();
    rig.ledger.sample(rig.kernel);
    fills_seen = rig.ledger.figures(rig.kernel).fills;
    allocations += test_support::allocation_count() - after_kernel;
  }
  EXPECT_GT(fills_seen, 0u);
  EXPECT_EQ(allocations, 0);
}

} // namespace
} // namespace synthusd::hedging
