#pragma once
// nlohmann::json DOM extractors for the parser benchmark: the same fields as
// feeds::{Deribit,Okx,Binance}Parser for one ticker message of each venue,
// written the way the library is normally used (parse a DOM, find() each key).
//
// nlohmann stores JSON numbers as double, so a Deribit price is turned back
// into its shortest decimal text with std::to_chars (the venue's own text for
// any number it printed in shortest form) and then parsed exactly like the
// simdjson parser does. The benchmark checks that the results are identical.

#include <nlohmann/json.hpp>

#include <array>
#include <charconv>
#include <string>
#include <string_view>

#include "competitors/fixed_point.hpp"
#include "synthusd/feeds/venue_parser.hpp"

namespace synthusd::perf::nlohmann_extract {

using json = nlohmann::json;

class Extractor {
public:
  feeds::ParseStatus deribit_ticker(std::string_view text, const feeds::SymbolTable& symbols, feeds::VenueTick& out) {
    out = feeds::VenueTick{};
    const json document = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded() || !document.is_object()) {
      return feeds::ParseStatus::malformed;
    }
    const auto params = document.find("params");
    if (params == document.end() || !params->is_object()) {
      return feeds::ParseStatus::ignored;
    }
    const auto channel = params->find("channel");
    const auto data = params->find("data");
    if (channel == params->end() || !channel->is_string() || data == params->end() || !data->is_object()) {
      return feeds::ParseStatus::ignored;
    }
    const std::string_view name = channel->get_ref<const std::string&>();
    if (!name.starts_with("ticker.")) {
      return feeds::ParseStatus::ignored;
    }
    const std::string_view rest = name.substr(7);
    out.instrument = symbols.find(rest.substr(0, rest.find('.')));
    if (out.instrument == hedging::kNoInstrument) {
      return feeds::ParseStatus::ignored;
    }
    FixedPointWriter writer(out);
    const auto number = [&](const char* key) { return number_text(*data, key, writer); };
    writer.price(number("best_bid_price"), &feeds::VenueTick::bid, feeds::field::bid);
    writer.price(number("best_ask_price"), &feeds::VenueTick::ask, feeds::field::ask);
    writer.size(number("best_bid_amount"), &feeds::VenueTick::bid_size, feeds::field::bid_size);
    writer.size(number("best_ask_amount"), &feeds::VenueTick::ask_size, feeds::field::ask_size);
    writer.price(number("mark_price"), &feeds::VenueTick::mark, feeds::field::mark);
    writer.price(number("index_price"), &feeds::VenueTick::index, feeds::field::index);
    writer.funding_rate(number("funding_8h"));
    if (const auto timestamp = data->find("timestamp"); timestamp != data->end()) {
      if (timestamp->is_number_unsigned()) {
        writer.venue_time_ms(timestamp->get<std::uint64_t>());
      } else {
        writer.invalid();
      }
    }
    return finish(writer, out);
  }

