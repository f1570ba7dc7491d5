// Core Lightning as the operator's node (cln_node_wallet.hpp): the real
// client against a stand-in lightning-rpc socket shaped from CLN's schemas
// (fake_lightning_rpc.hpp), in the current integer-msat format and the
// older "NNNmsat" one, and the executor driven through it end to end with
// the Deribit stand-in (wallet_http_fakes.hpp).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fake_lightning_rpc.hpp"
#include "synthusd/transfers/bitcoin_address.hpp"
#include "synthusd/transfers/cln_node_wallet.hpp"
#include "synthusd/transfers/transfer_executor.hpp"
#include "synthusd/transfers/wallet_clients.hpp"
#include "wallet_http_fakes.hpp"

namespace synthusd::transfers {
namespace {

using namespace test; // NOLINT(google-build-using-namespace): the fakes

constexpr hedging::VenueId kVenue = 1;

ClnWalletOptions options_for(const FakeLightningRpc& node) {
  ClnWalletOptions options;
  options.endpoint.socket_path = node.socket_path();
  return options;
}

TEST(BitcoinAddress, bech32_bech32m_and_base58check_decode_to_the_scripts_they_pay) {
  // BIP 173 / BIP 350 vectors, and base58check addresses checked in Python.
  EXPECT_EQ(script_pubkey_hex("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4"),
            "0014751e76e8199196d454941c45d1b3a323f1433bd6");
  EXPECT_EQ(script_pubkey_hex("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"),
            "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
  EXPECT_EQ(script_pubkey_hex("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"),
            "76a91477bff20c60e522dfaa3350c39b030a5d004e839a88ac");
  EXPECT_EQ(script_pubkey_hex("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"), "a914b472a266d0bd89c13706a4132ccfb16f7c3b9fcb87");
  for (const auto& [address, script] : known_scripts()) {
    EXPECT_EQ(script_pubkey_hex(address), script) << address;
  }
}

TEST(BitcoinAddress, a_wrong_checksum_or_checksum_kind_mixed_case_or_garbage_decodes_to_nothing) {
  EXPECT_EQ(script_pubkey_hex("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh"), std::nullopt) << "v0 with bech32m";
  EXPECT_EQ(script_pubkey_hex("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd"), std::nullopt)
      << "v1 with bech32";
  EXPECT_EQ(script_pubkey_hex("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5"), std::nullopt) << "one character off";
  EXPECT_EQ(script_pubkey_hex("bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"), std::nullopt) << "mixed case";
  EXPECT_EQ(script_pubkey_hex("2N8udZGBc1hLRCFsU9kGwB5Xm6ECzHrBYwE"), std::nullopt) << "Deribit's doc example";
  EXPECT_EQ(script_pubkey_hex("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3"), std::nullopt);
  EXPECT_EQ(script_pubkey_hex(""), std::nullopt);
  EXPECT_EQ(script_pubkey_hex("not an address"), std::nullopt);
  EXPECT_EQ(script_pubkey_hex(std::string(200, '1')), std::nullopt);
}

TEST(ClnMsat, integer_and_legacy_msat_strings_are_read_exactly_and_nothing_else) {
  EXPECT_EQ(parse_cln_msat("123000"), 123000);
  EXPECT_EQ(parse_cln_msat(R"("123000msat")"), 123000);
  EXPECT_EQ(parse_cln_msat("0"), 0);
  EXPECT_EQ(parse_cln_msat("9223372036854775807"), INT64_MAX);
  for (const char* bad : {"9223372036854775808", R"("123000")", R"("123000sat")", R"("msat")", "-1", "1.5", "1e3", "01",
                          "", "null", R"("12 msat")", "true"}) {
    EXPECT_EQ(parse_cln_msat(bad), std::nullopt) << bad;
  }
}

class ClnNodeWalletFormats : public ::testing::TestWithParam<bool> {}; // legacy "NNNmsat" or not

TEST_P(ClnNodeWalletFormats, withdraw_sends_integer_sats_and_the_send_is_found_again_by_address_and_amount_only) {
  FakeLightningRpc fake(1'000'000, GetParam());
  ClnWalletOptions options = options_for(fake);
  options.feerate = "urgent";
  ClnNodeWallet node(options);
  const Answer sent = node.send(kVenueP2sh, 50'000, "synthusd-7");
  ASSERT_TRUE(sent.ok) << sent.error;
  EXPECT_EQ(sent.value.size(), 64U);
  const std::string request = fake.requests().at(0);
  EXPECT_NE(request.find(R"("method":"withdraw")"), std::string::npos) << request;
  EXPECT_NE(request.find(R"("params":{"destination":")" + kVenueP2sh + R"(","satoshi":50000,"feerate":"urgent"})"),
            std::string::npos)
      << request;
  EXPECT_EQ(node.find_send(kVenueP2sh, 50'000, "synthusd-7").value, sent.value);
  EXPECT_TRUE(node.find_send(kVenueP2sh, 50'001, "synthusd-7").is_absent()) << "another amount";
  EXPECT_TRUE(node.find_send(kVenueBech32, 50'000, "synthusd-7").is_absent()) << "another address";
  EXPECT_TRUE(node.find_unmatched_send(kVenueP2sh, 50'000, "synthusd-8", {sent.value}).is_absent())
      << "a send an earlier transfer took is not this one's";
  EXPECT_TRUE(node.last_error().empty()) << node.last_error();
}

TEST_P(ClnNodeWalletFormats, two_untaken_sends_alike_are_ambiguous_and_found_for_neither) {
  FakeLightningRpc fake(1'000'000, GetParam());
  ClnNodeWallet node(options_for(fake));
  fake.add_send(std::string(64, 'a'), kVenueBech32, 70'000);
  fake.add_send(std::string(64, 'b'), kVenueBech32, 70'000);
  EXPECT_TRUE(node.find_send(kVenueBech32, 70'000, "x").is_absent()) << "ambiguous: the operator's, not asked again";
  EXPECT_NE(node.last_error().find("ambiguous"), std::string::npos) << node.last_error();
  EXPECT_EQ(node.find_unmatched_send(kVenueBech32, 70'000, "x", {std::string(64, 'a')}).value, std::string(64, 'b'));
}

TEST_P(ClnNodeWalletFormats, an_incoming_payment_counts_once_confirmed_even_if_spent_since) {
  FakeLightningRpc fake(0, GetParam());
  ClnNodeWallet node(options_for(fake));
  const Answer address = node.new_address();
  ASSERT_TRUE(address.ok) << address.error;
  EXPECT_EQ(address.value, kNodeBech32[0]);
  EXPECT_NE(fake.requests().at(0).find(R"("params":{"addresstype":"bech32"})"), std::string::npos);
  fake.receive(std::string(64, 'd'), address.value, 40'000, "unconfirmed");
  EXPECT_TRUE(node.find_incoming(address.value, 40'000).is_absent()) << "not confirmed yet";
  fake.receive(std::string(64, 'e'), address.value, 39'999, "confirmed");
  EXPECT_TRUE(node.find_incoming(address.value, 40'000).is_absent()) << "another amount";
  fake.receive(std::string(64, 'f'), kNodeBech32[1], 40'000, "confirmed");
  EXPECT_TRUE(node.find_incoming(address.value, 40'000).is_absent()) << "another address";
  if (!GetParam()) { // before listfunds' `spent` parameter, a spent output is not listed at all
    fake.receive(std::string(64, '1'), address.value, 40'000, "spent");
    EXPECT_EQ(node.find_incoming(address.value, 40'000).value, std::string(64, '1'));
  } else {
    fake.receive(std::string(64, '2'), address.value, 40'000, "confirmed");
    EXPECT_EQ(node.find_incoming(address.value, 40'000).value, std::string(64, '2'));
    const auto methods = fake.methods();
    EXPECT_EQ(std::count(methods.begin(), methods.end(), "listfunds"), 8)
        << "each look asks with spent=true, is refused, and asks again without";
  }
  EXPECT_TRUE(node.last_error().empty()) << node.last_error();
}

INSTANTIATE_TEST_SUITE_P(CurrentAndLegacy, ClnNodeWalletFormats, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "legacy_msat_strings" : "integer_msat";
                         });

TEST(ClnNodeWallet, a_taproot_address_where_the_version_has_it_and_cln_refusal_where_not) {
  FakeLightningRpc current(0, false);
  ClnWalletOptions options = options_for(current);
  options.address_type = "p2tr";
  EXPECT_EQ(ClnNodeWallet(options).new_address().value, kNodeTaproot);
  FakeLightningRpc legacy(0, true);
  options.endpoint.socket_path = legacy.socket_path();
  const Answer refused = ClnNodeWallet(options).new_address();
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.error, "newaddr: CLN error -32602: addresstype: Invalid argument");
  options.address_type = "p2sh-segwit";
  EXPECT_THROW(ClnNodeWallet{options}, std::invalid_argument);
  options.address_type = "bech32";
  options.feerate = "fast\",\"utxos\":[";
  EXPECT_THROW(ClnNodeWallet{options}, std::invalid_argument) << "a feerate could smuggle JSON into withdraw";
}

TEST(ClnNodeWallet, cln_errors_name_the_rpc_code_and_message_and_nothing_is_sent) {
  FakeLightningRpc fake(10'000);
  ClnNodeWallet node(options_for(fake));
  const Answer sent = node.send(kVenueP2sh, 50'000, "synthusd-7");
  EXPECT_FALSE(sent.ok);
  EXPECT_EQ(sent.error,
            "withdraw: CLN error 301: Could not afford 50000sat using all 1 available UTXOs: 40000sat short");
  EXPECT_EQ(fake.withdrawals(), 0U);
  EXPECT_FALSE(node.send("bad\",\"satoshi\":\"all", 1, "x").ok);
  EXPECT_FALSE(node.send(kVenueP2sh, 0, "x").ok);
  EXPECT_EQ(fake.requests().size(), 1U) << "a malformed address or amount never reaches the node";
}

TEST(ClnNodeWallet, an_oversize_malformed_or_mismatched_reply_is_refused_with_its_reason) {
  FakeLightningRpc fake(1'000'000);
  ClnWalletOptions options = options_for(fake);
  options.endpoint.max_reply_bytes = 1U << 20U;
  ClnNodeWallet node(options);
  fake.misbehave(FakeLightningRpc::Misbehaviour::oversize);
  Answer answer = node.new_address();
  EXPECT_FALSE(answer.ok);
  EXPECT_EQ(answer.error, "newaddr: reply larger than 1048576 bytes");
  fake.misbehave(FakeLightningRpc::Misbehaviour::malformed);
  answer = node.send(kVenueP2sh, 1'000, "x");
  EXPECT_FALSE(answer.ok);
  EXPECT_TRUE(answer.error.starts_with("withdraw: malformed reply")) << answer.error;
  fake.misbehave(FakeLightningRpc::Misbehaviour::wrong_id);
  const Lookup mismatched = node.find_send(kVenueP2sh, 1'000, "x");
  EXPECT_TRUE(mismatched.is_unknown()) << "a reply to another request is no answer";
  EXPECT_EQ(mismatched.reason, "listtransactions: reply to another request (id mismatch)");
  EXPECT_EQ(node.last_error(), "listtransactions: reply to another request (id mismatch)");
  ClnWalletOptions nowhere;
  nowhere.endpoint.socket_path = fake.socket_path() + ".absent";
  const Answer unreachable = ClnNodeWallet(nowhere).new_address();
  EXPECT_FALSE(unreachable.ok);
  EXPECT_NE(unreachable.error.find("newaddr: cannot connect to " + nowhere.endpoint.socket_path), std::string::npos)
      << unreachable.error;
}

std::string fresh_journal(const char* name) {
  const auto path = std::filesystem::temp_directory_path() /
                    (std::string("synthusd_cln_wallet_") + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove(path);
  return path.string();
}

std::vector<TransferOutcome> poll_until_outcome(TransferExecutor& executor, std::int64_t at) {
  std::vector<TransferOutcome> outcomes;
  for (int i = 0; i < 8 && outcomes.empty(); ++i) {
    outcomes = executor.poll(at + i);
  }
  return outcomes;
}

TEST(ClnExecutor, two_equal_deposits_to_the_reused_venue_address_each_find_their_own_send_after_a_lost_reply) {
  FakeLightningRpc cln(1'000'000);
  FakeDeribit deribit;
  deribit.deposit_address = kVenueP2sh; // Deribit answers the same address until a new one is created
  LoopbackHttp venue_server([&](const Request& r) { return deribit(r); });
  ClnNodeWallet node(options_for(cln));
  DeribitVenueWallet venue(venue_server.endpoint(), kVenue, "id", "secret");
  const std::string path = fresh_journal("equal_deposits");
  TransferJournal journal(path);
  TransferExecutor executor(journal, node, venue, TransferLimits{});
  executor.submit({7, kVenue, hedging::TransferDirection::wallet_to_exchange, hedging::Sats{50'000}}, 1'000);
  for (int i = 0; i < 4 && cln.withdrawals() == 0; ++i) {
    (void)executor.poll(1'000 + i);
  }
  ASSERT_EQ(cln.withdrawals(), 1U);
  const std::string first = executor.transfers().at(0).reference;
  venue_server.locked([&] { deribit.credited_txids.push_back(first); });
  auto outcomes = poll_until_outcome(executor, 1'100);
  ASSERT_EQ(outcomes.size(), 1U);
  EXPECT_EQ(outcomes[0].kind, TransferOutcome::Kind::completed) << outcomes[0].detail;

  // The same amount again; lightningd makes the send but the reply is lost.
  cln.misbehave(FakeLightningRpc::Misbehaviour::close_after_withdraw);
  executor.submit({8, kVenue, hedging::TransferDirection::wallet_to_exchange, hedging::Sats{50'000}}, 2'000);
  for (int i = 0; i < 4 && cln.withdrawals() == 1; ++i) {
    (void)executor.poll(2'000 + i);
  }
  ASSERT_EQ(cln.withdrawals(), 2U);
  const TransferStatus& second = executor.transfers().at(1);
  EXPECT_EQ(second.state, TransferState::awaiting_credit) << second.note << executor.last_error();
  EXPECT_NE(second.reference, first) << "the first deposit's send is not taken for the second's";
  EXPECT_EQ(second.reference.size(), 64U);
  cln.misbehave(FakeLightningRpc::Misbehaviour::none);
  venue_server.locked([&] { deribit.credited_txids.push_back(executor.transfers().at(1).reference); });
  outcomes = poll_until_outcome(executor, 2'100);
  ASSERT_EQ(outcomes.size(), 1U);
  EXPECT_EQ(outcomes[0].kind, TransferOutcome::Kind::completed) << outcomes[0].detail;
  EXPECT_EQ(cln.withdrawals(), 2U) << "never sent twice";
}

TEST(ClnExecutor, a_deposit_killed_after_the_send_resumes_from_clns_record_without_sending_again) {
  FakeLightningRpc cln(1'000'000, /*legacy=*/true);
  FakeDeribit deribit;
  deribit.deposit_address = kVenueP2sh;
  LoopbackHttp venue_server([&](const Request& r) { return deribit(r); });
  ClnNodeWallet node(options_for(cln));
  DeribitVenueWallet venue(venue_server.endpoint(), kVenue, "id", "secret");
  const std::string path = fresh_journal("resume");
  {
    TransferJournal journal(path);
    TransferExecutor executor(journal, node, venue, TransferLimits{});
    executor.submit({9, kVenue, hedging::TransferDirection::wallet_to_exchange, hedging::Sats{25'000}}, 1'000);
    for (int i = 0; i < 4 && cln.withdrawals() == 0; ++i) {
      (void)executor.poll(1'000 + i);
    }
    ASSERT_EQ(cln.withdrawals(), 1U);
  }
  // kill -9 between lightningd's send and the journal's "sent" line.
  {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::size_t sent = text.find("9 sent");
    ASSERT_NE(sent, std::string::npos) << text;
    text.erase(sent, text.find('\n', sent) + 1 - sent);
    std::ofstream(path, std::ios::trunc) << text;
  }
  TransferJournal journal(path);
  TransferExecutor executor(journal, node, venue, TransferLimits{});
  (void)executor.poll(2'000);
  const TransferStatus& status = executor.transfers().at(0);
  ASSERT_EQ(status.state, TransferState::awaiting_credit) << status.note;
  venue_server.locked([&] { deribit.credited_txids.push_back(status.reference); });
  const auto outcomes = poll_until_outcome(executor, 2'100);
  ASSERT_EQ(outcomes.size(), 1U);
  EXPECT_EQ(outcomes[0].kind, TransferOutcome::Kind::completed) << outcomes[0].detail;
  EXPECT_EQ(cln.withdrawals(), 1U) << "never sent twice";
}

TEST(ClnExecutor, a_withdrawal_goes_to_a_new_cln_address_and_completes_when_listfunds_shows_it_confirmed) {
  FakeLightningRpc cln(0);
  FakeDeribit deribit;
  LoopbackHttp venue_server([&](const Request& r) { return deribit(r); });
  ClnNodeWallet node(options_for(cln));
  DeribitVenueWallet venue(venue_server.endpoint(), kVenue, "id", "secret");
  TransferJournal journal(fresh_journal("withdrawal"));
  TransferExecutor executor(journal, node, venue, TransferLimits{});
  executor.submit({11, kVenue, hedging::TransferDirection::exchange_to_wallet, hedging::Sats{30'000}}, 1'000);
  for (int i = 0; i < 4 && deribit.withdrawals.empty(); ++i) {
    (void)executor.poll(1'000 + i);
  }
  std::vector<std::pair<std::string, std::string>> requested;
  venue_server.locked([&] { requested = deribit.withdrawals; });
  ASSERT_EQ(requested.size(), 1U);
  EXPECT_EQ(requested[0].first, kNodeBech32[0]);
  EXPECT_EQ(requested[0].second, "0.0003");
  EXPECT_TRUE(executor.poll(1'100).empty()) << "nothing received yet";
  cln.receive(std::string(64, '7'), kNodeBech32[0], 30'000, "confirmed");
  const auto outcomes = poll_until_outcome(executor, 1'200);
  ASSERT_EQ(outcomes.size(), 1U);
  EXPECT_EQ(outcomes[0].kind, TransferOutcome::Kind::completed) << outcomes[0].detail;
}

} // namespace
} // namespace synthusd::transfers
