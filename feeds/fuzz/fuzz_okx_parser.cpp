// libFuzzer target: OkxParser::parse on arbitrary bytes (fuzz_parser.hpp).
#include "fuzz_parser.hpp"

#include <array>

#include "synthusd/feeds/okx_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace synthusd::feeds;
  static const std::array<SymbolMapping, 4> symbols{
      {{"BTC-USD-SWAP", 0}, {"BTC-USD-250328", 1}, {"BTC-USD", 2}, {"BTC-USD-220527", 3}}};
  static OkxParser parser(symbols, 64 * 1024);
  fuzz::fuzz_one(parser, data, size);
  return 0;
}
