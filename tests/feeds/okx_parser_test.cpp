#include "synthusd/feeds/okx_parser.hpp"

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

constexpr hedging::InstrumentId kSwap = 0;
constexpr hedging::InstrumentId kMarch = 1;
constexpr hedging::InstrumentId kIndex = 2;

const std::array<SymbolMapping, 3> kSymbols{{{"BTC-USD-SWAP", kSwap}, {"BTC-USD-250328", kMarch}, {"BTC-USD", kIndex}}};

// The examples of perf_and_feeds.md §5 (crypto-crawler-rs crypto-msg-parser/tests/okx.rs).
constexpr std::string_view kDocumentedTickers =
    R"({"arg":{"channel":"tickers","instId":"BTC-USD-SWAP"},"data":[{"instType":"SWAP","instId":"BTC-USD-SWAP","last":"31771.6","lastSz":"16","askPx":"31771.6","askSz":"16","bidPx":"31771.5","bidSz":"1967","open24h":"31648.1","high24h":"32398.1","low24h":"31202.4","sodUtc0":"31717.3","sodUtc8":"32038.6","volCcy24h":"13760.6923","vol24h":"4364424","ts":"1654033212805"}]})";
constexpr std::string_view kDocumentedFunding =
    R"({"arg":{"channel":"funding-rate","instId":"BTC-USD-SWAP"},"data":[{"fundingRate":"0.0000734174532791","fundingTime":"1646323200000","instId":"BTC-USD-SWAP","instType":"SWAP","nextFundingRate":"0.0001163723201487"}]})";
constexpr std::string_view kDocumentedMark =
    R"({"arg":{"channel":"mark-price","instId":"BTC-USD-SWAP"},"data":[{"instType":"SWAP","instId":"BTC-USD-SWAP","markPx":"42310.6","ts":"1630049455539"}]})";
constexpr std::string_view kDocumentedBooks5 =
    R"({"arg":{"channel":"books5","instId":"BTC-USD-SWAP"},"data":[{"asks":[["29502","350","0","19"],["29502.2","42","0","2"],["29502.3","62","0","1"],["29502.7","5","0","1"],["29505","3","0","1"]],"bids":[["29501.9","77","0","1"],["29500.7","194","0","1"],["29499.5","1","0","1"],["29496.6","2","0","1"],["29495.1","1","0","1"]],"instId":"BTC-USD-SWAP","ts":"1652686260965"}]})";

// A push on `channel` for BTC-USD-SWAP with one data entry.
std::string push(std::string_view channel, std::string_view entry) {
  return std::string(R"({"arg":{"channel":")") += std::string(channel) +=
         std::string(R"(","instId":"BTC-USD-SWAP"},"data":[)") += std::string(entry) += "]}";
}

class OkxParserTest : public ::testing::Test {
protected:
  OkxParser parser_{kSymbols};
  VenueTick tick_;

  ParseStatus parse(std::string_view text) { return parse_text(parser_, text, tick_); }
};

