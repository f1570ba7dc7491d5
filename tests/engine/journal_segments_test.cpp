// Journal segments: names, the chain readers check (no gap, no overlap, only
// the active segment may have a torn tail), rotation, the sealed segments'
// id indexes, migration of a single-file journal, archiving, and the
// start-up scan that reads indexes for old segments and records only from
// the segment that holds the replay point.

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "journal_test_files.hpp"
#include "synthusd/engine/intake_command.hpp"
#include "synthusd/engine/journal.hpp"
#include "synthusd/engine/journal_id_index.hpp"
#include "synthusd/engine/journal_liability_sink.hpp"
#include "synthusd/engine/journal_segments.hpp"
#include "synthusd/engine/recovery.hpp"
#include "synthusd/engine/replay_command.hpp"
#include "synthusd/hedging/config.hpp"

namespace synthusd::engine {
namespace {

namespace fs = std::filesystem;

// Writes records 1..`through` to the journal at `base`, starting a new
// segment after each sequence in `cuts` (as the journal thread does after a
// snapshot).
void write_journal(const std::string& base, std::uint64_t through, const std::vector<std::uint64_t>& cuts) {
  std::unique_ptr<JournalWriter> writer = open_active_segment(base);
  for (std::uint64_t n = writer->last_sequence() + 1; n <= through; ++n) {
    ASSERT_EQ(writer->append(test_event(n)), n);
    if (std::find(cuts.begin(), cuts.end(), n) != cuts.end()) {
      ASSERT_TRUE(rotate_segment(*writer, base));
    }
  }
  writer->commit();
}

std::vector<std::uint64_t> ids_of(const std::vector<JournaledLiability>& liabilities) {
  std::vector<std::uint64_t> ids;
  for (const JournaledLiability& liability : liabilities) {
    ids.push_back(liability.id);
  }
  return ids;
}

std::vector<std::uint64_t> read_sequences(std::vector<JournalSegment> segments) {
  SegmentChainReader reader(std::move(segments));
  std::vector<std::uint64_t> sequences;
  JournalRecord record;
  while (reader.next(record)) {
    sequences.push_back(record.sequence);
  }
  return sequences;
}

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> values;
  for (std::uint64_t v = first; v <= last; ++v) {
    values.push_back(v);
  }
  return values;
}

// Throws std::runtime_error whose message contains every one of `parts`.
template <typename Body>
void expect_refusal(Body body, const std::vector<std::string>& parts) {
  try {
    body();
    ADD_FAILURE() << "expected std::runtime_error";
  } catch (const std::runtime_error& error) {
    for (const std::string& part : parts) {
      EXPECT_NE(std::string(error.what()).find(part), std::string::npos) << error.what() << "\nmissing: " << part;
    }
  }
}

TEST(JournalSegments, names_carry_the_first_sequence_in_twenty_digits_and_list_in_order) {
  EXPECT_EQ(segment_path("state/journal", 1), "state/journal.00000000000000000001");
  EXPECT_EQ(segment_path("j", 18'446'744'073'709'551'615ULL), "j.18446744073709551615");
  TempDir dir;
  const std::string base = dir.file("journal");
  write_journal(base, 25, {9, 20});
  // Files that are no segment: an index, a temporary file, another journal.
  write_bytes(dir.file("journal.00000000000000000010.ids.tmp"), {1});
  write_bytes(dir.file("journal.12"), {1});
  write_bytes(dir.file("other.00000000000000000001"), {1});
  const JournalFiles files = list_journal_files(base);
  ASSERT_EQ(files.segments.size(), 3u);
  EXPECT_EQ(files.segments[0].first_sequence, 1u);
  EXPECT_EQ(files.segments[1].first_sequence, 10u);
  EXPECT_EQ(files.segments[2].first_sequence, 21u);
  EXPECT_EQ(files.segments[2].path, segment_path(base, 21));
  EXPECT_EQ(files.indexed_segments, (std::vector<std::uint64_t>{1, 10}));
  EXPECT_EQ(read_sequences(files.segments), range(1, 25));
  EXPECT_EQ(journal_base(dir.path()), base); // a directory stands for its journal
}

TEST(JournalSegments, rotation_continues_the_sequence_in_a_new_file_and_indexes_the_sealed_one) {
  TempDir dir;
  const std::string base = dir.file("journal");
  std::unique_ptr<JournalWriter> writer = open_active_segment(base);
  for (std::uint64_t n = 1; n <= 7; ++n) {
    writer->append(test_event(n));
  }
  ASSERT_TRUE(rotate_segment(*writer, base));
  EXPECT_EQ(writer->durable_sequence(), 7u); // sealing committed what was buffered
  EXPECT_EQ(writer->path(), segment_path(base, 8));
  EXPECT_EQ(writer->file_first_sequence(), 8u);
  EXPECT_FALSE(rotate_segment(*writer, base)); // an empty segment is never sealed
  EXPECT_EQ(writer->append(test_event(8)), 8u);
  writer->commit();

  std::string problem;
  const std::optional<SegmentIdIndex> index = read_id_index(id_index_path(segment_path(base, 1)), problem);
  ASSERT_TRUE(index.has_value()) << problem;
  EXPECT_EQ(index->first_sequence, 1u);
  EXPECT_EQ(index->last_sequence, 7u);
  ASSERT_EQ(index->liabilities.size(), 2u); // 3 and 6
  EXPECT_EQ(index->liabilities[0].sequence, 3u);
  EXPECT_EQ(index->liabilities[1].change.id, 1006u);
  EXPECT_EQ(index->liabilities[1].change.delta, hedging::UsdCents{600});

  // A segment reopened after a restart continues at its own numbering.
  writer.reset();
  writer = open_active_segment(base);
  EXPECT_EQ(writer->path(), segment_path(base, 8));
  EXPECT_EQ(writer->last_sequence(), 8u);
}

TEST(JournalSegments, one_segment_named_as_the_journal_is_refused_instead_of_replayed_as_the_whole) {
  TempDir dir;
  const std::string base = dir.file("journal");
  std::unique_ptr<JournalWriter> writer = open_active_segment(base);
  for (std::uint64_t n = 1; n <= 3; ++n) {
    writer->append(test_event(n));
  }
  ASSERT_TRUE(rotate_segment(*writer, base));
  writer->append(test_event(4));
  writer->commit();
  writer.reset();
  try {
    (void)list_journal_files(segment_path(base, 1), {});
    FAIL() << "took one segment for the journal";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()), "journal " + segment_path(base, 1) + " is one segment of the journal " + base +
                                             ": give the state directory (or that journal's name) to read every "
                                             "segment");
  }
  EXPECT_EQ(list_journal_files(base, {}).segments.size(), 2u);
}

