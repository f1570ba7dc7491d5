#include "synthusd/liabilities/lnd_messages.hpp"

#include <limits>
#include <optional>
#include <simdjson.h>
#include <utility>

#include "synthusd/liabilities/lnd_stream_parser.hpp"

namespace synthusd::liabilities {
namespace {

namespace ondemand = simdjson::ondemand;

constexpr std::size_t kPaymentHashBytes = 32;
constexpr std::size_t kSetIdHexChars = 64;
constexpr std::size_t kMaxAmpSets = 1024;       // sets per invoice we look at; more is refused
constexpr std::size_t kMaxPageEntries = 10'000; // invoices or payments per page (we ask for far fewer)
constexpr std::uint64_t kMaxSats = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
constexpr std::uint64_t kMaxUnixSeconds = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / 1000);

LndInvoiceMessage rejected(std::string reason) {
  LndInvoiceMessage message;
  message.kind = LndInvoiceMessage::Kind::rejected;
  message.reason = std::move(reason);
  return message;
}

bool is_lower_hex(std::string_view text) {
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

// One entry of amp_invoice_state, as protojson wrote it.
struct AmpSet {
  std::string set_id; // hex, the map key
  std::optional<std::string_view> state;
  std::optional<std::string_view> settle_index;
  std::optional<std::string_view> settle_time;
  std::optional<std::string_view> amt_paid_msat;
};

// The invoice fields the source needs, as the strings protojson wrote. The
// views point into the parser's string buffer, valid until its next document.
struct InvoiceFields {
  std::optional<std::string_view> state;
  std::optional<std::string_view> r_hash;
  std::optional<std::string_view> settle_index;
  std::optional<std::string_view> add_index;
  std::optional<std::string_view> amt_paid_sat;
  std::optional<std::string_view> amt_paid_msat;
  std::optional<std::string_view> settle_date;
  bool is_amp = false;
  std::vector<AmpSet> amp_sets;
};

// Reads the fields of one string-valued map entry into `slot`.
std::optional<std::string> read_string(ondemand::value value, std::string_view key,
                                       std::optional<std::string_view>& slot) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) {
    // protojson writes 64-bit integers, bytes and enums all as strings
    return std::string(key) + " must be a string";
  }
  slot = text;
  return std::nullopt;
}

std::optional<std::string> read_amp_state(ondemand::value value, std::vector<AmpSet>& sets) {
  ondemand::object map;
  if (value.get_object().get(map) != simdjson::SUCCESS) {
    return "amp_invoice_state must be an object";
  }
  for (auto entry : map) {
    std::string_view key;
    ondemand::value entry_value;
    if (entry.unescaped_key().get(key) != simdjson::SUCCESS || entry.value().get(entry_value) != simdjson::SUCCESS) {
      return "bad JSON";
    }
    if (sets.size() == kMaxAmpSets) {
      return "amp_invoice_state has more than " + std::to_string(kMaxAmpSets) + " sets";
    }
    AmpSet set;
    set.set_id = std::string(key);
    ondemand::object fields;
    if (entry_value.get_object().get(fields) != simdjson::SUCCESS) {
      return "amp_invoice_state entries must be objects";
    }
    for (auto field : fields) {
      std::string_view name;
      ondemand::value field_value;
      if (field.unescaped_key().get(name) != simdjson::SUCCESS || field.value().get(field_value) != simdjson::SUCCESS) {
        return "bad JSON";
      }
      std::optional<std::string_view>* slot = name == "state"           ? &set.state
                                              : name == "settle_index"  ? &set.settle_index
                                              : name == "settle_time"   ? &set.settle_time
                                              : name == "amt_paid_msat" ? &set.amt_paid_msat
                                                                        : nullptr;
      if (slot != nullptr) {
        if (auto reason = read_string(field_value, "amp_invoice_state." + std::string(name), *slot)) {
          return reason;
        }
      }
    }
    sets.push_back(std::move(set));
  }
  return std::nullopt;
}

