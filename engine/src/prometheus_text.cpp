#include "synthusd/engine/prometheus_text.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace synthusd::engine {

namespace {

const char* type_name(PrometheusText::Type type) {
  switch (type) {
  case PrometheusText::Type::counter:
    return "counter";
  case PrometheusText::Type::gauge:
    return "gauge";
  case PrometheusText::Type::histogram:
    return "histogram";
  }
  return "untyped";
}

// HELP text escapes backslash and newline (not quotes).
std::string escape_help(std::string_view help) {
  std::string out;
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

} // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void PrometheusText::family(std::string_view name, Type type, std::string_view help) {
  if (std::find(families_.begin(), families_.end(), name) != families_.end()) {
    throw std::logic_error("metrics: family " + std::string(name) + " written twice");
  }
  families_.emplace_back(name);
  current_ = std::string(name);
  out_ += "# HELP " + current_ + " " + escape_help(help) + "\n# TYPE " + current_ + " " + type_name(type) + "\n";
}

void PrometheusText::begin_sample(std::initializer_list<MetricLabel> labels, std::string_view suffix) {
  if (current_.empty()) {
    throw std::logic_error("metrics: a sample before any family");
  }
  out_ += current_;
  out_ += suffix;
  if (labels.size() > 0) {
    out_ += '{';
    bool first = true;
    for (const MetricLabel& label : labels) {
      if (!first) {
        out_ += ',';
      }
      first = false;
      out_ += label.name;
      out_ += "=\"";
      out_ += escape_label_value(label.value);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
}

void PrometheusText::sample(std::int64_t value, std::initializer_list<MetricLabel> labels, std::string_view suffix) {
  begin_sample(labels, suffix);
  out_ += std::to_string(value) + "\n";
}

void PrometheusText::sample(std::uint64_t value, std::initializer_list<MetricLabel> labels, std::string_view suffix) {
  begin_sample(labels, suffix);
  out_ += std::to_string(value) + "\n";
}

void PrometheusText::sample(double value, std::initializer_list<MetricLabel> labels, std::string_view suffix) {
  begin_sample(labels, suffix);
  // The shortest text that reads back as the same double (0.97, not
  // 0.96999999999999997); Prometheus parses it as Go's ParseFloat does.
  char text[32];
  const std::to_chars_result written = std::to_chars(text, text + sizeof text, value);
  out_.append(text, written.ptr);
  out_ += '\n';
}

void PrometheusText::counter(std::string_view name, std::string_view help, std::uint64_t value) {
  family(name, Type::counter, help);
  sample(value);
}

void PrometheusText::gauge(std::string_view name, std::string_view help, std::int64_t value) {
  family(name, Type::gauge, help);
  sample(value);
}

void PrometheusText::comment(std::string_view text) {
  out_ += "# ";
  out_ += text;
  out_ += '\n';
}

} // namespace synthusd::engine
