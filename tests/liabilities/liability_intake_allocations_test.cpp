// A payment through the intake allocates nothing: read, parse, admission
// (deduplication, conversion), the hand-off to the sink and the answer
// written back. On the engine's one-thread hot path the intake is polled by
// the thread that then applies the payment and sends its order, so an
// allocation here is one on the payment -> order path (issue 15).
//
// Counted on this thread only (the intake is polled here; the client is
// this thread too, writing prepared lines and reading into a stack buffer).

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "intake_test_support.hpp"
#include "support/allocation_counter.hpp"
#include "synthusd/liabilities/liability_intake.hpp"

namespace synthusd::liabilities {
namespace {

using namespace intake_test;

constexpr std::int64_t kNowMs = 1'700'000'000'000;

// The kernel's queue as the intake sees it, allocating nothing: tickets in
// order, each durable at once, sats converted at $50,000.
class CountingSink final : public LiabilitySink {
public:
  std::uint64_t submit(const hedging::LiabilityChange& event, std::string_view /*id*/) noexcept override {
    cents += event.delta.value;
    return ++ticket;
  }
  std::uint64_t make_durable() override { return ticket > lag ? ticket - lag : 0; }
  [[nodiscard]] hedging::Price index_price() const noexcept override { return hedging::Price::from_dollars(50'000); }
  std::uint64_t ticket = 0;
  std::uint64_t lag = 0; // durable this many tickets behind the last one
  std::int64_t cents = 0;
};

// Like LND's: "lnd:" and a 64-hex-digit payment hash, too long for any
// string's inline buffer.
std::string payment_line(int i, bool sats) {
  std::string hash = std::to_string(i);
  hash.insert(0, 64 - hash.size(), 'a');
  return std::string("{\"id\":\"lnd:") + hash + "\",\"kind\":\"" + (i % 3 == 2 ? "usd_debit" : "usd_credit") + "\"," +
         (sats ? "\"sats\":" + std::to_string(1000 + i) : "\"usd_cents\":" + std::to_string(100 + i)) +
         ",\"ts\":" + std::to_string(kNowMs) + ",\"pay_index\":" + std::to_string(i) + "}\n";
}

struct Fixture {
  Fixture() : admission(sink, hedging::Ratio{}, AdmissionLimits{}, clock_at(kNowMs)), intake(options(), admission) {
    fd = connect_tcp(intake.tcp_port());
  }
  ~Fixture() { ::close(fd); }
  static IntakeOptions options() {
    IntakeOptions options;
    options.tcp_port = 0;
    return options;
  }
  // Sends one line and polls until its answer is back; returns the answer's
  // length (its text stays in `answer`).
  std::size_t round_trip(const std::string& line) {
    EXPECT_EQ(::send(fd, line.data(), line.size(), 0), static_cast<ssize_t>(line.size()));
    std::size_t got = 0;
    for (int polls = 0; polls < 10'000 && (got == 0 || answer[got - 1] != '\n'); ++polls) {
      (void)intake.poll_once(10);
      const ssize_t n = ::recv(fd, answer + got, sizeof answer - got, MSG_DONTWAIT);
      got += n > 0 ? static_cast<std::size_t>(n) : 0;
    }
    return got;
  }
  CountingSink sink;
  LiabilityAdmission admission;
  LiabilityIntake intake;
  int fd = -1;
  char answer[512]{};
};

TEST(LiabilityIntakeAllocations, an_accepted_or_repeated_payment_allocates_nothing_from_read_to_answer) {
  Fixture f;
  constexpr int kWarmUp = 200;
  constexpr int kMeasured = 2'000;
  std::vector<std::string> lines;
  for (int i = 0; i < kWarmUp + kMeasured; ++i) {
    lines.push_back(payment_line(i, i % 2 == 1)); // dollars and sats in turn
  }
  // Warm-up, with no reserve: the buffers grow to their load, and the
  // deduplication set grows on the spot, counted.
  for (int i = 0; i < kWarmUp; ++i) {
    ASSERT_GT(f.round_trip(lines[static_cast<std::size_t>(i)]), 0U);
  }
  EXPECT_GT(f.admission.seen_ids().growths_on_path(), 0U);
  f.intake.reserve_ahead(); // what the polling thread does when idle
  const std::uint64_t growths_before = f.admission.seen_ids().growths_on_path();
  const auto before = test_support::this_thread_allocation_count();
  std::size_t answered = 0;
  for (int i = kWarmUp; i < kWarmUp + kMeasured; ++i) {
    answered += f.round_trip(lines[static_cast<std::size_t>(i)]) > 0 ? 1 : 0;
  }
  // Repeats of payments already booked: acknowledged as duplicates.
  for (int i = 0; i < 100; ++i) {
    answered += f.round_trip(lines[static_cast<std::size_t>(kWarmUp + i)]) > 0 ? 1 : 0;
  }
  const auto allocations = test_support::this_thread_allocation_count() - before;
  EXPECT_EQ(answered, static_cast<std::size_t>(kMeasured + 100));
  EXPECT_EQ(allocations, 0) << "allocations per payment: " << static_cast<double>(allocations) / (kMeasured + 100);
  EXPECT_EQ(f.intake.counters().accepted, static_cast<std::uint64_t>(kWarmUp + kMeasured));
  EXPECT_EQ(f.intake.counters().duplicates, 100U);
  EXPECT_EQ(f.admission.seen_ids().growths_on_path(), growths_before);
}

// A journal always a commit behind: some answer waits after every poll, so
// the list of waiting answers never empties; it must still hold only what
// waits, not grow (and reallocate) with every answer the connection had.
TEST(LiabilityIntakeAllocations, a_journal_always_a_commit_behind_allocates_nothing_per_payment) {
  Fixture f;
  f.sink.lag = 1;
  constexpr int kWarmUp = 200;
  constexpr int kMeasured = 5'000;
  std::vector<std::string> lines;
  for (int i = 0; i < kWarmUp + kMeasured; ++i) {
    lines.push_back(payment_line(i, false));
  }
  std::size_t answers = 0;
  // Sends line i; polls until the answer to line i - 1 is back (line i's
  // waits for the next commit).
  const auto send = [&](int i) {
    const std::string& line = lines[static_cast<std::size_t>(i)];
    ASSERT_EQ(::send(f.fd, line.data(), line.size(), 0), static_cast<ssize_t>(line.size()));
    for (int polls = 0; polls < 10'000 && (answers < static_cast<std::size_t>(i) ||
                                           f.intake.counters().lines < static_cast<std::uint64_t>(i + 1));
         ++polls) {
      (void)f.intake.poll_once(10);
      const ssize_t n = ::recv(f.fd, f.answer, sizeof f.answer, MSG_DONTWAIT);
      answers += n > 0 ? static_cast<std::size_t>(std::count(f.answer, f.answer + n, '\n')) : 0;
    }
    ASSERT_EQ(answers, static_cast<std::size_t>(i));
    ASSERT_EQ(f.intake.unacknowledged(), 1U);
  };
  for (int i = 0; i < kWarmUp; ++i) {
    send(i);
  }
  f.intake.reserve_ahead();
  const auto before = test_support::this_thread_allocation_count();
  for (int i = kWarmUp; i < kWarmUp + kMeasured; ++i) {
    send(i);
  }
  const auto allocations = test_support::this_thread_allocation_count() - before;
  EXPECT_EQ(allocations, 0) << "allocations per payment: " << static_cast<double>(allocations) / kMeasured;
  EXPECT_EQ(f.intake.counters().accepted, static_cast<std::uint64_t>(kWarmUp + kMeasured));
}

TEST(LiabilityIntakeAllocations, answers_written_in_place_are_the_protocol_answers) {
  Fixture f;
  const std::string first = payment_line(7, false);
  std::size_t got = f.round_trip(first);
  EXPECT_EQ(std::string(f.answer, got),
            "{\"ack\":\"lnd:" + std::string(63, 'a') + "7\",\"sequence\":1,\"pay_index\":7}\n");
  got = f.round_trip(first);
  EXPECT_EQ(std::string(f.answer, got),
            "{\"ack\":\"lnd:" + std::string(63, 'a') + "7\",\"duplicate\":true,\"pay_index\":7}\n");
  got = f.round_trip("{\"id\":\"w-\\\"q\",\"kind\":\"usd_credit\",\"usd_cents\":5,\"ts\":" + std::to_string(kNowMs) +
                     "}\n");
  EXPECT_EQ(std::string(f.answer, got), "{\"ack\":\"w-\\\"q\",\"sequence\":2}\n");
  got = f.round_trip("{\"id\":\"w-3\",\"kind\":\"usd_credit\",\"usd_cents\":-5,\"ts\":1}\n");
  EXPECT_EQ(std::string(f.answer, got), "{\"reject\":\"\",\"reason\":\"usd_cents must be a positive integer\"}\n");
  EXPECT_EQ(f.sink.cents, 100 + 7 + 5);
}

} // namespace
} // namespace synthusd::liabilities
