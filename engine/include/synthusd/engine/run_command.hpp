#pragma once
// `synthusd run --config <file.toml>`: the engine as an operator runs it.

#include <iosfwd>
#include <string>

namespace synthusd::engine {

struct RunOptions {
  std::string config_path;
  double duration_seconds = 0;     // 0: until SIGINT / SIGTERM
  double status_every_seconds = 0; // 0: no status line
  std::string summary_json;        // write the end-of-run summary here too
};

// Returns the process exit code: 0 after a clean stop with the hedge inside
// its band and no liability event lost; 1 otherwise; 2 for bad configuration.
int run_engine(const RunOptions& options, std::ostream& out);

} // namespace synthusd::engine
