#include "synthusd/feeds/okx_parser.hpp"

#include <cstring>

#include "json_scan.hpp"

namespace synthusd::feeds {
namespace {

namespace ondemand = simdjson::ondemand;
using detail::capture;
using detail::key_text;
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

simdjson::error_code read_first_level(ondemand::value& value, Level& level) noexcept {
  level = Level{};
  level.kind = capture(value).kind;
  if (level.kind != TokenKind::array) {
    return simdjson::SUCCESS;
  }
  ondemand::array levels;
  if (const simdjson::error_code error = value.get_array().get(levels)) {
    return error;
  }
  // Only the best level matters; leaving the loop early lets simdjson skip the rest.
  for (auto level_result : levels) {
    ondemand::value best;
    if (const simdjson::error_code error = detail::element(level_result, best)) {
      return error;
    }
    if (capture(best).kind != TokenKind::array) {
      level.invalid = true;
      break;
    }
    ondemand::array entries;
    if (const simdjson::error_code error = best.get_array().get(entries)) {
      return error;
    }
    bool first = true;
    for (auto entry_result : entries) {
      ondemand::value entry;
      if (const simdjson::error_code error = detail::element(entry_result, entry)) {
        return error;
      }
      if (first) {
        level.price = capture(entry);
        first = false;
      } else {
        level.size = capture(entry);
        break;
      }
    }
    break;
  }
  return simdjson::SUCCESS;
}

simdjson::error_code read_entry(ondemand::object entry, const char* end, OkxMessage& message) noexcept {
  for (auto field_result : entry) {
    ondemand::field field;
    if (const simdjson::error_code error = std::move(field_result).get(field)) {
      return error;
    }
    const std::string_view key = key_text(field, end);
    ondemand::value& value = field.value();
    if (key == "bidPx") {
      message.bid = capture(value);
    } else if (key == "askPx") {
      message.ask = capture(value);
    } else if (key == "bidSz") {
      message.bid_size = capture(value);
    } else if (key == "askSz") {
      message.ask_size = capture(value);
    } else if (key == "ts") {
      message.time = capture(value);
    } else if (key == "instId") {
      message.data_instrument = capture(value);
    } else if (key == "markPx") {
      message.mark = capture(value);
    } else if (key == "idxPx") {
      message.index = capture(value);
    } else if (key == "fundingRate") {
      message.funding = capture(value);
    } else if (key == "fundingTime") {
      message.funding_time = capture(value);
    } else if (key == "seqId") {
      message.sequence = capture(value);
    } else if (key == "prevSeqId") {
      message.previous_sequence = capture(value);
    } else if (key == "asks") {
      if (const simdjson::error_code error = read_first_level(value, message.asks)) {
        return error;
      }
    } else if (key == "bids") {
      if (const simdjson::error_code error = read_first_level(value, message.bids)) {
        return error;
      }
    }
    // nextFundingTime is the settlement after fundingTime (it goes with
    // nextFundingRate), so it is deliberately not read.
  }
  return simdjson::SUCCESS;
}

simdjson::error_code read_data(ondemand::value& value, const char* end, OkxMessage& message) noexcept {
  message.has_data = true;
  if (capture(value).kind != TokenKind::array) {
    message.data_invalid = true;
    return simdjson::SUCCESS;
  }
  ondemand::array entries;
  if (const simdjson::error_code error = value.get_array().get(entries)) {
    return error;
  }
  for (auto entry_result : entries) {
    ondemand::value entry;
    if (const simdjson::error_code error = detail::element(entry_result, entry)) {
      return error;
    }
    ++message.entries;
    // Candle channels push arrays; they are ignored, so only an error if the
    // channel turns out to be one of ours.
    if (capture(entry).kind != TokenKind::object) {
      message.data_invalid = true;
      continue;
    }
    ondemand::object object;
    if (const simdjson::error_code error = entry.get_object().get(object)) {
      return error;
    }
    if (const simdjson::error_code error = read_entry(object, end, message)) {
      return error;
    }
  }
  return simdjson::SUCCESS;
}

simdjson::error_code read_arg(ondemand::value& value, const char* end, OkxMessage& message) noexcept {
  if (capture(value).kind != TokenKind::object) {
    message.arg_invalid = true;
    return simdjson::SUCCESS;
  }
  ondemand::object arg;
  if (const simdjson::error_code error = value.get_object().get(arg)) {
    return error;
  }
  for (auto field_result : arg) {
    ondemand::field field;
    if (const simdjson::error_code error = std::move(field_result).get(field)) {
      return error;
    }
    const std::string_view key = key_text(field, end);
    if (key == "channel") {
      message.channel = capture(field.value());
    } else if (key == "instId") {
      message.arg_instrument = capture(field.value());
    }
  }
  return simdjson::SUCCESS;
}

simdjson::error_code read_message(ondemand::object root, const char* end, OkxMessage& message) noexcept {
  for (auto field_result : root) {
    ondemand::field field;
    if (const simdjson::error_code error = std::move(field_result).get(field)) {
      return error;
    }
    const std::string_view key = key_text(field, end);
    ondemand::value& value = field.value();
    simdjson::error_code error = simdjson::SUCCESS;
    if (key == "arg") {
      error = read_arg(value, end, message);
    } else if (key == "data") {
      error = read_data(value, end, message);
    } else if (key == "event") {
      message.event = capture(value);
    }
    // action (books snapshot/update), code, msg, connId: not needed.
    if (error != simdjson::SUCCESS) {
      return error;
    }
  }
  return simdjson::SUCCESS;
}

enum class OkxChannel : std::uint8_t { other, tickers, mark_price, funding_rate, book_top, index_tickers };

[[nodiscard]] OkxChannel channel_of(std::string_view name) noexcept {
  if (name == "tickers") {
    return OkxChannel::tickers;
  }
  if (name == "mark-price") {
    return OkxChannel::mark_price;
  }
  if (name == "funding-rate") {
    return OkxChannel::funding_rate;
  }
  if (name == "books5" || name == "bbo-tbt") {
    return OkxChannel::book_top;
  }
  if (name == "index-tickers") {
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
    if (message.event.text == "subscribe") {
      return ParseStatus::subscribed;
    }
    return message.event.text == "error" ? ParseStatus::venue_error : ParseStatus::ignored; // unsubscribe, notice, ...
  }
  if (message.arg_invalid || (message.channel.present() && message.channel.kind != TokenKind::string)) {
    return ParseStatus::malformed;
  }
  const OkxChannel channel = channel_of(message.channel.text);
  if (channel == OkxChannel::other) {
    return ParseStatus::ignored;
  }
  const Token instrument_token = message.arg_instrument.present() ? message.arg_instrument : message.data_instrument;
  if (instrument_token.kind != TokenKind::string || !message.has_data) {
    return ParseStatus::malformed;
  }
  const hedging::InstrumentId instrument = symbols.find(instrument_token.text);
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
    : symbols_(symbols), json_(detail::make_json_parser(max_message_bytes)) {}

ParseStatus OkxParser::parse(const char* data, std::size_t length, std::size_t capacity, VenueTick& out) noexcept {
  out = VenueTick{};
  // The keep-alive answer is the bare text "pong", not JSON.
  constexpr std::string_view kPong = "pong";
  if (data != nullptr && length == kPong.size() && capacity >= length + kJsonPadding &&
      std::memcmp(data, kPong.data(), kPong.size()) == 0) {
    return ParseStatus::pong;
  }
  ondemand::object root;
  if (detail::open_object(*json_, data, length, capacity, root) != simdjson::SUCCESS) {
    return ParseStatus::malformed;
  }
  OkxMessage message;
  if (read_message(root, data + length, message) != simdjson::SUCCESS || detail::finish(*json_) != simdjson::SUCCESS) {
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
