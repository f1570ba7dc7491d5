// libFuzzer target: DeribitParser::parse on arbitrary bytes (fuzz_parser.hpp).
#include "fuzz_parser.hpp"

#include <array>

#include "synthusd/feeds/deribit_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace synthusd::feeds;
  static const std::array<SymbolMapping, 3> symbols{
      {{"BTC-PERPETUAL", 0}, {"BTC-27DEC24", 1}, {"BTC-30APR21-54000-C", 2}}};
  static DeribitParser parser(symbols, 64 * 1024);
  fuzz::fuzz_one(parser, data, size);
  return 0;
}
