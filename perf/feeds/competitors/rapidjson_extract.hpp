#pragma once
// RapidJSON DOM extractors for the parser benchmark: the same fields as
// feeds::{Deribit,Okx,Binance}Parser for one ticker message of each venue.
//
// Written the fast way RapidJSON documents: memory-pool allocators over
// buffers reused between messages (no malloc per parse), and
// kParseNumbersAsStringsFlag, which keeps each number's text so that prices
// are parsed exactly (decimal.hpp), as the simdjson parser does.

#include <rapidjson/document.h>

#include <array>
#include <cstdint>
#include <string_view>

#include "competitors/fixed_point.hpp"
#include "synthusd/feeds/venue_parser.hpp"

namespace synthusd::perf::rapidjson_extract {

class Extractor {
  using Allocator = rapidjson::MemoryPoolAllocator<rapidjson::CrtAllocator>;
  using Document = rapidjson::GenericDocument<rapidjson::UTF8<>, Allocator, Allocator>;
  using Value = Document::ValueType;

public:
  feeds::ParseStatus deribit_ticker(std::string_view text, const feeds::SymbolTable& symbols, feeds::VenueTick& out) {
    out = feeds::VenueTick{};
    Allocator values(value_buffer_.data(), value_buffer_.size());
    Allocator stack(stack_buffer_.data(), stack_buffer_.size());
    Document document(&values, stack_buffer_.size(), &stack);
    document.Parse<rapidjson::kParseNumbersAsStringsFlag>(text.data(), text.size());
    if (document.HasParseError() || !document.IsObject()) {
      return feeds::ParseStatus::malformed;
    }
    // Lookups go through a const view: comparing a non-const MemberIterator
    // with MemberEnd() is ambiguous under C++20's reversed operators (clang warns).
    const Value& root = document;
    const auto params = root.FindMember("params");
    if (params == root.MemberEnd() || !params->value.IsObject()) {
      return feeds::ParseStatus::ignored;
    }
    const auto channel = params->value.FindMember("channel");
    const auto data = params->value.FindMember("data");
    if (channel == params->value.MemberEnd() || !channel->value.IsString() || data == params->value.MemberEnd() ||
        !data->value.IsObject()) {
      return feeds::ParseStatus::ignored;
    }
    const std::string_view name = view(channel->value);
    if (!name.starts_with("ticker.")) {
      return feeds::ParseStatus::ignored;
    }
    const std::string_view rest = name.substr(7);
    out.instrument = symbols.find(rest.substr(0, rest.find('.')));
    if (out.instrument == hedging::kNoInstrument) {
      return feeds::ParseStatus::ignored;
    }
    FixedPointWriter writer(out);
    const Value& fields = data->value;
    const auto text_of = [&](const char* key) { return member_text(fields, key, writer); };
    writer.price(text_of("best_bid_price"), &feeds::VenueTick::bid, feeds::field::bid);
    writer.price(text_of("best_ask_price"), &feeds::VenueTick::ask, feeds::field::ask);
    writer.size(text_of("best_bid_amount"), &feeds::VenueTick::bid_size, feeds::field::bid_size);
    writer.size(text_of("best_ask_amount"), &feeds::VenueTick::ask_size, feeds::field::ask_size);
    writer.price(text_of("mark_price"), &feeds::VenueTick::mark, feeds::field::mark);
    writer.price(text_of("index_price"), &feeds::VenueTick::index, feeds::field::index);
    writer.funding_rate(text_of("funding_8h"));
    writer.venue_time_ms(text_of("timestamp"));
    return finish(writer, out);
  }

