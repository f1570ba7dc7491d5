#include "synthusd/liabilities/wire_protocol.hpp"

#include <simdjson.h>

namespace synthusd::liabilities {

namespace {

bool positive_integer(simdjson::ondemand::value value, std::int64_t& out) {
  std::int64_t v = 0;
  if (value.get_int64().get(v) != simdjson::SUCCESS || v <= 0) {
    return false;
  }
  out = v;
  return true;
}

} // namespace

std::string quote_json_string(std::string_view text) {
  std::string out = "\"";
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
  return out + "\"";
}

bool parse_liability_line(std::string_view line, LiabilityRequest& out, std::string& reason) {
  out = LiabilityRequest{};
  // One parser per thread, reused: building one allocates its buffers.
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string padded(line);
  simdjson::ondemand::document document;
  simdjson::ondemand::object object;
  if (parser.iterate(padded).get(document) != simdjson::SUCCESS ||
      document.get_object().get(object) != simdjson::SUCCESS) {
    reason = "not a JSON object";
    return false;
  }
  bool has_id = false;
  bool has_kind = false;
  bool has_ts = false;
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
      out.id = std::string(id);
      has_id = true;
    } else if (key == "kind") {
      std::string_view kind;
      if (value.get_string().get(kind) != simdjson::SUCCESS || (kind != "usd_credit" && kind != "usd_debit")) {
        reason = "kind must be usd_credit or usd_debit";
        return false;
      }
      out.credit = kind == "usd_credit";
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
    } else if (key == "backfill") {
      if (value.get_bool().get(out.backfill) != simdjson::SUCCESS) {
        reason = "backfill must be true or false";
        return false;
      }
    } else {
      // Strict: a field the protocol does not define ("currency", "unit")
      // may change what the amount means, so it is never ignored.
      reason = "unknown field '" + std::string(key.substr(0, 32)) + "'";
      return false;
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
  if (!out.usd_cents && !out.sats) {
    reason = "usd_cents or sats is required";
    return false;
  }
  return true;
}

} // namespace synthusd::liabilities
