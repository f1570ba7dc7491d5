// The JetStream liability source against a real nats-server (one per test,
// its own port and store directory), publishing with cnats as a wallet
// backend would: delivery, dedupe, acks and backpressure.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "liability_test_sinks.hpp"
#include "nats_test_support.hpp"
#include "synthusd/engine/journal.hpp"
#include "synthusd/engine/journal_liability_sink.hpp"
#include "synthusd/liabilities/liability_sink.hpp"
#include "synthusd/liabilities/nats_source.hpp"

namespace synthusd::liabilities {
namespace {

using namespace std::chrono_literals;
using namespace nats_test;

TEST(NatsSource, events_become_journaled_changes_with_their_deltas_and_are_acked_once_durable) {
  NatsServer server;
  TempJournal journal_path;
  engine::JournalWriter journal(journal_path.string());
  RecordingSink sink(journal, [] { return hedging::Price::from_dollars(50'000); });
  LiabilityAdmission admission(sink, hedging::Ratio{});
  NatsOptions options = options_for(server);
  options.create_stream = true; // the stream does not exist yet
  NatsLiabilitySource source(options, admission);

  Wallet wallet(server.url());
  wallet.publish(credit("w-1", 2500));
  wallet.publish(event("w-2", "usd_debit", "usd_cents", 1000));
  wallet.publish(event("w-3", "usd_credit", "sats", 10'000) + "\n"); // a trailing newline is tolerated
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 3; }));

  EXPECT_EQ(source.counters().accepted, 3u);
  EXPECT_EQ(journal.durable_sequence(), 3u);
  // 10,000 sats at $50,000 = $5.00
  const std::vector<std::pair<std::uint64_t, std::int64_t>> expected = {
      {id_of("w-1"), 2500}, {id_of("w-2"), -1000}, {id_of("w-3"), 500}};
  EXPECT_EQ(journal_path.changes(), expected);
  ASSERT_EQ(sink.delivered.size(), 3u);
  EXPECT_EQ(sink.delivered[2].sats, hedging::Sats{10'000});
  EXPECT_TRUE(consumer_reaches(wallet, [](const ConsumerState& c) { return c.ack_pending == 0 && c.ack_floor == 3; }));
}

TEST(NatsSource, nothing_is_acked_before_the_sink_reports_it_durable_and_a_duplicate_waits_for_its_original) {
  NatsServer server;
  Wallet wallet(server.url());
  wallet.create_stream(); // bind to an existing stream
  ManualSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  NatsLiabilitySource source(options_for(server), admission);

  wallet.publish(credit("d-1", 5));
  wallet.publish(credit("d-2", 7));
  wallet.publish(credit("d-1", 5)); // a wallet retrying after a timeout
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().messages == 3; }));
  for (int round = 0; round < 20; ++round) {
    (void)source.poll_once(2);
  }
  EXPECT_EQ(sink.taken.size(), 2u); // the duplicate changed nothing
  EXPECT_EQ(source.counters().duplicates, 1u);
  EXPECT_EQ(source.counters().acked, 0u);
  EXPECT_EQ(source.unacked(), 3u);
  EXPECT_TRUE(consumer_reaches(wallet, [](const ConsumerState& c) { return c.ack_pending == 3; }));

  sink.durable = 1; // d-1 only: it and its duplicate may go
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 2; }));
  for (int round = 0; round < 10; ++round) {
    (void)source.poll_once(2);
  }
  EXPECT_EQ(source.counters().acked, 2u);
  EXPECT_TRUE(consumer_reaches(wallet, [](const ConsumerState& c) { return c.ack_pending == 1 && c.ack_floor == 1; }));

  sink.durable = 2;
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 3; }));
  EXPECT_TRUE(consumer_reaches(wallet, [](const ConsumerState& c) { return c.ack_pending == 0 && c.ack_floor == 3; }));
}

