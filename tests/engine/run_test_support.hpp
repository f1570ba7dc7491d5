#pragma once
// Helpers shared by the `synthusd run` pipeline tests (run_*_test.cpp): a
// scratch directory, a "this finishes" guard for code that could hang, and a
// one-venue kernel configuration.

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "synthusd/engine/journal.hpp"
#include "synthusd/hedging/config.hpp"
#include "synthusd/hedging/events.hpp"

namespace synthusd::engine::run::testing {

class TempDir {
public:
  explicit TempDir(const std::string& name)
      : path_(std::filesystem::temp_directory_path() /
              ("synthusd_" + name + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

// Runs `body` on its own thread and reports whether it returned within
// `limit` (generous: this is "it does not hang", never a latency claim). A
// body that hangs is left behind detached, so it must own what it uses
// (capture shared_ptrs, not references to the caller's stack).
inline bool finishes(std::function<void()> body, std::chrono::seconds limit = std::chrono::seconds(30)) {
  auto done = std::make_shared<std::atomic<bool>>(false);
  std::thread thread([body = std::move(body), done] {
    body();
    done->store(true);
  });
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done->load() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (done->load()) {
    thread.join();
    return true;
  }
  thread.detach();
  return false;
}

// Polls `condition` until it holds or a generous deadline passes.
template <typename Condition>
bool eventually(Condition condition, std::chrono::seconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

inline std::vector<JournalRecord> read_journal(const std::string& path) {
  std::vector<JournalRecord> records;
  if (!std::filesystem::exists(path)) {
    return records;
  }
  JournalReader reader(path);
  JournalRecord record;
  while (reader.next(record)) {
    records.push_back(record);
  }
  return records;
}

// 2023-11-14 22:13:20 UTC: event times in the tests.
inline constexpr hedging::Timestamp kStart{1'700'000'000LL * 1'000'000'000};

inline hedging::Timestamp at_ms(std::int64_t milliseconds) {
  return kStart + hedging::Duration::from_milliseconds(milliseconds);
}

// One venue (id 1, "okx") with OKX's $100 inverse perpetual (instrument 1).
inline hedging::KernelConfig one_venue_config() {
  hedging::KernelConfig config;
  config.venues = {{1, "okx", 1, hedging::UsdCents{INT64_MAX / 4}}};
  hedging::InstrumentSpec swap;
  swap.id = 1;
  swap.venue = 1;
  swap.symbol = "BTC-USD-SWAP";
  swap.contract_value = hedging::UsdCents{10'000};
  config.instruments = {swap};
  return config;
}

inline hedging::MarketUpdate market_update(std::int64_t dollars, hedging::Timestamp time) {
  hedging::MarketUpdate update;
  update.venue = 1;
  update.instrument = 1;
  update.mark = hedging::Price::from_dollars(dollars);
  update.index = update.mark;
  update.bid = hedging::Price::from_dollars(dollars - 1);
  update.ask = hedging::Price::from_dollars(dollars + 1);
  update.funding_rate = hedging::Ratio::from_ppm(100);
  update.time = time;
  return update;
}

inline hedging::LiabilityChange liability_change(std::uint64_t id, std::int64_t cents, hedging::Timestamp time) {
  return hedging::LiabilityChange{id, hedging::UsdCents{cents}, hedging::Sats{}, hedging::Price{}, time};
}

} // namespace synthusd::engine::run::testing
