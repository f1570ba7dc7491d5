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
#include "synthusd/liabilities/liability_id.hpp"
#include "synthusd/liabilities/seen_ids.hpp"

namespace synthusd::liabilities {

// What a line of the intake protocol carries (liabilities/PROTOCOL.md).
enum class RequestKind : std::uint8_t {
  liability,         // usd_credit / usd_debit: a payment
  provider_interest, // provider_increase / provider_decrease: a stable provider's interest moved (netting)
  risk_position,     // risk_position: an external position the risk-trigger strategy watches
};

// One payment as a source understood it, before conversion.
struct LiabilityRequest {
  std::string id; // unique per payment, namespaced by source ("cln:", "lnd:", "w-"...)
  RequestKind kind = RequestKind::liability;
  bool credit = true;                    // usd_credit: the user's dollars grow (liability grows); provider_increase
  std::optional<std::int64_t> usd_cents; // when the source says
  std::optional<std::int64_t> sats;
  std::int64_t ts_ms = 0;                 // Unix milliseconds
  std::optional<std::uint64_t> pay_index; // echoed back to the CLN plugin
  // History a source replays from a durable cursor (the CLN plugin's index
  // followers, LND's settle_index stream): its ts may be old, so it is held
  // to AdmissionLimits::max_backfill_ms instead of the live window.
  bool backfill = false;
  // When the event entered a durable log the source reads from (JetStream's
  // stored time), Unix milliseconds; 0: it reached the engine just now. The
  // live window is measured from it, so an event that waited in the log
  // while the engine was down is not refused for the engine's absence.
  std::int64_t logged_ms = 0;
  // provider_interest: the provider's own id (1 to 64 bytes); its 64-bit
  // key (liability_event_id) is the kernel's provider_id.
  std::string provider;
  // risk_position: the observation as the source sent it (time and nothing
  // else is filled in at admission).
  hedging::ExternalRiskPosition risk{};
};

// The id's 64-bit key in the kernel (FNV-1a; hedging::LiabilityChange::id).
// Not unique: two ids can share it. The id itself (its bytes) is what
// deduplication compares and what the journal keeps beside the key; nothing
// downstream of admission merges or deduplicates events by this key.
[[nodiscard]] std::uint64_t liability_event_id(std::string_view id) noexcept;

// What a payment says, reduced to 64 bits: direction, dollars (when the
// source gave them) and sats. The same id with another fingerprint is a
// conflict, not a duplicate. Computed alike from a request and from the
// journaled event it became, so the check survives a restart. 0: unknown.
[[nodiscard]] std::uint64_t liability_fingerprint(const LiabilityRequest& request) noexcept;
[[nodiscard]] std::uint64_t liability_fingerprint(const hedging::LiabilityChange& change) noexcept;
// The same for a provider-interest change or risk position (any other event:
// its fields but the time), from a request's event and the journaled one alike.
[[nodiscard]] std::uint64_t input_fingerprint(const hedging::Event& event) noexcept;

// Bounds every admitted event must respect, whatever its source.
struct AdmissionLimits {
  std::int64_t max_event_usd_cents = 100'000'000;      // $1,000,000 per payment
  std::int64_t max_event_sats = 10'000'000'000;        // 100 BTC per payment
  std::int64_t max_daily_usd_cents = 1'000'000'000;    // $10,000,000 moved per UTC day (credits + debits)
  std::int64_t max_future_ms = 600'000;                // ts at most this far ahead of the engine's clock
  std::int64_t max_past_ms = 600'000;                  // a live event's ts at most this far behind it
  std::int64_t max_backfill_ms = 3'650 * 86'400'000LL; // a backfill event's ts: at most 10 years behind
};

class LiabilitySink {
public:
  virtual ~LiabilitySink() = default;
  // Takes one accepted event and the payment id it came from (1 to
  // kMaxLiabilityIdBytes bytes, journaled beside the event) and returns its
  // ticket: > 0 and one more than the previous ticket of this sink. Returns
  // 0 when there is no room right now (nothing was taken; the source retries
  // later and stops reading).
  virtual std::uint64_t submit(const hedging::LiabilityChange& event, std::string_view id) noexcept = 0;
  // Provider-interest changes and risk positions, taken like submit() (same
  // tickets, journaled with their id). A sink that only carries liability
  // changes keeps the default: admission then refuses those kinds.
  [[nodiscard]] virtual bool carries_other_inputs() const noexcept { return false; }
  virtual std::uint64_t submit_input(const hedging::Event& /*event*/, std::string_view /*id*/) noexcept { return 0; }
  // Everything up to the returned ticket is durable. The journal sink makes
  // it so (one fdatasync per call); the queue sink reports progress.
  virtual std::uint64_t make_durable() = 0;
  // The index price for converting sats; invalid (0) when there is no
  // valid one (under `synthusd run`: the price oracle's, see
  // engine/src/run/index_publisher.hpp). Never a stale or unconfirmed price.
  [[nodiscard]] virtual hedging::Price index_price() const noexcept = 0;
};

struct AdmissionCounters {
  std::uint64_t accepted = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t conflicts = 0; // an id already admitted came back with another amount (rejected)
  std::uint64_t rejected = 0;  // admit() refusals (bounds, conflicts); parse failures are the source's to count
  std::uint64_t full = 0;      // the sink had no room
  std::uint64_t unpriced = 0;  // sats with no valid index price to convert them (held, not refused)
};

struct Admission {
  // full and unpriced are the engine's state, not the payment's: nothing
  // was taken, and the source offers the same request again later (in
  // order: it holds what follows). rejected is final.
  enum class Outcome : std::uint8_t { accepted, duplicate, rejected, full, unpriced };
  Outcome outcome = Outcome::rejected;
  std::uint64_t ticket = 0; // accepted / duplicate: ack once make_durable() >= ticket (0: already durable)
  const char* reason = "";  // rejected, unpriced: why
  hedging::LiabilityChange event{};
};

class LiabilityAdmission {
public:
  // spread: applied against the user when converting sats (credit: fewer
  // dollars; debit: more).
  // now_ms: the engine's clock in Unix milliseconds (the wall clock unless
  // a test gives its own).
  LiabilityAdmission(LiabilitySink& sink, hedging::Ratio conversion_spread, AdmissionLimits limits = {},
                     std::function<std::int64_t()> now_ms = {});

