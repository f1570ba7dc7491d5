#pragma once
// Configuration text and helpers the config tests share.

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "synthusd/engine/config_file.hpp"

namespace synthusd::engine::test_support {

// Two venues with one instrument each, 19 lines: okx (BTC-USD-SWAP, $100
// contracts) and deribit (BTC-PERPETUAL, $10). Tests append their sections
// from line 20 on.
inline constexpr const char* kTwoVenueKernel = R"([[venues]]
id = 1
name = "okx"

[[venues]]
id = 2
name = "deribit"

[[instruments]]
id = 1
venue = "okx"
symbol = "BTC-USD-SWAP"
contract_value_usd = 100

[[instruments]]
id = 2
venue = "deribit"
symbol = "BTC-PERPETUAL"
contract_value_usd = 10
)";

// The problems parse_config() reports for `text` (none: empty).
inline std::vector<ConfigProblem> problems_of(const std::string& text) {
  try {
    (void)parse_config(text, "test.toml");
  } catch (const ConfigError& error) {
    return error.problems();
  }
  return {};
}

inline std::string describe(const std::vector<ConfigProblem>& problems) {
  std::string text;
  for (const ConfigProblem& problem : problems) {
    text += problem.to_string() + "\n";
  }
  return text;
}

// The 1-based line of the first line of `text` that contains `needle`.
inline std::size_t line_of(const std::string& text, const std::string& needle) {
  std::istringstream lines(text);
  std::string line;
  for (std::size_t number = 1; std::getline(lines, line); ++number) {
    if (line.find(needle) != std::string::npos) {
      return number;
    }
  }
  ADD_FAILURE() << "no line contains " << needle;
  return 0;
}

} // namespace synthusd::engine::test_support
