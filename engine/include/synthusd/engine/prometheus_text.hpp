#pragma once
// The one writer of Prometheus's text exposition format (0.0.4) for /metrics:
// each family's HELP and TYPE once, then its samples together (the format
// requires a family's lines to form one group), label values escaped.
// Cold path: runs when an operator scrapes, allocates freely.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace synthusd::engine {

struct MetricLabel {
  std::string_view name;
  std::string_view value;
};

class PrometheusText {
public:
  enum class Type : std::uint8_t { counter, gauge, histogram };

  // Starts a family: every sample until the next family() belongs to it.
  // Throws std::logic_error when the name was already used (its samples
  // would be split in two groups).
  void family(std::string_view name, Type type, std::string_view help);

  // A sample of the current family; `suffix` names histogram series
  // ("_bucket", "_count", "_sum").
  void sample(std::int64_t value, std::initializer_list<MetricLabel> labels = {}, std::string_view suffix = {});
  void sample(std::uint64_t value, std::initializer_list<MetricLabel> labels = {}, std::string_view suffix = {});
  void sample(double value, std::initializer_list<MetricLabel> labels = {}, std::string_view suffix = {});
  void sample(bool value, std::initializer_list<MetricLabel> labels = {}) {
    sample(std::int64_t{value ? 1 : 0}, labels);
  }

  // A family with one unlabelled sample.
  void counter(std::string_view name, std::string_view help, std::uint64_t value);
  void gauge(std::string_view name, std::string_view help, std::int64_t value);

  // Text another PrometheusText wrote (another thread's part of the page),
  // taken as it is; its families must not be written here again.
  void append_written(std::string_view text) { out_ += text; }

  // A "# ..." line (a note for whoever reads the page).
  void comment(std::string_view text);

  [[nodiscard]] const std::string& text() const noexcept { return out_; }
  [[nodiscard]] std::string take() noexcept { return std::move(out_); }

private:
  void begin_sample(std::initializer_list<MetricLabel> labels, std::string_view suffix);

  std::string out_;
  std::string current_;
  std::vector<std::string> families_;
};

// A label value as the format escapes it: backslash, double quote, newline.
[[nodiscard]] std::string escape_label_value(std::string_view value);

} // namespace synthusd::engine
