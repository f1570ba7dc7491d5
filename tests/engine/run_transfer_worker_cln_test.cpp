// `run`'s transfer thread with `[transfers] node = "cln"`: the worker builds
// the Core Lightning client from the config section and carries a deposit
// out through a stand-in lightning-rpc socket (tests/transfers/
// fake_lightning_rpc.hpp) and the Deribit stand-in; restarted after the
// send, it finds the send in CLN's listtransactions and never sends twice.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "fake_lightning_rpc.hpp"
#include "run/transfer_worker.hpp"
#include "wallet_http_fakes.hpp"

namespace synthusd::engine::run {
namespace {

using transfers::test::FakeDeribit;
using transfers::test::FakeLightningRpc;
using transfers::test::LoopbackHttp;
using transfers::test::Request;

constexpr hedging::VenueId kVenue = 2;

struct Harness {
  FakeLightningRpc cln{10'000'000};
  FakeDeribit deribit;
  LoopbackHttp venue_server{[this](const Request& r) { return deribit(r); }};
  std::string journal;
  TransferSection section;

  Harness() {
    ::setenv("SYNTHUSD_TEST_VENUE_ID", "id", 1);
    ::setenv("SYNTHUSD_TEST_VENUE_SECRET", "secret", 1);
    deribit.deposit_address = transfers::test::kVenueP2sh;
    section.enabled = true;
    section.venue_port = venue_server.endpoint().port;
    section.venue_tls = false; // the stand-in venue is plain HTTP on loopback
    section.node = "cln";
    section.node_rpc_socket = cln.socket_path();
    section.node_feerate = "normal";
    section.venue_client_id_environment = "SYNTHUSD_TEST_VENUE_ID";
    section.venue_client_secret_environment = "SYNTHUSD_TEST_VENUE_SECRET";
    section.poll_ms = 10;
    journal = (std::filesystem::temp_directory_path() / ("synthusd_transfer_worker_cln_" + std::to_string(::getpid())))
                  .string();
    std::filesystem::remove(journal);
  }
  ~Harness() { std::filesystem::remove(journal); }
  void credit_every_send() {
    const auto txids = cln.sent_txids();
    venue_server.locked([&] { deribit.credited_txids = txids; });
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

TEST(RunTransferWorkerCln, a_deposit_through_core_lightning_is_sent_once_and_survives_a_restart_after_the_send) {
  Harness h;
  SpscQueue<hedging::TransferIntent> intents(8);
  SpscQueue<TransferReport> reports(8);
  {
    TransferWorker first(h.section, kVenue, h.journal);
    ASSERT_TRUE(intents.push(kDeposit));
    ASSERT_TRUE(run_until(first, intents, reports, [&] { return h.cln.withdrawals() == 1; }));
  } // stopped after the send, before the venue credited it
  const std::string request = h.cln.requests().at(0);
  EXPECT_NE(request.find(R"("params":{"destination":")" + transfers::test::kVenueP2sh +
                         R"(","satoshi":250000,"feerate":"normal"})"),
            std::string::npos)
      << request;
  TransferWorker second(h.section, kVenue, h.journal);
  EXPECT_TRUE(second.knows(41));
  h.credit_every_send();
  TransferReport report;
  ASSERT_TRUE(run_until(second, intents, reports, [&] { return reports.pop(report); }));
  EXPECT_EQ(report.transfer_id, 41U);
  EXPECT_TRUE(report.completed);
  EXPECT_EQ(h.cln.withdrawals(), 1U) << "never sent twice";
}

} // namespace
} // namespace synthusd::engine::run
