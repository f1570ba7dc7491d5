#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "intake_test_support.hpp"
#include "liability_test_sinks.hpp"
#include "synthusd/liabilities/liability_intake.hpp"

namespace synthusd::liabilities {
namespace {

using namespace std::chrono_literals;
using namespace intake_test;

class TempPath {
public:
  explicit TempPath(const std::string& name)
      : path_(std::filesystem::temp_directory_path() / (name + std::to_string(::getpid()))) {
    std::filesystem::remove(path_);
  }
  ~TempPath() { std::filesystem::remove(path_); }
  [[nodiscard]] std::string string() const { return path_.string(); }

private:
  std::filesystem::path path_;
};

int connect_unix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strcpy(address.sun_path, path.c_str());
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  return fd;
}

// The liability deltas a journal holds, in order.
std::vector<std::int64_t> journaled_deltas(const std::string& path) {
  engine::JournalReader reader(path);
  engine::JournalRecord record;
  std::vector<std::int64_t> deltas;
  while (reader.next(record)) {
    deltas.push_back(std::get<hedging::LiabilityChange>(record.event).delta.value);
  }
  return deltas;
}

TEST(LiabilityIntake, acks_after_the_journal_is_durable_dedupes_and_rejects_without_dropping_the_connection) {
  TempPath journal_path("synthusd_intake_journal_");
  engine::JournalWriter journal(journal_path.string());
  RecordingSink sink(journal, [] { return hedging::Price{}; });
  const auto& delivered = sink.delivered;
  LiabilityAdmission admission(sink, hedging::Ratio{}, AdmissionLimits{}, clock_at(1'700'000'000'000));
  IntakeOptions options;
  options.tcp_port = 0;
  LiabilityIntake intake(options, admission);
  const int fd = connect_tcp(intake.tcp_port());
  const auto answers = exchange(intake, fd,
                                R"({"id":"w-1","kind":"usd_credit","usd_cents":2500,"ts":1700000000000,"pay_index":7})"
                                "\n"
                                R"({"id":"w-1","kind":"usd_credit","usd_cents":2500,"ts":1700000000000})"
                                "\n"
                                "garbage\n"
                                R"({"id":"w-2","kind":"usd_debit","usd_cents":1000,"ts":1700000001000})"
                                "\n",
                                4);
  ASSERT_EQ(answers.size(), 4u);
  EXPECT_EQ(answers[0], R"({"ack":"w-1","sequence":1,"pay_index":7})");
  EXPECT_EQ(answers[1], R"({"ack":"w-1","duplicate":true})");
  EXPECT_EQ(answers[2], R"({"reject":"","reason":"not a JSON object"})");
  EXPECT_EQ(answers[3], R"({"ack":"w-2","sequence":2})");
  EXPECT_EQ(journal.durable_sequence(), 2u); // durable before the acks went out
  ASSERT_EQ(delivered.size(), 2u);
  EXPECT_EQ(delivered[0].delta, hedging::UsdCents{2500});
  EXPECT_EQ(delivered[1].delta, hedging::UsdCents{-1000});
  EXPECT_EQ(delivered[0].id, liability_event_id("w-1"));
  EXPECT_EQ(intake.counters().rejected, 1u);
  EXPECT_EQ(intake.counters().duplicates, 1u);
  ::close(fd);

  // What the journal holds is exactly what was acknowledged.
  const std::vector<std::int64_t> deltas = journaled_deltas(journal_path.string());
  EXPECT_EQ(deltas, (std::vector<std::int64_t>{2500, -1000}));
}

TEST(LiabilityIntake, hostile_lines_are_refused_with_their_reason_and_the_journal_stays_exact) {
  TempPath journal_path("synthusd_intake_hostile_");
  engine::JournalWriter journal(journal_path.string());
  RecordingSink sink(journal, [] { return hedging::Price{}; });
  LiabilityAdmission admission(sink, hedging::Ratio{}, AdmissionLimits{}, [] { return 1'700'000'000'000; });
  IntakeOptions options;
  options.tcp_port = 0;
  LiabilityIntake intake(options, admission);
  const int fd = connect_tcp(intake.tcp_port());
  const auto answers =
      exchange(intake, fd,
               // a day ahead of the engine's clock; microseconds; int64 max twice;
               // an unknown field; the same id with another amount; a control
               // character in an id, echoed exactly
               R"({"id":"far","kind":"usd_credit","usd_cents":100,"ts":1700086400000})"
               "\n"
               R"({"id":"micro","kind":"usd_credit","usd_cents":100,"ts":1700000000000000})"
               "\n"
               R"({"id":"max-1","kind":"usd_credit","usd_cents":9223372036854775807,"ts":1700000000000})"
               "\n"
               R"({"id":"max-2","kind":"usd_credit","usd_cents":9223372036854775807,"ts":1700000000000})"
               "\n"
               R"({"id":"eur","kind":"usd_credit","usd_cents":100,"currency":"EUR","ts":1700000000000})"
               "\n"
               R"({"id":"p-1","kind":"usd_credit","usd_cents":100,"ts":1700000000000})"
               "\n"
               R"({"id":"p-1","kind":"usd_credit","usd_cents":90000,"ts":1700000000000})"
               "\n"
               R"({"id":"ctl\u0001x","kind":"usd_credit","usd_cents":5,"ts":1700000000000})"
               "\n",
               8);
  ASSERT_EQ(answers.size(), 8u);
  EXPECT_EQ(answers[0],
            R"({"reject":"far","reason":"ts is ahead of the engine's clock by more than the allowed window"})");
  EXPECT_EQ(answers[1], R"({"reject":"","reason":"ts must be Unix milliseconds"})");
  EXPECT_EQ(answers[2], R"({"reject":"max-1","reason":"usd_cents above the per-payment limit"})");
  EXPECT_EQ(answers[3], R"({"reject":"max-2","reason":"usd_cents above the per-payment limit"})");
  EXPECT_EQ(answers[4], R"({"reject":"","reason":"unknown field 'currency'"})");
  EXPECT_EQ(answers[5], R"({"ack":"p-1","sequence":1})");
  EXPECT_EQ(answers[6], R"({"reject":"p-1","reason":"id already admitted with another kind or amount"})");
  EXPECT_EQ(answers[7], R"({"ack":"ctl\u0001x","sequence":2})");
  EXPECT_EQ(admission.counters().conflicts, 1u);
  ::close(fd);

  // Only the two acknowledged events reached the journal, exactly.
  const std::vector<std::int64_t> deltas = journaled_deltas(journal_path.string());
  EXPECT_EQ(deltas, (std::vector<std::int64_t>{100, 5}));
}

TEST(LiabilityIntake, a_client_that_writes_and_never_reads_cannot_make_the_answers_grow_without_bound) {
  ManualSink sink;
  sink.room = 1'000'000;
  sink.auto_durable = true;
  LiabilityAdmission admission(sink, hedging::Ratio{}, AdmissionLimits{}, clock_at(1'700'000'000'000));
  IntakeOptions options;
  options.tcp_port = 0;
  // The smallest cap: a poll reads at most 16 KiB from a connection (about
  // 230 of these lines, 7 KiB of answers), and the kernel's send buffer
  // grows to megabytes before a send blocks.
  options.max_output_bytes = 4 * 1024;
  LiabilityIntake intake(options, admission);
  // A small receive buffer on the client, so that the answers it does not
  // read back up into the intake quickly.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(intake.tcp_port()));
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);

  // Flood without reading, until the intake stops reading us (our sends
  // stall) or 40,000 lines went out.
  std::string unsent;
  std::size_t sent_lines = 0;
  std::size_t largest_buffer = 0;
  int stalled_polls = 0;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (sent_lines < 40'000 && stalled_polls < 200 && std::chrono::steady_clock::now() < deadline) {
    if (unsent.empty()) {
      unsent = R"({"id":"flood-)" + std::to_string(sent_lines) +
               R"(","kind":"usd_credit","usd_cents":1,"ts":1700000000000})"
               "\n";
    }
    const ssize_t n = ::send(fd, unsent.data(), unsent.size(), MSG_DONTWAIT);
    if (n > 0) {
      unsent.erase(0, static_cast<std::size_t>(n));
      sent_lines += unsent.empty() ? 1 : 0;
      stalled_polls = 0;
    } else {
      ++stalled_polls;
    }
    (void)intake.poll_once(0);
    largest_buffer = std::max(largest_buffer, intake.buffered_answer_bytes());
  }
  EXPECT_GT(intake.counters().paused, 0u) << "the intake never stopped reading a client that does not read";
  // Bounded: the cap plus what one read of at most 16 lines' worth of bytes answers.
  EXPECT_LE(largest_buffer, options.max_output_bytes + 64 * 1024);

  // Now the client reads: every line it sent is answered, in order, once.
  std::string received;
  std::size_t answers = 0;
  std::size_t expected_sequence = 1;
  const auto drain_deadline = std::chrono::steady_clock::now() + 20s;
  while (answers < sent_lines && std::chrono::steady_clock::now() < drain_deadline) {
    if (!unsent.empty()) {
      const ssize_t n = ::send(fd, unsent.data(), unsent.size(), MSG_DONTWAIT);
      if (n > 0) {
        unsent.erase(0, static_cast<std::size_t>(n));
        sent_lines += unsent.empty() ? 1 : 0;
      }
    }
    (void)intake.poll_once(1);
    std::vector<std::string> lines;
    take_lines(fd, received, lines);
    for (const std::string& line : lines) {
      ASSERT_EQ(line, R"({"ack":"flood-)" + std::to_string(answers) + R"(","sequence":)" +
                          std::to_string(expected_sequence) + "}");
      ++answers;
      ++expected_sequence;
    }
  }
  EXPECT_EQ(answers, sent_lines);
  EXPECT_EQ(sink.taken.size(), sent_lines);
  ::close(fd);
}

