// The simulator wallet's model: deposits seen on the chain are credited after
// the configured delay (or never), withdrawals debit at once, are refused
// when funds are short, and reach the chain after their delay.

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "synthusd/venue/wallet.hpp"

namespace synthusd::venue {
namespace {

struct Balances {
  std::map<std::string, std::int64_t> sats;
  Wallet::Credit credit() {
    return [this](const std::string& account, std::int64_t amount) { sats[account] += amount; };
  }
  Wallet::Debit debit() {
    return [this](const std::string& account, std::int64_t amount) {
      if (sats[account] < amount) {
        return false;
      }
      sats[account] -= amount;
      return true;
    };
  }
};

WalletConfig config(std::int64_t credit_delay_ms) {
  WalletConfig c;
  c.enabled = true;
  c.credit_delay_ms = credit_delay_ms;
  c.withdrawal_delay_ms = 500;
  return c;
}

const std::vector<std::string> kAccounts{"SYNTHUSD", "OTHER"};

TEST(VenueWalletTest, EachAccountHasItsOwnStableDepositAddress) {
  EXPECT_EQ(Wallet::deposit_address("SYNTHUSD"), Wallet::deposit_address("SYNTHUSD"));
  EXPECT_NE(Wallet::deposit_address("SYNTHUSD"), Wallet::deposit_address("OTHER"));
  EXPECT_TRUE(wallet_token(Wallet::deposit_address("A.B/C")));
  // A well-formed regtest bech32 address (checksum and all), computed
  // independently in Python from BIP 173, so that a node client that matches
  // sends by output script (Core Lightning) can decode it.
  EXPECT_EQ(Wallet::deposit_address("SYNTHUSD"), "bcrt1qk0pqjygw3hvq0m249t4jgtqwtl40fkljnxkfej");
  EXPECT_EQ(Wallet::deposit_address("OTHER"), "bcrt1qpus2aw266h8ejcxjcupmas6d9apqtwya7hgn5y");
}

TEST(VenueWalletTest, ADepositIsPendingUntilItsDelayThenCompletedAndCreditedOnce) {
  Wallet wallet(config(1000));
  Balances balances;
  ASSERT_FALSE(wallet.broadcast({"tx1", Wallet::deposit_address("SYNTHUSD"), 70'000, 10'000}, kAccounts));
  wallet.advance(10'999, balances.credit());
  ASSERT_EQ(wallet.deposits("SYNTHUSD").size(), 1U);
  EXPECT_EQ(wallet.deposits("SYNTHUSD")[0].state, "pending");
  EXPECT_EQ(balances.sats["SYNTHUSD"], 0);
  wallet.advance(11'000, balances.credit());
  wallet.advance(12'000, balances.credit());
  EXPECT_EQ(wallet.deposits("SYNTHUSD")[0].state, "completed");
  EXPECT_EQ(wallet.deposits("SYNTHUSD")[0].transaction_id, "tx1");
  EXPECT_EQ(balances.sats["SYNTHUSD"], 70'000);
  EXPECT_TRUE(wallet.deposits("OTHER").empty());
}

TEST(VenueWalletTest, ADepositNeverCreditedWhenTheDelayIsNegative) {
  Wallet wallet(config(-1));
  Balances balances;
  ASSERT_FALSE(wallet.broadcast({"tx1", Wallet::deposit_address("SYNTHUSD"), 70'000, 0}, kAccounts));
  wallet.advance(86'400'000, balances.credit());
  EXPECT_EQ(wallet.deposits("SYNTHUSD")[0].state, "pending");
  EXPECT_EQ(balances.sats["SYNTHUSD"], 0);
}

TEST(VenueWalletTest, TheChainRefusesARepeatedTxidAndMalformedTransactions) {
  Wallet wallet(config(0));
  EXPECT_FALSE(wallet.broadcast({"tx1", "somewhere", 1, 0}, kAccounts));
  EXPECT_TRUE(wallet.broadcast({"tx1", Wallet::deposit_address("SYNTHUSD"), 1, 0}, kAccounts));
  EXPECT_TRUE(wallet.broadcast({"tx 2", "somewhere", 1, 0}, kAccounts));
  EXPECT_TRUE(wallet.broadcast({"tx3", "some\"where", 1, 0}, kAccounts));
  EXPECT_TRUE(wallet.broadcast({"tx4", "somewhere", 0, 0}, kAccounts));
  EXPECT_TRUE(wallet.broadcast({"tx5", "somewhere", Wallet::kMaxSats + 1, 0}, kAccounts));
  EXPECT_EQ(wallet.chain().size(), 1U);
  EXPECT_TRUE(wallet.deposits("SYNTHUSD").empty()); // tx1 went to another address
}

TEST(VenueWalletTest, AWithdrawalDebitsAtOnceAndReachesTheChainAfterItsDelay) {
  Wallet wallet(config(0));
  Balances balances;
  balances.sats["SYNTHUSD"] = 100'000;
  const Wallet::WithdrawResult result = wallet.withdraw("SYNTHUSD", "nodeaddress1", 60'000, 1'000, balances.debit());
  ASSERT_TRUE(result.withdrawal);
  EXPECT_EQ(result.withdrawal->state, "unconfirmed");
  EXPECT_EQ(balances.sats["SYNTHUSD"], 40'000);
  EXPECT_TRUE(wallet.chain().empty());
  wallet.advance(1'499, balances.credit());
  EXPECT_TRUE(wallet.chain().empty());
  wallet.advance(1'500, balances.credit());
  ASSERT_EQ(wallet.chain().size(), 1U);
  EXPECT_EQ(wallet.chain()[0].address, "nodeaddress1");
  EXPECT_EQ(wallet.chain()[0].sats, 60'000);
  EXPECT_EQ(wallet.withdrawals("SYNTHUSD")[0].state, "completed");
  EXPECT_EQ(wallet.withdrawals("SYNTHUSD")[0].transaction_id, wallet.chain()[0].txid);
}

TEST(VenueWalletTest, AWithdrawalBeyondTheFundsIsRefusedWithDeribitsNotEnoughFunds) {
  Wallet wallet(config(0));
  Balances balances;
  balances.sats["SYNTHUSD"] = 10'000;
  const Wallet::WithdrawResult result = wallet.withdraw("SYNTHUSD", "nodeaddress1", 10'001, 0, balances.debit());
  EXPECT_FALSE(result.withdrawal);
  EXPECT_EQ(result.error_code, 10009);
  EXPECT_EQ(result.error_message, "not_enough_funds");
  EXPECT_EQ(balances.sats["SYNTHUSD"], 10'000);
  EXPECT_TRUE(wallet.withdrawals("SYNTHUSD").empty());
  EXPECT_EQ(wallet.withdraw("SYNTHUSD", "bad address", 1, 0, balances.debit()).error_code, -32602);
}

} // namespace
} // namespace synthusd::venue
