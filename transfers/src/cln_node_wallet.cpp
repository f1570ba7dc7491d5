#include "synthusd/transfers/cln_node_wallet.hpp"

#include <algorithm>
#include <limits>
#include <simdjson.h>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "synthusd/transfers/bitcoin_address.hpp"

namespace synthusd::transfers {
namespace {

namespace ondemand = simdjson::ondemand;

constexpr std::size_t kMaxAddressLength = 90;

// Addresses (base58, bech32) are alphanumeric: what passes needs no escaping
// in the JSON request or the journal, and nothing else is sent or accepted.
bool plain_address(std::string_view text) {
  return !text.empty() && text.size() <= kMaxAddressLength && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  });
}

bool is_txid(std::string_view text) {
  return text.size() == 64 &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

std::optional<std::int64_t> sats_to_msat(std::int64_t sats) {
  if (sats <= 0 || sats > std::numeric_limits<std::int64_t>::max() / 1000) {
    return std::nullopt;
  }
  return sats * 1000;
}

std::string string_of(ondemand::value value) {
  if (value.type() != ondemand::json_type::string) {
    return {};
  }
  return std::string(std::string_view(value.get_string()));
}

struct Output {
  std::string script;  // listtransactions' scriptPubKey, lowercase
  std::string address; // listfunds' address
  std::optional<std::int64_t> msat;
  std::string status; // listfunds
  std::string txid;   // listfunds
};

struct Transaction {
  std::string hash;
  std::vector<Output> outputs;
};

Output read_output(ondemand::object object) {
  Output output;
  for (auto field : object) {
    const std::string_view key = field.unescaped_key();
    ondemand::value value = field.value();
    if (key == "scriptPubKey" || key == "scriptpubkey") {
      output.script = lower(string_of(value));
    } else if (key == "amount_msat") {
      output.msat = parse_cln_msat(value.raw_json_token());
    } else if (key == "address") {
      output.address = string_of(value);
    } else if (key == "status") {
      output.status = string_of(value);
    } else if (key == "txid") {
      output.txid = string_of(value);
    }
  }
  return output;
}

// nullopt, with `error` set, when the result is not listtransactions' shape.
std::optional<std::vector<Transaction>> read_transactions(const std::string& result, std::string& error) {
  std::vector<Transaction> out;
  try {
    ondemand::parser parser;
    const simdjson::padded_string json(result);
    ondemand::document doc = parser.iterate(json);
    for (ondemand::object item : doc["transactions"].get_array()) {
      Transaction tx;
      for (auto field : item) {
        const std::string_view key = field.unescaped_key();
        if (key == "hash") {
          tx.hash = string_of(field.value());
        } else if (key == "outputs") {
          for (ondemand::object output : field.value().get_array()) {
            tx.outputs.push_back(read_output(output));
          }
        }
      }
      out.push_back(std::move(tx));
    }
  } catch (const simdjson::simdjson_error& failure) {
    error = std::string("listtransactions: unreadable result: ") + failure.what();
    return std::nullopt;
  }
  return out;
}

std::optional<std::vector<Output>> read_funds(const std::string& result, std::string& error) {
  std::vector<Output> out;
  try {
    ondemand::parser parser;
    const simdjson::padded_string json(result);
    ondemand::document doc = parser.iterate(json);
    for (ondemand::object item : doc["outputs"].get_array()) {
      out.push_back(read_output(item));
    }
  } catch (const simdjson::simdjson_error& failure) {
    error = std::string("listfunds: unreadable result: ") + failure.what();
    return std::nullopt;
  }
  return out;
}

} // namespace

bool valid_cln_feerate(std::string_view rate) {
  if (rate == "slow" || rate == "normal" || rate == "urgent" || rate == "minimum") {
    return true;
  }
  for (const std::string_view unit : {std::string_view("perkw"), std::string_view("perkb")}) {
    if (rate.size() > unit.size() && rate.size() <= unit.size() + 9 && rate.ends_with(unit)) {
      const std::string_view digits = rate.substr(0, rate.size() - unit.size());
      return std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    }
  }
  return false;
}

ClnNodeWallet::ClnNodeWallet(ClnWalletOptions options) : options_(std::move(options)) {
  if (options_.address_type != "bech32" && options_.address_type != "p2tr") {
    throw std::invalid_argument("CLN address type must be bech32 or p2tr, not '" + options_.address_type + "'");
  }
  if (!options_.feerate.empty() && !valid_cln_feerate(options_.feerate)) {
    throw std::invalid_argument("CLN feerate must be slow, normal, urgent, minimum, NNNperkw or NNNperkb, not '" +
                                options_.feerate + "'");
  }
}

