#pragma once
// The harness's outputs: a table on stdout, results JSON and, when gnuplot
// is installed, one plot of the latency distributions (SVG), all under the
// output directory (build/bench/ by default).

#include <filesystem>
#include <string>

#include "harness.hpp"

namespace synthusd::latency {

// The JSON document (also parsed back by the harness's tests).
[[nodiscard]] std::string results_json(const HarnessResult& result, const std::string& machine);
// A short description of this host: CPUs, kernel, load average.
[[nodiscard]] std::string describe_machine();
// Prints the table and the ratios.
void print_table(const HarnessResult& result);
// Writes latency.json, latency-*.dat, latency.gp and (gnuplot present)
// latency.svg; returns a line saying what was written.
std::string write_outputs(const HarnessResult& result, const std::filesystem::path& directory, bool plots);

} // namespace synthusd::latency
