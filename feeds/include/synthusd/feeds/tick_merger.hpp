#pragma once
// Merges a venue's partial ticks into complete hedging::MarketUpdates per
// instrument, and checks the venue's sequence numbers for gaps. One merger
// per feed connection, owned by the feed thread; fixed tables, no allocation
// after construction.

#include <vector>

#include "synthusd/feeds/venue_tick.hpp"
#include "synthusd/hedging/events.hpp"

namespace synthusd::feeds {

enum class SequenceCheck : std::uint8_t {
  chained,   // Deribit change_id/prev_change_id, OKX seqId/prevSeqId: prev must equal the last id
  monotonic, // Binance bookTicker u: must increase
};

enum class MergeResult : std::uint8_t {
  update,     // `out` holds the instrument's merged state
  incomplete, // no mark price yet for this instrument: nothing to publish
  gap,        // a sequence gap: the state is suspect, resubscribe for a fresh snapshot
  unknown,    // instrument outside the configured table
};

class TickMerger {
public:
  TickMerger(hedging::VenueId venue, hedging::InstrumentId max_instrument, SequenceCheck check);

  // `receive_time` is the local clock when the bytes arrived; it becomes the
  // update's time (the kernel's clock), the venue's own timestamp is kept out
  // of it so a venue clock cannot move ours.
  [[nodiscard]] MergeResult apply(const VenueTick& tick, hedging::Timestamp receive_time,
                                  hedging::MarketUpdate& out) noexcept;

  // After a reconnect or resubscribe: forget sequence state (prices stay as
  // the last known values until fresh ones arrive).
  void reset_sequences() noexcept;

  [[nodiscard]] std::uint64_t gaps() const noexcept { return gaps_; }

private:
  struct State {
    hedging::MarketUpdate update{};
    bool has_mark = false;
    bool has_sequence = false;
    std::uint64_t last_sequence = 0;
  };

  hedging::VenueId venue_;
  SequenceCheck check_;
  std::vector<State> states_;
  std::uint64_t gaps_ = 0;
};

} // namespace synthusd::feeds
