#include "synthusd/transfers/wallet_clients.hpp"

#include <array>
#include <charconv>
#include <fcntl.h>
#include <simdjson.h>
#include <stdexcept>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

#include "synthusd/common/decimal.hpp"

namespace synthusd::transfers {
namespace {

namespace ondemand = simdjson::ondemand;

constexpr std::size_t kMaxAddressLength = 128;

// Bitcoin addresses (base58, bech32) and our labels are alphanumeric with
// '-' / '_': anything else from a counterparty is refused, and what passes
// needs no escaping in JSON or a query.
bool plain_token(std::string_view text) {
  if (text.empty() || text.size() > kMaxAddressLength) {
    return false;
  }
  for (const char c : text) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

// A JSON value that is a number or a string holding one, at `decimals`, exactly.
std::optional<std::int64_t> read_amount(ondemand::value value, int decimals) {
  std::string_view token = trim(value.raw_json_token());
  if (token.size() >= 2 && token.front() == '"' && token.back() == '"') {
    token = token.substr(1, token.size() - 2);
  }
  const auto parsed =
      common::parse_decimal(token, decimals, common::DecimalSyntax::json, common::DecimalRounding::exact);
  if (!parsed.ok()) {
    return std::nullopt;
  }
  return parsed.value;
}

std::string text_of(ondemand::value value) {
  if (value.type() == ondemand::json_type::string) {
    return std::string(std::string_view(value.get_string()));
  }
  if (value.type() == ondemand::json_type::number) {
    return std::string(trim(value.raw_json_token()));
  }
  return {};
}

std::string describe(const HttpResult& result) {
  if (!result.ok) {
    return result.error;
  }
  std::string body = result.body.substr(0, 200);
  return "HTTP " + std::to_string(result.status) + ": " + body;
}

// One string field of lnd's 200 answer, refused unless it is a plain token
// (an address or a txid: nothing that could smuggle text into a journal line).
Answer plain_field(const HttpResult& result, const std::string& what, const char* field) {
  if (!result.ok || result.status != 200) {
    return Answer::failure(what + ": " + describe(result));
  }
  try {
    ondemand::parser parser;
    const simdjson::padded_string json(result.body);
    ondemand::document doc = parser.iterate(json);
    std::string value(std::string_view(doc[field].get_string()));
    if (!plain_token(value)) {
      return Answer::failure(what + ": malformed " + field);
    }
    return Answer::of(std::move(value));
  } catch (const simdjson::simdjson_error& error) {
    return Answer::failure(what + ": unreadable answer: " + error.what());
  }
}

} // namespace

std::string read_owner_only_file_hex(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw std::runtime_error("cannot open credential file " + path);
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0 || (info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    ::close(fd);
    throw std::runtime_error("credential file " + path + " must be readable by its owner only (chmod 600)");
  }
  std::string bytes;
  std::array<char, 4096> buffer{};
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n <= 0) {
      break;
    }
    bytes.append(buffer.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (bytes.empty()) {
    throw std::runtime_error("credential file " + path + " is empty");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    hex.push_back(kHex[byte >> 4U]);
    hex.push_back(kHex[byte & 0xFU]);
  }
  bytes.assign(bytes.size(), '\0');
  return hex;
}

std::string base64(const std::string& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16U) |
                            (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8U) |
                            static_cast<unsigned char>(bytes[i + 2]);
    out += {kAlphabet[(v >> 18U) & 63U], kAlphabet[(v >> 12U) & 63U], kAlphabet[(v >> 6U) & 63U], kAlphabet[v & 63U]};
  }
  if (const std::size_t left = bytes.size() - i; left > 0) {
    std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16U;
    if (left == 2) {
      v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8U;
    }
    out += kAlphabet[(v >> 18U) & 63U];
    out += kAlphabet[(v >> 12U) & 63U];
    out += left == 2 ? kAlphabet[(v >> 6U) & 63U] : '=';
    out += '=';
  }
  return out;
}

std::string url_encode(const std::string& value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4U];
      out += kHex[byte & 0xFU];
    }
  }
  return out;
}

std::string sats_to_btc(std::int64_t sats) { return common::format_decimal(sats, 8); }

// ---- LND ----

LndNodeWallet::LndNodeWallet(HttpEndpoint endpoint, std::string macaroon_hex, int min_confirmations)
    : client_(std::move(endpoint)), macaroon_hex_(std::move(macaroon_hex)), min_confirmations_(min_confirmations) {}

HttpResult LndNodeWallet::call(const std::string& method, const std::string& target, const std::string& body) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!macaroon_hex_.empty()) {
    headers.emplace_back("Grpc-Metadata-macaroon", macaroon_hex_);
  }
  if (!body.empty()) {
    headers.emplace_back("Content-Type", "application/json");
  }
  return client_.call(method, target, headers, body);
}

