#include "synthusd/transfers/transfer_listing.hpp"

#include <cstdio>

namespace synthusd::transfers {
namespace {

bool finished(TransferState state) { return state == TransferState::completed || state == TransferState::failed; }

// A JSON string: the journal's words and the executor's notes are
// printable, but a counterparty's text could carry anything.
void append_string(std::string& out, const std::string& text) {
  out += '"';
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += escaped;
    } else {
      out += c;
    }
  }
  out += '"';
}

} // namespace

std::vector<TransferStatus> recent_transfers(const std::deque<TransferStatus>& transfers, std::size_t finished_count) {
  std::size_t finished_total = 0;
  for (const TransferStatus& transfer : transfers) {
    finished_total += finished(transfer.state) ? 1U : 0U;
  }
  std::size_t finished_to_skip = finished_total > finished_count ? finished_total - finished_count : 0;
  std::vector<TransferStatus> out;
  for (const TransferStatus& transfer : transfers) {
    if (finished(transfer.state) && finished_to_skip > 0) {
      --finished_to_skip;
      continue;
    }
    out.push_back(transfer);
  }
  return out;
}

std::string transfers_json(const std::vector<TransferStatus>& transfers,
                           const std::function<std::string(hedging::VenueId)>& venue_name) {
  std::string out = "{\"transfers\":[";
  bool first = true;
  for (const TransferStatus& transfer : transfers) {
    out += first ? "\n" : ",\n";
    first = false;
    out += "{\"id\":" + std::to_string(transfer.intent.transfer_id) + ",\"kind\":";
    out +=
        transfer.intent.direction == hedging::TransferDirection::wallet_to_exchange ? "\"deposit\"" : "\"withdrawal\"";
    out += ",\"venue\":";
    append_string(out, venue_name ? venue_name(transfer.intent.venue) : std::to_string(transfer.intent.venue));
    out += ",\"sats\":" + std::to_string(transfer.intent.amount.value) + ",\"state\":";
    append_string(out, to_string(transfer.state));
    out += ",\"address\":";
    append_string(out, transfer.address);
    out += ",\"reference\":";
    append_string(out, transfer.reference);
    out += ",\"requested_unix_ms\":" + std::to_string(transfer.requested_unix_ms);
    out += ",\"overdue\":";
    out += transfer.overdue ? "true" : "false";
    out += ",\"note\":";
    append_string(out, transfer.note);
    out += "}";
  }
  out += "\n]}\n";
  return out;
}

} // namespace synthusd::transfers
