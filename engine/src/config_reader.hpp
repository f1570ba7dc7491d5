#pragma once
// Internal to the config parser: a reader of one TOML table that records
// which keys it understood (the rest are reported as unknown, because a typo
// must never silently fall back to a default) and turns every bad value into
// a ConfigProblem with file, line and dotted key.

#include <charconv>
#include <set>
#include <string>
#include <string_view>
#include <toml++/toml.h>
#include <vector>

#include "synthusd/common/decimal.hpp"
#include "synthusd/engine/config_file.hpp"
#include "synthusd/hedging/types.hpp"

namespace synthusd::engine {

struct RunConfig;

// Reads one TOML table, remembering which keys were understood so the rest
// can be reported as unknown.
class TableReader {
public:
  TableReader(std::vector<ConfigProblem>& problems, const toml::table& table, std::string path, std::string file)
      : problems_(problems), table_(table), path_(std::move(path)), file_(std::move(file)) {}

  ~TableReader() {
    for (const auto& [key, node] : table_) {
      if (known_.count(std::string(key.str())) == 0) {
        problem(node, std::string(key.str()), "unknown key");
      }
    }
  }

  TableReader(const TableReader&) = delete;
  TableReader& operator=(const TableReader&) = delete;

  const toml::node* find(std::string_view key) {
    known_.insert(std::string(key));
    return table_.get(key);
  }

  void problem(const toml::node& node, const std::string& key, const std::string& message) {
    problems_.push_back({file_, node.source().begin.line, qualified(key), message});
  }
  void problem_here(const std::string& key, const std::string& message) {
    problems_.push_back({file_, table_.source().begin.line, qualified(key), message});
  }

  // A decimal (TOML integer, float or "string") scaled by 10^decimals: digits
  // beyond the scale are rounded half-even, or refused with `exact`.
  bool decimal(std::string_view key, int decimals, std::int64_t& out, bool required = false,
               common::DecimalRounding rounding = common::DecimalRounding::half_even) {
    const toml::node* node = find(key);
    if (node == nullptr) {
      if (required) {
        problem_here(std::string(key), "missing (required)");
      }
      return false;
    }
    std::string text;
    if (const auto* integer = node->as_integer()) {
      text = std::to_string(integer->get());
    } else if (const auto* floating = node->as_floating_point()) {
      // shortest round-trip text, then exact decimal parsing: 0.98 -> "0.98"
      char buffer[64];
      const auto result = std::to_chars(buffer, buffer + sizeof buffer, floating->get());
      text.assign(buffer, result.ptr);
    } else if (const auto* string = node->as_string()) {
      text = string->get();
    } else {
      problem(*node, std::string(key), "expected a number");
      return false;
    }
    const common::DecimalResult<std::int64_t> parsed =
        common::parse_decimal(text, decimals, common::DecimalSyntax::json, rounding);
    if (!parsed.ok()) {
      problem(*node, std::string(key),
              "'" + text + "' is not a usable number (" + std::string(common::to_string(parsed.error)) + ")");
      return false;
    }
    out = parsed.value;
    return true;
  }

  // true when the key was there and read.
  bool ratio(std::string_view key, hedging::Ratio& out) {
    std::int64_t raw = 0;
    if (decimal(key, 8, raw)) {
      out = hedging::Ratio{raw};
      return true;
    }
    return false;
  }
  void dollars(std::string_view key, hedging::UsdCents& out, bool required = false) {
    std::int64_t cents = 0;
    if (decimal(key, 2, cents, required)) {
      out = hedging::UsdCents{cents};
    }
  }
  void price(std::string_view key, hedging::Price& out) {
    std::int64_t raw = 0;
    if (decimal(key, 8, raw)) {
      out = hedging::Price{raw};
    }
  }
  // A non-negative duration in units of `unit_seconds`, exact to the
  // nanosecond: 0.0005 hours is 1.8 s, never rounded to 0 (a funding guard
  // with engage_after 0 would engage on the first negative reading).
  void duration(std::string_view key, std::int64_t unit_seconds, hedging::Duration& out) {
    std::int64_t nano_units = 0;
    if (!decimal(key, 9, nano_units, false, common::DecimalRounding::exact)) {
      return;
    }
    std::int64_t nanoseconds = 0;
    if (nano_units < 0) {
      problem(*find(key), std::string(key), "must not be negative");
    } else if (__builtin_mul_overflow(nano_units, unit_seconds, &nanoseconds)) {
      problem(*find(key), std::string(key), "too long");
    } else {
      out = hedging::Duration{nanoseconds};
    }
  }
  template <typename Integer>
  bool integer(std::string_view key, Integer& out, std::int64_t minimum, std::int64_t maximum, bool required = false) {
    const toml::node* node = find(key);
    if (node == nullptr) {
      if (required) {
        problem_here(std::string(key), "missing (required)");
      }
      return false;
    }
    const auto* value = node->as_integer();
    if (value == nullptr) {
      problem(*node, std::string(key), "expected an integer");
      return false;
    }
    if (value->get() < minimum || value->get() > maximum) {
      problem(*node, std::string(key),
              "must be between " + std::to_string(minimum) + " and " + std::to_string(maximum));
      return false;
    }
    out = static_cast<Integer>(value->get());
    return true;
  }
  bool boolean(std::string_view key, bool& out) {
    const toml::node* node = find(key);
    if (node == nullptr) {
      return false;
    }
    const auto* value = node->as_boolean();
    if (value == nullptr) {
      problem(*node, std::string(key), "expected true or false");
      return false;
    }
    out = value->get();
    return true;
  }
  bool strings(std::string_view key, std::vector<std::string>& out) {
    const toml::node* node = find(key);
    if (node == nullptr) {
      return false;
    }
    const auto* array = node->as_array();
    if (array == nullptr || !array->is_homogeneous(toml::node_type::string)) {
      problem(*node, std::string(key), "expected an array of strings");
      return false;
    }
    out.clear();
    for (const toml::node& item : *array) {
      out.push_back(item.as_string()->get());
    }
    return true;
  }
  bool string(std::string_view key, std::string& out, bool required = false) {
    const toml::node* node = find(key);
    if (node == nullptr) {
      if (required) {
        problem_here(std::string(key), "missing (required)");
      }
      return false;
    }
    const auto* value = node->as_string();
    if (value == nullptr) {
      problem(*node, std::string(key), "expected a string");
      return false;
    }
    out = value->get();
    return true;
  }

  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }

private:
  std::string qualified(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  std::vector<ConfigProblem>& problems_;
  const toml::table& table_;
  std::string path_;
  std::string file_;
  std::set<std::string> known_;
};

inline const toml::table* subtable(TableReader& root, std::string_view key) {
  const toml::node* node = root.find(key);
  if (node == nullptr) {
    return nullptr;
  }
  if (const toml::table* table = node->as_table()) {
    return table;
  }
  root.problem(*node, std::string(key), "expected a table");
  return nullptr;
}

inline const toml::array* array_of_tables(TableReader& root, std::string_view key) {
  const toml::node* node = root.find(key);
  if (node == nullptr) {
    return nullptr;
  }
  if (const toml::array* array = node->as_array(); array != nullptr && array->is_array_of_tables()) {
    return array;
  }
  root.problem(*node, std::string(key), "expected an array of tables ([[" + std::string(key) + "]])");
  return nullptr;
}

// The runtime sections of `synthusd run` (run_config.cpp), cross-checked
// against the kernel's venues and instruments.
void read_run_sections(TableReader& root, std::vector<ConfigProblem>& problems, const hedging::KernelConfig& kernel,
                       RunConfig& run);

} // namespace synthusd::engine
