#include "synthusd/venue/wallet_api.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <charconv>
#include <optional>
#include <utility>

#include "synthusd/venue/decimal.hpp"

namespace synthusd::venue {
namespace {

constexpr std::string_view kPrivatePrefix = "/api/v2/private/";
constexpr std::int64_t kMaxCount = 1000; // Deribit's get_deposits/get_withdrawals cap

std::string basic_authorization(const std::string& client_id, const std::string& client_secret) {
  const std::string credentials = client_id + ":" + client_secret;
  std::string text(4 * ((credentials.size() + 2) / 3) + 1, '\0');
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()),
                      reinterpret_cast<const unsigned char*>(credentials.data()), static_cast<int>(credentials.size()));
  text.resize(static_cast<std::size_t>(written));
  return "Basic " + text;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// One query parameter, percent-decoded; nullopt when absent or malformed.
std::optional<std::string> parameter(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const std::size_t end = query.find('&');
    const std::string_view pair = query.substr(0, end);
    query = end == std::string_view::npos ? std::string_view() : query.substr(end + 1);
    const std::size_t equals = pair.find('=');
    if (pair.substr(0, equals) != name || equals == std::string_view::npos) {
      continue;
    }
    std::string value;
    const std::string_view raw = pair.substr(equals + 1);
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '%') {
        if (i + 2 >= raw.size()) {
          return std::nullopt;
        }
        const int high = hex_value(raw[i + 1]);
        const int low = hex_value(raw[i + 2]);
        if (high < 0 || low < 0) {
          return std::nullopt;
        }
        value += static_cast<char>(high * 16 + low);
        i += 2;
      } else {
        value += raw[i] == '+' ? ' ' : raw[i];
      }
    }
    return value;
  }
  return std::nullopt;
}

std::int64_t integer_parameter(std::string_view query, std::string_view name, std::int64_t fallback,
                               std::int64_t maximum) {
  const auto text = parameter(query, name);
  std::int64_t value = 0;
  if (!text || std::from_chars(text->data(), text->data() + text->size(), value).ec != std::errc{} || value < 0) {
    return fallback;
  }
  return std::min(value, maximum);
}

WalletAnswer result(const std::string& json) { return {200, R"({"jsonrpc":"2.0","result":)" + json + "}"}; }

WalletAnswer error(int status, int code, std::string_view message) {
  return {status, R"({"jsonrpc":"2.0","error":{"code":)" + std::to_string(code) + R"(,"message":")" +
                      std::string(message) + R"("}})"};
}

std::string btc(std::int64_t sats) { return format_decimal(sats, 8); }

std::string deposit_json(const WalletDeposit& d) {
  return R"({"currency":"BTC","address":")" + d.address + R"(","amount":)" + btc(d.sats) + R"(,"state":")" + d.state +
         R"(","transaction_id":")" + d.transaction_id + R"(","received_timestamp":)" + std::to_string(d.received_ms) +
         R"(,"updated_timestamp":)" + std::to_string(d.updated_ms) + "}";
}

std::string withdrawal_json(const WalletWithdrawal& w) {
  const std::string transaction = w.transaction_id.empty() ? "null" : "\"" + w.transaction_id + "\"";
  return R"({"currency":"BTC","id":)" + std::to_string(w.id) + R"(,"address":")" + w.address + R"(","amount":)" +
         btc(w.sats) + R"(,"fee":0,"priority":1,"state":")" + w.state + R"(","transaction_id":)" + transaction +
         R"(,"created_timestamp":)" + std::to_string(w.created_ms) + R"(,"confirmed_timestamp":null)" +
         R"(,"updated_timestamp":)" + std::to_string(w.updated_ms) + "}";
}

// {"count":N,"data":[...]}: newest first, as Deribit lists them.
template <typename T, typename Json>
std::string page(const std::vector<T>& entries, std::string_view query, Json&& json) {
  const auto count = integer_parameter(query, "count", 10, kMaxCount);
  const auto offset = integer_parameter(query, "offset", 0, static_cast<std::int64_t>(entries.size()));
  std::string data;
  std::int64_t listed = 0;
  for (auto it = entries.rbegin() + offset; it != entries.rend() && listed < count; ++it, ++listed) {
    data += data.empty() ? "" : ",";
    data += json(*it);
  }
  return R"({"count":)" + std::to_string(entries.size()) + R"(,"data":[)" + data + "]}";
}

} // namespace