// Reads the fields of an Invoice object. A returned reason means the
// invoice is rejected.
std::optional<std::string> read_invoice(ondemand::value value, InvoiceFields& fields) {
  ondemand::object invoice;
  if (value.get_object().get(invoice) != simdjson::SUCCESS) {
    return "result must be an object";
  }
  for (auto field : invoice) {
    std::string_view key;
    ondemand::value field_value;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS || field.value().get(field_value) != simdjson::SUCCESS) {
      return "bad JSON";
    }
    if (key == "amp_invoice_state") {
      if (auto reason = read_amp_state(field_value, fields.amp_sets)) {
        return reason;
      }
      continue;
    }
    if (key == "is_amp") {
      if (field_value.get_bool().get(fields.is_amp) != simdjson::SUCCESS) {
        return "is_amp must be a boolean";
      }
      continue;
    }
    std::optional<std::string_view>* slot = key == "state"           ? &fields.state
                                            : key == "r_hash"        ? &fields.r_hash
                                            : key == "settle_index"  ? &fields.settle_index
                                            : key == "add_index"     ? &fields.add_index
                                            : key == "amt_paid_sat"  ? &fields.amt_paid_sat
                                            : key == "amt_paid_msat" ? &fields.amt_paid_msat
                                            : key == "settle_date"   ? &fields.settle_date
                                                                     : nullptr;
    if (slot == nullptr) {
      continue; // memo, htlcs, features...: nothing the liability depends on
    }
    if (auto reason = read_string(field_value, key, *slot)) {
      return reason;
    }
  }
  return std::nullopt;
}

// {"error":{"code":2,"message":"...","details":[]}}: what LND says when the
// stream fails (an expired macaroon, a shutdown). Kept short for last_error.
std::string read_error(ondemand::value value) {
  ondemand::object error;
  std::string text = "lnd error";
  if (value.get_object().get(error) != simdjson::SUCCESS) {
    return text;
  }
  std::string_view message;
  std::int64_t code = 0;
  for (auto field : error) {
    std::string_view key;
    ondemand::value field_value;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS || field.value().get(field_value) != simdjson::SUCCESS) {
      break;
    }
    // Best effort: a malformed error object is still an error.
    if (key == "message" && field_value.get_string().get(message) != simdjson::SUCCESS) {
      message = {};
    } else if (key == "code" && field_value.get_int64().get(code) != simdjson::SUCCESS) {
      code = 0;
    }
  }
  text += " " + std::to_string(code);
  if (!message.empty()) {
    text += ": " + std::string(message.substr(0, 200));
  }
  return text;
}

// The sats and the settle time of one payment received, checked alike for
// a whole invoice and for an AMP set.
std::optional<std::string> read_settlement(std::string_view what, std::optional<std::string_view> index_text,
                                           std::optional<std::string_view> msat_text,
                                           std::optional<std::string_view> seconds_text, std::string_view seconds_name,
                                           std::uint64_t& settle_index, std::uint64_t& msat, std::uint64_t& seconds) {
  if (!index_text) {
    return std::string(what) + "settle_index is missing";
  }
  if (!parse_decimal_u64(*index_text, settle_index) || settle_index == 0) {
    return std::string(what) + "settle_index must be a positive decimal string";
  }
  if (msat_text && !parse_decimal_u64(*msat_text, msat)) {
    return std::string(what) + "amt_paid_msat must be a non-negative decimal string";
  }
  if (!seconds_text) {
    return std::string(what) + std::string(seconds_name) + " is missing";
  }
  if (!parse_decimal_u64(*seconds_text, seconds) || seconds > kMaxUnixSeconds) {
    return std::string(what) + std::string(seconds_name) + " must be Unix seconds as a decimal string";
  }
  return std::nullopt;
}

LndSettlement settlement(std::string id, std::uint64_t settle_index, std::uint64_t sats, std::uint64_t seconds) {
  LndSettlement made;
  made.settle_index = settle_index;
  made.request.id = std::move(id);
  made.request.credit = true; // money received into a USD account
  made.request.sats = static_cast<std::int64_t>(sats);
  made.request.ts_ms = static_cast<std::int64_t>(seconds) * 1000;
  // LND's settle_index stream replays every settlement after the persisted
  // index on each (re)connect, however long the engine was away, and the
  // backfill reads history: held to the backfill window rather than the
  // live one (PROTOCOL.md).
  made.request.backfill = true;
  return made;
}

