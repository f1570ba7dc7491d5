#pragma once
// The LND debit source: the node's outgoing payments, read by index from
//   GET /v1/payments?index_offset=N&max_payments=M&include_incomplete=true
// (ListPayments, lnrpc/lightning.proto). Each SUCCEEDED payment is money
// sent from a user's USD account: a debit of value_msat + fee_msat (rounded
// up, as the CLN plugin debits), id "lnd-pay:<payment_hash>:<payment_index>",
// through the same admission as every other source.
//
// Why ListPayments and not TrackPayments (GET /v2/router/payments): the
// tracking stream covers payments still in flight, can repeat or reorder
// events at startup and replays nothing missed while the engine was away;
// ListPayments pages by payment_index, which a cursor can resume exactly.
// So this source scans, every debits_poll_ms once caught up (at once while
// pages come back full).
//
// The cursor (debits_state_file) is the highest payment_index such that
// every payment up to it is final (SUCCEEDED and durable in the sink, or
// FAILED, or malformed and rejected). A payment still IN_FLIGHT or
// INITIATED holds the cursor: later payments are debited meanwhile (and
// not again when the scan passes them once more), but the cursor does not
// move past the payment that may still succeed. A crash repeats debits
// (deduplicated by id), never loses one.
//
// First start (no state file): the scan begins after
// debits_from_payment_index (0: the node's whole history; a node that paid
// for other things before should start after its latest payment).

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

#include "synthusd/common/reconnect_backoff.hpp"
#include "synthusd/liabilities/liability_sink.hpp"
#include "synthusd/liabilities/liability_source.hpp"
#include "synthusd/liabilities/lnd_messages.hpp"
#include "synthusd/liabilities/lnd_source.hpp"

namespace synthusd::liabilities {

namespace detail {
class LndExchange;
} // namespace detail

struct LndPaymentCounters {
  std::uint64_t payments = 0;   // payments handled, of every kind (each once per scan it was new in)
  std::uint64_t debited = 0;    // new debits handed to the sink
  std::uint64_t failed = 0;     // FAILED: nothing left the node
  std::uint64_t rejected = 0;   // malformed payments and pages
  std::uint64_t duplicates = 0; // already admitted (a replay after a restart)
  std::uint64_t held = 0;       // had to wait for the sink (full, no price)
  std::uint64_t scans = 0;      // ListPayments pages read
  std::uint64_t failures = 0;   // requests that failed (connection, HTTP error)
};

class LndPaymentSource final : public LiabilitySource {
public:
  // Uses options' connection settings and its debits_* keys; throws as
  // LndInvoiceSource does. `admission` must outlive this.
  LndPaymentSource(LndOptions options, LiabilityAdmission& admission);
  ~LndPaymentSource();
  LndPaymentSource(const LndPaymentSource&) = delete;
  LndPaymentSource& operator=(const LndPaymentSource&) = delete;

  std::size_t poll_once(int timeout_ms) override;
  bool reserve_ahead() override { return admission_.reserve_ahead(); }
  // The last scan succeeded (or the first one is under way).
  [[nodiscard]] bool up() const noexcept override { return up_; }
  [[nodiscard]] SourceCounters source_counters() const noexcept override {
    return {counters_.payments, counters_.debited, counters_.duplicates, counters_.rejected, counters_.held};
  }
  [[nodiscard]] std::size_t unacknowledged() const noexcept override { return pending_.size(); }
  [[nodiscard]] std::string last_error() const override { return last_error_; }
  [[nodiscard]] std::vector<RejectionCount> take_rejections() override { return rejections_.take(); }

  // Every payment up to this index is final and its debit durable.
  [[nodiscard]] std::uint64_t acknowledged_payment_index() const noexcept { return persisted_; }
  [[nodiscard]] const LndPaymentCounters& counters() const noexcept { return counters_; }

private:
  struct Pending {
    std::uint64_t payment_index = 0;
    std::uint64_t ticket = 0; // 0: nothing to wait for (failed, rejected)
  };
  void start_scan();
  void on_page();
  void process_page();
  void fail(std::string why);
  void release_acknowledgements();

  LndOptions options_;
  LiabilityAdmission& admission_;
  std::string macaroon_hex_;
  std::unique_ptr<detail::LndExchange> exchange_;
  std::string body_;
  LndPaymentPage page_;
  std::size_t page_at_ = 0;
  bool page_ready_ = false;
  bool holding_ = false;
  bool frontier_held_ = false; // this scan met a payment that may still succeed
  // Debits admitted beyond a held frontier: not admitted (nor counted)
  // again when a later scan passes them before the frontier moves.
  std::unordered_map<std::uint64_t, std::uint64_t> beyond_frontier_; // payment_index -> ticket
  std::uint64_t frontier_ = 0;  // highest payment_index in pending_ or acknowledged: where a scan starts
  std::uint64_t scan_from_ = 0; // the index_offset of the next page of this scan
  std::chrono::steady_clock::time_point next_scan_{};
  std::chrono::steady_clock::time_point deadline_{};
  common::ReconnectBackoff backoff_;
  std::deque<Pending> pending_;
  std::uint64_t acknowledged_ = 0;
  std::uint64_t persisted_ = 0;
  bool up_ = true;
  LndPaymentCounters counters_;
  RejectionTally rejections_;
  std::string last_error_;
};

} // namespace synthusd::liabilities