  feeds::ParseStatus okx_tickers(std::string_view text, const feeds::SymbolTable& symbols, feeds::VenueTick& out) {
    out = feeds::VenueTick{};
    Allocator values(value_buffer_.data(), value_buffer_.size());
    Allocator stack(stack_buffer_.data(), stack_buffer_.size());
    Document document(&values, stack_buffer_.size(), &stack);
    document.Parse<rapidjson::kParseNumbersAsStringsFlag>(text.data(), text.size());
    if (document.HasParseError() || !document.IsObject()) {
      return feeds::ParseStatus::malformed;
    }
    // Lookups go through a const view: comparing a non-const MemberIterator
    // with MemberEnd() is ambiguous under C++20's reversed operators (clang warns).
    const Value& root = document;
    const auto arg = root.FindMember("arg");
    const auto data = root.FindMember("data");
    if (arg == root.MemberEnd() || !arg->value.IsObject() || data == root.MemberEnd() || !data->value.IsArray()) {
      return feeds::ParseStatus::ignored;
    }
    const auto channel = arg->value.FindMember("channel");
    const auto instrument = arg->value.FindMember("instId");
    if (channel == arg->value.MemberEnd() || !channel->value.IsString() || view(channel->value) != "tickers" ||
        instrument == arg->value.MemberEnd() || !instrument->value.IsString()) {
      return feeds::ParseStatus::ignored;
    }
    out.instrument = symbols.find(view(instrument->value));
    if (out.instrument == hedging::kNoInstrument) {
      return feeds::ParseStatus::ignored;
    }
    FixedPointWriter writer(out);
    for (const Value& entry : data->value.GetArray()) {
      if (!entry.IsObject()) {
        writer.invalid();
        continue;
      }
      const auto text_of = [&](const char* key) { return member_text(entry, key, writer); };
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
    Allocator values(value_buffer_.data(), value_buffer_.size());
    Allocator stack(stack_buffer_.data(), stack_buffer_.size());
    Document document(&values, stack_buffer_.size(), &stack);
    // Numbers stay numbers here: "u" and "T" are integers, and prices are strings anyway.
    document.Parse(text.data(), text.size());
    if (document.HasParseError() || !document.IsObject()) {
      return feeds::ParseStatus::malformed;
    }
    // Lookups go through a const view: comparing a non-const MemberIterator
    // with MemberEnd() is ambiguous under C++20's reversed operators (clang warns).
    const Value& root = document;
    const auto data = root.FindMember("data");
    const Value& event = data != root.MemberEnd() ? data->value : root;
    if (!event.IsObject()) {
      return feeds::ParseStatus::malformed;
    }
    const auto type = event.FindMember("e");
    const auto symbol = event.FindMember("s");
    if (type == event.MemberEnd() || !type->value.IsString() || view(type->value) != "bookTicker" ||
        symbol == event.MemberEnd() || !symbol->value.IsString()) {
      return feeds::ParseStatus::ignored;
    }
    out.instrument = symbols.find(view(symbol->value));
    if (out.instrument == hedging::kNoInstrument) {
      return feeds::ParseStatus::ignored;
    }
    FixedPointWriter writer(out);
    const auto text_of = [&](const char* key) { return member_text(event, key, writer); };
    writer.price(text_of("b"), &feeds::VenueTick::bid, feeds::field::bid);
    writer.size(text_of("B"), &feeds::VenueTick::bid_size, feeds::field::bid_size);
    writer.price(text_of("a"), &feeds::VenueTick::ask, feeds::field::ask);
    writer.size(text_of("A"), &feeds::VenueTick::ask_size, feeds::field::ask_size);
    if (const auto update = event.FindMember("u"); update != event.MemberEnd() && update->value.IsUint64()) {
      writer.sequence(update->value.GetUint64());
    }
    if (const auto time = event.FindMember("T"); time != event.MemberEnd() && time->value.IsUint64()) {
      writer.venue_time_ms(time->value.GetUint64());
    }
    return finish(writer, out);
  }

private:
  static std::string_view view(const Value& value) { return {value.GetString(), value.GetStringLength()}; }

  // A string member's text (numbers are strings under kParseNumbersAsStringsFlag), "" if absent or null.
  static std::string_view member_text(const Value& object, const char* key, FixedPointWriter& writer) {
    const auto it = object.FindMember(key);
    if (it == object.MemberEnd() || it->value.IsNull()) {
      return {};
    }
    if (!it->value.IsString()) {
      writer.invalid();
      return {};
    }
    return view(it->value);
  }

  static feeds::ParseStatus finish(const FixedPointWriter& writer, feeds::VenueTick& out) {
    const feeds::ParseStatus status = writer.status();
    if (status != feeds::ParseStatus::tick) {
      out = feeds::VenueTick{};
    }
    return status;
  }

  alignas(8) std::array<char, 16 * 1024> value_buffer_{};
  alignas(8) std::array<char, 4 * 1024> stack_buffer_{};
};

} // namespace synthusd::perf::rapidjson_extract
