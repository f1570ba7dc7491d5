// Kernel snapshots re-signed after an edit (a bug in the writer or a
// deliberate change): the digest no longer protects them, so the kernel's
// own checks must refuse what it could not have written (a bool of two, a
// venue hedging on another venue's instrument, another header) or run on
// safely from it.

#include <gtest/gtest.h>

#include <vector>

#include "event_driver.hpp"
#include "kernel_fixture.hpp"
#include "kernel_snapshot_fixture.hpp"
#include "synthusd/hedging/digest.hpp"

namespace synthusd::hedging {
namespace {

using namespace synthusd::hedging::testing;

// Replaces word `index` and signs the bytes again, as a bug in the writer or
// a deliberate edit would: only the kernel's own checks stand in the way.
std::vector<std::uint8_t> with_word(std::vector<std::uint8_t> bytes, std::size_t index, std::uint64_t word) {
  for (std::size_t b = 0; b < 8; ++b) {
    bytes[index * 8 + b] = static_cast<std::uint8_t>(word >> (8 * b));
  }
  Digest digest;
  const std::size_t words = bytes.size() / 8 - 1;
  for (std::size_t w = 0; w < words; ++w) {
    std::uint64_t value = 0;
    for (std::size_t b = 0; b < 8; ++b) {
      value |= static_cast<std::uint64_t>(bytes[w * 8 + b]) << (8 * b);
    }
    digest.add(value);
  }
  for (std::size_t b = 0; b < 8; ++b) {
    bytes[words * 8 + b] = static_cast<std::uint8_t>(digest.value() >> (8 * b));
  }
  return bytes;
}

std::uint64_t word_at(const std::vector<std::uint8_t>& bytes, std::size_t index) {
  std::uint64_t word = 0;
  for (std::size_t b = 0; b < 8; ++b) {
    word |= static_cast<std::uint64_t>(bytes[index * 8 + b]) << (8 * b);
  }
  return word;
}

// Layout (kernel_snapshot.cpp): 8 header words (magic, version, config
// digest, state digest, slots, venues, order capacity, risk capacity), then
// the state in visit_state order, starting now_, liability_,
// provider_interest_, venue_hedge_, unallocated_, unallocated_alert_raised_.
constexpr std::size_t kHeaderWords = 8;
constexpr std::size_t kStateDigestWord = 3;
constexpr std::size_t kNowWord = 8;
constexpr std::size_t kUnallocatedAlertWord = 13;

TEST(KernelSnapshot, the_resigning_helper_alone_changes_nothing) {
  // guards the tests below: re-signing an unchanged word must still restore
  const Kernel source = busy_kernel(small_config(), 42, 2'000);
  const std::vector<std::uint8_t> bytes = snapshot_of(source);
  EXPECT_EQ(with_word(bytes, kNowWord, word_at(bytes, kNowWord)), bytes);
  Kernel target(small_config());
  ASSERT_TRUE(target.restore_snapshot(with_word(bytes, kNowWord, word_at(bytes, kNowWord) + 5)));
  EXPECT_EQ(target.now(), Timestamp{source.now().nanoseconds + 5});
}

TEST(KernelSnapshot, a_signed_snapshot_with_another_header_is_refused) {
  const Kernel source = busy_kernel(small_config(), 42, 2'000);
  const std::vector<std::uint8_t> bytes = snapshot_of(source);
  Kernel target(small_config());
  const std::uint64_t before = target.full_state_digest();
  for (std::size_t w = 0; w < kHeaderWords; ++w) {
    if (w == kStateDigestWord) {
      continue; // informational: the snapshot file compares it after the restore
    }
    SCOPED_TRACE(w);
    EXPECT_FALSE(target.restore_snapshot(with_word(bytes, w, word_at(bytes, w) + 1)));
    EXPECT_FALSE(target.restore_snapshot(with_word(bytes, w, word_at(bytes, w) - 1)));
  }
  EXPECT_EQ(target.full_state_digest(), before);
}

TEST(KernelSnapshot, the_bytes_name_the_state_digest_of_the_kernel_that_wrote_them) {
  const Kernel source = busy_kernel(small_config(), 42, 2'000);
  std::vector<std::uint8_t> bytes = snapshot_of(source);
  ASSERT_EQ(Kernel::snapshot_state_digest(bytes), source.state_digest());
  EXPECT_EQ(word_at(bytes, kStateDigestWord), source.state_digest());
  EXPECT_FALSE(Kernel::snapshot_state_digest(std::span(bytes).first(bytes.size() - 8)).has_value());
  bytes[100] ^= 0x01;
  EXPECT_FALSE(Kernel::snapshot_state_digest(bytes).has_value());
  EXPECT_FALSE(Kernel::snapshot_state_digest({}).has_value());
}

TEST(KernelSnapshot, a_signed_snapshot_with_a_bool_of_two_is_refused) {
  const Kernel source = busy_kernel(small_config(), 42, 2'000);
  const std::vector<std::uint8_t> bytes = snapshot_of(source);
  Kernel target(small_config());
  EXPECT_FALSE(target.restore_snapshot(with_word(bytes, kUnallocatedAlertWord, 2)));
  EXPECT_TRUE(target.restore_snapshot(with_word(bytes, kUnallocatedAlertWord, 1)));
}

TEST(KernelSnapshot, a_signed_snapshot_whose_venue_hedges_on_another_venues_instrument_is_refused) {
  const Kernel source = busy_kernel(small_config(), 42, 2'000);
  ASSERT_EQ(source.venues()[0].config.id, 1);
  ASSERT_EQ(source.venues()[0].active, 1); // okx hedges on its swap
  const std::vector<std::uint8_t> bytes = snapshot_of(source);
  // after the header, 9 kernel scalars, 8 counters and 28 words per slot;
  // active is a venue's ninth word
  const std::size_t active_word = kHeaderWords + 9 + 8 + 28 * source.slots().size() + 8;
  ASSERT_EQ(word_at(bytes, active_word), 1u);
  Kernel target(small_config());
  EXPECT_FALSE(target.restore_snapshot(with_word(bytes, active_word, 2))); // Deribit's perpetual
  EXPECT_FALSE(target.restore_snapshot(with_word(bytes, active_word, 4))); // no such instrument
  EXPECT_TRUE(target.restore_snapshot(with_word(bytes, active_word, kNoInstrument)));
  EXPECT_EQ(target.venues()[0].active, kNoInstrument);
}

TEST(KernelSnapshot, a_signed_snapshot_with_impossible_values_is_refused_or_runs_on_safely) {
  // The source keeps its driver, so the follow-up below answers the
  // restored kernel's own open orders and transfers.
  Kernel source(small_config());
  EventDriver driver(42);
  std::vector<Action> last;
  for (int i = 0; i < 50'000 && (i < 2'000 || source.open_orders() < 2 || !risk_hedge_open(source)); ++i) {
    const std::span<const Action> actions = source.on(driver.next(last));
    last.assign(actions.begin(), actions.end());
  }
  ASSERT_GE(source.open_orders(), 2u);
  ASSERT_TRUE(risk_hedge_open(source));
  const std::vector<std::uint8_t> bytes = snapshot_of(source);
  const std::size_t words = bytes.size() / 8 - 1; // the last word is the digest
  std::size_t refused = 0;
  for (std::size_t w = kHeaderWords; w < words; ++w) {
    for (const std::uint64_t value : {std::uint64_t{2}, std::uint64_t{9}, std::uint64_t{1'000}}) {
      Kernel target(small_config());
      const std::uint64_t before = target.full_state_digest();
      const std::vector<std::uint8_t> edited = with_word(bytes, w, value);
      if (!target.restore_snapshot(edited)) {
        ++refused;
        ASSERT_EQ(target.full_state_digest(), before);
        continue;
      }
      // What is accepted is taken exactly: nothing rounded, moved or dropped
      // (only the recorded state digest now names the edited state).
      ASSERT_EQ(snapshot_of(target), with_word(edited, kStateDigestWord, target.state_digest()))
          << "word " << w << " = " << value;
      // Accepted: a value the kernel could hold (a slot, order or hedge
      // index in range, a bool of 0 or 1...). It must run on without touching
      // memory it does not own: the sanitizer build fails here if it does.
      EventDriver follow = driver;
      std::vector<Action> follow_last = last;
      for (int i = 0; i < 200; ++i) {
        const std::span<const Action> actions = target.on(follow.next(follow_last));
        follow_last.assign(actions.begin(), actions.end());
      }
    }
  }
  EXPECT_GT(refused, 0u);
}

} // namespace
} // namespace synthusd::hedging
