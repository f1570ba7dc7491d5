#pragma once
// The index price the liability sources convert sats at: the price oracle's
// (feeds/price_oracle.hpp) over every [[feeds]] entry, never one tick's.
//
// Each feed is one oracle source. A market update gives its feed's price:
// the venue's index, or, for an update without one, a perpetual's reference
// price (mark, else mid), which tracks the index; a dated future's does not
// (basis), so it is not used. The oracle is read after every update and on
// every kernel timer tick, so a feed that falls silent goes stale even when
// no other update arrives.
//
// Published: the oracle's trusted price, or 0 ("no valid index price")
// whenever it has none: fewer fresh or agreeing sources than
// [oracle] min_sources, or a jump waiting for confirmation. Never the last
// trusted price: a price that is no longer confirmed converts nothing.
//
// Clock: staleness is measured on the wall clock as the kernel thread's
// inputs carry it: a tick's receive time (the feed thread's CLOCK_REALTIME)
// and the timer's time. The kernel itself reads no clock; this runs beside
// it on the kernel thread. Tests drive it with their own event times.
//
// Kernel thread only, except valid_index(), problem() and the atomics they
// read. No allocation after construction, no locks, no exceptions.

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "synthusd/engine/prometheus_text.hpp"
#include "synthusd/feeds/price_oracle.hpp"
#include "synthusd/hedging/config.hpp"
#include "synthusd/hedging/events.hpp"

namespace synthusd::engine::run {

class IndexPublisher {
public:
  // feed_count: the number of market queues (0: no oracle, never an index).
  // published: the atomic the liability channels read (raw Price, 0: none).
  // Throws std::invalid_argument for a configuration the oracle refuses.
  IndexPublisher(const feeds::OracleConfig& config, std::size_t feed_count, const hedging::KernelConfig& kernel,
                 std::atomic<std::int64_t>& published);

  // A market update that came from feed `feed`.
  void on_market(std::size_t feed, const hedging::MarketUpdate& update) noexcept;
  // The kernel thread's timer: sources age even when nothing arrives.
  void on_clock(hedging::Timestamp now) noexcept;

  // Any thread: the valid index, 0 when there is none.
  [[nodiscard]] hedging::Price valid_index() const noexcept;
  // When the index was last read and published (the inputs' wall-clock
  // time, ns): a reader that finds it old knows the kernel thread stalled
  // and must not trust `published` (LiabilityChannel::set_index_lease).
  [[nodiscard]] const std::atomic<std::int64_t>& published_at() const noexcept { return published_at_; }
  // Any thread: "" while the index is valid, else why there is none
  // ("no valid index price: ..."), for /health.
  [[nodiscard]] std::string problem() const;
  // Kernel thread (it reads the oracle): the synthusd_oracle_* families.
  void write_metrics(PrometheusText& out) const;

private:
  void read(hedging::Timestamp now) noexcept;

  std::optional<feeds::PriceOracle> oracle_;
  std::size_t feed_count_;
  std::vector<bool> perpetual_; // by instrument id: its reference price may stand in for the index
  std::atomic<std::int64_t>& published_;
  std::atomic<std::int64_t> published_at_{0};
  hedging::Timestamp clock_{}; // the latest time read at (never backwards)
  std::atomic<std::uint8_t> status_{static_cast<std::uint8_t>(feeds::OracleStatus::no_fresh_source)};
  std::atomic<std::uint32_t> fresh_{0};
  std::atomic<std::uint32_t> agreeing_{0};
};

} // namespace synthusd::engine::run
