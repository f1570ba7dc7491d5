#include "synthusd/feeds/deribit_parser.hpp"

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
constexpr hedging::InstrumentId kDecember = 1;

constexpr std::uint32_t kTickerFields =
    field::bid | field::ask | field::bid_size | field::ask_size | field::mark | field::index;

const std::array<SymbolMapping, 2> kSymbols{{{"BTC-PERPETUAL", kPerpetual}, {"BTC-27DEC24", kDecember}}};

// The ticker example of perf_and_feeds.md §5 (altangent/ccxws deribit-client.js).
constexpr std::string_view kDocumentedTicker =
    R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"ticker.BTC-PERPETUAL.raw","data":{"timestamp":1597244851057,"stats":{"volume_usd":404775400.0,"volume":35574.05167122,"price_change":0.493,"low":11131.5,"high":11632.5},"state":"open","settlement_price":11452.62,"open_interest":117979530,"min_price":11443.06,"max_price":11791.58,"mark_price":11617.8,"last_price":11618.0,"instrument_name":"BTC-PERPETUAL","index_price":11609.61,"funding_8h":0.00001212,"estimated_delivery_price":11609.61,"current_funding":0.00020545,"best_bid_price":11618.0,"best_bid_amount":7460.0,"best_ask_price":11618.5,"best_ask_amount":497870.0}}})";

// A ticker notification around one data object.
std::string ticker_with(std::string_view data, std::string_view channel = "ticker.BTC-PERPETUAL.100ms") {
  return std::string(R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":")") += std::string(channel) +=
         std::string(R"(","data":)") += std::string(data) += "}}";
}

class DeribitParserTest : public ::testing::Test {
protected:
  DeribitParser parser_{kSymbols};
  VenueTick tick_;

  ParseStatus parse(std::string_view text) { return parse_text(parser_, text, tick_); }
};

