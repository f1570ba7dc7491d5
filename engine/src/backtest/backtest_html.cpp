// The HTML report of `synthusd backtest`: one file, no scripts, no network;
// charts are inline SVG drawn with integer coordinates so the same results
// give the same bytes.

#include <algorithm>
#include <array>
#include <optional>
#include <sstream>

#include "synthusd/common/decimal.hpp"
#include "synthusd/engine/backtest_report.hpp"

namespace synthusd::engine {
namespace {

using hedging::int128;
using hedging::Timestamp;

constexpr std::int64_t kWidth = 880; // plot area
constexpr std::int64_t kHeight = 200;
constexpr std::int64_t kLeft = 90; // room for the axis labels
constexpr std::int64_t kTop = 24;
constexpr std::size_t kBuckets = 440; // min and max per bucket: peaks survive
constexpr std::array<const char*, 6> kColours = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

std::string escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

struct Point {
  std::int64_t time = 0;
  std::int64_t value = 0;
};

struct Series {
  std::string name;
  std::string colour;
  bool dashed = false;
  std::vector<Point> points;
};

using Formatter = std::string (*)(std::int64_t);

// Keeps the first, the last, and each bucket's lowest and highest point.
std::vector<Point> thin(const std::vector<Point>& points) {
  if (points.size() <= 2 * kBuckets) {
    return points;
  }
  std::vector<Point> out;
  const std::size_t per = (points.size() + kBuckets - 1) / kBuckets;
  for (std::size_t start = 0; start < points.size(); start += per) {
    const std::size_t end = std::min(points.size(), start + per);
    std::size_t low = start;
    std::size_t high = start;
    for (std::size_t i = start; i < end; ++i) {
      low = points[i].value < points[low].value ? i : low;
      high = points[i].value > points[high].value ? i : high;
    }
    out.push_back(points[std::min(low, high)]);
    if (low != high) {
      out.push_back(points[std::max(low, high)]);
    }
  }
  if (out.back().time != points.back().time) {
    out.push_back(points.back());
  }
  return out;
}

std::int64_t scale_to(std::int64_t value, std::int64_t from_low, std::int64_t from_high, std::int64_t length) {
  if (from_high <= from_low) {
    return length / 2;
  }
  return static_cast<std::int64_t>(hedging::divide(static_cast<int128>(value - from_low) * length,
                                                   static_cast<int128>(from_high) - from_low,
                                                   hedging::Rounding::half_even));
}

struct Mark {
  std::int64_t time = 0;
  std::string colour;
  std::string text;
};

std::string chart(const std::string& id, const std::string& title, const std::vector<Series>& series, Formatter format,
                  const std::vector<Mark>& marks = {}, std::optional<std::pair<std::int64_t, std::int64_t>> band = {}) {
  std::int64_t t0 = INT64_MAX;
  std::int64_t t1 = INT64_MIN;
  std::int64_t low = INT64_MAX;
  std::int64_t high = INT64_MIN;
  for (const Series& s : series) {
    for (const Point& p : s.points) {
      t0 = std::min(t0, p.time);
      t1 = std::max(t1, p.time);
      low = std::min(low, p.value);
      high = std::max(high, p.value);
    }
  }
  if (band) {
    low = std::min(low, band->first);
    high = std::max(high, band->second);
  }
  if (t0 > t1) {
    t0 = t1 = 0;
    low = high = 0;
  }
  if (low == high) {
    low -= 1;
    high += 1;
  }
  const auto x = [&](std::int64_t time) { return kLeft + scale_to(time, t0, t1, kWidth); };
  const auto y = [&](std::int64_t value) { return kTop + kHeight - scale_to(value, low, high, kHeight); };
  std::ostringstream out;
  out << "<h2>" << escape(title) << "</h2>\n<svg id=\"" << id << "\" xmlns=\"http://www.w3.org/2000/svg\" width=\""
      << kLeft + kWidth + 20 << "\" height=\"" << kTop + kHeight + 40 << "\" viewBox=\"0 0 " << kLeft + kWidth + 20
      << " " << kTop + kHeight + 40 << "\" role=\"img\">\n<title>" << escape(title) << "</title>\n";
  out << "<rect x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << kWidth << "\" height=\"" << kHeight
      << "\" fill=\"#fafafa\" stroke=\"#ccc\"/>\n";
  if (band) {
    out << "<rect x=\"" << kLeft << "\" y=\"" << y(band->second) << "\" width=\"" << kWidth << "\" height=\""
        << y(band->first) - y(band->second) << "\" fill=\"#e6f4e6\"/>\n";
  }
  for (int tick = 0; tick <= 4; ++tick) {
    const std::int64_t value = low + static_cast<std::int64_t>(hedging::divide(static_cast<int128>(high - low) * tick,
                                                                               4, hedging::Rounding::down));
    out << "<line x1=\"" << kLeft << "\" x2=\"" << kLeft + kWidth << "\" y1=\"" << y(value) << "\" y2=\"" << y(value)
        << "\" stroke=\"#e0e0e0\"/><text x=\"" << kLeft - 6 << "\" y=\"" << y(value) + 4
        << "\" font-size=\"11\" text-anchor=\"end\">" << escape(format(value)) << "</text>\n";
  }
  out << "<text x=\"" << kLeft << "\" y=\"" << kTop + kHeight + 16 << "\" font-size=\"11\">"
      << escape(format_utc(Timestamp{t0})) << "</text><text x=\"" << kLeft + kWidth << "\" y=\"" << kTop + kHeight + 16
      << "\" font-size=\"11\" text-anchor=\"end\">" << escape(format_utc(Timestamp{t1})) << "</text>\n";
  for (const Mark& mark : marks) {
    out << "<line class=\"event\" x1=\"" << x(mark.time) << "\" x2=\"" << x(mark.time) << "\" y1=\"" << kTop
        << "\" y2=\"" << kTop + kHeight << "\" stroke=\"" << mark.colour << "\" stroke-width=\"1\"><title>"
        << escape(mark.text) << "</title></line>\n";
  }
  std::int64_t legend_x = kLeft;
  for (const Series& s : series) {
    out << "<polyline fill=\"none\" stroke=\"" << s.colour << "\" stroke-width=\"1.5\""
        << (s.dashed ? " stroke-dasharray=\"5,3\"" : "") << " points=\"";
    bool first = true;
    for (const Point& p : thin(s.points)) {
      out << (first ? "" : " ") << x(p.time) << "," << y(p.value);
      first = false;
    }
    out << "\"><title>" << escape(s.name) << "</title></polyline>\n";
    out << "<text x=\"" << legend_x << "\" y=\"" << kTop - 8 << "\" font-size=\"12\" fill=\"" << s.colour << "\">"
        << escape(s.name) << "</text>\n";
    legend_x += 16 + 7 * static_cast<std::int64_t>(s.name.size());
  }
  out << "</svg>\n";
  return out.str();
}

std::string dollars_axis(std::int64_t cents) { return format_dollars(hedging::UsdCents{cents}); }
std::string bps_axis(std::int64_t centi_bps) { return format_centi_bps(centi_bps) + " bp"; }
std::string ratio_axis(std::int64_t raw) { return format_ratio(hedging::Ratio{raw}, 2); }
std::string percent_axis(std::int64_t raw) { return format_ratio(hedging::Ratio{raw * 100}, 1) + "%"; }

template <typename Value>
Series series_of(const PolicyResult& result, std::string name, std::string colour, bool dashed, Value value,
                 bool positions_only = false) {
  Series s{std::move(name), std::move(colour), dashed, {}};
  s.points.reserve(result.samples.size());
  for (const BacktestSample& sample : result.samples) {
    if (!positions_only || sample.has_position) {
      s.points.push_back({sample.time.nanoseconds, value(sample)});
    }
  }
  return s;
}

} // namespace

std::string backtest_html(const BacktestDescription& description, const std::vector<PolicyResult>& results) {
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>synthusd backtest</title>\n"
         "<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse}"
         "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
         "pre{background:#f6f6f6;padding:8px}</style>\n</head>\n<body>\n<h1>synthusd backtest</h1>\n";
  out << "<p>Prices " << escape(description.prices) << " (" << description.points << " points); funding "
      << escape(description.funding) << "; liabilities " << escape(description.liabilities) << "; configuration "
      << escape(description.config)
      << (description.instruments.empty() ? std::string() : "; instruments " + escape(description.instruments))
      << ".</p>\n";
  out << "<p>Hedge error: the USD value held for customers from price moves alone minus their dollars, in basis "
         "points of the liability. Fees, funding and slippage are the operator's costs and are shown apart.</p>\n";
  out << "<pre>" << escape(backtest_table(description, results)) << "</pre>\n";
  if (results.empty()) {
    out << "</body>\n</html>\n";
    return out.str();
  }
  const PolicyResult& first = results.front();
  const auto colour = [](std::size_t i) { return std::string(kColours[i % kColours.size()]); };

  std::vector<Mark> marks;
  for (std::size_t p = 0; p < results.size(); ++p) {
    for (const BacktestMarker& marker : results[p].markers) {
      const char* colour = marker.kind == "liquidation"     ? "#d62728"
                           : marker.kind == "funding_guard" ? "#ff7f0e"
                           : marker.kind == "transfer"      ? "#bbbbbb"
                           : marker.kind == "alert"         ? "#9467bd"
                           : marker.kind == "roll"          ? "#2ca02c"
                           : marker.kind == "expiry"        ? "#17becf"
                                                            : nullptr;
      if (colour != nullptr) {
        marks.push_back({marker.time.nanoseconds, colour, results[p].policy + ": " + marker.kind + ": " + marker.text});
      }
    }
  }
  out << chart("chart-price",
               "Price (events: liquidations red, funding guard orange, alerts purple, transfers grey, "
               "rolls green, futures delivered cyan)",
               {series_of(first, "BTC/USD", "#333", false,
                          [](const BacktestSample& s) { return s.price.raw / 1'000'000; })}, // cents
               dollars_axis, marks);

  std::vector<Series> hedges{
      series_of(first, "liability", "#000", true, [](const BacktestSample& s) { return s.liability.value; })};
  for (std::size_t p = 0; p < results.size(); ++p) {
    hedges.push_back(series_of(results[p], results[p].policy + " hedge", colour(p), false,
                               [](const BacktestSample& s) { return s.hedge.value; }));
  }
  out << chart("chart-liability-hedge", "Liability vs hedge (short exposure, USD)", hedges, dollars_axis);

  std::vector<Series> errors;
  for (std::size_t p = 0; p < results.size(); ++p) {
    errors.push_back(series_of(results[p], results[p].policy, colour(p), false,
                               [](const BacktestSample& s) { return s.error_centi_bps; }));
  }
  out << chart("chart-hedge-error", "Hedge error, bps of liability (green: within +-10 bps)", errors, bps_axis, {},
               std::make_pair(std::int64_t{-1000}, std::int64_t{1000}));

  std::vector<Series> costs;
  for (std::size_t p = 0; p < results.size(); ++p) {
    costs.push_back(series_of(results[p], results[p].policy + " fees", colour(p), false,
                              [](const BacktestSample& s) { return s.fees.value; }));
    costs.push_back(series_of(results[p], results[p].policy + " funding paid", colour(p), true,
                              [](const BacktestSample& s) { return s.funding_paid.value; }));
  }
  out << chart("chart-costs", "Cumulative fees (solid) and net funding paid (dashed)", costs, dollars_axis);

  std::vector<Series> leverage;
  std::vector<Series> distance;
  for (std::size_t p = 0; p < results.size(); ++p) {
    leverage.push_back(series_of(results[p], results[p].policy, colour(p), false,
                                 [](const BacktestSample& s) { return s.leverage.raw; }));
    distance.push_back(series_of(
        results[p], results[p].policy, colour(p), false,
        [](const BacktestSample& s) {
          return std::min<std::int64_t>(s.liquidation_distance.raw, hedging::Ratio::kScale);
        },
        true));
  }
  out << chart("chart-leverage", "Leverage (gross exposure / equity, worst venue)", leverage, ratio_axis);
  out << chart("chart-liquidation-distance", "Distance to liquidation (price rise, nearest venue; capped at 100 %)",
               distance, percent_axis);

  out << "<h2>Events</h2>\n<table id=\"events\">\n<tr><th>policy</th><th>time "
         "(UTC)</th><th>event</th><th>detail</th></tr>\n";
  for (const PolicyResult& result : results) {
    std::size_t shown = 0;
    for (const BacktestMarker& marker : result.markers) {
      if (++shown > 200) {
        out << "<tr><td>" << escape(result.policy) << "</td><td></td><td>...</td><td>" << result.markers.size() - 200
            << " more</td></tr>\n";
        break;
      }
      out << "<tr><td>" << escape(result.policy) << "</td><td>" << escape(format_utc(marker.time)) << "</td><td>"
          << escape(marker.kind) << "</td><td>" << escape(marker.text) << "</td></tr>\n";
    }
  }
  out << "</table>\n</body>\n</html>\n";
  return out.str();
}

} // namespace synthusd::engine
