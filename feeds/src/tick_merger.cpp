#include "synthusd/feeds/tick_merger.hpp"

namespace synthusd::feeds {

TickMerger::TickMerger(hedging::VenueId venue, hedging::InstrumentId max_instrument, SequenceCheck check)
    : venue_(venue), check_(check), states_(static_cast<std::size_t>(max_instrument) + 1) {}

MergeResult TickMerger::apply(const VenueTick& tick, hedging::Timestamp receive_time, hedging::MarketUpdate& out) noexcept {
  if (tick.instrument >= states_.size()) {
    return MergeResult::unknown;
  }
  State& state = states_[tick.instrument];
  if (tick.has(field::sequence)) {
    if (state.has_sequence) {
      const bool broken = check_ == SequenceCheck::chained
                              ? (tick.has(field::previous_sequence) && tick.previous_sequence != state.last_sequence)
                              : tick.sequence <= state.last_sequence;
      if (broken) {
        ++gaps_;
        state.has_sequence = false; // the resubscribe snapshot starts a new chain
        return MergeResult::gap;
      }
    }
    state.has_sequence = true;
    state.last_sequence = tick.sequence;
  }
  hedging::MarketUpdate& u = state.update;
  u.venue = venue_;
  u.instrument = tick.instrument;
  if (tick.has(field::bid)) {
    u.bid = tick.bid;
  }
  if (tick.has(field::ask)) {
    u.ask = tick.ask;
  }
  if (tick.has(field::mark)) {
    u.mark = tick.mark;
    state.has_mark = true;
  }
  if (tick.has(field::index)) {
    u.index = tick.index;
  }
  if (tick.has(field::funding_rate)) {
    u.funding_rate = tick.funding_rate;
  }
  if (tick.has(field::next_funding_time)) {
    u.next_funding_time = tick.next_funding_time;
  }
  u.time = receive_time;
  if (!state.has_mark) {
    return MergeResult::incomplete;
  }
  out = u;
  return MergeResult::update;
}

void TickMerger::reset_sequences() noexcept {
  for (State& state : states_) {
    state.has_sequence = false;
  }
}

} // namespace synthusd::feeds