TEST(JournalSegments, a_new_segment_that_cannot_be_created_leaves_the_old_one_taking_appends) {
  TempDir dir;
  const std::string base = dir.file("journal");
  std::unique_ptr<JournalWriter> writer = open_active_segment(base);
  writer->append(test_event(1));
  write_bytes(segment_path(base, 2), {}); // in the way: a segment is never reused
  expect_refusal([&] { writer->start_segment(segment_path(base, 2)); }, {segment_path(base, 2)});
  EXPECT_EQ(writer->path(), segment_path(base, 1));
  EXPECT_EQ(writer->append(test_event(2)), 2u);
  writer->commit();
  fs::remove(segment_path(base, 2));
  EXPECT_EQ(read_sequences(list_journal_files(base).segments), range(1, 2));
}

TEST(JournalSegments, a_segment_whose_first_record_is_not_its_name_reads_as_corrupt) {
  TempDir dir;
  const std::string base = dir.file("journal");
  write_journal(base, 12, {5});
  fs::rename(segment_path(base, 6), segment_path(base, 7)); // renamed by hand, wrongly
  JournalReader reader(segment_path(base, 7), 7);
  JournalRecord record;
  EXPECT_FALSE(reader.next(record));
  EXPECT_EQ(reader.tail(), TailState::corrupt);
}

TEST(JournalSegments, the_active_segment_renamed_wrongly_is_refused_not_cut_to_nothing) {
  TempDir dir;
  const std::string base = dir.file("journal");
  write_journal(base, 12, {5});
  fs::rename(segment_path(base, 6), segment_path(base, 7)); // its records start at 6
  const std::uintmax_t size = fs::file_size(segment_path(base, 7));
  expect_refusal([&] { (void)open_active_segment(base); },
                 {segment_path(base, 7), "whole record with sequence 6 follows at byte 0", "refusing to cut"});
  EXPECT_EQ(fs::file_size(segment_path(base, 7)), size);
}