Answer LndNodeWallet::send(const std::string& address, std::int64_t sats, const std::string& label) {
  if (!plain_token(address) || !plain_token(label) || sats <= 0) {
    return Answer::failure("refused to send: malformed address, label or amount");
  }
  const std::string body =
      R"({"addr":")" + address + R"(","amount":")" + std::to_string(sats) + R"(","label":")" + label + R"("})";
  return plain_field(call("POST", "/v1/transactions", body), "lnd sendcoins", "txid");
}

Answer LndNodeWallet::new_address() {
  return plain_field(call("GET", "/v1/newaddress?type=WITNESS_PUBKEY_HASH", {}), "lnd newaddress", "address");
}

namespace {

struct LndTransaction {
  std::string tx_hash;
  std::int64_t amount = 0;
  std::int64_t confirmations = 0;
  std::string label;
  std::vector<std::pair<std::string, std::int64_t>> outputs; // address, amount
};

// nullopt when the answer is not a readable transaction list: the caller
// then cannot tell (Lookup::unknown), never "not found".
std::optional<std::vector<LndTransaction>> parse_transactions(const std::string& body) {
  std::vector<LndTransaction> out;
  try {
    ondemand::parser parser;
    const simdjson::padded_string json(body);
    ondemand::document doc = parser.iterate(json);
    for (ondemand::object tx : doc["transactions"].get_array()) {
      LndTransaction t;
      for (auto field : tx) {
        const std::string_view key = field.unescaped_key();
        ondemand::value value = field.value();
        if (key == "tx_hash") {
          t.tx_hash = text_of(value);
        } else if (key == "amount") {
          t.amount = read_amount(value, 0).value_or(0);
        } else if (key == "num_confirmations") {
          t.confirmations = read_amount(value, 0).value_or(0);
        } else if (key == "label") {
          t.label = text_of(value);
        } else if (key == "output_details") {
          for (ondemand::object output : value.get_array()) {
            std::string address;
            std::int64_t amount = 0;
            for (auto part : output) {
              const std::string_view name = part.unescaped_key();
              if (name == "address") {
                address = text_of(part.value());
              } else if (name == "amount") {
                amount = read_amount(part.value(), 0).value_or(0);
              }
            }
            t.outputs.emplace_back(std::move(address), amount);
          }
        }
      }
      out.push_back(std::move(t));
    }
  } catch (const simdjson::simdjson_error&) {
    return std::nullopt;
  }
  return out;
}

// GetTransactions' list from its answer, or why it could not be had (`error`).
std::optional<std::vector<LndTransaction>> read_transaction_list(const HttpResult& result, std::string& error) {
  if (!result.ok || result.status != 200) {
    error = "lnd gettransactions: " + describe(result);
    return std::nullopt;
  }
  auto list = parse_transactions(result.body);
  if (!list) {
    error = "lnd gettransactions: unreadable transaction list";
  }
  return list;
}

} // namespace

Lookup LndNodeWallet::find_send(const std::string& address, std::int64_t sats, const std::string& label) {
  std::string error;
  const auto list = read_transaction_list(call("GET", "/v1/transactions", {}), error);
  if (!list) {
    return Lookup::unknown(std::move(error));
  }
  // The label is ours and unique per transfer; address and amount are checked
  // as well, so that a label reused by hand cannot match another send.
  for (const LndTransaction& tx : *list) {
    if (tx.label != label) {
      continue;
    }
    for (const auto& [to, amount] : tx.outputs) {
      if (to == address && amount == sats && plain_token(tx.tx_hash)) {
        return Lookup::found(tx.tx_hash);
      }
    }
  }
  return Lookup::absent();
}

Lookup LndNodeWallet::find_incoming(const std::string& address, std::int64_t sats) {
  std::string error;
  const auto list = read_transaction_list(call("GET", "/v1/transactions", {}), error);
  if (!list) {
    return Lookup::unknown(std::move(error));
  }
  for (const LndTransaction& tx : *list) {
    if (tx.confirmations < min_confirmations_) {
      continue;
    }
    for (const auto& [to, amount] : tx.outputs) {
      if (to == address && amount == sats && plain_token(tx.tx_hash)) {
        return Lookup::found(tx.tx_hash);
      }
    }
  }
  return Lookup::absent();
}

// ---- Deribit ----

DeribitVenueWallet::DeribitVenueWallet(HttpEndpoint endpoint, hedging::VenueId venue, std::string client_id,
                                       std::string client_secret)
    : client_(std::move(endpoint)), venue_(venue), authorization_("Basic " + base64(client_id + ":" + client_secret)) {
  client_secret.assign(client_secret.size(), '\0');
}

HttpResult DeribitVenueWallet::get(const std::string& target) {
  return client_.call("GET", "/api/v2/private/" + target, {{"Authorization", authorization_}}, {});
}

