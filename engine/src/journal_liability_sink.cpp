#include "synthusd/engine/journal_liability_sink.hpp"

#include <cstdint>

#include "synthusd/engine/journal_segments.hpp"
#include "synthusd/engine/recovery.hpp"

namespace synthusd::engine {

std::vector<JournaledLiability> journaled_liabilities(const std::string& journal_path) {
  // Nothing to replay: every record counts only for its id, and sealed
  // segments give theirs through their indexes. Read-only (no index is
  // written): this also reads journals another process is appending to.
  return scan_journal(journal_base(journal_path), {}, UINT64_MAX, nullptr, false).liabilities;
}

void remember_journaled(liabilities::LiabilityAdmission& admission, const std::vector<JournaledLiability>& journaled) {
  for (const JournaledLiability& entry : journaled) {
    if (entry.payment_id.empty()) {
      admission.remember_key_only(entry.id, entry.fingerprint);
    } else {
      admission.remember(entry.payment_id, entry.fingerprint);
    }
  }
  while (admission.reserve_ahead()) {
  }
}

void remember_journaled_ids(liabilities::LiabilityAdmission& admission, const std::string& journal_path) {
  remember_journaled(admission, journaled_liabilities(journal_path));
}

} // namespace synthusd::engine
