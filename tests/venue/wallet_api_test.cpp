// The simulator wallet's routes: Deribit's JSON-RPC envelope, its Basic auth,
// its field names and states, and the test chain's broadcast and listing.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

#include "synthusd/venue/wallet_api.hpp"

namespace synthusd::venue {
namespace {

// base64("client:secret")
constexpr const char* kAuthorization = "Basic Y2xpZW50OnNlY3JldA==";

class VenueWalletApiTest : public ::testing::Test {
protected:
  VenueWalletApiTest() : wallet_(make_config()), api_(wallet_, {"SYNTHUSD"}) {}

  static WalletConfig make_config() {
    WalletConfig c;
    c.enabled = true;
    c.client_id = "client";
    c.client_secret = "secret";
    c.credit_delay_ms = 100;
    return c;
  }

  nlohmann::json get(const std::string& target, int expected_status = 200, const char* authorization = kAuthorization) {
    const WalletAnswer answer = api_.answer({"GET", target, authorization, ""}, now_ms_, debit_);
    EXPECT_EQ(answer.status, expected_status) << answer.body;
    return nlohmann::json::parse(answer.body);
  }

  std::int64_t balance_ = 50'000'000;
  std::int64_t now_ms_ = 1'000;
  Wallet::Debit debit_ = [this](const std::string&, std::int64_t sats) {
    if (sats > balance_) {
      return false;
    }
    balance_ -= sats;
    return true;
  };
  Wallet wallet_;
  WalletApi api_;
};

TEST_F(VenueWalletApiTest, PrivateMethodsNeedTheConfiguredBasicCredentials) {
  const nlohmann::json refused =
      get("/api/v2/private/get_current_deposit_address?currency=BTC", 401, "Basic Y2xpZW50Om5vcGU=");
  EXPECT_EQ(refused["jsonrpc"], "2.0");
  EXPECT_EQ(refused["error"]["code"], 13004);
  EXPECT_EQ(get("/api/v2/private/get_current_deposit_address?currency=BTC", 401, "")["error"]["message"],
            "invalid_credentials");
}

TEST_F(VenueWalletApiTest, TheDepositAddressIsTheAccountsAndADepositGoesPendingThenCompleted) {
  const nlohmann::json address = get("/api/v2/private/get_current_deposit_address?currency=BTC");
  EXPECT_EQ(address["result"]["currency"], "BTC");
  const std::string to = address["result"]["address"];
  EXPECT_EQ(to, Wallet::deposit_address("SYNTHUSD"));

  const WalletAnswer sent =
      api_.answer({"POST", "/chain/broadcast", "", R"({"txid":"abc123","address":")" + to + R"(","amount":"1500000"})"},
                  now_ms_, debit_);
  ASSERT_EQ(sent.status, 200) << sent.body;
  nlohmann::json deposits = get("/api/v2/private/get_deposits?currency=BTC&count=1000");
  ASSERT_EQ(deposits["result"]["count"], 1);
  const nlohmann::json& deposit = deposits["result"]["data"][0];
  EXPECT_EQ(deposit["transaction_id"], "abc123");
  EXPECT_EQ(deposit["state"], "pending");
  EXPECT_EQ(deposit["address"], to);
  EXPECT_EQ(deposit["amount"].dump(), "0.015");
  EXPECT_EQ(deposit["received_timestamp"], 1'000);

  std::int64_t credited = 0;
  wallet_.advance(1'100, [&](const std::string&, std::int64_t sats) { credited += sats; });
  EXPECT_EQ(credited, 1'500'000);
  EXPECT_EQ(get("/api/v2/private/get_deposits?currency=BTC")["result"]["data"][0]["state"], "completed");
}

TEST_F(VenueWalletApiTest, WithdrawDebitsAndIsListedOrRefusedWithDeribitsErrorShape) {
  const nlohmann::json made = get("/api/v2/private/withdraw?currency=BTC&address=node1&amount=0.2");
  EXPECT_EQ(made["result"]["state"], "unconfirmed");
  EXPECT_EQ(made["result"]["address"], "node1");
  EXPECT_EQ(balance_, 30'000'000);
  const nlohmann::json listed = get("/api/v2/private/get_withdrawals?currency=BTC&count=1000");
  EXPECT_EQ(listed["result"]["data"][0]["id"], made["result"]["id"]);

  const nlohmann::json refused = get("/api/v2/private/withdraw?currency=BTC&address=node1&amount=0.30000001", 400);
  EXPECT_EQ(refused["error"]["code"], 10009);
  EXPECT_EQ(refused["error"]["message"], "not_enough_funds");
  EXPECT_EQ(balance_, 30'000'000);
  EXPECT_EQ(get("/api/v2/private/withdraw?currency=BTC&address=node1&amount=0.123456789", 400)["error"]["code"],
            -32602);
  EXPECT_EQ(get("/api/v2/private/withdraw?currency=ETH&address=node1&amount=0.1", 400)["error"]["code"], -32602);
}

TEST_F(VenueWalletApiTest, TheChainListsBroadcastsAndRefusesRepeatsAndGarbage) {
  const auto post = [&](const std::string& body) {
    return api_.answer({"POST", "/chain/broadcast", "", body}, now_ms_, debit_).status;
  };
  EXPECT_EQ(post(R"({"txid":"t1","address":"elsewhere","amount":"5"})"), 200);
  EXPECT_EQ(post(R"({"txid":"t1","address":"elsewhere","amount":"5"})"), 400);
  EXPECT_EQ(post(R"({"txid":"t2","address":"elsewhere"})"), 400);
  EXPECT_EQ(post("not json"), 400);
  const WalletAnswer chain = api_.answer({"GET", "/chain/transactions", "", ""}, now_ms_, debit_);
  const nlohmann::json list = nlohmann::json::parse(chain.body);
  ASSERT_EQ(list["transactions"].size(), 1U);
  EXPECT_EQ(list["transactions"][0]["amount"], "5");
}

} // namespace
} // namespace synthusd::venue
