// libFuzzer target: BinanceParser::parse on arbitrary bytes (fuzz_parser.hpp).
#include "fuzz_parser.hpp"

#include <array>

#include "synthusd/feeds/binance_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace synthusd::feeds;
  static const std::array<SymbolMapping, 2> symbols{{{"BTCUSD_PERP", 0}, {"BTCUSD_250328", 1}}};
  static BinanceParser parser(symbols, 64 * 1024);
  fuzz::fuzz_one(parser, data, size);
  return 0;
}
