#pragma once
// The liability sources' sink that writes the journal itself (the standalone
// `synthusd intake` and the sources' tests), and the ids a journal already
// holds, for the sources' deduplication at start-up.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "synthusd/engine/journal.hpp"
#include "synthusd/liabilities/liability_sink.hpp"

namespace synthusd::engine {

// Writes the journal directly; tickets are journal sequences.
class JournalLiabilitySink final : public liabilities::LiabilitySink {
public:
  JournalLiabilitySink(JournalWriter& journal, std::function<hedging::Price()> price)
      : journal_(journal), price_(std::move(price)) {}
  std::uint64_t submit(const hedging::LiabilityChange& event, std::string_view id) noexcept override {
    return journal_.append(event, id);
  }
  [[nodiscard]] bool carries_other_inputs() const noexcept override { return true; }
  std::uint64_t submit_input(const hedging::Event& event, std::string_view id) noexcept override {
    return journal_.append(event, id);
  }
  std::uint64_t make_durable() override { return journal_.commit(); }
  [[nodiscard]] hedging::Price index_price() const noexcept override { return price_ ? price_() : hedging::Price{}; }

private:
  JournalWriter& journal_;
  std::function<hedging::Price()> price_;
};

// Every LiabilityChange in a journal (a single file, or the segments of a
// base path or directory, sealed ones through their id indexes; a missing
// journal is an empty one) as its payment id and fingerprint, so that the
// sources refuse the same id with another amount across restarts too.
struct JournaledLiability {
  std::uint64_t id = 0; // the kernel's 64-bit key (a hash of payment_id)
  std::uint64_t fingerprint = 0;
  std::string payment_id; // byte for byte; empty for an older journal's record, which kept only the key
};
[[nodiscard]] std::vector<JournaledLiability> journaled_liabilities(const std::string& journal_path);

// Marks every journaled liability as seen and durable in `admission` (by
// its payment id, or by its key alone when the record has none), then gives
// its deduplication set its room for the next payments whole: start-up is
// off every path.
void remember_journaled(liabilities::LiabilityAdmission& admission, const std::vector<JournaledLiability>& journaled);

// The same for every id of a journal.
void remember_journaled_ids(liabilities::LiabilityAdmission& admission, const std::string& journal_path);

} // namespace synthusd::engine
