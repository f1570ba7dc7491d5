// Snapshot files: round trip, atomic replacement, and a named refusal for
// every way a file can be unusable, after which the kernel is untouched and
// recovery replays the whole journal instead.

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "kernel_world.hpp"
#include "synthusd/engine/journal.hpp"
#include "synthusd/engine/snapshot_file.hpp"
#include "synthusd/hedging/backing_ledger.hpp"
#include "synthusd/hedging/digest.hpp"
#include "synthusd/hedging/simulation.hpp"

namespace synthusd::engine {
namespace {

using namespace synthusd::hedging;

// File layout (snapshot_file.hpp): magic, version, then u64 journal
// sequence, config digest, state digest, action hash, action events,
// payload bytes; the payload; u64 ledger bytes; the ledger; a CRC32C.
constexpr std::size_t kStateDigest = 24;
constexpr std::size_t kPayloadLength = 48;
constexpr std::size_t kHeader = 56;

class TempDir {
public:
  TempDir()
      : path_(std::filesystem::temp_directory_path() /
              ("snapshot_file_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }
  [[nodiscard]] std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(path_)) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }

private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Rewrites the trailing CRC32C, as a file written by a buggy or foreign
// writer would carry: only the checks after the CRC can refuse it.
void reseal(std::vector<std::uint8_t>& bytes) {
  const std::size_t checked = bytes.size() - 4;
  const std::uint32_t crc = crc32c({bytes.data(), checked});
  for (int i = 0; i < 4; ++i) {
    bytes[checked + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (8 * i));
  }
}

void put_u64(std::vector<std::uint8_t>& bytes, std::size_t offset, std::uint64_t value) {
  for (std::size_t i = 0; i < 8; ++i) {
    bytes[offset + i] = static_cast<std::uint8_t>(value >> (8 * i));
  }
}

// A small but busy kernel: a seeded stream of every event kind, answering
// the kernel's own orders (some partly filled) and transfers.
Kernel busy_kernel(const KernelConfig& config, std::uint64_t seed, int events) {
  Kernel kernel(config);
  for (const Event& event : World::start()) {
    (void)kernel.on(event);
  }
  World world(seed);
  std::span<const Action> actions;
  for (int i = 0; i < events; ++i) {
    actions = kernel.on(world.next(actions));
  }
  return kernel;
}

TEST(SnapshotFile, round_trips_the_kernel_and_the_journal_sequence) {
  TempDir dir;
  const std::string path = dir.file("kernel.snapshot");
  const Kernel source = busy_kernel(small_config(), 1, 2'000);
  ASSERT_GT(source.counters().orders, 10u);
  write_snapshot_file(path, 12'345, source);

  Kernel target(small_config());
  std::string problem = "stale";
  const std::optional<SnapshotInfo> info = load_snapshot_file(path, target, problem);
  ASSERT_TRUE(info.has_value()) << problem;
  EXPECT_EQ(problem, "");
  EXPECT_EQ(info->journal_sequence, 12'345u);
  EXPECT_EQ(info->state_digest, source.state_digest());
  EXPECT_EQ(target.state_digest(), source.state_digest());
  EXPECT_EQ(target.full_state_digest(), source.full_state_digest());
}

// The kernel and its backing ledger fed the same busy stream (apply_input).
struct Books {
  Kernel kernel;
  BackingLedger ledger;
};

Books busy_books(const KernelConfig& config, std::uint64_t seed, int events) {
  Books books{Kernel(config), BackingLedger(0)};
  books.ledger = BackingLedger(books.kernel.slots().size());
  for (const Event& event : World::start()) {
    (void)apply_input(books.kernel, books.ledger, event);
  }
  World world(seed);
  std::span<const Action> actions;
  for (int i = 0; i < events; ++i) {
    actions = apply_input(books.kernel, books.ledger, world.next(actions));
  }
  return books;
}

TEST(SnapshotFile, round_trips_the_backing_ledger_beside_the_kernel) {
  TempDir dir;
  const std::string path = dir.file("kernel.snapshot");
  const Books source = busy_books(small_config(), 4, 2'000);
  ASSERT_GT(source.ledger.figures(source.kernel).fills, 10u);
  write_snapshot_file(path, 77, source.kernel, 0, 0, &source.ledger);

  Kernel target(small_config());
  BackingLedger ledger(target.slots().size());
  std::string problem;
  ASSERT_TRUE(load_snapshot_file(path, target, problem, &ledger).has_value()) << problem;
  EXPECT_EQ(ledger.state_digest(), source.ledger.state_digest());
  EXPECT_EQ(ledger.figures(target), source.ledger.figures(source.kernel));
}

TEST(SnapshotFile, a_file_without_the_ledger_is_refused_when_the_ledger_is_wanted) {
  TempDir dir;
  const std::string path = dir.file("kernel.snapshot");
  const Books source = busy_books(small_config(), 5, 500);
  write_snapshot_file(path, 7, source.kernel); // no ledger section

  Kernel target(small_config());
  const std::uint64_t fresh_kernel = target.full_state_digest();
  BackingLedger ledger(target.slots().size());
  const std::uint64_t fresh_ledger = ledger.state_digest();
  std::string problem;
  EXPECT_FALSE(load_snapshot_file(path, target, problem, &ledger).has_value());
  EXPECT_NE(problem.find("no backing ledger section"), std::string::npos) << problem;
  EXPECT_EQ(target.full_state_digest(), fresh_kernel); // both stay fresh for the full replay
  EXPECT_EQ(ledger.state_digest(), fresh_ledger);
}

TEST(SnapshotFile, a_damaged_ledger_section_is_refused_and_leaves_both_fresh) {
  TempDir dir;
  const std::string path = dir.file("kernel.snapshot");
  const Books source = busy_books(small_config(), 6, 500);
  write_snapshot_file(path, 7, source.kernel, 0, 0, &source.ledger);
  std::vector<std::uint8_t> bytes = read_bytes(path);
  bytes[bytes.size() - 4 - 20] ^= 0x40; // inside the ledger section, before the CRC
  reseal(bytes);                        // a writer bug, not disk damage: the CRC agrees
  write_bytes(path, bytes);

  Kernel target(small_config());
  const std::uint64_t fresh_kernel = target.full_state_digest();
  BackingLedger ledger(target.slots().size());
  const std::uint64_t fresh_ledger = ledger.state_digest();
  std::string problem;
  EXPECT_FALSE(load_snapshot_file(path, target, problem, &ledger).has_value());
  EXPECT_NE(problem.find("backing ledger section refused"), std::string::npos) << problem;
  EXPECT_EQ(target.full_state_digest(), fresh_kernel);
  EXPECT_EQ(ledger.state_digest(), fresh_ledger);
}

TEST(SnapshotFile, carries_the_action_stream_hash_of_the_same_records) {
  TempDir dir;
  const std::string path = dir.file("kernel.snapshot");
  const Kernel source = busy_kernel(small_config(), 1, 300);
  write_snapshot_file(path, 99, source, 0xabcdef0123456789ULL, 309);
  Kernel target(small_config());
  std::string problem;
  const std::optional<SnapshotInfo> info = load_snapshot_file(path, target, problem);
  ASSERT_TRUE(info.has_value()) << problem;
  EXPECT_EQ(info->action_hash, 0xabcdef0123456789ULL);
  EXPECT_EQ(info->action_events, 309u);
}

SnapshotInfo info_of(const Kernel& kernel, std::uint64_t sequence) {
  SnapshotInfo info;
  info.journal_sequence = sequence;
  info.config_digest = kernel.config_digest();
  info.state_digest = kernel.state_digest();
  info.action_hash = 11;
  info.action_events = 12;
  return info;
}

TEST(SnapshotFile, bytes_serialized_on_the_kernel_thread_make_the_same_file) {
  TempDir dir;
  const Kernel source = busy_kernel(small_config(), 1, 1'000);
  std::vector<std::uint8_t> payload;
  source.write_snapshot(payload);
  write_snapshot_file(dir.file("from_kernel"), 5, source, 11, 12);
  write_snapshot_payload_file(dir.file("from_bytes"), info_of(source, 5), payload);
  EXPECT_EQ(read_bytes(dir.file("from_bytes")), read_bytes(dir.file("from_kernel")));

  Kernel target(small_config());
  std::string problem;
  const std::optional<SnapshotInfo> info = load_snapshot_file(dir.file("from_bytes"), target, problem);
  ASSERT_TRUE(info.has_value()) << problem;
  EXPECT_EQ(info->journal_sequence, 5u);
  EXPECT_EQ(info->config_digest, source.config_digest());
  EXPECT_EQ(info->state_digest, source.state_digest());
  EXPECT_EQ(info->action_hash, 11u);
  EXPECT_EQ(info->action_events, 12u);
  EXPECT_EQ(target.full_state_digest(), source.full_state_digest());
}

TEST(SnapshotFile, bytes_that_are_no_kernel_snapshot_or_another_state_are_not_written) {
  TempDir dir;
  const Kernel source = busy_kernel(small_config(), 1, 300);
  std::vector<std::uint8_t> payload;
  source.write_snapshot(payload);
  const std::string path = dir.file("kernel.snapshot");
  const auto expect_refusal = [&](const SnapshotInfo& info, const std::vector<std::uint8_t>& bytes) {
    try {
      write_snapshot_payload_file(path, info, bytes);
      ADD_FAILURE() << "expected std::runtime_error";
    } catch (const std::runtime_error& error) {
      EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
    }
  };
  std::vector<std::uint8_t> damaged = payload;
  damaged[64] ^= 0x01;
  expect_refusal(info_of(source, 5), damaged);
  SnapshotInfo stale = info_of(source, 5);
  stale.state_digest ^= 1; // digests taken at another moment than the bytes
  expect_refusal(stale, payload);
  EXPECT_TRUE(dir.entries().empty());
}

TEST(SnapshotFile, has_the_documented_header) {
  TempDir dir;
  const std::string path = dir.file("kernel.snapshot");
  const Kernel source = busy_kernel(small_config(), 1, 500);
  write_snapshot_file(path, 0x0102030405060708ULL, source);
  const std::vector<std::uint8_t> bytes = read_bytes(path);
  std::vector<std::uint8_t> payload;
  source.write_snapshot(payload);
  ASSERT_EQ(bytes.size(), kHeader + payload.size() + 8 + 4); // no ledger given: an empty ledger section
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 4), "SUS1");
  EXPECT_EQ(bytes[4], 2);    // version
  EXPECT_EQ(bytes[8], 0x08); // journal sequence, little endian
  EXPECT_EQ(bytes[15], 0x01);
  EXPECT_EQ(bytes[kPayloadLength], payload.size() & 0xff);
  EXPECT_TRUE(std::equal(payload.begin(), payload.end(), bytes.begin() + kHeader));
}

TEST(SnapshotFile, a_missing_file_is_no_problem_and_leaves_the_kernel_fresh) {
  TempDir dir;
  Kernel kernel(small_config());
  const std::uint64_t fresh = kernel.full_state_digest();
  std::string problem = "stale";
  EXPECT_FALSE(load_snapshot_file(dir.file("absent.snapshot"), kernel, problem).has_value());
  EXPECT_EQ(problem, "");
  EXPECT_EQ(kernel.full_state_digest(), fresh);
}

TEST(SnapshotFile, replacing_a_snapshot_leaves_only_the_new_one_and_no_temporary_file) {
  TempDir dir;
  const std::string path = dir.file("kernel.snapshot");
  write_snapshot_file(path, 10, busy_kernel(small_config(), 1, 300));
  const Kernel later = busy_kernel(small_config(), 1, 900);
  write_snapshot_file(path, 20, later);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"kernel.snapshot"});
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

  Kernel target(small_config());
  std::string problem;
  const std::optional<SnapshotInfo> info = load_snapshot_file(path, target, problem);
  ASSERT_TRUE(info.has_value()) << problem;
  EXPECT_EQ(info->journal_sequence, 20u);
  EXPECT_EQ(target.full_state_digest(), later.full_state_digest());
}

TEST(SnapshotFile, a_flipped_payload_byte_is_refused_naming_the_crc) {
  TempDir dir;
  const std::string path = dir.file("kernel.snapshot");
  write_snapshot_file(path, 7, busy_kernel(small_config(), 1, 1'000));
  std::vector<std::uint8_t> bytes = read_bytes(path);
  bytes[kHeader + 100] ^= 0x04;
  write_bytes(path, bytes);

  Kernel kernel(small_config());
  const std::uint64_t fresh = kernel.full_state_digest();
  std::string problem;
  EXPECT_FALSE(load_snapshot_file(path, kernel, problem).has_value());
  EXPECT_NE(problem.find("CRC32C mismatch"), std::string::npos) << problem;
  EXPECT_NE(problem.find(path), std::string::npos) << problem;
  EXPECT_EQ(kernel.full_state_digest(), fresh);
}

TEST(SnapshotFile, every_flipped_byte_and_every_truncation_is_refused_with_a_problem) {
  TempDir dir;
  const std::string path = dir.file("kernel.snapshot");
  write_snapshot_file(path, 7, busy_kernel(small_config(), 1, 1'000));
  const std::vector<std::uint8_t> good = read_bytes(path);
  const std::string damaged_path = dir.file("damaged.snapshot");
  Kernel kernel = busy_kernel(small_config(), 2, 300);
  const std::uint64_t before = kernel.full_state_digest();
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::vector<std::uint8_t> bytes = good;
    bytes[i] ^= 0x10;
    write_bytes(damaged_path, bytes);
    std::string problem;
    ASSERT_FALSE(load_snapshot_file(damaged_path, kernel, problem).has_value()) << "byte " << i;
    ASSERT_FALSE(problem.empty()) << "byte " << i;
  }
  for (std::size_t length = 0; length < good.size(); length += 1 + length / 8) {
    write_bytes(damaged_path, {good.begin(), good.begin() + static_cast<std::ptrdiff_t>(length)});
    std::string problem;
    ASSERT_FALSE(load_snapshot_file(damaged_path, kernel, problem).has_value()) << "length " << length;
    ASSERT_FALSE(problem.empty()) << "length " << length;
  }
  EXPECT_EQ(kernel.full_state_digest(), before);
}

TEST(SnapshotFile, each_header_problem_is_named) {
  TempDir dir;
  const std::string path = dir.file("kernel.snapshot");
  write_snapshot_file(path, 7, busy_kernel(small_config(), 1, 1'000));
  const std::vector<std::uint8_t> good = read_bytes(path);
  // "" when the file loads
  const auto problem_with = [&](const std::vector<std::uint8_t>& bytes) {
    write_bytes(path, bytes);
    Kernel kernel(small_config());
    std::string problem;
    const bool loaded = load_snapshot_file(path, kernel, problem).has_value();
    EXPECT_EQ(loaded, problem.empty()) << problem;
    if (!loaded) {
      EXPECT_EQ(kernel.full_state_digest(), Kernel(small_config()).full_state_digest()) << "refused, yet changed";
    }
    return problem;
  };

  std::vector<std::uint8_t> magic = good;
  magic[0] = 'X';
  reseal(magic);
  EXPECT_NE(problem_with(magic).find("bad magic"), std::string::npos);

  std::vector<std::uint8_t> version = good;
  version[4] = 3;
  reseal(version);
  EXPECT_NE(problem_with(version).find("unsupported version 3"), std::string::npos);

  // Version 1 had no backing ledger: refused, so recovery replays everything.
  std::vector<std::uint8_t> first_version = good;
  first_version[4] = 1;
  reseal(first_version);
  EXPECT_NE(problem_with(first_version).find("unsupported version 1"), std::string::npos);

  std::vector<std::uint8_t> length = good;
  put_u64(length, kPayloadLength, good.size()); // claims more payload than the file holds
  reseal(length);
  EXPECT_NE(problem_with(length).find("payload length"), std::string::npos);

  EXPECT_NE(problem_with({good.begin(), good.begin() + 20}).find("truncated"), std::string::npos);

  // A valid CRC over a payload the kernel refuses (its own digest fails).
  std::vector<std::uint8_t> payload = good;
  payload[kHeader + 200] ^= 0x01;
  reseal(payload);
  EXPECT_NE(problem_with(payload).find("payload refused"), std::string::npos);

  // A valid CRC over a header whose state digest does not match the payload.
  std::vector<std::uint8_t> digest = good;
  put_u64(digest, kStateDigest, 0xdeadbeef);
  reseal(digest);
  EXPECT_NE(problem_with(digest).find("state digest mismatch"), std::string::npos);

  EXPECT_EQ(problem_with(good), ""); // and the untouched file still loads
}

TEST(SnapshotFile, a_snapshot_from_another_config_is_refused_naming_the_config_digest) {
  TempDir dir;
  const std::string path = dir.file("kernel.snapshot");
  write_snapshot_file(path, 7, busy_kernel(small_config(), 1, 1'000));
  KernelConfig other = small_config();
  other.bands.minimum_liability = UsdCents{6'000};
  Kernel kernel(other);
  const std::uint64_t fresh = kernel.full_state_digest();
  std::string problem;
  EXPECT_FALSE(load_snapshot_file(path, kernel, problem).has_value());
  EXPECT_NE(problem.find("config digest mismatch"), std::string::npos) << problem;
  EXPECT_EQ(kernel.full_state_digest(), fresh);
}

TEST(SnapshotFile, an_unwritable_path_throws_naming_it_and_leaves_no_temporary_file) {
  TempDir dir;
  const std::string path = dir.file("missing-directory/kernel.snapshot");
  const Kernel kernel(small_config());
  try {
    write_snapshot_file(path, 1, kernel);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
  }
  EXPECT_TRUE(dir.entries().empty());
}

// The whole recovery: journal every event, snapshot mid-run, "crash", then
// restore the snapshot and replay only the journal tail. The recovered
// kernel must reach the live kernel's state and repeat its tail actions.
TEST(SnapshotFile, snapshot_plus_journal_tail_recovers_the_live_kernel) {
  TempDir dir;
  const std::string journal_path = dir.file("journal");
  const std::string snapshot_path = dir.file("kernel.snapshot");
  Kernel live(small_config());
  ActionStreamHash tail_hash;
  std::uint64_t snapshot_sequence = 0;
  {
    JournalWriter journal(journal_path);
    std::span<const Action> actions;
    const auto apply = [&](const Event& event) {
      const std::uint64_t sequence = journal.append(event);
      actions = live.on(event);
      if (snapshot_sequence != 0) {
        tail_hash.add(actions);
      }
      return sequence;
    };
    for (const Event& event : World::start()) {
      apply(event);
    }
    World world(3);
    for (int i = 0; i < 3'000; ++i) {
      const std::uint64_t sequence = apply(world.next(actions));
      if (i == 1'500) {
        journal.commit();
        write_snapshot_file(snapshot_path, sequence, live);
        snapshot_sequence = sequence;
      }
    }
    journal.commit();
  }
  ASSERT_GT(live.counters().orders, 10u);

  Kernel recovered(small_config());
  std::string problem;
  const std::optional<SnapshotInfo> info = load_snapshot_file(snapshot_path, recovered, problem);
  ASSERT_TRUE(info.has_value()) << problem;
  EXPECT_EQ(info->journal_sequence, snapshot_sequence);
  JournalReader reader(journal_path);
  JournalRecord record;
  ActionStreamHash replayed_hash;
  std::uint64_t replayed = 0;
  while (reader.next(record)) {
    if (record.sequence > info->journal_sequence) {
      replayed_hash.add(recovered.on(record.event));
      ++replayed;
    }
  }
  EXPECT_EQ(reader.tail(), TailState::clean);
  EXPECT_EQ(replayed, 3'000u - 1'501u);
  EXPECT_EQ(replayed_hash.value(), tail_hash.value());
  EXPECT_EQ(recovered.state_digest(), live.state_digest());
  EXPECT_EQ(recovered.full_state_digest(), live.full_state_digest());
}

} // namespace
} // namespace synthusd::engine