LndInvoiceMessage settled_amp_invoice(const InvoiceFields& fields) {
  LndInvoiceMessage message;
  for (const AmpSet& set : fields.amp_sets) {
    if (set.set_id.size() != kSetIdHexChars || !is_lower_hex(set.set_id)) {
      return rejected("amp_invoice_state keys must be 32-byte set ids in hex");
    }
    if (!set.state) {
      return rejected("amp_invoice_state.state is missing");
    }
    if (*set.state == "ACCEPTED" || *set.state == "CANCELED") {
      message.may_settle = message.may_settle || *set.state == "ACCEPTED";
      continue;
    }
    if (*set.state != "SETTLED") {
      return rejected("unknown AMP set state " + std::string(set.state->substr(0, 32)));
    }
    std::uint64_t settle_index = 0;
    std::uint64_t msat = 0;
    std::uint64_t seconds = 0;
    if (!set.amt_paid_msat) {
      return rejected("amp_invoice_state.amt_paid_msat is missing");
    }
    if (auto reason = read_settlement("amp_invoice_state.", set.settle_index, set.amt_paid_msat, set.settle_time,
                                      "settle_time", settle_index, msat, seconds)) {
      return rejected(std::move(*reason));
    }
    if (msat / 1000 == 0) {
      continue; // less than one satoshi: no cent to credit
    }
    // The set id names the payment; its own settle_index makes a replay of
    // the same settlement dedupe. Never the invoice's cumulative amt_paid.
    message.settlements.push_back(
        settlement("lnd-amp:" + set.set_id + ":" + std::to_string(settle_index), settle_index, msat / 1000, seconds));
  }
  // An AMP invoice stays payable: lnd keeps it open for the next set.
  message.may_settle = true;
  if (message.settlements.empty()) {
    message.kind = LndInvoiceMessage::Kind::ignored;
    message.reason = "AMP invoice with no settled set of one satoshi or more";
    return message;
  }
  message.kind = LndInvoiceMessage::Kind::settled;
  return message;
}

LndInvoiceMessage settled_invoice(const InvoiceFields& fields) {
  if (fields.is_amp || !fields.amp_sets.empty()) {
    return settled_amp_invoice(fields);
  }
  if (!fields.r_hash) {
    return rejected("r_hash is missing");
  }
  std::string hash;
  if (!base64_decode(*fields.r_hash, hash) || hash.size() != kPaymentHashBytes) {
    return rejected("r_hash must be 32 bytes in base64");
  }
  std::uint64_t settle_index = 0;
  if (!fields.settle_index) {
    return rejected("settle_index is missing");
  }
  if (!parse_decimal_u64(*fields.settle_index, settle_index) || settle_index == 0) {
    return rejected("settle_index must be a positive decimal string");
  }
  std::uint64_t sats = 0;
  if (fields.amt_paid_sat) {
    if (!parse_decimal_u64(*fields.amt_paid_sat, sats)) {
      return rejected("amt_paid_sat must be a non-negative decimal string");
    }
  } else if (fields.amt_paid_msat) {
    std::uint64_t msat = 0;
    if (!parse_decimal_u64(*fields.amt_paid_msat, msat)) {
      return rejected("amt_paid_msat must be a non-negative decimal string");
    }
    sats = msat / 1000; // the sub-satoshi rest is not the user's dollars
  } else {
    return rejected("amt_paid_sat or amt_paid_msat is required");
  }
  if (sats > kMaxSats) {
    return rejected("amt_paid_sat is out of range");
  }
  std::uint64_t settle_date = 0;
  if (!fields.settle_date) {
    return rejected("settle_date is missing");
  }
  if (!parse_decimal_u64(*fields.settle_date, settle_date) || settle_date > kMaxUnixSeconds) {
    return rejected("settle_date must be Unix seconds as a decimal string");
  }
  LndInvoiceMessage message;
  if (sats == 0) {
    // Less than one satoshi paid: no cent to credit, and nothing wrong with it.
    message.kind = LndInvoiceMessage::Kind::ignored;
    message.reason = "SETTLED below one satoshi";
    return message;
  }
  message.kind = LndInvoiceMessage::Kind::settled;
  // r_hash + settle_index, so a replay of the same settlement dedupes.
  message.settlements.push_back(
      settlement("lnd:" + hex_encode(hash) + ":" + std::to_string(settle_index), settle_index, sats, settle_date));
  return message;
}

LndInvoiceMessage invoice_message(const InvoiceFields& fields) {
  if (!fields.state) {
    return rejected("state is missing");
  }
  LndInvoiceMessage message;
  if (*fields.state == "SETTLED") {
    message = settled_invoice(fields);
  } else if (*fields.state == "OPEN" || *fields.state == "ACCEPTED" || *fields.state == "CANCELED") {
    message.kind = LndInvoiceMessage::Kind::ignored;
    message.reason = std::string(*fields.state);
    message.may_settle = *fields.state != "CANCELED";
  } else {
    return rejected("unknown invoice state " + std::string(fields.state->substr(0, 32)));
  }
  if (fields.add_index && !parse_decimal_u64(*fields.add_index, message.add_index)) {
    return rejected("add_index must be a decimal string");
  }
  return message;
}

