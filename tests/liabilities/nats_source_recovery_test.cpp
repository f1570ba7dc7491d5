// The JetStream liability source against a real nats-server: redelivery,
// malformed payloads, restarts of the source and the server, a deleted
// consumer and failed construction.

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

TEST(NatsSource, unacked_events_come_back_to_the_next_source_and_are_journaled_once) {
  NatsServer server;
  Wallet wallet(server.url());
  wallet.create_stream();
  TempJournal journal_path;
  {
    // A previous life journaled r-1 but died before its ack went out.
    engine::JournalWriter journal(journal_path.string());
    (void)journal.append(hedging::LiabilityChange{id_of("r-1"), hedging::UsdCents{11}, {}, {}, {}});
    (void)journal.commit();
  }
  wallet.publish(credit("r-1", 11));
  wallet.publish(credit("r-2", 22));
  {
    // This life takes both, but its kernel never makes them durable.
    ManualSink sink;
    LiabilityAdmission admission(sink, hedging::Ratio{});
    NatsLiabilitySource source(options_for(server), admission);
    ASSERT_TRUE(poll_until(source, [&] { return sink.taken.size() == 2; }));
    EXPECT_EQ(source.counters().acked, 0u);
    EXPECT_TRUE(consumer_reaches(wallet, [](const ConsumerState& c) { return c.ack_pending == 2; }));
  }
  wallet.publish(credit("r-3", 33)); // while no engine runs

  engine::JournalWriter journal(journal_path.string());
  RecordingSink sink(journal, [] { return hedging::Price{}; });
  LiabilityAdmission admission(sink, hedging::Ratio{});
  engine::remember_journaled_ids(admission, journal_path.string());
  NatsLiabilitySource source(options_for(server), admission);
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked >= 3; }));

  // At least r-1 and r-2 come back; nats-server before 2.10.14 may deliver a
  // naked message a second time with a delivery count of 1 (nats-server
  // #5305), which dedupe absorbs: hence "at least", and the journal below is
  // exact.
  EXPECT_GE(source.counters().redelivered, 1u);
  EXPECT_GE(source.counters().duplicates, 1u); // r-1, already in the journal
  ASSERT_EQ(sink.delivered.size(), 2u);
  EXPECT_EQ(sink.delivered[0].id, id_of("r-2"));
  EXPECT_EQ(sink.delivered[1].id, id_of("r-3"));
  const std::vector<std::pair<std::uint64_t, std::int64_t>> expected = {
      {id_of("r-1"), 11}, {id_of("r-2"), 22}, {id_of("r-3"), 33}};
  EXPECT_EQ(journal_path.changes(), expected);
  EXPECT_TRUE(consumer_reaches(wallet, [](const ConsumerState& c) { return c.ack_pending == 0 && c.pending == 0; }));
}

TEST(NatsSource, malformed_or_out_of_bounds_payloads_are_terminated_counted_and_not_redelivered_and_good_ones_arrive) {
  NatsServer server;
  Wallet wallet(server.url());
  wallet.create_stream();
  TempJournal journal_path;
  engine::JournalWriter journal(journal_path.string());
  engine::JournalLiabilitySink sink(journal, [] { return hedging::Price{}; });
  LiabilityAdmission admission(sink, hedging::Ratio{});
  NatsOptions options = options_for(server);
  options.ack_wait_ms = 300; // an unterminated message would come back within the test
  std::vector<NatsRejection> rejections;
  options.on_reject = [&](const NatsRejection& r) { rejections.push_back(r); };
  NatsLiabilitySource source(options, admission);

  wallet.publish("not json");
  wallet.publish(R"({"id":"m-2","usd_cents":1,"ts":1})");
  wallet.publish(R"({"id":"m-3","kind":"usd_credit","usd_cents":-5,"ts":1})");
  wallet.publish(R"({"id":"m-4","kind":"usd_credit","usd_cents":1,"ts":1,"pad":")" + std::string(5000, 'x') + "\"}");
  // Well formed, but its ts (1970) is outside the live window around the
  // time the stream stored it: refused at every delivery, so terminated too.
  wallet.publish(R"({"id":"m-6","kind":"usd_credit","usd_cents":1,"ts":1})");
  wallet.publish(credit("m-5", 42));
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 1; }));
  EXPECT_EQ(source.counters().rejected, 5u);
  ASSERT_EQ(rejections.size(), 5u);
  EXPECT_EQ(rejections[0].reason, "not a JSON object");
  EXPECT_EQ(rejections[1].reason, "kind is missing");
  EXPECT_EQ(rejections[2].reason, "usd_cents must be a positive integer");
  EXPECT_EQ(rejections[3].reason, "payload longer than 4096 bytes");
  EXPECT_EQ(rejections[2].stream_sequence, 3u);
  EXPECT_EQ(rejections[4].id, "m-6");
  EXPECT_EQ(rejections[4].reason, "ts is behind the engine's clock by more than the allowed window (a replay of "
                                  "history says \"backfill\":true)");
  EXPECT_EQ(journal_path.changes(), (std::vector<std::pair<std::uint64_t, std::int64_t>>{{id_of("m-5"), 42}}));

  // Past the ack wait, nothing came back.
  const auto until = std::chrono::steady_clock::now() + 700ms;
  while (std::chrono::steady_clock::now() < until) {
    (void)source.poll_once(20);
  }
  EXPECT_EQ(source.counters().messages, 6u);
  EXPECT_EQ(source.counters().redelivered, 0u);
  EXPECT_TRUE(consumer_reaches(wallet, [](const ConsumerState& c) { return c.ack_pending == 0 && c.ack_floor == 6; }));
}

