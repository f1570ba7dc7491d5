#include "synthusd/engine/replay_command.hpp"

#include <cstdio>
#include <ostream>
#include <stdexcept>

#include "synthusd/engine/config_file.hpp"
#include "synthusd/engine/journal_segments.hpp"
#include "synthusd/hedging/digest.hpp"
#include "synthusd/hedging/kernel.hpp"
#include "synthusd/liabilities/wire_protocol.hpp"

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

ReplayResult replay_journal(const std::string& journal_path, const hedging::KernelConfig& config,
                            const std::vector<std::string>& archive_directories,
                            const std::function<void(const JournalRecord&)>& on_record) {
  const std::string base = journal_base(journal_path);
  JournalFiles files = list_journal_files(base, archive_directories);
  refuse_missing_last_segments(files, base);
  if (files.segments.empty()) {
    throw std::runtime_error("journal " + journal_path + ": no such file and no segment " + base + ".*");
  }
  if (files.segments.front().first_sequence != 1) {
    throw std::runtime_error("journal " + base + ": sequences 1.." +
                             std::to_string(files.segments.front().first_sequence - 1) +
                             " are missing (the first segment present is " + files.segments.front().path +
                             "); name the archive directory with --archive");
  }
  hedging::Kernel kernel(config);
  hedging::BackingLedger ledger(kernel.slots().size());
  hedging::ActionStreamHash hash;
  ReplayResult result;
  result.segments = files.segments.size();
  SegmentChainReader reader(std::move(files.segments));
  JournalRecord record;
  while (reader.next(record)) {
    result.liability_events += std::holds_alternative<hedging::LiabilityChange>(record.event) ? 1 : 0;
    if (on_record) {
      on_record(record);
    }
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

std::string describe_liability(const JournalRecord& record) {
  const auto* change = std::get_if<hedging::LiabilityChange>(&record.event);
  if (change == nullptr) {
    return {};
  }
  const std::string id =
      record.liability_id.empty() ? std::string("null") : liabilities::quote_json_string(record.liability_id.view());
  char line[200];
  std::snprintf(line, sizeof line, " key %016llx usd cents %lld sats %lld price %lld time ns %lld\n",
                static_cast<unsigned long long>(change->id), static_cast<long long>(change->delta.value),
                static_cast<long long>(change->sats.value), static_cast<long long>(change->price.raw),
                static_cast<long long>(change->time.nanoseconds));
  return "liability sequence " + std::to_string(record.sequence) + " id " + id + line;
}

int run_replay(const std::string& journal_path, const std::string& config_path, std::ostream& out,
               std::vector<std::string> archive_directories, bool print_liabilities) {
  hedging::KernelConfig config = hedging::reference_config();
  if (!config_path.empty()) {
    EngineConfig loaded = load_config(config_path);
    config = std::move(loaded.kernel);
    if (!loaded.run.engine.journal_archive_directory.empty()) {
      archive_directories.push_back(loaded.run.engine.journal_archive_directory);
    }
  }
  const ReplayResult result =
      replay_journal(journal_path, config, archive_directories, [&out, print_liabilities](const JournalRecord& record) {
        if (print_liabilities) {
          out << describe_liability(record);
        }
      });
  char line[400];
  std::snprintf(
      line, sizeof line,
      "events %llu, liability events %llu, liability cents %lld, orders %llu, action stream hash %016llx, "
      "state digest %016llx, segments %llu, tail %s\n",
      static_cast<unsigned long long>(result.events), static_cast<unsigned long long>(result.liability_events),
      static_cast<long long>(result.liability_cents), static_cast<unsigned long long>(result.orders),
      static_cast<unsigned long long>(result.action_hash), static_cast<unsigned long long>(result.state_digest),
      static_cast<unsigned long long>(result.segments), tail_name(result.tail));
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
  // Figures the ledger had to saturate are not the history's: a failure,
  // like a damaged tail.
  return result.tail == TailState::clean && !f.overflowed ? 0 : 1;
}

} // namespace synthusd::engine
