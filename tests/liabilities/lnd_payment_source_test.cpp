// LND debits: outgoing payments read by payment_index from ListPayments.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lnd_test_support.hpp"
#include "synthusd/liabilities/lnd_payment_source.hpp"

namespace synthusd::liabilities {
namespace {

using namespace lnd_test;

std::string first_line(const std::string& request) { return request.substr(0, request.find("\r\n")); }

std::string scan(std::uint64_t from, int page) {
  return "GET /v1/payments?index_offset=" + std::to_string(from) + "&max_payments=" + std::to_string(page) +
         "&include_incomplete=true&reversed=false HTTP/1.1";
}

FakeLnd::Script answer(std::vector<Payment> payments) {
  return [payments = std::move(payments)](FakeLnd::Session& session) { session.answer(payment_page_json(payments)); };
}

LndOptions debit_options(int port, const TemporaryDirectory& directory) {
  LndOptions options = plain_options(port);
  options.debits = true;
  options.debits_poll_ms = 20;
  options.debits_state_file = directory.file("lnd.payment_index");
  return options;
}

bool drive(LndPaymentSource& source, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    (void)source.poll_once(5);
  }
  return true;
}

TEST(LndPaymentSource, succeeded_payments_are_debits_of_amount_plus_fees_and_failed_ones_move_nothing) {
  const Payment first{.hash_seed = 1, .payment_index = 1, .value_msat = 1'000'000, .fee_msat = 1'500};
  const Payment failed{.hash_seed = 2, .payment_index = 2, .status = "FAILED"};
  const Payment third{.hash_seed = 3, .payment_index = 3, .value_msat = 2'000'000, .fee_msat = 0};
  FakeLnd lnd({answer({first, failed, third})});
  TemporaryDirectory directory;
  TestSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  const LndOptions options = debit_options(lnd.port(), directory);
  LndPaymentSource source(options, admission);
  ASSERT_TRUE(drive(source, [&] { return source.acknowledged_payment_index() == 3; })) << source.last_error();
  ASSERT_EQ(sink.taken.size(), 2u);
  EXPECT_EQ(sink.taken_ids[0], payment_id(first));
  EXPECT_EQ(sink.taken[0].sats, hedging::Sats{1002}); // 1001.5 sats sent, rounded up: a debit is never short
  EXPECT_LT(sink.taken[0].delta.value, 0);            // a debit: the user's dollars shrink
  EXPECT_EQ(sink.taken[0].time, hedging::Timestamp{1'700'000'000'000'000'000});
  EXPECT_EQ(sink.taken_ids[1], payment_id(third));
  EXPECT_EQ(sink.taken[1].sats, hedging::Sats{2000});
  EXPECT_EQ(source.counters().failed, 1u);
  EXPECT_EQ(read_text(options.debits_state_file), "3\n");
  EXPECT_EQ(first_line(lnd.requests()[0]), scan(0, 100));
}

TEST(LndPaymentSource, an_in_flight_payment_holds_the_cursor_but_not_the_debits_after_it) {
  const Payment one{.hash_seed = 1, .payment_index = 1};
  const Payment two_in_flight{.hash_seed = 2, .payment_index = 2, .status = "IN_FLIGHT"};
  const Payment two{.hash_seed = 2, .payment_index = 2};
  const Payment three{.hash_seed = 3, .payment_index = 3};
  FakeLnd lnd({answer({one, two_in_flight, three}), answer({two, three})});
  TemporaryDirectory directory;
  TestSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  LndPaymentSource source(debit_options(lnd.port(), directory), admission);
  ASSERT_TRUE(drive(source, [&] { return sink.taken.size() == 2 && source.acknowledged_payment_index() == 1; }))
      << source.last_error();
  EXPECT_EQ(sink.taken_ids[1], payment_id(three)); // debited at once, though 2 is still in flight
  ASSERT_TRUE(drive(source, [&] { return source.acknowledged_payment_index() == 3; })) << source.last_error();
  ASSERT_EQ(sink.taken.size(), 3u);
  EXPECT_EQ(sink.taken_ids[2], payment_id(two));
  EXPECT_EQ(source.counters().debited, 3u);
  EXPECT_EQ(source.counters().duplicates, 0u); // 3 was not admitted again on the second scan
  const auto requests = lnd.requests();
  ASSERT_GE(requests.size(), 2u);
  EXPECT_EQ(first_line(requests[1]), scan(1, 100)); // from the held payment on
}

TEST(LndPaymentSource, full_pages_are_followed_at_once_and_a_restart_resumes_from_the_state_file) {
  const std::vector<Payment> ledger = {
      {.hash_seed = 1, .payment_index = 4}, {.hash_seed = 2, .payment_index = 5}, {.hash_seed = 3, .payment_index = 7}};
  TemporaryDirectory directory;
  {
    FakeLnd lnd({answer({ledger[0], ledger[1]}), answer({ledger[2]})});
    TestSink sink;
    LiabilityAdmission admission(sink, hedging::Ratio{});
    LndOptions options = debit_options(lnd.port(), directory);
    options.debits_page_size = 2;
    options.debits_from_payment_index = 3; // the node paid for other things before
    LndPaymentSource source(options, admission);
    ASSERT_TRUE(drive(source, [&] { return source.acknowledged_payment_index() == 7; })) << source.last_error();
    EXPECT_EQ(sink.taken.size(), 3u);
    const auto requests = lnd.requests();
    ASSERT_GE(requests.size(), 2u);
    EXPECT_EQ(first_line(requests[0]), scan(3, 2));
    EXPECT_EQ(first_line(requests[1]), scan(5, 2));
  }
  FakeLnd lnd({answer({})});
  TestSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  LndOptions options = debit_options(lnd.port(), directory);
  options.debits_page_size = 2;
  LndPaymentSource source(options, admission);
  EXPECT_EQ(source.acknowledged_payment_index(), 7u);
  ASSERT_TRUE(drive(source, [&] { return source.counters().scans == 1; })) << source.last_error();
  EXPECT_EQ(first_line(lnd.requests()[0]), scan(7, 2));
  EXPECT_TRUE(sink.taken.empty());
}

TEST(LndPaymentSource, a_malformed_payment_is_rejected_with_its_reason_and_does_not_hold_the_cursor) {
  const Payment good{.hash_seed = 1, .payment_index = 2};
  FakeLnd lnd({[&](FakeLnd::Session& session) {
    std::string page = payment_page_json({{.hash_seed = 9, .payment_index = 1}, good});
    page = replace(page, R"("value_msat":"1000000")", R"("value_msat":1000000)");
    session.answer(page);
  }});
  TemporaryDirectory directory;
  TestSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  LndPaymentSource source(debit_options(lnd.port(), directory), admission);
  ASSERT_TRUE(drive(source, [&] { return source.acknowledged_payment_index() == 2; })) << source.last_error();
  ASSERT_EQ(sink.taken.size(), 1u);
  EXPECT_EQ(sink.taken_ids[0], payment_id(good));
  const auto rejections = source.take_rejections();
  ASSERT_EQ(rejections.size(), 1u);
  EXPECT_EQ(rejections[0].reason, "value_msat must be a string");
}

} // namespace
} // namespace synthusd::liabilities
