#pragma once
// What the venue parsers (deribit_parser.hpp, okx_parser.hpp,
// binance_parser.hpp) share: the symbol table that maps venue symbols to
// instrument ids, and the padding their input needs.
//
// Every parser reads the message in place: the caller's buffer must hold
// kJsonPadding readable bytes after the message (the WebSocket decoder's
// message buffer does). Parsers never write to it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "synthusd/feeds/venue_tick.hpp"
#include "synthusd/hedging/types.hpp"

namespace synthusd::feeds {

// Readable bytes required after the message: the parsers' string scan reads
// 16 bytes at a time, and 64 is also simdjson's SIMDJSON_PADDING, which the
// WebSocket decoder's buffers have always provided.
inline constexpr std::size_t kJsonPadding = 64;

// Largest message a parser accepts by default. Tickers are under 1 KiB; the
// bound covers full-depth book snapshots of the channels we ignore.
inline constexpr std::size_t kDefaultMaxMessageBytes = std::size_t{1} << 20;

struct SymbolMapping {
  std::string_view venue_symbol; // as the venue spells it: "BTC-PERPETUAL", "BTC-USD-SWAP", "BTCUSD_PERP"
  hedging::InstrumentId instrument = hedging::kNoInstrument;
};

// Venue symbol -> instrument id, copied into fixed storage at construction.
// Lookups are a linear scan over at most kMaxSymbols short names: no hashing,
// no allocation, and faster than a map at this size.
class SymbolTable {
public:
  static constexpr std::size_t kMaxSymbols = 32;
  static constexpr std::size_t kMaxSymbolLength = 47;

  enum class Case : std::uint8_t { exact, upper }; // upper: stored upper-cased (Binance "s" is upper case)

  SymbolTable() noexcept = default;
  // Throws std::invalid_argument on more than kMaxSymbols mappings, an empty
  // or too long symbol, a character outside printable ASCII or a quote or
  // backslash (symbols are written into subscribe messages verbatim), a
  // duplicate symbol, or instrument == kNoInstrument.
  explicit SymbolTable(std::span<const SymbolMapping> mappings, Case letter_case = Case::exact);

  // kNoInstrument when the symbol is not configured.
  [[nodiscard]] hedging::InstrumentId find(std::string_view venue_symbol) const noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::string_view symbol(std::size_t i) const noexcept {
    return {entries_[i].name.data(), entries_[i].length};
  }
  [[nodiscard]] hedging::InstrumentId instrument(std::size_t i) const noexcept { return entries_[i].instrument; }

private:
  struct Entry {
    std::array<char, kMaxSymbolLength> name{};
    std::uint8_t length = 0;
    hedging::InstrumentId instrument = hedging::kNoInstrument;
  };
  std::array<Entry, kMaxSymbols> entries_{};
  std::size_t size_ = 0;
};

// Throws std::invalid_argument unless `text` could be a SymbolTable symbol;
// subscribe-message builders call it before writing names into JSON.
void check_symbol(std::string_view text);

// A stable lowercase name for logs and test messages, e.g. "heartbeat_request".
[[nodiscard]] std::string_view to_string(ParseStatus status) noexcept;


} // namespace synthusd::feeds