TEST(LiabilityIntake, converts_sats_at_the_index_price_against_the_user_holding_them_until_there_is_one) {
  TempPath journal_path("synthusd_intake_sats_");
  TempPath socket_path("synthusd_intake_socket_");
  engine::JournalWriter journal(journal_path.string());
  hedging::Price price{};
  RecordingSink sink(journal, [&] { return price; });
  const auto& delivered = sink.delivered;
  LiabilityAdmission admission(sink, hedging::Ratio::from_ppm(10'000), AdmissionLimits{}, clock_at(0)); // 1 % spread
  IntakeOptions options;
  options.unix_socket_path = socket_path.string();
  LiabilityIntake intake(options, admission);
  const int fd = connect_unix(socket_path.string());
  // No price yet: neither guessed nor refused (a refused payment would be
  // lost to the liability); held, with the lines after it, until one exists.
  (void)exchange(intake, fd,
                 R"({"id":"c-1","kind":"usd_credit","sats":10000,"ts":1})"
                 "\n"
                 R"({"id":"c-2","kind":"usd_debit","sats":10000,"ts":2})"
                 "\n",
                 0);
  for (int round = 0; round < 20; ++round) {
    (void)intake.poll_once(1);
  }
  char byte = 0;
  EXPECT_EQ(::recv(fd, &byte, 1, MSG_DONTWAIT), -1);
  EXPECT_TRUE(delivered.empty());
  EXPECT_GT(intake.counters().backpressure, 0u);
  price = hedging::Price::from_dollars(50'000);
  const auto answers = exchange(intake, fd, "", 2);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0], R"({"ack":"c-1","sequence":1})");
  ASSERT_EQ(delivered.size(), 2u);
  // credit at $49,500: 10,000 sats = $4.95; debit at $50,500: $5.05
  EXPECT_EQ(delivered[0].delta, hedging::UsdCents{495});
  EXPECT_EQ(delivered[0].price, hedging::Price::from_dollars(49'500));
  EXPECT_EQ(delivered[1].delta, hedging::UsdCents{-505});
  EXPECT_EQ(delivered[1].price, hedging::Price::from_dollars(50'500));
  ::close(fd);
}

TEST(LiabilityIntake, provider_and_risk_lines_need_no_index_price_and_are_answered_at_once) {
  TempPath journal_path("synthusd_intake_other_");
  TempPath socket_path("synthusd_intake_socket_");
  engine::JournalWriter journal(journal_path.string());
  RecordingSink sink(journal, [] { return hedging::Price{}; }); // no index price at all
  LiabilityAdmission admission(sink, hedging::Ratio{}, AdmissionLimits{}, clock_at(0));
  IntakeOptions options;
  options.unix_socket_path = socket_path.string();
  LiabilityIntake intake(options, admission);
  const int fd = connect_unix(socket_path.string());
  const auto answers =
      exchange(intake, fd,
               R"({"id":"r-1","kind":"risk_position","market":7,"position":1,"notional_usd_cents":500,"ts":1})"
               "\n"
               R"({"id":"p-1","kind":"provider_increase","provider":"alice","usd_cents":700,"ts":2})"
               "\n",
               2);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0], R"({"ack":"r-1","sequence":1})");
  EXPECT_EQ(answers[1], R"({"ack":"p-1","sequence":2})");
  ASSERT_EQ(sink.delivered_inputs.size(), 2u);
  EXPECT_EQ(std::get<hedging::ExternalRiskPosition>(sink.delivered_inputs[0]).notional, hedging::UsdCents{500});
  EXPECT_EQ(std::get<hedging::ProviderInterestChange>(sink.delivered_inputs[1]).delta, hedging::UsdCents{700});
  ::close(fd);
}

TEST(LiabilityIntake, an_oversized_line_is_rejected_and_the_next_one_is_read) {
  TempPath journal_path("synthusd_intake_big_");
  engine::JournalWriter journal(journal_path.string());
  IntakeOptions options;
  options.tcp_port = 0;
  options.max_line_bytes = 256;
  engine::JournalLiabilitySink sink(journal, [] { return hedging::Price{}; });
  LiabilityAdmission admission(sink, hedging::Ratio{}, AdmissionLimits{}, clock_at(0));
  LiabilityIntake intake(options, admission);
  const int fd = connect_tcp(intake.tcp_port());
  const auto answers = exchange(
      intake, fd, std::string(1000, 'x') + "\n" + R"({"id":"ok","kind":"usd_credit","usd_cents":1,"ts":1})" + "\n", 2);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0], R"({"reject":"","reason":"line longer than 256 bytes"})");
  EXPECT_EQ(answers[1], R"({"ack":"ok","sequence":1})");
  ::close(fd);
}

TEST(LiabilityIntake, after_a_restart_an_event_already_journaled_is_a_duplicate) {
  TempPath journal_path("synthusd_intake_restart_");
  {
    engine::JournalWriter journal(journal_path.string());
    IntakeOptions options;
    options.tcp_port = 0;
    engine::JournalLiabilitySink sink(journal, [] { return hedging::Price{}; });
    LiabilityAdmission admission(sink, hedging::Ratio{}, AdmissionLimits{}, clock_at(0));
    LiabilityIntake intake(options, admission);
    const int fd = connect_tcp(intake.tcp_port());
    ASSERT_EQ(exchange(intake, fd,
                       R"({"id":"r-1","kind":"usd_credit","usd_cents":9,"ts":1})"
                       "\n",
                       1)
                  .size(),
              1u);
    ::close(fd);
  }
  engine::JournalWriter journal(journal_path.string());
  IntakeOptions options;
  options.tcp_port = 0;
  RecordingSink sink(journal, [] { return hedging::Price{}; });
  LiabilityAdmission admission(sink, hedging::Ratio{}, AdmissionLimits{}, clock_at(0));
  engine::remember_journaled_ids(admission, journal_path.string());
  LiabilityIntake intake(options, admission);
  const int fd = connect_tcp(intake.tcp_port());
  const auto answers = exchange(intake, fd,
                                R"({"id":"r-1","kind":"usd_credit","usd_cents":9,"ts":1})"
                                "\n",
                                1);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0], R"({"ack":"r-1","duplicate":true})");
  EXPECT_TRUE(sink.delivered.empty());
  ::close(fd);
}