  feeds::ParseStatus okx_tickers(std::string_view text, const feeds::SymbolTable& symbols, feeds::VenueTick& out) {
    out = feeds::VenueTick{};
    const json document = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded() || !document.is_object()) {
      return feeds::ParseStatus::malformed;
    }
    const auto arg = document.find("arg");
    const auto data = document.find("data");
    if (arg == document.end() || !arg->is_object() || data == document.end() || !data->is_array()) {
      return feeds::ParseStatus::ignored;
    }
    const auto channel = arg->find("channel");
    const auto instrument = arg->find("instId");
    if (channel == arg->end() || *channel != "tickers" || instrument == arg->end() || !instrument->is_string()) {
      return feeds::ParseStatus::ignored;
    }
    out.instrument = symbols.find(instrument->get_ref<const std::string&>());
    if (out.instrument == hedging::kNoInstrument) {
      return feeds::ParseStatus::ignored;
    }
    FixedPointWriter writer(out);
    for (const json& entry : *data) {
      if (!entry.is_object()) {
        writer.invalid();
        continue;
      }
      const auto text_of = [&](const char* key) { return string_text(entry, key, writer); };
      writer.price(text_of("bidPx"), &feeds::VenueTick::bid, feeds::field::bid);
      writer.price(text_of("askPx"), &feeds::VenueTick::ask, feeds::field::ask);
      writer.size(text_of("bidSz"), &feeds::VenueTick::bid_size, feeds::field::bid_size);
      writer.size(text_of("askSz"), &feeds::VenueTick::ask_size, feeds::field::ask_size);
      writer.venue_time_ms(text_of("ts"));
    }
    return finish(writer, out);
  }

  feeds::ParseStatus binance_book_ticker(std::string_view text, const feeds::SymbolTable& symbols,
                                         feeds::VenueTick& out) {
    out = feeds::VenueTick{};
    const json document = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded() || !document.is_object()) {
      return feeds::ParseStatus::malformed;
    }
    const auto data = document.find("data");
    const json& event = data != document.end() ? *data : document;
    if (!event.is_object()) {
      return feeds::ParseStatus::malformed;
    }
    const auto type = event.find("e");
    const auto symbol = event.find("s");
    if (type == event.end() || *type != "bookTicker" || symbol == event.end() || !symbol->is_string()) {
      return feeds::ParseStatus::ignored;
    }
    out.instrument = symbols.find(symbol->get_ref<const std::string&>());
    if (out.instrument == hedging::kNoInstrument) {
      return feeds::ParseStatus::ignored;
    }
    FixedPointWriter writer(out);
    const auto text_of = [&](const char* key) { return string_text(event, key, writer); };
    writer.price(text_of("b"), &feeds::VenueTick::bid, feeds::field::bid);
    writer.size(text_of("B"), &feeds::VenueTick::bid_size, feeds::field::bid_size);
    writer.price(text_of("a"), &feeds::VenueTick::ask, feeds::field::ask);
    writer.size(text_of("A"), &feeds::VenueTick::ask_size, feeds::field::ask_size);
    if (const auto update = event.find("u"); update != event.end() && update->is_number_unsigned()) {
      writer.sequence(update->get<std::uint64_t>());
    }
    if (const auto time = event.find("T"); time != event.end() && time->is_number_unsigned()) {
      writer.venue_time_ms(time->get<std::uint64_t>());
    }
    return finish(writer, out);
  }

private:
  // Shortest decimal text of a number member, "" if absent or null.
  std::string_view number_text(const json& object, const char* key, FixedPointWriter& writer) {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) {
      return {};
    }
    std::to_chars_result result{};
    if (it->is_number_float()) {
      result = std::to_chars(buffer_.data(), buffer_.data() + buffer_.size(), it->get<double>());
    } else if (it->is_number_unsigned()) {
      result = std::to_chars(buffer_.data(), buffer_.data() + buffer_.size(), it->get<std::uint64_t>());
    } else if (it->is_number_integer()) {
      result = std::to_chars(buffer_.data(), buffer_.data() + buffer_.size(), it->get<std::int64_t>());
    } else {
      writer.invalid();
      return {};
    }
    return {buffer_.data(), static_cast<std::size_t>(result.ptr - buffer_.data())};
  }

  static std::string_view string_text(const json& object, const char* key, FixedPointWriter& writer) {
    const auto it = object.find(key);
    if (it == object.end()) {
      return {};
    }
    if (!it->is_string()) {
      writer.invalid();
      return {};
    }
    return it->get_ref<const std::string&>();
  }

  static feeds::ParseStatus finish(const FixedPointWriter& writer, feeds::VenueTick& out) {
    const feeds::ParseStatus status = writer.status();
    if (status != feeds::ParseStatus::tick) {
      out = feeds::VenueTick{};
    }
    return status;
  }

  std::array<char, 32> buffer_{};
};

} // namespace synthusd::perf::nlohmann_extract
