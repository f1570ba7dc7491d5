#include "synthusd/engine/journal_liability_sink.hpp"

#include <filesystem>

namespace synthusd::engine {

std::vector<JournaledLiability> journaled_liabilities(const std::string& journal_path) {
  std::vector<JournaledLiability> found;
  if (!std::filesystem::exists(journal_path)) {
    return found;
  }
  JournalReader reader(journal_path);
  JournalRecord record;
  while (reader.next(record)) {
    if (const auto* change = std::get_if<hedging::LiabilityChange>(&record.event)) {
      found.push_back({change->id, liabilities::liability_fingerprint(*change)});
    }
  }
  return found;
}

void remember_journaled_ids(liabilities::LiabilityAdmission& admission, const std::string& journal_path) {
  for (const JournaledLiability& journaled : journaled_liabilities(journal_path)) {
    admission.remember(journaled.id, journaled.fingerprint);
  }
}

} // namespace synthusd::engine
