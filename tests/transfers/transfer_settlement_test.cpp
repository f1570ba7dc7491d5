// The operator's settlement of a transfer a crash left in needs_operator
// (TransferExecutor::settle, settlement.hpp), and the listing GET /transfers
// shows (transfer_listing.hpp).
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>

#include "synthusd/transfers/transfer_executor.hpp"
#include "synthusd/transfers/transfer_listing.hpp"
#include "transfer_wallet_fakes.hpp"

namespace synthusd::transfers {
namespace {

using namespace test;

constexpr std::int64_t kNow = 1'700'000'000'000; // Unix ms
const std::string kTxid = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b";

std::string fresh_journal(const std::string& name) {
  const auto path = std::filesystem::temp_directory_path() / ("synthusd_settlement_" + std::to_string(::getpid()));
  std::filesystem::create_directories(path);
  std::filesystem::remove(path / name);
  return (path / name).string();
}

hedging::TransferIntent intent(hedging::TransferId id, hedging::TransferDirection direction, std::int64_t sats) {
  return {id, 1, direction, hedging::Sats{sats}};
}

struct Process {
  Process(const std::string& path, FakeNode& node, FakeVenue& venue)
      : journal(path), executor(journal, node, venue, TransferLimits{}) {}
  TransferJournal journal;
  TransferExecutor executor;
};

std::string journal_text(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A transfer whose send (withdrawal request) was journaled, then the
// engine died before the counterparty took it: the restart finds nothing
// and holds it for the operator. The node and the venue outlive the crash.
class HeldForTheOperator : public ::testing::Test {
protected:
  void hold(hedging::TransferDirection direction) {
    plan_.crash_at = 2; // 1: the address; 2: the send (the withdrawal request), killed before it acts
    try {
      Process process(path_, node_, venue_);
      process.executor.submit(intent(7, direction, 250'000), kNow);
      for (int i = 0; i < 5; ++i) {
        (void)process.executor.poll(kNow);
      }
      FAIL() << "the crash did not happen";
    } catch (const SimulatedCrash&) {
    }
    plan_.crash_at = -1;
    process_ = std::make_unique<Process>(path_, node_, venue_);
    const std::vector<TransferOutcome> outcomes = process_->executor.poll(kNow + 1000);
    ASSERT_EQ(outcomes.size(), 1u);
    ASSERT_EQ(outcomes[0].kind, TransferOutcome::Kind::needs_operator);
    ASSERT_EQ(state(), TransferState::needs_operator);
  }
  [[nodiscard]] TransferState state() const { return process_->executor.transfers().front().state; }
  void restart() {
    process_.reset();
    process_ = std::make_unique<Process>(path_, node_, venue_);
  }
  std::vector<TransferOutcome> poll_until_outcome(std::int64_t now) {
    for (int i = 0; i < 10; ++i) {
      std::vector<TransferOutcome> outcomes = process_->executor.poll(now + i * 1000);
      if (!outcomes.empty()) {
        return outcomes;
      }
    }
    return {};
  }

  std::string path_ = fresh_journal(::testing::UnitTest::GetInstance()->current_test_info()->name());
  CrashPlan plan_;
  FakeNode node_{plan_};
  FakeVenue venue_{plan_, node_};
  std::unique_ptr<Process> process_;
};

TEST_F(HeldForTheOperator, a_deposit_settled_as_sent_waits_for_the_credit_of_that_txid_and_completes) {
  hold(hedging::TransferDirection::wallet_to_exchange);
  // Uppercase as some explorers print it; kept lowercase as the venue lists it.
  std::string upper = kTxid;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); });
  EXPECT_EQ(process_->executor.settle(7, {true, upper}, kNow + 2000), "");
  EXPECT_EQ(state(), TransferState::awaiting_credit);
  EXPECT_EQ(process_->executor.transfers().front().reference, kTxid);
  EXPECT_NE(journal_text(path_).find("7 settled sent " + kTxid + " " + std::to_string(kNow + 2000) + "\n"),
            std::string::npos);
  const std::vector<TransferOutcome> outcomes = poll_until_outcome(kNow + 3000);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].kind, TransferOutcome::Kind::completed);
  EXPECT_EQ(outcomes[0].detail, kTxid);
  EXPECT_TRUE(node_.sends.empty()); // settling never sends
}