TEST(LiabilityIntake, no_ack_and_no_duplicate_ack_before_the_event_is_durable) {
  ManualSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{}, AdmissionLimits{}, clock_at(0));
  IntakeOptions options;
  options.tcp_port = 0;
  LiabilityIntake intake(options, admission);
  const int fd = connect_tcp(intake.tcp_port());
  const std::string line = R"({"id":"d-1","kind":"usd_credit","usd_cents":5,"ts":1})"
                           "\n";
  // sent twice (a client retrying after a timeout): neither answer may go out yet
  (void)exchange(intake, fd, line + line, 0);
  for (int round = 0; round < 20; ++round) {
    (void)intake.poll_once(1);
  }
  char byte = 0;
  EXPECT_EQ(::recv(fd, &byte, 1, MSG_DONTWAIT), -1); // nothing answered yet
  ASSERT_EQ(sink.taken.size(), 1u);
  sink.durable = 1;
  const auto answers = exchange(intake, fd, "", 2);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0], R"({"ack":"d-1","sequence":1})");
  EXPECT_EQ(answers[1], R"({"ack":"d-1","duplicate":true})");
  ::close(fd);
}

TEST(LiabilityIntake, a_full_queue_holds_lines_back_without_losing_or_reordering_them) {
  ManualSink sink;
  sink.room = 2;
  LiabilityAdmission admission(sink, hedging::Ratio{}, AdmissionLimits{}, clock_at(0));
  IntakeOptions options;
  options.tcp_port = 0;
  LiabilityIntake intake(options, admission);
  const int fd = connect_tcp(intake.tcp_port());
  std::string lines;
  for (int i = 1; i <= 5; ++i) {
    lines += R"({"id":"q-)" + std::to_string(i) + R"(","kind":"usd_credit","usd_cents":)" + std::to_string(i) +
             R"(,"ts":1})" + "\n";
  }
  (void)exchange(intake, fd, lines, 0);
  for (int round = 0; round < 50 && sink.taken.size() < 2; ++round) {
    (void)intake.poll_once(1);
  }
  EXPECT_EQ(sink.taken.size(), 2u);
  EXPECT_GT(intake.counters().backpressure, 0u);
  sink.room = 5; // the kernel drained its queue
  sink.durable = 5;
  const auto answers = exchange(intake, fd, "", 5);
  ASSERT_EQ(answers.size(), 5u);
  ASSERT_EQ(sink.taken.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(sink.taken[static_cast<std::size_t>(i)].delta, hedging::UsdCents{i + 1});
    EXPECT_EQ(answers[static_cast<std::size_t>(i)],
              R"({"ack":"q-)" + std::to_string(i + 1) + R"(","sequence":)" + std::to_string(i + 1) + "}");
  }
  ::close(fd);
}

