// The liability wire protocol's parser and quoting (wire_protocol.hpp).
#include "synthusd/liabilities/wire_protocol.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace synthusd::liabilities {
namespace {

TEST(LiabilityLine, a_credit_with_dollars_parses) {
  LiabilityRequest request;
  std::string reason;
  ASSERT_TRUE(
      parse_liability_line(R"({"id":"w-1","kind":"usd_credit","usd_cents":2500,"ts":1700000000123})", request, reason))
      << reason;
  EXPECT_EQ(request.id, "w-1");
  EXPECT_TRUE(request.credit);
  EXPECT_EQ(request.usd_cents, 2500);
  EXPECT_FALSE(request.sats);
  EXPECT_EQ(request.ts_ms, 1700000000123);
  EXPECT_FALSE(request.backfill); // live unless the line says otherwise
}

TEST(LiabilityLine, a_replay_of_history_says_backfill) {
  LiabilityRequest request;
  std::string reason;
  ASSERT_TRUE(parse_liability_line(
      R"({"id":"cln:ab","kind":"usd_credit","sats":2500,"ts":1600000000000,"backfill":true})", request, reason))
      << reason;
  EXPECT_TRUE(request.backfill);
  ASSERT_TRUE(
      parse_liability_line(R"({"id":"w-2","kind":"usd_credit","sats":1,"ts":1,"backfill":false})", request, reason));
  EXPECT_FALSE(request.backfill);
  EXPECT_FALSE(
      parse_liability_line(R"({"id":"w-3","kind":"usd_credit","sats":1,"ts":1,"backfill":1})", request, reason));
  EXPECT_EQ(reason, "backfill must be true or false");
}

TEST(LiabilityLine, every_protocol_violation_is_named) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "not a JSON object"},
      {R"([1,2])", "not a JSON object"},
      {R"({"kind":"usd_credit","usd_cents":1,"ts":1})", "id is missing"},
      {R"({"id":"a","usd_cents":1,"ts":1})", "kind is missing"},
      {R"({"id":"a","kind":"usd_credit","usd_cents":1})", "ts is missing"},
      {R"({"id":"a","kind":"usd_gift","usd_cents":1,"ts":1})",
       "kind must be usd_credit, usd_debit, provider_increase, provider_decrease or risk_position"},
      {R"({"id":"a","kind":"usd_credit","usd_cents":-5,"ts":1})", "usd_cents must be a positive integer"},
      {R"({"id":"a","kind":"usd_credit","usd_cents":"5","ts":1})", "usd_cents must be a positive integer"},
      {R"({"id":"a","kind":"usd_credit","ts":1})", "usd_cents or sats is required"},
      {R"({"id":"","kind":"usd_credit","sats":1,"ts":1})", "id must be a string of 1 to 128 bytes"},
      {R"({"id":"a","kind":"usd_credit","sats":1,"ts":1} 1)", "not a JSON object"},
      {R"({"id":"a","kind":"usd_credit","sats":1,"ts":1} x)", "not a JSON object"},
  };
  for (const auto& [line, expected] : cases) {
    LiabilityRequest request;
    std::string reason;
    EXPECT_FALSE(parse_liability_line(line, request, reason)) << line;
    EXPECT_EQ(reason, expected) << line;
  }
}

TEST(LiabilityLine, a_field_the_protocol_does_not_define_is_refused_by_name) {
  // "currency" or "unit" would change what the amount means: never ignored.
  for (const auto& [line, expected] : std::vector<std::pair<std::string, std::string>>{
           {R"({"id":"a","kind":"usd_credit","usd_cents":100,"ts":1,"currency":"EUR"})", "unknown field 'currency'"},
           {R"({"id":"a","kind":"usd_credit","sats":100,"unit":"msat","ts":1})", "unknown field 'unit'"},
       }) {
    LiabilityRequest request;
    std::string reason;
    EXPECT_FALSE(parse_liability_line(line, request, reason)) << line;
    EXPECT_EQ(reason, expected);
  }
}