TEST_F(HeldForTheOperator, a_deposit_settled_as_not_sent_fails_reported_and_the_next_transfer_goes_on) {
  hold(hedging::TransferDirection::wallet_to_exchange);
  // Held, it holds the line: the next transfer does not move.
  process_->executor.submit(intent(8, hedging::TransferDirection::wallet_to_exchange, 100'000), kNow + 1500);
  EXPECT_TRUE(process_->executor.poll(kNow + 1600).empty());
  EXPECT_EQ(process_->executor.transfers()[1].state, TransferState::getting_address);

  EXPECT_EQ(process_->executor.settle(7, {false, {}}, kNow + 2000), "");
  const std::vector<TransferOutcome> outcomes = process_->executor.poll(kNow + 2100);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].kind, TransferOutcome::Kind::failed); // the kernel gets TransferFailed
  EXPECT_EQ(outcomes[0].transfer_id, 7u);
  EXPECT_EQ(state(), TransferState::failed);
  const std::vector<TransferOutcome> next = poll_until_outcome(kNow + 3000);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].transfer_id, 8u);
  EXPECT_EQ(next[0].kind, TransferOutcome::Kind::completed);
  ASSERT_EQ(node_.sends.size(), 1u); // only transfer 8's; 7 never sent
  EXPECT_EQ(node_.sends[0].sats, 100'000);
}

TEST_F(HeldForTheOperator, a_withdrawal_settled_with_the_venues_id_completes_when_the_node_receives_it) {
  hold(hedging::TransferDirection::exchange_to_wallet);
  EXPECT_NE(process_->executor.settle(7, {true, kTxid}, kNow + 2000), ""); // a txid is no withdrawal id
  EXPECT_NE(process_->executor.settle(7, {true, "0123"}, kNow + 2000), "");
  EXPECT_NE(process_->executor.settle(7, {true, "1234567890123456789"}, kNow + 2000), ""); // 19 digits
  EXPECT_EQ(state(), TransferState::needs_operator);
  EXPECT_EQ(process_->executor.settle(7, {true, "4711"}, kNow + 2000), "");
  EXPECT_EQ(state(), TransferState::awaiting_receipt);
  EXPECT_TRUE(process_->executor.poll(kNow + 3000).empty()); // nothing received yet
  node_.received.push_back({node_.addresses.at(0), 250'000, "venuetx4711"});
  const std::vector<TransferOutcome> outcomes = poll_until_outcome(kNow + 4000);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].kind, TransferOutcome::Kind::completed);
  EXPECT_EQ(process_->executor.transfers().front().reference, "4711");
  EXPECT_TRUE(venue_.withdrawals.empty()); // settling never requests
}

TEST_F(HeldForTheOperator, only_a_held_transfer_is_settled_and_only_once) {
  hold(hedging::TransferDirection::wallet_to_exchange);
  EXPECT_EQ(process_->executor.settle(9, {false, {}}, kNow), "no transfer 9");
  EXPECT_EQ(process_->executor.settle(7, {true, "nothex"}, kNow),
            "a deposit is settled with its on-chain txid: 64 hex digits");
  EXPECT_EQ(process_->executor.settle(7, {true, kTxid.substr(1)}, kNow),
            "a deposit is settled with its on-chain txid: 64 hex digits");
  EXPECT_EQ(process_->executor.settle(7, {false, {}}, kNow), "");
  EXPECT_EQ(process_->executor.settle(7, {true, kTxid}, kNow),
            "transfer 7 is already settled as not sent; only a transfer in needs_operator is settled");
  (void)process_->executor.poll(kNow);
  EXPECT_EQ(process_->executor.settle(7, {false, {}}, kNow),
            "transfer 7 is failed; only a transfer in needs_operator is settled");
  // A transfer in progress is not the operator's to settle.
  process_->executor.submit(intent(8, hedging::TransferDirection::wallet_to_exchange, 100'000), kNow);
  (void)process_->executor.poll(kNow);
  (void)process_->executor.poll(kNow);
  ASSERT_EQ(process_->executor.transfers()[1].state, TransferState::awaiting_credit);
  EXPECT_EQ(process_->executor.settle(8, {false, {}}, kNow),
            "transfer 8 is awaiting_credit; only a transfer in needs_operator is settled");
  const std::string journal = journal_text(path_);
  EXPECT_EQ(journal.find("7 settled sent"), std::string::npos); // refused decisions leave no line
  EXPECT_EQ(journal.find("8 settled"), std::string::npos);
}

TEST_F(HeldForTheOperator, a_settlement_survives_a_restart_before_it_was_acted_on) {
  hold(hedging::TransferDirection::wallet_to_exchange);
  ASSERT_EQ(process_->executor.settle(7, {false, {}}, kNow + 2000), "");
  restart(); // killed after the decision's line, before the failure's
  EXPECT_EQ(state(), TransferState::needs_operator);
  EXPECT_NE(process_->executor.settle(7, {true, kTxid}, kNow), ""); // decided already
  const std::vector<TransferOutcome> outcomes = process_->executor.poll(kNow + 3000);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].kind, TransferOutcome::Kind::failed);
  restart();
  EXPECT_EQ(state(), TransferState::failed);
  EXPECT_TRUE(process_->executor.poll(kNow + 4000).empty());
  EXPECT_TRUE(node_.sends.empty());
}

