// Provider-interest changes and risk positions the intake took in are
// journaled with their id (journal.hpp, record types 128 + 9 and 128 + 10),
// kept in the sealed segments' id indexes, and deduplicated by that id after
// a restart like a payment.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "journal_test_files.hpp"
#include "synthusd/engine/journal_id_index.hpp"
#include "synthusd/engine/journal_liability_sink.hpp"
#include "synthusd/engine/journal_segments.hpp"
#include "synthusd/liabilities/wire_protocol.hpp"

namespace synthusd::engine {
namespace {

using liabilities::Admission;
using liabilities::LiabilityAdmission;
using liabilities::LiabilityRequest;

constexpr std::int64_t kNowMs = 1'700'000'000'000;

LiabilityRequest line(const std::string& text) {
  LiabilityRequest request;
  std::string reason;
  EXPECT_TRUE(liabilities::parse_liability_line(text, request, reason)) << reason;
  return request;
}

const std::string kProvider =
    R"({"id":"p-1","kind":"provider_increase","provider":"alice","usd_cents":30000,"ts":1700000000000})";
const std::string kRisk =
    R"({"id":"r-1","kind":"risk_position","market":7,"position":42,"notional_usd_cents":-2000000,)"
    R"("vault_usd_cents":10000000,"shield_usd_cents":1000000,"pnl_usd_cents":3000000,"ts":1700000000000})";

struct Source {
  explicit Source(JournalWriter& journal) : sink(journal, [] { return hedging::Price{}; }) {}
  JournalLiabilitySink sink;
  LiabilityAdmission admission{sink, hedging::Ratio{}, liabilities::AdmissionLimits{}, [] { return kNowMs; }};
};

TEST(JournalOtherInputs, provider_interest_and_risk_positions_keep_their_ids_in_the_journal) {
  TempDir directory("journal_other_inputs");
  const std::string path = directory.file("journal");
  {
    JournalWriter writer(path);
    Source source(writer);
    ASSERT_EQ(source.admission.admit(line(kProvider)).outcome, Admission::Outcome::accepted);
    ASSERT_EQ(source.admission.admit(line(kRisk)).outcome, Admission::Outcome::accepted);
    writer.commit();
  }
  JournalReader reader(path);
  JournalRecord record;
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.liability_id.view(), "p-1");
  const auto& interest = std::get<hedging::ProviderInterestChange>(record.event);
  EXPECT_EQ(interest.delta, hedging::UsdCents{30'000});
  EXPECT_EQ(interest.provider_id, liabilities::liability_event_id("alice"));
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.liability_id.view(), "r-1");
  const auto& risk = std::get<hedging::ExternalRiskPosition>(record.event);
  EXPECT_EQ(risk.notional, hedging::UsdCents{-2'000'000});
  EXPECT_EQ(risk.pnl, hedging::UsdCents{3'000'000});
  EXPECT_EQ(risk.time, hedging::Timestamp{kNowMs * 1'000'000});
  EXPECT_FALSE(reader.next(record));
  EXPECT_EQ(reader.tail(), TailState::clean);
  // Only inputs a source hands in carry an id; any other event is written
  // without one, whatever it is given.
  std::uint8_t payload[kMaxPayload];
  EXPECT_EQ(record_type(hedging::Timer{}, "x"), 8);
  EXPECT_EQ(record_type(hedging::ProviderInterestChange{}, "x"), kLiabilityWithIdType + 10);
  EXPECT_EQ(encode_record(hedging::Timer{}, "x", payload), 8u);
}

TEST(JournalOtherInputs, their_ids_deduplicate_after_a_restart_also_from_a_sealed_segments_index) {
  TempDir directory("journal_other_inputs");
  const std::string base = directory.file("journal");
  {
    std::unique_ptr<JournalWriter> writer = open_active_segment(base);
    Source source(*writer);
    ASSERT_EQ(source.admission.admit(line(kProvider)).outcome, Admission::Outcome::accepted);
    writer->commit();
    ASSERT_TRUE(rotate_segment(*writer, base)); // sealed: p-1 now comes back through the id index
    ASSERT_EQ(source.admission.admit(line(kRisk)).outcome, Admission::Outcome::accepted);
    writer->commit();
  }
  std::string problem;
  const std::optional<SegmentIdIndex> index = read_id_index(id_index_path(segment_path(base, 1)), problem);
  ASSERT_TRUE(index.has_value()) << problem;
  ASSERT_EQ(index->liabilities.size(), 1u);
  EXPECT_EQ(index->liabilities[0].payment_id, "p-1");
  ASSERT_TRUE(index->liabilities[0].other.has_value());
  EXPECT_TRUE(std::holds_alternative<hedging::ProviderInterestChange>(*index->liabilities[0].other));

  std::unique_ptr<JournalWriter> writer = open_active_segment(base);
  Source restarted(*writer);
  remember_journaled_ids(restarted.admission, base);
  EXPECT_EQ(restarted.admission.admit(line(kProvider)).outcome, Admission::Outcome::duplicate);
  EXPECT_EQ(restarted.admission.admit(line(kRisk)).outcome, Admission::Outcome::duplicate);
  // The same id saying something else is a conflict, not a new interest.
  LiabilityRequest changed = line(kProvider);
  changed.usd_cents = 30'001;
  EXPECT_EQ(restarted.admission.admit(changed).outcome, Admission::Outcome::rejected);
  EXPECT_EQ(restarted.admission.counters().conflicts, 1u);
}

} // namespace
} // namespace synthusd::engine