// One parser per thread, reused: building one allocates its buffers.
ondemand::parser& thread_parser() {
  thread_local ondemand::parser parser;
  return parser;
}

bool whole_document_consumed(ondemand::document& document) {
  // current_location() is OUT_OF_BOUNDS exactly when every token was consumed
  return document.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

} // namespace

LndInvoiceMessage parse_lnd_invoice_message(std::string_view line) {
  simdjson::padded_string padded(line);
  ondemand::document document;
  ondemand::object object;
  if (thread_parser().iterate(padded).get(document) != simdjson::SUCCESS ||
      document.get_object().get(object) != simdjson::SUCCESS) {
    return rejected("not a JSON object");
  }
  InvoiceFields fields;
  bool has_result = false;
  std::optional<std::string> error;
  for (auto field : object) {
    std::string_view key;
    ondemand::value value;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS || field.value().get(value) != simdjson::SUCCESS) {
      return rejected("not a JSON object");
    }
    if (key == "result") {
      if (auto reason = read_invoice(value, fields)) {
        return rejected(std::move(*reason));
      }
      has_result = true;
    } else if (key == "error") {
      error = read_error(value);
    }
  }
  if (!whole_document_consumed(document)) {
    return rejected("not a JSON object");
  }
  if (error) {
    return rejected(std::move(*error));
  }
  if (!has_result) {
    return rejected("neither result nor error");
  }
  return invoice_message(fields);
}

LndInvoicePage parse_lnd_invoice_page(std::string_view body) {
  LndInvoicePage page;
  simdjson::padded_string padded(body);
  ondemand::document document;
  ondemand::object object;
  if (thread_parser().iterate(padded).get(document) != simdjson::SUCCESS ||
      document.get_object().get(object) != simdjson::SUCCESS) {
    page.reason = "ListInvoices: not a JSON object";
    return page;
  }
  bool has_invoices = false;
  for (auto field : object) {
    std::string_view key;
    ondemand::value value;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS || field.value().get(value) != simdjson::SUCCESS) {
      page.reason = "ListInvoices: bad JSON";
      return page;
    }
    if (key == "invoices") {
      ondemand::array invoices;
      if (value.get_array().get(invoices) != simdjson::SUCCESS) {
        page.reason = "ListInvoices: invoices must be an array";
        return page;
      }
      has_invoices = true;
      for (auto element : invoices) {
        ondemand::value invoice;
        if (element.get(invoice) != simdjson::SUCCESS || page.invoices.size() == kMaxPageEntries) {
          page.reason = "ListInvoices: bad invoices array";
          return page;
        }
        InvoiceFields fields;
        // A malformed invoice is one rejected entry; ondemand skips what
        // was left unread of it when the array advances.
        auto reason = read_invoice(invoice, fields);
        page.invoices.push_back(reason ? rejected(std::move(*reason)) : invoice_message(fields));
      }
    } else if (key == "last_index_offset") {
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS || !parse_decimal_u64(text, page.last_index_offset)) {
        page.reason = "ListInvoices: last_index_offset must be a decimal string";
        return page;
      }
    }
  }
  if (!whole_document_consumed(document) || !has_invoices) {
    page.reason = "ListInvoices: not a ListInvoiceResponse";
    return page;
  }
  page.ok = true;
  return page;
}

