#include "synthusd/liabilities/wire_protocol.hpp"

#include <simdjson.h>

#include "synthusd/common/decimal.hpp"

namespace synthusd::liabilities {

namespace {

// Which optional fields a line carried, to check them against its kind.
struct Seen {
  bool provider = false;
  bool risk_field = false; // market, position, present, *_usd_cents of a risk position, profit_limit_interest
  bool market = false;
  bool position = false;
  bool notional = false;
  bool backfill = false;
  bool pay_index = false;
};

bool signed_integer(simdjson::ondemand::value value, std::int64_t& out) {
  return value.get_int64().get(out) == simdjson::SUCCESS;
}

// A plain JSON number (or a string holding one) at 8 decimals, exactly.
bool ratio_value(simdjson::ondemand::value value, hedging::Ratio& out) {
  std::string_view text;
  // The type through its error code: comparing value.type() itself would
  // convert the result and throw on a malformed token (found by
  // fuzz_liability_line: a control character before the number).
  simdjson::ondemand::json_type type{};
  if (value.type().get(type) != simdjson::SUCCESS) {
    return false;
  }
  if (type == simdjson::ondemand::json_type::string) {
    if (value.get_string().get(text) != simdjson::SUCCESS) {
      return false;
    }
  } else if (type == simdjson::ondemand::json_type::number) {
    text = value.raw_json_token();
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' || text.back() == '\r')) {
      text.remove_suffix(1);
    }
  } else {
    return false;
  }
  const common::DecimalResult<std::int64_t> parsed =
      common::parse_decimal(text, 8, common::DecimalSyntax::json, common::DecimalRounding::exact);
  if (!parsed.ok()) {
    return false;
  }
  out = hedging::Ratio{parsed.value};
  return true;
}

// The fields of provider_increase/_decrease and risk_position
// (liabilities/PROTOCOL.md). Returns false with a reason for a bad value;
// `handled` says whether the key is one of them.
bool other_field(std::string_view key, simdjson::ondemand::value value, LiabilityRequest& out, Seen& seen,
                 bool& handled, std::string& reason) {
  handled = true;
  hedging::ExternalRiskPosition& risk = out.risk;
  if (key == "provider") {
    std::string_view provider;
    if (value.get_string().get(provider) != simdjson::SUCCESS || provider.empty() || provider.size() > 64) {
      reason = "provider must be a string of 1 to 64 bytes";
      return false;
    }
    out.provider.assign(provider);
    seen.provider = true;
    return true;
  }
  seen.risk_field = true;
  if (key == "market") {
    std::uint64_t market = 0;
    if (value.get_uint64().get(market) != simdjson::SUCCESS || market > 65'535) {
      reason = "market must be an integer from 0 to 65535";
      return false;
    }
    risk.market = static_cast<std::uint16_t>(market);
    seen.market = true;
  } else if (key == "position") {
    if (value.get_uint64().get(risk.position_id) != simdjson::SUCCESS) {
      reason = "position must be a non-negative integer";
      return false;
    }
    seen.position = true;
  } else if (key == "present") {
    if (value.get_bool().get(risk.present) != simdjson::SUCCESS) {
      reason = "present must be true or false";
      return false;
    }
  } else if (key == "notional_usd_cents" || key == "vault_usd_cents" || key == "shield_usd_cents" ||
             key == "pnl_usd_cents") {
    hedging::UsdCents& target = key == "notional_usd_cents" ? risk.notional
                                : key == "vault_usd_cents"  ? risk.vault_balance
                                : key == "shield_usd_cents" ? risk.shield_balance
                                                            : risk.pnl;
    if (!signed_integer(value, target.value)) {
      reason = std::string(key) + " must be an integer";
      return false;
    }
    seen.notional = seen.notional || key == "notional_usd_cents";
  } else if (key == "profit_limit_interest") {
    if (!ratio_value(value, risk.profit_limit_interest)) {
      reason = "profit_limit_interest must be a decimal number with at most 8 places";
      return false;
    }
  } else {
    seen.risk_field = false;
    handled = false;
  }
  return true;
}

// Each kind takes its own fields only: a field of another kind would change
// what the line means, so it is refused rather than ignored.
bool check_kind_fields(const LiabilityRequest& out, const Seen& seen, std::string& reason) {
  switch (out.kind) {
  case RequestKind::liability:
    if (seen.provider || seen.risk_field) {
      reason = "usd_credit and usd_debit take no provider or risk position fields";
      return false;
    }
    if (!out.usd_cents && !out.sats) {
      reason = "usd_cents or sats is required";
      return false;
    }
    return true;
  case RequestKind::provider_interest:
    if (seen.risk_field || out.sats || seen.backfill || seen.pay_index) {
      reason = "provider_increase and provider_decrease take id, kind, provider, usd_cents and ts only";
      return false;
    }
    if (!seen.provider || !out.usd_cents) {
      reason = !seen.provider ? "provider is missing" : "usd_cents is required";
      return false;
    }
    return true;
  case RequestKind::risk_position:
    if (seen.provider || out.usd_cents || out.sats || seen.backfill || seen.pay_index) {
      reason = "risk_position takes id, kind, market, position, present, notional_usd_cents, vault_usd_cents, "
               "shield_usd_cents, pnl_usd_cents, profit_limit_interest and ts only";
      return false;
    }
    if (!seen.market || !seen.position || (!seen.notional && out.risk.present)) {
      reason = !seen.market ? "market is missing"
                            : (!seen.position ? "position is missing" : "notional_usd_cents is missing");
      return false;
    }
    return true;
  }
  return false;
}

bool positive_integer(simdjson::ondemand::value value, std::int64_t& out) {
  std::int64_t v = 0;
  if (value.get_int64().get(v) != simdjson::SUCCESS || v <= 0) {
    return false;
  }
  out = v;
  return true;
}

} // namespace

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      // Escaped, never replaced: the source matches acknowledgements to
      // its payments by the id, byte for byte.
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[(static_cast<unsigned char>(c) >> 4) & 0xf];
      out += kHex[static_cast<unsigned char>(c) & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
}