TEST(LiabilityLine, a_timestamp_in_microseconds_is_refused) {
  LiabilityRequest request;
  std::string reason;
  // 2023 in microseconds: 1.7e15, past 2100 in milliseconds.
  EXPECT_FALSE(
      parse_liability_line(R"({"id":"a","kind":"usd_credit","usd_cents":1,"ts":1700000000123000})", request, reason));
  EXPECT_EQ(reason, "ts must be Unix milliseconds");
  EXPECT_TRUE(
      parse_liability_line(R"({"id":"a","kind":"usd_credit","usd_cents":1,"ts":4102444800000})", request, reason))
      << reason;
}

TEST(LiabilityLine, quoting_escapes_control_characters_exactly) {
  // Escaped as \u00XX, never replaced, so the echo is the id byte for byte.
  EXPECT_EQ(quote_json_string(std::string("a\x01"
                                          "b\tc\x1f",
                                          6)),
            R"("a\u0001b\u0009c\u001f")");
}

TEST(LiabilityLine, quoting_escapes_quotes_and_backslashes) {
  EXPECT_EQ(quote_json_string(R"(a"b\c)"), R"("a\"b\\c")");
}

} // namespace
} // namespace synthusd::liabilities

namespace synthusd::liabilities {
namespace {

// Found by fuzz_liability_line: reading the type of a malformed value threw
// simdjson_error out of the parser, on the thread that polls the intake.
TEST(LiabilityLine, a_malformed_profit_limit_interest_is_refused_not_thrown) {
  for (const std::string_view line :
       {std::string_view("{\"id\":\"r-1\",\"kind\":\"risk_position\",\"market\":1,\"position\":1,\"present\":false,"
                         "\"ts\":1,\"profit_limit_interest\":\x1a"
                         "0.5}"),
        std::string_view("{\"id\":\"r-1\",\"kind\":\"risk_position\",\"ts\":0,\"pnl_usd_cents\":-20,"
                         "\"profit_limit_interest\":\x1a"
                         "0.\"usd_cent,s\"}")}) {
    LiabilityRequest request;
    std::string reason;
    bool parsed = true;
    EXPECT_NO_THROW(parsed = parse_liability_line(line, request, reason));
    EXPECT_FALSE(parsed);
    EXPECT_FALSE(reason.empty());
  }
}

// The intake parses every line into one reused request: what a line leaves
// behind (here every field, from a line refused after they were read) must
// not show in the next.
TEST(LiabilityLine, a_reused_request_keeps_nothing_of_the_line_before) {
  LiabilityRequest reused;
  std::string reason;
  ASSERT_FALSE(parse_liability_line(
      R"({"id":"an-id-longer-than-any-inline-string-buffer","kind":"usd_credit","usd_cents":5,"sats":7,"ts":1,)"
      R"("pay_index":9,"backfill":true,"provider":"alice","market":3,"position":7,"present":true,)"
      R"("notional_usd_cents":1,"profit_limit_interest":"0.5"})",
      reused, reason));
  ASSERT_TRUE(
      parse_liability_line(R"({"id":"w-1","kind":"usd_debit","usd_cents":12,"ts":1700000000000})", reused, reason));
  EXPECT_EQ(reused.id, "w-1");
  EXPECT_FALSE(reused.credit);
  EXPECT_EQ(reused.usd_cents, 12);
  EXPECT_FALSE(reused.sats.has_value());
  EXPECT_FALSE(reused.pay_index.has_value());
  EXPECT_FALSE(reused.backfill);
  EXPECT_TRUE(reused.provider.empty());
  EXPECT_EQ(reused.risk.market, 0);
  EXPECT_EQ(reused.risk.position_id, 0U);
  EXPECT_EQ(reused.risk.profit_limit_interest, LiabilityRequest{}.risk.profit_limit_interest);
}

} // namespace
} // namespace synthusd::liabilities
