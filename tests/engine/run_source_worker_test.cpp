// The one loop every liability source thread runs (run/source_worker.hpp).
#include "run/source_worker.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace synthusd::engine::run {
namespace {

// What the test tells a scripted source and reads back; it outlives the
// source, which run_source() destroys when it returns.
struct Script {
  std::atomic<int> polls_after_stop{0};
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> unacked{0};
};

// Each poll reads two messages (one accepted, one rejected); once the script
// says stopping, each poll releases one acknowledgement.
class ScriptedSource final : public liabilities::LiabilitySource {
public:
  explicit ScriptedSource(Script& script) : script_(script) {}

  std::size_t poll_once(int /*timeout_ms*/) override {
    counters_.messages += 2;
    counters_.accepted += 1;
    counters_.rejected += 1;
    if (script_.stopping.load()) {
      script_.polls_after_stop.fetch_add(1);
      if (script_.unacked.load() > 0) {
        script_.unacked.fetch_sub(1);
      }
    }
    return 2;
  }
  [[nodiscard]] bool up() const noexcept override { return true; }
  [[nodiscard]] liabilities::SourceCounters source_counters() const noexcept override { return counters_; }
  [[nodiscard]] std::size_t unacknowledged() const noexcept override { return script_.unacked.load(); }

private:
  Script& script_;
  liabilities::SourceCounters counters_;
};

constexpr SourceWorkerTiming kFast{.poll_ms = 1, .retry_ms = 50, .drain_polls = 20, .drain_poll_ms = 1};

TEST(SourceWorker, a_source_that_cannot_be_built_yet_is_retried_until_it_can) {
  SourceStatus status;
  status.name = "scripted";
  std::atomic<bool> stop{false};
  std::atomic<int> attempts{0};
  Script script;
  std::thread thread([&] {
    run_source(
        [&]() -> std::unique_ptr<liabilities::LiabilitySource> {
          if (attempts.fetch_add(1) < 2) {
            throw std::runtime_error("server not up yet");
          }
          return std::make_unique<ScriptedSource>(script);
        },
        status, stop, kFast);
  });
  while (status.lines.load() < 10) {
    std::this_thread::yield();
  }
  EXPECT_TRUE(status.up.load());
  stop.store(true);
  thread.join();
  EXPECT_EQ(attempts.load(), 3);
  EXPECT_FALSE(status.up.load()); // down once stopped
}

TEST(SourceWorker, publishes_the_sources_counters_for_metrics) {
  SourceStatus status;
  status.name = "scripted";
  std::atomic<bool> stop{false};
  Script script;
  std::thread thread(
      [&] { run_source([&] { return std::make_unique<ScriptedSource>(script); }, status, stop, kFast); });
  while (status.rejected.load() < 5) {
    std::this_thread::yield();
  }
  stop.store(true);
  thread.join();
  // The final publish after the loop: lines = 2 per poll, accepted and
  // rejected one each, so lines is exactly twice accepted.
  EXPECT_EQ(status.lines.load(), 2 * status.accepted.load());
  EXPECT_EQ(status.rejected.load(), status.accepted.load());
}

TEST(SourceWorker, on_stop_it_polls_until_everything_durable_is_acknowledged) {
  SourceStatus status;
  status.name = "scripted";
  std::atomic<bool> stop{false};
  Script script;
  script.unacked.store(3);
  std::thread thread(
      [&] { run_source([&] { return std::make_unique<ScriptedSource>(script); }, status, stop, kFast); });
  while (status.lines.load() == 0) {
    std::this_thread::yield();
  }
  stop.store(true);
  script.stopping.store(true); // polls from here on release acknowledgements
  thread.join();
  EXPECT_EQ(script.unacked.load(), 0u);
  // Three acknowledgements take three polls (the loop's last one, if it saw
  // `stopping`, plus the drain's): the drain stops as soon as nothing is
  // left, not after all 20 of its polls.
  EXPECT_EQ(script.polls_after_stop.load(), 3);
}

// A sink that takes everything and is durable at once.
class TakingSink final : public liabilities::LiabilitySink {
public:
  std::uint64_t submit(const hedging::LiabilityChange& /*event*/, std::string_view /*id*/) noexcept override {
    return ++taken;
  }
  std::uint64_t make_durable() override { return taken; }
  [[nodiscard]] hedging::Price index_price() const noexcept override { return {}; }
  std::uint64_t taken = 0;
};

// Admits one payment, then the same id with another amount, once.
class ConflictingSource final : public liabilities::LiabilitySource {
public:
  explicit ConflictingSource(liabilities::LiabilityAdmission& admission) : admission_(admission) {}
  std::size_t poll_once(int /*timeout_ms*/) override {
    if (step_ < 2) {
      liabilities::LiabilityRequest request;
      request.id = "pay-1";
      request.usd_cents = step_ == 0 ? 100 : 999;
      request.ts_ms = 1'700'000'000'000;
      (void)admission_.admit(request);
      ++step_;
    }
    return 0;
  }
  [[nodiscard]] bool up() const noexcept override { return true; }
  [[nodiscard]] liabilities::SourceCounters source_counters() const noexcept override { return {}; }
  [[nodiscard]] std::size_t unacknowledged() const noexcept override { return 0; }

private:
  liabilities::LiabilityAdmission& admission_;
  int step_ = 0;
};

TEST(SourceWorker, an_id_that_comes_back_with_another_amount_is_published_as_a_conflict) {
  TakingSink sink;
  // The engine's clock where the source's ts is (inside the live window).
  liabilities::LiabilityAdmission admission(sink, hedging::Ratio{}, {}, [] { return 1'700'000'000'000; });
  SourceStatus status;
  status.name = "conflicting";
  std::atomic<bool> stop{false};
  std::thread thread([&] {
    run_source([&] { return std::make_unique<ConflictingSource>(admission); }, status, stop, kFast, &admission);
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (status.conflicts.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  stop.store(true);
  thread.join();
  EXPECT_EQ(status.conflicts.load(), 1u);
  EXPECT_EQ(sink.taken, 1u); // the first booking stands, the second was refused
}

TEST(SourceWorker, a_stop_while_the_source_cannot_be_built_returns_without_one) {
  SourceStatus status;
  status.name = "never";
  std::atomic<bool> stop{false};
  std::thread thread([&] {
    run_source([]() -> std::unique_ptr<liabilities::LiabilitySource> { throw std::runtime_error("refused"); }, status,
               stop, kFast);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop.store(true);
  thread.join();
  EXPECT_FALSE(status.up.load());
  EXPECT_EQ(status.lines.load(), 0u);
}

} // namespace
} // namespace synthusd::engine::run
