#pragma once
// `synthusd replay <journal>`: re-runs a fresh kernel and backing ledger over
// a journal and prints the action-stream hash and the ledger's figures, which
// equal the live run's (however often it was restarted).

#include <cstdint>
#include <iosfwd>
#include <string>

#include "synthusd/engine/journal.hpp"
#include "synthusd/hedging/backing_ledger.hpp"
#include "synthusd/hedging/config.hpp"

namespace synthusd::engine {

struct ReplayResult {
  std::uint64_t events = 0;
  std::uint64_t action_hash = 0;
  std::uint64_t state_digest = 0;
  std::uint64_t orders = 0;
  std::uint64_t liability_events = 0; // LiabilityChange records
  std::int64_t liability_cents = 0;   // the kernel's liability at the end
  hedging::LedgerFigures ledger{};    // the backing ledger's figures at the end
  std::uint64_t ledger_digest = 0;    // BackingLedger::state_digest() at the end
  TailState tail = TailState::clean;
};

[[nodiscard]] ReplayResult replay_journal(const std::string& journal_path, const hedging::KernelConfig& config);

// Prints the result; returns the exit code (0, or 1 when the tail was damaged).
int run_replay(const std::string& journal_path, const std::string& config_path, std::ostream& out);

} // namespace synthusd::engine