TEST(JournalSegments, the_intake_given_one_segment_refuses_it_untouched) {
  TempDir dir;
  const std::string base = dir.file("journal");
  write_journal(base, 30, {10, 20});
  for (const std::uint64_t first : {1u, 11u, 21u}) {
    const std::vector<std::uint8_t> before = read_bytes(segment_path(base, first));
    std::ostringstream out;
    expect_refusal([&] { (void)run_intake(segment_path(base, first), dir.file("intake.sock"), -1, "", out); },
                   {"is one segment of the journal " + base});
    EXPECT_EQ(read_bytes(segment_path(base, first)), before) << first;
  }
  // Its base path, or its directory: refused, with no file left beside the segments.
  const std::vector<std::string> entries = dir.entries();
  for (const std::string& path : {base, dir.path()}) {
    std::ostringstream out;
    expect_refusal([&] { (void)run_intake(path, dir.file("intake.sock"), -1, "", out); },
                   {"segmented journal", segment_path(base, 1)});
  }
  EXPECT_EQ(dir.entries(), entries);
}

TEST(JournalSegments, a_directory_that_cannot_be_listed_is_an_error_not_an_empty_journal) {
  // (No permission or an I/O error on a broken mount give the same error
  // path; a test running as root cannot make one, so a file stands in the
  // directory's place: ENOTDIR.)
  TempDir dir;
  write_bytes(dir.file("state"), {'x'});
  expect_refusal([&] { (void)list_journal_files(dir.file("state") + "/journal"); },
                 {"cannot list " + dir.file("state")});
  EXPECT_TRUE(list_journal_files(dir.file("missing") + "/journal").segments.empty()); // nothing there yet
}

TEST(JournalSegments, a_gap_between_segments_is_refused_naming_both_files) {
  TempDir dir;
  const std::string base = dir.file("journal");
  write_journal(base, 30, {10, 20});
  fs::remove(segment_path(base, 11));
  const JournalFiles files = list_journal_files(base);
  expect_refusal([&] { (void)read_sequences(files.segments); },
                 {"sequences 11..20 are missing", segment_path(base, 1), segment_path(base, 21)});
}

TEST(JournalSegments, only_the_active_segment_may_end_torn_a_sealed_one_is_refused) {
  TempDir dir;
  const std::string base = dir.file("journal");
  write_journal(base, 20, {10});
  append_bytes(segment_path(base, 11), {'S', 'U', 'J', '1', 9, 9}); // a crash mid-write
  {
    SegmentChainReader reader(list_journal_files(base).segments);
    JournalRecord record;
    std::uint64_t read = 0;
    while (reader.next(record)) {
      ++read;
    }
    EXPECT_EQ(read, 20u);
    EXPECT_EQ(reader.tail(), TailState::torn);
  }
  std::unique_ptr<JournalWriter> writer = open_active_segment(base);
  EXPECT_EQ(writer->recovered_tail(), TailState::torn);
  EXPECT_EQ(writer->last_sequence(), 20u);
  writer.reset();

  // The same damage in the sealed segment is no crash's: refused.
  append_bytes(segment_path(base, 1), {'S', 'U', 'J', '1', 9, 9});
  expect_refusal([&] { (void)read_sequences(list_journal_files(base).segments); },
                 {segment_path(base, 1), "sealed but damaged after sequence 10"});
}

TEST(JournalSegments, a_single_file_journal_reads_as_segment_one_and_migrates_by_rename) {
  TempDir dir;
  const std::string base = dir.file("journal");
  {
    JournalWriter old(base); // an older version's journal
    for (std::uint64_t n = 1; n <= 9; ++n) {
      old.append(test_event(n));
    }
  }
  const std::vector<std::uint8_t> bytes = read_bytes(base);
  JournalFiles files = list_journal_files(base);
  ASSERT_EQ(files.segments.size(), 1u);
  EXPECT_EQ(files.segments[0].path, base);
  EXPECT_EQ(read_sequences(files.segments), range(1, 9));
  EXPECT_EQ(ids_of(journaled_liabilities(base)), liability_ids_through(9));

  EXPECT_TRUE(migrate_single_file_journal(base));
  EXPECT_FALSE(fs::exists(base));
  EXPECT_EQ(read_bytes(segment_path(base, 1)), bytes);
  EXPECT_FALSE(migrate_single_file_journal(base)); // once
  EXPECT_EQ(ids_of(journaled_liabilities(base)), liability_ids_through(9));

  write_bytes(base, bytes); // both: which one is the journal?
  expect_refusal([&] { (void)list_journal_files(base); }, {base, segment_path(base, 1), "keep one"});
  expect_refusal([&] { (void)migrate_single_file_journal(base); }, {base, segment_path(base, 1)});
}

