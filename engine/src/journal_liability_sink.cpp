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

void remember_journaled(liabilities::LiabilityAdmission& admission, const JournaledLiability& journaled) {
  if (journaled.payment_id.empty()) {
    admission.remember_key_only(journaled.id, journaled.fingerprint);
  } else {
    admission.remember(journaled.payment_id, journaled.fingerprint);
  }
}

void remember_journaled_ids(liabilities::LiabilityAdmission& admission, const std::string& journal_path) {
  for (const JournaledLiability& journaled : journaled_liabilities(journal_path)) {
    remember_journaled(admission, journaled);
  }
  while (admission.reserve_ahead()) { // at start-up: all the room at once, off every path
  }
}

} // namespace synthusd::engine