TEST_F(DeribitParserTest, ParsesTheDocumentedTickerExactly) {
  ASSERT_EQ(parse(kDocumentedTicker), ParseStatus::tick);
  EXPECT_EQ(tick_.instrument, kPerpetual);
  EXPECT_EQ(tick_.fields, kTickerFields | field::funding_rate);
  EXPECT_EQ(tick_.mark.raw, 1'161'780'000'000);  // 11617.8
  EXPECT_EQ(tick_.index.raw, 1'160'961'000'000); // 11609.61
  EXPECT_EQ(tick_.bid.raw, 1'161'800'000'000);   // 11618.0
  EXPECT_EQ(tick_.bid_size, 746'000'000'000);    // 7460.0 USD
  EXPECT_EQ(tick_.ask.raw, 1'161'850'000'000);   // 11618.5
  EXPECT_EQ(tick_.ask_size, 49'787'000'000'000); // 497870.0 USD
  EXPECT_EQ(tick_.funding_rate.raw, 1'212);      // funding_8h 0.00001212, not current_funding 0.00020545
  EXPECT_EQ(tick_.venue_time.nanoseconds, ms_to_ns(1'597'244'851'057));
  EXPECT_EQ(tick_.sequence, 0U);
}

// ws_deribit_v2_btc-perpetual_ticker_single_2025-12-12.jsonl: the only real
// BTC-PERPETUAL ticker we have. Every field the parser reads is asserted.
TEST_F(DeribitParserTest, ParsesTheRealPerpetualTickerCaptureExactly) {
  SYNTHUSD_SKIP_WITHOUT_CAPTURE("ws_deribit_v2_btc-perpetual_ticker_single_2025-12-12.jsonl");
  const std::vector<std::string> messages =
      test::capture_messages("ws_deribit_v2_btc-perpetual_ticker_single_2025-12-12.jsonl");
  ASSERT_EQ(messages.size(), 1U);
  ASSERT_EQ(parse(messages[0]), ParseStatus::tick);
  EXPECT_EQ(tick_.instrument, kPerpetual);
  EXPECT_EQ(tick_.fields, kTickerFields | field::funding_rate);
  EXPECT_EQ(tick_.mark.raw, 9'228'178'000'000);  // 92281.78
  EXPECT_EQ(tick_.index.raw, 9'226'355'000'000); // 92263.55
  EXPECT_EQ(tick_.bid.raw, 9'228'350'000'000);   // 92283.5
  EXPECT_EQ(tick_.bid_size, 11'766'000'000'000); // 117660.0 USD
  EXPECT_EQ(tick_.ask.raw, 9'228'400'000'000);   // 92284.0
  EXPECT_EQ(tick_.ask_size, 18'652'000'000'000); // 186520.0 USD
  EXPECT_EQ(tick_.funding_rate.raw, 1'742);      // funding_8h 1.742e-05 (current_funding is 0.0)
  EXPECT_EQ(tick_.venue_time.nanoseconds, ms_to_ns(1'765'541'474'086));
  EXPECT_FALSE(tick_.has(field::next_funding_time));
  EXPECT_FALSE(tick_.has(field::sequence));
}

// ws_deribit_v2_public_capture_2021-04-17.jsonl: option tickers and books.
// Two of its instruments are configured; everything else must be ignored,
// and nothing may be malformed.
TEST(DeribitParserCaptureTest, ParsesEveryReceivedMessageOfThePublicCapture) {
  SYNTHUSD_SKIP_WITHOUT_CAPTURE("ws_deribit_v2_public_capture_2021-04-17.jsonl");
  constexpr hedging::InstrumentId kCall54k = 7;
  constexpr hedging::InstrumentId kCall62k = 9;
  const std::array<SymbolMapping, 2> symbols{{{"BTC-30APR21-54000-C", kCall54k}, {"BTC-18APR21-62000-C", kCall62k}}};
  DeribitParser parser(symbols);

  const std::vector<std::string> messages = test::capture_messages("ws_deribit_v2_public_capture_2021-04-17.jsonl");
  ASSERT_EQ(messages.size(), 149U);
  test::StatusCounts counts;
  std::size_t book_ticks = 0;
  std::uint64_t last_change_id = 0;
  for (const std::string& message : messages) {
    VenueTick tick;
    const ParseStatus status = parse_text(parser, message, tick);
    test::expect_consistent(status, tick, message);
    EXPECT_NE(status, ParseStatus::malformed) << message;
    counts.add(status);
    if (status == ParseStatus::tick && tick.has(field::sequence) && tick.instrument == kCall54k) {
      // The book channel chains: each change names the previous change_id.
      if (book_ticks > 0) {
        EXPECT_TRUE(tick.has(field::previous_sequence)) << message;
        EXPECT_EQ(tick.previous_sequence, last_change_id) << message;
      }
      last_change_id = tick.sequence;
      ++book_ticks;
    }
  }
  // 23 + 16 tickers and 22 + 22 book messages for the two options (grep -c).
  EXPECT_EQ(counts.tick, 83U);
  EXPECT_EQ(counts.subscribed, 1U);
  EXPECT_EQ(counts.ignored, 65U);
  EXPECT_EQ(counts.malformed, 0U);
  EXPECT_EQ(book_ticks, 22U);
}

TEST(DeribitParserCaptureTest, ReadsAnOptionTickerWithNullsAndAnEmptyBook) {
  // From the 2021 capture: an illiquid option, stats all null, no bids or asks.
  constexpr std::string_view kOption =
      R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"ticker.ETH-7MAY21-2100-C.raw","data":{"underlying_price":2426.68,"underlying_index":"SYN.ETH-7MAY21","timestamp":1618677848563,"stats":{"volume":null,"price_change":null,"low":null,"high":null},"state":"open","settlement_price":0.19,"open_interest":0.0,"min_price":0.116,"max_price":0.1925,"mark_price":0.151031,"mark_iv":71.72,"last_price":null,"interest_rate":0.0,"instrument_name":"ETH-7MAY21-2100-C","index_price":2365.41,"greeks":{"vega":1.42673,"theta":-2.6054,"rho":0.88581,"gamma":0.00063,"delta":0.82955},"estimated_delivery_price":2365.41,"bid_iv":0.0,"best_bid_price":0.0,"best_bid_amount":0.0,"best_ask_price":0.0,"best_ask_amount":0.0,"ask_iv":0.0}}})";
  const std::array<SymbolMapping, 1> symbols{{{"ETH-7MAY21-2100-C", 3}}};
  DeribitParser parser(symbols);
  VenueTick tick;
  ASSERT_EQ(parse_text(parser, kOption, tick), ParseStatus::tick);
  EXPECT_EQ(tick.fields, kTickerFields);
  EXPECT_EQ(tick.mark.raw, 15'103'100); // 0.151031 ETH
  EXPECT_EQ(tick.bid.raw, 0);           // Deribit's "no bid"; the kernel checks Price::is_valid()
  EXPECT_EQ(tick.index.raw, 236'541'000'000);
}

// tests/data/feeds/deribit.jsonl: a session as a replay server will send it.
TEST_F(DeribitParserTest, ParsesEveryLineOfTheSessionFixture) {
  const std::vector<std::string> lines = test::read_lines(test::source_path("tests/data/feeds/deribit.jsonl"));
  const std::vector<ParseStatus> expected{
      ParseStatus::ignored,           // set_heartbeat: "ok"
      ParseStatus::subscribed,        // the two tickers
      ParseStatus::tick,              // BTC-PERPETUAL
      ParseStatus::tick,              // BTC-27DEC24
      ParseStatus::tick,              // BTC-PERPETUAL
      ParseStatus::heartbeat_request, // test_request
      ParseStatus::ignored,           // public/test reply
      ParseStatus::tick,              // BTC-27DEC24
      ParseStatus::tick,              // BTC-PERPETUAL
      ParseStatus::ignored,           // plain heartbeat
      ParseStatus::ignored,           // trades
      ParseStatus::subscribed,        // book
      ParseStatus::tick,              // book snapshot
      ParseStatus::tick,              // book change
      ParseStatus::tick,              // BTC-PERPETUAL, current_funding below 0, funding_8h not
      ParseStatus::venue_error,       // a rejected request
  };
  ASSERT_EQ(lines.size(), expected.size());
  std::vector<VenueTick> ticks(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const ParseStatus status = parse_text(parser_, lines[i], ticks[i]);
    EXPECT_EQ(status, expected[i]) << "line " << i + 1;
    test::expect_consistent(status, ticks[i], lines[i]);
  }

  const VenueTick& perpetual = ticks[2];
  EXPECT_EQ(perpetual.instrument, kPerpetual);
  EXPECT_EQ(perpetual.fields, kTickerFields | field::funding_rate);
  EXPECT_EQ(perpetual.mark.raw, 10'004'078'000'000);  // 100040.78
  EXPECT_EQ(perpetual.index.raw, 10'001'234'000'000); // 100012.34
  EXPECT_EQ(perpetual.bid.raw, 10'004'100'000'000);   // 100041.0
  EXPECT_EQ(perpetual.ask.raw, 10'004'150'000'000);   // 100041.5
  EXPECT_EQ(perpetual.bid_size, 12'501'000'000'000);  // 125010.0
  EXPECT_EQ(perpetual.ask_size, 4'872'000'000'000);   // 48720.0
  EXPECT_EQ(perpetual.funding_rate.raw, 11'504);      // funding_8h 0.00011504 (current_funding 0.00012731)
  EXPECT_EQ(perpetual.venue_time.nanoseconds, ms_to_ns(1'734'000'000'105));

  const VenueTick& december = ticks[3];
  EXPECT_EQ(december.instrument, kDecember);
  EXPECT_EQ(december.fields, kTickerFields);        // a dated future has no funding
  EXPECT_EQ(december.mark.raw, 10'071'667'000'000); // 100716.67
  EXPECT_EQ(december.bid.raw, 10'071'500'000'000);  // 100715.0
  EXPECT_EQ(december.ask.raw, 10'072'000'000'000);  // 100720.0
  EXPECT_EQ(december.bid_size, 350'000'000'000);    // 3500.0
  EXPECT_EQ(december.ask_size, 2'000'000'000'000);  // 20000.0

  EXPECT_EQ(ticks[4].mark.raw, 10'004'591'000'000);  // prices move between ticks
  EXPECT_EQ(ticks[8].funding_rate.raw, 1'742);       // "funding_8h":1.742e-05 ("current_funding":0.0)
  EXPECT_EQ(ticks[14].funding_rate.raw, 1'742);      // the 8-hour rate holds while current_funding dips below 0
  EXPECT_EQ(ticks[14].mark.raw, 10'001'840'000'000); // 100018.4

  const VenueTick& snapshot = ticks[12];
  EXPECT_EQ(snapshot.instrument, kPerpetual);
  EXPECT_EQ(snapshot.fields, field::sequence);
  EXPECT_EQ(snapshot.sequence, 71'349'263'105U);
  EXPECT_EQ(snapshot.venue_time.nanoseconds, ms_to_ns(1'734'000'010'498));
  const VenueTick& change = ticks[13];
  EXPECT_EQ(change.fields, field::sequence | field::previous_sequence);
  EXPECT_EQ(change.sequence, 71'349'263'192U);
  EXPECT_EQ(change.previous_sequence, snapshot.sequence);
}

TEST_F(DeribitParserTest, ReadsKeysInAnyOrder) {
  // JSON-RPC does not fix the order: data before channel, params before method.
  constexpr std::string_view kReordered =
      R"({"params":{"data":{"best_ask_amount":10.0,"timestamp":5,"best_bid_price":2.5,"mark_price":3},"channel":"ticker.BTC-27DEC24.100ms"},"method":"subscription","jsonrpc":"2.0"})";
  ASSERT_EQ(parse(kReordered), ParseStatus::tick);
  EXPECT_EQ(tick_.instrument, kDecember);
  EXPECT_EQ(tick_.fields, field::ask_size | field::bid | field::mark);
  EXPECT_EQ(tick_.bid.raw, 250'000'000);
  EXPECT_EQ(tick_.mark.raw, 300'000'000);
  EXPECT_EQ(tick_.ask_size, 1'000'000'000);
  EXPECT_EQ(tick_.venue_time.nanoseconds, 5'000'000);
}

TEST_F(DeribitParserTest, TreatsNullAndEmptyValuesAsAbsent) {
  ASSERT_EQ(parse(ticker_with(R"({"best_bid_price":null,"best_bid_amount":0.0,"mark_price":5.5,"index_price":""})")),
            ParseStatus::tick);
  EXPECT_EQ(tick_.fields, field::bid_size | field::mark);
  // A ticker whose fields are all absent says nothing.
  EXPECT_EQ(parse(ticker_with(R"({"best_bid_price":null,"timestamp":1})")), ParseStatus::ignored);
  EXPECT_EQ(tick_.instrument, hedging::kNoInstrument);
}

TEST_F(DeribitParserTest, IgnoresOtherInstrumentsAndChannels) {
  EXPECT_EQ(parse(ticker_with(R"({"mark_price":1.0})", "ticker.ETH-PERPETUAL.100ms")), ParseStatus::ignored);
  EXPECT_EQ(parse(ticker_with(R"({"mark_price":1.0})", "ticker.BTC-PERPETUALX.100ms")), ParseStatus::ignored);
  EXPECT_EQ(
      parse(ticker_with(R"({"interest":0.0004,"index_price":1.0,"timestamp":1})", "perpetual.BTC-PERPETUAL.100ms")),
      ParseStatus::ignored);
  EXPECT_EQ(parse(ticker_with(R"([{"price":1.0}])", "trades.BTC-PERPETUAL.100ms")), ParseStatus::ignored);
  EXPECT_EQ(parse(ticker_with(R"({"mark_price":1.0})", "ticker")), ParseStatus::ignored);
  EXPECT_EQ(parse(ticker_with(R"({"mark_price":1.0})", "")), ParseStatus::ignored);
  EXPECT_EQ(parse(R"({"jsonrpc":"2.0","method":"subscription","params":{}})"), ParseStatus::ignored);
  EXPECT_EQ(parse(R"({"jsonrpc":"2.0"})"), ParseStatus::ignored);
  EXPECT_EQ(parse(R"({})"), ParseStatus::ignored);
  // The unused part of an ignored message is skipped, not validated.
  EXPECT_EQ(parse(ticker_with(R"({"mark_price":"garbage"})", "ticker.ETH-PERPETUAL.100ms")), ParseStatus::ignored);
}

TEST_F(DeribitParserTest, ClassifiesRepliesHeartbeatsAndErrors) {
  EXPECT_EQ(parse(R"({"jsonrpc":"2.0","id":42,"result":["ticker.BTC-PERPETUAL.100ms"]})"), ParseStatus::subscribed);
  EXPECT_EQ(parse(R"({"jsonrpc":"2.0","id":42,"result":[]})"), ParseStatus::subscribed);
  EXPECT_EQ(parse(R"({"jsonrpc":"2.0","id":43,"result":"ok"})"), ParseStatus::ignored);
  EXPECT_EQ(parse(R"({"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}})"),
            ParseStatus::heartbeat_request);
  EXPECT_EQ(parse(R"({"jsonrpc":"2.0","method":"heartbeat","params":{"type":"heartbeat"}})"), ParseStatus::ignored);
  EXPECT_EQ(parse(R"({"jsonrpc":"2.0","id":8,"error":{"message":"Invalid params","code":-32602}})"),
            ParseStatus::venue_error);
  EXPECT_EQ(parse(R"({"jsonrpc":"2.0","id":8,"error":{"message":"bad_request","code":11050}, "testnet":true})"),
            ParseStatus::venue_error);
}

TEST_F(DeribitParserTest, ReadsBookSequenceNumbers) {
  const std::string book =
      R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC-PERPETUAL.100ms","data":)";
  ASSERT_EQ(parse(book + R"({"type":"change","timestamp":1,"prev_change_id":7,"change_id":9,"bids":[],"asks":[]}}})"),
            ParseStatus::tick);
  EXPECT_EQ(tick_.fields, field::sequence | field::previous_sequence);
  EXPECT_EQ(tick_.sequence, 9U);
  EXPECT_EQ(tick_.previous_sequence, 7U);
  // The largest change id there can be.
  ASSERT_EQ(parse(book + R"({"type":"snapshot","change_id":18446744073709551615,"bids":[],"asks":[]}}})"),
            ParseStatus::tick);
  EXPECT_EQ(tick_.sequence, 18'446'744'073'709'551'615U);
  // A book message without its change id cannot be chained.
  EXPECT_EQ(parse(book + R"({"type":"change","bids":[],"asks":[]}}})"), ParseStatus::malformed);
  EXPECT_EQ(parse(book + R"({"change_id":18446744073709551616}}})"), ParseStatus::malformed);
  EXPECT_EQ(parse(book + R"({"change_id":-1}}})"), ParseStatus::malformed);
  EXPECT_EQ(parse(book + R"({"change_id":1.5}}})"), ParseStatus::malformed);
}

TEST_F(DeribitParserTest, RejectsWrongTypes) {
  for (const std::string_view data : {
           R"({"mark_price":"abc"})",
           R"({"mark_price":true})",
           R"({"mark_price":{}})",
           R"({"mark_price":[1]})",
           R"({"mark_price":nul})",
           R"({"mark_price":1.2.3})",
           R"({"mark_price":1.})",
           R"({"mark_price":.5})",
           R"({"mark_price":"1 "})",
           R"({"timestamp":"soon","mark_price":1})",
           R"({"timestamp":1.5,"mark_price":1})",
           R"({"timestamp":-1,"mark_price":1})",
           R"({"funding_8h":"0.1%","mark_price":1})",
       }) {
    EXPECT_EQ(parse(ticker_with(data)), ParseStatus::malformed) << data;
    EXPECT_EQ(tick_.instrument, hedging::kNoInstrument) << data;
  }
  EXPECT_EQ(parse(ticker_with(R"("not an object")")), ParseStatus::malformed); // no data for a ticker
  EXPECT_EQ(parse(R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":5,"data":{}}})"),
            ParseStatus::malformed);
  EXPECT_EQ(parse(R"({"jsonrpc":"2.0","method":"subscription","params":[1,2]})"), ParseStatus::malformed);
  EXPECT_EQ(parse(R"({"jsonrpc":"2.0","method":"subscription","params":"x"})"), ParseStatus::malformed);
}

TEST_F(DeribitParserTest, RejectsNumbersThatOverflow) {
  for (const std::string_view data : {
           R"({"mark_price":1e300})",
           R"({"mark_price":92233720368.54775808})", // one raw unit above int64
           R"({"mark_price":-92233720368.54775809})",
           R"({"best_bid_amount":123456789012345678901234567890})",
           R"({"mark_price":1e99999})",
           R"({"timestamp":9223372036855,"mark_price":1})", // ms that overflow int64 ns
           R"({"timestamp":99999999999999999999999,"mark_price":1})",
       }) {
    EXPECT_EQ(parse(ticker_with(data)), ParseStatus::malformed) << data;
  }
  // The extremes that still fit.
  ASSERT_EQ(parse(ticker_with(R"({"mark_price":92233720368.54775807,"timestamp":9223372036854})")), ParseStatus::tick);
  EXPECT_EQ(tick_.mark.raw, 9'223'372'036'854'775'807);
  EXPECT_EQ(tick_.venue_time.nanoseconds, ms_to_ns(9'223'372'036'854));
  // Beyond 8 decimals rounds half to even rather than failing.
  ASSERT_EQ(parse(ticker_with(R"({"mark_price":0.000000015})")), ParseStatus::tick);
  EXPECT_EQ(tick_.mark.raw, 2);
}

TEST_F(DeribitParserTest, RejectsEveryTruncation) {
  for (std::size_t length = 0; length < kDocumentedTicker.size(); ++length) {
    const std::string_view prefix = kDocumentedTicker.substr(0, length);
    EXPECT_EQ(parse(prefix), ParseStatus::malformed) << prefix;
  }
}

TEST_F(DeribitParserTest, RejectsWhatIsNotOneJsonObject) {
  for (const std::string_view text : {
           "", " ", "ping", "null", R"("text")", "[1,2]", "{", "}", R"({"jsonrpc":"2.0"} {"jsonrpc":"2.0"})",
           R"({"jsonrpc":"2.0"}x)", R"({"jsonrpc" "2.0"})", R"({"jsonrpc":"2.0",})", R"({"jsonrpc":"2.0)",
           "{\"jsonrpc\":\"\xff\"}", // not UTF-8
       }) {
    EXPECT_EQ(parse(text), ParseStatus::malformed) << text;
  }
  EXPECT_EQ(parse(R"(  {"jsonrpc":"2.0"}  )"), ParseStatus::ignored); // surrounding whitespace is fine
}

TEST_F(DeribitParserTest, BoundsNestingEvenInValuesItSkips) {
  // 64 levels counting the root; the root, params and data are three of them.
  const auto nested = [](std::size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); };
  ASSERT_EQ(parse(ticker_with(R"({"stats":)" + nested(61) + R"(,"mark_price":2})")), ParseStatus::tick);
  EXPECT_EQ(tick_.mark.raw, 200'000'000);
  EXPECT_EQ(parse(ticker_with(R"({"stats":)" + nested(62) + R"(,"mark_price":2})")), ParseStatus::malformed);
  // Far deeper input is refused at the bound, without recursing into it.
  const std::string deep = nested(100'000);
  EXPECT_EQ(parse(ticker_with(R"({"stats":)" + deep + R"(,"mark_price":2})")), ParseStatus::malformed);
  EXPECT_EQ(parse(ticker_with(R"({"mark_price":)" + deep + "}")), ParseStatus::malformed);
  EXPECT_EQ(parse(ticker_with(R"({"stats":)" + std::string(100'000, '[') + "}")), ParseStatus::malformed);
  EXPECT_EQ(parse(std::string(100'000, '{')), ParseStatus::malformed);
}

TEST_F(DeribitParserTest, RequiresPaddingAndRespectsTheSizeLimit) {
  const test::PaddedMessage exact(kDocumentedTicker);
  EXPECT_EQ(parser_.parse(exact.data(), exact.length(), exact.capacity(), tick_), ParseStatus::tick);
  const test::PaddedMessage short_padding(kDocumentedTicker, kJsonPadding - 1);
  EXPECT_EQ(parser_.parse(short_padding.data(), short_padding.length(), short_padding.capacity(), tick_),
            ParseStatus::malformed);
  EXPECT_EQ(tick_.instrument, hedging::kNoInstrument);
  EXPECT_EQ(parser_.parse(exact.data(), exact.length(), exact.length() - 1, tick_), ParseStatus::malformed);
  EXPECT_EQ(parser_.parse(nullptr, 0, 0, tick_), ParseStatus::malformed);
  EXPECT_EQ(parser_.parse(exact.data(), 0, exact.capacity(), tick_), ParseStatus::malformed);

  DeribitParser small(kSymbols, kDocumentedTicker.size() - 1);
  EXPECT_EQ(small.parse(exact.data(), exact.length(), exact.capacity(), tick_), ParseStatus::malformed);
  DeribitParser fitting(kSymbols, kDocumentedTicker.size());
  EXPECT_EQ(fitting.parse(exact.data(), exact.length(), exact.capacity(), tick_), ParseStatus::tick);
}

TEST_F(DeribitParserTest, ReusesItsBuffersWithoutAllocating) {
  const std::vector<std::string> lines = test::read_lines(test::source_path("tests/data/feeds/deribit.jsonl"));
  std::vector<test::PaddedMessage> messages(lines.begin(), lines.end());
  messages.emplace_back("{\"truncated\":");
  const auto before = test_support::allocation_count();
  for (int round = 0; round < 100; ++round) {
    for (const test::PaddedMessage& message : messages) {
      static_cast<void>(parser_.parse(message.data(), message.length(), message.capacity(), tick_));
    }
  }
  EXPECT_EQ(test_support::allocation_count() - before, 0);
}

TEST(DeribitParserMessagesTest, BuildsSubscribeAndHeartbeatMessages) {
  const std::array<std::string_view, 2> instruments{"BTC-PERPETUAL", "BTC-27DEC24"};
  EXPECT_EQ(
      DeribitParser::subscribe_message(instruments, 42),
      R"({"jsonrpc":"2.0","id":42,"method":"public/subscribe","params":{"channels":["ticker.BTC-PERPETUAL.100ms","ticker.BTC-27DEC24.100ms"]}})");
  EXPECT_EQ(
      DeribitParser::subscribe_message(std::span(instruments).first(1), 1, "raw"),
      R"({"jsonrpc":"2.0","id":1,"method":"public/subscribe","params":{"channels":["ticker.BTC-PERPETUAL.raw"]}})");
  EXPECT_EQ(DeribitParser::set_heartbeat_message(30, 7),
            R"({"jsonrpc":"2.0","id":7,"method":"public/set_heartbeat","params":{"interval":30}})");
  EXPECT_THROW(static_cast<void>(DeribitParser::set_heartbeat_message(9, 7)), std::invalid_argument);
  const std::array<std::string_view, 1> bad{"BTC.PERPETUAL"};
  EXPECT_THROW(static_cast<void>(DeribitParser::subscribe_message(bad, 1)), std::invalid_argument);
  const std::array<std::string_view, 1> quoted{"BTC\"X"};
  EXPECT_THROW(static_cast<void>(DeribitParser::subscribe_message(quoted, 1)), std::invalid_argument);

  std::array<char, DeribitParser::kHeartbeatResponseMaxBytes> buffer{};
  const std::size_t length = DeribitParser::heartbeat_response(18'446'744'073'709'551'615U, buffer);
  EXPECT_EQ(std::string_view(buffer.data(), length),
            R"({"jsonrpc":"2.0","id":18446744073709551615,"method":"public/test","params":{}})");
  EXPECT_EQ(DeribitParser::heartbeat_response(1, std::span(buffer).first(buffer.size() - 1)), 0U);
  // Our own messages are JSON that the parser reads as well-formed.
  DeribitParser parser(kSymbols);
  EXPECT_EQ(parse_text(parser, std::string_view(buffer.data(), length)), ParseStatus::ignored);
  EXPECT_EQ(parse_text(parser, DeribitParser::subscribe_message(instruments, 42)), ParseStatus::ignored);
}

} // namespace
} // namespace synthusd::feeds
