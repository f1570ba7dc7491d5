// The payment's part of the one-thread hot path allocates nothing: the
// intake polled through SourcePoller (as HotPath::poll_sources polls it),
// admitted and handed to the kernel's queue (LiabilityChannel), its answer
// written once the journal's durable ticket reaches it. The kernel's part,
// from that queue to the gateway's queue, is
// KernelWorker.the_event_path_allocates_nothing_after_warm_up.

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "liabilities/intake_test_support.hpp"
#include "run/pipeline.hpp"
#include "run/source_worker.hpp"
#include "run/threads.hpp"
#include "support/allocation_counter.hpp"
#include "synthusd/liabilities/liability_intake.hpp"

namespace synthusd::engine::run {
namespace {

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(IntakeOnTheHotPath, a_payment_polled_admitted_queued_and_answered_allocates_nothing_after_warm_up) {
  EventCount wakeup;
  std::atomic<std::int64_t> index_price_raw{hedging::Price::from_dollars(60'000).raw};
  LiabilityChannel channel(1024, wakeup, index_price_raw);
  liabilities::LiabilityAdmission admission(channel, hedging::Ratio{});
  liabilities::IntakeOptions options;
  options.tcp_port = 0;
  liabilities::LiabilityIntake intake(options, admission);
  SourceStatus status;
  status.name = "intake";
  SourcePoller poller(intake, status, &admission);
  const int fd = liabilities::intake_test::connect_tcp(intake.tcp_port());

  constexpr int kWarmUp = 100;
  constexpr int kMeasured = 1'000;
  std::vector<std::string> lines;
  const std::int64_t now = wall_ms();
  for (int i = 0; i < kWarmUp + kMeasured; ++i) {
    std::string hash = std::to_string(i);
    hash.insert(0, 64 - hash.size(), 'c');
    lines.push_back("{\"id\":\"cln:" + hash + "\",\"kind\":\"usd_credit\",\"sats\":" + std::to_string(20'000 + i) +
                    ",\"ts\":" + std::to_string(now) + ",\"pay_index\":" + std::to_string(i) + "}\n");
  }
  char answer[512];
  LiabilityItem item;
  std::size_t answered = 0;
  const auto pay = [&](const std::string& line) {
    ASSERT_EQ(::send(fd, line.data(), line.size(), 0), static_cast<ssize_t>(line.size()));
    std::size_t got = 0;
    for (int polls = 0; polls < 10'000 && (got == 0 || answer[got - 1] != '\n'); ++polls) {
      (void)poller.poll(0);
      // The kernel thread's part, as far as this stage sees it: the event
      // is taken and the journal reports it durable.
      while (channel.queue.pop(item)) {
        channel.durable.store(item.ticket, std::memory_order_release);
      }
      const ssize_t n = ::recv(fd, answer + got, sizeof answer - got, MSG_DONTWAIT);
      got += n > 0 ? static_cast<std::size_t>(n) : 0;
    }
    answered += std::string_view(answer, got).find("\"sequence\":") != std::string_view::npos ? 1 : 0;
  };
  for (int i = 0; i < kWarmUp; ++i) {
    pay(lines[static_cast<std::size_t>(i)]);
  }
  while (intake.reserve_ahead()) { // HotPath does one step whenever a cycle found nothing to do
  }
  const std::uint64_t growths_before = admission.seen_ids().growths_on_path();
  const std::int64_t before = test_support::this_thread_allocation_count();
  for (int i = kWarmUp; i < kWarmUp + kMeasured; ++i) {
    pay(lines[static_cast<std::size_t>(i)]);
  }
  const std::int64_t allocations = test_support::this_thread_allocation_count() - before;
  ::close(fd);

  EXPECT_EQ(answered, static_cast<std::size_t>(kWarmUp + kMeasured));
  EXPECT_EQ(allocations, 0) << static_cast<double>(allocations) / kMeasured << " per payment";
  EXPECT_EQ(status.accepted.load(), static_cast<std::uint64_t>(kWarmUp + kMeasured));
  EXPECT_EQ(channel.submitted(), static_cast<std::uint64_t>(kWarmUp + kMeasured));
  // What /metrics shows of the deduplication set: every id, and no growth
  // on the path once room was made ahead (the warm-up's, before it, count).
  EXPECT_EQ(status.known_ids.load(), static_cast<std::uint64_t>(kWarmUp + kMeasured));
  EXPECT_EQ(status.dedup_growths_on_path.load(), growths_before);
  EXPECT_GT(growths_before, 0U);
}

} // namespace
} // namespace synthusd::engine::run
