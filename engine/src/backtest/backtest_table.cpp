// The text table and the JSON document of `synthusd backtest`.

#include <chrono>
#include <cstdio>
#include <sstream>

#include "synthusd/common/decimal.hpp"
#include "synthusd/engine/backtest_report.hpp"

namespace synthusd::engine {
namespace {

using hedging::Ratio;
using hedging::UsdCents;

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", static_cast<unsigned>(c));
      out += buffer;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string percent_of_time(hedging::Duration part, hedging::Duration whole) {
  if (whole.nanoseconds <= 0) {
    return "0.0%";
  }
  const auto tenths = static_cast<std::int64_t>(hedging::divide(static_cast<hedging::int128>(part.nanoseconds) * 1000,
                                                                whole.nanoseconds, hedging::Rounding::half_even));
  return common::format_decimal(tenths, 1) + (tenths % 10 == 0 ? ".0%" : "%");
}

struct Row {
  std::string label;
  std::string (*value)(const PolicyResult&);
};

const std::vector<Row>& rows() {
  static const std::vector<Row> kRows = {
      {"execution", [](const PolicyResult& r) { return r.execution; }},
      {"hedge error: worst shortfall, bps",
       [](const PolicyResult& r) { return format_centi_bps(r.worst_shortfall_centi_bps); }},
      {"hedge error: worst excess, bps",
       [](const PolicyResult& r) { return format_centi_bps(r.worst_excess_centi_bps); }},
      {"hedge error: RMS, bps", [](const PolicyResult& r) { return format_centi_bps(r.rms_centi_bps); }},
      {"hedge error: at the end, bps", [](const PolicyResult& r) { return format_centi_bps(r.final_centi_bps); }},
      {"time beyond tolerance",
       [](const PolicyResult& r) { return percent_of_time(r.time_beyond_tolerance, r.duration); }},
      {"fees", [](const PolicyResult& r) { return format_dollars(r.fees); }},
      {"fees maker / taker",
       [](const PolicyResult& r) {
         return format_dollars(r.maker_fees) + " / " + format_dollars(r.fees - r.maker_fees);
       }},
      {"funding paid", [](const PolicyResult& r) { return format_dollars(r.funding_paid); }},
      {"funding received", [](const PolicyResult& r) { return format_dollars(r.funding_received); }},
      {"slippage against the mark", [](const PolicyResult& r) { return format_dollars(r.slippage); }},
      {"basis earned (dated futures)", [](const PolicyResult& r) { return format_dollars(r.basis_earned); }},
      {"orders", [](const PolicyResult& r) { return std::to_string(r.orders); }},
      {"rejected orders", [](const PolicyResult& r) { return std::to_string(r.rejected_orders); }},
      {"cancels", [](const PolicyResult& r) { return std::to_string(r.cancels); }},
      {"fills maker / taker",
       [](const PolicyResult& r) { return std::to_string(r.maker_fills) + " / " + std::to_string(r.taker_fills); }},
      {"contracts traded", [](const PolicyResult& r) { return std::to_string(r.contracts_traded); }},
      {"max leverage", [](const PolicyResult& r) { return format_ratio(r.max_leverage, 2) + "x"; }},
      {"min distance to liquidation",
       [](const PolicyResult& r) {
         return r.any_position ? format_ratio(Ratio{r.min_liquidation_distance.raw * 100}, 1) + "%" : std::string("-");
       }},
      {"liquidations", [](const PolicyResult& r) { return std::to_string(r.liquidations); }},
      {"transfers to venue / wallet",
       [](const PolicyResult& r) {
         return std::to_string(r.transfers_to_venue) + " / " + std::to_string(r.transfers_to_wallet);
       }},
      {"instrument rolls", [](const PolicyResult& r) { return std::to_string(r.rolls); }},
      {"alerts", [](const PolicyResult& r) { return std::to_string(r.alerts); }},
      {"intake lines refused / repeated",
       [](const PolicyResult& r) {
         return std::to_string(r.lines_refused) + " / " + std::to_string(r.lines_repeated);
       }},
      {"final liability", [](const PolicyResult& r) { return format_dollars(r.final_liability); }},
      {"final value held (costs added back)", [](const PolicyResult& r) { return format_dollars(r.final_value); }},
  };
  return kRows;
}

} // namespace

std::string format_dollars(UsdCents cents) {
  const std::int64_t v = cents.value;
  const std::uint64_t magnitude = v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  std::string whole = std::to_string(magnitude / 100);
  for (std::size_t i = whole.size(); i > 3; i -= 3) {
    whole.insert(i - 3, ",");
  }
  char cents_text[4];
  std::snprintf(cents_text, sizeof cents_text, "%02u", static_cast<unsigned>(magnitude % 100));
  return std::string(v < 0 ? "-" : "") + "$" + whole + "." + cents_text;
}

std::string format_centi_bps(std::int64_t centi_bps) {
  const std::string text = common::format_decimal(centi_bps, 2);
  // Always two places: "-12.3" -> "-12.30", "0" -> "0.00".
  const std::size_t dot = text.find('.');
  if (dot == std::string::npos) {
    return text + ".00";
  }
  return text + std::string(2 - (text.size() - dot - 1), '0');
}

std::string format_ratio(Ratio ratio, int places) {
  std::int64_t divisor = Ratio::kScale;
  for (int i = 0; i < places; ++i) {
    divisor /= 10;
  }
  const auto scaled = static_cast<std::int64_t>(hedging::divide(ratio.raw, divisor, hedging::Rounding::half_even));
  std::string text = common::format_decimal(scaled, places);
  const std::size_t dot = text.find('.');
  const std::size_t have = dot == std::string::npos ? 0 : text.size() - dot - 1;
  if (places > 0 && dot == std::string::npos) {
    text += '.';
  }
  return text + std::string(static_cast<std::size_t>(places) - have, '0');
}

std::string format_utc(hedging::Timestamp time) {
  using namespace std::chrono;
  const sys_seconds seconds{duration_cast<std::chrono::seconds>(nanoseconds{time.nanoseconds})};
  const sys_days day = floor<days>(seconds);
  const year_month_day date{day};
  const hh_mm_ss clock{seconds - day};
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u %02lld:%02lld", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<long long>(clock.hours().count()), static_cast<long long>(clock.minutes().count()));
  return buffer;
}

std::string backtest_table(const BacktestDescription& description, const std::vector<PolicyResult>& results) {
  std::ostringstream out;
  out << "synthusd backtest: " << description.prices << " (" << description.points << " points";
  if (!results.empty() && !results.front().samples.empty()) {
    out << ", " << format_utc(results.front().samples.front().time) << " to "
        << format_utc(results.front().samples.back().time);
  }
  out << ")\n  funding " << description.funding << "; liabilities " << description.liabilities << "; config "
      << description.config << "\n";
  if (!description.instruments.empty()) {
    out << "  instruments: " << description.instruments << "\n";
  }
  out << "  hedge error = USD value held for customers from price moves alone - their dollars, in bps of the "
         "liability;\n  fees, funding and slippage are the operator's costs, shown apart.\n\n";
  std::size_t label_width = 0;
  for (const Row& row : rows()) {
    label_width = std::max(label_width, row.label.size());
  }
  std::vector<std::vector<std::string>> cells(rows().size());
  std::vector<std::size_t> widths;
  for (const PolicyResult& result : results) {
    std::size_t width = result.policy.size();
    for (std::size_t i = 0; i < rows().size(); ++i) {
      cells[i].push_back(rows()[i].value(result));
      width = std::max(width, cells[i].back().size());
    }
    widths.push_back(width);
  }
  const auto pad_left = [](const std::string& text, std::size_t width) {
    return std::string(width > text.size() ? width - text.size() : 0, ' ') + text;
  };
  out << std::string(label_width, ' ');
  for (std::size_t p = 0; p < results.size(); ++p) {
    out << "  " << pad_left(results[p].policy, widths[p]);
  }
  out << "\n";
  for (std::size_t i = 0; i < rows().size(); ++i) {
    out << rows()[i].label << std::string(label_width - rows()[i].label.size(), ' ');
    for (std::size_t p = 0; p < results.size(); ++p) {
      out << "  " << pad_left(cells[i][p], widths[p]);
    }
    out << "\n";
  }
  return out.str();
}

std::string backtest_json(const BacktestDescription& description, const std::vector<PolicyResult>& results) {
  std::ostringstream out;
  out << "{\n  \"prices\": " << json_string(description.prices)
      << ",\n  \"funding\": " << json_string(description.funding)
      << ",\n  \"liabilities\": " << json_string(description.liabilities)
      << ",\n  \"config\": " << json_string(description.config) << ",\n  \"instruments\": "
      << json_string(description.instruments.empty() ? "configured" : description.instruments)
      << ",\n  \"points\": " << description.points << ",\n  \"policies\": [";
  for (std::size_t p = 0; p < results.size(); ++p) {
    const PolicyResult& r = results[p];
    out << (p == 0 ? "\n" : ",\n") << "    {\"policy\": " << json_string(r.policy)
        << ", \"execution\": " << json_string(r.execution)
        << ",\n     \"hedge_error_bps\": {\"worst_shortfall\": " << format_centi_bps(r.worst_shortfall_centi_bps)
        << ", \"worst_excess\": " << format_centi_bps(r.worst_excess_centi_bps)
        << ", \"rms\": " << format_centi_bps(r.rms_centi_bps) << ", \"final\": " << format_centi_bps(r.final_centi_bps)
        << "},\n     \"seconds_beyond_tolerance\": " << r.time_beyond_tolerance.nanoseconds / 1'000'000'000
        << ", \"seconds\": " << r.duration.nanoseconds / 1'000'000'000
        << ",\n     \"fees_usd\": " << common::format_decimal(r.fees.value, 2)
        << ", \"maker_fees_usd\": " << common::format_decimal(r.maker_fees.value, 2)
        << ", \"funding_paid_usd\": " << common::format_decimal(r.funding_paid.value, 2)
        << ", \"funding_received_usd\": " << common::format_decimal(r.funding_received.value, 2)
        << ", \"slippage_usd\": " << common::format_decimal(r.slippage.value, 2)
        << ", \"basis_earned_usd\": " << common::format_decimal(r.basis_earned.value, 2)
        << ",\n     \"orders\": " << r.orders << ", \"rejected_orders\": " << r.rejected_orders
        << ", \"cancels\": " << r.cancels << ", \"maker_fills\": " << r.maker_fills
        << ", \"taker_fills\": " << r.taker_fills << ", \"contracts_traded\": " << r.contracts_traded
        << ", \"liquidations\": " << r.liquidations << ",\n     \"transfers_to_venue\": " << r.transfers_to_venue
        << ", \"transfers_to_wallet\": " << r.transfers_to_wallet
        << ", \"transferred_btc\": " << common::format_decimal(r.transferred.value, 8) << ", \"alerts\": " << r.alerts
        << ", \"lines_refused\": " << r.lines_refused << ", \"lines_repeated\": " << r.lines_repeated
        << ", \"rolls\": " << r.rolls << ",\n     \"max_leverage\": " << format_ratio(r.max_leverage, 4)
        << ", \"min_liquidation_distance\": "
        << (r.any_position ? format_ratio(r.min_liquidation_distance, 4) : std::string("null"))
        << ",\n     \"final_liability_usd\": " << common::format_decimal(r.final_liability.value, 2)
        << ", \"final_value_usd\": " << common::format_decimal(r.final_value.value, 2) << "}";
  }
  out << "\n  ]\n}\n";
  return out.str();
}

} // namespace synthusd::engine
