// The /metrics text writer (prometheus_text.hpp).
#include "synthusd/engine/prometheus_text.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace synthusd::engine {
namespace {

TEST(PrometheusText, a_family_has_help_and_type_once_then_its_samples_together) {
  PrometheusText out;
  out.family("synthusd_feed_up", PrometheusText::Type::gauge, "1 while open");
  out.sample(std::uint64_t{1}, {{"feed", "deribit"}});
  out.sample(std::uint64_t{0}, {{"feed", "okx"}});
  out.counter("synthusd_orders_total", "orders sent", 7);
  EXPECT_EQ(out.text(), "# HELP synthusd_feed_up 1 while open\n"
                        "# TYPE synthusd_feed_up gauge\n"
                        "synthusd_feed_up{feed=\"deribit\"} 1\n"
                        "synthusd_feed_up{feed=\"okx\"} 0\n"
                        "# HELP synthusd_orders_total orders sent\n"
                        "# TYPE synthusd_orders_total counter\n"
                        "synthusd_orders_total 7\n");
}

TEST(PrometheusText, label_values_are_escaped_as_the_format_requires) {
  PrometheusText out;
  out.family("m", PrometheusText::Type::gauge, "help with \\ and\nnewline");
  out.sample(std::int64_t{-3}, {{"venue", "a\"b\\c\nd"}, {"instrument", "BTC-PERPETUAL"}});
  EXPECT_EQ(out.text(), "# HELP m help with \\\\ and\\nnewline\n"
                        "# TYPE m gauge\n"
                        "m{venue=\"a\\\"b\\\\c\\nd\",instrument=\"BTC-PERPETUAL\"} -3\n");
}

TEST(PrometheusText, doubles_are_written_in_their_shortest_exact_form) {
  PrometheusText out;
  out.family("ratio", PrometheusText::Type::gauge, "r");
  out.sample(0.97);
  out.sample(2.0);
  out.sample(1e-7);
  EXPECT_EQ(out.text(), "# HELP ratio r\n# TYPE ratio gauge\nratio 0.97\nratio 2\nratio 1e-07\n");
}

TEST(PrometheusText, histogram_series_carry_their_suffix) {
  PrometheusText out;
  out.family("latency_seconds", PrometheusText::Type::histogram, "h");
  out.sample(std::uint64_t{3}, {{"le", "+Inf"}}, "_bucket");
  out.sample(std::uint64_t{3}, {}, "_count");
  EXPECT_NE(out.text().find("latency_seconds_bucket{le=\"+Inf\"} 3\nlatency_seconds_count 3\n"), std::string::npos);
}

TEST(PrometheusText, writing_a_family_twice_or_a_sample_without_one_is_a_programming_error) {
  PrometheusText out;
  EXPECT_THROW(out.sample(std::int64_t{1}), std::logic_error);
  out.gauge("once", "g", 1);
  EXPECT_THROW(out.gauge("once", "g", 2), std::logic_error);
}

} // namespace
} // namespace synthusd::engine
