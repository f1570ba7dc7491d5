#include "synthusd/engine/instrument_expiry.hpp"

#include <array>
#include <cstdint>

namespace synthusd::engine {
namespace {

constexpr std::int64_t kSettlementHourUtc = 8; // Deribit, OKX and Binance alike

bool digits(std::string_view text, int& out) {
  if (text.empty()) {
    return false;
  }
  out = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
    out = out * 10 + (c - '0');
  }
  return true;
}

bool leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

// Days from 1970-01-01 to year-month-day (proleptic Gregorian; H. Hinnant's
// days_from_civil), or nullopt for a date that does not exist.
std::optional<std::int64_t> days_from_civil(int year, int month, int day) {
  constexpr std::array<int, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1] + (month == 2 && leap(year) ? 1 : 0)) {
    return std::nullopt;
  }
  const int y = year - (month <= 2 ? 1 : 0);
  const int era = y / 400;
  const int year_of_era = y - era * 400;
  const int day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return static_cast<std::int64_t>(era) * 146'097 + day_of_era - 719'468;
}

std::optional<hedging::Timestamp> at_settlement(int year, int month, int day) {
  const std::optional<std::int64_t> days = days_from_civil(year, month, day);
  if (!days) {
    return std::nullopt;
  }
  return hedging::Timestamp{(*days * 86'400 + kSettlementHourUtc * 3'600) * 1'000'000'000};
}

// "241227": 2024-12-27.
std::optional<hedging::Timestamp> from_yymmdd(std::string_view text) {
  int year = 0, month = 0, day = 0;
  if (text.size() != 6 || !digits(text.substr(0, 2), year) || !digits(text.substr(2, 2), month) ||
      !digits(text.substr(4, 2), day)) {
    return std::nullopt;
  }
  return at_settlement(2000 + year, month, day);
}

// "27DEC24" or "7MAR25": Deribit's day without a leading zero.
std::optional<hedging::Timestamp> from_dmmmyy(std::string_view text) {
  constexpr std::array<std::string_view, 12> kMonths{"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                     "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  if (text.size() != 6 && text.size() != 7) {
    return std::nullopt;
  }
  const std::size_t day_digits = text.size() - 5;
  int day = 0, year = 0;
  if (!digits(text.substr(0, day_digits), day) || !digits(text.substr(day_digits + 3), year)) {
    return std::nullopt;
  }
  const std::string_view month_name = text.substr(day_digits, 3);
  for (std::size_t month = 0; month < kMonths.size(); ++month) {
    if (kMonths[month] == month_name) {
      return at_settlement(2000 + year, static_cast<int>(month) + 1, day);
    }
  }
  return std::nullopt;
}

} // namespace

std::optional<hedging::Timestamp> expiry_from_symbol(std::string_view symbol) {
  // Binance COIN-M: BTCUSD_241227 (a perpetual is BTCUSD_PERP).
  if (const std::size_t underscore = symbol.rfind('_'); underscore != std::string_view::npos) {
    return from_yymmdd(symbol.substr(underscore + 1));
  }
  const std::size_t first = symbol.find('-');
  if (first == std::string_view::npos) {
    return std::nullopt;
  }
  const std::size_t second = symbol.find('-', first + 1);
  if (second == std::string_view::npos) {
    return from_dmmmyy(symbol.substr(first + 1)); // Deribit: BTC-27DEC24
  }
  if (symbol.find('-', second + 1) != std::string_view::npos) {
    return std::nullopt; // an option (BTC-27DEC24-100000-C) or another venue's form
  }
  return from_yymmdd(symbol.substr(second + 1)); // OKX: BTC-USD-241227
}

} // namespace synthusd::engine
