// A lookup that could not tell is not a "no" (Lookup::unknown): after a
// restart that finds `sending` / `requesting` without its result, a node or
// venue that is briefly down keeps the transfer where it is (never
// needs_operator, never failed, never resent) until it answers. Driven with
// the stand-ins of transfer_wallet_fakes.hpp, and with the real clients
// against lnd / Deribit / Core Lightning stand-ins that answer an error
// first (HTTP 500, Deribit's 429 too_many_requests, CLN error -1).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fake_lightning_rpc.hpp"
#include "synthusd/transfers/cln_node_wallet.hpp"
#include "synthusd/transfers/transfer_executor.hpp"
#include "synthusd/transfers/wallet_clients.hpp"
#include "transfer_wallet_fakes.hpp"
#include "wallet_http_fakes.hpp"

namespace synthusd::transfers {
namespace {

using namespace test; // NOLINT(google-build-using-namespace): the fakes

constexpr std::int64_t kNow = 1'700'000'000'000; // Unix ms
constexpr hedging::VenueId kVenue = 1;

std::string fresh_journal(const std::string& name) {
  const auto path =
      std::filesystem::temp_directory_path() / ("synthusd_transfer_lookup_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove(path);
  return path.string();
}

std::size_t journal_lines(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// A kill -9 between the counterparty's action and the journal's line for it.
void drop_journal_line(const std::string& path, const std::string& line_start) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t at = text.find(line_start);
  ASSERT_NE(at, std::string::npos) << text;
  text.erase(at, text.find('\n', at) + 1 - at);
  std::ofstream(path, std::ios::trunc) << text;
}

hedging::TransferIntent deposit(hedging::TransferId id, std::int64_t sats) {
  return {id, kVenue, hedging::TransferDirection::wallet_to_exchange, hedging::Sats{sats}};
}

hedging::TransferIntent withdrawal(hedging::TransferId id, std::int64_t sats) {
  return {id, kVenue, hedging::TransferDirection::exchange_to_wallet, hedging::Sats{sats}};
}

// Polls until the transfer leaves `state` (or `limit` polls); returns every outcome.
std::vector<TransferOutcome> poll_while(TransferExecutor& executor, TransferState state, std::int64_t at,
                                        int limit = 10) {
  std::vector<TransferOutcome> all;
  for (int i = 0; i < limit && executor.transfers().front().state == state; ++i) {
    for (auto& outcome : executor.poll(at + i)) {
      all.push_back(outcome);
    }
  }
  return all;
}

// ---- the executor, with the fakes ----

// A deposit whose send the node made, killed before "sent": the journal ends at "sending".
void deposit_killed_after_the_send(const std::string& path, FakeNode& node, FakeVenue& venue, CrashPlan& plan) {
  plan.crash_at = 2; // 1: the venue's address, 2: the send
  plan.after_effect = true;
  TransferJournal journal(path);
  TransferExecutor executor(journal, node, venue, TransferLimits{});
  executor.submit(deposit(1, 250'000), kNow);
  EXPECT_THROW(
      {
        for (int i = 0; i < 5; ++i) {
          (void)executor.poll(kNow + i);
        }
      },
      SimulatedCrash);
  plan.crash_at = -1;
  ASSERT_EQ(node.sends.size(), 1U);
}

TEST(TransferLookup, a_node_down_at_the_restart_keeps_the_deposit_sending_and_it_completes_once_it_answers) {
  CrashPlan plan;
  FakeNode node(plan);
  FakeVenue venue(plan, node);
  const std::string path = fresh_journal("node_down");
  deposit_killed_after_the_send(path, node, venue, plan);
  node.unreachable_lookups = 1;
  TransferJournal journal(path);
  TransferExecutor executor(journal, node, venue, TransferLimits{});
  const std::size_t lines = journal_lines(path);
  EXPECT_TRUE(executor.poll(kNow + 10'000).empty()) << "nothing decided";
  EXPECT_EQ(executor.transfers()[0].state, TransferState::sending);
  EXPECT_EQ(executor.lookups_failed(), 1U);
  EXPECT_NE(executor.last_error().find("Connection refused"), std::string::npos) << executor.last_error();
  EXPECT_EQ(journal_lines(path), lines) << "a failed lookup writes no journal line";
  const auto outcomes = poll_while(executor, TransferState::sending, kNow + 11'000);
  EXPECT_TRUE(outcomes.empty());
  EXPECT_EQ(executor.transfers()[0].state, TransferState::awaiting_credit);
  EXPECT_EQ(executor.transfers()[0].reference, "tx1");
  const auto done = poll_while(executor, TransferState::awaiting_credit, kNow + 12'000);
  ASSERT_EQ(done.size(), 1U);
  EXPECT_EQ(done[0].kind, TransferOutcome::Kind::completed);
  EXPECT_EQ(node.sends.size(), 1U) << "never sent twice";
}

TEST(TransferLookup, a_send_the_node_never_made_is_still_held_for_the_operator_once_the_node_answers) {
  CrashPlan plan;
  plan.crash_at = 2; // killed before the node took the send
  FakeNode node(plan);
  FakeVenue venue(plan, node);
  const std::string path = fresh_journal("never_sent");
  {
    TransferJournal journal(path);
    TransferExecutor executor(journal, node, venue, TransferLimits{});
    executor.submit(deposit(1, 250'000), kNow);
    EXPECT_THROW(
        {
          for (int i = 0; i < 5; ++i) {
            (void)executor.poll(kNow + i);
          }
        },
        SimulatedCrash);
  }
  plan.crash_at = -1;
  ASSERT_TRUE(node.sends.empty());
  node.unreachable_lookups = 2;
  TransferJournal journal(path);
  TransferExecutor executor(journal, node, venue, TransferLimits{});
  EXPECT_TRUE(executor.poll(kNow + 10'000).empty());
  EXPECT_TRUE(executor.poll(kNow + 11'000).empty());
  EXPECT_EQ(executor.transfers()[0].state, TransferState::sending) << "two unanswered lookups decide nothing";
  const auto outcomes = executor.poll(kNow + 12'000);
  ASSERT_EQ(outcomes.size(), 1U);
  EXPECT_EQ(outcomes[0].kind, TransferOutcome::Kind::needs_operator) << "the node's complete answer: no such send";
  EXPECT_EQ(executor.lookups_failed(), 2U);
  EXPECT_TRUE(node.sends.empty()) << "never sent on a guess";
}

TEST(TransferLookup, a_venue_down_at_the_restart_keeps_the_withdrawal_requesting_and_it_completes_once_it_answers) {
  CrashPlan plan;
  plan.crash_at = 2; // 1: the node's address, 2: the venue's withdraw
  plan.after_effect = true;
  FakeNode node(plan);
  FakeVenue venue(plan, node);
  const std::string path = fresh_journal("venue_down");
  {
    TransferJournal journal(path);
    TransferExecutor executor(journal, node, venue, TransferLimits{});
    executor.submit(withdrawal(2, 100'000), kNow);
    EXPECT_THROW(
        {
          for (int i = 0; i < 5; ++i) {
            (void)executor.poll(kNow + i);
          }
        },
        SimulatedCrash);
  }
  plan.crash_at = -1;
  ASSERT_EQ(venue.withdrawals.size(), 1U);
  venue.unreachable_lookups = 3;
  TransferJournal journal(path);
  TransferExecutor executor(journal, node, venue, TransferLimits{});
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(executor.poll(kNow + 10'000 + i).empty());
    EXPECT_EQ(executor.transfers()[0].state, TransferState::requesting);
  }
  EXPECT_EQ(executor.lookups_failed(), 3U);
  EXPECT_NE(executor.last_error().find("HTTP 500"), std::string::npos) << executor.last_error();
  const auto outcomes = poll_while(executor, TransferState::requesting, kNow + 20'000);
  EXPECT_TRUE(outcomes.empty());
  EXPECT_EQ(executor.transfers()[0].reference, "100");
  const auto done = poll_while(executor, TransferState::awaiting_receipt, kNow + 21'000);
  ASSERT_EQ(done.size(), 1U);
  EXPECT_EQ(done[0].kind, TransferOutcome::Kind::completed);
  EXPECT_EQ(venue.withdrawals.size(), 1U) << "never requested twice";
}

TEST(TransferLookup, a_long_outage_raises_the_overdue_alert_once_and_still_decides_nothing) {
  CrashPlan plan;
  FakeNode node(plan);
  FakeVenue venue(plan, node);
  const std::string path = fresh_journal("outage");
  deposit_killed_after_the_send(path, node, venue, plan);
  node.unreachable_lookups = 1'000;
  TransferLimits limits;
  limits.credit_timeout = std::chrono::seconds(600);
  TransferJournal journal(path);
  TransferExecutor executor(journal, node, venue, limits);
  const std::size_t lines = journal_lines(path);
  int alerts = 0;
  for (std::int64_t second = 0; second <= 900; second += 30) {
    for (const auto& outcome : executor.poll(kNow + second * 1000)) {
      ASSERT_EQ(outcome.kind, TransferOutcome::Kind::overdue) << outcome.detail;
      EXPECT_GE(second, 600) << "not before credit_timeout";
      EXPECT_NE(outcome.detail.find("Connection refused"), std::string::npos) << outcome.detail;
      ++alerts;
    }
  }
  EXPECT_EQ(alerts, 1);
  EXPECT_EQ(executor.transfers()[0].state, TransferState::sending);
  EXPECT_TRUE(executor.transfers()[0].overdue);
  EXPECT_EQ(executor.lookups_failed(), 31U);
  EXPECT_EQ(journal_lines(path), lines + 1) << "31 failed lookups, one line: the alert";
  node.unreachable_lookups = 0;
  (void)executor.poll(kNow + 901'000);
  EXPECT_EQ(executor.transfers()[0].state, TransferState::awaiting_credit);
  EXPECT_FALSE(executor.transfers()[0].overdue) << "the outage's alert ends with the answer";
  const auto done = poll_while(executor, TransferState::awaiting_credit, kNow + 902'000);
  ASSERT_EQ(done.size(), 1U);
  EXPECT_EQ(done[0].kind, TransferOutcome::Kind::completed);
  EXPECT_EQ(node.sends.size(), 1U);
  // And a restart reads the journal the same way: done, no alert left.
  TransferJournal again(path);
  TransferExecutor restarted(again, node, venue, limits);
  EXPECT_EQ(restarted.transfers()[0].state, TransferState::completed);
  EXPECT_FALSE(restarted.transfers()[0].overdue);
}

TEST(TransferLookup, a_send_error_the_node_cannot_explain_neither_fails_the_transfer_nor_sends_again) {
  CrashPlan plan;
  FakeNode node(plan);
  FakeVenue venue(plan, node);
  node.refuse_sends = true;
  node.unreachable_lookups = 1;
  TransferJournal journal(fresh_journal("send_error"));
  TransferExecutor executor(journal, node, venue, TransferLimits{});
  executor.submit(deposit(3, 250'000), kNow);
  EXPECT_TRUE(executor.poll(kNow).empty()); // the address
  EXPECT_TRUE(executor.poll(kNow + 1).empty()) << "the send failed and the lookup could not tell: no failure";
  EXPECT_EQ(executor.transfers()[0].state, TransferState::sending);
  const auto outcomes = executor.poll(kNow + 2);
  ASSERT_EQ(outcomes.size(), 1U);
  EXPECT_EQ(outcomes[0].kind, TransferOutcome::Kind::needs_operator) << "asked again, not sent again";
  EXPECT_TRUE(node.sends.empty());
}

TEST(TransferLookup, credit_and_receipt_checks_that_cannot_tell_keep_waiting_and_are_counted) {
  CrashPlan plan;
  FakeNode node(plan);
  FakeVenue venue(plan, node);
  TransferJournal journal(fresh_journal("checks"));
  TransferExecutor executor(journal, node, venue, TransferLimits{});
  executor.submit(deposit(4, 250'000), kNow);
  executor.submit(withdrawal(5, 100'000), kNow);
  (void)executor.poll(kNow);     // the address
  (void)executor.poll(kNow + 1); // the send
  venue.unreachable_lookups = 2;
  EXPECT_TRUE(executor.poll(kNow + 2).empty());
  EXPECT_TRUE(executor.poll(kNow + 3).empty());
  EXPECT_EQ(executor.transfers()[0].state, TransferState::awaiting_credit);
  EXPECT_EQ(executor.lookups_failed(), 2U);
  EXPECT_NE(executor.last_error().find("credit check could not tell"), std::string::npos) << executor.last_error();
  auto done = poll_while(executor, TransferState::awaiting_credit, kNow + 10);
  ASSERT_EQ(done.size(), 1U);
  EXPECT_EQ(done[0].kind, TransferOutcome::Kind::completed);
  (void)executor.poll(kNow + 20); // the node's address
  (void)executor.poll(kNow + 21); // the venue's withdrawal
  node.unreachable_lookups = 1;
  EXPECT_TRUE(executor.poll(kNow + 22).empty());
  EXPECT_EQ(executor.transfers()[1].state, TransferState::awaiting_receipt);
  EXPECT_EQ(executor.lookups_failed(), 3U);
  EXPECT_NE(executor.last_error().find("receipt check could not tell"), std::string::npos) << executor.last_error();
  done = executor.poll(kNow + 23);
  ASSERT_EQ(done.size(), 1U);
  EXPECT_EQ(done[0].kind, TransferOutcome::Kind::completed);
}

// ---- the real clients ----

TEST(TransferLookup, lnd_answers_found_absent_only_from_a_200_list_and_unknown_otherwise) {
  FakeLnd lnd;
  int errors = 1;
  bool garbage = false;
  LoopbackHttp server([&](const Request& r) {
    if (r.method == "GET" && r.target == "/v1/transactions") {
      if (errors > 0) {
        --errors;
        return Reply{500, R"({"code":2,"message":"wallet locked, unlock it to enable full RPC access","details":[]})"};
      }
      if (garbage) {
        return Reply{200, R"({"transactions":[{"tx_hash":)"};
      }
    }
    return lnd(r);
  });
  LndNodeWallet node(server.endpoint(), "");
  const Lookup failed = node.find_send("bcrt1qvenue", 50'000, "synthusd-7");
  EXPECT_TRUE(failed.is_unknown());
  EXPECT_NE(failed.reason.find("HTTP 500"), std::string::npos) << failed.reason;
  EXPECT_NE(failed.reason.find("wallet locked"), std::string::npos) << failed.reason;
  EXPECT_TRUE(node.find_send("bcrt1qvenue", 50'000, "synthusd-7").is_absent()) << "an empty list, read in full";
  server.locked([&] { garbage = true; });
  EXPECT_TRUE(node.find_send("bcrt1qvenue", 50'000, "synthusd-7").is_unknown()) << "a truncated list";
  EXPECT_TRUE(node.find_incoming("bcrt1qvenue", 50'000).is_unknown()) << "a truncated list";
  HttpEndpoint nowhere{"127.0.0.1", 1, std::chrono::milliseconds(2000), {}};
  LndNodeWallet down(nowhere, "");
  const Lookup refused = down.find_send("bcrt1qvenue", 50'000, "synthusd-7");
  EXPECT_TRUE(refused.is_unknown());
  EXPECT_NE(refused.reason.find("cannot connect"), std::string::npos) << refused.reason;
  EXPECT_TRUE(down.find_incoming("bcrt1qvenue", 50'000).is_unknown());
}

TEST(TransferLookup, deribit_answers_absent_only_from_a_result_with_its_data_list) {
  FakeDeribit deribit;
  int limited = 2;
  bool without_data = false;
  LoopbackHttp server([&](const Request& r) {
    if (r.target.starts_with("/api/v2/private/get_")) {
      if (limited > 0) {
        --limited;
        return Reply{429, R"({"jsonrpc":"2.0","error":{"message":"too_many_requests","code":10028}})"};
      }
      if (without_data && !r.target.starts_with("/api/v2/private/get_current_deposit_address")) {
        return Reply{200, R"({"jsonrpc":"2.0","result":{"count":0}})"};
      }
    }
    return deribit(r);
  });
  DeribitVenueWallet venue(server.endpoint(), kVenue, "id", "secret");
  const Lookup credit = venue.deposit_credited(kVenue, "abc");
  EXPECT_TRUE(credit.is_unknown());
  EXPECT_NE(credit.reason.find("too_many_requests"), std::string::npos) << credit.reason;
  EXPECT_TRUE(venue.find_withdrawal(kVenue, "bcrt1qnode1", 12'345).is_unknown());
  EXPECT_TRUE(venue.deposit_credited(kVenue, "abc").is_absent());
  EXPECT_TRUE(venue.find_withdrawal(kVenue, "bcrt1qnode1", 12'345).is_absent());
  server.locked([&] { without_data = true; });
  EXPECT_TRUE(venue.deposit_credited(kVenue, "abc").is_unknown()) << "no data list: no answer";
  EXPECT_TRUE(venue.find_withdrawal(kVenue, "bcrt1qnode1", 12'345).is_unknown());
  EXPECT_TRUE(venue.find_withdrawal(kVenue + 1, "bcrt1qnode1", 12'345).is_unknown()) << "not this client's venue";
}

TEST(TransferLookup, core_lightning_answers_unknown_on_an_rpc_error_or_no_socket) {
  FakeLightningRpc fake(1'000'000);
  ClnWalletOptions options;
  options.endpoint.socket_path = fake.socket_path();
  ClnNodeWallet node(options);
  fake.fail_next("listtransactions", 1);
  const Lookup failed = node.find_send(kVenueP2sh, 50'000, "x");
  EXPECT_TRUE(failed.is_unknown());
  EXPECT_NE(failed.reason.find("CLN error -1"), std::string::npos) << failed.reason;
  EXPECT_TRUE(node.find_send(kVenueP2sh, 50'000, "x").is_absent());
  fake.fail_next("listfunds", 1);
  EXPECT_TRUE(node.find_incoming(kNodeBech32[0], 50'000).is_unknown());
  EXPECT_TRUE(node.find_incoming(kNodeBech32[0], 50'000).is_absent());
  ClnWalletOptions nowhere;
  nowhere.endpoint.socket_path = fake.socket_path() + ".absent";
  ClnNodeWallet down(nowhere);
  const Lookup refused = down.find_send(kVenueP2sh, 50'000, "x");
  EXPECT_TRUE(refused.is_unknown());
  EXPECT_NE(refused.reason.find("cannot connect"), std::string::npos) << refused.reason;
  EXPECT_TRUE(down.find_incoming(kNodeBech32[0], 50'000).is_unknown());
}

// Runs a deposit until the node has sent it, drops the journal's "sent"
// line (a kill -9 in between), restarts; the node's first lookup fails.
TEST(TransferLookup, an_lnd_deposit_resumes_after_a_500_at_the_first_restart_lookup_with_one_send) {
  FakeLnd lnd;
  FakeDeribit deribit;
  int errors = 0;
  LoopbackHttp node_server([&](const Request& r) {
    if (r.method == "GET" && r.target == "/v1/transactions" && errors > 0) {
      --errors;
      return Reply{500, R"({"code":14,"message":"wallet not ready","details":[]})"};
    }
    return lnd(r);
  });
  LoopbackHttp venue_server([&](const Request& r) { return deribit(r); });
  LndNodeWallet node(node_server.endpoint(), "");
  DeribitVenueWallet venue(venue_server.endpoint(), kVenue, "id", "secret");
  const std::string path = fresh_journal("lnd_resume");
  {
    TransferJournal journal(path);
    TransferExecutor executor(journal, node, venue, TransferLimits{});
    executor.submit(deposit(7, 50'000), 1'000);
    for (int i = 0; i < 5 && executor.transfers()[0].state != TransferState::awaiting_credit; ++i) {
      (void)executor.poll(1'000 + i);
    }
  }
  std::size_t sends = 0;
  node_server.locked([&] {
    sends = lnd.txs.size();
    errors = 1;
  });
  ASSERT_EQ(sends, 1U);
  drop_journal_line(path, "7 sent");
  TransferJournal journal(path);
  TransferExecutor executor(journal, node, venue, TransferLimits{});
  EXPECT_TRUE(executor.poll(2'000).empty());
  EXPECT_EQ(executor.transfers()[0].state, TransferState::sending) << executor.transfers()[0].note;
  EXPECT_EQ(executor.lookups_failed(), 1U);
  (void)executor.poll(2'001);
  ASSERT_EQ(executor.transfers()[0].state, TransferState::awaiting_credit) << executor.last_error();
  venue_server.locked([&] { deribit.credited_txids.push_back("lndtx1"); });
  const auto done = poll_while(executor, TransferState::awaiting_credit, 2'100);
  ASSERT_EQ(done.size(), 1U);
  EXPECT_EQ(done[0].kind, TransferOutcome::Kind::completed) << done[0].detail;
  node_server.locked([&] { sends = lnd.txs.size(); });
  EXPECT_EQ(sends, 1U) << "never sent twice";
}

TEST(TransferLookup, a_deribit_withdrawal_resumes_after_a_429_at_the_first_restart_lookup_with_one_request) {
  FakeLnd lnd;
  FakeDeribit deribit;
  int limited = 0;
  LoopbackHttp node_server([&](const Request& r) { return lnd(r); });
  LoopbackHttp venue_server([&](const Request& r) {
    if (r.target.starts_with("/api/v2/private/get_withdrawals?") && limited > 0) {
      --limited;
      return Reply{429, R"({"jsonrpc":"2.0","error":{"message":"too_many_requests","code":10028}})"};
    }
    return deribit(r);
  });
  LndNodeWallet node(node_server.endpoint(), "");
  DeribitVenueWallet venue(venue_server.endpoint(), kVenue, "id", "secret");
  const std::string path = fresh_journal("deribit_resume");
  {
    TransferJournal journal(path);
    TransferExecutor executor(journal, node, venue, TransferLimits{});
    executor.submit(withdrawal(8, 30'000), 1'000);
    for (int i = 0; i < 5 && executor.transfers()[0].state != TransferState::awaiting_receipt; ++i) {
      (void)executor.poll(1'000 + i);
    }
  }
  std::size_t requests = 0;
  venue_server.locked([&] {
    requests = deribit.withdrawals.size();
    limited = 1;
  });
  ASSERT_EQ(requests, 1U);
  drop_journal_line(path, "8 requested_at_venue");
  TransferJournal journal(path);
  TransferExecutor executor(journal, node, venue, TransferLimits{});
  EXPECT_TRUE(executor.poll(2'000).empty());
  EXPECT_EQ(executor.transfers()[0].state, TransferState::requesting) << executor.transfers()[0].note;
  EXPECT_NE(executor.last_error().find("too_many_requests"), std::string::npos) << executor.last_error();
  (void)executor.poll(2'001);
  ASSERT_EQ(executor.transfers()[0].state, TransferState::awaiting_receipt) << executor.last_error();
  EXPECT_EQ(executor.transfers()[0].reference, "1");
  // The venue pays the node's address; lnd lists it as an incoming transaction.
  node_server.locked([&] { lnd.txs.push_back({"venuetx1", executor.transfers()[0].address, "", 30'000}); });
  const auto done = poll_while(executor, TransferState::awaiting_receipt, 2'100);
  ASSERT_EQ(done.size(), 1U);
  EXPECT_EQ(done[0].kind, TransferOutcome::Kind::completed) << done[0].detail;
  venue_server.locked([&] { requests = deribit.withdrawals.size(); });
  EXPECT_EQ(requests, 1U) << "never requested twice";
}

TEST(TransferLookup, a_cln_deposit_resumes_after_an_rpc_error_at_the_first_restart_lookup_with_one_send) {
  FakeLightningRpc cln(1'000'000);
  FakeDeribit deribit;
  deribit.deposit_address = kVenueP2sh;
  LoopbackHttp venue_server([&](const Request& r) { return deribit(r); });
  ClnWalletOptions options;
  options.endpoint.socket_path = cln.socket_path();
  ClnNodeWallet node(options);
  DeribitVenueWallet venue(venue_server.endpoint(), kVenue, "id", "secret");
  const std::string path = fresh_journal("cln_resume");
  {
    TransferJournal journal(path);
    TransferExecutor executor(journal, node, venue, TransferLimits{});
    executor.submit(deposit(9, 25'000), 1'000);
    for (int i = 0; i < 5 && cln.withdrawals() == 0; ++i) {
      (void)executor.poll(1'000 + i);
    }
  }
  ASSERT_EQ(cln.withdrawals(), 1U);
  drop_journal_line(path, "9 sent");
  cln.fail_next("listtransactions", 1);
  TransferJournal journal(path);
  TransferExecutor executor(journal, node, venue, TransferLimits{});
  EXPECT_TRUE(executor.poll(2'000).empty());
  EXPECT_EQ(executor.transfers()[0].state, TransferState::sending) << executor.transfers()[0].note;
  EXPECT_NE(executor.last_error().find("CLN error -1"), std::string::npos) << executor.last_error();
  (void)executor.poll(2'001);
  ASSERT_EQ(executor.transfers()[0].state, TransferState::awaiting_credit) << executor.last_error();
  EXPECT_EQ(executor.transfers()[0].reference, cln.sent_txids().at(0));
  venue_server.locked([&] { deribit.credited_txids.push_back(executor.transfers()[0].reference); });
  const auto done = poll_while(executor, TransferState::awaiting_credit, 2'100);
  ASSERT_EQ(done.size(), 1U);
  EXPECT_EQ(done[0].kind, TransferOutcome::Kind::completed) << done[0].detail;
  EXPECT_EQ(cln.withdrawals(), 1U) << "never sent twice";
}

} // namespace
} // namespace synthusd::transfers
