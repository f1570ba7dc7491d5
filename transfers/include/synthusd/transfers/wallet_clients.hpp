#pragma once
// The executor's counterparties over HTTP/JSON (http_call.hpp), each over
// TLS as it serves it (lnd: its tls.cert pinned; Deribit: the system CAs):
//
// LndNodeWallet: lnd's REST gateway, with the macaroon liabilities/ already
// uses (lnd_source.hpp); Core Lightning is cln_node_wallet.hpp. Calls:
//   POST /v1/transactions {addr, amount, label}        -> {txid}   (SendCoins)
//   GET  /v1/newaddress?type=WITNESS_PUBKEY_HASH        -> {address}
//   GET  /v1/transactions -> {transactions: [{tx_hash, amount, num_confirmations,
//        label, output_details: [{address, amount, is_our_address}]}]}
// int64 fields are JSON strings (grpc-gateway); the macaroon goes, hex, in
// the Grpc-Metadata-macaroon header.
//
// DeribitVenueWallet: Deribit's private wallet API over HTTP GET with query
// parameters, answering JSON-RPC {result} or {error: {code, message}}:
//   /api/v2/private/get_current_deposit_address?currency=BTC -> {address}
//   /api/v2/private/get_deposits?currency=BTC   -> {count, data: [{transaction_id, state, amount, address}]}
//   /api/v2/private/withdraw?currency=BTC&address=A&amount=BTC -> {id, state}
//   /api/v2/private/get_withdrawals?currency=BTC -> {count, data: [{id, address, amount, state}]}
// Amounts are BTC as JSON numbers, read exactly (common/decimal.hpp) to sats.
// Authentication: "Authorization: Basic base64(client_id:client_secret)",
// which Deribit accepts on its HTTPS API; synthusd-venue checks the same
// header.

#include <cstdint>
#include <optional>
#include <string>

#include "synthusd/transfers/http_call.hpp"
#include "synthusd/transfers/transfer_executor.hpp"

namespace synthusd::transfers {

// A credential file's bytes in hex (lnd's admin.macaroon); throws
// std::runtime_error when it cannot be read, is empty, or is readable by
// group or others (a secret stays owner-only).
[[nodiscard]] std::string read_owner_only_file_hex(const std::string& path);
[[nodiscard]] std::string base64(const std::string& bytes);

class LndNodeWallet final : public NodeWallet {
public:
  // `macaroon_hex` empty: no header (lnd --no-macaroons, tests). Throws as
  // HttpClient does (the TLS certificate file).
  LndNodeWallet(HttpEndpoint endpoint, std::string macaroon_hex, int min_confirmations = 1);
  Answer send(const std::string& address, std::int64_t sats, const std::string& label) override;
  // Found / absent only from a 200 whose transaction list was read; any
  // other answer (no connection, an error status, an unreadable body) is
  // Lookup::unknown with the reason.
  Lookup find_send(const std::string& address, std::int64_t sats, const std::string& label) override;
  Answer new_address() override;
  Lookup find_incoming(const std::string& address, std::int64_t sats) override;

private:
  HttpResult call(const std::string& method, const std::string& target, const std::string& body);

  HttpClient client_;
  std::string macaroon_hex_;
  int min_confirmations_;
};

class DeribitVenueWallet final : public VenueWallet {
public:
  // Serves the one venue `venue`; a call for another fails. Throws as
  // HttpClient does.
  DeribitVenueWallet(HttpEndpoint endpoint, hedging::VenueId venue, std::string client_id, std::string client_secret);
  Answer deposit_address(hedging::VenueId venue) override;
  // Like LndNodeWallet's lookups: absent only from a 200 JSON-RPC result
  // whose list was read; anything else is Lookup::unknown.
  Lookup deposit_credited(hedging::VenueId venue, const std::string& txid) override;
  Answer request_withdrawal(hedging::VenueId venue, const std::string& address, std::int64_t sats,
                            const std::string& label) override;
  Lookup find_withdrawal(hedging::VenueId venue, const std::string& address, std::int64_t sats) override;

private:
  HttpResult get(const std::string& target);

  HttpClient client_;
  hedging::VenueId venue_;
  std::string authorization_;
};

// Percent-encodes a query parameter value (RFC 3986 unreserved kept).
[[nodiscard]] std::string url_encode(const std::string& value);
// sats as a BTC decimal ("0.00012345"); exact.
[[nodiscard]] std::string sats_to_btc(std::int64_t sats);

} // namespace synthusd::transfers
