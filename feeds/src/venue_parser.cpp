#include "synthusd/feeds/venue_parser.hpp"

#include <algorithm>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>

#include "json_scan.hpp"
#include "synthusd/feeds/decimal.hpp"

namespace synthusd::feeds {

// ---- symbols -----------------------------------------------------------------

void check_symbol(std::string_view text) {
  if (text.empty() || text.size() > SymbolTable::kMaxSymbolLength) {
    throw std::invalid_argument("venue symbol '" + std::string(text) + "' must have 1 to " +
                                std::to_string(SymbolTable::kMaxSymbolLength) + " characters");
  }
  for (const char c : text) {
    if (c <= ' ' || c > '~' || c == '"' || c == '\\') {
      throw std::invalid_argument("venue symbol '" + std::string(text) +
                                  "' must be printable ASCII without spaces, quotes or backslashes");
    }
  }
}

SymbolTable::SymbolTable(std::span<const SymbolMapping> mappings, Case letter_case) {
  if (mappings.size() > kMaxSymbols) {
    throw std::invalid_argument("at most " + std::to_string(kMaxSymbols) + " symbols per venue parser");
  }
  for (const SymbolMapping& mapping : mappings) {
    check_symbol(mapping.venue_symbol);
    if (mapping.instrument == hedging::kNoInstrument) {
      throw std::invalid_argument("venue symbol '" + std::string(mapping.venue_symbol) + "' maps to kNoInstrument");
    }
    Entry& entry = entries_[size_];
    std::transform(mapping.venue_symbol.begin(), mapping.venue_symbol.end(), entry.name.begin(), [&](char c) {
      return letter_case == Case::upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    });
    entry.length = static_cast<std::uint8_t>(mapping.venue_symbol.size());
    entry.instrument = mapping.instrument;
    if (find(symbol(size_)) != hedging::kNoInstrument) {
      throw std::invalid_argument("venue symbol '" + std::string(mapping.venue_symbol) + "' is mapped twice");
    }
    ++size_;
  }
}

hedging::InstrumentId SymbolTable::find(std::string_view venue_symbol) const noexcept {
  for (std::size_t i = 0; i < size_; ++i) {
    if (symbol(i) == venue_symbol) {
      return entries_[i].instrument;
    }
  }
  return hedging::kNoInstrument;
}

std::string_view to_string(ParseStatus status) noexcept {
  switch (status) {
  case ParseStatus::tick:
    return "tick";
  case ParseStatus::ignored:
    return "ignored";
  case ParseStatus::subscribed:
    return "subscribed";
  case ParseStatus::heartbeat_request:
    return "heartbeat_request";
  case ParseStatus::pong:
    return "pong";
  case ParseStatus::venue_error:
    return "venue_error";
  case ParseStatus::malformed:
    return "malformed";
  }
  return "unknown";
}

namespace detail {

// ---- the reused simdjson parser ----------------------------------------------------

namespace {
// Our walks descend four levels at most and simdjson skips deeper values
// without recursion, so a small depth bound is enough.
constexpr std::size_t kMaxDepth = 64;
} // namespace

void JsonParserDeleter::operator()(JsonParser* parser) const noexcept { delete parser; }

JsonParserPtr make_json_parser(std::size_t max_message_bytes) {
  JsonParserPtr json(new JsonParser(max_message_bytes));
  // Allocate the structural index and string buffers once, for the largest
  // message, so that iterate() never allocates.
  if (json->parser.allocate(max_message_bytes, kMaxDepth) != simdjson::SUCCESS) {
    throw std::bad_alloc();
  }
  return json;
}

simdjson::error_code open_object(JsonParser& json, const char* data, std::size_t length, std::size_t capacity,
                                 ondemand::object& root) noexcept {
  if (data == nullptr || length == 0) {
    return simdjson::EMPTY;
  }
  if (length > json.max_message_bytes) {
    return simdjson::CAPACITY;
  }
  if (capacity < length || capacity - length < simdjson::SIMDJSON_PADDING) {
    return simdjson::INSUFFICIENT_PADDING;
  }
  if (const simdjson::error_code error = json.parser.iterate(data, length, capacity).get(json.document)) {
    return error;
  }
  return json.document.get_object().get(root);
}

simdjson::error_code finish(JsonParser& json) noexcept {
  // current_location() reports OUT_OF_BOUNDS exactly when every token has
  // been consumed; anything else is a second value or a dead iterator.
  return json.document.current_location().error() == simdjson::OUT_OF_BOUNDS ? simdjson::SUCCESS
                                                                             : simdjson::TRAILING_CONTENT;
}

// ---- tokens ------------------------------------------------------------------

namespace {

[[nodiscard]] constexpr bool is_json_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

[[nodiscard]] bool is_numeric(Token token) noexcept {
  return token.kind == TokenKind::number || token.kind == TokenKind::string;
}

[[nodiscard]] bool is_absent(Token token) noexcept {
  return token.kind == TokenKind::absent || token.kind == TokenKind::null ||
         (token.kind == TokenKind::string && token.text.empty());
}

template <typename T>
[[nodiscard]] Decoded decode_decimal(Token token, common::DecimalResult<T> (*parse)(std::string_view) noexcept,
                                     T& out) noexcept {
  if (is_absent(token)) {
    return Decoded::absent;
  }
  if (!is_numeric(token)) {
    return Decoded::invalid;
  }
  const common::DecimalResult<T> result = parse(token.text);
  if (!result.ok()) {
    return Decoded::invalid;
  }
  out = result.value;
  return Decoded::ok;
}

[[nodiscard]] common::DecimalResult<std::int64_t> parse_size(std::string_view text) noexcept {
  return common::parse_decimal(text, 8);
}

// Digits only, at most UINT64_MAX.
[[nodiscard]] bool parse_digits(std::string_view text, std::uint64_t& out) noexcept {
  if (text.empty() || text.size() > 20) {
    return false;
  }
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
      return false;
    }
    value = value * 10 + digit;
  }
  out = value;
  return true;
}

} // namespace

