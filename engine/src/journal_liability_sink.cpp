#include "synthusd/engine/journal_liability_sink.hpp"

#include <filesystem>

namespace synthusd::engine {

std::vector<std::uint64_t> journaled_liability_ids(const std::string& journal_path) {
  std::vector<std::uint64_t> ids;
  if (!std::filesystem::exists(journal_path)) {
    return ids;
  }
  JournalReader reader(journal_path);
  JournalRecord record;
  while (reader.next(record)) {
    if (const auto* change = std::get_if<hedging::LiabilityChange>(&record.event)) {
      ids.push_back(change->id);
    }
  }
  return ids;
}

void remember_journaled_ids(liabilities::LiabilityAdmission& admission, const std::string& journal_path) {
  for (const std::uint64_t id : journaled_liability_ids(journal_path)) {
    admission.remember(id);
  }
}

} // namespace synthusd::engine