TEST(NatsSource, the_same_id_published_twice_becomes_one_journaled_event) {
  NatsServer server;
  Wallet wallet(server.url());
  wallet.create_stream();
  TempJournal journal_path;
  engine::JournalWriter journal(journal_path.string());
  engine::JournalLiabilitySink sink(journal, [] { return hedging::Price{}; });
  LiabilityAdmission admission(sink, hedging::Ratio{});
  NatsLiabilitySource source(options_for(server), admission);

  // Two wallet backends (or one retrying past JetStream's dedupe window):
  // both copies are in the stream, the engine's dedupe keeps one.
  wallet.publish(credit("x-1", 300), "backend-a-1");
  wallet.publish(credit("x-1", 300), "backend-b-7");
  // Within the window, the same Nats-Msg-Id is dropped by JetStream itself.
  wallet.publish(credit("x-2", 100), "backend-a-2");
  wallet.publish(credit("x-2", 100), "backend-a-2");
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 3; }));
  for (int round = 0; round < 10; ++round) {
    (void)source.poll_once(2);
  }
  EXPECT_EQ(source.counters().messages, 3u);
  EXPECT_EQ(source.counters().accepted, 2u);
  EXPECT_EQ(source.counters().duplicates, 1u);
  const std::vector<std::pair<std::uint64_t, std::int64_t>> expected = {{id_of("x-1"), 300}, {id_of("x-2"), 100}};
  EXPECT_EQ(journal_path.changes(), expected);
}

TEST(NatsSource, a_full_sink_holds_messages_back_in_order_without_losing_them) {
  NatsServer server;
  Wallet wallet(server.url());
  wallet.create_stream();
  ManualSink sink;
  sink.room = 2;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  NatsLiabilitySource source(options_for(server), admission);
  for (int i = 1; i <= 5; ++i) {
    wallet.publish(credit("q-" + std::to_string(i), i));
  }
  ASSERT_TRUE(poll_until(source, [&] { return source.unacked() == 5; }));
  for (int round = 0; round < 10; ++round) {
    (void)source.poll_once(2);
  }
  EXPECT_EQ(sink.taken.size(), 2u);
  EXPECT_GT(source.counters().backpressure, 0u);
  EXPECT_EQ(source.counters().messages, 2u); // the rest are not handled yet

  sink.room = 5; // the kernel drained its queue
  sink.durable = 5;
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 5; }));
  ASSERT_EQ(sink.taken.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(sink.taken[static_cast<std::size_t>(i)].delta, hedging::UsdCents{i + 1});
  }
  EXPECT_EQ(source.counters().redelivered, 0u); // held here, not sent back
  EXPECT_EQ(source.counters().messages, 5u);
}

TEST(NatsSource, an_event_waiting_on_a_slow_sink_is_kept_alive_instead_of_redelivered) {
  NatsServer server;
  Wallet wallet(server.url());
  wallet.create_stream();
  ManualSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  NatsOptions options = options_for(server);
  options.ack_wait_ms = 400;
  NatsLiabilitySource source(options, admission);
  wallet.publish(credit("k-1", 9));
  ASSERT_TRUE(poll_until(source, [&] { return sink.taken.size() == 1; }));
  // The kernel takes well over the ack wait to make it durable.
  const auto until = std::chrono::steady_clock::now() + 1000ms;
  while (std::chrono::steady_clock::now() < until) {
    (void)source.poll_once(10);
  }
  EXPECT_EQ(source.counters().redelivered, 0u);
  EXPECT_EQ(source.counters().messages, 1u);
  sink.durable = 1;
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 1; }));
}

TEST(NatsSource, sats_without_an_index_price_are_retried_later_not_dropped) {
  NatsServer server;
  Wallet wallet(server.url());
  wallet.create_stream();
  TempJournal journal_path;
  engine::JournalWriter journal(journal_path.string());
  hedging::Price price{};
  engine::JournalLiabilitySink sink(journal, [&] { return price; });
  LiabilityAdmission admission(sink, hedging::Ratio{});
  NatsOptions options = options_for(server);
  options.retry_delay_ms = 50;
  NatsLiabilitySource source(options, admission);

  wallet.publish(event("p-1", "usd_credit", "sats", 20'000));
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().deferred >= 1; }));
  EXPECT_EQ(source.counters().rejected, 0u);
  EXPECT_EQ(source.counters().acked, 0u);
  price = hedging::Price::from_dollars(60'000);
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 1; }));
  // 20,000 sats at $60,000 = $12.00
  EXPECT_EQ(journal_path.changes(), (std::vector<std::pair<std::uint64_t, std::int64_t>>{{id_of("p-1"), 1200}}));
}

} // namespace
} // namespace synthusd::liabilities