Token capture(ondemand::value& value) noexcept {
  std::string_view raw = value.raw_json_token(); // the token plus the whitespace after it
  while (!raw.empty() && is_json_space(raw.back())) {
    raw.remove_suffix(1);
  }
  if (raw.empty()) {
    return {{}, TokenKind::other};
  }
  switch (raw.front()) {
  case '"':
    if (raw.size() >= 2 && raw.back() == '"') {
      return {raw.substr(1, raw.size() - 2), TokenKind::string};
    }
    return {{}, TokenKind::other};
  case '-':
  case '0':
  case '1':
  case '2':
  case '3':
  case '4':
  case '5':
  case '6':
  case '7':
  case '8':
  case '9':
    return {raw, TokenKind::number}; // the grammar is checked when it is decoded
  case 'n':
    return {raw, raw == "null" ? TokenKind::null : TokenKind::other};
  case 't':
  case 'f':
    return {raw, raw == "true" || raw == "false" ? TokenKind::boolean : TokenKind::other};
  case '{':
    return {{}, TokenKind::object};
  case '[':
    return {{}, TokenKind::array};
  default:
    return {{}, TokenKind::other};
  }
}

Decoded decode_price(Token token, hedging::Price& out) noexcept { return decode_decimal(token, &parse_price, out); }

Decoded decode_ratio(Token token, hedging::Ratio& out) noexcept { return decode_decimal(token, &parse_ratio, out); }

Decoded decode_size(Token token, std::int64_t& out) noexcept { return decode_decimal(token, &parse_size, out); }

Decoded decode_unsigned(Token token, std::uint64_t& out) noexcept {
  if (is_absent(token)) {
    return Decoded::absent;
  }
  return is_numeric(token) && parse_digits(token.text, out) ? Decoded::ok : Decoded::invalid;
}

Decoded decode_signed(Token token, std::int64_t& out) noexcept {
  if (is_absent(token)) {
    return Decoded::absent;
  }
  if (!is_numeric(token)) {
    return Decoded::invalid;
  }
  const bool negative = !token.text.empty() && token.text.front() == '-';
  std::uint64_t magnitude = 0;
  if (!parse_digits(negative ? token.text.substr(1) : token.text, magnitude)) {
    return Decoded::invalid;
  }
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (magnitude > kMax + (negative ? 1 : 0)) {
    return Decoded::invalid;
  }
  out = negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
  return Decoded::ok;
}

Decoded decode_milliseconds(Token token, hedging::Timestamp& out) noexcept {
  std::uint64_t milliseconds = 0;
  const Decoded decoded = decode_unsigned(token, milliseconds);
  if (decoded != Decoded::ok) {
    return decoded;
  }
  constexpr std::uint64_t kNanosecondsPerMillisecond = 1'000'000;
  if (milliseconds >
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / kNanosecondsPerMillisecond) {
    return Decoded::invalid;
  }
  out = hedging::Timestamp{static_cast<std::int64_t>(milliseconds * kNanosecondsPerMillisecond)};
  return Decoded::ok;
}

} // namespace detail
} // namespace synthusd::feeds
