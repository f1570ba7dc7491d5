// LiabilityAdmission's bounds: what no source can get journaled
// (liability_sink.hpp).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "synthusd/liabilities/liability_sink.hpp"

namespace synthusd::liabilities {
namespace {

constexpr std::int64_t kNowMs = 1'700'000'000'000; // the engine's clock in these tests

// Takes everything, keeps it, makes it durable at once.
class TakingSink final : public LiabilitySink {
public:
  std::vector<hedging::LiabilityChange> taken;
  std::vector<std::string> taken_ids;
  hedging::Price price = hedging::Price::from_dollars(50'000);
  std::uint64_t submit(const hedging::LiabilityChange& event, std::string_view id) noexcept override {
    taken.push_back(event);
    taken_ids.emplace_back(id);
    return taken.size();
  }
  std::uint64_t make_durable() override { return taken.size(); }
  [[nodiscard]] hedging::Price index_price() const noexcept override { return price; }
};

LiabilityRequest dollars(const char* id, std::int64_t cents, bool credit = true, std::int64_t ts = kNowMs) {
  LiabilityRequest request;
  request.id = id;
  request.credit = credit;
  request.usd_cents = cents;
  request.ts_ms = ts;
  return request;
}

struct Fixture {
  TakingSink sink;
  LiabilityAdmission admission{sink, hedging::Ratio{}, AdmissionLimits{}, [] { return kNowMs; }};
};

TEST(LiabilityAdmission, an_amount_above_the_per_payment_limit_is_refused_and_never_journaled) {
  Fixture f;
  const Admission huge = f.admission.admit(dollars("max", std::numeric_limits<std::int64_t>::max()));
  EXPECT_EQ(huge.outcome, Admission::Outcome::rejected);
  EXPECT_STREQ(huge.reason, "usd_cents above the per-payment limit");
  LiabilityRequest sats = dollars("sats", 0);
  sats.usd_cents.reset();
  sats.sats = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(f.admission.admit(sats).outcome, Admission::Outcome::rejected);
  EXPECT_TRUE(f.sink.taken.empty());
  EXPECT_EQ(f.admission.counters().rejected, 2u);
  // At the limit it is taken.
  EXPECT_EQ(f.admission.admit(dollars("at", AdmissionLimits{}.max_event_usd_cents)).outcome,
            Admission::Outcome::accepted);
}

TEST(LiabilityAdmission, a_timestamp_beyond_the_window_ahead_of_the_engines_clock_is_refused) {
  Fixture f;
  const Admission future = f.admission.admit(dollars("f", 100, true, 9'000'000'000'000));
  EXPECT_EQ(future.outcome, Admission::Outcome::rejected);
  EXPECT_STREQ(future.reason, "ts is ahead of the engine's clock by more than the allowed window");
  EXPECT_EQ(f.admission.admit(dollars("edge", 100, true, kNowMs + AdmissionLimits{}.max_future_ms)).outcome,
            Admission::Outcome::accepted);
  EXPECT_EQ(f.admission.admit(dollars("late", 100, true, kNowMs + AdmissionLimits{}.max_future_ms + 1)).outcome,
            Admission::Outcome::rejected);
  ASSERT_EQ(f.sink.taken.size(), 1u);
  EXPECT_EQ(f.sink.taken[0].time.nanoseconds, (kNowMs + AdmissionLimits{}.max_future_ms) * 1'000'000);
}

TEST(LiabilityAdmission, a_live_timestamp_more_than_ten_minutes_behind_the_engines_clock_is_refused) {
  Fixture f;
  const std::int64_t window = AdmissionLimits{}.max_past_ms;
  EXPECT_EQ(window, 600'000);
  EXPECT_EQ(f.admission.admit(dollars("edge", 100, true, kNowMs - window)).outcome, Admission::Outcome::accepted);
  const Admission old = f.admission.admit(dollars("old", 100, true, kNowMs - window - 1));
  EXPECT_EQ(old.outcome, Admission::Outcome::rejected);
  EXPECT_STREQ(old.reason, "ts is behind the engine's clock by more than the allowed window (a replay of history says "
                           "\"backfill\":true)");
  EXPECT_EQ(f.admission.admit(dollars("epoch", 100, true, 0)).outcome, Admission::Outcome::rejected);
  ASSERT_EQ(f.sink.taken.size(), 1u);
  EXPECT_EQ(f.admission.counters().rejected, 2u);
}

TEST(LiabilityAdmission, backfill_keeps_an_old_ts_for_the_record_within_the_backfill_window) {
  Fixture f;
  LiabilityRequest history = dollars("history", 100, true, kNowMs - 86'400'000); // a day old
  history.backfill = true;
  EXPECT_EQ(f.admission.admit(history).outcome, Admission::Outcome::accepted);
  ASSERT_EQ(f.sink.taken.size(), 1u);
  EXPECT_EQ(f.sink.taken[0].time.nanoseconds, (kNowMs - 86'400'000) * 1'000'000); // its own time, journaled
  LiabilityRequest ancient = dollars("ancient", 100, true, kNowMs - AdmissionLimits{}.max_backfill_ms - 1);
  ancient.backfill = true;
  const Admission refused = f.admission.admit(ancient);
  EXPECT_EQ(refused.outcome, Admission::Outcome::rejected);
  EXPECT_STREQ(refused.reason, "backfill ts is older than the backfill window");
  // Not in the future either.
  LiabilityRequest ahead = dollars("ahead", 100, true, kNowMs + AdmissionLimits{}.max_future_ms + 1);
  ahead.backfill = true;
  EXPECT_EQ(f.admission.admit(ahead).outcome, Admission::Outcome::rejected);
  EXPECT_EQ(f.sink.taken.size(), 1u);
}

TEST(LiabilityAdmission, the_live_window_of_an_event_from_a_durable_log_is_measured_from_when_it_was_logged) {
  Fixture f;
  // Stored in the stream an hour ago, while the engine was down, 2 minutes
  // after its payment: admitted.
  LiabilityRequest waited = dollars("waited", 100, true, kNowMs - 3'720'000);
  waited.logged_ms = kNowMs - 3'600'000;
  EXPECT_EQ(f.admission.admit(waited).outcome, Admission::Outcome::accepted);
  // Stored an hour ago, 11 minutes after the payment: the source's clock or
  // unit was wrong then.
  LiabilityRequest stale = dollars("stale", 100, true, kNowMs - 4'260'000);
  stale.logged_ms = kNowMs - 3'600'000;
  EXPECT_EQ(f.admission.admit(stale).outcome, Admission::Outcome::rejected);
  // Claiming to have happened 11 minutes after it was stored: refused too.
  LiabilityRequest early = dollars("early", 100, true, kNowMs - 2'940'000);
  early.logged_ms = kNowMs - 3'600'000;
  EXPECT_EQ(f.admission.admit(early).outcome, Admission::Outcome::rejected);
  // A log time in the future counts as now.
  LiabilityRequest future_log = dollars("future-log", 100, true, kNowMs - 660'000);
  future_log.logged_ms = kNowMs + 3'600'000;
  EXPECT_EQ(f.admission.admit(future_log).outcome, Admission::Outcome::rejected);
  EXPECT_EQ(f.sink.taken.size(), 1u);
}

TEST(LiabilityAdmission, sats_without_a_valid_index_price_are_held_not_refused_and_not_converted) {
  Fixture f;
  f.sink.price = hedging::Price{}; // the price oracle has no valid index
  LiabilityRequest sats = dollars("s-1", 0);
  sats.usd_cents.reset();
  sats.sats = 10'000;
  const Admission held = f.admission.admit(sats);
  EXPECT_EQ(held.outcome, Admission::Outcome::unpriced);
  EXPECT_STREQ(held.reason, "no valid index price to convert sats");
  EXPECT_TRUE(f.sink.taken.empty());
  EXPECT_EQ(f.admission.counters().unpriced, 1u);
  EXPECT_EQ(f.admission.counters().rejected, 0u); // the source offers it again, it is not lost
  // Dollars need no price.
  EXPECT_EQ(f.admission.admit(dollars("d-1", 100)).outcome, Admission::Outcome::accepted);
  // Once there is one, the same request is taken (the id was not remembered).
  f.sink.price = hedging::Price::from_dollars(50'000);
  EXPECT_EQ(f.admission.admit(sats).outcome, Admission::Outcome::accepted);
  ASSERT_EQ(f.sink.taken.size(), 2u);
  EXPECT_EQ(f.sink.taken[1].delta, hedging::UsdCents{500});
  EXPECT_EQ(f.sink.taken[1].price, hedging::Price::from_dollars(50'000));
}

TEST(LiabilityAdmission, the_same_id_with_another_amount_is_a_conflict_not_a_duplicate) {
  Fixture f;
  ASSERT_EQ(f.admission.admit(dollars("p-1", 2'500)).outcome, Admission::Outcome::accepted);
  EXPECT_EQ(f.admission.admit(dollars("p-1", 2'500)).outcome, Admission::Outcome::duplicate);
  const Admission other = f.admission.admit(dollars("p-1", 9'999));
  EXPECT_EQ(other.outcome, Admission::Outcome::rejected);
  EXPECT_STREQ(other.reason, "id already admitted with another kind or amount");
  EXPECT_EQ(f.admission.admit(dollars("p-1", 2'500, false)).outcome, Admission::Outcome::rejected); // a debit now
  EXPECT_EQ(f.admission.counters().conflicts, 2u);
  EXPECT_EQ(f.admission.counters().duplicates, 1u);
  EXPECT_EQ(f.sink.taken.size(), 1u);
}

TEST(LiabilityAdmission, a_journaled_event_keeps_its_fingerprint_across_a_restart) {
  Fixture first;
  LiabilityRequest by_sats = dollars("s-1", 0, false);
  by_sats.usd_cents.reset();
  by_sats.sats = 12'345;
  ASSERT_EQ(first.admission.admit(by_sats).outcome, Admission::Outcome::accepted);
  ASSERT_EQ(first.admission.admit(dollars("d-1", 700)).outcome, Admission::Outcome::accepted);

  // A new process: the ids and fingerprints come back from the journal.
  Fixture second;
  for (std::size_t i = 0; i < first.sink.taken.size(); ++i) {
    second.admission.remember(first.sink.taken_ids[i], liability_fingerprint(first.sink.taken[i]));
  }
  EXPECT_EQ(second.admission.admit(by_sats).outcome, Admission::Outcome::duplicate);
  EXPECT_EQ(second.admission.admit(dollars("d-1", 700)).outcome, Admission::Outcome::duplicate);
  by_sats.sats = 12'346;
  EXPECT_EQ(second.admission.admit(by_sats).outcome, Admission::Outcome::rejected);
  EXPECT_EQ(second.admission.admit(dollars("d-1", 701)).outcome, Admission::Outcome::rejected);
  EXPECT_EQ(second.admission.counters().conflicts, 2u);
}

TEST(LiabilityAdmission, the_daily_total_is_bounded) {
  TakingSink sink;
  AdmissionLimits limits;
  limits.max_daily_usd_cents = 10'000;
  std::int64_t now = kNowMs;
  LiabilityAdmission admission(sink, hedging::Ratio{}, limits, [&] { return now; });
  EXPECT_EQ(admission.admit(dollars("a", 6'000, true, now)).outcome, Admission::Outcome::accepted);
  EXPECT_EQ(admission.admit(dollars("b", 4'000, false, now)).outcome, Admission::Outcome::accepted); // debits count
  const Admission over = admission.admit(dollars("c", 1, true, now));
  EXPECT_EQ(over.outcome, Admission::Outcome::rejected);
  EXPECT_STREQ(over.reason, "the daily limit of dollars moved would be exceeded");
  now += 86'400'000; // the next UTC day starts again
  EXPECT_EQ(admission.admit(dollars("c", 1, true, now)).outcome, Admission::Outcome::accepted);
}

// Every id gets the same 64-bit key: the worst case of FNV-1a collisions,
// which are too costly to search for in a test.
std::uint64_t one_key_for_every_id(std::string_view /*id*/) noexcept { return 0x5eed; }

TEST(LiabilityAdmission, two_ids_with_the_same_64_bit_key_are_two_payments) {
  Fixture f;
  f.admission.use_event_id_function(&one_key_for_every_id);
  ASSERT_EQ(f.admission.admit(dollars("cln:aaaa", 2'500)).outcome, Admission::Outcome::accepted);
  // Same key, same amount, another id: a payment of its own, not a duplicate.
  ASSERT_EQ(f.admission.admit(dollars("cln:bbbb", 2'500)).outcome, Admission::Outcome::accepted);
  // Same key, another amount: not a conflict either.
  ASSERT_EQ(f.admission.admit(dollars("cln:cccc", 700, false)).outcome, Admission::Outcome::accepted);
  ASSERT_EQ(f.sink.taken.size(), 3u);
  EXPECT_EQ(f.sink.taken[0].id, 0x5eedu);
  EXPECT_EQ(f.sink.taken[1].id, 0x5eedu);
  EXPECT_EQ(f.sink.taken[2].delta, hedging::UsdCents{-700});
  // Each reaches the sink with its own id, byte for byte.
  EXPECT_EQ(f.sink.taken_ids, (std::vector<std::string>{"cln:aaaa", "cln:bbbb", "cln:cccc"}));
  // The ids themselves still deduplicate.
  EXPECT_EQ(f.admission.admit(dollars("cln:bbbb", 2'500)).outcome, Admission::Outcome::duplicate);
  EXPECT_EQ(f.admission.admit(dollars("cln:aaaa", 9'999)).outcome, Admission::Outcome::rejected);
  EXPECT_EQ(f.admission.counters().accepted, 3u);
  EXPECT_EQ(f.admission.counters().conflicts, 1u);
}

TEST(LiabilityAdmission, remembered_ids_deduplicate_by_their_bytes_and_key_only_records_by_their_key) {
  Fixture f;
  f.admission.use_event_id_function(&one_key_for_every_id);
  // An id with control bytes, as the protocol allows (echoed as \u00XX).
  const std::string journaled("w-\x01\x1f\"x", 6);
  f.admission.remember(journaled, liability_fingerprint(dollars("", 2'500)));
  EXPECT_EQ(f.admission.admit(dollars(journaled.c_str(), 2'500)).outcome, Admission::Outcome::duplicate);
  // Its key, another id: admitted.
  EXPECT_EQ(f.admission.admit(dollars("w-\x01\x1f", 2'500)).outcome, Admission::Outcome::accepted);

  // An older journal's record knows only the key: it stands for every id
  // with that key, as before ids were journaled.
  Fixture old;
  old.admission.use_event_id_function(&one_key_for_every_id);
  old.admission.remember_key_only(0x5eed, liability_fingerprint(dollars("", 2'500)));
  EXPECT_EQ(old.admission.admit(dollars("anything", 2'500)).outcome, Admission::Outcome::duplicate);
  EXPECT_EQ(old.admission.admit(dollars("anything", 2'501)).outcome, Admission::Outcome::rejected);
  EXPECT_TRUE(old.sink.taken.empty());
}

TEST(LiabilityAdmission, an_id_longer_than_the_journal_keeps_is_refused) {
  Fixture f;
  const std::string longest(kMaxLiabilityIdBytes, 'x');
  EXPECT_EQ(f.admission.admit(dollars(longest.c_str(), 100)).outcome, Admission::Outcome::accepted);
  const std::string longer(kMaxLiabilityIdBytes + 1, 'x');
  const Admission refused = f.admission.admit(dollars(longer.c_str(), 100));
  EXPECT_EQ(refused.outcome, Admission::Outcome::rejected);
  EXPECT_STREQ(refused.reason, "id must be a string of 1 to 128 bytes");
  EXPECT_EQ(f.admission.admit(dollars("", 100)).outcome, Admission::Outcome::rejected);
  EXPECT_EQ(f.sink.taken.size(), 1u);
}

} // namespace
} // namespace synthusd::liabilities