TEST(NatsSource, a_restarted_source_resumes_from_its_durable_consumer) {
  NatsServer server;
  Wallet wallet(server.url());
  wallet.create_stream();
  TempJournal journal_path;
  wallet.publish(credit("s-1", 1));
  {
    engine::JournalWriter journal(journal_path.string());
    engine::JournalLiabilitySink sink(journal, [] { return hedging::Price{}; });
    LiabilityAdmission admission(sink, hedging::Ratio{});
    NatsLiabilitySource source(options_for(server), admission);
    ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 1; }));
  }
  wallet.publish(credit("s-2", 2)); // while the engine is down
  wallet.publish(credit("s-3", 3));

  engine::JournalWriter journal(journal_path.string());
  engine::JournalLiabilitySink sink(journal, [] { return hedging::Price{}; });
  LiabilityAdmission admission(sink, hedging::Ratio{});
  engine::remember_journaled_ids(admission, journal_path.string());
  NatsLiabilitySource source(options_for(server), admission);
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 2; }));
  for (int round = 0; round < 10; ++round) {
    (void)source.poll_once(2);
  }
  // Only what it had not acked: s-1 is not seen again.
  EXPECT_EQ(source.counters().messages, 2u);
  EXPECT_EQ(source.counters().duplicates, 0u);
  EXPECT_EQ(source.counters().redelivered, 0u);
  const std::vector<std::pair<std::uint64_t, std::int64_t>> expected = {
      {id_of("s-1"), 1}, {id_of("s-2"), 2}, {id_of("s-3"), 3}};
  EXPECT_EQ(journal_path.changes(), expected);
}

TEST(NatsSource, survives_a_server_restart_and_counts_the_disconnect) {
  NatsServer server;
  TempJournal journal_path;
  engine::JournalWriter journal(journal_path.string());
  engine::JournalLiabilitySink sink(journal, [] { return hedging::Price{}; });
  LiabilityAdmission admission(sink, hedging::Ratio{});
  {
    Wallet wallet(server.url());
    wallet.create_stream();
    wallet.publish(credit("n-1", 1));
  }
  NatsLiabilitySource source(options_for(server), admission);
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 1; }));

  server.stop();
  for (int round = 0; round < 5; ++round) {
    (void)source.poll_once(10); // keeps polling calmly while disconnected
  }
  server.start();
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().reconnects >= 1; }));
  EXPECT_GE(source.counters().disconnects, 1u);

  Wallet wallet(server.url());
  wallet.publish(credit("n-2", 2));
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 2; }));
  EXPECT_EQ(journal_path.changes(),
            (std::vector<std::pair<std::uint64_t, std::int64_t>>{{id_of("n-1"), 1}, {id_of("n-2"), 2}}));
}

TEST(NatsSource, a_deleted_consumer_is_noticed_and_the_backlog_is_reported) {
  NatsServer server;
  Wallet wallet(server.url());
  wallet.create_stream();
  ManualSink sink;
  sink.room = 1;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  NatsOptions options = options_for(server);
  options.fetch_batch = 1;
  options.consumer_check_ms = 20;
  NatsLiabilitySource source(options, admission);
  for (int i = 1; i <= 4; ++i) {
    wallet.publish(credit("b-" + std::to_string(i), i));
  }
  // One taken, one held for room: the rest stays in the stream (one may
  // already sit in our inbox, delivered to a pull whose Fetch timed out).
  ASSERT_TRUE(poll_until(source, [&] { return source.unacked() == 2 && source.counters().backlog >= 1; }))
      << source.unacked() << " unacked, backlog " << source.counters().backlog;
  sink.room = 4;
  sink.durable = 4;
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 4 && source.counters().backlog == 0; }));
  EXPECT_EQ(source.counters().consumer_missing, 0u);

  // Deleted, the durable looks like an idle stream to a pull: the source
  // has to ask to notice.
  wallet.delete_consumer();
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().consumer_missing > 0; }));
}

TEST(NatsSource, construction_fails_naming_the_url_or_the_stream_but_never_the_password) {
  ManualSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  const int closed_port = free_port();
  NatsOptions options;
  options.url = "nats://alice:hunter2@127.0.0.1:" + std::to_string(closed_port);
  try {
    NatsLiabilitySource source(options, admission);
    FAIL() << "connected to a closed port";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("127.0.0.1:" + std::to_string(closed_port)), std::string::npos) << what;
    EXPECT_EQ(what.find("hunter2"), std::string::npos) << what;
  }

  NatsServer server;
  options = options_for(server);
  options.stream = "NO_SUCH_STREAM";
  try {
    NatsLiabilitySource source(options, admission);
    FAIL() << "bound to a stream that does not exist";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("NO_SUCH_STREAM"), std::string::npos) << e.what();
  }

  EXPECT_EQ(redact_nats_url("nats://u:p@a:4222,nats://b:4222,tls://tok@c:4222"),
            "nats://***@a:4222,nats://b:4222,tls://***@c:4222");
  EXPECT_EQ(redact_nats_url("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
}

} // namespace
} // namespace synthusd::liabilities