std::string quote_json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

bool parse_liability_line(std::string_view line, LiabilityRequest& out, std::string& reason) {
  // A request reused line after line keeps its strings' capacity: a payment
  // whose id fits what an earlier one used allocates nothing here.
  std::string id = std::move(out.id);
  std::string provider = std::move(out.provider);
  id.clear();
  provider.clear();
  out = LiabilityRequest{};
  out.id = std::move(id);
  out.provider = std::move(provider);
  // One parser per thread, and one padded copy of the line, reused:
  // building either allocates. The copy's padding is what simdjson may
  // read past the line's end.
  thread_local simdjson::ondemand::parser parser;
  thread_local std::string padded;
  // Sized once for a line of the intake's default limit, so that a longer
  // line than the ones before (a bigger amount, a longer id) does not make
  // the parser reallocate on the path; a longer line still parses.
  constexpr std::size_t kReservedLineBytes = 4096;
  if (parser.capacity() < kReservedLineBytes && parser.allocate(kReservedLineBytes) == simdjson::SUCCESS) {
    padded.reserve(kReservedLineBytes + simdjson::SIMDJSON_PADDING);
  }
  padded.assign(line);
  padded.append(simdjson::SIMDJSON_PADDING, '\0');
  simdjson::ondemand::document document;
  simdjson::ondemand::object object;
  if (parser.iterate(simdjson::padded_string_view(padded.data(), line.size(), padded.size())).get(document) !=
          simdjson::SUCCESS ||
      document.get_object().get(object) != simdjson::SUCCESS) {
    reason = "not a JSON object";
    return false;
  }
  bool has_id = false;
  bool has_kind = false;
  bool has_ts = false;
  Seen seen;
  reason.clear();
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
      reason = "bad JSON";
      return false;
    }
    simdjson::ondemand::value value;
    if (field.value().get(value) != simdjson::SUCCESS) {
      reason = "bad JSON";
      return false;
    }
    if (key == "id") {
      std::string_view id;
      if (value.get_string().get(id) != simdjson::SUCCESS || id.empty() || id.size() > 128) {
        reason = "id must be a string of 1 to 128 bytes";
        return false;
      }
      out.id.assign(id);
      has_id = true;
    } else if (key == "kind") {
      std::string_view kind;
      if (value.get_string().get(kind) != simdjson::SUCCESS ||
          (kind != "usd_credit" && kind != "usd_debit" && kind != "provider_increase" && kind != "provider_decrease" &&
           kind != "risk_position")) {
        reason = "kind must be usd_credit, usd_debit, provider_increase, provider_decrease or risk_position";
        return false;
      }
      out.kind = kind == "risk_position"                                      ? RequestKind::risk_position
                 : kind == "provider_increase" || kind == "provider_decrease" ? RequestKind::provider_interest
                                                                              : RequestKind::liability;
      out.credit = kind == "usd_credit" || kind == "provider_increase";
      has_kind = true;
    } else if (key == "usd_cents" || key == "sats") {
      std::int64_t amount = 0;
      if (!positive_integer(value, amount)) {
        reason = std::string(key) + " must be a positive integer";
        return false;
      }
      (key == "sats" ? out.sats : out.usd_cents) = amount;
    } else if (key == "ts") {
      // Milliseconds up to 2100-01-01: a source sending microseconds (or
      // nanoseconds) is refused here instead of overflowing later.
      constexpr std::int64_t kMaxTimestampMs = 4'102'444'800'000;
      if (value.get_int64().get(out.ts_ms) != simdjson::SUCCESS || out.ts_ms < 0 || out.ts_ms > kMaxTimestampMs) {
        reason = "ts must be Unix milliseconds";
        return false;
      }
      has_ts = true;
    } else if (key == "pay_index") {
      std::uint64_t pay_index = 0;
      if (value.get_uint64().get(pay_index) != simdjson::SUCCESS) {
        reason = "pay_index must be a non-negative integer";
        return false;
      }
      out.pay_index = pay_index;
      seen.pay_index = true;
    } else if (key == "backfill") {
      if (value.get_bool().get(out.backfill) != simdjson::SUCCESS) {
        reason = "backfill must be true or false";
        return false;
      }
      seen.backfill = true;
    } else {
      bool handled = false;
      if (!other_field(key, value, out, seen, handled, reason)) {
        return false;
      }
      if (!handled) {
        // Strict: a field the protocol does not define ("currency", "unit")
        // may change what the amount means, so it is never ignored.
        reason = "unknown field '" + std::string(key.substr(0, 32)) + "'";
        return false;
      }
    }
  }
  // current_location() is OUT_OF_BOUNDS exactly when every token was consumed
  if (document.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    reason = "not a JSON object";
    return false;
  }
  if (!has_id || !has_kind || !has_ts) {
    reason = !has_id ? "id is missing" : (!has_kind ? "kind is missing" : "ts is missing");
    return false;
  }
  return check_kind_fields(out, seen, reason);
}

} // namespace synthusd::liabilities
