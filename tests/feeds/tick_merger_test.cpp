#include <gtest/gtest.h>

#include "synthusd/feeds/tick_merger.hpp"

namespace synthusd::feeds {
namespace {

using hedging::Price;
using hedging::Timestamp;

VenueTick ticker(std::int64_t bid, std::int64_t ask) {
  VenueTick t;
  t.instrument = 1;
  t.fields = field::bid | field::ask;
  t.bid = Price::from_dollars(bid);
  t.ask = Price::from_dollars(ask);
  return t;
}

VenueTick mark(std::int64_t dollars) {
  VenueTick t;
  t.instrument = 1;
  t.fields = field::mark;
  t.mark = Price::from_dollars(dollars);
  return t;
}

VenueTick sequenced(std::uint64_t sequence, std::uint64_t previous, bool has_previous = true) {
  VenueTick t = ticker(100, 101);
  t.fields |= field::sequence | (has_previous ? field::previous_sequence : 0U);
  t.sequence = sequence;
  t.previous_sequence = previous;
  return t;
}

TEST(TickMerger, channels_merge_into_one_update_once_a_mark_is_known) {
  TickMerger merger(7, 4, SequenceCheck::chained);
  hedging::MarketUpdate out;
  EXPECT_EQ(merger.apply(ticker(50'000, 50'001), Timestamp{10}, out), MergeResult::incomplete);
  ASSERT_EQ(merger.apply(mark(50'000), Timestamp{20}, out), MergeResult::update);
  EXPECT_EQ(out.venue, 7);
  EXPECT_EQ(out.instrument, 1);
  EXPECT_EQ(out.bid, Price::from_dollars(50'000)); // kept from the ticker channel
  EXPECT_EQ(out.ask, Price::from_dollars(50'001));
  EXPECT_EQ(out.mark, Price::from_dollars(50'000));
  EXPECT_EQ(out.time, Timestamp{20});
  VenueTick funding;
  funding.instrument = 1;
  funding.fields = field::funding_rate;
  funding.funding_rate = hedging::Ratio{7'341};
  ASSERT_EQ(merger.apply(funding, Timestamp{30}, out), MergeResult::update);
  EXPECT_EQ(out.funding_rate, hedging::Ratio{7'341});
  EXPECT_EQ(out.mark, Price::from_dollars(50'000));
}

TEST(TickMerger, a_broken_chain_is_a_gap_and_the_next_snapshot_restarts_it) {
  TickMerger merger(1, 4, SequenceCheck::chained);
  hedging::MarketUpdate out;
  (void)merger.apply(mark(1), Timestamp{1}, out);
  EXPECT_EQ(merger.apply(sequenced(10, 0, false), Timestamp{2}, out), MergeResult::update); // snapshot
  EXPECT_EQ(merger.apply(sequenced(11, 10), Timestamp{3}, out), MergeResult::update);
  EXPECT_EQ(merger.apply(sequenced(13, 12), Timestamp{4}, out), MergeResult::gap);
  EXPECT_EQ(merger.gaps(), 1u);
  EXPECT_EQ(merger.apply(sequenced(20, 0, false), Timestamp{5}, out), MergeResult::update);
  EXPECT_EQ(merger.apply(sequenced(21, 20), Timestamp{6}, out), MergeResult::update);
}

TEST(TickMerger, a_monotonic_id_that_goes_backwards_is_a_gap) {
  TickMerger merger(1, 4, SequenceCheck::monotonic);
  hedging::MarketUpdate out;
  (void)merger.apply(mark(1), Timestamp{1}, out);
  EXPECT_EQ(merger.apply(sequenced(100, 0, false), Timestamp{2}, out), MergeResult::update);
  EXPECT_EQ(merger.apply(sequenced(105, 0, false), Timestamp{3}, out), MergeResult::update); // skipping is fine
  EXPECT_EQ(merger.apply(sequenced(104, 0, false), Timestamp{4}, out), MergeResult::gap);
}

TEST(TickMerger, reset_forgets_sequences_after_a_reconnect) {
  TickMerger merger(1, 4, SequenceCheck::chained);
  hedging::MarketUpdate out;
  (void)merger.apply(mark(1), Timestamp{1}, out);
  (void)merger.apply(sequenced(10, 9), Timestamp{2}, out);
  merger.reset_sequences();
  EXPECT_EQ(merger.apply(sequenced(500, 499), Timestamp{3}, out), MergeResult::update);
}

TEST(TickMerger, an_unknown_instrument_is_reported) {
  TickMerger merger(1, 2, SequenceCheck::chained);
  VenueTick t = mark(5);
  t.instrument = 9;
  hedging::MarketUpdate out;
  EXPECT_EQ(merger.apply(t, Timestamp{1}, out), MergeResult::unknown);
}

} // namespace
} // namespace synthusd::feeds
