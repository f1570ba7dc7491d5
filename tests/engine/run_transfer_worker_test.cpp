// `run`'s transfer thread (engine/src/run/transfer_worker.hpp) with the real
// lnd REST and Deribit wallet clients against loopback stand-ins: an intent
// from the kernel's queue is carried out and reported back as a
// TransferReport, and a worker restarted on the same journal resumes the
// transfer without a second send.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "run/transfer_worker.hpp"
#include "wallet_http_fakes.hpp"

namespace synthusd::engine::run {
namespace {

using transfers::test::FakeDeribit;
using transfers::test::FakeLnd;
using transfers::test::LoopbackHttp;
using transfers::test::Request;

constexpr hedging::VenueId kVenue = 2;

struct Harness {
  FakeLnd lnd;
  FakeDeribit deribit;
  LoopbackHttp node_server{[this](const Request& r) { return lnd(r); }};
  LoopbackHttp venue_server{[this](const Request& r) { return deribit(r); }};
  std::string journal;
  TransferSection section;

  Harness() {
    ::setenv("SYNTHUSD_TEST_VENUE_ID", "id", 1);
    ::setenv("SYNTHUSD_TEST_VENUE_SECRET", "secret", 1);
    section.enabled = true;
    section.venue_port = venue_server.endpoint().port;
    section.node_port = node_server.endpoint().port;
    section.node_tls = false; // the loopback fakes speak plain HTTP
    section.venue_tls = false;
    section.venue_client_id_environment = "SYNTHUSD_TEST_VENUE_ID";
    section.venue_client_secret_environment = "SYNTHUSD_TEST_VENUE_SECRET";
    section.poll_ms = 10;
    journal =
        (std::filesystem::temp_directory_path() / ("synthusd_transfer_worker_" + std::to_string(::getpid()))).string();
    std::filesystem::remove(journal);
  }
  ~Harness() { std::filesystem::remove(journal); }
  std::size_t sends() {
    std::size_t n = 0;
    node_server.locked([&] { n = lnd.txs.size(); });
    return n;
  }
};

// Runs `worker` on its own thread until `done` holds (checked every 10 ms,
// at most 20 s so that a broken build fails instead of hanging).
bool run_until(TransferWorker& worker, SpscQueue<hedging::TransferIntent>& intents, SpscQueue<TransferReport>& reports,
               const std::function<bool()>& done) {
  EventCount wakeup;
  std::atomic<bool> stop{false};
  std::thread thread([&] { worker.run(stop, intents, reports, wakeup); });
  bool reached = false;
  for (int i = 0; i < 2000 && !(reached = done()); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop.store(true);
  thread.join();
  return reached;
}

const hedging::TransferIntent kDeposit{41, kVenue, hedging::TransferDirection::wallet_to_exchange,
                                       hedging::Sats{250'000}};

TEST(RunTransferWorker, a_deposit_intent_is_sent_once_and_reported_completed_when_the_venue_credits_it) {
  Harness h;
  TransferWorker worker(h.section, kVenue, h.journal);
  SpscQueue<hedging::TransferIntent> intents(8);
  SpscQueue<TransferReport> reports(8);
  ASSERT_TRUE(intents.push(kDeposit));
  TransferReport report;
  bool credited = false;
  ASSERT_TRUE(run_until(worker, intents, reports, [&] {
    if (!credited && h.sends() == 1) { // the venue sees the deposit once the node sent it
      h.venue_server.locked([&] { h.deribit.credited_txids.push_back("lndtx1"); });
      credited = true;
    }
    return reports.pop(report);
  }));
  EXPECT_EQ(report.transfer_id, 41U);
  EXPECT_TRUE(report.completed);
  EXPECT_EQ(h.sends(), 1U);
  EXPECT_EQ(h.lnd.txs[0].amount, 250'000);
  EXPECT_EQ(h.lnd.txs[0].address, "2N8udZGBc1hLRCFsU9kGwB5Xm6ECzHrBYwE");
  EXPECT_EQ(h.lnd.txs[0].label, "synthusd-transfer-41");
}

TEST(RunTransferWorker, a_worker_restarted_mid_transfer_resumes_it_from_its_journal_and_never_sends_twice) {
  Harness h;
  SpscQueue<hedging::TransferIntent> intents(8);
  SpscQueue<TransferReport> reports(8);
  {
    TransferWorker first(h.section, kVenue, h.journal);
    ASSERT_TRUE(intents.push(kDeposit));
    ASSERT_TRUE(run_until(first, intents, reports, [&] { return h.sends() == 1; }));
  } // stopped after the send, before the venue credited it: as a crash would leave it
  TransferWorker second(h.section, kVenue, h.journal);
  EXPECT_TRUE(second.knows(41)) << "the runtime then keeps the kernel's transfer in flight";
  EXPECT_FALSE(second.knows(42)) << "a transfer the executor never took is failed back to the kernel";
  h.venue_server.locked([&] { h.deribit.credited_txids.push_back("lndtx1"); });
  TransferReport report;
  ASSERT_TRUE(run_until(second, intents, reports, [&] { return reports.pop(report); }));
  EXPECT_EQ(report.transfer_id, 41U);
  EXPECT_TRUE(report.completed);
  EXPECT_EQ(h.sends(), 1U) << "never sent twice";
}

TEST(RunTransferWorker, the_kill_switch_holds_every_step_until_resume) {
  Harness h;
  TransferWorker worker(h.section, kVenue, h.journal);
  SpscQueue<hedging::TransferIntent> intents(8);
  SpscQueue<TransferReport> reports(8);
  worker.halt();
  ASSERT_TRUE(intents.push(kDeposit));
  int passes = 0;
  // Halted: the intent is taken (journaled as requested) but, however long
  // the worker runs, nothing reaches the node.
  (void)run_until(worker, intents, reports, [&] { return ++passes > 20 && intents.read_available() == 0; });
  EXPECT_EQ(h.sends(), 0U);
  worker.resume();
  ASSERT_TRUE(run_until(worker, intents, reports, [&] { return h.sends() == 1; }));
}

TEST(RunTransferWorker, with_approval_required_nothing_is_sent_until_the_operator_approves) {
  Harness h;
  h.section.require_approval = true;
  TransferWorker worker(h.section, kVenue, h.journal);
  SpscQueue<hedging::TransferIntent> intents(8);
  SpscQueue<TransferReport> reports(8);
  ASSERT_TRUE(intents.push(kDeposit));
  int checks = 0;
  (void)run_until(worker, intents, reports, [&] { return ++checks > 20 && intents.read_available() == 0; });
  EXPECT_EQ(h.sends(), 0U);
  worker.approve(kDeposit.transfer_id);
  ASSERT_TRUE(run_until(worker, intents, reports, [&] { return h.sends() == 1; }));
}

TEST(RunTransferWorker, the_operator_settles_a_held_transfer_over_http_and_the_kernel_hears_it_failed) {
  Harness h;
  {
    // What a crash between journaling a send and the node taking it, then a
    // restart that found no such send, leaves (transfer_executor.hpp); and a
    // finished transfer before it.
    std::ofstream journal(h.journal);
    journal << "40 requested 2 deposit 100000 1700000000000\n40 address 2N8ud\n40 sending\n40 sent "
            << std::string(64, 'a') << " 1700000001000\n40 completed\n"
            << "41 requested 2 deposit 250000 1700000002000\n41 address 2N8ud\n41 sending\n"
            << "41 needs_operator send_interrupted\n";
  }
  h.section.venue = "deribit";
  TransferWorker worker(h.section, kVenue, h.journal);
  EXPECT_EQ(worker.finished(40), std::optional<bool>(true));
  EXPECT_EQ(worker.finished(41), std::nullopt);
  EXPECT_NE(worker.listing_json().find("\"id\":41,\"kind\":\"deposit\",\"venue\":\"deribit\",\"sats\":250000,"
                                       "\"state\":\"needs_operator\""),
            std::string::npos)
      << worker.listing_json();
  const auto status = [&](hedging::TransferId id, std::string_view body) { return worker.settle(id, body).status; };
  EXPECT_EQ(status(41, "perhaps"), 400);
  EXPECT_EQ(status(41, "sent 12345"), 400); // a deposit's reference is a txid
  EXPECT_EQ(status(43, "not_sent"), 404);
  const TransferWorker::SettleAnswer finished = worker.settle(40, "not_sent");
  EXPECT_EQ(finished.status, 409);
  EXPECT_EQ(finished.text, "transfer 40 is completed; only a transfer in needs_operator is settled\n");
  EXPECT_EQ(status(41, "not_sent\n"), 202);
  EXPECT_EQ(status(41, "not_sent"), 409); // one settlement at a time
  PrometheusText metrics;
  worker.write_metrics(metrics);
  EXPECT_NE(metrics.take().find("synthusd_transfers_settlements_refused_total 5\n"), std::string::npos);

  SpscQueue<hedging::TransferIntent> intents(8);
  SpscQueue<TransferReport> reports(8);
  TransferReport report;
  ASSERT_TRUE(run_until(worker, intents, reports, [&] { return reports.pop(report); }));
  EXPECT_EQ(report.transfer_id, 41U);
  EXPECT_FALSE(report.completed); // TransferFailed: the kernel may ask again
  EXPECT_EQ(worker.finished(41), std::optional<bool>(false));
  EXPECT_EQ(h.sends(), 0U);
  std::ifstream in(h.journal);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  EXPECT_NE(text.find("41 settled not_sent\n41 failed "), std::string::npos) << text;
  PrometheusText after;
  worker.write_metrics(after);
  EXPECT_NE(after.take().find("synthusd_transfers_settled_total 1\n"), std::string::npos);
}

TEST(RunTransferWorker, a_settlement_journaled_before_a_crash_is_carried_out_and_not_taken_twice) {
  Harness h;
  {
    std::ofstream journal(h.journal);
    journal << "41 requested 2 deposit 250000 1700000002000\n41 address 2N8ud\n41 sending\n"
            << "41 needs_operator send_interrupted\n41 settled not_sent\n";
  }
  TransferWorker worker(h.section, kVenue, h.journal);
  const TransferWorker::SettleAnswer again = worker.settle(41, "sent " + std::string(64, 'b'));
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.text, "transfer 41 is already settled as not sent; only a transfer in needs_operator is settled\n");
  SpscQueue<hedging::TransferIntent> intents(8);
  SpscQueue<TransferReport> reports(8);
  TransferReport report;
  ASSERT_TRUE(run_until(worker, intents, reports, [&] { return reports.pop(report); }));
  EXPECT_EQ(report.transfer_id, 41U);
  EXPECT_FALSE(report.completed);
  EXPECT_EQ(h.sends(), 0U);
}

TEST(RunTransferWorker, missing_venue_credentials_refuse_to_start_with_the_variable_named) {
  Harness h;
  h.section.venue_client_secret_environment = "SYNTHUSD_TEST_UNSET_SECRET";
  ::unsetenv("SYNTHUSD_TEST_UNSET_SECRET");
  try {
    TransferWorker worker(h.section, kVenue, h.journal);
    FAIL() << "started without a secret";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("SYNTHUSD_TEST_UNSET_SECRET"), std::string::npos);
  }
}

} // namespace
} // namespace synthusd::engine::run
