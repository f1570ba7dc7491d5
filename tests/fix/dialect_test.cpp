// Venue dialects: logon fields (Deribit's RawData/Password against an
// independently computed vector), ExecInst, and the rules table.
#include "synthusd/fix/deribit.hpp"
#include "synthusd/fix/dialect.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace synthusd::fix {
namespace {

// The vector was computed outside this code base, with the OpenSSL command
// line, at development time:
//
//   nonce=$(python3 -c "import sys; sys.stdout.buffer.write(bytes(range(32)))" | base64)
//   raw="1700000000000.$nonce"
//   printf '%s' "${raw}synthusd-test-secret" | openssl dgst -sha256 -binary | base64
//
// (the hex digest of the same input is 6155753c91dd...0fc163: Deribit wants
// the base64 of the raw 32 bytes, not that).
constexpr std::int64_t kVectorTimestampMs = 1'700'000'000'000;
constexpr char kVectorSecret[] = "synthusd-test-secret";
constexpr char kVectorNonceBase64[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
constexpr char kVectorRawData[] = "1700000000000.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
constexpr char kVectorPassword[] = "YVV1PJHd6paLuHsS56R+86mkoiyhOvPGDy1ONgMPwWM=";
constexpr char kVectorHexDigest[] = "6155753c91ddea968bb87b12e7a47ef3a9a4a22ca13af3c60f2d4e36030fc163";

std::array<unsigned char, 32> vector_nonce() {
  std::array<unsigned char, 32> nonce{};
  for (std::size_t i = 0; i < nonce.size(); ++i) {
    nonce[i] = static_cast<unsigned char>(i);
  }
  return nonce;
}

std::map<int, std::string> by_tag(const std::vector<TagValue>& fields) {
  std::map<int, std::string> map;
  for (const TagValue& field : fields) {
    EXPECT_TRUE(map.emplace(field.tag, field.value).second) << "duplicate tag " << field.tag;
  }
  return map;
}

// OpenSSL's own encoder, as a second opinion on deribit::base64_encode.
std::string openssl_base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(length));
  return out;
}

std::vector<unsigned char> openssl_base64_decode(const std::string& text) {
  std::vector<unsigned char> out(text.size());
  const int length =
      EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  EXPECT_GE(length, 0);
  out.resize(static_cast<std::size_t>(std::max(length, 0)));
  // EVP_DecodeBlock counts padding as zero bytes.
  const std::size_t padding =
      static_cast<std::size_t>(std::count(text.end() - std::min<std::size_t>(2, text.size()), text.end(), '='));
  out.resize(out.size() - padding);
  return out;
}

Credentials credentials(std::string id, std::string secret) {
  Credentials result;
  result.client_id = std::move(id);
  result.client_secret = SecretString(std::move(secret));
  return result;
}

TEST(DeribitLogonTest, Base64MatchesRfc4648Vectors) {
  const std::pair<std::string, std::string> cases[] = {{"", ""},
                                                       {"f", "Zg=="},
                                                       {"fo", "Zm8="},
                                                       {"foo", "Zm9v"},
                                                       {"foob", "Zm9vYg=="},
                                                       {"fooba", "Zm9vYmE="},
                                                       {"foobar", "Zm9vYmFy"}};
  for (const auto& [input, expected] : cases) {
    EXPECT_EQ(deribit::base64_encode(reinterpret_cast<const unsigned char*>(input.data()), input.size()), expected);
  }
}

TEST(DeribitLogonTest, RawDataIsTimestampDotBase64Nonce) {
  const auto nonce = vector_nonce();
  EXPECT_EQ(deribit::raw_data(kVectorTimestampMs, nonce.data(), nonce.size()), kVectorRawData);
  EXPECT_EQ(openssl_base64(nonce.data(), nonce.size()), kVectorNonceBase64);
}

TEST(DeribitLogonTest, PasswordMatchesIndependentlyComputedVector) {
  EXPECT_EQ(deribit::password(kVectorRawData, kVectorSecret), kVectorPassword);
}

TEST(DeribitLogonTest, PasswordIsBase64OfRawDigestNotHex) {
  const std::string password = deribit::password(kVectorRawData, kVectorSecret);
  EXPECT_EQ(password.size(), 44U); // 32 bytes -> 44 base64 characters
  EXPECT_NE(password, kVectorHexDigest);
  const std::vector<unsigned char> digest = openssl_base64_decode(password);
  ASSERT_EQ(digest.size(), 32U);
  std::string hex;
  for (unsigned char byte : digest) {
    char text[3];
    std::snprintf(text, sizeof text, "%02x", byte);
    hex += text;
  }
  EXPECT_EQ(hex, kVectorHexDigest);
}

