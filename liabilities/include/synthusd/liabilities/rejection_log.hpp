#pragma once
// Writes a source's rejections (rejection_tally.hpp) to the log, rate-limited
// per reason: a reason seen for the first time is written at once; after
// that, one line per reason per `interval` at most, saying how many lines
// were rejected for it since its last line and the latest example. Nothing
// is lost into another reason's line, and a client that sends garbage in a
// loop costs one log line per reason per interval.
//
// Used by the engine's source loop (engine/src/run/source_worker.cpp) on the
// source's own thread; the writer is spdlog there and a vector in tests.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "synthusd/liabilities/rejection_tally.hpp"

namespace synthusd::liabilities {

class RejectionLog {
public:
  using Clock = std::chrono::steady_clock;
  using Writer = std::function<void(const std::string& line)>;
  // Distinct reasons followed at once; further new ones share one line
  // (RejectionTally::kOtherReasons) until some go quiet for an interval.
  static constexpr std::size_t kMaxTrackedReasons = 256;

  // `source` prefixes every line ("lnd", "intake"...).
  RejectionLog(std::string source, Writer writer, std::chrono::milliseconds interval = std::chrono::seconds(10));

  // Takes newly tallied rejections and writes what is due at `now`.
  void add(const std::vector<RejectionCount>& counts, Clock::time_point now);
  // Writes every reason whose interval has passed (all of them with
  // `everything`, as on shutdown); forgets reasons quiet for an interval.
  void flush(Clock::time_point now, bool everything = false);

private:
  struct Reason {
    std::string text;
    std::uint64_t unwritten = 0; // rejected since its last line
    std::uint64_t total = 0;
    std::string example;
    Clock::time_point last_written{};
  };
  void write(Reason& reason, Clock::time_point now);

  std::string source_;
  Writer writer_;
  std::chrono::milliseconds interval_;
  std::vector<Reason> reasons_; // at most kMaxTrackedReasons + 1
};

} // namespace synthusd::liabilities
