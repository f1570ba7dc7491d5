#pragma once
// Liability events from a NATS JetStream stream (engine/DEPLOYMENT.md says
// how wallet backends and engine hosts share it). Each message's payload is
// one event in the wallet JSON format of liabilities/PROTOCOL.md (one
// object, no newline needed). A durable pull consumer with explicit acks
// reads the stream, so the server remembers what was acknowledged across
// engine restarts and this thread decides the pace.
//
// Per message:
//   - parsed and admitted: acked only once the sink reports it durable
//     (make_durable() >= its ticket); a duplicate once its original is.
//     Until then the server holds it as "ack pending"; a crash means
//     redelivery, which the journal-backed deduplication makes harmless.
//   - malformed payload, or refused by admission's bounds (amount, ts
//     window, daily total, an id conflict): rejected (counted, on_reject
//     told why) and terminated (+TERM) so the server never redelivers it;
//     it would be refused again, and the consumer's other messages keep
//     flowing.
//   - no valid index price to convert sats: naked with a delay, not
//     terminated. That is about the engine's state, not the payload, and
//     terminating would lose a user's payment.
//   - the live ts window (liabilities/PROTOCOL.md) is measured from the
//     time JetStream stored the message, so events that waited in the
//     stream while the engine was down are admitted.
//   - the sink is full (the kernel's queue): the message and every one
//     fetched after it are kept here, in order, and admitted again on the
//     next poll; nothing more is fetched meanwhile. Held rather than naked
//     so the order and the stream position are kept without a round trip or
//     a redelivery count per retry, and the backlog stays in the stream,
//     where it is durable, instead of growing here.
// Messages held longer than half the ack wait get +WPI (in progress) so the
// server does not redeliver them while the kernel is merely slow. On
// destruction everything not yet acked is naked, so the next consumer (a
// restarted engine, the standby host) gets it at once instead of after the
// ack wait; with something to nak, destruction takes up to one fetch
// timeout plus 50 ms longer (see the destructor for the server bug).
//
// Every consumer_check_ms the source asks the server about its consumer:
// the backlog (messages not yet delivered) and whether the durable still
// exists (a deleted one only looks like an idle stream to a pull).
//
// One thread calls poll_once(); it is an I/O thread, not the kernel's hot
// path. Reconnection is cnats's (forever, every reconnect_wait_ms); the
// connection callbacks run on cnats's thread and only bump counters.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "synthusd/liabilities/liability_sink.hpp"
#include "synthusd/liabilities/liability_source.hpp"

namespace synthusd::liabilities {

struct NatsRejection {
  std::uint64_t stream_sequence = 0; // where the message sits in the stream
  std::string id;                    // the event id when it parsed that far, else empty
  std::string reason;
};

struct NatsOptions {
  std::string url = "nats://127.0.0.1:4222"; // comma-separated list allowed
  std::string stream = "SYNTHUSD_LIABILITY";
  std::string subject = "synthusd.liability";
  std::string durable = "synthusd-engine"; // the consumer's name; no '.', ' ', '*' or '>'
  bool create_stream = false;              // file storage, one replica; production streams are made by the operator
  int fetch_batch = 64;
  // Used when this source creates the consumer; binding to an existing one
  // with another value fails (cnats compares them), so change both together.
  int ack_wait_ms = 30'000;
  int reconnect_wait_ms = 500;
  int retry_delay_ms = 1'000;    // nak delay for events admission refused (no price yet)
  int consumer_check_ms = 5'000; // how often to ask the server about the consumer (backlog, existence)
  std::string credentials_file;  // optional .creds (JWT + NKey seed); never logged
  std::function<void(const NatsRejection&)> on_reject; // optional; called on the polling thread
};

struct NatsCounters {
  std::uint64_t messages = 0;         // handled (each delivery once; a held message when finally admitted)
  std::uint64_t accepted = 0;         // new events handed to the sink
  std::uint64_t duplicates = 0;       // ids already seen (journal or earlier delivery)
  std::uint64_t rejected = 0;         // malformed or refused by admission's bounds, terminated
  std::uint64_t deferred = 0;         // no valid index price yet, naked for a later retry
  std::uint64_t redelivered = 0;      // deliveries the server had made before (crash, nak, ack wait)
  std::uint64_t acked = 0;            // acks sent, each after its event was durable
  std::uint64_t ack_failures = 0;     // acks cnats could not send; the server redelivers, dedupe absorbs it
  std::uint64_t backpressure = 0;     // times the sink was full
  std::uint64_t fetch_errors = 0;     // pulls that failed other than by timing out (closed, refused)
  std::uint64_t consumer_missing = 0; // checks that found the durable consumer gone (deleted by hand?)
  std::uint64_t backlog = 0;          // messages in the stream not yet delivered to us, at the last check
  std::uint64_t disconnects = 0;
  std::uint64_t reconnects = 0;
};

class NatsLiabilitySource final : public LiabilitySource {
public:
  // Connects, creates the stream if configured to (an existing stream is
  // never changed) or checks that it exists, and binds the durable pull
  // consumer (creating it on the first run: every message from the start of
  // the stream, explicit acks, unlimited redeliveries). Throws
  // std::runtime_error naming the url (credentials cut out) or the stream.
  // `admission` must outlive this.
  NatsLiabilitySource(NatsOptions options, LiabilityAdmission& admission);
  ~NatsLiabilitySource();
  NatsLiabilitySource(const NatsLiabilitySource&) = delete;
  NatsLiabilitySource& operator=(const NatsLiabilitySource&) = delete;

  // Retries held messages, fetches up to fetch_batch more waiting up to
  // timeout_ms (at most 10 ms while acks wait for the sink's durability; no
  // fetch, a 1 ms pause, while the sink is full), asks the sink to make the
  // batch durable, and acks every message whose event is durable. Never
  // returns at once with nothing done, so a loop around it does not spin.
  // Returns the messages handled.
  std::size_t poll_once(int timeout_ms) override;
  bool reserve_ahead() override; // the admission's deduplication set
  // Bound to the consumer since construction (cnats reconnects on its own).
  [[nodiscard]] bool up() const noexcept override { return true; }
  [[nodiscard]] SourceCounters source_counters() const noexcept override {
    const NatsCounters c = counters();
    return {c.messages, c.accepted, c.duplicates, c.rejected, c.backpressure};
  }
  [[nodiscard]] std::size_t unacknowledged() const noexcept override { return unacked(); }
  [[nodiscard]] std::vector<RejectionCount> take_rejections() override;

  // A snapshot; disconnects and reconnects are counted on cnats's thread.
  [[nodiscard]] NatsCounters counters() const noexcept;
  // Messages taken from the server and not yet acked, naked or terminated.
  [[nodiscard]] std::size_t unacked() const noexcept;

private:
  struct State;
  std::unique_ptr<State> state_;
};

// The url with any user:password@ or token@ cut out, for messages and logs.
[[nodiscard]] std::string redact_nats_url(std::string_view url);

} // namespace synthusd::liabilities