TEST(JournalIdIndex, round_trips_and_names_every_damage) {
  TempDir dir;
  const std::string path = dir.file("journal.00000000000000000001.ids");
  std::string problem = "stale";
  EXPECT_FALSE(read_id_index(path, problem).has_value());
  EXPECT_TRUE(problem.empty()); // missing is no problem: the segment rebuilds it

  SegmentIdIndex index;
  index.first_sequence = 1;
  index.last_sequence = 40;
  index.liabilities.push_back(
      {4, hedging::LiabilityChange{77, hedging::UsdCents{-5}, hedging::Sats{1234}, hedging::Price{99}, {}}, ""});
  // With the payment id it came from, any bytes (the first entry: an older record without one).
  index.liabilities.push_back(
      {39, hedging::LiabilityChange{78, hedging::UsdCents{6}, {}, {}, {}}, std::string("w-\x00\x01\xff", 5)});
  write_id_index(path, index);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  std::optional<SegmentIdIndex> read = read_id_index(path, problem);
  ASSERT_TRUE(read.has_value()) << problem;
  EXPECT_EQ(read->last_sequence, 40u);
  ASSERT_EQ(read->liabilities.size(), 2u);
  EXPECT_EQ(read->liabilities[0].sequence, 4u);
  EXPECT_EQ(read->liabilities[0].change.sats, hedging::Sats{1234});
  EXPECT_EQ(read->liabilities[0].change.price, hedging::Price{99});
  EXPECT_TRUE(read->liabilities[0].payment_id.empty());
  EXPECT_EQ(read->liabilities[1].change.id, 78u);
  EXPECT_EQ(read->liabilities[1].payment_id, std::string("w-\x00\x01\xff", 5));

  const std::vector<std::uint8_t> good = read_bytes(path);
  std::vector<std::uint8_t> flipped = good;
  flipped[40] ^= 0x10;
  write_bytes(path, flipped);
  EXPECT_FALSE(read_id_index(path, problem).has_value());
  EXPECT_NE(problem.find(path), std::string::npos) << problem;
  EXPECT_NE(problem.find("CRC32C"), std::string::npos) << problem;
  write_bytes(path, {good.begin(), good.begin() + 20});
  EXPECT_FALSE(read_id_index(path, problem).has_value());
  EXPECT_NE(problem.find("truncated"), std::string::npos) << problem;
}

TEST(JournalScan, reads_indexes_before_the_replay_segment_and_records_from_it) {
  TempDir dir;
  const std::string base = dir.file("journal");
  write_journal(base, 50, {10, 20, 30, 40});
  std::vector<std::uint64_t> replayed;
  const JournalScan scan = scan_journal(
      base, {}, 26, [&](const JournalRecord& record) { replayed.push_back(record.sequence); }, true);
  EXPECT_EQ(replayed, range(26, 50));
  EXPECT_EQ(scan.replay_segment_first, 21u);
  EXPECT_EQ(scan.segments_read, 3u); // 21, 31, 41
  EXPECT_EQ(scan.id_indexes_read, 2u);
  EXPECT_EQ(scan.id_indexes_written, 0u);
  EXPECT_EQ(scan.last_sequence, 50u);
  EXPECT_EQ(ids_of(scan.liabilities), liability_ids_through(50)); // the whole history, in order

  // The replay point at a segment's first record, and past the end.
  EXPECT_EQ(scan_journal(base, {}, 31, nullptr, false).replay_segment_first, 31u);
  const JournalScan after_end = scan_journal(base, {}, 51, nullptr, false);
  EXPECT_EQ(after_end.replay_segment_first, 41u);
  EXPECT_EQ(after_end.id_indexes_read, 4u);
  EXPECT_EQ(ids_of(after_end.liabilities), liability_ids_through(50));
}

