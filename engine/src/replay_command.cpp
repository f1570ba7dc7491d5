#include "synthusd/engine/replay_command.hpp"

#include <cstdio>
#include <ostream>

#include "synthusd/engine/config_file.hpp"
#include "synthusd/hedging/digest.hpp"
#include "synthusd/hedging/kernel.hpp"

namespace synthusd::engine {
namespace {

const char* tail_name(TailState tail) {
  switch (tail) {
  case TailState::clean:
    return "clean";
  case TailState::torn:
    return "torn (incomplete last record ignored)";
  case TailState::corrupt:
    return "corrupt (replay stopped at the first bad record)";
  }
  return "unknown";
}

} // namespace

ReplayResult replay_journal(const std::string& journal_path, const hedging::KernelConfig& config) {
  hedging::Kernel kernel(config);
  hedging::BackingLedger ledger(kernel.slots().size());
  hedging::ActionStreamHash hash;
  JournalReader reader(journal_path);
  JournalRecord record;
  ReplayResult result;
  while (reader.next(record)) {
    result.liability_events += std::holds_alternative<hedging::LiabilityChange>(record.event) ? 1 : 0;
    hash.add(hedging::apply_input(kernel, ledger, record.event));
  }
  result.events = hash.events();
  result.action_hash = hash.value();
  result.state_digest = kernel.state_digest();
  result.orders = kernel.counters().orders;
  result.liability_cents = kernel.liability().value;
  result.ledger = ledger.figures(kernel);
  result.ledger_digest = ledger.state_digest();
  result.tail = reader.tail();
  return result;
}

int run_replay(const std::string& journal_path, const std::string& config_path, std::ostream& out) {
  const hedging::KernelConfig config =
      config_path.empty() ? hedging::reference_config() : load_config(config_path).kernel;
  const ReplayResult result = replay_journal(journal_path, config);
  char line[320];
  std::snprintf(line, sizeof line,
                "events %llu, liability events %llu, liability cents %lld, orders %llu, action stream hash %016llx, "
                "state digest %016llx, tail %s\n",
                static_cast<unsigned long long>(result.events),
                static_cast<unsigned long long>(result.liability_events),
                static_cast<long long>(result.liability_cents), static_cast<unsigned long long>(result.orders),
                static_cast<unsigned long long>(result.action_hash),
                static_cast<unsigned long long>(result.state_digest), tail_name(result.tail));
  out << line;
  const hedging::LedgerFigures& f = result.ledger;
  std::snprintf(line, sizeof line,
                "usd value cents %lld, backing sats %lld, hedge pnl sats %lld, fees sats %lld, funding sats %lld, "
                "max deviation %lld, ledger digest %016llx%s\n",
                static_cast<long long>(f.held_value.value), static_cast<long long>(f.backing.value),
                static_cast<long long>(f.hedge_pnl.value), static_cast<long long>(f.fees.value),
                static_cast<long long>(f.funding.value), static_cast<long long>(f.max_deviation.raw),
                static_cast<unsigned long long>(result.ledger_digest), f.overflowed ? ", LEDGER OVERFLOWED" : "");
  out << line;
  return result.tail == TailState::clean ? 0 : 1;
}

} // namespace synthusd::engine