  // Marks an id as seen and durable (rebuilding from the journal), with the
  // fingerprint of what was journaled (0: unknown, no conflict check).
  void remember(std::string_view id, std::uint64_t fingerprint = 0) {
    if (seen_.find(id) == nullptr) {
      seen_.insert(id, {0, fingerprint});
    }
  }
  // The same for a record of an older journal, which kept only the id's
  // 64-bit key: a request whose key matches is taken for that payment
  // (duplicate or conflict), as before, since its id cannot be compared.
  void remember_key_only(std::uint64_t event_id, std::uint64_t fingerprint = 0) {
    seen_by_key_only_.emplace(event_id, Seen{0, fingerprint});
  }
  // Test seam: the function that turns an id into the kernel's 64-bit key,
  // so a test can give two ids the same key (a real FNV-1a collision is too
  // costly to search for).
  void use_event_id_function(std::uint64_t (*event_id_of)(std::string_view) noexcept) noexcept {
    event_id_of_ = event_id_of;
  }

  // Dedupe, convert, hand to the sink. Allocates nothing for a payment
  // while the room reserve_ahead() keeps lasts.
  [[nodiscard]] Admission admit(const LiabilityRequest& request);
  // Grows the deduplication set ahead of the next payments: for the
  // source's thread to call when it has nothing else to do.
  // One bounded step (seen_ids.hpp); true while more steps are due.
  bool reserve_ahead() { return seen_.reserve_ahead(); }
  [[nodiscard]] const SeenIds& seen_ids() const noexcept { return seen_; }
  std::uint64_t make_durable() { return sink_.make_durable(); }
  [[nodiscard]] const AdmissionCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] LiabilitySink& sink() noexcept { return sink_; }

private:
  using Seen = SeenIds::Entry;
  [[nodiscard]] Admission refuse(const char* reason);
  [[nodiscard]] Admission admit_other(const LiabilityRequest& request, std::int64_t now_ms); // not a payment
  [[nodiscard]] const Seen* find_seen(std::string_view id, std::uint64_t event_id) const noexcept;

  LiabilitySink& sink_;
  hedging::Ratio spread_;
  AdmissionLimits limits_;
  std::function<std::int64_t()> now_ms_;
  std::uint64_t (*event_id_of_)(std::string_view) noexcept = &liability_event_id;
  // Keyed by the id's bytes, so two ids sharing a 64-bit key are two
  // payments. Bounded by the history's ids (the journal keeps them all).
  SeenIds seen_;
  std::unordered_map<std::uint64_t, Seen> seen_by_key_only_; // older journals' records, by key
  std::int64_t day_ = -1;                                    // the UTC day daily_cents_ counts (days since the epoch)
  std::int64_t daily_cents_ = 0;
  AdmissionCounters counters_;
};

} // namespace synthusd::liabilities
