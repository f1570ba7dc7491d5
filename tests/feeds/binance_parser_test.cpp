#include "synthusd/feeds/binance_parser.hpp"

#include "parser_test_support.hpp"
#include "support/allocation_counter.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

namespace synthusd::feeds {
namespace {

using test::ms_to_ns;
using test::parse_text;

constexpr hedging::InstrumentId kPerpetual = 0;
constexpr hedging::InstrumentId kMarch = 1;

// Lower case, as in stream names: the parser matches "s" whatever the case.
const std::array<SymbolMapping, 2> kSymbols{{{"btcusd_perp", kPerpetual}, {"BTCUSD_250328", kMarch}}};

constexpr std::uint32_t kBookFields = field::bid | field::ask | field::bid_size | field::ask_size | field::sequence;

// The examples of perf_and_feeds.md §5.
constexpr std::string_view kDocumentedBookTicker =
    R"({"stream":"btcusd_perp@bookTicker","data":{"e":"bookTicker","u":11660059839759,"s":"BTCUSD_PERP","ps":"BTCUSD","b":"83732.4","B":"680","a":"83732.5","A":"2458","T":1790373637547,"E":1790373637547,"st":2}})";
constexpr std::string_view kDocumentedMarkPrice =
    R"({"stream":"btcusd_perp@markPrice","data":{"e":"markPriceUpdate","E":1617309477000,"s":"BTCUSD_PERP","p":"59012.56007222","P":"58896.00503145","r":"0.00073689","T":1617321600000}})";

class BinanceParserTest : public ::testing::Test {
protected:
  BinanceParser parser_{kSymbols};
  VenueTick tick_;

