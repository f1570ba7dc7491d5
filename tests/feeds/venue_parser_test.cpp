#include "synthusd/feeds/venue_parser.hpp"

#include <gtest/gtest.h>

#include <array>
#include <stdexcept>
#include <string>
#include <vector>

namespace synthusd::feeds {
namespace {

TEST(SymbolTableTest, FindsConfiguredSymbolsOnly) {
  const std::array<SymbolMapping, 2> mappings{{{"BTC-PERPETUAL", 4}, {"BTC-27DEC24", 9}}};
  const SymbolTable table(mappings);
  EXPECT_EQ(table.size(), 2U);
  EXPECT_EQ(table.find("BTC-PERPETUAL"), 4);
  EXPECT_EQ(table.find("BTC-27DEC24"), 9);
  EXPECT_EQ(table.find("btc-perpetual"), hedging::kNoInstrument);
  EXPECT_EQ(table.find("BTC-PERPETUA"), hedging::kNoInstrument);
  EXPECT_EQ(table.find(""), hedging::kNoInstrument);
  EXPECT_EQ(table.symbol(1), "BTC-27DEC24");
  EXPECT_EQ(table.instrument(1), 9);
}

TEST(SymbolTableTest, CopiesTheNamesItIsGiven) {
  std::string name = "BTC-USD-SWAP";
  const std::array<SymbolMapping, 1> mappings{{{name, 1}}};
  const SymbolTable table(mappings);
  name.assign("XXXXXXXXXXXX");
  EXPECT_EQ(table.find("BTC-USD-SWAP"), 1);
}

TEST(SymbolTableTest, CanStoreUpperCase) {
  const std::array<SymbolMapping, 1> mappings{{{"btcusd_perp", 2}}};
  const SymbolTable table(mappings, SymbolTable::Case::upper);
  EXPECT_EQ(table.find("BTCUSD_PERP"), 2);
  EXPECT_EQ(table.find("btcusd_perp"), hedging::kNoInstrument);
}

TEST(SymbolTableTest, RejectsBadTables) {
  const auto make = [](std::vector<SymbolMapping> mappings) { return SymbolTable(mappings); };
  EXPECT_THROW(make({{"", 1}}), std::invalid_argument);
  EXPECT_THROW(make({{std::string_view("BTC PERP"), 1}}), std::invalid_argument);
  EXPECT_THROW(make({{"BTC\"", 1}}), std::invalid_argument);
  EXPECT_THROW(make({{"BTC\\", 1}}), std::invalid_argument);
  EXPECT_THROW(make({{"BTC\x01", 1}}), std::invalid_argument);
  EXPECT_THROW(make({{"BTC-PERPETUAL", hedging::kNoInstrument}}), std::invalid_argument);
  EXPECT_THROW(make({{"BTC-PERPETUAL", 1}, {"BTC-PERPETUAL", 2}}), std::invalid_argument);
  const std::string longest(SymbolTable::kMaxSymbolLength, 'A');
  EXPECT_NO_THROW(make({{longest, 1}}));
  EXPECT_THROW(make({{longest + "A", 1}}), std::invalid_argument);

  std::vector<std::string> names;
  for (std::size_t i = 0; i <= SymbolTable::kMaxSymbols; ++i) {
    names.push_back("S" + std::to_string(i));
  }
  std::vector<SymbolMapping> mappings;
  for (std::size_t i = 0; i < SymbolTable::kMaxSymbols; ++i) {
    mappings.push_back({names[i], static_cast<hedging::InstrumentId>(i)});
  }
  EXPECT_NO_THROW(make(mappings));
  mappings.push_back({names.back(), 99});
  EXPECT_THROW(make(mappings), std::invalid_argument);
}

TEST(ParseStatusTest, HasStableNames) {
  EXPECT_EQ(to_string(ParseStatus::tick), "tick");
  EXPECT_EQ(to_string(ParseStatus::ignored), "ignored");
  EXPECT_EQ(to_string(ParseStatus::subscribed), "subscribed");
  EXPECT_EQ(to_string(ParseStatus::heartbeat_request), "heartbeat_request");
  EXPECT_EQ(to_string(ParseStatus::pong), "pong");
  EXPECT_EQ(to_string(ParseStatus::venue_error), "venue_error");
  EXPECT_EQ(to_string(ParseStatus::malformed), "malformed");
}

} // namespace
} // namespace synthusd::feeds
