#pragma once
// What the operator reads of the executor's transfers (admin HTTP GET
// /transfers): every transfer not finished, and the most recent finished
// ones, in request order, as JSON.

#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "synthusd/transfers/transfer_executor.hpp"

namespace synthusd::transfers {

// Finished (completed, failed) transfers listed at most: the journal keeps
// them all, the listing only the recent ones, so that its size is bounded
// by the transfers in progress (one at a time, plus those queued).
inline constexpr std::size_t kListedFinishedTransfers = 100;

// Every unfinished transfer and the last `finished` finished ones.
[[nodiscard]] std::vector<TransferStatus> recent_transfers(const std::deque<TransferStatus>& transfers,
                                                           std::size_t finished = kListedFinishedTransfers);

// {"transfers":[{"id","kind" ("deposit"|"withdrawal"),"venue","sats","state",
// "address","reference","requested_unix_ms","overdue","note"}]}; `venue_name`
// names a venue id.
[[nodiscard]] std::string transfers_json(const std::vector<TransferStatus>& transfers,
                                         const std::function<std::string(hedging::VenueId)>& venue_name);

} // namespace synthusd::transfers
