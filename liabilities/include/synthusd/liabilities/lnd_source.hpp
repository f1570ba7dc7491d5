#pragma once
// The LND liability source: a client of LND's REST invoice stream
//   GET /v1/invoices/subscribe?settle_index=N
// (an HTTP/1.1 chunked response of {"result":Invoice} lines, see
// lnd_messages.hpp). Every SETTLED invoice is a payment received into a
// user's USD account: a credit, converted from sats at the index price and
// handed to a LiabilitySink through LiabilityAdmission (which dedupes by
// "lnd:<r_hash in hex>:<settle_index>"). An AMP invoice is paid once per
// HTLC set: each settled set is its own credit ("lnd-amp:<set id>:<its
// settle_index>", its own amount, never the invoice's cumulative one).
// OPEN, ACCEPTED and CANCELED invoices move no money and are counted as
// ignored. Bad lines are rejected, counted, and the stream goes on.
//
// Connected means the request is sent: lnd's REST gateway writes the HTTP
// response head only together with the first streamed message, so an idle
// node answers nothing at all, for as long as no invoice changes. Such a
// stream is up. Silence is lnd's normal behaviour, so it is not an error:
// TCP keepalive finds a dead peer, and after `idle_resubscribe_ms` without a
// byte the source resubscribes anyway (from the acknowledged index: what
// was missed, if anything, is replayed and deduplicated). connect_timeout_ms
// covers only TCP, TLS and sending the request.
//
// Acknowledging LND means remembering where to resume: the highest
// settle_index whose event the sink has made durable, and every event before
// it in stream order too. It is written to `state_file` (tmp + fsync +
// rename) so that a restart resumes there; LND then replays every invoice
// settled after it, and the overlap with what is already journaled dedupes.
// A crash can therefore repeat events but never lose one.
//
// First start (no state file) with `backfill_from_add_index` >= 0: lnd sends
// no backlog for settle_index 0, so the source first pages through
// GET /v1/invoices?index_offset=N&num_max_invoices=M (ListInvoices, by
// add_index, oldest first) and admits every settled invoice, like any other
// event (journaled, deduplicated by the same ids). It then subscribes from
// the highest settle_index settled before the first invoice that could
// still settle (OPEN, ACCEPTED, AMP): an invoice seen open settles after it
// was seen, so with a later settle_index than every invoice settled before
// it, and the stream replays it. When no such settle_index exists (nothing
// settled before the first open invoice) the subscription also asks for the
// additions after that invoice (add_index), which lnd replays in their
// current state. A crash during the backfill repeats it (deduplicated); the
// state file, written once the backfilled events are durable, marks it done.
// Two cases lnd's API cannot express, so not covered: the first open invoice
// is the node's very first (add_index 1: add_index=0 asks for no replay), and
// a restart while nothing at all has settled yet (the state file says 0,
// which is live-only). In both, an invoice that settles during the seconds
// between the listing and the subscription is not credited until an operator
// backfills again (delete the state file while nothing is credited).
//
// A settled invoice the sink cannot take yet (queue full, or no index price
// to convert it) is held: the stream is not read further until it goes in,
// as a payment must never be skipped.
//
// One thread calls poll_once(); it is an I/O thread, not the kernel's hot
// path. The macaroon is sent as Grpc-Metadata-macaroon and never logged.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "synthusd/common/reconnect_backoff.hpp"
#include "synthusd/liabilities/liability_sink.hpp"
#include "synthusd/liabilities/liability_source.hpp"
#include "synthusd/liabilities/lnd_messages.hpp"
#include "synthusd/liabilities/lnd_stream_parser.hpp"

namespace synthusd::liabilities {

namespace detail {
class LndExchange; // lnd_exchange.hpp: one HTTP GET over TCP, or TLS pinned to LND's certificate
} // namespace detail

struct LndOptions {
  std::string host = "127.0.0.1"; // LND's restlisten; an IP literal or a name
  int port = 8080;
  bool tls = true;           // false: plain HTTP, for loopback tests
  std::string tls_cert_file; // LND's tls.cert: the only certificate trusted
  std::string macaroon_file; // binary; empty: no macaroon header (lnd --no-macaroons)
  std::string state_file;    // the acknowledged settle_index; empty: kept in memory only
  int reconnect_min_ms = 100;
  int reconnect_max_ms = 10'000;
  int connect_timeout_ms = 10'000;      // TCP connect + TLS handshake + sending the request
  std::size_t max_line_bytes = 1 << 20; // longer messages are rejected
  // A stream silent this long is resubscribed (lnd sends nothing while no
  // invoice changes, and no keepalive message); 0: never.
  int idle_resubscribe_ms = 600'000;
  // First start only (no state file): page through ListInvoices from this
  // add_index (exclusive: 0 is the node's whole history); -1: no backfill.
  std::int64_t backfill_from_add_index = -1;
  int backfill_page_size = 100; // num_max_invoices per ListInvoices page
  // Debits: outgoing payments through ListPayments (LndPaymentSource,
  // lnd_payment_source.hpp), a second connection to the same node.
  bool debits = false;
  std::int64_t debits_from_payment_index = 0; // first start only (exclusive: 0 is the whole history)
  int debits_poll_ms = 2'000;                 // between ListPayments scans once caught up
  int debits_page_size = 100;                 // max_payments per page
  std::string debits_state_file;              // the acknowledged payment_index; empty: in memory only
};

// ListInvoices / ListPayments bodies larger than this are refused (a page
// of backfill_page_size invoices is far smaller).
inline constexpr std::size_t kMaxLndPageBytes = 64 << 20;

struct LndCounters {
  std::uint64_t messages = 0;          // lines handled, of every kind
  std::uint64_t settled = 0;           // new events handed to the sink
  std::uint64_t ignored = 0;           // OPEN / ACCEPTED / CANCELED (and sub-satoshi settlements)
  std::uint64_t rejected = 0;          // bad lines and {"error":...} objects
  std::uint64_t duplicates = 0;        // settlements already admitted (replay overlap)
  std::uint64_t held = 0;              // settlements that had to wait for the sink (full, no price)
  std::uint64_t connections = 0;       // TCP connections made
  std::uint64_t disconnects = 0;       // connections lost or given up
  std::uint64_t idle_resubscribes = 0; // streams resubscribed after idle_resubscribe_ms of silence
  std::uint64_t backfill_pages = 0;    // ListInvoices pages read
};

class LndInvoiceSource final : public LiabilitySource {
public:
  // Reads the macaroon, the TLS certificate and the state file; throws
  // std::runtime_error when one cannot be used, std::invalid_argument for a
  // bad port or TLS without a certificate. `admission` must outlive this.
  LndInvoiceSource(LndOptions options, LiabilityAdmission& admission);
  ~LndInvoiceSource();
  LndInvoiceSource(const LndInvoiceSource&) = delete;
  LndInvoiceSource& operator=(const LndInvoiceSource&) = delete;

