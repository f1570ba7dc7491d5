#pragma once
// The wire-to-wire harness: three paths measured one after the other in one
// run, through the same kind of sockets (loopback TCP, TCP_NODELAY) and on
// the same fixed schedule.
//
//   floor    a minimal process: read a frame, write a FIX-sized reply
//   engine   a real `synthusd run`: ticks on its WebSocket feed and payments
//            on its TCP intake in, NewOrderSingles out on its FIX session
//   default  QuickFIX as its examples use it: a new message per order,
//            FileStore + FileLog (quickfix_default_peer.cpp)
//
// Latency of one order: from the last byte of its trigger written to the
// NewOrderSingle read, where "written" is charged from the schedule's
// intended send time whenever the harness itself was late (so a stall of the
// system under test delays the next sends and is counted in them, not
// hidden: no coordinated omission).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "engine_process.hpp"
#include "histogram.hpp"

namespace synthusd::latency {

struct HarnessOptions {
  std::filesystem::path self;                    // this program, for the peers
  std::filesystem::path engine;                  // build/synthusd
  std::filesystem::path output;                  // build/bench
  std::int64_t interval_nanoseconds = 1'000'000; // one trigger per slot
  int engine_slots = 20'000; // 8 slots a cycle: 1 price jump, 1 payment (both cause an order), 6 small ticks
  int warmup_cycles = 4;     // cycles measured into no histogram
  bool plots = true;
  EngineSettings engine_settings; // wait mode and CPUs; ports are filled in
};

// One path's counts: every trigger expected to cause an order either got one
// (matched: its latency is in the histogram) or none within a second
// (missing); an order no trigger explains is unexpected.
struct PathResult {
  std::string name;
  std::string spans;
  Histogram histogram;
  std::uint64_t expected = 0;
  std::uint64_t matched = 0;
  std::uint64_t missing = 0;
  std::uint64_t unexpected = 0;
  std::uint64_t late_sends = 0; // triggers the harness wrote after their intended time (charged from it)
};

struct HarnessResult {
  PathResult floor;
  PathResult tick_to_order;
  PathResult payment_to_order;
  PathResult quickfix_default;
  std::uint64_t ticks_sent = 0;
  std::uint64_t payments_sent = 0;
  std::string engine_failure; // empty when the engine phase ran
};

// Runs the three phases; throws std::runtime_error on a setup failure of the
// harness itself (an engine that fails is reported in engine_failure).
[[nodiscard]] HarnessResult run_harness(const HarnessOptions& options);

} // namespace synthusd::latency