namespace {

LndPayment payment_rejected(std::string reason) {
  LndPayment payment;
  payment.kind = LndPayment::Kind::rejected;
  payment.reason = std::move(reason);
  return payment;
}

// lnrpc.Payment: payment_hash is a hex string (not bytes), the amounts are
// int64 strings, status an enum name, creation_time_ns nanoseconds.
LndPayment read_payment(ondemand::value value) {
  ondemand::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) {
    return payment_rejected("a payment must be an object");
  }
  std::optional<std::string_view> hash, status, index, value_msat, fee_msat, created_ns;
  for (auto field : object) {
    std::string_view key;
    ondemand::value field_value;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS || field.value().get(field_value) != simdjson::SUCCESS) {
      return payment_rejected("bad JSON");
    }
    std::optional<std::string_view>* slot = key == "payment_hash"       ? &hash
                                            : key == "status"           ? &status
                                            : key == "payment_index"    ? &index
                                            : key == "value_msat"       ? &value_msat
                                            : key == "fee_msat"         ? &fee_msat
                                            : key == "creation_time_ns" ? &created_ns
                                                                        : nullptr;
    if (slot != nullptr) {
      if (auto reason = read_string(field_value, key, *slot)) {
        return payment_rejected(std::move(*reason));
      }
    }
  }
  LndPayment payment;
  if (!index || !parse_decimal_u64(*index, payment.payment_index) || payment.payment_index == 0) {
    return payment_rejected("payment_index must be a positive decimal string");
  }
  if (!status) {
    return payment_rejected("status is missing");
  }
  if (*status == "IN_FLIGHT" || *status == "INITIATED" || *status == "UNKNOWN") {
    payment.kind = LndPayment::Kind::pending;
    return payment;
  }
  if (*status == "FAILED") {
    payment.kind = LndPayment::Kind::failed;
    return payment;
  }
  if (*status != "SUCCEEDED") {
    return payment_rejected("unknown payment status " + std::string(status->substr(0, 32)));
  }
  if (!hash || hash->size() != 2 * kPaymentHashBytes || !is_lower_hex(*hash)) {
    return payment_rejected("payment_hash must be 32 bytes in lower-case hex");
  }
  std::uint64_t amount_msat = 0;
  std::uint64_t fees_msat = 0;
  std::uint64_t created = 0;
  if (!value_msat || !parse_decimal_u64(*value_msat, amount_msat)) {
    return payment_rejected("value_msat must be a non-negative decimal string");
  }
  if (!fee_msat || !parse_decimal_u64(*fee_msat, fees_msat)) {
    return payment_rejected("fee_msat must be a non-negative decimal string");
  }
  if (!created_ns || !parse_decimal_u64(*created_ns, created)) {
    return payment_rejected("creation_time_ns must be Unix nanoseconds as a decimal string");
  }
  // What left the node, routing fees included (the user pays them), rounded
  // up so that a debit is never zero: as the CLN plugin debits.
  if (amount_msat > std::numeric_limits<std::uint64_t>::max() - fees_msat) {
    return payment_rejected("value_msat + fee_msat is out of range");
  }
  const std::uint64_t total_msat = amount_msat + fees_msat;
  const std::uint64_t sats = total_msat / 1000 + (total_msat % 1000 != 0 ? 1 : 0);
  if (sats == 0 || sats > kMaxSats) {
    return payment_rejected("the amount sent is out of range");
  }
  payment.kind = LndPayment::Kind::succeeded;
  payment.request.id = "lnd-pay:" + std::string(*hash) + ":" + std::to_string(payment.payment_index);
  payment.request.credit = false; // money sent from a USD account
  payment.request.sats = static_cast<std::int64_t>(sats);
  payment.request.ts_ms = static_cast<std::int64_t>(created / 1'000'000);
  payment.request.backfill = true; // read from lnd's history by index: may be old
  return payment;
}

} // namespace

LndPaymentPage parse_lnd_payment_page(std::string_view body) {
  LndPaymentPage page;
  simdjson::padded_string padded(body);
  ondemand::document document;
  ondemand::object object;
  if (thread_parser().iterate(padded).get(document) != simdjson::SUCCESS ||
      document.get_object().get(object) != simdjson::SUCCESS) {
    page.reason = "ListPayments: not a JSON object";
    return page;
  }
  bool has_payments = false;
  for (auto field : object) {
    std::string_view key;
    ondemand::value value;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS || field.value().get(value) != simdjson::SUCCESS) {
      page.reason = "ListPayments: bad JSON";
      return page;
    }
    if (key == "payments") {
      ondemand::array payments;
      if (value.get_array().get(payments) != simdjson::SUCCESS) {
        page.reason = "ListPayments: payments must be an array";
        return page;
      }
      has_payments = true;
      for (auto element : payments) {
        ondemand::value payment;
        if (element.get(payment) != simdjson::SUCCESS || page.payments.size() == kMaxPageEntries) {
          page.reason = "ListPayments: bad payments array";
          return page;
        }
        page.payments.push_back(read_payment(payment));
      }
    } else if (key == "last_index_offset") {
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS || !parse_decimal_u64(text, page.last_index_offset)) {
        page.reason = "ListPayments: last_index_offset must be a decimal string";
        return page;
      }
    }
  }
  if (!whole_document_consumed(document) || !has_payments) {
    page.reason = "ListPayments: not a ListPaymentsResponse";
    return page;
  }
  page.ok = true;
  return page;
}

} // namespace synthusd::liabilities
