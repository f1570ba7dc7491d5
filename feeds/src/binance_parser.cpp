#include "synthusd/feeds/binance_parser.hpp"

#include "json_cursor.hpp"

namespace synthusd::feeds {
namespace {

using detail::JsonCursor;
using detail::Token;
using detail::TokenKind;

// What one walk of a message found, as tokens into the caller's buffer. The
// event's keys are single letters whose meaning depends on "e", which may
// come after them ({"u":..,"e":"bookTicker",..} in real captures), so all
// are kept until the walk ends.
struct BinanceMessage {
  Token result;
  bool has_error = false; // {"error":{..}}
  bool has_code = false;  // {"code":..,"msg":..}
  bool data_invalid = false;
  Token event;     // e
  Token symbol;    // s
  Token update_id; // u
  Token bid;       // b (depthUpdate: an array, ignored)
  Token bid_size;  // B
  Token ask;       // a (aggTrade: the trade id, ignored)
  Token ask_size;  // A
  Token mark;      // p (aggTrade: the trade price, ignored)
  Token index;     // i
  Token funding;   // r
  Token time_t;    // T: transaction time (bookTicker) or next funding time (markPriceUpdate)
  Token time_e;    // E: event time
};

// Records the value of one key of an event object; false when the key is not an event key.
bool read_event_field(std::string_view key, JsonCursor& json, BinanceMessage& message) noexcept {
  if (key.size() != 1) {
    return false;
  }
  Token* slot = nullptr;
  switch (key.front()) {
  case 'e':
    slot = &message.event;
    break;
  case 's':
    slot = &message.symbol;
    break;
  case 'u':
    slot = &message.update_id;
    break;
  case 'b':
    slot = &message.bid;
    break;
  case 'B':
    slot = &message.bid_size;
    break;
  case 'a':
    slot = &message.ask;
    break;
  case 'A':
    slot = &message.ask_size;
    break;
  case 'p':
    slot = &message.mark;
    break;
  case 'i':
    slot = &message.index;
    break;
  case 'r':
    slot = &message.funding;
    break;
  case 'T':
    slot = &message.time_t;
    break;
  case 'E':
    slot = &message.time_e;
    break;
  default:
    return false; // P (estimated settle price), ps, st, ...
  }
  *slot = json.value();
  return true;
}

void read_event(JsonCursor& json, BinanceMessage& message) noexcept {
  if (json.value().kind != TokenKind::object) {
    message.data_invalid = true;
    return;
  }
  const JsonCursor::Level level = json.enter();
  std::string_view key;
  while (json.next_member(level, key)) {
    read_event_field(key, json, message);
  }
}

void read_message(JsonCursor& json, JsonCursor::Level root, BinanceMessage& message) noexcept {
  std::string_view key;
  while (json.next_member(root, key)) {
    // A raw event's keys sit at the top level; the envelope's are longer words.
    if (read_event_field(key, json, message)) {
      continue;
    }
    if (detail::equals(key, "data")) {
      read_event(json, message);
    } else if (detail::equals(key, "result")) {
      message.result = json.value();
    } else if (detail::equals(key, "error")) {
      message.has_error = true;
    } else if (detail::equals(key, "code")) {
      message.has_code = true;
    }
    // stream, id, msg: not needed ("s" names the instrument).
  }
}

[[nodiscard]] ParseStatus fill_book_ticker(const BinanceMessage& message, VenueTick& out) noexcept {
  detail::TickWriter writer(out);
  writer.price(message.bid, &VenueTick::bid, field::bid);
  writer.size(message.bid_size, &VenueTick::bid_size, field::bid_size);
  writer.price(message.ask, &VenueTick::ask, field::ask);
  writer.size(message.ask_size, &VenueTick::ask_size, field::ask_size);
  writer.sequence(message.update_id);
  writer.venue_time(message.time_t, message.time_e);
  return writer.status();
}

[[nodiscard]] ParseStatus fill_mark_price(const BinanceMessage& message, VenueTick& out) noexcept {
  detail::TickWriter writer(out);
  writer.price(message.mark, &VenueTick::mark, field::mark);
  writer.price(message.index, &VenueTick::index, field::index);
  writer.funding_rate(message.funding);
  writer.next_funding_time(message.time_t);
  writer.venue_time(message.time_e);
  return writer.status();
}

[[nodiscard]] ParseStatus classify(const BinanceMessage& message, const SymbolTable& symbols, VenueTick& out) noexcept {
  if (message.has_error || (message.has_code && !message.event.present())) {
    return ParseStatus::venue_error;
  }
  if (message.result.present()) {
    return message.result.kind == TokenKind::null ? ParseStatus::subscribed : ParseStatus::ignored;
  }
  if (message.data_invalid) {
    return ParseStatus::malformed;
  }
  if (!message.event.present()) {
    return ParseStatus::ignored;
  }
  if (message.event.kind != TokenKind::string) {
    return ParseStatus::malformed;
  }
  const bool book_ticker = detail::equals(message.event.text(), "bookTicker");
  if (!book_ticker && !detail::equals(message.event.text(), "markPriceUpdate")) {
    return ParseStatus::ignored; // depthUpdate, aggTrade, kline, ...
  }
  if (message.symbol.kind != TokenKind::string) {
    return ParseStatus::malformed;
  }
  const hedging::InstrumentId instrument = symbols.find(message.symbol.text());
  if (instrument == hedging::kNoInstrument) {
    return ParseStatus::ignored;
  }
  out.instrument = instrument;
  return book_ticker ? fill_book_ticker(message, out) : fill_mark_price(message, out);
}

} // namespace

BinanceParser::BinanceParser(std::span<const SymbolMapping> symbols, std::size_t max_message_bytes)
    : symbols_(symbols, SymbolTable::Case::upper), max_message_bytes_(max_message_bytes) {}

ParseStatus BinanceParser::parse(const char* data, std::size_t length, std::size_t capacity, VenueTick& out) noexcept {
  out = VenueTick{};
  if (!detail::fits(data, length, capacity, max_message_bytes_)) {
    return ParseStatus::malformed;
  }
  JsonCursor json(data, length);
  BinanceMessage message;
  read_message(json, json.open_root(), message);
  if (!json.finish()) {
    return ParseStatus::malformed;
  }
  const ParseStatus status = classify(message, symbols_, out);
  return status == ParseStatus::tick ? status : detail::without_tick(status, out);
}

std::string BinanceParser::subscribe_message(std::span<const std::string_view> symbols, std::uint64_t request_id) {
  std::string text = R"({"method":"SUBSCRIBE","params":[)";
  bool first = true;
  for (const std::string_view symbol : symbols) {
    check_symbol(symbol);
    std::string stream;
    for (const char c : symbol) {
      stream += c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    }
    text += first ? "\"" : ",\"";
    first = false;
    text += stream;
    text += R"(@bookTicker",")";
    text += stream;
    text += R"(@markPrice@1s")";
  }
  text += R"(],"id":)";
  text += std::to_string(request_id);
  text += '}';
  return text;
}

} // namespace synthusd::feeds
