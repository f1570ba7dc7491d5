#pragma once
// The wire-to-wire harness: three paths measured one after the other in one
// run, through the same kind of sockets (loopback TCP, TCP_NODELAY) and on
// the same fixed schedule.
//
//   floor    a minimal process: read a frame, write a FIX-sized reply
//   engine   a real `synthusd run`: ticks on its WebSocket feed and payments
//            on its TCP intake in, NewOrderSingles out on its FIX session;
//            once per [engine] hot_path layout asked for (thread per stage,
//            then one thread), each with a fresh process and state
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
  EngineSettings engine_settings; // wait mode and CPUs; ports and hot_path are filled in
  bool thread_per_stage = true;   // measure the engine with [engine] hot_path = "thread_per_stage"
  bool one_thread = true;         // ... and with "one_thread"
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

// One engine phase (one [engine] hot_path layout).
struct EngineRunResult {
  bool measured = false; // the phase was asked for
  PathResult tick_to_order;
  PathResult payment_to_order;
  std::uint64_t ticks_sent = 0;
  std::uint64_t payments_sent = 0;
  std::string failure; // empty when the phase ran
};

struct HarnessResult {
  PathResult floor;
  EngineRunResult thread_per_stage;
  EngineRunResult one_thread;
  PathResult quickfix_default;
};

// Runs the phases; throws std::runtime_error on a setup failure of the
// harness itself (an engine that fails is reported in its phase's failure).
[[nodiscard]] HarnessResult run_harness(const HarnessOptions& options);

} // namespace synthusd::latency
