#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "synthusd/transfers/transfer_executor.hpp"
#include "transfer_wallet_fakes.hpp"

namespace synthusd::transfers {
namespace {

using namespace test;

constexpr std::int64_t kNow = 1'700'000'000'000; // Unix ms

std::string fresh_journal(const std::string& name) {
  const auto path = std::filesystem::temp_directory_path() / ("synthusd_transfers_" + std::to_string(::getpid()));
  std::filesystem::create_directories(path);
  std::filesystem::remove(path / name);
  return (path / name).string();
}

hedging::TransferIntent deposit(hedging::TransferId id, std::int64_t sats) {
  return {id, 1, hedging::TransferDirection::wallet_to_exchange, hedging::Sats{sats}};
}

hedging::TransferIntent withdrawal(hedging::TransferId id, std::int64_t sats) {
  return {id, 1, hedging::TransferDirection::exchange_to_wallet, hedging::Sats{sats}};
}

// The engine's side of one process lifetime: the journal file and the
// executor. The node and the venue outlive it.
struct Process {
  Process(const std::string& path, FakeNode& node, FakeVenue& venue, TransferLimits limits = {})
      : journal(path), executor(journal, node, venue, limits) {}
  TransferJournal journal;
  TransferExecutor executor;
};

TEST(TransferExecutor, a_deposit_gets_the_venue_address_sends_once_and_completes_when_credited) {
  CrashPlan plan;
  FakeNode node(plan);
  FakeVenue venue(plan, node);
  Process process(fresh_journal("deposit"), node, venue);
  process.executor.submit(deposit(1, 250'000), kNow);
  std::vector<TransferOutcome> outcomes;
  for (int i = 0; i < 10 && outcomes.empty(); ++i) {
    outcomes = process.executor.poll(kNow + i * 1000);
  }
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].kind, TransferOutcome::Kind::completed);
  EXPECT_EQ(outcomes[0].transfer_id, 1u);
  ASSERT_EQ(node.sends.size(), 1u);
  EXPECT_EQ(node.sends[0].address, "bcrt1qderibitdeposit");
  EXPECT_EQ(node.sends[0].sats, 250'000);
  EXPECT_EQ(process.executor.transfers()[0].reference, "tx1");
}

TEST(TransferExecutor, a_withdrawal_goes_to_a_new_node_address_and_completes_when_the_node_receives_it) {
  CrashPlan plan;
  FakeNode node(plan);
  FakeVenue venue(plan, node);
  Process process(fresh_journal("withdrawal"), node, venue);
  process.executor.submit(withdrawal(2, 400'000), kNow);
  std::vector<TransferOutcome> outcomes;
  for (int i = 0; i < 10 && outcomes.empty(); ++i) {
    outcomes = process.executor.poll(kNow + i * 1000);
  }
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].kind, TransferOutcome::Kind::completed);
  ASSERT_EQ(venue.withdrawals.size(), 1u);
  EXPECT_EQ(venue.withdrawals[0].address, "bcrt1qnode1");
  EXPECT_TRUE(node.sends.empty());
}

// Runs one transfer to its end across as many crashes as the plan makes,
// restarting the process after each; returns the final state.
TransferState run_through_crashes(const std::string& path, FakeNode& node, FakeVenue& venue, CrashPlan& plan,
                                  const hedging::TransferIntent& intent) {
  bool submitted = false;
  for (int restart = 0; restart < 5; ++restart) {
    try {
      Process process(path, node, venue);
      if (!submitted) {
        process.executor.submit(intent, kNow);
        submitted = true;
      }
      for (int i = 0; i < 20; ++i) {
        (void)process.executor.poll(kNow + i * 1000);
        const TransferState state = process.executor.transfers().front().state;
        if (state == TransferState::completed || state == TransferState::failed ||
            state == TransferState::needs_operator) {
          return state;
        }
      }
      return process.executor.transfers().front().state;
    } catch (const SimulatedCrash&) {
      plan.crash_at = -1; // killed once; the next process runs clean
    }
  }
  return TransferState::failed;
}

TEST(TransferExecutor, a_deposit_killed_at_every_step_never_sends_twice_and_never_loses_the_transfer) {
  // Count the counterparty calls of a clean run, then crash at each, on
  // either side of its effect.
  CrashPlan counting;
  {
    FakeNode node(counting);
    FakeVenue venue(counting, node);
    ASSERT_EQ(run_through_crashes(fresh_journal("deposit_count"), node, venue, counting, deposit(1, 250'000)),
              TransferState::completed);
  }
  const int calls = counting.calls;
  ASSERT_GE(calls, 3); // address, send, credit checks
  int resumed = 0;
  int held = 0;
  for (int at = 1; at <= calls; ++at) {
    for (const bool after_effect : {false, true}) {
      CrashPlan plan;
      plan.crash_at = at;
      plan.after_effect = after_effect;
      FakeNode node(plan);
      FakeVenue venue(plan, node);
      const TransferState state =
          run_through_crashes(fresh_journal("deposit_crash"), node, venue, plan, deposit(1, 250'000));
      const std::string where = "crash at call " + std::to_string(at) + (after_effect ? " after" : " before");
      EXPECT_LE(node.sends.size(), 1u) << where;
      if (node.sends.size() == 1) {
        EXPECT_EQ(state, TransferState::completed) << where; // found again, finished
        ++resumed;
      } else {
        ++held;
        // Killed between journaling the send and the node taking it: held for the operator, never guessed.
        EXPECT_EQ(state, TransferState::needs_operator) << where;
      }
    }
  }
  EXPECT_EQ(held, 1);                   // only a kill just before the node's send leaves it unknown
  EXPECT_EQ(resumed, 2 * calls - held); // every other kill resumes to the end
}

TEST(TransferExecutor, a_withdrawal_killed_at_every_step_never_requests_twice_and_never_loses_the_transfer) {
  CrashPlan counting;
  {
    FakeNode node(counting);
    FakeVenue venue(counting, node);
    ASSERT_EQ(run_through_crashes(fresh_journal("withdrawal_count"), node, venue, counting, withdrawal(3, 100'000)),
              TransferState::completed);
  }
  for (int at = 1; at <= counting.calls; ++at) {
    for (const bool after_effect : {false, true}) {
      CrashPlan plan;
      plan.crash_at = at;
      plan.after_effect = after_effect;
      FakeNode node(plan);
      FakeVenue venue(plan, node);
      const TransferState state =
          run_through_crashes(fresh_journal("withdrawal_crash"), node, venue, plan, withdrawal(3, 100'000));
      const std::string where = "crash at call " + std::to_string(at) + (after_effect ? " after" : " before");
      EXPECT_LE(venue.withdrawals.size(), 1u) << where;
      EXPECT_EQ(state, venue.withdrawals.size() == 1 ? TransferState::completed : TransferState::needs_operator)
          << where;
    }
  }
}

TEST(TransferExecutor, a_deposit_never_credited_raises_its_alert_once_even_across_a_restart) {
  CrashPlan plan;
  FakeNode node(plan);
  FakeVenue venue(plan, node);
  venue.credits = false;
  TransferLimits limits;
  limits.credit_timeout = std::chrono::seconds(600);
  const std::string path = fresh_journal("overdue");
  int alerts = 0;
  {
    Process process(path, node, venue, limits);
    process.executor.submit(deposit(4, 250'000), kNow);
    for (int i = 0; i < 5; ++i) {
      (void)process.executor.poll(kNow); // address, send, first credit check
    }
    for (const auto& outcome : process.executor.poll(kNow + 599'000)) {
      alerts += outcome.kind == TransferOutcome::Kind::overdue ? 1 : 0;
    }
    EXPECT_EQ(alerts, 0);
    for (const auto& outcome : process.executor.poll(kNow + 600'000)) {
      alerts += outcome.kind == TransferOutcome::Kind::overdue ? 1 : 0;
      EXPECT_NE(outcome.detail.find("not credited by the venue after 600 s"), std::string::npos) << outcome.detail;
    }
    EXPECT_EQ(alerts, 1);
  }
  Process restarted(path, node, venue, limits);
  for (const auto& outcome : restarted.executor.poll(kNow + 900'000)) {
    alerts += outcome.kind == TransferOutcome::Kind::overdue ? 1 : 0;
  }
  EXPECT_EQ(alerts, 1);
  EXPECT_EQ(restarted.executor.transfers()[0].state, TransferState::awaiting_credit); // still waiting, never resent
  EXPECT_EQ(node.sends.size(), 1u);
}

TEST(TransferExecutor, limits_per_transfer_and_per_day_refuse_before_anything_moves) {
  CrashPlan plan;
  FakeNode node(plan);
  FakeVenue venue(plan, node);
  TransferLimits limits;
  limits.max_transfer_sats = 300'000;
  limits.max_daily_sats = 500'000;
  Process process(fresh_journal("limits"), node, venue, limits);
  process.executor.submit(deposit(1, 300'001), kNow);     // over the per-transfer limit
  process.executor.submit(deposit(2, 300'000), kNow);     // fine
  process.executor.submit(deposit(3, 250'000), kNow + 1); // the day's total would be 550,000
  std::vector<TransferOutcome> all;
  for (int i = 0; i < 20; ++i) {
    for (auto& outcome : process.executor.poll(kNow + i * 1000)) {
      all.push_back(outcome);
    }
  }
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].transfer_id, 1u);
  EXPECT_EQ(all[0].kind, TransferOutcome::Kind::failed);
  EXPECT_EQ(all[1].transfer_id, 2u);
  EXPECT_EQ(all[1].kind, TransferOutcome::Kind::completed);
  EXPECT_EQ(all[2].transfer_id, 3u);
  EXPECT_EQ(all[2].kind, TransferOutcome::Kind::failed);
  EXPECT_NE(all[2].detail.find("daily limit"), std::string::npos);
  ASSERT_EQ(node.sends.size(), 1u);
  EXPECT_EQ(node.sends[0].sats, 300'000);
}

TEST(TransferExecutor, approval_mode_and_the_kill_switch_stop_every_step) {
  CrashPlan plan;
  FakeNode node(plan);
  FakeVenue venue(plan, node);
  TransferLimits limits;
  limits.require_approval = true;
  const std::string path = fresh_journal("approval");
  {
    Process process(path, node, venue, limits);
    process.executor.submit(deposit(5, 250'000), kNow);
    for (int i = 0; i < 5; ++i) {
      EXPECT_TRUE(process.executor.poll(kNow).empty());
    }
    EXPECT_EQ(process.executor.transfers()[0].state, TransferState::awaiting_approval);
    EXPECT_EQ(plan.calls, 0); // nobody was asked anything
    process.executor.approve(5);
  }
  Process process(path, node, venue, limits); // the approval is journaled
  process.executor.halt();
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(process.executor.poll(kNow).empty());
  }
  EXPECT_EQ(plan.calls, 0);
  process.executor.resume();
  std::vector<TransferOutcome> outcomes;
  for (int i = 0; i < 10 && outcomes.empty(); ++i) {
    outcomes = process.executor.poll(kNow + i * 1000);
  }
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].kind, TransferOutcome::Kind::completed);
  EXPECT_EQ(node.sends.size(), 1u);
}

TEST(TransferExecutor, a_send_the_node_refuses_fails_the_transfer_and_the_next_one_goes_on) {
  CrashPlan plan;
  FakeNode node(plan);
  FakeVenue venue(plan, node);
  node.refuse_sends = true;
  Process process(fresh_journal("refused"), node, venue);
  process.executor.submit(deposit(6, 250'000), kNow);
  process.executor.submit(withdrawal(7, 100'000), kNow);
  std::vector<TransferOutcome> all;
  for (int i = 0; i < 20; ++i) {
    for (auto& outcome : process.executor.poll(kNow + i * 1000)) {
      all.push_back(outcome);
    }
  }
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].kind, TransferOutcome::Kind::failed);
  EXPECT_NE(all[0].detail.find("Could not afford"), std::string::npos);
  EXPECT_EQ(all[1].kind, TransferOutcome::Kind::completed);
}

} // namespace
} // namespace synthusd::transfers