TEST(JournalScan, a_deleted_last_segment_is_refused_because_the_one_before_it_was_sealed) {
  TempDir dir;
  const std::string base = dir.file("journal");
  write_journal(base, 30, {10, 20});
  fs::remove(segment_path(base, 21)); // records 21..30, acknowledged, gone
  expect_refusal(
      [&] { (void)scan_journal(base, {}, 1, nullptr, true); },
      {id_index_path(segment_path(base, 11)), "last segment present is " + segment_path(base, 11), "missing"});
  expect_refusal([&] { (void)replay_journal(base, hedging::reference_config()); }, {"the segment after it is missing"});
  EXPECT_FALSE(fs::exists(segment_path(base, 21))); // nothing started in its place

  // Every segment gone, their indexes left: not a first start.
  fs::remove(segment_path(base, 1));
  fs::remove(segment_path(base, 11));
  expect_refusal([&] { (void)scan_journal(base, {}, 1, nullptr, true); },
                 {id_index_path(segment_path(base, 11)), "no segment is there"});
  EXPECT_TRUE(list_journal_files(base).segments.empty());
}

TEST(JournalScan, a_missing_or_damaged_index_is_rebuilt_from_its_segment) {
  TempDir dir;
  const std::string base = dir.file("journal");
  write_journal(base, 30, {10, 20});
  fs::remove(id_index_path(segment_path(base, 1)));
  std::vector<std::uint8_t> damaged = read_bytes(id_index_path(segment_path(base, 11)));
  damaged[30] ^= 1;
  write_bytes(id_index_path(segment_path(base, 11)), damaged);

  const JournalScan read_only = scan_journal(base, {}, 25, nullptr, false);
  EXPECT_EQ(ids_of(read_only.liabilities), liability_ids_through(30));
  EXPECT_EQ(read_only.id_indexes_written, 0u);
  EXPECT_FALSE(fs::exists(id_index_path(segment_path(base, 1))));

  const JournalScan scan = scan_journal(base, {}, 25, nullptr, true);
  EXPECT_EQ(ids_of(scan.liabilities), liability_ids_through(30));
  EXPECT_EQ(scan.id_indexes_written, 2u);
  ASSERT_EQ(scan.index_problems.size(), 1u);
  EXPECT_NE(scan.index_problems[0].find(id_index_path(segment_path(base, 11))), std::string::npos);
  const JournalScan again = scan_journal(base, {}, 25, nullptr, true);
  EXPECT_EQ(again.id_indexes_read, 2u);
  EXPECT_EQ(again.id_indexes_written, 0u);
}

TEST(JournalScan, archived_segments_are_not_needed_but_their_indexes_are) {
  TempDir dir;
  TempDir archive("journal_archive");
  const std::string base = dir.file("journal");
  write_journal(base, 50, {10, 20, 30, 40});
  // The snapshot covers 35: segments 1, 11 and 21 lie wholly before it.
  EXPECT_EQ(archive_sealed_segments(base, archive.path(), 35), 3u);
  EXPECT_EQ(archive.entries(), (std::vector<std::string>{"journal.00000000000000000001", "journal.00000000000000000011",
                                                         "journal.00000000000000000021"}));
  EXPECT_TRUE(fs::exists(id_index_path(segment_path(base, 1)))); // indexes stay
  EXPECT_EQ(archive_sealed_segments(base, archive.path(), 35), 0u);

  const JournalScan scan = scan_journal(base, {}, 36, nullptr, true);
  EXPECT_EQ(scan.replay_segment_first, 31u);
  EXPECT_EQ(ids_of(scan.liabilities), liability_ids_through(50));

  // The whole history (a snapshot that cannot be used) needs the archive.
  expect_refusal([&] { (void)scan_journal(base, {}, 1, nullptr, true); },
                 {"replay must start at sequence 1", segment_path(base, 31), "journal_archive_directory"});
  std::uint64_t replayed = 0;
  (void)scan_journal(
      base, {archive.path()}, 1, [&](const JournalRecord&) { ++replayed; }, true);
  EXPECT_EQ(replayed, 50u);

  // An archived segment whose index is gone too cannot give its ids.
  fs::remove(id_index_path(segment_path(base, 11)));
  expect_refusal([&] { (void)scan_journal(base, {}, 36, nullptr, true); },
                 {"sequences from 11", segment_path(base, 11), id_index_path(segment_path(base, 11))});
  EXPECT_EQ(ids_of(scan_journal(base, {archive.path()}, 36, nullptr, true).liabilities), liability_ids_through(50));
}

