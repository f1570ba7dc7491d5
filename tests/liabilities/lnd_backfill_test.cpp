// The LND source against lnd's less common shapes: AMP invoices (one
// invoice, many payments) and the first-start backfill through ListInvoices.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "lnd_test_support.hpp"
#include "synthusd/liabilities/lnd_messages.hpp"
#include "synthusd/liabilities/lnd_source.hpp"

namespace synthusd::liabilities {
namespace {

using namespace lnd_test;

TEST(LndAmpInvoice, each_settled_set_is_one_credit_with_its_own_amount_and_index) {
  const AmpSet first{.set_seed = 1, .settle_index = 4, .msat = 1'000'500, .settle_time = 1'700'000'100};
  const AmpSet second{.set_seed = 2, .settle_index = 9, .msat = 3'000'000, .settle_time = 1'700'000'200};
  const AmpSet pending{.set_seed = 3, .state = "ACCEPTED", .msat = 7'000'000};
  const LndInvoiceMessage message = parse_lnd_invoice_message(amp_invoice_json(1, {first, second, pending}));
  ASSERT_EQ(message.kind, LndInvoiceMessage::Kind::settled) << message.reason;
  ASSERT_EQ(message.settlements.size(), 2u);
  EXPECT_EQ(message.settlements[0].request.id, amp_id(first));
  EXPECT_EQ(message.settlements[0].request.sats, 1000); // its own amount, rounded down
  EXPECT_EQ(message.settlements[0].request.ts_ms, 1'700'000'100'000);
  EXPECT_EQ(message.settlements[0].settle_index, 4u);
  EXPECT_EQ(message.settlements[1].request.id, amp_id(second));
  EXPECT_EQ(message.settlements[1].request.sats, 3000); // not the invoice's cumulative 4000
  EXPECT_EQ(message.settlements[1].settle_index, 9u);
  EXPECT_TRUE(message.may_settle); // an AMP invoice can be paid again
  EXPECT_TRUE(message.settlements[1].request.credit);

  const std::string good = amp_invoice_json(1, {first});
  const std::string set_hex = hex(payment_hash(first.set_seed + 5000));
  const std::vector<std::pair<std::string, std::string>> bad = {
      {replace(good, R"("settle_index":"4")", R"("settle_index":4)"),
       "amp_invoice_state.settle_index must be a string"},
      {replace(good, R"("settle_index":"4")", R"("settle_index":"0")"),
       "amp_invoice_state.settle_index must be a positive decimal string"},
      {replace(good, R"("amt_paid_msat":"1000500"})", R"("amt_paid_msat":"-1"})"),
       "amp_invoice_state.amt_paid_msat must be a non-negative decimal string"},
      {replace(good, set_hex, "zz" + set_hex.substr(2)), "amp_invoice_state keys must be 32-byte set ids in hex"},
      {replace(good, R"("state":"SETTLED","settle_index":"4")", R"("state":"GONE","settle_index":"4")"),
       "unknown AMP set state GONE"},
  };
  for (const auto& [line, reason] : bad) {
    const LndInvoiceMessage rejected = parse_lnd_invoice_message(line);
    EXPECT_EQ(rejected.kind, LndInvoiceMessage::Kind::rejected) << line;
    EXPECT_EQ(rejected.reason, reason) << line;
  }
}

TEST(LndAmpInvoice, a_stream_credits_each_set_once_as_lnd_resends_the_invoice_with_every_set) {
  const AmpSet first{.set_seed = 1, .settle_index = 4, .msat = 1'000'000};
  const AmpSet second{.set_seed = 2, .settle_index = 5, .msat = 3'000'000};
  FakeLnd lnd({[&](FakeLnd::Session& session) {
    // lnd notifies the invoice on each settlement, every set included
    session.message(amp_invoice_json(7, {first}));
    session.message(amp_invoice_json(7, {first, second}));
    session.hold();
  }});
  TestSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  LndInvoiceSource source(plain_options(lnd.port()), admission);
  ASSERT_TRUE(drive(source, [&] { return source.acknowledged_settle_index() == 5; })) << source.last_error();
  ASSERT_EQ(sink.taken.size(), 2u);
  EXPECT_EQ(sink.taken_ids[0], amp_id(first));
  EXPECT_EQ(sink.taken_ids[1], amp_id(second));
  EXPECT_EQ(sink.taken[0].sats, hedging::Sats{1000});
  EXPECT_EQ(sink.taken[1].sats, hedging::Sats{3000});
  EXPECT_EQ(source.counters().settled, 2u);
  EXPECT_EQ(source.counters().duplicates, 1u); // the first set, sent again with the second
  EXPECT_EQ(source.counters().rejected, 0u);
}

TEST(LndAmpInvoice, a_held_set_resumes_where_it_stopped_without_repeating_the_sets_before_it) {
  const AmpSet first{.set_seed = 1, .settle_index = 4};
  const AmpSet second{.set_seed = 2, .settle_index = 5};
  FakeLnd lnd({[&](FakeLnd::Session& session) {
    session.message(amp_invoice_json(7, {first, second}));
    session.hold();
  }});
  TestSink sink;
  sink.room = 1; // the queue takes the first set only
  LiabilityAdmission admission(sink, hedging::Ratio{});
  LndInvoiceSource source(plain_options(lnd.port()), admission);
  ASSERT_TRUE(drive(source, [&] { return source.counters().held == 1; })) << source.last_error();
  EXPECT_EQ(sink.taken.size(), 1u);
  sink.room = 2;
  ASSERT_TRUE(drive(source, [&] { return source.acknowledged_settle_index() == 5; })) << source.last_error();
  EXPECT_EQ(sink.taken.size(), 2u);
  EXPECT_EQ(source.counters().settled, 2u);
  EXPECT_EQ(source.counters().duplicates, 0u);
  EXPECT_EQ(source.counters().messages, 1u);
}

std::string first_line(const std::string& request) { return request.substr(0, request.find("\r\n")); }

TEST(LndBackfill, a_first_start_lists_settled_invoices_then_streams_from_before_the_first_open_one) {
  // add 1, 2 settled (settle 1, 2); add 3 open while listed, then settled
  // (settle 4) before the stream starts; add 4 settled (settle 3).
  const Invoice one{.hash_seed = 1, .settle_index = 1, .add_index = 1};
  const Invoice two{.hash_seed = 2, .settle_index = 2, .add_index = 2};
  const Invoice three_open{.state = "OPEN", .hash_seed = 3, .add_index = 3};
  const Invoice three{.hash_seed = 3, .settle_index = 4, .sats = 3000, .add_index = 3};
  const Invoice four{.hash_seed = 4, .settle_index = 3, .add_index = 4};
  TemporaryDirectory directory;
  LndOptions options;
  FakeLnd lnd({[&](FakeLnd::Session& session) {
                 session.answer(invoice_page_json({one, two}));
               },
               [&](FakeLnd::Session& session) {
                 session.answer(invoice_page_json({three_open, four}));
               },
               [&](FakeLnd::Session& session) { session.answer(invoice_page_json({})); },
               serve_ledger({one, two, four, three}, false, true)});
  options = plain_options(lnd.port());
  options.state_file = directory.file("lnd.state");
  options.backfill_from_add_index = 0;
  options.backfill_page_size = 2;
  {
    TestSink sink;
    LiabilityAdmission admission(sink, hedging::Ratio{});
    LndInvoiceSource source(options, admission);
    EXPECT_TRUE(source.backfilling());
    ASSERT_TRUE(drive(source, [&] { return source.acknowledged_settle_index() == 4; })) << source.last_error();
    const auto requests = lnd.requests();
    ASSERT_EQ(requests.size(), 4u);
    EXPECT_EQ(first_line(requests[0]), "GET /v1/invoices?index_offset=0&num_max_invoices=2&reversed=false HTTP/1.1");
    EXPECT_EQ(first_line(requests[1]), "GET /v1/invoices?index_offset=2&num_max_invoices=2&reversed=false HTTP/1.1");
    EXPECT_EQ(first_line(requests[2]), "GET /v1/invoices?index_offset=4&num_max_invoices=2&reversed=false HTTP/1.1");
    // settled before the first open invoice: 1 and 2, so the stream replays
    // 3 and 4 (settle_index 3 and 4), which includes the invoice seen open
    EXPECT_EQ(first_line(requests[3]), "GET /v1/invoices/subscribe?settle_index=2 HTTP/1.1");
    ASSERT_EQ(sink.taken_ids.size(), 4u);
    EXPECT_EQ(sink.taken_ids[0], lnd_id(one));
    EXPECT_EQ(sink.taken_ids[1], lnd_id(two));
    EXPECT_EQ(sink.taken_ids[2], lnd_id(four));
    EXPECT_EQ(sink.taken_ids[3], lnd_id(three));
    EXPECT_EQ(source.counters().duplicates, 1u); // four, listed and replayed
    EXPECT_EQ(source.counters().backfill_pages, 3u);
    EXPECT_FALSE(source.backfilling());
  }
  EXPECT_EQ(read_text(options.state_file), "4\n");
  // A later start has a state file: no backfill again.
  TestSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  LndInvoiceSource source(options, admission);
  EXPECT_FALSE(source.backfilling());
}

TEST(LndBackfill, a_node_with_nothing_settled_still_records_that_the_backfill_is_done) {
  TemporaryDirectory directory;
  FakeLnd lnd(
      {[&](FakeLnd::Session& session) { session.answer(invoice_page_json({})); }, serve_ledger({}, false, true)});
  LndOptions options = plain_options(lnd.port());
  options.state_file = directory.file("lnd.state");
  options.backfill_from_add_index = 0;
  TestSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  LndInvoiceSource source(options, admission);
  ASSERT_TRUE(drive(source, [&] { return std::filesystem::exists(options.state_file) && source.streaming(); }))
      << source.last_error();
  EXPECT_EQ(read_text(options.state_file), "0\n");
  EXPECT_TRUE(sink.taken.empty());
}

TEST(LndBackfill, with_nothing_settled_before_the_first_open_invoice_the_stream_replays_additions_from_it) {
  const Invoice canceled{.state = "CANCELED", .hash_seed = 1, .add_index = 1};
  const Invoice open{.state = "OPEN", .hash_seed = 2, .add_index = 2};
  const Invoice paid{.hash_seed = 3, .settle_index = 1, .add_index = 3};
  const Invoice open_now_paid{.hash_seed = 2, .settle_index = 2, .add_index = 2};
  FakeLnd lnd({[&](FakeLnd::Session& session) {
                 session.answer(invoice_page_json({canceled, open, paid}));
               },
               [&](FakeLnd::Session& session) { session.answer(invoice_page_json({})); },
               [&](FakeLnd::Session& session) {
                 // lnd replays the additions after add_index in their current state
                 session.message(invoice_json(open_now_paid));
                 session.message(invoice_json(paid));
                 session.hold();
               }});
  LndOptions options = plain_options(lnd.port());
  options.backfill_from_add_index = 0;
  TestSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  LndInvoiceSource source(options, admission);
  ASSERT_TRUE(drive(source, [&] { return source.acknowledged_settle_index() == 2; })) << source.last_error();
  const auto requests = lnd.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(first_line(requests[2]), "GET /v1/invoices/subscribe?settle_index=0&add_index=1 HTTP/1.1");
  ASSERT_EQ(sink.taken_ids.size(), 2u);
  EXPECT_EQ(sink.taken_ids[0], lnd_id(paid));
  EXPECT_EQ(sink.taken_ids[1], lnd_id(open_now_paid));
}

TEST(LndBackfill, a_malformed_page_is_rejected_with_its_reason_and_fetched_again) {
  const Invoice one{.hash_seed = 1, .settle_index = 1, .add_index = 1};
  FakeLnd lnd({[&](FakeLnd::Session& session) { session.answer(R"({"invoices":{}})"); },
               [&](FakeLnd::Session& session) { session.answer(invoice_page_json({one})); },
               [&](FakeLnd::Session& session) { session.answer(invoice_page_json({})); },
               serve_ledger({one}, false, true)});
  LndOptions options = plain_options(lnd.port());
  options.backfill_from_add_index = 0;
  TestSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  LndInvoiceSource source(options, admission);
  // The fake records a request once it has read it, which can be after the
  // source has sent it: wait for the record, not only for the source.
  ASSERT_TRUE(drive(source, [&] { return source.acknowledged_settle_index() == 1 && lnd.requests().size() == 4; }))
      << source.last_error();
  EXPECT_EQ(source.counters().rejected, 1u);
  const auto rejections = source.take_rejections();
  ASSERT_EQ(rejections.size(), 1u);
  EXPECT_EQ(rejections[0].reason, "ListInvoices: invoices must be an array");
  EXPECT_EQ(sink.taken.size(), 1u);
  const auto requests = lnd.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(first_line(requests[1]), first_line(requests[0])); // the same page again
  EXPECT_EQ(first_line(requests[3]), "GET /v1/invoices/subscribe?settle_index=1 HTTP/1.1");
}

} // namespace
} // namespace synthusd::liabilities
