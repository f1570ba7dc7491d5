// The payment id a liability change came from, kept in the journal beside
// the kernel's 64-bit key (journal.hpp, record type 128) and in the sealed
// segments' id indexes, so that deduplication after a restart compares ids:
// two ids sharing a key are two payments. Records of older journals (the key
// only, record type 0; version 1 id indexes) still read.
#include <gtest/gtest.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "journal_test_files.hpp"
#include "synthusd/engine/journal_id_index.hpp"
#include "synthusd/engine/journal_liability_sink.hpp"
#include "synthusd/engine/journal_segments.hpp"
#include "synthusd/engine/replay_command.hpp"
#include "synthusd/hedging/config.hpp"

namespace synthusd::engine {
namespace {

using hedging::LiabilityChange;
using hedging::Sats;
using hedging::Timestamp;
using hedging::UsdCents;
using liabilities::Admission;
using liabilities::LiabilityAdmission;
using liabilities::LiabilityRequest;

constexpr std::int64_t kNowMs = 1'700'000'000'000;

// Every id gets the same key: a forced FNV-1a collision.
std::uint64_t one_key_for_every_id(std::string_view /*id*/) noexcept { return 0xc011'1510'0000'0001ULL; }

// Control bytes and a NUL: the protocol allows any id bytes (escaped as
// \u00XX in JSON), and the journal must give back exactly these.
const std::string kControlId("cln:\x01\x00\x1f\"\\\x7f", 10);

LiabilityRequest credit(const std::string& id, std::int64_t cents) {
  LiabilityRequest request;
  request.id = id;
  request.usd_cents = cents;
  request.ts_ms = kNowMs;
  return request;
}

struct Source {
  explicit Source(JournalWriter& journal) : sink(journal, [] { return hedging::Price{}; }) {
    admission.use_event_id_function(&one_key_for_every_id);
  }
  JournalLiabilitySink sink;
  LiabilityAdmission admission{sink, hedging::Ratio{}, liabilities::AdmissionLimits{}, [] { return kNowMs; }};
};

std::vector<JournalRecord> read_all(const std::string& path) {
  JournalReader reader(path);
  std::vector<JournalRecord> records;
  JournalRecord record;
  while (reader.next(record)) {
    records.push_back(record);
  }
  EXPECT_EQ(reader.tail(), TailState::clean);
  return records;
}

TEST(JournalLiabilityId, a_record_keeps_the_payment_id_byte_for_byte) {
  TempDir directory("journal_liability_id");
  const std::string path = directory.file("journal");
  const std::string longest(liabilities::kMaxLiabilityIdBytes, '\xff');
  const LiabilityChange change{42, UsdCents{-12'345}, Sats{678}, hedging::Price::from_dollars(1), Timestamp{1}};
  {
    JournalWriter writer(path);
    EXPECT_EQ(writer.append(change, kControlId), 1u);
    EXPECT_EQ(writer.append(change, longest), 2u);
    EXPECT_EQ(writer.append(hedging::Timer{Timestamp{2}}, "ignored for anything but a liability"), 3u);
    writer.commit();
  }
  const std::vector<std::uint8_t> bytes = read_bytes(path);
  ASSERT_GT(bytes.size(), 17u);
  EXPECT_EQ(bytes[16], kLiabilityWithIdType);

  const std::vector<JournalRecord> records = read_all(path);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].liability_id.view(), kControlId);
  EXPECT_EQ(records[1].liability_id.view(), longest);
  EXPECT_TRUE(records[2].liability_id.empty());
  const auto& decoded = std::get<LiabilityChange>(records[0].event);
  EXPECT_EQ(decoded.id, 42u);
  EXPECT_EQ(decoded.delta, UsdCents{-12'345});
  EXPECT_EQ(decoded.sats, Sats{678});
  EXPECT_EQ(decoded.time, Timestamp{1});

  // An id longer than a record holds is never written cut.
  JournalWriter writer(path);
  EXPECT_THROW((void)writer.append(change, longest + "x"), std::invalid_argument);
  EXPECT_EQ(writer.last_sequence(), 3u);
}

TEST(JournalLiabilityId, ids_sharing_a_key_are_journaled_apart_and_deduplicated_apart_after_a_restart) {
  TempDir directory("journal_liability_id");
  const std::string base = directory.file("journal");
  {
    std::unique_ptr<JournalWriter> writer = open_active_segment(base);
    Source source(*writer);
    ASSERT_EQ(source.admission.admit(credit(kControlId, 2'500)).outcome, Admission::Outcome::accepted);
    ASSERT_EQ(source.admission.admit(credit("cln:other", 2'500)).outcome, Admission::Outcome::accepted);
    writer->commit();
    // Sealed: these two now come back through the segment's id index.
    ASSERT_TRUE(rotate_segment(*writer, base));
    ASSERT_EQ(source.admission.admit(credit("cln:third", 700)).outcome, Admission::Outcome::accepted);
    writer->commit();
  }
  std::string problem;
  const std::optional<SegmentIdIndex> index = read_id_index(id_index_path(segment_path(base, 1)), problem);
  ASSERT_TRUE(index.has_value()) << problem;
  ASSERT_EQ(index->liabilities.size(), 2u);
  EXPECT_EQ(index->liabilities[0].payment_id, kControlId);
  EXPECT_EQ(index->liabilities[1].payment_id, "cln:other");
  EXPECT_EQ(index->liabilities[0].change.id, index->liabilities[1].change.id); // one key, two payments

  const std::vector<JournaledLiability> journaled = journaled_liabilities(base);
  ASSERT_EQ(journaled.size(), 3u);
  EXPECT_EQ(journaled[0].payment_id, kControlId);
  EXPECT_EQ(journaled[1].payment_id, "cln:other");
  EXPECT_EQ(journaled[2].payment_id, "cln:third");

  // A new process, deduplicating from the journal.
  std::unique_ptr<JournalWriter> writer = open_active_segment(base);
  Source restarted(*writer);
  remember_journaled_ids(restarted.admission, base);
  EXPECT_EQ(restarted.admission.admit(credit(kControlId, 2'500)).outcome, Admission::Outcome::duplicate);
  EXPECT_EQ(restarted.admission.admit(credit("cln:other", 2'500)).outcome, Admission::Outcome::duplicate);
  EXPECT_EQ(restarted.admission.admit(credit("cln:third", 700)).outcome, Admission::Outcome::duplicate);
  EXPECT_EQ(restarted.admission.admit(credit("cln:other", 2'501)).outcome, Admission::Outcome::rejected);
  // The same key, an id never journaled: a new payment.
  EXPECT_EQ(restarted.admission.admit(credit("cln:fourth", 2'500)).outcome, Admission::Outcome::accepted);
  // A prefix of a journaled id is another id too.
  EXPECT_EQ(restarted.admission.admit(credit(kControlId.substr(0, 5), 2'500)).outcome, Admission::Outcome::accepted);
  EXPECT_EQ(restarted.admission.counters().accepted, 2u);
}

TEST(JournalLiabilityId, replay_prints_each_liability_with_its_payment_id) {
  TempDir directory("journal_liability_id");
  const std::string path = directory.file("journal");
  {
    JournalWriter writer(path);
    (void)writer.append(LiabilityChange{7, UsdCents{2'500}, Sats{}, hedging::Price{}, Timestamp{1}}, kControlId);
    (void)writer.append(LiabilityChange{8, UsdCents{-100}, Sats{}, hedging::Price{}, Timestamp{2}}); // key only
    writer.commit();
  }
  std::ostringstream out;
  EXPECT_EQ(run_replay(path, "", out, {}, true), 0);
  const std::string text = out.str();
  EXPECT_NE(text.find("liability sequence 1 id \"cln:\\u0001\\u0000\\u001f\\\"\\\\\x7f\" key 0000000000000007 "
                      "usd cents 2500"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("liability sequence 2 id null key 0000000000000008 usd cents -100"), std::string::npos) << text;
  EXPECT_NE(text.find("liability events 2, liability cents 2400"), std::string::npos) << text;
}

// The bytes of a journal record as engines before payment ids wrote it.
std::vector<std::uint8_t> old_record(std::uint64_t sequence, const hedging::Event& event) {
  std::vector<std::uint8_t> record(kRecordOverhead + kMaxPayload);
  const std::size_t size = encode_event(event, {record.data() + 17, kMaxPayload});
  const auto put = [&record](std::size_t at, std::uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) {
      record[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(value >> (8 * i));
    }
  };
  put(0, 0x314a5553, 4); // "SUJ1"
  put(4, size, 4);
  put(8, sequence, 8);
  record[16] = static_cast<std::uint8_t>(event.index());
  put(17 + size, crc32c({record.data() + 8, 9 + size}), 4);
  record.resize(kRecordOverhead + size);
  return record;
}

TEST(JournalLiabilityId, replay_of_a_journal_whose_ledger_overflows_says_so_and_exits_one) {
  // A hand-made journal (admission bounds every real payment far below
  // this): 3 x 4.6e18 sats of backing saturate the ledger's int64.
  TempDir directory("journal_ledger_overflow");
  const std::string path = directory.file("journal");
  {
    JournalWriter writer(path);
    for (std::uint64_t id = 1; id <= 3; ++id) {
      (void)writer.append(LiabilityChange{id, UsdCents{100}, Sats{INT64_MAX / 2}, hedging::Price{},
                                          Timestamp{static_cast<std::int64_t>(id)}});
    }
    writer.commit();
  }
  std::ostringstream out;
  EXPECT_EQ(run_replay(path, "", out, {}, false), 1);
  EXPECT_NE(out.str().find("LEDGER OVERFLOWED"), std::string::npos) << out.str();
}

TEST(JournalLiabilityId, an_older_journal_without_payment_ids_still_replays_and_deduplicates_by_key) {
  TempDir directory("journal_liability_id");
  const std::string base = directory.file("journal");
  const std::uint64_t old_key = liabilities::liability_event_id("w-old");
  const LiabilityChange old_change{old_key, UsdCents{900}, Sats{}, hedging::Price{}, Timestamp{1}};
  std::vector<std::uint8_t> bytes = old_record(1, old_change);
  const std::vector<std::uint8_t> timer = old_record(2, hedging::Timer{Timestamp{2}});
  bytes.insert(bytes.end(), timer.begin(), timer.end());
  write_bytes(segment_path(base, 1), bytes);
  // Its sealed segment's index, version 1 (entries without a record type).
  std::vector<std::uint8_t> index;
  const auto put = [&index](std::uint64_t value, int size) {
    for (int i = 0; i < size; ++i) {
      index.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
    }
  };
  put(0x31495553, 4); // "SUI1"
  put(1, 4);          // version 1
  put(1, 8);          // first sequence
  put(2, 8);          // last sequence
  put(1, 8);          // one entry
  put(1, 8);          // its sequence
  std::uint8_t payload[kMaxPayload];
  const std::size_t size = encode_event(old_change, payload);
  put(size, 4);
  index.insert(index.end(), payload, payload + size);
  put(crc32c(index), 4);
  write_bytes(id_index_path(segment_path(base, 1)), index);
  // The active segment, written by this engine.
  {
    JournalWriter writer(segment_path(base, 3), 1 << 20, 3);
    (void)writer.append(LiabilityChange{old_key, UsdCents{50}, Sats{}, hedging::Price{}, Timestamp{3}}, "w-new");
    writer.commit();
  }

  // Deduplication: the old record by its key (from the version 1 index), the new one by its id.
  const std::vector<JournaledLiability> journaled = journaled_liabilities(base);
  ASSERT_EQ(journaled.size(), 2u);
  EXPECT_TRUE(journaled[0].payment_id.empty());
  EXPECT_EQ(journaled[0].id, old_key);
  EXPECT_EQ(journaled[1].payment_id, "w-new");
  JournalWriter sink_journal(directory.file("other"));
  JournalLiabilitySink sink(sink_journal, [] { return hedging::Price{}; });
  LiabilityAdmission admission(sink, hedging::Ratio{}, {}, [] { return kNowMs; });
  remember_journaled_ids(admission, base);
  EXPECT_EQ(admission.admit(credit("w-old", 900)).outcome, Admission::Outcome::duplicate);
  EXPECT_EQ(admission.admit(credit("w-new", 50)).outcome, Admission::Outcome::duplicate);
  EXPECT_EQ(admission.admit(credit("w-other", 900)).outcome, Admission::Outcome::accepted);

  // Replay reads both formats: every liability counts.
  const ReplayResult replayed = replay_journal(base, hedging::reference_config());
  EXPECT_EQ(replayed.events, 3u);
  EXPECT_EQ(replayed.liability_events, 2u);
  EXPECT_EQ(replayed.liability_cents, 950);
  EXPECT_EQ(replayed.tail, TailState::clean);
}

} // namespace
} // namespace synthusd::engine
