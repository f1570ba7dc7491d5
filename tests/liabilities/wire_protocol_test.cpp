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
  ASSERT_TRUE(parse_liability_line(
      R"({"id":"w-1","kind":"usd_credit","usd_cents":2500,"ts":1700000000123,"extra":[1]})", request, reason))
      << reason;
  EXPECT_EQ(request.id, "w-1");
  EXPECT_TRUE(request.credit);
  EXPECT_EQ(request.usd_cents, 2500);
  EXPECT_FALSE(request.sats);
  EXPECT_EQ(request.ts_ms, 1700000000123);
}

TEST(LiabilityLine, every_protocol_violation_is_named) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "not a JSON object"},
      {R"([1,2])", "not a JSON object"},
      {R"({"kind":"usd_credit","usd_cents":1,"ts":1})", "id is missing"},
      {R"({"id":"a","usd_cents":1,"ts":1})", "kind is missing"},
      {R"({"id":"a","kind":"usd_credit","usd_cents":1})", "ts is missing"},
      {R"({"id":"a","kind":"usd_gift","usd_cents":1,"ts":1})", "kind must be usd_credit or usd_debit"},
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

TEST(LiabilityLine, quoting_escapes_quotes_and_backslashes) {
  EXPECT_EQ(quote_json_string(R"(a"b\c)"), R"("a\"b\\c")");
}

} // namespace
} // namespace synthusd::liabilities
