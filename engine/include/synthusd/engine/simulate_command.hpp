#pragma once
// `synthusd simulate`: a closed-loop hedge run over a generated price path,
// printed step by step, so the kernel can be seen working before any I/O.

#include <cstdint>
#include <iosfwd>
#include <string>

namespace synthusd::engine {

struct SimulateOptions {
  std::uint64_t seed = 1;
  std::size_t steps = 180;     // 4-hour steps: 30 days
  std::string policy;          // stablesats or banded; empty: the config's
  bool with_crash = true;      // -50 % in a day at step 60, +100 % in a day at step 120
  std::size_t print_every = 6; // one line a day
  std::string journal_path;    // record every kernel input here (for synthusd replay)
  std::string config_path;     // venues, instruments and rules from a TOML file; empty: built-in reference
};

// Returns the process exit code: 0 when the hedge ends inside its band and
// nothing was liquidated.
int run_simulate(const SimulateOptions& options, std::ostream& out);

} // namespace synthusd::engine