  ParseStatus parse(std::string_view text) { return parse_text(parser_, text, tick_); }
};

TEST_F(BinanceParserTest, ParsesTheDocumentedBookTickerExactly) {
  ASSERT_EQ(parse(kDocumentedBookTicker), ParseStatus::tick);
  EXPECT_EQ(tick_.instrument, kPerpetual);
  EXPECT_EQ(tick_.fields, kBookFields);
  EXPECT_EQ(tick_.bid.raw, 8'373'240'000'000); // 83732.4
  EXPECT_EQ(tick_.bid_size, 68'000'000'000);   // 680 contracts
  EXPECT_EQ(tick_.ask.raw, 8'373'250'000'000); // 83732.5
  EXPECT_EQ(tick_.ask_size, 245'800'000'000);  // 2458 contracts
  EXPECT_EQ(tick_.sequence, 11'660'059'839'759U);
  EXPECT_EQ(tick_.venue_time.nanoseconds, ms_to_ns(1'790'373'637'547));
}

TEST_F(BinanceParserTest, ParsesTheDocumentedMarkPriceExactly) {
  ASSERT_EQ(parse(kDocumentedMarkPrice), ParseStatus::tick);
  EXPECT_EQ(tick_.instrument, kPerpetual);
  // This 2021 capture has no "i": the index is absent, not zero.
  EXPECT_EQ(tick_.fields, field::mark | field::funding_rate | field::next_funding_time);
  EXPECT_EQ(tick_.mark.raw, 5'901'256'007'222); // 59012.56007222
  EXPECT_EQ(tick_.funding_rate.raw, 73'689);    // 0.00073689
  EXPECT_EQ(tick_.next_funding_time.nanoseconds, ms_to_ns(1'617'321'600'000));
  EXPECT_EQ(tick_.venue_time.nanoseconds, ms_to_ns(1'617'309'477'000)); // E
}

TEST_F(BinanceParserTest, ParsesRawEventsWithoutTheEnvelope) {
  constexpr std::string_view kRaw =
      R"({"e":"bookTicker","u":11660059839759,"s":"BTCUSD_PERP","ps":"BTCUSD","b":"83732.4","B":"680","a":"83732.5","A":"2458","T":1790373637547,"E":1790373637550})";
  ASSERT_EQ(parse(kRaw), ParseStatus::tick);
  const VenueTick raw = tick_;
  ASSERT_EQ(parse(kDocumentedBookTicker), ParseStatus::tick);
  EXPECT_EQ(raw.fields, tick_.fields);
  EXPECT_EQ(raw.bid, tick_.bid);
  EXPECT_EQ(raw.ask_size, tick_.ask_size);
  EXPECT_EQ(raw.sequence, tick_.sequence);
  EXPECT_EQ(raw.venue_time, tick_.venue_time); // T, the transaction time, wins over E
}

// ws_binance_coinm_btcusd_perp_capture_2021-04-17.jsonl: bookTicker,
// depth@100ms and aggTrade for btcusd_perp.
TEST(BinanceParserCaptureTest, ParsesEveryReceivedMessageOfTheCapture) {
  SYNTHUSD_SKIP_WITHOUT_CAPTURE("ws_binance_coinm_btcusd_perp_capture_2021-04-17.jsonl");
  BinanceParser parser(kSymbols);
  const std::vector<std::string> messages =
      test::capture_messages("ws_binance_coinm_btcusd_perp_capture_2021-04-17.jsonl");
  ASSERT_EQ(messages.size(), 811U);
  test::StatusCounts counts;
  std::uint64_t last_update = 0;
  std::vector<VenueTick> ticks;
  for (const std::string& message : messages) {
    VenueTick tick;
    const ParseStatus status = parse_text(parser, message, tick);
    test::expect_consistent(status, tick, message);
    EXPECT_NE(status, ParseStatus::malformed) << message;
    counts.add(status);
    if (status == ParseStatus::tick) {
      EXPECT_EQ(tick.fields, kBookFields) << message;
      EXPECT_GT(tick.sequence, last_update) << message; // u only grows
      last_update = tick.sequence;
      ticks.push_back(tick);
    }
  }
  EXPECT_EQ(counts.tick, 645U);    // bookTicker
  EXPECT_EQ(counts.ignored, 166U); // 129 depthUpdate + 37 aggTrade
  EXPECT_EQ(counts.malformed, 0U);

  // The first record: {"u":86143354171,"e":"bookTicker",...}, "u" before "e".
  ASSERT_FALSE(ticks.empty());
  EXPECT_EQ(ticks[0].sequence, 86'143'354'171U);
  EXPECT_EQ(ticks[0].bid.raw, 6'058'100'000'000); // 60581.0
  EXPECT_EQ(ticks[0].bid_size, 598'100'000'000);  // 5981
  EXPECT_EQ(ticks[0].ask.raw, 6'058'110'000'000); // 60581.1
  EXPECT_EQ(ticks[0].ask_size, 794'400'000'000);  // 7944
  EXPECT_EQ(ticks[0].venue_time.nanoseconds, ms_to_ns(1'618'677'480'023));
}

// tests/data/feeds/binance.jsonl: a session as a replay server will send it.
TEST_F(BinanceParserTest, ParsesEveryLineOfTheSessionFixture) {
  const std::vector<std::string> lines = test::read_lines(test::source_path("tests/data/feeds/binance.jsonl"));
  ASSERT_EQ(lines.size(), 10U);
  std::vector<VenueTick> ticks(lines.size());
  std::uint64_t last_update = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const ParseStatus status = parse_text(parser_, lines[i], ticks[i]);
    EXPECT_EQ(status, i == 0 ? ParseStatus::subscribed : ParseStatus::tick) << "line " << i + 1;
    test::expect_consistent(status, ticks[i], lines[i]);
    if (ticks[i].has(field::sequence)) {
      EXPECT_GT(ticks[i].sequence, last_update) << "line " << i + 1;
      last_update = ticks[i].sequence;
    }
  }

  const VenueTick& book = ticks[1];
  EXPECT_EQ(book.instrument, kPerpetual);
  EXPECT_EQ(book.fields, kBookFields);
  EXPECT_EQ(book.sequence, 1'046'237'561'042U);
  EXPECT_EQ(book.bid.raw, 10'003'820'000'000); // 100038.2
  EXPECT_EQ(book.bid_size, 152'000'000'000);   // 1520
  EXPECT_EQ(book.ask.raw, 10'003'830'000'000); // 100038.3
  EXPECT_EQ(book.ask_size, 41'700'000'000);    // 417
  EXPECT_EQ(book.venue_time.nanoseconds, ms_to_ns(1'734'000'000'098));

  const VenueTick& mark = ticks[2];
  EXPECT_EQ(mark.fields, field::mark | field::index | field::funding_rate | field::next_funding_time);
  EXPECT_EQ(mark.mark.raw, 10'003'660'742'857);  // 100036.60742857
  EXPECT_EQ(mark.index.raw, 10'001'231'428'571); // 100012.31428571
  EXPECT_EQ(mark.funding_rate.raw, 10'000);      // 0.00010000
  EXPECT_EQ(mark.next_funding_time.nanoseconds, ms_to_ns(1'734'019'200'000));
  EXPECT_EQ(mark.venue_time.nanoseconds, ms_to_ns(1'734'000'001'000));

  EXPECT_EQ(ticks[5].sequence, 1'046'237'561'402U); // "u" before "e"
  EXPECT_EQ(ticks[5].bid.raw, 10'004'100'000'000);
  EXPECT_EQ(ticks[9].funding_rate.raw, 9'874); // 0.00009874
}

TEST_F(BinanceParserTest, TreatsDeliveryContractFundingAsAbsent) {
  // Delivery contracts have no funding: "r" is "" and "T" is 0.
  ASSERT_EQ(
      parse(
          R"({"e":"markPriceUpdate","E":1734000001000,"s":"BTCUSD_250328","p":"103466.1","P":"103460.0","i":"100012.3","r":"","T":0})"),
      ParseStatus::tick);
  EXPECT_EQ(tick_.instrument, kMarch);
  EXPECT_EQ(tick_.fields, field::mark | field::index);
  EXPECT_EQ(tick_.venue_time.nanoseconds, ms_to_ns(1'734'000'001'000));
}

TEST_F(BinanceParserTest, ClassifiesRepliesAndErrors) {
  EXPECT_EQ(parse(R"({"result":null,"id":1})"), ParseStatus::subscribed);
  EXPECT_EQ(parse(R"({"id":7,"result":null})"), ParseStatus::subscribed);
  EXPECT_EQ(parse(R"({"result":["btcusd_perp@bookTicker"],"id":3})"), ParseStatus::ignored); // LIST_SUBSCRIPTIONS
  EXPECT_EQ(parse(R"({"code":2,"msg":"Invalid request: unknown variant `SUBSCRIB`","id":1})"),
            ParseStatus::venue_error);
  EXPECT_EQ(parse(R"({"error":{"code":2,"msg":"Invalid request: property name must be a string"}})"),
            ParseStatus::venue_error);
}

TEST_F(BinanceParserTest, IgnoresOtherEventsAndSymbols) {
  EXPECT_EQ(
      parse(
          R"({"stream":"ethusd_perp@bookTicker","data":{"e":"bookTicker","u":1,"s":"ETHUSD_PERP","b":"1","B":"1","a":"1","A":"1"}})"),
      ParseStatus::ignored);
  EXPECT_EQ(
      parse(
          R"({"stream":"btcusd_perp@depth@100ms","data":{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSD_PERP","U":1,"u":2,"pu":0,"b":[["1","2"]],"a":[]}})"),
      ParseStatus::ignored);
  EXPECT_EQ(
      parse(
          R"({"stream":"btcusd_perp@aggTrade","data":{"e":"aggTrade","E":1,"a":416,"s":"BTCUSD_PERP","p":"60581.0","q":"1","f":1,"l":1,"T":1,"m":true}})"),
      ParseStatus::ignored);
  EXPECT_EQ(parse(R"({"stream":"btcusd_perp@bookTicker"})"), ParseStatus::ignored);
  EXPECT_EQ(parse(R"({})"), ParseStatus::ignored);
}

TEST_F(BinanceParserTest, RejectsWrongTypesAndOverflow) {
  const std::string envelope = R"({"stream":"btcusd_perp@bookTicker","data":)";
  for (const std::string_view data : {
           R"({"e":"bookTicker","u":1,"s":"BTCUSD_PERP","b":[["1","2"]]})",
           R"({"e":"bookTicker","u":"abc","s":"BTCUSD_PERP","b":"1"})",
           R"({"e":"bookTicker","u":-1,"s":"BTCUSD_PERP","b":"1"})",
           R"({"e":"bookTicker","u":1.5,"s":"BTCUSD_PERP","b":"1"})",
           R"({"e":"bookTicker","u":18446744073709551616,"s":"BTCUSD_PERP","b":"1"})",
           R"({"e":"bookTicker","u":1,"s":"BTCUSD_PERP","b":"1","E":1e3})",
           R"({"e":"bookTicker","u":1,"s":"BTCUSD_PERP","b":"1","T":9223372036855})",
           R"({"e":"bookTicker","u":1,"s":"BTCUSD_PERP","B":"1e19"})",
           R"({"e":"bookTicker","u":1,"s":"BTCUSD_PERP","b":"-"})",
           R"({"e":"bookTicker","u":1,"s":123,"b":"1"})",
           R"({"e":"bookTicker","u":1,"b":"1"})",
           R"({"e":"markPriceUpdate","s":"BTCUSD_PERP","p":"1","r":false})",
           R"({"e":"markPriceUpdate","s":"BTCUSD_PERP","p":"1","T":"next"})",
           R"({"e":5,"s":"BTCUSD_PERP"})",
           R"("bookTicker")",
           R"([])",
       }) {
    EXPECT_EQ(parse(envelope + std::string(data) + "}"), ParseStatus::malformed) << data;
  }
  // A bare JSON number where Binance sends a string is still read exactly.
  ASSERT_EQ(parse(envelope + R"({"e":"bookTicker","u":1,"s":"BTCUSD_PERP","b":83732.4})" + "}"), ParseStatus::tick);
  EXPECT_EQ(tick_.bid.raw, 8'373'240'000'000);
}

TEST_F(BinanceParserTest, RejectsEveryTruncationAndNesting) {
  for (std::size_t length = 0; length < kDocumentedBookTicker.size(); ++length) {
    EXPECT_EQ(parse(kDocumentedBookTicker.substr(0, length)), ParseStatus::malformed) << length;
  }
  // Nesting is bounded at 64 levels counting the root, wherever it is: in a
  // value the walk skips too. The root and "data" are two of them.
  const auto nested = [](std::size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); };
  const auto with_extra = [](const std::string& extra) {
    return R"({"data":{"x":)" + extra + R"(,"e":"bookTicker","s":"BTCUSD_PERP","b":"1"}})";
  };
  ASSERT_EQ(parse(with_extra(nested(62))), ParseStatus::tick);
  EXPECT_EQ(parse(with_extra(nested(63))), ParseStatus::malformed);
  const std::string deep = nested(50'000);
  EXPECT_EQ(parse(with_extra(deep)), ParseStatus::malformed);
  EXPECT_EQ(parse(R"({"data":{"e":"bookTicker","s":"BTCUSD_PERP","b":)" + deep + "}}"), ParseStatus::malformed);
  EXPECT_EQ(parse(std::string(50'000, '{')), ParseStatus::malformed);
}

TEST_F(BinanceParserTest, RequiresPadding) {
  const test::PaddedMessage short_padding(kDocumentedBookTicker, kJsonPadding - 1);
  EXPECT_EQ(parser_.parse(short_padding.data(), short_padding.length(), short_padding.capacity(), tick_),
            ParseStatus::malformed);
  const test::PaddedMessage padded(kDocumentedBookTicker);
  EXPECT_EQ(parser_.parse(padded.data(), padded.length(), padded.capacity(), tick_), ParseStatus::tick);
}

TEST_F(BinanceParserTest, ReusesItsBuffersWithoutAllocating) {
  const std::vector<std::string> lines = test::read_lines(test::source_path("tests/data/feeds/binance.jsonl"));
  std::vector<test::PaddedMessage> messages(lines.begin(), lines.end());
  messages.emplace_back("{\"e\":");
  const auto before = test_support::allocation_count();
  for (int round = 0; round < 100; ++round) {
    for (const test::PaddedMessage& message : messages) {
      static_cast<void>(parser_.parse(message.data(), message.length(), message.capacity(), tick_));
    }
  }
  EXPECT_EQ(test_support::allocation_count() - before, 0);
}

TEST(BinanceParserMessagesTest, BuildsLowerCaseSubscribeMessages) {
  const std::array<std::string_view, 1> symbols{"BTCUSD_PERP"};
  EXPECT_EQ(BinanceParser::subscribe_message(symbols, 1),
            R"({"method":"SUBSCRIBE","params":["btcusd_perp@bookTicker","btcusd_perp@markPrice@1s"],"id":1})");
  const std::array<std::string_view, 2> two{"btcusd_perp", "btcusd_250328"};
  EXPECT_EQ(
      BinanceParser::subscribe_message(two, 18'446'744'073'709'551'615U),
      R"({"method":"SUBSCRIBE","params":["btcusd_perp@bookTicker","btcusd_perp@markPrice@1s","btcusd_250328@bookTicker","btcusd_250328@markPrice@1s"],"id":18446744073709551615})");
  const std::array<std::string_view, 1> bad{""};
  EXPECT_THROW(static_cast<void>(BinanceParser::subscribe_message(bad, 1)), std::invalid_argument);
}

} // namespace
} // namespace synthusd::feeds