TEST(LiabilityIntake,
     a_line_eleven_minutes_old_is_refused_and_never_journaled_nine_minutes_is_taken_history_says_backfill) {
  constexpr std::int64_t kNow = 1'765'000'000'000; // the engine's clock
  constexpr std::int64_t kMinute = 60'000;
  TempPath journal_path("synthusd_intake_window_");
  engine::JournalWriter journal(journal_path.string());
  RecordingSink sink(journal, [] { return hedging::Price::from_dollars(50'000); });
  LiabilityAdmission admission(sink, hedging::Ratio{}, AdmissionLimits{}, clock_at(kNow));
  IntakeOptions options;
  options.tcp_port = 0;
  LiabilityIntake intake(options, admission);
  const int fd = connect_tcp(intake.tcp_port());
  const auto line = [](const char* id, std::int64_t ts, const char* extra = "") {
    return R"({"id":")" + std::string(id) + R"(","kind":"usd_credit","sats":10000,"ts":)" + std::to_string(ts) + extra +
           "}\n";
  };
  const auto answers = exchange(intake, fd,
                                line("eleven", kNow - 11 * kMinute) + line("nine", kNow - 9 * kMinute) +
                                    line("ahead", kNow + 11 * kMinute) +
                                    line("replayed", kNow - 400 * 24 * 60 * kMinute, R"(,"backfill":true)") +
                                    line("seconds", kNow / 1000, R"(,"backfill":true)"),
                                5);
  ASSERT_EQ(answers.size(), 5u);
  EXPECT_EQ(answers[0],
            R"json({"reject":"eleven","reason":"ts is behind the engine's clock by more than the allowed )json"
            R"json(window (a replay of history says \"backfill\":true)"})json");
  EXPECT_EQ(answers[1], R"({"ack":"nine","sequence":1})");
  EXPECT_EQ(answers[2],
            R"({"reject":"ahead","reason":"ts is ahead of the engine's clock by more than the allowed window"})");
  EXPECT_EQ(answers[3], R"({"ack":"replayed","sequence":2})"); // 400 days old, but history
  // A ts in seconds reads as January 1970: outside even the backfill window.
  EXPECT_EQ(answers[4], R"({"reject":"seconds","reason":"backfill ts is older than the backfill window"})");
  EXPECT_EQ(intake.counters().rejected, 3u);
  ::close(fd);

  // Only the two admitted reached the journal; the old one with its own ts.
  ASSERT_EQ(sink.delivered.size(), 2u);
  EXPECT_EQ(sink.delivered[0].id, liability_event_id("nine"));
  EXPECT_EQ(sink.delivered[1].id, liability_event_id("replayed"));
  EXPECT_EQ(sink.delivered[1].time.nanoseconds, (kNow - 400 * 24 * 60 * kMinute) * 1'000'000);
  EXPECT_EQ(journaled_deltas(journal_path.string()), (std::vector<std::int64_t>{500, 500}));
}

} // namespace
} // namespace synthusd::liabilities
