#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "lnd_test_support.hpp"
#include "synthusd/liabilities/lnd_messages.hpp"
#include "synthusd/liabilities/lnd_stream_parser.hpp"

namespace synthusd::liabilities {
namespace {

using lnd_test::Invoice;
using lnd_test::invoice_json;
using lnd_test::lnd_id;
using lnd_test::replace;

TEST(LndStreamParser, a_settled_invoice_is_a_credit_keyed_by_payment_hash_and_settle_index) {
  const Invoice invoice{.hash_seed = 3, .settle_index = 7, .sats = 1000, .settle_date = 1'718'000'042};
  const LndInvoiceMessage message = parse_lnd_invoice_message(invoice_json(invoice));
  ASSERT_EQ(message.kind, LndInvoiceMessage::Kind::settled) << message.reason;
  ASSERT_EQ(message.settlements.size(), 1u);
  const LiabilityRequest& request = message.settlements[0].request;
  EXPECT_EQ(request.id, lnd_id(invoice));
  EXPECT_EQ(request.id.size(), 4 + 64 + 2u);
  EXPECT_TRUE(request.credit);
  EXPECT_EQ(request.sats, 1000);
  EXPECT_FALSE(request.usd_cents);
  EXPECT_EQ(request.ts_ms, 1'718'000'042'000);
  EXPECT_TRUE(request.backfill); // a replayed settle_index stream: old settle dates are admitted
  EXPECT_EQ(message.settlements[0].settle_index, 7u);
  EXPECT_EQ(message.add_index, 12u);
  EXPECT_FALSE(message.may_settle);
}

TEST(LndStreamParser, amt_paid_msat_is_the_fallback_rounded_down) {
  const Invoice invoice{.sats = 2500, .with_amt_paid_sat = false, .extra_msat = 999};
  const LndInvoiceMessage message = parse_lnd_invoice_message(invoice_json(invoice));
  ASSERT_EQ(message.kind, LndInvoiceMessage::Kind::settled) << message.reason;
  ASSERT_EQ(message.settlements.size(), 1u);
  EXPECT_EQ(message.settlements[0].request.sats, 2500);
}

TEST(LndStreamParser, open_accepted_and_canceled_invoices_move_no_money) {
  for (const char* state : {"OPEN", "ACCEPTED", "CANCELED"}) {
    const LndInvoiceMessage message = parse_lnd_invoice_message(invoice_json(Invoice{.state = state}));
    EXPECT_EQ(message.kind, LndInvoiceMessage::Kind::ignored) << state;
    EXPECT_EQ(message.reason, state);
  }
  // paid less than one satoshi: nothing to credit
  const LndInvoiceMessage dust = parse_lnd_invoice_message(invoice_json(Invoice{.sats = 0, .extra_msat = 999}));
  EXPECT_EQ(dust.kind, LndInvoiceMessage::Kind::ignored);
}

TEST(LndStreamParser, every_malformed_message_is_rejected_with_its_reason) {
  const std::string good = invoice_json(Invoice{.settle_index = 7});
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "not a JSON object"},
      {"[1,2]", "not a JSON object"},
      {good + " x", "not a JSON object"},
      {R"({"error":{"code":2,"message":"invoice subscription closed","details":[]}})",
       "lnd error 2: invoice subscription closed"},
      {R"({"unexpected":{}})", "neither result nor error"},
      {R"({"result":[]})", "result must be an object"},
      {replace(good, R"("state":"SETTLED")", R"("state":"PAID")"), "unknown invoice state PAID"},
      {replace(good, R"("state":"SETTLED")", R"("state":1)"), "state must be a string"},
      {replace(good, R"("state":"SETTLED")", R"("status":"SETTLED")"), "state is missing"},
      {replace(good, R"("r_hash")", R"("r_hash_x")"), "r_hash is missing"},
      {replace(good, R"("r_hash":")", R"("r_hash":"!)"), "r_hash must be 32 bytes in base64"},
      {replace(good, R"("settle_index":"7")", R"("settle_index":"-7")"),
       "settle_index must be a positive decimal string"},
      {replace(good, R"("settle_index":"7")", R"("settle_index":"seven")"),
       "settle_index must be a positive decimal string"},
      {replace(good, R"("settle_index":"7")", R"("settle_index":7)"), "settle_index must be a string"},
      {replace(good, R"("settle_index":"7")", R"("settle_index":"0")"),
       "settle_index must be a positive decimal string"},
      {replace(good, R"("amt_paid_sat":"1000")", R"("amt_paid_sat":"1e3")"),
       "amt_paid_sat must be a non-negative decimal string"},
      {replace(good, R"("amt_paid_sat":"1000")", R"("amt_paid_sat":"99999999999999999999")"),
       "amt_paid_sat must be a non-negative decimal string"},
      {replace(good, R"("amt_paid_sat":"1000")", R"("amt_paid_sat":"18446744073709551615")"),
       "amt_paid_sat is out of range"},
      {replace(good, R"("amt_paid_sat":"1000")", R"("amt_paid_sat":1000)"), "amt_paid_sat must be a string"},
      {replace(replace(good, R"("amt_paid_sat":"1000",)", ""), R"("amt_paid_msat":"1000000",)", ""),
       "amt_paid_sat or amt_paid_msat is required"},
      {replace(good, R"("settle_date":"1700000000")", R"("settle_date":"-1")"),
       "settle_date must be Unix seconds as a decimal string"},
  };
  for (const auto& [line, expected] : cases) {
    const LndInvoiceMessage message = parse_lnd_invoice_message(line);
    EXPECT_EQ(message.kind, LndInvoiceMessage::Kind::rejected) << line;
    EXPECT_EQ(message.reason, expected) << line;
  }
}

TEST(LndStreamParser, a_chunked_body_decodes_the_same_however_the_bytes_arrive) {
  const std::string wire = "5\r\nhello\r\n7;name=value\r\n world\n\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
  HttpResponseHead head;
  std::string reason;
  ASSERT_TRUE(parse_http_response_head("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                       "Transfer-Encoding: chunked",
                                       head, reason))
      << reason;
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.framing, HttpResponseHead::Framing::chunked);
  for (std::size_t step : {wire.size(), std::size_t{1}, std::size_t{3}}) {
    HttpBodyDecoder decoder;
    decoder.reset(head);
    std::string body;
    HttpBodyDecoder::Status status = HttpBodyDecoder::Status::more;
    for (std::size_t at = 0; at < wire.size() && status == HttpBodyDecoder::Status::more; at += step) {
      status = decoder.feed(std::string_view(wire).substr(at, step), body);
    }
    EXPECT_EQ(status, HttpBodyDecoder::Status::done) << step;
    EXPECT_EQ(body, "hello world\n") << step;
  }
  HttpBodyDecoder decoder;
  decoder.reset(head);
  std::string body;
  EXPECT_EQ(decoder.feed("5\r\nhello!!\r\n", body), HttpBodyDecoder::Status::error);
  decoder.reset(head);
  EXPECT_EQ(decoder.feed("zz\r\n", body), HttpBodyDecoder::Status::error);
  decoder.reset(head);
  EXPECT_EQ(decoder.feed("5\r\nhel", body), HttpBodyDecoder::Status::more);
  EXPECT_EQ(decoder.finish(), HttpBodyDecoder::Status::error); // closed inside the body

  ASSERT_TRUE(parse_http_response_head("HTTP/1.1 401 Unauthorized\r\nContent-Length: 12", head, reason));
  EXPECT_EQ(head.status, 401);
  EXPECT_EQ(head.framing, HttpResponseHead::Framing::length);
  EXPECT_EQ(head.content_length, 12u);
  EXPECT_FALSE(parse_http_response_head("SSH-2.0-OpenSSH_9.2", head, reason));
  EXPECT_FALSE(parse_http_response_head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip", head, reason));
}

} // namespace
} // namespace synthusd::liabilities
