#pragma once
// What every liability source is to the engine: something one I/O thread
// polls. The engine runs each source with one loop (poll, publish counters,
// report a changed error), and on shutdown drains it: a few more polls so
// that what became durable meanwhile is acknowledged upstream. What is still
// unacknowledged then is re-sent by the upstream (intake clients and the CLN
// plugin re-send, LND resumes from the persisted settle_index, NATS
// redelivers) and deduplicated by id.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "synthusd/liabilities/rejection_tally.hpp"

namespace synthusd::liabilities {

// The counters every source has, in one shape for the engine's metrics.
struct SourceCounters {
  std::uint64_t messages = 0;   // lines / stream messages read
  std::uint64_t accepted = 0;   // admitted as new liability events
  std::uint64_t duplicates = 0; // ids already admitted
  std::uint64_t rejected = 0;   // refused with a reason
  std::uint64_t held = 0;       // had to wait: the sink was full, or sats arrived before a price
};

enum class DeferredWork : std::uint8_t { none, durability, held_back };

class LiabilitySource {
public:
  virtual ~LiabilitySource() = default;

  // Waits up to timeout_ms for input, admits what arrived, asks the sink for
  // durability and acknowledges upstream what is durable. Returns the
  // messages handled.
  virtual std::size_t poll_once(int timeout_ms) = 0;
  // Connected / listening and able to take events.
  [[nodiscard]] virtual bool up() const noexcept = 0;
  [[nodiscard]] virtual SourceCounters source_counters() const noexcept = 0;
  // Events taken and not yet acknowledged upstream (what a drain waits for).
  [[nodiscard]] virtual std::size_t unacknowledged() const noexcept = 0;
  // The latest connection or protocol problem, empty when none (never a secret).
  [[nodiscard]] virtual std::string last_error() const { return {}; }
  // Every input rejected since the last call, by reason (rejection_tally.hpp),
  // for the engine to log rate-limited per reason.
  [[nodiscard]] virtual std::vector<RejectionCount> take_rejections() { return {}; }

  // For a source that can run on another stage's thread instead of its own
  // (the engine's one-thread hot path polls it with poll_once(0)): a file
  // descriptor that is readable whenever new input waits for poll_once, or
  // -1 (the default) for a source that needs a thread of its own to wait in.
  [[nodiscard]] virtual int readiness_fd() const noexcept { return -1; }
  // Work poll_once(0) has without new input, and so how soon to poll again
  // when readiness_fd() says nothing: acknowledgements waiting for the
  // sink's durability (soon: the journal's next commit), or input held back
  // by a full sink or a missing price (later: it may last).
  [[nodiscard]] virtual DeferredWork deferred_work() const noexcept {
    return unacknowledged() > 0 ? DeferredWork::durability : DeferredWork::none;
  }
  // Room made ahead, off the path of the next events (a source whose
  // admission keeps a deduplication set grows it here): called by the thread
  // that polls the source when it has nothing else to do. One bounded step
  // (tens of microseconds at most); true while more steps are due.
  virtual bool reserve_ahead() { return false; }
};

} // namespace synthusd::liabilities