Answer ClnNodeWallet::send(const std::string& address, std::int64_t sats, const std::string& /*label: CLN's
                           withdraw takes none; the send is found again by address and amount*/) {
  if (!plain_address(address) || !sats_to_msat(sats)) {
    return Answer::failure("refused to send: malformed address or amount");
  }
  std::string params = R"({"destination":")" + address + R"(","satoshi":)" + std::to_string(sats);
  if (!options_.feerate.empty()) {
    params += R"(,"feerate":")" + options_.feerate + "\"";
  }
  params += "}";
  const ClnRpcResult reply = cln_rpc_call(options_.endpoint, "withdraw", params);
  if (!reply.ok) {
    return Answer::failure(reply.error);
  }
  std::string txid;
  try {
    ondemand::parser parser;
    const simdjson::padded_string json(reply.result);
    ondemand::document doc = parser.iterate(json);
    txid = std::string(std::string_view(doc["txid"].get_string()));
  } catch (const simdjson::simdjson_error& failure) {
    return Answer::failure(std::string("withdraw: unreadable result: ") + failure.what());
  }
  if (!is_txid(txid)) {
    return Answer::failure("withdraw: malformed txid");
  }
  return Answer::of(std::move(txid));
}

Lookup ClnNodeWallet::find_send(const std::string& address, std::int64_t sats, const std::string& label) {
  return find_unmatched_send(address, sats, label, {});
}

Lookup ClnNodeWallet::find_unmatched_send(const std::string& address, std::int64_t sats, const std::string& /*label*/,
                                          const std::vector<std::string>& matched_txids) {
  last_error_.clear();
  const auto script = script_pubkey_hex(address);
  const auto msat = sats_to_msat(sats);
  if (!script || !msat) {
    // send() refuses such an address or amount before asking CLN (whose
    // withdraw would refuse it too), so no send of ours can exist.
    last_error_ =
        "cannot look for a send to '" + address.substr(0, kMaxAddressLength) + "': not a decodable address or amount";
    return Lookup::absent(last_error_);
  }
  const ClnRpcResult reply = cln_rpc_call(options_.endpoint, "listtransactions", "{}");
  if (!reply.ok) {
    last_error_ = reply.error;
    return Lookup::unknown(last_error_);
  }
  const auto transactions = read_transactions(reply.result, last_error_);
  if (!transactions) {
    return Lookup::unknown(last_error_);
  }
  std::vector<std::string> candidates;
  for (const Transaction& tx : *transactions) {
    const bool pays = std::any_of(tx.outputs.begin(), tx.outputs.end(), [&](const Output& output) {
      return output.script == *script && output.msat == msat;
    });
    if (pays && is_txid(tx.hash) &&
        std::find(matched_txids.begin(), matched_txids.end(), tx.hash) == matched_txids.end() &&
        std::find(candidates.begin(), candidates.end(), tx.hash) == candidates.end()) {
      candidates.push_back(tx.hash);
    }
  }
  if (candidates.size() > 1) {
    // A complete answer that cannot be told apart: the operator's to settle
    // (absent), not a question to repeat (unknown) since asking again
    // would find the same two.
    last_error_ = std::to_string(candidates.size()) + " sends of " + std::to_string(sats) + " sats to " + address +
                  " that no transfer has taken: ambiguous, left to the operator";
    return Lookup::absent(last_error_);
  }
  if (candidates.empty()) {
    return Lookup::absent();
  }
  return Lookup::found(candidates.front());
}

Answer ClnNodeWallet::new_address() {
  const ClnRpcResult reply =
      cln_rpc_call(options_.endpoint, "newaddr", R"({"addresstype":")" + options_.address_type + R"("})");
  if (!reply.ok) {
    return Answer::failure(reply.error);
  }
  std::string address;
  try {
    ondemand::parser parser;
    const simdjson::padded_string json(reply.result);
    ondemand::document doc = parser.iterate(json);
    for (auto field : doc.get_object()) {
      // The field is named by the type asked for; versions before 0.10 named it "address".
      const std::string_view key = field.unescaped_key();
      if (key == options_.address_type || (key == "address" && address.empty())) {
        address = string_of(field.value());
      }
    }
  } catch (const simdjson::simdjson_error& failure) {
    return Answer::failure(std::string("newaddr: unreadable result: ") + failure.what());
  }
  if (!plain_address(address) || !script_pubkey_hex(address)) {
    return Answer::failure("newaddr: no well-formed " + options_.address_type + " address in the result");
  }
  return Answer::of(std::move(address));
}

Lookup ClnNodeWallet::find_incoming(const std::string& address, std::int64_t sats) {
  last_error_.clear();
  const auto msat = sats_to_msat(sats);
  if (!plain_address(address) || !msat) {
    last_error_ = "cannot look for a payment: malformed address or amount"; // nothing can have paid it
    return Lookup::absent(last_error_);
  }
  ClnRpcResult reply = cln_rpc_call(options_.endpoint, "listfunds", R"({"spent":true})");
  if (!reply.ok && reply.code == -32602) {
    // A version without listfunds' `spent` parameter: its unspent outputs only.
    reply = cln_rpc_call(options_.endpoint, "listfunds", "{}");
  }
  if (!reply.ok) {
    last_error_ = reply.error;
    return Lookup::unknown(last_error_);
  }
  const auto outputs = read_funds(reply.result, last_error_);
  if (!outputs) {
    return Lookup::unknown(last_error_);
  }
  for (const Output& output : *outputs) {
    // A spent output was received (CLN spends confirmed outputs unless told minconf 0);
    // unconfirmed and immature ones are not received yet.
    if (output.address == address && output.msat == msat &&
        (output.status == "confirmed" || output.status == "spent") && is_txid(output.txid)) {
      return Lookup::found(output.txid);
    }
  }
  return Lookup::absent();
}

} // namespace synthusd::transfers