WalletApi::WalletApi(Wallet& wallet, std::vector<std::string> accounts)
    : wallet_(wallet), accounts_(std::move(accounts)),
      account_(wallet.config().account.empty() && !accounts_.empty() ? accounts_.front() : wallet.config().account),
      expected_authorization_(basic_authorization(wallet.config().client_id, wallet.config().client_secret)) {}

WalletAnswer WalletApi::answer(const WalletRequest& request, std::int64_t now_ms, const Wallet::Debit& debit) {
  const std::size_t question = request.target.find('?');
  const std::string_view path = std::string_view(request.target).substr(0, question);
  const std::string_view query =
      question == std::string::npos ? std::string_view() : std::string_view(request.target).substr(question + 1);
  if (path == "/chain/broadcast" && request.method == "POST") {
    return broadcast(request.body, now_ms);
  }
  if (path == "/chain/transactions" && request.method == "GET") {
    return chain_transactions();
  }
  if (!path.starts_with(kPrivatePrefix) || request.method != "GET") {
    return error(404, -32601, "Method not found");
  }
  if (request.authorization != expected_authorization_) {
    return error(401, 13004, "invalid_credentials");
  }
  if (parameter(query, "currency") != std::optional<std::string>("BTC")) {
    return error(400, -32602, "Invalid params");
  }
  return private_method(path.substr(kPrivatePrefix.size()), query, now_ms, debit);
}

WalletAnswer WalletApi::private_method(std::string_view method, std::string_view query, std::int64_t now_ms,
                                       const Wallet::Debit& debit) {
  if (method == "get_current_deposit_address") {
    return result(R"({"currency":"BTC","address":")" + Wallet::deposit_address(account_) +
                  R"(","type":"deposit","creation_timestamp":0})");
  }
  if (method == "get_deposits") {
    return result(page(wallet_.deposits(account_), query, deposit_json));
  }
  if (method == "get_withdrawals") {
    return result(page(wallet_.withdrawals(account_), query, withdrawal_json));
  }
  if (method == "withdraw") {
    const auto address = parameter(query, "address");
    const auto amount = parameter(query, "amount");
    const std::optional<std::int64_t> sats = amount ? parse_exact_decimal(*amount, 8) : std::nullopt;
    if (!address || !sats) {
      return error(400, -32602, "Invalid params");
    }
    const Wallet::WithdrawResult outcome = wallet_.withdraw(account_, *address, *sats, now_ms, debit);
    if (!outcome.withdrawal) {
      return error(400, outcome.error_code, outcome.error_message);
    }
    return result(withdrawal_json(*outcome.withdrawal));
  }
  return error(404, -32601, "Method not found");
}

WalletAnswer WalletApi::broadcast(const std::string& body, std::int64_t now_ms) {
  ChainTransaction transaction;
  transaction.time_ms = now_ms;
  try {
    const nlohmann::json json = nlohmann::json::parse(body);
    transaction.txid = json.at("txid").get<std::string>();
    transaction.address = json.at("address").get<std::string>();
    const nlohmann::json& amount = json.at("amount");
    const std::string text = amount.is_string() ? amount.get<std::string>() : amount.dump();
    const auto sats = parse_exact_decimal(text, 0);
    transaction.sats = sats.value_or(0);
  } catch (const nlohmann::json::exception& failure) {
    return {400, nlohmann::json{{"error", std::string("malformed broadcast: ") + failure.what()}}.dump()};
  }
  if (const auto refused = wallet_.broadcast(transaction, accounts_)) {
    return {400, nlohmann::json{{"error", *refused}}.dump()};
  }
  return {200, R"({"txid":")" + transaction.txid + R"("})"};
}

WalletAnswer WalletApi::chain_transactions() const {
  std::string list;
  for (const ChainTransaction& tx : wallet_.chain()) {
    list += list.empty() ? "" : ",";
    list += R"({"txid":")" + tx.txid + R"(","address":")" + tx.address + R"(","amount":")" + std::to_string(tx.sats) +
            R"(","time_ms":)" + std::to_string(tx.time_ms) + "}";
  }
  return {200, R"({"transactions":[)" + list + "]}"};
}

} // namespace synthusd::venue