TEST(JournalArchive, moves_only_sealed_indexed_segments_the_snapshot_covers) {
  TempDir dir;
  TempDir archive("journal_archive");
  const std::string base = dir.file("journal");
  write_journal(base, 30, {10, 20});
  const std::vector<std::uint8_t> first = read_bytes(segment_path(base, 1));
  EXPECT_EQ(archive_sealed_segments(base, archive.path(), 19), 1u); // 11..20 is not wholly covered
  EXPECT_EQ(read_bytes(archive.file("journal.00000000000000000001")), first);
  EXPECT_FALSE(fs::exists(segment_path(base, 1)));
  fs::remove(id_index_path(segment_path(base, 11)));
  EXPECT_EQ(archive_sealed_segments(base, archive.path(), 1'000), 0u); // no index: it stays
  EXPECT_TRUE(fs::exists(segment_path(base, 21)));                     // the active one, always
}

TEST(JournalArchive, a_move_cut_short_leaves_two_copies_that_read_as_one) {
  TempDir dir;
  TempDir archive("journal_archive");
  const std::string base = dir.file("journal");
  write_journal(base, 30, {10, 20});
  // The crash came after the archived copy was durable, before the unlink.
  fs::copy_file(segment_path(base, 1), archive.file("journal.00000000000000000001"));
  const JournalFiles files = list_journal_files(base, {archive.path()});
  ASSERT_EQ(files.segments.size(), 3u);
  EXPECT_EQ(files.segments[0].path, segment_path(base, 1)); // the live copy wins
  EXPECT_EQ(read_sequences(files.segments), range(1, 30));
  EXPECT_EQ(archive_sealed_segments(base, archive.path(), 20), 2u); // and the move completes
  EXPECT_EQ(read_sequences(list_journal_files(base, {archive.path()}).segments), range(1, 30));
}

TEST(JournalArchive, never_overwrites_another_journals_segment_of_the_same_name) {
  TempDir dir;
  TempDir archive("journal_archive");
  const std::string base = dir.file("journal");
  write_journal(base, 30, {10, 20});
  // Another journal's segment 1, archived there before (a shared archive,
  // or a state directory started anew with the same archive).
  std::vector<std::uint8_t> other = read_bytes(segment_path(base, 1));
  other[40] ^= 0x55;
  write_bytes(archive.file("journal.00000000000000000001"), other);
  expect_refusal([&] { (void)archive_sealed_segments(base, archive.path(), 20); },
                 {archive.file("journal.00000000000000000001"), "not overwriting it"});
  EXPECT_EQ(read_bytes(archive.file("journal.00000000000000000001")), other);
  EXPECT_TRUE(fs::exists(segment_path(base, 1))); // this journal's copy stays too
}

TEST(JournalReplay, reads_every_segment_from_a_base_path_a_directory_and_the_archive) {
  TempDir dir;
  TempDir archive("journal_archive");
  const std::string base = dir.file("journal");
  write_journal(base, 40, {10, 25});
  const hedging::KernelConfig config = hedging::reference_config();
  const ReplayResult whole = replay_journal(base, config);
  EXPECT_EQ(whole.events, 40u);
  EXPECT_EQ(whole.liability_events, 13u);
  EXPECT_EQ(whole.segments, 3u);
  EXPECT_EQ(whole.tail, TailState::clean);
  EXPECT_EQ(replay_journal(dir.path(), config).action_hash, whole.action_hash);

  ASSERT_EQ(archive_sealed_segments(base, archive.path(), 30), 2u);
  expect_refusal([&] { (void)replay_journal(base, config); }, {"sequences 1..25 are missing", "--archive"});
  const ReplayResult archived = replay_journal(base, config, {archive.path()});
  EXPECT_EQ(archived.action_hash, whole.action_hash);
  EXPECT_EQ(archived.state_digest, whole.state_digest);
  expect_refusal([&] { (void)replay_journal(dir.file("nothing"), config); }, {dir.file("nothing"), "no such file"});
}

} // namespace
} // namespace synthusd::engine
