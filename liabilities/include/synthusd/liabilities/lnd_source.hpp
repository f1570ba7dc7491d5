#pragma once
// The LND liability source: a client of LND's REST invoice stream
//   GET /v1/invoices/subscribe?settle_index=N
// (an HTTP/1.1 chunked response of {"result":Invoice} lines, see
// lnd_stream_parser.hpp). Every SETTLED invoice is a payment received into a
// user's USD account: a credit, converted from sats at the index price and
// handed to a LiabilitySink through LiabilityAdmission (which dedupes by
// "lnd:<r_hash in hex>:<settle_index>"). OPEN, ACCEPTED and CANCELED invoices move
// no money and are counted as ignored. Bad lines are rejected, counted, and
// the stream goes on.
//
// Acknowledging LND means remembering where to resume: the highest
// settle_index whose event the sink has made durable, and every event before
// it in stream order too. It is written to `state_file` (tmp + fsync +
// rename) so that a restart resumes there; LND then replays every invoice
// settled after it, and the overlap with what is already journaled dedupes.
// A crash can therefore repeat events but never lose one.
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
#include "synthusd/liabilities/lnd_stream_parser.hpp"

namespace synthusd::liabilities {

namespace detail {
class LndTransport; // lnd_transport.hpp: TCP, and TLS pinned to LND's certificate
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
  int connect_timeout_ms = 10'000;      // TCP connect + TLS handshake + response head
  std::size_t max_line_bytes = 1 << 20; // longer messages are rejected
};

struct LndCounters {
  std::uint64_t messages = 0;    // lines handled, of every kind
  std::uint64_t settled = 0;     // new events handed to the sink
  std::uint64_t ignored = 0;     // OPEN / ACCEPTED / CANCELED (and sub-satoshi settlements)
  std::uint64_t rejected = 0;    // bad lines and {"error":...} objects
  std::uint64_t duplicates = 0;  // settlements already admitted (replay overlap)
  std::uint64_t held = 0;        // settlements that had to wait for the sink (full, no price)
  std::uint64_t connections = 0; // TCP connections made
  std::uint64_t disconnects = 0; // connections lost or given up
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
  [[nodiscard]] bool up() const noexcept override { return streaming(); }
  [[nodiscard]] SourceCounters source_counters() const noexcept override {
    return {counters_.messages, counters_.settled, counters_.duplicates, counters_.rejected, counters_.held};
  }
  // Settlements admitted whose settle_index is not persisted yet.
  [[nodiscard]] std::size_t unacknowledged() const noexcept override { return pending_.size(); }

  // The settle_index persisted (what a restart resumes from).
  [[nodiscard]] std::uint64_t acknowledged_settle_index() const noexcept { return persisted_; }
  // Connected and receiving the invoice stream (HTTP 200).
  [[nodiscard]] bool streaming() const noexcept { return phase_ == Phase::streaming && response_.status == 200; }
  [[nodiscard]] const LndCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::string last_error() const override { return last_error_; }

private:
  enum class Phase : std::uint8_t { idle, connecting, sending, reading_head, streaming };
  struct Pending {
    std::uint64_t settle_index = 0;
    std::uint64_t ticket = 0; // acknowledged once make_durable() >= ticket
  };

  void start_connect();
  void advance(short revents);
  void read_available();
  void on_bytes(std::string_view bytes);
  void process_lines();
  bool handle_line(std::string_view line); // false: held, try again later
  // Closes the connection (if any), keeps `why` as last_error and schedules
  // the next attempt after a backoff delay.
  void disconnect(std::string why);
  void release_acknowledgements();
  void persist();
  [[nodiscard]] int wait_ms(int timeout_ms) const;

  LndOptions options_;
  LiabilityAdmission& admission_;
  std::string macaroon_hex_;
  std::unique_ptr<detail::LndTransport> transport_;
  Phase phase_ = Phase::idle;
  bool want_write_ = false; // the current step waits for the socket to be writable
  std::string out_;         // the request (it carries the macaroon)
  std::size_t out_sent_ = 0;
  std::string head_; // response head bytes until the blank line
  HttpResponseHead response_;
  HttpBodyDecoder body_;
  std::string lines_;       // decoded body not yet handled (ends in a partial line)
  std::string error_body_;  // a non-200 answer's body, for last_error
  bool discarding_ = false; // inside an over-long line: drop bytes until its newline
  bool blocked_ = false;    // a message waits for the sink: read nothing more
  bool holding_ = false;    // that message was already counted as held
  bool body_done_ = false;  // the response ended (its last chunk) while a message was held
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::steady_clock::time_point deadline_{}; // connect + handshake + head
  common::ReconnectBackoff backoff_;
  std::deque<Pending> pending_;    // stream order
  std::uint64_t acknowledged_ = 0; // every settlement up to here is durable in the sink
  std::uint64_t persisted_ = 0;    // ... and this much is in the state file
  LndCounters counters_;
  std::string last_error_;
};

} // namespace synthusd::liabilities