TEST(DeribitLogonTest, LogonFieldsCarryFreshRawDataAndMatchingPassword) {
  const auto fields =
      by_tag(logon_fields(Dialect::deribit, credentials("client-1", kVectorSecret), kVectorTimestampMs, true));
  EXPECT_EQ(fields.at(553), "client-1");
  EXPECT_EQ(fields.at(9001), "Y");
  // One ExecutionReport per fill (docs.deribit.com/fix-api/production/logon,
  // ReportFillsAsExecReports); 9010 is deliberately absent (dialect.hpp).
  EXPECT_EQ(fields.at(9015), "Y");
  EXPECT_EQ(fields.count(9010), 0U);
  const std::string& raw = fields.at(96);
  EXPECT_EQ(fields.at(95), std::to_string(raw.size()));
  EXPECT_TRUE(std::regex_match(raw, std::regex(R"(1700000000000\.[A-Za-z0-9+/]{43}=)"))) << raw;
  EXPECT_EQ(openssl_base64_decode(raw.substr(raw.find('.') + 1)).size(), deribit::kNonceBytes);

  // Recompute the password with OpenSSL directly from the fields.
  const std::string input = raw + kVectorSecret;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  EXPECT_EQ(fields.at(554), openssl_base64(digest, sizeof digest));
}

TEST(DeribitLogonTest, EveryLogonUsesANewNonce) {
  const Credentials creds = credentials("client-1", kVectorSecret);
  const auto first = by_tag(logon_fields(Dialect::deribit, creds, kVectorTimestampMs, true));
  const auto second = by_tag(logon_fields(Dialect::deribit, creds, kVectorTimestampMs + 1, true));
  EXPECT_NE(first.at(96).substr(14), second.at(96).substr(14));
  EXPECT_NE(first.at(554), second.at(554));
  EXPECT_TRUE(second.at(96).starts_with("1700000000001."));
}

TEST(DeribitLogonTest, CancelOnDisconnectCanBeTurnedOff) {
  const auto fields = by_tag(logon_fields(Dialect::deribit, credentials("c", "s"), kVectorTimestampMs, false));
  EXPECT_EQ(fields.at(9001), "N");
}

TEST(DeribitLogonTest, RefusesToLogOnWithoutCredentials) {
  EXPECT_THROW(logon_fields(Dialect::deribit, Credentials{}, kVectorTimestampMs, true), std::invalid_argument);
  EXPECT_THROW(logon_fields(Dialect::deribit, credentials("id", ""), kVectorTimestampMs, true), std::invalid_argument);
}

TEST(GenericDialectTest, LogonCarriesUsernameAndPasswordOnlyWhenConfigured) {
  EXPECT_TRUE(logon_fields(Dialect::generic, Credentials{}, kVectorTimestampMs, true).empty());
  const auto fields = by_tag(logon_fields(Dialect::generic, credentials("user", "pass"), kVectorTimestampMs, true));
  EXPECT_EQ(fields.size(), 2U);
  EXPECT_EQ(fields.at(553), "user");
  EXPECT_EQ(fields.at(554), "pass");
}

TEST(DialectTest, ExecInstForPostOnlyAndReduceOnly) {
  EXPECT_EQ(exec_inst(Dialect::generic, false, false), "");
  EXPECT_EQ(exec_inst(Dialect::generic, true, false), "6");
  EXPECT_EQ(exec_inst(Dialect::generic, false, true), "E");
  EXPECT_EQ(exec_inst(Dialect::generic, true, true), "6 E");
  EXPECT_EQ(exec_inst(Dialect::deribit, true, false), "6");
  EXPECT_EQ(exec_inst(Dialect::deribit, false, true), "E");
  EXPECT_EQ(exec_inst(Dialect::deribit, true, true), "6E");
}

TEST(DialectTest, RulesDifferWhereDeribitDiffers) {
  const DialectRules generic = rules_for(Dialect::generic);
  const DialectRules deribit = rules_for(Dialect::deribit);
  EXPECT_FALSE(generic.order_quantity_in_units);
  EXPECT_TRUE(deribit.order_quantity_in_units);
  EXPECT_FALSE(generic.amend_with_original_client_order_id);
  EXPECT_TRUE(deribit.amend_with_original_client_order_id);
  EXPECT_TRUE(generic.position_request_with_business_date);
  EXPECT_FALSE(deribit.position_request_with_business_date);
  // Documented Deribit shapes (dialect.hpp lists the pages).
  EXPECT_TRUE(deribit.position_request_with_currency);
  EXPECT_TRUE(deribit.empty_valid_position_report_is_flat);
  EXPECT_TRUE(deribit.position_report_is_whole_account);
  EXPECT_TRUE(deribit.market_orders_carry_price);
  EXPECT_TRUE(deribit.order_status_by_mass_status_request);
  EXPECT_TRUE(deribit.collateral_by_user_request);
  EXPECT_FALSE(generic.position_request_with_currency);
  EXPECT_FALSE(generic.empty_valid_position_report_is_flat);
  EXPECT_FALSE(generic.position_report_is_whole_account);
  EXPECT_FALSE(generic.market_orders_carry_price);
  EXPECT_FALSE(generic.order_status_by_mass_status_request);
  EXPECT_FALSE(generic.collateral_by_user_request);
}

TEST(DialectTest, ParsesAndNamesDialects) {
  for (Dialect dialect : {Dialect::generic, Dialect::deribit}) {
    Dialect parsed = Dialect::generic;
    EXPECT_TRUE(parse_dialect(to_string(dialect), parsed));
    EXPECT_EQ(parsed, dialect);
  }
  Dialect parsed = Dialect::generic;
  EXPECT_FALSE(parse_dialect("okx", parsed));
}

} // namespace
} // namespace synthusd::fix
