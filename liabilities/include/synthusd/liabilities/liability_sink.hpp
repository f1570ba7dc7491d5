#pragma once
// Where every liability source (wallet JSON lines, the Core Lightning plugin,
// LND, NATS JetStream) hands its events, and how it learns when it may
// acknowledge them upstream.
//
// LiabilityAdmission is the part all sources share, on the source's own
// thread: idempotence by event id, sats -> USD conversion at the index price
// with the configured spread (against the user), and the hand-off to a
// LiabilitySink. A source acknowledges an event upstream only when
// sink.make_durable() has reached the event's ticket; a duplicate is
// acknowledged once its original is durable (never earlier: an ack for a
// duplicate of an event still in flight could otherwise outlive a crash that
// loses the original).
//
// The sinks are the engine's: one writes the journal itself (the standalone
// `synthusd intake`), and in `synthusd run` a queue sink hands events to the
// kernel thread, which journals them. This stage never touches the journal.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "synthusd/hedging/events.hpp"
#include "synthusd/hedging/types.hpp"

namespace synthusd::liabilities {

// One payment as a source understood it, before conversion.
struct LiabilityRequest {
  std::string id;                        // unique per payment, namespaced by source ("cln:", "lnd:", "w-"...)
  bool credit = true;                    // usd_credit: the user's dollars grow (liability grows)
  std::optional<std::int64_t> usd_cents; // when the source says
  std::optional<std::int64_t> sats;
  std::int64_t ts_ms = 0;                 // Unix milliseconds
  std::optional<std::uint64_t> pay_index; // echoed back to the CLN plugin
};

// The id's 64-bit identity in the kernel and the journal (FNV-1a).
[[nodiscard]] std::uint64_t liability_event_id(std::string_view id) noexcept;

class LiabilitySink {
public:
  virtual ~LiabilitySink() = default;
  // Takes one accepted event and returns its ticket: > 0 and one more than
  // the previous ticket of this sink. Returns 0 when there is no room right
  // now (nothing was taken; the source retries later and stops reading).
  virtual std::uint64_t submit(const hedging::LiabilityChange& event) noexcept = 0;
  // Everything up to the returned ticket is durable. The journal sink makes
  // it so (one fdatasync per call); the queue sink reports progress.
  virtual std::uint64_t make_durable() = 0;
  // The index price for converting sats; invalid (0) when none is known.
  [[nodiscard]] virtual hedging::Price index_price() const noexcept = 0;
};

struct AdmissionCounters {
  std::uint64_t accepted = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t rejected = 0; // admit() refusals (no price); parse failures are the source's to count
  std::uint64_t full = 0;     // the sink had no room
};

struct Admission {
  enum class Outcome : std::uint8_t { accepted, duplicate, rejected, full };
  Outcome outcome = Outcome::rejected;
  std::uint64_t ticket = 0; // accepted / duplicate: ack once make_durable() >= ticket (0: already durable)
  const char* reason = "";  // rejected: why
  hedging::LiabilityChange event{};
};

class LiabilityAdmission {
public:
  // spread: applied against the user when converting sats (credit: fewer
  // dollars; debit: more).
  LiabilityAdmission(LiabilitySink& sink, hedging::Ratio conversion_spread) : sink_(sink), spread_(conversion_spread) {}

  // Marks an id as seen and durable (rebuilding from the journal).
  void remember(std::uint64_t event_id) { seen_.emplace(event_id, 0); }

  // Dedupe, convert, hand to the sink.
  [[nodiscard]] Admission admit(const LiabilityRequest& request);
  std::uint64_t make_durable() { return sink_.make_durable(); }
  [[nodiscard]] const AdmissionCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] LiabilitySink& sink() noexcept { return sink_; }

private:
  LiabilitySink& sink_;
  hedging::Ratio spread_;
  std::unordered_map<std::uint64_t, std::uint64_t> seen_; // event id -> ticket
  AdmissionCounters counters_;
};

} // namespace synthusd::liabilities
