#include "synthusd/feeds/deribit_parser.hpp"

#include <charconv>
#include <cstring>
#include <stdexcept>

#include "json_cursor.hpp"

namespace synthusd::feeds {
namespace {

using detail::JsonCursor;
using detail::Token;
using detail::TokenKind;

// What one walk of a message found, as tokens into the caller's buffer.
struct DeribitMessage {
  Token result; // a reply to one of our requests
  bool has_error = false;
  bool params_invalid = false;
  Token channel;         // params.channel of a subscription notification
  Token type;            // params.type of a heartbeat
  bool has_data = false; // params.data was an object
  // params.data of ticker and book notifications
  Token timestamp;
  Token mark;
  Token index;
  Token bid;
  Token bid_amount;
  Token ask;
  Token ask_amount;
  // funding_8h: the rate per 8-hour interval, the unit of the kernel's
  // funding guard and carry (MarketUpdate::funding_rate is per interval).
  // current_funding is Deribit's instantaneous premium, which swings from
  // tick to tick: a guard fed with it would engage and release on noise.
  Token funding;
  Token change_id;
  Token prev_change_id;
};

void read_data(JsonCursor& json, DeribitMessage& message) noexcept {
  const JsonCursor::Level data = json.enter();
  std::string_view key;
  while (json.next_member(data, key)) {
    if (detail::equals(key, "timestamp")) {
      message.timestamp = json.value();
    } else if (detail::equals(key, "mark_price")) {
      message.mark = json.value();
    } else if (detail::equals(key, "index_price")) {
      message.index = json.value();
    } else if (detail::equals(key, "best_bid_price")) {
      message.bid = json.value();
    } else if (detail::equals(key, "best_bid_amount")) {
      message.bid_amount = json.value();
    } else if (detail::equals(key, "best_ask_price")) {
      message.ask = json.value();
    } else if (detail::equals(key, "best_ask_amount")) {
      message.ask_amount = json.value();
    } else if (detail::equals(key, "funding_8h")) {
      message.funding = json.value();
    } else if (detail::equals(key, "change_id")) {
      message.change_id = json.value();
    } else if (detail::equals(key, "prev_change_id")) {
      message.prev_change_id = json.value();
    }
    // stats, greeks, bids, asks and the rest are skipped (and checked) by the cursor.
  }
}

void read_params(JsonCursor& json, DeribitMessage& message) noexcept {
  const JsonCursor::Level params = json.enter();
  std::string_view key;
  while (json.next_member(params, key)) {
    if (detail::equals(key, "channel")) {
      message.channel = json.value();
    } else if (detail::equals(key, "data")) {
      // An object for tickers and books; an array for trades, which we skip.
      if (json.value().kind == TokenKind::object) {
        read_data(json, message);
        message.has_data = true;
      }
    } else if (detail::equals(key, "type")) {
      message.type = json.value();
    }
  }
}

void read_message(JsonCursor& json, JsonCursor::Level root, DeribitMessage& message) noexcept {
  std::string_view key;
  while (json.next_member(root, key)) {
    if (detail::equals(key, "params")) {
      if (json.value().kind != TokenKind::object) {
        message.params_invalid = true;
        continue;
      }
      read_params(json, message);
    } else if (detail::equals(key, "result")) {
      message.result = json.value();
    } else if (detail::equals(key, "error")) {
      message.has_error = true;
    }
    // jsonrpc, method, id, usIn, usOut, usDiff, testnet: not needed. The
    // method is implied by params (channel for subscription, type for heartbeat).
  }
}

struct Channel {
  std::string_view kind;       // "ticker", "book", "trades", ...
  std::string_view instrument; // "BTC-PERPETUAL"
};

// "ticker.BTC-PERPETUAL.100ms" -> {"ticker", "BTC-PERPETUAL"}. Instrument
// names never contain '.'.
[[nodiscard]] Channel split_channel(std::string_view channel) noexcept {
  const std::size_t first = channel.find('.');
  if (first == std::string_view::npos) {
    return {channel, {}};
  }
  const std::string_view rest = channel.substr(first + 1);
  return {channel.substr(0, first), rest.substr(0, rest.find('.'))};
}

[[nodiscard]] ParseStatus fill_ticker(const DeribitMessage& message, VenueTick& out) noexcept {
  detail::TickWriter writer(out);
  writer.price(message.bid, &VenueTick::bid, field::bid);
  writer.price(message.ask, &VenueTick::ask, field::ask);
  writer.size(message.bid_amount, &VenueTick::bid_size, field::bid_size);
  writer.size(message.ask_amount, &VenueTick::ask_size, field::ask_size);
  writer.price(message.mark, &VenueTick::mark, field::mark);
  writer.price(message.index, &VenueTick::index, field::index);
  writer.funding_rate(message.funding);
  writer.venue_time(message.timestamp);
  return writer.status();
}

[[nodiscard]] ParseStatus fill_book(const DeribitMessage& message, VenueTick& out) noexcept {
  if (!message.change_id.present()) {
    return ParseStatus::malformed;
  }
  detail::TickWriter writer(out);
  writer.sequence(message.change_id);
  writer.previous_sequence(message.prev_change_id);
  writer.venue_time(message.timestamp);
  return writer.status();
}

[[nodiscard]] ParseStatus classify(const DeribitMessage& message, const SymbolTable& symbols, VenueTick& out) noexcept {
  if (message.has_error) {
    return ParseStatus::venue_error;
  }
  if (message.result.present()) {
    // public/subscribe answers with the list of channels it subscribed;
    // public/test and public/set_heartbeat answer with an object or "ok".
    return message.result.kind == TokenKind::array ? ParseStatus::subscribed : ParseStatus::ignored;
  }
  if (message.params_invalid) {
    return ParseStatus::malformed;
  }
  if (message.type.present()) {
    // {"method":"heartbeat","params":{"type":"test_request"}} wants an answer;
    // {"type":"heartbeat"} is informational.
    return detail::is_string(message.type, "test_request") ? ParseStatus::heartbeat_request : ParseStatus::ignored;
  }
  if (!message.channel.present()) {
    return ParseStatus::ignored;
  }
  if (message.channel.kind != TokenKind::string) {
    return ParseStatus::malformed;
  }
  const Channel channel = split_channel(message.channel.text());
  const bool ticker = detail::equals(channel.kind, "ticker");
  if (!ticker && !detail::equals(channel.kind, "book")) {
    return ParseStatus::ignored;
  }
  const hedging::InstrumentId instrument = symbols.find(channel.instrument);
  if (instrument == hedging::kNoInstrument) {
    return ParseStatus::ignored;
  }
  if (!message.has_data) {
    return ParseStatus::malformed;
  }
  out.instrument = instrument;
  return ticker ? fill_ticker(message, out) : fill_book(message, out);
}

void append_id(std::string& text, std::uint64_t id) {
  char digits[20];
  const std::to_chars_result result = std::to_chars(digits, digits + sizeof digits, id);
  text.append(digits, result.ptr);
}

} // namespace

DeribitParser::DeribitParser(std::span<const SymbolMapping> symbols, std::size_t max_message_bytes)
    : symbols_(symbols), max_message_bytes_(max_message_bytes) {}

ParseStatus DeribitParser::parse(const char* data, std::size_t length, std::size_t capacity, VenueTick& out) noexcept {
  out = VenueTick{};
  if (!detail::fits(data, length, capacity, max_message_bytes_)) {
    return ParseStatus::malformed;
  }
  JsonCursor json(data, length);
  DeribitMessage message;
  read_message(json, json.open_root(), message);
  if (!json.finish()) {
    return ParseStatus::malformed;
  }
  const ParseStatus status = classify(message, symbols_, out);
  return status == ParseStatus::tick ? status : detail::without_tick(status, out);
}

std::string DeribitParser::subscribe_message(std::span<const std::string_view> instruments, std::uint64_t request_id,
                                             std::string_view interval) {
  check_symbol(interval);
  std::string text = R"({"jsonrpc":"2.0","id":)";
  append_id(text, request_id);
  text += R"(,"method":"public/subscribe","params":{"channels":[)";
  for (std::size_t i = 0; i < instruments.size(); ++i) {
    check_symbol(instruments[i]);
    if (instruments[i].find('.') != std::string_view::npos) {
      throw std::invalid_argument("Deribit instrument '" + std::string(instruments[i]) + "' contains '.'");
    }
    text += i == 0 ? R"("ticker.)" : R"(,"ticker.)";
    text += instruments[i];
    text += '.';
    text += interval;
    text += '"';
  }
  text += "]}}";
  return text;
}

std::string DeribitParser::set_heartbeat_message(std::uint32_t interval_seconds, std::uint64_t request_id) {
  if (interval_seconds < 10) {
    throw std::invalid_argument("Deribit heartbeat interval must be at least 10 s");
  }
  std::string text = R"({"jsonrpc":"2.0","id":)";
  append_id(text, request_id);
  text += R"(,"method":"public/set_heartbeat","params":{"interval":)";
  append_id(text, interval_seconds);
  text += "}}";
  return text;
}

std::size_t DeribitParser::heartbeat_response(std::uint64_t request_id, std::span<char> buffer) noexcept {
  constexpr std::string_view kPrefix = R"({"jsonrpc":"2.0","id":)";
  constexpr std::string_view kSuffix = R"(,"method":"public/test","params":{}})";
  static_assert(kPrefix.size() + 20 + kSuffix.size() <= kHeartbeatResponseMaxBytes);
  if (buffer.size() < kHeartbeatResponseMaxBytes) {
    return 0;
  }
  char* p = buffer.data();
  std::memcpy(p, kPrefix.data(), kPrefix.size());
  p += kPrefix.size();
  p = std::to_chars(p, p + 20, request_id).ptr;
  std::memcpy(p, kSuffix.data(), kSuffix.size());
  p += kSuffix.size();
  return static_cast<std::size_t>(p - buffer.data());
}

} // namespace synthusd::feeds
