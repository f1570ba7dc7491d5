#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "synthusd/engine/journal.hpp"
#include "synthusd/engine/replay_command.hpp"
#include "synthusd/engine/simulate_command.hpp"

namespace synthusd::engine {
namespace {

using namespace synthusd::hedging;

class TempFile {
public:
  explicit TempFile(const std::string& name)
      : path_(std::filesystem::temp_directory_path() /
              (name + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++))) {
    std::filesystem::remove(path_);
  }
  ~TempFile() {
    std::filesystem::remove(path_);
    for (int n = 1; n <= 3; ++n) { // the tails a reopen cut and kept
      std::filesystem::remove(path_.string() + ".cut-" + std::to_string(n));
    }
  }
  [[nodiscard]] std::string path() const { return path_.string(); }

private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

std::vector<Event> one_of_each() {
  MarketUpdate market;
  market.venue = 1;
  market.instrument = 1;
  market.bid = Price::from_dollars(49'999);
  market.ask = Price::from_dollars(50'001);
  market.mark = Price::from_dollars(50'000);
  market.index = Price{5'000'012'345'678};
  market.funding_rate = Ratio{-1'234};
  market.next_funding_time = Timestamp{99};
  market.time = Timestamp{7};
  ExternalRiskPosition risk;
  risk.market = 3;
  risk.position_id = 77;
  risk.present = false;
  risk.notional = UsdCents{-5};
  risk.pnl = UsdCents{123};
  risk.time = Timestamp{8};
  return {LiabilityChange{42, UsdCents{-12'345}, Sats{678}, Price::from_dollars(1), Timestamp{1}},
          market,
          ExecutionReport{9, OrderStatus::partially_filled, Contracts{3}, Price::from_dollars(2), Timestamp{2}},
          PositionSnapshot{1, 1, Contracts{-98}, Timestamp{3}},
          CollateralSnapshot{2, Sats{123'456'789}, Timestamp{4}, Sats{23'456'789}},
          TransferCompleted{5, Timestamp{5}},
          TransferFailed{6, Timestamp{6}},
          VenueStatus{3, true, Timestamp{7}},
          Timer{Timestamp{8}},
          risk,
          ProviderInterestChange{11, UsdCents{500}, Timestamp{9}}};
}

bool same(const Event& a, const Event& b) {
  std::array<std::uint8_t, kMaxPayload> x{};
  std::array<std::uint8_t, kMaxPayload> y{};
  const std::size_t nx = encode_event(a, x);
  const std::size_t ny = encode_event(b, y);
  return a.index() == b.index() && nx == ny && x == y;
}

TEST(Crc32c, matches_the_standard_check_value) {
  const std::string text = "123456789";
  EXPECT_EQ(crc32c({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}), 0xE3069283U);
}

// The eight-bytes-a-step table walk against the definition, bit by bit, for
// every length and offset around its step, and continued across two calls.
TEST(Crc32c, equals_the_bitwise_definition_at_every_length_and_offset) {
  const auto bitwise = [](std::span<const std::uint8_t> bytes) {
    std::uint32_t crc = 0xFFFFFFFFU;
    for (const std::uint8_t byte : bytes) {
      crc ^= byte;
      for (int k = 0; k < 8; ++k) {
        crc = (crc & 1U) != 0 ? (crc >> 1) ^ 0x82F63B78U : crc >> 1;
      }
    }
    return ~crc;
  };
  std::vector<std::uint8_t> bytes(64);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<std::uint8_t>(i * 37 + 11);
  }
  for (std::size_t offset = 0; offset < 9; ++offset) {
    for (std::size_t length = 0; offset + length <= bytes.size(); ++length) {
      const std::span<const std::uint8_t> part{bytes.data() + offset, length};
      ASSERT_EQ(crc32c(part), bitwise(part)) << offset << " " << length;
      const std::size_t half = length / 2;
      ASSERT_EQ(crc32c(part.subspan(half), crc32c(part.first(half))), bitwise(part)) << offset << " " << length;
    }
  }
}

TEST(Journal, every_event_type_round_trips_field_by_field) {
  for (const Event& event : one_of_each()) {
    std::array<std::uint8_t, kMaxPayload> bytes{};
    const std::size_t size = encode_event(event, bytes);
    ASSERT_GT(size, 0u);
    Event decoded;
    ASSERT_TRUE(decode_event(static_cast<std::uint8_t>(event.index()), {bytes.data(), size}, decoded)) << event.index();
    EXPECT_TRUE(same(event, decoded)) << event.index();
  }
  const LiabilityChange liability = std::get<LiabilityChange>(one_of_each()[0]);
  Event decoded;
  std::array<std::uint8_t, kMaxPayload> bytes{};
  const std::size_t size = encode_event(liability, bytes);
  ASSERT_TRUE(decode_event(0, {bytes.data(), size}, decoded));
  EXPECT_EQ(std::get<LiabilityChange>(decoded).delta, UsdCents{-12'345});
  EXPECT_FALSE(decode_event(0, {bytes.data(), size - 1}, decoded)); // a short payload is refused
  EXPECT_FALSE(decode_event(200, {bytes.data(), size}, decoded));   // so is an unknown type
}

// Journals written before the venue's withdrawable amount existed hold three
// words for a CollateralSnapshot; they replay as "not reported".
TEST(Journal, a_collateral_snapshot_written_without_the_withdrawable_amount_reads_as_not_reported) {
  const Event event = CollateralSnapshot{2, Sats{123'456'789}, Timestamp{4}, Sats{5}};
  const auto type = static_cast<std::uint8_t>(event.index());
  std::array<std::uint8_t, kMaxPayload> bytes{};
  const std::size_t size = encode_event(event, bytes);
  ASSERT_EQ(size, 32u);
  Event decoded;
  ASSERT_TRUE(decode_event(type, {bytes.data(), 24}, decoded));
  const auto& old = std::get<CollateralSnapshot>(decoded);
  EXPECT_EQ(old.equity, Sats{123'456'789});
  EXPECT_EQ(old.time, Timestamp{4});
  EXPECT_EQ(old.withdrawable, hedging::kWithdrawableUnreported);
  ASSERT_TRUE(decode_event(type, {bytes.data(), size}, decoded));
  EXPECT_EQ(std::get<CollateralSnapshot>(decoded).withdrawable, Sats{5});
  EXPECT_FALSE(decode_event(type, {bytes.data(), 16}, decoded));
  EXPECT_FALSE(decode_event(type, {bytes.data(), 31}, decoded));
}

TEST(Journal, a_written_journal_reads_back_in_order_with_sequences) {
  TempFile file("journal");
  const std::vector<Event> events = one_of_each();
  {
    JournalWriter writer(file.path());
    for (const Event& event : events) {
      (void)writer.append(event);
    }
    EXPECT_EQ(writer.durable_sequence(), 0u); // appended is not durable
    EXPECT_EQ(writer.commit(), events.size());
    EXPECT_EQ(writer.commits(), 1u); // one fdatasync for the whole group
  }
  JournalReader reader(file.path());
  JournalRecord record;
  std::size_t i = 0;
  while (reader.next(record)) {
    EXPECT_EQ(record.sequence, i + 1);
    EXPECT_TRUE(same(record.event, events[i]));
    ++i;
  }
  EXPECT_EQ(i, events.size());
  EXPECT_EQ(reader.tail(), TailState::clean);
}

TEST(Journal, a_torn_tail_is_cut_off_and_appending_continues_the_sequence) {
  TempFile file("journal_torn");
  {
    JournalWriter writer(file.path());
    for (const Event& event : one_of_each()) {
      (void)writer.append(event);
    }
    writer.commit();
  }
  const auto full = std::filesystem::file_size(file.path());
  std::filesystem::resize_file(file.path(), full - 5); // a crash mid-write of the last record
  {
    JournalWriter writer(file.path());
    EXPECT_EQ(writer.recovered_tail(), TailState::torn);
    EXPECT_GT(writer.truncated_bytes(), 0u);
    EXPECT_EQ(writer.last_sequence(), 10u);
    EXPECT_EQ(writer.append(Timer{Timestamp{100}}), 11u);
    writer.commit();
  }
  JournalReader reader(file.path());
  JournalRecord record;
  std::uint64_t count = 0;
  while (reader.next(record)) {
    ++count;
  }
  EXPECT_EQ(count, 11u);
  EXPECT_EQ(reader.tail(), TailState::clean);
}

TEST(Journal, a_corrupt_last_record_is_cut_on_reopen_and_its_bytes_kept_beside_the_file) {
  TempFile file("journal_corrupt");
  {
    JournalWriter writer(file.path());
    for (const Event& event : one_of_each()) {
      (void)writer.append(event);
    }
    writer.commit();
  }
  const std::uintmax_t size = std::filesystem::file_size(file.path());
  {
    std::fstream f(file.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size) - 6); // inside the last record
    f.put('\x7f');
  }
  std::uint64_t whole = 0;
  {
    JournalReader reader(file.path());
    JournalRecord record;
    while (reader.next(record)) {
      ++whole;
    }
    EXPECT_EQ(reader.tail(), TailState::corrupt);
    EXPECT_FALSE(reader.whole_record_after_stop().has_value());
    ASSERT_EQ(whole, one_of_each().size() - 1);
  }
  std::uint64_t valid = 0;
  {
    JournalWriter writer(file.path());
    EXPECT_EQ(writer.recovered_tail(), TailState::corrupt);
    EXPECT_EQ(writer.last_sequence(), whole);
    valid = std::filesystem::file_size(file.path());
    EXPECT_EQ(size - valid, writer.truncated_bytes());
  }
  // What was cut is kept, byte for byte, and a second cut never overwrites it.
  const std::string kept = file.path() + ".cut-1";
  ASSERT_TRUE(std::filesystem::exists(kept));
  EXPECT_EQ(std::filesystem::file_size(kept), size - valid);
  EXPECT_EQ(std::filesystem::status(kept).permissions() & std::filesystem::perms::group_read,
            std::filesystem::perms::none);
  {
    std::ofstream torn(file.path(), std::ios::binary | std::ios::app);
    torn.write("SUJ1\x09\x09", 6); // a crash mid-write
  }
  { JournalWriter writer(file.path()); }
  EXPECT_TRUE(std::filesystem::exists(file.path() + ".cut-2"));
  EXPECT_EQ(std::filesystem::file_size(kept), size - valid);
}

TEST(Journal, damage_followed_by_whole_records_is_refused_not_cut) {
  // One flipped byte early in the file is media damage, not a crash: the
  // records after it were acknowledged and must not be cut away.
  TempFile file("journal_damaged");
  {
    JournalWriter writer(file.path());
    for (const Event& event : one_of_each()) {
      (void)writer.append(event);
    }
    writer.commit();
  }
  {
    std::fstream f(file.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100); // inside the second record
    f.put('\x7f');
  }
  const std::uintmax_t size = std::filesystem::file_size(file.path());
  JournalReader reader(file.path());
  JournalRecord record;
  std::uint64_t count = 0;
  while (reader.next(record)) {
    ++count;
  }
  EXPECT_EQ(reader.tail(), TailState::corrupt);
  EXPECT_EQ(count, 1u);
  ASSERT_TRUE(reader.whole_record_after_stop().has_value());
  EXPECT_EQ(reader.whole_record_after_stop()->sequence, 3u);
  try {
    JournalWriter writer(file.path());
    FAIL() << "cut acknowledged records";
  } catch (const std::runtime_error& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find("whole record with sequence 3"), std::string::npos) << what;
    EXPECT_NE(what.find("truncate -s " + std::to_string(reader.valid_bytes()) + " " + file.path()), std::string::npos)
        << what;
  }
  EXPECT_EQ(std::filesystem::file_size(file.path()), size);
  EXPECT_FALSE(std::filesystem::exists(file.path() + ".cut-1"));
}

// Three timers; the bytes, and where record 2 starts.
std::vector<char> three_records(const std::string& path, std::size_t& second) {
  {
    JournalWriter writer(path);
    for (int i = 1; i <= 3; ++i) {
      (void)writer.append(Timer{Timestamp{i * 1'000'000'000LL}});
    }
    writer.commit();
  }
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::uint32_t length = 0;
  std::memcpy(&length, bytes.data() + 4, 4);
  second = kRecordOverhead + length;
  return bytes;
}

void write_all(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(Journal, a_damaged_length_that_reads_as_a_torn_record_is_refused_when_whole_records_follow) {
  TempFile file("journal_length");
  std::size_t second = 0;
  std::vector<char> bytes = three_records(file.path(), second);
  const std::uint32_t past_the_end = 200; // within the payload bound, beyond the file
  std::memcpy(bytes.data() + second + 4, &past_the_end, 4);
  write_all(file.path(), bytes);
  try {
    JournalWriter writer(file.path());
    FAIL() << "cut records 2 and 3 as a torn tail";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("whole record with sequence 3"), std::string::npos) << error.what();
  }
  EXPECT_EQ(std::filesystem::file_size(file.path()), bytes.size());
}

TEST(Journal, zeros_then_a_whole_record_are_a_crash_tail_and_cut) {
  // A file system may persist the end of the last, unsynced write before
  // its start: zeros, then whole records of that write. Never acknowledged,
  // so a crash's tail: cut (and kept), not refused.
  TempFile file("journal_zeros");
  std::size_t second = 0;
  std::vector<char> bytes = three_records(file.path(), second);
  std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(second + 4),
            bytes.begin() + static_cast<std::ptrdiff_t>(second + 4 + 16), '\0'); // a page never written
  write_all(file.path(), bytes);
  JournalWriter writer(file.path());
  EXPECT_EQ(writer.last_sequence(), 1u);
  EXPECT_EQ(std::filesystem::file_size(file.path()), second);
  EXPECT_TRUE(std::filesystem::exists(file.path() + ".cut-1"));
}

TEST(Replay, simulate_refuses_a_journal_path_that_exists_and_leaves_the_file_as_it_was) {
  // The writer cuts a file back to its last valid record: for a file that
  // is not a journal that was all of it (a config given by mistake was
  // overwritten).
  TempFile file("not_a_journal");
  const std::string text = "[[venues]]\nid = 1\nname = \"deribit\"\n";
  std::ofstream(file.path()) << text;
  SimulateOptions options;
  options.steps = 5;
  options.journal_path = file.path();
  std::ostringstream out;
  try {
    (void)run_simulate(options, out);
    FAIL() << "wrote over " << file.path();
  } catch (const std::invalid_argument& error) {
    EXPECT_EQ(std::string(error.what()), "--journal: " + file.path() + " already exists; give a new file");
  }
  std::ifstream in(file.path());
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), text);
}

TEST(Replay, replaying_a_simulated_run_gives_the_same_action_stream_hash) {
  TempFile file("journal_replay");
  SimulateOptions options;
  options.seed = 9;
  options.steps = 60;
  options.journal_path = file.path();
  options.print_every = 1000;
  std::ostringstream out;
  (void)run_simulate(options, out);
  const std::string text = out.str();
  const auto at = text.find("action stream hash ");
  ASSERT_NE(at, std::string::npos);
  const std::uint64_t live = std::stoull(text.substr(at + 19, 16), nullptr, 16);

  const ReplayResult replayed = replay_journal(file.path(), reference_config());
  EXPECT_EQ(replayed.action_hash, live);
  EXPECT_EQ(replayed.tail, TailState::clean);
  EXPECT_GT(replayed.orders, 10u);
  // and a different configuration gives a different stream: the hash means something
  KernelConfig other = reference_config();
  other.bands.policy = PolicyKind::banded;
  other.bands.low_safe_bound = Ratio::from_ppm(990'000);
  EXPECT_NE(replay_journal(file.path(), other).action_hash, live);
}

} // namespace
} // namespace synthusd::engine
