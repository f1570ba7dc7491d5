// The intake polled by a thread that is not its own (the engine's
// one-thread hot path): its readiness descriptor says when input waits,
// deferred_work() when to look again without input, and no connection
// state leaves the descriptor readable with nothing to do (the poller would
// spin).

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "intake_test_support.hpp"
#include "liability_test_sinks.hpp"
#include "synthusd/liabilities/liability_intake.hpp"

namespace synthusd::liabilities {
namespace {

using namespace std::chrono_literals;
using namespace intake_test;

// An intake on a loopback TCP port over a ManualSink (no index price,
// nothing durable until the test says so).
struct TcpIntake {
  explicit TcpIntake(std::size_t max_output_bytes = IntakeOptions{}.max_output_bytes)
      : admission(sink, hedging::Ratio{}, AdmissionLimits{}, clock_at(0)),
        intake(options(max_output_bytes), admission) {}
  static IntakeOptions options(std::size_t max_output_bytes) {
    IntakeOptions options;
    options.tcp_port = 0;
    options.max_output_bytes = max_output_bytes;
    return options;
  }
  ManualSink sink;
  LiabilityAdmission admission;
  LiabilityIntake intake;
};

// What the one-thread hot path relies on to poll the intake without a
// thread of its own: the epoll descriptor is readable when a client has
// written, and deferred_work() says when lines wait for room or answers
// for durability, so that it is polled again.
TEST(LiabilityIntake, its_readiness_descriptor_and_deferred_work_tell_a_polling_thread_when_to_poll) {
  TcpIntake tcp;
  ManualSink& sink = tcp.sink;
  LiabilityIntake& intake = tcp.intake;
  sink.room = 1;
  const int ready = intake.readiness_fd();
  ASSERT_GE(ready, 0);
  const auto readable = [ready](int timeout_ms) { return descriptor_readable(ready, timeout_ms); };
  EXPECT_FALSE(readable(0));
  const int fd = connect_tcp(intake.tcp_port());
  EXPECT_TRUE(readable(1000)); // the connection waits to be accepted
  EXPECT_EQ(intake.poll_once(0), 0u);
  EXPECT_FALSE(readable(0));
  EXPECT_EQ(intake.deferred_work(), DeferredWork::none);

  const std::string lines = R"({"id":"r-1","kind":"usd_credit","usd_cents":5,"ts":1})"
                            "\n"
                            R"({"id":"r-2","kind":"usd_credit","usd_cents":6,"ts":1})"
                            "\n";
  ASSERT_EQ(::send(fd, lines.data(), lines.size(), 0), static_cast<ssize_t>(lines.size()));
  EXPECT_TRUE(readable(1000));
  EXPECT_EQ(intake.poll_once(0), 1u);                          // room for one line only
  EXPECT_FALSE(readable(0));                                   // everything sent was read: only deferred work is left
  EXPECT_EQ(intake.deferred_work(), DeferredWork::durability); // r-1's answer; r-2 is held back too
  sink.room = 2;
  EXPECT_EQ(intake.poll_once(0), 1u);
  EXPECT_EQ(intake.deferred_work(), DeferredWork::durability); // both answers wait for durability
  sink.durable = 2;
  (void)intake.poll_once(0);
  EXPECT_EQ(intake.deferred_work(), DeferredWork::none);
  char buffer[256];
  const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buffer, static_cast<std::size_t>(n)),
            "{\"ack\":\"r-1\",\"sequence\":1}\n{\"ack\":\"r-2\",\"sequence\":2}\n");

  ::close(fd); // the hang-up is input too, and its connection is closed on the next poll
  EXPECT_TRUE(readable(1000));
  (void)intake.poll_once(0);
  EXPECT_EQ(intake.deferred_work(), DeferredWork::none);
  EXPECT_FALSE(readable(0));
}

// A line held back (no index price for its sats) with more input behind it
// in the socket: the intake does not read that input, so it must not watch
// for it either, or the level-triggered descriptor is readable on every
// wait and the thread polling it spins until the price comes.
TEST(LiabilityIntake, a_held_back_connection_does_not_keep_its_readiness_descriptor_readable) {
  TcpIntake tcp; // no index price
  ManualSink& sink = tcp.sink;
  LiabilityIntake& intake = tcp.intake;
  const int fd = connect_tcp(intake.tcp_port());
  const std::string sats = R"({"id":"h-1","kind":"usd_credit","sats":1000,"ts":1})"
                           "\n";
  ASSERT_EQ(::send(fd, sats.data(), sats.size(), 0), static_cast<ssize_t>(sats.size()));
  for (int i = 0; i < 5 && intake.deferred_work() != DeferredWork::held_back; ++i) {
    (void)intake.poll_once(100);
  }
  ASSERT_EQ(intake.deferred_work(), DeferredWork::held_back);
  const std::string more = R"({"id":"h-2","kind":"usd_credit","usd_cents":5,"ts":1})"
                           "\n";
  ASSERT_EQ(::send(fd, more.data(), more.size(), 0), static_cast<ssize_t>(more.size()));
  std::this_thread::sleep_for(20ms); // not timing the code: the bytes must have reached the socket
  (void)intake.poll_once(0);
  EXPECT_FALSE(descriptor_readable(intake.readiness_fd()));
  EXPECT_TRUE(sink.taken.empty());

  sink.price = hedging::Price::from_dollars(50'000);
  sink.durable = 2;
  const auto answers = exchange(intake, fd, "", 2);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(sink.taken.size(), 2u);
  ::close(fd);
}

// A client that wrote without reading until its connection was paused,
// then went away: its end of input and the failed sends close the
// connection (before, it stayed paused and readable forever: a spinning
// poller and a leaked descriptor).
TEST(LiabilityIntake, a_paused_client_that_goes_away_is_closed_and_leaves_nothing_to_poll) {
  TcpIntake tcp(4096);
  ManualSink& sink = tcp.sink;
  LiabilityIntake& intake = tcp.intake;
  sink.room = 1'000'000;
  const int fd = connect_tcp(intake.tcp_port());
  const int small = 4096;
  ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
  std::string lines;
  for (int i = 0; i < 3000; ++i) {
    lines += R"({"id":"p-)" + std::to_string(i) + R"(","kind":"usd_credit","usd_cents":1,"ts":1})" + "\n";
  }
  std::size_t sent = 0;
  for (int round = 0; round < 2000 && intake.counters().paused == 0; ++round) {
    const ssize_t n = ::send(fd, lines.data() + sent, std::min<std::size_t>(lines.size() - sent, 8192), MSG_DONTWAIT);
    sent += n > 0 ? static_cast<std::size_t>(n) : 0;
    sink.durable = sink.taken.size();
    (void)intake.poll_once(1);
  }
  ASSERT_GT(intake.counters().paused, 0u);
  ::close(fd); // with unread answers: the peer resets
  for (int i = 0; i < 20; ++i) {
    sink.durable = sink.taken.size();
    (void)intake.poll_once(1);
  }
  EXPECT_EQ(intake.unacknowledged(), 0u);
  EXPECT_EQ(intake.buffered_answer_bytes(), 0u);
  EXPECT_EQ(intake.deferred_work(), DeferredWork::none);
  EXPECT_FALSE(descriptor_readable(intake.readiness_fd()));
}

} // namespace
} // namespace synthusd::liabilities