TEST_F(OkxParserTest, ParsesTheDocumentedTickersExactly) {
  ASSERT_EQ(parse(kDocumentedTickers), ParseStatus::tick);
  EXPECT_EQ(tick_.instrument, kSwap);
  EXPECT_EQ(tick_.fields, field::bid | field::ask | field::bid_size | field::ask_size);
  EXPECT_EQ(tick_.bid.raw, 3'177'150'000'000); // 31771.5
  EXPECT_EQ(tick_.ask.raw, 3'177'160'000'000); // 31771.6
  EXPECT_EQ(tick_.bid_size, 196'700'000'000);  // 1967 contracts
  EXPECT_EQ(tick_.ask_size, 1'600'000'000);    // 16 contracts
  EXPECT_EQ(tick_.venue_time.nanoseconds, ms_to_ns(1'654'033'212'805));
}

TEST_F(OkxParserTest, ParsesTheDocumentedFundingRateExactly) {
  ASSERT_EQ(parse(kDocumentedFunding), ParseStatus::tick);
  EXPECT_EQ(tick_.instrument, kSwap);
  EXPECT_EQ(tick_.fields, field::funding_rate | field::next_funding_time);
  EXPECT_EQ(tick_.funding_rate.raw, 7'342); // 0.0000734174532791 at 1e-8, rounded half to even
  EXPECT_EQ(tick_.next_funding_time.nanoseconds, ms_to_ns(1'646'323'200'000));
  EXPECT_EQ(tick_.venue_time.nanoseconds, 0); // this older push has no ts
}

TEST_F(OkxParserTest, ParsesTheDocumentedMarkPriceExactly) {
  ASSERT_EQ(parse(kDocumentedMark), ParseStatus::tick);
  EXPECT_EQ(tick_.fields, field::mark);
  EXPECT_EQ(tick_.mark.raw, 4'231'060'000'000); // 42310.6
  EXPECT_EQ(tick_.venue_time.nanoseconds, ms_to_ns(1'630'049'455'539));
}

TEST_F(OkxParserTest, ParsesTheDocumentedBooks5Exactly) {
  ASSERT_EQ(parse(kDocumentedBooks5), ParseStatus::tick);
  EXPECT_EQ(tick_.fields, field::bid | field::ask | field::bid_size | field::ask_size);
  EXPECT_EQ(tick_.ask.raw, 2'950'200'000'000); // "29502": the best ask, without a point
  EXPECT_EQ(tick_.ask_size, 35'000'000'000);   // 350
  EXPECT_EQ(tick_.bid.raw, 2'950'190'000'000); // 29501.9
  EXPECT_EQ(tick_.bid_size, 7'700'000'000);    // 77
  EXPECT_EQ(tick_.venue_time.nanoseconds, ms_to_ns(1'652'686'260'965));
}

// ws_okx_v5_public_capture_2022-05-13.jsonl: tickers, trades and full books
// for a dated future, a swap and spot.
TEST(OkxParserCaptureTest, ParsesEveryReceivedMessageOfThePublicCapture) {
  SYNTHUSD_SKIP_WITHOUT_CAPTURE("ws_okx_v5_public_capture_2022-05-13.jsonl");
  constexpr hedging::InstrumentId kJune = 4;
  constexpr hedging::InstrumentId kSpot = 5;
  const std::array<SymbolMapping, 2> symbols{{{"BTC-USD-220527", kJune}, {"BTC-USDT", kSpot}}};
  OkxParser parser(symbols);

  const std::vector<std::string> messages = test::capture_messages("ws_okx_v5_public_capture_2022-05-13.jsonl");
  ASSERT_EQ(messages.size(), 203U);
  test::StatusCounts counts;
  std::vector<VenueTick> june;
  for (const std::string& message : messages) {
    VenueTick tick;
    const ParseStatus status = parse_text(parser, message, tick);
    test::expect_consistent(status, tick, message);
    EXPECT_NE(status, ParseStatus::malformed) << message;
    counts.add(status);
    if (status == ParseStatus::tick && tick.instrument == kJune) {
      june.push_back(tick);
    }
  }
  // 1 + 14 tickers; the books channel is incremental and not ours, trades neither.
  EXPECT_EQ(counts.tick, 15U);
  EXPECT_EQ(counts.subscribed, 18U);
  EXPECT_EQ(counts.ignored, 170U);
  EXPECT_EQ(counts.malformed, 0U);

  ASSERT_EQ(june.size(), 1U);
  EXPECT_EQ(june[0].bid.raw, 3'021'040'000'000); // 30210.4
  EXPECT_EQ(june[0].ask.raw, 3'022'010'000'000); // 30220.1
  EXPECT_EQ(june[0].bid_size, 400'000'000);      // 4
  EXPECT_EQ(june[0].ask_size, 300'000'000);      // 3
  EXPECT_EQ(june[0].venue_time.nanoseconds, ms_to_ns(1'652'459'223'003));
}

// tests/data/feeds/okx.jsonl: a session as a replay server will send it.
TEST_F(OkxParserTest, ParsesEveryLineOfTheSessionFixture) {
  const std::vector<std::string> lines = test::read_lines(test::source_path("tests/data/feeds/okx.jsonl"));
  std::vector<ParseStatus> expected(7, ParseStatus::subscribed);
  expected.insert(expected.end(), 13, ParseStatus::tick);
  expected.push_back(ParseStatus::venue_error);
  ASSERT_EQ(lines.size(), expected.size());
  std::vector<VenueTick> ticks(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const ParseStatus status = parse_text(parser_, lines[i], ticks[i]);
    EXPECT_EQ(status, expected[i]) << "line " << i + 1;
    test::expect_consistent(status, ticks[i], lines[i]);
  }

  const VenueTick& tickers = ticks[7];
  EXPECT_EQ(tickers.instrument, kSwap);
  EXPECT_EQ(tickers.bid.raw, 10'003'740'000'000); // 100037.4
  EXPECT_EQ(tickers.ask.raw, 10'003'750'000'000); // 100037.5
  EXPECT_EQ(tickers.bid_size, 196'700'000'000);   // 1967
  EXPECT_EQ(tickers.ask_size, 34'100'000'000);    // 341
  EXPECT_EQ(tickers.venue_time.nanoseconds, ms_to_ns(1'734'000'000'112));

  EXPECT_EQ(ticks[8].fields, field::mark);
  EXPECT_EQ(ticks[8].mark.raw, 10'003'690'000'000); // 100036.9

  const VenueTick& funding = ticks[9];
  EXPECT_EQ(funding.fields, field::funding_rate | field::next_funding_time);
  EXPECT_EQ(funding.funding_rate.raw, 10'826);                                   // 0.0001082641285347
  EXPECT_EQ(funding.next_funding_time.nanoseconds, ms_to_ns(1'734'019'200'000)); // fundingTime, not nextFundingTime
  EXPECT_EQ(funding.venue_time.nanoseconds, ms_to_ns(1'734'000'000'251));

  const VenueTick& book = ticks[10];
  EXPECT_EQ(book.fields, field::bid | field::ask | field::bid_size | field::ask_size | field::sequence);
  EXPECT_EQ(book.bid.raw, 10'003'740'000'000);
  EXPECT_EQ(book.ask.raw, 10'003'750'000'000);
  EXPECT_EQ(book.sequence, 36'718'230'417U);
  EXPECT_EQ(ticks[15].sequence, 36'718'230'512U); // the next books5 push

  const VenueTick& march = ticks[11];
  EXPECT_EQ(march.instrument, kMarch);
  EXPECT_EQ(march.bid.raw, 10'345'990'000'000); // 103459.9
  EXPECT_EQ(march.ask.raw, 10'346'680'000'000); // 103466.8
  EXPECT_EQ(ticks[12].instrument, kMarch);
  EXPECT_EQ(ticks[12].mark.raw, 10'346'320'000'000); // 103463.2
  EXPECT_EQ(ticks[17].mark.raw, 10'346'610'000'000); // 103466.1
  EXPECT_EQ(ticks[18].funding_rate.raw, 10'912);     // 0.0001091153871602
}

TEST_F(OkxParserTest, TreatsEmptyStringsAsAbsent) {
  ASSERT_EQ(
      parse(push("funding-rate",
                 R"({"fundingRate":"0.0001","fundingTime":"","nextFundingRate":"","nextFundingTime":"","ts":""})")),
      ParseStatus::tick);
  EXPECT_EQ(tick_.fields, field::funding_rate);
  EXPECT_EQ(tick_.funding_rate.raw, 10'000);
  ASSERT_EQ(parse(push("tickers", R"({"bidPx":"","bidSz":"","askPx":"100.5","askSz":"2","ts":"1"})")),
            ParseStatus::tick);
  EXPECT_EQ(tick_.fields, field::ask | field::ask_size);
  // Nothing present at all: a well-formed push that says nothing.
  EXPECT_EQ(parse(push("tickers", R"({"bidPx":"","bidSz":"","askPx":"","askSz":""})")), ParseStatus::ignored);
  EXPECT_EQ(parse(push("mark-price", R"({"markPx":""})")), ParseStatus::ignored);
}

TEST_F(OkxParserTest, ReadsTheTopOfBooks5AndItsSequence) {
  ASSERT_EQ(parse(push("books5", R"({"asks":[],"bids":[["100","5","0","1"]],"ts":"2","seqId":123,"prevSeqId":-1})")),
            ParseStatus::tick);
  EXPECT_EQ(tick_.fields, field::bid | field::bid_size | field::sequence); // -1: no previous id
  EXPECT_EQ(tick_.sequence, 123U);
  ASSERT_EQ(parse(push("books5", R"({"asks":[["101","1"]],"bids":[],"seqId":124,"prevSeqId":123})")),
            ParseStatus::tick);
  EXPECT_EQ(tick_.fields, field::ask | field::ask_size | field::sequence | field::previous_sequence);
  EXPECT_EQ(tick_.previous_sequence, 123U);
  ASSERT_EQ(parse(push("bbo-tbt", R"({"asks":[["101.5","3","0","1"]],"bids":[["101","4","0","2"]],"ts":"9"})")),
            ParseStatus::tick);
  EXPECT_EQ(tick_.ask.raw, 10'150'000'000);
  EXPECT_EQ(tick_.bid_size, 400'000'000);
  // A level with only a price.
  ASSERT_EQ(parse(push("books5", R"({"asks":[["101"]]})")), ParseStatus::tick);
  EXPECT_EQ(tick_.fields, field::ask);
}

TEST_F(OkxParserTest, ReadsIndexTickersAndDataInstrumentIds) {
  constexpr std::string_view kIndexTicker =
      R"({"arg":{"channel":"index-tickers","instId":"BTC-USD"},"data":[{"instId":"BTC-USD","idxPx":"100012.3","high24h":"101000","low24h":"99000","open24h":"99500","sodUtc0":"99600","sodUtc8":"99700","ts":"1734000000000"}]})";
  ASSERT_EQ(parse(kIndexTicker), ParseStatus::tick);
  EXPECT_EQ(tick_.instrument, kIndex);
  EXPECT_EQ(tick_.fields, field::index);
  EXPECT_EQ(tick_.index.raw, 10'001'230'000'000);
  // Without arg.instId the entry's instId names the instrument.
  ASSERT_EQ(parse(R"({"arg":{"channel":"mark-price"},"data":[{"instId":"BTC-USD-250328","markPx":"1"}]})"),
            ParseStatus::tick);
  EXPECT_EQ(tick_.instrument, kMarch);
}

TEST_F(OkxParserTest, KeepsTheLastValueOfSeveralEntries) {
  ASSERT_EQ(parse(push("mark-price", R"({"markPx":"1","ts":"1"},{"markPx":"2","ts":"2"})")), ParseStatus::tick);
  EXPECT_EQ(tick_.mark.raw, 200'000'000);
  EXPECT_EQ(tick_.venue_time.nanoseconds, ms_to_ns(2));
  EXPECT_EQ(parse(push("mark-price", "")), ParseStatus::ignored); // "data":[]
}

TEST_F(OkxParserTest, ClassifiesEventsAndPong) {
  EXPECT_EQ(parse(R"({"event":"subscribe","arg":{"channel":"tickers","instId":"BTC-USD-SWAP"},"connId":"a4d3ae55"})"),
            ParseStatus::subscribed);
  EXPECT_EQ(
      parse(R"({"event":"error","code":"60012","msg":"Invalid request: {\"op\": \"subscribe\"}","connId":"a4d3ae55"})"),
      ParseStatus::venue_error);
  EXPECT_EQ(parse(R"({"event":"unsubscribe","arg":{"channel":"tickers","instId":"BTC-USD-SWAP"}})"),
            ParseStatus::ignored);
  EXPECT_EQ(
      parse(R"({"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade."})"),
      ParseStatus::ignored);
  EXPECT_EQ(parse("pong"), ParseStatus::pong);
  EXPECT_EQ(parse("ping"), ParseStatus::malformed);
  EXPECT_EQ(parse("pong\n"), ParseStatus::malformed);
  EXPECT_EQ(parse(R"("pong")"), ParseStatus::malformed);
  const test::PaddedMessage short_pong("pong", kJsonPadding - 1);
  EXPECT_EQ(parser_.parse(short_pong.data(), short_pong.length(), short_pong.capacity(), tick_),
            ParseStatus::malformed);
}

TEST_F(OkxParserTest, IgnoresOtherInstrumentsAndChannels) {
  EXPECT_EQ(parse(R"({"arg":{"channel":"tickers","instId":"ETH-USD-SWAP"},"data":[{"bidPx":"1"}]})"),
            ParseStatus::ignored);
  EXPECT_EQ(
      parse(
          R"({"arg":{"channel":"books","instId":"BTC-USD-SWAP"},"action":"update","data":[{"asks":[["1","2","0","1"]],"bids":[],"ts":"1","checksum":-5}]})"),
      ParseStatus::ignored);
  EXPECT_EQ(
      parse(
          R"({"arg":{"channel":"candle1m","instId":"BTC-USD-SWAP"},"data":[["1734000000000","1","2","0.5","1.5","10","0.1","0.1","0"]]})"),
      ParseStatus::ignored);
  EXPECT_EQ(parse(R"({"arg":{"channel":"tickers","instId":"BTC-USD-SWAPX"},"data":[{"bidPx":"bad"}]})"),
            ParseStatus::ignored);
  EXPECT_EQ(parse(R"({"op":"ping"})"), ParseStatus::ignored);
}

TEST_F(OkxParserTest, RejectsWrongTypesAndOverflow) {
  for (const std::string& text : {
           push("tickers", R"({"bidPx":true})"),
           push("tickers", R"({"bidPx":"31771.5x"})"),
           push("tickers", R"({"bidPx":{"px":"1"}})"),
           push("tickers", R"({"bidSz":"1e30"})"),
           push("tickers", R"({"askPx":"92233720368.54775808"})"),
           push("tickers", R"({"bidPx":"1","ts":"12.5"})"),
           push("tickers", R"({"bidPx":"1","ts":"-1"})"),
           push("tickers", R"({"bidPx":"1","ts":"99999999999999999999999"})"),
           push("books5", R"({"asks":"29502"})"),
           push("books5", R"({"asks":["29502","350"]})"),
           push("books5", R"({"asks":[[29502.5e99999,"1"]]})"),
           push("books5", R"({"asks":[],"seqId":"abc"})"),
           push("books5", R"({"asks":[],"seqId":-3})"),
           push("books5", R"({"asks":[],"seqId":1,"prevSeqId":1.5})"),
           push("funding-rate", R"({"fundingRate":"0.0001","fundingTime":"soon"})"),
           push("mark-price", R"("markPx")"),
           std::string(R"({"arg":{"channel":"tickers","instId":"BTC-USD-SWAP"},"data":{"bidPx":"1"}})"),
           std::string(R"({"arg":{"channel":"tickers","instId":"BTC-USD-SWAP"}})"),
           std::string(R"({"arg":{"channel":"tickers","instId":5},"data":[]})"),
           std::string(R"({"arg":{"channel":"tickers"},"data":[{"bidPx":"1"}]})"),
           std::string(R"({"arg":"tickers","data":[]})"),
           std::string(R"({"arg":{"channel":7},"data":[]})"),
           std::string(R"({"event":1})"),
       }) {
    EXPECT_EQ(parse(text), ParseStatus::malformed) << text;
  }
  // A bare number where OKX sends a string is still an exact number.
  ASSERT_EQ(parse(push("tickers", R"({"bidPx":31771.5})")), ParseStatus::tick);
  EXPECT_EQ(tick_.bid.raw, 3'177'150'000'000);
}

TEST_F(OkxParserTest, RejectsEveryTruncationAndNesting) {
  for (std::size_t length = 0; length < kDocumentedBooks5.size(); ++length) {
    EXPECT_EQ(parse(kDocumentedBooks5.substr(0, length)), ParseStatus::malformed) << length;
  }
  // Nesting is bounded at 64 levels counting the root, wherever it is: in a
  // value the walk skips too. The root, "data" and its entry are three of them.
  const auto nested = [](std::size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); };
  ASSERT_EQ(parse(push("tickers", R"({"extra":)" + nested(61) + R"(,"bidPx":"1"})")), ParseStatus::tick);
  EXPECT_EQ(parse(push("tickers", R"({"extra":)" + nested(62) + R"(,"bidPx":"1"})")), ParseStatus::malformed);
  const std::string deep = nested(50'000);
  EXPECT_EQ(parse(push("books5", R"({"asks":)" + deep + "}")), ParseStatus::malformed);
  EXPECT_EQ(parse(push("tickers", R"({"extra":)" + deep + R"(,"bidPx":"1"})")), ParseStatus::malformed);
  EXPECT_EQ(parse(std::string(50'000, '[')), ParseStatus::malformed);
}

TEST_F(OkxParserTest, ReusesItsBuffersWithoutAllocating) {
  const std::vector<std::string> lines = test::read_lines(test::source_path("tests/data/feeds/okx.jsonl"));
  std::vector<test::PaddedMessage> messages(lines.begin(), lines.end());
  messages.emplace_back("pong");
  const auto before = test_support::allocation_count();
  for (int round = 0; round < 100; ++round) {
    for (const test::PaddedMessage& message : messages) {
      static_cast<void>(parser_.parse(message.data(), message.length(), message.capacity(), tick_));
    }
  }
  EXPECT_EQ(test_support::allocation_count() - before, 0);
}

TEST(OkxParserMessagesTest, BuildsSubscribeAndPingMessages) {
  const std::array<std::string_view, 2> instruments{"BTC-USD-SWAP", "BTC-USD-250328"};
  EXPECT_EQ(
      OkxParser::subscribe_message(instruments),
      R"({"op":"subscribe","args":[{"channel":"tickers","instId":"BTC-USD-SWAP"},{"channel":"mark-price","instId":"BTC-USD-SWAP"},{"channel":"funding-rate","instId":"BTC-USD-SWAP"},{"channel":"books5","instId":"BTC-USD-SWAP"},{"channel":"tickers","instId":"BTC-USD-250328"},{"channel":"mark-price","instId":"BTC-USD-250328"},{"channel":"books5","instId":"BTC-USD-250328"}]})");
  EXPECT_EQ(OkxParser::ping_message(), "ping");
  const std::array<std::string_view, 1> bad{"BTC USD"};
  EXPECT_THROW(static_cast<void>(OkxParser::subscribe_message(bad)), std::invalid_argument);
}

} // namespace
} // namespace synthusd::feeds
