#pragma once
// `synthusd replay <journal>`: re-runs a fresh kernel and backing ledger over
// a journal and prints the action-stream hash and the ledger's figures, which
// equal the live run's (however often it was restarted).
//
// <journal> is a journal's base path (`<state_directory>/journal`), its
// directory, or a single-file journal (an older version's, `synthusd intake`'s
// or `simulate --journal`'s). Every segment is read in order from sequence 1,
// from the base's directory and from the archive directories (`--archive`,
// and the config's `[engine] journal_archive_directory`); a missing segment,
// a gap or a damaged sealed segment stops it with an error naming the file.

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

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
  TailState tail = TailState::clean;  // of the active (last) segment
  std::uint64_t segments = 0;         // files read
};

// Throws std::runtime_error naming the file when the journal is missing or
// its segments do not chain from sequence 1.
// `on_record` (optional) sees every record as it is replayed.
[[nodiscard]] ReplayResult replay_journal(const std::string& journal_path, const hedging::KernelConfig& config,
                                          const std::vector<std::string>& archive_directories = {},
                                          const std::function<void(const JournalRecord&)>& on_record = {});

// One line for a liability record: its sequence, the payment id it came
// from as a JSON string (control bytes escaped, so it is the id byte for
// byte; `null` for an older record that kept only the key), the kernel's
// 64-bit key and the amounts. So a journal record can be matched back to
// the payment, e.g. `cln:<payment hash>`.
[[nodiscard]] std::string describe_liability(const JournalRecord& record);

// Prints the result (with `print_liabilities`, first a describe_liability
// line per liability record); returns the exit code (0, or 1 when the tail
// was damaged or the backing ledger overflowed).
int run_replay(const std::string& journal_path, const std::string& config_path, std::ostream& out,
               std::vector<std::string> archive_directories = {}, bool print_liabilities = false);

} // namespace synthusd::engine
