// What the LND sources read from lnd's REST gateway, fed arbitrary bytes:
// an invoice stream message, a ListInvoices page and a ListPayments page
// (lnd_messages.hpp), and an HTTP response head and body (lnd_stream_parser.hpp).
// - every payment a parser reports is one admission can take: an id of 1 to
//   128 bytes under the source's prefix, a positive amount in sats, a
//   settle or payment index, the right direction, never dollars;
// - every refusal says why;
// - a body decoded from the bytes as they arrive, cut at places the input
//   chooses, is the body decoded in one piece, with the same outcome.
// A broken invariant traps, which libFuzzer reports as a crash.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "synthusd/liabilities/liability_id.hpp"
#include "synthusd/liabilities/lnd_messages.hpp"
#include "synthusd/liabilities/lnd_stream_parser.hpp"

namespace synthusd::liabilities {
namespace {

void check(bool condition) {
  if (!condition) {
    __builtin_trap();
  }
}

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

// A payment as admission sees it (liability_admission.cpp refuses the rest).
void check_request(const LiabilityRequest& request, bool credit) {
  check(request.kind == RequestKind::liability && request.credit == credit);
  check(!request.id.empty() && request.id.size() <= kMaxLiabilityIdBytes);
  check(!request.usd_cents.has_value() && request.sats.has_value() && *request.sats > 0);
  check(request.ts_ms >= 0 && request.backfill);
}

void check_invoice(const LndInvoiceMessage& message) {
  switch (message.kind) {
  case LndInvoiceMessage::Kind::settled:
    check(!message.settlements.empty());
    for (const LndSettlement& settlement : message.settlements) {
      check(settlement.settle_index > 0);
      check(starts_with(settlement.request.id, "lnd:") || starts_with(settlement.request.id, "lnd-amp:"));
      check_request(settlement.request, true);
    }
    break;
  case LndInvoiceMessage::Kind::ignored:
    check(message.settlements.empty());
    break;
  case LndInvoiceMessage::Kind::rejected:
    check(message.settlements.empty() && !message.reason.empty());
    break;
  }
}

void check_payment(const LndPayment& payment) {
  switch (payment.kind) {
  case LndPayment::Kind::succeeded:
    check(starts_with(payment.request.id, "lnd-pay:"));
    check_request(payment.request, false);
    break;
  case LndPayment::Kind::rejected:
    check(!payment.reason.empty());
    break;
  case LndPayment::Kind::pending:
  case LndPayment::Kind::failed:
    break;
  }
}

// The head (up to the blank line), then the body fed whole and in pieces.
void check_http(std::string_view input) {
  const std::size_t blank = input.find("\r\n\r\n");
  if (blank == std::string_view::npos) {
    return;
  }
  HttpResponseHead head;
  std::string reason;
  if (!parse_http_response_head(input.substr(0, blank), head, reason)) {
    check(!reason.empty());
    return;
  }
  const std::string_view body = input.substr(blank + 4);
  HttpBodyDecoder whole;
  whole.reset(head);
  std::string whole_out;
  HttpBodyDecoder::Status whole_status = whole.feed(body, whole_out);
  // A body the bytes themselves refuse says why (a close inside the body is
  // finish()'s to report, and the caller names it).
  check((whole_status == HttpBodyDecoder::Status::error) == !whole.error().empty());
  if (whole_status == HttpBodyDecoder::Status::more) {
    whole_status = whole.finish();
  }
  HttpBodyDecoder pieces;
  pieces.reset(head);
  std::string pieces_out;
  HttpBodyDecoder::Status pieces_status = HttpBodyDecoder::Status::more;
  // Piece sizes from the body's own bytes: 1 to 16.
  std::size_t at = 0;
  while (at < body.size() && pieces_status == HttpBodyDecoder::Status::more) {
    const std::size_t size = 1 + static_cast<unsigned char>(body[at]) % 16;
    pieces_status = pieces.feed(body.substr(at, size), pieces_out);
    at += size;
  }
  if (pieces_status == HttpBodyDecoder::Status::more) {
    pieces_status = pieces.finish();
  }
  check(whole_status == pieces_status);
  check(whole_out == pieces_out);
}

} // namespace
} // namespace synthusd::liabilities

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace synthusd::liabilities;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_invoice(parse_lnd_invoice_message(input));
  const LndInvoicePage invoices = parse_lnd_invoice_page(input);
  check(invoices.ok || !invoices.reason.empty());
  for (const LndInvoiceMessage& invoice : invoices.invoices) {
    check_invoice(invoice);
  }
  const LndPaymentPage payments = parse_lnd_payment_page(input);
  check(payments.ok || !payments.reason.empty());
  for (const LndPayment& payment : payments.payments) {
    check_payment(payment);
  }
  check_http(input);
  return 0;
}