  // Connects or reconnects as needed (with backoff), waits up to timeout_ms
  // for the stream, admits every complete message, then asks the sink for
  // durability and persists the settle_index it allows. Returns the number
  // of messages handled.
  std::size_t poll_once(int timeout_ms) override;
  bool reserve_ahead() override { return admission_.reserve_ahead(); }
  // Streaming, or backfilling with a request on the wire.
  [[nodiscard]] bool up() const noexcept override;
  [[nodiscard]] SourceCounters source_counters() const noexcept override {
    return {counters_.messages, counters_.settled, counters_.duplicates, counters_.rejected, counters_.held};
  }
  // Settlements admitted whose settle_index is not persisted yet.
  [[nodiscard]] std::size_t unacknowledged() const noexcept override { return pending_.size(); }

  // The settle_index persisted (what a restart resumes from).
  [[nodiscard]] std::uint64_t acknowledged_settle_index() const noexcept { return persisted_; }
  // Subscribed: the request is on the wire and lnd did not refuse it (it
  // may not have answered yet: see the top of this file).
  [[nodiscard]] bool streaming() const noexcept;
  [[nodiscard]] const LndCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::string last_error() const override { return last_error_; }
  [[nodiscard]] std::vector<RejectionCount> take_rejections() override { return rejections_.take(); }
  // The first-start backfill is running (ListInvoices pages, no stream yet).
  [[nodiscard]] bool backfilling() const noexcept { return backfilling_; }

private:
  struct Pending {
    std::uint64_t settle_index = 0; // 0: acknowledges nothing by itself (a backfilled event)
    std::uint64_t ticket = 0;       // acknowledged once make_durable() >= ticket
    bool ends_backfill = false;     // the backfill's cursor: the state file is written even at 0
  };

  void start_request();
  void advance(short revents);
  void process_lines();
  bool handle_line(std::string_view line); // false: held, try again later
  // Counts a message and admits its settlements; false: held.
  bool handle_message(const LndInvoiceMessage& message, bool backfill);
  void reject(std::string reason);
  void process_page();
  void finish_page();
  // Closes the connection (if any), keeps `why` as last_error and schedules
  // the next attempt after a backoff delay.
  void disconnect(std::string why);
  void release_acknowledgements();
  void persist();
  [[nodiscard]] std::uint64_t subscribe_settle_index() const noexcept;
  [[nodiscard]] int wait_ms(int timeout_ms) const;

  LndOptions options_;
  LiabilityAdmission& admission_;
  std::string macaroon_hex_;
  std::unique_ptr<detail::LndExchange> exchange_;
  std::string lines_;                   // decoded body not yet handled (ends in a partial line)
  bool discarding_ = false;             // inside an over-long line: drop bytes until its newline
  bool blocked_ = false;                // a message waits for the sink: read nothing more
  bool holding_ = false;                // that message was already counted as held
  std::size_t admitted_of_message_ = 0; // settlements of the held message already admitted
  bool body_done_ = false;              // the response ended (its last chunk) while a message was held
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::steady_clock::time_point deadline_{}; // connect + handshake + request sent
  common::ReconnectBackoff backoff_;
  std::deque<Pending> pending_;    // stream order
  std::uint64_t acknowledged_ = 0; // every settlement up to here is durable in the sink
  std::uint64_t persisted_ = 0;    // ... and this much is in the state file
  bool state_file_written_ = false;
  bool must_persist_ = false;
  // The first-start backfill (see the top of this file).
  bool backfilling_ = false;
  std::uint64_t backfill_offset_ = 0;     // the add_index the next page starts after
  LndInvoicePage page_;                   // the page being admitted
  std::size_t page_at_ = 0;               // its next invoice
  bool page_ready_ = false;               // page_ is parsed and being admitted
  bool open_seen_ = false;                // an invoice that can still settle was seen
  std::uint64_t backfill_cursor_ = 0;     // highest settle_index settled before it
  std::uint64_t subscribe_from_ = 0;      // the stream's settle_index floor after the backfill
  std::uint64_t subscribe_add_index_ = 0; // add_index replay while nothing is acknowledged
  LndCounters counters_;
  std::string last_error_;
  RejectionTally rejections_;
};

} // namespace synthusd::liabilities
