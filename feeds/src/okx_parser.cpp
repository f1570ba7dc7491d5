#include "synthusd/feeds/okx_parser.hpp"

#include "json_cursor.hpp"

namespace synthusd::feeds {
namespace {

using detail::JsonCursor;
using detail::Token;
using detail::TokenKind;

// The first level of a books5 side: [px, sz, "0", orders].
struct Level {
  Token price;
  Token size;
  TokenKind kind = TokenKind::absent; // of the side itself: array unless malformed
  bool invalid = false;               // a level that is not an array
};

// What one walk of a message found, as tokens into the caller's buffer.
struct OkxMessage {
  Token event;
  Token channel;
  Token arg_instrument;
  bool arg_invalid = false;
  bool has_data = false;
  bool data_invalid = false; // data is not an array, or an entry is not an object
  std::size_t entries = 0;
  // data entries; a later entry overwrites an earlier one
  Token data_instrument;
  Token bid;
  Token ask;
  Token bid_size;
  Token ask_size;
  Token mark;
  Token index;
  Token funding;
  Token funding_time;
  Token sequence;
  Token previous_sequence;
  Token time;
  Level bids;
  Level asks;
};

void read_first_level(JsonCursor& json, Level& level) noexcept {
  level = Level{};
  level.kind = json.value().kind;
  if (level.kind != TokenKind::array) {
    return;
  }
  // Only the best level matters; the cursor skips (and checks) the rest.
  const JsonCursor::Level levels = json.enter();
  if (!json.next_element(levels)) {
    return;
  }
  if (json.value().kind != TokenKind::array) {
    level.invalid = true;
    return;
  }
  const JsonCursor::Level best = json.enter();
  if (json.next_element(best)) {
    level.price = json.value();
    if (json.next_element(best)) {
      level.size = json.value();
    }
  }
}

void read_entry(JsonCursor& json, JsonCursor::Level entry, OkxMessage& message) noexcept {
  std::string_view key;
  while (json.next_member(entry, key)) {
    if (detail::equals(key, "bidPx")) {
      message.bid = json.value();
    } else if (detail::equals(key, "askPx")) {
      message.ask = json.value();
    } else if (detail::equals(key, "bidSz")) {
      message.bid_size = json.value();
    } else if (detail::equals(key, "askSz")) {
      message.ask_size = json.value();
    } else if (detail::equals(key, "ts")) {
      message.time = json.value();
    } else if (detail::equals(key, "instId")) {
      message.data_instrument = json.value();
    } else if (detail::equals(key, "markPx")) {
      message.mark = json.value();
    } else if (detail::equals(key, "idxPx")) {
      message.index = json.value();
    } else if (detail::equals(key, "fundingRate")) {
      message.funding = json.value();
    } else if (detail::equals(key, "fundingTime")) {
      message.funding_time = json.value();
    } else if (detail::equals(key, "seqId")) {
      message.sequence = json.value();
    } else if (detail::equals(key, "prevSeqId")) {
      message.previous_sequence = json.value();
    } else if (detail::equals(key, "asks")) {
      read_first_level(json, message.asks);
    } else if (detail::equals(key, "bids")) {
      read_first_level(json, message.bids);
    }
    // nextFundingTime is the settlement after fundingTime (it goes with
    // nextFundingRate), so it is deliberately not read.
  }
}

void read_data(JsonCursor& json, OkxMessage& message) noexcept {
  message.has_data = true;
  if (json.value().kind != TokenKind::array) {
    message.data_invalid = true;
    return;
  }
  const JsonCursor::Level entries = json.enter();
  while (json.next_element(entries)) {
    ++message.entries;
    // Candle channels push arrays; they are ignored, so only an error if the
    // channel turns out to be one of ours.
    if (json.value().kind != TokenKind::object) {
      message.data_invalid = true;
      continue;
    }
    read_entry(json, json.enter(), message);
  }
}

void read_arg(JsonCursor& json, OkxMessage& message) noexcept {
  if (json.value().kind != TokenKind::object) {
    message.arg_invalid = true;
    return;
  }
  const JsonCursor::Level arg = json.enter();
  std::string_view key;
  while (json.next_member(arg, key)) {
    if (detail::equals(key, "channel")) {
      message.channel = json.value();
    } else if (detail::equals(key, "instId")) {
      message.arg_instrument = json.value();
    }
  }
}

void read_message(JsonCursor& json, JsonCursor::Level root, OkxMessage& message) noexcept {
  std::string_view key;
  while (json.next_member(root, key)) {
    if (detail::equals(key, "arg")) {
      read_arg(json, message);
    } else if (detail::equals(key, "data")) {
      read_data(json, message);
    } else if (detail::equals(key, "event")) {
      message.event = json.value();
    }
    // action (books snapshot/update), code, msg, connId: not needed.
  }
}

enum class OkxChannel : std::uint8_t { other, tickers, mark_price, funding_rate, book_top, index_tickers };

[[nodiscard]] OkxChannel channel_of(std::string_view name) noexcept {
  if (detail::equals(name, "tickers")) {
    return OkxChannel::tickers;
  }
  if (detail::equals(name, "mark-price")) {
    return OkxChannel::mark_price;
  }
  if (detail::equals(name, "funding-rate")) {
    return OkxChannel::funding_rate;
  }
  if (detail::equals(name, "books5") || detail::equals(name, "bbo-tbt")) {
    return OkxChannel::book_top;
  }
  if (detail::equals(name, "index-tickers")) {
    return OkxChannel::index_tickers;
  }
  return OkxChannel::other; // books (incremental), trades, candles, ...
}

[[nodiscard]] ParseStatus fill(OkxChannel channel, const OkxMessage& message, VenueTick& out) noexcept {
  detail::TickWriter writer(out);
  switch (channel) {
  case OkxChannel::tickers:
    writer.price(message.bid, &VenueTick::bid, field::bid);
    writer.price(message.ask, &VenueTick::ask, field::ask);
    writer.size(message.bid_size, &VenueTick::bid_size, field::bid_size);
    writer.size(message.ask_size, &VenueTick::ask_size, field::ask_size);
    break;
  case OkxChannel::mark_price:
    writer.price(message.mark, &VenueTick::mark, field::mark);
    break;
  case OkxChannel::funding_rate:
    writer.funding_rate(message.funding);
    writer.next_funding_time(message.funding_time);
    break;
  case OkxChannel::book_top:
    for (const Level* level : {&message.bids, &message.asks}) {
      if (level->invalid || (level->kind != TokenKind::absent && level->kind != TokenKind::array)) {
        return ParseStatus::malformed;
      }
    }
    writer.price(message.bids.price, &VenueTick::bid, field::bid);
    writer.size(message.bids.size, &VenueTick::bid_size, field::bid_size);
    writer.price(message.asks.price, &VenueTick::ask, field::ask);
    writer.size(message.asks.size, &VenueTick::ask_size, field::ask_size);
    writer.sequence(message.sequence);
    if (out.has(field::sequence)) {
      writer.previous_sequence(message.previous_sequence);
    }
    break;
  case OkxChannel::index_tickers:
    writer.price(message.index, &VenueTick::index, field::index);
    break;
  case OkxChannel::other:
    return ParseStatus::ignored;
  }
  writer.venue_time(message.time);
  return writer.status();
}

[[nodiscard]] ParseStatus classify(const OkxMessage& message, const SymbolTable& symbols, VenueTick& out) noexcept {
  if (message.event.present()) {
    if (message.event.kind != TokenKind::string) {
      return ParseStatus::malformed;
    }
    if (detail::equals(message.event.text(), "subscribe")) {
      return ParseStatus::subscribed;
    }
    return detail::equals(message.event.text(), "error") ? ParseStatus::venue_error
                                                         : ParseStatus::ignored; // unsubscribe, notice, ...
  }
  if (message.arg_invalid || (message.channel.present() && message.channel.kind != TokenKind::string)) {
    return ParseStatus::malformed;
  }
  const OkxChannel channel = channel_of(message.channel.text());
  if (channel == OkxChannel::other) {
    return ParseStatus::ignored;
  }
  const Token instrument_token = message.arg_instrument.present() ? message.arg_instrument : message.data_instrument;
  if (instrument_token.kind != TokenKind::string || !message.has_data) {
    return ParseStatus::malformed;
  }
  const hedging::InstrumentId instrument = symbols.find(instrument_token.text());
  if (instrument == hedging::kNoInstrument) {
    return ParseStatus::ignored;
  }
  if (message.data_invalid) {
    return ParseStatus::malformed;
  }
  if (message.entries == 0) {
    return ParseStatus::ignored;
  }
  out.instrument = instrument;
  return fill(channel, message, out);
}

} // namespace

OkxParser::OkxParser(std::span<const SymbolMapping> symbols, std::size_t max_message_bytes)
    : symbols_(symbols), max_message_bytes_(max_message_bytes) {}

ParseStatus OkxParser::parse(const char* data, std::size_t length, std::size_t capacity, VenueTick& out) noexcept {
  out = VenueTick{};
  if (!detail::fits(data, length, capacity, max_message_bytes_)) {
    return ParseStatus::malformed;
  }
  // The keep-alive answer is the bare text "pong", not JSON.
  if (detail::equals(std::string_view(data, length), "pong")) {
    return ParseStatus::pong;
  }
  JsonCursor json(data, length);
  OkxMessage message;
  read_message(json, json.open_root(), message);
  if (!json.finish()) {
    return ParseStatus::malformed;
  }
  const ParseStatus status = classify(message, symbols_, out);
  return status == ParseStatus::tick ? status : detail::without_tick(status, out);
}

std::string OkxParser::subscribe_message(std::span<const std::string_view> instruments) {
  std::string text = R"({"op":"subscribe","args":[)";
  bool first = true;
  const auto add = [&](std::string_view channel, std::string_view instrument) {
    text += first ? R"({"channel":")" : R"(,{"channel":")";
    first = false;
    text += channel;
    text += R"(","instId":")";
    text += instrument;
    text += R"("})";
  };
  for (const std::string_view instrument : instruments) {
    check_symbol(instrument);
    add("tickers", instrument);
    add("mark-price", instrument);
    if (instrument.ends_with("-SWAP")) {
      add("funding-rate", instrument); // dated futures have no funding: OKX would answer with an error
    }
    add("books5", instrument);
  }
  text += "]}";
  return text;
}

} // namespace synthusd::feeds
