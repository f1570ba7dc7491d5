// Every key the shipped configuration (config/synthusd.toml) sets is read
// and checked by check-config: given a value of the wrong type, each one is
// refused with its own dotted name and line. A key the engine ignored would
// pass silently (and an unknown one is refused as "unknown key"), so this
// proves every line of the file does something.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "config_test_support.hpp"
#include "synthusd/engine/config_file.hpp"

namespace synthusd::engine {
namespace {

struct KeyLine {
  std::size_t line = 0; // 1-based
  std::string key;      // "venues[1].weight", "engine.wait"
  std::string value;    // as written
};

std::string read_text(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// The `key = value` lines of a flat TOML file with [table] and [[array]]
// headers (what config/synthusd.toml uses), with their dotted names.
std::vector<KeyLine> key_lines(const std::string& text) {
  static const std::regex header(R"(^\s*\[(\[)?([a-z_]+)\]?\]\s*(#.*)?$)");
  static const std::regex assignment(R"(^([a-z_]+)\s*=\s*(.*?)\s*(#.*)?$)");
  std::vector<KeyLine> lines;
  std::map<std::string, int> array_count;
  std::string table;
  std::istringstream in(text);
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    std::smatch match;
    if (std::regex_match(line, match, header)) {
      const std::string name = match[2];
      table = match[1].matched ? name + "[" + std::to_string(array_count[name]++) + "]" : name;
    } else if (std::regex_match(line, match, assignment)) {
      lines.push_back({number, table + "." + match[1].str(), match[2]});
    }
  }
  return lines;
}

TEST(ShippedConfigKeys, every_key_of_the_shipped_config_is_checked_by_name_and_line) {
  const std::string path = SYNTHUSD_SOURCE_DIR "/config/synthusd.toml";
  const std::string text = read_text(path);
  const std::vector<KeyLine> keys = key_lines(text);
  ASSERT_GT(keys.size(), 80u); // the whole file, not a parse that stopped early
  for (const KeyLine& key : keys) {
    // A value of another type: a string where a number, boolean or array
    // is expected, a number where a string is.
    const bool is_string = !key.value.empty() && key.value.front() == '"';
    const std::string wrong = is_string ? "[1]" : "\"not-a-value\"";
    std::istringstream in(text);
    std::string changed;
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
      if (number == key.line) {
        const std::size_t equals = line.find('=');
        line = line.substr(0, equals + 1) + " " + wrong;
      }
      changed += line + "\n";
    }
    const std::vector<ConfigProblem> problems = test_support::problems_of(changed);
    bool named = false;
    for (const ConfigProblem& problem : problems) {
      named = named || (problem.key == key.key && problem.line == key.line);
    }
    EXPECT_TRUE(named) << key.key << " (line " << key.line << ") = " << wrong << " was not refused by name:\n"
                       << test_support::describe(problems);
  }
}

} // namespace
} // namespace synthusd::engine