namespace {

// Runs `read` on the JSON-RPC answer's "result"; the error text otherwise.
template <typename Read>
std::string with_result(const HttpResult& result, const char* method, Read&& read) {
  if (!result.ok) {
    return std::string("deribit ") + method + ": " + result.error;
  }
  try {
    ondemand::parser parser;
    const simdjson::padded_string json(result.body);
    ondemand::document doc = parser.iterate(json);
    for (auto field : doc.get_object()) {
      const std::string_view key = field.unescaped_key();
      if (key == "error") {
        return std::string("deribit ") + method + ": " + describe(result);
      }
      if (key == "result") {
        if (result.status != 200) {
          break;
        }
        return read(field.value());
      }
    }
  } catch (const simdjson::simdjson_error& error) {
    return std::string("deribit ") + method + ": unreadable answer: " + error.what();
  }
  return std::string("deribit ") + method + ": " + describe(result);
}

struct WalletEntry {
  std::string id; // a deposit's transaction_id, a withdrawal's id
  std::string address;
  std::optional<std::int64_t> sats;
  std::string state;
};

// A result without its "data" list is no answer (an empty list is one).
std::string read_entries(ondemand::value result, std::vector<WalletEntry>& out, const char* id_key) {
  bool listed = false;
  for (auto field : result.get_object()) {
    if (std::string_view(field.unescaped_key()) != "data") {
      continue;
    }
    listed = true;
    for (ondemand::object item : field.value().get_array()) {
      WalletEntry entry;
      for (auto part : item) {
        const std::string_view key = part.unescaped_key();
        if (key == id_key) {
          entry.id = text_of(part.value());
        } else if (key == "address") {
          entry.address = text_of(part.value());
        } else if (key == "amount") {
          entry.sats = read_amount(part.value(), 8);
        } else if (key == "state") {
          entry.state = text_of(part.value());
        }
      }
      out.push_back(std::move(entry));
    }
  }
  return listed ? std::string() : std::string("deribit: a result without its data list");
}

} // namespace

Answer DeribitVenueWallet::deposit_address(hedging::VenueId venue) {
  if (venue != venue_) {
    return Answer::failure("no wallet client for venue " + std::to_string(venue));
  }
  std::string address;
  std::string error = with_result(get("get_current_deposit_address?currency=BTC"), "get_current_deposit_address",
                                  [&](ondemand::value result) -> std::string {
                                    if (result.is_null()) {
                                      return "deribit: no deposit address yet (create_deposit_address)";
                                    }
                                    address = std::string(std::string_view(result["address"].get_string()));
                                    return {};
                                  });
  if (!error.empty()) {
    return Answer::failure(std::move(error));
  }
  if (!plain_token(address)) {
    return Answer::failure("deribit get_current_deposit_address: malformed address");
  }
  return Answer::of(std::move(address));
}

Lookup DeribitVenueWallet::deposit_credited(hedging::VenueId venue, const std::string& txid) {
  if (venue != venue_) {
    return Lookup::unknown("no wallet client for venue " + std::to_string(venue));
  }
  std::vector<WalletEntry> deposits;
  std::string error =
      with_result(get("get_deposits?currency=BTC&count=1000"), "get_deposits",
                  [&](ondemand::value result) { return read_entries(result, deposits, "transaction_id"); });
  if (!error.empty()) {
    return Lookup::unknown(std::move(error));
  }
  for (const WalletEntry& deposit : deposits) {
    if (deposit.id == txid && deposit.state == "completed") {
      return Lookup::found(deposit.id);
    }
  }
  return Lookup::absent();
}

Answer DeribitVenueWallet::request_withdrawal(hedging::VenueId venue, const std::string& address, std::int64_t sats,
                                              const std::string& /*label: Deribit's withdraw takes none*/) {
  if (venue != venue_) {
    return Answer::failure("no wallet client for venue " + std::to_string(venue));
  }
  if (!plain_token(address) || sats <= 0) {
    return Answer::failure("refused to withdraw: malformed address or amount");
  }
  std::string id;
  std::string error = with_result(
      get("withdraw?currency=BTC&address=" + url_encode(address) + "&amount=" + url_encode(sats_to_btc(sats))),
      "withdraw", [&](ondemand::value result) -> std::string {
        id = text_of(result["id"].value());
        return {};
      });
  if (!error.empty()) {
    return Answer::failure(std::move(error));
  }
  if (!plain_token(id)) {
    return Answer::failure("deribit withdraw: malformed withdrawal id");
  }
  return Answer::of(std::move(id));
}

Lookup DeribitVenueWallet::find_withdrawal(hedging::VenueId venue, const std::string& address, std::int64_t sats) {
  if (venue != venue_) {
    return Lookup::unknown("no wallet client for venue " + std::to_string(venue));
  }
  std::vector<WalletEntry> withdrawals;
  std::string error = with_result(get("get_withdrawals?currency=BTC&count=1000"), "get_withdrawals",
                                  [&](ondemand::value result) { return read_entries(result, withdrawals, "id"); });
  if (!error.empty()) {
    return Lookup::unknown(std::move(error));
  }
  for (const WalletEntry& withdrawal : withdrawals) {
    if (withdrawal.address == address && withdrawal.sats == sats && withdrawal.state != "cancelled" &&
        plain_token(withdrawal.id)) {
      return Lookup::found(withdrawal.id);
    }
  }
  return Lookup::absent();
}

} // namespace synthusd::transfers