TEST_F(HeldForTheOperator, a_settled_send_is_awaited_again_after_a_restart_with_its_reference_and_time) {
  hold(hedging::TransferDirection::wallet_to_exchange);
  venue_.credits = false;
  ASSERT_EQ(process_->executor.settle(7, {true, kTxid}, kNow + 2000), "");
  restart();
  const TransferStatus& status = process_->executor.transfers().front();
  EXPECT_EQ(status.state, TransferState::awaiting_credit);
  EXPECT_EQ(status.reference, kTxid);
  EXPECT_EQ(status.moved_unix_ms, kNow + 2000);
  venue_.credits = true;
  const std::vector<TransferOutcome> outcomes = poll_until_outcome(kNow + 3000);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].kind, TransferOutcome::Kind::completed);
  EXPECT_TRUE(node_.sends.empty());
}

TEST(Settlement, the_body_is_sent_with_one_reference_or_not_sent) {
  std::string error;
  auto parsed = parse_settlement("not_sent\n", error);
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->sent);
  parsed = parse_settlement("sent " + kTxid + "\r\n", error);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->sent);
  EXPECT_EQ(parsed->reference, kTxid);
  for (const std::string bad : {"", "sent", "sent ", "sent a b", "not_sent please", "SENT abc", "maybe"}) {
    error.clear();
    EXPECT_FALSE(parse_settlement(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  EXPECT_FALSE(parse_settlement("sent " + std::string(200, 'a'), error));
  EXPECT_NE(error.find("over 128 bytes"), std::string::npos);
}

TEST(TransferListing, lists_every_unfinished_transfer_and_the_last_finished_ones_as_json) {
  std::deque<TransferStatus> transfers;
  for (hedging::TransferId id = 1; id <= 5; ++id) {
    TransferStatus status;
    status.intent = intent(id,
                           id % 2 == 0 ? hedging::TransferDirection::exchange_to_wallet
                                       : hedging::TransferDirection::wallet_to_exchange,
                           1000 * static_cast<std::int64_t>(id));
    status.state = id == 2 ? TransferState::needs_operator : TransferState::completed;
    status.requested_unix_ms = kNow + static_cast<std::int64_t>(id);
    transfers.push_back(status);
  }
  transfers[1].note = "send \"interrupted\"\n";
  const std::vector<TransferStatus> listed = recent_transfers(transfers, 2);
  ASSERT_EQ(listed.size(), 3u); // the held one (2) and the last two finished (4, 5)
  EXPECT_EQ(listed[0].intent.transfer_id, 2u);
  EXPECT_EQ(listed[1].intent.transfer_id, 4u);
  EXPECT_EQ(listed[2].intent.transfer_id, 5u);
  const std::string json = transfers_json(listed, [](hedging::VenueId) { return std::string("deribit"); });
  EXPECT_NE(json.find("{\"id\":2,\"kind\":\"withdrawal\",\"venue\":\"deribit\",\"sats\":2000,\"state\":"
                      "\"needs_operator\",\"address\":\"\",\"reference\":\"\",\"requested_unix_ms\":" +
                      std::to_string(kNow + 2) + ",\"overdue\":false,\"note\":\"send \\\"interrupted\\\"\\u000a\"}"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"id\":5,\"kind\":\"deposit\""), std::string::npos);
  EXPECT_EQ(json.rfind("{\"transfers\":[", 0), 0u);
}

} // namespace
} // namespace synthusd::transfers
