#pragma once
// What lnd's REST gateway says about money, as the LND sources read it:
// one message of GET /v1/invoices/subscribe, a page of GET /v1/invoices
// (ListInvoices) and a page of GET /v1/payments (ListPayments).
//
// Shapes (lnrpc/lightning.proto; lnd's REST marshaller is protojson with
// UseProtoNames + EmitUnpopulated, lnrpc/rpc_utils.go): snake_case keys,
// every field present, int64 and uint64 as decimal strings, bytes as
// standard base64, enums by name. Maps are JSON objects keyed by strings.
//
// AMP invoices (lnrpc Invoice.amp_invoice_state, filled by lnd's
// invoicesrpc.CreateRPCInvoice): one invoice is paid many times, once per
// HTLC set. lnd marks the invoice SETTLED when any set settled, leaves the
// invoice's own settle_index at 0 and sums every set into amt_paid_*; each
// set has its own entry keyed by the set id in hex: {"state":"SETTLED",
// "settle_index":"N","settle_time":"<Unix seconds>","amt_paid_msat":"M"}.
// Each settled set is one payment here, with its own id and its own index
// (set indexes share the invoice settle_index sequence), never the
// cumulative amount.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "synthusd/liabilities/liability_sink.hpp"

namespace synthusd::liabilities {

// One payment received: its request for admission and the settle_index that
// acknowledges it.
struct LndSettlement {
  LiabilityRequest request;
  std::uint64_t settle_index = 0;
};

struct LndInvoiceMessage {
  enum class Kind : std::uint8_t {
    settled,  // `settlements` holds one payment (an AMP invoice: one per settled set)
    ignored,  // a well-formed invoice that moves no money (OPEN, ACCEPTED, CANCELED, dust)
    rejected, // bad input or an {"error":...} object: `reason` says why
  };
  Kind kind = Kind::rejected;
  std::vector<LndSettlement> settlements;
  std::uint64_t add_index = 0; // the invoice's add_index (what ListInvoices pages by)
  // OPEN or ACCEPTED: this invoice can still settle later (the backfill's
  // resume rule, lnd_source.hpp, depends on it).
  bool may_settle = false;
  std::string reason; // rejected: why; ignored: the invoice state
};

// One line of the stream, without its newline. A settled invoice becomes
// LiabilityRequest{id = "lnd:<r_hash hex>:<settle_index>", credit, sats =
// amt_paid_sat (amt_paid_msat / 1000, rounded down, when amt_paid_sat is
// absent), ts_ms = settle_date * 1000, backfill}; a settled AMP set becomes
// {id = "lnd-amp:<set id hex>:<set settle_index>", sats = the set's
// amt_paid_msat / 1000, ts_ms = its settle_time * 1000}.
[[nodiscard]] LndInvoiceMessage parse_lnd_invoice_message(std::string_view line);

// {"invoices":[Invoice...],"last_index_offset":"N","first_index_offset":"M"}
// (ListInvoiceResponse). A malformed invoice is one rejected entry; a page
// that is not this shape is refused as a whole (ok false).
struct LndInvoicePage {
  bool ok = false;
  std::string reason;
  std::vector<LndInvoiceMessage> invoices; // in add_index order
  std::uint64_t last_index_offset = 0;
};
[[nodiscard]] LndInvoicePage parse_lnd_invoice_page(std::string_view body);

// lnrpc.Payment (ListPaymentsResponse.payments): an outgoing payment.
struct LndPayment {
  enum class Kind : std::uint8_t {
    succeeded, // money left the node: `request` is the user's debit
    pending,   // IN_FLIGHT or INITIATED: may still succeed (holds the cursor)
    failed,    // FAILED: nothing left the node
    rejected,  // malformed: `reason` says why
  };
  Kind kind = Kind::rejected;
  LiabilityRequest request; // succeeded: id "lnd-pay:<payment_hash>:<payment_index>", debit
  std::uint64_t payment_index = 0;
  std::string reason;
};

// {"payments":[Payment...],"first_index_offset":"N","last_index_offset":"M",
// "total_num_payments":"T"} (ListPaymentsResponse).
struct LndPaymentPage {
  bool ok = false;
  std::string reason;
  std::vector<LndPayment> payments; // in payment_index order
  std::uint64_t last_index_offset = 0;
};
[[nodiscard]] LndPaymentPage parse_lnd_payment_page(std::string_view body);

} // namespace synthusd::liabilities
